//! Keys and algorithms: every algorithm's round trip, key formats and their errors,
//! RFC 7515 vectors, algorithm confusion, `kid` handling, rotation and JWKS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{DecodingKey, EncodingKey, Header};
use login::{
    Algorithm, ConfigError, LoginManager, TokenError, keys::SigningKey, keys::VerifyingKey,
    rejection::VerifyError,
};
use serde_json::json;

macro_rules! key {
    ($name:literal) => {
        include_bytes!(concat!("keys/", $name)).as_slice()
    };
}

const SECRET_32: &str = "0123456789abcdef0123456789abcdef";
const SECRET_48: &str = "0123456789abcdef0123456789abcdef0123456789abcdef";
const SECRET_64: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn signer(key: SigningKey) -> LoginManager {
    LoginManager::builder("/login")
        .signing_key(key)
        .build()
        .unwrap()
}

fn verifier(keys: Vec<VerifyingKey>) -> LoginManager {
    LoginManager::builder("/login")
        .verification_keys(keys)
        .build()
        .unwrap()
}

fn header_of(token: &str) -> serde_json::Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&B64.decode(part).unwrap()).unwrap()
}

fn every_key() -> Vec<(Algorithm, SigningKey)> {
    use Algorithm::*;
    let mut keys = vec![
        (HS256, SigningKey::hmac(HS256, SECRET_32).unwrap()),
        (HS384, SigningKey::hmac(HS384, SECRET_48).unwrap()),
        (HS512, SigningKey::hmac(HS512, SECRET_64).unwrap()),
    ];
    for alg in [RS256, RS384, RS512, PS256, PS384, PS512] {
        keys.push((alg, SigningKey::from_pem(alg, key!("rsa2048.pem")).unwrap()));
    }
    keys.push((
        ES256,
        SigningKey::from_pem(ES256, key!("p256.pem")).unwrap(),
    ));
    keys.push((
        ES384,
        SigningKey::from_pem(ES384, key!("p384.pem")).unwrap(),
    ));
    keys.push((
        EdDSA,
        SigningKey::from_pem(EdDSA, key!("ed25519.pem")).unwrap(),
    ));
    keys
}

#[test]
fn every_algorithm_round_trips_and_names_itself_in_the_header() {
    let keys = every_key();
    assert_eq!(keys.len(), 12);
    for (alg, key) in keys {
        let manager = signer(key);
        assert_eq!(manager.algorithm(), alg);
        let token = manager.create_access_token("alice").unwrap();
        assert_eq!(
            header_of(&token),
            json!({ "alg": format!("{alg:?}"), "typ": "JWT" }),
            "{alg:?}"
        );
        assert_eq!(
            manager.verify_token(&token).unwrap().sub,
            "alice",
            "{alg:?}"
        );
    }
}

