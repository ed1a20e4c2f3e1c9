//! The token cookie: safe attributes when set, the same attributes when cleared.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};

use crate::LoginManager;
use crate::error::ConfigError;

#[derive(Debug, Clone)]
pub(crate) struct CookieSettings {
    /// The configured name, without the `__Host-` prefix.
    pub(crate) name: String,
    pub(crate) secure: bool,
    pub(crate) host_prefix: bool,
    pub(crate) domain: Option<String>,
    pub(crate) path: String,
    pub(crate) same_site: SameSite,
    pub(crate) csrf: bool,
    pub(crate) trusted_origins: Vec<String>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            name: crate::manager::DEFAULT_COOKIE_NAME.to_owned(),
            secure: true,
            host_prefix: false,
            domain: None,
            path: "/".to_owned(),
            same_site: SameSite::Lax,
            csrf: true,
            trusted_origins: Vec::new(),
        }
    }
}

impl CookieSettings {
    /// The name the cookie is set and read under (with the `__Host-` prefix when enabled).
    pub(crate) fn full_name(&self) -> String {
        if self.host_prefix {
            format!("__Host-{}", self.name)
        } else {
            self.name.clone()
        }
    }

    pub(crate) fn validate(&mut self) -> Result<(), ConfigError> {
        if self.host_prefix {
            // RFC 6265bis §4.1.3.2: a `__Host-` cookie is Secure, has Path=/ and no Domain.
            if !self.secure {
                return Err(ConfigError::HostPrefix("the cookie must be Secure"));
            }
            if self.domain.is_some() {
                return Err(ConfigError::HostPrefix("the cookie must not have a Domain"));
            }
            if self.path != "/" {
                return Err(ConfigError::HostPrefix("the cookie's Path must be /"));
            }
        }
        if self.same_site == SameSite::None && !self.secure {
            return Err(ConfigError::InsecureSameSiteNone);
        }
        if !self.path.starts_with('/')
            || self.path.bytes().any(|b| b == b';' || b.is_ascii_control())
        {
            return Err(ConfigError::InvalidCookiePath(self.path.clone()));
        }
        for origin in &mut self.trusted_origins {
            let normalized = crate::csrf::normalize_origin(origin)
                .ok_or_else(|| ConfigError::InvalidOrigin(origin.clone()))?;
            *origin = normalized;
        }
        if self.name.starts_with("__Host-") || self.name.starts_with("__Secure-") {
            return Err(ConfigError::InvalidCookieName(format!(
                "{} (give the name without the prefix and turn on `cookie_host_prefix`)",
                self.name
            )));
        }
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

impl LoginManager {
    /// The cookie name the manager reads and sets (with the `__Host-` prefix when enabled).
    pub fn cookie_name(&self) -> &str {
        &self.inner.cookie_name
    }

    /// The token cookie: `HttpOnly`, `Secure` (unless turned off for development),
    /// `SameSite=Lax`, `Path=/`, no `Domain` (each configurable on the builder), `Max-Age`
    /// equal to the default token lifetime.
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
        let mut cookie = Cookie::build((self.inner.cookie_name.clone(), value))
            .http_only(true)
            .secure(settings.secure)
            .same_site(settings.same_site)
            .path(settings.path.clone())
            .build();
        if let Some(domain) = &settings.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
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
