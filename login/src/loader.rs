//! The user loader: how a token's subject becomes your user.

use std::future::Future;

use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

/// Turns a verified token's subject into the application's user. Keyed by the user type.
///
/// `#[user_loader]` implements it for you from an `async fn(subject: String, <axum
/// extractors>...) -> Option<User>`; write it by hand when you prefer:
///
/// ```
/// use axum::{extract::{FromRef, State}, http::request::Parts, response::Response};
/// use login::{LoginManager, loader::UserLoader};
///
/// #[derive(Clone)]
/// struct User { email: String }
///
/// #[derive(Clone)]
/// struct Db;
/// impl Db { async fn find(&self, email: &str) -> Option<User> { Some(User { email: email.into() }) } }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { db: Db, manager: LoginManager }
///
/// // Which manager verifies the tokens that name a `User`: `LoginManager` when there is one.
/// impl login::loader::HasUserLoader for User { type Manager = LoginManager; }
///
/// impl UserLoader<AppState> for User {
///     async fn load_user(subject: String, _parts: &mut Parts, state: &AppState)
///         -> Result<Option<Self>, Response> {
///         Ok(state.db.find(&subject).await)
///     }
/// }
/// ```
///
/// `Ok(None)` means "no such user" (401 `invalid_token`); `Err(response)` means the store
/// failed, and that response (a 5xx) is sent as is — optional routes never turn it into "no
/// user".
#[diagnostic::on_unimplemented(
    message = "no `#[user_loader]` for `{Self}` with state `{S}`",
    label = "`{Self}` has no user loader for this state",
    note = "add `#[login::user_loader]` to an `async fn(subject: String, ...) -> Option<{Self}>`, or implement `login::loader::UserLoader<{S}>` for `{Self}`",
    note = "every further loader argument must be an axum extractor for the router's state (`FromRequestParts<{S}>`)"
)]
pub trait UserLoader<S: Send + Sync>:
    HasUserLoader + Sized + Clone + Send + Sync + 'static
{
    /// Loads the user named by `subject`. `parts` and `state` let the loader use any
    /// extractor, such as `State<Pool>`.
    fn load_user(
        subject: String,
        parts: &mut Parts,
        state: &S,
    ) -> impl Future<Output = Result<Option<Self>, Response>> + Send;
}

/// A user type with a loader, and the manager that verifies the tokens naming it. Not generic
/// over the state, so that `#[protected]` can check at the handler that the type has a
/// loader, and so that every extractor of the type finds the same manager.
///
/// `#[user_loader]` implements it (`Manager = LoginManager`, or the type given with
/// `#[user_loader(manager = Admins)]`); implement it yourself next to a hand-written
/// [`UserLoader`]. With several managers in one app (users and admins), each user type names
/// its own, and its extractors verify with that one only: a token of the other manager is
/// refused.
#[diagnostic::on_unimplemented(
    message = "no `#[user_loader]` for `{Self}`",
    label = "this user type has no `#[user_loader]`",
    note = "add `#[login::user_loader]` to an `async fn(subject: String, ...) -> Option<{Self}>` (or `-> Result<Option<{Self}>, E>`)",
    note = "next to a hand-written `impl UserLoader<S> for {Self}`, write `impl login::loader::HasUserLoader for {Self} {{ type Manager = login::LoginManager; }}`"
)]
pub trait HasUserLoader {
    /// The manager whose tokens name this user: [`LoginManager`](crate::LoginManager), or a
    /// type made with [`define_manager!`](crate::define_manager) that holds a second one.
    /// The extractors take it from the state with `FromRef` (so it must implement
    /// [`AsLoginManager`](crate::extract::AsLoginManager) and `FromRef<S>` for the router's state).
    type Manager: Send + Sync + 'static;
}

/// What a loader function may return, and what
/// [`PasswordGrant::authenticate`](crate::PasswordGrant::authenticate) takes: `Option<User>`,
/// or `Result<Option<User>, E>` where `E: IntoResponse` is the store's error.
// The error is a whole response on purpose: it is the loader's own answer, sent as is.
#[allow(clippy::result_large_err)]
pub trait LoaderOutput {
    /// The user type.
    type User;
    /// Normalizes the output; an error becomes its response.
    fn into_load_result(self) -> Result<Option<Self::User>, Response>;
}

impl<U> LoaderOutput for Option<U> {
    type User = U;
    fn into_load_result(self) -> Result<Option<U>, Response> {
        Ok(self)
    }
}

impl<U, E: IntoResponse> LoaderOutput for Result<Option<U>, E> {
    type User = U;
    fn into_load_result(self) -> Result<Option<U>, Response> {
        self.map_err(IntoResponse::into_response)
    }
}

/// Why [`LoginManager::user_from_token`](crate::LoginManager::user_from_token) found no user:
/// the same cases, and the same answers, as the extractors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenUserError {
    /// The token failed verification (malformed, expired, revoked, wrong key…).
    #[error("invalid token: {0}")]
    InvalidToken(#[source] crate::rejection::VerifyError),
    /// The token is valid but the loader knows no such user.
    #[error("the token's subject is no known user")]
    UnknownUser,
    /// The loader failed (its own response, a 5xx, kept as is).
    #[error("the user loader failed ({})", .0.status())]
    Loader(Box<Response>),
    /// The manager asked is not the user type's own ([`HasUserLoader::Manager`] in the
    /// state): a programming error, answered like an invalid token. Use
    /// [`login::extract::user_from_token`](crate::extract::user_from_token), which picks the
    /// right one.
    #[error("this manager does not verify the tokens of this user type")]
    OtherManager,
}

impl TokenUserError {
    /// The extractors' rejection for this case (`None` for a failing loader).
    pub fn kind(&self) -> Option<crate::rejection::RejectionKind> {
        match self {
            TokenUserError::InvalidToken(_)
            | TokenUserError::UnknownUser
            | TokenUserError::OtherManager => Some(crate::rejection::RejectionKind::InvalidToken),
            TokenUserError::Loader(_) => None,
        }
    }
}

impl IntoResponse for TokenUserError {
    /// The extractors' answer: 401 `invalid_token`, or the loader's own response.
    fn into_response(self) -> Response {
        match self {
            TokenUserError::Loader(response) => *response,
            _ => crate::rejection::default_response(
                crate::rejection::RejectionKind::InvalidToken,
                &[],
            ),
        }
    }
}
