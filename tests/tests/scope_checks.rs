//! Scopes (A.40–A.43): 403 `insufficient_scope` with the required scopes in
//! the challenge, exact case-sensitive matching, typed claims, checked before the loader.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use login::{TokenError, TokenRequest};
use login_test_support::{Expect, NOW, forge};
use login_tests::{GHOST, TestApp};
use serde_json::json;

/// A.40: a token without the required scope → 403 with `scope="write"`; scopes are checked
/// before the user is loaded.
#[tokio::test]
async fn missing_scope_is_403_before_loading() {
    let app = TestApp::new();
    let read = app.token_with_scopes("alice", &["read"]);
    let reply = app.bearer("/write", &read).await;
    reply.assert(Expect::InsufficientScope("write"));
    reply.assert_not_echoed(&read);
    app.assert_untouched();

    // Even for an unknown user: the scope check comes first (fastapi-login's order).
    let ghost = app.token_with_scopes(GHOST, &["read"]);
    app.bearer("/write", &ghost)
        .await
        .assert(Expect::InsufficientScope("write"));
    app.assert_untouched();
}

/// Several required scopes: all must be granted, and the challenge names all of them.
#[tokio::test]
async fn all_required_scopes_are_named() {
    let app = TestApp::new();
    for scopes in [&[][..], &["read"], &["write"], &["admin", "readwrite"]] {
        let token = app.token_with_scopes("alice", scopes);
        let reply = app.bearer("/read-write", &token).await;
        reply.assert(Expect::InsufficientScope("read write"));
        reply.assert_not_echoed(&token);
    }
    app.assert_untouched();

    let token = app.token_with_scopes("alice", &["write", "admin", "read"]);
    app.bearer("/read-write", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.probe.loads(), 1);
}

/// A granted scope works; a granted scope with an unknown user is `invalid_token` (the loader
/// ran once and said no).
#[tokio::test]
async fn granted_scope() {
    let app = TestApp::new();
    let token = app.token_with_scopes("alice", &["write"]);
    app.bearer("/write", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!((app.probe.loads(), app.probe.runs()), (1, 1));

    let app = TestApp::new();
    let ghost = app.token_with_scopes(GHOST, &["write"]);
    let reply = app.bearer("/write", &ghost).await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&ghost);
    assert_eq!((app.probe.loads(), app.probe.runs()), (1, 0));
}

/// A.42: matching is exact and case-sensitive; no substring or prefix match (fastapi-login's
/// `in` on a string would match `"write" in "rewrite"`).
#[tokio::test]
async fn scope_matching_is_exact() {
    let app = TestApp::new();
    let exp = NOW + 900;
    for claims in [
        json!({ "sub": "alice", "exp": exp, "scopes": ["Write"] }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["WRITE"] }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["rewrite"] }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["write:all"] }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["write "] }),
        json!({ "sub": "alice", "exp": exp, "scope": "rewrite writer" }),
    ] {
        let token = forge::claims(&claims);
        let reply = app.bearer("/write", &token).await;
        reply.assert(Expect::InsufficientScope("write"));
        reply.assert_not_echoed(&token);
    }
    app.assert_untouched();
}

/// A.42: malformed scope claims are an invalid token (not "no scopes"): a string `scopes`,
/// non-string items, `null`, an object, an empty item, a non-string `scope`.
#[tokio::test]
async fn malformed_scope_claims_are_invalid_tokens() {
    let app = TestApp::new();
    let exp = NOW + 900;
    for claims in [
        json!({ "sub": "alice", "exp": exp, "scopes": "write" }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["read", 1] }),
        json!({ "sub": "alice", "exp": exp, "scopes": null }),
        json!({ "sub": "alice", "exp": exp, "scopes": { "write": true } }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["write", ""] }),
        json!({ "sub": "alice", "exp": exp, "scopes": [["write"]] }),
        json!({ "sub": "alice", "exp": exp, "scope": ["write"] }),
        json!({ "sub": "alice", "exp": exp, "scope": null }),
    ] {
        let token = forge::claims(&claims);
        // On a route with and without required scopes alike.
        for path in ["/write", "/me", "/claims"] {
            let reply = app.bearer(path, &token).await;
            reply.assert(login_test_support::Expect::InvalidToken);
            reply.assert_not_echoed(&token);
        }
    }
    app.assert_untouched();
}

