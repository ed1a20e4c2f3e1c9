//! The token cookie (A.8 and section B): exact `Set-Cookie` for setting and
//! clearing, empty cookies, header-first precedence without fallback (a planted
//! cookie must not override the `Authorization` header), conflicting duplicates.
//!
//! Item numbers (A.n, B) are those of `docs/security-checklist.md`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use login::TokenRequest;
use login_test_support::{Expect, NOW, Reply, forge, split_cookie};
use login_tests::TestApp;
use serde_json::json;

async fn cookie_login(app: &TestApp, subject: &str) -> Reply {
    let request = Request::post("/cookie-login")
        .body(Body::from(subject.to_owned()))
        .unwrap();
    app.send(request).await
}

async fn logout(app: &TestApp) -> Reply {
    app.send(Request::post("/logout").body(Body::empty()).unwrap())
        .await
}

/// B: the exact `Set-Cookie` of a login: HttpOnly, SameSite=Lax, Secure, Path=/, no Domain,
/// Max-Age = the token lifetime; the cookie's token authenticates.
#[tokio::test]
async fn set_cookie_is_exact() {
    let app = TestApp::with_cookie();
    let reply = cookie_login(&app, "alice").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let set_cookie = reply.set_cookie();
    let (pair, attributes) = split_cookie(&set_cookie);
    let token = pair
        .strip_prefix("access-token=")
        .expect("default cookie name");
    assert_eq!(
        set_cookie,
        format!("access-token={token}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=900")
    );
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=900"
        ]
    );
    assert!(!set_cookie.contains("Domain"));

    let claims = app.manager.verify_token(token).unwrap();
    assert_eq!((claims.sub.as_str(), claims.exp), ("alice", NOW + 900));
    app.cookie("/me", token)
        .await
        .assert_ok(json!({ "user": "alice" }));
}

