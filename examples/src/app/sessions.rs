//! Sessions in the app: the silent refresh (`GET /refresh`), the sessions page ("where you're
//! signed in", with "sign out" per session and "sign out everywhere").

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use login::{
    Claims, CookieJar, events::Client, protected, refresh::GrantError, refresh::RefreshRequest,
    session::RefreshError,
};
use serde_json::json;

use super::auth::{HOME, NextQuery};
use super::db::{self, User};
use super::web::{AppError, Format};
use super::{AppState, html};

/// `GET /refresh?next=...`: the silent refresh. A page requested without a valid access
/// token is sent here (see `app::builder`); the refresh cookie (sent to this path only, and
/// only by same-site navigations: `SameSite=Strict`) is rotated, both cookies are set again and
/// the browser goes back to `next`. Without a usable refresh cookie, on to the login page.
pub async fn refresh_page(
    State(state): State<AppState>,
    client: Client,
    Query(query): Query<NextQuery>,
    jar: CookieJar,
    request: Result<RefreshRequest, GrantError>,
) -> Result<Response, AppError> {
    let next = query.safe().unwrap_or(HOME).to_owned();
    let to_login = || Redirect::to(&format!("/login?next={}", html::url_encode(&next)));
    let request = match request {
        Ok(request) => request,
        Err(GrantError::CrossSite) => return Ok(GrantError::CrossSite.into_response()),
        Err(_) => return Ok(to_login().into_response()),
    };
    let manager = &state.manager;
    let tokens = match manager.refresh_with(&request.token, &client).await {
        Ok(tokens) => tokens,
        Err(RefreshError::Store(e)) => {
            tracing::error!(error = %e, "session store failed");
            return Err(
                Format::Html.error(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment")
            );
        }
        // A failed refresh never clears the cookie: another tab may just have rotated it.
        Err(_) => return Ok(to_login().into_response()),
    };
    // The account must still exist, or the page would send the browser straight back here.
    let claims = manager.verify_token(&tokens.access_token).map_err(|_| {
        Format::Html.error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    })?;
    match db::find_user(&state.db, &claims.sub).await {
        Ok(Some(_)) => {
            let jar = manager.set_session_cookies(jar, &tokens);
            Ok((jar, Redirect::to(&next)).into_response())
        }
        Ok(None) => {
            let _ = manager.end_session(&tokens.session_id).await;
            Ok((manager.clear_session_cookies(jar), to_login()).into_response())
        }
        Err(e) => Err(Format::Html.db_error(e)),
    }
}

/// `GET /sessions`: where the user is signed in.
#[protected]
pub async fn sessions_page(
    user: User,
    State(state): State<AppState>,
    claims: Claims,
    format: Format,
) -> Result<Response, AppError> {
    let sessions = state
        .manager
        .list_sessions(&user.email)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "session store failed");
            format.error(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment")
        })?;
    Ok(match format {
        Format::Json => {
            Json(json!({ "sessions": sessions, "current": claims.sid })).into_response()
        }
        Format::Html => {
            Html(html::sessions_page(&user, &sessions, claims.sid.as_deref())).into_response()
        }
    })
}

/// `POST /sessions/{id}/end`: ends one of the user's own sessions (404 for anyone else's).
#[protected]
pub async fn end_session(
    user: User,
    State(state): State<AppState>,
    claims: Claims,
    format: Format,
    client: Client,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let unavailable = |e: login::session::SessionError| {
        tracing::error!(error = %e, "session store failed");
        format.error(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment")
    };
    let manager = &state.manager;
    let sessions = manager
        .list_sessions(&user.email)
        .await
        .map_err(unavailable)?;
    if !sessions.iter().any(|s| s.id == id) {
        return Err(format.error(StatusCode::NOT_FOUND, "No such session"));
    }
    manager
        .end_session_with(&id, &client)
        .await
        .map_err(unavailable)?;
    let this_one = claims.sid.as_deref() == Some(id.as_str());
    Ok(match (format, this_one) {
        (Format::Json, _) => StatusCode::NO_CONTENT.into_response(),
        (Format::Html, true) => {
            (manager.clear_session_cookies(jar), Redirect::to("/login")).into_response()
        }
        (Format::Html, false) => Redirect::to("/sessions").into_response(),
    })
}

/// `POST /logout/all`: signs the user out everywhere, this browser included.
#[protected]
pub async fn logout_all(
    user: User,
    State(state): State<AppState>,
    format: Format,
    client: Client,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let manager = &state.manager;
    let ended = manager.end_all_sessions_with(&user.email, &client).await;
    ended.map_err(|e| {
        tracing::error!(error = %e, "session store failed");
        format.error(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment")
    })?;
    let jar = manager.clear_session_cookies(jar);
    Ok(match format {
        Format::Html => (jar, Redirect::to("/login")).into_response(),
        Format::Json => (jar, Json(json!({ "detail": "Logged out everywhere" }))).into_response(),
    })
}
