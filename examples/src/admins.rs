//! Two managers in one app: **users** and **admins**, each with its own secret, login route,
//! cookie, scopes, CSRF and redirect settings, verified-token cache and sessions. The user
//! type names its manager (`#[user_loader(manager = Admins)]`), so `#[protected]` handlers
//! taking an `Admin` verify with the admins' manager only: a user's token is refused there,
//! and an admin's token on the users' routes.
//!
//! Routes:
//! - `POST /login`, `POST /login/cookie`: users log in (token response; cookie `access-token`)
//! - `GET /me` (`#[protected]` user), `POST /items` (`#[protected(scopes = ["write"])]`
//!   user)
//! - `POST /admin/login`, `POST /admin/login/cookie`: admins log in (token response with a
//!   refresh token; cookies `admin-token` and `admin-refresh`)
//! - `POST /admin/refresh`: `login::refresh::refresh_route_for::<Admins>`
//! - `GET /admin` (`#[protected]` admin; a browser without credentials is redirected to
//!   `/admin/login?next=/admin`), `DELETE /admin/users/{name}`
//!   (`#[protected(scopes = ["users:delete"])]` admin: deletes a user account)
//! - `GET /`: who is signed in, as a user and as an admin (the `attach_user` middleware, once
//!   per manager)
//!
//! Demo accounts: user `alice` / `wonderland`, admin `root` / `correct horse`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use login::password::Passwords;
use login::{
    CookieJar, LoginAccount, LoginError, LoginManager, PasswordGrant, define_manager,
    extract::SameOrigin, middleware::CurrentUser, middleware::attach_user, protected, user_loader,
};
use serde_json::{Value, json};

define_manager!(
    /// The admins' manager: a `LoginManager` of its own, told apart from the users' by its type.
    pub Admins
);

/// The app's state: both managers, the accounts, and the password hasher.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The users' manager (the extractors of `User` find it by its type, `LoginManager`).
    pub users: LoginManager,
    /// The admins' manager (the extractors of `Admin` find it by its type, `Admins`).
    pub admins: Admins,
    /// Every account.
    pub accounts: Accounts,
    /// Argon2id, bounded.
    pub passwords: Passwords,
}

/// A user of the app.
#[derive(Clone, Debug)]
pub struct User {
    /// The user's name (the users' tokens' subject).
    pub name: String,
    hash: String,
}

/// An administrator: another type, with another manager.
#[derive(Clone, Debug)]
pub struct Admin {
    /// The admin's name (the admins' tokens' subject).
    pub name: String,
    hash: String,
}

/// The accounts, in memory.
#[derive(Clone, Default)]
pub struct Accounts {
    users: Arc<RwLock<HashMap<String, User>>>,
    admins: Arc<HashMap<String, Admin>>,
}

impl Accounts {
    /// User `alice` / `wonderland` and admin `root` / `correct horse`; and, to show that the
    /// subjects of two managers are apart, a user named `root` too (not an admin).
    pub fn demo(passwords: &Passwords) -> Self {
        let hash = |password: &str| passwords.hash_blocking(password).expect("hashing works");
        let users = ["alice", "root"].map(|name| {
            let user = User {
                name: name.to_owned(),
                hash: hash("wonderland"),
            };
            (name.to_owned(), user)
        });
        let root = Admin {
            name: "root".to_owned(),
            hash: hash("correct horse"),
        };
        Accounts {
            users: Arc::new(RwLock::new(users.into_iter().collect())),
            admins: Arc::new(HashMap::from([("root".to_owned(), root)])),
        }
    }
}

impl Accounts {
    fn user(&self, name: &str) -> Option<User> {
        self.users.read().expect("not poisoned").get(name).cloned()
    }
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.hash)
    }
    fn allowed_scopes(&self) -> Vec<String> {
        vec!["write".to_owned()]
    }
}

impl LoginAccount for Admin {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.hash)
    }
    fn allowed_scopes(&self) -> Vec<String> {
        vec!["users:delete".to_owned()]
    }
}

/// The users' loader: `LoginManager` verifies their tokens (the default).
#[user_loader]
async fn load_user(name: String, State(accounts): State<Accounts>) -> Option<User> {
    accounts.user(&name)
}

/// The admins' loader: `Admins` verifies their tokens.
#[user_loader(manager = Admins)]
async fn load_admin(name: String, State(accounts): State<Accounts>) -> Option<Admin> {
    accounts.admins.get(&name).cloned()
}

