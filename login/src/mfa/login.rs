//! The second step of a two-step login: [`MfaGrant`] reads and checks the `mfa_token` and the
//! code, [`MfaGrant::verify`] checks the code against the account ([`MfaAccount`]), and
//! [`SecondStep`] mints the tokens, once.

use std::marker::PhantomData;
use std::net::IpAddr;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::{MfaError, RecoveryCodes, RecoveryHash, TotpSecret};
use crate::error::VerifyError;
use crate::events::{AuthEventKind, Client, LoginFailure};
use crate::loader::LoaderOutput;
use crate::login_route::{Attempt, LoginAccount, LoginError, read_form};
use crate::manager::mfa_token::MfaTicket;
use crate::manager::{AsLoginManager, LoginManager, TokenRequest};
use crate::session::{SessionError, SessionTokens, StoreError};
use crate::throttle::Ticket;

pub use crate::login_route::SecondFactor;

/// What the second step needs to know about an account with a second factor: its TOTP
/// secret, the last TOTP step accepted, and its unused recovery codes' hashes. Say which
/// factors are on with [`LoginAccount::second_factors`], which makes the password step answer
/// `mfa_required`.
pub trait MfaAccount: LoginAccount {
    /// The account's confirmed TOTP secret, when TOTP is on.
    fn totp_secret(&self) -> Option<TotpSecret>;

    /// The last TOTP step accepted for this account ([`TotpSecret::verify`]'s answer, which
    /// the app stores), so that no code is accepted twice.
    fn totp_last_step(&self) -> Option<u64>;

    /// The hashes of the account's recovery codes not used yet.
    fn recovery_codes(&self) -> Vec<RecoveryHash>;
}

/// The second step's form: the `mfa_token` of the first and one code.
#[derive(Deserialize)]
struct MfaForm {
    mfa_token: String,
    #[serde(default)]
    otp: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

/// The code the client sent.
enum Code {
    Totp(String),
    Recovery(String),
}

/// The second step of a two-step login (`POST` with the form fields `mfa_token` and `otp`, or
/// `mfa_token` and `recovery_code`), read, its `mfa_token` verified, and let through by the
/// login throttle.
///
/// Extract it as a handler argument, load the account with [`subject`](Self::subject), then
/// call [`verify`](Self::verify):
///
/// ```
/// use axum::response::Response;
/// use login::LoginError;
/// use login::mfa::{MfaAccount, MfaGrant, UsedFactor};
/// # use login::{LoginAccount, mfa::{RecoveryHash, SecondFactor, TotpSecret}};
/// # #[derive(Clone)] struct User;
/// # impl LoginAccount for User {
/// #     fn subject(&self) -> String { String::new() }
/// #     fn password_hash(&self) -> Option<&str> { None }
/// # }
/// # impl MfaAccount for User {
/// #     fn totp_secret(&self) -> Option<TotpSecret> { None }
/// #     fn totp_last_step(&self) -> Option<u64> { None }
/// #     fn recovery_codes(&self) -> Vec<RecoveryHash> { Vec::new() }
/// # }
/// # async fn find_user(_: &str) -> Option<User> { None }
/// # async fn save_step(_: &User, _: u64) -> bool { true }
/// # async fn delete_recovery_code(_: &User, _: &RecoveryHash) -> bool { true }
///
/// async fn login_mfa(grant: MfaGrant) -> Result<Response, LoginError> {
///     let user = find_user(grant.subject()).await;
///     let step = grant.verify(user).await?;
///     // Record what was used *before* letting the user in, with a check-and-set, so that
///     // two requests with the same code cannot both pass.
///     let recorded = match step.used() {
///         UsedFactor::Totp { step: s } => save_step(step.account(), s).await,
///         // Delete it by its hash (the list may have changed since it was read).
///         UsedFactor::RecoveryCode { index } => match step.account().recovery_codes().get(index) {
///             Some(hash) => delete_recovery_code(step.account(), hash).await,
///             None => false,
///         },
///         _ => false,
///     };
///     if !recorded {
///         return Err(LoginError::InvalidCode);
///     }
///     step.token_response().await
/// }
/// ```
///
/// What the extractor answers, before any account is loaded: 400 `invalid_request` for a
/// malformed form (no `mfa_token`, both codes or none); 400 `invalid_grant`
/// ([`LoginError::InvalidMfaToken`]) for an `mfa_token` that is forged, expired, already used,
/// of another manager or not an `mfa_token` (an access token); 429 while the login throttle
/// holds the account, the address or the pair in back-off (the attempt is counted as a failure
/// until it succeeds, as for passwords); 503 when a store fails.
pub struct MfaGrant<M = LoginManager> {
    manager: LoginManager,
    ticket: MfaTicket,
    code: Code,
    throttle: Option<Ticket>,
    client: Client,
    user_agent: Option<String>,
    of: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for MfaGrant<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaGrant")
            .field("subject", &self.ticket.subject)
            .field("method", &self.method())
            .field("throttled", &self.throttle.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, M> FromRequest<S> for MfaGrant<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = LoginError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let handle = M::from_ref(state);
        let manager = handle.login_manager().clone();
        let attempt = Attempt::read(request.headers(), request.extensions(), &manager);
        let form: MfaForm = read_form(
            request,
            state,
            "the form needs an `mfa_token` and an `otp` or a `recovery_code`",
        )
        .await?;
        let code = match (form.otp, form.recovery_code) {
            (Some(otp), None) => Code::Totp(otp),
            (None, Some(code)) => Code::Recovery(code),
            _ => {
                return Err(LoginError::InvalidRequest {
                    status: StatusCode::BAD_REQUEST,
                    description: "send exactly one of `otp` and `recovery_code`",
                });
            }
        };
        let ticket = match manager.verify_mfa_token(&form.mfa_token) {
            Ok(ticket) => ticket,
            // Not a fault of the token: the revocations (which hold the used mfa_tokens)
            // cannot be checked now.
            Err(VerifyError::RevocationsStale | VerifyError::KeysStale) => {
                return Err(unavailable());
            }
            Err(error) => {
                tracing::debug!(%error, "login: mfa_token refused");
                return Err(LoginError::InvalidMfaToken);
            }
        };
        let client = attempt.client();
        // Counted on the account as named at the first step, as the password was.
        let throttle = attempt
            .judge(&manager, &ticket.username, || {
                let event = manager
                    .event(AuthEventKind::LoginThrottled)
                    .with_subject(ticket.subject.clone())
                    .with_client(&client);
                manager.emit(event);
            })
            .await?;
        Ok(MfaGrant {
            manager,
            ticket,
            code,
            throttle,
            client,
            user_agent: attempt.user_agent,
            of: PhantomData,
        })
    }
}

fn unavailable() -> LoginError {
    LoginError::Session(SessionError::Store(StoreError::new(
        "the revocations cannot be checked: the session store's stream is down",
    )))
}

impl<M> MfaGrant<M> {
    /// The subject of the account that passed the first step: load the account with it.
    pub fn subject(&self) -> &str {
        &self.ticket.subject
    }

