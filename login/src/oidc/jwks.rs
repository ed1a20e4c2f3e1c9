//! A provider's JWKS document read into verification keys: each key bound to the one
//! algorithm its `alg` names or, without `alg`, its `kty` and curve imply (RSA: RS256, the
//! algorithm every provider signs with by default; EC: ES256 on P-256, ES384 on P-384; OKP:
//! EdDSA on Ed25519). Symmetric keys, encryption keys and keys of unknown types are skipped.

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};

use super::ProviderError;
use crate::keys::VerifyingKey;

/// The most keys a provider's set may hold (providers publish a handful).
pub(crate) const MAX_KEYS: usize = 64;

/// The signing keys of a JWKS document. Unusable keys are skipped (and logged); a set with
/// no usable key, more than [`MAX_KEYS`] keys, several keys without a `kid`, or two keys
/// with the same `kid` is an error.
pub(crate) fn keys_from_jwks(url: &str, body: &[u8]) -> Result<Vec<VerifyingKey>, ProviderError> {
    let invalid = |reason: String| ProviderError::InvalidDocument {
        url: url.to_owned(),
        reason,
    };
    let set: JwkSet = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    if set.keys.len() > MAX_KEYS {
        return Err(invalid(format!(
            "{} keys, more than the {MAX_KEYS} accepted",
            set.keys.len()
        )));
    }
    let mut keys: Vec<VerifyingKey> = Vec::with_capacity(set.keys.len());
    for jwk in &set.keys {
        match key_from_jwk(jwk) {
            Ok(key) => keys.push(key),
            Err(why) => {
                tracing::debug!(kid = ?jwk.common.key_id, why, "login: provider key skipped");
            }
        }
    }
    if keys.is_empty() {
        return Err(invalid("no usable signing key".into()));
    }
    let unnamed = keys.iter().filter(|k| k.kid().is_none()).count();
    if unnamed > 0 && keys.len() > 1 {
        return Err(invalid("several keys, not all with a `kid`".into()));
    }
    for (i, key) in keys.iter().enumerate() {
        if let Some(kid) = key.kid()
            && keys[..i].iter().any(|k| k.kid() == Some(kid))
        {
            return Err(invalid(format!("two keys named `kid` {kid:?}")));
        }
    }
    Ok(keys)
}

/// One JWK as a verification key, or why it is skipped.
fn key_from_jwk(jwk: &Jwk) -> Result<VerifyingKey, String> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Err("an encryption key (`use: enc`)".into());
    }
    let algorithm = match jwk.common.key_algorithm {
        Some(alg) => Algorithm::try_from(alg).map_err(|_| format!("unsupported `alg` {alg:?}"))?,
        None => match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Algorithm::RS256,
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Algorithm::ES256,
                EllipticCurve::P384 => Algorithm::ES384,
                _ => return Err("an EC key on an unsupported curve".into()),
            },
            AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
                Algorithm::EdDSA
            }
            _ => return Err("no `alg`, and no algorithm its `kty` implies".into()),
        },
    };
    // `from_jwk_with_algorithm` refuses symmetric keys, an `alg` the key's type cannot do
    // (an RSA key named HS256), small RSA keys and the wrong curve.
    VerifyingKey::from_jwk_with_algorithm(jwk, algorithm).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The modulus of the suite's 2048-bit test key.
    fn n() -> String {
        let pem = include_str!("../../tests/keys/rsa2048.pub.pem");
        let key = VerifyingKey::from_pem(Algorithm::RS256, pem).unwrap();
        let jwk = serde_json::to_value(key.to_jwk().unwrap()).unwrap();
        jwk["n"].as_str().unwrap().to_owned()
    }

    fn rsa(extra: serde_json::Value) -> serde_json::Value {
        let mut key = json!({ "kty": "RSA", "n": n(), "e": "AQAB" });
        key.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key
    }

    fn read(keys: Vec<serde_json::Value>) -> Result<Vec<VerifyingKey>, ProviderError> {
        keys_from_jwks("u", json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn algorithm_from_alg_or_kty() {
        let keys = read(vec![
            rsa(json!({ "kid": "a", "alg": "PS256" })),
            rsa(json!({ "kid": "b" })),
        ])
        .unwrap();
        assert_eq!(keys[0].algorithm(), Algorithm::PS256);
        assert_eq!(keys[1].algorithm(), Algorithm::RS256);
    }

    #[test]
    fn confused_and_symmetric_keys_are_skipped() {
        // An RSA key that claims HMAC, an `oct` key, an encryption key: none verifies.
        let keys = read(vec![
            rsa(json!({ "kid": "hmac", "alg": "HS256" })),
            json!({ "kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA", "kid": "oct", "alg": "HS256" }),
            rsa(json!({ "kid": "enc", "use": "enc" })),
            rsa(json!({ "kid": "ok", "alg": "RS256" })),
        ])
        .unwrap();
        let kids: Vec<_> = keys.iter().map(|k| k.kid().unwrap()).collect();
        assert_eq!(kids, ["ok"]);
        assert!(matches!(
            read(vec![rsa(json!({ "kid": "hmac", "alg": "HS256" }))]),
            Err(ProviderError::InvalidDocument { .. })
        ));
    }

    #[test]
    fn sets_that_are_refused() {
        let many = (0..=MAX_KEYS)
            .map(|i| rsa(json!({ "kid": i.to_string() })))
            .collect();
        for refused in [
            many,
            vec![rsa(json!({})), rsa(json!({ "kid": "a" }))],
            vec![rsa(json!({ "kid": "a" })), rsa(json!({ "kid": "a" }))],
            vec![],
        ] {
            assert!(matches!(
                read(refused),
                Err(ProviderError::InvalidDocument { .. })
            ));
        }
        assert!(keys_from_jwks("u", b"<html>").is_err());
    }
}
