//! Redirects to the login page for HTML apps, with a safe `next` parameter.

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use std::sync::Arc;

use crate::rejection::{RejectionContext, RejectionHook, RejectionKind};

/// Returns `next` when it is a same-origin relative path (`/posts?page=2`), `None` otherwise.
///
/// Refused: absolute URLs (`https://evil.example`), scheme-relative `//evil.example`,
/// backslash tricks (`/\evil.example`, which browsers read as `//`), anything that does not
/// start with `/`, and control characters or whitespace. Use it on the login route before
/// redirecting, so that `/login?next=` cannot become an open redirect.
///
/// ```
/// use login::middleware::safe_next;
/// assert_eq!(safe_next("/posts?page=2"), Some("/posts?page=2"));
/// assert_eq!(safe_next("//evil.example"), None);
/// assert_eq!(safe_next("https://evil.example"), None);
/// assert_eq!(safe_next("/\\evil.example"), None);
/// ```
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    ok.then_some(next)
}

/// A `303 See Other` to `token_url` with `next` set to the request's path and query.
pub(crate) fn login_redirect(token_url: &str, parts: &Parts) -> Response {
    let next = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let query = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
    let separator = if token_url.contains('?') { '&' } else { '?' };
    let location = format!("{token_url}{separator}{query}");
    match HeaderValue::from_str(&location) {
        Ok(location) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Whether the client asked for HTML (a browser navigating), rather than JSON.
fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// The manager's hook: the user's `on_rejection` first, then the login redirect if enabled.
pub(crate) fn compose_hook(
    user: Option<RejectionHook>,
    redirect: bool,
    token_url: &str,
) -> Option<RejectionHook> {
    if !redirect {
        return user;
    }
    let token_url = token_url.to_owned();
    Some(Arc::new(move |rejection: &RejectionContext<'_>| {
        if let Some(response) = user.as_ref().and_then(|hook| hook(rejection)) {
            return Some(response);
        }
        let redirect = matches!(
            rejection.kind(),
            RejectionKind::MissingCredentials | RejectionKind::InvalidToken
        ) && wants_html(rejection.parts());
        redirect.then(|| login_redirect(&token_url, rejection.parts()))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_values() {
        for good in ["/", "/posts", "/posts?page=2&x=%2F", "/a/b#c"] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "",
            "posts",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/ok\r\nSet-Cookie: x=1",
            "/a b",
            "/\t/evil.example",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn redirect_carries_next() {
        let parts = axum::http::Request::get("/posts?page=2")
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let r = login_redirect("/login", &parts);
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            r.headers()[header::LOCATION],
            "/login?next=%2Fposts%3Fpage%3D2"
        );
    }
}
