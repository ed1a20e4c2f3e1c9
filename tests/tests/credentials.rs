//! Where the token comes from: the `Authorization` header, its scheme, and what is never read
//! (A.1–A.7).
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use login_test_support::Expect;
use login_tests::TestApp;
use serde_json::json;

/// A.1: no `Authorization`, no cookie → 401 `Bearer` without an error code.
#[tokio::test]
async fn no_credentials_is_a_bare_bearer_challenge() {
    let app = TestApp::new();
    for path in [
        "/me",
        "/write",
        "/read-write",
        "/claims",
        "/twice",
        "/tenant",
    ] {
        app.get(path, &[]).await.assert(Expect::NoCredentials);
    }
    app.assert_untouched();
}

/// A.2: other schemes carry no bearer credentials → 401 `Bearer` without an error code, even
/// with a valid token after them.
#[tokio::test]
async fn unsupported_schemes_are_no_credentials() {
    let app = TestApp::new();
    let good = app.token("alice");
    for value in [
        "Basic dXNlcjpwYXNz".to_owned(),
        format!("Token {good}"),
        format!("Bearers {good}"),
        format!("JWT {good}"),
        format!("Digest {good}"),
        good.clone(),
    ] {
        let reply = app.get("/me", &[("authorization", &value)]).await;
        reply.assert(Expect::NoCredentials);
        reply.assert_not_echoed(&good);
    }
    app.assert_untouched();
}

/// A.3: the scheme is case-insensitive (RFC 9110 §11.1).
#[tokio::test]
async fn bearer_scheme_is_case_insensitive() {
    let app = TestApp::new();
    let good = app.token("alice");
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        app.get("/me", &[("authorization", &format!("{scheme} {good}"))])
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
    assert_eq!(app.probe.loads(), 4);
    assert_eq!(app.probe.runs(), 4);
    assert_eq!(app.probe.subjects(), vec!["alice"; 4]);
}

/// A.4: an empty token counts as no credentials, never 200.
#[tokio::test]
async fn empty_bearer_token_is_no_credentials() {
    let app = TestApp::new();
    for value in ["Bearer", "Bearer ", "Bearer    ", "bearer "] {
        app.get("/me", &[("authorization", value)])
            .await
            .assert(Expect::NoCredentials);
    }
    app.assert_untouched();
}

