//! Rejections: why a request was not authenticated, and the RFC 6750 answer each reason
//! gets (status, `WWW-Authenticate` challenge, a `{"detail": "..."}` body), which the
//! manager's hook may replace.
//!
//! | situation | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no credentials | 401 | `Bearer` |
//! | bad, expired or unknown-user token | 401 | `Bearer error="invalid_token"` |
//! | two `Authorization` headers | 400 | `Bearer error="invalid_request"` |
//! | missing scope | 403 | `Bearer error="insufficient_scope", scope="..."` |
//! | login too old, or a factor missing (step-up) | 401 | `Bearer error="insufficient_user_authentication", error_description="...", max_age="..."` (RFC 9470) |
//! | a cookie-authenticated request from another site | 403 | — |
//! | the revocations cannot be checked | 503 with `Retry-After` | — |
//! | the loader failed | the loader error's own response (a 5xx) | — |
//!
//! fastapi-login answers 400 for a missing scope; RFC 6750 §3.1 says 403, which is what you
//! get here. Replace any of these responses with
//! [`LoginManagerBuilder::on_rejection`](crate::LoginManagerBuilder::on_rejection).

use std::fmt;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use crate::error::{SameOriginError, VerifyError};

/// What a route requires, as the extractors check it and a rejection reports it: the scopes,
/// and the step-up (freshness in seconds, authentication methods).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Requirement {
    pub(crate) scopes: &'static [&'static str],
    pub(crate) max_age: Option<u64>,
    pub(crate) factors: &'static [&'static str],
}

impl Requirement {
    /// Nothing beyond a valid token.
    pub(crate) const NONE: Requirement = Requirement {
        scopes: &[],
        max_age: None,
        factors: &[],
    };
}

/// Why a request was not authenticated. Each kind has its own RFC 6750 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No credentials at all: 401, `WWW-Authenticate: Bearer`.
    MissingCredentials,
    /// A token that failed verification, or whose subject the loader does not know:
    /// 401, `WWW-Authenticate: Bearer error="invalid_token"`.
    InvalidToken,
    /// A malformed request, such as two `Authorization` headers:
    /// 400, `WWW-Authenticate: Bearer error="invalid_request"`.
    InvalidRequest,
    /// A valid token that lacks a required scope:
    /// 403, `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`.
    InsufficientScope,
    /// A valid token whose login is older than the route allows (`fresh = "10m"`), or whose
    /// `amr` lacks a required method (`factors = ["otp"]`): 401,
    /// `WWW-Authenticate: Bearer error="insufficient_user_authentication"` with an
    /// `error_description` and, for freshness, `max_age` (RFC 9470 §3): the client sends the
    /// user to authenticate again.
    InsufficientUserAuthentication,
    /// A state-changing request (POST, PUT, PATCH, DELETE…) authenticated by the cookie that
    /// came from another site (CSRF): 403, no challenge.
    CrossSiteRequest,
    /// The revocations cannot be checked: the shared session store's change stream has been
    /// down longer than its staleness bound. 503 with `Retry-After`, no challenge; the token
    /// is neither accepted nor declared invalid.
    Unavailable,
}

/// The `Retry-After` (seconds) of a [`RejectionKind::Unavailable`] answer.
pub(crate) const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

