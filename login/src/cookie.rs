//! Cookies: the types the manager's cookie helpers build (axum-extra's), and the token
//! cookie's settings — safe attributes when set, the same attributes when cleared.
//!
//! The token cookie is named `access-token` by default (fastapi-login's name), the refresh
//! cookie `refresh-token`; [`CookieJar`](crate::CookieJar) is at the crate root.

/// A cookie (axum-extra's), as [`LoginManager::cookie`](crate::LoginManager::cookie) builds it.
pub use axum_extra::extract::cookie::Cookie;
/// The `SameSite` attribute, for
/// [`LoginManagerBuilder::cookie_same_site`](crate::LoginManagerBuilder::cookie_same_site).
pub use axum_extra::extract::cookie::SameSite;

use crate::error::ConfigError;

/// The default cookie name, as fastapi-login.
pub(crate) const DEFAULT_COOKIE_NAME: &str = "access-token";

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
    /// The app's public origin (`https://app.example.com`), normalized by `validate`.
    pub(crate) public_origin: Option<String>,
}

impl Default for CookieSettings {
    fn default() -> Self {
        CookieSettings {
            name: DEFAULT_COOKIE_NAME.to_owned(),
            secure: true,
            host_prefix: false,
            domain: None,
            path: "/".to_owned(),
            same_site: SameSite::Lax,
            csrf: true,
            trusted_origins: Vec::new(),
            public_origin: None,
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
        if let Some(origin) = &mut self.public_origin {
            *origin = crate::csrf::normalize_origin(origin)
                .ok_or_else(|| ConfigError::InvalidOrigin(origin.clone()))?;
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

impl CookieSettings {
    /// The CSRF policy's view of these settings: trusted origins, public origin, `Secure`.
    pub(crate) fn origins(&self) -> crate::csrf::Origins<'_> {
        crate::csrf::Origins {
            trusted: &self.trusted_origins,
            public: self.public_origin.as_deref(),
            secure: self.secure,
        }
    }

    /// A token cookie named `name` with these attributes (`HttpOnly` always), without
    /// `Max-Age`.
    pub(crate) fn build(&self, name: &str, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::build((name.to_owned(), value))
            .http_only(true)
            .secure(self.secure)
            .same_site(self.same_site)
            .path(self.path.clone())
            .build();
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }
}