/// A.5: the scheme and the token are separated by one or more spaces (`1*SP`); anything else
/// is not a bearer credential.
#[tokio::test]
async fn scheme_separator() {
    let app = TestApp::new();
    let good = app.token("alice");

    for value in [
        format!("Bearer{good}"),
        format!("Bearer\t{good}"),
        format!("Bearer:{good}"),
    ] {
        let reply = app.get("/me", &[("authorization", &value)]).await;
        reply.assert(Expect::NoCredentials);
        reply.assert_not_echoed(&good);
    }
    app.assert_untouched();

    // Two spaces (1*SP) and trailing spaces are fine.
    for value in [format!("Bearer  {good}"), format!("Bearer {good}  ")] {
        app.get("/me", &[("authorization", &value)])
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
    assert_eq!(app.probe.runs(), 2);
}

/// A.10 at the header: whitespace inside the token or a trailing tab is part of the token,
/// which then fails verification.
#[tokio::test]
async fn whitespace_inside_the_token_is_invalid() {
    let app = TestApp::new();
    let good = app.token("alice");
    let (h, rest) = good.split_once('.').unwrap();
    for value in [
        format!("Bearer {h}. {rest}"),
        format!("Bearer {good}\t"),
        format!("Bearer {h} .{rest}"),
        format!("Bearer {good} x"),
    ] {
        let reply = app.get("/me", &[("authorization", &value)]).await;
        reply.assert(Expect::InvalidToken);
        reply.assert_not_echoed(&good);
    }
    app.assert_untouched();
}

/// More than one `Authorization` header is a malformed request (400 `invalid_request`), never
/// "first one wins" — also when both are valid, identical, or one is empty.
#[tokio::test]
async fn two_authorization_headers_are_a_malformed_request() {
    let app = TestApp::new();
    let alice = app.token("alice");
    let bob = app.token("bob");
    let cases = [
        (format!("Bearer {alice}"), format!("Bearer {bob}")),
        (format!("Bearer {alice}"), format!("Bearer {alice}")),
        (format!("Bearer {alice}"), "Bearer".to_owned()),
        ("Basic dXNlcjpwYXNz".to_owned(), format!("Bearer {alice}")),
    ];
    for (first, second) in &cases {
        for path in [
            "/me",
            "/maybe",
            "/maybe-user",
            "/claims",
            "/maybe-claims",
            "/write",
            "/maybe-write",
        ] {
            let reply = app
                .get(path, &[("authorization", first), ("authorization", second)])
                .await;
            reply.assert(Expect::InvalidRequest);
            reply.assert_not_echoed(&alice);
            reply.assert_not_echoed(&bob);
        }
    }
    app.assert_untouched();
}

/// An `Authorization` value that is not visible ASCII (obs-text) is a malformed request.
#[tokio::test]
async fn non_ascii_authorization_is_a_malformed_request() {
    let app = TestApp::new();
    let good = app.token("alice");
    let mut value = format!("Bearer {good}").into_bytes();
    value.push(0xFF);
    app.authorization_bytes("/me", &value)
        .await
        .assert(Expect::InvalidRequest);
    app.authorization_bytes("/me", b"Bearer \xc3\xa9t\xc3\xa9")
        .await
        .assert(Expect::InvalidRequest);
    app.assert_untouched();
}

/// A.7: tokens in the query string or a form body are never read.
#[tokio::test]
async fn query_and_body_tokens_are_never_read() {
    let app = TestApp::new();
    let good = app.token("alice");

    for path in [
        format!("/me?access_token={good}"),
        format!("/me?token={good}"),
        format!("/me?authorization=Bearer%20{good}"),
    ] {
        let reply = app.get(&path, &[]).await;
        reply.assert(Expect::NoCredentials);
        reply.assert_not_echoed(&good);
    }

    let request = Request::post("/me")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("access_token={good}")))
        .unwrap();
    let reply = app.send(request).await;
    reply.assert(Expect::NoCredentials);
    reply.assert_not_echoed(&good);

    let request = Request::post("/me")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "access_token": good }).to_string()))
        .unwrap();
    app.send(request).await.assert(Expect::NoCredentials);

    app.assert_untouched();
}

/// A.7, second half — a pinned divergence: with a header token *and* a query token, the query
/// is not looked at (the library never reads the query string), so the header decides.
/// RFC 6750 §3.1 would allow 400 `invalid_request` here; detecting it would mean reading the
/// query.
#[tokio::test]
async fn header_plus_query_token_uses_the_header_only() {
    let app = TestApp::new();
    let alice = app.token("alice");
    let bob = app.token("bob");
    app.bearer(&format!("/me?access_token={bob}"), &alice)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.probe.subjects(), vec!["alice"]);

    // An invalid header token is not rescued by a valid query token.
    let reply = app
        .bearer(&format!("/me?access_token={alice}"), "not.a.token")
        .await;
    reply.assert(Expect::InvalidToken);
    assert_eq!(app.probe.loads(), 1);
}

/// Cookie-only mode: the `Authorization` header is not a token source, so a bearer token is no
/// credentials — and the 401 still carries a `WWW-Authenticate` challenge (RFC 9110 §15.5.2).
/// Two `Authorization` headers are not even looked at.
#[tokio::test]
async fn cookie_only_mode_ignores_the_header() {
    let app = TestApp::with(|b| b.use_header(false).use_cookie(true));
    let good = app.token("alice");
    let reply = app.bearer("/me", &good).await;
    reply.assert(Expect::NoCredentials);
    reply.assert_not_echoed(&good);
    app.get(
        "/me",
        &[
            ("authorization", &format!("Bearer {good}")),
            ("authorization", "Bearer x"),
        ],
    )
    .await
    .assert(Expect::NoCredentials);
    app.get("/me", &[]).await.assert(Expect::NoCredentials);
    app.assert_untouched();

    app.cookie("/me", &good)
        .await
        .assert_ok(json!({ "user": "alice" }));
}

/// A route without an extractor is not affected by any of this.
#[tokio::test]
async fn public_routes_do_not_authenticate() {
    let app = TestApp::new();
    let reply = app
        .get(
            "/public",
            &[("authorization", "Bearer x"), ("authorization", "Bearer y")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "public");
    assert_eq!(app.probe.loads(), 0);
}
