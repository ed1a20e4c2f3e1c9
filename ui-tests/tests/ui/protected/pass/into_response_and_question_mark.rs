// Return types stay as written: `impl IntoResponse`, `Result<_, E>` and `?` in the body.
use axum::Router;
use axum::extract::FromRef;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

struct AppError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl From<std::num::ParseIntError> for AppError {
    fn from(_: std::num::ParseIntError) -> Self {
        AppError
    }
}

#[protected]
async fn age(user: User) -> Result<impl IntoResponse, AppError> {
    let age: u32 = user.name.parse()?;
    Ok((StatusCode::OK, age.to_string()))
}

#[protected(optional)]
async fn maybe(user: Option<User>) -> impl IntoResponse {
    match user {
        Some(user) => (StatusCode::OK, user.name).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/age", get(age))
        .route("/maybe", get(maybe));
}
