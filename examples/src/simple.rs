//! The `simple` app: fastapi-login's usage page as an axum server.
//!
//! - `POST /login` (form `username`, `password`, optional `scope`) → `{"access_token", "token_type", "expires_in"}`
//! - `POST /login/cookie` → sets the `access-token` cookie
//! - `POST /logout` → clears it
//! - `GET /protected` (`#[protected]`), `GET /optional` (`#[protected(optional)]`),
//!   `GET /scoped` (`#[protected(scopes = ["write"])]`)
//! - `GET /openapi.json`: the OpenAPI 3.1 document of every route above; `GET /docs`: Swagger
//!   UI (served from the binary), whose "Authorize" button logs in through `POST /login`
//!
//! Instrumented for its tests: the store counts its lookups ([`Db::lookups`]), the password
//! checks go through the app's [`Passwords`] (a test can give it a counting scheme, see
//! [`app_with_passwords`]), and each protected handler opens a `tracing` span when its body
//! runs — so a test can show that a rejected request reached neither the store nor the handler.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::{Json, Router};
use login::openapi::{CrossSiteRefused, LoginResponses, LoginSecurity};
use login::password::{self, Passwords};
use login::{
    CookieJar, LoginAccount, LoginError, LoginManager, LoginManagerBuilder, OAuth2PasswordForm,
    PasswordGrant, SameOrigin, protected, user_loader,
};
use serde::Serialize;
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// A user of the app. The password hash and the allowed scopes are never serialized.
#[derive(Clone, Serialize, ToSchema)]
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
/// parameters, or wrapped to count verifications in a test).
///
/// Each route is registered with its `#[utoipa::path]` (utoipa-axum's `routes!`), so the
/// document at `/openapi.json` lists exactly the routes served.
pub fn app_with_passwords(manager: LoginManager, db: Db, passwords: Passwords) -> Router {
    let (router, mut api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(login_cookie))
        .routes(routes!(logout))
        .routes(routes!(protected_route))
        .routes(routes!(optional_route))
        .routes(routes!(scoped_route))
        .split_for_parts();
    // The manager's security schemes: the OAuth2 password flow on `/login` with its scopes,
    // and the cookie.
    LoginSecurity::new(&manager).modify(&mut api);
    // Swagger UI at /docs, its assets inside the binary; no online validator (it would send
    // the document's URL to another host).
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", api)
        .config(Config::new(["/openapi.json"]).validator_url("none"));
    router.merge(docs).with_state(AppState {
        manager,
        db,
        passwords,
    })
}

/// The document's title and description; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(info(
    title = "login: the simple example",
    description = "fastapi-login's usage page as an axum server. Log in with **Authorize** \
        (`johndoe@mail.com` / `hunter2`, or `janedoe@mail.com` / `jane-secret-pw` without the \
        `write` scope), then try the protected routes."
))]
struct ApiDoc;

/// The body of the protected routes: `{"user": {...}}`.
#[derive(Serialize, ToSchema)]
pub struct UserReply {
    /// The authenticated user.
    pub user: User,
}

/// The body of the optional route: `{"user": {...}}`, or `{"user": null}` without a user.
#[derive(Serialize, ToSchema)]
pub struct MaybeUserReply {
    /// The authenticated user, if any.
    pub user: Option<User>,
}

/// The body of the cookie routes: `{"status": "Success"}`.
#[derive(Serialize, ToSchema)]
pub struct Status {
    /// Always `Success`.
    #[schema(example = "Success")]
    pub status: &'static str,
}

const SUCCESS: Status = Status { status: "Success" };

/// Turns a token's subject into a user; the login route calls it too.
#[user_loader]
pub async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.find(&email).await
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.email.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }
    fn allowed_scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }
}

/// Log in: the OAuth2 password grant.
///
/// `PasswordGrant` reads the form (RFC 6749 JSON errors), checks the password with equal work
/// for unknown users, grants the requested scopes the user may hold (all of them when none
/// are requested), and mints.
#[utoipa::path(
    post,
    path = "/login",
    request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(LoginResponses)
)]
async fn login(
    State(state): State<AppState>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let user = load_user(grant.username().to_owned(), State(state.db.clone())).await;
    let login = grant.authenticate(&state.passwords, user).await?;
    if let Some(hash) = login.new_password_hash() {
        state
            .db
            .set_password_hash(&login.account().email, hash.to_owned())
            .await;
    }
    login.token_response(&state.manager)
}

/// Log in with the cookie.
///
/// `SameOrigin` refuses login CSRF: another site must not sign a visitor in to an account of
/// its choosing.
#[utoipa::path(
    post,
    path = "/login/cookie",
    request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        LoginResponses,
        (status = 200, description = "Logged in: the cookie is set.", body = Status,
            headers(("set-cookie" = String, description = "The access-token cookie"))),
        (status = 403, response = inline(CrossSiteRefused)),
    )
)]
async fn login_cookie(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<(CookieJar, Json<Status>), LoginError> {
    let user = load_user(grant.username().to_owned(), State(state.db.clone())).await;
    let login = grant.authenticate(&state.passwords, user).await?;
    if let Some(hash) = login.new_password_hash() {
        state
            .db
            .set_password_hash(&login.account().email, hash.to_owned())
            .await;
    }
    let jar = login.set_cookie(&state.manager, jar)?;
    Ok((jar, Json(SUCCESS)))
}

/// Log out: clears the cookie.
#[utoipa::path(
    post,
    path = "/logout",
    responses(
        (status = 200, description = "The cookie is cleared.", body = Status,
            headers(("set-cookie" = String, description = "The access-token cookie, expired"))),
        (status = 403, response = inline(CrossSiteRefused)),
    )
)]
async fn logout(
    _: SameOrigin,
    State(manager): State<LoginManager>,
    jar: CookieJar,
) -> (CookieJar, Json<Status>) {
    (manager.clear_cookie(jar), Json(SUCCESS))
}

/// Only for authenticated users.
#[protected]
#[utoipa::path(get, path = "/protected",
    responses((status = 200, description = "The user.", body = UserReply)))]
#[tracing::instrument(skip_all)]
async fn protected_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}

/// For everyone; authenticated users are named.
#[protected(optional)]
#[utoipa::path(get, path = "/optional",
    responses((status = 200, description = "The user, or `null`.", body = MaybeUserReply)))]
#[tracing::instrument(skip_all)]
async fn optional_route(user: Option<User>) -> Json<MaybeUserReply> {
    Json(MaybeUserReply { user })
}

/// Only for tokens that hold the `write` scope.
#[protected(scopes = ["write"])]
#[utoipa::path(get, path = "/scoped",
    responses((status = 200, description = "The user.", body = UserReply)))]
#[tracing::instrument(skip_all)]
async fn scoped_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}
