//! The login route and its helpers (A.44, A.50–A.51, A.54–A.57): the token
//! response, the issued token, identical failures for unknown users and wrong passwords,
//! password bounds, malformed and legacy hashes, Argon2id off the executor.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use jsonwebtoken::Algorithm;
use login::password::{self, Argon2id, MAX_PASSWORD_BYTES, PasswordError};
use login::{OAuth2PasswordForm, TokenRequest, TokenResponse};
use login_test_support::{
    CountingScheme, Expect, NOW, Reply, SECRET, forge, form_request, form_urlencoded, m_times_t,
};
use login_tests::{PASSPHRASE, PASSWORD, TestApp, users};
use serde_json::{Value, json};

/// The documented default token lifetime: 15 minutes, as fastapi-login.
const DEFAULT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15 * 60);

async fn login(app: &TestApp, pairs: &[(&str, &str)]) -> Reply {
    app.send(form_request("/login", form_urlencoded(pairs)))
        .await
}

/// A.50: a successful login answers the OAuth2 token response with `no-store` caching, and the
/// token's `exp - iat` is the configured lifetime in seconds.
#[tokio::test]
async fn successful_login_token_response() {
    let app = TestApp::new();
    let reply = login(&app, &[("username", "alice"), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = reply.json();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        body,
        json!({ "access_token": token, "token_type": "bearer", "expires_in": 900 })
    );

    let claims = forge::payload_of(&token);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["iat"], NOW);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert!(
        claims.get("scopes").is_none(),
        "no scopes requested, none issued"
    );
    assert_eq!(
        claims["jti"].as_str().unwrap().len(),
        22,
        "16 random bytes, base64url"
    );
    assert_eq!(
        claims.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["exp", "iat", "jti", "sub"],
        "exactly these claims (no aud, no iss by default)"
    );

    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.probe.verifies(), 1);

    // The default lifetime is fastapi-login's 15 minutes (≤ 1 h).
    assert_eq!(DEFAULT_LIFETIME, Duration::from_secs(900));
}

/// A.50 with another lifetime: `expires_in` and `exp - iat` follow it, in seconds.
#[tokio::test]
async fn token_response_follows_the_lifetime() {
    let app = TestApp::with(|b| b.default_lifetime(Duration::from_secs(3600)));
    let body = login(&app, &[("username", "alice"), ("password", PASSWORD)])
        .await
        .json();
    assert_eq!(body["expires_in"], 3600);
    let claims = forge::payload_of(body["access_token"].as_str().unwrap());
    assert_eq!(claims["exp"], NOW + 3600);

    let response = app
        .manager
        .token_response(TokenRequest::new("alice").lifetime(Duration::from_secs(120)))
        .unwrap();
    assert_eq!(response.expires_in, 120);
    assert_eq!(forge::payload_of(&response.access_token)["exp"], NOW + 120);
}

