//! The [`LoginManager`]: configuration, token minting and verification.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::claims::Claims;
use crate::error::{ConfigError, RejectionContext, RejectionHook, TokenError, is_valid_scope};
use crate::keys::{SigningKey, VerifyingKey};
use crate::secret::Secret;

/// The largest leeway the builder accepts, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 300;
/// Tokens longer than this many bytes are rejected before any decoding or crypto.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The default token lifetime: 15 minutes, as fastapi-login.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The default cookie name, as fastapi-login.
pub const DEFAULT_COOKIE_NAME: &str = "access-token";
const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
const RESERVED_CLAIMS: &[&str] = &[
    "sub", "exp", "iat", "nbf", "jti", "iss", "aud", "scopes", "scope",
];

type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Where a request's token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenSource {
    /// The `Authorization: Bearer` header.
    Header,
    /// The token cookie.
    Cookie,
}

/// Why a token failed verification. Logged at debug level; never sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token exceeds [`MAX_TOKEN_BYTES`].
    #[error("token larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    /// Not a compact JWS, bad base64url, a bad header, or an unknown critical extension.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The header names an algorithm this manager does not accept.
    #[error("algorithm not accepted")]
    WrongAlgorithm,
    /// The signature does not verify with the manager's key.
    #[error("bad signature")]
    BadSignature,
    /// The claims are malformed (wrong types, missing `sub` or `exp`, duplicated claims…).
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
    /// `exp` is not after now (minus the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("token not yet valid (nbf)")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("token issued in the future (iat)")]
    IssuedInFuture,
    /// `iss` is missing or not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not name the configured audience, or the token has an `aud` while none is
    /// configured.
    #[error("wrong audience")]
    WrongAudience,
    /// The header names a `kid` the manager has no key for (or names none where several keys
    /// could apply).
    #[error("unknown key id")]
    UnknownKid,
}

struct Signer {
    key: SigningKey,
    header: Header,
}

/// The manager's keys: at most one signer, and every key that verifies (the signer's public
/// half first). Swapped atomically on rotation.
pub(crate) struct KeyRing {
    signer: Option<Signer>,
    verifiers: Vec<VerifyingKey>,
    by_kid: std::collections::HashMap<String, usize>,
    /// The key for tokens without a `kid`: the signer's, or the only key.
    default: Option<usize>,
}

impl KeyRing {
    fn new(signer: Option<SigningKey>, extra: Vec<VerifyingKey>) -> Result<Self, ConfigError> {
        let mut keys: Vec<VerifyingKey> = Vec::with_capacity(extra.len() + 1);
        if let Some(signer) = &signer {
            keys.push(signer.verifying_key().clone());
        }
        keys.extend(extra);
        if keys.is_empty() {
            return Err(ConfigError::MissingKey);
        }
        let mut by_kid = std::collections::HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            match key.kid() {
                Some(kid) if by_kid.insert(kid.to_owned(), i).is_some() => {
                    return Err(ConfigError::DuplicateKid(kid.to_owned()));
                }
                Some(_) => {}
                None if keys.len() > 1 => return Err(ConfigError::MissingKid),
                None => {}
            }
        }
        let default = (signer.is_some() || keys.len() == 1).then_some(0);
        let signer = signer.map(|key| {
            let mut header = Header::new(key.algorithm());
            header.kid = key.kid().map(str::to_owned);
            Signer { key, header }
        });
        Ok(KeyRing {
            signer,
            verifiers: keys,
            by_kid,
            default,
        })
    }

    /// The verification keys that are not the signer's own public half.
    fn extra_keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.verifiers
            .iter()
            .skip(usize::from(self.signer.is_some()))
    }

    fn verifier_for(&self, header: &Header) -> Result<&VerifyingKey, VerifyError> {
        if let [only] = self.verifiers.as_slice()
            && only.kid().is_none()
        {
            // A single unnamed key ignores any `kid` the token carries.
            return Ok(only);
        }
        let index = match &header.kid {
            Some(kid) => self.by_kid.get(kid.as_str()).copied(),
            None => self.default,
        };
        index
            .map(|i| &self.verifiers[i])
            .ok_or(VerifyError::UnknownKid)
    }
}

