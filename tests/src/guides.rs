//! The guides in `docs/`, compiled and run as doctests: `cargo test -p login-tests --doc`.
//!
//! Each guide is the documentation of one item below, so every ```` ```rust ```` block in it is a
//! doctest of this crate (whose dev-dependencies are what the snippets use). The README's quick
//! start is built by `tests/quickstart.rs` instead, in a fresh crate.
//!
//! Rustdoc merges the doctests into one binary, so a manager built with `.scopes(..)` sees
//! every `#[protected(scopes = ..)]` handler of every guide (the start-up check of route
//! scopes): such a snippet is marked `rust,standalone_crate` to be built on its own.

macro_rules! guides {
    ($($name:ident = $file:literal,)*) => {$(
        #[doc = include_str!(concat!("../../docs/", $file))]
        pub struct $name;
    )*};
}

guides! {
    AppExample = "app-example.md",
    AuthEvents = "auth-events.md",
    CookiesAndCsrf = "cookies-and-csrf.md",
    IdentityProviders = "identity-providers.md",
    LoginRoute = "login-route.md",
    LoginThrottling = "login-throttling.md",
    Macros = "macros.md",
    Manager = "manager.md",
    ManyInstances = "many-instances.md",
    Openapi = "openapi.md",
    Passwords = "passwords.md",
    PerformanceInDebugBuilds = "performance-in-debug-builds.md",
    SecondFactor = "second-factor.md",
    Security = "security.md",
    Sessions = "sessions.md",
    SeveralManagers = "several-managers.md",
    TestingYourRoutes = "testing-your-routes.md",
    TokensAndKeys = "tokens-and-keys.md",
    Websockets = "websockets.md",
}
