//! The token endpoint of the OAuth2 password grant (RFC 6749 §4.3), so that an app's login
//! route is a few lines:
//!
//! ```
//! use axum::{extract::State, response::Response};
//! use login::{LoginAccount, LoginError, LoginManager, PasswordGrant, password::Passwords};
//!
//! #[derive(Clone)]
//! struct User { email: String, password_hash: String, scopes: Vec<String> }
//!
//! impl LoginAccount for User {
//!     fn subject(&self) -> String { self.email.clone() }
//!     fn password_hash(&self) -> Option<&str> { Some(&self.password_hash) }
//!     fn allowed_scopes(&self) -> Vec<String> { self.scopes.clone() }
//! }
//!
//! # async fn find_user(_: &str) -> Option<User> { None }
//! async fn login(
//!     State(manager): State<LoginManager>,
//!     grant: PasswordGrant,
//! ) -> Result<Response, LoginError> {
//!     let user = find_user(grant.username()).await;
//!     let login = grant.authenticate(&Passwords::default(), user).await?;
//!     login.token_response(&manager).await
//! }
//! ```
//!
//! What it does for you, in order:
//!
//! 1. **Reads the form** ([`OAuth2PasswordForm`], which answers a malformed request with an
//!    RFC 6749 §5.2 JSON error, never echoing the password) and refuses a `grant_type` other
//!    than `password` (`unsupported_grant_type`).
//! 2. **Checks the password with equal work**: an unknown user, or an account without a
//!    password, is checked against [`Passwords`]' dummy hash, so every failed login costs one
//!    hash and gets the same 401. A store error is the store's own response (a 5xx), never a
//!    401.
//! 3. **Grants scopes**: the requested scopes ∩ the account's [`allowed_scopes`] ∩ the
//!    manager's known scopes (when it declares any); with no scope requested, every allowed
//!    (and known) scope. A requested scope that is not granted is dropped; the token
//!    response then carries the granted `scope` (RFC 6749 §5.1). When scopes were requested
//!    and none can be granted, the answer is 400 `invalid_scope` (RFC 6749 §3.3 has no
//!    empty scope to answer with); with none requested and none allowed, the token carries
//!    no scope and the answer no `scope` member.
//! 4. **Rehashes** a password hash made with older parameters
//!    ([`Authenticated::new_password_hash`]: store it).
//! 5. **Mints**: [`Authenticated::token_response`] for API clients,
//!    [`Authenticated::set_cookies`] for browsers. With sessions on (see the sessions
//!    guide, `docs/sessions.md`), both start a session: the response carries a `refresh_token` too, and the
//!    cookies include the refresh cookie. The request's `User-Agent` is recorded with the
//!    session.
//! 6. **Reports** to the manager's auth events hook ([`login::events`](crate::events)): the
//!    login that succeeded when its tokens are minted, and, through
//!    [`PasswordGrant::authenticate_for`], the login that failed (with its reason, which the
//!    client never sees).
//!
//! [`allowed_scopes`]: LoginAccount::allowed_scopes

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde_json::json;

use crate::error::TokenError;
use crate::events::{AuthEventKind, Client, LoginFailure};
use crate::loader::LoaderOutput;
use crate::manager::{AsLoginManager, LoginManager, TokenRequest};
use crate::password::{PasswordError, Passwords};
use crate::rejection::{RejectionKind, default_response};
use crate::session::{SessionError, SessionTokens};
use crate::throttle::{Refusal, Ticket};

use crate::oauth2::OAuth2PasswordForm;

/// What the token endpoint needs to know about a user account.
pub trait LoginAccount {
    /// The token's subject (`sub`): what your `#[user_loader]` receives.
    fn subject(&self) -> String;

    /// The stored password hash (a PHC string from [`login::password`](crate::password), or an
    /// existing bcrypt hash with the `bcrypt` feature's `WithBcrypt`), or `None` for an account that cannot log in with a password (it is then checked against
    /// the dummy hash, like an unknown user).
    fn password_hash(&self) -> Option<&str>;