pub(crate) struct Inner {
    keys: ArcSwap<KeyRing>,
    rotation: std::sync::Mutex<()>,
    pub(crate) token_url: String,
    pub(crate) use_header: bool,
    pub(crate) use_cookie: bool,
    pub(crate) cookie: crate::cookie::CookieSettings,
    pub(crate) cookie_name: String,
    pub(crate) lifetime: Duration,
    leeway: i64,
    issuer: Option<String>,
    audience: Option<String>,
    pub(crate) scopes: Vec<(String, String)>,
    pub(crate) hook: Option<RejectionHook>,
    clock: Clock,
    pub(crate) cache: Option<crate::cache::TokenCache>,
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
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for LoginManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("LoginManager")
            .field("algorithm", &self.algorithm())
            .field("token_url", &i.token_url)
            .field("use_header", &i.use_header)
            .field("use_cookie", &i.use_cookie)
            .field("cookie_name", &i.cookie_name)
            .field("lifetime", &i.lifetime)
            .field("leeway", &i.leeway)
            .field("issuer", &i.issuer)
            .field("audience", &i.audience)
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

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
    cookie: crate::cookie::CookieSettings,
    lifetime: Duration,
    leeway: u64,
    issuer: Option<String>,
    audience: Option<String>,
    scopes: Vec<(String, String)>,
    hook: Option<RejectionHook>,
    redirect_to_login: bool,
    clock: Option<Clock>,
    token_cache: usize,
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

impl LoginManager {
    /// A manager with fastapi-login's defaults: HS256 with `secret`, the token read from the
    /// `Authorization: Bearer` header, 15-minute tokens, no leeway.
    pub fn new(
        secret: impl Into<Secret>,
        token_url: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        Self::builder(token_url).secret(secret).build()
    }

    /// Starts a builder. `token_url` is the path of your login route (fastapi-login's
    /// `token_url`), used in docs and redirects.
    pub fn builder(token_url: impl Into<String>) -> LoginManagerBuilder {
        LoginManagerBuilder {
            token_url: token_url.into(),
            secret: None,
            algorithm: Algorithm::HS256,
            signing_key: None,
            verification_keys: Vec::new(),
            use_header: true,
            use_cookie: false,
            cookie: crate::cookie::CookieSettings::default(),
            lifetime: DEFAULT_LIFETIME,
            leeway: 0,
            issuer: None,
            audience: None,
            scopes: Vec::new(),
            hook: None,
            redirect_to_login: false,
            clock: None,
            token_cache: crate::cache::DEFAULT_TOKEN_CACHE_CAPACITY,
        }
    }

    /// The login route's path.
    pub fn token_url(&self) -> &str {
        &self.inner.token_url
    }

    /// The signing algorithm (for a verify-only manager, the first key's algorithm).
    pub fn algorithm(&self) -> Algorithm {
        let ring = self.inner.keys.load();
        match &ring.signer {
            Some(signer) => signer.key.algorithm(),
            None => ring.verifiers[0].algorithm(),
        }
    }

    /// The `kid` of the current signing key, if it has one.
    pub fn signing_kid(&self) -> Option<String> {
        self.inner
            .keys
            .load()
            .signer
            .as_ref()
            .and_then(|s| s.key.kid().map(str::to_owned))
    }

    /// The public keys as a JWKS document (`{"keys": [...]}`), to publish at
    /// `/.well-known/jwks.json` so that other services can verify this manager's tokens.
    /// HMAC secrets are never included.
    pub fn jwks(&self) -> JwkSet {
        let ring = self.inner.keys.load();
        crate::keys::jwks(ring.verifiers.iter())
    }

    /// Makes `key` the signing key. The previous signing key stays as a verification key, so
    /// tokens it signed stay valid until they expire; remove it later with
    /// [`remove_verification_key`](Self::remove_verification_key). Every key needs a `kid`.
    /// Requests in flight are never dropped: the key ring is swapped atomically.
    pub fn rotate_signing_key(&self, key: SigningKey) -> Result<(), ConfigError> {
        self.update_keys(|ring| KeyRing::new(Some(key), ring.verifiers.clone()))
    }