/// B: logout clears with the same name, Path, Secure, HttpOnly and SameSite, an empty value
/// and `Max-Age=0`.
#[tokio::test]
async fn clearing_cookie_matches_the_setting_cookie() {
    let app = TestApp::with_cookie();
    let set = cookie_login(&app, "alice").await.set_cookie();
    let clear = logout(&app).await.set_cookie();
    assert_eq!(
        clear,
        "access-token=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0"
    );

    let (set_pair, set_attrs) = split_cookie(&set);
    let (clear_pair, clear_attrs) = split_cookie(&clear);
    assert_eq!(
        set_pair.split_once('=').unwrap().0,
        clear_pair.split_once('=').unwrap().0
    );
    let without_max_age = |attrs: Vec<&str>| -> Vec<String> {
        attrs
            .into_iter()
            .filter(|a| !a.starts_with("Max-Age="))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(without_max_age(set_attrs), without_max_age(clear_attrs));

    // The same through the manager's cookie values.
    let cookie = app.manager.cookie("t");
    let removal = app.manager.removal_cookie();
    assert_eq!(cookie.name(), removal.name());
    assert_eq!(cookie.path(), removal.path());
    assert_eq!(cookie.secure(), removal.secure());
    assert_eq!(cookie.http_only(), removal.http_only());
    assert_eq!(cookie.same_site(), removal.same_site());
    assert_eq!(cookie.domain(), removal.domain());
    assert_eq!(removal.value(), "");
    assert_eq!(removal.max_age().map(|d| d.whole_seconds()), Some(0));
    assert_eq!(cookie.max_age().map(|d| d.whole_seconds()), Some(900));
}

/// A custom cookie name, the explicit development opt-out of `Secure`, and a per-token
/// lifetime.
#[tokio::test]
async fn cookie_settings() {
    let app = TestApp::with(|b| {
        b.use_cookie(true)
            .cookie_name("session")
            .cookie_secure(false)
    });
    let set = cookie_login(&app, "alice").await.set_cookie();
    let (pair, attributes) = split_cookie(&set);
    assert!(pair.starts_with("session="));
    assert_eq!(
        attributes,
        ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=900"]
    );
    assert_eq!(
        logout(&app).await.set_cookie(),
        "session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
    );
    let token = pair.strip_prefix("session=").unwrap();
    app.cookie("/me", token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    // The default name is not read any more.
    app.get("/me", &[("cookie", &format!("access-token={token}"))])
        .await
        .assert(Expect::NoCredentials);

    let app = TestApp::with(|b| {
        b.use_cookie(true)
            .default_lifetime(Duration::from_secs(3600))
    });
    assert_eq!(
        app.manager.cookie("t").to_string(),
        "access-token=t; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=3600"
    );
    assert_eq!(
        app.manager
            .cookie_with_lifetime("t", Duration::from_secs(60))
            .to_string(),
        "access-token=t; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=60"
    );
}

/// B: an empty cookie value counts as no credentials — and, with the header on, the header is
/// then used.
#[tokio::test]
async fn empty_cookie_is_no_credentials() {
    let app = TestApp::with_cookie();
    for cookie in [
        "access-token=",
        "access-token=\"\"",
        "access-token= ",
        "other=1; access-token=",
    ] {
        app.get("/me", &[("cookie", cookie)])
            .await
            .assert(Expect::NoCredentials);
    }
    app.assert_untouched();

    let good = app.token("alice");
    app.get(
        "/me",
        &[
            ("cookie", "access-token="),
            ("authorization", &format!("Bearer {good}")),
        ],
    )
    .await
    .assert_ok(json!({ "user": "alice" }));
}

/// A cookie with a similar name is not the token cookie.
#[tokio::test]
async fn similar_cookie_names_are_ignored() {
    let app = TestApp::with_cookie();
    let good = app.token("alice");
    for cookie in [
        format!("x-access-token={good}"),
        format!("access-token2={good}"),
        format!("Access-Token={good}"),
        format!("access_token={good}"),
    ] {
        let reply = app.get("/me", &[("cookie", &cookie)]).await;
        reply.assert(Expect::NoCredentials);
        reply.assert_not_echoed(&good);
    }
    app.assert_untouched();
}

/// The cookie is found among others, in any `Cookie` header, quoted or not.
#[tokio::test]
async fn cookie_among_others() {
    let app = TestApp::with_cookie();
    let good = app.token("alice");
    for headers in [
        vec![format!("a=1; access-token={good}; b=2")],
        vec!["a=1".to_owned(), format!("access-token={good}")],
        vec![format!("access-token=\"{good}\"")],
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|h| ("cookie", h.as_str())).collect();
        app.get("/me", &headers)
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
}

/// A.8: a bearer token in the header decides, and the cookie is not read: an
/// invalid cookie does not spoil a valid header (a cookie can be planted by a third party).
#[tokio::test]
async fn an_invalid_cookie_does_not_spoil_the_header() {
    let app = TestApp::with_cookie();
    let good = app.token("alice");
    let expired = forge::claims(&json!({ "sub": "alice", "exp": NOW }));
    for bad in ["garbage", "a.b.c", expired.as_str()] {
        app.get(
            "/me",
            &[
                ("cookie", &format!("access-token={bad}")),
                ("authorization", &format!("Bearer {good}")),
            ],
        )
        .await
        .assert_ok(json!({ "user": "alice" }));
    }
    assert_eq!(app.probe.subjects(), vec!["alice"; 3]);
}

/// A.8, the other way round: the header decides even against a valid cookie, with no
/// fallback (an invalid header is an invalid token); a header without a bearer token (another
/// scheme) leaves the cookie to decide.
#[tokio::test]
async fn the_header_wins_over_a_valid_cookie() {
    let app = TestApp::with_cookie();
    let alice = app.token("alice");
    let bob = app.token("bob");
    let cookie = format!("access-token={alice}");
    app.get(
        "/me",
        &[
            ("cookie", &cookie),
            ("authorization", &format!("Bearer {bob}")),
        ],
    )
    .await
    .assert_ok(json!({ "user": "bob" }));
    let reply = app
        .get(
            "/me",
            &[("cookie", &cookie), ("authorization", "Bearer garbage")],
        )
        .await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&alice);
    app.get(
        "/me",
        &[("cookie", &cookie), ("authorization", "Basic dXNlcjpwYXNz")],
    )
    .await
    .assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.probe.subjects(), vec!["bob", "alice"]);
}