/// `TokenResponse` on its own carries `Cache-Control: no-store` and `Pragma: no-cache`, and
/// its `Debug` hides the token.
#[tokio::test]
async fn token_response_headers_and_debug() {
    let response = TokenResponse::new("secret.token.value".into(), Duration::from_secs(60));
    assert!(!format!("{response:?}").contains("secret.token.value"));
    let reply = Reply::collect(axum::response::IntoResponse::into_response(response)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_eq!(
        reply.json(),
        json!({ "access_token": "secret.token.value", "token_type": "bearer", "expires_in": 60 })
    );
}

/// A.51: the issued header is exactly `{"alg":<configured>,"typ":"JWT"}` for each algorithm,
/// and each jti is fresh.
#[tokio::test]
async fn issued_header_is_exact() {
    let secret64 = format!("{SECRET}{SECRET}");
    for (alg, name) in [
        (Algorithm::HS256, "HS256"),
        (Algorithm::HS384, "HS384"),
        (Algorithm::HS512, "HS512"),
    ] {
        let app = TestApp::with(|b| b.secret(secret64.as_str()).algorithm(alg));
        assert_eq!(app.manager.algorithm(), alg);
        let token = app.token("alice");
        assert_eq!(
            forge::header_of(&token),
            json!({ "alg": name, "typ": "JWT" })
        );
        let a = forge::payload_of(&token)["jti"].clone();
        let b = forge::payload_of(&app.token("alice"))["jti"].clone();
        assert_ne!(a, b);
        app.bearer("/me", &token)
            .await
            .assert_ok(json!({ "user": "alice" }));

        // Plain jsonwebtoken (the RFC-vector verifier path) accepts it too.
        let key = jsonwebtoken::DecodingKey::from_secret(secret64.as_bytes()).unwrap();
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.leeway = 0;
        validation.validate_exp = false; // the tests' clock is frozen in 2027
        let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
        assert_eq!(data.claims, forge::payload_of(&token));
    }
}

/// A.44: requested scopes are granted only if the user may have them (others silently
/// dropped, RFC 6749 §3.3), de-duplicated, as a JSON array.
#[tokio::test]
async fn login_scope_escalation_is_dropped() {
    let app = TestApp::new();
    let body = login(
        &app,
        &[
            ("username", "alice"),
            ("password", PASSWORD),
            ("scope", "read write write admin"),
        ],
    )
    .await
    .json();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(forge::payload_of(token)["scopes"], json!(["read", "write"]));
    app.bearer("/write", token)
        .await
        .assert_ok(json!({ "user": "alice" }));

    let body = login(
        &app,
        &[
            ("username", "bob"),
            ("password", PASSWORD),
            ("scope", "write admin"),
            ("grant_type", "password"),
            ("client_id", "web"),
            ("client_secret", "s3cr3t"),
        ],
    )
    .await
    .json();
    let token = body["access_token"].as_str().unwrap();
    assert!(forge::payload_of(token).get("scopes").is_none());
    app.bearer("/write", token)
        .await
        .assert(Expect::InsufficientScope("write"));
}

/// The form type: `scope` split on spaces and de-duplicated, optional OAuth fields, and a
/// `Debug` that hides the password and client secret.
#[test]
fn password_form() {
    let form: OAuth2PasswordForm = serde_json::from_value(json!({
        "username": "alice", "password": "hunter2", "scope": " read  write read ",
        "grant_type": "password", "client_id": "web", "client_secret": "shh"
    }))
    .unwrap();
    assert_eq!(form.scope, ["read", "write"]);
    assert_eq!(form.grant_type.as_deref(), Some("password"));
    let debug = format!("{form:?}");
    assert!(
        !debug.contains("hunter2") && !debug.contains("shh"),
        "{debug}"
    );

    let form: OAuth2PasswordForm =
        serde_json::from_value(json!({ "username": "a", "password": "b" })).unwrap();
    assert!(form.scope.is_empty() && form.grant_type.is_none() && form.client_id.is_none());
}

/// A.54: an unknown user and a known user with a wrong password get the identical answer
/// (status, headers, body), and the verifier runs exactly once in both cases.
#[tokio::test]
async fn unknown_user_and_wrong_password_answer_the_same() {
    let unknown_app = TestApp::new();
    let unknown = login(
        &unknown_app,
        &[("username", "nobody"), ("password", PASSWORD)],
    )
    .await;
    let wrong_app = TestApp::new();
    let wrong = login(
        &wrong_app,
        &[("username", "alice"), ("password", "wrong password")],
    )
    .await;

    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.headers, wrong.headers);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(unknown.header("www-authenticate"), Some("Bearer"));
    assert_eq!(unknown.json(), json!({ "detail": "Invalid credentials" }));
    assert_eq!(unknown_app.probe.verifies(), 1);
    assert_eq!(wrong_app.probe.verifies(), 1);
    assert!(unknown.headers.get("set-cookie").is_none());

    // At the API: the same answer, `Ok(false)`, for `None` (unknown user) and a wrong password.
    let stored = &users()["alice"].0;
    assert_eq!(
        password::Passwords::default().verify(PASSWORD, None).await,
        Ok(false)
    );
    assert_eq!(
        password::Passwords::default()
            .verify("wrong password", Some(stored))
            .await,
        Ok(false)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(PASSWORD, Some(stored))
            .await,
        Ok(true)
    );
}

