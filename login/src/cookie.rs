//! The token cookie: safe attributes when set, the same attributes when cleared.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::LoginManager;
use crate::error::ConfigError;

#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    pub(crate) name: String,
    pub(crate) secure: bool,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            name: crate::manager::DEFAULT_COOKIE_NAME.to_owned(),
            secure: true,
        }
    }
}

impl CookieSettings {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        // RFC 6265 §4.1.1: a cookie name is an RFC 2616 token.
        let ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if ok {
            Ok(())
        } else {
            Err(ConfigError::InvalidCookieName(self.name.clone()))
        }
    }
}

/// Finds the value of cookie `name` in every `Cookie` header. An empty value counts as absent;
/// the same name twice with different values is ambiguous and refused.
pub(crate) fn find_cookie<'h>(
    headers: &'h HeaderMap,
    name: &str,
) -> Result<Option<&'h str>, &'static str> {
    let mut found: Option<&'h str> = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for pair in value.split(';') {
            let pair = pair.trim_matches(|c| c == ' ' || c == '\t');
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            if k.trim_end() != name {
                continue;
            }
            let v = v.trim_start();
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

impl LoginManager {
    /// The cookie name the manager reads and sets.
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie.name
    }

    /// The token cookie: `HttpOnly`, `Secure` (unless turned off for development),
    /// `SameSite=Lax`, `Path=/`, no `Domain`, `Max-Age` equal to the default token lifetime.
    pub fn cookie(&self, token: impl Into<String>) -> Cookie<'static> {
        self.cookie_with_lifetime(token, self.inner.lifetime)
    }

    /// The token cookie with a `Max-Age` other than the default lifetime (use the lifetime the
    /// token was minted with).
    pub fn cookie_with_lifetime(
        &self,
        token: impl Into<String>,
        lifetime: Duration,
    ) -> Cookie<'static> {
        let mut cookie = self.base_cookie(token.into());
        cookie.set_max_age(Some(
            time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX),
        ));
        cookie
    }

    /// The cookie that clears the token cookie: same name, `Path`, `Secure`, `HttpOnly` and
    /// `SameSite` as the one that set it, an empty value and `Max-Age=0`.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.base_cookie(String::new());
        cookie.set_max_age(Some(time::Duration::ZERO));
        cookie
    }

    /// Adds the token cookie to `jar` (return the jar from your handler to send it).
    pub fn set_cookie(&self, jar: CookieJar, token: impl Into<String>) -> CookieJar {
        jar.add(self.cookie(token))
    }

    /// Adds the clearing cookie to `jar` (for logout).
    pub fn clear_cookie(&self, jar: CookieJar) -> CookieJar {
        jar.add(self.removal_cookie())
    }

    fn base_cookie(&self, value: String) -> Cookie<'static> {
        let settings = &self.inner.cookie;
        Cookie::build((settings.name.clone(), value))
            .http_only(true)
            .secure(settings.secure)
            .same_site(SameSite::Lax)
            .path("/")
            .build()
    }
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
