//! Several managers in one app: the types that hold a [`LoginManager`] and that a user type
//! names as its manager.

use super::LoginManager;

/// A type that holds a [`LoginManager`]: the manager itself, or a newtype made with
/// [`define_manager!`](crate::define_manager) for a second manager of the same app (users and
/// admins, with different secrets, token URLs and cookies).
///
/// A user type names its manager type (`#[user_loader(manager = Admins)]`,
/// [`HasUserLoader::Manager`](crate::loader::HasUserLoader::Manager)); its extractors take that type
/// from the router's state with `FromRef` and verify with the manager inside. Two managers in
/// one state must therefore be two types, which is what the newtype is for.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a login manager",
    label = "not a `LoginManager`, nor a type made with `login::define_manager!`",
    note = "declare the second manager's type with `login::define_manager!(pub {Self});` (a newtype around `LoginManager`), or implement `login::extract::AsLoginManager` for it"
)]
pub trait AsLoginManager: Clone + Send + Sync + 'static {
    /// The manager inside.
    fn login_manager(&self) -> &LoginManager;
}

impl AsLoginManager for LoginManager {
    fn login_manager(&self) -> &LoginManager {
        self
    }
}

/// Compile-time check used by `#[user_loader(manager = M)]`: `M` holds a manager.
#[doc(hidden)]
pub const fn assert_manager<M: AsLoginManager>() {}

/// Declares a newtype around [`LoginManager`] for a second manager in one app, so that the
/// state can hold both and each user type can name its own.
///
/// `define_manager!(pub Admins);` declares `pub struct Admins(pub LoginManager)` with `Clone`,
/// `Debug`, [`AsLoginManager`], `Deref<Target = LoginManager>` (call the manager's methods on
/// it), `From<LoginManager>`, and `Admins::builder(token_url)`: a [`LoginManager::builder`]
/// that knows it builds the admins' manager, so that its
/// [`build`](crate::LoginManagerBuilder::build) checks the scopes of the admins' routes (and
/// not the users').
///
/// ```
/// use axum::extract::FromRef;
/// use login::{LoginManager, define_manager};
///
/// define_manager!(
///     /// The admins' manager: its own secret, login route and cookie.
///     pub Admins
/// );
///
/// #[derive(Clone, FromRef)]
/// struct AppState {
///     users: LoginManager,
///     admins: Admins,
/// }
///
/// # fn main() -> Result<(), login::ConfigError> {
/// let admins = Admins::builder("/admin/login")
///     .secret("another-32-byte-or-longer-secret-from-env")
///     .cookie_name("admin-token")
///     .build()?;
/// let state = AppState {
///     users: LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?,
///     admins: Admins(admins),
/// };
/// assert_eq!(state.admins.token_url(), "/admin/login"); // the manager's methods, through Deref
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! define_manager {
    ($(#[$attr:meta])* $vis:vis $name:ident) => {
        $(#[$attr])*
        #[derive(Clone, Debug)]
        $vis struct $name(pub $crate::LoginManager);

        impl $name {
            /// A builder for this manager: `LoginManager::builder(token_url)` that checks, at
            /// `build()`, the scopes of the routes whose user names this type.
            #[allow(dead_code)]
            $vis fn builder(token_url: impl ::core::convert::Into<::std::string::String>)
                -> $crate::LoginManagerBuilder {
                $crate::LoginManager::builder(token_url).manager_type::<$name>()
            }
        }

        impl $crate::__private::AsLoginManager for $name {
            fn login_manager(&self) -> &$crate::LoginManager {
                &self.0
            }
        }

        impl ::core::ops::Deref for $name {
            type Target = $crate::LoginManager;
            fn deref(&self) -> &$crate::LoginManager {
                &self.0
            }
        }

        impl ::core::convert::From<$crate::LoginManager> for $name {
            fn from(manager: $crate::LoginManager) -> Self {
                $name(manager)
            }
        }
    };
}