    /// Adds a verification key (for example the next key of another issuer).
    pub fn add_verification_key(&self, key: VerifyingKey) -> Result<(), ConfigError> {
        self.update_keys(|ring| {
            let mut extra: Vec<VerifyingKey> = ring.extra_keys().cloned().collect();
            extra.push(key);
            KeyRing::new(ring.signer.as_ref().map(|s| s.key.clone()), extra)
        })
    }

    /// Removes the verification key named `kid`: tokens it signed are rejected from now on.
    /// The current signing key cannot be removed (rotate first).
    pub fn remove_verification_key(&self, kid: &str) -> Result<(), ConfigError> {
        self.update_keys(|ring| {
            let extra: Vec<VerifyingKey> = ring
                .extra_keys()
                .filter(|key| key.kid() != Some(kid))
                .cloned()
                .collect();
            if extra.len() == ring.extra_keys().count() {
                return Err(ConfigError::UnknownKid(kid.to_owned()));
            }
            KeyRing::new(ring.signer.as_ref().map(|s| s.key.clone()), extra)
        })
    }

    /// Builds a new key ring from the current one under the rotation lock, stores it
    /// atomically and clears the token cache. On error nothing changes.
    fn update_keys(
        &self,
        change: impl FnOnce(&KeyRing) -> Result<KeyRing, ConfigError>,
    ) -> Result<(), ConfigError> {
        let _guard = self
            .inner
            .rotation
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let new = change(&self.inner.keys.load())?;
        self.inner.keys.store(Arc::new(new));
        self.invalidate_token_cache();
        Ok(())
    }

    /// Called with the rotation lock held, after a new key ring is stored.
    fn invalidate_token_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.invalidate();
        }
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

    /// Mints an access token.
    ///
    /// Takes a subject (`"alice@example.com"`) or a [`TokenRequest`] with scopes, a lifetime
    /// and extra claims. The token carries `sub`, `exp`, `iat`, a random `jti`, and `scopes`
    /// (a JSON array, as fastapi-login) when any were requested.
    pub fn create_access_token(
        &self,
        request: impl Into<TokenRequest>,
    ) -> Result<String, TokenError> {
        let request = request.into();
        Ok(self.issue(request)?.0)
    }

    /// Mints an access token and wraps it in an OAuth2 [`TokenResponse`](crate::TokenResponse)
    /// (`access_token`, `token_type: "bearer"`, `expires_in`; sent with `Cache-Control: no-store`).
    pub fn token_response(
        &self,
        request: impl Into<TokenRequest>,
    ) -> Result<crate::TokenResponse, TokenError> {
        let (token, lifetime) = self.issue(request.into())?;
        Ok(crate::TokenResponse::new(token, lifetime))
    }

