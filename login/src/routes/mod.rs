//! Ready-made session routes: refresh, log out, log out everywhere, and the list of the
//! user's sessions ("where you're signed in"), with one call.
//!
//! ```
//! use axum::Router;
//! use login::{LoginManager, routes::SessionRoutes};
//!
//! # fn main() -> Result<(), login::ConfigError> {
//! let manager = LoginManager::builder("/login")
//!     .secret("a-32-byte-or-longer-secret-from-env!")
//!     .sessions()
//!     .build()?;
//! let app: Router = Router::new()
//!     .merge(SessionRoutes::new(&manager).router())
//!     .with_state(manager);
//! # Ok(()) }
//! ```
//!
//! | route | what it does | answers |
//! |---|---|---|
//! | `POST /refresh` | [`refresh_route`](crate::refresh::refresh_route): a new access token for a refresh token (form or refresh cookie), rotated | the token response; RFC 6749 errors |
//! | `POST /logout` | ends the session of the access token (header or cookie), else of the form's `refresh_token`; clears both cookies | 200 `{"status": "Success"}`, even without any token |
//! | `POST /logout/all` | "log out everywhere": ends every session of the token's user, refuses its older tokens; clears both cookies | 200 `{"status": "Success", "sessions_ended": n}`; 401 without a valid token |
//! | `GET /sessions` | the user's live sessions, `current: true` on the one making the request | 200 [`SessionList`]; 401 |
//! | `DELETE /sessions/{id}` | ends one of the user's own sessions (clearing the cookies when it is the current one) | 204; 404 for an id that is not one of the user's live sessions; 401 |
//!
//! Every route follows the manager's rules: a request that carries the token cookie (or the
//! refresh cookie) and changes state must come from the app's own origin (403 otherwise), the
//! refresh cookie keeps its `Path` (the refresh route is served at the manager's
//! [`refresh_path`](crate::LoginManagerBuilder::refresh_path), so it is set there, not here),
//! and a failed session store answers 503 with `Retry-After` ([`SessionError`]'s answer),
//! logged at error level under the `login` target. The other paths can be set
//! ([`logout_path`](SessionRoutes::logout_path), …).
//!
//! With the `openapi` feature, `SessionRoutes::openapi_router` returns the same routes as a
//! utoipa-axum router, each documented (forms, answers, security) in the app's document. They
//! add these schemas to its components: `RefreshForm`, `LogoutForm`, `Status`,
//! `SessionsEnded`, `SessionList`, `SessionInfo` and `Detail` (an app's own schema of one of
//! these names should have the same shape, or be renamed).
//!
//! The handlers are public, for an app that routes them itself:
//! `.route("/logout", post(login::routes::logout::<LoginManager>))` (the type parameter names
//! the manager; a second manager's type, made with [`define_manager!`](crate::define_manager),
//! gives that manager's routes).

use std::marker::PhantomData;
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Form, Json, Router};
use axum_extra::extract::cookie::CookieJar;
use serde::{Deserialize, Serialize};

use crate::extract::{ClaimsOf, SameOrigin};
use crate::manager::{AsLoginManager, LoginManager};
use crate::session::{Session, SessionError};

#[cfg(feature = "openapi")]
mod docs;

/// The longest session id looked up (ids are 22 characters); a longer one is a 404 at once.
const MAX_SESSION_ID_CHARS: usize = 64;

/// The session routes of one manager, with their paths (see the [module](self) for what each
/// answers). `M` is the manager's type: [`LoginManager`], or a second manager's type made with
/// [`define_manager!`](crate::define_manager).
#[derive(Debug, Clone)]
pub struct SessionRoutes<M = LoginManager> {
    refresh: String,
    logout: String,
    logout_all: String,
    sessions: String,
    manager: PhantomData<fn() -> M>,
}

