//! Errors: configuration errors, token errors, and the rejection an extractor answers with.

use std::fmt;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
        /// ([`MAX_LEEWAY_SECS`](crate::MAX_LEEWAY_SECS)).
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
    /// A trusted origin is not `scheme://host[:port]`.
    #[error("invalid origin {0:?}: write it as scheme://host[:port], e.g. https://app.example.com")]
    InvalidOrigin(String),
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
        /// The cap in bytes ([`MAX_TOKEN_BYTES`](crate::MAX_TOKEN_BYTES)).
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
    /// With sessions: the token's lifetime is longer than the longest access-token lifetime
    /// (its revocation could not be remembered long enough).
    #[error("token lifetime longer than allowed")]
    LifetimeTooLong,
    /// With a shared session store: its change stream has been down longer than the
    /// staleness bound, so the revocations known here may be incomplete. Not a fault of the
    /// token: answered 503 ([`RejectionKind::Unavailable`]), never 401.
    #[error("the revocations may be stale (the session store's change stream is down)")]
    RevocationsStale,
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

/// Why a request was not authenticated. Each kind has its own RFC 6750 response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No credentials at all: 401, `WWW-Authenticate: Bearer`.
    MissingCredentials,
    /// A token that failed verification, or whose subject the loader does not know:
    /// 401, `WWW-Authenticate: Bearer error="invalid_token"`.
    InvalidToken,
    /// A malformed request, such as two `Authorization` headers:
    /// 400, `WWW-Authenticate: Bearer error="invalid_request"`.
    InvalidRequest,
    /// A valid token that lacks a required scope:
    /// 403, `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`.
    InsufficientScope,
    /// A state-changing request (POST, PUT, PATCH, DELETE…) authenticated by the cookie that
    /// came from another site (CSRF): 403, no challenge.
    CrossSiteRequest,
    /// The revocations cannot be checked: the shared session store's change stream has been
    /// down longer than its staleness bound. 503 with `Retry-After`, no challenge; the token
    /// is neither accepted nor declared invalid.
    Unavailable,
}

/// The `Retry-After` (seconds) of a [`RejectionKind::Unavailable`] answer.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 5;

impl RejectionKind {
    /// The HTTP status of the default response.
    pub fn status(self) -> StatusCode {
        match self {
            RejectionKind::MissingCredentials | RejectionKind::InvalidToken => {
                StatusCode::UNAUTHORIZED
            }
            RejectionKind::InvalidRequest => StatusCode::BAD_REQUEST,
            RejectionKind::InsufficientScope | RejectionKind::CrossSiteRequest => {
                StatusCode::FORBIDDEN
            }
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The `detail` of the default JSON body. Deliberately generic: it never says more than
    /// the kind (the precise reason goes to a `tracing` event at debug level).
    pub fn detail(self) -> &'static str {
        match self {
            RejectionKind::MissingCredentials => "Not authenticated",
            RejectionKind::InvalidToken => "Invalid credentials",
            RejectionKind::InvalidRequest => "Malformed authorization request",
            RejectionKind::InsufficientScope => "Insufficient scope",
            RejectionKind::CrossSiteRequest => "Cross-site request refused",
            RejectionKind::Unavailable => "Service temporarily unavailable",
        }
    }
}

/// What a rejection hook sees: the kind, the scopes the route required, and the request.
///
/// Its `Debug` output (what `tracing::warn!(?rejection)` prints) holds the kind, the required
/// scopes, the method and the path — never the headers (the bearer token, the cookies) nor the
/// query string, which may carry a token too. Read [`parts`](Self::parts) for more, and log
/// only what you choose.
pub struct RejectionContext<'a> {
    pub(crate) kind: RejectionKind,
    pub(crate) required_scopes: &'a [&'static str],
    pub(crate) parts: &'a Parts,
}

