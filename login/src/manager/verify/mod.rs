//! Every step that decides whether a token is accepted, in order:
//!
//! 1. size: at most [`MAX_TOKEN_BYTES`], before any decoding; then, with an ECDSA key, the
//!    signature in its low-S form (the token's one string: see `canonical_token`);
//! 2. structure: a compact JWS (three base64url parts);
//! 3. key: by `kid` ([`KeyRing::verifier_for`](super::keyring::KeyRing::verifier_for)), the
//!    header read by the lean reader (`crate::jws`) when it is certain of jsonwebtoken's
//!    answer, else by jsonwebtoken's `decode_header`;
//! 4. header: `crit` and `b64` as jsonwebtoken (RFC 7515 §4.1.11, RFC 7797);
//! 5. algorithm: exactly the key's one algorithm, never what the token asks for;
//! 6. signature: HMAC with the key's state built once (`keys::mac`, under jsonwebtoken's own
//!    rust_crypto provider), any other by jsonwebtoken's crypto backend;
//! 7. claims' types ([`Claims`]'s strict deserializer: typed `sub`, `exp`, `scopes`, no
//!    duplicated claim);
//! 8. time and configuration ([`check_claims`](LoginManager::check_claims)): `exp` strictly
//!    after now, `nbf`, `iat` not in the future, issuer, audience, and, with sessions, the
//!    lifetime bound and the revocations in force (`sessions::check_sessions`, a local
//!    lookup); run on every request, cached token or not, so the cache never serves a revoked
//!    token.
//!
//! Steps 1–7 are a pure function of the token and the key ring, so a token that passed them
//! is remembered in the token cache until the ring changes.

use std::borrow::Cow;
use std::sync::Arc;

use base64::Engine as _;
use jsonwebtoken::Header;

use axum::http::request::Parts;

use super::LoginManager;
use crate::claims::Claims;
use crate::credentials::{Credentials, TokenSource};
use crate::error::VerifyError;
use crate::rejection::RejectionKind;

/// Tokens longer than this many bytes are rejected before any decoding or crypto.
pub(crate) const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The outcome of [`LoginManager::authenticate`], cached in the request's extensions and
/// tagged with the manager that produced it.
#[derive(Clone)]
struct Verified {
    manager: usize,
    outcome: Result<(Arc<Claims>, TokenSource), RejectionKind>,
    /// Whether the token named a `kid` the key ring lacks (a provider's keys may have
    /// rotated: see `authenticate_refreshing`).
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    unknown_kid: bool,
}

impl LoginManager {
    /// Verifies the request's token (once per request; the outcome is cached in the request's
    /// extensions) and returns its claims and where it was found.
    ///
    /// The order: credentials (a bearer token in the `Authorization` header, else the
    /// cookie; two `Authorization` headers, or two different values of the cookie, are
    /// `InvalidRequest`), then the CSRF policy for a cookie on a state-changing request, then
    /// [`verify_token`](Self::verify_token).
    pub fn authenticate(
        &self,
        parts: &mut Parts,
    ) -> Result<(Arc<Claims>, TokenSource), RejectionKind> {
        let id = self.id();
        if let Some(cached) = parts.extensions.get::<Verified>()
            && cached.manager == id
        {
            return cached.outcome.clone();
        }
        let mut unknown_kid = false;
        let outcome = match self.inner.sources.read(&parts.headers) {
            Credentials::None => {
                tracing::debug!(
                    reason = "no credentials",
                    "login: request not authenticated"
                );
                Err(RejectionKind::MissingCredentials)
            }
            Credentials::Malformed(reason, source) => {
                tracing::debug!(reason, ?source, "login: malformed authorization request");
                Err(RejectionKind::InvalidRequest)
            }
            Credentials::Token(_, TokenSource::Cookie)
                if self.inner.cookie.csrf
                    && let Err(reason) = self.check_same_origin(parts) =>
            {
                tracing::debug!(%reason, "login: cross-site request with the cookie refused");
                Err(RejectionKind::CrossSiteRequest)
            }
            Credentials::Token(token, source) => match self.verify_token_shared(token) {
                Ok(claims) => Ok((claims, source)),
                Err(VerifyError::RevocationsStale) => {
                    tracing::warn!(
                        "login: request refused with 503: the revocations may be stale (session store's change stream down)"
                    );
                    Err(RejectionKind::Unavailable)
                }
                Err(VerifyError::KeysStale) => {
                    tracing::warn!(
                        "login: request refused with 503: the identity provider's keys are stale (no refresh succeeded within the bound)"
                    );
                    Err(RejectionKind::Unavailable)
                }
                Err(error) => {
                    unknown_kid = error == VerifyError::UnknownKid;
                    tracing::debug!(reason = %error, ?source, "login: token rejected");
                    Err(RejectionKind::InvalidToken)
                }
            },
        };
        parts.extensions.insert(Verified {
            manager: id,
            outcome: outcome.clone(),
            unknown_kid,
        });
        outcome
    }

