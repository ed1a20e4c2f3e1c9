//! The TOTP secret and its codes: generation, storage forms, verification with the replay
//! rule.

use std::fmt;

use zeroize::Zeroizing;

use super::{MfaError, TOTP_DIGITS, TOTP_DRIFT_STEPS, TOTP_STEP_SECS};

/// The length of a generated secret: 20 bytes (160 bits), RFC 4226 §4's recommendation.
const GENERATED_BYTES: usize = 20;
/// The shortest secret accepted: 16 bytes (128 bits), RFC 4226 §4's minimum.
const MIN_BYTES: usize = 16;

/// A TOTP shared secret: the key of the HMAC that makes an account's codes.
///
/// Made by [`generate`](Self::generate) (20 random bytes from the operating system), or read
/// back from storage by [`from_bytes`](Self::from_bytes) or
/// [`from_base32`](Self::from_base32). Its bytes are wiped from memory when it is dropped;
/// `Debug` prints `TotpSecret(<redacted>)`, and there is no `Display`: the secret leaves only
/// through [`as_bytes`](Self::as_bytes), [`to_base32`](Self::to_base32) and
/// [`otpauth_uri`](Self::otpauth_uri), when the caller asks.
#[derive(Clone)]
pub struct TotpSecret {
    // totp-rs's own `Totp`, built once, with its `zeroize` feature: its copy of the secret is
    // the only one, and wiped on drop. Built with no drift (skew 0): `verify` checks each
    // step of the window itself.
    totp: totp_rs::Totp,
}

impl TotpSecret {
    /// A new secret of 20 random bytes (160 bits, RFC 4226 §4's recommendation) from the
    /// operating system's generator.
    pub fn generate() -> Self {
        let bytes = Zeroizing::new(crate::secret::random_bytes::<GENERATED_BYTES>());
        Self::from_bytes(&bytes[..]).expect("20 bytes is a valid secret")
    }

    /// The secret of these bytes, as [`as_bytes`](Self::as_bytes) returned them.
    ///
    /// # Errors
    ///
    /// [`MfaError::InvalidSecret`] for fewer than 16 bytes (128 bits, RFC 4226 §4's minimum).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MfaError> {
        if bytes.len() < MIN_BYTES {
            return Err(MfaError::InvalidSecret);
        }
        let totp = totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(TOTP_DIGITS as u8)
            .with_step_duration(TOTP_STEP_SECS)
            .with_skew(0)
            .with_secret(totp_rs::Secret::new(Box::from(bytes)))
            .build()
            .map_err(|_| MfaError::InvalidSecret)?;
        Ok(Self { totp })
    }

    /// The secret of this base32 text (RFC 4648, as [`to_base32`](Self::to_base32) writes it
    /// and as other systems export secrets). Letters may be in either case, `=` padding and
    /// spaces (apps show secrets in groups of four) are ignored.
    ///
    /// # Errors
    ///
    /// [`MfaError::InvalidSecret`] for text that is not base32 or decodes to fewer than 16
    /// bytes (128 bits).
    pub fn from_base32(text: &str) -> Result<Self, MfaError> {
        let mut normalized = Zeroizing::new(String::with_capacity(text.len()));
        for c in text.trim_end_matches(['=', ' ']).chars() {
            match c {
                ' ' => {}
                'a'..='z' | 'A'..='Z' | '2'..='7' => normalized.push(c.to_ascii_uppercase()),
                _ => return Err(MfaError::InvalidSecret),
            }
        }
        // 8 characters carry 5 bytes; a remainder of 1, 3 or 6 characters is no whole byte
        // count, so the text was cut or mistyped.
        if matches!(normalized.len() % 8, 1 | 3 | 6) {
            return Err(MfaError::InvalidSecret);
        }
        let secret = totp_rs::Secret::try_from_base32(normalized.as_str())
            .map_err(|_| MfaError::InvalidSecret)?;
        Self::from_bytes(secret.as_bytes())
    }

    /// The secret's bytes, to store (encrypted, ideally) and read back with
    /// [`from_bytes`](Self::from_bytes).
    pub fn as_bytes(&self) -> &[u8] {
        self.totp.secret().as_bytes()
    }

    /// The secret in base32 (RFC 4648), uppercase and unpadded: what authenticator apps take
    /// when the user types the secret instead of scanning the QR code, and a text form to
    /// store. [`from_base32`](Self::from_base32) reads it back.
    pub fn to_base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    /// The step a time falls in: `now / 30`. A time before 1970 counts as step 0.
    pub(super) fn step_of(now: i64) -> u64 {
        u64::try_from(now).unwrap_or(0) / TOTP_STEP_SECS
    }

    /// The code of the step `now` (Unix seconds) falls in, six digits with leading zeros.
    ///
    /// For tests, and for flows that confirm something with a code the user has to read
    /// elsewhere. Not for showing "the current code" on the page that enrols the secret (that
    /// proves nothing) nor anywhere else the user is looking: a second factor's code comes
    /// from the user's device.
    pub fn code_at(&self, now: i64) -> String {
        self.totp
            .generate(Self::step_of(now) * TOTP_STEP_SECS)
            .to_string()
    }

    /// Checks a code the user typed against the time `now` (Unix seconds), and returns the
    /// step it was accepted for: **store it as the account's new `last_used_step`** before
    /// letting the user in (see the [module docs](super) on racing logins).
    ///
    /// A code is accepted for the step `now` falls in and the one before and after it
    /// (RFC 6238 §5.2's drift), and only for a step after `last_used_step`: RFC 6238 §5.2
    /// accepts a code at most once, and a code older than the last one accepted is refused
    /// too. `None` means no code was ever accepted (the confirmation of a new secret).
    ///
    /// The three steps are all checked, in constant time each (totp-rs compares codes in
    /// constant time); when the code is that of several (a one-in-a-million coincidence),
    /// the latest is the one accepted, so the same code cannot pass twice.
    ///
    /// # Errors
    ///
    /// - [`MfaError::MalformedCode`]: not exactly six ASCII digits (no spaces, no other
    ///   length), refused before any HMAC is computed.
    /// - [`MfaError::Replayed`]: the code of an accepted step, but that step is at or before
    ///   `last_used_step`.
    /// - [`MfaError::InvalidCode`]: the code of none of the accepted steps.
    pub fn verify(
        &self,
        code: &str,
        now: i64,
        last_used_step: Option<u64>,
    ) -> Result<u64, MfaError> {
        if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MfaError::MalformedCode);
        }
        let current = Self::step_of(now);
        let first = current.saturating_sub(TOTP_DRIFT_STEPS);
        let last = current + TOTP_DRIFT_STEPS;
        // Every step of the window is checked (no early exit); the latest match wins.
        let mut matched = None;
        for step in first..=last {
            if self.totp.check(code, step * TOTP_STEP_SECS).is_some() {
                matched = Some(step);
            }
        }
        match (matched, last_used_step) {
            (None, _) => Err(MfaError::InvalidCode),
            (Some(step), Some(used)) if step <= used => Err(MfaError::Replayed),
            (Some(step), _) => Ok(step),
        }
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}
