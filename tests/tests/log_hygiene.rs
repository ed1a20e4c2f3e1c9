//! Log hygiene (A.49): every rejection leaves a `tracing` event
//! at debug level giving its reason, and no event (at any level) contains the token.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use login_test_support::logs::{self, Logs};
use login_test_support::{Expect, NOW, forge};
use login_tests::{DB_DOWN, GHOST, TestApp};
use serde_json::json;

#[track_caller]
fn assert_reason(logs: &Logs, reason: &str) {
    let lines = logs.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("DEBUG login") && l.contains(reason)),
        "no debug event saying {reason:?}:\n{}",
        lines.join("\n")
    );
}

#[tokio::test]
async fn rejections_log_their_reason_without_the_token() {
    let app = TestApp::new();
    let cases: Vec<(String, &str, Expect)> = vec![
        (
            forge::claims(&json!({ "sub": "alice", "exp": NOW })),
            "token expired",
            Expect::InvalidToken,
        ),
        (
            forge::claims(&json!({ "sub": "alice", "exp": NOW + 900 })).replace(".ey", ".eY"),
            "",
            Expect::InvalidToken,
        ),
        (
            {
                let good = forge::claims(&json!({ "sub": "alice", "exp": NOW + 900 }));
                format!("{}AAAA", &good[..good.len() - 4])
            },
            "bad signature",
            Expect::InvalidToken,
        ),
        (
            forge::claims(&json!({ "sub": 1, "exp": NOW + 900 })),
            "invalid claims",
            Expect::InvalidToken,
        ),
        (
            forge::claims(&json!({ "sub": "a", "exp": NOW + 900, "nbf": NOW + 60 })),
            "nbf",
            Expect::InvalidToken,
        ),
        (app.token(GHOST), "unknown user", Expect::InvalidToken),
        ("x".repeat(10_000), "larger than", Expect::InvalidToken),
    ];
    for (token, reason, expect) in cases {
        let (guard, logs) = logs::capture();
        let reply = app.bearer("/me", &token).await;
        drop(guard);
        reply.assert(expect);
        reply.assert_not_echoed(&token);
        logs.assert_clean(&token);
        assert_reason(&logs, "token rejected");
        if !reason.is_empty() {
            assert_reason(&logs, reason);
        }
    }
}

#[tokio::test]
async fn other_outcomes_log_without_the_token() {
    let app = TestApp::new();
    let read = app.token_with_scopes("alice", &["read"]);

    let (guard, logs) = logs::capture();
    app.get("/me", &[]).await.assert(Expect::NoCredentials);
    drop(guard);
    assert_reason(&logs, "no credentials");

    let (guard, logs) = logs::capture();
    app.bearer("/write", &read)
        .await
        .assert(Expect::InsufficientScope("write"));
    drop(guard);
    assert_reason(&logs, "insufficient scope");
    assert_reason(&logs, "missing_scope=write");
    logs.assert_clean(&read);

    let two = format!("Bearer {read}");
    let (guard, logs) = logs::capture();
    app.get("/me", &[("authorization", &two), ("authorization", &two)])
        .await
        .assert(Expect::InvalidRequest);
    drop(guard);
    assert_reason(&logs, "more than one Authorization header");
    logs.assert_clean(&read);

    let down = app.token(DB_DOWN);
    let (guard, logs) = logs::capture();
    app.bearer("/me", &down).await;
    drop(guard);
    assert_reason(&logs, "user loader failed");
    logs.assert_clean(&down);

    // A successful request logs nothing with the token either.
    let good = app.token("alice");
    let (guard, logs) = logs::capture();
    app.bearer("/me", &good)
        .await
        .assert_ok(json!({ "user": "alice" }));
    drop(guard);
    logs.assert_clean(&good);
}

/// A rejection hook that logs its context (`tracing::warn!(?rejection)`) must not
/// print the credentials, not even the valid token of a scope or cross-site rejection, nor a
/// token sent in the query string, nor the other cookies of the request.
#[tokio::test]
async fn rejection_context_debug_holds_no_credentials() {
    let app = TestApp::with(|b| {
        b.use_cookie(true).on_rejection(|rejection| {
            tracing::warn!(?rejection, "rejected");
            None
        })
    });
    let read = app.token_with_scopes("alice", &["read"]);
    let valid = app.token("alice");
    let bearer = format!("Bearer {read}");
    let cookie = format!("access-token={valid}; session-hint=s3cr3t-sibling-cookie-value");
    let query = format!("/write?access_token={read}");
    // (path, headers, the valid token that must not be printed, the kind the line names)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        // A valid token that lacks a scope.
        (
            "/write",
            vec![("authorization", &bearer)],
            &read,
            "InsufficientScope",
        ),
        // A valid token in the query string (never read) next to a scope rejection.
        (
            &query,
            vec![("authorization", &bearer)],
            &read,
            "InsufficientScope",
        ),
        // A valid cookie on a cross-site POST.
        (
            "/me",
            vec![("cookie", &cookie), ("sec-fetch-site", "cross-site")],
            &valid,
            "CrossSiteRequest",
        ),
    ];
    for (path, headers, token, kind) in cases {
        let mut request = axum::http::Request::builder()
            .method(if kind == "CrossSiteRequest" {
                "POST"
            } else {
                "GET"
            })
            .uri(path);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let (guard, logs) = logs::capture();
        let reply = app
            .send(request.body(axum::body::Body::empty()).unwrap())
            .await;
        drop(guard);
        assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
        let text = logs.text();
        assert!(
            text.contains("rejection=RejectionContext") && text.contains(kind),
            "{path}: the hook's line names the context and its kind:\n{text}"
        );
        logs.assert_clean(token);
        assert!(
            !text.contains("s3cr3t-sibling"),
            "{path}: a cookie leaked:\n{text}"
        );
    }
}