impl<'a> RejectionContext<'a> {
    /// Why the request was rejected.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }
    /// The scopes the route required (empty unless the route is scope-checked).
    pub fn required_scopes(&self) -> &'a [&'static str] {
        self.required_scopes
    }
    /// The request's head (method, URI, headers), for example to build a `next` parameter.
    pub fn parts(&self) -> &'a Parts {
        self.parts
    }
    /// The default RFC 6750 response for this rejection.
    pub fn default_response(&self) -> Response {
        default_response(self.kind, self.required_scopes)
    }
}

impl fmt::Debug for RejectionContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectionContext")
            .field("kind", &self.kind)
            .field("required_scopes", &self.required_scopes)
            .field("method", &self.parts.method)
            .field("path", &self.parts.uri.path())
            .finish_non_exhaustive()
    }
}

pub(crate) type RejectionHook =
    Arc<dyn for<'a> Fn(&RejectionContext<'a>) -> Option<Response> + Send + Sync>;

/// The rejection of the login extractors: an RFC 6750 error response, or the response of a
/// failing loader.
///
/// The response is built when the extractor fails (so the manager's hook has seen the request);
/// [`kind`](Self::kind) tells what happened.
pub struct AuthRejection {
    kind: Option<RejectionKind>,
    response: Response,
}

impl AuthRejection {
    pub(crate) fn new(
        kind: RejectionKind,
        required_scopes: &[&'static str],
        parts: &Parts,
        hook: Option<&RejectionHook>,
    ) -> Self {
        let ctx = RejectionContext {
            kind,
            required_scopes,
            parts,
        };
        let response = hook
            .and_then(|hook| hook(&ctx))
            .unwrap_or_else(|| default_response(kind, required_scopes));
        AuthRejection {
            kind: Some(kind),
            response,
        }
    }

    pub(crate) fn loader(response: Response) -> Self {
        AuthRejection {
            kind: None,
            response,
        }
    }

    /// The kind of rejection, or `None` when the user loader failed (its own response is kept).
    pub fn kind(&self) -> Option<RejectionKind> {
        self.kind
    }

    /// Whether the user loader failed (for example the database was unreachable).
    pub fn is_loader_error(&self) -> bool {
        self.kind.is_none()
    }
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("kind", &self.kind)
            .field("status", &self.response.status())
            .finish()
    }
}

impl fmt::Display for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Some(kind) => f.write_str(kind.detail()),
            None => write!(f, "user loader failed ({})", self.response.status()),
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.response
    }
}

/// The default RFC 6750 response for a rejection kind: status, `WWW-Authenticate` challenge
/// (none for a cross-site request, which is not a bearer-token error) and the JSON body
/// `{"detail": "..."}`.
pub fn default_response(kind: RejectionKind, required_scopes: &[&'static str]) -> Response {
    let challenge = match kind {
        RejectionKind::MissingCredentials => Some(HeaderValue::from_static("Bearer")),
        RejectionKind::InvalidToken => {
            Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#))
        }
        RejectionKind::InvalidRequest => Some(HeaderValue::from_static(
            r#"Bearer error="invalid_request""#,
        )),
        RejectionKind::InsufficientScope => {
            // Scopes were validated (RFC 6749 §3.3 scope-token characters) when declared, so
            // they never contain `"` or `\`; the value is always a valid header.
            let value = format!(
                r#"Bearer error="insufficient_scope", scope="{}""#,
                required_scopes.join(" ")
            );
            Some(HeaderValue::from_str(&value).unwrap_or_else(|_| {
                HeaderValue::from_static(r#"Bearer error="insufficient_scope""#)
            }))
        }
        RejectionKind::CrossSiteRequest | RejectionKind::Unavailable => None,
    };
    let body = axum::Json(serde_json::json!({ "detail": kind.detail() }));
    let mut response = (kind.status(), body).into_response();
    let headers = response.headers_mut();
    if let Some(challenge) = challenge {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if kind == RejectionKind::Unavailable {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
        );
    }
    response
}

/// Whether `scope` is a valid RFC 6749 §3.3 scope-token: `1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_valid_scope(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}
