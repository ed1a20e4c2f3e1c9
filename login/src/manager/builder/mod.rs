//! [`LoginManagerBuilder`]: every setting, checked once by [`build`](LoginManagerBuilder::build).

use std::any::TypeId;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::response::Response;
use jsonwebtoken::Algorithm;

use super::issue::MAX_LIFETIME;
use super::keyring::{KeyRing, Keys};
use super::sessions::SessionSettings;
use super::several::AsLoginManager;
use super::{Clock, Inner, LoginManager};
use crate::cache::{DEFAULT_TOKEN_CACHE_BYTES, TokenCache};
use crate::cookie::CookieSettings;
use crate::credentials::Sources;
use crate::error::{ConfigError, is_valid_scope};
use crate::events::AuthEvents;
use crate::keys::{SigningKey, VerifyingKey};
use crate::rejection::{RejectionContext, RejectionHook};
use crate::secret::Secret;
use crate::session::SessionStore;
use crate::throttle::Throttle;

mod browser;
#[cfg(feature = "mfa")]
mod mfa;
mod sessions;
mod throttle;

/// The largest leeway the builder accepts, in seconds.
pub(crate) const MAX_LEEWAY_SECS: u64 = 300;
/// The default token lifetime: 15 minutes, as fastapi-login.
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Builds a [`LoginManager`]; every invalid setting is reported by [`build`](Self::build).
#[must_use = "call `.build()` to get a LoginManager"]
pub struct LoginManagerBuilder {
    token_url: String,
    secret: Option<Secret>,
    algorithm: Algorithm,
    signing_key: Option<SigningKey>,
    verification_keys: Vec<VerifyingKey>,
    use_header: bool,
    use_cookie: bool,
    cookie: CookieSettings,
    lifetime: Duration,
    leeway: u64,
    issuer: Option<String>,
    audience: Option<String>,
    scopes: Vec<(String, String)>,
    hook: Option<RejectionHook>,
    redirect_to_login: bool,
    clock: Option<Clock>,
    /// The token cache's budget, in bytes.
    token_cache: usize,
    check_route_scopes: bool,
    manager_type: TypeId,
    /// The last segment of `manager_type`'s name; `None` for `LoginManager`.
    manager_name: Option<String>,
    session_store: Option<Arc<dyn SessionStore>>,
    sessions: SessionSettings,
    events: Option<Arc<dyn AuthEvents>>,
    throttle: Throttle,
    #[cfg(feature = "mfa")]
    mfa_token_lifetime: Duration,
    #[cfg(feature = "oidc")]
    provider: Option<crate::oidc::Discovered>,
}

impl fmt::Debug for LoginManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginManagerBuilder")
            .field("token_url", &self.token_url)
            .field("secret", &self.secret)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl LoginManagerBuilder {
    pub(super) fn new(token_url: String) -> Self {
        LoginManagerBuilder {
            token_url,
            secret: None,
            algorithm: Algorithm::HS256,
            signing_key: None,
            verification_keys: Vec::new(),
            use_header: true,
            use_cookie: false,
            cookie: CookieSettings::default(),
            lifetime: DEFAULT_LIFETIME,
            leeway: 0,
            issuer: None,
            audience: None,
            scopes: Vec::new(),
            hook: None,
            redirect_to_login: false,
            clock: None,
            token_cache: DEFAULT_TOKEN_CACHE_BYTES,
            check_route_scopes: true,
            manager_type: TypeId::of::<LoginManager>(),
            manager_name: None,
            session_store: None,
            sessions: SessionSettings::default(),
            events: None,
            throttle: Throttle::default(),
            #[cfg(feature = "mfa")]
            mfa_token_lifetime: super::mfa_token::DEFAULT_MFA_TOKEN_LIFETIME,
            #[cfg(feature = "oidc")]
            provider: None,
        }
    }
}

