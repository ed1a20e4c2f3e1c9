//! Sessions: refresh tokens, their store, and the revocations every request is checked against.
//!
//! A session is a token family: the refresh token a login returns and every access token
//! minted from it (they carry the session's id in their `sid` claim). This module holds the
//! pieces that do not need the manager:
//!
//! | file | what it holds |
//! |---|---|
//! | `store.rs` | the [`SessionStore`] trait (async, shared backends implement it) and its types |
//! | `memory.rs` | [`MemoryStore`], the default store: one process, no server |
//! | `postgres/` | `PostgresStore` (feature `postgres`): many instances sharing one PostgreSQL database |
//! | `redis/` | `RedisStore` (feature `redis`): many instances sharing one Redis |
//! | `test_kit/` | the contract suite every store must pass (feature `test-kit`): `session::test_kit` for store authors |
//! | `throttle.rs` | the login throttle's failure counters: the [`ThrottleStore`] trait and [`MemoryThrottle`] |
//! | `view.rs` | the revocations as a set, and [`RevocationView`], the in-process copy the verify path consults |
//!
//! Refresh tokens are opaque: `lrt_` followed by 256 random bits in base64url (47 characters).
//! They contain no dot, so they never parse as a JWS (never accepted as an access token), and
//! the store only knows their SHA-256 ([`TokenHash`]), so a JWT is never found in it (never
//! accepted as a refresh token), and a copy of the store hands out no usable token — except,
//! during the grace window after a rotation (`refresh_grace`, 10 s by default), the one
//! successor kept to answer a concurrent refresh; with `refresh_grace(Duration::ZERO)` none.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::TokenError;
use crate::oauth2::TokenResponse;

pub(crate) mod memory;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod store;
#[cfg(feature = "test-kit")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-kit")))]
pub mod test_kit;
pub(crate) mod throttle;
pub(crate) mod view;

#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresStore, PostgresStoreBuilder, PostgresThrottle, SCHEMA};
#[cfg(feature = "redis")]
pub use self::redis::{RedisStore, RedisStoreBuilder};
pub use memory::MemoryStore;
pub use store::{
    NewSession, Revocation, RevocationSink, Rotated, Rotation, SessionStore, StoreError,
    StoreFuture,
};
pub use throttle::{Counter, MemoryThrottle, ThrottleStore};
pub use view::RevocationView;

/// The prefix of every refresh token (so that scanners and people recognise one).
pub(crate) const REFRESH_TOKEN_PREFIX: &str = "lrt_";
/// The length of a refresh token: the prefix and 43 base64url characters (256 bits).
pub(crate) const REFRESH_TOKEN_LEN: usize = REFRESH_TOKEN_PREFIX.len() + 43;
/// The default lifetime of a refresh token: 14 days, renewed by every refresh.
pub(crate) const DEFAULT_REFRESH_LIFETIME: Duration = Duration::from_secs(14 * 24 * 3600);
/// The default grace window: a refresh token rotated less than 10 seconds ago, presented
/// again while its successor is unused, gets the same successor back instead of ending the
/// session (two browser tabs refreshing at once).
pub(crate) const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(10);
/// The default cap on live sessions per subject: past it, a login ends the subject's oldest
/// sessions. No person signs in on a hundred devices at once, and it bounds what one account
/// can make the store hold (and the Redis scripts that walk a subject's sessions).
pub(crate) const DEFAULT_MAX_SESSIONS: usize = 100;
/// The largest cap the builder accepts.
pub(crate) const MAX_MAX_SESSIONS: usize = 10_000;
/// The longest user agent a session records; longer ones are cut.
pub(crate) const MAX_USER_AGENT_CHARS: usize = 256;

/// The SHA-256 of a refresh token: all the store ever keeps of one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// The hash of `token`.
    pub fn of(token: &str) -> TokenHash {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TokenHash({:02x}{:02x}{:02x}{:02x}…)",
            self.0[0], self.0[1], self.0[2], self.0[3]
        )
    }
}

/// A new refresh token: `lrt_` and 32 random bytes in base64url.
pub(crate) fn new_refresh_token() -> String {
    let bytes: [u8; 32] = crate::secret::random_bytes();
    let mut token = String::with_capacity(REFRESH_TOKEN_LEN);
    token.push_str(REFRESH_TOKEN_PREFIX);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut token);
    token
}

