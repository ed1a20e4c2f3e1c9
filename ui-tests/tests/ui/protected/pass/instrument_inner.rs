// `#[tracing::instrument]` under `#[protected]`: it sees the rewritten parameter and still
// knows the user's binding by name.
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone, Debug)]
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

#[protected]
#[tracing::instrument(skip(user), fields(name = %user.name))]
async fn me(user: User, body: String) -> String {
    tracing::info!("handling");
    user.name + &body
}

// Recorded with `Debug`, like any other argument.
#[protected(optional, scopes = ["read"])]
#[tracing::instrument]
async fn read(user: Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/read", get(read));
}
