//! Procedural macros of the [`login`](https://docs.rs/login) crate: `#[user_loader]` and
//! `#[protected]`.
//!
//! **Depend on `login`, not this crate.** `login` re-exports both macros, and the code they
//! generate names only `::login::__private::…`, so it compiles only where `login` is a
//! dependency (under that name).
//!
//! ```
//! use axum::{Router, routing::get};
//! use login::{LoginManager, protected, user_loader};
//!
//! #[derive(Clone)]
//! struct User {
//!     email: String,
//! }
//!
//! // How a token's subject becomes a `User`.
//! #[user_loader]
//! async fn load_user(email: String) -> Option<User> {
//!     (email == "john@mail.com").then(|| User { email })
//! }
//!
//! // Only requests with a valid token for a known user get here (401 otherwise).
//! #[protected]
//! async fn me(user: User) -> String {
//!     user.email
//! }
//!
//! let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
//! let app: Router = Router::new().route("/me", get(me)).with_state(manager);
//! # Ok::<(), login::ConfigError>(())
//! ```
//!
//! # Inspecting the expansion
//!
//! - `cargo expand` (from the `cargo-expand` tool) shows a module with the macros expanded.
//! - `LOGIN_MACROS_DEBUG=1 cargo build` prints every expansion of these macros to stderr while
//!   compiling (touch the file first so that it is recompiled).
//! - `login-macros/tests/expand/*.expanded.rs` holds the expansion of representative uses;
//!   the crate's tests compare against them (`LOGIN_EXPAND_OVERWRITE=1` rewrites them).

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]
#![doc(test(
    no_crate_inject,
    attr(deny(warnings), allow(dead_code, unused_variables))
))]

use proc_macro::TokenStream;

mod args;
mod debug;
mod error;
mod openapi;
mod paths;
mod protected;
mod ty;
mod user_loader;

#[cfg(test)]
mod expand_tests;

/// Registers an `async fn` as the loader of its user type: how a token's subject (`sub`)
/// becomes your user.
///
/// ```
/// use axum::extract::State;
/// use login::user_loader;
///
/// #[derive(Clone)]
/// struct User {
///     email: String,
/// }
///
/// #[derive(Clone)]
/// struct Db;
///
/// impl Db {
///     async fn find(&self, email: &str) -> Option<User> {
///         Some(User { email: email.to_owned() })
///     }
/// }
///
/// #[user_loader]
/// async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
///     db.find(&email).await
/// }
/// ```
///
/// - The first parameter receives the subject and must be a `String`.
/// - Every further parameter is any axum extractor (`FromRequestParts<S>` for the router's
///   state `S`): `State<Db>`, `Extension<Pool>`, a `TypedHeader`, …; patterns such as
///   `State(db)` work as in a handler.
/// - It returns `Option<User>` (`None`: unknown user, 401) or `Result<Option<User>, E>` with
///   `E: IntoResponse` (`Err`: the store failed; `E`'s response, typically a 5xx, is sent as is,
///   also on optional routes).
///
/// The function stays exactly as written and can still be called (a login route may use it
/// to look the user up).
///
/// # Several managers: `#[user_loader(manager = Admins)]`
///
/// The extractors of a user type verify its tokens with its manager, which they take from the
/// router's state with `FromRef`: `LoginManager` by default. An app with a second manager
/// (admins with their own secret, login route and cookie) declares a type for it with
/// `login::define_manager!`, puts both in the state, and names it on the second user type:
///
/// ```
/// use axum::extract::FromRef;
/// use login::{LoginManager, define_manager, protected, user_loader};
///
/// define_manager!(pub Admins);
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     users: LoginManager,
///     admins: Admins,
/// }
///
/// #[derive(Clone)]
/// struct Admin { name: String }
///
/// #[user_loader(manager = Admins)]
/// async fn load_admin(name: String) -> Option<Admin> {
///     (name == "root").then(|| Admin { name })
/// }
///
/// #[protected] // verifies with the admins' manager: a user's token is refused here
/// async fn dashboard(admin: Admin) -> String {
///     admin.name
/// }
/// ```
///
/// A type that holds no manager is an error at `manager = …`; a manager that the state does
/// not hold is reported at the router (with `#[axum::debug_handler(state = …)]` on the
/// handler: "the trait bound `Admins: FromRef<AppState>` is not satisfied").
///
/// # Equivalent code without `#[user_loader]`
///
/// The attribute adds, next to the function, the two impls you would otherwise write by hand
/// (the generated ones also carry `#[automatically_derived]` and name everything through
/// `::login::__private`):
///
/// ```
/// use axum::extract::{FromRequestParts, State};
/// use axum::http::request::Parts;
/// use axum::response::{IntoResponse, Response};
///
/// # #[derive(Clone)]
/// # struct User;
/// # #[derive(Clone)]
/// # struct Db;
/// # async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
/// #     Some(User)
/// # }
/// impl<S> login::loader::UserLoader<S> for User
/// where
///     S: Send + Sync + 'static,
///     State<Db>: FromRequestParts<S>,
/// {
///     async fn load_user(subject: String, parts: &mut Parts, state: &S)
///         -> Result<Option<Self>, Response>
///     {
///         let arg1 = match State::<Db>::from_request_parts(parts, state).await {
///             Ok(value) => value,
///             Err(rejection) => return Err(rejection.into_response()),
///         };
///         // A `Result<Option<User>, E>` loader turns `Err(e)` into `e.into_response()`.
///         Ok(load_user(subject, arg1).await)
///     }
/// }
///
/// impl login::loader::HasUserLoader for User {
///     type Manager = login::LoginManager; // or the `manager = …` type
/// }
/// ```
///
/// # Errors
///
/// A compile error on the offending tokens when the function is not `async`, is `unsafe`,
/// has generics or a `self` receiver, has no `String` subject first, or returns anything other
/// than `Option<User>` / `Result<Option<User>, E>`. A user type from another crate (`String`,
/// `u64`, `Arc<User>`, `Vec<..>`, `std::…`) cannot get the impls (Rust's orphan rule):
///
/// ```text
/// error: `Arc<User>` is defined in another crate, so `#[user_loader]` cannot implement
///        `login::loader::UserLoader` for it (Rust's orphan rule); wrap it in a newtype: ...
/// ```
///
/// The error is the only one: the function is kept as written and, when its return type
/// names a user type (`Option<User>`, `Result<User, E>`, even `User`), a stand-in loader
/// impl for that type keeps its `#[protected]` handlers from reporting a second error.
///
/// An argument that is not an extractor is reported where a concrete state is known: at the
/// router, or at a `#[protected]` handler checked by `#[axum::debug_handler(state = …)]`,
/// with a note on the argument's type in the loader's signature.
///
/// # Limitations
///
/// - One loader per user type (two are "conflicting implementations").
/// - A free function only: not an associated function inside an `impl` block.
#[proc_macro_attribute]
pub fn user_loader(args: TokenStream, item: TokenStream) -> TokenStream {
    debug::dump("user_loader", user_loader::expand(args.into(), item.into())).into()
}

