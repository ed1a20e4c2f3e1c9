//! Typed keys: each key is bound to exactly one algorithm, checked when it is made.
//!
//! | key | algorithms | made from |
//! |---|---|---|
//! | HMAC secret | HS256, HS384, HS512 | [`SigningKey::hmac`] |
//! | RSA (≥ 2048 bits) | RS256/384/512, PS256/384/512 | PEM (PKCS#1, PKCS#8, encrypted PKCS#8), DER |
//! | EC | ES256 (P-256), ES384 (P-384) | PEM (PKCS#8, SEC1, encrypted PKCS#8), DER |
//! | Ed25519 | EdDSA | PEM (PKCS#8, encrypted PKCS#8), DER |
//!
//! A signing key derives its public key, so a signing service configures one key. A
//! [`VerifyingKey`] is for services that only check tokens minted elsewhere: from a public key
//! PEM, a JWK, or a JWKS document (parsed from JSON you give it; nothing is fetched).

mod ecdsa;
mod mac;
mod signing;
mod verifying;

#[cfg(test)]
pub(crate) use ecdsa::flip_s;
pub(crate) use ecdsa::low_s;
pub(crate) use mac::MacKey;

pub use signing::SigningKey;
pub use verifying::VerifyingKey;

pub use crate::secret::Secret;
/// JWK types (re-exported from `jsonwebtoken`), for [`LoginManager::jwks`](crate::LoginManager::jwks)
/// and [`VerifyingKey::from_jwks`].
pub use jsonwebtoken::jwk;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm};

use crate::error::ConfigError;

pub(crate) const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub(crate) const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
pub(crate) const OID_EC: &str = "1.2.840.10045.2.1";
pub(crate) const OID_ED25519: &str = "1.3.101.112";
pub(crate) const OID_P256: &str = "1.2.840.10045.3.1.7";
pub(crate) const OID_P384: &str = "1.3.132.0.34";
/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub(crate) const MIN_RSA_BITS: usize = 2048;

/// The family of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A shared HMAC secret.
    Hmac,
    /// An RSA key.
    Rsa,
    /// An elliptic-curve (ECDSA) key.
    Ec,
    /// An Ed25519 key.
    Ed25519,
}

impl KeyKind {
    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (KeyKind::Hmac, HS256 | HS384 | HS512)
                | (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::Ec, ES256 | ES384)
                | (KeyKind::Ed25519, EdDSA)
        )
    }

    fn name(self) -> &'static str {
        match self {
            KeyKind::Hmac => "an HMAC secret",
            KeyKind::Rsa => "an RSA key",
            KeyKind::Ec => "an EC key",
            KeyKind::Ed25519 => "an Ed25519 key",
        }
    }
}

fn check_fit(kind: KeyKind, alg: Algorithm) -> Result<(), ConfigError> {
    if kind.fits(alg) {
        Ok(())
    } else {
        Err(ConfigError::KeyAlgorithmMismatch {
            algorithm: alg,
            key: kind.name(),
        })
    }
}

/// The minimum HMAC secret length for an algorithm (RFC 7518 §3.2: the hash output size).
pub(crate) fn hmac_minimum(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn key_error(e: jsonwebtoken::errors::Error) -> ConfigError {
    ConfigError::Key(e.to_string())
}

fn algorithm_kind(alg: Algorithm) -> Option<KeyKind> {
    [KeyKind::Hmac, KeyKind::Rsa, KeyKind::Ec, KeyKind::Ed25519]
        .into_iter()
        .find(|k| k.fits(alg))
}

fn alg_from_key_algorithm(alg: KeyAlgorithm) -> Result<Algorithm, ConfigError> {
    Algorithm::try_from(alg)
        .map_err(|_| ConfigError::InvalidJwk(format!("unsupported JWK `alg` {alg:?}")))
}

/// Renders public keys as a JWKS document.
pub(crate) fn jwks<'a>(keys: impl Iterator<Item = &'a VerifyingKey>) -> JwkSet {
    JwkSet {
        keys: keys.filter_map(VerifyingKey::to_jwk).collect(),
    }
}
