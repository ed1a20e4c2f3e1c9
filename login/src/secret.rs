//! A secret that is zeroized on drop and never printed.

use std::fmt;

use zeroize::Zeroizing;

/// An HMAC secret. Its bytes are zeroized when dropped and `Debug` prints `Secret(***)`.
///
/// A `&str` or `String` secret is used as its UTF-8 bytes, exactly as fastapi-login does, so a
/// token minted there with the same secret verifies here and the other way round.
#[derive(Clone)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Wraps raw secret bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(Zeroizing::new(bytes.into()))
    }

    pub(crate) fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s.as_bytes())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s.into_bytes())
    }
}

impl From<&[u8]> for Secret {
    fn from(b: &[u8]) -> Self {
        Secret::new(b)
    }
}

impl From<Vec<u8>> for Secret {
    fn from(b: Vec<u8>) -> Self {
        Secret::new(b)
    }
}

impl<const N: usize> From<&[u8; N]> for Secret {
    fn from(b: &[u8; N]) -> Self {
        Secret::new(&b[..])
    }
}

/// Whether the bytes look like a PEM, SSH or JWK key rather than a random secret.
pub(crate) fn looks_like_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let t = text.trim_start();
    t.starts_with("-----BEGIN")
        || t.contains("-----BEGIN ")
        || ["ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-", "ssh-dss "]
            .iter()
            .any(|p| t.starts_with(p))
        || (t.starts_with('{') && t.contains("\"kty\""))
}

/// `N` bytes from the operating system's random number generator (salts, token ids, refresh
/// tokens). Panics if the generator fails: nothing secure can be made without it.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}
