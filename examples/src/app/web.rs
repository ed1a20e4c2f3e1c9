//! Content negotiation (HTML for browsers, JSON for API clients), request bodies in either
//! encoding, and the app's error type.

use std::convert::Infallible;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::{Form, Json};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::html;

/// What the client wants back: HTML when its `Accept` names `text/html` (a browser navigating
/// or submitting a form), JSON otherwise (`Accept: application/json`, or API clients that send
/// no `Accept`). The same rule as the manager's `redirect_to_login()`, so an API client gets a
/// 401, never a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A server-rendered page.
    Html,
    /// A JSON document.
    Json,
}

impl Format {
    /// Reads the `Accept` header.
    pub fn of(parts: &Parts) -> Format {
        let html = parts
            .headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("text/html"));
        if html { Format::Html } else { Format::Json }
    }

    /// An error answered in this format.
    pub fn error(self, status: StatusCode, message: impl Into<String>) -> AppError {
        AppError {
            format: self,
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A database failure: logged, answered with a generic 500.
    pub fn db_error(self, error: sqlx::Error) -> AppError {
        tracing::error!(%error, "database error");
        self.error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Format {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Format::of(parts))
    }
}

/// A request body as JSON (`Content-Type: application/json`, API clients) or as a form
/// (`application/x-www-form-urlencoded`, HTML forms). Any other type is refused with 415, so
/// a cross-site `text/plain` "simple request" never reaches a handler.
#[derive(Debug, Clone)]
pub struct Input<T>(pub T);

impl<S, T> FromRequest<S> for Input<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("application/json") {
            Json::<T>::from_request(req, state)
                .await
                .map(|Json(t)| Input(t))
                .map_err(IntoResponse::into_response)
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            Form::<T>::from_request(req, state)
                .await
                .map(|Form(t)| Input(t))
                .map_err(IntoResponse::into_response)
        } else {
            Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Json(json!({
                    "detail": "send application/json or application/x-www-form-urlencoded"
                })),
            )
                .into_response())
        }
    }
}

/// An error page or `{"detail": "..."}`, with its status.
#[derive(Debug)]
pub struct AppError {
    format: Format,
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl AppError {
    /// The status sent.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Adds `Retry-After: <seconds>` (for a 503).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut response = self.respond();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl AppError {
    fn respond(self) -> Response {
        match self.format {
            Format::Json => (self.status, Json(json!({ "detail": self.message }))).into_response(),
            Format::Html => {
                let title = self.status.canonical_reason().unwrap_or("Error");
                let body = format!(
                    r#"<h1>{}</h1><p class="error">{}</p><p><a href="/posts">Back to my posts</a></p>"#,
                    html::escape(title),
                    html::escape(&self.message)
                );
                (self.status, Html(html::page(title, None, &body))).into_response()
            }
        }
    }
}
