//! The `simple` example's HTTP contract (issue #3), driven against its router.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use login::LoginManager;
use login_examples::simple::{Db, app, manager};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "simple-example-test-secret-32-bytes-or-more";

fn db() -> Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(Db::demo).clone()
}

fn setup() -> (Router, LoginManager) {
    let manager = manager(SECRET).unwrap();
    (app(manager.clone(), db()), manager)
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn form(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::empty()).unwrap()
}

async fn token(app: &Router, creds: &str) -> String {
    let reply = send(app, form("/login", creds)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

const JOHN: &str = "username=johndoe%40mail.com&password=hunter2";
const JANE: &str = "username=janedoe%40mail.com&password=jane-secret-pw";

fn john_json() -> Value {
    json!({ "email": "johndoe@mail.com", "name": "John Doe" })
}

/// The attributes of a Set-Cookie value, as a sorted list (order is not significant).
fn cookie_parts(value: &str) -> (String, Vec<String>) {
    let mut parts = value.split("; ");
    let pair = parts.next().unwrap().to_owned();
    let mut attrs: Vec<String> = parts.map(str::to_owned).collect();
    attrs.sort();
    (pair, attrs)
}

#[tokio::test]
async fn login_returns_a_bearer_token_response() {
    let (app, manager) = setup();
    let reply = send(&app, form("/login", JOHN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.body["token_type"], "bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert_eq!(reply.body.as_object().unwrap().len(), 3);
    let claims = manager
        .verify_token(reply.body["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.sub, "johndoe@mail.com");
    assert_eq!(claims.exp - claims.iat.unwrap(), 900);
    assert_eq!(claims.scopes, vec!["read", "write"]);
}

#[tokio::test]
async fn login_grants_requested_scopes_the_user_may_hold_never_more() {
    let (app, manager) = setup();
    let t = token(&app, &format!("{JOHN}&scope=read")).await;
    assert_eq!(manager.verify_token(&t).unwrap().scopes, vec!["read"]);
    let t = token(&app, &format!("{JANE}&scope=read%20write")).await;
    assert_eq!(manager.verify_token(&t).unwrap().scopes, vec!["read"]);
    let t = token(&app, &format!("{JANE}&scope=write%20admin")).await;
    assert!(manager.verify_token(&t).unwrap().scopes.is_empty());
    let t = token(&app, JANE).await;
    assert_eq!(manager.verify_token(&t).unwrap().scopes, vec!["read"]);
}

#[tokio::test]
async fn unknown_user_and_wrong_password_get_the_same_answer() {
    let (app, _) = setup();
    let unknown = send(
        &app,
        form("/login", "username=nobody%40mail.com&password=hunter2"),
    )
    .await;
    let wrong = send(
        &app,
        form("/login", "username=johndoe%40mail.com&password=hunter3"),
    )
    .await;
    for reply in [&unknown, &wrong] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(reply.body, json!({ "detail": "Invalid credentials" }));
    }
    assert_eq!(unknown.headers, wrong.headers);
    let cookie_unknown = send(
        &app,
        form("/login/cookie", "username=nobody%40mail.com&password=x"),
    )
    .await;
    assert_eq!(cookie_unknown.status, StatusCode::UNAUTHORIZED);
    assert!(cookie_unknown.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn oversized_password_is_refused_before_hashing() {
    let (app, _) = setup();
    let body = format!("username=johndoe%40mail.com&password={}", "a".repeat(5000));
    let reply = send(&app, form("/login", &body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cookie_login_sets_a_safe_cookie_and_logout_clears_it_with_the_same_attributes() {
    let (app, manager) = setup();
    let reply = send(&app, form("/login/cookie", JOHN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({ "status": "Success" }));
    let set = reply.headers[header::SET_COOKIE].to_str().unwrap();
    let (pair, attrs) = cookie_parts(set);
    let token = pair.strip_prefix("access-token=").unwrap();
    assert_eq!(manager.verify_token(token).unwrap().sub, "johndoe@mail.com");
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=900",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ]
    );

    let cookie = format!("access-token={token}");
    let me = send(&app, get("/protected", &[("cookie", &cookie)])).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body, json!({ "user": john_json() }));

    let out = send(&app, Request::post("/logout").body(Body::empty()).unwrap()).await;
    assert_eq!(out.status, StatusCode::OK);
    let (pair, clear_attrs) = cookie_parts(out.headers[header::SET_COOKIE].to_str().unwrap());
    assert_eq!(pair, "access-token=");
    assert_eq!(
        clear_attrs,
        ["HttpOnly", "Max-Age=0", "Path=/", "SameSite=Lax", "Secure"]
    );
}

#[tokio::test]
async fn protected_route_needs_credentials() {
    let (app, _) = setup();
    let t = token(&app, JOHN).await;
    let ok = send(
        &app,
        get("/protected", &[("authorization", &format!("Bearer {t}"))]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, json!({ "user": john_json() }));
    let body = ok.body.to_string();
    assert!(
        !body.contains("argon2") && !body.contains("scopes"),
        "{body}"
    );

    let none = send(&app, get("/protected", &[])).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(none.body, json!({ "detail": "Not authenticated" }));

    let bad = send(
        &app,
        get("/protected", &[("authorization", &format!("Bearer {t}x"))]),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bad.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    assert!(!bad.body.to_string().contains(&t));
}

#[tokio::test]
async fn optional_route_names_the_user_only_with_valid_credentials() {
    let (app, _) = setup();
    let anon = send(&app, get("/optional", &[])).await;
    assert_eq!(anon.status, StatusCode::OK);
    assert_eq!(anon.body, json!({ "user": null }));
    let t = token(&app, JOHN).await;
    let named = send(
        &app,
        get("/optional", &[("authorization", &format!("Bearer {t}"))]),
    )
    .await;
    assert_eq!(named.body, json!({ "user": john_json() }));
    let invalid = send(
        &app,
        get("/optional", &[("authorization", "Bearer not.a.token")]),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::OK);
    assert_eq!(invalid.body, json!({ "user": null }));
}

#[tokio::test]
async fn scoped_route_needs_the_write_scope() {
    let (app, _) = setup();
    let john = token(&app, JOHN).await;
    let ok = send(
        &app,
        get("/scoped", &[("authorization", &format!("Bearer {john}"))]),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, json!({ "user": john_json() }));

    let jane = token(&app, JANE).await;
    let denied = send(
        &app,
        get("/scoped", &[("authorization", &format!("Bearer {jane}"))]),
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        denied.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="insufficient_scope", scope="write""#
    );
    assert_eq!(denied.body, json!({ "detail": "Insufficient scope" }));

    let read_only = token(&app, &format!("{JOHN}&scope=read")).await;
    let denied = send(
        &app,
        get(
            "/scoped",
            &[("authorization", &format!("Bearer {read_only}"))],
        ),
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let anon = send(&app, get("/scoped", &[])).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_authorization_headers_are_a_malformed_request() {
    let (app, _) = setup();
    let t = token(&app, JOHN).await;
    let bearer = format!("Bearer {t}");
    let reply = send(
        &app,
        get(
            "/protected",
            &[("authorization", &bearer), ("authorization", &bearer)],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_request""#
    );
}

#[tokio::test]
async fn empty_cookie_counts_as_no_credentials() {
    let (app, _) = setup();
    let reply = send(&app, get("/protected", &[("cookie", "access-token=")])).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    // …and the header still works next to an empty cookie.
    let t = token(&app, JOHN).await;
    let reply = send(
        &app,
        get(
            "/protected",
            &[
                ("cookie", "access-token="),
                ("authorization", &format!("Bearer {t}")),
            ],
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn scheme_is_case_insensitive_and_clients_without_origin_headers_are_served() {
    let (app, _) = setup();
    let t = token(&app, JOHN).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let reply = send(
            &app,
            get("/protected", &[("authorization", &format!("{scheme} {t}"))]),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{scheme}");
    }
}

/// Issue 15 §4: the user's `Debug` (what `tracing::debug!(?user)` prints) never holds the
/// password hash.
#[tokio::test]
async fn user_debug_hides_the_password_hash() {
    let db = Db::default();
    db.add_user(
        "ann@mail.com",
        "Ann",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g".into(),
        &["read"],
    );
    let user = db.find("ann@mail.com").await.unwrap();
    let debug = format!("{user:?}");
    assert!(
        debug.contains("ann@mail.com") && debug.contains("read"),
        "{debug}"
    );
    assert!(
        !debug.contains("argon2") && !debug.contains("c2FsdHNhbHRzYWx0"),
        "{debug}"
    );
}
