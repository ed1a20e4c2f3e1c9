// A loader may fail: `Result<Option<User>, E>` with `E: IntoResponse`.
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone)]
struct Db;

impl Db {
    async fn find(&self, email: &str) -> Result<Option<User>, DbError> {
        if email.is_empty() {
            return Err(DbError);
        }
        Ok(Some(User { name: email.to_owned() }))
    }
}

struct DbError;

impl IntoResponse for DbError {
    fn into_response(self) -> Response {
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    }
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(email: String, State(db): State<Db>) -> Result<Option<User>, DbError> {
    let user = db.find(&email).await?;
    Ok(user)
}

#[protected]
async fn me(user: User) -> String {
    user.name
}

fn main() {
    let _app: Router<AppState> = Router::new().route("/me", get(me));
}