    /// The second factor the client used.
    pub fn method(&self) -> SecondFactor {
        match self.code {
            Code::Totp(_) => SecondFactor::Totp,
            Code::Recovery(_) => SecondFactor::RecoveryCode,
        }
    }

    /// Checks the code against `account`, the lookup's result for
    /// [`subject`](Self::subject) (`Option<A>`, or `Result<Option<A>, E>` as a
    /// `#[user_loader]` returns it): a TOTP code against [`MfaAccount::totp_secret`] and
    /// [`MfaAccount::totp_last_step`] (RFC 6238, one step of drift; a step at or before the
    /// last one is refused), a recovery code against [`MfaAccount::recovery_codes`].
    ///
    /// A wrong or reused code is [`LoginError::InvalidCode`] (400 `invalid_grant`), reported
    /// to the auth events hook as a failed login ([`LoginFailure::WrongCode`]) and counted
    /// by the login throttle; a code that is not six digits (TOTP) or not a recovery code's
    /// shape is 400 `invalid_request`. An account that is gone, or has no such factor, is
    /// `InvalidMfaToken` or `InvalidCode`.
    pub async fn verify<A, L>(self, account: L) -> Result<SecondStep<A>, LoginError>
    where
        A: MfaAccount,
        L: LoaderOutput<User = A>,
    {
        let account = account
            .into_load_result()
            .map_err(|response| LoginError::Store(Box::new(response)))?;
        let Some(account) = account.filter(|a| a.subject() == self.ticket.subject) else {
            tracing::debug!("login: the mfa_token's account is gone");
            return Err(LoginError::InvalidMfaToken);
        };
        let checked = match &self.code {
            Code::Totp(code) => match account.totp_secret() {
                Some(secret) => secret
                    .verify(code, self.manager.now(), account.totp_last_step())
                    .map(|step| UsedFactor::Totp { step }),
                None => Err(MfaError::InvalidCode),
            },
            Code::Recovery(code) => RecoveryCodes::redeem(code, &account.recovery_codes())
                .map(|index| UsedFactor::RecoveryCode { index }),
        };
        match checked {
            Ok(used) => Ok(SecondStep {
                account,
                used,
                grant: self.erase(),
            }),
            Err(MfaError::MalformedCode) => Err(LoginError::InvalidRequest {
                status: StatusCode::BAD_REQUEST,
                description: "the code is malformed: a TOTP code is six digits, a recovery \
                              code ten letters and digits",
            }),
            Err(error) => {
                tracing::debug!(%error, "login: second factor refused");
                let event = self
                    .manager
                    .event(AuthEventKind::LoginFailed(LoginFailure::WrongCode))
                    .with_subject(self.ticket.subject.clone())
                    .with_client(&self.client);
                self.manager.emit(event);
                Err(LoginError::InvalidCode)
            }
        }
    }
}

/// What the second step accepted: store it before letting the user in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsedFactor {
    /// A TOTP code of this step: store it as the account's last step.
    Totp {
        /// The step accepted ([`TotpSecret::verify`]'s answer).
        step: u64,
    },
    /// The recovery code at this index of [`MfaAccount::recovery_codes`]: delete it, by its
    /// hash (with a check-and-set, so that a code used at once by two requests passes once).
    RecoveryCode {
        /// Its index in the list the account gave.
        index: usize,
    },
}

