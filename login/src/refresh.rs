//! The refresh route (RFC 6749 §6): the [`RefreshRequest`] extractor, its [`GrantError`]
//! answers (RFC 6749 §5.2), the [`UserAgent`] extractor, and a ready-made [`refresh_route`].
//!
//! ```
//! use axum::{Router, routing::post};
//! use login::LoginManager;
//!
//! # fn main() -> Result<(), login::ConfigError> {
//! let manager = LoginManager::builder("/login")
//!     .secret("a-32-byte-or-longer-secret-from-env!")
//!     .sessions()
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/refresh", post(login::refresh::refresh_route))
//!     .with_state(manager);
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::marker::PhantomData;
use std::net::IpAddr;

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;

use crate::events::Client;
use crate::manager::{AsLoginManager, LoginManager};
use crate::oauth2::TokenResponse;
use crate::rejection::{RejectionKind, default_response};
use crate::session::RefreshError;

/// The largest refresh request body read (a refresh form is under 100 bytes; a larger body,
/// up to this, still gets the one `invalid_grant` for an oversized token).
const MAX_BODY_BYTES: usize = 64 * 1024;
/// A refresh token longer than this is refused as `invalid_grant` without being looked up.
const MAX_REFRESH_TOKEN_BYTES: usize = 512;

/// Where a refresh token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshSource {
    /// The form's `refresh_token` parameter (an API client): the answer carries the new
    /// refresh token in its body.
    Form,
    /// The refresh cookie (a browser): the answer sets the new cookies and puts no token in
    /// its body ([`RefreshResponse::Cookies`]).
    Cookie,
}

/// A refresh request: `grant_type=refresh_token&refresh_token=…` as a form (RFC 6749 §6), or
/// the refresh cookie (a form with only `grant_type=refresh_token`, or no body).
///
/// Refused before any lookup: a body that is not a form or is over 64 KiB, a repeated
/// parameter, a missing or
/// empty `grant_type` or token (`invalid_request`), a `grant_type` other than
/// `refresh_token` (`unsupported_grant_type`), two refresh cookies (`invalid_request`), and a
/// cookie-carried request from another origin (403, whatever the method: the same check as
/// the token cookie's CSRF protection).
///
/// It reads the refresh cookie of the state's [`LoginManager`]; `RefreshRequest<Admins>`
/// reads a second manager's (a type made with [`define_manager!`](crate::define_manager)).
pub struct RefreshRequest<M = LoginManager> {
    /// The refresh token presented.
    pub token: String,
    /// Where it came from.
    pub source: RefreshSource,
    /// The client's address, for the auth events.
    address: Option<IpAddr>,
    manager: PhantomData<fn() -> M>,
}

impl<M> fmt::Debug for RefreshRequest<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("token", &"***")
            .field("source", &self.source)
            .finish()
    }
}

/// A refused refresh (RFC 6749 §5.2): 400 with `{"error": "invalid_request" |
/// "unsupported_grant_type" | "invalid_grant"}`, 403 for a cross-site request, 503
/// `temporarily_unavailable` when the store failed, 500 `server_error` when the manager has
/// no sessions. Always `Cache-Control: no-store`; never any detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GrantError {
    /// A missing, repeated or malformed parameter, or no refresh token at all.
    #[error("invalid_request")]
    InvalidRequest,
    /// `grant_type` is not `refresh_token`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// The refresh token is unknown, malformed, oversized, expired, already used, or of an
    /// ended session.
    #[error("invalid_grant")]
    InvalidGrant,
    /// The refresh cookie came with a request from another origin.
    #[error("invalid_request")]
    CrossSite,
    /// The session store failed.
    #[error("temporarily_unavailable")]
    Unavailable,
    /// The manager has no sessions (a configuration error).
    #[error("server_error")]
    NotEnabled,
}

