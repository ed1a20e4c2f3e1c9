//! Claim rules (A.29–A.39): `exp` required and strictly after now, leeway,
//! NumericDate types, `nbf`, `iat`, typed `sub`, `aud`/`iss`, and the RFC 7515 A.1 vector.
//! Every token here is validly MACed with the fixture key, so only the claims are at fault.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use login::{TokenRequest, keys::Secret, rejection::VerifyError};
use login_test_support::forge::{self, unb64};
use login_test_support::{Expect, NOW};
use login_tests::TestApp;
use serde_json::{Value, json};

/// Asserts that each claim set, MACed with the fixture key, is refused with `invalid_token`
/// (and by `verify_token` with `reason`), with the loader and handler never run.
async fn refused(app: &TestApp, claim_sets: &[Value], reason: fn(&VerifyError) -> bool) {
    for claims in claim_sets {
        let token = forge::claims(claims);
        let error = app
            .manager
            .verify_token(&token)
            .expect_err(&claims.to_string());
        assert!(reason(&error), "{claims}: unexpected reason {error:?}");
        app.assert_rejected_bearer(&token, Expect::InvalidToken)
            .await;
    }
}

/// Asserts that each claim set is accepted over HTTP (the loader gets `alice`).
async fn accepted(app: &TestApp, claim_sets: &[Value]) {
    for claims in claim_sets {
        let token = forge::claims(claims);
        app.bearer("/me", &token)
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
}

fn invalid_claims(e: &VerifyError) -> bool {
    matches!(e, VerifyError::InvalidClaims(_))
}

/// A.29: `exp` is required.
#[tokio::test]
async fn exp_is_required() {
    let app = TestApp::new();
    refused(
        &app,
        &[
            json!({ "sub": "alice" }),
            json!({ "sub": "alice", "iat": NOW }),
        ],
        invalid_claims,
    )
    .await;
}

/// A.30: `exp` must be a NumericDate (a JSON number between 0 and year 9999).
#[tokio::test]
async fn exp_must_be_a_number() {
    let app = TestApp::new();
    let sets: Vec<Value> = [
        json!("9999999999"),
        json!(null),
        json!(true),
        json!(-1),
        json!([NOW + 900]),
        json!({ "exp": NOW + 900 }),
        json!(1e300),
        json!(f64::MAX),
    ]
    .into_iter()
    .map(|exp| json!({ "sub": "alice", "exp": exp }))
    .collect();
    refused(&app, &sets, invalid_claims).await;
    // 2^64 does not fit any integer type.
    let token = forge::hs256(r#"{"sub":"alice","exp":18446744073709551616}"#);
    assert!(app.manager.verify_token(&token).is_err());
    app.assert_rejected_bearer(&token, Expect::InvalidToken)
        .await;
}

/// A.31: with no leeway, `exp == now` is expired (RFC 7519 §4.1.4: now MUST be before `exp`).
#[tokio::test]
async fn exp_boundary_without_leeway() {
    let app = TestApp::new();
    let expired = |e: &VerifyError| *e == VerifyError::Expired;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW - 1 }),
            json!({ "sub": "alice", "exp": NOW }),
            json!({ "sub": "alice", "exp": 0 }),
        ],
        expired,
    )
    .await;
    accepted(&app, &[json!({ "sub": "alice", "exp": NOW + 1 })]).await;
    assert_eq!(app.probe.loads(), 1);
}

/// A.31 with the manager's own tokens and a moving clock: valid until one second before
/// `iat + lifetime`, expired from then on.
#[tokio::test]
async fn minted_token_expires_exactly_at_its_lifetime() {
    let app = TestApp::new();
    let token = app.token("alice");
    let claims = forge::payload_of(&token);
    assert_eq!(claims["iat"], NOW);
    assert_eq!(claims["exp"], NOW + 900);

    app.set_now(NOW + 899);
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    app.set_now(NOW + 900);
    let reply = app.bearer("/me", &token).await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&token);
    assert_eq!(app.manager.verify_token(&token), Err(VerifyError::Expired));
    assert_eq!(app.probe.loads(), 1, "no load for the expired request");
    assert_eq!(app.probe.runs(), 1);
}

/// A.32: a configured leeway `L` extends `exp`, `nbf` and `iat` by exactly `L` seconds.
#[tokio::test]
async fn leeway_is_exact() {
    const L: i64 = 30;
    let app = TestApp::with(|b| b.leeway(L as u64));
    accepted(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW - L + 1 }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW + L }),
            json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW + L }),
        ],
    )
    .await;
    let app = TestApp::with(|b| b.leeway(L as u64));
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW - L }),
            json!({ "sub": "alice", "exp": NOW - L - 1 }),
        ],
        |e| *e == VerifyError::Expired,
    )
    .await;
    refused(
        &app,
        &[json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW + L + 1 })],
        |e| *e == VerifyError::NotYetValid,
    )
    .await;
    refused(
        &app,
        &[json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW + L + 1 })],
        |e| *e == VerifyError::IssuedInFuture,
    )
    .await;
}

