//! The CSRF policy for cookie-authenticated requests (used by the extractors, and by the
//! [`SameOrigin`](crate::SameOrigin) guard for login routes).
//!
//! A browser attaches the cookie to every request to your site, including a form another site
//! submits. So a state-changing request authenticated by the cookie must prove it comes from
//! your own pages. Following OWASP's CSRF cheat sheet, the check reads Fetch Metadata
//! (`Sec-Fetch-Site`) and falls back to `Origin`, then `Referer`:
//!
//! | header | passes when |
//! |---|---|
//! | `Sec-Fetch-Site` | `same-origin` or `none` (typed by the user); `same-site`/`cross-site` only from a trusted origin |
//! | `Origin` (no Fetch Metadata) | it names the request's own host or a trusted origin; `null` never |
//! | `Referer` (neither above) | it names the request's own host or a trusted origin |
//! | none of them | always: browsers send `Origin` on cross-site POSTs, so this is a non-browser client |
//!
//! Safe methods (GET, HEAD, OPTIONS, TRACE) are never checked: keep them free of side effects.
//! `SameSite=Lax` on the cookie is defence in depth, not the defence.

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};

use crate::error::SameOriginError;

/// Whether a method can change state (everything but GET, HEAD, OPTIONS and TRACE).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `scheme://host[:port]`, lower-cased, without a trailing slash; `None` if it is not an origin.
pub(crate) fn normalize_origin(origin: &str) -> Option<String> {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://")?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let authority_ok = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    (scheme_ok && authority_ok).then_some(origin)
}

/// The request's own authority (`host[:port]`), from `Host` or the URI (HTTP/2).
fn own_authority(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .map(|a| a.to_ascii_lowercase())
}

fn header_str<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
) -> Result<Option<&'a str>, SameOriginError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(SameOriginError::DuplicatedHeader(name));
    }
    match first {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| SameOriginError::NotAscii(name)),
    }
}

/// Whether `origin` (already normalized) is the request's own origin or a trusted one.
fn origin_allowed(origin: &str, parts: &Parts, trusted: &[String]) -> bool {
    if trusted.iter().any(|t| t == origin) {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, a)| a);
    match (authority, own_authority(parts)) {
        (Some(a), Some(own)) => a == own,
        _ => false,
    }
}

/// Checks that a state-changing request comes from the same origin (or a trusted one).
/// Returns the reason when it does not.
pub(crate) fn check_same_origin(parts: &Parts, trusted: &[String]) -> Result<(), SameOriginError> {
    if !is_unsafe(&parts.method) {
        return Ok(());
    }
    let headers = &parts.headers;
    let origin = header_str(headers, "origin")?;
    let normalized_origin = origin.and_then(normalize_origin);
    match header_str(headers, "sec-fetch-site")? {
        Some("same-origin") | Some("none") => return Ok(()),
        Some(_) => {
            // same-site or cross-site: only a trusted origin may.
            return match &normalized_origin {
                Some(o) if trusted.iter().any(|t| t == o) => Ok(()),
                _ => Err(SameOriginError::CrossSiteFetch),
            };
        }
        None => {}
    }
    if origin.is_some() {
        return match normalized_origin {
            Some(o) if origin_allowed(&o, parts, trusted) => Ok(()),
            _ => Err(SameOriginError::ForeignOrigin),
        };
    }
    if let Some(referer) = header_str(headers, "referer")? {
        // The origin part of the Referer: scheme://authority.
        let origin = referer
            .split_once("://")
            .map(|(scheme, rest)| {
                let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
                format!("{scheme}://{authority}")
            })
            .and_then(|o| normalize_origin(&o));
        return match origin {
            Some(o) if origin_allowed(&o, parts, trusted) => Ok(()),
            _ => Err(SameOriginError::ForeignReferer),
        };
    }
    // No Fetch Metadata, no Origin, no Referer: not a browser (curl, a script, a test).
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::builder()
            .method(method)
            .uri("/posts")
            .header("host", "app.example.com");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn policy() {
        let t = vec!["https://admin.example.com".to_owned()];
        let ok = |h: &[(&str, &str)]| check_same_origin(&parts(Method::POST, h), &t).is_ok();
        assert!(ok(&[]));
        assert!(ok(&[("sec-fetch-site", "same-origin")]));
        assert!(ok(&[("sec-fetch-site", "none")]));
        assert!(!ok(&[("sec-fetch-site", "cross-site")]));
        assert!(!ok(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://blog.example.com")
        ]));
        assert!(ok(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://admin.example.com")
        ]));
        assert!(ok(&[("origin", "https://app.example.com")]));
        assert!(ok(&[("origin", "HTTPS://APP.example.com/")]));
        assert!(!ok(&[("origin", "https://evil.example")]));
        assert!(!ok(&[("origin", "null")]));
        assert!(!ok(&[("origin", "https://app.example.com.evil.example")]));
        assert!(ok(&[("referer", "https://app.example.com/posts?x=1")]));
        assert!(!ok(&[("referer", "https://evil.example/app.example.com")]));
        assert!(!ok(&[("referer", "not a url")]));
        assert!(!ok(&[
            ("origin", "https://app.example.com"),
            ("origin", "https://evil.example")
        ]));
        // Safe methods are never checked.
        assert!(
            check_same_origin(&parts(Method::GET, &[("sec-fetch-site", "cross-site")]), &t).is_ok()
        );
        assert!(
            check_same_origin(
                &parts(Method::DELETE, &[("sec-fetch-site", "cross-site")]),
                &t
            )
            .is_err()
        );
    }

    #[test]
    fn reasons_are_typed() {
        let t: Vec<String> = Vec::new();
        let why = |h: &[(&str, &str)]| check_same_origin(&parts(Method::POST, h), &t).err();
        assert_eq!(
            why(&[("sec-fetch-site", "cross-site")]),
            Some(SameOriginError::CrossSiteFetch)
        );
        assert_eq!(
            why(&[("origin", "null")]),
            Some(SameOriginError::ForeignOrigin)
        );
        assert_eq!(
            why(&[("referer", "https://evil.example/")]),
            Some(SameOriginError::ForeignReferer)
        );
        assert_eq!(
            why(&[
                ("origin", "https://a.example"),
                ("origin", "https://b.example")
            ]),
            Some(SameOriginError::DuplicatedHeader("origin"))
        );
        let mut p = parts(Method::POST, &[]);
        p.headers.insert(
            "origin",
            axum::http::HeaderValue::from_bytes(b"https://\xc3\xa9.example").unwrap(),
        );
        assert_eq!(
            check_same_origin(&p, &t),
            Err(SameOriginError::NotAscii("origin"))
        );
    }

    #[test]
    fn origins_normalize() {
        assert_eq!(
            normalize_origin("https://A.example.com/").as_deref(),
            Some("https://a.example.com")
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(normalize_origin("https://"), None);
        assert_eq!(normalize_origin("https://a b"), None);
    }
}