    /// [`authenticate`](Self::authenticate) for the extractors: with an identity provider's
    /// keys (feature `oidc`), a token naming an unknown `kid` is verified once more after
    /// the one refresh of the keys the cooldown allows (the only I/O a request may wait for).
    pub(crate) async fn authenticate_refreshing(
        &self,
        parts: &mut Parts,
    ) -> Result<(Arc<Claims>, TokenSource), RejectionKind> {
        let outcome = self.authenticate(parts);
        #[cfg(feature = "oidc")]
        if outcome.is_err()
            && parts
                .extensions
                .get::<Verified>()
                .is_some_and(|v| v.manager == self.id() && v.unknown_kid)
            && self.refresh_for_unknown_kid().await
        {
            parts.extensions.remove::<Verified>();
            return self.authenticate(parts);
        }
        outcome
    }

    /// Whether the request is malformed because of its cookie (two different values under
    /// the token cookie's name, or one that is not ASCII): something a third party can plant,
    /// which the [`attach_user`](crate::middleware::attach_user) layer lets through as anonymous.
    pub(crate) fn cookie_is_malformed(&self, parts: &Parts) -> bool {
        matches!(
            self.inner.sources.read(&parts.headers),
            Credentials::Malformed(_, TokenSource::Cookie)
        )
    }

