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
    // Nothing grantable: `invalid_scope` (RFC 6749 §5.2), never a token with `"scope": ""`,
    // on both login routes.
    for route in ["/login", "/login/cookie"] {
        let reply = send(
            &app,
            form_request(route, format!("{JANE}&scope=write%20admin")),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{route}");
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            reply.json(),
            json!({
                "error": "invalid_scope",
                "error_description": "none of the requested scopes can be granted"
            })
        );
        assert!(reply.set_cookies().is_empty(), "{route}");
    }
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
    // The token cookie, the refresh cookie, and (third) the login throttle's device token.
    assert_eq!(cookies.len(), 3, "{cookies:?}");
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
    let (pair, attrs) = cookie_parts(&cookies[2]);
    assert!(pair.starts_with("device-token=ldt_"), "{pair}");
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=7776000",
            "Path=/",
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

fn delete(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    request(Method::DELETE, path, headers, Body::empty())
}

async fn sessions_of(app: &Router, access: &str) -> Reply {
    send(app, get("/sessions", &[("authorization", &bearer(access))])).await
}

/// `GET /sessions`: every live session of the caller, one shape per entry, `current` on the
/// caller's own; nobody else's.
#[tokio::test]
async fn sessions_lists_the_callers_sessions_and_marks_the_current_one() {
    let (app, manager) = setup();
    let first = send(
        &app,
        Request::post("/login")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", "phone/1.0")
            .body(Body::from(JOHN))
            .unwrap(),
    )
    .await;
    let (a2, _) = tokens(&app).await;
    let jane = token(&app, JANE).await;
    let reply = sessions_of(&app, &a2).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let list = reply.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    let sid = |t: &str| manager.verify_token(t).unwrap().sid.unwrap();
    let first_access = first.json()["access_token"].as_str().unwrap().to_owned();
    // Oldest first; two logins in one second may list in either order.
    let entry = |id: String| {
        list.iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap()
            .clone()
    };
    let phone = entry(sid(&first_access));
    assert_eq!(phone["current"], false);
    assert_eq!(phone["user_agent"], "phone/1.0");
    let this = entry(sid(&a2));
    assert_eq!(this["current"], true);
    assert_eq!(this["user_agent"], Value::Null);
    for entry in &list {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "created_at",
                "current",
                "ends_at",
                "expires_at",
                "id",
                "last_seen_at",
                "scopes",
                "user_agent"
            ]
        );
        assert_eq!(entry["scopes"], json!(["read", "write"]));
        assert_eq!(entry["last_seen_at"], entry["created_at"]);
    }
    // Jane sees only hers.
    let reply = sessions_of(&app, &jane).await;
    let list = reply.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
    // No token: 401 with the RFC 6750 challenge.
    let anon = send(&app, get("/sessions", &[])).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.headers[header::WWW_AUTHENTICATE], "Bearer");
}

/// A session with no scopes still lists `"scopes": []`, and a refresh moves `last_seen_at`.
#[tokio::test]
async fn session_entries_keep_their_shape_without_scopes() {
    let (app, manager) = setup();
    let tokens = manager
        .start_session(login::TokenRequest::new("johndoe@mail.com"), None)
        .await
        .unwrap();
    let reply = sessions_of(&app, &tokens.access_token).await;
    let entry = reply.json()["sessions"][0].clone();
    assert_eq!(entry["scopes"], json!([]));
    assert_eq!(entry["user_agent"], Value::Null);
    assert_eq!(entry["ends_at"], Value::Null);
}

/// `DELETE /sessions/{id}`: 204 for one of the caller's own sessions (which then stops
/// working), 404 for anyone else's or an unknown id, 401 without a token, 403 cross-site with
/// the cookie.
#[tokio::test]
async fn delete_session_ends_only_the_callers_own() {
    let (app, manager) = setup();
    let (phone, phone_refresh) = tokens(&app).await;
    let (laptop, _) = tokens(&app).await;
    let jane = token(&app, JANE).await;
    let phone_sid = manager.verify_token(&phone).unwrap().sid.unwrap();
    let sid = |_: &str| phone_sid.clone();
    let auth = bearer(&laptop);
    // Jane cannot end John's session, nor tell it from an unknown one.
    let theirs = send(
        &app,
        delete(
            &format!("/sessions/{}", sid(&phone)),
            &[("authorization", &bearer(&jane))],
        ),
    )
    .await;
    let unknown = send(
        &app,
        delete("/sessions/no-such-session", &[("authorization", &auth)]),
    )
    .await;
    let long = send(
        &app,
        delete(
            &format!("/sessions/{}", "x".repeat(5000)),
            &[("authorization", &auth)],
        ),
    )
    .await;
    for reply in [&theirs, &unknown, &long] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
        assert_eq!(reply.json(), json!({ "detail": "Session not found" }));
    }
    assert_eq!(protected_status(&app, &phone).await, StatusCode::OK);
    let anon = send(&app, delete(&format!("/sessions/{}", sid(&phone)), &[])).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    // The laptop ends the phone's session: its tokens stop working, the laptop's do not.
    let out = send(
        &app,
        delete(
            &format!("/sessions/{}", sid(&phone)),
            &[("authorization", &auth)],
        ),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT, "{}", out.text());
    assert!(out.set_cookies().is_empty());
    assert_eq!(
        protected_status(&app, &phone).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh(&app, &phone_refresh).await.json(),
        json!({ "error": "invalid_grant" })
    );
    assert_eq!(protected_status(&app, &laptop).await, StatusCode::OK);
    let again = send(
        &app,
        delete(
            &format!("/sessions/{}", sid(&phone)),
            &[("authorization", &auth)],
        ),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let list = sessions_of(&app, &laptop).await.json()["sessions"].clone();
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// Ending the current session with the cookie: same-origin only, and the cookies go.
#[tokio::test]
async fn delete_own_current_session_with_the_cookie_clears_the_cookies() {
    let (app, manager) = setup();
    let login = send(&app, form_request("/login/cookie", JOHN)).await;
    let cookies = login.set_cookies();
    let (pair, _) = cookie_parts(&cookies[0]);
    let access = pair.strip_prefix("access-token=").unwrap().to_owned();
    let id = manager.verify_token(&access).unwrap().sid.unwrap();
    let cookie = format!("access-token={access}");
    let path = format!("/sessions/{id}");
    let cross = send(
        &app,
        delete(
            &path,
            &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
        ),
    )
    .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let listed = send(&app, get("/sessions", &[("cookie", &cookie)])).await;
    assert_eq!(listed.json()["sessions"][0]["current"], true);
    let out = send(
        &app,
        delete(
            &path,
            &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
        ),
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let cleared = out.set_cookies();
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(cleared[0].starts_with("access-token=;"), "{cleared:?}");
    assert!(cleared[1].starts_with("refresh-token=;"), "{cleared:?}");
    let after = send(&app, get("/sessions", &[("cookie", &cookie)])).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
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
