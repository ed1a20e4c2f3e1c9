//! The `simple` app: fastapi-login's usage page as an axum server.
//!
//! - `POST /login` (form `username`, `password`, optional `scope`) → `{"access_token", "token_type", "expires_in"}`
//! - `POST /login/cookie` → sets the `access-token` cookie
//! - `POST /logout` → clears it
//! - `GET /protected` (`#[protected]`), `GET /optional` (`#[protected(optional)]`),
//!   `GET /scoped` (`#[protected(scopes = ["write"])]`)
//!
//! Instrumented for its tests: the store counts its lookups ([`Db::lookups`]), the password
//! checks go through the app's [`Passwords`] (a test can give it a counting scheme, see
//! [`app_with_passwords`]), and each protected handler opens a `tracing` span when its body
//! runs — so a test can show that a rejected request reached neither the store nor the handler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use login::password::{self, PasswordError, Passwords};
use login::{
    CookieJar, InvalidCredentials, LoginManager, LoginManagerBuilder, OAuth2PasswordForm,
    SameOrigin, TokenRequest, protected, user_loader,
};
use serde::Serialize;
use serde_json::{Value, json};

/// A user of the app. The password hash and the allowed scopes are never serialized, and
/// `Debug` leaves the hash out (so `tracing::debug!(?user)` never logs it).
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

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The in-memory user store. It counts its lookups, so that tests can show that a rejected
/// token never reaches it.
#[derive(Clone, Default)]
pub struct Db {
    users: Arc<RwLock<HashMap<String, User>>>,
    lookups: Arc<AtomicUsize>,
}

impl Db {
    /// The two demo users, with Argon2id hashes made now (never plaintext at rest).
    pub fn demo() -> Self {
        let db = Db::default();
        for (email, name, pw, scopes) in [
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
        ] {
            let hash = password::hash_blocking(pw).expect("demo passwords are within bounds");
            db.add_user(email, name, hash, scopes);
        }
        db
    }

    /// Adds (or replaces) a user, with a password hash made by `login::password`.
    pub fn add_user(&self, email: &str, name: &str, password_hash: String, scopes: &[&str]) {
        let user = User {
            email: email.to_owned(),
            name: name.to_owned(),
            password_hash,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        };
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        users.insert(email.to_owned(), user);
    }

    /// Finds a user by e-mail.
    pub async fn find(&self, email: &str) -> Option<User> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        users.get(email).cloned()
    }

    /// Replaces a user's password hash (after rehashing an outdated one at login).
    pub async fn set_password_hash(&self, email: &str, password_hash: String) {
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        if let Some(user) = users.get_mut(email) {
            user.password_hash = password_hash;
        }
    }

    /// How many times [`find`](Self::find) ran (the user loader and the login route call it).
    pub fn lookups(&self) -> usize {
        self.lookups.load(Ordering::SeqCst)
    }
}

/// The app's state: the manager, the store and the password hasher, each reachable through
/// `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The login manager.
    pub manager: LoginManager,
    /// The user store.
    pub db: Db,
    /// Password hashing and checking (Argon2id).
    pub passwords: Passwords,
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
    app_with_passwords(manager, db, Passwords::default())
}

/// The app's router, checking passwords with `passwords` (for example Argon2id with other
/// parameters or other [`PasswordLimits`](login::password::PasswordLimits), or wrapped to
/// count verifications in a test).
pub fn app_with_passwords(manager: LoginManager, db: Db, passwords: Passwords) -> Router {
    Router::new()
        .route("/login", post(login))
        .route("/login/cookie", post(login_cookie))
        .route("/logout", post(logout))
        .route("/protected", get(protected_route))
        .route("/optional", get(optional_route))
        .route("/scoped", get(scoped_route))
        .with_state(AppState {
            manager,
            db,
            passwords,
        })
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
    /// The password is empty or too long (refused before hashing: 400), or too many logins
    /// are in progress (`PasswordError::Busy`: 503 with `Retry-After`).
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
            // Too many logins in progress (a flood): 503 with `Retry-After`.
            LoginError::BadPassword(busy @ PasswordError::Busy) => busy.into_response(),
            LoginError::BadPassword(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    }
}

/// Checks the form's credentials and returns the user with the scopes to grant: the
/// requested ones the user may hold, or all of them when none were requested.
async fn authenticate(
    state: &AppState,
    form: &OAuth2PasswordForm,
) -> Result<(User, Vec<String>), LoginError> {
    let AppState { db, passwords, .. } = state;
    let user = load_user(form.username.clone(), State(db.clone())).await;
    let stored = user.as_ref().map(|u| u.password_hash.as_str());
    // An unknown user is checked against a dummy hash: same work, same answer.
    let ok = passwords
        .verify(&form.password, stored)
        .await
        .map_err(LoginError::BadPassword)?;
    let user = match user {
        Some(user) if ok => user,
        _ => return Err(LoginError::Invalid),
    };
    // A hash made with older parameters is upgraded now that the password is known.
    if passwords.needs_rehash(&user.password_hash)
        && let Ok(hash) = passwords.hash(&form.password).await
    {
        db.set_password_hash(&user.email, hash).await;
    }
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
    let (user, scopes) = authenticate(&state, &form).await?;
    let response = state
        .manager
        .token_response(TokenRequest::new(user.email).scopes(scopes))
        .map_err(|_| LoginError::Invalid)?;
    Ok(response.into_response())
}

/// Logs in with the cookie. `SameOrigin` refuses login CSRF: another site must not sign a
/// visitor in to an account of its choosing.
async fn login_cookie(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<OAuth2PasswordForm>,
) -> Result<(CookieJar, Json<Value>), LoginError> {
    let (user, scopes) = authenticate(&state, &form).await?;
    let token = state
        .manager
        .create_access_token(TokenRequest::new(user.email).scopes(scopes))
        .map_err(|_| LoginError::Invalid)?;
    Ok((
        state.manager.set_cookie(jar, token),
        Json(json!({ "status": "Success" })),
    ))
}

async fn logout(
    _: SameOrigin,
    State(manager): State<LoginManager>,
    jar: CookieJar,
) -> (CookieJar, Json<Value>) {
    (
        manager.clear_cookie(jar),
        Json(json!({ "status": "Success" })),
    )
}

/// Only for authenticated users.
#[protected]
#[tracing::instrument(skip_all)]
async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// For everyone; authenticated users are named.
#[protected(optional)]
#[tracing::instrument(skip_all)]
async fn optional_route(user: Option<User>) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// Only for tokens that hold the `write` scope.
#[protected(scopes = ["write"])]
#[tracing::instrument(skip_all)]
async fn scoped_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}
