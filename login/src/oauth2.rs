//! OAuth2's wire format (RFC 6749 §4.3 and §5.1): the password form the login route reads and
//! the token response that the manager, sessions, the login route and the refresh route
//! answer with.

use std::time::Duration;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Deserializer, Serialize};

/// The OAuth2 password form (fastapi's `OAuth2PasswordRequestForm`): `username`, `password`,
/// optional `scope` (space-separated), `grant_type`, `client_id`, `client_secret`.
///
/// Extract it directly (`form: OAuth2PasswordForm`): a malformed request then gets an
/// RFC 6749 §5.2 JSON error (400 `invalid_request`; 415 when it is not a form), never echoing
/// the password. (`axum::Form<OAuth2PasswordForm>` works too, with axum's plain-text 422.)
/// Or take a [`PasswordGrant`](crate::PasswordGrant), which also checks the password. It is
/// meant for your app's own login form; RFC 9700 forbids offering the password grant to
/// third-party clients.
#[derive(Clone, Deserialize)]
pub struct OAuth2PasswordForm {
    /// The user name (often an e-mail address).
    pub username: String,
    /// The password.
    pub password: String,
    /// The requested scopes, split on spaces.
    #[serde(default, deserialize_with = "split_scopes")]
    pub scope: Vec<String>,
    /// `grant_type`, when sent (`password`).
    #[serde(default)]
    pub grant_type: Option<String>,
    /// `client_id`, when sent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// `client_secret`, when sent.
    #[serde(default)]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for OAuth2PasswordForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2PasswordForm")
            .field("username", &self.username)
            .field("password", &"***")
            .field("scope", &self.scope)
            .field("grant_type", &self.grant_type)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "***"))
            .finish()
    }
}

fn split_scopes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let s = String::deserialize(d)?;
    // A set, not a scan of the list: a huge scope list must not cost quadratic time.
    let mut seen = std::collections::HashSet::new();
    let scopes = s
        .split(' ')
        .filter(|scope| !scope.is_empty() && seen.insert(*scope))
        .map(str::to_owned)
        .collect();
    Ok(scopes)
}

/// The login route's answer (RFC 6749 §5.1): `{"access_token", "token_type": "bearer",
/// "expires_in"}`, `"refresh_token"` when sessions are enabled, and `scope` when the granted
/// scopes differ from the requested ones; sent with `Cache-Control: no-store` and
/// `Pragma: no-cache`.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The JWT.
    pub access_token: String,
    /// Always `"bearer"`.
    pub token_type: String,
    /// The token's lifetime in seconds.
    pub expires_in: u64,
    /// The granted scopes, space-separated, when they differ from the requested ones
    /// (RFC 6749 §5.1); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The refresh token, when sessions are enabled (absent from the JSON otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"***")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .finish()
    }
}

impl TokenResponse {
    /// Wraps a token minted with the given lifetime.
    pub fn new(access_token: String, lifetime: Duration) -> Self {
        TokenResponse {
            access_token,
            token_type: "bearer".to_owned(),
            expires_in: lifetime.as_secs(),
            scope: None,
            refresh_token: None,
        }
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}
