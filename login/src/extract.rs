//! Extractors: the authenticated user, the optional user, scope-checked users, the claims,
//! and the [`SameOrigin`] guard.
//!
//! All of them share one per-request cache (in the request's extensions): the token is
//! verified once and the user loaded once, however many extractors or layers ask.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use crate::claims::Claims;
use crate::error::{AuthRejection, RejectionKind};
use crate::loader::{TokenUserError, UserLoader};
use crate::manager::{AsLoginManager, LoginManager};

/// The scopes a route requires, carried by a type so that `#[protected(scopes = [...])]` can
/// name them. Write your own marker type to use [`Scoped`] by hand:
///
/// ```
/// struct WriteItems;
/// impl login::RequiredScopes for WriteItems {
///     const SCOPES: &'static [&'static str] = &["items:write"];
/// }
/// ```
pub trait RequiredScopes: Send + Sync + 'static {
    /// Every scope the token must grant (all of them, compared exactly).
    const SCOPES: &'static [&'static str];
}

/// The authenticated user. Rejects the request (401, or 400 for a malformed request) when
/// there are no valid credentials or the loader knows no such user; a failing loader's
/// response is sent as is.
///
/// As `Option<AuthUser<U>>` it is the optional user: `None` for missing or invalid
/// credentials, while a loader error still fails the request.
#[derive(Debug, Clone)]
pub struct AuthUser<U>(pub U);

/// The optional user as a tuple struct (handy in patterns): `MaybeUser(user)` where `user` is
/// `Option<U>`. Same rules as `Option<AuthUser<U>>`.
#[derive(Debug, Clone)]
pub struct MaybeUser<U>(pub Option<U>);

/// The authenticated user, whose token must grant every scope of `Sc` (403
/// `insufficient_scope` otherwise). Scopes are checked before the user is loaded.
pub struct Scoped<U, Sc: RequiredScopes>(pub U, pub PhantomData<Sc>);

/// The optional user with required scopes: `None` when there are no valid credentials or the
/// token lacks a scope; a loader error still fails the request.
pub struct MaybeScoped<U, Sc: RequiredScopes>(pub Option<U>, pub PhantomData<Sc>);

impl<U: std::fmt::Debug, Sc: RequiredScopes> std::fmt::Debug for Scoped<U, Sc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Scoped")
            .field(&self.0)
            .field(&Sc::SCOPES)
            .finish()
    }
}

impl<U: std::fmt::Debug, Sc: RequiredScopes> std::fmt::Debug for MaybeScoped<U, Sc> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("MaybeScoped")
            .field(&self.0)
            .field(&Sc::SCOPES)
            .finish()
    }
}

/// The loaded user, cached per request and per manager.
#[derive(Clone)]
struct LoadedUser<U> {
    manager: usize,
    user: Option<U>,
}

enum Outcome<U> {
    User(U),
    Rejected(RejectionKind),
    LoaderFailed(Response),
}

async fn resolve<U, S>(
    parts: &mut Parts,
    state: &S,
    manager: &LoginManager,
    required: &[&'static str],
) -> Outcome<U>
where
    S: Send + Sync,
    U: UserLoader<S>,
{
    let claims = match manager.authenticate(parts) {
        Ok((claims, _)) => claims,
        Err(kind) => return Outcome::Rejected(kind),
    };
    if let Some(missing) = required.iter().find(|s| !claims.has_scope(s)) {
        tracing::debug!(missing_scope = %missing, "login: insufficient scope");
        return Outcome::Rejected(RejectionKind::InsufficientScope);
    }
    let id = manager.id();
    if let Some(cached) = parts.extensions.get::<LoadedUser<U>>()
        && cached.manager == id
    {
        return match &cached.user {
            Some(user) => Outcome::User(user.clone()),
            None => Outcome::Rejected(RejectionKind::InvalidToken),
        };
    }
    match U::load_user(claims.sub.clone(), parts, state).await {
        Ok(user) => {
            parts.extensions.insert(LoadedUser {
                manager: id,
                user: user.clone(),
            });
            match user {
                Some(user) => Outcome::User(user),
                None => {
                    tracing::debug!(reason = "unknown user", "login: token rejected");
                    Outcome::Rejected(RejectionKind::InvalidToken)
                }
            }
        }
        Err(response) => {
            tracing::debug!(status = %response.status(), "login: user loader failed");
            Outcome::LoaderFailed(response)
        }
    }
}

async fn required_user<U, S>(
    parts: &mut Parts,
    state: &S,
    required: &'static [&'static str],
) -> Result<U, AuthRejection>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let handle = U::Manager::from_ref(state);
    let manager = handle.login_manager();
    match resolve::<U, S>(parts, state, manager, required).await {
        Outcome::User(user) => Ok(user),
        Outcome::Rejected(kind) => Err(manager.reject(kind, required, parts)),
        Outcome::LoaderFailed(response) => Err(AuthRejection::loader(response)),
    }
}

