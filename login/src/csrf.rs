//! The CSRF policy for cookie-authenticated requests (used by the extractors, and by the
//! [`SameOrigin`](crate::extract::SameOrigin) guard for login routes).
//!
//! A browser attaches the cookie to every request to your site, including a form another site
//! submits. So a state-changing request authenticated by the cookie must prove it comes from
//! your own pages. Following OWASP's CSRF cheat sheet, the check reads Fetch Metadata
//! (`Sec-Fetch-Site`) and falls back to `Origin`, then `Referer`:
//!
//! | header | passes when |
//! |---|---|
//! | `Sec-Fetch-Site` | `same-origin` or `none` (typed by the user); `same-site`/`cross-site` only from a trusted origin |
//! | `Origin` (no Fetch Metadata) | it is the app's own origin or a trusted origin; `null` never |
//! | `Referer` (neither above) | its origin is the app's own origin or a trusted origin |
//! | none of them | always: browsers send `Origin` on cross-site POSTs, so this is a non-browser client |
//!
//! Origins are compared whole: scheme, host and port (default ports dropped). The app's own
//! origin is the configured public origin when there is one; otherwise the request's `Host`
//! with the scheme `https` when the cookie is `Secure` (plus `http` on a loopback host, where
//! browsers keep `Secure` cookies over plain HTTP and no network attacker can serve a page),
//! and either scheme when it is not (a cookie sent in the clear gains nothing from the check).
//!
//! Checked: every method but GET, HEAD, OPTIONS and TRACE, and every request that asks for a
//! protocol upgrade (a WebSocket handshake is a GET, but the connection it opens acts for the
//! user). Keep safe methods free of side effects. `SameSite=Lax` on the cookie is defence in
//! depth, not the defence.

use std::net::IpAddr;

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

/// Whether the request must pass the origin check: a state-changing method, or an upgrade
/// (`Upgrade: websocket` on a GET, RFC 6455 §4.1; HTTP/2's extended CONNECT is unsafe already).
pub(crate) fn needs_check(parts: &Parts) -> bool {
    is_unsafe(&parts.method) || parts.headers.contains_key(header::UPGRADE)
}

/// `scheme://host[:port]`, lower-cased, without a trailing slash and without the scheme's
/// default port (443 for https, 80 for http); `None` if it is not an origin.
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
    if !(scheme_ok && authority_ok) {
        return None;
    }
    let authority = without_default_port(scheme, authority);
    if authority.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = match scheme {
        "https" | "wss" => ":443",
        "http" | "ws" => ":80",
        _ => return authority,
    };
    authority.strip_suffix(default).unwrap_or(authority)
}

/// Whether an authority (`host[:port]`, lower-cased) names the local machine: `localhost`,
/// `*.localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(authority, |(host, _)| host),
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Who may send cookie-authenticated state-changing requests: the app's own origin, and the
/// trusted ones (all normalized by [`normalize_origin`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origins<'a> {
    /// Other origins allowed, even with `Sec-Fetch-Site: same-site` or `cross-site`.
    pub(crate) trusted: &'a [String],
    /// The app's public origin; when set, the only own origin (`Host` is not consulted).
    pub(crate) public: Option<&'a str>,
    /// The cookie is `Secure`: the app is served over HTTPS.
    pub(crate) secure: bool,
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

/// Whether `origin` (already normalized) is the app's own origin or a trusted one.
fn origin_allowed(origin: &str, parts: &Parts, origins: &Origins<'_>) -> bool {
    if origins.trusted.iter().any(|t| t == origin) {
        return true;
    }
    if let Some(public) = origins.public {
        return origin == public;
    }
    let (Some((scheme, authority)), Some(own)) = (origin.split_once("://"), own_authority(parts))
    else {
        return false;
    };
    if authority != without_default_port(scheme, &own) {
        return false;
    }
    match scheme {
        "https" => true,
        "http" => !origins.secure || is_loopback(authority),
        _ => false,
    }
}