    /// The one string of a token that anything keyed by the token (the cache) uses: an
    /// ES256/ES384 signature in its low-S form (its high-S twin `(r, n − s)` verifies too, so
    /// a token holder could otherwise make a second string for it; see `keys::ecdsa`). Any
    /// other token is returned as is. Only managers with an ECDSA key read the header for it.
    pub(crate) fn canonical_token<'t>(&self, token: &'t str) -> Cow<'t, str> {
        if !self.inner.keys.load().has_ecdsa() {
            return Cow::Borrowed(token);
        }
        let Some((message, signature)) = token.rsplit_once('.') else {
            return Cow::Borrowed(token);
        };
        // The header's `alg` as jsonwebtoken reads it: by the lean reader when it answers
        // (it then agrees with jsonwebtoken), else by jsonwebtoken.
        let mut buf = [0; _];
        let lean = message
            .rsplit_once('.')
            .and_then(|(header, _)| crate::jws::lean_header(header, &mut buf));
        let alg = match lean {
            Some(header) => header.alg,
            None => match jsonwebtoken::decode_header(token) {
                Ok(header) => header.alg,
                Err(_) => return Cow::Borrowed(token),
            },
        };
        match crate::keys::low_s(alg, signature) {
            Some(low) => Cow::Owned(format!("{message}.{low}")),
            None => Cow::Borrowed(token),
        }
    }

    /// [`verify_token`](Self::verify_token) without copying the claims out of the token
    /// cache.
    ///
    /// A token that passed every check is remembered (see
    /// [`LoginManagerBuilder::token_cache`](super::LoginManagerBuilder::token_cache)); seen again, only the checks that depend on the
    /// time are run again, with the manager's clock, so it expires at the same second.
    pub(crate) fn verify_token_shared(&self, token: &str) -> Result<Arc<Claims>, VerifyError> {
        let inner = &*self.inner;
        #[cfg(feature = "oidc")]
        if self.provider_keys_stale() {
            return Err(VerifyError::KeysStale);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::TooLarge {
                max: MAX_TOKEN_BYTES,
            });
        }
        let Some(cache) = &inner.cache else {
            let claims = self.decode_access_token(&self.canonical_token(token))?;
            self.check_claims(&claims)?;
            return Ok(Arc::new(claims));
        };
        let hit = |token: &str, claims: Arc<Claims>| match self.check_claims(&claims) {
            Ok(()) => Ok(claims),
            Err(error) => {
                cache.remove(token);
                Err(error)
            }
        };
        // Only canonical strings are inserted, so a string found as given is its own
        // canonical form: the canonical form (an ECDSA signature's low-S twin, which reads the
        // header and decodes the signature) is computed only for a string not found.
        if let Some(claims) = cache.get(token) {
            return hit(token, claims);
        }
        let canonical = self.canonical_token(token);
        if let Cow::Owned(canonical) = &canonical
            && let Some(claims) = cache.get(canonical)
        {
            return hit(canonical, claims);
        }
        let token = &*canonical;
        // Read before the key ring is loaded: a ring change after this point makes the entry
        // stale (never served), not wrong.
        let epoch = cache.epoch();
        let claims = self.decode_access_token(token)?;
        self.check_claims(&claims)?;
        let claims = Arc::new(claims);
        cache.insert(token, epoch, Arc::clone(&claims));
        Ok(claims)
    }

    /// [`decode_verified`](Self::decode_verified), refusing the token of an unfinished
    /// two-step login (`mfa_pending`): whatever its signature, it is never an access token.
    fn decode_access_token(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.decode_verified(token)?;
        if claims.extra.contains_key(super::issue::MFA_PENDING) {
            return Err(VerifyError::NotAnAccessToken);
        }
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
    /// the signature is checked with the key's algorithm. The lean header reader and the
    /// prebuilt HMAC state give jsonwebtoken's answers or none (then jsonwebtoken is asked):
    /// the `differential` tests compare this path with one that asks jsonwebtoken for every
    /// step.
    pub(super) fn decode_verified(&self, token: &str) -> Result<Claims, VerifyError> {
        let ring = self.inner.keys.load();
        // Split from the right, as jsonwebtoken does; with extra dots the header part holds a
        // dot and fails to decode.
        let malformed = || VerifyError::Malformed("not a compact JWS".into());
        let (message, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
        let (header, payload) = message.rsplit_once('.').ok_or_else(malformed)?;
        // The lean reader answers for the usual headers (and only when it is sure of
        // jsonwebtoken's answer); any other header is read by jsonwebtoken.
        let mut buf = [0; _];
        let (verifier, alg) = match crate::jws::lean_header(header, &mut buf) {
            Some(header) => (ring.verifier_for(header.kid)?, header.alg),
            None => {
                let header = jsonwebtoken::decode_header(token).map_err(map_jwt_error)?;
                let verifier = ring.verifier_for(header.kid.as_deref())?;
                check_critical(&header)?;
                (verifier, header.alg)
            }
        };
        let algorithm = verifier.algorithm();
        if alg != algorithm {
            return Err(VerifyError::WrongAlgorithm);
        }
        // An HMAC key's state is built once (`keys::mac`); otherwise, or when that is not
        // certain of jsonwebtoken's answer, jsonwebtoken's backend verifies.
        let valid = match verifier
            .mac
            .as_ref()
            .and_then(|mac| mac.verify(message.as_bytes(), signature))
        {
            Some(valid) => valid,
            None => jsonwebtoken::crypto::verify(
                signature,
                message.as_bytes(),
                &verifier.decoding,
                algorithm,
            )
            .map_err(map_jwt_error)?,
        };
        if !valid {
            return Err(VerifyError::BadSignature);
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| VerifyError::Malformed(format!("payload: {e}")))?;
        #[allow(unused_mut)]
        let mut claims = serde_json::from_slice::<Claims>(&payload)
            .map_err(|e| VerifyError::InvalidClaims(e.to_string()))?;
        #[cfg(feature = "oidc")]
        if let Some(remote) = &self.inner.remote {
            // The header's `typ`, read only when it is required.
            let typ = match remote.settings.require_typ {
                true => {
                    jsonwebtoken::decode_header(token)
                        .map_err(map_jwt_error)?
                        .typ
                }
                false => None,
            };
            crate::oidc::map_claims(&remote.settings, typ.as_deref(), &mut claims)
                .map_err(VerifyError::InvalidClaims)?;
        }
        Ok(claims)
    }

    /// The rules that depend on the time or the configuration: run on every request, cached
    /// token or not.
    pub(super) fn check_claims(&self, claims: &Claims) -> Result<(), VerifyError> {
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
            Some(aud) if !claims.aud.iter().any(|a| a == aud) => {
                return Err(VerifyError::WrongAudience);
            }
            None if !claims.aud.is_empty() => return Err(VerifyError::WrongAudience),
            _ => {}
        }
        self.check_sessions(claims, now)
    }

    /// The checks of sessions on a verified token (run on every request, cached token or
    /// not): an `iat`, a lifetime (`exp - iat`) within the longest one, and the revocations
    /// in force.
    ///
    /// Together they make every revocation cover each token it refuses for as long as that
    /// token can be valid: a token issued before a revocation made at `t` expires by
    /// `t + max_access_lifetime` and is accepted until then plus the leeway, which is when
    /// the revocation is dropped. So the lifetime bound is `max_access_lifetime` itself (the
    /// leeway already extends `exp`), and a token without `iat`, whose issue time nothing
    /// bounds, is refused.
    pub(super) fn check_sessions(&self, claims: &Claims, now: i64) -> Result<(), VerifyError> {
        let Some(sessions) = self.session_state() else {
            return Ok(());
        };
        let Some(iat) = claims.iat else {
            return Err(VerifyError::MissingIssuedAt);
        };
        let longest = super::sessions::secs(sessions.settings.max_access_lifetime);
        if claims.exp.saturating_sub(iat) > longest {
            return Err(VerifyError::LifetimeTooLong);
        }
        sessions.view.check(claims, now).map_err(|why| match why {
            crate::session::view::Refused::Stale => VerifyError::RevocationsStale,
            why => {
                tracing::debug!(?why, "login: revoked token");
                VerifyError::Revoked
            }
        })
    }
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

/// The differential tests against jsonwebtoken over generated tokens.
#[cfg(test)]
mod differential;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};

    use jsonwebtoken::{Algorithm, EncodingKey};
    use serde_json::json;

    use super::*;
    use crate::keys::{SigningKey, VerifyingKey};

    const SECRET: &str = "a-32-byte-or-longer-secret-for-tests!";
    const OTHER: &str = "another-32-byte-or-longer-secret!!";
    const NOW: i64 = 1_800_000_000;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A token with exactly this header and payload, HS256-signed with `secret`.
    fn forge(header: serde_json::Value, payload: serde_json::Value, secret: &str) -> String {
        let message = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &key, Algorithm::HS256).unwrap();
        format!("{message}.{signature}")
    }

    fn manager(clock: &'static AtomicI64) -> LoginManager {
        LoginManager::builder("/login")
            .secret(SECRET)
            .token_cache_bytes(0)
            .clock(move || clock.load(Ordering::SeqCst))
            .build()
            .unwrap()
    }

    fn claims(exp: i64) -> serde_json::Value {
        json!({ "sub": "alice", "exp": exp })
    }

    #[test]
    fn exp_equal_to_now_is_expired() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let m = manager(&CLOCK);
        let header = json!({ "alg": "HS256", "typ": "JWT" });
        let token = forge(header.clone(), claims(NOW + 1), SECRET);
        assert_eq!(m.verify_token(&token).unwrap().sub, "alice");
        CLOCK.store(NOW + 1, Ordering::SeqCst);
        assert_eq!(m.verify_token(&token), Err(VerifyError::Expired));
        // A fractional `exp` is truncated, as PyJWT does: `exp: now + 0.5` is expired.
        let fraction = forge(
            header,
            json!({ "sub": "alice", "exp": NOW as f64 + 1.5 }),
            SECRET,
        );
        assert_eq!(m.verify_token(&fraction), Err(VerifyError::Expired));
        CLOCK.store(NOW, Ordering::SeqCst);
        assert_eq!(m.verify_token(&fraction).unwrap().sub, "alice");
    }

    #[test]
    fn critical_extensions() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let m = manager(&CLOCK);
        let ok =
            |header: serde_json::Value| m.verify_token(&forge(header, claims(NOW + 60), SECRET));
        assert!(ok(json!({ "alg": "HS256", "b64": true })).is_ok());
        assert!(ok(json!({ "alg": "HS256", "b64": true, "crit": ["b64"] })).is_ok());
        for refused in [
            json!({ "alg": "HS256", "b64": false }),
            json!({ "alg": "HS256", "b64": false, "crit": ["b64"] }),
            json!({ "alg": "HS256", "b64": "yes" }),
            json!({ "alg": "HS256", "crit": ["b64"] }),
            json!({ "alg": "HS256", "crit": ["exp"] }),
            json!({ "alg": "HS256", "b64": true, "crit": ["b64", "exp"] }),
        ] {
            assert!(
                matches!(ok(refused.clone()), Err(VerifyError::Malformed(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn too_large_before_anything_else() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let m = manager(&CLOCK);
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert_eq!(
            m.verify_token(&huge),
            Err(VerifyError::TooLarge {
                max: MAX_TOKEN_BYTES
            })
        );
        assert!(matches!(
            m.verify_token(&"a".repeat(MAX_TOKEN_BYTES)),
            Err(VerifyError::Malformed(_))
        ));
    }

    #[test]
    fn algorithm_is_the_keys_never_the_tokens() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let m = manager(&CLOCK);
        let token = forge(json!({ "alg": "HS512" }), claims(NOW + 60), SECRET);
        assert_eq!(m.verify_token(&token), Err(VerifyError::WrongAlgorithm));
        let token = forge(json!({ "alg": "none" }), claims(NOW + 60), SECRET);
        assert!(m.verify_token(&token).is_err());
    }

    #[test]
    fn verifier_choice_without_kids() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let m = manager(&CLOCK);
        // A single unnamed key ignores whatever `kid` the token names.
        for header in [
            json!({ "alg": "HS256" }),
            json!({ "alg": "HS256", "kid": "anything" }),
        ] {
            let token = forge(header, claims(NOW + 60), SECRET);
            assert_eq!(m.verify_token(&token).unwrap().sub, "alice");
        }
        let token = forge(json!({ "alg": "HS256" }), claims(NOW + 60), OTHER);
        assert_eq!(m.verify_token(&token), Err(VerifyError::BadSignature));
    }

    #[test]
    fn verifier_choice_with_kids() {
        static CLOCK: AtomicI64 = AtomicI64::new(NOW);
        let signer = SigningKey::hmac(Algorithm::HS256, SECRET)
            .unwrap()
            .with_kid("new");
        let old: VerifyingKey = SigningKey::hmac(Algorithm::HS256, OTHER)
            .unwrap()
            .with_kid("old")
            .verifying_key()
            .clone();
        let m = LoginManager::builder("/login")
            .signing_key(signer)
            .verification_key(old)
            .token_cache_bytes(0)
            .clock(|| CLOCK.load(Ordering::SeqCst))
            .build()
            .unwrap();
        let verify = |kid: Option<&str>, secret: &str| {
            let mut header = json!({ "alg": "HS256" });
            if let Some(kid) = kid {
                header["kid"] = json!(kid);
            }
            m.verify_token(&forge(header, claims(NOW + 60), secret))
                .map(|c| c.sub)
        };
        // Each `kid` selects its own key, and only that key.
        assert_eq!(verify(Some("new"), SECRET).as_deref(), Ok("alice"));
        assert_eq!(verify(Some("old"), OTHER).as_deref(), Ok("alice"));
        assert_eq!(verify(Some("old"), SECRET), Err(VerifyError::BadSignature));
        assert_eq!(verify(Some("new"), OTHER), Err(VerifyError::BadSignature));
        // An unknown `kid` is refused, however the token is signed.
        assert_eq!(verify(Some("nope"), SECRET), Err(VerifyError::UnknownKid));
        // Without a `kid`, the signing key (the default) verifies, not the others.
        assert_eq!(verify(None, SECRET).as_deref(), Ok("alice"));
        assert_eq!(verify(None, OTHER), Err(VerifyError::BadSignature));
    }
}
