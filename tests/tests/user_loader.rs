//! The user loader and the extractors around it: unknown users, failing stores, optional
//! users, the claims extractor, per-request caching, loader arguments, and the rejection hook
//! (A.47–A.48).
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Extension;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use login::{AuthUser, Claims, TokenRequest, rejection::RejectionKind};
use login_test_support::{Expect, NOW, Reply, forge};
use login_tests::{AppState, DB_DOWN, GHOST, STORE_DOWN_BODY, Tenant, TestApp, User};
use serde_json::json;

fn assert_store_down(reply: &Reply, token: &str) {
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(reply.header("retry-after"), Some("5"));
    assert_eq!(reply.text(), STORE_DOWN_BODY);
    assert!(reply.headers.get("www-authenticate").is_none());
    reply.assert_not_echoed(token);
    assert!(
        !reply.text().contains(DB_DOWN),
        "the subject leaks into the body"
    );
}

/// The loader receives exactly the token's subject.
#[tokio::test]
async fn loader_receives_the_subject() {
    let app = TestApp::new();
    for sub in ["alice", "bob@example.com", "ünïcödé ✓", "with spaces", "42"] {
        app.bearer("/me", &app.token(sub))
            .await
            .assert_ok(json!({ "user": sub }));
    }
    assert_eq!(
        app.probe.subjects(),
        vec!["alice", "bob@example.com", "ünïcödé ✓", "with spaces", "42"]
    );
}

/// A.47: a valid token whose user no longer exists → 401 `invalid_token`; the handler does not
/// run.
#[tokio::test]
async fn unknown_user_is_invalid_token() {
    let app = TestApp::new();
    let token = app.token(GHOST);
    for path in ["/me", "/twice"] {
        let reply = app.bearer(path, &token).await;
        reply.assert(Expect::InvalidToken);
        reply.assert_not_echoed(&token);
        assert!(!reply.text().contains(GHOST));
    }
    assert_eq!(app.probe.loads(), 2);
    assert_eq!(app.probe.runs(), 0);
}

/// A.48: a failing store answers with the loader's own response (503 here), never a 401 and
/// never 200 — on every extractor, optional ones included.
#[tokio::test]
async fn loader_error_is_its_own_response_everywhere() {
    let app = TestApp::new();
    let token = app.token_with_scopes(DB_DOWN, &["write"]);
    for path in [
        "/me",
        "/maybe",
        "/maybe-user",
        "/write",
        "/maybe-write",
        "/opt-write",
        "/twice",
    ] {
        let reply = app.bearer(path, &token).await;
        assert_store_down(&reply, &token);
    }
    assert_eq!(app.probe.runs(), 0, "no handler runs when the store fails");
    assert_eq!(app.probe.loads(), 7);
}

/// A loader error also wins over the cookie source.
#[tokio::test]
async fn loader_error_through_the_cookie() {
    let app = TestApp::with_cookie();
    let token = app.token(DB_DOWN);
    assert_store_down(&app.cookie("/maybe", &token).await, &token);
    assert_eq!(app.probe.runs(), 0);
}

/// The optional user (`Option<AuthUser<U>>` and `MaybeUser<U>`): `None` for missing or invalid
/// credentials and unknown users, the user otherwise; the handler runs each time.
#[tokio::test]
async fn optional_user() {
    for path in ["/maybe", "/maybe-user"] {
        let app = TestApp::new();
        app.get(path, &[]).await.assert_ok(json!({ "user": null }));
        app.bearer(path, "not-a-token")
            .await
            .assert_ok(json!({ "user": null }));
        let expired = forge::claims(&json!({ "sub": "alice", "exp": NOW }));
        app.bearer(path, &expired)
            .await
            .assert_ok(json!({ "user": null }));
        app.get(path, &[("authorization", "Basic dXNlcjpwYXNz")])
            .await
            .assert_ok(json!({ "user": null }));
        assert_eq!((app.probe.loads(), app.probe.runs()), (0, 4), "{path}");

        app.bearer(path, &app.token(GHOST))
            .await
            .assert_ok(json!({ "user": null }));
        assert_eq!(app.probe.loads(), 1);

        app.bearer(path, &app.token("alice"))
            .await
            .assert_ok(json!({ "user": "alice" }));
        assert_eq!((app.probe.loads(), app.probe.runs()), (2, 6));
    }
}

