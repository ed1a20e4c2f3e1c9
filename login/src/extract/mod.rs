//! Extractors beyond the user: the claims of a second manager ([`ClaimsOf`]), the scopes
//! marker of hand-written scoped routes ([`RequiredScopes`]), the login route's CSRF guard
//! ([`SameOrigin`]), and [`user_from_token`] for tokens that do not come with a request
//! (a WebSocket's first message, say).
//!
//! The user extractors themselves, [`AuthUser`](crate::AuthUser) and
//! [`Scoped`](crate::Scoped), are at the crate root. All of them share one per-request cache
//! (in the request's extensions): the token is verified once and the user loaded once,
//! however many extractors or layers ask.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use crate::claims::Claims;
use crate::loader::{HasUserLoader, TokenUserError, UserLoader};
use crate::manager::LoginManager;
pub(crate) use crate::rejection::Requirement;
use crate::rejection::{AuthRejection, RejectionKind};

pub use crate::credentials::TokenSource;
pub use crate::manager::AsLoginManager;

pub(crate) mod user;

/// What a route requires of the token, carried by a type so that `#[protected(...)]` can name
/// it: scopes (`scopes = [...]`), and for step-up a recent login (`fresh = "10m"`) and
/// authentication methods (`factors = ["otp"]`). Write your own marker type to use
/// [`Scoped`](crate::Scoped) by hand:
///
/// ```
/// struct WriteItems;
/// impl login::extract::RequiredScopes for WriteItems {
///     const SCOPES: &'static [&'static str] = &["items:write"];
/// }
///
/// /// Changing the password: a login of the last 5 minutes, with a one-time code.
/// struct Sensitive;
/// impl login::extract::RequiredScopes for Sensitive {
///     const SCOPES: &'static [&'static str] = &[];
///     const MAX_AGE: Option<u64> = Some(300);
///     const FACTORS: &'static [&'static str] = &["otp"];
/// }
/// ```
///
/// A token without a scope answers 403 `insufficient_scope` (RFC 6750); one whose login is too
/// old or lacks a factor answers 401 `insufficient_user_authentication` (RFC 9470), with
/// `max_age` when freshness was required, so that the client sends the user to log in again.
pub trait RequiredScopes: Send + Sync + 'static {
    /// Every scope the token must grant (all of them, compared exactly).
    const SCOPES: &'static [&'static str];
    /// The longest time, in seconds, since the user authenticated (the token's `auth_time`,
    /// set by the login and by a re-authentication; a refresh keeps it): `None` requires no
    /// freshness. A token without `auth_time` is never fresh.
    const MAX_AGE: Option<u64> = None;
    /// Every authentication method the token's `amr` must hold (RFC 8176 values, compared
    /// exactly: `otp`, `hwk`, `mfa`, …).
    const FACTORS: &'static [&'static str] = &[];
}

impl Requirement {
    /// What the marker type `Sc` requires.
    pub(crate) const fn of<Sc: RequiredScopes>() -> Requirement {
        Requirement {
            scopes: Sc::SCOPES,
            max_age: Sc::MAX_AGE,
            factors: Sc::FACTORS,
        }
    }

    /// Whether `claims` meet the step-up part (freshness by `manager`'s clock and leeway,
    /// and factors); `None` when they do, else what falls short, for the debug log. The
    /// clock is read only for a route that requires freshness.
    pub(crate) fn step_up_shortfall(
        &self,
        claims: &Claims,
        manager: &LoginManager,
    ) -> Option<&'static str> {
        if let Some(max_age) = self.max_age {
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            match claims.auth_time {
                None => return Some("no auth_time"),
                Some(at)
                    if manager.now().saturating_sub(at)
                        > max_age.saturating_add(manager.leeway()) =>
                {
                    return Some("login too old");
                }
                Some(_) => {}
            }
        }
        self.factors
            .iter()
            .find(|f| !claims.has_amr(f))
            .map(|_| "missing factor")
    }
}

impl<S> FromRequestParts<S> for Claims
where
    S: Send + Sync,
    LoginManager: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        required_claims(parts, &LoginManager::from_ref(state)).await
    }
}

impl<S> OptionalFromRequestParts<S> for Claims
where
    S: Send + Sync,
    LoginManager: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        optional_claims(parts, &LoginManager::from_ref(state)).await
    }
}

/// The claims as a "user": `#[protected]` on a handler that needs only the verified token
/// (`async fn logout(claims: Claims)`) verifies and documents it like any protected route,
/// and loads no user (no `#[user_loader]` runs). Scopes and `optional` work as for a user.
// Not listed in the "no `#[user_loader]`" error as a type that has one: that error is about
// the app's own user type.
#[diagnostic::do_not_recommend]
impl HasUserLoader for Claims {
    type Manager = LoginManager;
}