#[test]
fn a_token_signed_by_another_key_of_the_same_algorithm_is_refused() {
    let a = signer(SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem")).unwrap());
    let b = signer(SigningKey::from_pem(Algorithm::RS256, key!("rsa2048-b.pem")).unwrap());
    let token = a.create_access_token("alice").unwrap();
    assert_eq!(b.verify_token(&token), Err(VerifyError::BadSignature));
}

#[test]
fn tokens_of_one_algorithm_never_verify_under_another() {
    // Same RSA key, different algorithm: the key's one algorithm is the allow-list.
    let rs = signer(SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem")).unwrap());
    let ps = signer(SigningKey::from_pem(Algorithm::PS256, key!("rsa2048.pem")).unwrap());
    let token = rs.create_access_token("alice").unwrap();
    assert_eq!(ps.verify_token(&token), Err(VerifyError::WrongAlgorithm));
}

#[test]
fn private_key_formats_all_load_and_derive_the_same_public_key() {
    let pkcs8 = signer(SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem")).unwrap());
    let pkcs1 = SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pkcs1.pem")).unwrap();
    let der = SigningKey::from_der(Algorithm::RS256, key!("rsa2048.pkcs8.der")).unwrap();
    let token = pkcs8.create_access_token("alice").unwrap();
    for key in [pkcs1, der] {
        assert_eq!(signer(key).verify_token(&token).unwrap().sub, "alice");
    }

    let ec = signer(SigningKey::from_pem(Algorithm::ES256, key!("p256.pem")).unwrap());
    let token = ec.create_access_token("bob").unwrap();
    let sec1 = SigningKey::from_pem(Algorithm::ES256, key!("p256.sec1.pem")).unwrap();
    let sec1_der = SigningKey::from_der(Algorithm::ES256, key!("p256.sec1.der")).unwrap();
    for key in [sec1, sec1_der] {
        assert_eq!(signer(key).verify_token(&token).unwrap().sub, "bob");
    }
}

#[test]
fn key_format_and_password_errors_are_clear() {
    use Algorithm::*;
    let err = |r: Result<SigningKey, ConfigError>| r.unwrap_err();
    assert_eq!(
        err(SigningKey::from_pem(RS256, key!("rsa2048.pub.pem"))),
        ConfigError::PublicKeyForSigning
    );
    assert!(matches!(
        err(SigningKey::from_pem(RS256, key!("rsa1024.pem"))),
        ConfigError::RsaKeyTooSmall(1024)
    ));
    assert!(matches!(
        err(SigningKey::from_pem(RS256, "not a key")),
        ConfigError::UnsupportedKeyFormat(_)
    ));
    assert!(matches!(
        err(SigningKey::from_pem(
            RS256,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        )),
        ConfigError::UnsupportedKeyFormat(_)
    ));
    assert!(matches!(
        err(SigningKey::from_pem(ES256, key!("secp256k1.pem"))),
        ConfigError::UnsupportedKeyFormat(_) | ConfigError::KeyAlgorithmMismatch { .. }
    ));
    assert!(matches!(
        err(SigningKey::from_der(RS256, b"\x30\x03\x02\x01\x00")),
        ConfigError::UnsupportedKeyFormat(_) | ConfigError::Key(_)
    ));
    let e = err(SigningKey::from_pem(ES256, key!("rsa2048.pem")));
    assert!(
        matches!(
            e,
            ConfigError::KeyAlgorithmMismatch {
                algorithm: ES256,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), "an RSA key cannot be used with ES256");
    assert!(matches!(
        err(SigningKey::from_pem(RS256, key!("ed25519.pem"))),
        ConfigError::KeyAlgorithmMismatch { .. }
    ));
    let e = err(SigningKey::from_pem(ES384, key!("p256.pem")));
    assert!(
        matches!(e, ConfigError::KeyAlgorithmMismatch { .. }),
        "{e:?}"
    );
    assert!(matches!(
        err(SigningKey::from_pem(HS256, key!("rsa2048.pem"))),
        ConfigError::KeyAlgorithmMismatch { .. }
    ));
    assert_eq!(
        err(SigningKey::hmac(RS256, SECRET_32)),
        ConfigError::NotHmacAlgorithm(RS256)
    );
    assert!(matches!(
        err(SigningKey::hmac(HS512, SECRET_32)),
        ConfigError::SecretTooShort {
            minimum: 64,
            actual: 32,
            ..
        }
    ));
    assert_eq!(
        err(SigningKey::hmac(
            HS256,
            std::str::from_utf8(key!("rsa2048.pub.pem")).unwrap()
        )),
        ConfigError::SecretLooksLikeKey
    );
    assert!(matches!(
        VerifyingKey::from_pem(ES256, key!("rsa2048.pub.pem")).unwrap_err(),
        ConfigError::KeyAlgorithmMismatch { .. }
    ));
}

#[test]
fn verify_only_managers_from_a_public_key_several_keys_or_a_jwks() {
    let issuer = signer(SigningKey::from_pem(Algorithm::ES256, key!("p256.pem")).unwrap());
    let token = issuer.create_access_token("alice").unwrap();

    let from_pem = verifier(vec![
        VerifyingKey::from_pem(Algorithm::ES256, key!("p256.pub.pem")).unwrap(),
    ]);
    assert_eq!(from_pem.verify_token(&token).unwrap().sub, "alice");
    assert!(matches!(
        from_pem.create_access_token("mallory"),
        Err(TokenError::NoSigningKey)
    ));

    let rsa_pub = VerifyingKey::from_pem(Algorithm::RS256, key!("rsa2048.pkcs1.pub.pem")).unwrap();
    let rsa_issuer = signer(
        SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem"))
            .unwrap()
            .with_kid("rsa"),
    );
    let several = verifier(vec![
        rsa_pub.with_kid("rsa"),
        VerifyingKey::from_pem(Algorithm::EdDSA, key!("ed25519.pub.pem"))
            .unwrap()
            .with_kid("ed"),
    ]);
    let rsa_token = rsa_issuer.create_access_token("bob").unwrap();
    assert_eq!(several.verify_token(&rsa_token).unwrap().sub, "bob");
    // Without a kid, a manager with several keys and no signer cannot pick one.
    let unnamed = signer(SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem")).unwrap());
    assert_eq!(
        several.verify_token(&unnamed.create_access_token("bob").unwrap()),
        Err(VerifyError::UnknownKid)
    );

    let named = signer(
        SigningKey::from_pem(Algorithm::ES256, key!("p256.pem"))
            .unwrap()
            .with_kid("ec-1"),
    );
    let jwks = serde_json::to_string(&named.jwks()).unwrap();
    let from_jwks = verifier(VerifyingKey::from_jwks(&jwks).unwrap());
    assert_eq!(
        from_jwks
            .verify_token(&named.create_access_token("carol").unwrap())
            .unwrap()
            .sub,
        "carol"
    );
}

#[test]
fn jwks_publishes_public_keys_only() {
    let rsa = signer(
        SigningKey::from_pem(Algorithm::RS256, key!("rsa2048.pem"))
            .unwrap()
            .with_kid("2026-11"),
    );
    let jwks = serde_json::to_value(rsa.jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["kid"], "2026-11");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["use"], "sig");
    assert!(
        k.get("d").is_none() && k.get("p").is_none(),
        "private parts leaked: {k}"
    );

    let hmac = signer(SigningKey::hmac(Algorithm::HS256, SECRET_32).unwrap());
    assert_eq!(
        serde_json::to_value(hmac.jwks()).unwrap(),
        json!({ "keys": [] })
    );

    let oct = r#"{"keys":[{"kty":"oct","alg":"HS256","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}"#;
    assert!(matches!(
        VerifyingKey::from_jwks(oct),
        Err(ConfigError::InvalidJwk(_))
    ));
    assert!(matches!(
        VerifyingKey::from_jwks("{}"),
        Err(ConfigError::InvalidJwk(_))
    ));
    assert!(matches!(
        VerifyingKey::from_jwks(r#"{"keys":[]}"#),
        Err(ConfigError::InvalidJwk(_))
    ));
}

// ---- RFC 7515 Appendix A vectors, verified at the JWS layer ----

const A1_TOKEN: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const A2_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
const A2_JWK: &str = r#"{"kty":"RSA","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#;
const A3_TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const A3_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;

fn split(token: &str) -> (&str, &str) {
    let (message, signature) = token.rsplit_once('.').unwrap();
    (message, signature)
}

#[test]
fn rfc7515_a1_hs256_vector_verifies_at_the_jws_layer() {
    let key = DecodingKey::from_secret(&B64.decode(A1_KEY).unwrap()).unwrap();
    let (message, signature) = split(A1_TOKEN);
    assert!(
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, Algorithm::HS256)
            .unwrap()
    );
    // A tampered message does not.
    assert!(!jsonwebtoken::crypto::verify(signature, b"x", &key, Algorithm::HS256).unwrap());
    // Our manager with the same key still refuses the token: it is expired and has no `sub`.
    let manager = LoginManager::builder("/login")
        .signing_key(SigningKey::hmac(Algorithm::HS256, B64.decode(A1_KEY).unwrap()).unwrap())
        .clock(|| 1_300_819_379)
        .build()
        .unwrap();
    assert!(matches!(
        manager.verify_token(A1_TOKEN),
        Err(VerifyError::InvalidClaims(_))
    ));
}

#[test]
fn rfc7515_a2_rs256_vector_verifies_at_the_jws_layer() {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(A2_JWK).unwrap();
    // Our typed key accepts the RFC's key as RS256 (it is a 2048-bit modulus)…
    let ours = VerifyingKey::from_jwk_with_algorithm(&jwk, Algorithm::RS256).unwrap();
    let manager = verifier(vec![ours]);
    // …and the manager rejects the token only for its claims (no `sub`), not its signature.
    assert!(matches!(
        manager.verify_token(A2_TOKEN),
        Err(VerifyError::InvalidClaims(_))
    ));
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let (message, signature) = split(A2_TOKEN);
    assert!(
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, Algorithm::RS256)
            .unwrap()
    );
    assert!(
        !jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, Algorithm::PS256)
            .unwrap_or(false)
    );
}

#[test]
fn rfc7515_a3_es256_vector_verifies_at_the_jws_layer() {
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(A3_JWK).unwrap();
    let manager = verifier(vec![
        VerifyingKey::from_jwk_with_algorithm(&jwk, Algorithm::ES256).unwrap(),
    ]);
    assert!(matches!(
        manager.verify_token(A3_TOKEN),
        Err(VerifyError::InvalidClaims(_))
    ));
    let key = DecodingKey::from_jwk(&jwk).unwrap();
    let (message, signature) = split(A3_TOKEN);
    assert!(
        jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, Algorithm::ES256)
            .unwrap()
    );
}

// ---- algorithm confusion ----

#[test]
fn rs256_manager_refuses_an_hs256_token_macd_with_its_public_key() {
    let manager = verifier(vec![
        VerifyingKey::from_pem(Algorithm::RS256, key!("rsa2048.pub.pem")).unwrap(),
    ]);
    let claims = json!({ "sub": "admin", "exp": 4_102_444_800u64 });
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key!("rsa2048.pub.pem")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        manager.verify_token(&forged),
        Err(VerifyError::WrongAlgorithm)
    );
    // And the public key PEM can never become an HMAC secret in the first place.
    assert_eq!(
        SigningKey::hmac(Algorithm::HS256, key!("rsa2048.pub.pem").to_vec()).unwrap_err(),
        ConfigError::SecretLooksLikeKey
    );
}

