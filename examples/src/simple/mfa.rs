//! The `simple` app's second factor (`login::mfa`): TOTP enrolment and confirmation,
//! recovery codes, the second step of the login, turning TOTP off, and two step-up routes.
//!
//! - `POST /mfa/totp` (authenticated) → `{"secret", "otpauth_uri"}`: a new secret, pending
//!   until confirmed (a second call replaces it)
//! - `POST /mfa/totp/confirm` (authenticated; form `code`) → `{"recovery_codes": [...]}`:
//!   the first code turns TOTP on and hands out ten recovery codes, shown once; 400
//!   `{"detail": "Invalid code"}` for a wrong code or with nothing pending
//! - `POST /login` for such a user → 403 `mfa_required` with an `mfa_token`;
//!   `POST /login/mfa` (form `mfa_token` and `otp` or `recovery_code`) → the token response
//! - `POST /mfa/recovery-codes` (a login of the last 5 minutes) → ten new codes, the old
//!   ones dead; `DELETE /mfa/totp` (the same) → 204, TOTP off
//! - `POST /reauth` (authenticated; form `password`, and `otp` when TOTP is on) → a new
//!   access token of the same session with a fresh `auth_time` (its refreshes keep it)
//! - `GET /fresh` (`#[protected(fresh = "5m")]`), `GET /secure`
//!   (`#[protected(factors = ["otp"])]`) → `{"user": {...}}`

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use login::mfa::{MfaAccount, MfaGrant, ReauthGrant, RecoveryCodes, TotpSecret, UsedFactor};
use login::openapi::SecondStepResponses;
use login::protected;
use login::{Claims, LoginError, TokenResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppState, User, UserReply, load_user};

/// The issuer authenticator apps show next to the account.
const ISSUER: &str = "login simple example";

/// A new TOTP secret: `{"secret", "otpauth_uri"}`.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// The secret in base32, for typing into an authenticator app.
    pub secret: String,
    /// The `otpauth://` URI (what a QR code of the secret holds).
    pub otpauth_uri: String,
}

/// The confirmation form: the first code of the new secret.
#[derive(Deserialize, ToSchema)]
pub struct CodeForm {
    /// Six digits from the authenticator app.
    pub code: String,
}

/// Recovery codes, shown once: `{"recovery_codes": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodeList {
    /// Ten single-use codes (`xxxxx-xxxxx`).
    pub recovery_codes: Vec<String>,
}

/// The second step's form (documentation: `MfaGrant` reads it).
#[derive(ToSchema)]
#[allow(dead_code)]
struct MfaForm {
    /// The `mfa_token` of the `mfa_required` answer.
    mfa_token: String,
    /// A TOTP code (six digits); or send `recovery_code`.
    otp: Option<String>,
    /// A recovery code; or send `otp`.
    recovery_code: Option<String>,
}

fn invalid_code() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "detail": "Invalid code" })),
    )
        .into_response()
}

/// Start TOTP enrolment: a new secret, pending until a first code confirms it.
#[protected]
#[utoipa::path(post, path = "/mfa/totp",
    responses((status = 200, description = "The new secret, pending.", body = TotpEnrolment)))]
pub(super) async fn enrol_totp(user: User, State(state): State<AppState>) -> Response {
    let secret = TotpSecret::generate();
    let otpauth_uri = match secret.otpauth_uri(ISSUER, &user.email) {
        Ok(uri) => uri,
        Err(_) => return invalid_code(),
    };
    let enrolment = TotpEnrolment {
        secret: secret.to_base32(),
        otpauth_uri,
    };
    state.db.set_pending_totp(&user.email, secret);
    Json(enrolment).into_response()
}

/// Confirm TOTP with its first code: TOTP is on, and here are the recovery codes.
#[protected]
#[utoipa::path(post, path = "/mfa/totp/confirm",
    request_body(content = CodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "TOTP is on; the recovery codes, shown once.", body = RecoveryCodeList),
        (status = 400, description = "A wrong code, or no enrolment pending.")))]
pub(super) async fn confirm_totp(
    user: User,
    State(state): State<AppState>,
    Form(form): Form<CodeForm>,
) -> Response {
    let now = state.manager.now();
    match state.db.confirm_totp(&user.email, &form.code, now) {
        Some(recovery_codes) => Json(RecoveryCodeList { recovery_codes }).into_response(),
        None => invalid_code(),
    }
}

