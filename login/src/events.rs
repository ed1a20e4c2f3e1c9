//! Auth events: one hook, set on the manager's builder, told of every sign-in and sign-out the
//! library performs — a login that succeeded, failed or was throttled, a device token used, a
//! refresh token presented again (the session ended), a logout, "log out everywhere", an
//! access token revoked.
//!
//! ```
//! use login::LoginManager;
//! use login::events::{AuthEvent, AuthEventKind, AuthEvents};
//!
//! struct Audit;
//!
//! impl AuthEvents for Audit {
//!     fn record(&self, event: &AuthEvent) {
//!         if event.kind == AuthEventKind::RefreshReuseDetected {
//!             eprintln!("session {:?} ended: its refresh token was replayed", event.session_id);
//!         }
//!     }
//! }
//!
//! let manager = LoginManager::builder("/login")
//!     .secret("a-32-byte-or-longer-secret-from-env!")
//!     .sessions()
//!     .events(Audit)
//!     .build()?;
//! # Ok::<(), login::ConfigError>(())
//! ```
//!
//! Without a hook, the manager logs each event through `tracing` ([`TracingEvents`], target
//! `login::events`). An event carries what is known of who and where (the subject, the
//! client's address, its user agent, the session's id) and never a password, an access
//! token, a refresh token or a hash of one. Events are emitted by the login, refresh and
//! logout paths only, never on a protected request.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, header};

/// The `tracing` target of [`TracingEvents`]' lines.
pub const TARGET: &str = "login::events";

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthEventKind {
    /// A password login succeeded and its tokens were minted (its session started, with
    /// sessions on).
    LoginSucceeded,
    /// A password login failed: the client got the one "invalid credentials" answer, whatever
    /// the [`LoginFailure`].
    LoginFailed(LoginFailure),
    /// A login was refused before any password work, because of earlier failures.
    LoginThrottled,
    /// A password login was right for an account with a second factor: the `mfa_token` of
    /// the second step was handed out, no token yet (feature `mfa`).
    SecondFactorRequired,
    /// A login presented a valid device token for the account it names.
    DeviceTokenUsed,
    /// A refresh token already rotated was presented again: its session was ended, its access
    /// tokens included (reuse detection).
    RefreshReuseDetected,
    /// One session was ended ("log out this device"), or a token minted outside a session
    /// was logged out.
    Logout,
    /// Every session of a subject was ended, and its earlier tokens refused ("log out
    /// everywhere").
    LogoutEverywhere,
    /// One access token was revoked by its id.
    TokenRevoked,
}

/// Why a password login failed (server side only: the client sees no difference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginFailure {
    /// No account has the user name submitted.
    UnknownUser,
    /// The account exists but has no password (it cannot log in with one).
    NoPassword,
    /// The password does not match the account's.
    WrongPassword,
    /// The second step's code (TOTP or recovery code) is wrong or was already used.
    WrongCode,
}

impl AuthEventKind {
    /// A stable name, for a log field or a database column: `login_succeeded`,
    /// `login_failed`, `login_throttled`, `second_factor_required`, `device_token_used`,
    /// `refresh_reuse_detected`, `logout`, `logout_everywhere`, `token_revoked`.
    pub fn name(self) -> &'static str {
        match self {
            AuthEventKind::LoginSucceeded => "login_succeeded",
            AuthEventKind::LoginFailed(_) => "login_failed",
            AuthEventKind::LoginThrottled => "login_throttled",
            AuthEventKind::SecondFactorRequired => "second_factor_required",
            AuthEventKind::DeviceTokenUsed => "device_token_used",
            AuthEventKind::RefreshReuseDetected => "refresh_reuse_detected",
            AuthEventKind::Logout => "logout",
            AuthEventKind::LogoutEverywhere => "logout_everywhere",
            AuthEventKind::TokenRevoked => "token_revoked",
        }
    }
}

