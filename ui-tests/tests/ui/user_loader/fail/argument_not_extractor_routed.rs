// Fails: a loader argument that is not an extractor, found when the handler is routed
// (without `#[axum::debug_handler]`, rustc can only say the handler is not a `Handler`).
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(_subject: String, _flag: bool) -> Option<User> {
    Some(User)
}

#[protected]
async fn me(_user: User) {}

fn main() {
    let _app: Router<AppState> = Router::new().route("/me", get(me));
}
