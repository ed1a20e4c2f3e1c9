// `#[axum::debug_handler]` written under `#[protected]` sees the extractor.
use axum::Json;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone)]
struct Db;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(subject: String, State(_db): State<Db>) -> Option<User> {
    Some(User { name: subject })
}

#[protected]
#[axum::debug_handler(state = AppState)]
async fn me(user: User) -> String {
    user.name
}

#[protected(optional)]
#[axum::debug_handler(state = AppState)]
async fn home(user: Option<User>, State(_db): State<Db>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

#[protected(scopes = ["write"])]
#[axum::debug_handler(state = AppState)]
async fn write(user: User, Json(body): Json<String>) -> String {
    user.name + &body
}

#[protected(optional, scopes = ["read"])]
#[axum::debug_handler(state = AppState)]
async fn read(user: Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/home", get(home))
        .route("/write", get(write))
        .route("/read", get(read));
}
