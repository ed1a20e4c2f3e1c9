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
//! ## Errors (RFC 6750)
//!
//! | situation | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no credentials | 401 | `Bearer` |
//! | bad, expired or unknown-user token | 401 | `Bearer error="invalid_token"` |
//! | two `Authorization` headers | 400 | `Bearer error="invalid_request"` |
//! | missing scope | 403 | `Bearer error="insufficient_scope", scope="..."` |
//! | the loader failed | the loader error's own response (a 5xx) | — |
//!
//! The body is `{"detail": "..."}`, as fastapi-login. fastapi-login answers 400 for a missing
//! scope; RFC 6750 §3.1 says 403, which is what you get here. Replace any of these responses
//! with [`LoginManagerBuilder::on_rejection`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(all(feature = "rust_crypto", feature = "aws_lc_rs"))]
compile_error!(
    "the `login` features `rust_crypto` and `aws_lc_rs` are two JWT crypto backends: enable one of them (`default-features = false, features = [\"macros\", \"aws_lc_rs\"]` for AWS-LC)"
);

// Layers (each imports only from the layers above it; checked by `tests/layers.rs`):
//
//   leaves       error, secret, claims, keys, cache, cookie, credentials, csrf, redirect,
//                form, loader, password, registry, session/ (store trait, memory store,
//                revocation view)                (no module here imports the manager)
//      ↓
//   manager/     LoginManager (mod.rs) and its builder, keyring, issue, verify and sessions
//      ↓
//   extractors   extract, endpoint, middleware, refresh, testing, openapi (what handlers and apps use)
mod cache;
mod claims;
mod cookie;
mod credentials;
mod csrf;
mod endpoint;
mod error;
mod extract;
mod form;
mod jws;
pub mod keys;
mod loader;
mod manager;
mod middleware;
#[cfg(feature = "openapi")]
#[cfg_attr(docsrs, doc(cfg(feature = "openapi")))]
pub mod openapi;
pub mod password;
mod redirect;
mod refresh;
mod registry;
mod secret;
pub mod session;
pub mod testing;

pub use cache::{
    DEFAULT_TOKEN_CACHE_BYTES, DEFAULT_TOKEN_CACHE_CAPACITY, MAX_CACHED_TOKEN_BYTES,
    TOKEN_CACHE_ENTRY_BYTES,
};
pub use claims::Claims;
pub use cookie::DEFAULT_COOKIE_NAME;
pub use credentials::TokenSource;
pub use endpoint::{Authenticated, LoginAccount, LoginError, PasswordGrant};
pub use error::{
    AuthRejection, ConfigError, RejectionContext, RejectionKind, SameOriginError, TokenError,
    UNAVAILABLE_RETRY_AFTER_SECS, VerifyError, default_response,
};
pub use extract::{
    AuthUser, ClaimsOf, MaybeScoped, MaybeUser, RequiredScopes, SameOrigin, Scoped, user_from_token,
};
pub use form::{InvalidCredentials, OAuth2PasswordForm, TokenResponse};
pub use keys::{KeyKind, SigningKey, VerifyingKey};
pub use loader::{HasUserLoader, LoaderOutput, TokenUserError, UserLoader};
pub use manager::{
    AsLoginManager, DEFAULT_LIFETIME, DEFAULT_REFRESH_COOKIE_NAME, DEFAULT_REFRESH_PATH,
    LoginManager, LoginManagerBuilder, MAX_LEEWAY_SECS, MAX_REFRESH_GRACE, MAX_TOKEN_BYTES,
    TokenRequest,
};
pub use middleware::{CurrentUser, attach_user};
pub use redirect::safe_next;
pub use refresh::{
    GrantError, RefreshRequest, RefreshSource, UserAgent, refresh_route, refresh_route_for,
};
pub use secret::Secret;
pub use session::{MemoryStore, RefreshError, Session, SessionError, SessionStore, SessionTokens};

/// axum-extra's cookie jar, which the cookie helpers take and return.
pub use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
/// The JWT algorithm type (re-exported from `jsonwebtoken`).
pub use jsonwebtoken::Algorithm;
/// JWK types (re-exported from `jsonwebtoken`), for [`LoginManager::jwks`].
pub use jsonwebtoken::jwk;

#[cfg(feature = "macros")]
#[doc(inline)]
pub use login_macros::{protected, user_loader};

/// Paths used by the code the macros generate. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::LoginManager;
    pub use crate::loader::{LoaderOutput, assert_user_loader, manager_type_id};
    pub use crate::manager::assert_manager;
    pub use crate::registry::RouteScopes;
    pub use crate::{
        AuthUser, HasUserLoader, MaybeScoped, MaybeUser, RequiredScopes, Scoped, UserLoader,
    };
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
        pub use crate::openapi::{Forbidden, Unauthorized};

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
