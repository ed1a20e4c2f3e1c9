//! The user extractors: [`AuthUser`] and [`Scoped`] (each also as an `Option`), and the
//! pattern-friendly `MaybeUser` and `MaybeScoped` that `#[protected(optional)]` expands to.
//! The user is loaded once per request and per manager, and cached in the request's
//! extensions.

use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;

use super::{RequiredScopes, Requirement};
use crate::loader::UserLoader;
use crate::manager::{AsLoginManager, LoginManager};
use crate::rejection::{AuthRejection, RejectionKind};

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
    required: &Requirement,
) -> Outcome<U>
where
    S: Send + Sync,
    U: UserLoader<S>,
{
    let claims = match manager.authenticate_refreshing(parts).await {
        Ok((claims, _)) => claims,
        Err(kind) => return Outcome::Rejected(kind),
    };
    if let Some(missing) = required.scopes.iter().find(|s| !claims.has_scope(s)) {
        tracing::debug!(missing_scope = %missing, "login: insufficient scope");
        return Outcome::Rejected(RejectionKind::InsufficientScope);
    }
    if let Some(shortfall) = required.step_up_shortfall(&claims, manager) {
        tracing::debug!(
            reason = shortfall,
            "login: insufficient user authentication"
        );
        return Outcome::Rejected(RejectionKind::InsufficientUserAuthentication);
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
    required: Requirement,
) -> Result<U, AuthRejection>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let handle = U::Manager::from_ref(state);
    let manager = handle.login_manager();
    match resolve::<U, S>(parts, state, manager, &required).await {
        Outcome::User(user) => Ok(user),
        Outcome::Rejected(kind) => Err(manager.reject(kind, &required, parts)),
        Outcome::LoaderFailed(response) => Err(AuthRejection::loader(response)),
    }
}

pub(crate) async fn optional_user<U, S>(
    parts: &mut Parts,
    state: &S,
    required: Requirement,
) -> Result<Option<U>, AuthRejection>
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let handle = U::Manager::from_ref(state);
    let manager = handle.login_manager();
    match resolve::<U, S>(parts, state, manager, &required).await {
        Outcome::User(user) => Ok(Some(user)),
        // A malformed request (two Authorization headers) stays an error: guessing which
        // credentials were meant is what RFC 6750 §3.1 forbids. A cross-site request carrying
        // the cookie is refused too, rather than served as anonymous, and so is a request whose
        // revocations cannot be checked (503): a stale view must not turn a user anonymous.
        Outcome::Rejected(
            kind @ (RejectionKind::InvalidRequest
            | RejectionKind::CrossSiteRequest
            | RejectionKind::Unavailable),
        ) => Err(manager.reject(kind, &required, parts)),
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
        required_user::<U, S>(parts, state, Requirement::NONE)
            .await
            .map(AuthUser)
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
        Ok(optional_user::<U, S>(parts, state, Requirement::NONE)
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
        optional_user::<U, S>(parts, state, Requirement::NONE)
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
        let user = required_user::<U, S>(parts, state, Requirement::of::<Sc>()).await?;
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
        let user = optional_user::<U, S>(parts, state, Requirement::of::<Sc>()).await?;
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
        let user = optional_user::<U, S>(parts, state, Requirement::of::<Sc>()).await?;
        Ok(MaybeScoped(user, PhantomData))
    }
}