impl GrantError {
    /// The status of the answer.
    pub fn status(self) -> StatusCode {
        match self {
            GrantError::CrossSite => StatusCode::FORBIDDEN,
            GrantError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            GrantError::NotEnabled => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The RFC 6749 error code.
    pub fn code(self) -> &'static str {
        match self {
            GrantError::InvalidRequest | GrantError::CrossSite => "invalid_request",
            GrantError::UnsupportedGrantType => "unsupported_grant_type",
            GrantError::InvalidGrant => "invalid_grant",
            GrantError::Unavailable => "temporarily_unavailable",
            GrantError::NotEnabled => "server_error",
        }
    }
}

impl IntoResponse for GrantError {
    fn into_response(self) -> Response {
        let mut response = if self == GrantError::CrossSite {
            default_response(RejectionKind::CrossSiteRequest, &[])
        } else {
            let body = axum::Json(serde_json::json!({ "error": self.code() }));
            (self.status(), body).into_response()
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        response
    }
}

impl From<RefreshError> for GrantError {
    fn from(error: RefreshError) -> Self {
        match error {
            RefreshError::InvalidGrant => GrantError::InvalidGrant,
            RefreshError::Disabled => {
                tracing::error!("login: refresh route on a manager without sessions");
                GrantError::NotEnabled
            }
            RefreshError::Store(e) => {
                tracing::error!(error = %e, "login: session store failed during a refresh");
                GrantError::Unavailable
            }
            RefreshError::Token(e) => {
                tracing::error!(error = %e, "login: could not mint an access token on refresh");
                GrantError::NotEnabled
            }
        }
    }
}

fn is_form(headers: &HeaderMap) -> Option<bool> {
    let mut values = headers.get_all(header::CONTENT_TYPE).iter();
    let first = values.next();
    if values.next().is_some() {
        return Some(false);
    }
    let value = first?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim();
    Some(essence.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The refresh cookie's value, read as the token cookie is (`credentials::find_cookie`): split
/// as bytes, so another cookie's non-ASCII value cannot hide it; an empty value is absent; the
/// same name twice with different values (a tossed cookie) is refused.
fn refresh_cookie(headers: &HeaderMap, name: &str) -> Result<Option<String>, GrantError> {
    crate::credentials::find_cookie(headers, name)
        .map(|found| found.map(str::to_owned))
        .map_err(|reason| {
            tracing::debug!(reason, "login: refresh cookie refused");
            GrantError::InvalidRequest
        })
}

/// The same-origin check of the token cookie's CSRF protection, applied whatever the method:
/// presenting the refresh cookie changes state even on a `GET`.
fn check_cross_site(manager: &LoginManager, parts: &mut Parts) -> Result<(), GrantError> {
    let method = std::mem::replace(&mut parts.method, Method::POST);
    let checked = manager.check_same_origin(parts);
    parts.method = method;
    checked.map_err(|reason| {
        tracing::debug!(%reason, "login: cross-site refresh with the cookie refused");
        GrantError::CrossSite
    })
}

impl<M, S> FromRequest<S> for RefreshRequest<M>
where
    S: Send + Sync,
    M: AsLoginManager + FromRef<S>,
{
    type Rejection = GrantError;

    async fn from_request(req: Request, state: &S) -> Result<Self, GrantError> {
        let handle = M::from_ref(state);
        let manager = handle.login_manager();
        let (mut parts, body) = req.into_parts();
        let address = crate::events::client_address(&parts.headers, &parts.extensions);
        let mut form_token = None;
        match is_form(&parts.headers) {
            Some(true) => {
                let bytes = axum::body::to_bytes(Body::new(body), MAX_BODY_BYTES)
                    .await
                    .map_err(|_| GrantError::InvalidRequest)?;
                let params: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(&bytes).map_err(|_| GrantError::InvalidRequest)?;
                let mut grant_type = None;
                for (key, value) in params {
                    let slot = match key.as_str() {
                        "grant_type" => &mut grant_type,
                        "refresh_token" => &mut form_token,
                        _ => continue,
                    };
                    // RFC 6749 §3.2: parameters must not be included more than once.
                    if slot.replace(value).is_some() {
                        return Err(GrantError::InvalidRequest);
                    }
                }
                match grant_type.as_deref() {
                    None | Some("") => return Err(GrantError::InvalidRequest),
                    Some("refresh_token") => {}
                    Some(_) => return Err(GrantError::UnsupportedGrantType),
                }
            }
            Some(false) => return Err(GrantError::InvalidRequest),
            None => {}
        }
        if let Some(token) = form_token {
            if token.is_empty() {
                return Err(GrantError::InvalidRequest);
            }
            if token.len() > MAX_REFRESH_TOKEN_BYTES {
                return Err(GrantError::InvalidGrant);
            }
            return Ok(RefreshRequest {
                token,
                source: RefreshSource::Form,
                address,
                manager: PhantomData,
            });
        }
        let name = manager
            .refresh_cookie_name()
            .ok_or(GrantError::NotEnabled)?;
        let Some(token) = refresh_cookie(&parts.headers, name)? else {
            return Err(GrantError::InvalidRequest);
        };
        check_cross_site(manager, &mut parts)?;
        if token.len() > MAX_REFRESH_TOKEN_BYTES {
            return Err(GrantError::InvalidGrant);
        }
        Ok(RefreshRequest {
            token,
            source: RefreshSource::Cookie,
            address,
            manager: PhantomData,
        })
    }
}

/// The request's `User-Agent`, when it has one (and only one), for
/// [`LoginManager::start_session`] and [`LoginManager::refresh`].
#[derive(Debug, Clone, Default)]
pub struct UserAgent(pub Option<String>);

impl UserAgent {
    /// The user agent as a `&str`.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let mut values = parts.headers.get_all(header::USER_AGENT).iter();
        let first = values.next();
        let agent = match values.next() {
            Some(_) => None,
            None => first.and_then(|v| v.to_str().ok()).map(str::to_owned),
        };
        Ok(UserAgent(agent))
    }
}

/// The answer of a successful refresh ([`refresh_route`]), by where the refresh token came
/// from. Both are `200` with `Cache-Control: no-store` and `Pragma: no-cache`.
#[derive(Debug)]
pub enum RefreshResponse {
    /// The token came in the form (an API client): the RFC 6749 §5.1 token response with the
    /// new access token and the new `refresh_token`.
    Tokens(TokenResponse),
    /// The token came in the refresh cookie (a browser): the new tokens are in the cookies
    /// the answer sets (the token cookie, when the manager reads it, and the refresh
    /// cookie), and the body is `{"expires_in": N}` only, the access token's lifetime in
    /// seconds (when to refresh next, which the page cannot read from an `HttpOnly` cookie).
    /// No token is in it: a script injected into the page could otherwise mint itself a
    /// bearer token, usable anywhere, by calling the refresh route.
    Cookies {
        /// The new access token's lifetime, in seconds.
        expires_in: u64,
    },
}

impl IntoResponse for RefreshResponse {
    fn into_response(self) -> Response {
        match self {
            RefreshResponse::Tokens(tokens) => tokens.into_response(),
            RefreshResponse::Cookies { expires_in } => {
                let body = axum::Json(serde_json::json!({ "expires_in": expires_in }));
                let mut response = body.into_response();
                let headers = response.headers_mut();
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
                response
            }
        }
    }
}

/// A complete refresh route: `.route("/refresh", post(login::refresh::refresh_route))`.
///
/// With the token in the form, it answers the token response with the new `refresh_token`
/// in it ([`RefreshResponse::Tokens`]); with the refresh cookie, it sets the new cookies (the
/// token cookie when the manager reads it, and the refresh cookie) and its body carries no
/// token, only `{"expires_in": N}` ([`RefreshResponse::Cookies`]). A manager that reads only
/// the `Authorization` header gets no usable access token from a cookie refresh: its clients
/// send the refresh token in the form. Errors are [`GrantError`]s (a refresh token presented
/// again is reported to the manager's auth events hook, with the client's address and user
/// agent); a failed refresh never clears the cookie (another tab may just have rotated it).
pub async fn refresh_route(
    State(manager): State<LoginManager>,
    agent: UserAgent,
    jar: CookieJar,
    request: RefreshRequest,
) -> Result<(CookieJar, RefreshResponse), GrantError> {
    refresh_with(&manager, agent, jar, request).await
}

/// [`refresh_route`] for a second manager's type (made with
/// [`define_manager!`](crate::define_manager)):
/// `.route("/admin/refresh", post(login::refresh::refresh_route_for::<Admins>))`.
pub async fn refresh_route_for<M: AsLoginManager>(
    State(handle): State<M>,
    agent: UserAgent,
    jar: CookieJar,
    request: RefreshRequest<M>,
) -> Result<(CookieJar, RefreshResponse), GrantError> {
    refresh_with(handle.login_manager(), agent, jar, request).await
}

async fn refresh_with<M>(
    manager: &LoginManager,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    request: RefreshRequest<M>,
) -> Result<(CookieJar, RefreshResponse), GrantError> {
    let client = Client {
        address: request.address,
        user_agent: agent,
    };
    let tokens = manager.refresh_with(&request.token, &client).await?;
    Ok(match request.source {
        RefreshSource::Form => (jar, RefreshResponse::Tokens(tokens.token_response())),
        RefreshSource::Cookie => {
            let jar = manager.set_session_cookies(jar, &tokens);
            let expires_in = tokens.expires_in;
            (jar, RefreshResponse::Cookies { expires_in })
        }
    })
}