impl<M: AsLoginManager> SessionRoutes<M> {
    /// The routes of `manager` at their default paths: the refresh route at the manager's
    /// refresh path (default `/refresh`, the refresh cookie's `Path`), `/logout`,
    /// `/logout/all` and `/sessions` (with `/sessions/{id}`).
    pub fn new(manager: &M) -> Self {
        let manager = manager.login_manager();
        if !manager.sessions_enabled() {
            tracing::warn!(
                "login: session routes for a manager without sessions: they answer 500 (build the manager with `.sessions()`)"
            );
        }
        let refresh = manager.refresh_path().unwrap_or("/refresh").to_owned();
        SessionRoutes {
            refresh,
            logout: "/logout".to_owned(),
            logout_all: "/logout/all".to_owned(),
            sessions: "/sessions".to_owned(),
            manager: PhantomData,
        }
    }

    /// Serves "log out" at `path` instead of `/logout`.
    pub fn logout_path(mut self, path: impl Into<String>) -> Self {
        self.logout = path.into();
        self
    }

    /// Serves "log out everywhere" at `path` instead of `/logout/all`.
    pub fn logout_all_path(mut self, path: impl Into<String>) -> Self {
        self.logout_all = path.into();
        self
    }

    /// Serves the sessions list at `path` instead of `/sessions` (and ending one at
    /// `{path}/{id}`).
    pub fn sessions_path(mut self, path: impl Into<String>) -> Self {
        self.sessions = path.into();
        self
    }

    /// The path of one session: `{sessions}/{id}`, with axum's (and OpenAPI's) parameter.
    fn session_path(&self) -> String {
        format!("{}/{{id}}", self.sessions.trim_end_matches('/'))
    }

    /// The routes, for `Router::merge`. The router's state must hold the manager
    /// (`M: FromRef<S>`).
    pub fn router<S>(self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        M: FromRef<S>,
    {
        let one = self.session_path();
        Router::new()
            .route(&self.refresh, post(crate::refresh::refresh_route_for::<M>))
            .route(&self.logout, post(logout::<M>))
            .route(&self.logout_all, post(logout_all::<M>))
            .route(&self.sessions, get(list_sessions::<M>))
            .route(&one, delete(end_session::<M>))
    }
}

/// `POST /logout`'s optional form.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogoutForm {
    /// The refresh token of the session to end (when no access token is sent).
    pub refresh_token: Option<String>,
}

/// Log out: ends the session of the access token (header or cookie), else of the form's
/// `refresh_token`, and clears both cookies. Answers 200 `{"status": "Success"}` even without
/// any token (there is nothing to end, and the cookies are cleared all the same).
pub async fn logout<M: AsLoginManager>(
    _: SameOrigin<M>,
    State(handle): State<M>,
    claims: Option<ClaimsOf<M>>,
    jar: CookieJar,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let manager = handle.login_manager();
    let refresh_token = form.ok().and_then(|Form(form)| form.refresh_token);
    let ended = match (claims, refresh_token) {
        (Some(ClaimsOf(claims, _)), _) => manager.logout(&claims).await,
        (None, Some(token)) => manager.logout_refresh_token(&token).await,
        (None, None) => Ok(false),
    };
    if let Err(error) = ended {
        return store_failed(error, "could not end the session");
    }
    let (jar, refresh) = cleared_cookies(manager, jar);
    (
        jar,
        refresh,
        Json(serde_json::json!({ "status": "Success" })),
    )
        .into_response()
}

/// Log out everywhere: ends every session of the token's user and refuses every token of it
/// issued before now; clears both cookies. Answers 200
/// `{"status": "Success", "sessions_ended": n}`; 401 without a valid access token.
pub async fn logout_all<M: AsLoginManager>(
    _: SameOrigin<M>,
    State(handle): State<M>,
    ClaimsOf(claims, _): ClaimsOf<M>,
    jar: CookieJar,
) -> Response {
    let manager = handle.login_manager();
    let ended = match manager.end_all_sessions(&claims.sub).await {
        Ok(ended) => ended,
        Err(error) => return store_failed(error, "could not end the sessions"),
    };
    let (jar, refresh) = cleared_cookies(manager, jar);
    let body = serde_json::json!({ "status": "Success", "sessions_ended": ended });
    (jar, refresh, Json(body)).into_response()
}

