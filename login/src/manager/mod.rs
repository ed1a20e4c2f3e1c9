//! The [`LoginManager`]: its state, construction, keys, minting and cookie helpers; the
//! request path and the sessions are methods too, in their own child modules, which see the
//! manager's private fields.
//!
//! | module | what it does |
//! |---|---|
//! | [`builder`] | [`LoginManagerBuilder`] and `build()`: every setting checked once |
//! | [`keyring`] | the signer, the verification keys by `kid`, rotation, JWKS |
//! | [`issue`] | [`TokenRequest`], reserved claims, minting |
//! | [`verify`] | the request path: [`LoginManager::authenticate`] (the entry point), then every step that decides whether a token is accepted, the session check last |
//! | [`sessions`] | sessions: start, refresh, end, revoke, list, the refresh cookie |
//! | `mfa_token` | the `mfa_token` of a two-step login: minted, verified, consumed once (feature `mfa`) |
//! | [`several`] | several managers in one app: [`AsLoginManager`] and `define_manager!` |

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use axum::http::request::Parts;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;

use crate::cache::TokenCache;
use crate::claims::Claims;
use crate::cookie::CookieSettings;
use crate::credentials::Sources;
use crate::error::{ConfigError, SameOriginError, TokenError, VerifyError};
use crate::events::{AuthEvent, AuthEventKind, AuthEvents, TracingEvents};
use crate::keys::{SigningKey, VerifyingKey};
use crate::loader::{TokenUserError, UserLoader};
use crate::rejection::{AuthRejection, RejectionHook, RejectionKind};
use crate::secret::Secret;

mod builder;
mod issue;
mod keyring;
#[cfg(feature = "mfa")]
pub(crate) mod mfa_token;
#[cfg(feature = "oidc")]
mod remote;
mod sessions;
mod verify;

mod several;
#[cfg(test)]
mod tests;

pub use builder::LoginManagerBuilder;
pub use issue::TokenRequest;
pub use several::AsLoginManager;
#[doc(hidden)]
pub use several::assert_manager;

use keyring::Keys;

/// The manager's clock: seconds since the Unix epoch.
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The settings and state behind a [`LoginManager`], shared by its clones.
struct Inner {
    keys: Keys,
    token_url: String,
    sources: Sources,
    cookie: CookieSettings,
    cookie_name: String,
    lifetime: Duration,
    leeway: i64,
    issuer: Option<String>,
    audience: Option<String>,
    scopes: Vec<(String, String)>,
    hook: Option<RejectionHook>,
    clock: Clock,
    cache: Option<TokenCache>,
    sessions: Option<sessions::Sessions>,
    /// The auth events hook; `None`: [`TracingEvents`].
    events: Option<Arc<dyn AuthEvents>>,
    throttle: Option<Arc<crate::throttle::Guard>>,
    /// How long the `mfa_token` of a two-step login lives (feature `mfa`).
    #[cfg(feature = "mfa")]
    mfa_token_lifetime: Duration,
    /// The `mfa_token`s consumed in this process (feature `mfa`).
    #[cfg(feature = "mfa")]
    mfa_consumed: mfa_token::Consumed,
    /// The identity provider the keys come from (feature `oidc`).
    #[cfg(feature = "oidc")]
    remote: Option<Arc<crate::oidc::Remote>>,
    /// Stops the provider's background refresh when the last clone is dropped.
    #[cfg(feature = "oidc")]
    _stop: Option<remote::StopOnDrop>,
}

/// Issues and verifies JWT access tokens and reads them from requests.
///
/// Built once at start-up with [`LoginManager::builder`] (or [`LoginManager::new`]); cheap to
/// clone (an `Arc` inside). Put it in your app state and implement `FromRef` for it (or use it
/// as the state itself), and the extractors find it.
///
/// ```
/// use login::LoginManager;
///
/// let manager = LoginManager::builder("/login")
///     .secret("a-32-byte-or-longer-secret-from-env!")
///     .use_cookie(true)
///     .build()?;
/// let token = manager.create_access_token("johndoe@mail.com")?;
/// let claims = manager.verify_token(&token)?;
/// assert_eq!(claims.sub, "johndoe@mail.com");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct LoginManager {
    inner: Arc<Inner>,
}

