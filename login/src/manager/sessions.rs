//! Sessions on the manager: starting one at login, refreshing (rotation with reuse
//! detection), ending one or all, revoking an access token, listing, and the refresh cookie.
//!
//! The state lives in the [`SessionStore`]; the manager holds the store, the settings and the
//! [`RevocationView`] that `check_claims` consults on every request (see `verify`).
//!
//! The check of sessions on every request (the lifetime bound and the revocations in force)
//! is the last step of the request path, in `verify`.

use std::sync::Arc;
use std::time::Duration;

use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use super::LoginManager;
use super::issue::{MAX_LIFETIME, Prepared};
use crate::TokenRequest;
use crate::claims::Claims;
use crate::error::ConfigError;
use crate::events::{AuthEventKind, Client};
use crate::oauth2::TokenResponse;
use crate::session::{
    self, NewSession, RefreshError, RevocationView, Rotated, Rotation, Session, SessionError,
    SessionStore, SessionTokens, TokenHash,
};

/// The default path of the refresh route (and of the refresh cookie).
pub(crate) const DEFAULT_REFRESH_PATH: &str = "/refresh";
/// The default name of the refresh cookie.
pub(crate) const DEFAULT_REFRESH_COOKIE_NAME: &str = "refresh-token";
/// The longest grace window the builder accepts.
pub(crate) const MAX_REFRESH_GRACE: Duration = Duration::from_secs(60);

/// The session settings of the builder.
pub(super) struct SessionSettings {
    pub(super) refresh_lifetime: Duration,
    pub(super) session_lifetime: Option<Duration>,
    pub(super) grace: Duration,
    /// `None`: the manager's default lifetime.
    pub(super) max_access_lifetime: Option<Duration>,
    pub(super) refresh_path: String,
    pub(super) cookie_name: String,
    pub(super) max_sessions: usize,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            refresh_lifetime: session::DEFAULT_REFRESH_LIFETIME,
            session_lifetime: None,
            grace: session::DEFAULT_REFRESH_GRACE,
            max_access_lifetime: None,
            refresh_path: DEFAULT_REFRESH_PATH.to_owned(),
            cookie_name: DEFAULT_REFRESH_COOKIE_NAME.to_owned(),
            max_sessions: session::DEFAULT_MAX_SESSIONS,
        }
    }
}

/// The checked settings of a manager with sessions.
pub(super) struct Settings {
    pub(super) refresh_lifetime: Duration,
    pub(super) session_lifetime: Option<Duration>,
    pub(super) grace: Duration,
    pub(super) max_access_lifetime: Duration,
    pub(super) refresh_path: String,
    /// The refresh cookie's name, with the `__Host-` prefix when the token cookie has it.
    pub(super) cookie_name: String,
    /// The refresh cookie's `Path`: the refresh route's, or `/` for a `__Host-` cookie.
    pub(super) cookie_path: String,
    /// The most live sessions a subject may have.
    pub(super) max_sessions: usize,
}

/// Sessions, as the manager holds them.
pub(super) struct Sessions {
    pub(super) store: Arc<dyn SessionStore>,
    pub(super) view: Arc<RevocationView>,
    pub(super) settings: Settings,
    /// The manager's type name ([`Session::manager`]): `None` for `LoginManager` itself.
    pub(super) owner: Option<String>,
}

