// The generated code does not depend on what `Result`, `Option`, `Box`, `String`, `Send`,
// `Sync` or `Future` mean in the user's scope.
#![allow(dead_code, non_camel_case_types)]

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

struct Result;
struct Option;
struct Box;
struct String;
struct Send;
struct Sync;
struct Future;
struct Vec;
struct Ok;
struct Err;
struct Some;
struct None;
trait IntoResponse {}
trait FromRequestParts {}
struct Parts;
struct Response;
struct __S;

#[derive(Clone)]
struct User {
    name: std::string::String,
}

#[derive(Clone)]
struct Db;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(
    subject: std::string::String,
    State(_db): State<Db>,
) -> core::option::Option<User> {
    core::option::Option::Some(User { name: subject })
}

#[protected]
async fn me(user: User) -> std::string::String {
    user.name
}

#[protected(optional)]
async fn home(user: core::option::Option<User>) -> std::string::String {
    user.map(|user| user.name).unwrap_or_default()
}

#[protected(optional, scopes = ["read"])]
async fn read(user: core::option::Option<User>) -> std::string::String {
    user.map(|user| user.name).unwrap_or_default()
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/home", get(home))
        .route("/read", get(read));
}