/// A new session id: 128 random bits in base64url.
pub(crate) fn new_session_id() -> String {
    let bytes: [u8; 16] = crate::secret::random_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `token` has the shape of a refresh token (prefix, length, base64url alphabet).
/// Anything else is refused before the store is asked.
pub(crate) fn is_refresh_token_shaped(token: &str) -> bool {
    token.len() == REFRESH_TOKEN_LEN
        && token.starts_with(REFRESH_TOKEN_PREFIX)
        && token[REFRESH_TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A user agent as a session records it: printable, at most [`MAX_USER_AGENT_CHARS`].
pub(crate) fn clean_user_agent(user_agent: Option<&str>) -> Option<String> {
    let ua: String = user_agent?
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT_CHARS)
        .collect();
    let ua = ua.trim();
    (!ua.is_empty()).then(|| ua.to_owned())
}

/// One session, as the store keeps it and [`LoginManager::list_sessions`](crate::LoginManager::list_sessions)
/// lists it ("where you're signed in").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The session's id (the `sid` claim of its access tokens).
    pub id: String,
    /// The subject it was started for.
    pub subject: String,
    /// The scopes every access token of the session carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// The extra claims every access token of the session carries.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// When it started (seconds since the Unix epoch).
    pub created_at: i64,
    /// When its refresh token was last rotated, if ever.
    #[serde(default)]
    pub refreshed_at: Option<i64>,
    /// When its current refresh token expires (each refresh moves it).
    pub expires_at: i64,
    /// When the session ends whatever the refreshes (the absolute session lifetime), if set.
    #[serde(default)]
    pub ends_at: Option<i64>,
    /// The user agent of the last login or refresh, if known.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The manager that started it, when it is not `LoginManager` itself: the name of its
    /// type (a second manager's, set by `manager_type`). A manager renews and lists only its
    /// own sessions, so two managers may share a store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
}

impl Session {
    /// Whether the session can still be refreshed at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at > now && self.ends_at.is_none_or(|end| end > now)
    }

    /// How the user authenticated (`amr`, RFC 8176), as the session's tokens carry it: the
    /// login's, or the last re-authentication's; empty when the login recorded none.
    pub fn amr(&self) -> Vec<String> {
        match self.extra.get("amr") {
            Some(Value::Array(methods)) => methods
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// When the user last authenticated (`auth_time`), as the session's tokens carry it.
    pub fn auth_time(&self) -> Option<i64> {
        self.extra.get("auth_time").and_then(Value::as_i64)
    }

    /// Records a re-authentication: `amr` and `auth_time` for the session's next tokens.
    pub(crate) fn set_authentication(&mut self, amr: &[String], auth_time: i64) {
        self.extra.insert("amr".into(), Value::from(amr.to_vec()));
        self.extra
            .insert("auth_time".into(), Value::from(auth_time));
    }
}

/// The tokens of a session, as [`LoginManager::start_session`](crate::LoginManager::start_session)
/// and [`LoginManager::refresh`](crate::LoginManager::refresh) return them.
#[derive(Clone)]
pub struct SessionTokens {
    /// The access token (a JWT carrying the session's `sid`).
    pub access_token: String,
    /// The access token's lifetime in seconds.
    pub expires_in: u64,
    /// The refresh token (opaque).
    pub refresh_token: String,
    /// The refresh token's lifetime in seconds.
    pub refresh_expires_in: u64,
    /// The session's id.
    pub session_id: String,
}

impl fmt::Debug for SessionTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionTokens")
            .field("access_token", &"***")
            .field("expires_in", &self.expires_in)
            .field("refresh_token", &"***")
            .field("refresh_expires_in", &self.refresh_expires_in)
            .field("session_id", &self.session_id)
            .finish()
    }
}