/// The OAuth `scope` string (space-separated) is accepted alongside the `scopes` array.
#[tokio::test]
async fn oauth_scope_string_is_accepted() {
    let app = TestApp::new();
    let exp = NOW + 900;
    for claims in [
        json!({ "sub": "alice", "exp": exp, "scope": "write" }),
        json!({ "sub": "alice", "exp": exp, "scope": "read write" }),
        json!({ "sub": "alice", "exp": exp, "scope": "  write  " }),
        json!({ "sub": "alice", "exp": exp, "scopes": ["read"], "scope": "write" }),
    ] {
        app.bearer("/write", &forge::claims(&claims))
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
    let claims = app
        .manager
        .verify_token(&forge::claims(
            &json!({ "sub": "a", "exp": exp, "scopes": ["read"], "scope": "read write" }),
        ))
        .unwrap();
    assert_eq!(claims.scopes, vec!["read", "write"]);
}

/// A.43: no `scopes` claim: fine where none is needed, 403 where one is.
#[tokio::test]
async fn no_scopes_claim() {
    let app = TestApp::new();
    let token = app.token("alice");
    assert!(forge::payload_of(&token).get("scopes").is_none());
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));

    let app = TestApp::new();
    app.bearer("/write", &token)
        .await
        .assert(Expect::InsufficientScope("write"));
    app.bearer("/read-write", &token)
        .await
        .assert(Expect::InsufficientScope("read write"));
    app.assert_untouched();
}

/// The optional scoped user: `None` for a missing scope or missing/invalid credentials (the
/// handler runs, the loader does not); the user when the scope is granted.
#[tokio::test]
async fn optional_scoped_user() {
    for path in ["/maybe-write", "/opt-write"] {
        let app = TestApp::new();
        let read = app.token_with_scopes("alice", &["read"]);
        app.bearer(path, &read)
            .await
            .assert_ok(json!({ "user": null }));
        app.get(path, &[]).await.assert_ok(json!({ "user": null }));
        app.bearer(path, "garbage")
            .await
            .assert_ok(json!({ "user": null }));
        assert_eq!((app.probe.loads(), app.probe.runs()), (0, 3), "{path}");

        let write = app.token_with_scopes("alice", &["write"]);
        app.bearer(path, &write)
            .await
            .assert_ok(json!({ "user": "alice" }));
        assert_eq!(app.probe.loads(), 1);
    }
}

/// Minting: scopes are de-duplicated and issued as a JSON array, in order; invalid scope
/// strings are refused; with configured scopes, unknown ones are refused.
#[tokio::test]
async fn minting_scopes() {
    let app = TestApp::new();
    let token = app.token_with_scopes("alice", &["write", "read", "write", "read"]);
    assert_eq!(
        forge::payload_of(&token)["scopes"],
        json!(["write", "read"])
    );

    for bad in ["", "a b", "quote\"", "back\\slash", "tab\t", "é"] {
        assert!(
            matches!(
                app.manager.create_access_token(TokenRequest::new("alice").scopes([bad])),
                Err(TokenError::InvalidScope(s)) if s == bad
            ),
            "{bad:?}"
        );
    }

    let app = TestApp::with(|b| b.scopes([("read", "Read items"), ("write", "Write items")]));
    assert_eq!(
        app.manager.scopes().collect::<Vec<_>>(),
        vec![("read", "Read items"), ("write", "Write items")]
    );
    assert!(matches!(
        app.manager.create_access_token(TokenRequest::new("alice").scopes(["admin"])),
        Err(TokenError::UnknownScope(s)) if s == "admin"
    ));
    let token = app.token_with_scopes("alice", &["read"]);
    assert_eq!(forge::payload_of(&token)["scopes"], json!(["read"]));
}
