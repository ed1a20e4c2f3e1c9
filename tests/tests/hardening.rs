//! Hardening at the runtime level: the CSRF check compares whole origins
//! (scheme included) and covers WebSocket handshakes; cookie tossing can neither lock a user
//! out nor override the `Authorization` header.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use login::{AuthUser, CookieJar, LoginManager, middleware::CurrentUser, middleware::attach_user};
use login_test_support::{Expect, Reply};
use login_tests::{AppState, TestApp, User};
use serde_json::json;
use tower::ServiceExt;

fn cookie_request(
    app: &TestApp,
    method: Method,
    token: &str,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri("/me")
        .header("host", "app.example.com")
        .header("cookie", format!("{}={token}", app.manager.cookie_name()));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

#[track_caller]
fn assert_cross_site_refused(case: &str, reply: &Reply) {
    assert_eq!(
        reply.status,
        StatusCode::FORBIDDEN,
        "{case}: {}",
        reply.text()
    );
    assert_eq!(
        reply.json(),
        json!({ "detail": "Cross-site request refused" }),
        "{case}"
    );
}

/// §2: with a `Secure` cookie the app is served over HTTPS, so `Origin: http://<host>` (a page
/// a network attacker injected into the plain-HTTP twin of the site, posting from a browser
/// that sends no Fetch Metadata) is another origin; so is a `Referer` with that scheme.
#[tokio::test]
async fn origin_scheme_is_compared() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    for (case, headers) in [
        ("http Origin", vec![("origin", "http://app.example.com")]),
        (
            "http Origin with port 443",
            vec![("origin", "http://app.example.com:443")],
        ),
        (
            "http Referer",
            vec![("referer", "http://app.example.com/posts/new")],
        ),
        (
            "https Origin on another port",
            vec![("origin", "https://app.example.com:8443")],
        ),
    ] {
        let reply = app
            .send(cookie_request(&app, Method::POST, &token, &headers))
            .await;
        assert_cross_site_refused(case, &reply);
        reply.assert_not_echoed(&token);
    }
    app.assert_untouched();
    for headers in [
        vec![("origin", "https://app.example.com")],
        vec![("origin", "https://app.example.com:443")],
        vec![("referer", "https://app.example.com/posts/new")],
    ] {
        app.send(cookie_request(&app, Method::POST, &token, &headers))
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
}

/// §5: a WebSocket handshake is a `GET`, but it opens a channel that acts for the user: with
/// the cookie, it must come from the app's own origin, like a state-changing request.
#[tokio::test]
async fn websocket_handshakes_need_the_same_origin() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    let handshake = [
        ("connection", "Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    for (case, extra) in [
        (
            "cross-site Origin",
            vec![("origin", "https://evil.example")],
        ),
        (
            "cross-site Fetch Metadata",
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.example"),
            ],
        ),
        (
            "plain-HTTP twin",
            vec![("origin", "http://app.example.com")],
        ),
    ] {
        let mut headers = handshake.to_vec();
        headers.extend(extra);
        let reply = app
            .send(cookie_request(&app, Method::GET, &token, &headers))
            .await;
        assert_cross_site_refused(case, &reply);
    }
    app.assert_untouched();
    // From the app's own pages it passes; so does a bearer-authenticated handshake.
    let mut same = handshake.to_vec();
    same.push(("origin", "https://app.example.com"));
    app.send(cookie_request(&app, Method::GET, &token, &same))
        .await
        .assert_ok(json!({ "user": "alice" }));
    let bearer = format!("Bearer {token}");
    let mut request = Request::get("/me")
        .header("authorization", &bearer)
        .header("origin", "https://evil.example");
    for (k, v) in handshake {
        request = request.header(k, v);
    }
    app.send(request.body(Body::empty()).unwrap())
        .await
        .assert_ok(json!({ "user": "alice" }));
    // A plain cross-site GET (a link) is not a handshake and is not gated.
    app.send(cookie_request(
        &app,
        Method::GET,
        &token,
        &[("sec-fetch-site", "cross-site")],
    ))
    .await
    .assert_ok(json!({ "user": "alice" }));
}

/// §2: with a public origin configured, exactly that origin (and the trusted ones) may post
/// with the cookie, whatever `Host` a proxy forwards; an invalid one is a start-up error.
#[tokio::test]
async fn public_origin_is_the_apps_own_origin() {
    let app = TestApp::with(|b| b.use_cookie(true).public_origin("https://App.example.com/"));
    let token = app.token("alice");
    let request = |host: &str, origin: &str| {
        Request::post("/me")
            .header("host", host)
            .header("origin", origin)
            .header("cookie", format!("access-token={token}"))
            .body(Body::empty())
            .unwrap()
    };
    app.send(request("backend:8080", "https://app.example.com"))
        .await
        .assert_ok(json!({ "user": "alice" }));
    for (host, origin) in [
        ("backend:8080", "http://backend:8080"),
        ("app.example.com", "http://app.example.com"),
        ("evil.example", "https://evil.example"),
    ] {
        assert_cross_site_refused(origin, &app.send(request(host, origin)).await);
    }
    for bad in [
        "app.example.com",
        "https://",
        "https://app.example.com/path",
    ] {
        let built = login_tests::builder()
            .use_cookie(true)
            .public_origin(bad)
            .build();
        assert!(
            matches!(built, Err(login::ConfigError::InvalidOrigin(_))),
            "{bad}: {built:?}"
        );
    }
}