/// A second step whose code was right: the account, what was used, and the tokens to mint
/// once the app has recorded it.
pub struct SecondStep<A> {
    account: A,
    used: UsedFactor,
    grant: MfaGrant<()>,
}

impl<A> std::fmt::Debug for SecondStep<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondStep")
            .field("subject", &self.grant.ticket.subject)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl<M> MfaGrant<M> {
    fn erase(self) -> MfaGrant<()> {
        MfaGrant {
            manager: self.manager,
            ticket: self.ticket,
            code: self.code,
            throttle: self.throttle,
            client: self.client,
            user_agent: self.user_agent,
            of: PhantomData,
        }
    }
}

impl<A: LoginAccount> SecondStep<A> {
    /// The account.
    pub fn account(&self) -> &A {
        &self.account
    }

    /// What was accepted: record it (the TOTP step, or delete the recovery code) before
    /// minting, with a check-and-set where two requests may race.
    pub fn used(&self) -> UsedFactor {
        self.used
    }

    /// The token request of this login: the subject, the scopes the password step granted,
    /// `amr` `["pwd", "otp", "mfa"]` (RFC 8176: a password, a one-time code, and so more than
    /// one factor) and `auth_time` now.
    fn request(&self) -> TokenRequest {
        TokenRequest::new(self.grant.ticket.subject.clone())
            .scopes(self.grant.ticket.scopes.clone())
            .amr(["pwd", "otp", "mfa"])
            .auth_time(self.grant.manager.now())
    }

    /// Consumes the `mfa_token` (a second use, even racing this one, is refused) and ends the
    /// throttle's count of this login.
    async fn finish(&self) -> Result<(), LoginError> {
        let manager = &self.grant.manager;
        match manager.consume_mfa_token(&self.grant.ticket).await {
            Ok(true) => {}
            Ok(false) => return Err(LoginError::InvalidMfaToken),
            Err(error) => return Err(LoginError::Session(SessionError::Store(error))),
        }
        if let Some(ticket) = &self.grant.throttle {
            ticket.succeeded().await;
        }
        Ok(())
    }

    fn succeeded(&self, session_id: Option<String>) {
        let manager = &self.grant.manager;
        let mut event = manager
            .event(AuthEventKind::LoginSucceeded)
            .with_subject(self.grant.ticket.subject.clone())
            .with_client(&self.grant.client);
        event.session_id = session_id;
        manager.emit(event);
    }

    /// Starts the session (with sessions on) and answers with the token response, as the
    /// password step does for an account without a second factor (`Cache-Control:
    /// no-store`), with the manager that verified the `mfa_token`.
    pub async fn token_response(&self) -> Result<Response, LoginError> {
        let manager = &self.grant.manager;
        self.finish().await?;
        let request = self.request();
        let (response, session_id) = if manager.sessions_enabled() {
            let tokens = manager
                .start_session(request, self.grant.user_agent.as_deref())
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
        self.succeeded(session_id);
        let mut response = response.into_response();
        if let Some(cookie) = self.device_cookie() {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        Ok(response)
    }

    /// Starts the session (the manager must have sessions): both tokens, for an answer of
    /// your own.
    pub async fn start_session(&self) -> Result<SessionTokens, LoginError> {
        let manager = &self.grant.manager;
        self.finish().await?;
        let tokens = manager
            .start_session(self.request(), self.grant.user_agent.as_deref())
            .await
            .map_err(LoginError::Session)?;
        self.succeeded(Some(tokens.session_id.clone()));
        Ok(tokens)
    }

    /// Mints and adds the login's cookies to `jar` (for browser logins): the token cookie,
    /// and with sessions the refresh cookie.
    pub async fn set_cookies(&self, jar: CookieJar) -> Result<CookieJar, LoginError> {
        let manager = &self.grant.manager;
        if manager.sessions_enabled() {
            let tokens = self.start_session().await?;
            return Ok(manager.set_session_cookies(jar, &tokens));
        }
        self.finish().await?;
        let token = manager
            .create_access_token(self.request())
            .map_err(LoginError::Mint)?;
        self.succeeded(None);
        Ok(manager.set_cookie(jar, token))
    }

    /// The device-token cookie of this login (see [`login::throttle`](crate::throttle)), when
    /// it was throttled.
    fn device_cookie(&self) -> Option<HeaderValue> {
        let ticket = self.grant.throttle.as_ref()?;
        let manager = &self.grant.manager;
        let guard = ticket.guard();
        let token = ticket.device_token(manager.now());
        let cookie =
            manager.device_cookie(guard.device_cookie_name(), token, guard.device_lifetime());
        HeaderValue::from_str(&cookie.to_string()).ok()
    }
}

impl<M> MfaGrant<M> {
    /// The client's address, as the auth events report it.
    pub fn address(&self) -> Option<IpAddr> {
        self.client.address
    }
}
