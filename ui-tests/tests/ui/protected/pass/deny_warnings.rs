// The expansions are warning-free under strict lints, with the extractor types also in scope
// (no `unused_qualifications` on the generated `::login::__private::...` paths).
#![deny(
    warnings,
    unused_qualifications,
    dead_code,
    missing_docs,
    missing_debug_implementations,
    missing_copy_implementations,
    unreachable_pub,
    unused_results,
    trivial_casts,
    unused_lifetimes
)]
//! Lints.

use axum::Router;
use axum::extract::{FromRef, State};
use login::{AuthUser, LoginManager, Scoped, extract::RequiredScopes, protected, user_loader};

/// The user.
#[derive(Clone, Debug)]
pub struct User {
    name: String,
}

/// The store.
#[derive(Clone, Copy, Debug)]
pub struct Db;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(subject: String, State(_db): State<Db>) -> Option<User> {
    Some(User { name: subject })
}

mod api {
    use super::{User, protected};

    /// Required.
    #[protected]
    pub(crate) async fn me(user: User) -> String {
        user.name
    }

    /// Optional.
    #[protected(optional)]
    pub(crate) async fn home(user: Option<User>) -> String {
        user.map(|user| user.name).unwrap_or_default()
    }

    /// Scoped.
    #[protected(scopes = ["write"])]
    pub(crate) async fn write(user: User) -> String {
        user.name
    }

    /// Optional and scoped.
    #[protected(optional, scopes = ["read"])]
    pub(crate) async fn read(user: Option<User>) -> String {
        user.map(|user| user.name).unwrap_or_default()
    }
}

/// Written by hand next to the generated ones.
async fn by_hand(AuthUser(user): AuthUser<User>, _again: Option<AuthUser<User>>) -> String {
    user.name
}

#[derive(Clone, Copy)]
struct Admin;
impl RequiredScopes for Admin {
    const SCOPES: &'static [&'static str] = &["admin"];
}

async fn admin(Scoped(user, _): Scoped<User, Admin>) -> String {
    user.name
}

fn main() {
    let app: Router<AppState> = Router::new()
        .route("/me", axum::routing::get(api::me))
        .route("/home", axum::routing::get(api::home))
        .route("/write", axum::routing::post(api::write))
        .route("/read", axum::routing::get(api::read))
        .route("/by-hand", axum::routing::get(by_hand))
        .route("/admin", axum::routing::get(admin));
    drop(app);
}