impl SessionSettings {
    /// Checks every setting and subscribes a new view to the store. `host_prefix`: the
    /// token cookie is a `__Host-` cookie, and so is the refresh cookie then.
    pub(super) fn build(
        self,
        store: Arc<dyn SessionStore>,
        default_lifetime: Duration,
        owner: Option<String>,
        host_prefix: bool,
    ) -> Result<Sessions, ConfigError> {
        let bad = |what| Err(ConfigError::InvalidSessionSetting(what));
        let in_range = |d: Duration| d >= Duration::from_secs(1) && d <= MAX_LIFETIME;
        if !in_range(self.refresh_lifetime) {
            return bad("the refresh lifetime must be between 1 second and 10 years");
        }
        if self.session_lifetime.is_some_and(|d| !in_range(d)) {
            return bad("the session lifetime must be between 1 second and 10 years");
        }
        if !(1..=session::MAX_MAX_SESSIONS).contains(&self.max_sessions) {
            return bad("the most sessions per subject must be between 1 and 10000");
        }
        if self.grace > MAX_REFRESH_GRACE {
            return bad("the refresh grace window must be at most 60 seconds");
        }
        let max_access_lifetime = self.max_access_lifetime.unwrap_or(default_lifetime);
        if max_access_lifetime < default_lifetime || max_access_lifetime > MAX_LIFETIME {
            return bad("the longest access-token lifetime must be at least the default lifetime");
        }
        let path_ok = self.refresh_path.starts_with('/')
            && !self
                .refresh_path
                .bytes()
                .any(|b| b == b';' || b == b',' || b.is_ascii_whitespace() || b.is_ascii_control());
        if !path_ok {
            return bad("the refresh path must start with `/` and hold no `;`, `,` or spaces");
        }
        let name_ok = !self.cookie_name.is_empty()
            && self
                .cookie_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !name_ok {
            return Err(ConfigError::InvalidCookieName(self.cookie_name));
        }
        if self.cookie_name.starts_with("__Host-") || self.cookie_name.starts_with("__Secure-") {
            return Err(ConfigError::InvalidCookieName(format!(
                "{} (give the refresh cookie's name without the prefix: it gets `__Host-` with \
                 `cookie_host_prefix`)",
                self.cookie_name
            )));
        }
        // RFC 6265bis §4.1.3.2: a `__Host-` cookie has `Path=/` (and no `Domain`, which the
        // token cookie's validation already refused), so the refresh cookie then goes to every
        // path of the host, not only to the refresh route; only the host itself can set it.
        let (cookie_name, cookie_path) = if host_prefix {
            (format!("__Host-{}", self.cookie_name), "/".to_owned())
        } else {
            (self.cookie_name, self.refresh_path.clone())
        };
        let view = Arc::new(RevocationView::new());
        store.subscribe(view.clone());
        Ok(Sessions {
            store,
            view,
            owner,
            settings: Settings {
                refresh_lifetime: self.refresh_lifetime,
                session_lifetime: self.session_lifetime,
                grace: self.grace,
                max_access_lifetime,
                refresh_path: self.refresh_path,
                cookie_name,
                cookie_path,
                max_sessions: self.max_sessions,
            },
        })
    }
}

pub(super) fn secs(d: Duration) -> i64 {
    d.as_secs().min(i64::MAX as u64 / 4) as i64
}

/// Seconds from `now` to `at`, at least 0.
fn seconds_until(at: i64, now: i64) -> u64 {
    at.saturating_sub(now).max(0) as u64
}

impl LoginManager {
    pub(super) fn session_state(&self) -> Option<&Sessions> {
        self.inner.sessions.as_ref()
    }

    /// Whether the manager was built with sessions.
    pub fn sessions_enabled(&self) -> bool {
        self.inner.sessions.is_some()
    }

    /// Until when a revocation made at `now` must be kept: no token it refuses can outlive
    /// it (the longest access-token lifetime, plus the leeway).
    fn revocation_until(&self, sessions: &Sessions, now: i64) -> i64 {
        now + secs(sessions.settings.max_access_lifetime) + self.inner.leeway
    }

