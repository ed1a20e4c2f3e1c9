//! The builder's session settings (refresh tokens, revocation).

use std::sync::Arc;
use std::time::Duration;

use super::LoginManagerBuilder;
use crate::session::{MemoryStore, SessionStore};

impl LoginManagerBuilder {
    /// Turns sessions on, kept in this process's memory ([`MemoryStore`]): logins can
    /// return a refresh token, and access tokens can be revoked, alone, by session or by
    /// subject. See the sessions guide (`docs/sessions.md`).
    pub fn sessions(self) -> Self {
        self.session_store(MemoryStore::shared())
    }

    /// Turns sessions on, kept in `store` (for example a store shared by several instances).
    pub fn session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.session_store = Some(store);
        self
    }

    /// How long a refresh token stays valid unused (default 14 days); each refresh issues a
    /// new one with a fresh lifetime.
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.sessions.refresh_lifetime = lifetime;
        self
    }

    /// The absolute lifetime of a session (default: none): after it, the session cannot be
    /// refreshed however recently it was, and its access tokens expire no later.
    pub fn session_lifetime(mut self, lifetime: Duration) -> Self {
        self.sessions.session_lifetime = Some(lifetime);
        self
    }

    /// The grace window of rotation (default 10 s, at most 60 s; `Duration::ZERO` for none).
    /// A refresh token presented again within it after its rotation, while its successor is
    /// still unused, gets the same successor back (two tabs refreshing at once); later, it
    /// ends the session (reuse detection).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.sessions.grace = grace;
        self
    }

    /// With sessions, the longest lifetime an access token may have (default: the default
    /// lifetime). Longer tokens (`exp - iat`, the leeway not added) are refused when minted
    /// and when verified, which is what lets every revocation be forgotten after this long
    /// (plus the leeway). With sessions, a token without `iat` (fastapi-login's) is refused:
    /// nothing bounds when it was issued.
    pub fn max_access_lifetime(mut self, lifetime: Duration) -> Self {
        self.sessions.max_access_lifetime = Some(lifetime);
        self
    }

    /// The most live sessions one subject may have (default 100, at most 10,000): past it,
    /// a login ends the subject's oldest sessions (their refresh tokens stop working, their
    /// access tokens are refused from the next request on). It bounds what one account with a
    /// valid password can make the store hold, and the work of the Redis scripts that walk a
    /// subject's sessions.
    pub fn max_sessions_per_subject(mut self, max: usize) -> Self {
        self.sessions.max_sessions = max;
        self
    }

    /// The refresh route's path (default `/refresh`): the refresh cookie is sent there only.
    pub fn refresh_path(mut self, path: impl Into<String>) -> Self {
        self.sessions.refresh_path = path.into();
        self
    }

    /// The refresh cookie's name (default `refresh-token`).
    pub fn refresh_cookie_name(mut self, name: impl Into<String>) -> Self {
        self.sessions.cookie_name = name.into();
        self
    }
}