/// The optional user still refuses a malformed request (two `Authorization` headers): guessing
/// is what RFC 6750 forbids.
#[tokio::test]
async fn optional_user_refuses_malformed_requests() {
    let app = TestApp::new();
    let a = format!("Bearer {}", app.token("alice"));
    for path in [
        "/maybe",
        "/maybe-user",
        "/maybe-claims",
        "/maybe-write",
        "/opt-write",
    ] {
        app.get(path, &[("authorization", &a), ("authorization", &a)])
            .await
            .assert(Expect::InvalidRequest);
    }
    app.assert_untouched();
}

/// The claims extractor: the verified claims without loading the user.
#[tokio::test]
async fn claims_extractor() {
    let app = TestApp::new();
    let token = app
        .manager
        .create_access_token(
            TokenRequest::new("alice")
                .scopes(["read"])
                .extra(&json!({ "tenant": 7, "name": "Alice" })),
        )
        .unwrap();
    let reply = app.bearer("/claims", &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(
        body,
        forge::payload_of(&token),
        "the extractor returns the token's claims"
    );
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["scopes"], json!(["read"]));
    assert_eq!(body["tenant"], 7);
    assert_eq!(app.probe.loads(), 0, "Claims never loads the user");

    // No loader, so an unknown subject's claims are still served.
    app.bearer("/claims", &app.token(GHOST)).await;
    assert_eq!(app.probe.loads(), 0);

    let typed: Claims = app.manager.verify_token(&token).unwrap();
    #[derive(serde::Deserialize, PartialEq, Debug)]
    struct Extra {
        tenant: u32,
        name: String,
    }
    assert_eq!(
        typed.extra_as::<Extra>().unwrap(),
        Extra {
            tenant: 7,
            name: "Alice".into()
        }
    );
}

/// The claims extractor rejects like the others, and `Option<Claims>` gives `None`.
#[tokio::test]
async fn claims_extractor_rejections() {
    let app = TestApp::new();
    app.get("/claims", &[]).await.assert(Expect::NoCredentials);
    app.bearer("/claims", "x.y.z")
        .await
        .assert(Expect::InvalidToken);
    app.assert_untouched();

    app.get("/maybe-claims", &[])
        .await
        .assert_ok(json!({ "sub": null }));
    app.bearer("/maybe-claims", "x.y.z")
        .await
        .assert_ok(json!({ "sub": null }));
    app.bearer("/maybe-claims", &app.token("alice"))
        .await
        .assert_ok(json!({ "sub": "alice" }));
    assert_eq!(app.probe.loads(), 0);
}

/// Per-request caching: four extractors in one handler → the token is verified and the user
/// loaded once. A second request loads again (nothing is cached across requests).
#[tokio::test]
async fn user_is_loaded_once_per_request() {
    let app = TestApp::new();
    let token = app.token("alice");
    let expected = json!({ "a": "alice", "b": "alice", "c": "alice", "sub": "alice" });
    app.bearer("/twice", &token)
        .await
        .assert_ok(expected.clone());
    assert_eq!((app.probe.loads(), app.probe.runs()), (1, 1));
    app.bearer("/twice", &token).await.assert_ok(expected);
    assert_eq!((app.probe.loads(), app.probe.runs()), (2, 2));

    // An unknown user is not looked up twice either.
    let app = TestApp::new();
    app.bearer("/twice", &app.token(GHOST))
        .await
        .assert(Expect::InvalidToken);
    assert_eq!(app.probe.loads(), 1);
}

/// A middleware layer that authenticates, then the handler's extractor: still one load.
#[tokio::test]
async fn middleware_and_extractor_share_the_cache() {
    async fn guard_app(
        State(state): State<AppState>,
        AuthUser(user): AuthUser<User>,
        Extension(hits): Extension<Arc<AtomicUsize>>,
        request: Request,
        next: Next,
    ) -> Response {
        hits.fetch_add(1, Ordering::SeqCst);
        assert_eq!(user.name, "alice");
        assert_eq!(state.probe.loads(), 1);
        next.run(request).await
    }

    let mut app = TestApp::new();
    let hits = Arc::new(AtomicUsize::new(0));
    let state = AppState {
        manager: app.manager.clone(),
        probe: app.probe.clone(),
    };
    app.router = app
        .router
        .clone()
        .layer(from_fn_with_state(state, guard_app))
        .layer(Extension(hits.clone()));

    app.bearer("/twice", &app.token("alice"))
        .await
        .assert_ok(json!({ "a": "alice", "b": "alice", "c": "alice", "sub": "alice" }));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        app.probe.loads(),
        1,
        "the middleware's load is reused by the handler"
    );

    // The middleware rejects before the handler.
    app.get("/twice", &[]).await.assert(Expect::NoCredentials);
    assert_eq!(
        (
            hits.load(Ordering::SeqCst),
            app.probe.loads(),
            app.probe.runs()
        ),
        (1, 1, 1)
    );
}