// ---- §3: cookie tossing ----

/// A request with both a cookie and an `Authorization: Bearer` header is authenticated by the
/// header alone (RFC 6750 §2: one method per request). The header is explicit — a browser
/// never adds it, another site cannot set it — while a sibling subdomain or a plain-HTTP man
/// in the middle can plant a cookie: a planted cookie (valid, garbage, or a second value next
/// to the victim's) must not override an SPA's header, nor lock it out.
#[tokio::test]
async fn the_header_wins_over_a_planted_cookie() {
    let app = TestApp::with_cookie();
    let victim = app.token("alice");
    let attacker = app.token("mallory");
    let bearer = format!("Bearer {victim}");
    for (case, cookie) in [
        ("attacker's valid token", format!("access-token={attacker}")),
        ("garbage", "access-token=x.y.z".to_owned()),
        (
            "two values (tossed next to the victim's)",
            format!("access-token={victim}; access-token={attacker}"),
        ),
        ("non-ASCII value", "access-token=\u{e9}t\u{e9}".to_owned()),
    ] {
        // Built from a `String`, so that the non-ASCII cookie gets through.
        let request = Request::get("/me")
            .header("cookie", cookie)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::OK, "{case}: {}", reply.text());
        assert_eq!(reply.json(), json!({ "user": "alice" }), "{case}");
    }
    assert_eq!(app.probe.subjects(), vec!["alice"; 4]);
    // The header decides even when it is bad: no silent fallback to the cookie.
    let reply = app
        .get(
            "/me",
            &[
                ("cookie", &format!("access-token={victim}")),
                ("authorization", "Bearer x.y.z"),
            ],
        )
        .await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&victim);
    // A header without a bearer token (another scheme, an empty token) leaves the cookie.
    for header in ["Basic dXNlcjpwYXNz", "Bearer "] {
        app.get(
            "/me",
            &[
                ("cookie", &format!("access-token={victim}")),
                ("authorization", header),
            ],
        )
        .await
        .assert_ok(json!({ "user": "alice" }));
    }
}

async fn public_page(CurrentUser(user): CurrentUser<User>) -> impl IntoResponse {
    Json(json!({ "user": user.map(|u| u.name) }))
}

async fn private_page(AuthUser(user): AuthUser<User>) -> impl IntoResponse {
    Json(json!({ "user": user.name }))
}

async fn logout(State(manager): State<LoginManager>, jar: CookieJar) -> impl IntoResponse {
    (
        manager.clear_cookie(jar),
        Json(json!({ "status": "Success" })),
    )
}

fn layered(app: &TestApp) -> Router {
    let state = AppState {
        manager: app.manager.clone(),
        probe: app.probe.clone(),
    };
    let logout = Router::new()
        .route("/logout", post(logout))
        .with_state(app.manager.clone());
    Router::new()
        .route("/public", get(public_page))
        .route("/private", get(private_page))
        .with_state(state.clone())
        .merge(logout)
        .layer(middleware::from_fn_with_state(
            state,
            attach_user::<User, AppState>,
        ))
}

/// Two values under the cookie's name (the victim's and a tossed one) or a value that is not
/// ASCII: `attach_user` lets the request through as anonymous, so public pages, the login page
/// and logout keep working, while a protected extractor behind it still refuses the ambiguous
/// request (400 `invalid_request`, never a guess between the two).
#[tokio::test]
async fn an_ambiguous_cookie_does_not_lock_the_middleware() {
    let app = TestApp::with_cookie();
    let router = layered(&app);
    let victim = app.token("alice");
    let attacker = app.token("mallory");
    for (case, cookie) in [
        (
            "two values",
            format!("access-token={victim}; access-token={attacker}"),
        ),
        ("two Cookie headers", format!("access-token={attacker}")),
        ("non-ASCII value", "access-token=\u{e9}t\u{e9}".to_owned()),
    ] {
        let send = |path: &str, method: Method| {
            let mut b = Request::builder()
                .method(method)
                .uri(path)
                .header("cookie", &cookie);
            if case == "two Cookie headers" {
                b = b.header("cookie", format!("access-token={victim}"));
            }
            let router = router.clone();
            async move {
                Reply::collect(
                    router
                        .oneshot(b.body(Body::empty()).unwrap())
                        .await
                        .unwrap(),
                )
                .await
            }
        };
        send("/public", Method::GET)
            .await
            .assert_ok(json!({ "user": null }));
        let out = send("/logout", Method::POST).await;
        assert_eq!(out.status, StatusCode::OK, "{case}: logout: {}", out.text());
        let private = send("/private", Method::GET).await;
        private.assert(Expect::InvalidRequest);
        private.assert_not_echoed(&victim);
        private.assert_not_echoed(&attacker);
    }
    assert_eq!(app.probe.loads(), 0, "no guess between the two cookies");
    // Two Authorization headers are not something a third party can plant: still 400 at the
    // layer.
    let two = Request::get("/public")
        .header("authorization", format!("Bearer {victim}"))
        .header("authorization", format!("Bearer {attacker}"))
        .body(Body::empty())
        .unwrap();
    let reply = Reply::collect(router.clone().oneshot(two).await.unwrap()).await;
    reply.assert(Expect::InvalidRequest);
}
