// Fails: the first parameter is an extractor, not the subject. A stand-in loader keeps the handlers of `User` routable.
use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

use axum::extract::State;

#[derive(Clone)]
struct Db;

#[user_loader]
async fn load_user(State(_db): State<Db>) -> Option<User> {
    Some(User)
}

#[protected]
async fn me(_user: User) {}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/me", get(me));
}
