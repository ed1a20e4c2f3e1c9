//! The errors of building a manager, minting a token, verifying a token and checking a
//! request's origin. The answers sent to clients are in `rejection`.

/// An invalid [`LoginManager`](crate::LoginManager) configuration, reported by
/// [`LoginManagerBuilder::build`](crate::LoginManagerBuilder::build).
///
/// Every misconfiguration is caught when the manager is built, never at request time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither the header nor the cookie is enabled as a token source.
    #[error("no token source: enable the Authorization header, the cookie, or both")]
    NoTokenSource,
    /// No secret or key was given.
    #[error(
        "no key: give the builder a `.secret(...)`, a `.signing_key(...)`, or, for a verify-only manager, `.verification_key(...)` / `.verification_keys(...)`"
    )]
    MissingKey,
    /// Both an HMAC secret and a signing key were given; a manager signs with one key.
    #[error("give either `.secret(...)` or `.signing_key(...)`, not both")]
    SecretAndSigningKey,
    /// The HMAC secret is empty.
    #[error("the HMAC secret is empty")]
    EmptySecret,
    /// The HMAC secret is shorter than the hash output (RFC 7518 §3.2).
    #[error(
        "the {algorithm:?} secret is {actual} bytes long; RFC 7518 §3.2 requires at least {minimum} bytes (generate one with `openssl rand -hex 32`)"
    )]
    SecretTooShort {
        /// The configured algorithm.
        algorithm: jsonwebtoken::Algorithm,
        /// The minimum length in bytes.
        minimum: usize,
        /// The length of the given secret in bytes.
        actual: usize,
    },
    /// The HMAC secret looks like a PEM or SSH key: using a public key as an HMAC secret is the
    /// classic algorithm-confusion mistake.
    #[error(
        "the HMAC secret looks like a PEM or SSH key; use an asymmetric algorithm for key pairs, and a random string as an HMAC secret"
    )]
    SecretLooksLikeKey,
    /// The algorithm given with an HMAC secret is not an HMAC algorithm.
    #[error("{0:?} is not an HMAC algorithm; a secret works with HS256, HS384 or HS512")]
    NotHmacAlgorithm(jsonwebtoken::Algorithm),
    /// The leeway exceeds the allowed maximum.
    #[error("a leeway of {leeway} s is more than the maximum of {max} s")]
    LeewayTooLarge {
        /// The leeway that was asked for, in seconds.
        leeway: u64,
        /// The largest leeway accepted, in seconds
        /// (300 seconds).
        max: u64,
    },
    /// The default token lifetime is under one second or over ten years.
    #[error("the default token lifetime ({0:?}) must be between 1 second and 10 years")]
    LifetimeOutOfRange(std::time::Duration),
    /// The cookie name is empty or contains characters not allowed in a cookie name.
    #[error("invalid cookie name {0:?}: use letters, digits and `-_.!#$%&'*+^`|~`")]
    InvalidCookieName(String),
    /// A scope name is empty or contains characters RFC 6749 §3.3 forbids.
    #[error(
        "invalid scope {0:?}: a scope is non-empty printable ASCII without spaces, `\"` or `\\`"
    )]
    InvalidScope(String),
    /// An issuer or audience is empty.
    #[error("the {0} must not be empty")]
    EmptyClaim(&'static str),
    /// No jsonwebtoken crypto backend is available: neither the `rust_crypto` nor the
    /// `aws_lc_rs` feature is on, and no `jsonwebtoken::crypto::CryptoProvider` was installed.
    #[error(
        "no JWT crypto backend: enable one of the `login` features `rust_crypto` (default) or `aws_lc_rs`, or install a `jsonwebtoken::crypto::CryptoProvider` before building the manager"
    )]
    NoCryptoBackend,
    /// The crypto backend refused the key, or the key failed its sign-and-verify probe.
    #[error("the key was refused: {0}")]
    Key(String),
    /// The key does not fit the algorithm (RFC 8725 §3.1: one algorithm per key).
    #[error("{key} cannot be used with {algorithm:?}")]
    KeyAlgorithmMismatch {
        /// The requested algorithm.
        algorithm: jsonwebtoken::Algorithm,
        /// What the key is.
        key: &'static str,
    },
    /// The key's format is not supported, or it is not a key at all.
    #[error("unsupported key format: {0}")]
    UnsupportedKeyFormat(String),
    /// The private key is encrypted and no password was given.
    #[error("the private key is encrypted: give its password")]
    KeyPasswordRequired,
    /// The private key is encrypted and the `encrypted-keys` feature, which decrypts it, is
    /// off.
    #[error(
        "the private key is encrypted (`ENCRYPTED PRIVATE KEY`): enable the `login` feature `encrypted-keys` to decrypt it, or give the key unencrypted"
    )]
    EncryptedKeysDisabled,
    /// The password does not decrypt the private key.
    #[error("wrong password for the encrypted private key")]
    WrongKeyPassword,
    /// A public key was given where a private (signing) key is needed.
    #[error(
        "this is a public key; a signing key must be a private key (use a VerifyingKey for public keys)"
    )]
    PublicKeyForSigning,
    /// The RSA key is smaller than 2048 bits.
    #[error("the RSA key has {0} bits; at least 2048 are required")]
    RsaKeyTooSmall(usize),
    /// A JWK or JWKS document is unusable.
    #[error("invalid JWK: {0}")]
    InvalidJwk(String),
    /// Two keys share a `kid`.
    #[error("two keys share the kid {0:?}")]
    DuplicateKid(String),
    /// With several keys, every key needs a `kid` so that tokens can name theirs.
    #[error("with more than one key, every key needs a kid (`.with_kid(...)`)")]
    MissingKid,
    /// A key operation referred to a `kid` the manager does not have, or to the signing key.
    #[error("no removable verification key with kid {0:?}")]
    UnknownKid(String),
    /// The `__Host-` cookie prefix needs a Secure cookie with `Path=/` and no `Domain`.
    #[error("`__Host-` cookie prefix: {0}")]
    HostPrefix(&'static str),
    /// A login-throttle setting is out of range (see [`login::throttle`](crate::throttle)).
    #[error("login throttle: {0}")]
    InvalidThrottle(&'static str),
    /// `SameSite=None` without `Secure` is refused by browsers.
    #[error("a SameSite=None cookie must be Secure")]
    InsecureSameSiteNone,
    /// The cookie path does not start with `/` or holds forbidden characters.
    #[error("invalid cookie path {0:?}")]
    InvalidCookiePath(String),
    /// A `#[protected(scopes = [...])]` handler requires a scope the manager does not declare
    /// (a typo would otherwise answer 403 to everyone).
    #[error(
        "`{handler}` ({location}) requires the scope {scope:?}, which the manager does not declare (declared: {declared}); fix the name in `#[protected(scopes = [...])]` or add it to `.scopes(...)`"
    )]
    UnknownRouteScope {
        /// The handler (`module::function`).
        handler: String,
        /// The handler's source location (`file:line`).
        location: String,
        /// The unknown scope.
        scope: String,
        /// The scopes the manager declares, comma-separated.
        declared: String,
    },
    /// Sessions mint tokens: they need a signing key.
    #[error("sessions need a signing key (a `.secret(...)` or a `.signing_key(...)`)")]
    SessionsNeedSigningKey,
    /// A session setting is out of range.
    #[error("invalid session setting: {0}")]
    InvalidSessionSetting(&'static str),
    /// A second-factor setting is out of range (feature `mfa`).
    #[error("invalid second-factor setting: {0}")]
    InvalidMfaSetting(&'static str),
    /// A trusted origin is not `scheme://host[:port]`.
    #[error("invalid origin {0:?}: write it as scheme://host[:port], e.g. https://app.example.com")]
    InvalidOrigin(String),
    /// An identity provider's manager (feature `oidc`) was also given a setting it cannot
    /// have: it only verifies (it mints nothing), and its keys are the provider's.
    #[error("a manager of an identity provider only verifies the provider's tokens: {0}")]
    ProviderConflict(&'static str),
    /// An identity provider's manager needs the audience its tokens must name.
    #[error(
        "an identity provider's tokens must be checked for this service's audience: set `.audience(...)` (the API's identifier at the provider)"
    )]
    ProviderNeedsAudience,
    /// An identity provider's manager must be built inside a Tokio runtime (it refreshes the
    /// provider's keys in the background).
    #[error(
        "build an identity provider's manager inside a Tokio runtime (its keys are refreshed in the background)"
    )]
    ProviderNeedsRuntime,
}

