//! # login
//!
//! JWT login for [axum](https://docs.rs/axum), in the spirit of fastapi-login: one [`LoginManager`] issues and
//! verifies access tokens (from the `Authorization: Bearer` header and/or a cookie), one
//! async function marked `#[user_loader]` turns a token's subject into your user, and
//! handlers marked `#[protected]` receive that user as an argument.
//!
//! ```
//! use axum::{Json, Router, extract::{FromRef, State}, response::Response, routing::{get, post}};
//! use login::{LoginAccount, LoginError, LoginManager, PasswordGrant, protected, user_loader};
//! use login::password::Passwords;
//!
//! #[derive(Clone, serde::Serialize)]
//! struct User { email: String, #[serde(skip)] password_hash: String }
//!
//! impl LoginAccount for User {
//!     fn subject(&self) -> String { self.email.clone() }
//!     fn password_hash(&self) -> Option<&str> { Some(&self.password_hash) }
//! }
//!
//! #[derive(Clone, FromRef)]
//! struct AppState { manager: LoginManager, passwords: Passwords }
//!
//! #[user_loader]
//! async fn load_user(email: String) -> Option<User> {
//!     (email == "john@mail.com").then(|| User { email, password_hash: String::new() })
//! }
//!
//! async fn login(State(s): State<AppState>, grant: PasswordGrant) -> Result<Response, LoginError> {
//!     let user = load_user(grant.username().to_owned()).await;
//!     grant.authenticate(&s.passwords, user).await?.token_response(&s.manager).await
//! }
//!
//! #[protected]
//! async fn me(user: User) -> Json<User> { Json(user) }
//!
//! # fn main() -> Result<(), login::ConfigError> {
//! let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
//! let app: Router = Router::new()
//!     .route("/login", post(login))
//!     .route("/me", get(me))
//!     .with_state(AppState { manager, passwords: Passwords::default() });
//! # Ok(()) }
//! ```
//!
//! ## Where things are
//!
//! The crate root holds what the quick start uses: the manager and its builder, the two
//! macros, the user extractors, the login route's types, the errors of building a manager and
//! minting a token, and the cookie jar. Everything else is in a module named for its concern:
//!
//! | module | what it holds |
//! |---|---|
//! | [`extract`] | the claims of a second manager, hand-written scopes, the login route's CSRF guard, [`user_from_token`](extract::user_from_token) |
//! | [`rejection`] | why a request was refused and the RFC 6750 answer to each reason; [`VerifyError`](rejection::VerifyError) |
//! | [`loader`] | the traits `#[user_loader]` implements, for loaders written by hand |
//! | [`keys`] | signing and verification keys, JWKS, key rotation |
//! | [`middleware`] | the layer that attaches the user to every request, safe redirects |
//! | [`cookie`] | the cookie types the manager builds and reads |
//! | [`session`] | sessions (refresh tokens, logout, log out everywhere) and their stores |
//! | [`refresh`] | the refresh route and its extractor |
//! | [`password`] | password hashing with bounded work |
//! | [`events`] | the auth events hook: logins, refresh-token reuse, logouts, revocations |
//! | [`throttle`] | login throttling by outcome: limits, trusted proxies, device tokens |
//! | `mfa` | a second factor: TOTP codes and recovery codes (feature `mfa`) |
//! | `openapi` | OpenAPI security schemes and responses (feature `openapi`) |
//! | [`testing`] | requests with a token, for your route tests |
//!
//! A refused request gets the RFC 6750 answer for its reason (401 with
//! `WWW-Authenticate: Bearer`, 403 `insufficient_scope`, …) and a `{"detail": "..."}` body,
//! as fastapi-login; [`rejection`] lists them.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(all(feature = "rust_crypto", feature = "aws_lc_rs"))]
compile_error!(
    "the `login` features `rust_crypto` and `aws_lc_rs` are two JWT crypto backends: enable one of them (`default-features = false, features = [\"macros\", \"aws_lc_rs\"]` for AWS-LC)"
);