#[test]
fn es256_psychic_and_der_signatures_are_refused() {
    let issuer = signer(SigningKey::from_pem(Algorithm::ES256, key!("p256.pem")).unwrap());
    let token = issuer.create_access_token("alice").unwrap();
    let (message, _) = split(&token);
    let zeros = format!("{message}.{}", B64.encode([0u8; 64]));
    assert!(issuer.verify_token(&zeros).is_err());
    let der = format!(
        "{message}.{}",
        B64.encode([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])
    );
    assert!(issuer.verify_token(&der).is_err());
    let empty = format!("{message}.");
    assert!(issuer.verify_token(&empty).is_err());
}

#[test]
fn header_algorithm_never_widens_the_allow_list() {
    let manager = signer(SigningKey::from_pem(Algorithm::ES256, key!("p256.pem")).unwrap());
    // An ES384 token with a key the manager does not hold.
    let es384 = signer(SigningKey::from_pem(Algorithm::ES384, key!("p384.pem")).unwrap());
    let token = es384.create_access_token("alice").unwrap();
    assert_eq!(
        manager.verify_token(&token),
        Err(VerifyError::WrongAlgorithm)
    );
}

// ---- kid ----

fn two_key_manager() -> LoginManager {
    LoginManager::builder("/login")
        .signing_key(
            SigningKey::hmac(Algorithm::HS256, SECRET_32)
                .unwrap()
                .with_kid("k2"),
        )
        .verification_key(
            SigningKey::hmac(Algorithm::HS256, SECRET_64)
                .unwrap()
                .with_kid("k1")
                .verifying_key()
                .clone(),
        )
        .build()
        .unwrap()
}