impl LoginFailure {
    /// A stable name: `unknown_user`, `no_password`, `wrong_password`, `wrong_code`.
    pub fn name(self) -> &'static str {
        match self {
            LoginFailure::UnknownUser => "unknown_user",
            LoginFailure::NoPassword => "no_password",
            LoginFailure::WrongPassword => "wrong_password",
            LoginFailure::WrongCode => "wrong_code",
        }
    }
}

impl fmt::Display for AuthEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event, with what is known of it. Fields are `None` where the action does not know
/// them (the table in the auth-events guide, `docs/auth-events.md`, says which).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthEvent {
    /// What happened.
    pub kind: AuthEventKind,
    /// When, in seconds since the Unix epoch (the manager's clock).
    pub at: i64,
    /// The account's subject (the token's `sub`).
    pub subject: Option<String>,
    /// The user name as submitted to a login (a failed login of an unknown user has no
    /// subject, only this), printable and at most 256 characters: it is the client's text.
    pub username: Option<String>,
    /// The client's address.
    pub address: Option<IpAddr>,
    /// The client's `User-Agent`, as a session records it (printable, at most 256
    /// characters).
    pub user_agent: Option<String>,
    /// The session's id (the `sid` claim of its access tokens).
    pub session_id: Option<String>,
    /// The access token's id (its `jti`), for a token revoked or logged out by id: an
    /// identifier, not a credential.
    pub token_id: Option<String>,
}

impl AuthEvent {
    /// An event of `kind` at `at`, with nothing else known (add it with the `with_` methods).
    pub fn new(kind: AuthEventKind, at: i64) -> Self {
        AuthEvent {
            kind,
            at,
            subject: None,
            username: None,
            address: None,
            user_agent: None,
            session_id: None,
            token_id: None,
        }
    }

    /// With the subject.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// With the user name submitted.
    pub fn with_username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// With the client's address and user agent.
    pub fn with_client(mut self, client: &Client) -> Self {
        self.address = client.address;
        self.user_agent = client.user_agent.clone();
        self
    }

    /// With the session's id.
    pub fn with_session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// With the access token's id (`jti`).
    pub fn with_token_id(mut self, token_id: impl Into<String>) -> Self {
        self.token_id = Some(token_id.into());
        self
    }
}

/// The hook that receives every [`AuthEvent`] of a manager: set it with
/// [`LoginManagerBuilder::events`](crate::LoginManagerBuilder::events).
///
/// `record` runs on the request's task, once per event, before the answer is sent: keep it
/// quick and never block (to write to a database, send the event to a channel that a task of
/// yours drains, as the `app` example does). Do the same work for every failed login, whatever
/// its [`LoginFailure`]: a hook that only does something for known accounts lets the answer's
/// time tell which accounts exist. The default, without a hook, is [`TracingEvents`].
pub trait AuthEvents: Send + Sync + 'static {
    /// Receives one event.
    fn record(&self, event: &AuthEvent);
}

impl<F> AuthEvents for F
where
    F: Fn(&AuthEvent) + Send + Sync + 'static,
{
    fn record(&self, event: &AuthEvent) {
        self(event)
    }
}

/// The default hook: one `tracing` event per auth event, target `login::events` ([`TARGET`]),
/// with the fields `event` (the kind's [`name`](AuthEventKind::name)), `reason` (a failed
/// login's), `subject`, `username`, `address`, `user_agent`, `session`, `token_id` where
/// known.
///
/// Levels: `info` for logins that succeeded, logouts and revocations; `warn` for failed and
/// throttled logins and a refresh token presented again (each is what a guessing run or a
/// stolen token looks like).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingEvents;

