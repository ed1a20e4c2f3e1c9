//! The `app` example: fastapi-login's "full example" — users and posts in SQLite, HTML pages
//! with a cookie login for browsers, and a JSON API with bearer tokens on the same routes.
//!
//! | route | who | HTML (`Accept: text/html`) | JSON (otherwise) |
//! |---|---|---|---|
//! | `GET /login`, `GET /register` | anyone | the forms | — |
//! | `POST /register` | same origin | account + cookie, 303 to `/posts` | `201 {"user"}`; 409 if taken |
//! | `POST /login` | same origin | cookie, 303 to a safe `next` or `/posts` | `{"access_token", "token_type", "expires_in"}` |
//! | `POST /logout` | same origin | ends this session, clears the cookies, 303 to `/login` | the same, `{"detail"}` |
//! | `GET /refresh` | the refresh cookie | silent refresh: new cookies, 303 to a safe `next` (else to `/login?next=`) | — |
//! | `POST /refresh` | refresh token or cookie | — | RFC 6749 §6 token response, or with the cookie new cookies and `{"expires_in": N}` (`login::refresh::refresh_route`) |
//! | `GET /sessions` | signed in | "where you're signed in", with "sign out" per session | `{"sessions": [...]}` |
//! | `POST /sessions/{id}/end` | signed in | ends one of the user's sessions, 303 to `/sessions` | 204 |
//! | `POST /logout/all` | signed in | ends every session of the user, 303 to `/login` | `{"detail"}` |
//! | `GET /activity` | signed in | "recent sign-in activity": the user's own auth events | `{"events": [...]}` |
//! | `GET /posts` | signed in | "my posts" | `{"posts": [...]}` |
//! | `GET /posts/new` | signed in | the new-post form | — |
//! | `POST /posts` | signed in | creates, 303 to `/posts` | `201 {"post"}` |
//! | `GET /posts/{id}` | signed in | the post | `{"post"}` |
//! | `GET /posts/{id}/edit` | owner | the edit form | 403 for others |
//! | `POST`/`PUT /posts/{id}` | owner | saves, 303 to the post | `{"post"}`; 403 for others |
//! | `POST /posts/{id}/delete`, `DELETE /posts/{id}` | owner | deletes, 303 to `/posts` | 204; 403 for others |
//! | `GET /me` | signed in | 303 to `/posts` | `{"user"}` |
//!
//! What it shows of `login`:
//!
//! - a `#[user_loader]` that takes the pool from the state and returns `Result<Option<User>, E>`,
//!   so a database failure is a 500, never "not signed in";
//! - the `attach_user` layer (the navigation bar of public pages knows who is signed in) and
//!   `#[protected]` handlers behind it, which reuse the user it loaded;
//! - the cookie with safe attributes (see [`Cookies`]) and, for cookie-authenticated
//!   state-changing requests, the library's CSRF check (403 for another site's form);
//! - `SameOrigin` on login, registration and logout (login CSRF);
//! - `redirect_to_login()`: a browser that is not signed in is sent to `/login?next=...`, and
//!   after logging in returns there only if `login::middleware::safe_next` accepts it (no open redirect);
//! - Argon2id password hashes through `login::password`;
//! - sessions: a login sets the access cookie and a refresh cookie (`SameSite=Strict`;
//!   `__Host-refresh-token` with `Path=/`, prefixed like the token cookie, or `refresh-token`
//!   with `Path=/refresh` with the insecure development cookie). A page requested without a valid access token (it expired) is sent to
//!   `GET /refresh?next=...`, which rotates the refresh token, sets new cookies and sends the
//!   browser back: it stays signed in across access-token expiry without noticing, and without
//!   any script. The sessions page lists where the user is signed in and ends any of them.
//! - auth events: the manager's hook ([`activity::SignInLog`]) records every sign-in, failed
//!   sign-in, sign-out and refresh-token reuse in SQLite, and the activity page shows each
//!   user theirs (time, what, address, browser).

pub mod activity;
mod auth;
pub mod db;
pub mod html;
mod posts;
mod sessions;
pub mod web;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use login::{
    LoginManager, LoginManagerBuilder, middleware::attach_user, rejection::RejectionKind,
    user_loader,
};
use sqlx::SqlitePool;

pub use auth::{HOME, MIN_PASSWORD_CHARS};
pub use db::{Post, User, connect};
pub use web::Format;

/// The app's state; the manager and the pool are each reachable through `FromRef` (the loader
/// takes `State<SqlitePool>`, the extractors find the `LoginManager`).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The login manager.
    pub manager: LoginManager,
    /// The database.
    pub db: SqlitePool,
}

