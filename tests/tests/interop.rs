//! fastapi-login / PyJWT interoperability, both directions live: tokens
//! minted by PyJWT during the test, the way fastapi-login's `create_access_token` mints them,
//! are accepted by a manager with the same secret, over HTTP, in the header and in the shared
//! `access-token` cookie; and ours decode with PyJWT under fastapi-login's settings.
//!
//! PyJWT missing: skipped with a note, except under CI (`CI` set), where it fails.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use jsonwebtoken::Algorithm;
use login::{LoginManager, TokenRequest, rejection::VerifyError};
use login_test_support::{Expect, SECRET, forge};
use login_tests::{TestApp, builder, python};
use serde_json::{Value, json};

fn pyjwt_or_skip(test: &str) -> bool {
    python::require("jwt", "pip install pyjwt", test)
}

/// fastapi-login's `LoginManager.create_access_token(data={"sub": sub}, expires=…,
/// scopes=…)`, as its source does it: `exp` is now (UTC) `+ expires` (15 minutes by
/// default), `scopes` the list of the set of scopes when given (in no set order), then
/// `jwt.encode(to_encode, secret, algorithm)`.
fn fastapi_login_token(
    sub: &str,
    scopes: Option<&[&str]>,
    expires_secs: i64,
    secret: &str,
) -> String {
    const SCRIPT: &str = r#"
import json, sys, jwt
from datetime import datetime, timedelta, timezone
sub, scopes, expires, secret = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
to_encode = {"sub": sub}
to_encode.update({"exp": datetime.now(timezone.utc) + timedelta(seconds=expires)})
if scopes is not None:
    to_encode.update({"scopes": list(set(scopes))})
print(jwt.encode(to_encode, secret, "HS256"))
"#;
    let scopes = json!(scopes).to_string();
    python::run(SCRIPT, &[sub, &scopes, &expires_secs.to_string(), secret])
        .expect("PyJWT mints a token")
        .trim()
        .to_owned()
}

/// `jwt.encode(claims, secret, algorithm=alg)` of any claims.
fn pyjwt_encode(claims: &Value, secret: &str, alg: &str) -> String {
    const SCRIPT: &str = r#"
import json, sys, jwt
print(jwt.encode(json.loads(sys.argv[1]), sys.argv[2], algorithm=sys.argv[3]))
"#;
    python::run(SCRIPT, &[&claims.to_string(), secret, alg])
        .expect("PyJWT mints a token")
        .trim()
        .to_owned()
}

