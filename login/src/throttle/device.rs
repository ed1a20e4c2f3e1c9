//! Device tokens (OWASP's "device cookies"): `ldt_` and the base64url of a random 16-byte
//! nonce, the time it was issued (8 bytes) and an HMAC-SHA256 over both and the account it is
//! bound to (32 bytes): 79 characters.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The prefix of every device token.
const PREFIX: &str = "ldt_";
const RAW: usize = 16 + 8 + 32;
/// The length of a device token: the prefix and 75 base64url characters.
const LEN: usize = PREFIX.len() + 75;

/// The key device tokens are signed with (the SHA-256 of the configured secret, or random).
#[derive(Clone)]
pub(crate) struct DeviceKey([u8; 32]);

impl DeviceKey {
    pub(crate) fn from_secret(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"login device-token key\0");
        h.update(secret);
        DeviceKey(h.finalize().into())
    }

    pub(crate) fn random() -> Self {
        DeviceKey(crate::secret::random_bytes())
    }

    fn mac(&self, account: &[u8; 32], nonce: &[u8], issued: &[u8]) -> [u8; 32] {
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&self.0);
        let pad = |byte: u8| key.map(|k| k ^ byte);
        let mut inner = Sha256::new();
        inner.update(pad(0x36));
        inner.update(b"login device token\0");
        inner.update(account);
        inner.update(nonce);
        inner.update(issued);
        let mut outer = Sha256::new();
        outer.update(pad(0x5c));
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    /// A new device token for `account` (the hash of its normalised user name), issued `now`.
    pub(crate) fn mint(&self, account: &[u8; 32], now: i64) -> String {
        let nonce: [u8; 16] = crate::secret::random_bytes();
        let issued = now.to_be_bytes();
        let mut raw = Vec::with_capacity(RAW);
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&issued);
        raw.extend_from_slice(&self.mac(account, &nonce, &issued));
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(raw))
    }

    /// The token's nonce, if it is one of ours, for `account`, issued at most `lifetime`
    /// seconds before `now`.
    pub(crate) fn verify(
        &self,
        token: &str,
        account: &[u8; 32],
        now: i64,
        lifetime: u64,
    ) -> Option<[u8; 16]> {
        if token.len() != LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(token.strip_prefix(PREFIX)?).ok()?;
        if raw.len() != RAW {
            return None;
        }
        let (nonce, rest) = raw.split_at(16);
        let (issued, mac) = rest.split_at(8);
        let expected = self.mac(account, nonce, issued);
        let diff = expected
            .iter()
            .zip(mac)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return None;
        }
        let issued = i64::from_be_bytes(issued.try_into().ok()?);
        let age = now.checked_sub(issued)?;
        if age < -60 || age > lifetime as i64 {
            return None;
        }
        nonce.try_into().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_account_only_and_until_it_expires() {
        let key = DeviceKey::random();
        let (john, jane) = ([1u8; 32], [2u8; 32]);
        let token = key.mint(&john, 1000);
        assert_eq!(token.len(), LEN);
        assert!(key.verify(&token, &john, 1000, 3600).is_some());
        assert!(key.verify(&token, &john, 4600, 3600).is_some());
        assert!(key.verify(&token, &john, 4601, 3600).is_none());
        assert!(key.verify(&token, &jane, 1000, 3600).is_none());
        assert!(
            DeviceKey::random()
                .verify(&token, &john, 1000, 3600)
                .is_none()
        );
        // One character changed, cut, or lengthened: refused.
        let mut bytes = token.clone().into_bytes();
        bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert!(key.verify(&changed, &john, 1000, 3600).is_none());
        assert!(key.verify(&token[..LEN - 1], &john, 1000, 3600).is_none());
        assert!(
            key.verify(&format!("{token}A"), &john, 1000, 3600)
                .is_none()
        );
        // The same secret signs the same way in another process.
        let a = DeviceKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let b = DeviceKey::from_secret(b"0123456789abcdef0123456789abcdef");
        assert!(b.verify(&a.mint(&john, 5), &john, 5, 10).is_some());
    }
}