    /// Starts a session for `request` (a subject or a [`TokenRequest`]): a new refresh token
    /// and an access token carrying the session's id (`sid`). `user_agent` is recorded for
    /// [`list_sessions`](Self::list_sessions) ("where you're signed in"); give the request's
    /// `User-Agent` header, or `None`.
    pub async fn start_session(
        &self,
        request: impl Into<TokenRequest>,
        user_agent: Option<&str>,
    ) -> Result<SessionTokens, SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let prepared = self.prepare(request.into())?;
        let settings = &sessions.settings;
        // Read before minting: if "log out everywhere" runs between now and the store's write
        // (in the same second or not), the store sees another generation and keeps nothing.
        let logout_generation = sessions.store.logout_generation(&prepared.subject).await?;
        let now = self.now();
        let ends_at = settings.session_lifetime.map(|d| now + secs(d));
        let mut expires_at = now + secs(settings.refresh_lifetime);
        if let Some(end) = ends_at {
            expires_at = expires_at.min(end);
        }
        let session = Session {
            id: session::new_session_id(),
            subject: prepared.subject.clone(),
            scopes: prepared.scopes.clone(),
            extra: prepared.extra.clone(),
            created_at: now,
            refreshed_at: None,
            expires_at,
            ends_at,
            user_agent: session::clean_user_agent(user_agent),
            manager: sessions.owner.clone(),
        };
        let lifetime = access_lifetime(prepared.lifetime, ends_at, now);
        let (access_token, lifetime) = self.mint(&prepared, Some(&session.id), lifetime)?;
        let refresh_token = session::new_refresh_token();
        let session_id = session.id.clone();
        let new = NewSession {
            session,
            refresh: TokenHash::of(&refresh_token),
            logout_generation,
            max_sessions: settings.max_sessions,
            revoke_until: self.revocation_until(sessions, now),
        };
        sessions.store.create(new).await?;
        Ok(SessionTokens {
            access_token,
            expires_in: lifetime.as_secs(),
            refresh_token,
            refresh_expires_in: seconds_until(expires_at, now),
            session_id,
        })
    }

    /// The login route's answer: with sessions, a new session's [`TokenResponse`] with both
    /// tokens; without, the access token alone (as [`token_response`](Self::token_response)).
    pub async fn login_response(
        &self,
        request: impl Into<TokenRequest>,
        user_agent: Option<&str>,
    ) -> Result<TokenResponse, SessionError> {
        let request = request.into();
        if self.sessions_enabled() {
            Ok(self
                .start_session(request, user_agent)
                .await?
                .token_response())
        } else {
            Ok(self.token_response(request)?)
        }
    }

    /// Records a re-authentication (the user gave the password, and the second factor when
    /// they have one, again) in the session of `claims`, a verified access token: the
    /// session's `amr` becomes `amr` and its `auth_time` now, so that its later refreshes carry
    /// them, and the answer is a new access token of the same session that carries them too
    /// (`#[protected(fresh = "..")]` accepts it). The refresh token does not change, and no
    /// session starts.
    ///
    /// The new token expires when `claims`' does (so it never outlives the session's end); a
    /// refresh then gives a full-length one with the same `amr` and `auth_time`. Checking the
    /// password and the code is the caller's (see the `simple` example's `POST /reauth`).
    ///
    /// [`SessionError::NotLive`] (401) for a token of no session or of an ended one;
    /// `Disabled` without sessions; `Store` when the store fails (503), or cannot record a
    /// re-authentication.
    pub async fn reauthenticate<I, T>(
        &self,
        claims: &Claims,
        amr: I,
    ) -> Result<TokenResponse, SessionError>
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let sid = claims.sid.as_deref().ok_or(SessionError::NotLive)?;
        let now = self.now();
        let request = TokenRequest::new(claims.sub.clone())
            .scopes(claims.scopes.clone())
            .extra(&claims.extra)
            .amr(amr)
            .auth_time(now);
        let prepared = self.prepare(request)?;
        let methods: Vec<String> = match prepared.extra.get("amr") {
            Some(serde_json::Value::Array(methods)) => methods
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        if !sessions
            .store
            .reauthenticate(&claims.sub, sid, methods, now, now)
            .await?
        {
            return Err(SessionError::NotLive);
        }
        let lifetime = Duration::from_secs(seconds_until(claims.exp, now).max(1));
        let (access_token, lifetime) = self.mint(&prepared, Some(sid), lifetime)?;
        Ok(TokenResponse::new(access_token, lifetime))
    }

    /// Exchanges a refresh token for a new access token and a new refresh token of the same
    /// session (rotation; RFC 6749 §6). The presented token is consumed.
    ///
    /// - presented again within the grace window ([`refresh_grace`](crate::LoginManagerBuilder::refresh_grace))
    ///   while its successor is unused, it returns the same successor (two tabs refreshing at
    ///   once both stay signed in);
    /// - presented again later, it ends the whole session, its access tokens included, from
    ///   the next request on (reuse detection, RFC 9700 §4.14.2), and answers `InvalidGrant`;
    /// - unknown, malformed, oversized, expired or of an ended session: `InvalidGrant`, and
    ///   the store is not changed.
    pub async fn refresh(
        &self,
        refresh_token: &str,
        user_agent: Option<&str>,
    ) -> Result<SessionTokens, RefreshError> {
        let client = Client {
            address: None,
            user_agent: user_agent.map(str::to_owned),
        };
        self.refresh_with(refresh_token, &client).await
    }

    /// [`refresh`](Self::refresh) for `client` (its user agent is recorded in the session):
    /// a refresh token presented again is reported to the auth events hook
    /// ([`AuthEventKind::RefreshReuseDetected`]) with the session's id and the client.
    pub async fn refresh_with(
        &self,
        refresh_token: &str,
        client: &Client,
    ) -> Result<SessionTokens, RefreshError> {
        let user_agent = session::clean_user_agent(client.user_agent.as_deref());
        let sessions = self.session_state().ok_or(RefreshError::Disabled)?;
        if !session::is_refresh_token_shaped(refresh_token) {
            tracing::debug!(reason = "not a refresh token", "login: refresh refused");
            return Err(RefreshError::InvalidGrant);
        }
        let settings = &sessions.settings;
        let now = self.now();
        let successor = session::new_refresh_token();
        let grace =
            (!settings.grace.is_zero()).then(|| (successor.clone(), now + secs(settings.grace)));
        let rotation = Rotation {
            presented: TokenHash::of(refresh_token),
            successor: TokenHash::of(&successor),
            grace,
            now,
            expires_at: now + secs(settings.refresh_lifetime),
            user_agent: user_agent.clone(),
            revoke_until: self.revocation_until(sessions, now),
            // Another manager's session (a shared store) is `Invalid`, and nothing changes.
            manager: sessions.owner.clone(),
        };
        let (session, refresh_token) = match sessions.store.rotate(rotation).await? {
            Rotated::Rotated(session) => (session, successor),
            Rotated::Repeated {
                session,
                refresh_token,
            } => {
                tracing::debug!("login: refresh repeated within the grace window");
                (session, refresh_token)
            }
            Rotated::Reused { sid } => {
                tracing::warn!(
                    session = %sid,
                    "login: a rotated refresh token was presented again; the session is ended"
                );
                let mut event = self
                    .event(AuthEventKind::RefreshReuseDetected)
                    .with_client(client)
                    .with_session_id(sid);
                event.user_agent = user_agent;
                self.emit(event);
                return Err(RefreshError::InvalidGrant);
            }
            Rotated::Invalid => {
                tracing::debug!(reason = "unknown or expired", "login: refresh refused");
                return Err(RefreshError::InvalidGrant);
            }
        };
        let prepared = Prepared {
            subject: session.subject,
            scopes: session.scopes,
            extra: session.extra,
            lifetime: self.inner.lifetime,
        };
        let lifetime = access_lifetime(prepared.lifetime, session.ends_at, now);
        let (access_token, lifetime) = self.mint(&prepared, Some(&session.id), lifetime)?;
        Ok(SessionTokens {
            access_token,
            expires_in: lifetime.as_secs(),
            refresh_token,
            refresh_expires_in: seconds_until(session.expires_at, now),
            session_id: session.id,
        })
    }

    /// Ends one session ("log out this device"): its refresh token stops working and its
    /// access tokens are refused from the next request on. Returns whether it was live.
    pub async fn end_session(&self, session_id: &str) -> Result<bool, SessionError> {
        self.end_session_with(session_id, &Client::default()).await
    }

    /// [`end_session`](Self::end_session) for `client`: a live session ended is reported to
    /// the auth events hook ([`AuthEventKind::Logout`]) with its id and the client (not its
    /// subject, which the store does not return here).
    pub async fn end_session_with(
        &self,
        session_id: &str,
        client: &Client,
    ) -> Result<bool, SessionError> {
        self.end_one(session_id, None, client).await
    }

    /// Ends one session and reports it when it was live.
    async fn end_one(
        &self,
        session_id: &str,
        subject: Option<&str>,
        client: &Client,
    ) -> Result<bool, SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let now = self.now();
        let until = self.revocation_until(sessions, now);
        let live = sessions.store.end_session(session_id, now, until).await?;
        if live {
            let mut event = self
                .event(AuthEventKind::Logout)
                .with_client(client)
                .with_session_id(session_id);
            event.subject = subject.map(str::to_owned);
            self.emit(event);
        }
        Ok(live)
    }

    /// Logs out the device an access token belongs to: ends its session, or, for a token
    /// minted outside a session, revokes the token itself. Returns whether anything was live.
    pub async fn logout(&self, claims: &Claims) -> Result<bool, SessionError> {
        self.logout_with(claims, &Client::default()).await
    }

    /// [`logout`](Self::logout) for `client`: reported to the auth events hook
    /// ([`AuthEventKind::Logout`], once) with the token's subject, its session's id (or, for a
    /// token outside a session, its `jti`) and the client.
    pub async fn logout_with(
        &self,
        claims: &Claims,
        client: &Client,
    ) -> Result<bool, SessionError> {
        match (&claims.sid, &claims.jti) {
            (Some(sid), _) => self.end_one(sid, Some(&claims.sub), client).await,
            (None, Some(jti)) => {
                self.revoke(jti, claims.exp).await?;
                let event = self
                    .event(AuthEventKind::Logout)
                    .with_subject(claims.sub.as_str())
                    .with_client(client)
                    .with_token_id(jti.as_str());
                self.emit(event);
                Ok(true)
            }
            (None, None) => Ok(false),
        }
    }

    /// Ends the session a refresh token belongs to (its current one, or one already
    /// rotated). Returns whether there was a live session; an unknown token changes nothing.
    pub async fn logout_refresh_token(&self, refresh_token: &str) -> Result<bool, SessionError> {
        self.logout_refresh_token_with(refresh_token, &Client::default())
            .await
    }

    /// [`logout_refresh_token`](Self::logout_refresh_token) for `client`: a live session
    /// ended is reported to the auth events hook ([`AuthEventKind::Logout`]) with its subject,
    /// its id and the client.
    pub async fn logout_refresh_token_with(
        &self,
        refresh_token: &str,
        client: &Client,
    ) -> Result<bool, SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        if !session::is_refresh_token_shaped(refresh_token) {
            return Ok(false);
        }
        let now = self.now();
        match sessions
            .store
            .find(TokenHash::of(refresh_token), now)
            .await?
        {
            Some(session) => {
                self.end_one(&session.id, Some(&session.subject), client)
                    .await
            }
            None => Ok(false),
        }
    }

    /// "Log out everywhere": ends every session of `subject`, and refuses every token of it
    /// issued before now, those without `iat` included. Returns how many sessions were live.
    pub async fn end_all_sessions(&self, subject: &str) -> Result<usize, SessionError> {
        self.end_all_sessions_with(subject, &Client::default())
            .await
    }

    /// [`end_all_sessions`](Self::end_all_sessions) for `client`: reported to the auth events
    /// hook ([`AuthEventKind::LogoutEverywhere`], once, however many sessions were live) with
    /// the subject and the client.
    pub async fn end_all_sessions_with(
        &self,
        subject: &str,
        client: &Client,
    ) -> Result<usize, SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let now = self.now();
        let until = self.revocation_until(sessions, now);
        let ended = sessions.store.end_subject(subject, now, until).await?;
        let event = self
            .event(AuthEventKind::LogoutEverywhere)
            .with_subject(subject)
            .with_client(client);
        self.emit(event);
        Ok(ended)
    }

    /// Revokes one access token by its `jti`, until its `exp` (a time already past changes
    /// nothing).
    pub async fn revoke_access_token(&self, jti: &str, exp: i64) -> Result<(), SessionError> {
        self.revoke_access_token_with(jti, exp, &Client::default())
            .await
    }

    /// [`revoke_access_token`](Self::revoke_access_token) for `client`: reported to the auth
    /// events hook ([`AuthEventKind::TokenRevoked`]) with the `jti` and the client.
    pub async fn revoke_access_token_with(
        &self,
        jti: &str,
        exp: i64,
        client: &Client,
    ) -> Result<(), SessionError> {
        self.revoke(jti, exp).await?;
        let event = self
            .event(AuthEventKind::TokenRevoked)
            .with_client(client)
            .with_token_id(jti);
        self.emit(event);
        Ok(())
    }

    async fn revoke(&self, jti: &str, exp: i64) -> Result<(), SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let now = self.now();
        // The token is accepted until `exp` + leeway, so it is refused until then; and no token
        // can be valid after `revocation_until`, whatever `exp` says: it bounds the entry.
        let until = exp
            .saturating_add(self.inner.leeway)
            .min(self.revocation_until(sessions, now));
        if until > now {
            sessions.store.revoke_access_token(jti, until).await?;
        }
        Ok(())
    }

    /// The live sessions of `subject`, oldest first: when each started, when it was last
    /// refreshed, its user agent ("where you're signed in").
    pub async fn list_sessions(&self, subject: &str) -> Result<Vec<Session>, SessionError> {
        let sessions = self.session_state().ok_or(SessionError::Disabled)?;
        let mut all = sessions.store.sessions(subject, self.now()).await?;
        all.retain(|s| s.manager == sessions.owner);
        Ok(all)
    }

    /// How many revocations the in-process view holds (0 without sessions). Entries are
    /// dropped once no token they refuse can still be valid.
    pub fn revocations_in_view(&self) -> usize {
        self.session_state().map_or(0, |s| s.view.len())
    }

    /// Whether the in-process copy of the revocations can be trusted now (always without
    /// sessions, and with a store in this process). With a shared store, `false` once its
    /// change stream has been down longer than the store's staleness bound: protected
    /// requests then answer 503 until it is back.
    pub fn revocations_fresh(&self) -> bool {
        self.session_state().is_none_or(|s| s.view.is_fresh())
    }

    /// The refresh route's path (default `/refresh`), which is the refresh cookie's `Path`
    /// (but with [`cookie_host_prefix`](crate::LoginManagerBuilder::cookie_host_prefix): `/`).
    pub fn refresh_path(&self) -> Option<&str> {
        self.session_state()
            .map(|s| s.settings.refresh_path.as_str())
    }

    /// The refresh cookie's name (default `refresh-token`; `__Host-refresh-token` with
    /// [`cookie_host_prefix`](crate::LoginManagerBuilder::cookie_host_prefix)).
    pub fn refresh_cookie_name(&self) -> Option<&str> {
        self.session_state()
            .map(|s| s.settings.cookie_name.as_str())
    }

    /// The refresh cookie: `HttpOnly`, `Secure` (as the token cookie), `SameSite=Strict`,
    /// `Path` = the refresh route, `Max-Age` = `max_age`. `None` without sessions.
    ///
    /// With [`cookie_host_prefix`](crate::LoginManagerBuilder::cookie_host_prefix), it is a
    /// `__Host-` cookie like the token cookie: named `__Host-refresh-token`, with `Path=/` and
    /// no `Domain` (RFC 6265bis allows no other path for the prefix), so that no sibling
    /// subdomain can plant one.
    pub fn refresh_cookie(
        &self,
        token: impl Into<String>,
        max_age: Duration,
    ) -> Option<Cookie<'static>> {
        let sessions = self.session_state()?;
        let mut cookie = Cookie::build((sessions.settings.cookie_name.clone(), token.into()))
            .http_only(true)
            .secure(self.inner.cookie.secure)
            .same_site(SameSite::Strict)
            .path(sessions.settings.cookie_path.clone())
            .build();
        if let Some(domain) = &self.inner.cookie.domain {
            cookie.set_domain(domain.clone());
        }
        cookie.set_max_age(Some(
            time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX),
        ));
        Some(cookie)
    }

    /// Adds the cookies of a session to `jar`: the token cookie (with the access token's
    /// lifetime), when the manager reads the cookie, and the refresh cookie.
    pub fn set_session_cookies(&self, jar: CookieJar, tokens: &SessionTokens) -> CookieJar {
        let jar = if self.inner.sources.cookie.is_some() {
            jar.add(self.cookie_with_lifetime(
                tokens.access_token.clone(),
                Duration::from_secs(tokens.expires_in),
            ))
        } else {
            jar
        };
        match self.refresh_cookie(
            tokens.refresh_token.clone(),
            Duration::from_secs(tokens.refresh_expires_in),
        ) {
            Some(cookie) => jar.add(cookie),
            None => jar,
        }
    }

    /// Adds the cookies that clear the token cookie and (with sessions) the refresh cookie,
    /// each with the attributes that set it.
    pub fn clear_session_cookies(&self, jar: CookieJar) -> CookieJar {
        let jar = self.clear_cookie(jar);
        match self.refresh_cookie(String::new(), Duration::ZERO) {
            Some(cookie) => jar.add(cookie),
            None => jar,
        }
    }

    /// The refresh cookie's value in `jar`, if any (empty counts as none).
    pub fn refresh_cookie_value<'a>(&self, jar: &'a CookieJar) -> Option<&'a str> {
        let name = self.refresh_cookie_name()?;
        jar.get(name).map(|c| c.value()).filter(|v| !v.is_empty())
    }
}

/// An access token's lifetime in a session: the requested one, cut at the session's end.
fn access_lifetime(lifetime: Duration, ends_at: Option<i64>, now: i64) -> Duration {
    match ends_at {
        Some(end) => lifetime.min(Duration::from_secs(seconds_until(end, now).max(1))),
        None => lifetime,
    }
}