impl AuthEvents for TracingEvents {
    fn record(&self, event: &AuthEvent) {
        let name = event.kind.name();
        let reason = match event.kind {
            AuthEventKind::LoginFailed(reason) => Some(reason.name()),
            _ => None,
        };
        let subject = event.subject.as_deref();
        let username = event.username.as_deref();
        let address = event.address.map(tracing::field::display);
        let user_agent = event.user_agent.as_deref();
        let session = event.session_id.as_deref();
        let token_id = event.token_id.as_deref();
        macro_rules! log {
            ($level:ident) => {
                tracing::$level!(
                    target: TARGET,
                    event = name,
                    reason,
                    subject,
                    username,
                    address,
                    user_agent,
                    session,
                    token_id,
                    "login: {name}"
                )
            };
        }
        match event.kind {
            AuthEventKind::LoginFailed(_)
            | AuthEventKind::LoginThrottled
            | AuthEventKind::RefreshReuseDetected => log!(warn),
            _ => log!(info),
        }
    }
}

/// Who is at the other end of a request, for the events of the manager's session methods
/// that take one (`logout_with`, `end_all_sessions_with`, …): the client's address and its
/// user agent. An extractor that never fails; [`Client::default`] knows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's address: the socket's peer (axum's `ConnectInfo<SocketAddr>`, present
    /// when the app is served with `into_make_service_with_connect_info::<SocketAddr>()`).
    pub address: Option<IpAddr>,
    /// The request's `User-Agent` (one header, printable, at most 256 characters).
    pub user_agent: Option<String>,
}

impl Client {
    /// The client of a request, from its head.
    pub fn of(parts: &Parts) -> Client {
        Client::from_head(&parts.headers, &parts.extensions)
    }

    pub(crate) fn from_head(headers: &HeaderMap, extensions: &Extensions) -> Client {
        let mut agents = headers.get_all(header::USER_AGENT).iter();
        let user_agent = match (agents.next(), agents.next()) {
            (Some(agent), None) => agent.to_str().ok(),
            _ => None,
        };
        Client {
            address: client_address(headers, extensions),
            user_agent: crate::session::clean_user_agent(user_agent),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client::of(parts))
    }
}

/// The client's address of a request: the socket's peer, from axum's `ConnectInfo` (or the
/// `MockConnectInfo` of a test). Every reader of the address (the login route, the refresh
/// extractor, [`Client`]) calls this one function; forwarding headers (`X-Forwarded-For`,
/// `Forwarded`) are not read, so `headers` is unused until trusted proxies are configured.
pub(crate) fn client_address(_headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .or_else(|| {
            extensions
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|MockConnectInfo(addr)| addr.ip())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_read_from_the_socket_and_one_user_agent() {
        let mut request = axum::http::Request::builder()
            .header("user-agent", "curl/8\t")
            .header("x-forwarded-for", "203.0.113.9")
            .body(())
            .unwrap();
        let addr: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
        let (parts, ()) = request.into_parts();
        let client = Client::of(&parts);
        assert_eq!(client.address, Some(addr.ip()));
        assert_eq!(client.user_agent.as_deref(), Some("curl/8"));

        let request = axum::http::Request::builder()
            .header("user-agent", "a")
            .header("user-agent", "b")
            .body(())
            .unwrap();
        let (parts, ()) = request.into_parts();
        assert_eq!(Client::of(&parts), Client::default());
    }

    #[test]
    fn kinds_have_stable_names() {
        let kinds = [
            AuthEventKind::LoginSucceeded,
            AuthEventKind::LoginFailed(LoginFailure::WrongPassword),
            AuthEventKind::LoginThrottled,
            AuthEventKind::SecondFactorRequired,
            AuthEventKind::DeviceTokenUsed,
            AuthEventKind::RefreshReuseDetected,
            AuthEventKind::Logout,
            AuthEventKind::LogoutEverywhere,
            AuthEventKind::TokenRevoked,
        ];
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        assert_eq!(
            names,
            [
                "login_succeeded",
                "login_failed",
                "login_throttled",
                "second_factor_required",
                "device_token_used",
                "refresh_reuse_detected",
                "logout",
                "logout_everywhere",
                "token_revoked"
            ]
        );
        assert_eq!(LoginFailure::UnknownUser.name(), "unknown_user");
        assert_eq!(LoginFailure::WrongCode.name(), "wrong_code");
    }
}