    /// The scopes this account may be granted. The default is none: a token endpoint never
    /// grants a scope nobody allowed.
    fn allowed_scopes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The password grant's request: the login form, read, checked, and let through by the
/// manager's login throttle.
///
/// Extract it as a handler argument (it reads the body, so it comes last), look the user up
/// with [`username`](Self::username), then call [`authenticate`](Self::authenticate).
///
/// `M` is the manager whose throttle judges the attempt (`PasswordGrant<Admins>` for a second
/// manager; the state must give it through `FromRef`). Unless the throttle is off
/// ([`login::throttle`](crate::throttle)), the extractor counts the attempt as a failure
/// before any password work, and answers [`LoginError::Throttled`] (429) while the account,
/// the client's address or the pair is in back-off, and a 503 when the counters' store
/// fails.
pub struct PasswordGrant<M = LoginManager> {
    form: OAuth2PasswordForm,
    user_agent: Option<String>,
    address: Option<IpAddr>,
    ticket: Option<Ticket>,
    manager: PhantomData<fn() -> M>,
}

impl<M> Clone for PasswordGrant<M> {
    fn clone(&self) -> Self {
        PasswordGrant {
            form: self.form.clone(),
            user_agent: self.user_agent.clone(),
            address: self.address,
            ticket: self.ticket.clone(),
            manager: PhantomData,
        }
    }
}

impl<M> std::fmt::Debug for PasswordGrant<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("form", &self.form)
            .field("user_agent", &self.user_agent)
            .field("throttled", &self.ticket.is_some())
            .finish()
    }
}

impl<S, M> FromRequest<S> for PasswordGrant<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = LoginError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Recorded with the session, for "where you're signed in" (one header, or none).
        let mut agents = request.headers().get_all(header::USER_AGENT).iter();
        let user_agent = match (agents.next(), agents.next()) {
            (Some(agent), None) => agent.to_str().ok().map(str::to_owned),
            _ => None,
        };
        let handle = M::from_ref(state);
        let manager = handle.login_manager();
        let guard = manager.throttle_guard().cloned();
        // The socket's peer (axum's `ConnectInfo`, or `MockConnectInfo` in tests), and the
        // client's address through the trusted proxies when the throttle is on: what it
        // counts and the auth events report.
        let peer = crate::events::client_address(request.headers(), request.extensions());
        let (address, devices) = match &guard {
            Some(guard) => (
                guard.client(peer, request.headers()),
                guard.device_tokens(request.headers()),
            ),
            None => (peer, Vec::new()),
        };
        let form = OAuth2PasswordForm::from_request(request, state).await?;
        match form.grant_type.as_deref() {
            // fastapi's OAuth2PasswordRequestForm accepts a missing grant_type too.
            None | Some("password") => {}
            Some(_) => return Err(LoginError::UnsupportedGrantType),
        }
        let ticket = match guard {
            None => None,
            Some(guard) => {
                let now = manager.now();
                match guard.attempt(&form.username, address, &devices, now).await {
                    Ok(ticket) => Some(ticket),
                    // The throttled moment: refused before any password work, whatever the
                    // password and whether or not the account exists.
                    Err(Refusal::Throttled(retry_after)) => {
                        tracing::debug!(retry_after, "login throttled");
                        let client = Client {
                            address,
                            user_agent: crate::session::clean_user_agent(user_agent.as_deref()),
                        };
                        let mut event = manager
                            .event(AuthEventKind::LoginThrottled)
                            .with_client(&client);
                        event.username = crate::session::clean_user_agent(Some(&form.username));
                        manager.emit(event);
                        return Err(LoginError::Throttled { retry_after });
                    }
                    Err(Refusal::Store(error)) => {
                        return Err(LoginError::Session(SessionError::Store(error)));
                    }
                }
            }
        };
        if ticket.as_ref().is_some_and(Ticket::by_device) {
            let client = Client {
                address,
                user_agent: crate::session::clean_user_agent(user_agent.as_deref()),
            };
            let mut event = manager
                .event(AuthEventKind::DeviceTokenUsed)
                .with_client(&client);
            event.username = crate::session::clean_user_agent(Some(&form.username));
            manager.emit(event);
        }
        Ok(PasswordGrant {
            form,
            user_agent,
            address,
            ticket,
            manager: PhantomData,
        })
    }
}

