//! Minting: [`TokenRequest`], the reserved claims, and the token itself.

use std::time::Duration;

use base64::Engine as _;
use serde::Serialize;
use serde_json::{Map, Value};

use super::LoginManager;
use crate::error::{TokenError, is_valid_scope};

/// The longest lifetime a token may have (10 years).
pub(super) const MAX_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The claim that marks the `mfa_token` of an unfinished two-step login: a token carrying it
/// is never accepted as an access token.
pub(super) const MFA_PENDING: &str = "mfa_pending";

/// Whether the manager sets the claim `name` itself, so that `extra` may not: the claims
/// [`Claims`](crate::Claims) has a field for, and [`MFA_PENDING`].
fn is_reserved(name: &str) -> bool {
    crate::claims::REGISTERED.contains(&name) || name == MFA_PENDING
}

/// A validated [`TokenRequest`], ready to be minted (once, or again by each refresh of a
/// session).
pub(super) struct Prepared {
    pub(super) subject: String,
    pub(super) scopes: Vec<String>,
    /// The extra claims, with `amr` and `auth_time` when the request set them: a session
    /// keeps this map, so that every refresh carries the login's.
    pub(super) extra: Map<String, Value>,
    pub(super) lifetime: Duration,
}

impl LoginManager {
    /// Mints a token for `request`, returning it with its lifetime.
    pub(super) fn issue(&self, request: TokenRequest) -> Result<(String, Duration), TokenError> {
        let prepared = self.prepare(request)?;
        self.mint(&prepared, None, prepared.lifetime)
    }

    /// Checks a request: a subject, a lifetime in range (with sessions on, at most their
    /// longest access-token lifetime), valid and known scopes, no reserved extra claim.
    pub(super) fn prepare(&self, request: TokenRequest) -> Result<Prepared, TokenError> {
        let inner = &*self.inner;
        if request.subject.is_empty() {
            return Err(TokenError::EmptySubject);
        }
        let lifetime = request.lifetime.unwrap_or(inner.lifetime);
        if lifetime < Duration::from_secs(1) || lifetime > MAX_LIFETIME {
            return Err(TokenError::InvalidLifetime);
        }
        if let Some(sessions) = &inner.sessions
            && lifetime > sessions.settings.max_access_lifetime
        {
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
        let mut extra = match request.extra {
            None => Map::new(),
            Some(Ok(map)) => map,
            Some(Err(e)) => return Err(e),
        };
        if let Some(reserved) = extra.keys().find(|k| is_reserved(k)) {
            return Err(TokenError::ReservedClaim(reserved.clone()));
        }
        let mut amr: Vec<String> = Vec::with_capacity(request.amr.len());
        for method in request.amr {
            if !is_valid_amr(&method) {
                return Err(TokenError::InvalidAmr(method));
            }
            if !amr.contains(&method) {
                amr.push(method);
            }
        }
        if !amr.is_empty() {
            extra.insert("amr".into(), Value::from(amr));
        }
        if let Some(at) = request.auth_time {
            if at < 0 || at > self.now() + inner.leeway {
                return Err(TokenError::InvalidAuthTime);
            }
            extra.insert("auth_time".into(), Value::from(at));
        }
        Ok(Prepared {
            subject: request.subject,
            scopes,
            extra,
            lifetime,
        })
    }

    /// Signs a prepared token, in session `sid` when given, valid for `lifetime` from now.
    pub(super) fn mint(
        &self,
        prepared: &Prepared,
        sid: Option<&str>,
        lifetime: Duration,
    ) -> Result<(String, Duration), TokenError> {
        let inner = &*self.inner;
        let mut claims = prepared.extra.clone();
        let now = self.now();
        let jti: [u8; 16] = crate::secret::random_bytes();
        claims.insert("sub".into(), Value::String(prepared.subject.clone()));
        claims.insert("exp".into(), Value::from(now + lifetime.as_secs() as i64));
        claims.insert("iat".into(), Value::from(now));
        claims.insert(
            "jti".into(),
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(jti)),
        );
        if let Some(sid) = sid {
            claims.insert("sid".into(), Value::String(sid.to_owned()));
        }
        if !prepared.scopes.is_empty() {
            claims.insert("scopes".into(), Value::from(prepared.scopes.clone()));
        }
        if let Some(iss) = &inner.issuer {
            claims.insert("iss".into(), Value::String(iss.clone()));
        }
        if let Some(aud) = &inner.audience {
            claims.insert("aud".into(), Value::String(aud.clone()));
        }
        let ring = inner.keys.load();
        let signer = ring.signer().ok_or(TokenError::NoSigningKey)?;
        let token = jsonwebtoken::encode(&signer.header, &claims, &signer.key.encoding)?;
        // ECDSA: the low-S form of the signature, the one every lookup by token uses.
        let low = token.rsplit_once('.').and_then(|(message, signature)| {
            crate::keys::low_s(signer.header.alg, signature).map(|low| format!("{message}.{low}"))
        });
        let token = low.unwrap_or(token);
        Ok((token, lifetime))
    }
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
    amr: Vec<String>,
    auth_time: Option<i64>,
}

/// An RFC 8176 authentication method name: 1 to 32 ASCII letters, digits, `-`, `_`, `.`.
fn is_valid_amr(method: &str) -> bool {
    (1..=32).contains(&method.len())
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl TokenRequest {
    /// A token for `subject` (the `sub` claim the user loader receives).
    pub fn new(subject: impl Into<String>) -> Self {
        TokenRequest {
            subject: subject.into(),
            scopes: Vec::new(),
            lifetime: None,
            extra: None,
            amr: Vec::new(),
            auth_time: None,
        }
    }

    /// How the user authenticated: the `amr` claim (RFC 8176), de-duplicated, in order. The
    /// login route sets `["pwd"]` for a password (and the second factor's method after it);
    /// set it yourself when you mint tokens after another kind of sign-in. Each value is 1 to
    /// 32 ASCII letters, digits, `-`, `_` or `.` (`TokenError::InvalidAmr` otherwise).
    /// A session keeps it: every refresh carries the login's.
    pub fn amr<I, T>(mut self, methods: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.amr.extend(methods.into_iter().map(Into::into));
        self
    }

    /// When the user authenticated (seconds since the Unix epoch): the `auth_time` claim of
    /// OpenID Connect, which `#[protected(fresh = "10m")]` checks. The login route sets it
    /// to the moment the password was checked. Refused (`TokenError::InvalidAuthTime`) when
    /// negative or in the future. A session keeps it: a refresh does not renew it.
    pub fn auth_time(mut self, at: i64) -> Self {
        self.auth_time = Some(at);
        self
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
    /// `exp`, `iat`, `nbf`, `jti`, `iss`, `sid`, `aud`, `scopes`, `scope`, `amr`,
    /// `auth_time`, `mfa_pending`) are refused when the token is created, never silently
    /// overwritten.
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
