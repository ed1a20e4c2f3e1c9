//! The builder's cookie and CSRF settings (browser apps).

use super::LoginManagerBuilder;

impl LoginManagerBuilder {
    /// The cookie name (default `access-token`).
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie.name = name.into();
        self
    }

    /// Whether the cookie carries `Secure` (default: on). Turn it off only for plain-HTTP
    /// development on localhost; browsers drop `Secure` cookies over `http://` except there.
    pub fn cookie_secure(mut self, on: bool) -> Self {
        self.cookie.secure = on;
        self
    }

    /// Prefix the cookie name with `__Host-` — **recommended** whenever the cookie is read
    /// (default: off, to keep fastapi-login's `access-token` name for side-by-side
    /// migrations). Browsers then accept the cookie only from a secure origin, with `Path=/`
    /// and no `Domain`, so neither a sibling subdomain (`evil.example.com` setting
    /// `Domain=example.com`) nor a man in the middle of a plain-HTTP request can plant or
    /// overwrite it ("cookie tossing"). Without it, a planted cookie can sign a visitor in to
    /// the attacker's account, or sit next to the user's own cookie, making every
    /// cookie-authenticated request ambiguous (refused with 400 by the extractors; the
    /// [`attach_user`](crate::middleware::attach_user) layer lets such requests through as anonymous).
    /// Needs `Secure`, `Path=/` and no `Domain` (checked by `build`); browsers keep such
    /// cookies on `http://localhost` and `http://127.0.0.1` for development.
    ///
    /// ```
    /// use login::LoginManager;
    ///
    /// let manager = LoginManager::builder("/login")
    ///     .secret("a-32-byte-or-longer-secret-from-env!")
    ///     .use_cookie(true)
    ///     .cookie_host_prefix(true)
    ///     .build()?;
    /// assert_eq!(manager.cookie_name(), "__Host-access-token");
    /// # Ok::<(), login::ConfigError>(())
    /// ```
    pub fn cookie_host_prefix(mut self, on: bool) -> Self {
        self.cookie.host_prefix = on;
        self
    }

    /// The cookie's `Domain` (default: none, so the cookie stays on the exact host).
    pub fn cookie_domain(mut self, domain: impl Into<String>) -> Self {
        self.cookie.domain = Some(domain.into());
        self
    }

    /// The cookie's `Path` (default `/`).
    pub fn cookie_path(mut self, path: impl Into<String>) -> Self {
        self.cookie.path = path.into();
        self
    }

    /// The cookie's `SameSite` (default `Lax`). `None` requires `Secure`.
    pub fn cookie_same_site(mut self, same_site: axum_extra::extract::cookie::SameSite) -> Self {
        self.cookie.same_site = same_site;
        self
    }

    /// CSRF protection for requests authenticated by the cookie (default: on). A
    /// state-changing request (any method but GET, HEAD, OPTIONS, TRACE) or a WebSocket
    /// handshake (any request with an `Upgrade` header) whose token came from the cookie must
    /// come from the app's own origin: `Sec-Fetch-Site` is checked, falling back to `Origin`,
    /// then `Referer` (OWASP's CSRF cheat sheet); other sites get 403. Origins are compared
    /// whole (scheme, host, port): see [`public_origin`](Self::public_origin) for how the
    /// app's own origin is known. Requests authenticated by the `Authorization` header are not
    /// affected (browsers never attach it on their own), and clients that send none of those
    /// headers (curl, scripts) pass.
    pub fn csrf_protection(mut self, on: bool) -> Self {
        self.cookie.csrf = on;
        self
    }

    /// An origin (`https://app.example.com`) other than the app's own that may send
    /// cookie-authenticated state-changing requests (for example a front end on another
    /// subdomain).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.cookie.trusted_origins.push(origin.into());
        self
    }

    /// The origin your users' browsers load the app from (`https://app.example.com`,
    /// recommended in production): the CSRF check then accepts exactly this origin (and the
    /// [`trusted_origin`](Self::trusted_origin)s), whatever `Host` the request carries — the
    /// right choice behind a proxy that rewrites `Host`.
    ///
    /// Without it, the app's own origin is the request's `Host` with the scheme `https` when
    /// the cookie is `Secure` (the default; `http` is accepted too on a loopback host such as
    /// `127.0.0.1` or `localhost`, where browsers keep `Secure` cookies over plain HTTP and no
    /// network attacker can serve a page), and either scheme when it is not. So a page that a
    /// network attacker injects into `http://app.example.com` cannot post to
    /// `https://app.example.com` with the cookie, even from a browser that sends no
    /// `Sec-Fetch-Site`.
    pub fn public_origin(mut self, origin: impl Into<String>) -> Self {
        self.cookie.public_origin = Some(origin.into());
        self
    }
}
