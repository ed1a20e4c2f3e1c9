//! The verification path against jsonwebtoken, over generated tokens: the lean header reader
//! and the prebuilt HMAC state must give exactly the answers (verdicts and error messages) of
//! the path that asked jsonwebtoken for every step, and accept exactly what
//! `jsonwebtoken::decode` accepts.

use std::sync::atomic::{AtomicI64, Ordering};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::jws::tests::{alter, b64, header_json, usual_header};
use crate::keys::{SigningKey, VerifyingKey};

const SECRET: &str = "a-32-byte-or-longer-secret-for-tests!";
const OTHER: &str = "another-32-byte-or-longer-secret!!";
const NOW: i64 = 1_800_000_000;
static CLOCK: AtomicI64 = AtomicI64::new(NOW);

/// The verification with every step of the token by jsonwebtoken: its `decode_header`, the
/// `crit`/`b64` rules, and its `crypto::verify` (the path before the lean reader and the
/// prebuilt HMAC state), then the same claims parser and checks.
fn oracle(m: &LoginManager, token: &str) -> Result<Claims, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::TooLarge {
            max: MAX_TOKEN_BYTES,
        });
    }
    let ring = m.inner.keys.load();
    let malformed = || VerifyError::Malformed("not a compact JWS".into());
    let (message, signature) = token.rsplit_once('.').ok_or_else(malformed)?;
    let (_, payload) = message.rsplit_once('.').ok_or_else(malformed)?;
    let header = jsonwebtoken::decode_header(token).map_err(map_jwt_error)?;
    let verifier = ring.verifier_for(header.kid.as_deref())?;
    check_critical(&header)?;
    let algorithm = verifier.algorithm();
    if header.alg != algorithm {
        return Err(VerifyError::WrongAlgorithm);
    }
    let valid =
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &verifier.decoding, algorithm)
            .map_err(map_jwt_error)?;
    if !valid {
        return Err(VerifyError::BadSignature);
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| VerifyError::Malformed(format!("payload: {e}")))?;
    let claims = serde_json::from_slice::<Claims>(&payload)
        .map_err(|e| VerifyError::InvalidClaims(e.to_string()))?;
    m.check_claims(&claims)?;
    Ok(claims)
}

/// One HS256 key, no `kid`: any `kid` in a token is ignored.
fn single() -> &'static LoginManager {
    static M: std::sync::OnceLock<LoginManager> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        LoginManager::builder("/login")
            .secret(SECRET)
            .token_cache_bytes(0)
            .clock(|| CLOCK.load(Ordering::SeqCst))
            .build()
            .unwrap()
    })
}

/// Two HMAC keys found by `kid`: `new` (HS256, the signer) and `old` (HS512).
fn named() -> &'static LoginManager {
    static M: std::sync::OnceLock<LoginManager> = std::sync::OnceLock::new();
    M.get_or_init(|| {
        let old = format!("{OTHER}{OTHER}");
        let old: VerifyingKey = SigningKey::hmac(Algorithm::HS512, old)
            .unwrap()
            .with_kid("old")
            .verifying_key()
            .clone();
        LoginManager::builder("/login")
            .signing_key(
                SigningKey::hmac(Algorithm::HS256, SECRET)
                    .unwrap()
                    .with_kid("new"),
            )
            .verification_key(old)
            .token_cache_bytes(0)
            .clock(|| CLOCK.load(Ordering::SeqCst))
            .build()
            .unwrap()
    })
}

/// A header's JSON with a `kid` member put first (or not).
fn with_kid(json: String, kid: Option<&str>) -> String {
    match (kid, json.strip_prefix('{')) {
        (Some(kid), Some(rest)) => format!(r#"{{"kid":"{kid}",{rest}"#),
        _ => json,
    }
}

/// Generated tokens: a generated header (with a `kid` or not, its base64url sometimes
/// altered), a valid payload or not, signed with one of the keys (or none), the signature
/// sometimes altered too.
fn token() -> impl Strategy<Value = String> {
    let kid = prop_oneof![
        Just(None),
        Just(Some("new")),
        Just(Some("old")),
        Just(Some("nope"))
    ];
    let payload = prop_oneof![
        6 => Just(json!({ "sub": "alice", "exp": NOW + 60, "scopes": ["read"] }).to_string()),
        1 => Just(json!({ "sub": "alice", "exp": NOW - 60 }).to_string()),
        1 => Just(json!({ "sub": 1, "exp": NOW + 60 }).to_string()),
        1 => Just("not json".to_owned()),
    ];
    let key = prop_oneof![
        4 => Just(Some((Algorithm::HS256, SECRET.to_owned()))),
        1 => Just(Some((Algorithm::HS512, format!("{OTHER}{OTHER}")))),
        1 => Just(Some((Algorithm::HS256, OTHER.to_owned()))),
        1 => Just(None),
    ];
    let signature = prop_oneof![
        12 => Just(None),
        1 => Just(Some(String::new())),
        1 => Just(Some("A".repeat(100))),
        1 => Just(Some("!!!!".to_owned())),
        1 => Just(Some("c2ln".to_owned())),
    ];
    (
        prop_oneof![1 => header_json(), 3 => usual_header()],
        kid,
        (0u8..40, any::<prop::sample::Index>()),
        payload,
        key,
        signature,
        (0u8..24, any::<prop::sample::Index>()),
    )
        .prop_map(
            |(json, kid, (how, at), payload, key, fixed, (sig_how, sig_at))| {
                let header = alter(b64(with_kid(json, kid).as_bytes()), how, at);
                let message = format!("{header}.{}", b64(payload.as_bytes()));
                let signature = match (fixed, key) {
                    (Some(fixed), _) => fixed,
                    (None, None) => "c2ln".to_owned(),
                    (None, Some((alg, secret))) => {
                        let key = EncodingKey::from_secret(secret.as_bytes()).unwrap();
                        let signature =
                            jsonwebtoken::crypto::sign(message.as_bytes(), &key, alg).unwrap();
                        alter(signature, sig_how, sig_at)
                    }
                };
                format!("{message}.{signature}")
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The same answer as the path that asked jsonwebtoken for every step: the same claims,
    /// or the same error with the same words.
    #[test]
    fn same_answers_as_jsonwebtoken_path(token in token()) {
        for m in [single(), named()] {
            prop_assert_eq!(m.verify_token(&token), oracle(m, &token), "token {}", token);
        }
    }

    /// With one key, accepted exactly when `jsonwebtoken::decode` accepts (its own `exp`
    /// check off: the clock here is the manager's).
    #[test]
    fn accepts_what_jsonwebtoken_decode_accepts(token in token()) {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        let key = DecodingKey::from_secret(SECRET.as_bytes()).unwrap();
        let theirs = jsonwebtoken::decode::<serde_json::Value>(&token, &key, &validation);
        let ours = single().verify_token(&token);
        // Our claims rules are stricter (typed `sub`, `exp` in the future): compare on tokens
        // whose claims pass them.
        if theirs.as_ref().is_ok_and(|data| data.claims["sub"] == "alice" && data.claims["exp"] == NOW + 60) {
            prop_assert!(ours.is_ok(), "token {}: {:?}", token, ours);
        }
        if ours.is_ok() {
            prop_assert!(theirs.is_ok(), "token {}: {:?}", token, theirs.err());
        }
    }
}