/// How the token cookie is protected.
///
/// The default, [`Cookies::HostPrefixed`], is what a deployment over HTTPS wants, and it also
/// works for local development on `http://127.0.0.1` or `http://localhost`: loopback is a
/// "potentially trustworthy" origin, and Chromium stores `Secure` and `__Host-` cookies set
/// over plain HTTP there (Chromium 156, checked by this crate's browser test). Use
/// [`Cookies::InsecureForDevelopment`] only where a browser refuses them: the app reached over
/// plain HTTP by a LAN address, or a browser that does not treat loopback as secure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cookies {
    /// `__Host-access-token`: `Secure`, `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`.
    #[default]
    HostPrefixed,
    /// `access-token` without `Secure` (and so without the `__Host-` prefix, which needs it):
    /// the token can travel in the clear. Development over plain HTTP only.
    InsecureForDevelopment,
}

/// The app's manager: HS256 with `secret`; the token read from the cookie (browsers) or the
/// `Authorization: Bearer` header (API clients); CSRF protection on (the default whenever the
/// cookie is read); sessions in memory; browsers without a valid token sent through a silent
/// refresh, then to `/login?next=...`; its auth events recorded in `db` ([`activity::SignInLog`]).
/// Call it inside a Tokio runtime (the recorder is a task).
pub fn manager(
    secret: &str,
    cookies: Cookies,
    db: &SqlitePool,
) -> Result<LoginManager, login::ConfigError> {
    builder(secret, cookies, db).build()
}

/// [`manager`]'s settings, to change some before building (the browser test shortens the
/// token lifetime to see the silent refresh happen).
pub fn builder(secret: &str, cookies: Cookies, db: &SqlitePool) -> LoginManagerBuilder {
    let secure = cookies == Cookies::HostPrefixed;
    LoginManager::builder("/login")
        .events(activity::SignInLog::new(db.clone()))
        .secret(secret)
        .use_cookie(true)
        .use_header(true)
        .cookie_secure(secure)
        .cookie_host_prefix(secure)
        .sessions()
        .on_rejection(|rejection| {
            // A page (GET) requested without a valid access token goes through the silent
            // refresh first; `GET /refresh` sends it on to the login page if that fails.
            let parts = rejection.parts();
            let page = matches!(parts.method, Method::GET | Method::HEAD)
                && Format::of(parts) == Format::Html;
            let unauthenticated = matches!(
                rejection.kind(),
                RejectionKind::MissingCredentials | RejectionKind::InvalidToken
            );
            (page && unauthenticated).then(|| {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                Redirect::to(&format!("/refresh?next={}", html::url_encode(next))).into_response()
            })
        })
        .redirect_to_login()
}

/// Turns a token's subject (the e-mail address) into a user. The pool comes from the state;
/// the response format from the request (any extractor can be a loader argument), so that a
/// database error is a 500 page for a browser and `{"detail": ...}` for an API client — never
/// "no such user", which would sign the browser out.
#[user_loader]
pub async fn load_user(
    email: String,
    State(db): State<SqlitePool>,
    format: Format,
) -> Result<Option<User>, LoaderError> {
    db::find_user(&db, &email)
        .await
        .map_err(|error| LoaderError { format, error })
}

/// The loader's failure: the database could not be read. Answered with a 500.
#[derive(Debug)]
pub struct LoaderError {
    format: Format,
    error: sqlx::Error,
}

impl IntoResponse for LoaderError {
    fn into_response(self) -> Response {
        self.format.db_error(self.error).into_response()
    }
}

/// The router, over a connected and migrated pool.
pub fn router(manager: LoginManager, db: SqlitePool) -> Router {
    let state = AppState { manager, db };
    Router::new()
        .route("/", get(|| async { Redirect::to(HOME) }))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/register", get(auth::register_form).post(auth::register))
        .route("/logout", post(auth::logout))
        .route(
            "/refresh",
            get(sessions::refresh_page).post(login::refresh::refresh_route),
        )
        .route("/sessions", get(sessions::sessions_page))
        .route("/sessions/{id}/end", post(sessions::end_session))
        .route("/logout/all", post(sessions::logout_all))
        .route("/activity", get(activity::activity_page))
        .route("/me", get(auth::me))
        .route("/posts", get(posts::list_posts).post(posts::create_post))
        .route("/posts/new", get(posts::new_post_form))
        .route(
            "/posts/{id}",
            get(posts::show_post)
                .post(posts::update_post)
                .put(posts::update_post)
                .delete(posts::delete_post),
        )
        .route("/posts/{id}/edit", get(posts::edit_post_form))
        .route("/posts/{id}/delete", post(posts::delete_post))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            attach_user::<User, AppState>,
        ))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Headers for every response: no caching of pages that show private data, no sniffing, no
/// framing, forms only to this origin, no scripts at all.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}
