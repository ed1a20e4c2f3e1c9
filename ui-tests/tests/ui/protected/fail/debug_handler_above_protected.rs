// Fails: `#[axum::debug_handler]` above `#[protected]` sees `user: User`, which is not an
// extractor; write `#[protected]` first (the documented order).
use axum::extract::FromRef;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[axum::debug_handler(state = AppState)]
#[protected]
async fn me(_user: User) {}

fn main() {}