impl fmt::Debug for LoginManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("LoginManager")
            .field("algorithm", &self.algorithm())
            .field("token_url", &i.token_url)
            .field("use_header", &i.sources.header)
            .field("use_cookie", &i.sources.cookie.is_some())
            .field("cookie_name", &i.cookie_name)
            .field("lifetime", &i.lifetime)
            .field("leeway", &i.leeway)
            .field("issuer", &i.issuer)
            .field("audience", &i.audience)
            .field("sessions", &i.sessions.is_some())
            .field("events", &i.events.is_some())
            .field("throttle", &i.throttle.is_some())
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

impl LoginManager {
    // ----- construction and settings -------------------------------------------------------

    /// A manager with fastapi-login's defaults: HS256 with `secret`, the token read from the
    /// `Authorization: Bearer` header, 15-minute tokens, no leeway.
    pub fn new(
        secret: impl Into<Secret>,
        token_url: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        Self::builder(token_url).secret(secret).build()
    }

    /// Starts a builder. `token_url` is the path of your login route (fastapi-login's
    /// `token_url`): where [`redirect_to_login`](LoginManagerBuilder::redirect_to_login) and
    /// [`login_redirect`](Self::login_redirect) send browsers.
    pub fn builder(token_url: impl Into<String>) -> LoginManagerBuilder {
        LoginManagerBuilder::new(token_url.into())
    }

    /// The login route's path.
    pub fn token_url(&self) -> &str {
        &self.inner.token_url
    }

    /// The default token lifetime.
    pub fn default_lifetime(&self) -> Duration {
        self.inner.lifetime
    }

