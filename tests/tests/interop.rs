//! fastapi-login / PyJWT interoperability: tokens minted by PyJWT with the same secret are
//! accepted, and ours decode with PyJWT (DESIGN.md "Tokens").
//!
//! The PyJWT tokens below were minted once with PyJWT 2.15.1:
//!
//! ```python
//! import jwt
//! k = "0123456789abcdef0123456789abcdef"
//! jwt.encode({"sub": "alice", "exp": 4102444800, "scopes": ["read", "write"]}, k, algorithm="HS256")
//! jwt.encode({"sub": "john@mail.com", "exp": 4102444800.5, "iat": 1700000000,
//!             "scope": "read write", "name": "John"}, k, algorithm="HS256")
//! jwt.encode({"sub": "alice", "exp": 4102444800}, k + k, algorithm="HS512")
//! ```
//!
//! The first has the shape fastapi-login's `create_access_token` produces (`sub`, `exp`,
//! `scopes` array, no `iat`); the second uses a fractional `exp` and the OAuth `scope` string.

use std::process::Command;

use jsonwebtoken::Algorithm;
use login::{LoginManager, TokenRequest};
use login_test_support::{SECRET, forge};
use login_tests::{TestApp, pyjwt_available};
use serde_json::{Value, json};

/// fastapi-login-shaped token (HS256, `SECRET`, exp 2100-01-01).
const PYJWT_FASTAPI_LOGIN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGVzIjpbInJlYWQiLCJ3cml0ZSJdfQ.ek4kxYd88n_mc2LWQ64XMuRffaaGqQ4XHh858VC2UmM";
/// Float `exp`, `iat`, OAuth `scope` string and an extra claim (HS256, `SECRET`).
const PYJWT_FLOAT_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqb2huQG1haWwuY29tIiwiZXhwIjo0MTAyNDQ0ODAwLjUsImlhdCI6MTcwMDAwMDAwMCwic2NvcGUiOiJyZWFkIHdyaXRlIiwibmFtZSI6IkpvaG4ifQ.P3p-bLA_lnPOcPlWXDWVyjOSHxJd9ExAcUNznbEnJww";
/// HS512 with the 64-byte secret `SECRET + SECRET`.
const PYJWT_HS512: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0.yjRyB64TSXWz943gtwxscyAHsLOg9Gkq1vshhP-dK195wLJWpTl09P5DEEsmUtnuKBO8BCNKb3-C6csrK9qC3g";

/// A PyJWT (fastapi-login) token is accepted by a manager with the same secret, on the real
/// clock and on the tests' frozen clock, scopes included.
#[tokio::test]
async fn pyjwt_token_is_accepted() {
    let real = LoginManager::new(SECRET, "/login").unwrap();
    let claims = real.verify_token(PYJWT_FASTAPI_LOGIN).unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.exp, 4_102_444_800);
    assert_eq!(claims.scopes, ["read", "write"]);
    assert_eq!(claims.iat, None);

    let app = TestApp::new();
    app.bearer("/write", PYJWT_FASTAPI_LOGIN)
        .await
        .assert_ok(json!({ "user": "alice" }));
    app.bearer("/read-write", PYJWT_FASTAPI_LOGIN)
        .await
        .assert_ok(json!({ "user": "alice" }));

    let claims = real.verify_token(PYJWT_FLOAT_EXP).unwrap();
    assert_eq!(claims.sub, "john@mail.com");
    assert_eq!(claims.exp, 4_102_444_800);
    assert_eq!(claims.iat, Some(1_700_000_000));
    assert_eq!(claims.scopes, ["read", "write"]);
    assert_eq!(claims.extra["name"], "John");
    app.bearer("/read-write", PYJWT_FLOAT_EXP)
        .await
        .assert_ok(json!({ "user": "john@mail.com" }));

    let secret64 = format!("{SECRET}{SECRET}");
    let app = TestApp::with(|b| b.secret(secret64.as_str()).algorithm(Algorithm::HS512));
    app.bearer("/me", PYJWT_HS512)
        .await
        .assert_ok(json!({ "user": "alice" }));
    // …and an HS256 manager refuses the HS512 token.
    TestApp::new()
        .assert_rejected_bearer(PYJWT_HS512, login_test_support::Expect::InvalidToken)
        .await;
}

/// Whether the PyJWT test can run: PyJWT importable, or else skipped with a note — except
/// under CI (the `CI` variable set), where a missing PyJWT is a failure.
fn pyjwt_or_skip(test: &str) -> bool {
    if pyjwt_available() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but `python3 -c 'import jwt'` fails: install PyJWT (`pip install pyjwt`) to run {test}"
        );
    }
    println!(
        "note: skipping {test}: `python3 -c 'import jwt'` failed (install PyJWT; under CI this test is required)"
    );
    false
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
    let output = Command::new("python3")
        .args(["-c", SCRIPT, token, secret, alg])
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())
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