impl PasswordGrant {
    /// Wraps a form you extracted yourself. Such a grant is not throttled (the extractor is
    /// what consults the throttle): prefer extracting `PasswordGrant`.
    pub fn new(form: OAuth2PasswordForm) -> Self {
        PasswordGrant {
            form,
            user_agent: None,
            address: None,
            ticket: None,
            manager: PhantomData,
        }
    }
}

impl<M> PasswordGrant<M> {
    /// Records `user_agent` with the session a login starts (the extractor reads the
    /// request's `User-Agent`).
    pub fn with_user_agent(mut self, user_agent: Option<String>) -> Self {
        self.user_agent = user_agent;
        self
    }

    /// Reports `address` as the client's in the login's auth events (the extractor reads the
    /// socket's peer, from axum's `ConnectInfo<SocketAddr>`).
    pub fn with_address(mut self, address: Option<IpAddr>) -> Self {
        self.address = address;
        self
    }

    /// The user name the client sent (look the account up with it).
    pub fn username(&self) -> &str {
        &self.form.username
    }

    /// The scopes the client asked for (none means "every scope the account may have").
    pub fn requested_scopes(&self) -> &[String] {
        &self.form.scope
    }

    /// The whole form.
    pub fn form(&self) -> &OAuth2PasswordForm {
        &self.form
    }

    /// Checks the password against `account`, the lookup's result for
    /// [`username`](Self::username): `Option<A>`, or `Result<Option<A>, E>` where `E` is the
    /// store's error response (what a `#[user_loader]` function returns).
    ///
    /// Exactly one password verification on every path that reaches it; out-of-bounds
    /// passwords (empty, over 1024 bytes) are refused before any hashing.
    ///
    /// A failed login is reported to no auth events hook (this method knows no manager):
    /// [`authenticate_for`](Self::authenticate_for) reports it. The login that succeeds is
    /// reported either way, when [`Authenticated`] mints.
    pub async fn authenticate<A, L>(
        self,
        passwords: &Passwords,
        account: L,
    ) -> Result<Authenticated<A>, LoginError>
    where
        A: LoginAccount,
        L: LoaderOutput<User = A>,
    {
        self.check(None, passwords, account).await
    }

    /// [`authenticate`](Self::authenticate), reporting a failed login (wrong password, unknown
    /// user, an account without a password) to `manager`'s auth events hook as
    /// [`AuthEventKind::LoginFailed`], with the user name submitted, the subject when the
    /// account exists, and the client's address and user agent. The client's answer is the
    /// same 401 in every case.
    pub async fn authenticate_for<A, L>(
        self,
        manager: &LoginManager,
        passwords: &Passwords,
        account: L,
    ) -> Result<Authenticated<A>, LoginError>
    where
        A: LoginAccount,
        L: LoaderOutput<User = A>,
    {
        self.check(Some(manager), passwords, account).await
    }

    async fn check<A, L>(
        self,
        manager: Option<&LoginManager>,
        passwords: &Passwords,
        account: L,
    ) -> Result<Authenticated<A>, LoginError>
    where
        A: LoginAccount,
        L: LoaderOutput<User = A>,
    {
        let account = account
            .into_load_result()
            .map_err(|response| LoginError::Store(Box::new(response)))?;
        let stored = account.as_ref().and_then(LoginAccount::password_hash);
        let matched = match passwords.verify(&self.form.password, stored).await {
            Ok(matched) => matched,
            Err(error) => {
                // Too many logins in progress (503): the password was not judged, so the
                // attempt is not a failure.
                if let (PasswordError::Busy, Some(ticket)) = (&error, &self.ticket) {
                    ticket.not_judged().await;
                }
                return Err(LoginError::Password(error));
            }
        };
        let account = match account {
            Some(account) if matched => account,
            account => {
                if let Some(manager) = manager {
                    let reason = match &account {
                        None => LoginFailure::UnknownUser,
                        Some(a) if a.password_hash().is_none() => LoginFailure::NoPassword,
                        Some(_) => LoginFailure::WrongPassword,
                    };
                    let mut event = manager
                        .event(AuthEventKind::LoginFailed(reason))
                        .with_client(&self.client());
                    event.subject = account.as_ref().map(LoginAccount::subject);
                    // Printable and bounded, as a user agent: it goes to logs.
                    event.username = crate::session::clean_user_agent(Some(self.username()));
                    manager.emit(event);
                }
                return Err(LoginError::InvalidCredentials);
            }
        };
        if let Some(ticket) = &self.ticket {
            ticket.succeeded().await;
        }
        let new_password_hash = match account.password_hash() {
            Some(stored) if passwords.needs_rehash(stored) => {
                match passwords.hash(&self.form.password).await {
                    Ok(hash) => Some(hash),
                    Err(error) => {
                        // The login itself succeeded; the upgrade waits for the next one.
                        tracing::warn!(%error, "login: could not rehash an outdated password hash");
                        None
                    }
                }
            }
            _ => None,
        };
        let allowed = account.allowed_scopes();
        let granted: Vec<String> = if self.form.scope.is_empty() {
            allowed
        } else {
            self.form
                .scope
                .iter()
                .filter(|scope| allowed.contains(scope))
                .cloned()
                .collect()
        };
        let client = self.client();
        Ok(Authenticated {
            account,
            requested: self.form.scope,
            scopes: granted,
            new_password_hash,
            user_agent: self.user_agent,
            client,
            ticket: self.ticket,
        })
    }