/// B: the same cookie name twice with different values is ambiguous → 400 `invalid_request`
/// (in one `Cookie` header or across two); identical duplicates are harmless.
#[tokio::test]
async fn conflicting_duplicate_cookies_are_a_malformed_request() {
    let app = TestApp::with_cookie();
    let alice = app.token("alice");
    let bob = app.token("bob");
    let one_header = format!("access-token={alice}; access-token={bob}");
    let two_a = format!("access-token={alice}");
    let two_b = format!("access-token={bob}");
    let garbage = format!("access-token={alice}; access-token=garbage");
    for headers in [
        vec![("cookie", one_header.as_str())],
        vec![("cookie", two_a.as_str()), ("cookie", two_b.as_str())],
        vec![("cookie", garbage.as_str())],
    ] {
        for path in ["/me", "/maybe", "/claims"] {
            let reply = app.get(path, &headers).await;
            reply.assert(Expect::InvalidRequest);
            reply.assert_not_echoed(&alice);
            reply.assert_not_echoed(&bob);
        }
    }
    app.assert_untouched();

    app.get(
        "/me",
        &[(
            "cookie",
            &format!("access-token={alice}; access-token={alice}"),
        )],
    )
    .await
    .assert_ok(json!({ "user": "alice" }));
    // An empty duplicate does not conflict (empty = absent).
    app.get(
        "/me",
        &[("cookie", &format!("access-token=; access-token={alice}"))],
    )
    .await
    .assert_ok(json!({ "user": "alice" }));
}

/// Cookie-only mode: rejections still carry the `WWW-Authenticate` challenge (RFC 9110
/// §15.5.2).
#[tokio::test]
async fn cookie_only_rejections_carry_a_challenge() {
    let app = TestApp::with(|b| b.use_header(false).use_cookie(true));
    app.get("/me", &[]).await.assert(Expect::NoCredentials);
    let reply = app.cookie("/me", "not-a-token").await;
    reply.assert(Expect::InvalidToken);
    let expired = forge::claims(&json!({ "sub": "alice", "exp": NOW - 1 }));
    let reply = app.cookie("/me", &expired).await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&expired);
    let read = app.token_with_scopes("alice", &["read"]);
    app.cookie("/write", &read)
        .await
        .assert(Expect::InsufficientScope("write"));
    app.assert_untouched();
}

/// B: the cookie with the largest realistic scope set still fits the 4096-byte minimum every
/// browser keeps (RFC 6265 §6.1).
#[tokio::test]
async fn large_scope_set_fits_in_a_cookie() {
    let app = TestApp::with_cookie();
    let scopes: Vec<String> = (0..24).map(|i| format!("resource-{i:02}:write")).collect();
    let token = app
        .manager
        .create_access_token(
            TokenRequest::new("someone.with.a.long.address@subdomain.example.com").scopes(scopes),
        )
        .unwrap();
    let set_cookie = app.manager.cookie(token.clone()).to_string();
    assert!(set_cookie.len() < 4096, "{} bytes", set_cookie.len());
    app.cookie("/me", &token)
        .await
        .assert_ok(json!({ "user": "someone.with.a.long.address@subdomain.example.com" }));
}

/// The `login::testing` helpers produce working header and cookie values.
#[tokio::test]
async fn testing_helpers() {
    let app = TestApp::with_cookie();
    let bearer = login::testing::bearer(&app.manager, "alice", &["write"]).unwrap();
    app.get("/write", &[("authorization", bearer.to_str().unwrap())])
        .await
        .assert_ok(json!({ "user": "alice" }));
    let cookie = login::testing::cookie(&app.manager, "bob", &["write"]).unwrap();
    assert!(cookie.to_str().unwrap().starts_with("access-token=ey"));
    app.get("/write", &[("cookie", cookie.to_str().unwrap())])
        .await
        .assert_ok(json!({ "user": "bob" }));
}

/// B (CSRF): a cookie-authenticated cross-site POST must be refused before the handler runs,
/// while a bearer-authenticated one is not subject to the gate: cookie-authenticated unsafe
/// requests are protected against CSRF (the CSRF policy, `login/src/csrf.rs`).
#[tokio::test]
async fn cross_site_cookie_post_is_refused() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    let request = Request::post("/me")
        .header("cookie", format!("access-token={token}"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    app.assert_untouched();

    let request = Request::post("/me")
        .header("authorization", format!("Bearer {token}"))
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    app.send(request)
        .await
        .assert_ok(json!({ "user": "alice" }));
}
