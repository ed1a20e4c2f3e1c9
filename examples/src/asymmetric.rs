//! The `asymmetric` app: the `simple` app's routes and behaviour, signing with a private key
//! (RS256 by default, any asymmetric algorithm) and publishing its public key as a JWKS
//! document at `GET /.well-known/jwks.json`, so other services can verify its tokens.

use std::path::PathBuf;

use axum::routing::get;
use axum::{Json, Router};
use login::{Algorithm, ConfigError, LoginManager, keys::SigningKey};
use pkcs8::EncodePrivateKey;

use crate::simple::{self, Db};

/// Where the signing key comes from. Its `Debug` leaves the key's password out.
#[derive(Clone)]
pub struct KeyConfig {
    /// A PEM file (`LOGIN_PRIVATE_KEY`); `None` generates a key.
    pub path: Option<PathBuf>,
    /// The password of an encrypted PEM (`LOGIN_KEY_PASSWORD`).
    pub password: Option<String>,
    /// The algorithm (`LOGIN_ALGORITHM`, default RS256).
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyConfig")
            .field("path", &self.path)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl KeyConfig {
    /// Reads `LOGIN_PRIVATE_KEY`, `LOGIN_KEY_PASSWORD` and `LOGIN_ALGORITHM`.
    pub fn from_env() -> Result<Self, String> {
        let algorithm = match std::env::var("LOGIN_ALGORITHM") {
            Ok(name) => name
                .parse::<Algorithm>()
                .map_err(|_| format!("LOGIN_ALGORITHM: unknown algorithm {name:?}"))?,
            Err(_) => Algorithm::RS256,
        };
        Ok(KeyConfig {
            path: std::env::var_os("LOGIN_PRIVATE_KEY").map(PathBuf::from),
            password: std::env::var("LOGIN_KEY_PASSWORD").ok(),
            algorithm,
        })
    }
}

/// Why the signing key could not be made.
#[derive(Debug)]
pub enum KeyError {
    /// The key file could not be read.
    Read(PathBuf, std::io::Error),
    /// The key was refused.
    Config(ConfigError),
    /// No key can be generated for this algorithm (HMAC needs a shared secret: use `simple`).
    CannotGenerate(Algorithm),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            KeyError::Config(e) => write!(f, "{e}"),
            KeyError::CannotGenerate(alg) => write!(
                f,
                "cannot generate a key for {alg:?}; use an asymmetric algorithm"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// Loads the configured key, or generates one. Returns the key and whether it was generated.
pub fn signing_key(config: &KeyConfig) -> Result<(SigningKey, bool), KeyError> {
    let (key, generated) = match &config.path {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| KeyError::Read(path.clone(), e))?;
            let key = match &config.password {
                Some(password) => {
                    SigningKey::from_pem_with_password(config.algorithm, pem, password)
                }
                None => SigningKey::from_pem(config.algorithm, pem),
            };
            (key.map_err(KeyError::Config)?, false)
        }
        None => (generate(config.algorithm)?, true),
    };
    // The kid is derived from the public key, so that restarts with the same key keep it.
    let kid = kid_of(&key);
    Ok((key.with_kid(kid), generated))
}

/// A fresh private key for `algorithm`.
pub fn generate(algorithm: Algorithm) -> Result<SigningKey, KeyError> {
    use Algorithm::*;
    let der = match algorithm {
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => {
            let key = <rsa::PrivateKey as rsa::Generate>::generate();
            key.to_pkcs8_der().map(|d| d.as_bytes().to_vec())
        }
        ES256 => loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                break key.to_pkcs8_der().map(|d| d.as_bytes().to_vec());
            }
        },
        ES384 => loop {
            let bytes: [u8; 48] = rand::random::<[[u8; 24]; 2]>()
                .concat()
                .try_into()
                .expect("48 bytes");
            if let Ok(key) = p384::SecretKey::from_slice(&bytes) {
                break key.to_pkcs8_der().map(|d| d.as_bytes().to_vec());
            }
        },
        EdDSA => ed25519_dalek::SigningKey::from_bytes(&rand::random())
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec()),
        other => return Err(KeyError::CannotGenerate(other)),
    }
    .expect("a freshly generated key encodes as PKCS#8");
    SigningKey::from_der(algorithm, &der).map_err(KeyError::Config)
}

fn kid_of(key: &SigningKey) -> String {
    let jwk = key
        .verifying_key()
        .to_jwk()
        .expect("asymmetric keys have a JWK");
    jwk.thumbprint(login::keys::jwk::ThumbprintHash::SHA256)
        .expect("a public JWK has a thumbprint")
}

/// The manager: the simple example's settings with this signing key.
pub fn manager(key: SigningKey) -> Result<LoginManager, ConfigError> {
    simple::settings(LoginManager::builder("/login").signing_key(key)).build()
}

/// The simple app's routes plus `GET /.well-known/jwks.json`.
pub fn app(manager: LoginManager, db: Db) -> Router {
    let jwks_manager = manager.clone();
    simple::app(manager, db).route(
        "/.well-known/jwks.json",
        get(move || {
            let jwks = jwks_manager.jwks();
            async move { Json(jwks) }
        }),
    )
}