/// A.54 (work): the unknown-user path does a full Argon2id verification too (against a dummy
/// hash), not a quick exit: counted by a scheme wrapping Argon2id, `verify(_, None)` runs
/// exactly one verification, against an Argon2id hash with the current parameters, the same
/// work (m × t) as a wrong password for a real user, and no top-up or hash besides.
#[tokio::test]
async fn unknown_user_costs_a_real_verification() {
    let counter = CountingScheme::new(Argon2id::default());
    let passwords = password::Passwords::new(counter.clone()).unwrap();
    let stored = passwords.hash(PASSWORD).await.unwrap();
    let real_work = m_times_t(&stored);
    assert!(real_work > 0, "{stored}");
    counter.reset(); // the dummy hash and `stored` are not counted

    for round in 1..=3 {
        assert_eq!(passwords.verify("wrong password", None).await, Ok(false));
        assert_eq!(
            counter.take(),
            (1, 0),
            "round {round}: (verifications, hashes)"
        );
        let against = counter.against();
        assert_eq!(against.len(), 1, "round {round}");
        let dummy = &against[0];
        assert_ne!(dummy, &stored, "round {round}");
        let params = |phc: &str| phc.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(dummy), params(&stored), "round {round}");
        assert_eq!(counter.work(), real_work, "round {round}: work");
        counter.reset();
    }

    // A known user with a wrong password: the same count and the same work.
    assert_eq!(
        passwords.verify("wrong password", Some(&stored)).await,
        Ok(false)
    );
    assert_eq!(counter.take(), (1, 0));
    assert_eq!(counter.against(), std::slice::from_ref(&stored));
    assert_eq!(counter.work(), real_work);
}