/// The user's sessions: `{"sessions": [...]}`, oldest first, `current: true` on the one the
/// request's access token belongs to. `Cache-Control: no-store`; 401 without a valid token.
pub async fn list_sessions<M: AsLoginManager>(
    State(handle): State<M>,
    ClaimsOf(claims, _): ClaimsOf<M>,
) -> Response {
    let manager = handle.login_manager();
    let sessions = match manager.list_sessions(&claims.sub).await {
        Ok(sessions) => sessions,
        Err(error) => return store_failed(error, "could not list the sessions"),
    };
    let current = claims.sid.as_deref();
    let list = SessionList {
        sessions: sessions
            .into_iter()
            .map(|session| SessionInfo::new(session, current))
            .collect(),
    };
    no_store(Json(list).into_response())
}

/// Ends one of the user's own sessions by its id (from [`list_sessions`]): 204, with both
/// cookies cleared when it is the session of the request's own token; 404
/// `{"detail": "Session not found"}` for an id that is not one of the user's live sessions
/// (another user's included: nothing tells the two apart); 401 without a valid token.
pub async fn end_session<M: AsLoginManager>(
    _: SameOrigin<M>,
    State(handle): State<M>,
    ClaimsOf(claims, _): ClaimsOf<M>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Response {
    let manager = handle.login_manager();
    let not_found =
        || crate::rejection::detail_response(StatusCode::NOT_FOUND, "Session not found", None);
    if id.len() > MAX_SESSION_ID_CHARS {
        return not_found();
    }
    let own = match manager.list_sessions(&claims.sub).await {
        Ok(sessions) => sessions.iter().any(|session| session.id == id),
        Err(error) => return store_failed(error, "could not list the sessions"),
    };
    if !own {
        return not_found();
    }
    if let Err(error) = manager.end_session(&id).await {
        return store_failed(error, "could not end the session");
    }
    if claims.sid.as_deref() == Some(id.as_str()) {
        let (jar, refresh) = cleared_cookies(manager, jar);
        return (StatusCode::NO_CONTENT, jar, refresh, ()).into_response();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The sessions list: `{"sessions": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionList {
    /// The user's live sessions, oldest first.
    pub sessions: Vec<SessionInfo>,
}

/// One session as the sessions list shows it to its user. Every field is always present
/// (`null` or `[]` when empty), so entries keep one shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// The session's id: `DELETE /sessions/{id}` ends it.
    pub id: String,
    /// Whether it is the session of the request's own access token ("this device").
    pub current: bool,
    /// When it started (seconds since the Unix epoch).
    pub created_at: i64,
    /// When it was last seen: its last refresh, or its start (seconds since the Unix epoch).
    pub last_seen_at: i64,
    /// When its refresh token expires unless refreshed (seconds since the Unix epoch).
    pub expires_at: i64,
    /// When it ends whatever the refreshes, if the manager bounds sessions.
    pub ends_at: Option<i64>,
    /// The user agent of its last login or refresh (the device), if known.
    pub user_agent: Option<String>,
    /// The scopes its access tokens carry.
    pub scopes: Vec<String>,
}

impl SessionInfo {
    /// `session` as its user sees it; `current` is the request's own session id.
    pub fn new(session: Session, current: Option<&str>) -> Self {
        SessionInfo {
            current: current == Some(session.id.as_str()),
            id: session.id,
            created_at: session.created_at,
            last_seen_at: session.refreshed_at.unwrap_or(session.created_at),
            expires_at: session.expires_at,
            ends_at: session.ends_at,
            user_agent: session.user_agent,
            scopes: session.scopes,
        }
    }
}

/// The cookies that clear the token cookie and the refresh cookie: the jar (the token
/// cookie's `Set-Cookie` first) and the refresh cookie's header after it.
fn cleared_cookies(
    manager: &LoginManager,
    jar: CookieJar,
) -> (
    CookieJar,
    AppendHeaders<Option<(header::HeaderName, String)>>,
) {
    let refresh = manager
        .refresh_cookie(String::new(), Duration::ZERO)
        .map(|cookie| (header::SET_COOKIE, cookie.to_string()));
    (manager.clear_cookie(jar), AppendHeaders(refresh))
}

/// A failed session operation: logged, and answered as [`SessionError`] answers.
fn store_failed(error: SessionError, what: &'static str) -> Response {
    tracing::error!(error = %error, "login: {what}");
    error.into_response()
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
