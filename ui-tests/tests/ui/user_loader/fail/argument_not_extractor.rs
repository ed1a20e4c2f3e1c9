// Fails: a loader argument that is not an extractor; `#[axum::debug_handler]` on a handler
// of that user reports it, with a note on the argument in the loader's signature.
use axum::extract::FromRef;
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
#[axum::debug_handler(state = AppState)]
async fn me(_user: User) {}

fn main() {}