/// The users' manager: cookie `access-token`. (In this crate the users' routes share their
/// manager type, `LoginManager`, with the other examples' routes, so each `LoginManager` that
/// declares scopes checks all of them: this one declares none — it then grants what an
/// account may hold — and `POST /items` requires `write`, which the others declare.)
pub fn users_manager(secret: &str) -> login::LoginManagerBuilder {
    LoginManager::builder("/login")
        .secret(secret)
        .use_cookie(true)
        .cookie_secure(false)
}

/// The admins' manager: its own secret, login route and cookies, scope `users:delete`,
/// sessions (refresh at `/admin/refresh`), its own login throttle and device cookie
/// (`admin-device`), and browsers sent to its login page.
/// `Admins::builder` (from `define_manager!`) checks the scopes of the admins' routes only.
pub fn admins_manager(secret: &str) -> login::LoginManagerBuilder {
    Admins::builder("/admin/login")
        .secret(secret)
        .use_cookie(true)
        .cookie_secure(false)
        .cookie_name("admin-token")
        .scopes([("users:delete", "Delete user accounts")])
        .redirect_to_login()
        .sessions()
        .refresh_path("/admin/refresh")
        .refresh_cookie_name("admin-refresh")
        .throttle(login::throttle::Throttle::default().device_cookie_name("admin-device"))
}

/// The app's router.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", post(user_login))
        .route("/login/cookie", post(user_login_cookie))
        .route("/me", get(me))
        .route("/items", post(create_item))
        .route("/admin/login", post(admin_login))
        .route("/admin/login/cookie", post(admin_login_cookie))
        .route(
            "/admin/refresh",
            post(login::refresh::refresh_route_for::<Admins>),
        )
        .route("/admin", get(dashboard))
        .route("/admin/users/{name}", delete(delete_user))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            attach_user::<Admin, AppState>,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            attach_user::<User, AppState>,
        ))
        .with_state(state)
}

async fn home(CurrentUser(user): CurrentUser<User>, admin: CurrentUser<Admin>) -> Json<Value> {
    Json(json!({
        "user": user.map(|u| u.name),
        "admin": admin.0.map(|a| a.name),
    }))
}

async fn user_login(
    State(state): State<AppState>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let user = state.accounts.user(grant.username());
    let login = grant.authenticate(&state.passwords, user).await?;
    login.token_response(&state.users).await
}

async fn user_login_cookie(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<(CookieJar, StatusCode), LoginError> {
    let user = state.accounts.user(grant.username());
    let login = grant.authenticate(&state.passwords, user).await?;
    Ok((
        login.set_cookies(&state.users, jar).await?,
        StatusCode::NO_CONTENT,
    ))
}

/// `PasswordGrant<Admins>`: the admins' manager's login throttle judges the attempt.
async fn admin_login(
    State(state): State<AppState>,
    grant: PasswordGrant<Admins>,
) -> Result<Response, LoginError> {
    let admin = state.accounts.admins.get(grant.username()).cloned();
    let login = grant.authenticate(&state.passwords, admin).await?;
    login.token_response(&state.admins).await
}

/// `SameOrigin<Admins>`: the login-CSRF guard with the admins' manager's origins.
async fn admin_login_cookie(
    _: SameOrigin<Admins>,
    State(state): State<AppState>,
    jar: CookieJar,
    grant: PasswordGrant<Admins>,
) -> Result<(CookieJar, StatusCode), LoginError> {
    let admin = state.accounts.admins.get(grant.username()).cloned();
    let login = grant.authenticate(&state.passwords, admin).await?;
    Ok((
        login.set_cookies(&state.admins, jar).await?,
        StatusCode::NO_CONTENT,
    ))
}

#[protected]
async fn me(user: User) -> Json<Value> {
    Json(json!({ "user": user.name }))
}

#[protected(scopes = ["write"])]
async fn create_item(user: User) -> (StatusCode, Json<Value>) {
    (StatusCode::CREATED, Json(json!({ "owner": user.name })))
}

#[protected]
async fn dashboard(admin: Admin) -> Json<Value> {
    Json(json!({ "admin": admin.name }))
}

/// Deletes a user account (not an admin's: another table): 204, or 404 for no such user.
#[protected(scopes = ["users:delete"])]
async fn delete_user(
    admin: Admin,
    State(accounts): State<Accounts>,
    Path(name): Path<String>,
) -> StatusCode {
    let removed = accounts.users.write().expect("not poisoned").remove(&name);
    tracing::info!(admin = %admin.name, user = %name, found = removed.is_some(), "delete user");
    if removed.is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}
