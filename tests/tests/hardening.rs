//! Issue 15 (hardening, round two) at the runtime level: the CSRF check compares whole origins
//! (scheme included) and covers WebSocket handshakes; cookie tossing can neither lock a user
//! out nor override the `Authorization` header.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use login_tests::{Reply, TestApp};
use serde_json::json;

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
