//! Sessions over HTTP: refresh tokens with rotation, the grace window and reuse
//! detection; ending one session, every session of a subject, one access token; listing; the
//! refresh cookie; what every request checks (cached token or not) and the memory bound.
//!
//! The app is the shared test app (its `/me` route, counting loader and frozen clock) with
//! session routes added:
//!
//! | route | what it does |
//! |---|---|
//! | `POST /session/login` | body = subject → `manager.login_response` (both tokens) |
//! | `POST /session/cookie-login` | body = subject → both cookies |
//! | `POST /refresh` | `login::refresh::refresh_route` |
//! | `POST /session/logout` | ends the session of the access token, else of the form's `refresh_token`; clears the cookies |
//! | `POST /session/logout-all` | `end_all_sessions` for the access token's subject |
//! | `POST /session/revoke` | revokes the access token itself (`jti`) |
//! | `GET /session/list` | the subject's sessions |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use login::{Claims, CookieJar, LoginManagerBuilder, refresh::UserAgent, session::MemoryStore};
use login_test_support::{Expect, NOW, Reply, forge};
use login_tests::{AppState, TestApp};
use serde_json::{Value, json};

/// The shared app with sessions on, the session routes, and its store.
struct App {
    app: TestApp,
    store: Arc<MemoryStore>,
}