/// Makes an async axum handler receive the authenticated user in its **first parameter**.
///
/// ```
/// use axum::{Router, http::StatusCode, routing::{get, post}};
/// use login::{LoginManager, protected, user_loader};
///
/// # #[derive(Clone)]
/// # struct User {
/// #     name: String,
/// # }
/// # #[user_loader]
/// # async fn load_user(name: String) -> Option<User> {
/// #     Some(User { name })
/// # }
/// // 401 without a user.
/// #[protected]
/// async fn me(user: User) -> String {
///     user.name
/// }
///
/// // `None` without a user.
/// #[protected(optional)]
/// async fn home(user: Option<User>) -> String {
///     user.map_or_else(|| "Hello, stranger".to_owned(), |user| format!("Hello, {}", user.name))
/// }
///
/// // 403 without the scope.
/// #[protected(scopes = ["items:write"])]
/// async fn create(user: User, item: String) -> StatusCode {
///     StatusCode::CREATED
/// }
///
/// #[protected(optional, scopes = ["read"])]
/// async fn feed(user: Option<User>) -> String {
///     user.map(|user| user.name).unwrap_or_default()
/// }
///
/// // Step-up (RFC 9470): 401 `insufficient_user_authentication` unless the user logged in
/// // (or re-authenticated) within the last 10 minutes, with `max_age="600"` in the challenge.
/// #[protected(fresh = "10m")]
/// async fn change_email(user: User, email: String) -> StatusCode {
///     StatusCode::NO_CONTENT
/// }
///
/// // Step-up: the token's `amr` (RFC 8176) must hold `otp`, a one-time code at login.
/// #[protected(factors = ["otp"])]
/// async fn payouts(user: User) -> String {
///     user.name
/// }
///
/// let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .route("/", get(home))
///     .route("/items", post(create))
///     .route("/feed", get(feed))
///     .route("/email", post(change_email))
///     .route("/payouts", get(payouts))
///     .with_state(manager);
/// # Ok::<(), login::ConfigError>(())
/// ```
///
/// Only the first parameter changes: the body, return type (`impl IntoResponse`, `?`),
/// visibility, docs, other attributes and spans stay as written, and the function is still a
/// plain handler to route. Rejection happens in the extractor, before the body runs.
///
/// A handler that needs only the verified token takes `login::Claims` (or
/// `login::extract::ClaimsOf<M>` for a second manager) as its "user": the token is checked
/// (scopes and `optional` too) and documented as for any user, and no `#[user_loader]` runs.
///
/// ```
/// use login::{Claims, protected};
///
/// #[protected]
/// async fn whoami(claims: Claims) -> String {
///     claims.sub
/// }
/// ```
///
/// # Equivalent code without `#[protected]`
///
/// ```
/// # use axum::http::StatusCode;
/// # #[derive(Clone)]
/// # struct User {
/// #     name: String,
/// # }
/// # #[login::user_loader]
/// # async fn load_user(name: String) -> Option<User> {
/// #     Some(User { name })
/// # }
/// async fn me(login::AuthUser(user): login::AuthUser<User>) -> String {
///     user.name
/// }
///
/// // `optional`: the macro writes a pattern-friendly twin of `Option<AuthUser<User>>`.
/// async fn home(user: Option<login::AuthUser<User>>) -> String {
///     user.map(|login::AuthUser(user)| user.name).unwrap_or_default()
/// }
///
/// // `scopes = ["items:write"]`: a hidden marker type next to the handler.
/// #[doc(hidden)]
/// #[allow(non_camel_case_types)]
/// struct __login_scopes_create;
///
/// impl login::extract::RequiredScopes for __login_scopes_create {
///     const SCOPES: &'static [&'static str] = &["items:write"];
/// }
///
/// async fn create(
///     login::Scoped(user, _): login::Scoped<User, __login_scopes_create>,
///     item: String,
/// ) -> StatusCode {
///     StatusCode::CREATED
/// }
///
/// // And for each handler: a compile-time check that `User` has a `#[user_loader]`.
/// const _: () = login::__private::assert_user_loader::<User>();
/// ```
///
/// # Errors
///
/// A compile error on the offending tokens for: a non-`async` fn, no first parameter or a
/// `self` receiver, `optional` whose first parameter is not `Option<User>` (or an `Option`
/// without `optional`), unknown, repeated or malformed arguments ("expected one of:
/// `optional`, `scopes`, `fresh`, `factors`"), scopes that are not string literals, an empty
/// list, scopes that are not RFC 6749 scope-tokens (empty, whitespace, `"` or `\`), a `fresh`
/// duration that is not a whole number and one unit (`s`, `m`, `h`, `d`) between one second
/// and 30 days, and a factor that is not an RFC 8176 authentication method (`otp`, `hwk`,
/// `mfa`, `pwd`, …). A user type without a loader:
///
/// ```compile_fail,E0277
/// use login::protected;
///
/// #[derive(Clone)]
/// struct User;
///
/// // No `#[user_loader]` returns a `User`.
/// #[protected]
/// async fn me(user: User) {}
/// ```
///
/// ```text
/// error[E0277]: no `#[user_loader]` for `User`
///   |
/// 9 | async fn me(user: User) {}
///   |                   ^^^^ this user type has no `#[user_loader]`
/// ```
///
/// Each mistake is the only error: the handler is still expanded with a best guess (the
/// arguments that parse, `optional` when the parameter is an `Option`, `async` added, `&User`
/// received by reference), so routing it does not add "`Handler<_, _>` is not implemented".
///
/// # OpenAPI (`login`'s `openapi` feature)
///
/// Written **above** a `#[utoipa::path(...)]`, `#[protected]` documents the route: it adds
/// `security(...)` (the schemes of `login::openapi::LoginSecurity` with the route's scopes,
/// and `()` too for `optional`) unless the attribute has one, and puts the 401 (and, with
/// `scopes`, the 403) first in `responses(...)`, so that a response written for the same
/// status wins. `#[utoipa::path]` written above `#[protected]` has expanded already; that
/// order is a compile error that says to write `#[protected]` first (detected through a
/// hidden `__path_<handler>` behind a glob import next to a handler without
/// `#[utoipa::path]`, which utoipa's own struct shadows; in a module that also glob-imports a
/// documented handler of the same name, rename one of them). Without the feature the
/// expansion is the one described above.
///
/// # Limitations
///
/// - Write `#[protected]` **above** `#[axum::debug_handler]`, so that `debug_handler` sees
///   the extractor; give it the router's state: `#[axum::debug_handler(state = AppState)]`.
///   `#[tracing::instrument]` works in either order.
/// - The attribute adds items next to the function (the loader check, and the marker type
///   of `scopes`), so the handler must be a free function, not an associated function inside
///   an `impl` block.
/// - The loader check is skipped for generic handlers; the router still requires the loader.
#[proc_macro_attribute]
pub fn protected(args: TokenStream, item: TokenStream) -> TokenStream {
    debug::dump("protected", protected::expand(args.into(), item.into())).into()
}