impl RejectionKind {
    /// The HTTP status of the default response.
    pub fn status(self) -> StatusCode {
        match self {
            RejectionKind::MissingCredentials
            | RejectionKind::InvalidToken
            | RejectionKind::InsufficientUserAuthentication => StatusCode::UNAUTHORIZED,
            RejectionKind::InvalidRequest => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope | RejectionKind::CrossSiteRequest => {
                StatusCode::FORBIDDEN
            }
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `detail` of the default JSON body. Deliberately generic: it never says more than
    /// the kind (the precise reason goes to a `tracing` event at debug level).
    pub fn detail(self) -> &'static str {
        match self {
            RejectionKind::MissingCredentials => "Not authenticated",
            RejectionKind::InvalidToken => "Invalid credentials",
            RejectionKind::InvalidRequest => "Malformed authorization request",
            RejectionKind::InsufficientScope => "Insufficient scope",
            RejectionKind::InsufficientUserAuthentication => "Insufficient user authentication",
            RejectionKind::CrossSiteRequest => "Cross-site request refused",
            RejectionKind::Unavailable => "Service temporarily unavailable",
        }
    }
}

/// What a rejection hook sees: the kind, what the route required (scopes, freshness,
/// factors), and the request.
///
/// Its `Debug` output (what `tracing::warn!(?rejection)` prints) holds the kind, the required
/// scopes, the method and the path — never the headers (the bearer token, the cookies) nor the
/// query string, which may carry a token too. Read [`parts`](Self::parts) for more, and log
/// only what you choose.
pub struct RejectionContext<'a> {
    pub(crate) kind: RejectionKind,
    pub(crate) required: &'a Requirement,
    pub(crate) parts: &'a Parts,
}

impl<'a> RejectionContext<'a> {
    /// Why the request was rejected.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }
    /// The scopes the route required (empty unless the route is scope-checked).
    pub fn required_scopes(&self) -> &'a [&'static str] {
        self.required.scopes
    }
    /// The longest time since the login the route allows, in seconds (`fresh = "..."`), if any.
    pub fn required_max_age(&self) -> Option<u64> {
        self.required.max_age
    }
    /// The authentication methods the route requires in the token's `amr`
    /// (`factors = [...]`), empty when none.
    pub fn required_factors(&self) -> &'a [&'static str] {
        self.required.factors
    }
    /// The request's head (method, URI, headers), for example to build a `next` parameter.
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }
    /// The default RFC 6750 response for this rejection.
    pub fn default_response(&self) -> Response {
        response_for(self.kind, self.required.scopes, self.required)
    }
}

impl fmt::Debug for RejectionContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectionContext")
            .field("kind", &self.kind)
            .field("required_scopes", &self.required.scopes)
            .field("required_max_age", &self.required.max_age)
            .field("required_factors", &self.required.factors)
            .field("method", &self.parts.method)
            .field("path", &self.parts.uri.path())
            .finish_non_exhaustive()
    }
}

pub(crate) type RejectionHook =
    Arc<dyn for<'a> Fn(&RejectionContext<'a>) -> Option<Response> + Send + Sync>;

/// The rejection of the login extractors: an RFC 6750 error response, or the response of a
/// failing loader.
///
/// The response is built when the extractor fails (so the manager's hook has seen the request);
/// [`kind`](Self::kind) tells what happened.
#[derive(thiserror::Error)]
#[error("{}", describe(.kind, .response))]
pub struct AuthRejection {
    kind: Option<RejectionKind>,
    response: Response,
}

/// The rejection's message: the reason's fixed detail, or the failing loader's status.
fn describe(kind: &Option<RejectionKind>, response: &Response) -> String {
    match kind {
        Some(kind) => kind.detail().to_owned(),
        None => format!("user loader failed ({})", response.status()),
    }
}

impl AuthRejection {
    pub(crate) fn new(
        kind: RejectionKind,
        required: &Requirement,
        parts: &Parts,
        hook: Option<&RejectionHook>,
    ) -> Self {
        let ctx = RejectionContext {
            kind,
            required,
            parts,
        };
        let response = hook
            .and_then(|hook| hook(&ctx))
            .unwrap_or_else(|| response_for(kind, required.scopes, required));
        AuthRejection {
            kind: Some(kind),
            response,
        }
    }

    pub(crate) fn loader(response: Response) -> Self {
        AuthRejection {
            kind: None,
            response,
        }
    }

    /// The kind of rejection, or `None` when the user loader failed (its own response is kept).
    pub fn kind(&self) -> Option<RejectionKind> {
        self.kind
    }

