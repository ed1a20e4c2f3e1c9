//! The `simple` app: fastapi-login's usage page as an axum server.
//!
//! - `POST /login` (form `username`, `password`, optional `scope`) → `{"access_token", "token_type", "expires_in", "refresh_token"}`
//! - `POST /login/cookie` → sets the `access-token` cookie (and the `refresh-token` cookie,
//!   `SameSite=Strict`, `Path=/refresh`)
//! - both logins are throttled ([`login::throttle`]'s defaults: 429 with `Retry-After` after
//!   repeated failures) and, on success, set the `device-token` cookie, which lets its owner
//!   log in while an attacker keeps the account in back-off
//! - `POST /refresh` (form `grant_type=refresh_token&refresh_token=…`, or the refresh cookie)
//!   → new tokens (RFC 6749 §6): with the form, in the body; with the cookie, in new cookies,
//!   and the body is `{"expires_in": 900}`; errors are `{"error": "invalid_grant"}` and its kin
//! - `POST /logout` → ends the session of the access token (header or cookie) or of the form's
//!   `refresh_token`, and clears both cookies; 200 even without any
//! - `POST /logout/all` (authenticated) → ends every session of the user ("log out everywhere")
//! - `GET /sessions` (authenticated) → `{"sessions": [...]}`, `current: true` on the caller's;
//!   `DELETE /sessions/{id}` → 204 for one of the user's own sessions, 404 otherwise
//! - `GET /protected` (`#[protected]`), `GET /optional` (`#[protected(optional)]`),
//!   `GET /scoped` (`#[protected(scopes = ["write"])]`)
//! - a second factor ([`mfa`]): `POST /mfa/totp`, `POST /mfa/totp/confirm`, `POST /login/mfa`
//!   (the second step: `POST /login` answers 403 `mfa_required` for a user with TOTP on),
//!   `POST /mfa/recovery-codes`, `DELETE /mfa/totp`, `POST /reauth` (the password again, and
//!   the code, for a fresh `auth_time` in the same session), and the step-up routes `GET /fresh`
//!   (`#[protected(fresh = "5m")]`) and `GET /secure` (`#[protected(factors = ["otp"])]`)
//! - `GET /openapi.json`: the OpenAPI 3.1 document of every route above; `GET /docs`: Swagger
//!   UI (served from the binary), whose "Authorize" button logs in through `POST /login`
//!
//! This file follows the usage page: the manager, the user loader, the login route returning a
//! token, the manager as a dependency (`#[protected]`), and optional users. The rest of the app
//! is in `simple/`: [`users`] (the store, the page's `query_user`), [`sessions`] (the cookie
//! login), [`docs`] (the document's title) and [`serve`] (the server). The session routes
//! (refresh, logout, log out everywhere, the sessions list) are `login`'s ready-made
//! [`SessionRoutes`], and [`Docs`] serves the document and Swagger UI.

pub mod docs;
pub mod mfa;
pub mod serve;
pub mod sessions;
pub mod users;

use axum::extract::{FromRef, State};
use axum::response::Response;
use axum::{Json, Router};
use login::mfa::{MfaAccount, RecoveryHash, SecondFactor, TotpSecret};
use login::openapi::{Docs, LoginResponses};
use login::password::Passwords;
use login::routes::SessionRoutes;
use login::{
    LoginAccount, LoginError, LoginManager, LoginManagerBuilder, OAuth2PasswordForm, PasswordGrant,
    protected, user_loader,
};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use serve::{manager_with_store, manager_with_throttle, serve_from_env, throttle};
pub use users::{Db, User};

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

/// The example's manager settings, whatever the key: both token sources, the known scopes,
/// and sessions in memory (refresh tokens, logout, log out everywhere).
pub fn settings(builder: LoginManagerBuilder) -> LoginManagerBuilder {
    builder
        .use_cookie(true)
        .use_header(true)
        .scopes([("read", "Read your data"), ("write", "Change your data")])
        .sessions()
}

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
    fn second_factors(&self) -> Vec<SecondFactor> {
        match &self.mfa {
            Some(_) => vec![SecondFactor::Totp, SecondFactor::RecoveryCode],
            None => Vec::new(),
        }
    }
}

