// `#[protected(optional)]`: the first parameter is `Option<User>`.
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(subject: String) -> Option<User> {
    Some(User { name: subject })
}

#[protected(optional)]
async fn home(user: Option<User>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |user| user.name)
}

// The `Option` may be spelled out in full.
#[protected(optional)]
async fn qualified(user: core::option::Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/", get(home))
        .route("/qualified", get(qualified));
}
