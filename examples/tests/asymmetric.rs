//! The `asymmetric` example: key loading and generation, the simple app's routes
//! with an asymmetric key, and the JWKS route that lets another service verify its tokens.

use std::path::PathBuf;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use login::{Algorithm, ConfigError, LoginManager, keys::VerifyingKey};
use login_examples::asymmetric::{KeyConfig, KeyError, app, generate, manager, signing_key};
use login_examples::simple::Db;
use login_test_support::{forge, form_request, send};

fn key_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../login/tests/keys")
        .join(name)
}

fn config(name: Option<&str>, password: Option<&str>, algorithm: Algorithm) -> KeyConfig {
    KeyConfig {
        path: name.map(key_file),
        password: password.map(str::to_owned),
        algorithm,
    }
}

#[tokio::test]
async fn the_app_signs_with_its_key_and_publishes_it_as_jwks() {
    let (key, generated) =
        signing_key(&config(Some("rsa2048.pem"), None, Algorithm::RS256)).unwrap();
    assert!(!generated);
    let manager = manager(key).unwrap();
    let app = app(manager, Db::demo());

    let login = form_request("/login", "username=johndoe%40mail.com&password=hunter2");
    let reply = send(&app, login).await;
    assert_eq!(reply.status, StatusCode::OK);
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();

    let me = Request::get("/protected")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, me).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["user"]["email"], "johndoe@mail.com");

    let reply = send(
        &app,
        Request::get("/.well-known/jwks.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let jwks = reply.json();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["alg"], "RS256");
    assert_eq!(
        keys[0]["kid"].as_str().unwrap(),
        forge::header_of(&token)["kid"].as_str().unwrap()
    );
    assert!(keys[0].get("d").is_none());

    // Another service, given only the JWKS document, verifies the token.
    let verifier = LoginManager::builder("/login")
        .verification_keys(VerifyingKey::from_jwks(&jwks.to_string()).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        verifier.verify_token(&token).unwrap().sub,
        "johndoe@mail.com"
    );
}

#[test]
fn encrypted_keys_need_their_password() {
    let ok = signing_key(&config(
        Some("p256.enc.pem"),
        Some("correct-horse"),
        Algorithm::ES256,
    ));
    assert!(ok.is_ok());
    let wrong = signing_key(&config(
        Some("p256.enc.pem"),
        Some("nope"),
        Algorithm::ES256,
    ))
    .unwrap_err();
    assert!(
        matches!(wrong, KeyError::Config(ConfigError::WrongKeyPassword)),
        "{wrong}"
    );
    let missing = signing_key(&config(Some("p256.enc.pem"), None, Algorithm::ES256)).unwrap_err();
    assert!(
        matches!(missing, KeyError::Config(ConfigError::KeyPasswordRequired)),
        "{missing}"
    );
    let absent = signing_key(&config(Some("no-such-key.pem"), None, Algorithm::RS256)).unwrap_err();
    assert!(matches!(absent, KeyError::Read(..)), "{absent}");
    let mismatch = signing_key(&config(Some("ed25519.pem"), None, Algorithm::RS256)).unwrap_err();
    assert!(
        matches!(
            mismatch,
            KeyError::Config(ConfigError::KeyAlgorithmMismatch { .. })
        ),
        "{mismatch}"
    );
}

#[test]
fn a_key_is_generated_when_none_is_given_for_every_asymmetric_algorithm() {
    for algorithm in [
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
        Algorithm::PS256,
    ] {
        let started = Instant::now();
        let (key, generated) = signing_key(&config(None, None, algorithm)).unwrap();
        assert!(generated);
        assert_eq!(key.algorithm(), algorithm);
        let manager = manager(key).unwrap();
        let token = manager.create_access_token("alice").unwrap();
        assert_eq!(
            manager.verify_token(&token).unwrap().sub,
            "alice",
            "{algorithm:?} ({:?})",
            started.elapsed()
        );
    }
    assert!(matches!(
        generate(Algorithm::HS256),
        Err(KeyError::CannotGenerate(Algorithm::HS256))
    ));
}

#[test]
fn the_kid_is_stable_for_the_same_key() {
    let a = signing_key(&config(Some("rsa2048.pem"), None, Algorithm::RS256))
        .unwrap()
        .0;
    let b = signing_key(&config(Some("rsa2048.pkcs1.pem"), None, Algorithm::RS256))
        .unwrap()
        .0;
    assert_eq!(a.kid(), b.kid());
    let c = signing_key(&config(Some("rsa2048-b.pem"), None, Algorithm::RS256))
        .unwrap()
        .0;
    assert_ne!(a.kid(), c.kid());
}

/// The key configuration's `Debug` never holds the key's password.
#[test]
fn key_config_debug_hides_the_password() {
    let config = KeyConfig {
        path: Some(PathBuf::from("key.pem")),
        password: Some("correct-horse-battery".into()),
        algorithm: Algorithm::RS256,
    };
    let debug = format!("{config:?}");
    assert!(
        debug.contains("key.pem") && debug.contains("RS256"),
        "{debug}"
    );
    assert!(!debug.contains("correct-horse"), "{debug}");
}
