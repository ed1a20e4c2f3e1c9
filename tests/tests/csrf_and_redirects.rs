//! Browser apps at the runtime level: CSRF for cookie-authenticated requests, login
//! CSRF, the middleware layer, redirects to the login page, and cookie attributes.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use login::{
    AuthUser, ConfigError, LoginManager, extract::SameOrigin, middleware::CurrentUser,
    middleware::attach_user,
};
use login_test_support::{Reply, SECRET, cookie_parts, request, send};
use login_tests::{AppState, Probe, TestApp, User};
use serde_json::json;
use tower::ServiceExt;

fn cookie_post(app: &TestApp, token: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::post("/me")
        .header("host", "app.example.com")
        .header("cookie", format!("{}={token}", app.manager.cookie_name()));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

fn assert_cross_site_refused(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(
        reply.headers.get(header::WWW_AUTHENTICATE).is_none(),
        "CSRF is not a bearer error"
    );
    assert_eq!(
        reply.json(),
        json!({ "detail": "Cross-site request refused" })
    );
}

#[tokio::test]
async fn cross_site_unsafe_requests_with_the_cookie_are_refused_before_the_handler() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "https://blog.example.com"),
        ],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("referer", "https://evil.example/form.html")],
    ] {
        let reply = app.send(cookie_post(&app, &token, &headers)).await;
        assert_cross_site_refused(&reply);
        reply.assert_not_echoed(&token);
    }
    app.assert_untouched();
    // DELETE, PUT and PATCH are state-changing too.
    for method in [Method::DELETE, Method::PUT, Method::PATCH] {
        let mut request = cookie_post(&app, &token, &[("sec-fetch-site", "cross-site")]);
        *request.method_mut() = method;
        let reply = app.send(request).await;
        // The router has no such method on /me (405) — unless the gate ran first, it must not be 200.
        assert_ne!(reply.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn same_origin_and_non_browser_cookie_requests_pass() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    for headers in [
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")],
        vec![("origin", "https://app.example.com")],
        vec![("referer", "https://app.example.com/posts/new")],
        vec![], // curl, scripts: no Fetch Metadata, no Origin, no Referer
    ] {
        app.send(cookie_post(&app, &token, &headers))
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
}

#[tokio::test]
async fn safe_methods_and_header_authenticated_requests_are_not_gated() {
    let app = TestApp::with_cookie();
    let token = app.token("alice");
    let mut get = cookie_post(&app, &token, &[("sec-fetch-site", "cross-site")]);
    *get.method_mut() = Method::GET;
    app.send(get).await.assert_ok(json!({ "user": "alice" }));

    let bearer = Request::post("/me")
        .header("authorization", format!("Bearer {token}"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    app.send(bearer).await.assert_ok(json!({ "user": "alice" }));
}

#[tokio::test]
async fn csrf_can_be_turned_off_or_widened_to_trusted_origins() {
    let off = TestApp::with(|b| b.use_cookie(true).csrf_protection(false));
    let token = off.token("alice");
    off.send(cookie_post(
        &off,
        &token,
        &[("sec-fetch-site", "cross-site")],
    ))
    .await
    .assert_ok(json!({ "user": "alice" }));

    let trusted = TestApp::with(|b| {
        b.use_cookie(true)
            .trusted_origin("https://admin.example.com/")
    });
    let token = trusted.token("alice");
    trusted
        .send(cookie_post(
            &trusted,
            &token,
            &[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://admin.example.com"),
            ],
        ))
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_cross_site_refused(
        &trusted
            .send(cookie_post(
                &trusted,
                &token,
                &[("origin", "https://other.example.com")],
            ))
            .await,
    );
    let bad = LoginManager::builder("/login")
        .secret(SECRET)
        .trusted_origin("admin.example.com")
        .build();
    assert!(matches!(bad, Err(ConfigError::InvalidOrigin(_))));
}

// ---- login CSRF: the SameOrigin guard ----

async fn guarded_login(_: SameOrigin) -> &'static str {
    "logged in"
}

#[tokio::test]
async fn same_origin_guard_protects_the_login_route() {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/login", post(guarded_login))
        .with_state(manager);
    let send = |headers: Vec<(&'static str, &'static str)>| {
        let app = app.clone();
        async move {
            let mut b = Request::post("/login").header("host", "app.example.com");
            for (k, v) in headers {
                b = b.header(k, v);
            }
            app.oneshot(b.body(Body::empty()).unwrap()).await.unwrap()
        }
    };
    assert_eq!(
        send(vec![("sec-fetch-site", "cross-site")]).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(vec![("origin", "https://evil.example")])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(vec![("sec-fetch-site", "same-origin")]).await.status(),
        StatusCode::OK
    );
    assert_eq!(send(vec![]).await.status(), StatusCode::OK);
}

// ---- the middleware layer ----

async fn layered_page(
    CurrentUser(user): CurrentUser<User>,
    AuthUser(again): AuthUser<User>,
) -> impl IntoResponse {
    let name = user.map(|u| u.name);
    Json(json!({ "layer": name, "extractor": again.name }))
}

async fn public_page(
    State(st): State<AppState>,
    CurrentUser(user): CurrentUser<User>,
) -> impl IntoResponse {
    st.probe.ran();
    Json(json!({ "user": user.map(|u| u.name) }))
}

fn layered(app: &TestApp) -> Router {
    let state = AppState {
        manager: app.manager.clone(),
        probe: app.probe.clone(),
    };
    Router::new()
        .route("/page", get(layered_page))
        .route("/public", get(public_page))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            attach_user::<User, AppState>,
        ))
        .with_state(state)
}

async fn call(router: &Router, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(router, request(Method::GET, path, headers, Body::empty())).await
}

#[tokio::test]
async fn the_layer_loads_the_user_once_and_the_extractors_reuse_it() {
    let app = TestApp::new();
    let router = layered(&app);
    let token = app.token("alice");
    let reply = call(
        &router,
        "/page",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    reply.assert_ok(json!({ "layer": "alice", "extractor": "alice" }));
    assert_eq!(
        app.probe.loads(),
        1,
        "the loader ran more than once for one request"
    );

    let anon = call(&router, "/public", &[]).await;
    anon.assert_ok(json!({ "user": null }));
    let invalid = call(
        &router,
        "/public",
        &[("authorization", "Bearer not.a.token")],
    )
    .await;
    invalid.assert_ok(json!({ "user": null }));
    assert_eq!(app.probe.loads(), 1);
}

#[tokio::test]
async fn the_layer_never_turns_a_loader_failure_into_no_user() {
    let app = TestApp::new();
    let router = layered(&app);
    let token = app.token(login_tests::DB_DOWN);
    let reply = call(
        &router,
        "/public",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.probe.runs(),
        0,
        "the handler ran although the store failed"
    );
    let two = call(
        &router,
        "/public",
        &[("authorization", "Bearer a"), ("authorization", "Bearer b")],
    )
    .await;
    assert_eq!(two.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.probe.runs(), 0);
}

#[tokio::test]
async fn current_user_without_the_layer_is_a_clear_server_error() {
    let app = TestApp::new();
    let state = AppState {
        manager: app.manager.clone(),
        probe: Probe::default(),
    };
    let router = Router::new()
        .route("/public", get(public_page))
        .with_state(state);
    let reply = call(&router, "/public", &[]).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.text().contains("attach_user"));
}

// ---- redirects ----

#[tokio::test]
async fn browsers_are_redirected_to_the_login_page_with_next_and_api_clients_get_401() {
    let app = TestApp::with(|b| b.redirect_to_login());
    let page = app
        .get(
            "/me?tab=posts",
            &[("accept", "text/html,application/xhtml+xml")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers[header::LOCATION],
        "/login?next=%2Fme%3Ftab%3Dposts"
    );
    let expired = app
        .get(
            "/me",
            &[("accept", "text/html"), ("authorization", "Bearer x.y.z")],
        )
        .await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);

    let api = app.get("/me", &[("accept", "application/json")]).await;
    api.assert(login_test_support::Expect::NoCredentials);
    // A missing scope is a 403, not a trip to the login page.
    let token = app.token("alice");
    let scoped = app
        .get(
            "/write",
            &[
                ("accept", "text/html"),
                ("authorization", &format!("Bearer {token}")),
            ],
        )
        .await;
    assert_eq!(scoped.status, StatusCode::FORBIDDEN);
    app.assert_untouched();
}

// ---- cookie attributes ----

#[test]
fn host_prefixed_cookie_and_its_clearing_twin() {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .use_cookie(true)
        .cookie_host_prefix(true)
        .build()
        .unwrap();
    assert_eq!(manager.cookie_name(), "__Host-access-token");
    let (pair, set) = cookie_parts(&manager.cookie("tok").to_string());
    assert_eq!(pair, "__Host-access-token=tok");
    assert_eq!(
        set,
        [
            "HttpOnly",
            "Max-Age=900",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ]
    );
    let (pair, clear) = cookie_parts(&manager.removal_cookie().to_string());
    assert_eq!(pair, "__Host-access-token=");
    assert_eq!(
        clear,
        ["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax", "Secure"]
    );
}

#[test]
fn custom_cookie_attributes_are_mirrored_when_clearing() {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .use_cookie(true)
        .cookie_domain("example.com")
        .cookie_path("/app")
        .cookie_same_site(axum_extra_same_site_strict())
        .cookie_secure(false)
        .build()
        .unwrap();
    let (_, set) = cookie_parts(&manager.cookie("tok").to_string());
    let (_, clear) = cookie_parts(&manager.removal_cookie().to_string());
    assert_eq!(
        set,
        [
            "Domain=example.com",
            "HttpOnly",
            "Max-Age=900",
            "Path=/app",
            "SameSite=Strict"
        ]
    );
    let without_max_age = |v: &[String]| {
        v.iter()
            .filter(|a| !a.starts_with("Max-Age"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(without_max_age(&set), without_max_age(&clear));
    assert!(clear.contains(&"Max-Age=0".to_owned()));
}

fn axum_extra_same_site_strict() -> login::cookie::SameSite {
    login::cookie::SameSite::Strict
}

#[test]
fn cookie_configuration_errors() {
    let b = || {
        LoginManager::builder("/login")
            .secret(SECRET)
            .use_cookie(true)
    };
    assert!(matches!(
        b().cookie_host_prefix(true)
            .cookie_domain("example.com")
            .build(),
        Err(ConfigError::HostPrefix(_))
    ));
    assert!(matches!(
        b().cookie_host_prefix(true).cookie_path("/app").build(),
        Err(ConfigError::HostPrefix(_))
    ));
    assert!(matches!(
        b().cookie_host_prefix(true).cookie_secure(false).build(),
        Err(ConfigError::HostPrefix(_))
    ));
    assert!(matches!(
        b().cookie_same_site(login::cookie::SameSite::None)
            .cookie_secure(false)
            .build(),
        Err(ConfigError::InsecureSameSiteNone)
    ));
    assert!(matches!(
        b().cookie_path("app").build(),
        Err(ConfigError::InvalidCookiePath(_))
    ));
    assert!(matches!(
        b().cookie_name("__Host-x").build(),
        Err(ConfigError::InvalidCookieName(_))
    ));
}

#[tokio::test]
async fn redirect_to_login_composes_with_an_own_hook() {
    let app = TestApp::with(|b| {
        b.use_cookie(true)
            .on_rejection(|r| {
                (r.kind() == login::rejection::RejectionKind::CrossSiteRequest)
                    .then(|| (StatusCode::FORBIDDEN, "<h1>Refused</h1>").into_response())
            })
            .redirect_to_login()
    });
    let page = app.get("/me", &[("accept", "text/html")]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let token = app.token("alice");
    let refused = app
        .send(cookie_post(
            &app,
            &token,
            &[("sec-fetch-site", "cross-site")],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.text(), "<h1>Refused</h1>");
    app.assert_untouched();
}