impl SessionTokens {
    /// The RFC 6749 §5.1 token response with both tokens (`access_token`, `token_type`,
    /// `expires_in`, `refresh_token`), sent with `Cache-Control: no-store`.
    pub fn token_response(self) -> TokenResponse {
        let mut response =
            TokenResponse::new(self.access_token, Duration::from_secs(self.expires_in));
        response.refresh_token = Some(self.refresh_token);
        response
    }
}

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The manager was built without sessions (see
    /// [`LoginManagerBuilder::sessions`](crate::LoginManagerBuilder::sessions)).
    #[error("sessions are not enabled on this manager")]
    Disabled,
    /// The token request was invalid (see [`TokenError`]).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The token's session is not live (ended or expired), or the token belongs to no
    /// session: 401 `invalid_token`, as for a token that was refused.
    #[error("the token's session is not live")]
    NotLive,
}

/// The `Retry-After` (seconds) of the answer to a failed session store.
const STORE_RETRY_AFTER_SECS: u64 = 5;

impl IntoResponse for SessionError {
    /// The store failed: `503 Service Unavailable`, `Retry-After: 5`,
    /// `{"detail": "Session store unavailable"}`. Sessions not enabled or an invalid token
    /// request (configuration errors): 500 `{"detail": "Internal server error"}`. A session
    /// not live: 401 `WWW-Authenticate: Bearer error="invalid_token"`,
    /// `{"detail": "Invalid credentials"}`. Always `Cache-Control: no-store`; the error itself
    /// is not sent (log it).
    fn into_response(self) -> Response {
        if let SessionError::NotLive = self {
            return crate::rejection::default_response(
                crate::rejection::RejectionKind::InvalidToken,
                &[],
            );
        }
        let (status, detail) = match self {
            SessionError::Store(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "Session store unavailable")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        };
        let retry_after =
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some(STORE_RETRY_AFTER_SECS);
        crate::rejection::detail_response(status, detail, retry_after)
    }
}

/// Why a refresh failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// Unknown, malformed, expired, already used, or of an ended session: RFC 6749 §5.2
    /// `invalid_grant`. The precise reason is logged at debug level, never sent.
    #[error("invalid grant")]
    InvalidGrant,
    /// The manager was built without sessions.
    #[error("sessions are not enabled on this manager")]
    Disabled,
    /// Minting the access token failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::http::header;
    use http_body_util::BodyExt as _;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// A handler can `?` a `SessionError`: a failed store is a 503 to retry, never a 500 or a
    /// detail of the store's failure.
    #[tokio::test]
    async fn a_failed_store_answers_503_with_retry_after() {
        let response = SessionError::Store(StoreError::new("connection refused")).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "5");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            body(response).await,
            serde_json::json!({ "detail": "Session store unavailable" })
        );
    }

    #[tokio::test]
    async fn sessions_not_enabled_is_a_500_without_retry_after() {
        let response = SessionError::Disabled.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(
            body(response).await,
            serde_json::json!({ "detail": "Internal server error" })
        );
    }

    #[test]
    fn refresh_tokens_have_their_shape_and_no_dot() {
        let a = new_refresh_token();
        let b = new_refresh_token();
        assert_ne!(a, b);
        for t in [&a, &b] {
            assert_eq!(t.len(), REFRESH_TOKEN_LEN);
            assert!(t.starts_with("lrt_"));
            assert!(!t.contains('.'));
            assert!(is_refresh_token_shaped(t));
        }
        assert!(!is_refresh_token_shaped(&a[..a.len() - 1]));
        assert!(!is_refresh_token_shaped(&format!("{a}x")));
        assert!(!is_refresh_token_shaped(&a.replace("lrt_", "xrt_")));
        assert!(!is_refresh_token_shaped("a.b.c"));
        let mut dotted = a.clone();
        dotted.replace_range(10..11, ".");
        assert!(!is_refresh_token_shaped(&dotted));
        assert_ne!(TokenHash::of(&a), TokenHash::of(&b));
    }

    #[test]
    fn user_agents_are_cleaned() {
        assert_eq!(clean_user_agent(None), None);
        assert_eq!(clean_user_agent(Some("  ")), None);
        assert_eq!(
            clean_user_agent(Some("curl/8\r\n")).as_deref(),
            Some("curl/8")
        );
        let long = "x".repeat(1000);
        assert_eq!(
            clean_user_agent(Some(&long)).unwrap().len(),
            MAX_USER_AGENT_CHARS
        );
    }
}