impl LoginManagerBuilder {
    /// The HMAC secret. A string's UTF-8 bytes are the key (as fastapi-login). HS256 needs at
    /// least 32 bytes, HS384 48 and HS512 64 (RFC 7518 §3.2).
    pub fn secret(mut self, secret: impl Into<Secret>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// The HMAC algorithm of [`secret`](Self::secret): [`Algorithm::HS256`] (default),
    /// `HS384` or `HS512`. For other algorithms, use [`signing_key`](Self::signing_key).
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The signing key, of any algorithm (instead of [`secret`](Self::secret)):
    ///
    /// ```
    /// use login::{Algorithm, LoginManager, keys::SigningKey};
    /// # let pem = include_str!("../../../tests/keys/ed25519.pem");
    /// let key = SigningKey::from_pem(Algorithm::EdDSA, pem)?;
    /// let manager = LoginManager::builder("/login").signing_key(key).build()?;
    /// # Ok::<(), login::ConfigError>(())
    /// ```
    pub fn signing_key(mut self, key: SigningKey) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Adds a key that verifies tokens but never signs: an older key during rotation, or, on
    /// a service that only checks tokens minted elsewhere, the issuer's public key (a manager
    /// with verification keys and no signing key is verify-only).
    pub fn verification_key(mut self, key: VerifyingKey) -> Self {
        self.verification_keys.push(key);
        self
    }

    /// Adds several verification keys, for example from [`VerifyingKey::from_jwks`].
    pub fn verification_keys(mut self, keys: impl IntoIterator<Item = VerifyingKey>) -> Self {
        self.verification_keys.extend(keys);
        self
    }

    /// Read the token from the `Authorization: Bearer` header (default: on).
    pub fn use_header(mut self, on: bool) -> Self {
        self.use_header = on;
        self
    }

    /// Read the token from the cookie (default: off). With both sources on, a request is
    /// authenticated by one of them (RFC 6750 §2): a bearer token in the `Authorization`
    /// header decides, and the cookie is read only when the header carries none. (fastapi-login
    /// reads the cookie first; the header is preferred here because no third party can add it
    /// to a browser's request, while a cookie can be planted: see
    /// [`cookie_host_prefix`](Self::cookie_host_prefix).)
    ///
    /// Without the `__Host-` prefix, building the manager logs a warning (once per process).
    pub fn use_cookie(mut self, on: bool) -> Self {
        self.use_cookie = on;
        self
    }

    /// The default token lifetime (default 15 minutes).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`, in seconds (default 0, as PyJWT; at most
    /// 300, five minutes).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Issue tokens with this `iss` and require it when verifying.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Issue tokens with this `aud` and require it when verifying. Without it, tokens that
    /// carry any `aud` are rejected.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// The scopes the app knows, with descriptions. When set, minting a token with any other
    /// scope is an error.
    pub fn scopes<I, A, B>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = (A, B)>,
        A: Into<String>,
        B: Into<String>,
    {
        self.scopes = scopes
            .into_iter()
            .map(|(a, b)| (a.into(), b.into()))
            .collect();
        self
    }

    /// Replaces the response for rejected requests. Return `Some(response)` to replace the
    /// default RFC 6750 response, `None` to keep it — for example, redirect HTML pages to the
    /// login page:
    ///
    /// ```
    /// use axum::response::{IntoResponse, Redirect};
    /// use login::{LoginManager, rejection::RejectionKind};
    ///
    /// let manager = LoginManager::builder("/login")
    ///     .secret("a-32-byte-or-longer-secret-from-env!")
    ///     .on_rejection(|rejection| match rejection.kind() {
    ///         RejectionKind::MissingCredentials | RejectionKind::InvalidToken => {
    ///             Some(Redirect::to("/login").into_response())
    ///         }
    ///         _ => None,
    ///     })
    ///     .build()?;
    /// # Ok::<(), login::ConfigError>(())
    /// ```
    pub fn on_rejection<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(&RejectionContext<'a>) -> Option<Response> + Send + Sync + 'static,
    {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// The hook that receives the manager's auth events (logins that succeeded, failed or
    /// were throttled, refresh-token reuse, logouts, revocations; see [`login::events`](crate::events)).
    /// One per manager; without it, each event is logged through `tracing`
    /// ([`TracingEvents`](crate::events::TracingEvents), target `login::events`). A closure
    /// `Fn(&AuthEvent)` is a hook too.
    pub fn events(mut self, hook: impl AuthEvents) -> Self {
        self.events = Some(Arc::new(hook));
        self
    }

    /// Replaces the clock (seconds since the Unix epoch). Meant for tests of expiry.
    pub fn clock<F>(mut self, clock: F) -> Self
    where
        F: Fn() -> i64 + Send + Sync + 'static,
    {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The token cache's memory budget, in bytes (default 4 MiB, about 4,000 typical tokens);
    /// `0` turns the cache off.
    ///
    /// A client sends the same token with every request until it expires, and checking a
    /// signature is most of what verifying costs (microseconds for HS256, tens to hundreds of
    /// them for RS256, ES256 and EdDSA). The cache is keyed by the exact token string (an
    /// ES256/ES384 signature normalised to its low-S form first, so that the malleated twin of
    /// a token is the same entry), bounded, and holds only tokens that passed every check. On
    /// every request, cached or not, `exp`, `nbf` and `iat` are checked against the manager's
    /// clock (a cached token expires at the same second), and the scopes and the user loader
    /// run as usual. Rotating, adding or removing a key empties it, so a removed key's tokens
    /// are rejected at once. Tokens longer than 2 KiB are never cached.
    ///
    /// Each entry is charged its bytes: the token, the claims' strings and extra claims, and a
    /// fixed overhead for the structures that hold them (a typical token, as the `simple`
    /// example issues, is charged about 1 KiB); the charges of the entries held never exceed
    /// the budget. Besides the budget, a small filter (about 2 bytes per typical entry) decides
    /// what is admitted once the cache is full: a token is then cached on its second
    /// verification, not its first, so traffic of tokens each seen once (many more clients
    /// than the cache holds) costs no inserts nor evictions.
    pub fn token_cache_bytes(mut self, bytes: usize) -> Self {
        self.token_cache = bytes;
        self
    }

    /// Answers unauthenticated requests from browsers (`Accept: text/html`) with a redirect
    /// to the login page carrying `next`, and API clients with the usual RFC 6750 401. Only
    /// missing or invalid credentials redirect; a missing scope stays a 403.
    ///
    /// It composes with [`on_rejection`](Self::on_rejection): your hook runs first, and the
    /// redirect applies where it returns `None`.
    pub fn redirect_to_login(mut self) -> Self {
        self.redirect_to_login = true;
        self
    }

    /// Whether [`build`](Self::build) checks the scopes of every `#[protected(scopes = [...])]`
    /// handler of this manager against its [`scopes`](Self::scopes) (default: on, when the
    /// manager declares scopes).
    pub fn check_route_scopes(mut self, on: bool) -> Self {
        self.check_route_scopes = on;
        self
    }

    /// The type that will hold this manager in the app's state, when it is not
    /// [`LoginManager`] itself: a second manager's newtype (made with
    /// [`define_manager!`](crate::define_manager), whose `builder` calls this for you).
    /// [`build`](Self::build) then checks the scopes of the handlers whose user names `M` as
    /// its manager, and leaves the other managers' handlers to them. With sessions, the
    /// sessions it starts carry `M`'s name ([`Session::manager`](crate::session::Session::manager)):
    /// it renews and lists only those, so two managers may share one store.
    pub fn manager_type<M: AsLoginManager>(mut self) -> Self {
        self.manager_type = TypeId::of::<M>();
        let name = std::any::type_name::<M>();
        self.manager_name = Some(name.rsplit("::").next().unwrap_or(name).to_owned());
        self
    }

    /// Verifies the tokens of an identity provider (feature `oidc`) with its keys, refreshed
    /// in the background: see [`login::oidc`](crate::oidc). The manager then only verifies
    /// (no secret, signing key, verification key or sessions may be given), its issuer is
    /// the provider's, and an [`audience`](Self::audience) is required.
    ///
    /// `build()` must then run inside a Tokio runtime.
    #[cfg(feature = "oidc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oidc")))]
    pub fn identity_provider(mut self, provider: crate::oidc::Discovered) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Checks every setting and builds the manager.
    pub fn build(#[allow(unused_mut)] mut self) -> Result<LoginManager, ConfigError> {
        #[cfg(feature = "oidc")]
        let provider = match self.provider.take() {
            None => None,
            Some(provider) => {
                if self.secret.is_some() || self.signing_key.is_some() {
                    return Err(ConfigError::ProviderConflict(
                        "it mints nothing, so it takes no `.secret(...)` nor `.signing_key(...)`",
                    ));
                }
                if !self.verification_keys.is_empty() {
                    return Err(ConfigError::ProviderConflict(
                        "its keys are the provider's, so it takes no `.verification_key(...)`",
                    ));
                }
                if self.session_store.is_some() {
                    return Err(ConfigError::ProviderConflict(
                        "sessions mint tokens, so it takes no `.sessions(...)`",
                    ));
                }
                if self.audience.is_none() {
                    return Err(ConfigError::ProviderNeedsAudience);
                }
                if self
                    .issuer
                    .as_deref()
                    .is_some_and(|issuer| issuer != provider.issuer())
                {
                    return Err(ConfigError::ProviderConflict(
                        "its issuer is the provider's; `.issuer(...)` names another",
                    ));
                }
                if tokio::runtime::Handle::try_current().is_err() {
                    return Err(ConfigError::ProviderNeedsRuntime);
                }
                self.issuer = Some(provider.issuer().to_owned());
                self.verification_keys = provider.keys;
                Some((Arc::new(provider.remote), provider.max_age))
            }
        };
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err(ConfigError::NoCryptoBackend);
        }
        if !self.use_header && !self.use_cookie {
            return Err(ConfigError::NoTokenSource);
        }
        let signer = match (self.secret, self.signing_key) {
            (Some(_), Some(_)) => return Err(ConfigError::SecretAndSigningKey),
            (Some(secret), None) => Some(SigningKey::hmac(self.algorithm, secret)?),
            (None, key) => key,
        };
        let keys = KeyRing::new(signer, self.verification_keys)?;
        if self.leeway > MAX_LEEWAY_SECS {
            return Err(ConfigError::LeewayTooLarge {
                leeway: self.leeway,
                max: MAX_LEEWAY_SECS,
            });
        }
        #[cfg(feature = "mfa")]
        if !(Duration::from_secs(30)..=Duration::from_secs(15 * 60))
            .contains(&self.mfa_token_lifetime)
        {
            return Err(ConfigError::InvalidMfaSetting(
                "mfa_token_lifetime must be between 30 seconds and 15 minutes",
            ));
        }
        if self.lifetime < Duration::from_secs(1) || self.lifetime > MAX_LIFETIME {
            return Err(ConfigError::LifetimeOutOfRange(self.lifetime));
        }
        let mut cookie = self.cookie;
        cookie.validate()?;
        let cookie_name = cookie.full_name();
        for (scope, _) in &self.scopes {
            if !is_valid_scope(scope) {
                return Err(ConfigError::InvalidScope(scope.clone()));
            }
        }
        if self.check_route_scopes && !self.scopes.is_empty() {
            check_route_scopes(&self.scopes, self.manager_type)?;
        }
        if self.issuer.as_deref() == Some("") {
            return Err(ConfigError::EmptyClaim("issuer"));
        }
        if self.audience.as_deref() == Some("") {
            return Err(ConfigError::EmptyClaim("audience"));
        }
        let throttle_store = self
            .session_store
            .as_ref()
            .and_then(|store| store.throttle_store());
        let throttle = self.throttle.build(throttle_store, cookie.host_prefix)?;
        let sessions = match self.session_store {
            None => None,
            Some(_) if keys.signer().is_none() => return Err(ConfigError::SessionsNeedSigningKey),
            Some(store) => Some(self.sessions.build(
                store,
                self.lifetime,
                self.manager_name,
                cookie.host_prefix,
            )?),
        };
        if self.use_cookie && !cookie.host_prefix {
            warn_unprefixed_cookie(&cookie_name);
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(system_now));
        let hook =
            crate::redirect::compose_hook(self.hook, self.redirect_to_login, &self.token_url);
        let inner = Arc::new(Inner {
            keys: Keys::new(keys),
            token_url: self.token_url,
            sources: Sources {
                header: self.use_header,
                cookie: self.use_cookie.then(|| cookie_name.clone()),
            },
            cookie,
            cookie_name,
            lifetime: self.lifetime,
            leeway: self.leeway as i64,
            issuer: self.issuer,
            audience: self.audience,
            scopes: self.scopes,
            hook,
            clock,
            cache: TokenCache::new(self.token_cache),
            sessions,
            events: self.events,
            throttle,
            #[cfg(feature = "mfa")]
            mfa_token_lifetime: self.mfa_token_lifetime,
            #[cfg(feature = "mfa")]
            mfa_consumed: Default::default(),
            #[cfg(feature = "oidc")]
            remote: provider.as_ref().map(|(remote, _)| Arc::clone(remote)),
            #[cfg(feature = "oidc")]
            _stop: provider
                .as_ref()
                .map(|(remote, _)| super::remote::StopOnDrop(Arc::clone(remote))),
        });
        #[cfg(feature = "oidc")]
        if let Some((remote, max_age)) = provider {
            remote.mark_good();
            let first = remote.next_refresh(max_age);
            super::remote::spawn_refresher(&inner, remote, first)?;
        }
        Ok(LoginManager { inner })
    }
}

/// Every scope a `#[protected(scopes = [...])]` handler of this binary requires must be one
/// the manager declares.
fn check_route_scopes(declared: &[(String, String)], manager: TypeId) -> Result<(), ConfigError> {
    for route in
        crate::registry::routes().filter(|route| route.manager.is_none_or(|of| of() == manager))
    {
        for scope in route.scopes {
            if !declared.iter().any(|(name, _)| name == scope) {
                return Err(ConfigError::UnknownRouteScope {
                    handler: route.handler.to_owned(),
                    location: format!("{}:{}", route.file, route.line),
                    scope: (*scope).to_owned(),
                    declared: declared
                        .iter()
                        .map(|(name, _)| name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    Ok(())
}

/// Warns, once per process, that the token cookie is read without the `__Host-` prefix.
fn warn_unprefixed_cookie(name: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            cookie = name,
            "login: the token cookie is read without the `__Host-` prefix, so a sibling \
             subdomain or a plain-HTTP man in the middle can plant one (cookie tossing); \
             prefer `.cookie_host_prefix(true)` (see docs/cookies-and-csrf.md)"
        );
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