/// A.55: password bounds — empty and too long (1025 B, 4 KiB, 1 MiB) are refused before any
/// hashing; 1024 bytes and a 64-character passphrase are fine.
#[tokio::test]
async fn password_bounds() {
    let app = TestApp::new();
    let too_long = [MAX_PASSWORD_BYTES + 1, 4 * 1024 + 1, 1024 * 1024];
    for len in too_long {
        let reply = login(
            &app,
            &[("username", "alice"), ("password", &"p".repeat(len))],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{len}");
        assert_eq!(reply.json(), json!({ "detail": "Invalid password length" }));
    }
    let reply = login(&app, &[("username", "alice"), ("password", "")]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let reply = login(
        &app,
        &[
            ("username", "alice"),
            ("password", &"p".repeat(MAX_PASSWORD_BYTES)),
        ],
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNAUTHORIZED,
        "1024 bytes is within bounds (and wrong)"
    );

    assert_eq!(PASSPHRASE.len(), 64);
    let reply = login(&app, &[("username", "long"), ("password", PASSPHRASE)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    // At the API, out-of-bounds input is an error (checked before any hashing).
    let huge = "p".repeat(1024 * 1024);
    assert_eq!(
        password::Passwords::default().verify(&huge, None).await,
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(&huge, Some(&users()["alice"].0))
            .await,
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        password::Passwords::default().hash(&huge).await,
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        password::Passwords::default().verify_blocking(&"p".repeat(MAX_PASSWORD_BYTES + 1), None),
        Err(PasswordError::TooLong)
    );
    assert_eq!(
        password::Passwords::default().verify("", None).await,
        Err(PasswordError::Empty)
    );
    assert_eq!(
        password::Passwords::default().hash("").await,
        Err(PasswordError::Empty)
    );
}

/// A.55: no silent truncation — the whole password counts, up to the maximum.
#[tokio::test]
async fn no_silent_truncation() {
    let long: String = (0..MAX_PASSWORD_BYTES)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let stored = password::Passwords::default().hash(&long).await.unwrap();
    assert_eq!(
        password::Passwords::default()
            .verify(&long, Some(&stored))
            .await,
        Ok(true)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(&long[..MAX_PASSWORD_BYTES - 1], Some(&stored))
            .await,
        Ok(false)
    );
    let mut changed = long.clone();
    changed.replace_range(MAX_PASSWORD_BYTES - 1.., "!");
    assert_eq!(
        password::Passwords::default()
            .verify(&changed, Some(&stored))
            .await,
        Ok(false)
    );
}

/// A.56: a malformed stored hash is a generic login failure (no panic, same answer as a wrong
/// password); a legacy Argon2id hash (m=4096, t=3, p=1) still verifies.
#[tokio::test]
async fn malformed_and_legacy_hashes() {
    let app = TestApp::new();
    let broken = login(&app, &[("username", "broken"), ("password", PASSWORD)]).await;
    let wrong = login(&app, &[("username", "alice"), ("password", "nope")]).await;
    assert_eq!(broken.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (broken.headers.clone(), broken.body.clone()),
        (wrong.headers, wrong.body)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(PASSWORD, Some("not-a-phc-string"))
            .await,
        Ok(false)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(PASSWORD, Some(""))
            .await,
        Ok(false)
    );
    assert_eq!(
        password::Passwords::default()
            .verify(PASSWORD, Some("$argon2id$v=19$m=19456,t=2,p=1$"))
            .await,
        Ok(false)
    );

    let legacy = &users()["legacy"].0;
    assert!(
        legacy.starts_with("$argon2id$v=19$m=4096,t=3,p=1$"),
        "{legacy}"
    );
    let reply = login(&app, &[("username", "legacy"), ("password", PASSWORD)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        password::Passwords::default()
            .verify("nope", Some(legacy))
            .await,
        Ok(false)
    );
}

/// A.57 (format): new hashes are Argon2id v19, m=19456, t=2, p=1, with a fresh salt each time.
#[tokio::test]
async fn new_hashes_are_argon2id_defaults() {
    let a = password::Passwords::default().hash(PASSWORD).await.unwrap();
    let b = password::Passwords::default().hash(PASSWORD).await.unwrap();
    for h in [&a, &b] {
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(h.split('$').count(), 6, "{h}");
    }
    assert_ne!(a, b, "random salt");
    assert_eq!(
        password::Passwords::default()
            .verify(PASSWORD, Some(&a))
            .await,
        Ok(true)
    );
    assert_eq!(
        password::Passwords::default()
            .hash_blocking(PASSWORD)
            .map(|h| h[..31].to_owned()),
        Ok(a[..31].to_owned())
    );
}

/// A.57 (executor): hashing and verifying run off the async executor — on a current-thread
/// runtime, another future keeps being polled while they run.
#[tokio::test]
async fn hashing_does_not_block_the_executor() {
    async fn ticks_while(done: &AtomicBool) -> usize {
        let mut n = 0;
        while !done.load(Ordering::SeqCst) {
            tokio::task::yield_now().await;
            n += 1;
        }
        n
    }
    let done = AtomicBool::new(false);
    let work = async {
        let h = password::Passwords::default().hash(PASSWORD).await.unwrap();
        let ok = password::Passwords::default()
            .verify(PASSWORD, Some(&h))
            .await
            .unwrap();
        done.store(true, Ordering::SeqCst);
        ok
    };
    let (ticks, ok) = tokio::join!(ticks_while(&done), work);
    assert!(ok);
    assert!(ticks > 10, "the executor was blocked ({ticks} ticks)");
}

/// The login route's failures are what fastapi-login answers, and no login token is set on
/// failure.
#[tokio::test]
async fn login_failure_body_is_fastapi_logins() {
    let app = TestApp::new();
    let reply = login(&app, &[("username", "alice"), ("password", "nope")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.text(), r#"{"detail":"Invalid credentials"}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let _: Value = reply.json();
}
