//! Registration, login and logout: HTML forms for browsers (the token goes into the cookie),
//! JSON for API clients (the token comes back in the body, for the `Authorization` header).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use login::events::Client;
use login::password::{self, MAX_PASSWORD_BYTES, PasswordError, Passwords};
use login::{Claims, CookieJar, LoginAccount, LoginError, LoginManager, middleware::CurrentUser};
use login::{
    PasswordGrant, extract::SameOrigin, middleware::safe_next, protected, refresh::UserAgent,
};
use serde::Deserialize;
use serde_json::json;

use super::db::{self, CreateUserError, User};
use super::web::{AppError, Format, Input};
use super::{AppState, html};

/// Where to go after logging in when there is no (acceptable) `next`.
pub const HOME: &str = "/posts";
/// The shortest password registration accepts.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The login page's query: where to return after logging in.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

impl NextQuery {
    /// `next`, only when `login::middleware::safe_next` accepts it (a same-origin relative path).
    pub fn safe(&self) -> Option<&str> {
        self.next.as_deref().and_then(safe_next)
    }
}

/// `GET /login`: the form.
pub async fn login_form(
    CurrentUser(user): CurrentUser<User>,
    Query(query): Query<NextQuery>,
) -> Html<String> {
    Html(html::login_page(user.as_ref(), query.safe(), "", None))
}

fn bad_password(format: Format, error: PasswordError) -> AppError {
    match error {
        PasswordError::Empty | PasswordError::TooLong => format.error(
            StatusCode::BAD_REQUEST,
            format!("The password must be 1 to {MAX_PASSWORD_BYTES} bytes long"),
        ),
        // Too many logins or registrations in progress (a flood): 503, retry in a second.
        PasswordError::Busy => format
            .error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many logins in progress, retry in a moment",
            )
            .retry_after(login::password::BUSY_RETRY_AFTER_SECS),
        _ => format.error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
    }
}

/// `POST /login`: the OAuth2 password form (`username`, `password`), through
/// `login::PasswordGrant` (equal work for unknown users, RFC 6749 errors for malformed forms).
///
/// `SameOrigin` refuses a cross-site submission (login CSRF: another site must not sign your
/// browser in to an account of its choosing). An unknown user and a wrong password get the
/// same answer after the same work.
pub async fn login(
    _: SameOrigin,
    State(state): State<AppState>,
    format: Format,
    Query(query): Query<NextQuery>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<Response, Response> {
    let username = grant.username().trim().to_owned();
    let user = db::find_user(&state.db, &username)
        .await
        .map_err(|e| format.db_error(e));
    // `authenticate_for`: a failed login is reported to the manager's auth events hook.
    let login = grant
        .authenticate_for(&state.manager, &Passwords::default(), user)
        .await
        .map_err(|e| failed_login(format, &query, &username, e))?;
    if let Some(hash) = login.new_password_hash() {
        let id = login.account().id;
        db::set_password_hash(&state.db, id, hash)
            .await
            .map_err(|e| format.db_error(e).into_response())?;
    }
    let response = match format {
        Format::Json => login.token_response(&state.manager).await,
        Format::Html => login
            .set_cookies(&state.manager, jar)
            .await
            .map(|jar| (jar, Redirect::to(query.safe().unwrap_or(HOME))).into_response()),
    };
    response.map_err(IntoResponse::into_response)
}

/// A failed login's answer: for a browser, the form again with "Wrong e-mail or password."
/// (401, as the JSON answer; RFC 9110 wants a challenge with a 401); otherwise the library's.
fn failed_login(format: Format, query: &NextQuery, username: &str, error: LoginError) -> Response {
    match error {
        LoginError::InvalidCredentials if format == Format::Html => {
            let wrong = Some("Wrong e-mail or password.");
            let page = html::login_page(None, query.safe(), username, wrong);
            let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
            (StatusCode::UNAUTHORIZED, challenge, Html(page)).into_response()
        }
        LoginError::Password(e) => bad_password(format, e).into_response(),
        error => error.into_response(),
    }
}

/// `GET /register`: the form.
pub async fn register_form() -> Html<String> {
    Html(html::register_page("", "", None))
}

/// The registration form or JSON body.
#[derive(Deserialize)]
pub struct RegisterInput {
    email: String,
    name: String,
    password: String,
}

/// Normalizes and checks the input: a plausible e-mail address (lower-cased), a name, a
/// password of 8 characters to `MAX_PASSWORD_BYTES` bytes.
fn validate(input: &RegisterInput) -> Result<(String, String), &'static str> {
    let email = input.email.trim().to_lowercase();
    let plausible = matches!(email.split_once('@'),
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if !plausible || email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("Enter a valid e-mail address.");
    }
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err("Enter a name of 1 to 100 characters.");
    }
    if input.password.chars().count() < MIN_PASSWORD_CHARS
        || input.password.len() > MAX_PASSWORD_BYTES
    {
        return Err("The password must be at least 8 characters (and at most 1024 bytes).");
    }
    Ok((email, name))
}

