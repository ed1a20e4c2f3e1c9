//! A middleware that resolves the user once per request, for every route behind it
//! (fastapi-login's `attach_middleware`, without its catch-all).
//!
//! ```
//! use axum::{Extension, Router, middleware, routing::get};
//! use login::{middleware::CurrentUser, LoginManager, middleware::attach_user};
//! # #[derive(Clone)] struct User;
//! # impl login::loader::HasUserLoader for User { type Manager = LoginManager; }
//! # impl login::loader::UserLoader<LoginManager> for User {
//! #     async fn load_user(_: String, _: &mut axum::http::request::Parts, _: &LoginManager)
//! #         -> Result<Option<Self>, axum::response::Response> { Ok(Some(User)) }
//! # }
//!
//! async fn page(CurrentUser(user): CurrentUser<User>) -> &'static str {
//!     if user.is_some() { "welcome back" } else { "hello, stranger" }
//! }
//!
//! # fn main() -> Result<(), login::ConfigError> {
//! let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
//! let app: Router = Router::new()
//!     .route("/", get(page))
//!     .layer(middleware::from_fn_with_state(manager.clone(), attach_user::<User, LoginManager>))
//!     .with_state(manager);
//! # Ok(()) }
//! ```
//!
//! Behind the layer, the extractors (`AuthUser`, `#[protected]` handlers…) reuse the user the
//! layer loaded: the token is verified once and the loader called once per request.

pub use crate::redirect::safe_next;

use axum::extract::{FromRef, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::extract::user::optional_user;
use crate::loader::UserLoader;
use crate::manager::AsLoginManager;
use crate::rejection::RejectionKind;

/// The user the [`attach_user`] layer resolved: `Some` when the request carried valid
/// credentials for a known user, `None` otherwise. Read it as an extractor, or from the
/// request's extensions in your own middleware.
#[derive(Debug, Clone)]
pub struct CurrentUser<U>(pub Option<U>);

/// The middleware: resolves the user (from the header and/or cookie, as the manager says) and
/// inserts [`CurrentUser<U>`] into the request's extensions.
///
/// Missing or invalid credentials give `CurrentUser(None)` and the request goes on (public
/// pages stay public). A **failing loader is never turned into "no user"**: its response is
/// returned and the handler does not run. A malformed `Authorization` header (two of them)
/// gets 400. Two requests go on as anonymous, and any protected extractor behind the layer
/// refuses them: a cross-site state-changing request carrying the cookie (403), and a request
/// whose cookie is ambiguous — two different values under its name, or one that is not ASCII
/// (400). The second is what cookie tossing produces (a sibling subdomain or a plain-HTTP man in
/// the middle planting a second cookie next to the user's): public pages, the login page and
/// logout keep working. The `__Host-` cookie prefix prevents the planting
/// ([`cookie_host_prefix`](crate::LoginManagerBuilder::cookie_host_prefix)).
pub async fn attach_user<U, S>(State(state): State<S>, request: Request, next: Next) -> Response
where
    S: Send + Sync,
    U: UserLoader<S>,
    U::Manager: AsLoginManager + FromRef<S>,
{
    let (mut parts, body) = request.into_parts();
    let user = match optional_user::<U, S>(&mut parts, &state, crate::rejection::Requirement::NONE)
        .await
    {
        Ok(user) => user,
        Err(rejection) if rejection.kind() == Some(RejectionKind::CrossSiteRequest) => None,
        Err(rejection)
            if rejection.kind() == Some(RejectionKind::InvalidRequest)
                && U::Manager::from_ref(&state)
                    .login_manager()
                    .cookie_is_malformed(&parts) =>
        {
            None
        }
        Err(rejection) => return rejection.into_response(),
    };
    parts.extensions.insert(CurrentUser(user));
    next.run(Request::from_parts(parts, body)).await
}

impl<U, S> FromRequestParts<S> for CurrentUser<U>
where
    S: Send + Sync,
    U: Clone + Send + Sync + 'static,
{
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<CurrentUser<U>>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "CurrentUser needs the login::middleware::attach_user layer in front of this route",
        ))
    }
}
