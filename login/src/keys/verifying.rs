//! Verifying keys: public keys (or a shared HMAC secret) from PEM, JWK or JWKS.

use std::fmt;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use pkcs8::der::Decode;

use super::*;

/// A key that only verifies tokens: a public key (or an HMAC secret shared with the issuer).
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kind: KeyKind,
    pub(crate) decoding: DecodingKey,
    /// An HMAC secret's keyed state, built once (see `keys::mac`); `None` for other keys.
    pub(crate) mac: Option<MacKey>,
    pub(crate) jwk: Option<Jwk>,
    pub(crate) kid: Option<String>,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("algorithm", &self.algorithm)
            .field("kind", &self.kind)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// A public key from PEM (`PUBLIC KEY` SubjectPublicKeyInfo, or `RSA PUBLIC KEY`). A
    /// private key is accepted too; only its public half is kept.
    pub fn from_pem(algorithm: Algorithm, pem_text: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let input = pem_text.as_ref();
        let parsed = pem::parse(input)
            .map_err(|e| ConfigError::UnsupportedKeyFormat(format!("not a PEM document ({e})")))?;
        // The key jsonwebtoken takes: PKCS#1 for RSA, the encoded point for EC, the 32 bytes
        // for Ed25519 (an SPKI's `subjectPublicKey`).
        let (kind, key) = match parsed.tag() {
            "RSA PUBLIC KEY" => (KeyKind::Rsa, parsed.contents()),
            "PUBLIC KEY" => {
                let spki =
                    pkcs8::SubjectPublicKeyInfoRef::from_der(parsed.contents()).map_err(|e| {
                        ConfigError::UnsupportedKeyFormat(format!("bad public key ({e})"))
                    })?;
                let kind = match spki.algorithm.oid.to_string().as_str() {
                    OID_RSA | OID_RSA_PSS => KeyKind::Rsa,
                    OID_EC => KeyKind::Ec,
                    OID_ED25519 => KeyKind::Ed25519,
                    other => {
                        return Err(ConfigError::UnsupportedKeyFormat(format!(
                            "public key algorithm {other}"
                        )));
                    }
                };
                let key = spki.subject_public_key.as_bytes().ok_or_else(|| {
                    ConfigError::UnsupportedKeyFormat("bad public key (unused bits)".into())
                })?;
                (kind, key)
            }
            _ => return SigningKey::from_pem(algorithm, input).map(|k| k.verifying),
        };
        check_fit(kind, algorithm)?;
        let decoding = match kind {
            KeyKind::Rsa => DecodingKey::from_rsa_der(key),
            KeyKind::Ec => DecodingKey::from_ec_der(key),
            _ => DecodingKey::from_ed_der(key),
        };
        let mut jwk = Jwk::from_decoding_key(&decoding, Some(algorithm)).map_err(key_error)?;
        let mut key = Self::from_public_jwk(algorithm, kind, &mut jwk)?;
        key.decoding = decoding;
        Ok(key)
    }

    /// A public key from a JWK. The JWK must name its algorithm (`alg`) or be given one with
    /// [`from_jwk_with_algorithm`](Self::from_jwk_with_algorithm); its `kid` is kept.
    /// Symmetric (`oct`) JWKs are refused: a shared secret is configured with
    /// [`SigningKey::hmac`], never taken from a key document.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, ConfigError> {
        let algorithm = match jwk.common.key_algorithm {
            Some(alg) => alg_from_key_algorithm(alg)?,
            None => return Err(ConfigError::InvalidJwk("the JWK has no `alg`".into())),
        };
        Self::from_jwk_with_algorithm(jwk, algorithm)
    }

    /// A public key from a JWK, bound to `algorithm` (which must agree with the JWK's `alg`
    /// when it has one).
    pub fn from_jwk_with_algorithm(jwk: &Jwk, algorithm: Algorithm) -> Result<Self, ConfigError> {
        if let Some(alg) = jwk.common.key_algorithm
            && alg_from_key_algorithm(alg)? != algorithm
        {
            return Err(ConfigError::InvalidJwk(format!(
                "the JWK's `alg` is not {algorithm:?}"
            )));
        }
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return Err(ConfigError::InvalidJwk(
                "the JWK is for encryption (`use: enc`)".into(),
            ));
        }
        let kind = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => KeyKind::Rsa,
            AlgorithmParameters::EllipticCurve(_) => KeyKind::Ec,
            AlgorithmParameters::OctetKeyPair(_) => KeyKind::Ed25519,
            AlgorithmParameters::OctetKey(_) => {
                return Err(ConfigError::InvalidJwk(
                    "symmetric (`oct`) JWKs are not accepted".into(),
                ));
            }
            _ => return Err(ConfigError::InvalidJwk("unsupported key type".into())),
        };
        check_fit(kind, algorithm)?;
        let mut jwk = jwk.clone();
        let kid = jwk.common.key_id.clone();
        let mut key = Self::from_public_jwk(algorithm, kind, &mut jwk)?;
        key.kid = kid;
        Ok(key)
    }

    /// Every signing key of a JWKS document (`{"keys": [...]}`), given as JSON. Keys for
    /// encryption (`use: enc`) are skipped; any other unusable key is an error.
    pub fn from_jwks(json: &str) -> Result<Vec<Self>, ConfigError> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|e| ConfigError::InvalidJwk(e.to_string()))?;
        let mut keys = Vec::with_capacity(set.keys.len());
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            keys.push(Self::from_jwk(jwk)?);
        }
        if keys.is_empty() {
            return Err(ConfigError::InvalidJwk(
                "the JWKS holds no signing key".into(),
            ));
        }
        Ok(keys)
    }

    pub(super) fn from_public_jwk(
        algorithm: Algorithm,
        kind: KeyKind,
        jwk: &mut Jwk,
    ) -> Result<Self, ConfigError> {
        match (&jwk.algorithm, kind) {
            (AlgorithmParameters::RSA(rsa), KeyKind::Rsa) => {
                let bits = modulus_bits(&rsa.n)?;
                if bits < MIN_RSA_BITS {
                    return Err(ConfigError::RsaKeyTooSmall(bits));
                }
            }
            (AlgorithmParameters::EllipticCurve(ec), KeyKind::Ec) => {
                let expected = if algorithm == Algorithm::ES256 {
                    EllipticCurve::P256
                } else {
                    EllipticCurve::P384
                };
                if ec.curve != expected {
                    return Err(ConfigError::KeyAlgorithmMismatch {
                        algorithm,
                        key: "an EC key on another curve",
                    });
                }
            }
            (AlgorithmParameters::OctetKeyPair(okp), KeyKind::Ed25519) => {
                if okp.curve != EllipticCurve::Ed25519 {
                    return Err(ConfigError::KeyAlgorithmMismatch {
                        algorithm,
                        key: "an OKP key that is not Ed25519",
                    });
                }
            }
            _ => {
                return Err(ConfigError::KeyAlgorithmMismatch {
                    algorithm,
                    key: kind.name(),
                });
            }
        }
        jwk.common.key_algorithm = Some(algorithm.into());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(jwk).map_err(key_error)?;
        Ok(VerifyingKey {
            algorithm,
            kind,
            decoding,
            mac: None,
            jwk: Some(jwk.clone()),
            kid: None,
        })
    }

    /// Names the key (`kid`); tokens whose header names this `kid` are verified with it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key's family.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The key's `kid`, if named.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The public key as a JWK (with `kid`, `alg` and `use: sig`); `None` for HMAC keys.
    pub fn to_jwk(&self) -> Option<Jwk> {
        let mut jwk = self.jwk.clone()?;
        jwk.common.key_id = self.kid.clone();
        Some(jwk)
    }
}

/// The exact size in bits of an RSA modulus given as base64url (leading zero bits excluded).
fn modulus_bits(n: &str) -> Result<usize, ConfigError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(n.trim_end_matches('='))
        .map_err(|e| ConfigError::InvalidJwk(format!("RSA modulus: {e}")))?;
    let bytes = &bytes[bytes.iter().take_while(|&&b| b == 0).count()..];
    Ok(bytes
        .first()
        .map_or(0, |first| bytes.len() * 8 - first.leading_zeros() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn modulus_size_is_exact() {
        let mut n = vec![0xFFu8; 256];
        assert_eq!(modulus_bits(&b64(&n)).unwrap(), 2048);
        n[0] = 0x7F; // a 2047-bit modulus must not pass as 2048
        assert_eq!(modulus_bits(&b64(&n)).unwrap(), 2047);
        n.insert(0, 0); // a leading zero byte does not count
        assert_eq!(modulus_bits(&b64(&n)).unwrap(), 2047);
        assert!(modulus_bits("not base64!").is_err());
    }
}
