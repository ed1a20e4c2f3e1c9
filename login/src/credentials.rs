//! Reading a request's credentials: the `Authorization: Bearer` header and the token cookie,
//! as the manager's sources say. Never the query string or the body (RFC 6750 §2.3).

use axum::http::{HeaderMap, header};

/// Where a request's token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// The `Authorization: Bearer` header.
    Header,
    /// The token cookie.
    Cookie,
}

/// What a request carries. `Debug` never prints the token.
#[derive(PartialEq, Eq)]
pub(crate) enum Credentials<'h> {
    /// No token at all (an empty token or cookie counts as none).
    None,
    /// A token, and where it was found.
    Token(&'h str, TokenSource),
    /// An ambiguous or unreadable request (RFC 6750 `invalid_request`): the reason, and the
    /// carrier at fault (a cookie can be planted by a third party; a header cannot).
    Malformed(&'static str, TokenSource),
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Token(token, source) => f
                .debug_tuple("Token")
                .field(&format_args!("<{} bytes>", token.len()))
                .field(source)
                .finish(),
            Credentials::Malformed(reason, source) => f
                .debug_tuple("Malformed")
                .field(reason)
                .field(source)
                .finish(),
        }
    }
}

/// The token sources a manager reads.
#[derive(Debug, Clone)]
pub(crate) struct Sources {
    /// Read `Authorization: Bearer`.
    pub(crate) header: bool,
    /// Read the cookie of this name.
    pub(crate) cookie: Option<String>,
}

impl Sources {
    /// Finds the request's token. One method per request (RFC 6750 §2): a bearer token in the
    /// `Authorization` header decides, and the cookie is then not read at all — the header is
    /// explicit (a browser never adds it, another site cannot set it), while a cookie can be
    /// planted by a sibling subdomain or a plain-HTTP man in the middle ("cookie tossing"), and
    /// must neither override nor lock out a client that sends the header. Without a bearer
    /// token in the header (no header, an empty token, another scheme), the cookie is read.
    /// Two `Authorization` headers are malformed whatever the cookie says.
    pub(crate) fn read<'h>(&self, headers: &'h HeaderMap) -> Credentials<'h> {
        if self.header {
            let mut values = headers.get_all(header::AUTHORIZATION).iter();
            let authorization = values.next();
            if values.next().is_some() {
                return Credentials::Malformed(
                    "more than one Authorization header",
                    TokenSource::Header,
                );
            }
            if let Some(value) = authorization {
                let Ok(value) = value.to_str() else {
                    return Credentials::Malformed(
                        "Authorization header is not visible ASCII",
                        TokenSource::Header,
                    );
                };
                if let Some((scheme, rest)) = value.split_once(' ')
                    && scheme.eq_ignore_ascii_case("bearer")
                {
                    let token = rest.trim_start_matches(' ').trim_end_matches(' ');
                    if !token.is_empty() {
                        return Credentials::Token(token, TokenSource::Header);
                    }
                }
            }
        }
        if let Some(name) = &self.cookie {
            match find_cookie(headers, name) {
                Ok(Some(token)) => return Credentials::Token(token, TokenSource::Cookie),
                Ok(None) => {}
                Err(reason) => return Credentials::Malformed(reason, TokenSource::Cookie),
            }
        }
        Credentials::None
    }
}

/// Finds the value of cookie `name` in every `Cookie` header. An empty value counts as absent;
/// the same name twice with different values is ambiguous and refused.
fn find_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, &'static str> {
    let mut found: Option<&'h str> = None;
    for value in headers.get_all(header::COOKIE) {
        // Split as bytes: another cookie's non-ASCII value (`name=José`) must not hide ours.
        for pair in value.as_bytes().split(|&b| b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (k, v) = (
                pair[..eq].trim_ascii_end(),
                pair[eq + 1..].trim_ascii_start(),
            );
            if k != name.as_bytes() {
                continue;
            }
            // Only the token cookie's own value must be ASCII (the verifier refuses the rest).
            let Ok(v) = std::str::from_utf8(v) else {
                return Err("the token cookie is not ASCII");
            };
            if !v.is_ascii() {
                return Err("the token cookie is not ASCII");
            }
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            if v.is_empty() {
                continue;
            }
            match found {
                Some(prev) if prev != v => {
                    return Err("the token cookie appears twice with different values");
                }
                _ => found = Some(v),
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn header_first_then_cookie_and_never_two_headers() {
        let both = Sources {
            header: true,
            cookie: Some("access-token".into()),
        };
        let mut h = headers(&["access-token=from-cookie"]);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer from-header"),
        );
        assert_eq!(
            both.read(&h),
            Credentials::Token("from-header", TokenSource::Header)
        );
        // With a bearer token in the header, an ambiguous cookie is not even read.
        h.append(
            header::COOKIE,
            HeaderValue::from_static("access-token=tossed"),
        );
        assert_eq!(
            both.read(&h),
            Credentials::Token("from-header", TokenSource::Header)
        );
        h.remove(header::AUTHORIZATION);
        assert!(matches!(
            both.read(&h),
            Credentials::Malformed(_, TokenSource::Cookie)
        ));
        let mut h = headers(&["access-token=from-cookie"]);
        for other in ["Basic dXNlcjpwdw==", "Bearer ", "Bearer"] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(other));
            assert_eq!(
                both.read(&h),
                Credentials::Token("from-cookie", TokenSource::Cookie),
                "{other}"
            );
        }
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer one"),
        );
        h.append(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer other"),
        );
        assert_eq!(
            both.read(&h),
            Credentials::Malformed("more than one Authorization header", TokenSource::Header)
        );
        let header_only = Sources {
            header: true,
            cookie: None,
        };
        let h = headers(&["access-token=from-cookie"]);
        assert_eq!(header_only.read(&h), Credentials::None);
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bEaReR   tok  "),
        );
        assert_eq!(
            header_only.read(&h),
            Credentials::Token("tok", TokenSource::Header)
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(header_only.read(&h), Credentials::None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert_eq!(header_only.read(&h), Credentials::None);
    }

    #[test]
    fn debug_never_prints_the_token() {
        let debug = format!(
            "{:?}",
            Credentials::Token("eyJ.secret.sig", TokenSource::Cookie)
        );
        assert_eq!(debug, "Token(<14 bytes>, Cookie)");
    }

    #[test]
    fn finds_cookie_among_others() {
        let h = headers(&["a=1; access-token=abc; b=2"]);
        assert_eq!(find_cookie(&h, "access-token"), Ok(Some("abc")));
        let h = headers(&["a=1", "access-token=abc"]);
        assert_eq!(find_cookie(&h, "access-token"), Ok(Some("abc")));
    }

    #[test]
    fn empty_is_absent_and_conflicts_refused() {
        assert_eq!(
            find_cookie(&headers(&["access-token="]), "access-token"),
            Ok(None)
        );
        assert_eq!(
            find_cookie(&headers(&["x-access-token=abc"]), "access-token"),
            Ok(None)
        );
        assert!(
            find_cookie(
                &headers(&["access-token=a; access-token=b"]),
                "access-token"
            )
            .is_err()
        );
        assert_eq!(
            find_cookie(
                &headers(&["access-token=a; access-token=a"]),
                "access-token"
            ),
            Ok(Some("a"))
        );
    }
}