// Layers (each imports only from the layers above it; checked by `tests/layers.rs`):
//
//   leaves       error, rejection, secret, claims, keys, jws, cache, cookie, credentials,
//                csrf, redirect, loader, oauth2 (the password form, the token response),
//                password, registry, session/ (store trait, stores, revocation view),
//                events (the auth events and their hook)
//                mfa/ (a second factor's primitives: TOTP, recovery codes)
//                throttle/ (login throttling: settings, client address, device tokens)
//                                                (no module here imports the manager)
//      ↓
//   manager/     LoginManager and its builder; the request path (verify/), issuing,
//                keyring, sessions, several managers
//      ↓
//   extractors   extract/, login_route, middleware, refresh, routes/, testing,
//                openapi/ (what handlers and apps use)
mod cache;
mod claims;
pub mod cookie;
mod credentials;
mod csrf;
mod error;
pub mod events;
pub mod extract;
mod jws;
pub mod keys;
pub mod loader;
mod login_route;
mod manager;
#[cfg(feature = "mfa")]
#[cfg_attr(docsrs, doc(cfg(feature = "mfa")))]
pub mod mfa;
pub mod middleware;
mod oauth2;
#[cfg(feature = "oidc")]
#[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
pub mod oidc;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
pub mod password;
mod redirect;
pub mod refresh;
mod registry;
pub mod rejection;
pub mod routes;
mod secret;
pub mod session;
pub mod testing;
pub mod throttle;

pub use claims::Claims;
pub use error::{ConfigError, TokenError};
pub use extract::user::{AuthUser, Scoped};
pub use login_route::{Authenticated, LoginAccount, LoginError, PasswordGrant};
pub use manager::{LoginManager, LoginManagerBuilder, TokenRequest};
pub use oauth2::{OAuth2PasswordForm, TokenResponse};

/// axum-extra's cookie jar, which the cookie helpers take and return.
pub use axum_extra::extract::cookie::CookieJar;
/// The JWT algorithm type (re-exported from `jsonwebtoken`).
pub use jsonwebtoken::Algorithm;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use login_macros::{protected, user_loader};

/// Paths used by the code the macros generate. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::extract::user::{MaybeScoped, MaybeUser};
    pub use crate::extract::{AsLoginManager, RequiredScopes};
    pub use crate::loader::{HasUserLoader, LoaderOutput, UserLoader};
    pub use crate::manager::assert_manager;
    pub use crate::registry::{RouteScopes, assert_user_loader, manager_type_id};
    pub use crate::{AuthUser, LoginManager, Scoped};
    pub use axum;
    pub use axum::extract::FromRequestParts;
    pub use axum::http::request::Parts;
    pub use axum::response::{IntoResponse, Response};
    pub use core::future::Future;
    pub use core::marker::{PhantomData, Send, Sync};
    pub use core::option::Option;
    pub use core::result::Result;
    pub use inventory;
    pub use std::string::String;

    /// What `#[protected]` names in and next to a `#[utoipa::path]` when `login-macros` has
    /// its `openapi` feature. The order check is here even without `login`'s feature: a
    /// proc-macro's features are resolved apart from the target's (a host build of `login`,
    /// such as `login-macros`' doctests', may lack the feature that the macro has).
    pub mod openapi {
        #[cfg(feature = "openapi")]
        pub use crate::openapi::{Forbidden, StepUpRequired, Unauthorized};

        /// Implemented only by the stand-in `__path_<handler>` that `#[protected]` declares
        /// (behind a glob import) next to a handler without `#[utoipa::path]` under it. When
        /// `#[utoipa::path]` is written *above* `#[protected]`, utoipa's own `__path_<handler>`
        /// shadows the stand-in, and this bound fails with the message below.
        #[diagnostic::on_unimplemented(
            message = "`#[utoipa::path]` is above `#[protected]`, so this route is documented without its security",
            label = "write `#[protected]` above `#[utoipa::path(...)]`",
            note = "`#[protected]` adds the security requirement and the 401/403 responses to a `#[utoipa::path]` written under it"
        )]
        pub trait ProtectedAboveUtoipaPath {}

        /// Fails to compile when `T` is utoipa's `__path_<handler>` rather than the stand-in.
        pub const fn protected_above_utoipa_path<T: ProtectedAboveUtoipaPath>() {}
    }
}