fn hs256_with_kid(kid: &str, secret: &str) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    let claims = json!({ "sub": "alice", "exp": 4_102_444_800u64 });
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[test]
fn issued_tokens_carry_the_signing_kid_and_unknown_or_injected_kids_are_invalid() {
    let manager = two_key_manager();
    let token = manager.create_access_token("alice").unwrap();
    assert_eq!(header_of(&token)["kid"], "k2");
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
    assert_eq!(
        manager
            .verify_token(&hs256_with_kid("k1", SECRET_64))
            .unwrap()
            .sub,
        "alice"
    );
    // The right key under the wrong name fails too: names bind keys.
    assert_eq!(
        manager.verify_token(&hs256_with_kid("k1", SECRET_32)),
        Err(VerifyError::BadSignature)
    );
    for kid in ["nope", "' OR '1'='1", "../../../../dev/null", "", "k2 "] {
        assert_eq!(
            manager.verify_token(&hs256_with_kid(kid, SECRET_32)),
            Err(VerifyError::UnknownKid),
            "{kid:?}"
        );
    }
}

#[test]
fn a_single_unnamed_key_ignores_the_kid_header() {
    let manager = signer(SigningKey::hmac(Algorithm::HS256, SECRET_32).unwrap());
    assert_eq!(
        manager
            .verify_token(&hs256_with_kid("' OR '1'='1", SECRET_32))
            .unwrap()
            .sub,
        "alice"
    );
}

