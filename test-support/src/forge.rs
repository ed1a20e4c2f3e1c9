//! Hand-made tokens: any header bytes, any payload bytes, any key, for the adversarial cases
//! (and their decoding, to inspect what a manager issued).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::{NOW, SECRET};

/// The header `login` issues for HS256, and PyJWT too.
pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url decoding (no padding); panics on anything else.
pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// The base64url MAC of `message` with `key` under `alg` (an HMAC algorithm).
pub fn mac(message: &[u8], key: &[u8], alg: Algorithm) -> String {
    let key = EncodingKey::from_secret(key).expect("non-empty key");
    jsonwebtoken::crypto::sign(message, &key, alg).expect("sign")
}

/// `b64(header).b64(payload).MAC_alg(key, signing input)`, for arbitrary bytes.
pub fn raw(header: &[u8], payload: &[u8], key: &[u8], alg: Algorithm) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = mac(input.as_bytes(), key, alg);
    format!("{input}.{sig}")
}

/// A token with [`HS256_HEADER`] and `payload` (any text), MACed with [`SECRET`].
pub fn hs256(payload: &str) -> String {
    raw(
        HS256_HEADER.as_bytes(),
        payload.as_bytes(),
        SECRET.as_bytes(),
        Algorithm::HS256,
    )
}

/// A token with [`HS256_HEADER`] and the JSON `claims`, MACed with [`SECRET`].
pub fn claims(claims: &Value) -> String {
    hs256(&claims.to_string())
}

/// Claims valid at [`NOW`] for `sub` (`exp` 15 minutes later, `iat` now), with `extra` merged
/// in (a `null` in `extra` removes the claim).
pub fn valid_claims(sub: &str, extra: Value) -> Value {
    let mut c = json!({ "sub": sub, "exp": NOW + 900, "iat": NOW });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(&k);
            } else {
                c[k] = v;
            }
        }
    }
    c
}

/// The three segments of a compact token; panics unless there are exactly three.
pub fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let p = (
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
        it.next().unwrap().to_owned(),
    );
    assert!(it.next().is_none(), "more than three segments: {token}");
    p
}

/// The decoded header of a compact token, as JSON.
pub fn header_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(token.split('.').next().unwrap())).expect("header JSON")
}

/// The decoded payload of a compact token, as JSON.
pub fn payload_of(token: &str) -> Value {
    serde_json::from_slice(&unb64(token.split('.').nth(1).unwrap())).expect("payload JSON")
}
