//! The `simple` app: fastapi-login's usage page as an axum server.
//!
//! - `POST /login` (form `username`, `password`, optional `scope`) → `{"access_token", "token_type", "expires_in"}`
//! - `POST /login/cookie` → sets the `access-token` cookie
//! - `POST /logout` → clears it
//! - `GET /protected` (`#[protected]`), `GET /optional` (`#[protected(optional)]`),
//!   `GET /scoped` (`#[protected(scopes = ["write"])]`)

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use login::password::{self, PasswordError};
use login::{
    CookieJar, InvalidCredentials, LoginManager, LoginManagerBuilder, OAuth2PasswordForm, TokenRequest, protected,
    user_loader,
};
use serde::Serialize;
use serde_json::{Value, json};

/// A user of the app. The password hash and the allowed scopes are never serialized.
#[derive(Clone, Serialize)]
pub struct User {
    /// The e-mail address: the token's subject.
    pub email: String,
    /// The display name.
    pub name: String,
    #[serde(skip)]
    password_hash: String,
    #[serde(skip)]
    scopes: Vec<String>,
}

/// The in-memory user store.
#[derive(Clone, Default)]
pub struct Db {
    users: Arc<HashMap<String, User>>,
}

impl Db {
    /// The two demo users, with Argon2id hashes made now (never plaintext at rest).
    pub fn demo() -> Self {
        let users = [
            (
                "johndoe@mail.com",
                "John Doe",
                "hunter2",
                &["read", "write"][..],
            ),
            (
                "janedoe@mail.com",
                "Jane Doe",
                "jane-secret-pw",
                &["read"][..],
            ),
        ]
        .into_iter()
        .map(|(email, name, pw, scopes)| {
            let user = User {
                email: email.to_owned(),
                name: name.to_owned(),
                password_hash: password::hash_blocking(pw)
                    .expect("demo passwords are within bounds"),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            };
            (email.to_owned(), user)
        })
        .collect();
        Db {
            users: Arc::new(users),
        }
    }

    /// Finds a user by e-mail.
    pub async fn find(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }
}

/// The app's state: the manager and the store, each reachable through `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The login manager.
    pub manager: LoginManager,
    /// The user store.
    pub db: Db,
}

/// Builds the manager the way the example does: HS256 with `secret`, the token read from the
/// `access-token` cookie and from the `Authorization: Bearer` header, 15-minute tokens.
pub fn manager(secret: &str) -> Result<LoginManager, login::ConfigError> {
    settings(LoginManager::builder("/login").secret(secret)).build()
}

/// The example's manager settings, whatever the key: both token sources and the known scopes.
pub fn settings(builder: LoginManagerBuilder) -> LoginManagerBuilder {
    builder
        .use_cookie(true)
        .use_header(true)
        .scopes([("read", "Read your data"), ("write", "Change your data")])
}

/// The app's router.
pub fn app(manager: LoginManager, db: Db) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/login/cookie", post(login_cookie))
        .route("/logout", post(logout))
        .route("/protected", get(protected_route))
        .route("/optional", get(optional_route))
        .route("/scoped", get(scoped_route))
        .with_state(AppState { manager, db })
}

/// Turns a token's subject into a user; the login route calls it too.
#[user_loader]
pub async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.find(&email).await
}

/// Why a login failed.
pub enum LoginError {
    /// Unknown user or wrong password: the same answer for both.
    Invalid,
    /// The password is empty or too long (refused before hashing).
    BadPassword(PasswordError),
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        match self {
            LoginError::Invalid => InvalidCredentials.into_response(),
            LoginError::BadPassword(PasswordError::Empty | PasswordError::TooLong) => (
                StatusCode::BAD_REQUEST,
                Json(json!({ "detail": "Password is empty or too long" })),
            )
                .into_response(),
            LoginError::BadPassword(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Checks the form's credentials and returns the user with the scopes to grant: the
/// requested ones the user may hold, or all of them when none were requested.
async fn authenticate(
    db: &Db,
    form: &OAuth2PasswordForm,
) -> Result<(User, Vec<String>), LoginError> {
    let user = load_user(form.username.clone(), State(db.clone())).await;
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    // An unknown user is checked against a dummy hash: same work, same answer.
    let ok = password::verify(&form.password, stored)
        .await
        .map_err(LoginError::BadPassword)?;
    let user = match user {
        Some(user) if ok => user,
        _ => return Err(LoginError::Invalid),
    };
    let scopes = if form.scope.is_empty() {
        user.scopes.clone()
    } else {
        form.scope
            .iter()
            .filter(|s| user.scopes.contains(s))
            .cloned()
            .collect()
    };
    Ok((user, scopes))
}

async fn login(
    State(state): State<AppState>,
    Form(form): Form<OAuth2PasswordForm>,
) -> Result<Response, LoginError> {
    let (user, scopes) = authenticate(&state.db, &form).await?;
    let response = state
        .manager
        .token_response(TokenRequest::new(user.email).scopes(scopes))
        .map_err(|_| LoginError::Invalid)?;
    Ok(response.into_response())
}

async fn login_cookie(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<OAuth2PasswordForm>,
) -> Result<(CookieJar, Json<Value>), LoginError> {
    let (user, scopes) = authenticate(&state.db, &form).await?;
    let token = state
        .manager
        .create_access_token(TokenRequest::new(user.email).scopes(scopes))
        .map_err(|_| LoginError::Invalid)?;
    Ok((
        state.manager.set_cookie(jar, token),
        Json(json!({ "status": "Success" })),
    ))
}

async fn logout(State(manager): State<LoginManager>, jar: CookieJar) -> (CookieJar, Json<Value>) {
    (
        manager.clear_cookie(jar),
        Json(json!({ "status": "Success" })),
    )
}

/// Only for authenticated users.
#[protected]
async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// For everyone; authenticated users are named.
#[protected(optional)]
async fn optional_route(user: Option<User>) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// Only for tokens that hold the `write` scope.
#[protected(scopes = ["write"])]
async fn scoped_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}
