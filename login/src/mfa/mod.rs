//! A second factor (feature `mfa`): time-based one-time passwords (TOTP, [RFC 6238], built on
//! HOTP, [RFC 4226]) as authenticator apps make them, their enrolment URI and QR code,
//! single-use recovery codes, and the two-step login that asks for one after the password.
//!
//! Nothing here stores anything or talks to the network: the app keeps, per account,
//!
//! - the [`TotpSecret`] ([`as_bytes`](TotpSecret::as_bytes) or
//!   [`to_base32`](TotpSecret::to_base32)), as carefully as a password hash or better: unlike
//!   a hash, it lets whoever reads it make valid codes. Encrypt it at rest if you can;
//! - the last step accepted (a `u64`, from [`TotpSecret::verify`]), updated on every accepted
//!   code, so that a code is never accepted twice;
//! - the [`RecoveryHash`]es (text through `Display`/`FromStr`, or 32 bytes each), one row or
//!   array element each, so that a redeemed one can be deleted.
//!
//! The settings are RFC 6238's and every authenticator app's: HMAC-SHA-1, [`TOTP_DIGITS`]
//! (6) digits, a step of [`TOTP_STEP_SECS`] (30) seconds, and a code accepted for the step
//! before and the step after the current one as well ([`TOTP_DRIFT_STEPS`], RFC 6238 §5.2),
//! for a phone's clock that is a little off and the time the user takes to type.
//!
//! # Enrol, confirm, verify
//!
//! ```
//! use login::mfa::{MfaError, RecoveryCodes, TotpSecret, qr_svg};
//!
//! # fn main() -> Result<(), MfaError> {
//! # let now = 1_700_000_000;
//! // Enrolment: a new secret, shown as a QR code (and as base32 for manual entry). It is not
//! // the account's second factor yet: keep it as "pending" until the user confirms it.
//! let secret = TotpSecret::generate();
//! let uri = secret.otpauth_uri("Acme Co", "jane@example.com")?;
//! let svg = qr_svg(&uri)?; // put it in the page; `secret.to_base32()` beside it
//! # assert!(svg.contains("<svg"));
//!
//! // Confirmation: the user types the code their app shows. Only a code that verifies turns
//! // the second factor on; store the secret and the step that was accepted.
//! # let typed = secret.code_at(now);
//! let step = secret.verify(&typed, now, None)?;
//! let mut last_used_step = Some(step);
//! // ... and hand out recovery codes: show `codes` once, store `hashes`.
//! let (codes, hashes) = RecoveryCodes::generate();
//! # assert_eq!(codes.len(), hashes.len());
//!
//! // Every later login, after the password: the code, checked against the step stored.
//! # let later = now + 30;
//! # let typed = secret.code_at(later);
//! match secret.verify(&typed, later, last_used_step) {
//!     Ok(step) => last_used_step = Some(step), // store it, then let the user in
//!     // The same code again (or an older one): refused, whoever sends it.
//!     Err(MfaError::Replayed) => { /* refuse */ }
//!     Err(_) => { /* refuse, and count the failure */ }
//! }
//! assert_eq!(secret.verify(&typed, later, last_used_step), Err(MfaError::Replayed));
//! # Ok(()) }
//! ```
//!
//! Store the returned step *before* letting the user in, and with a check-and-set where two
//! logins may race (`UPDATE … SET last_step = $new WHERE last_step IS NULL OR last_step <
//! $new`, or a lock on the row): two requests carrying the same code at the same moment must
//! not both pass. The consequence of the replay rule is that a user who logs in twice within
//! the same 30 s waits for the next code; RFC 6238 §5.2 asks for exactly that.
//!
//! # The two-step login
//!
//! An account says which factors are on ([`LoginAccount::second_factors`](crate::LoginAccount::second_factors)); then a right
//! password answers, instead of tokens, 403 with the `mfa_token` of the second step:
//!
//! ```text
//! {"error": "mfa_required", "error_description": "...", "mfa_token": "eyJ...",
//!  "methods": ["totp", "recovery_code"]}
//! ```
//!
//! The `mfa_token` is valid for 5 minutes
//! ([`mfa_token_lifetime`](crate::LoginManagerBuilder::mfa_token_lifetime)), bound to that
//! account, used at most once, and never accepted as an access token (it carries
//! `mfa_pending`; a protected route answers it 401 `invalid_token`). The second step is a
//! `POST` of `mfa_token` with `otp` (the TOTP code) or `recovery_code`, read by [`MfaGrant`]:
//! [`MfaGrant::verify`] checks the code against the account ([`MfaAccount`]), the app records
//! what was used ([`SecondStep::used`]), and [`SecondStep::token_response`] answers the usual
//! token response and starts the session. Those tokens carry `amr` `["pwd", "otp", "mfa"]`
//! and `auth_time` the moment of the second step, which `#[protected(factors = ["otp"])]`
//! and `#[protected(fresh = "..")]` check (`docs/second-factor.md`).
//!
//! # Throttle the guesses
//!
//! A six-digit code accepted for three steps is guessed once in about 333 000 tries: that is
//! no protection unless tries are limited. The two-step login counts them with the login
//! throttle ([`login::throttle`](crate::throttle)), on the same counters as passwords (the
//! account as named at the first step, the address, the pair) and with the same 429: for an
//! account with a second factor, a right password does not clear the account's failures;
//! only a second step that succeeds does. A route of your own that checks codes (confirming
//! an enrolment, say) must limit its tries itself.
//!
//! # Recovery codes
//!
//! [`RecoveryCodes::generate`] makes ten single-use codes for a user who lost their
//! authenticator; [`RecoveryCodes::redeem`] finds a code among the stored hashes and returns
//! its index, which the caller then deletes — see there.
//!
//! [RFC 6238]: https://www.rfc-editor.org/rfc/rfc6238
//! [RFC 4226]: https://www.rfc-editor.org/rfc/rfc4226