/// Loader arguments: the loader uses another extractor (`Extension<Tenant>`), and that
/// extractor's rejection is the loader's failure (its response is sent, the handler never
/// runs).
#[tokio::test]
async fn loader_uses_other_extractors() {
    let mut app = TestApp::new();
    let token = app.token("alice");

    let reply = app.bearer("/tenant", &token).await;
    assert_eq!(
        reply.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("Missing request extension"),
        "{}",
        reply.text()
    );
    reply.assert_not_echoed(&token);
    assert_eq!((app.probe.loads(), app.probe.runs()), (1, 0));

    app.router = app.router.clone().layer(Extension(Tenant("acme".into())));
    app.bearer("/tenant", &token)
        .await
        .assert_ok(json!({ "name": "alice", "tenant": "acme" }));
}

/// The rejection hook replaces the 401s with a redirect to the login page (keeping the path in
/// `next`), leaves the kinds it returns `None` for alone, and never sees loader failures.
#[tokio::test]
async fn rejection_hook_redirects_to_login() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen_scopes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (c, s) = (calls.clone(), seen_scopes.clone());
    let app = TestApp::with(move |b| {
        b.on_rejection(move |rejection| {
            c.fetch_add(1, Ordering::SeqCst);
            s.lock().unwrap().push(rejection.required_scopes().to_vec());
            match rejection.kind() {
                RejectionKind::MissingCredentials | RejectionKind::InvalidToken => {
                    let next = rejection.parts().uri.path().to_owned();
                    Some(Redirect::to(&format!("/login?next={next}")).into_response())
                }
                _ => None,
            }
        })
    });

    for reply in [
        app.get("/me", &[]).await,
        app.bearer("/me", "garbage").await,
        app.bearer("/me", &app.token(GHOST)).await,
    ] {
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
        assert_eq!(reply.header("location"), Some("/login?next=/me"));
        assert!(reply.headers.get("www-authenticate").is_none());
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(app.probe.runs(), 0);

    // Kinds the hook declines keep their default response.
    app.bearer("/read-write", &app.token("alice"))
        .await
        .assert(Expect::InsufficientScope("read write"));
    let a = format!("Bearer {}", app.token("alice"));
    app.get("/me", &[("authorization", &a), ("authorization", &a)])
        .await
        .assert(Expect::InvalidRequest);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    assert_eq!(seen_scopes.lock().unwrap()[3], vec!["read", "write"]);

    // A failing store is not a rejection: the hook is not called.
    let reply = app.bearer("/me", &app.token(DB_DOWN)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls.load(Ordering::SeqCst), 5);

    // Optional routes never call the hook for "no user".
    app.get("/maybe", &[])
        .await
        .assert_ok(json!({ "user": null }));
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

/// `RejectionContext::default_response` lets a hook decorate the standard answer.
#[tokio::test]
async fn rejection_hook_can_decorate_the_default() {
    let app = TestApp::with(|b| {
        b.on_rejection(|rejection| {
            let mut response = rejection.default_response();
            response
                .headers_mut()
                .insert("x-login-page", "/login".parse().unwrap());
            Some(response)
        })
    });
    let reply = app.get("/me", &[]).await;
    reply.assert(Expect::NoCredentials);
    assert_eq!(reply.header("x-login-page"), Some("/login"));
}

/// The default responses as a table: kind → status and detail (for hook writers).
#[test]
fn rejection_kinds() {
    assert_eq!(
        RejectionKind::MissingCredentials.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        RejectionKind::InvalidToken.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        RejectionKind::InvalidRequest.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        RejectionKind::InsufficientScope.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(RejectionKind::InvalidToken.detail(), "Invalid credentials");
}