/// The default leeway is 0 (as PyJWT), not jsonwebtoken's 60 s.
#[tokio::test]
async fn default_leeway_is_zero() {
    let app = TestApp::new();
    refused(&app, &[json!({ "sub": "alice", "exp": NOW - 30 })], |e| {
        *e == VerifyError::Expired
    })
    .await;
    refused(
        &app,
        &[json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW + 1 })],
        |e| *e == VerifyError::NotYetValid,
    )
    .await;
}

/// A.33: a fractional NumericDate is accepted (as PyJWT and fastapi-login issue them); it is
/// truncated towards the past, so `now + 0.5` is already expired.
#[tokio::test]
async fn float_exp_is_accepted() {
    let app = TestApp::new();
    let exp = NOW as f64 + 900.5;
    accepted(
        &app,
        &[
            json!({ "sub": "alice", "exp": exp }),
            json!({ "sub": "alice", "exp": exp, "iat": NOW as f64 - 0.25, "nbf": NOW as f64 - 0.75 }),
            json!({ "sub": "alice", "exp": NOW as f64 + 1.0 }),
        ],
    )
    .await;
    let claims = app
        .manager
        .verify_token(&forge::claims(&json!({ "sub": "alice", "exp": exp })))
        .unwrap();
    assert_eq!(claims.exp, NOW + 900);

    let app = TestApp::new();
    refused(
        &app,
        &[json!({ "sub": "alice", "exp": NOW as f64 + 0.5 })],
        |e| *e == VerifyError::Expired,
    )
    .await;
}

/// A.34: `nbf` is checked, and must be a number.
#[tokio::test]
async fn nbf_is_checked() {
    let app = TestApp::new();
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 9000, "nbf": NOW + 3000 }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW + 1 }),
        ],
        |e| *e == VerifyError::NotYetValid,
    )
    .await;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": (NOW + 3000).to_string() }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": "not-an-int" }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": null }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": -5 }),
        ],
        invalid_claims,
    )
    .await;
    accepted(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW }),
            json!({ "sub": "alice", "exp": NOW + 900, "nbf": NOW - 100 }),
        ],
    )
    .await;
}

/// `iat`, when present, is a number and not in the future; it may be absent (fastapi-login's
/// tokens have none).
#[tokio::test]
async fn iat_not_in_the_future() {
    let app = TestApp::new();
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW + 1 }),
            json!({ "sub": "alice", "exp": NOW + 9000, "iat": NOW + 3600 }),
        ],
        |e| *e == VerifyError::IssuedInFuture,
    )
    .await;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW.to_string() }),
            json!({ "sub": "alice", "exp": NOW + 900, "iat": null }),
            json!({ "sub": "alice", "exp": NOW + 900, "iat": true }),
        ],
        invalid_claims,
    )
    .await;
    accepted(
        &app,
        &[
            json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW }),
            json!({ "sub": "alice", "exp": NOW + 900, "iat": NOW - 10_000 }),
            json!({ "sub": "alice", "exp": NOW + 900 }),
        ],
    )
    .await;
}

/// A.36: `sub` is a non-empty string; anything else is refused before the loader.
#[tokio::test]
async fn sub_must_be_a_non_empty_string() {
    let app = TestApp::new();
    let exp = NOW + 900;
    refused(
        &app,
        &[
            json!({ "exp": exp }),
            json!({ "sub": null, "exp": exp }),
            json!({ "sub": 123, "exp": exp }),
            json!({ "sub": ["alice"], "exp": exp }),
            json!({ "sub": {}, "exp": exp }),
            json!({ "sub": "", "exp": exp }),
            json!({ "sub": true, "exp": exp }),
        ],
        invalid_claims,
    )
    .await;
}

/// Other registered claims are typed too: `jti` and `iss` strings, `aud` a string or an array
/// of strings.
#[tokio::test]
async fn registered_claims_are_typed() {
    let app = TestApp::new();
    let exp = NOW + 900;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": exp, "jti": 1 }),
            json!({ "sub": "alice", "exp": exp, "iss": ["a"] }),
            json!({ "sub": "alice", "exp": exp, "iss": 7 }),
            json!({ "sub": "alice", "exp": exp, "aud": 7 }),
            json!({ "sub": "alice", "exp": exp, "aud": ["a", 7] }),
        ],
        invalid_claims,
    )
    .await;
}

/// A.38: a token with an `aud` is refused when no audience is configured (string or array).
#[tokio::test]
async fn aud_without_configured_audience_is_refused() {
    let app = TestApp::new();
    let exp = NOW + 900;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": exp, "aud": "other" }),
            json!({ "sub": "alice", "exp": exp, "aud": ["other"] }),
            json!({ "sub": "alice", "exp": exp, "aud": ["a", "b"] }),
        ],
        |e| *e == VerifyError::WrongAudience,
    )
    .await;
    // And our own tokens carry no `aud` by default (so PyJWT accepts them without `audience=`).
    assert!(forge::payload_of(&app.token("alice")).get("aud").is_none());
}

