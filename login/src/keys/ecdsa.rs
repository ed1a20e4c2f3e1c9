//! ECDSA signature malleability: `(r, s)` and `(r, n − s)` are both valid signatures of the
//! same message under the same key (`n` is the curve's order). So whoever holds an ES256 or
//! ES384 token can write a second string that verifies. Tokens are minted with the low-S form
//! (`s ≤ n / 2`, as Bitcoin's BIP 62 and RFC 6979 implementations do), and a token is
//! normalised to it before anything looks it up by its string (the verified-token cache), so
//! both strings are one token. High-S signatures are still accepted: other issuers (OpenSSL,
//! PyJWT's `cryptography`) make either form.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

/// The order of P-256 (SEC 2, §2.4.2), big-endian.
const P256_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// The order of P-384 (SEC 2, §2.5.1), big-endian.
const P384_N: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73,
];

fn order(alg: Algorithm) -> Option<&'static [u8]> {
    match alg {
        Algorithm::ES256 => Some(&P256_N),
        Algorithm::ES384 => Some(&P384_N),
        _ => None,
    }
}

/// `n − s` for big-endian numbers of the same length with `s < n`, into `out` (as long).
fn sub(n: &[u8], s: &[u8], out: &mut [u8]) {
    let mut borrow = 0i16;
    for i in (0..n.len()).rev() {
        let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + (borrow << 8)) as u8;
    }
}

/// The longest `r || s` (ES384's), in bytes.
const MAX_SIGNATURE: usize = 2 * P384_N.len();

/// `r || s` of a base64url signature of `alg`'s size, decoded on the stack, with its length
/// and the curve's order.
fn split(alg: Algorithm, signature: &str) -> Option<([u8; MAX_SIGNATURE], usize, &'static [u8])> {
    let n = order(alg)?;
    // Longer text cannot be `2 n` bytes (and would not fit the buffer).
    if signature.len() > MAX_SIGNATURE / 3 * 4 {
        return None;
    }
    let mut bytes = [0u8; MAX_SIGNATURE];
    let len = URL_SAFE_NO_PAD.decode_slice(signature, &mut bytes).ok()?;
    (len == 2 * n.len()).then_some((bytes, n.len(), n))
}

/// The signature with `s` replaced by `n − s`, for a well-formed ES256/ES384 signature with
/// `0 < s < n` (`None` otherwise).
pub(crate) fn flip_s(alg: Algorithm, signature: &str) -> Option<String> {
    let (mut bytes, len, n) = split(alg, signature)?;
    let s = &bytes[len..2 * len];
    if s.iter().all(|&b| b == 0) || s >= n {
        return None;
    }
    let mut flipped = [0u8; MAX_SIGNATURE / 2];
    sub(n, s, &mut flipped[..len]);
    bytes[len..2 * len].copy_from_slice(&flipped[..len]);
    Some(URL_SAFE_NO_PAD.encode(&bytes[..2 * len]))
}

/// The low-S form of an ES256/ES384 signature whose `s` is over `n / 2`; `None` when it is
/// already low-S, or not a well-formed signature of that algorithm (left to the verifier).
pub(crate) fn low_s(alg: Algorithm, signature: &str) -> Option<String> {
    let (bytes, len, n) = split(alg, signature)?;
    let s = &bytes[len..2 * len];
    let mut diff = [0u8; MAX_SIGNATURE / 2];
    let diff = &mut diff[..len];
    sub(n, s, diff);
    // s > n / 2  ⇔  n − s < s (n is odd), compared big-endian.
    (s < n && &*diff < s)
        .then(|| flip_s(alg, signature))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(r: u8, s: &[u8]) -> String {
        let mut bytes = vec![r; 32];
        bytes.extend_from_slice(s);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn low_and_high_s() {
        let one = {
            let mut s = [0u8; 32];
            s[31] = 1;
            s
        };
        // s = 1 is low; n − 1 is its high twin.
        assert_eq!(low_s(Algorithm::ES256, &sig(7, &one)), None);
        let high = flip_s(Algorithm::ES256, &sig(7, &one)).unwrap();
        assert_eq!(
            low_s(Algorithm::ES256, &high).as_deref(),
            Some(sig(7, &one).as_str())
        );
        let mut n_minus_1 = P256_N;
        n_minus_1[31] -= 1;
        assert_eq!(high, sig(7, &n_minus_1));
        // (n − 1) / 2 is the largest low s; (n + 1) / 2 the smallest high one.
        let mut half = [0u8; 32];
        let mut carry = 0u16;
        for (h, &b) in half.iter_mut().zip(&P256_N) {
            let v = (carry << 8) | u16::from(b);
            *h = (v / 2) as u8;
            carry = v % 2;
        }
        assert_eq!(low_s(Algorithm::ES256, &sig(0, &half)), None);
        half[31] += 1;
        assert!(low_s(Algorithm::ES256, &sig(0, &half)).is_some());
        // Malformed or out of range: left alone.
        assert_eq!(low_s(Algorithm::ES256, &sig(0, &P256_N)), None);
        assert_eq!(flip_s(Algorithm::ES256, &sig(0, &[0; 32])), None);
        assert_eq!(low_s(Algorithm::ES256, "not base64!"), None);
        assert_eq!(low_s(Algorithm::ES384, &sig(7, &n_minus_1)), None);
        assert_eq!(low_s(Algorithm::HS512, &sig(7, &n_minus_1)), None);
    }
}