mod enrol;
mod login;
mod reauth;
mod recovery;
mod totp;

pub use enrol::qr_svg;
pub use login::{MfaAccount, MfaGrant, SecondFactor, SecondStep, UsedFactor};
pub use reauth::{ReauthGrant, Reauthenticated};
pub use recovery::{RecoveryCodes, RecoveryHash};
pub use totp::TotpSecret;

/// The number of digits of a TOTP code: 6, what every authenticator app shows.
pub const TOTP_DIGITS: usize = 6;

/// The length of a TOTP step in seconds: 30, RFC 6238's recommendation and the apps' default.
pub const TOTP_STEP_SECS: u64 = 30;

/// How many steps before and after the current one a code is still accepted for: 1, as
/// RFC 6238 §5.2 recommends (a code lives about 90 s in all).
pub const TOTP_DRIFT_STEPS: u64 = 1;

/// Why a second factor was refused or could not be set up. The messages never contain a
/// secret or a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MfaError {
    /// The code is not of the expected form: a TOTP code is exactly six ASCII digits; a
    /// recovery code ten characters of its alphabet, with or without a dash in the middle.
    /// Refused before any cryptographic work.
    #[error("malformed code")]
    MalformedCode,
    /// The code is well-formed but not a valid one (not the TOTP code of an accepted step,
    /// or not one of the stored recovery codes).
    #[error("invalid code")]
    InvalidCode,
    /// The TOTP code is valid for a step at or before the last step accepted: it was used
    /// already (or is older than one that was), and a code is accepted at most once.
    #[error("code already used")]
    Replayed,
    /// The TOTP secret is not base32, or shorter than 128 bits (RFC 4226 §4).
    #[error("invalid TOTP secret")]
    InvalidSecret,
    /// The issuer is empty or contains a `:` (the otpauth label's separator).
    #[error("invalid issuer: it must be non-empty and contain no ':'")]
    InvalidIssuer,
    /// The account name is empty or contains a `:` (the otpauth label's separator).
    #[error("invalid account name: it must be non-empty and contain no ':'")]
    InvalidAccount,
    /// The URI is too long for a QR code.
    #[error("too long for a QR code")]
    TooLongForQr,
    /// A stored recovery hash is not 64 hexadecimal digits.
    #[error("malformed recovery hash")]
    MalformedHash,
}