    /// The client, as the auth events report it.
    fn client(&self) -> Client {
        Client {
            address: self.address,
            user_agent: crate::session::clean_user_agent(self.user_agent.as_deref()),
        }
    }
}

/// A successful login: the account, the scopes to grant, and a fresh password hash when the
/// stored one was outdated. Its `Debug` leaves the new hash out.
pub struct Authenticated<A> {
    account: A,
    requested: Vec<String>,
    scopes: Vec<String>,
    new_password_hash: Option<String>,
    user_agent: Option<String>,
    client: Client,
    ticket: Option<Ticket>,
}

impl<A: std::fmt::Debug> std::fmt::Debug for Authenticated<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("account", &self.account)
            .field("requested", &self.requested)
            .field("scopes", &self.scopes)
            .field(
                "new_password_hash",
                &self.new_password_hash.as_ref().map(|_| "***"),
            )
            .field("user_agent", &self.user_agent)
            .field("address", &self.client.address)
            .finish()
    }
}

impl<A: LoginAccount> Authenticated<A> {
    /// The account that logged in.
    pub fn account(&self) -> &A {
        &self.account
    }

    /// The account, consumed.
    pub fn into_account(self) -> A {
        self.account
    }

    /// A new hash of the password, when the stored one was made with older parameters or
    /// another scheme: store it in place of the old one.
    pub fn new_password_hash(&self) -> Option<&str> {
        self.new_password_hash.as_deref()
    }

    /// The scopes to grant with `manager`: the requested (or, with none requested, the
    /// allowed) scopes that the manager knows — all of them when it declares none.
    pub fn scopes(&self, manager: &LoginManager) -> Vec<String> {
        let known: Vec<&str> = manager.scopes().map(|(name, _)| name).collect();
        self.scopes
            .iter()
            .filter(|scope| known.is_empty() || known.contains(&scope.as_str()))
            .cloned()
            .collect()
    }

    /// The token request for this login: the account's subject and the granted scopes.
    /// (The answers below refuse a login whose requested scopes are all refused; a token
    /// minted from this request directly would carry no scope.)
    pub fn token_request(&self, manager: &LoginManager) -> TokenRequest {
        TokenRequest::new(self.account.subject()).scopes(self.scopes(manager))
    }

    /// The granted scopes, or `invalid_scope` when scopes were requested and none can be
    /// granted. RFC 6749 §5.1 requires `scope` in the answer when the grant differs from the
    /// request, and §3.3's grammar has no empty scope: there is no honest answer but the
    /// error (a client asking only for `write` must not get a token that cannot write).
    fn granted(&self, manager: &LoginManager) -> Result<Vec<String>, LoginError> {
        let granted = self.scopes(manager);
        if granted.is_empty() && !self.requested.is_empty() {
            tracing::debug!("login: none of the requested scopes can be granted");
            return Err(LoginError::InvalidScope);
        }
        Ok(granted)
    }

