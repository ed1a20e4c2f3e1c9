//! Why a login failed ([`LoginError`]) and each failure's answer; the login form's own
//! extractor, whose rejection it is.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::TokenError;
use crate::oauth2::OAuth2PasswordForm;
use crate::password::PasswordError;
use crate::rejection::{RejectionKind, default_response};
use crate::session::SessionError;

/// Why a login failed, each with its answer.
///
/// | case | status | body |
/// |---|---|---|
/// | unknown user or wrong password | 401, `WWW-Authenticate: Bearer` | `{"detail":"Invalid credentials"}` |
/// | a malformed form (missing or repeated field) | 400 | `{"error":"invalid_request","error_description":…}` |
/// | `GET` or `HEAD` (a password never comes from the query string) | 405, `Allow: POST` | `{"error":"invalid_request",…}` |
/// | not a form (`Content-Type`) | 415 | `{"error":"invalid_request",…}` |
/// | a body over axum's limit | 413 | `{"error":"invalid_request",…}` |
/// | `grant_type` other than `password` | 400 | `{"error":"unsupported_grant_type"}` |
/// | scopes requested, none of them grantable (after the password check) | 400 | `{"error":"invalid_scope",…}` |
/// | an empty or over-long password | 400 | `{"detail":"Password is empty or too long"}` |
/// | too many logins in progress | 503, `Retry-After: 1` | `{"detail":"Too many logins in progress, retry later"}` |
/// | throttled: too many failed logins ([`login::throttle`](crate::throttle)) | 429, `Retry-After` (seconds) | `{"error":"slow_down","error_description":…}` |
/// | the user store failed | the store's own response | |
/// | the session store failed | 503 | `{"detail":"Session store unavailable"}` |
/// | a right password for an account with a second factor (feature `mfa`) | 403 | `{"error":"mfa_required","error_description":…,"mfa_token":…,"methods":["totp","recovery_code"]}` |
/// | second step: a wrong, expired, used or forged `mfa_token` | 400 | `{"error":"invalid_grant","error_description":"the mfa_token is invalid, expired or already used"}` |
/// | second step: a wrong or reused code | 400 | `{"error":"invalid_grant","error_description":"the code is wrong or was already used"}` |
/// | hashing failed, or a token could not be minted | 500 | `{"detail":"Internal server error"}` |
///
/// Every answer has `Cache-Control: no-store`, and none repeats the password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// Unknown user or wrong password (the same answer for both).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The request is not a well-formed login form (RFC 6749 §5.2 `invalid_request`), with
    /// its status and a description that never contains a submitted value.
    #[error("invalid login request: {description}")]
    InvalidRequest {
        /// 400, 413 or 415.
        status: StatusCode,
        /// What is wrong, for the developer of the client.
        description: &'static str,
    },
    /// `grant_type` is not `password`.
    #[error("unsupported grant_type")]
    UnsupportedGrantType,
    /// Too many failed logins for this account, client address or both: the login throttle
    /// refused the attempt before any password work (the same answer for every account,
    /// known or not, and every password, right or not).
    #[error("login throttled for {retry_after} s")]
    Throttled {
        /// Seconds to wait (`Retry-After`).
        retry_after: u64,
    },
    /// Scopes were requested and none of them can be granted (RFC 6749 §5.2
    /// `invalid_scope`): a token response needs at least one scope to name, since
    /// RFC 6749 §3.3 has no empty scope. Checked after the password, so it tells nothing
    /// to whoever does not know it.
    #[error("invalid scope")]
    InvalidScope,
    /// The password is out of bounds, or hashing failed.
    #[error("password: {0}")]
    Password(#[source] PasswordError),
    /// The user store failed: its response is sent as is (boxed, to keep the error small).
    #[error("user store failed ({})", .0.status())]
    Store(Box<Response>),
    /// The token could not be minted (a configuration error, logged at error level).
    #[error("minting failed: {0}")]
    Mint(#[source] TokenError),
    /// The session could not be started: [`SessionError`]'s answer (503 with `Retry-After`
    /// when the session store failed, 500 for a configuration error).
    #[error("session: {0}")]
    Session(#[source] SessionError),
    /// The password was right and the account has a second factor (feature `mfa`): 403
    /// `mfa_required` with the `mfa_token` the second step presents with the code
    /// ([`login::mfa`](crate::mfa)). No session was started, no access token minted.
    #[error("a second factor is required")]
    MfaRequired {
        /// The single-use, short-lived token of the second step (never an access token).
        mfa_token: String,
        /// The second factors the account can use: `totp`, `recovery_code`.
        methods: Vec<&'static str>,
    },
    /// The second step's `mfa_token` is wrong, expired, already used, of another manager, or
    /// not an `mfa_token` at all: 400 `invalid_grant`.
    #[error("invalid mfa_token")]
    InvalidMfaToken,
    /// The second step's code (a TOTP code or a recovery code) is wrong or was already used:
    /// 400 `invalid_grant`, and the failure counts for the login throttle.
    #[error("invalid second-factor code")]
    InvalidCode,
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        let mut response = match self {
            LoginError::InvalidCredentials => {
                let mut response = default_response(RejectionKind::MissingCredentials, &[]);
                *response.body_mut() =
                    axum::body::Body::from(r#"{"detail":"Invalid credentials"}"#);
                return response;
            }
            LoginError::InvalidRequest {
                status,
                description,
            } => (
                status,
                axum::Json(json!({
                    "error": "invalid_request",
                    "error_description": description,
                })),
            )
                .into_response(),
            LoginError::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "unsupported_grant_type",
                    "error_description": "this endpoint accepts grant_type=password",
                })),
            )
                .into_response(),
            // RFC 8628's `slow_down`, registered for token endpoint responses.
            LoginError::Throttled { retry_after } => {
                let mut response = (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(json!({
                        "error": "slow_down",
                        "error_description": "too many failed logins: retry after the delay in Retry-After",
                    })),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                response
            }
            LoginError::InvalidScope => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "invalid_scope",
                    "error_description": "none of the requested scopes can be granted",
                })),
            )
                .into_response(),
            LoginError::Password(PasswordError::Empty | PasswordError::TooLong) => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "detail": "Password is empty or too long" })),
            )
                .into_response(),
            // Too many logins in progress (a flood): 503 with `Retry-After`.
            LoginError::Password(busy @ PasswordError::Busy) => return busy.into_response(),
            LoginError::Password(error) => {
                tracing::error!(%error, "login: password check failed");
                internal_error()
            }
            // The store's own answer, kept as is but never cached.
            LoginError::Store(response) => *response,
            LoginError::Mint(error) => {
                tracing::error!(%error, "login: could not mint a token");
                internal_error()
            }
            LoginError::Session(SessionError::NotLive) => {
                tracing::debug!("login: the token's session is not live");
                SessionError::NotLive.into_response()
            }
            LoginError::Session(error) => {
                tracing::error!(%error, "login: could not start a session");
                error.into_response()
            }
            LoginError::MfaRequired { mfa_token, methods } => (
                StatusCode::FORBIDDEN,
                axum::Json(json!({
                    "error": "mfa_required",
                    "error_description": "the password is right; a second factor is required: \
                        send the mfa_token with a code",
                    "mfa_token": mfa_token,
                    "methods": methods,
                })),
            )
                .into_response(),
            LoginError::InvalidMfaToken => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "invalid_grant",
                    "error_description": "the mfa_token is invalid, expired or already used",
                })),
            )
                .into_response(),
            LoginError::InvalidCode => (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({
                    "error": "invalid_grant",
                    "error_description": "the code is wrong or was already used",
                })),
            )
                .into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}

