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

use std::fmt;

use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use pkcs8::der::{Decode, Encode};

use crate::error::ConfigError;
use crate::secret::{Secret, looks_like_key};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;

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

/// A key that signs tokens (and verifies them, with the public key it derives).
#[derive(Clone)]
pub struct SigningKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kind: KeyKind,
    pub(crate) encoding: EncodingKey,
    pub(crate) verifying: VerifyingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("kind", &self.kind)
            .field("kid", &self.verifying.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// An HMAC key. The secret's bytes are the key (a string's UTF-8 bytes, as
    /// fastapi-login). HS256 needs at least 32 bytes, HS384 48, HS512 64 (RFC 7518 §3.2); a
    /// secret that looks like a PEM, SSH or JWK key is refused.
    pub fn hmac(algorithm: Algorithm, secret: impl Into<Secret>) -> Result<Self, ConfigError> {
        let secret = secret.into();
        if !KeyKind::Hmac.fits(algorithm) {
            return Err(ConfigError::NotHmacAlgorithm(algorithm));
        }
        let bytes = secret.expose();
        if bytes.is_empty() {
            return Err(ConfigError::EmptySecret);
        }
        if looks_like_key(bytes) {
            return Err(ConfigError::SecretLooksLikeKey);
        }
        let minimum = hmac_minimum(algorithm);
        if bytes.len() < minimum {
            return Err(ConfigError::SecretTooShort {
                algorithm,
                minimum,
                actual: bytes.len(),
            });
        }
        let encoding = EncodingKey::from_secret(bytes).map_err(key_error)?;
        let decoding = DecodingKey::from_secret(bytes).map_err(key_error)?;
        Ok(SigningKey {
            algorithm,
            kind: KeyKind::Hmac,
            encoding,
            verifying: VerifyingKey {
                algorithm,
                kind: KeyKind::Hmac,
                decoding,
                jwk: None,
                kid: None,
            },
        })
    }

    /// A private key from PEM: PKCS#1 (`RSA PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`). For `ENCRYPTED PRIVATE KEY`, use [`from_pem_with_password`](Self::from_pem_with_password).
    pub fn from_pem(algorithm: Algorithm, pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::parse_pem(algorithm, pem.as_ref(), None)
    }

    /// A password-protected private key (`ENCRYPTED PRIVATE KEY`, PKCS#8 with PBES2), as
    /// fastapi-login's `{"private_key": ..., "password": ...}`. An unencrypted key is accepted
    /// too (the password is then unused).
    pub fn from_pem_with_password(
        algorithm: Algorithm,
        pem: impl AsRef<[u8]>,
        password: impl AsRef<[u8]>,
    ) -> Result<Self, ConfigError> {
        Self::parse_pem(algorithm, pem.as_ref(), Some(password.as_ref()))
    }

    /// A private key from DER: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub fn from_der(algorithm: Algorithm, der: &[u8]) -> Result<Self, ConfigError> {
        if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
            return Self::from_pkcs8(algorithm, &info, der);
        }
        if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
            return Err(ConfigError::KeyPasswordRequired);
        }
        match algorithm_kind(algorithm) {
            Some(KeyKind::Rsa) => {
                Self::from_parts(algorithm, KeyKind::Rsa, EncodingKey::from_rsa_der(der))
            }
            Some(KeyKind::Ec) => Self::from_parts(
                algorithm,
                KeyKind::Ec,
                EncodingKey::from_ec_der(&sec1_to_pkcs8(der)?),
            ),
            _ => Err(ConfigError::UnsupportedKeyFormat(
                "DER that is neither PKCS#8, PKCS#1 nor SEC1".into(),
            )),
        }
    }

    fn parse_pem(
        algorithm: Algorithm,
        input: &[u8],
        password: Option<&[u8]>,
    ) -> Result<Self, ConfigError> {
        let parsed = pem::parse(input)
            .map_err(|e| ConfigError::UnsupportedKeyFormat(format!("not a PEM document ({e})")))?;
        match parsed.tag() {
            "RSA PRIVATE KEY" => {
                check_fit(KeyKind::Rsa, algorithm)?;
                Self::from_parts(
                    algorithm,
                    KeyKind::Rsa,
                    EncodingKey::from_rsa_der(parsed.contents()),
                )
            }
            "EC PRIVATE KEY" => {
                check_fit(KeyKind::Ec, algorithm)?;
                let der = sec1_to_pkcs8(parsed.contents())?;
                Self::from_parts(algorithm, KeyKind::Ec, EncodingKey::from_ec_der(&der))
            }
            "PRIVATE KEY" => {
                let info = pkcs8::PrivateKeyInfoRef::from_der(parsed.contents())
                    .map_err(|e| ConfigError::UnsupportedKeyFormat(format!("bad PKCS#8 ({e})")))?;
                Self::from_pkcs8(algorithm, &info, parsed.contents())
            }
            "ENCRYPTED PRIVATE KEY" => {
                let password = password.ok_or(ConfigError::KeyPasswordRequired)?;
                let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::from_der(parsed.contents())
                    .map_err(|e| {
                        ConfigError::UnsupportedKeyFormat(format!("bad encrypted PKCS#8 ({e})"))
                    })?;
                let decrypted = encrypted
                    .decrypt(password)
                    .map_err(|_| ConfigError::WrongKeyPassword)?;
                let der = decrypted.as_bytes();
                let info = pkcs8::PrivateKeyInfoRef::from_der(der)
                    .map_err(|_| ConfigError::WrongKeyPassword)?;
                Self::from_pkcs8(algorithm, &info, der)
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
                Err(ConfigError::PublicKeyForSigning)
            }
            other => Err(ConfigError::UnsupportedKeyFormat(format!(
                "PEM label `{other}`"
            ))),
        }
    }

    fn from_pkcs8(
        algorithm: Algorithm,
        info: &pkcs8::PrivateKeyInfoRef<'_>,
        der: &[u8],
    ) -> Result<Self, ConfigError> {
        let oid = info.algorithm.oid.to_string();
        match oid.as_str() {
            OID_RSA | OID_RSA_PSS => {
                check_fit(KeyKind::Rsa, algorithm)?;
                // The PKCS#8 payload of an RSA key is its PKCS#1 `RSAPrivateKey`.
                Self::from_parts(
                    algorithm,
                    KeyKind::Rsa,
                    EncodingKey::from_rsa_der(info.private_key.as_bytes()),
                )
            }
            OID_EC => {
                check_fit(KeyKind::Ec, algorithm)?;
                let curve = info
                    .algorithm
                    .parameters_oid()
                    .map(|oid| oid.to_string())
                    .unwrap_or_default();
                let expected = if algorithm == Algorithm::ES256 {
                    OID_P256
                } else {
                    OID_P384
                };
                if curve != expected {
                    return Err(if curve == OID_P256 || curve == OID_P384 {
                        ConfigError::KeyAlgorithmMismatch {
                            algorithm,
                            key: "an EC key on another curve",
                        }
                    } else {
                        ConfigError::UnsupportedKeyFormat(format!("EC curve {curve}"))
                    });
                }
                Self::from_parts(algorithm, KeyKind::Ec, EncodingKey::from_ec_der(der))
            }
            OID_ED25519 => {
                check_fit(KeyKind::Ed25519, algorithm)?;
                // PKCS#8 v2 (RFC 5958) may embed the public key; the backends read the v1
                // form, so re-encode the private key alone.
                let v1 = pkcs8::PrivateKeyInfoRef::new(info.algorithm, info.private_key)
                    .to_der()
                    .map_err(|e| {
                        ConfigError::UnsupportedKeyFormat(format!("bad Ed25519 key ({e})"))
                    })?;
                Self::from_parts(algorithm, KeyKind::Ed25519, EncodingKey::from_ed_der(&v1))
            }
            other => Err(ConfigError::UnsupportedKeyFormat(format!(
                "PKCS#8 key algorithm {other}"
            ))),
        }
    }

    /// Derives the public key, checks the key's size and curve, and proves the pair works by
    /// signing and verifying a probe message.
    fn from_parts(
        algorithm: Algorithm,
        kind: KeyKind,
        encoding: EncodingKey,
    ) -> Result<Self, ConfigError> {
        check_fit(kind, algorithm)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm).map_err(|e| {
            ConfigError::UnsupportedKeyFormat(format!("the private key could not be read ({e})"))
        })?;
        let verifying = VerifyingKey::from_public_jwk(algorithm, kind, &mut jwk)?;
        let probe = b"login: key probe";
        let signature =
            jsonwebtoken::crypto::sign(probe, &encoding, algorithm).map_err(key_error)?;
        let ok = jsonwebtoken::crypto::verify(&signature, probe, &verifying.decoding, algorithm)
            .map_err(key_error)?;
        if !ok {
            return Err(ConfigError::Key(
                "the key failed a sign-and-verify probe".into(),
            ));
        }
        Ok(SigningKey {
            algorithm,
            kind,
            encoding,
            verifying,
        })
    }

    /// Names the key (`kid`): issued tokens carry it, and verification picks the key by it.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.verifying.kid = Some(kid.into());
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
        self.verifying.kid.as_deref()
    }

    /// The public half (for asymmetric keys; an HMAC key's "public half" is the secret itself
    /// and is never published).
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying
    }
}

