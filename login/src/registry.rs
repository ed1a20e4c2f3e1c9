//! The scopes that `#[protected(scopes = [...])]` handlers require, registered by the macro
//! (through `inventory`) so that [`build`](crate::LoginManagerBuilder::build) can check, at
//! start-up, that the manager knows every one of them: a typo in a scope name is a start-up
//! error naming the handler, not a 403 for everyone.

/// One scoped handler: where it is and the scopes it requires. Made by `#[protected]` only.
#[doc(hidden)]
#[derive(Debug)]
pub struct RouteScopes {
    /// The handler's path (`module::function`).
    pub handler: &'static str,
    /// The scopes it requires.
    pub scopes: &'static [&'static str],
    /// The source file of the handler.
    pub file: &'static str,
    /// The line of the `#[protected]` attribute.
    pub line: u32,
    /// The type of the manager of the handler's user type (`HasUserLoader::Manager`);
    /// `None` for a generic handler, whose scopes every manager checks.
    pub manager: Option<fn() -> std::any::TypeId>,
}

inventory::collect!(RouteScopes);

/// Every scoped handler linked into this binary.
pub(crate) fn routes() -> impl Iterator<Item = &'static RouteScopes> {
    inventory::iter::<RouteScopes>.into_iter()
}

/// Compile-time check used by `#[protected]`: `T` has a `#[user_loader]`.
#[doc(hidden)]
pub const fn assert_user_loader<T: crate::loader::HasUserLoader + ?Sized>() {}

/// The type of `U`'s manager, recorded by `#[protected]` with the route's scopes: each
/// manager checks at start-up the scopes of its own routes only. Naming it also checks, at
/// compile time, that `U` has a `#[user_loader]` (as [`assert_user_loader`] does).
#[doc(hidden)]
pub fn manager_type_id<U: crate::loader::HasUserLoader + ?Sized>() -> std::any::TypeId {
    std::any::TypeId::of::<U::Manager>()
}