fn internal_error() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(json!({ "detail": "Internal server error" })),
    )
        .into_response()
}

/// Extract the form directly (`form: OAuth2PasswordForm`, not `Form<OAuth2PasswordForm>`) to
/// answer a malformed login request with RFC 6749 §5.2 JSON ([`LoginError::InvalidRequest`])
/// instead of axum's plain-text 422. Only `POST` is read (RFC 6749 §3.2): a password never
/// comes from the query string.
impl<S: Send + Sync> FromRequest<S> for OAuth2PasswordForm {
    type Rejection = LoginError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_form(
            request,
            state,
            "the form needs a `username` and a `password`",
        )
        .await
    }
}

/// Reads a token endpoint's form `T` from a `POST` body, every failure an RFC 6749 §5.2
/// [`LoginError::InvalidRequest`] (`missing` describes a missing field). Only `POST` is read:
/// a credential never comes from the query string.
pub(crate) async fn read_form<T, S>(
    request: Request,
    state: &S,
    missing: &'static str,
) -> Result<T, LoginError>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    use axum::extract::rejection::FormRejection;
    use axum::http::Method;

    let invalid = |status, description| LoginError::InvalidRequest {
        status,
        description,
    };
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return Err(invalid(
            StatusCode::METHOD_NOT_ALLOWED,
            "the token endpoint takes a POST with a form body",
        ));
    }
    match axum::Form::<T>::from_request(request, state).await {
        Ok(axum::Form(form)) => Ok(form),
        Err(FormRejection::InvalidFormContentType(_)) => Err(invalid(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/x-www-form-urlencoded",
        )),
        Err(FormRejection::BytesRejection(rejection)) => Err(invalid(
            rejection.status(),
            "the request body could not be read (too large?)",
        )),
        // serde's messages name fields, never values; they are matched, not forwarded.
        Err(rejection) => {
            let text = rejection.body_text();
            Err(invalid(
                StatusCode::BAD_REQUEST,
                if text.contains("missing field") {
                    missing
                } else if text.contains("duplicate field") {
                    "a form field appears more than once"
                } else {
                    "the form could not be read"
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// The cause of a failed login is the error's `source()`, for logs that walk the chain.
    #[test]
    fn the_cause_is_the_source() {
        let busy = LoginError::Password(PasswordError::Busy);
        let source = busy.source().expect("a source");
        assert_eq!(source.downcast_ref(), Some(&PasswordError::Busy));
        let disabled = LoginError::Session(SessionError::Disabled);
        let source = disabled.source().expect("a source");
        assert!(matches!(
            source.downcast_ref(),
            Some(SessionError::Disabled)
        ));
        let mint = LoginError::Mint(TokenError::EmptySubject);
        assert!(
            mint.source()
                .unwrap()
                .downcast_ref::<TokenError>()
                .is_some()
        );
        assert!(LoginError::InvalidCredentials.source().is_none());
    }
}