/// A key that only verifies tokens: a public key (or an HMAC secret shared with the issuer).
#[derive(Clone)]
pub struct VerifyingKey {
    pub(crate) algorithm: Algorithm,
    pub(crate) kind: KeyKind,
    pub(crate) decoding: DecodingKey,
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
        let kind = match parsed.tag() {
            "RSA PUBLIC KEY" => KeyKind::Rsa,
            "PUBLIC KEY" => {
                let spki =
                    pkcs8::SubjectPublicKeyInfoRef::from_der(parsed.contents()).map_err(|e| {
                        ConfigError::UnsupportedKeyFormat(format!("bad public key ({e})"))
                    })?;
                match spki.algorithm.oid.to_string().as_str() {
                    OID_RSA | OID_RSA_PSS => KeyKind::Rsa,
                    OID_EC => KeyKind::Ec,
                    OID_ED25519 => KeyKind::Ed25519,
                    other => {
                        return Err(ConfigError::UnsupportedKeyFormat(format!(
                            "public key algorithm {other}"
                        )));
                    }
                }
            }
            _ => return SigningKey::from_pem(algorithm, input).map(|k| k.verifying),
        };
        check_fit(kind, algorithm)?;
        let decoding = match kind {
            KeyKind::Rsa => DecodingKey::from_rsa_pem(input),
            KeyKind::Ec => DecodingKey::from_ec_pem(input),
            _ => DecodingKey::from_ed_pem(input),
        }
        .map_err(key_error)?;
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

