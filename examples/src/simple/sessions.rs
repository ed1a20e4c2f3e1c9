//! The `simple` app's cookie login, beyond fastapi-login's usage page (refreshing, logging out
//! and the sessions list are `login::routes::SessionRoutes`).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{AppendHeaders, IntoResponse, Response};
use login::openapi::{CrossSiteRefused, LoginResponses};
use login::{CookieJar, LoginError, OAuth2PasswordForm, PasswordGrant, extract::SameOrigin};
use serde_json::json;
use utoipa::ToSchema;

use super::{AppState, load_user};

/// The body of the cookie login: `{"status": "Success"}` (documentation only:
/// the routes write it with `json!`, and the OpenAPI tests check that the two agree).
#[derive(ToSchema)]
#[allow(dead_code)]
struct Status {
    /// Always `Success`.
    #[schema(example = "Success")]
    status: String,
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
    let login = grant
        .authenticate_for(&state.manager, &state.passwords, user)
        .await?;
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
