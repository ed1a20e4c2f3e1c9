// `#[tracing::instrument]` above `#[protected]`: it sees `user: User` and may skip it.
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

#[tracing::instrument(skip(user), fields(name = %user.name))]
#[protected]
async fn me(user: User, body: String) -> String {
    tracing::info!("handling");
    user.name + &body
}

#[tracing::instrument(skip_all)]
#[protected(optional, scopes = ["read"])]
async fn read(user: Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/read", get(read));
}