pub(crate) async fn optional_user<U, S>(
    parts: &mut Parts,
    state: &S,
    required: &'static [&'static str],
) -> Result<Option<U>, AuthRejection>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let handle = U::Manager::from_ref(state);
    let manager = handle.login_manager();
    match resolve::<U, S>(parts, state, manager, required).await {
        Outcome::User(user) => Ok(Some(user)),
        // A malformed request (two Authorization headers) stays an error: guessing which
        // credentials were meant is what RFC 6750 §3.1 forbids. A cross-site request carrying
        // the cookie is refused too, rather than served as anonymous, and so is a request whose
        // revocations cannot be checked (503): a stale view must not turn a user anonymous.
        Outcome::Rejected(
            kind @ (RejectionKind::InvalidRequest
            | RejectionKind::CrossSiteRequest
            | RejectionKind::Unavailable),
        ) => Err(manager.reject(kind, required, parts)),
        Outcome::Rejected(_) => Ok(None),
        Outcome::LoaderFailed(response) => Err(AuthRejection::loader(response)),
    }
}

impl<U, S> FromRequestParts<S> for AuthUser<U>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        required_user::<U, S>(parts, state, &[]).await.map(AuthUser)
    }
}

impl<U, S> OptionalFromRequestParts<S> for AuthUser<U>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(optional_user::<U, S>(parts, state, &[])
            .await?
            .map(AuthUser))
    }
}

impl<U, S> FromRequestParts<S> for MaybeUser<U>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        optional_user::<U, S>(parts, state, &[])
            .await
            .map(MaybeUser)
    }
}

impl<U, Sc, S> FromRequestParts<S> for Scoped<U, Sc>
where
    S: Send + Sync,
    U: UserLoader<S>,
    Sc: RequiredScopes,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = required_user::<U, S>(parts, state, Sc::SCOPES).await?;
        Ok(Scoped(user, PhantomData))
    }
}

impl<U, Sc, S> OptionalFromRequestParts<S> for Scoped<U, Sc>
where
    S: Send + Sync,
    U: UserLoader<S>,
    Sc: RequiredScopes,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let user = optional_user::<U, S>(parts, state, Sc::SCOPES).await?;
        Ok(user.map(|u| Scoped(u, PhantomData)))
    }
}

impl<U, Sc, S> FromRequestParts<S> for MaybeScoped<U, Sc>
where
    S: Send + Sync,
    U: UserLoader<S>,
    Sc: RequiredScopes,
    U::Manager: AsLoginManager + FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let user = optional_user::<U, S>(parts, state, Sc::SCOPES).await?;
        Ok(MaybeScoped(user, PhantomData))
    }
}

impl<S> FromRequestParts<S> for Claims
where
    S: Send + Sync,
    LoginManager: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        required_claims(parts, &LoginManager::from_ref(state))
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
        optional_claims(parts, &LoginManager::from_ref(state))
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
/// let admin: Admin = login::user_from_token(&token, &state).await?;
/// assert_eq!(admin.0, "root");
/// // A users' token names no admin.
/// let token = state.users.create_access_token("root")?;
/// assert!(login::user_from_token::<Admin, _>(&token, &state).await.is_err());
/// // The method, called on a manager that is not `Admin`'s, refuses whatever the token.
/// assert!(matches!(
///     state.users.user_from_token::<Admin, _>(&token, &state).await,
///     Err(login::TokenUserError::OtherManager)
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
        let claims = required_claims(parts, M::from_ref(state).login_manager())?;
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
        let claims = optional_claims(parts, M::from_ref(state).login_manager())?;
        Ok(claims.map(|claims| ClaimsOf(claims, PhantomData)))
    }
}

// The extractors' own rejection, returned as they return it.
#[allow(clippy::result_large_err)]
fn required_claims(parts: &mut Parts, manager: &LoginManager) -> Result<Claims, AuthRejection> {
    match manager.authenticate(parts) {
        Ok((claims, _)) => Ok(Claims::clone(&claims)),
        Err(kind) => Err(manager.reject(kind, &[], parts)),
    }
}

#[allow(clippy::result_large_err)]
fn optional_claims(
    parts: &mut Parts,
    manager: &LoginManager,
) -> Result<Option<Claims>, AuthRejection> {
    match manager.authenticate(parts) {
        Ok((claims, _)) => Ok(Some(Claims::clone(&claims))),
        Err(
            kind @ (RejectionKind::InvalidRequest
            | RejectionKind::CrossSiteRequest
            | RejectionKind::Unavailable),
        ) => Err(manager.reject(kind, &[], parts)),
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
/// use login::{OAuth2PasswordForm, SameOrigin};
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
                Err(manager.reject(RejectionKind::CrossSiteRequest, &[], parts))
            }
        }
    }
}
