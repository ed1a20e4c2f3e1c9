//! Re-authentication: the password again, and the TOTP code when the account has one, for a
//! fresh `auth_time` in the same session. [`ReauthGrant`] reads the request (a verified access
//! token, the form), counted by the login throttle; [`ReauthGrant::verify`] checks the
//! password and the code; [`Reauthenticated::token_response`] renews the session.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{MfaAccount, MfaError, UsedFactor};
use crate::claims::Claims;
use crate::events::{AuthEventKind, Client, LoginFailure};
use crate::loader::LoaderOutput;
use crate::login_route::{Attempt, LoginError, read_form};
use crate::manager::{AsLoginManager, LoginManager};
use crate::password::Passwords;
use crate::rejection::Requirement;
use crate::throttle::Ticket;

/// The re-authentication form: the password, and a TOTP code when the account has one.
#[derive(Deserialize)]
struct ReauthForm {
    password: String,
    #[serde(default)]
    otp: Option<String>,
}

/// A re-authentication request (`POST` with a valid access token and the form fields
/// `password`, and `otp` when the account has TOTP on), its token verified and let through by
/// the login throttle.
///
/// What the extractor answers before any account is loaded: the token's RFC 6750 answer
/// (401 without a valid token, or one of an ended session; 403 for a cross-site request
/// carrying the cookie); 400 `invalid_request` for a malformed form; 429 while the login
/// throttle holds the account (its subject), the address or the pair in back-off, each
/// attempt counting as a failure until it succeeds, as for logins; 503 when a store fails.
///
/// ```
/// use axum::{extract::State, response::Response};
/// use login::{LoginError, password::Passwords};
/// use login::mfa::{ReauthGrant, UsedFactor};
/// # use login::{LoginAccount, mfa::{MfaAccount, RecoveryHash, TotpSecret}};
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
/// # async fn save_step_if_later(_: &User, _: u64) -> bool { true }
///
/// async fn reauth(State(passwords): State<Passwords>, grant: ReauthGrant) -> Result<Response, LoginError> {
///     let user = find_user(grant.subject()).await;
///     let checked = grant.verify(&passwords, user).await?;
///     if let Some(UsedFactor::Totp { step }) = checked.used() {
///         if !save_step_if_later(checked.account(), step).await {
///             return Err(LoginError::InvalidCode);
///         }
///     }
///     checked.token_response().await
/// }
/// ```
pub struct ReauthGrant<M = LoginManager> {
    manager: LoginManager,
    claims: Claims,
    form: ReauthForm,
    throttle: Option<Ticket>,
    client: Client,
    of: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for ReauthGrant<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReauthGrant")
            .field("subject", &self.claims.sub)
            .field("session", &self.claims.sid)
            .field("throttled", &self.throttle.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, M> FromRequest<S> for ReauthGrant<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let handle = M::from_ref(state);
        let manager = handle.login_manager().clone();
        let (mut parts, body) = request.into_parts();
        let claims = match manager.authenticate_refreshing(&mut parts).await {
            Ok((claims, _)) => Claims::clone(&claims),
            Err(kind) => {
                return Err(manager
                    .reject(kind, &Requirement::NONE, &parts)
                    .into_response());
            }
        };
        let attempt = Attempt::read(&parts.headers, &parts.extensions, &manager);
        let request = Request::from_parts(parts, body);
        let form: ReauthForm = read_form(request, state, "the form needs a `password`")
            .await
            .map_err(IntoResponse::into_response)?;
        let client = attempt.client();
        // Counted on the token's subject: a stolen token cannot guess the password.
        let throttle = attempt
            .judge(&manager, &claims.sub, || {
                let event = manager
                    .event(AuthEventKind::LoginThrottled)
                    .with_subject(claims.sub.clone())
                    .with_client(&client);
                manager.emit(event);
            })
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(ReauthGrant {
            manager,
            claims,
            form,
            throttle,
            client,
            of: PhantomData,
        })
    }
}

