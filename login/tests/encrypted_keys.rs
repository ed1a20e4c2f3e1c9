//! Password-protected private keys (`ENCRYPTED PRIVATE KEY`): decrypted with the
//! `encrypted-keys` feature, refused with an error naming the feature without it.

#[cfg(feature = "encrypted-keys")]
use login::LoginManager;
use login::{Algorithm, ConfigError, keys::SigningKey};

macro_rules! key {
    ($name:literal) => {
        include_bytes!(concat!("keys/", $name)).as_slice()
    };
}

/// The password of the `*.enc.pem` test keys.
const PASSWORD: &str = "correct-horse";

#[cfg(feature = "encrypted-keys")]
fn signer(key: SigningKey) -> LoginManager {
    LoginManager::builder("/login")
        .signing_key(key)
        .build()
        .unwrap()
}

#[cfg(feature = "encrypted-keys")]
#[test]
fn encrypted_keys_load_with_their_password_and_sign_as_the_plain_key() {
    for (algorithm, plain, encrypted) in [
        (
            Algorithm::RS256,
            key!("rsa2048.pem"),
            key!("rsa2048.enc.pem"),
        ),
        (Algorithm::ES256, key!("p256.pem"), key!("p256.enc.pem")),
        (
            Algorithm::EdDSA,
            key!("ed25519.pem"),
            key!("ed25519.enc.pem"),
        ),
    ] {
        let token = signer(SigningKey::from_pem(algorithm, plain).unwrap())
            .create_access_token("alice")
            .unwrap();
        let key = SigningKey::from_pem_with_password(algorithm, encrypted, PASSWORD).unwrap();
        assert_eq!(signer(key).verify_token(&token).unwrap().sub, "alice");
    }
}

#[cfg(feature = "encrypted-keys")]
#[test]
fn a_wrong_or_missing_password_is_a_clear_error() {
    use Algorithm::*;
    let err = |r: Result<SigningKey, ConfigError>| r.unwrap_err();
    assert_eq!(
        err(SigningKey::from_pem_with_password(
            RS256,
            key!("rsa2048.enc.pem"),
            "wrong"
        )),
        ConfigError::WrongKeyPassword
    );
    assert_eq!(
        err(SigningKey::from_pem_with_password(
            EdDSA,
            key!("ed25519.enc.pem"),
            ""
        )),
        ConfigError::WrongKeyPassword
    );
    assert_eq!(
        err(SigningKey::from_pem(RS256, key!("rsa2048.enc.pem"))),
        ConfigError::KeyPasswordRequired
    );
}

/// The DER inside a PEM document.
#[cfg(not(feature = "encrypted-keys"))]
fn der_of(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[cfg(not(feature = "encrypted-keys"))]
#[test]
fn without_the_feature_an_encrypted_key_is_refused_with_an_error_naming_it() {
    for (algorithm, encrypted) in [
        (Algorithm::RS256, key!("rsa2048.enc.pem")),
        (Algorithm::ES256, key!("p256.enc.pem")),
        (Algorithm::EdDSA, key!("ed25519.enc.pem")),
    ] {
        let with_password =
            SigningKey::from_pem_with_password(algorithm, encrypted, PASSWORD).unwrap_err();
        assert_eq!(with_password, ConfigError::EncryptedKeysDisabled);
        assert!(
            with_password.to_string().contains("`encrypted-keys`"),
            "{with_password}"
        );
        assert_eq!(
            SigningKey::from_pem(algorithm, encrypted).unwrap_err(),
            ConfigError::EncryptedKeysDisabled
        );
        assert_eq!(
            SigningKey::from_der(algorithm, &der_of(encrypted)).unwrap_err(),
            ConfigError::EncryptedKeysDisabled
        );
    }
    // Unencrypted keys, PKCS#8, PKCS#1 and SEC1, still load.
    SigningKey::from_pem_with_password(Algorithm::RS256, key!("rsa2048.pem"), PASSWORD).unwrap();
    SigningKey::from_der(Algorithm::RS256, key!("rsa2048.pkcs8.der")).unwrap();
    SigningKey::from_der(Algorithm::RS256, &der_of(key!("rsa2048.pkcs1.pem"))).unwrap();
    SigningKey::from_der(Algorithm::ES256, key!("p256.sec1.der")).unwrap();
}
