//! HMAC verification with the key's state built once per key.
//!
//! jsonwebtoken's `crypto::verify` asks its `CryptoProvider` for a verifier on every call, and
//! the rust_crypto provider's HMAC verifier absorbs the secret again each time (two hash
//! blocks, and a boxed verifier). Here the keyed state (`hmac::Hmac`, the same crate and
//! version that provider uses) is built when the key is made and cloned per verification; the
//! tag is compared in constant time by `Mac::verify_slice`, as the provider does.
//!
//! It is used only while jsonwebtoken's process-wide provider is its own rust_crypto one (the
//! default with this crate's `rust_crypto` feature); with another provider (aws-lc-rs, or one
//! installed by the application) jsonwebtoken verifies.

use jsonwebtoken::Algorithm;

/// The longest signature, in base64url characters, decoded here: 66 bytes, more than any
/// HMAC tag (HS512's is 64). Longer ones go to jsonwebtoken, which refuses them.
#[cfg(feature = "rust_crypto")]
const MAX_SIGNATURE: usize = 88;

/// An HMAC key's state with the secret absorbed.
#[derive(Clone)]
pub(crate) struct MacKey(Inner);

#[cfg(feature = "rust_crypto")]
#[derive(Clone)]
enum Inner {
    Hs256(::hmac::Hmac<sha2::Sha256>),
    Hs384(::hmac::Hmac<sha2::Sha384>),
    Hs512(::hmac::Hmac<sha2::Sha512>),
}

#[cfg(not(feature = "rust_crypto"))]
#[derive(Clone)]
enum Inner {}

impl MacKey {
    /// The state of `secret` for an HMAC `algorithm`; `None` for any other algorithm, or
    /// without the `rust_crypto` feature.
    pub(crate) fn new(algorithm: Algorithm, secret: &[u8]) -> Option<Self> {
        #[cfg(feature = "rust_crypto")]
        {
            use ::hmac::KeyInit as _;
            let inner = match algorithm {
                Algorithm::HS256 => Inner::Hs256(::hmac::Hmac::new_from_slice(secret).ok()?),
                Algorithm::HS384 => Inner::Hs384(::hmac::Hmac::new_from_slice(secret).ok()?),
                Algorithm::HS512 => Inner::Hs512(::hmac::Hmac::new_from_slice(secret).ok()?),
                _ => return None,
            };
            Some(MacKey(inner))
        }
        #[cfg(not(feature = "rust_crypto"))]
        {
            let _ = (algorithm, secret);
            None
        }
    }

    /// What `jsonwebtoken::crypto::verify(signature, message, key, algorithm)` answers with
    /// this key, when that is certain: whether the base64url `signature` is the MAC of
    /// `message`. `None` (ask jsonwebtoken) when jsonwebtoken's provider is not its
    /// rust_crypto one, or the signature is not base64url of at most 66 bytes (jsonwebtoken
    /// then words the error).
    pub(crate) fn verify(&self, message: &[u8], signature: &str) -> Option<bool> {
        #[cfg(feature = "rust_crypto")]
        {
            use ::hmac::Mac as _;
            use base64::Engine as _;
            let provider = jsonwebtoken::crypto::CryptoProvider::try_get_default()?;
            if !std::ptr::eq(
                provider,
                &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
            ) || signature.len() > MAX_SIGNATURE
            {
                return None;
            }
            let mut tag = [0u8; MAX_SIGNATURE / 4 * 3];
            let len = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode_slice(signature, &mut tag)
                .ok()?;
            let tag = &tag[..len];
            Some(match &self.0 {
                Inner::Hs256(key) => {
                    let mut mac = key.clone();
                    mac.update(message);
                    mac.verify_slice(tag).is_ok()
                }
                Inner::Hs384(key) => {
                    let mut mac = key.clone();
                    mac.update(message);
                    mac.verify_slice(tag).is_ok()
                }
                Inner::Hs512(key) => {
                    let mut mac = key.clone();
                    mac.update(message);
                    mac.verify_slice(tag).is_ok()
                }
            })
        }
        #[cfg(not(feature = "rust_crypto"))]
        {
            let _ = (message, signature);
            match self.0 {}
        }
    }
}
