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

mod error;

pub use error::LoginError;
#[cfg(feature = "mfa")]
pub(crate) use error::read_form;

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::events::{AuthEventKind, Client, LoginFailure};
use crate::loader::LoaderOutput;
use crate::manager::{AsLoginManager, LoginManager, TokenRequest};
use crate::password::{PasswordError, Passwords};
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

    /// The second factors this account has turned on (feature `mfa`): none by default. With
    /// any, a right password answers 403 `mfa_required` with an `mfa_token` instead of
    /// tokens, and the login finishes at the second step ([`login::mfa`](crate::mfa)).
    #[cfg(feature = "mfa")]
    fn second_factors(&self) -> Vec<SecondFactor> {
        Vec::new()
    }
}

/// A second factor an account can finish a login with (feature `mfa`), as the `methods` of
/// the `mfa_required` answer name it.
#[cfg(feature = "mfa")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SecondFactor {
    /// A TOTP code from an authenticator app (`totp`).
    Totp,
    /// One of the account's single-use recovery codes (`recovery_code`).
    RecoveryCode,
}

#[cfg(feature = "mfa")]
impl SecondFactor {
    /// The name in the `methods` of the `mfa_required` answer: `totp`, `recovery_code`.
    pub fn name(self) -> &'static str {
        match self {
            SecondFactor::Totp => "totp",
            SecondFactor::RecoveryCode => "recovery_code",
        }
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
        let handle = M::from_ref(state);
        let manager = handle.login_manager();
        let attempt = Attempt::read(request.headers(), request.extensions(), manager);
        let form = OAuth2PasswordForm::from_request(request, state).await?;
        match form.grant_type.as_deref() {
            // fastapi's OAuth2PasswordRequestForm accepts a missing grant_type too.
            None | Some("password") => {}
            Some(_) => return Err(LoginError::UnsupportedGrantType),
        }
        // The throttled moment: refused before any password work, whatever the password and
        // whether or not the account exists.
        let ticket = attempt
            .judge(manager, &form.username, || {
                let kind = AuthEventKind::LoginThrottled;
                report_attempt(manager, kind, &form.username, &attempt);
            })
            .await?;
        if ticket.as_ref().is_some_and(Ticket::by_device) {
            let kind = AuthEventKind::DeviceTokenUsed;
            report_attempt(manager, kind, &form.username, &attempt);
        }
        Ok(PasswordGrant {
            form,
            user_agent: attempt.user_agent,
            address: attempt.address,
            ticket,
            manager: PhantomData,
        })
    }
}

/// What a login route's extractor reads before the body: the user agent (recorded with the
/// session, for "where you're signed in": one header, or none), the client's address (the
/// socket's peer, axum's `ConnectInfo` or `MockConnectInfo` in tests, through the trusted
/// proxies when the throttle is on: what it counts and the auth events report), the device
/// tokens presented, and the manager's login throttle.
pub(crate) struct Attempt {
    pub(crate) user_agent: Option<String>,
    pub(crate) address: Option<IpAddr>,
    devices: Vec<String>,
    guard: Option<std::sync::Arc<crate::throttle::Guard>>,
}

impl Attempt {
    pub(crate) fn read(
        headers: &axum::http::HeaderMap,
        extensions: &axum::http::Extensions,
        manager: &LoginManager,
    ) -> Self {
        let mut agents = headers.get_all(header::USER_AGENT).iter();
        let user_agent = match (agents.next(), agents.next()) {
            (Some(agent), None) => agent.to_str().ok().map(str::to_owned),
            _ => None,
        };
        let guard = manager.throttle_guard().cloned();
        let peer = crate::events::client_address(headers, extensions);
        let (address, devices) = match &guard {
            Some(guard) => (guard.client(peer, headers), guard.device_tokens(headers)),
            None => (peer, Vec::new()),
        };
        Attempt {
            user_agent,
            address,
            devices,
            guard,
        }
    }

    /// The client, as the auth events report it.
    pub(crate) fn client(&self) -> Client {
        Client {
            address: self.address,
            user_agent: crate::session::clean_user_agent(self.user_agent.as_deref()),
        }
    }