/// A configured audience is issued and required: exact, case-sensitive, in a string or an
/// array.
#[tokio::test]
async fn configured_audience() {
    let app = TestApp::with(|b| b.audience("api://items"));
    let token = app.token("alice");
    assert_eq!(forge::payload_of(&token)["aud"], "api://items");
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    let exp = NOW + 900;
    accepted(
        &app,
        &[json!({ "sub": "alice", "exp": exp, "aud": ["other", "api://items"] })],
    )
    .await;

    let app = TestApp::with(|b| b.audience("api://items"));
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": exp }),
            json!({ "sub": "alice", "exp": exp, "aud": "other" }),
            json!({ "sub": "alice", "exp": exp, "aud": "API://ITEMS" }),
            json!({ "sub": "alice", "exp": exp, "aud": [] }),
            json!({ "sub": "alice", "exp": exp, "aud": ["other"] }),
        ],
        |e| *e == VerifyError::WrongAudience,
    )
    .await;
}

/// A configured issuer is issued and required, compared exactly (no prefix match).
#[tokio::test]
async fn configured_issuer() {
    let iss = "https://auth.example";
    let app = TestApp::with(|b| b.issuer(iss));
    let token = app.token("alice");
    assert_eq!(forge::payload_of(&token)["iss"], iss);
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));

    let app = TestApp::with(|b| b.issuer(iss));
    let exp = NOW + 900;
    refused(
        &app,
        &[
            json!({ "sub": "alice", "exp": exp }),
            json!({ "sub": "alice", "exp": exp, "iss": "https://evil.example" }),
            json!({ "sub": "alice", "exp": exp, "iss": "https://auth.example.evil" }),
            json!({ "sub": "alice", "exp": exp, "iss": "https://auth.exampl" }),
            json!({ "sub": "alice", "exp": exp, "iss": "" }),
        ],
        |e| *e == VerifyError::WrongIssuer,
    )
    .await;
}

/// Issuer and audience together, through the token response's token.
#[tokio::test]
async fn issuer_and_audience_together() {
    let app = TestApp::with(|b| b.issuer("me").audience("you"));
    let token = app
        .manager
        .create_access_token(TokenRequest::new("alice"))
        .unwrap();
    let claims = app.manager.verify_token(&token).unwrap();
    assert_eq!(claims.iss.as_deref(), Some("me"));
    assert_eq!(claims.aud, vec!["you"]);
    // A manager with the same key but another audience refuses it.
    let other = TestApp::with(|b| b.issuer("me").audience("someone-else"));
    other
        .assert_rejected_bearer(&token, Expect::InvalidToken)
        .await;
}

const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

/// A.39: the RFC 7515 A.1 token verifies at the JWS layer (jsonwebtoken, `exp` not checked) —
/// interop proof — and the manager refuses it: expired on the real clock, and still refused
/// with the clock frozen before its `exp`, because it has no `sub`.
#[tokio::test]
async fn rfc7515_appendix_a1() {
    let key = unb64(RFC7515_A1_KEY);
    assert_eq!(key.len(), 64);

    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(
        RFC7515_A1,
        &DecodingKey::from_secret(&key).unwrap(),
        &validation,
    )
    .expect("RFC 7515 A.1 verifies at the JWS layer");
    assert_eq!(data.claims["iss"], "joe");
    assert_eq!(data.claims["exp"], 1_300_819_380);
    assert_eq!(data.claims["http://example.com/is_root"], true);

    // The real clock: expired.
    let real = login::LoginManager::builder("/login")
        .secret(Secret::new(key.clone()))
        .build()
        .unwrap();
    assert!(real.verify_token(RFC7515_A1).is_err());
    let app = TestApp::from_manager(real, Default::default());
    app.assert_rejected_bearer(RFC7515_A1, Expect::InvalidToken)
        .await;

    // Frozen one second before `exp`: still refused (no `sub`).
    let frozen = login::LoginManager::builder("/login")
        .secret(Secret::new(key))
        .clock(|| 1_300_819_379)
        .build()
        .unwrap();
    assert!(matches!(
        frozen.verify_token(RFC7515_A1),
        Err(VerifyError::InvalidClaims(_))
    ));
    let app = TestApp::from_manager(frozen, Default::default());
    app.assert_rejected_bearer(RFC7515_A1, Expect::InvalidToken)
        .await;
}

/// C.5: public jwt.io example tokens (no `exp`) are refused even with their (public) secret.
#[tokio::test]
async fn jwt_io_examples_are_refused() {
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30";
    let app = TestApp::with(|b| b.secret("a-string-secret-at-least-256-bits-long"));
    assert!(matches!(
        app.manager.verify_token(token),
        Err(VerifyError::InvalidClaims(_))
    ));
    app.assert_rejected_bearer(token, Expect::InvalidToken)
        .await;
}