/// What the second step of the login checks: the user's TOTP secret, last step and recovery
/// codes (see [`mfa`]).
impl MfaAccount for User {
    fn totp_secret(&self) -> Option<TotpSecret> {
        self.mfa.as_ref().map(|mfa| mfa.secret.clone())
    }
    fn totp_last_step(&self) -> Option<u64> {
        self.mfa.as_ref().and_then(|mfa| mfa.last_step)
    }
    fn recovery_codes(&self) -> Vec<RecoveryHash> {
        self.mfa
            .as_ref()
            .map(|mfa| mfa.recovery_codes.clone())
            .unwrap_or_default()
    }
}

/// Log in: the OAuth2 password grant.
///
/// `PasswordGrant` reads the form (RFC 6749 JSON errors), checks the password with equal work
/// for unknown users, grants the requested scopes the user may hold (all of them when none
/// are requested), and starts a session: both tokens in the token response.
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
    let login = grant
        .authenticate_for(&state.manager, &state.passwords, user)
        .await?;
    if let Some(hash) = login.new_password_hash() {
        state
            .db
            .set_password_hash(&login.account().email, hash.to_owned())
            .await;
    }
    login.token_response(&state.manager).await
}

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

/// Only for authenticated users.
// Each handler's span (at `debug`, so free under the default filter) opens when its body
// runs, after `#[protected]` has let the request in.
#[protected]
#[utoipa::path(get, path = "/protected",
    responses((status = 200, description = "The user.", body = UserReply)))]
#[tracing::instrument(level = "debug", skip_all)]
async fn protected_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}

/// For everyone; authenticated users are named.
#[protected(optional)]
#[utoipa::path(get, path = "/optional",
    responses((status = 200, description = "The user, or `null`.", body = MaybeUserReply)))]
#[tracing::instrument(level = "debug", skip_all)]
async fn optional_route(user: Option<User>) -> Json<MaybeUserReply> {
    Json(MaybeUserReply { user })
}

/// Only for tokens that hold the `write` scope.
#[protected(scopes = ["write"])]
#[utoipa::path(get, path = "/scoped",
    responses((status = 200, description = "The user.", body = UserReply)))]
#[tracing::instrument(level = "debug", skip_all)]
async fn scoped_route(user: User) -> Json<UserReply> {
    Json(UserReply { user })
}

/// The app's router.
pub fn app(manager: LoginManager, db: Db) -> Router {
    app_with_passwords(manager, db, Passwords::default())
}

/// The app's router, checking passwords with `passwords` (for example Argon2id with other
/// parameters or other [`PasswordLimits`](login::password::PasswordLimits)).
///
/// Each route is registered with its `#[utoipa::path]` (utoipa-axum's `routes!`), so the
/// document at `/openapi.json` lists exactly the routes served.
pub fn app_with_passwords(manager: LoginManager, db: Db, passwords: Passwords) -> Router {
    let routes = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(sessions::login_cookie))
        .merge(SessionRoutes::new(&manager).openapi_router())
        .routes(routes!(protected_route))
        .routes(routes!(optional_route))
        .routes(routes!(scoped_route))
        .routes(routes!(mfa::enrol_totp, mfa::disable_totp))
        .routes(routes!(mfa::confirm_totp))
        .routes(routes!(mfa::regenerate_recovery_codes))
        .routes(routes!(mfa::login_mfa))
        .routes(routes!(mfa::reauth))
        .routes(routes!(mfa::fresh_route))
        .routes(routes!(mfa::secure_route));
    Docs::new(&manager).router(routes).with_state(AppState {
        manager,
        db,
        passwords,
    })
}
