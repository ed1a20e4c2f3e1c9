//! The `simple` app's sessions, beyond fastapi-login's usage page: logging in with cookies,
//! refreshing (RFC 6749 §6), logging out, and logging out everywhere.

use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::{Form, Json};
use login::openapi::{
    CrossSiteRefused, LoginResponses, RefreshForm, RefreshResponses, Unauthorized,
};
use login::{
    Claims, CookieJar, LoginError, LoginManager, OAuth2PasswordForm, PasswordGrant, TokenResponse,
    extract::SameOrigin, refresh::GrantError, refresh::RefreshRequest, refresh::UserAgent,
    session::SessionError,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{AppState, load_user};

/// The body of the cookie login and of logout: `{"status": "Success"}` (documentation only:
/// the routes write it with `json!`, and the OpenAPI tests check that the two agree).
#[derive(ToSchema)]
#[allow(dead_code)]
struct Status {
    /// Always `Success`.
    #[schema(example = "Success")]
    status: String,
}

/// The body of "log out everywhere": `{"status": "Success", "sessions_ended": 2}`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionsEnded {
    /// Always `Success`.
    #[schema(example = "Success")]
    status: String,
    /// How many sessions were ended.
    sessions_ended: u64,
}

/// `{"detail": "Session store unavailable"}`, when the session store failed.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Detail {
    /// What went wrong.
    detail: String,
}

/// The refresh cookie as a `Set-Cookie` header appended after the token cookie's (the jar
/// orders its cookies arbitrarily; the token cookie stays the first header, as before).
fn refresh_cookie_header(
    cookie: Option<login::cookie::Cookie<'static>>,
) -> AppendHeaders<Vec<(header::HeaderName, String)>> {
    AppendHeaders(
        cookie
            .map(|c| (header::SET_COOKIE, c.to_string()))
            .into_iter()
            .collect(),
    )
}

/// Log in with the cookies.
///
/// Sets the access-token cookie and the refresh cookie. `SameOrigin` refuses login CSRF:
/// another site must not sign a visitor in to an account of its choosing.
#[utoipa::path(
    post,
    path = "/login/cookie",
    request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        LoginResponses,
        (status = 200, description = "Logged in: the cookies are set.", body = Status,
            headers(("set-cookie" = String, description = "The access-token, refresh-token and device-token cookies"))),
        (status = 403, response = inline(CrossSiteRefused)),
    )
)]
pub(super) async fn login_cookie(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let user = load_user(grant.username().to_owned(), State(state.db.clone())).await;
    let login = grant.authenticate(&state.passwords, user).await?;
    if let Some(hash) = login.new_password_hash() {
        let email = &login.account().email;
        state.db.set_password_hash(email, hash.to_owned()).await;
    }
    let manager = &state.manager;
    let tokens = login.start_session(manager).await?;
    let refresh = manager.refresh_cookie(
        tokens.refresh_token,
        std::time::Duration::from_secs(tokens.refresh_expires_in),
    );
    Ok((
        manager.set_cookie(jar, tokens.access_token),
        refresh_cookie_header(refresh),
        // The device-token cookie (the login throttle's), after the other two.
        refresh_cookie_header(login.device_cookie(manager)),
        Json(json!({ "status": "Success" })),
    )
        .into_response())
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "detail": "Session store unavailable" })),
    )
        .into_response()
}

/// Refresh: new tokens for a refresh token (RFC 6749 §6).
///
/// The refresh token comes in the form or in the refresh cookie; it is rotated (a token used
/// twice ends its session). `login::refresh::refresh_route`, documented.
#[utoipa::path(
    post,
    path = "/refresh",
    request_body(content = RefreshForm, content_type = "application/x-www-form-urlencoded"),
    responses(RefreshResponses)
)]
pub(super) async fn refresh(
    manager: State<LoginManager>,
    agent: UserAgent,
    jar: CookieJar,
    request: RefreshRequest,
) -> Result<(CookieJar, TokenResponse), GrantError> {
    login::refresh::refresh_route(manager, agent, jar, request).await
}

/// `POST /logout`'s optional form.
#[derive(Deserialize, ToSchema)]
pub(super) struct LogoutForm {
    /// The refresh token of the session to end (when no access token is sent).
    refresh_token: Option<String>,
}

/// Log out: ends this session and clears the cookies.
///
/// Ends the session of the access token (header or cookie), else of the form's
/// `refresh_token`, and clears both cookies. Without any token it still answers 200 and
/// clears the cookies.
#[utoipa::path(
    post,
    path = "/logout",
    request_body(content = Option<LogoutForm>, content_type = "application/x-www-form-urlencoded"),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = []), ()),
    responses(
        (status = 200, description = "Logged out: the cookies are cleared.", body = Status,
            headers(("set-cookie" = String, description = "Both cookies, expired"))),
        (status = 403, response = inline(CrossSiteRefused)),
        (status = 503, description = "The session store failed.", body = Detail),
    )
)]
pub(super) async fn logout(
    _: SameOrigin,
    State(manager): State<LoginManager>,
    claims: Option<Claims>,
    jar: CookieJar,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> Response {
    let refresh_token = form.ok().and_then(|Form(f)| f.refresh_token);
    let ended = match (claims, refresh_token) {
        (Some(claims), _) => manager.logout(&claims).await.map(drop),
        (None, Some(token)) => manager.logout_refresh_token(&token).await.map(drop),
        (None, None) => Ok(()),
    };
    if let Err(SessionError::Store(e)) = ended {
        tracing::error!(error = %e, "session store failed");
        return unavailable();
    }
    let removal = manager.refresh_cookie(String::new(), std::time::Duration::ZERO);
    (
        manager.clear_cookie(jar),
        refresh_cookie_header(removal),
        Json(json!({ "status": "Success" })),
    )
        .into_response()
}

/// Log out everywhere.
///
/// Ends every session of the token's user and refuses every token of it issued before now.
#[utoipa::path(
    post,
    path = "/logout/all",
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = [])),
    responses(
        (status = 200, description = "Every session of the user is ended.", body = SessionsEnded,
            headers(("set-cookie" = String, description = "Both cookies, expired"))),
        (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(CrossSiteRefused)),
        (status = 503, description = "The session store failed.", body = Detail),
    )
)]
pub(super) async fn logout_all(
    _: SameOrigin,
    State(manager): State<LoginManager>,
    claims: Claims,
    jar: CookieJar,
) -> Response {
    let ended = match manager.end_all_sessions(&claims.sub).await {
        Ok(ended) => ended,
        Err(e) => {
            tracing::error!(error = %e, "could not end the sessions");
            return unavailable();
        }
    };
    let removal = manager.refresh_cookie(String::new(), std::time::Duration::ZERO);
    (
        manager.clear_cookie(jar),
        refresh_cookie_header(removal),
        Json(json!({ "status": "Success", "sessions_ended": ended })),
    )
        .into_response()
}