impl<M> ReauthGrant<M> {
    /// The subject of the token: load the account with it.
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    fn failed(&self, reason: LoginFailure) {
        let event = self
            .manager
            .event(AuthEventKind::LoginFailed(reason))
            .with_subject(self.claims.sub.clone())
            .with_client(&self.client);
        self.manager.emit(event);
    }

    /// Checks the password (with equal work for an account that is gone: the dummy hash),
    /// then, for an account with a second factor, the TOTP code against
    /// [`MfaAccount::totp_secret`] and [`MfaAccount::totp_last_step`].
    ///
    /// A wrong password is [`LoginError::InvalidCredentials`] (401); a missing or malformed
    /// code 400 `invalid_request`; a wrong or reused code [`LoginError::InvalidCode`] (400
    /// `invalid_grant`). Each failure is reported to the auth events hook and counted by the
    /// login throttle.
    pub async fn verify<A, L>(
        self,
        passwords: &Passwords,
        account: L,
    ) -> Result<Reauthenticated<A>, LoginError>
    where
        A: MfaAccount,
        L: LoaderOutput<User = A>,
    {
        let account = account
            .into_load_result()
            .map_err(|response| LoginError::Store(Box::new(response)))?
            .filter(|a| a.subject() == self.claims.sub);
        let stored = account.as_ref().and_then(|a| a.password_hash());
        let right = passwords
            .verify(&self.form.password, stored)
            .await
            .map_err(LoginError::Password)?;
        let Some(account) = account.filter(|_| right) else {
            self.failed(LoginFailure::WrongPassword);
            return Err(LoginError::InvalidCredentials);
        };
        let used = match (account.totp_secret(), &self.form.otp) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(LoginError::InvalidRequest {
                    status: StatusCode::BAD_REQUEST,
                    description: "this account has a second factor: send `otp` too",
                });
            }
            (Some(secret), Some(code)) => {
                match secret.verify(code, self.manager.now(), account.totp_last_step()) {
                    Ok(step) => Some(UsedFactor::Totp { step }),
                    Err(MfaError::MalformedCode) => {
                        return Err(LoginError::InvalidRequest {
                            status: StatusCode::BAD_REQUEST,
                            description: "the code is malformed: a TOTP code is six digits",
                        });
                    }
                    Err(_) => {
                        self.failed(LoginFailure::WrongCode);
                        return Err(LoginError::InvalidCode);
                    }
                }
            }
        };
        Ok(Reauthenticated {
            account,
            used,
            grant: ReauthGrant {
                manager: self.manager,
                claims: self.claims,
                form: self.form,
                throttle: self.throttle,
                client: self.client,
                of: PhantomData,
            },
        })
    }
}

/// A re-authentication whose password (and code) was right: record the code's step, then
/// renew the session.
pub struct Reauthenticated<A> {
    account: A,
    used: Option<UsedFactor>,
    grant: ReauthGrant<()>,
}

impl<A> std::fmt::Debug for Reauthenticated<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reauthenticated")
            .field("subject", &self.grant.claims.sub)
            .field("used", &self.used)
            .finish_non_exhaustive()
    }
}

impl<A> Reauthenticated<A> {
    /// The account.
    pub fn account(&self) -> &A {
        &self.account
    }

    /// The TOTP step accepted, for an account with a second factor: store it (with a
    /// check-and-set) before [`token_response`](Self::token_response).
    pub fn used(&self) -> Option<UsedFactor> {
        self.used
    }

    /// Renews the session ([`LoginManager::reauthenticate`]: `amr` `["pwd"]`, or `["pwd",
    /// "otp", "mfa"]` with the code; `auth_time` now) and answers the new access token of the
    /// same session (`Cache-Control: no-store`). A token of a session ended meanwhile is 401.
    pub async fn token_response(&self) -> Result<Response, LoginError> {
        let amr: &[&str] = match self.used {
            Some(_) => &["pwd", "otp", "mfa"],
            None => &["pwd"],
        };
        let response = self
            .grant
            .manager
            .reauthenticate(&self.grant.claims, amr.iter().copied())
            .await
            .map_err(LoginError::Session)?;
        if let Some(ticket) = &self.grant.throttle {
            ticket.succeeded().await;
        }
        Ok(response.into_response())
    }
}