    /// Asks the login throttle about an attempt on the account `key` (counted as a failure
    /// until it succeeds): `None` with the throttle off; [`LoginError::Throttled`] (429, after
    /// `throttled` reported it) while in back-off; a store error (503).
    pub(crate) async fn judge(
        &self,
        manager: &LoginManager,
        key: &str,
        throttled: impl FnOnce(),
    ) -> Result<Option<Ticket>, LoginError> {
        let Some(guard) = &self.guard else {
            return Ok(None);
        };
        match guard
            .attempt(key, self.address, &self.devices, manager.now())
            .await
        {
            Ok(ticket) => Ok(Some(ticket)),
            Err(Refusal::Throttled(retry_after)) => {
                tracing::debug!(retry_after, "login throttled");
                throttled();
                Err(LoginError::Throttled { retry_after })
            }
            Err(Refusal::Store(error)) => Err(LoginError::Session(SessionError::Store(error))),
        }
    }
}

/// Reports what the throttle decided about an attempt (before any account is looked up: the
/// user name as submitted, printable and bounded since it goes to logs, and the client).
fn report_attempt(manager: &LoginManager, kind: AuthEventKind, username: &str, attempt: &Attempt) {
    let mut event = manager.event(kind).with_client(&attempt.client());
    event.username = crate::session::clean_user_agent(Some(username));
    manager.emit(event);
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
        // With a second factor the login is not over: the attempt stays counted as a failure
        // until the second step succeeds (so that guessing codes is throttled too).
        #[cfg(feature = "mfa")]
        let finished = account.second_factors().is_empty();
        #[cfg(not(feature = "mfa"))]
        let finished = true;
        if let (Some(ticket), true) = (&self.ticket, finished) {
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
            username: self.form.username,
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
    /// The user name as submitted (the login throttle's account key, which the second step
    /// of a two-step login counts on).
    #[cfg_attr(not(feature = "mfa"), allow(dead_code))]
    username: String,
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

    /// The token request for this login: the account's subject, the granted scopes, `amr`
    /// `["pwd"]` and `auth_time` now, by the manager's clock, just after the password was
    /// checked (OpenID Connect's claims, which `#[protected(fresh = "..")]` and
    /// `#[protected(factors = [..])]` check).
    /// (The answers below refuse a login whose requested scopes are all refused; a token
    /// minted from this request directly would carry no scope.)
    pub fn token_request(&self, manager: &LoginManager) -> TokenRequest {
        self.request(manager, self.scopes(manager))
    }

    /// The request for `scopes`: the subject, `amr` and `auth_time` of this login.
    fn request(&self, manager: &LoginManager, scopes: Vec<String>) -> TokenRequest {
        TokenRequest::new(self.account.subject())
            .scopes(scopes)
            .amr(["pwd"])
            .auth_time(manager.now())
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
        self.second_step(manager, &granted)?;
        let narrowed = !self.requested.is_empty() && granted != self.requested;
        let request = self.request(manager, granted.clone());
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
        let granted = self.granted(manager)?;
        self.second_step(manager, &granted)?;
        let request = self.request(manager, granted);
        let token = manager
            .create_access_token(request)
            .map_err(LoginError::Mint)?;
        self.succeeded(manager, None);
        Ok(manager.set_cookie(jar, token))
    }

    /// Starts a session for this login (the manager must have sessions): both tokens, for
    /// an answer of your own.
    pub async fn start_session(&self, manager: &LoginManager) -> Result<SessionTokens, LoginError> {
        let granted = self.granted(manager)?;
        self.second_step(manager, &granted)?;
        let request = self.request(manager, granted);
        let tokens = manager
            .start_session(request, self.user_agent.as_deref())
            .await
            .map_err(LoginError::Session)?;
        self.succeeded(manager, Some(tokens.session_id.clone()));
        Ok(tokens)
    }

    /// With a second factor (feature `mfa`), the first step ends here: the `mfa_token` for the
    /// second, as [`LoginError::MfaRequired`] (403 `mfa_required`); no token, no session.
    #[cfg_attr(
        not(feature = "mfa"),
        allow(clippy::unused_self, clippy::unnecessary_wraps)
    )]
    fn second_step(&self, manager: &LoginManager, granted: &[String]) -> Result<(), LoginError> {
        #[cfg(feature = "mfa")]
        {
            let factors = self.account.second_factors();
            if !factors.is_empty() {
                let subject = self.account.subject();
                let mfa_token = manager
                    .mint_mfa_token(&subject, &self.username, granted)
                    .map_err(LoginError::Mint)?;
                let event = manager
                    .event(AuthEventKind::SecondFactorRequired)
                    .with_subject(subject)
                    .with_client(&self.client);
                manager.emit(event);
                return Err(LoginError::MfaRequired {
                    mfa_token,
                    methods: factors.into_iter().map(SecondFactor::name).collect(),
                });
            }
        }
        #[cfg(not(feature = "mfa"))]
        let _ = (manager, granted);
        Ok(())
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
