//! The manager's keys: at most one signer, and every key that verifies (the signer's public
//! half first), found by `kid`. Swapped atomically on rotation.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwap, Guard};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, Header};

use crate::error::{ConfigError, VerifyError};
use crate::keys::{SigningKey, VerifyingKey};

/// The signing key and the JWS header every token it signs carries.
pub(super) struct Signer {
    pub(super) key: SigningKey,
    pub(super) header: Header,
}

/// One consistent set of keys.
pub(super) struct KeyRing {
    signer: Option<Signer>,
    verifiers: Vec<VerifyingKey>,
    by_kid: HashMap<String, usize>,
    /// The key for tokens without a `kid`: the signer's, or the only key.
    default: Option<usize>,
}

impl KeyRing {
    /// Checks the keys (at least one; with several, every one named by a distinct `kid`).
    pub(super) fn new(
        signer: Option<SigningKey>,
        extra: Vec<VerifyingKey>,
    ) -> Result<Self, ConfigError> {
        let mut keys: Vec<VerifyingKey> = Vec::with_capacity(extra.len() + 1);
        if let Some(signer) = &signer {
            keys.push(signer.verifying_key().clone());
        }
        keys.extend(extra);
        if keys.is_empty() {
            return Err(ConfigError::MissingKey);
        }
        let mut by_kid = HashMap::new();
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

    /// Whether a key verifies ECDSA signatures (whose `s` has a twin: see `keys::ecdsa`).
    pub(super) fn has_ecdsa(&self) -> bool {
        self.verifiers
            .iter()
            .any(|k| matches!(k.algorithm(), Algorithm::ES256 | Algorithm::ES384))
    }

    /// The signer, if the manager signs.
    pub(super) fn signer(&self) -> Option<&Signer> {
        self.signer.as_ref()
    }

    /// The signing algorithm (for a verify-only ring, the first key's).
    pub(super) fn algorithm(&self) -> Algorithm {
        match &self.signer {
            Some(signer) => signer.key.algorithm(),
            None => self.verifiers[0].algorithm(),
        }
    }

    /// The signing key's `kid`.
    pub(super) fn signing_kid(&self) -> Option<&str> {
        self.signer.as_ref().and_then(|s| s.key.kid())
    }

    /// Every public key as a JWKS document (HMAC secrets are never included).
    pub(super) fn jwks(&self) -> JwkSet {
        crate::keys::jwks(self.verifiers.iter())
    }

    /// The verification keys that are not the signer's own public half.
    fn extra_keys(&self) -> impl Iterator<Item = &VerifyingKey> {
        self.verifiers
            .iter()
            .skip(usize::from(self.signer.is_some()))
    }

    fn signing_key(&self) -> Option<SigningKey> {
        self.signer.as_ref().map(|s| s.key.clone())
    }

    /// A ring signing with `key`, every current key still verifying.
    pub(super) fn rotated(&self, key: SigningKey) -> Result<Self, ConfigError> {
        KeyRing::new(Some(key), self.verifiers.clone())
    }

    /// A ring with one more verification key.
    pub(super) fn with_key(&self, key: VerifyingKey) -> Result<Self, ConfigError> {
        let mut extra: Vec<VerifyingKey> = self.extra_keys().cloned().collect();
        extra.push(key);
        KeyRing::new(self.signing_key(), extra)
    }

    /// A ring without the verification key `kid` (never the signer's).
    pub(super) fn without_key(&self, kid: &str) -> Result<Self, ConfigError> {
        let extra: Vec<VerifyingKey> = self
            .extra_keys()
            .filter(|key| key.kid() != Some(kid))
            .cloned()
            .collect();
        if extra.len() == self.extra_keys().count() {
            return Err(ConfigError::UnknownKid(kid.to_owned()));
        }
        KeyRing::new(self.signing_key(), extra)
    }

    /// Whether the ring verifies with exactly `keys` (same `kid`s, algorithms and public keys,
    /// in the same order) and signs with nothing.
    #[cfg(feature = "oidc")]
    pub(super) fn same_keys(&self, keys: &[VerifyingKey]) -> bool {
        self.signer.is_none()
            && self.verifiers.len() == keys.len()
            && self.verifiers.iter().zip(keys).all(|(a, b)| {
                a.kid() == b.kid() && a.algorithm() == b.algorithm() && a.jwk == b.jwk
            })
    }

    /// The `kid`s of the verification keys.
    #[cfg(feature = "oidc")]
    pub(super) fn kids(&self) -> impl Iterator<Item = &str> {
        self.verifiers.iter().filter_map(VerifyingKey::kid)
    }

    /// The key that must verify a token with this header: a single unnamed key ignores any
    /// `kid`; otherwise the `kid` is a map lookup, and a token without one gets the default
    /// key (the signer's, or the only one).
    pub(super) fn verifier_for(&self, kid: Option<&str>) -> Result<&VerifyingKey, VerifyError> {
        if let [only] = self.verifiers.as_slice()
            && only.kid().is_none()
        {
            return Ok(only);
        }
        let index = match kid {
            Some(kid) => self.by_kid.get(kid).copied(),
            None => self.default,
        };
        index
            .map(|i| &self.verifiers[i])
            .ok_or(VerifyError::UnknownKid)
    }
}

/// The current key ring, read lock-free by every request and replaced under a lock.
pub(super) struct Keys {
    ring: ArcSwap<KeyRing>,
    rotation: Mutex<()>,
}

impl Keys {
    pub(super) fn new(ring: KeyRing) -> Self {
        Keys {
            ring: ArcSwap::from_pointee(ring),
            rotation: Mutex::new(()),
        }
    }

    /// The current ring.
    pub(super) fn load(&self) -> Guard<Arc<KeyRing>> {
        self.ring.load()
    }

    /// Builds a new ring from the current one under the rotation lock, stores it atomically,
    /// then runs `after` (still under the lock). On error nothing changes.
    pub(super) fn update(
        &self,
        change: impl FnOnce(&KeyRing) -> Result<KeyRing, ConfigError>,
        after: impl FnOnce(),
    ) -> Result<(), ConfigError> {
        let _guard = self.rotation.lock().unwrap_or_else(|e| e.into_inner());
        let new = change(&self.ring.load())?;
        self.ring.store(Arc::new(new));
        after();
        Ok(())
    }
}