async fn session_login(
    State(st): State<AppState>,
    UserAgent(agent): UserAgent,
    subject: String,
) -> Response {
    match st.manager.login_response(subject, agent.as_deref()).await {
        Ok(response) => response.into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn session_cookie_login(
    State(st): State<AppState>,
    jar: CookieJar,
    subject: String,
) -> (CookieJar, StatusCode) {
    let tokens = st.manager.start_session(subject, None).await.unwrap();
    (
        st.manager.set_session_cookies(jar, &tokens),
        StatusCode::NO_CONTENT,
    )
}

#[derive(serde::Deserialize)]
struct LogoutForm {
    refresh_token: Option<String>,
}

async fn session_logout(
    State(st): State<AppState>,
    claims: Option<Claims>,
    jar: CookieJar,
    form: Result<Form<LogoutForm>, axum::extract::rejection::FormRejection>,
) -> (CookieJar, Json<Value>) {
    let ended = match (claims, form.ok().and_then(|Form(f)| f.refresh_token)) {
        (Some(claims), _) => st.manager.logout(&claims).await.unwrap(),
        (None, Some(token)) => st.manager.logout_refresh_token(&token).await.unwrap(),
        (None, None) => false,
    };
    (
        st.manager.clear_session_cookies(jar),
        Json(json!({ "ended": ended })),
    )
}

async fn session_logout_all(State(st): State<AppState>, claims: Claims) -> Json<Value> {
    let ended = st.manager.end_all_sessions(&claims.sub).await.unwrap();
    Json(json!({ "ended": ended }))
}

async fn session_revoke(State(st): State<AppState>, claims: Claims) -> StatusCode {
    st.manager
        .revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp)
        .await
        .unwrap();
    StatusCode::NO_CONTENT
}

async fn session_list(State(st): State<AppState>, claims: Claims) -> Json<Value> {
    let sessions = st.manager.list_sessions(&claims.sub).await.unwrap();
    Json(json!({ "sessions": sessions, "current": claims.sid }))
}

impl App {
    fn new() -> Self {
        Self::with(|b| b)
    }

    fn with(configure: impl FnOnce(LoginManagerBuilder) -> LoginManagerBuilder) -> Self {
        let store = MemoryStore::shared();
        let s = store.clone();
        let mut app = TestApp::with(move |b| configure(b.use_cookie(true).session_store(s)));
        let routes = Router::new()
            .route("/session/login", post(session_login))
            .route("/session/cookie-login", post(session_cookie_login))
            .route("/refresh", post(login::refresh::refresh_route))
            .route("/session/logout", post(session_logout))
            .route("/session/logout-all", post(session_logout_all))
            .route("/session/revoke", post(session_revoke))
            .route("/session/list", get(session_list))
            .with_state(AppState {
                manager: app.manager.clone(),
                probe: app.probe.clone(),
            });
        app.router = app.router.clone().merge(routes);
        App { app, store }
    }

    async fn post(&self, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = Request::post(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.app
            .send(request.body(Body::from(body.to_owned())).unwrap())
            .await
    }

    /// Logs `subject` in; returns (access token, refresh token).
    async fn login(&self, subject: &str) -> (String, String) {
        let reply = self
            .post("/session/login", &[("user-agent", "test-agent/1")], subject)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// `POST /refresh` with a form body.
    async fn refresh_form(&self, body: &str) -> Reply {
        self.post(
            "/refresh",
            &[("content-type", "application/x-www-form-urlencoded")],
            body,
        )
        .await
    }

    async fn refresh(&self, token: &str) -> Reply {
        self.refresh_form(&format!("grant_type=refresh_token&refresh_token={token}"))
            .await
    }

    /// Refreshes and expects success: (access, refresh).
    async fn refreshed(&self, token: &str) -> (String, String) {
        let reply = self.refresh(token).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let body = reply.json();
        (
            body["access_token"].as_str().unwrap().to_owned(),
            body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    async fn me(&self, access: &str) -> Reply {
        self.app.bearer("/me", access).await
    }

    #[track_caller]
    fn sid(&self, access: &str) -> String {
        forge::payload_of(access)["sid"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Asserts the one RFC 6749 §5.2 answer of a refused refresh: 400, `{"error":"invalid_grant"}`
/// exactly, `Cache-Control: no-store`, no cookie set, nothing echoed.
#[track_caller]
fn assert_invalid_grant(reply: &Reply, token: &str) {
    assert_grant_error(reply, StatusCode::BAD_REQUEST, "invalid_grant");
    reply.assert_not_echoed(token);
}

#[track_caller]
fn assert_grant_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.text(), format!(r#"{{"error":"{code}"}}"#));
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.headers.get(header::SET_COOKIE).is_none());
}

// ----- login and the two kinds of token ----------------------------------------------------

#[tokio::test]
async fn login_returns_both_tokens_and_the_access_token_carries_the_session() {
    let app = App::new();
    let reply = app
        .post("/session/login", &[("user-agent", "test-agent/1")], "alice")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "expires_in", "refresh_token", "token_type"]
    );
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let refresh = body["refresh_token"].as_str().unwrap();
    assert!(refresh.starts_with("lrt_") && refresh.len() == 47 && !refresh.contains('.'));
    let access = body["access_token"].as_str().unwrap();
    let claims = app.app.manager.verify_token(access).unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.sid.as_deref().map(str::len), Some(22));
    app.me(access).await.assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.store.len(), 1);
}

#[tokio::test]
async fn a_refresh_token_is_never_an_access_token_nor_the_reverse() {
    let app = App::new();
    let (access, refresh) = app.login("alice").await;
    // A refresh token as a bearer token, and in the token cookie: invalid_token.
    app.app
        .assert_rejected_bearer(&refresh, Expect::InvalidToken)
        .await;
    let reply = app.app.cookie("/me", &refresh).await;
    reply.assert(Expect::InvalidToken);
    reply.assert_not_echoed(&refresh);
    assert!(app.app.manager.verify_token(&refresh).is_err());
    // An access token (and any JWT) as a refresh token: invalid_grant, and nothing changed.
    assert_invalid_grant(&app.refresh(&access).await, &access);
    let forged = forge::claims(&json!({ "sub": "alice", "exp": NOW + 60 }));
    assert_invalid_grant(&app.refresh(&forged).await, &forged);
    assert_eq!(app.store.refresh_tokens(), 1);
    // The session is untouched: its refresh token still works.
    app.refreshed(&refresh).await;
}

#[tokio::test]
async fn sid_is_reserved_and_typed() {
    let app = App::new();
    let err = app
        .app
        .manager
        .create_access_token(login::TokenRequest::new("alice").extra(&json!({ "sid": "x" })))
        .unwrap_err();
    assert!(matches!(err, login::TokenError::ReservedClaim(c) if c == "sid"));
    for sid in [json!(5), json!(null), json!(["s"])] {
        let token = forge::claims(&json!({ "sub": "alice", "exp": NOW + 60, "sid": sid }));
        app.app
            .assert_rejected_bearer(&token, Expect::InvalidToken)
            .await;
    }
}

// ----- rotation, grace, reuse ---------------------------------------------------------------

#[tokio::test]
async fn refresh_rotates_within_the_same_session() {
    let app = App::new();
    let (access0, refresh0) = app.login("alice").await;
    app.app.set_now(NOW + 600);
    let reply = app.refresh(&refresh0).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
    let body = reply.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let access1 = body["access_token"].as_str().unwrap();
    let refresh1 = body["refresh_token"].as_str().unwrap();
    assert_ne!(refresh1, refresh0);
    assert_eq!(app.sid(access1), app.sid(&access0));
    let claims = app.app.manager.verify_token(access1).unwrap();
    assert_eq!(claims.iat, Some(NOW + 600));
    app.me(access1).await.assert_ok(json!({ "user": "alice" }));
    // Both access tokens of the session stay valid until they expire.
    app.me(&access0).await.assert_ok(json!({ "user": "alice" }));
    // The new refresh token rotates again.
    app.refreshed(refresh1).await;
}

#[tokio::test]
async fn the_session_keeps_its_scopes_and_extra_claims() {
    let app = App::new();
    let tokens = app
        .app
        .manager
        .start_session(
            login::TokenRequest::new("alice")
                .scopes(["read", "write"])
                .extra(&json!({ "tenant": 7 })),
            None,
        )
        .await
        .unwrap();
    let (access, _) = app.refreshed(&tokens.refresh_token).await;
    let claims = app.app.manager.verify_token(&access).unwrap();
    assert_eq!(claims.scopes, ["read", "write"]);
    assert_eq!(claims.extra["tenant"], 7);
    app.app
        .bearer("/write", &access)
        .await
        .assert_ok(json!({ "user": "alice" }));
}

#[tokio::test]
async fn a_reused_refresh_token_ends_the_whole_session_at_once() {
    let app = App::with(|b| b.refresh_grace(Duration::ZERO));
    let (access0, refresh0) = app.login("alice").await;
    let (other_access, other_refresh) = app.login("alice").await;
    // The access token is cached by a first request.
    app.me(&access0).await.assert_ok(json!({ "user": "alice" }));
    let (access1, refresh1) = app.refreshed(&refresh0).await;
    // refresh0 again: reuse. One invalid_grant, and the session is over.
    assert_invalid_grant(&app.refresh(&refresh0).await, &refresh0);
    app.me(&access0).await.assert(Expect::InvalidToken);
    app.me(&access1).await.assert(Expect::InvalidToken);
    assert_invalid_grant(&app.refresh(&refresh1).await, &refresh1);
    // The user's other session is not affected.
    app.me(&other_access)
        .await
        .assert_ok(json!({ "user": "alice" }));
    app.refreshed(&other_refresh).await;
}

#[tokio::test]
async fn within_the_grace_window_a_repeated_refresh_gets_the_same_successor() {
    // The default rule: 10 s of grace.
    let app = App::new();
    let (_, refresh0) = app.login("alice").await;
    let (access1, refresh1) = app.refreshed(&refresh0).await;
    app.app.set_now(NOW + 9);
    let (access_again, refresh_again) = app.refreshed(&refresh0).await;
    assert_eq!(refresh_again, refresh1);
    assert_eq!(app.sid(&access_again), app.sid(&access1));
    app.me(&access1).await.assert_ok(json!({ "user": "alice" }));
    app.me(&access_again)
        .await
        .assert_ok(json!({ "user": "alice" }));
    // After the window, the same replay is reuse: the session ends.
    app.app.set_now(NOW + 10);
    assert_invalid_grant(&app.refresh(&refresh0).await, &refresh0);
    app.me(&access1).await.assert(Expect::InvalidToken);
    assert_invalid_grant(&app.refresh(&refresh1).await, &refresh1);
}

#[tokio::test]
async fn the_grace_window_ends_when_the_successor_is_used() {
    let app = App::new();
    let (_, refresh0) = app.login("alice").await;
    let (_, refresh1) = app.refreshed(&refresh0).await;
    let (access2, _) = app.refreshed(&refresh1).await;
    // refresh0 is now two rotations old: reuse, even within 10 s.
    assert_invalid_grant(&app.refresh(&refresh0).await, &refresh0);
    app.me(&access2).await.assert(Expect::InvalidToken);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_refreshing_at_once_both_stay_signed_in() {
    let app = App::new();
    let (_, refresh0) = app.login("alice").await;
    let (a, b) = tokio::join!(app.refresh(&refresh0), app.refresh(&refresh0));
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(b.status, StatusCode::OK, "{}", b.text());
    assert_eq!(a.json()["refresh_token"], b.json()["refresh_token"]);
    for reply in [&a, &b] {
        let access = reply.json()["access_token"].as_str().unwrap().to_owned();
        app.me(&access).await.assert_ok(json!({ "user": "alice" }));
    }
    // The shared successor keeps working.
    let next = a.json()["refresh_token"].as_str().unwrap().to_owned();
    app.refreshed(&next).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_grace_two_tabs_refreshing_at_once_end_the_session() {
    // The other rule, `refresh_grace(ZERO)`: one of the two wins, the other is reuse and the
    // session ends (so a browser app should keep the grace window).
    let app = App::with(|b| b.refresh_grace(Duration::ZERO));
    let (_, refresh0) = app.login("alice").await;
    let (a, b) = tokio::join!(app.refresh(&refresh0), app.refresh(&refresh0));
    let statuses = [a.status, b.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    assert!(statuses.contains(&StatusCode::BAD_REQUEST), "{statuses:?}");
    let winner = if a.status == StatusCode::OK { &a } else { &b };
    let access = winner.json()["access_token"].as_str().unwrap().to_owned();
    app.me(&access).await.assert(Expect::InvalidToken);
    assert_eq!(app.store.len(), 0);
}

// ----- bad input ----------------------------------------------------------------------------

#[tokio::test]
async fn unknown_malformed_oversized_and_expired_refresh_tokens_get_one_answer_and_change_nothing()
{
    let app = App::with(|b| b.refresh_lifetime(Duration::from_secs(3600)));
    let (_, refresh) = app.login("alice").await;
    let (_, expiring) = app.login("bob").await;
    let tokens_before = app.store.refresh_tokens();
    let unknown = format!("lrt_{}", "A".repeat(43));
    let mut one_char_off = refresh.clone();
    one_char_off.replace_range(10..11, if &refresh[10..11] == "a" { "b" } else { "a" });
    let bad = [
        unknown,
        one_char_off,
        format!("{refresh}A"),
        refresh[..46].to_owned(),
        refresh.to_uppercase(),
        format!("lrt_{}", "A".repeat(10_000)),
        "lrt_%00%0A".to_owned(),
        "x".repeat(600),
        " ".to_owned(),
    ];
    for token in &bad {
        assert_invalid_grant(&app.refresh(token).await, token);
    }
    // Nothing changed in the store: every token it knew is still known, and alice's works.
    assert_eq!(app.store.refresh_tokens(), tokens_before);
    app.refreshed(&refresh).await;
    // Expired: bob's refresh token works until its hour is over, and its successor for an
    // hour from the refresh, not a second more.
    app.app.set_now(NOW + 3599);
    let (access, renewed) = app.refreshed(&expiring).await;
    app.me(&access).await.assert_ok(json!({ "user": "bob" }));
    app.app.set_now(NOW + 3599 + 3600);
    assert_invalid_grant(&app.refresh(&renewed).await, &renewed);
}

#[tokio::test]
async fn malformed_refresh_requests_are_invalid_request_or_unsupported_grant_type() {
    let app = App::new();
    let (access, refresh) = app.login("alice").await;
    let cases = [
        ("", "invalid_request"),
        ("refresh_token=x", "invalid_request"),
        ("grant_type=&refresh_token=x", "invalid_request"),
        ("grant_type=refresh_token", "invalid_request"),
        ("grant_type=refresh_token&refresh_token=", "invalid_request"),
        (
            "grant_type=password&refresh_token=x",
            "unsupported_grant_type",
        ),
        ("grant_type=authorization_code", "unsupported_grant_type"),
        (
            "grant_type=refresh_token&grant_type=refresh_token&refresh_token=x",
            "invalid_request",
        ),
    ];
    for (body, code) in cases {
        let reply = app.refresh_form(body).await;
        assert_grant_error(&reply, StatusCode::BAD_REQUEST, code);
    }
    let twice = format!("grant_type=refresh_token&refresh_token={refresh}&refresh_token={refresh}");
    let reply = app.refresh_form(&twice).await;
    assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    reply.assert_not_echoed(&refresh);
    // Not a form: JSON, or no body and no cookie.
    let json_body = json!({ "grant_type": "refresh_token", "refresh_token": refresh }).to_string();
    let reply = app
        .post(
            "/refresh",
            &[("content-type", "application/json")],
            &json_body,
        )
        .await;
    assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    let reply = app.post("/refresh", &[], "").await;
    assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    // An oversized body.
    let huge = format!(
        "grant_type=refresh_token&refresh_token={}",
        "a".repeat(70_000)
    );
    let reply = app.refresh_form(&huge).await;
    assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    // None of it touched the session.
    app.me(&access).await.assert_ok(json!({ "user": "alice" }));
    app.refreshed(&refresh).await;
}

#[tokio::test]
async fn the_absolute_session_lifetime_ends_refreshes_and_caps_access_tokens() {
    let app = App::with(|b| {
        b.refresh_lifetime(Duration::from_secs(2000))
            .session_lifetime(Duration::from_secs(3000))
    });
    let (_, refresh) = app.login("alice").await;
    app.app.set_now(NOW + 1500);
    let (_, refresh) = app.refreshed(&refresh).await;
    app.app.set_now(NOW + 2800);
    let reply = app.refresh(&refresh).await;
    assert_eq!(reply.status, StatusCode::OK);
    // 200 s of the session left: the access token gets no more.
    assert_eq!(reply.json()["expires_in"], 200);
    let refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    app.app.set_now(NOW + 3000);
    assert_invalid_grant(&app.refresh(&refresh).await, &refresh);
}

#[tokio::test]
async fn a_manager_without_sessions_refuses_refreshes_loudly() {
    let app = TestApp::new();
    let router = Router::new()
        .route("/refresh", post(login::refresh::refresh_route))
        .with_state(app.manager.clone());
    let reply = Reply::collect(
        tower::ServiceExt::oneshot(
            router,
            Request::post("/refresh")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!(
                    "grant_type=refresh_token&refresh_token=lrt_{}",
                    "A".repeat(43)
                )))
                .unwrap(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_grant_error(&reply, StatusCode::INTERNAL_SERVER_ERROR, "server_error");
    assert!(matches!(
        app.manager.end_all_sessions("alice").await,
        Err(login::session::SessionError::Disabled)
    ));
    // Sessions need a signing key.
    let verify_only = login::LoginManager::builder("/login")
        .verification_key(
            login::keys::SigningKey::hmac(login::Algorithm::HS256, login_test_support::SECRET)
                .unwrap()
                .verifying_key()
                .clone(),
        )
        .sessions()
        .build();
    assert_eq!(
        verify_only.unwrap_err(),
        login::ConfigError::SessionsNeedSigningKey
    );
}

// ----- ending things --------------------------------------------------------------------------

#[tokio::test]
async fn logging_out_one_device_refuses_its_tokens_from_the_next_request_on() {
    let app = App::new();
    let (access, refresh) = app.login("alice").await;
    let (other_access, other_refresh) = app.login("alice").await;
    // Cached by a first request: the cache must not serve it afterwards.
    app.me(&access).await.assert_ok(json!({ "user": "alice" }));
    let (access1, _) = app.refreshed(&refresh).await;
    let reply = app
        .post(
            "/session/logout",
            &[("authorization", &format!("Bearer {access}"))],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "ended": true }));
    app.me(&access).await.assert(Expect::InvalidToken);
    app.me(&access1).await.assert(Expect::InvalidToken);
    assert_invalid_grant(&app.refresh(&refresh).await, &refresh);
    // The other device is still signed in.
    app.me(&other_access)
        .await
        .assert_ok(json!({ "user": "alice" }));
    app.refreshed(&other_refresh).await;
}

#[tokio::test]
async fn logging_out_with_the_refresh_token_ends_its_session() {
    let app = App::new();
    let (access, refresh) = app.login("alice").await;
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let reply = app
        .post(
            "/session/logout",
            &form,
            &format!("refresh_token={refresh}"),
        )
        .await;
    assert_eq!(reply.json(), json!({ "ended": true }));
    app.me(&access).await.assert(Expect::InvalidToken);
    assert_invalid_grant(&app.refresh(&refresh).await, &refresh);
    // Unknown or garbage refresh tokens end nothing and still answer.
    for token in [refresh.as_str(), "lrt_nope", "a.b.c"] {
        let reply = app
            .post("/session/logout", &form, &format!("refresh_token={token}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.json(), json!({ "ended": false }));
    }
}

#[tokio::test]
async fn logging_out_a_token_without_a_session_revokes_that_token() {
    let app = App::new();
    let plain = app.app.token("alice");
    let other = app.app.token("alice");
    app.me(&plain).await.assert_ok(json!({ "user": "alice" }));
    let reply = app
        .post(
            "/session/logout",
            &[("authorization", &format!("Bearer {plain}"))],
            "",
        )
        .await;
    assert_eq!(reply.json(), json!({ "ended": true }));
    app.me(&plain).await.assert(Expect::InvalidToken);
    app.me(&other).await.assert_ok(json!({ "user": "alice" }));
}

#[tokio::test]
async fn revoking_one_access_token_leaves_its_session_alone() {
    let app = App::new();
    let (access, refresh) = app.login("alice").await;
    let (access1, refresh1) = app.refreshed(&refresh).await;
    app.me(&access).await.assert_ok(json!({ "user": "alice" }));
    let reply = app
        .post(
            "/session/revoke",
            &[("authorization", &format!("Bearer {access}"))],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    app.me(&access).await.assert(Expect::InvalidToken);
    app.me(&access1).await.assert_ok(json!({ "user": "alice" }));
    app.refreshed(&refresh1).await;
    // Until its `exp`, not a second less; then the entry is gone.
    app.app.set_now(NOW + 899);
    app.me(&access).await.assert(Expect::InvalidToken);
    assert_eq!(app.app.manager.revocations_in_view(), 1);
    app.app.set_now(NOW + 900);
    app.me(&access).await.assert(Expect::InvalidToken);
    // Dropped by the first check after it (any request with a valid token).
    let fresh = app.app.token("alice");
    app.me(&fresh).await.assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.app.manager.revocations_in_view(), 0);
}

#[tokio::test]
async fn logout_without_credentials_still_answers_and_clears_both_cookies() {
    let app = App::new();
    let reply = app.post("/session/logout", &[], "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "ended": false }));
    let cookies: Vec<&str> = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let access = cookies
        .iter()
        .find(|c| c.starts_with("access-token=;"))
        .unwrap();
    assert!(
        access.contains("Max-Age=0") && access.contains("Path=/;"),
        "{access}"
    );
    let refresh = cookies
        .iter()
        .find(|c| c.starts_with("refresh-token=;"))
        .unwrap();
    for attr in [
        "Max-Age=0",
        "Path=/refresh",
        "SameSite=Strict",
        "HttpOnly",
        "Secure",
    ] {
        assert!(refresh.contains(attr), "{refresh} lacks {attr}");
    }
}

#[tokio::test]
async fn logging_out_everywhere_refuses_every_token_of_the_subject_issued_before() {
    let app = App::new();
    let (a1, r1) = app.login("alice").await;
    let (a2, r2) = app.login("alice").await;
    let plain = app.app.token("alice");
    let (bob, bob_refresh) = app.login("bob").await;
    for token in [&a1, &a2, &plain] {
        app.me(token).await.assert_ok(json!({ "user": "alice" }));
    }
    let reply = app
        .post(
            "/session/logout-all",
            &[("authorization", &format!("Bearer {a1}"))],
            "",
        )
        .await;
    assert_eq!(reply.json(), json!({ "ended": 2 }));
    for token in [&a1, &a2, &plain] {
        app.me(token).await.assert(Expect::InvalidToken);
    }
    assert_invalid_grant(&app.refresh(&r1).await, &r1);
    assert_invalid_grant(&app.refresh(&r2).await, &r2);
    // Bob is not affected.
    app.me(&bob).await.assert_ok(json!({ "user": "bob" }));
    app.refreshed(&bob_refresh).await;
    // Signing in again, in the same second, works: a new session.
    let (again, again_refresh) = app.login("alice").await;
    app.me(&again).await.assert_ok(json!({ "user": "alice" }));
    let (again1, _) = app.refreshed(&again_refresh).await;
    app.me(&again1).await.assert_ok(json!({ "user": "alice" }));
    // A token without a session minted in the logout's second cannot show it is newer; a
    // second later it can.
    app.me(&app.app.token("alice"))
        .await
        .assert(Expect::InvalidToken);
    app.app.set_now(NOW + 1);
    app.me(&app.app.token("alice"))
        .await
        .assert_ok(json!({ "user": "alice" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_racing_a_logout_everywhere_never_yields_a_usable_token() {
    for round in 0..20 {
        let app = App::new();
        let (access, refresh) = app.login("alice").await;
        let app = Arc::new(app);
        let refreshing = {
            let app = app.clone();
            tokio::spawn(async move { app.refresh(&refresh).await })
        };
        let logout = {
            let app = app.clone();
            let access = access.clone();
            tokio::spawn(async move {
                app.post(
                    "/session/logout-all",
                    &[("authorization", &format!("Bearer {access}"))],
                    "",
                )
                .await
            })
        };
        let (refreshed, logout) = (refreshing.await.unwrap(), logout.await.unwrap());
        assert_eq!(logout.status, StatusCode::OK, "round {round}");
        if refreshed.status == StatusCode::OK {
            let body = refreshed.json();
            let access1 = body["access_token"].as_str().unwrap();
            let refresh1 = body["refresh_token"].as_str().unwrap();
            app.me(access1).await.assert(Expect::InvalidToken);
            assert_invalid_grant(&app.refresh(refresh1).await, refresh1);
        } else {
            assert_invalid_grant(&refreshed, "");
        }
        app.me(&access).await.assert(Expect::InvalidToken);
    }
}

#[tokio::test]
async fn sessions_are_listed_with_their_times_and_user_agents() {
    let app = App::new();
    let (a1, r1) = app.login("alice").await;
    app.app.set_now(NOW + 5);
    let reply = app
        .post(
            "/session/login",
            &[("user-agent", "Firefox\t/128 ")],
            "alice",
        )
        .await;
    let a2 = reply.json()["access_token"].as_str().unwrap().to_owned();
    app.app.set_now(NOW + 60);
    app.post(
        "/refresh",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("user-agent", "test-agent/2"),
        ],
        &format!("grant_type=refresh_token&refresh_token={r1}"),
    )
    .await;
    let list = app.app.bearer("/session/list", &a2).await.json();
    assert_eq!(list["current"], app.sid(&a2));
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["id"], app.sid(&a1));
    assert_eq!(sessions[0]["subject"], "alice");
    assert_eq!(sessions[0]["created_at"], NOW);
    assert_eq!(sessions[0]["refreshed_at"], NOW + 60);
    assert_eq!(sessions[0]["user_agent"], "test-agent/2");
    assert_eq!(sessions[0]["expires_at"], NOW + 60 + 14 * 24 * 3600);
    assert_eq!(sessions[1]["created_at"], NOW + 5);
    assert_eq!(sessions[1]["refreshed_at"], Value::Null);
    assert_eq!(sessions[1]["user_agent"], "Firefox/128");
    // Ended sessions are not listed.
    app.app.manager.end_session(&app.sid(&a1)).await.unwrap();
    let list = app.app.bearer("/session/list", &a2).await.json();
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
    assert!(app.app.bearer("/session/list", &a1).await.status == StatusCode::UNAUTHORIZED);
}

// ----- what every request checks, and the memory bound -----------------------------------------

#[tokio::test]
async fn the_view_holds_only_entries_whose_tokens_could_still_be_valid() {
    let app = App::with(|b| b.leeway(5));
    let mut sessions = Vec::new();
    for i in 0..50 {
        sessions.push(app.login(&format!("user{i}")).await);
    }
    // At NOW: 20 sessions ended, 20 tokens revoked, 10 subjects logged out everywhere.
    for (access, _) in &sessions[..20] {
        let claims = app.app.manager.verify_token(access).unwrap();
        app.app.manager.logout(&claims).await.unwrap();
    }
    for (access, _) in &sessions[20..40] {
        let claims = app.app.manager.verify_token(access).unwrap();
        let jti = claims.jti.as_deref().unwrap();
        app.app
            .manager
            .revoke_access_token(jti, claims.exp)
            .await
            .unwrap();
    }
    for i in 40..50 {
        app.app
            .manager
            .end_all_sessions(&format!("user{i}"))
            .await
            .unwrap();
    }
    // 20 sessions + 20 tokens + 10 subjects and their 10 sessions.
    assert_eq!(app.app.manager.revocations_in_view(), 60);
    for (access, _) in &sessions {
        app.me(access).await.assert(Expect::InvalidToken);
    }
    // A revoked token's entry goes at its `exp` plus the leeway (the token is accepted until
    // then); the others, the longest access-token lifetime (15 min) plus the leeway later,
    // when every token they refuse has expired: the first check after drops them.
    for at in [NOW + 899, NOW + 900, NOW + 904] {
        app.app.set_now(at);
        let fresh = app.app.token("carol");
        app.me(&fresh).await.assert_ok(json!({ "user": "carol" }));
        assert_eq!(
            app.app.manager.revocations_in_view(),
            60,
            "at NOW+{}",
            at - NOW
        );
    }
    app.app.set_now(NOW + 900 + 5);
    let fresh = app.app.token("carol");
    app.me(&fresh).await.assert_ok(json!({ "user": "carol" }));
    assert_eq!(app.app.manager.revocations_in_view(), 0);
    // A revocation whose `exp` is absurdly far is still bounded by the longest lifetime.
    app.app
        .manager
        .revoke_access_token("far", i64::MAX / 2)
        .await
        .unwrap();
    app.app.set_now(NOW + 905 + 905);
    app.me(&app.app.token("carol"))
        .await
        .assert_ok(json!({ "user": "carol" }));
    assert_eq!(app.app.manager.revocations_in_view(), 0);
}

#[tokio::test]
async fn with_sessions_no_access_token_may_outlive_the_longest_lifetime() {
    let app = App::with(|b| b.max_access_lifetime(Duration::from_secs(3600)));
    let long = login::TokenRequest::new("alice").lifetime(Duration::from_secs(3601));
    assert!(matches!(
        app.app.manager.create_access_token(long),
        Err(login::TokenError::InvalidLifetime)
    ));
    let ok = login::TokenRequest::new("alice").lifetime(Duration::from_secs(3600));
    let ok = app.app.manager.create_access_token(ok).unwrap();
    app.me(&ok).await.assert_ok(json!({ "user": "alice" }));
    for refused in [
        json!({ "sub": "alice", "iat": NOW, "exp": NOW + 3601 }),
        json!({ "sub": "alice", "iat": NOW - 7200, "exp": NOW + 60 }),
        json!({ "sub": "alice", "exp": NOW + 3601 }),
    ] {
        let token = forge::claims(&refused);
        app.me(&token).await.assert(Expect::InvalidToken);
    }
    // fastapi-login's own tokens (no iat) are refused with sessions: nothing bounds when
    // they were issued (see the test of the missing `iat` below).
    let legacy = forge::claims(&json!({ "sub": "alice", "exp": NOW + 900 }));
    app.me(&legacy).await.assert(Expect::InvalidToken);
    // A longest lifetime under the default one is a configuration error.
    let err = login_tests::builder()
        .sessions()
        .max_access_lifetime(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert!(matches!(err, login::ConfigError::InvalidSessionSetting(_)));
    let err = login_tests::builder()
        .sessions()
        .refresh_grace(Duration::from_secs(61))
        .build()
        .unwrap_err();
    assert!(matches!(err, login::ConfigError::InvalidSessionSetting(_)));
    for path in ["refresh", "/re fresh", "/a;b"] {
        let err = login_tests::builder()
            .sessions()
            .refresh_path(path)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, login::ConfigError::InvalidSessionSetting(_)),
            "{path}"
        );
    }
}

#[tokio::test]
async fn without_sessions_nothing_changes() {
    let app = TestApp::new();
    // Long tokens are allowed, and tokens are not checked against any view.
    let long = login::TokenRequest::new("alice").lifetime(Duration::from_secs(86_400));
    let token = app.manager.create_access_token(long).unwrap();
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    let response = app.manager.token_response("alice").unwrap();
    let body = serde_json::to_value(&response).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
    let response = app.manager.login_response("alice", None).await.unwrap();
    assert!(response.refresh_token.is_none());
    assert_eq!(app.manager.revocations_in_view(), 0);
}

// ----- the refresh cookie -----------------------------------------------------------------------

fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn cookie_value(cookies: &[String], name: &str) -> String {
    let prefix = format!("{name}=");
    let cookie = cookies.iter().find(|c| c.starts_with(&prefix)).unwrap();
    cookie[prefix.len()..].split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_refresh_cookie_is_strict_http_only_and_limited_to_the_refresh_route() {
    let app = App::new();
    let reply = app.post("/session/cookie-login", &[], "alice").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let cookies = set_cookies(&reply);
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    let refresh_cookie = cookies
        .iter()
        .find(|c| c.starts_with("refresh-token="))
        .unwrap();
    let mut attrs: Vec<&str> = refresh_cookie.split("; ").skip(1).collect();
    attrs.sort();
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
    let refresh = cookie_value(&cookies, "refresh-token");
    let access = cookie_value(&cookies, "access-token");
    app.app
        .cookie("/me", &access)
        .await
        .assert_ok(json!({ "user": "alice" }));

    // A same-origin refresh with the cookie: new cookies, no refresh token in the body.
    let cookie = format!("refresh-token={refresh}");
    let reply = app
        .post(
            "/refresh",
            &[
                ("cookie", &cookie),
                ("origin", "http://example.com"),
                ("host", "example.com"),
                ("sec-fetch-site", "same-origin"),
            ],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert!(body.get("refresh_token").is_none(), "{body}");
    let cookies = set_cookies(&reply);
    let new_refresh = cookie_value(&cookies, "refresh-token");
    let new_access = cookie_value(&cookies, "access-token");
    assert_ne!(new_refresh, refresh);
    assert!(body.get("access_token").is_none(), "{body}");
    app.app
        .cookie("/me", &new_access)
        .await
        .assert_ok(json!({ "user": "alice" }));
    reply.assert_not_echoed(&refresh);
    // The form with only the grant type reads the cookie too.
    let cookie = format!("refresh-token={new_refresh}");
    let reply = app
        .post(
            "/refresh",
            &[
                ("cookie", &cookie),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "grant_type=refresh_token",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

#[tokio::test]
async fn a_cross_site_refresh_with_the_cookie_is_refused_and_changes_nothing() {
    let app = App::new();
    let (_, refresh) = app.login("alice").await;
    let cookie = format!("refresh-token={refresh}");
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example"), ("host", "app.example")],
        vec![("origin", "null")],
        vec![
            ("referer", "https://evil.example/x"),
            ("host", "app.example"),
        ],
    ] {
        let mut all = headers.clone();
        all.push(("cookie", &cookie));
        let reply = app.post("/refresh", &all, "").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert!(reply.headers.get(header::SET_COOKIE).is_none());
        reply.assert_not_echoed(&refresh);
    }
    // Two different refresh cookies (one tossed by a sibling subdomain): which one was meant
    // is not guessed. (The same value twice is one cookie, as for the token cookie.)
    let two = format!("refresh-token={refresh}; refresh-token=lrt_tossed");
    let reply = app.post("/refresh", &[("cookie", &two)], "").await;
    assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    // Nothing changed: the token still refreshes.
    app.refreshed(&refresh).await;
}

/// Review fix: another cookie's non-ASCII value (`name=José`, one `Cookie` header as browsers
/// send) must not hide the refresh cookie (it used to answer 400 and sign the user out).
#[tokio::test]
async fn a_non_ascii_sibling_cookie_does_not_hide_the_refresh_cookie() {
    let app = App::new();
    let reply = app.post("/session/cookie-login", &[], "alice").await;
    let refresh = cookie_value(&reply.set_cookies(), "refresh-token");
    let cookie = format!("name=Jos\u{e9}; refresh-token={refresh}");
    let request = login_test_support::request(
        axum::http::Method::POST,
        "/refresh",
        &[
            ("cookie", cookie.as_bytes()),
            ("host", b"example.com".as_slice()),
            ("origin", b"http://example.com".as_slice()),
            ("sec-fetch-site", b"same-origin".as_slice()),
        ],
        Body::empty(),
    );
    let reply = app.app.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_ne!(cookie_value(&reply.set_cookies(), "refresh-token"), refresh);
}

/// Review fix: with a leeway, a revoked access token stays refused through its leeway tail
/// (the revocation used to be forgotten at `exp`, while the token is accepted until
/// `exp` + leeway).
#[tokio::test]
async fn a_revoked_token_stays_refused_through_the_leeway() {
    let app = App::with(|b| b.leeway(60));
    let token = app.app.token("alice");
    let claims = app.app.manager.verify_token(&token).unwrap();
    app.app
        .manager
        .revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp)
        .await
        .unwrap();
    for at in [claims.exp - 1, claims.exp, claims.exp + 30, claims.exp + 59] {
        app.app.set_now(at);
        assert!(
            app.app.manager.verify_token(&token).is_err(),
            "accepted at exp{:+}",
            at - claims.exp
        );
    }
    // Revoking during the leeway tail still counts.
    app.app.set_now(NOW);
    let other = app.app.token("bob");
    let claims = app.app.manager.verify_token(&other).unwrap();
    app.app.set_now(claims.exp + 10);
    assert!(app.app.manager.verify_token(&other).is_ok());
    app.app
        .manager
        .revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp)
        .await
        .unwrap();
    assert!(app.app.manager.verify_token(&other).is_err());
}

/// Review fix: with sessions, a token without `iat` (fastapi-login's shape) is refused. It
/// cannot show when it was issued, so no revocation could be kept long enough for it: "log
/// out everywhere" refused it, and it came back once that revocation was dropped
/// (`max_access_lifetime` after the logout) while its `exp` was still ahead.
#[tokio::test]
async fn with_sessions_a_token_without_iat_stays_refused_after_log_out_everywhere_is_dropped() {
    let app = App::new();
    // Expires 100 s after the revocation of a logout at NOW is dropped (15 min after it).
    let legacy = forge::claims(&json!({ "sub": "alice", "exp": NOW + 1000 }));
    app.app.manager.end_all_sessions("alice").await.unwrap();
    for at in [NOW + 200, NOW + 899, NOW + 900, NOW + 901, NOW + 999] {
        app.app.set_now(at);
        app.me(&legacy).await.assert(Expect::InvalidToken);
        assert_eq!(
            app.app.manager.verify_token(&legacy).err(),
            Some(login::rejection::VerifyError::MissingIssuedAt),
            "at NOW+{}",
            at - NOW
        );
    }
    // Whatever the subject: no `iat`, no entry with sessions on.
    let other = forge::claims(&json!({ "sub": "carol", "exp": NOW + 999 + 60 }));
    app.me(&other).await.assert(Expect::InvalidToken);
    // The same token shape is still accepted by a manager without sessions (fastapi-login
    // interop).
    let plain = TestApp::new();
    let token = forge::claims(&json!({ "sub": "alice", "exp": NOW + 600 }));
    plain
        .bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
}

/// Review fix: a token's lifetime (`exp - iat`) is bounded by `max_access_lifetime` itself,
/// not by it plus the leeway. A token minted elsewhere with a lifetime up to the leeway longer
/// outlived the revocation of a logout (kept `max_access_lifetime` plus the leeway after it)
/// by up to the leeway, since it is accepted until `exp` plus the leeway.
#[tokio::test]
async fn with_a_leeway_no_token_outlives_the_revocation_that_refused_it() {
    let app = App::with(|b| b.leeway(5));
    // Issued a second before the logout, for 905 s: the longest lifetime plus the leeway.
    let long = forge::claims(&json!({ "sub": "alice", "iat": NOW - 1, "exp": NOW + 904 }));
    app.app.manager.end_all_sessions("alice").await.unwrap();
    for at in [NOW, NOW + 904, NOW + 906, NOW + 908] {
        app.app.set_now(at);
        app.me(&long).await.assert(Expect::InvalidToken);
    }
    // Our own tokens (lifetime at most `max_access_lifetime`) are unaffected.
    app.app.set_now(NOW + 1);
    let own = app.app.token("alice");
    app.me(&own).await.assert_ok(json!({ "user": "alice" }));
}

/// Review fix: with `cookie_host_prefix(true)`, the refresh cookie is a `__Host-` cookie too
/// (`Path=/`, since RFC 6265bis refuses a `__Host-` cookie with any other path, and no
/// `Domain`), and only that name is read: the cookies a sibling subdomain can set (no
/// prefix, or `__Secure-` with `Domain=` the parent) are ignored, so none can be planted to
/// sign the victim into another session on the next silent refresh.
#[tokio::test]
async fn with_the_host_prefix_the_refresh_cookie_is_a_host_cookie_no_sibling_can_plant() {
    let app = App::with(|b| b.cookie_host_prefix(true));
    assert_eq!(
        app.app.manager.refresh_cookie_name(),
        Some("__Host-refresh-token")
    );
    let reply = app.post("/session/cookie-login", &[], "alice").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let cookies = set_cookies(&reply);
    let refresh_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-refresh-token="))
        .unwrap_or_else(|| panic!("no __Host- refresh cookie in {cookies:?}"));
    let mut attrs: Vec<&str> = refresh_cookie.split("; ").skip(1).collect();
    attrs.sort();
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=1209600",
            "Path=/",
            "SameSite=Strict",
            "Secure"
        ]
    );
    let refresh = cookie_value(&cookies, "__Host-refresh-token");
    // What a sibling subdomain can set is not read (a valid token, so only the name matters).
    for planted in [
        format!("refresh-token={refresh}"),
        format!("__Secure-refresh-token={refresh}"),
    ] {
        let reply = app
            .post(
                "/refresh",
                &[("cookie", &planted), ("sec-fetch-site", "same-origin")],
                "",
            )
            .await;
        assert_grant_error(&reply, StatusCode::BAD_REQUEST, "invalid_request");
    }
    // The host's own cookie refreshes, and the answer sets it again.
    let cookie = format!("__Host-refresh-token={refresh}");
    let reply = app
        .post(
            "/refresh",
            &[("cookie", &cookie), ("sec-fetch-site", "same-origin")],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_ne!(
        cookie_value(&set_cookies(&reply), "__Host-refresh-token"),
        refresh
    );
    // Logout clears it with the attributes that set it.
    let out = app.post("/session/logout", &[], "").await;
    let cleared = set_cookies(&out);
    let cleared = cleared
        .iter()
        .find(|c| c.starts_with("__Host-refresh-token="))
        .unwrap_or_else(|| panic!("not cleared: {cleared:?}"));
    let mut attrs: Vec<&str> = cleared.split("; ").skip(1).collect();
    attrs.sort();
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=0",
            "Path=/",
            "SameSite=Strict",
            "Secure"
        ]
    );
    // A prefixed name given to the builder is refused (the prefix follows the setting).
    for name in ["__Host-refresh", "__Secure-refresh"] {
        let err = login_tests::builder()
            .sessions()
            .refresh_cookie_name(name)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, login::ConfigError::InvalidCookieName(_)),
            "{name}: {err:?}"
        );
    }
}

/// Review fix: a refresh that read the refresh cookie answers with the cookies only: its body
/// is `{"expires_in": …}` and carries no token, so a script injected into the page cannot
/// mint itself a bearer token (to use elsewhere) by calling the refresh route; the cookies it
/// cannot read (`HttpOnly`) carry the new tokens. The form's refresh answer is unchanged.
#[tokio::test]
async fn a_refresh_with_the_cookie_puts_no_token_in_the_body() {
    let app = App::new();
    let reply = app.post("/session/cookie-login", &[], "alice").await;
    let mut refresh = cookie_value(&set_cookies(&reply), "refresh-token");
    for (headers, body) in [
        (vec![("sec-fetch-site", "same-origin")], ""),
        (
            vec![
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            "grant_type=refresh_token",
        ),
    ] {
        let cookie = format!("refresh-token={refresh}");
        let mut headers = headers;
        headers.push(("cookie", &cookie));
        let reply = app.post("/refresh", &headers, body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json(), json!({ "expires_in": 900 }));
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        assert_eq!(reply.header("pragma"), Some("no-cache"));
        let cookies = set_cookies(&reply);
        let access = cookie_value(&cookies, "access-token");
        assert!(!reply.text().contains(&access));
        refresh = cookie_value(&cookies, "refresh-token");
        assert!(!reply.text().contains(&refresh));
        app.app
            .cookie("/me", &access)
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
    // The form's answer still carries both tokens (an API client has no cookie).
    let (_, form_refresh) = app.login("alice").await;
    let reply = app.refresh(&form_refresh).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
}