    fn from_public_jwk(
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

/// Wraps a SEC1 `ECPrivateKey` in PKCS#8, the form the JWT backends read.
fn sec1_to_pkcs8(sec1_der: &[u8]) -> Result<Vec<u8>, ConfigError> {
    let bad = |e: String| ConfigError::UnsupportedKeyFormat(format!("bad SEC1 EC key ({e})"));
    let key = sec1::EcPrivateKey::from_der(sec1_der).map_err(|e| bad(e.to_string()))?;
    let curve = key
        .parameters
        .and_then(|p| p.named_curve())
        .ok_or_else(|| bad("no named curve".into()))?;
    let curve_name = curve.to_string();
    if curve_name != OID_P256 && curve_name != OID_P384 {
        return Err(ConfigError::UnsupportedKeyFormat(format!(
            "EC curve {curve_name}"
        )));
    }
    let ec_oid = pkcs8::ObjectIdentifier::new_unwrap(OID_EC);
    let params = pkcs8::der::AnyRef::from(&curve);
    let info = pkcs8::PrivateKeyInfoRef::new(
        pkcs8::AlgorithmIdentifierRef {
            oid: ec_oid,
            parameters: Some(params),
        },
        pkcs8::der::asn1::OctetStringRef::new(sec1_der).map_err(|e| bad(e.to_string()))?,
    );
    info.to_der().map_err(|e| bad(e.to_string()))
}

/// Renders public keys as a JWKS document.
pub(crate) fn jwks<'a>(keys: impl Iterator<Item = &'a VerifyingKey>) -> JwkSet {
    JwkSet {
        keys: keys.filter_map(VerifyingKey::to_jwk).collect(),
    }
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