impl<S> UserLoader<S> for Claims
where
    S: Send + Sync,
    LoginManager: FromRef<S>,
{
    async fn load_user(
        _subject: String,
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Response> {
        // Called after the token was verified: this reads the request's cached outcome.
        let verified = LoginManager::from_ref(state).authenticate(parts);
        Ok(verified.ok().map(|(claims, _)| Claims::clone(&claims)))
    }
}

/// [`LoginManager::user_from_token`] with the manager of `U` taken from `state` (as the
/// extractors take it): with several managers, the token is verified by the user type's own.
///
/// ```
/// # use axum::extract::FromRef;
/// # use login::{LoginManager, define_manager, user_loader};
/// define_manager!(pub Admins);
/// #[derive(Clone, FromRef)]
/// struct AppState { users: LoginManager, admins: Admins }
/// #[derive(Clone, Debug)]
/// struct Admin(String);
/// #[user_loader(manager = Admins)]
/// async fn load_admin(name: String) -> Option<Admin> { Some(Admin(name)) }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let state = AppState {
///     users: LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?,
///     admins: Admins(LoginManager::new("another-32-byte-or-longer-secret-here", "/admin/login")?),
/// };
/// let token = state.admins.create_access_token("root")?;
/// let admin: Admin = login::extract::user_from_token(&token, &state).await?;
/// assert_eq!(admin.0, "root");
/// // A users' token names no admin.
/// let token = state.users.create_access_token("root")?;
/// assert!(login::extract::user_from_token::<Admin, _>(&token, &state).await.is_err());
/// // The method, called on a manager that is not `Admin`'s, refuses whatever the token.
/// assert!(matches!(
///     state.users.user_from_token::<Admin, _>(&token, &state).await,
///     Err(login::loader::TokenUserError::OtherManager)
/// ));
/// # Ok(()) }
/// ```
pub async fn user_from_token<U, S>(token: &str, state: &S) -> Result<U, TokenUserError>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let handle = U::Manager::from_ref(state);
    handle.login_manager().user_from_token(token, state).await
}

/// The verified claims of a request, as [`Claims`] extracts them, from the manager held by
/// `M` (a second manager's type, made with [`define_manager!`](crate::define_manager)):
/// `ClaimsOf<Admins>` verifies with the admins' manager. As `Option<ClaimsOf<M>>`, `None`
/// without valid credentials.
pub struct ClaimsOf<M>(pub Claims, pub PhantomData<fn() -> M>);

impl<M> Clone for ClaimsOf<M> {
    fn clone(&self) -> Self {
        ClaimsOf(self.0.clone(), PhantomData)
    }
}

/// As for [`Claims`]: `#[protected]` on `claims: ClaimsOf<Admins>` verifies the token with the
/// admins' manager and loads no user.
#[diagnostic::do_not_recommend]
impl<M: Send + Sync + 'static> HasUserLoader for ClaimsOf<M> {
    type Manager = M;
}

impl<M, S> UserLoader<S> for ClaimsOf<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S> + Send + Sync + 'static,
{
    async fn load_user(
        _subject: String,
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Response> {
        let verified = M::from_ref(state).login_manager().authenticate(parts);
        Ok(verified
            .ok()
            .map(|(claims, _)| ClaimsOf(Claims::clone(&claims), PhantomData)))
    }
}

impl<M> std::fmt::Debug for ClaimsOf<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ClaimsOf").field(&self.0).finish()
    }
}

impl<M, S> FromRequestParts<S> for ClaimsOf<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let claims = required_claims(parts, M::from_ref(state).login_manager()).await?;
        Ok(ClaimsOf(claims, PhantomData))
    }
}

impl<M, S> OptionalFromRequestParts<S> for ClaimsOf<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let claims = optional_claims(parts, M::from_ref(state).login_manager()).await?;
        Ok(claims.map(|claims| ClaimsOf(claims, PhantomData)))
    }
}

// The extractors' own rejection, returned as they return it.
#[allow(clippy::result_large_err)]
async fn required_claims(
    parts: &mut Parts,
    manager: &LoginManager,
) -> Result<Claims, AuthRejection> {
    match manager.authenticate_refreshing(parts).await {
        Ok((claims, _)) => Ok(Claims::clone(&claims)),
        Err(kind) => Err(manager.reject(kind, &Requirement::NONE, parts)),
    }
}

#[allow(clippy::result_large_err)]
async fn optional_claims(
    parts: &mut Parts,
    manager: &LoginManager,
) -> Result<Option<Claims>, AuthRejection> {
    match manager.authenticate_refreshing(parts).await {
        Ok((claims, _)) => Ok(Some(Claims::clone(&claims))),
        Err(
            kind @ (RejectionKind::InvalidRequest
            | RejectionKind::CrossSiteRequest
            | RejectionKind::Unavailable),
        ) => Err(manager.reject(kind, &Requirement::NONE, parts)),
        Err(_) => Ok(None),
    }
}

/// A guard for routes that must only be reached from your own pages even without a cookie:
/// the login route itself (login CSRF: another site must not log your users in to an account
/// of its choosing). Refuses a cross-site state-changing request with 403 before the handler
/// runs; lets same-origin requests and non-browser clients through.
///
/// ```
/// use axum::Form;
/// use login::{OAuth2PasswordForm, extract::SameOrigin};
///
/// async fn login(_: SameOrigin, Form(form): Form<OAuth2PasswordForm>) { /* … */ }
/// ```
///
/// It checks with the origins of the state's [`LoginManager`]; `SameOrigin<Admins>` checks with
/// those of a second manager's type (made with [`define_manager!`](crate::define_manager)).
pub struct SameOrigin<M = LoginManager>(PhantomData<fn() -> M>);

impl<M> SameOrigin<M> {
    /// The guard's value (what the extractor returns once the request passed).
    pub fn new() -> Self {
        SameOrigin(PhantomData)
    }
}

impl<M> Default for SameOrigin<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Clone for SameOrigin<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for SameOrigin<M> {}

impl<M> std::fmt::Debug for SameOrigin<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SameOrigin")
    }
}

impl<M, S> FromRequestParts<S> for SameOrigin<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let handle = M::from_ref(state);
        let manager = handle.login_manager();
        match manager.check_same_origin(parts) {
            Ok(()) => Ok(SameOrigin::new()),
            Err(reason) => {
                tracing::debug!(%reason, "login: cross-site request refused");
                Err(manager.reject(RejectionKind::CrossSiteRequest, &Requirement::NONE, parts))
            }
        }
    }
}