#[test]
fn several_keys_need_distinct_kids() {
    let a = SigningKey::hmac(Algorithm::HS256, SECRET_32).unwrap();
    let b = SigningKey::hmac(Algorithm::HS256, SECRET_48).unwrap();
    let missing = LoginManager::builder("/login")
        .signing_key(a.clone())
        .verification_key(b.verifying_key().clone())
        .build()
        .unwrap_err();
    assert_eq!(missing, ConfigError::MissingKid);
    let dup = LoginManager::builder("/login")
        .signing_key(a.with_kid("same"))
        .verification_key(b.with_kid("same").verifying_key().clone())
        .build()
        .unwrap_err();
    assert_eq!(dup, ConfigError::DuplicateKid("same".into()));
}

// ---- rotation ----

/// Waits until more than `count` requests were served: polled every millisecond, at most
/// 10,000 times (no timing is asserted).
async fn served_beyond(served: &AtomicUsize, count: usize) {
    for _ in 0..10_000 {
        if served.load(Ordering::Relaxed) > count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    panic!("never served more than {count} requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_the_signing_key_keeps_old_tokens_valid_and_drops_no_request() {
    let manager = signer(
        SigningKey::from_pem(Algorithm::ES256, key!("p256.pem"))
            .unwrap()
            .with_kid("2026-10"),
    );
    let old = manager.create_access_token("alice").unwrap();

    let served = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..4 {
        let (manager, old, served, stop) =
            (manager.clone(), old.clone(), served.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut failures = 0;
            while !stop.load(Ordering::Relaxed) {
                match manager.verify_token(&old) {
                    Ok(c) if c.sub == "alice" => {
                        served.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => failures += 1,
                }
                tokio::task::yield_now().await;
            }
            failures
        }));
    }
    // Requests are being served before the rotation and keep being served after it.
    served_beyond(&served, 100).await;
    manager
        .rotate_signing_key(
            SigningKey::from_pem(Algorithm::EdDSA, key!("ed25519.pem"))
                .unwrap()
                .with_kid("2026-11"),
        )
        .unwrap();
    let new = manager.create_access_token("bob").unwrap();
    served_beyond(&served, served.load(Ordering::Relaxed) + 100).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        assert_eq!(w.await.unwrap(), 0, "a request failed during rotation");
    }
    assert!(served.load(Ordering::Relaxed) > 0);

    assert_eq!(header_of(&new)["kid"], "2026-11");
    assert_eq!(header_of(&new)["alg"], "EdDSA");
    assert_eq!(manager.verify_token(&new).unwrap().sub, "bob");
    assert_eq!(manager.verify_token(&old).unwrap().sub, "alice");
    let published: Vec<String> = manager
        .jwks()
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(published, ["2026-11", "2026-10"]);

    // Retiring the old key rejects its tokens; the signing key cannot be retired.
    manager.remove_verification_key("2026-10").unwrap();
    assert_eq!(manager.verify_token(&old), Err(VerifyError::UnknownKid));
    assert_eq!(manager.verify_token(&new).unwrap().sub, "bob");
    assert_eq!(
        manager.remove_verification_key("2026-11"),
        Err(ConfigError::UnknownKid("2026-11".into()))
    );
    // Rotation to an unnamed key, once several keys exist, is refused and changes nothing.
    manager
        .add_verification_key(
            VerifyingKey::from_pem(Algorithm::ES256, key!("p256.pub.pem"))
                .unwrap()
                .with_kid("2026-10"),
        )
        .unwrap();
    assert_eq!(manager.verify_token(&old).unwrap().sub, "alice");
    assert_eq!(
        manager.rotate_signing_key(SigningKey::hmac(Algorithm::HS256, SECRET_32).unwrap()),
        Err(ConfigError::MissingKid)
    );
    assert_eq!(manager.signing_kid().as_deref(), Some("2026-11"));
}
