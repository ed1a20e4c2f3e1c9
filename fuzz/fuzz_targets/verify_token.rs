//! `LoginManager::verify_token` on arbitrary text.
//!
//! Invariants: never a panic; the token cache never changes an answer (the same token twice on
//! a caching manager, and once on a manager without a cache, give equal results); and a token
//! that verifies is exactly `b64url(header).b64url(payload).b64url(HMAC-SHA256(secret, …))` —
//! checked by an independent oracle (jsonwebtoken's signer, string equality, so that no second
//! spelling of a signature is accepted) — with a non-empty `sub`, an `exp` after now, and a
//! size within `MAX_TOKEN_BYTES`; and `jsonwebtoken::decode` accepts it too.
//!
//! The verification reads usual headers with its own lean reader and checks HMAC with a key
//! state built once (`login`'s `jws` and `keys::mac`), asking jsonwebtoken only for what
//! they leave; the last invariant is the differential one: nothing jsonwebtoken refuses (a
//! header with `b64: false`, an unknown `crit`, a malformed or duplicated field, a second
//! spelling of the signature) passes that path. The seeds and `jwt.dict` hold usual headers,
//! so both the lean path and jsonwebtoken's are reached.

#![no_main]

mod common;

use std::sync::LazyLock;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use libfuzzer_sys::fuzz_target;
use login::LoginManager;

/// The documented size cap on tokens: 8 KiB, checked before any decoding.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

struct Fixture {
    cached: LoginManager,
    uncached: LoginManager,
    key: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| Fixture {
    cached: common::manager(4096),
    uncached: common::manager(0),
    key: EncodingKey::from_secret(common::SECRET.as_bytes()).unwrap(),
    decoding: DecodingKey::from_secret(common::SECRET.as_bytes()).unwrap(),
    // jsonwebtoken's structure, header, algorithm and signature rules; the claims' rules
    // (and the frozen clock) are the manager's.
    validation: {
        let mut validation = Validation::new(Algorithm::HS256);

        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation
    },
});

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let f = &*FIXTURE;
    let first = f.cached.verify_token(token);
    let second = f.cached.verify_token(token);
    let plain = f.uncached.verify_token(token);
    assert_eq!(first, second, "the token cache changed the answer");
    assert_eq!(first, plain, "caching and non-caching managers disagree");
    if let Ok(claims) = first {
        assert!(token.len() <= MAX_TOKEN_BYTES);
        assert!(!claims.sub.is_empty());
        assert!(claims.exp > common::NOW);
        let (input, signature) = token.rsplit_once('.').expect("three segments");
        assert_eq!(
            input.matches('.').count(),
            1,
            "not three segments: {token:?}"
        );
        let expected =
            jsonwebtoken::crypto::sign(input.as_bytes(), &f.key, Algorithm::HS256).expect("sign");
        assert_eq!(
            signature, expected,
            "accepted a signature that is not the MAC"
        );
        let decoded =
            jsonwebtoken::decode::<serde::de::IgnoredAny>(token, &f.decoding, &f.validation);
        assert!(
            decoded.is_ok(),
            "accepted a token jsonwebtoken refuses: {token:?}: {decoded:?}"
        );
    }
});