/// `POST /register`: creates the account (Argon2id hash), then signs the browser in (HTML) or
/// answers `201 Created` with the user (JSON). A taken e-mail address is a 409.
pub async fn register(
    _: SameOrigin,
    State(state): State<AppState>,
    format: Format,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    Input(input): Input<RegisterInput>,
) -> Result<Response, AppError> {
    let refuse = |status: StatusCode, message: &str| match format {
        Format::Json => format.error(status, message).into_response(),
        Format::Html => (
            status,
            Html(html::register_page(
                &input.email,
                &input.name,
                Some(message),
            )),
        )
            .into_response(),
    };
    let (email, name) = match validate(&input) {
        Ok(valid) => valid,
        Err(message) => return Ok(refuse(StatusCode::BAD_REQUEST, message)),
    };
    let hash = password::Passwords::default()
        .hash(&input.password)
        .await
        .map_err(|e| bad_password(format, e))?;
    let user = match db::create_user(&state.db, &email, &name, &hash).await {
        Ok(user) => user,
        Err(CreateUserError::Duplicate) => {
            return Ok(refuse(
                StatusCode::CONFLICT,
                "An account with this e-mail address already exists.",
            ));
        }
        Err(CreateUserError::Db(e)) => return Err(format.db_error(e)),
    };
    tracing::info!(user_id = user.id, "user registered");
    Ok(match format {
        Format::Json => (
            StatusCode::CREATED,
            [("location", "/me")],
            Json(json!({ "user": user })),
        )
            .into_response(),
        Format::Html => {
            let tokens = state
                .manager
                .start_session(user.email.as_str(), agent.as_deref())
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "could not start a session");
                    format.error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
                })?;
            let jar = state.manager.set_session_cookies(jar, &tokens);
            (jar, Redirect::to(HOME)).into_response()
        }
    })
}

/// `POST /logout`: ends this browser's session (its access token's), and clears both
/// cookies with the attributes that set them. Guarded like login, so another site cannot sign
/// your browser out either.
pub async fn logout(
    _: SameOrigin,
    State(manager): State<LoginManager>,
    format: Format,
    client: Client,
    claims: Option<Claims>,
    jar: CookieJar,
) -> Response {
    if let Some(claims) = claims
        && let Err(e) = manager.logout_with(&claims, &client).await
    {
        tracing::error!(error = %e, "could not end the session");
        return format
            .error(StatusCode::SERVICE_UNAVAILABLE, "Try again in a moment")
            .into_response();
    }
    let jar = manager.clear_session_cookies(jar);
    match format {
        Format::Html => (jar, Redirect::to("/login")).into_response(),
        Format::Json => (jar, Json(json!({ "detail": "Logged out" }))).into_response(),
    }
}

/// `GET /me`: the signed-in user.
#[protected]
pub async fn me(user: User, format: Format) -> Response {
    match format {
        Format::Json => Json(json!({ "user": user })).into_response(),
        Format::Html => Redirect::to(HOME).into_response(),
    }
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.email.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bounded password work: too many logins in progress is a 503 with `Retry-After`, never a 500.
    #[test]
    fn busy_password_work_is_a_503_with_retry_after() {
        for format in [Format::Json, Format::Html] {
            let response = bad_password(format, PasswordError::Busy).into_response();
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{format:?}"
            );
            assert_eq!(response.headers()[header::RETRY_AFTER], "1", "{format:?}");
        }
        let response = bad_password(Format::Json, PasswordError::TooLong).into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get(header::RETRY_AFTER).is_none());
    }
}