    /// Whether the user loader failed (for example the database was unreachable).
    pub fn is_loader_error(&self) -> bool {
        self.kind.is_none()
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("kind", &self.kind)
            .field("status", &self.response.status())
            .finish()
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.response
    }
}

/// The default RFC 6750 response for a rejection kind: status, `WWW-Authenticate` challenge
/// (none for a cross-site request, which is not a bearer-token error) and the JSON body
/// `{"detail": "..."}`. For [`RejectionKind::InsufficientUserAuthentication`] the challenge
/// has no `max_age` here: [`RejectionContext::default_response`] knows the route's and adds it.
pub fn default_response(kind: RejectionKind, required_scopes: &[&'static str]) -> Response {
    response_for(kind, required_scopes, &Requirement::NONE)
}

/// The RFC 9470 challenge for a token that falls short of `required`'s step-up: the error,
/// a description naming what is missing, and `max_age` when freshness was required. Factor
/// names were validated (ASCII letters, digits, `-_.`) when declared, so the value is a valid
/// header.
fn step_up_challenge(required: &Requirement) -> HeaderValue {
    let mut missing = Vec::new();
    if let Some(max_age) = required.max_age {
        missing.push(format!("a login within the last {max_age} seconds"));
    }
    if !required.factors.is_empty() {
        missing.push(format!(
            "the authentication method{} {}",
            if required.factors.len() == 1 { "" } else { "s" },
            required.factors.join(", ")
        ));
    }
    let description = if missing.is_empty() {
        "A different authentication level is required".to_owned()
    } else {
        format!("This route requires {}", missing.join(" and "))
    };
    let mut value = format!(
        r#"Bearer error="insufficient_user_authentication", error_description="{description}""#
    );
    if let Some(max_age) = required.max_age {
        value.push_str(&format!(r#", max_age="{max_age}""#));
    }
    HeaderValue::from_str(&value).unwrap_or_else(|_| {
        HeaderValue::from_static(r#"Bearer error="insufficient_user_authentication""#)
    })
}

/// The default response for `kind`: the challenge names `required_scopes` (for a missing
/// scope) and `required`'s step-up (for insufficient user authentication).
fn response_for(
    kind: RejectionKind,
    required_scopes: &[&'static str],
    required: &Requirement,
) -> Response {
    let challenge = match kind {
        RejectionKind::MissingCredentials => Some(HeaderValue::from_static("Bearer")),
        RejectionKind::InvalidToken => {
            Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#))
        }
        RejectionKind::InvalidRequest => Some(HeaderValue::from_static(
            r#"Bearer error="invalid_request""#,
        )),
        RejectionKind::InsufficientScope => {
            // Scopes were validated (RFC 6749 §3.3 scope-token characters) when declared, so
            // they never contain `"` or `\`; the value is always a valid header.
            let value = format!(
                r#"Bearer error="insufficient_scope", scope="{}""#,
                required_scopes.join(" ")
            );
            Some(HeaderValue::from_str(&value).unwrap_or_else(|_| {
                HeaderValue::from_static(r#"Bearer error="insufficient_scope""#)
            }))
        }
        RejectionKind::InsufficientUserAuthentication => Some(step_up_challenge(required)),
        RejectionKind::CrossSiteRequest | RejectionKind::Unavailable => None,
    };
    let retry_after = (kind == RejectionKind::Unavailable).then_some(UNAVAILABLE_RETRY_AFTER_SECS);
    let mut response = detail_response(kind.status(), kind.detail(), retry_after);
    if let Some(challenge) = challenge {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// The crate's plain answer: `{"detail": detail}` with `status`, `Cache-Control: no-store`,
/// and `Retry-After` when given (a 503).
pub(crate) fn detail_response(
    status: StatusCode,
    detail: &'static str,
    retry_after: Option<u64>,
) -> Response {
    let mut response =
        (status, axum::Json(serde_json::json!({ "detail": detail }))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