    /// Mints and answers with the token response (`access_token`, `token_type`,
    /// `expires_in`; `refresh_token` when the manager has sessions, which starts one; `scope`
    /// when fewer scopes were granted than requested), `Cache-Control: no-store`.
    pub async fn token_response(&self, manager: &LoginManager) -> Result<Response, LoginError> {
        let granted = self.granted(manager)?;
        let narrowed = !self.requested.is_empty() && granted != self.requested;
        let request = TokenRequest::new(self.account.subject()).scopes(granted.clone());
        // `LoginManager::login_response`, keeping the session's id for the event.
        let (mut response, session_id) = if manager.sessions_enabled() {
            let tokens = manager
                .start_session(request, self.user_agent.as_deref())
                .await
                .map_err(LoginError::Session)?;
            let session_id = tokens.session_id.clone();
            (tokens.token_response(), Some(session_id))
        } else {
            let response = manager
                .token_response(request)
                .map_err(|e| LoginError::Session(e.into()))?;
            (response, None)
        };
        self.succeeded(manager, session_id);
        if narrowed {
            response.scope = Some(granted.join(" "));
        }
        let mut response = response.into_response();
        if let Some(cookie) = self.device_cookie(manager)
            && let Ok(value) = HeaderValue::from_str(&cookie.to_string())
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        Ok(response)
    }

    /// The device-token cookie for this login (see [`login::throttle`](crate::throttle)):
    /// a signed token bound to the account, `HttpOnly`, named `device-token` (with the
    /// `__Host-` prefix when the token cookie has it). A later login presenting it is judged
    /// by the device's own counter, so an attacker keeping the account in back-off does not
    /// keep this client out. [`token_response`](Self::token_response) and
    /// [`set_cookies`](Self::set_cookies) add it themselves; add it to an answer of your own.
    /// `None` when the login was not throttled.
    pub fn device_cookie(&self, manager: &LoginManager) -> Option<crate::cookie::Cookie<'static>> {
        let ticket = self.ticket.as_ref()?;
        let guard = ticket.guard();
        let token = ticket.device_token(manager.now());
        Some(manager.device_cookie(guard.device_cookie_name(), token, guard.device_lifetime()))
    }

    /// Mints and adds the login's cookies to `jar` (for browser logins; return the jar from
    /// the handler): the manager's token cookie, and with sessions (which starts one) the
    /// refresh cookie.
    pub async fn set_cookies(
        &self,
        manager: &LoginManager,
        jar: CookieJar,
    ) -> Result<CookieJar, LoginError> {
        let jar = match self.device_cookie(manager) {
            Some(cookie) => jar.add(cookie),
            None => jar,
        };
        if manager.sessions_enabled() {
            let tokens = self.start_session(manager).await?;
            return Ok(manager.set_session_cookies(jar, &tokens));
        }
        let request = TokenRequest::new(self.account.subject()).scopes(self.granted(manager)?);
        let token = manager
            .create_access_token(request)
            .map_err(LoginError::Mint)?;
        self.succeeded(manager, None);
        Ok(manager.set_cookie(jar, token))
    }

    /// Starts a session for this login (the manager must have sessions): both tokens, for
    /// an answer of your own.
    pub async fn start_session(&self, manager: &LoginManager) -> Result<SessionTokens, LoginError> {
        let request = TokenRequest::new(self.account.subject()).scopes(self.granted(manager)?);
        let tokens = manager
            .start_session(request, self.user_agent.as_deref())
            .await
            .map_err(LoginError::Session)?;
        self.succeeded(manager, Some(tokens.session_id.clone()));
        Ok(tokens)
    }

    /// Reports the login to the manager's auth events hook, once its tokens are minted.
    fn succeeded(&self, manager: &LoginManager, session_id: Option<String>) {
        let mut event = manager
            .event(AuthEventKind::LoginSucceeded)
            .with_subject(self.account.subject())
            .with_client(&self.client);
        event.session_id = session_id;
        manager.emit(event);
    }
}

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
            LoginError::Session(error) => {
                tracing::error!(%error, "login: could not start a session");
                error.into_response()
            }
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
        match axum::Form::<OAuth2PasswordForm>::from_request(request, state).await {
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
                        "the form needs a `username` and a `password`"
                    } else if text.contains("duplicate field") {
                        "a form field appears more than once"
                    } else {
                        "the form could not be read"
                    },
                ))
            }
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