/// An error when minting a token with
/// [`LoginManager::create_access_token`](crate::LoginManager::create_access_token).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The subject (`sub`) is empty.
    #[error("the subject (`sub`) must be a non-empty string")]
    EmptySubject,
    /// The extra claims try to set a claim the manager controls.
    #[error("the extra claim `{0}` is reserved; use the dedicated `TokenRequest` method instead")]
    ReservedClaim(String),
    /// The extra claims did not serialize to a JSON object.
    #[error("extra claims must serialize to a JSON object")]
    ExtraNotAnObject,
    /// The extra claims failed to serialize.
    #[error("extra claims failed to serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A scope is empty or contains characters RFC 6749 §3.3 forbids.
    #[error("invalid scope {0:?}")]
    InvalidScope(String),
    /// An authentication method (`amr`) is empty, longer than 32 bytes, or not made of ASCII
    /// letters, digits, `-`, `_` and `.` (RFC 8176's values are short names like `pwd`).
    #[error("invalid authentication method {0:?}")]
    InvalidAmr(String),
    /// The authentication time (`auth_time`) is negative or later than the token's issue time.
    #[error("the authentication time must be between the Unix epoch and now")]
    InvalidAuthTime,
    /// A scope is not one of the scopes the manager knows.
    #[error("unknown scope {0:?}: add it to the manager's scopes")]
    UnknownScope(String),
    /// The lifetime is zero or too large.
    #[error("the token lifetime must be between 1 second and 10 years")]
    InvalidLifetime,
    /// The manager only verifies tokens (it was built without a signing key).
    #[error("this manager only verifies tokens: it has no signing key")]
    NoSigningKey,
    /// jsonwebtoken failed to sign the token.
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Why a token failed verification. Logged at debug level; never sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is longer than the size cap, checked before any decoding or crypto.
    #[error("token larger than {max} bytes")]
    TooLarge {
        /// The cap in bytes (8 KiB).
        max: usize,
    },
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
    /// With sessions: the token was revoked, its session ended, or its subject logged out
    /// everywhere after it was issued.
    #[error("token revoked")]
    Revoked,
    /// The token is the `mfa_token` of a two-step login that has not finished (it carries
    /// `mfa_pending`): never an access token, whatever its signature.
    #[error("an unfinished two-step login's token is not an access token")]
    NotAnAccessToken,
    /// With sessions: the token's lifetime is longer than the longest access-token lifetime
    /// (its revocation could not be remembered long enough).
    #[error("token lifetime longer than allowed")]
    LifetimeTooLong,
    /// With sessions: the token has no `iat` (fastapi-login's tokens have none). It cannot
    /// show when it was issued, so no revocation ("log out everywhere") could be kept for as
    /// long as it might be valid: it is refused. A manager without sessions accepts it.
    #[error("token without iat (required with sessions)")]
    MissingIssuedAt,
    /// With a shared session store: its change stream has been down longer than the
    /// staleness bound, so the revocations known here may be incomplete. Not a fault of the
    /// token: answered 503 ([`RejectionKind::Unavailable`](crate::rejection::RejectionKind::Unavailable)), never 401.
    #[error("the revocations may be stale (the session store's change stream is down)")]
    RevocationsStale,
    /// With an identity provider's keys (feature `oidc`): no refresh of the keys has
    /// succeeded for longer than the staleness bound. Not a fault of the token: answered
    /// 503 ([`RejectionKind::Unavailable`](crate::rejection::RejectionKind::Unavailable)), never 401.
    #[error("the identity provider's keys are stale (no refresh succeeded within the bound)")]
    KeysStale,
}

/// Why a state-changing request was judged cross-site by the CSRF policy
/// ([`LoginManager::check_same_origin`](crate::LoginManager::check_same_origin)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SameOriginError {
    /// `Origin`, `Referer` or `Sec-Fetch-Site` appears more than once.
    #[error("duplicated {0} header")]
    DuplicatedHeader(&'static str),
    /// `Origin`, `Referer` or `Sec-Fetch-Site` is not visible ASCII.
    #[error("the {0} header is not ASCII")]
    NotAscii(&'static str),
    /// `Sec-Fetch-Site` is `same-site` or `cross-site`, and `Origin` is not a trusted origin.
    #[error("Sec-Fetch-Site is not same-origin")]
    CrossSiteFetch,
    /// `Origin` names another origin, or is `null`.
    #[error("Origin is another site (or null)")]
    ForeignOrigin,
    /// `Referer` (read when there is no `Origin`) names another origin, or is not a URL.
    #[error("Referer is another site")]
    ForeignReferer,
}

/// Whether `scope` is a valid RFC 6749 §3.3 scope-token: `1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