/// New recovery codes (the old ones stop working): a login of the last 5 minutes.
#[protected(fresh = "5m")]
#[utoipa::path(post, path = "/mfa/recovery-codes",
    responses(
        (status = 200, description = "Ten new codes, shown once.", body = RecoveryCodeList),
        (status = 400, description = "TOTP is not on.")))]
pub(super) async fn regenerate_recovery_codes(
    user: User,
    State(state): State<AppState>,
) -> Response {
    let (codes, hashes) = RecoveryCodes::generate();
    if state.db.replace_recovery_codes(&user.email, hashes) {
        Json(RecoveryCodeList {
            recovery_codes: codes,
        })
        .into_response()
    } else {
        invalid_code()
    }
}

/// Turn TOTP off (and its recovery codes): a login of the last 5 minutes.
#[protected(fresh = "5m")]
#[utoipa::path(delete, path = "/mfa/totp",
    responses((status = 204, description = "TOTP is off.")))]
pub(super) async fn disable_totp(user: User, State(state): State<AppState>) -> StatusCode {
    state.db.disable_totp(&user.email);
    StatusCode::NO_CONTENT
}

/// The second step of the login: the `mfa_token` and a TOTP code or a recovery code.
#[utoipa::path(post, path = "/login/mfa",
    request_body(content = inline(MfaForm), content_type = "application/x-www-form-urlencoded"),
    responses(SecondStepResponses))]
pub(super) async fn login_mfa(
    State(state): State<AppState>,
    grant: MfaGrant,
) -> Result<Response, LoginError> {
    let user = load_user(grant.subject().to_owned(), State(state.db.clone())).await;
    let step = grant.verify(user).await?;
    // Recorded before the tokens, each a check-and-set: a code passes once.
    let recorded = match step.used() {
        UsedFactor::Totp { step: accepted } => {
            state.db.record_step(&step.account().email, accepted)
        }
        // By its hash, not its index: the list may have changed since it was read.
        UsedFactor::RecoveryCode { index } => step
            .account()
            .recovery_codes()
            .get(index)
            .is_some_and(|hash| state.db.use_recovery_code(&step.account().email, *hash)),
        _ => false,
    };
    if !recorded {
        return Err(LoginError::InvalidCode);
    }
    step.token_response().await
}

/// The re-authentication form (documentation: `ReauthGrant` reads it).
#[derive(ToSchema)]
#[allow(dead_code)]
struct ReauthForm {
    /// The account's password.
    password: String,
    /// A TOTP code (six digits), required when TOTP is on.
    otp: Option<String>,
}

/// Re-authenticate: the password again, and a TOTP code when TOTP is on. A new access token
/// of the same session, with a fresh `auth_time` (and `amr`); the session's refreshes keep
/// them. No session starts and the refresh token does not change. Counted by the login
/// throttle, as logins are.
#[protected]
#[utoipa::path(post, path = "/reauth",
    request_body(content = inline(ReauthForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A new access token of the same session.", body = TokenResponse),
        (status = 400, description = "A wrong or reused code (`invalid_grant`), or no code for an account with TOTP (`invalid_request`)."),
        (status = 429, description = "Too many failures: retry after `Retry-After` seconds.")))]
pub(super) async fn reauth(
    _claims: Claims,
    State(state): State<AppState>,
    grant: ReauthGrant,
) -> Result<Response, LoginError> {
    let user = load_user(grant.subject().to_owned(), State(state.db.clone())).await;
    let checked = grant.verify(&state.passwords, user).await?;
    // Recorded before the token, a check-and-set: a code passes once.
    if let Some(UsedFactor::Totp { step }) = checked.used()
        && !state.db.record_step(&checked.account().email, step)
    {
        return Err(LoginError::InvalidCode);
    }
    checked.token_response().await
}

/// Only for a login of the last 5 minutes (RFC 9470's challenge otherwise).
#[protected(fresh = "5m")]
#[utoipa::path(get, path = "/fresh",
    responses((status = 200, description = "The user.", body = UserReply)))]
pub(super) async fn fresh_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}

/// Only for a login with a one-time code (`amr` holds `otp`).
#[protected(factors = ["otp"])]
#[utoipa::path(get, path = "/secure",
    responses((status = 200, description = "The user.", body = UserReply)))]
pub(super) async fn secure_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}