/// A test app on the real clock (PyJWT's `exp` is relative to now), configured by `configure`.
fn real_clock_app(
    configure: impl FnOnce(login::LoginManagerBuilder) -> login::LoginManagerBuilder,
) -> TestApp {
    let manager = configure(builder()).build().expect("valid configuration");
    TestApp::from_manager(manager, Arc::new(AtomicI64::new(0)))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token fastapi-login mints now is accepted by a manager with the same secret: its claims,
/// and over HTTP with its scopes, in the `Authorization` header and in the `access-token`
/// cookie both apps share.
#[tokio::test]
async fn a_live_fastapi_login_token_is_accepted() {
    if !pyjwt_or_skip("a_live_fastapi_login_token_is_accepted") {
        return;
    }
    let before = now();
    let token = fastapi_login_token("alice", Some(&["read", "write"]), 15 * 60, SECRET);
    let manager = LoginManager::new(SECRET, "/login").unwrap();
    let claims = manager.verify_token(&token).unwrap();
    assert_eq!(claims.sub, "alice");
    assert!(
        (before + 900..=now() + 900).contains(&claims.exp),
        "{}",
        claims.exp
    );
    let mut scopes = claims.scopes.clone();
    scopes.sort();
    assert_eq!(scopes, ["read", "write"]);
    assert_eq!(claims.iat, None);
    assert_eq!(claims.jti, None);

    let app = real_clock_app(|b| b.use_cookie(true));
    assert_eq!(app.manager.cookie_name(), "access-token");
    for path in ["/me", "/write", "/read-write"] {
        app.bearer(path, &token)
            .await
            .assert_ok(json!({ "user": "alice" }));
        app.cookie(path, &token)
            .await
            .assert_ok(json!({ "user": "alice" }));
    }

    // Without `scopes` (fastapi-login's default): a user, but not a scoped one.
    let plain = fastapi_login_token("bob@mail.com", None, 60, SECRET);
    assert!(
        !forge::payload_of(&plain)
            .as_object()
            .unwrap()
            .contains_key("scopes")
    );
    app.bearer("/me", &plain)
        .await
        .assert_ok(json!({ "user": "bob@mail.com" }));
    app.bearer("/write", &plain)
        .await
        .assert(Expect::InsufficientScope("write"));
}

/// What `login` refuses of live fastapi-login tokens: an expired one, and one signed with
/// another secret.
#[tokio::test]
async fn live_fastapi_login_tokens_are_refused_when_expired_or_foreign() {
    if !pyjwt_or_skip("live_fastapi_login_tokens_are_refused_when_expired_or_foreign") {
        return;
    }
    let manager = LoginManager::new(SECRET, "/login").unwrap();
    let expired = fastapi_login_token("alice", None, -3600, SECRET);
    assert_eq!(manager.verify_token(&expired), Err(VerifyError::Expired));
    let other = fastapi_login_token("alice", None, 900, &format!("{SECRET}-other"));
    assert_eq!(manager.verify_token(&other), Err(VerifyError::BadSignature));
    let app = real_clock_app(|b| b);
    for token in [expired, other] {
        app.assert_rejected_bearer(&token, Expect::InvalidToken)
            .await;
    }
}

/// PyJWT tokens of other shapes: a fractional `exp`, `iat`, the OAuth `scope` string and an
/// extra claim; HS512 with a 64-byte secret (refused by an HS256 manager).
#[tokio::test]
async fn live_pyjwt_tokens_of_other_shapes_are_accepted() {
    if !pyjwt_or_skip("live_pyjwt_tokens_of_other_shapes_are_accepted") {
        return;
    }
    let exp = now() + 600;
    let claims = json!({ "sub": "john@mail.com", "exp": exp as f64 + 0.5, "iat": now(),
                         "scope": "read write", "name": "John" });
    let token = pyjwt_encode(&claims, SECRET, "HS256");
    let decoded = LoginManager::new(SECRET, "/login")
        .unwrap()
        .verify_token(&token)
        .unwrap();
    assert_eq!(decoded.sub, "john@mail.com");
    assert_eq!(decoded.exp, exp);
    assert_eq!(decoded.scopes, ["read", "write"]);
    assert_eq!(decoded.extra["name"], "John");
    real_clock_app(|b| b)
        .bearer("/read-write", &token)
        .await
        .assert_ok(json!({ "user": "john@mail.com" }));

    let secret64 = format!("{SECRET}{SECRET}");
    let hs512 = pyjwt_encode(&json!({ "sub": "alice", "exp": exp }), &secret64, "HS512");
    real_clock_app(|b| b.secret(secret64.as_str()).algorithm(Algorithm::HS512))
        .bearer("/me", &hs512)
        .await
        .assert_ok(json!({ "user": "alice" }));
    real_clock_app(|b| b)
        .assert_rejected_bearer(&hs512, Expect::InvalidToken)
        .await;
}

/// Decodes `token` with PyJWT (`jwt.decode` with `algorithms=[alg]`, requiring `exp`, `iat`
/// and `sub`, no audience), as fastapi-login does.
fn pyjwt_decode(token: &str, secret: &str, alg: &str) -> Result<Value, String> {
    const SCRIPT: &str = r#"
import json, sys, jwt
token, secret, alg = sys.argv[1:4]
claims = jwt.decode(token, secret, algorithms=[alg], options={"require": ["exp", "iat", "sub"]})
print(json.dumps(claims))
"#;
    let output = python::run(SCRIPT, &[token, secret, alg])?;
    serde_json::from_str(&output).map_err(|e| e.to_string())
}

/// Our tokens decode with PyJWT (real clock): claims, scopes array and extra claims intact.
#[test]
fn our_token_decodes_with_pyjwt() {
    if !pyjwt_or_skip("our_token_decodes_with_pyjwt") {
        return;
    }
    let manager = LoginManager::new(SECRET, "/login").unwrap();
    let token = manager
        .create_access_token(
            TokenRequest::new("johndoe@mail.com")
                .scopes(["items:read", "items:write"])
                .extra(&json!({ "name": "John", "tenant": 7 })),
        )
        .unwrap();
    let decoded = pyjwt_decode(&token, SECRET, "HS256").expect("PyJWT decodes our token");
    assert_eq!(decoded, forge::payload_of(&token));
    assert_eq!(decoded["sub"], "johndoe@mail.com");
    assert_eq!(decoded["scopes"], json!(["items:read", "items:write"]));
    assert_eq!(decoded["tenant"], 7);

    // HS512 with a 64-byte secret too.
    let secret64 = format!("{SECRET}{SECRET}");
    let manager = LoginManager::builder("/login")
        .secret(secret64.as_str())
        .algorithm(Algorithm::HS512)
        .build()
        .unwrap();
    let token = manager.create_access_token("alice").unwrap();
    assert_eq!(
        pyjwt_decode(&token, &secret64, "HS512").unwrap()["sub"],
        "alice"
    );

    // Sanity: PyJWT refuses it with another secret.
    assert!(pyjwt_decode(&token, &format!("{SECRET}x{SECRET}"), "HS512").is_err());
}