    pub(crate) fn issue(&self, request: TokenRequest) -> Result<(String, Duration), TokenError> {
        let inner = &*self.inner;
        if request.subject.is_empty() {
            return Err(TokenError::EmptySubject);
        }
        let lifetime = request.lifetime.unwrap_or(inner.lifetime);
        if lifetime < Duration::from_secs(1) || lifetime > MAX_LIFETIME {
            return Err(TokenError::InvalidLifetime);
        }
        let mut scopes: Vec<String> = Vec::with_capacity(request.scopes.len());
        for scope in request.scopes {
            if !is_valid_scope(&scope) {
                return Err(TokenError::InvalidScope(scope));
            }
            if !inner.scopes.is_empty() && !inner.scopes.iter().any(|(s, _)| *s == scope) {
                return Err(TokenError::UnknownScope(scope));
            }
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        let mut claims = match request.extra {
            None => Map::new(),
            Some(Ok(map)) => map,
            Some(Err(e)) => return Err(e),
        };
        if let Some(reserved) = claims
            .keys()
            .find(|k| RESERVED_CLAIMS.contains(&k.as_str()))
        {
            return Err(TokenError::ReservedClaim(reserved.clone()));
        }
        let now = self.now();
        let jti: [u8; 16] = rand::random();
        claims.insert("sub".into(), Value::String(request.subject));
        claims.insert("exp".into(), Value::from(now + lifetime.as_secs() as i64));
        claims.insert("iat".into(), Value::from(now));
        claims.insert(
            "jti".into(),
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jti)),
        );
        if !scopes.is_empty() {
            claims.insert("scopes".into(), Value::from(scopes));
        }
        if let Some(iss) = &inner.issuer {
            claims.insert("iss".into(), Value::String(iss.clone()));
        }
        if let Some(aud) = &inner.audience {
            claims.insert("aud".into(), Value::String(aud.clone()));
        }
        let ring = inner.keys.load();
        let signer = ring.signer.as_ref().ok_or(TokenError::NoSigningKey)?;
        let token = jsonwebtoken::encode(&signer.header, &claims, &signer.key.encoding)?;
        Ok((token, lifetime))
    }

    /// Verifies a token: size, structure, algorithm, signature, then every claim rule
    /// (`exp` required and strictly after now, `nbf`, `iat` not in the future, issuer,
    /// audience, typed `sub` and `scopes`, no duplicated claim).
    pub fn verify_token(&self, token: &str) -> Result<Claims, VerifyError> {
        self.verify_token_shared(token).map(Arc::unwrap_or_clone)
    }

    /// [`verify_token`](Self::verify_token) without copying the claims out of the token
    /// cache.
    ///
    /// A token that passed every check is remembered (see
    /// [`LoginManagerBuilder::token_cache`]); seen again, only the checks that depend on the
    /// time are run again, with the manager's clock, so it expires at the same second.
    pub(crate) fn verify_token_shared(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        let inner = &*self.inner;
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge);
        }
        let Some(cache) = &inner.cache else {
            let claims = self.decode_verified(token)?;
            self.check_claims(&claims)?;
            return Ok(Arc::new(claims));
        };
        if let Some(claims) = cache.get(token) {
            return match self.check_claims(&claims) {
                Ok(()) => Ok(claims),
                Err(error) => {
                    cache.remove(token);
                    Err(error)
                }
            };
        }
        // Read before the key ring is loaded: a ring change after this point makes the entry
        // stale (never served), not wrong.
        let epoch = cache.epoch();
        let claims = self.decode_verified(token)?;
        self.check_claims(&claims)?;
        let claims = Arc::new(claims);
        cache.insert(token, epoch, Arc::clone(&claims));
        Ok(claims)
    }

    /// Structure, header, algorithm, signature and the claims' types: everything that is a
    /// pure function of the token and the key ring.
    ///
    /// The same checks as `jsonwebtoken::decode`, in the same order, with each part decoded
    /// once: `decode` parses the claims twice (into the caller's type, then again for its own
    /// `exp`/`nbf`/`aud` checks, which we do not use), and the key lookup parsed the header a
    /// second time. The header's algorithm must be the key's one algorithm (never what the
    /// token asks for); `crit` and `b64` follow jsonwebtoken (RFC 7515 §4.1.11, RFC 7797);
    /// the signature is checked by jsonwebtoken's crypto backend with the key's algorithm.
    fn decode_verified(&self, token: &str) -> Result<Claims, VerifyError> {
        let ring = self.inner.keys.load();
        // Split from the right, as jsonwebtoken does; with extra dots the header part holds a
        // dot and fails to decode.
        let malformed = || VerifyError::Malformed("not a compact JWS".into());
        let (message, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        let (_, payload) = message.rsplit_once('.').ok_or_else(malformed)?;
        let header = jsonwebtoken::decode_header(token).map_err(map_jwt_error)?;
        let verifier = ring.verifier_for(&header)?;
        check_critical(&header)?;
        let algorithm = verifier.algorithm();
        if header.alg != algorithm {
            return Err(VerifyError::WrongAlgorithm);
        }
        let valid = jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &verifier.decoding,
            algorithm,
        )
        .map_err(map_jwt_error)?;
        if !valid {
            return Err(VerifyError::BadSignature);
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| VerifyError::Malformed(format!("payload: {e}")))?;
        serde_json::from_slice::<Claims>(&payload)
            .map_err(|e| VerifyError::InvalidClaims(e.to_string()))
    }

    /// The rules that depend on the time or the configuration: run on every request, cached
    /// token or not.
    fn check_claims(&self, claims: &Claims) -> Result<(), VerifyError> {
        let inner = &*self.inner;
        let now = self.now();
        let leeway = inner.leeway;
        // RFC 7519 §4.1.4: the current time MUST be before `exp`; `exp == now` is expired.
        if claims.exp <= now - leeway {
            return Err(VerifyError::Expired);
        }
        if matches!(claims.nbf, Some(nbf) if nbf > now + leeway) {
            return Err(VerifyError::NotYetValid);
        }
        if matches!(claims.iat, Some(iat) if iat > now + leeway) {
            return Err(VerifyError::IssuedInFuture);
        }
        if let Some(iss) = &inner.issuer
            && claims.iss.as_deref() != Some(iss.as_str())
        {
            return Err(VerifyError::WrongIssuer);
        }
        match &inner.audience {
            Some(aud) if !claims.aud.iter().any(|a| a == aud) => Err(VerifyError::WrongAudience),
            None if !claims.aud.is_empty() => Err(VerifyError::WrongAudience),
            _ => Ok(()),
        }
    }

    /// Finds the request's token, following the configured sources (cookie first, then the
    /// header). Never reads the query string or the body.
    pub(crate) fn credentials<'h>(&self, headers: &'h HeaderMap) -> Credentials<'h> {
        let inner = &*self.inner;
        let mut authorization = None;
        if inner.use_header {
            let mut values = headers.get_all(header::AUTHORIZATION).iter();
            authorization = values.next();
            if values.next().is_some() {
                return Credentials::Malformed("more than one Authorization header");
            }
        }
        if inner.use_cookie {
            match crate::cookie::find_cookie(headers, &inner.cookie_name) {
                Ok(Some(token)) => return Credentials::Token(token, TokenSource::Cookie),
                Ok(None) => {}
                Err(reason) => return Credentials::Malformed(reason),
            }
        }
        if let Some(value) = authorization {
            let Ok(value) = value.to_str() else {
                return Credentials::Malformed("Authorization header is not visible ASCII");
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
        Credentials::None
    }

    pub(crate) fn reject(
        &self,
        kind: crate::RejectionKind,
        required_scopes: &[&'static str],
        parts: &Parts,
    ) -> crate::AuthRejection {
        crate::AuthRejection::new(kind, required_scopes, parts, self.inner.hook.as_ref())
    }
}

pub(crate) enum Credentials<'h> {
    None,
    Token(&'h str, TokenSource),
    Malformed(&'static str),
}

/// jsonwebtoken's rules for `crit` and `b64` (its `Header::from_encoded`, which `decode`
/// applies and `decode_header` does not): `b64`, when present, must be `true`; `crit` must be
/// exactly `["b64"]` with `b64` present (we understand no other critical extension).
fn check_critical(header: &Header) -> Result<(), VerifyError> {
    let refused = |why: &str| Err(VerifyError::Malformed(format!("header: {why}")));
    let b64 = match header.extras.get::<bool>("b64") {
        Ok(b64) => b64,
        Err(_) => return refused("`b64` is not a boolean"),
    };
    if b64 == Some(false) {
        return refused("unencoded payloads (`b64: false`) are not supported");
    }
    match &header.crit {
        None => Ok(()),
        Some(crit) if crit.len() == 1 && crit[0] == "b64" && b64.is_some() => Ok(()),
        Some(_) => refused("unsupported critical extension (`crit`)"),
    }
}

fn map_jwt_error(e: jsonwebtoken::errors::Error) -> VerifyError {
    // Only the header parse and the signature check reach jsonwebtoken; the claims are ours.
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::InvalidSignature | K::InvalidKeyFormat => VerifyError::BadSignature,
        K::InvalidAlgorithm | K::InvalidAlgorithmName | K::MissingAlgorithm => {
            VerifyError::WrongAlgorithm
        }
        _ => VerifyError::Malformed(e.to_string()),
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
    /// use login::{Algorithm, LoginManager, SigningKey};
    /// # let pem = include_str!("../tests/keys/ed25519.pem");
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

    /// Read the token from the cookie (default: off). With both sources on, the cookie is
    /// read first and the header only when there is no cookie (fastapi-login's order).
    pub fn use_cookie(mut self, on: bool) -> Self {
        self.use_cookie = on;
        self
    }

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

    /// Prefix the cookie name with `__Host-` (default: off). Browsers then accept the cookie
    /// only from a secure origin, with `Path=/` and no `Domain`, so a sibling subdomain cannot
    /// plant or overwrite it. Needs `Secure`, `Path=/` and no `Domain` (checked by `build`).
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
    /// state-changing request (any method but GET, HEAD, OPTIONS, TRACE) whose token came from
    /// the cookie must come from the same origin: `Sec-Fetch-Site` is checked, falling back to
    /// `Origin`, then `Referer` (OWASP's CSRF cheat sheet); other sites get 403. Requests
    /// authenticated by the `Authorization` header are not affected (browsers never attach it
    /// on their own), and clients that send none of those headers (curl, scripts) pass.
    pub fn csrf_protection(mut self, on: bool) -> Self {
        self.cookie.csrf = on;
        self
    }

    /// An origin (`https://app.example.com`) other than the request's own that may send
    /// cookie-authenticated state-changing requests (for example a front end on another
    /// subdomain).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.cookie.trusted_origins.push(origin.into());
        self
    }

    /// The default token lifetime (default 15 minutes).
    pub fn default_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Clock-skew leeway for `exp`, `nbf` and `iat`, in seconds (default 0, as PyJWT; at most
    /// [`MAX_LEEWAY_SECS`]).
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
    /// use login::{LoginManager, RejectionKind};
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

    /// Replaces the clock (seconds since the Unix epoch). Meant for tests of expiry.
    pub fn clock<F>(mut self, clock: F) -> Self
    where
        F: Fn() -> i64 + Send + Sync + 'static,
    {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// How many verified tokens to remember (default
    /// [`DEFAULT_TOKEN_CACHE_CAPACITY`](crate::DEFAULT_TOKEN_CACHE_CAPACITY); `0` turns the
    /// cache off).
    ///
    /// A client sends the same token with every request until it expires, and checking a
    /// signature is most of what verifying costs (a few microseconds for HS256, tens to
    /// hundreds for RS256, ES256 and EdDSA). The cache is keyed by the exact token string,
    /// bounded, and holds only tokens that passed every check. On every request, cached or
    /// not, `exp`, `nbf` and `iat` are checked against the manager's clock (a cached token
    /// expires at the same second), and the scopes and the user loader run as usual. Rotating,
    /// adding or removing a key empties it, so a removed key's tokens are rejected at once.
    /// Tokens longer than [`MAX_CACHED_TOKEN_BYTES`](crate::MAX_CACHED_TOKEN_BYTES) are never
    /// cached.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = capacity;
        self
    }

    pub(crate) fn set_redirect_to_login(mut self) -> Self {
        self.redirect_to_login = true;
        self
    }

    /// Checks every setting and builds the manager.
    pub fn build(self) -> Result<LoginManager, ConfigError> {
        if jsonwebtoken::crypto::CryptoProvider::try_get_default().is_none() {
            return Err(ConfigError::NoCryptoBackend);
        }
        if !self.use_header && !self.use_cookie {
            return Err(ConfigError::NoTokenSource);
        }
        let signer = match (self.secret, self.signing_key) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Key(
                    "give either a secret or a signing key, not both".into(),
                ));
            }
            (Some(secret), None) => Some(SigningKey::hmac(self.algorithm, secret)?),
            (None, key) => key,
        };
        let keys = KeyRing::new(signer, self.verification_keys)?;
        if self.leeway > MAX_LEEWAY_SECS {
            return Err(ConfigError::LeewayTooLarge(self.leeway));
        }
        if self.lifetime < Duration::from_secs(1) || self.lifetime > MAX_LIFETIME {
            return Err(ConfigError::ZeroLifetime);
        }
        let mut cookie = self.cookie;
        cookie.validate()?;
        let cookie_name = cookie.full_name();
        for (scope, _) in &self.scopes {
            if !is_valid_scope(scope) {
                return Err(ConfigError::InvalidScope(scope.clone()));
            }
        }
        if self.issuer.as_deref() == Some("") {
            return Err(ConfigError::EmptyClaim("issuer"));
        }
        if self.audience.as_deref() == Some("") {
            return Err(ConfigError::EmptyClaim("audience"));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(system_now));
        let hook =
            crate::redirect::compose_hook(self.hook, self.redirect_to_login, &self.token_url);
        Ok(LoginManager {
            inner: Arc::new(Inner {
                keys: ArcSwap::from_pointee(keys),
                rotation: std::sync::Mutex::new(()),
                token_url: self.token_url,
                use_header: self.use_header,
                use_cookie: self.use_cookie,
                cookie,
                cookie_name,
                lifetime: self.lifetime,
                leeway: self.leeway as i64,
                issuer: self.issuer,
                audience: self.audience,
                scopes: self.scopes,
                hook,
                clock,
                cache: crate::cache::TokenCache::new(self.token_cache),
            }),
        })
    }
}

fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What to put in a token: the subject, and optionally scopes, a lifetime and extra claims
/// (fastapi-login's `data`).
///
/// ```
/// # use login::{LoginManager, TokenRequest};
/// # let manager = LoginManager::new("a-32-byte-or-longer-secret-from-env!", "/login")?;
/// #[derive(serde::Serialize)]
/// struct Extra { tenant: u32 }
///
/// let token = manager.create_access_token(
///     TokenRequest::new("alice")
///         .scopes(["items:read", "items:write"])
///         .lifetime(std::time::Duration::from_secs(300))
///         .extra(&Extra { tenant: 7 }),
/// )?;
/// let claims = manager.verify_token(&token)?;
/// assert_eq!(claims.extra["tenant"], 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct TokenRequest {
    subject: String,
    scopes: Vec<String>,
    lifetime: Option<Duration>,
    extra: Option<Result<Map<String, Value>, TokenError>>,
}

impl TokenRequest {
    /// A token for `subject` (the `sub` claim the user loader receives).
    pub fn new(subject: impl Into<String>) -> Self {
        TokenRequest {
            subject: subject.into(),
            scopes: Vec::new(),
            lifetime: None,
            extra: None,
        }
    }

    /// Grants these scopes (de-duplicated, issued as the JSON array claim `scopes`).
    pub fn scopes<I, T>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.scopes.extend(scopes.into_iter().map(Into::into));
        self
    }

    /// The token's lifetime, instead of the manager's default.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = Some(lifetime);
        self
    }

    /// Extra claims: any value that serializes to a JSON object. Reserved claims (`sub`,
    /// `exp`, `iat`, `nbf`, `jti`, `iss`, `aud`, `scopes`, `scope`) are refused when the token
    /// is created, never silently overwritten.
    pub fn extra<T: Serialize + ?Sized>(mut self, extra: &T) -> Self {
        let map = match serde_json::to_value(extra) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(TokenError::ExtraNotAnObject),
            Err(e) => Err(TokenError::Serialize(e)),
        };
        self.extra = Some(match (self.extra.take(), map) {
            (Some(Ok(mut old)), Ok(new)) => {
                old.extend(new);
                Ok(old)
            }
            (Some(Err(e)), _) | (_, Err(e)) => Err(e),
            (None, new) => new,
        });
        self
    }
}

impl From<&str> for TokenRequest {
    fn from(subject: &str) -> Self {
        TokenRequest::new(subject)
    }
}

impl From<String> for TokenRequest {
    fn from(subject: String) -> Self {
        TokenRequest::new(subject)
    }
}

impl From<&String> for TokenRequest {
    fn from(subject: &String) -> Self {
        TokenRequest::new(subject.as_str())
    }
}