    /// The scopes the app knows, with their descriptions.
    pub fn scopes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.inner
            .scopes
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
    }

    /// Seconds since the Unix epoch, from the manager's clock.
    pub fn now(&self) -> i64 {
        (self.inner.clock)()
    }

    /// The login throttle, unless it is off.
    pub(crate) fn throttle_guard(&self) -> Option<&Arc<crate::throttle::Guard>> {
        self.inner.throttle.as_ref()
    }

    /// Whether password logins are throttled (see [`login::throttle`](crate::throttle)).
    pub fn throttles_logins(&self) -> bool {
        self.inner.throttle.is_some()
    }

    /// The device-token cookie (`HttpOnly`, `Secure` and `Domain` as the token cookie,
    /// `SameSite=Strict`, `Path=/`, `Max-Age` = the device tokens' lifetime).
    pub(crate) fn device_cookie(
        &self,
        name: &str,
        token: String,
        max_age: Duration,
    ) -> Cookie<'static> {
        let mut cookie = Cookie::build((name.to_owned(), token))
            .http_only(true)
            .secure(self.inner.cookie.secure)
            .same_site(axum_extra::extract::cookie::SameSite::Strict)
            .path("/")
            .build();
        if let Some(domain) = &self.inner.cookie.domain {
            cookie.set_domain(domain.clone());
        }
        cookie.set_max_age(Some(
            time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX),
        ));
        cookie
    }

    // ----- keys (machinery in `keyring`) ---------------------------------------------------

    /// The signing algorithm (for a verify-only manager, the first key's algorithm).
    pub fn algorithm(&self) -> Algorithm {
        self.inner.keys.load().algorithm()
    }

    /// The `kid` of the current signing key, if it has one.
    pub fn signing_kid(&self) -> Option<String> {
        self.inner.keys.load().signing_kid().map(str::to_owned)
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`), to publish at
    /// `/.well-known/jwks.json` so that other services can verify this manager's tokens.
    /// HMAC secrets are never included.
    pub fn jwks(&self) -> JwkSet {
        self.inner.keys.load().jwks()
    }

    /// Makes `key` the signing key. The previous signing key stays as a verification key, so
    /// tokens it signed stay valid until they expire; remove it later with
    /// [`remove_verification_key`](Self::remove_verification_key). Every key needs a `kid`.
    /// Requests in flight are never dropped: the key ring is swapped atomically.
    pub fn rotate_signing_key(&self, key: SigningKey) -> Result<(), ConfigError> {
        self.update_keys(|ring| ring.rotated(key))
    }

    /// Adds a verification key (for example the next key of another issuer).
    pub fn add_verification_key(&self, key: VerifyingKey) -> Result<(), ConfigError> {
        self.update_keys(|ring| ring.with_key(key))
    }

    /// Removes the verification key named `kid`: tokens it signed are rejected from now on.
    /// The current signing key cannot be removed (rotate first).
    pub fn remove_verification_key(&self, kid: &str) -> Result<(), ConfigError> {
        self.update_keys(|ring| ring.without_key(kid))
    }

    /// Swaps the key ring and empties the token cache, so that a removed key's tokens are
    /// refused at once. On error nothing changes.
    fn update_keys(
        &self,
        change: impl FnOnce(&keyring::KeyRing) -> Result<keyring::KeyRing, ConfigError>,
    ) -> Result<(), ConfigError> {
        self.inner.keys.update(change, || {
            if let Some(cache) = &self.inner.cache {
                cache.invalidate();
            }
        })
    }

    // ----- minting (machinery in `issue`) --------------------------------------------------

    /// Mints an access token.
    ///
    /// Takes a subject (`"alice@example.com"`) or a [`TokenRequest`] with scopes, a lifetime
    /// and extra claims. The token carries `sub`, `exp`, `iat`, a random `jti`, and `scopes`
    /// (a JSON array, as fastapi-login) when any were requested.
    pub fn create_access_token(
        &self,
        request: impl Into<TokenRequest>,
    ) -> Result<String, TokenError> {
        Ok(self.issue(request.into())?.0)
    }

    /// Mints an access token and wraps it in an OAuth2 [`TokenResponse`](crate::TokenResponse)
    /// (`access_token`, `token_type: "bearer"`, `expires_in`; sent with `Cache-Control: no-store`).
    pub fn token_response(
        &self,
        request: impl Into<TokenRequest>,
    ) -> Result<crate::oauth2::TokenResponse, TokenError> {
        let (token, lifetime) = self.issue(request.into())?;
        Ok(crate::oauth2::TokenResponse::new(token, lifetime))
    }

    // ----- verification (machinery in `verify`) --------------------------------------------

    /// Verifies a token: size, structure, algorithm, signature, then every claim rule
    /// (`exp` required and strictly after now, `nbf`, `iat` not in the future, issuer,
    /// audience, typed `sub` and `scopes`, no duplicated claim).
    pub fn verify_token(&self, token: &str) -> Result<Claims, VerifyError> {
        self.verify_token_shared(token).map(Arc::unwrap_or_clone)
    }

    /// Whether claims verified earlier are still accepted now: the rules that depend on the
    /// time and on revocation — `exp`, `nbf`, `iat`, issuer, audience and, with sessions, a
    /// revoked token, an ended session, "log out everywhere". A long-lived connection (a
    /// WebSocket) calls it on a timer and closes when it fails; see the `chat` example.
    pub fn still_valid(&self, claims: &Claims) -> Result<(), VerifyError> {
        #[cfg(feature = "oidc")]
        if self.provider_keys_stale() {
            return Err(VerifyError::KeysStale);
        }
        self.check_claims(claims)
    }

    /// The user a raw token names (fastapi-login's `get_current_user(token)`): for a message
    /// on an open WebSocket, a background job or a test. The same checks as the extractors —
    /// verification (the token cache included), revocation with sessions, then the
    /// `#[user_loader]` of `U` with `state` — and the same outcomes as a typed error.
    ///
    /// The loader runs outside any request: extractors it takes that read the request's head
    /// (headers, URI) see an empty `GET /`; `State<_>` works as usual. With several managers,
    /// [`login::extract::user_from_token`](crate::extract::user_from_token) picks `U`'s own from the state;
    /// called on another manager than `U`'s, this answers [`TokenUserError::OtherManager`].
    ///
    /// ```
    /// # use login::{LoginManager, loader::UserLoader, loader::TokenUserError};
    /// # #[derive(Clone, Debug, PartialEq)] struct User(String);
    /// # impl login::loader::HasUserLoader for User { type Manager = LoginManager; }
    /// # impl UserLoader<LoginManager> for User {
    /// #     async fn load_user(sub: String, _: &mut axum::http::request::Parts, _: &LoginManager)
    /// #         -> Result<Option<Self>, axum::response::Response> { Ok((sub == "ann").then(|| User(sub))) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
    /// let token = manager.create_access_token("ann")?;
    /// let user: User = manager.user_from_token(&token, &manager).await?;
    /// assert_eq!(user, User("ann".into()));
    /// let nobody = manager.create_access_token("bob")?;
    /// assert!(matches!(
    ///     manager.user_from_token::<User, _>(&nobody, &manager).await,
    ///     Err(TokenUserError::UnknownUser)
    /// ));
    /// # Ok(()) }
    /// ```
    pub async fn user_from_token<U, S>(&self, token: &str, state: &S) -> Result<U, TokenUserError>
    where
        S: Send + Sync,
        U: UserLoader<S>,
        U::Manager: AsLoginManager + FromRef<S>,
    {
        // `U`'s tokens are its own manager's: another manager (through `Deref` on a second
        // manager's type, say) must not vouch for them.
        if U::Manager::from_ref(state).login_manager().id() != self.id() {
            return Err(TokenUserError::OtherManager);
        }
        let claims = match self.verify_token_shared(token) {
            // A provider's keys may have rotated: one refresh, as for a request.
            #[cfg(feature = "oidc")]
            Err(VerifyError::UnknownKid) if self.refresh_for_unknown_kid().await => {
                self.verify_token_shared(token)
            }
            other => other,
        }
        .map_err(TokenUserError::InvalidToken)?;
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        match U::load_user(claims.sub.clone(), &mut parts, state).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(TokenUserError::UnknownUser),
            Err(response) => Err(TokenUserError::Loader(Box::new(response))),
        }
    }

    /// Checks a request against the manager's CSRF policy as if it were authenticated by the
    /// cookie: a state-changing request (any method but GET, HEAD, OPTIONS, TRACE) or an
    /// upgrade (a WebSocket handshake) must come from the app's own origin or a trusted one
    /// (see [`csrf_protection`](LoginManagerBuilder::csrf_protection) and
    /// [`public_origin`](LoginManagerBuilder::public_origin)).
    pub fn check_same_origin(&self, parts: &Parts) -> Result<(), SameOriginError> {
        crate::csrf::check_same_origin(parts, &self.inner.cookie.origins())
    }

    // ----- cookies -------------------------------------------------------------------------

    /// Whether the manager reads the token from the `Authorization: Bearer` header.
    pub fn reads_header(&self) -> bool {
        self.inner.sources.header
    }

    /// Whether the manager reads the token from its cookie ([`cookie_name`](Self::cookie_name)).
    pub fn reads_cookie(&self) -> bool {
        self.inner.sources.cookie.is_some()
    }

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
        let mut cookie = self
            .inner
            .cookie
            .build(&self.inner.cookie_name, token.into());
        cookie.set_max_age(Some(
            time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX),
        ));
        cookie
    }

    /// The cookie that clears the token cookie: same name, `Path`, `Secure`, `HttpOnly` and
    /// `SameSite` as the one that set it, an empty value and `Max-Age=0`.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self
            .inner
            .cookie
            .build(&self.inner.cookie_name, String::new());
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

    // ----- responses -----------------------------------------------------------------------

    /// A `303 See Other` to the login page (the manager's `token_url`) with `next` set to the
    /// request's path and query, so the login route can send the user back.
    pub fn login_redirect(&self, parts: &Parts) -> Response {
        crate::redirect::login_redirect(&self.inner.token_url, parts)
    }

    /// The rejection for `kind`: the manager's hook (and redirect) first, else the RFC 6750
    /// default.
    pub(crate) fn reject(
        &self,
        kind: RejectionKind,
        required: &crate::rejection::Requirement,
        parts: &Parts,
    ) -> AuthRejection {
        AuthRejection::new(kind, required, parts, self.inner.hook.as_ref())
    }

    /// The leeway on `exp`, `nbf` (and `auth_time` freshness), in seconds.
    pub(crate) fn leeway(&self) -> i64 {
        self.inner.leeway
    }

    /// A new auth event of `kind`, now by the manager's clock: add what is known, then
    /// [`emit`](Self::emit) it.
    pub(crate) fn event(&self, kind: AuthEventKind) -> AuthEvent {
        AuthEvent::new(kind, self.now())
    }

    /// Hands `event` to the manager's hook (without one, [`TracingEvents`]).
    pub(crate) fn emit(&self, event: AuthEvent) {
        match &self.inner.events {
            Some(hook) => hook.record(&event),
            None => TracingEvents.record(&event),
        }
    }

    /// Identifies this manager (shared by its clones) in per-request caches.
    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }
}
