//! Signing keys: HMAC secrets and private keys, each bound to one algorithm.

use std::fmt;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use pkcs8::der::{Decode, Encode};

use super::*;
use crate::secret::{Secret, looks_like_key};

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
                mac: MacKey::new(algorithm, bytes),
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
    /// too (the password is then unused). Decrypting needs the `encrypted-keys` feature:
    /// without it, an encrypted key is refused with [`ConfigError::EncryptedKeysDisabled`].
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
        #[cfg(feature = "encrypted-keys")]
        if pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok() {
            return Err(ConfigError::KeyPasswordRequired);
        }
        #[cfg(not(feature = "encrypted-keys"))]
        if is_encrypted_pkcs8(der) {
            return Err(ConfigError::EncryptedKeysDisabled);
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
            #[cfg(not(feature = "encrypted-keys"))]
            "ENCRYPTED PRIVATE KEY" => {
                let _ = password;
                Err(ConfigError::EncryptedKeysDisabled)
            }
            #[cfg(feature = "encrypted-keys")]
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

/// Whether `der` has the shape of an `EncryptedPrivateKeyInfo` (PKCS#8): a `SEQUENCE` of an
/// algorithm identifier and an `OCTET STRING`.
#[cfg(not(feature = "encrypted-keys"))]
fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::der::{Reader as _, SliceReader};
    let parse = || -> pkcs8::der::Result<()> {
        let mut reader = SliceReader::new(der)?;
        reader.sequence(|fields| {
            fields.decode::<pkcs8::AlgorithmIdentifierRef<'_>>()?;
            fields.decode::<&OctetStringRef>()?;
            Ok::<_, pkcs8::der::Error>(())
        })?;
        reader.finish()
    };
    parse().is_ok()
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