/// Checks that a state-changing request (or an upgrade) comes from the app's own origin or a
/// trusted one. Returns the reason when it does not.
pub(crate) fn check_same_origin(
    parts: &Parts,
    origins: &Origins<'_>,
) -> Result<(), SameOriginError> {
    if !needs_check(parts) {
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
                Some(o) if origins.trusted.iter().any(|t| t == o) => Ok(()),
                _ => Err(SameOriginError::CrossSiteFetch),
            };
        }
        None => {}
    }
    if origin.is_some() {
        return match normalized_origin {
            Some(o) if origin_allowed(&o, parts, origins) => Ok(()),
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
            Some(o) if origin_allowed(&o, parts, origins) => Ok(()),
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

    fn parts_at(method: Method, host: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = Request::builder()
            .method(method)
            .uri("/posts")
            .header("host", host);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn parts(method: Method, headers: &[(&str, &str)]) -> Parts {
        parts_at(method, "app.example.com", headers)
    }

    /// A Secure cookie, no public origin, these trusted origins.
    fn secure(trusted: &[String]) -> Origins<'_> {
        Origins {
            trusted,
            public: None,
            secure: true,
        }
    }

    #[test]
    fn policy() {
        let trusted = vec!["https://admin.example.com".to_owned()];
        let t = secure(&trusted);
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
        assert!(ok(&[("origin", "https://app.example.com:443")]));
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

    /// The scheme is part of the origin: `http://` is not the `https://` site.
    #[test]
    fn scheme_is_compared() {
        let none: Vec<String> = Vec::new();
        let check = |origins: &Origins<'_>, host: &str, origin: &str| {
            check_same_origin(
                &parts_at(Method::POST, host, &[("origin", origin)]),
                origins,
            )
            .is_ok()
        };
        let https = secure(&none);
        assert!(check(&https, "app.example.com", "https://app.example.com"));
        assert!(!check(&https, "app.example.com", "http://app.example.com"));
        assert!(!check(
            &https,
            "app.example.com:80",
            "http://app.example.com"
        ));
        assert!(check(
            &https,
            "app.example.com:443",
            "https://app.example.com"
        ));
        assert!(!check(
            &https,
            "app.example.com",
            "https://app.example.com:8443"
        ));
        assert!(!check(&https, "app.example.com", "ftp://app.example.com"));
        let referer = parts(Method::POST, &[("referer", "http://app.example.com/form")]);
        assert_eq!(
            check_same_origin(&referer, &https),
            Err(SameOriginError::ForeignReferer)
        );
        // Loopback: browsers keep Secure cookies over plain HTTP there, and no network
        // attacker can serve a page on it.
        assert!(check(&https, "127.0.0.1:8000", "http://127.0.0.1:8000"));
        assert!(check(&https, "localhost:3000", "http://localhost:3000"));
        assert!(check(&https, "[::1]:8000", "http://[::1]:8000"));
        assert!(!check(&https, "127.0.0.1:8000", "http://127.0.0.1:9000"));
        assert!(!check(
            &https,
            "localhost.evil.example",
            "http://localhost.evil.example"
        ));
        // A cookie sent in the clear: both schemes (the check could add nothing).
        let plain = Origins {
            trusted: &none,
            public: None,
            secure: false,
        };
        assert!(check(&plain, "app.example.com", "http://app.example.com"));
        assert!(check(&plain, "app.example.com", "https://app.example.com"));
        assert!(!check(&plain, "app.example.com", "http://evil.example"));
    }

    /// The public origin, when configured, is the app's only own origin: `Host` (which a proxy
    /// may rewrite) is not consulted.
    #[test]
    fn public_origin_replaces_the_host() {
        let none: Vec<String> = Vec::new();
        let public = Origins {
            trusted: &none,
            public: Some("https://app.example.com"),
            secure: true,
        };
        let check = |host: &str, origin: &str| {
            check_same_origin(
                &parts_at(Method::POST, host, &[("origin", origin)]),
                &public,
            )
            .is_ok()
        };
        assert!(check("backend:8080", "https://app.example.com"));
        assert!(!check("backend:8080", "http://backend:8080"));
        assert!(!check("app.example.com", "http://app.example.com"));
        assert!(!check("evil.example", "https://evil.example"));
    }

    /// An upgrade (a WebSocket handshake, which browsers send cross-site with cookies) is
    /// checked like a state-changing request.
    #[test]
    fn upgrades_are_checked() {
        let none: Vec<String> = Vec::new();
        let t = secure(&none);
        let handshake = |origin: &str| {
            parts(
                Method::GET,
                &[
                    ("connection", "Upgrade"),
                    ("upgrade", "websocket"),
                    ("origin", origin),
                ],
            )
        };
        assert!(needs_check(&handshake("https://evil.example")));
        assert_eq!(
            check_same_origin(&handshake("https://evil.example"), &t),
            Err(SameOriginError::ForeignOrigin)
        );
        assert!(check_same_origin(&handshake("https://app.example.com"), &t).is_ok());
        assert!(!needs_check(&parts(
            Method::GET,
            &[("origin", "https://evil.example")]
        )));
    }

    #[test]
    fn reasons_are_typed() {
        let none: Vec<String> = Vec::new();
        let t = secure(&none);
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
        assert_eq!(
            normalize_origin("https://a.example.com:443").as_deref(),
            Some("https://a.example.com")
        );
        assert_eq!(
            normalize_origin("http://a.example.com:80").as_deref(),
            Some("http://a.example.com")
        );
        assert_eq!(
            normalize_origin("http://a.example.com:443").as_deref(),
            Some("http://a.example.com:443")
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(normalize_origin("https://"), None);
        assert_eq!(normalize_origin("https://:443"), None);
        assert_eq!(normalize_origin("https://a b"), None);
    }
}
