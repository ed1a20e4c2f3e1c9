//! Procedural macros of the [`login`](https://docs.rs/login) crate: `#[user_loader]` and
//! `#[protected]`.
//!
//! **Depend on `login`, not this crate.** `login` re-exports both macros, and the code they
//! generate names only `::login::__private::…`, so it compiles only where `login` is a
//! dependency (under that name).
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

use proc_macro::TokenStream;

mod args;
mod debug;
mod error;
mod paths;
mod protected;
mod ty;
mod user_loader;

#[cfg(test)]
mod expand_tests;

/// Registers an `async fn` as the loader of its user type: how a token's subject (`sub`)
/// becomes your user.
///
/// ```ignore
/// use axum::extract::State;
/// use login::user_loader;
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
/// to look the user up). The attribute adds, next to it:
///
/// ```ignore
/// impl<S> login::UserLoader<S> for User
/// where
///     S: Send + Sync + 'static,
///     State<Db>: axum::extract::FromRequestParts<S>,
/// {
///     fn load_user(subject: String, parts: &mut Parts, state: &S)
///         -> impl Future<Output = Result<Option<Self>, Response>> + Send
///     {
///         async move {
///             let arg1 = match <State<Db> as FromRequestParts<S>>::from_request_parts(parts, state).await {
///                 Ok(value) => value,
///                 Err(rejection) => return Err(rejection.into_response()),
///             };
///             LoaderOutput::into_load_result(load_user(subject, arg1).await)
///         }
///     }
/// }
/// impl login::HasUserLoader for User {}
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
///        `login::UserLoader` for it (Rust's orphan rule); wrap it in a newtype: ...
/// ```
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
/// ```ignore
/// use login::protected;
///
/// #[protected]
/// async fn me(user: User) -> Json<User> { Json(user) }                  // 401 without a user
///
/// #[protected(optional)]
/// async fn home(user: Option<User>) -> String { /* … */ }                // None without a user
///
/// #[protected(scopes = ["items:write"])]
/// async fn create(user: User, Json(item): Json<Item>) -> StatusCode { /* … */ } // 403 without the scope
///
/// #[protected(optional, scopes = ["read"])]
/// async fn feed(user: Option<User>) -> String { /* … */ }
/// ```
///
/// Only the first parameter changes: the body, return type (`impl IntoResponse`, `?`),
/// visibility, docs, other attributes and spans stay as written, and the function is still a
/// plain handler to route. Rejection happens in the extractor, before the body runs.
///
/// # Equivalent code without `#[protected]`
///
/// ```ignore
/// async fn me(login::AuthUser(user): login::AuthUser<User>) -> Json<User> { Json(user) }
/// async fn home(login::MaybeUser(user): login::MaybeUser<User>) -> String { /* … */ }
///
/// // `scopes = ["items:write"]`: a hidden marker type next to the handler.
/// #[doc(hidden)]
/// struct __login_scopes_create;
/// impl login::RequiredScopes for __login_scopes_create {
///     const SCOPES: &'static [&'static str] = &["items:write"];
/// }
/// async fn create(
///     login::Scoped(user, _): login::Scoped<User, __login_scopes_create>,
///     Json(item): Json<Item>,
/// ) -> StatusCode { /* … */ }
///
/// // And for each handler: a compile-time check that `User` has a `#[user_loader]`.
/// const _: () = login::__private::assert_user_loader::<User>();
/// ```
///
/// # Errors
///
/// A compile error on the offending tokens for: a non-`async` fn, no first parameter or a
/// `self` receiver, `optional` whose first parameter is not `Option<User>` (or an `Option`
/// without `optional`), unknown, repeated or malformed arguments ("expected `optional` or
/// `scopes`"), scopes that are not string literals, an empty list, and scopes that are not
/// RFC 6749 scope-tokens (empty, whitespace, `"` or `\`). A user type without a loader:
///
/// ```text
/// error[E0277]: no `#[user_loader]` for `User`
///   |
/// 5 | async fn me(user: User) -> String {
///   |                   ^^^^ this user type has no `#[user_loader]`
/// ```
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
