//! The `simple` example's HTTP contract, driven against its router.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use login::LoginManager;
use login_examples::simple::{Db, app, manager};
use login_test_support::{Reply, cookie_parts, form_request, request, send};
use serde_json::{Value, json};

const SECRET: &str = "simple-example-test-secret-32-bytes-or-more";

fn db() -> Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(Db::demo).clone()
}

fn setup() -> (Router, LoginManager) {
    let manager = manager(SECRET).unwrap();
    (app(manager.clone(), db()), manager)
}

fn get(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    request(Method::GET, path, headers, Body::empty())
}

async fn token(app: &Router, creds: &str) -> String {
    let reply = send(app, form_request("/login", creds)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

const JOHN: &str = "username=johndoe%40mail.com&password=hunter2";
const JANE: &str = "username=janedoe%40mail.com&password=jane-secret-pw";

fn john_json() -> Value {
    json!({ "email": "johndoe@mail.com", "name": "John Doe" })
}

#[tokio::test]
async fn login_returns_a_bearer_token_response() {
    let (app, manager) = setup();
    let reply = send(&app, form_request("/login", JOHN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.json()["token_type"], "bearer");
    assert_eq!(reply.json()["expires_in"], 900);
    // Sessions add the refresh token (and nothing else) to the token response.
    assert_eq!(reply.json().as_object().unwrap().len(), 4);
    assert!(
        reply.json()["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("lrt_")
    );
    let claims = manager
        .verify_token(reply.json()["access_token"].as_str().unwrap())
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
        form_request("/login", "username=nobody%40mail.com&password=hunter2"),
    )
    .await;
    let wrong = send(
        &app,
        form_request("/login", "username=johndoe%40mail.com&password=hunter3"),
    )
    .await;
    for reply in [&unknown, &wrong] {
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(reply.json(), json!({ "detail": "Invalid credentials" }));
    }
    assert_eq!(unknown.headers, wrong.headers);
    let cookie_unknown = send(
        &app,
        form_request("/login/cookie", "username=nobody%40mail.com&password=x"),
    )
    .await;
    assert_eq!(cookie_unknown.status, StatusCode::UNAUTHORIZED);
    assert!(cookie_unknown.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test]
async fn oversized_password_is_refused_before_hashing() {
    let (app, _) = setup();
    let body = format!("username=johndoe%40mail.com&password={}", "a".repeat(5000));
    let reply = send(&app, form_request("/login", &body)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cookie_login_sets_a_safe_cookie_and_logout_clears_it_with_the_same_attributes() {
    let (app, manager) = setup();
    let reply = send(&app, form_request("/login/cookie", JOHN)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "status": "Success" }));
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
    assert_eq!(me.json(), json!({ "user": john_json() }));

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
    assert_eq!(ok.json(), json!({ "user": john_json() }));
    let body = ok.text();
    assert!(
        !body.contains("argon2") && !body.contains("scopes"),
        "{body}"
    );

    let none = send(&app, get("/protected", &[])).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.headers[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(none.json(), json!({ "detail": "Not authenticated" }));

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
    assert!(!bad.text().contains(&t));
}

#[tokio::test]
async fn optional_route_names_the_user_only_with_valid_credentials() {
    let (app, _) = setup();
    let anon = send(&app, get("/optional", &[])).await;
    assert_eq!(anon.status, StatusCode::OK);
    assert_eq!(anon.json(), json!({ "user": null }));
    let t = token(&app, JOHN).await;
    let named = send(
        &app,
        get("/optional", &[("authorization", &format!("Bearer {t}"))]),
    )
    .await;
    assert_eq!(named.json(), json!({ "user": john_json() }));
    let invalid = send(
        &app,
        get("/optional", &[("authorization", "Bearer not.a.token")]),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::OK);
    assert_eq!(invalid.json(), json!({ "user": null }));
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
    assert_eq!(ok.json(), json!({ "user": john_json() }));

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
    assert_eq!(denied.json(), json!({ "detail": "Insufficient scope" }));

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

// ----- sessions -----------------------------------------------------------------------------

fn post(path: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut builder = Request::post(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

/// Logs John in: (access token, refresh token).
async fn tokens(app: &Router) -> (String, String) {
    let reply = send(app, form_request("/login", JOHN)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    (
        reply.json()["access_token"].as_str().unwrap().to_owned(),
        reply.json()["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(app: &Router, token: &str) -> Reply {
    send(
        app,
        form_request(
            "/refresh",
            format!("grant_type=refresh_token&refresh_token={token}"),
        ),
    )
    .await
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn protected_status(app: &Router, token: &str) -> StatusCode {
    send(app, get("/protected", &[("authorization", &bearer(token))]))
        .await
        .status
}

#[tokio::test]
async fn refresh_returns_new_tokens_of_the_same_session() {
    let (app, manager) = setup();
    let (access, refresh_token) = tokens(&app).await;
    let reply = refresh(&app, &refresh_token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(reply.json()["token_type"], "bearer");
    assert_eq!(reply.json()["expires_in"], 900);
    let body = reply.json();
    let new_access = body["access_token"].as_str().unwrap();
    let new_refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, refresh_token);
    let (old, new) = (
        manager.verify_token(&access).unwrap(),
        manager.verify_token(new_access).unwrap(),
    );
    assert_eq!(old.sid, new.sid);
    assert_eq!(new.scopes, ["read", "write"]);
    assert_eq!(protected_status(&app, new_access).await, StatusCode::OK);
}

#[tokio::test]
async fn refresh_errors_are_rfc_6749_invalid_grant() {
    let (app, _) = setup();
    let (access, refresh_token) = tokens(&app).await;
    for token in [access.as_str(), "lrt_unknown", &"x".repeat(9000)] {
        let reply = refresh(&app, token).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.json(), json!({ "error": "invalid_grant" }));
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    }
    // The refresh token is not an access token.
    assert_eq!(
        protected_status(&app, &refresh_token).await,
        StatusCode::UNAUTHORIZED
    );
    // Reuse: the first rotation wins, the replay (after the grace window is irrelevant here:
    // the successor was used) ends the session.
    let first = refresh(&app, &refresh_token).await;
    let successor = first.json()["refresh_token"].as_str().unwrap().to_owned();
    let newest = refresh(&app, &successor).await;
    let newest_access = newest.json()["access_token"].as_str().unwrap().to_owned();
    let replay = refresh(&app, &refresh_token).await;
    assert_eq!(replay.json(), json!({ "error": "invalid_grant" }));
    assert_eq!(
        protected_status(&app, &newest_access).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_ends_the_session_of_the_token_it_is_given() {
    let (app, _) = setup();
    let (access, refresh_token) = tokens(&app).await;
    let (other_access, _) = tokens(&app).await;
    assert_eq!(protected_status(&app, &access).await, StatusCode::OK);
    let out = send(
        &app,
        post("/logout", &[("authorization", &bearer(&access))], ""),
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json(), json!({ "status": "Success" }));
    assert_eq!(
        protected_status(&app, &access).await,
        StatusCode::UNAUTHORIZED
    );
    let replay = refresh(&app, &refresh_token).await;
    assert_eq!(replay.json(), json!({ "error": "invalid_grant" }));
    assert_eq!(protected_status(&app, &other_access).await, StatusCode::OK);
    // With the refresh token in the form.
    let (access, refresh_token) = tokens(&app).await;
    let out = send(
        &app,
        form_request("/logout", format!("refresh_token={refresh_token}")),
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(
        protected_status(&app, &access).await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn logout_without_a_token_still_answers_and_clears_both_cookies() {
    let (app, _) = setup();
    let out = send(&app, post("/logout", &[], "")).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json(), json!({ "status": "Success" }));
    let cookies = out.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let (pair, attrs) = cookie_parts(&cookies[1]);
    assert_eq!(pair, "refresh-token=");
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=0",
            "Path=/refresh",
            "SameSite=Strict",
            "Secure"
        ]
    );
}

#[tokio::test]
async fn cookie_login_sets_the_refresh_cookie_and_the_cookie_refreshes() {
    let (app, _) = setup();
    let reply = send(&app, form_request("/login/cookie", JOHN)).await;
    let cookies = reply.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(cookies[0].starts_with("access-token="));
    let (pair, attrs) = cookie_parts(&cookies[1]);
    let refresh_token = pair.strip_prefix("refresh-token=").unwrap().to_owned();
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=1209600",
            "Path=/refresh",
            "SameSite=Strict",
            "Secure"
        ]
    );
    let cookie = format!("refresh-token={refresh_token}");
    let reply = send(
        &app,
        post(
            "/refresh",
            &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
            "",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // The cookies carry the new tokens; the body none (a script in the page could read it).
    assert_eq!(reply.json(), json!({ "expires_in": 900 }));
    let cookies = reply.set_cookies();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("access-token=")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("refresh-token=")),
        "{cookies:?}"
    );
    // Another site cannot use the cookie.
    let reply = send(
        &app,
        post(
            "/refresh",
            &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
            "",
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn logout_all_signs_the_user_out_everywhere() {
    let (app, _) = setup();
    let (a1, r1) = tokens(&app).await;
    let (a2, _) = tokens(&app).await;
    let jane = token(&app, JANE).await;
    let anon = send(&app, post("/logout/all", &[], "")).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let out = send(
        &app,
        post("/logout/all", &[("authorization", &bearer(&a1))], ""),
    )
    .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.json()["status"], "Success");
    assert!(out.json()["sessions_ended"].as_u64().unwrap() >= 2);
    for t in [&a1, &a2] {
        assert_eq!(protected_status(&app, t).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        refresh(&app, &r1).await.json(),
        json!({ "error": "invalid_grant" })
    );
    assert_eq!(protected_status(&app, &jane).await, StatusCode::OK);
}

/// The user's `Debug` (what `tracing::debug!(?user)` prints) never holds the
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
