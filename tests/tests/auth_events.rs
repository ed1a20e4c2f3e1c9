//! Auth events over HTTP: every action the library performs is reported to the manager's hook
//! exactly once, with the subject, the client's address and user agent and the session's id
//! where known, and no event carries a password, an access token, a refresh token or a hash of
//! one; without a hook, the same events are `tracing` lines (target `login::events`).
//!
//! | route | what it does |
//! |---|---|
//! | `POST /login` | `PasswordGrant::authenticate_for`, then `token_response` |
//! | `POST /login/cookie` | `authenticate_for`, then `set_cookies` |
//! | `POST /login/plain` | `PasswordGrant::authenticate` (no manager: failures unreported) |
//! | `POST /refresh` | `login::refresh::refresh_route` |
//! | `POST /logout` | `logout_with` (the access token's session) |
//! | `POST /logout/refresh` | `logout_refresh_token_with` (the form's `refresh_token`) |
//! | `POST /logout/all` | `end_all_sessions_with` (the access token's subject) |
//! | `POST /revoke` | `revoke_access_token_with` (the access token's `jti`) |
//! | `POST /end/{sid}` | `end_session_with` |

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::extract::{FromRef, Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use login::events::{AuthEvent, AuthEventKind, Client, LoginFailure};
use login::password::{Argon2id, Passwords};
use login::{Claims, CookieJar, LoginAccount, LoginError, LoginManager, PasswordGrant};
use login_test_support::logs;
use login_test_support::{NOW, Reply, SECRET, form_urlencoded, needles, request, send};
use serde_json::Value;

const ALICE: &str = "alice@example.com";
const NO_PASSWORD: &str = "nopass@example.com";
const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "Tr0ub4dor&3-wrong";
const AGENT: &str = "EventsTest/1.0 (X11)";
const PEER: [u8; 4] = [192, 0, 2, 7];

#[derive(Clone)]
struct Account {
    email: String,
    hash: Option<String>,
}

impl LoginAccount for Account {
    fn subject(&self) -> String {
        self.email.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }
}

#[derive(Clone, FromRef)]
struct St {
    manager: LoginManager,
    passwords: Passwords,
    alice_hash: String,
}

impl St {
    fn find(&self, username: &str) -> Option<Account> {
        match username {
            ALICE => Some(Account {
                email: ALICE.into(),
                hash: Some(self.alice_hash.clone()),
            }),
            NO_PASSWORD => Some(Account {
                email: NO_PASSWORD.into(),
                hash: None,
            }),
            _ => None,
        }
    }
}

async fn login(State(st): State<St>, grant: PasswordGrant) -> Result<Response, LoginError> {
    let user = st.find(grant.username());
    let login = grant
        .authenticate_for(&st.manager, &st.passwords, user)
        .await?;
    login.token_response(&st.manager).await
}

async fn login_cookie(
    State(st): State<St>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<(CookieJar, StatusCode), LoginError> {
    let user = st.find(grant.username());
    let login = grant
        .authenticate_for(&st.manager, &st.passwords, user)
        .await?;
    Ok((
        login.set_cookies(&st.manager, jar).await?,
        StatusCode::NO_CONTENT,
    ))
}

async fn login_plain(State(st): State<St>, grant: PasswordGrant) -> Result<Response, LoginError> {
    let user = st.find(grant.username());
    let login = grant.authenticate(&st.passwords, user).await?;
    login.token_response(&st.manager).await
}

async fn logout(State(st): State<St>, client: Client, claims: Claims) -> Response {
    let live = st.manager.logout_with(&claims, &client).await.unwrap();
    live.to_string().into_response()
}

#[derive(serde::Deserialize)]
struct RefreshForm {
    refresh_token: String,
}

async fn logout_refresh(
    State(st): State<St>,
    client: Client,
    Form(form): Form<RefreshForm>,
) -> Response {
    let live = st
        .manager
        .logout_refresh_token_with(&form.refresh_token, &client)
        .await
        .unwrap();
    live.to_string().into_response()
}

async fn logout_all(State(st): State<St>, client: Client, claims: Claims) -> Response {
    let ended = st
        .manager
        .end_all_sessions_with(&claims.sub, &client)
        .await
        .unwrap();
    ended.to_string().into_response()
}

async fn revoke(State(st): State<St>, client: Client, claims: Claims) -> StatusCode {
    let jti = claims.jti.as_deref().unwrap();
    st.manager
        .revoke_access_token_with(jti, claims.exp, &client)
        .await
        .unwrap();
    StatusCode::NO_CONTENT
}

async fn end(State(st): State<St>, client: Client, Path(sid): Path<String>) -> Response {
    let live = st.manager.end_session_with(&sid, &client).await.unwrap();
    live.to_string().into_response()
}

/// The recording hook: every event, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<AuthEvent>>>);

impl Recorder {
    /// The events recorded since the last call.
    fn take(&self) -> Vec<AuthEvent> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct App {
    router: Router,
    events: Recorder,
    clock: Arc<AtomicI64>,
    /// Every secret the test has seen: the passwords, the tokens, the refresh tokens' hashes.
    secrets: Vec<String>,
}

impl App {
    async fn new(hook: bool) -> App {
        let events = Recorder::default();
        let clock = Arc::new(AtomicI64::new(NOW));
        let now = clock.clone();
        let mut builder = LoginManager::builder("/login")
            .secret(SECRET)
            .use_cookie(true)
            .cookie_secure(false)
            .sessions()
            .refresh_grace(Duration::ZERO)
            .clock(move || now.load(Ordering::SeqCst));
        if hook {
            let recorder = events.clone();
            builder = builder.events(move |event: &AuthEvent| {
                recorder.0.lock().unwrap().push(event.clone());
            });
        }
        let manager = builder.build().unwrap();
        // Cheap Argon2id parameters: these tests count events, not work.
        let passwords = Passwords::new(Argon2id::new(1024, 1, 1).unwrap()).unwrap();
        let alice_hash = passwords.hash(PASSWORD).await.unwrap();
        let secrets = vec![PASSWORD.to_owned(), WRONG.to_owned(), alice_hash.clone()];
        let router = Router::new()
            .route("/login", post(login))
            .route("/login/cookie", post(login_cookie))
            .route("/login/plain", post(login_plain))
            .route("/refresh", post(login::refresh::refresh_route))
            .route("/logout", post(logout))
            .route("/logout/refresh", post(logout_refresh))
            .route("/logout/all", post(logout_all))
            .route("/revoke", post(revoke))
            .route("/end/{sid}", post(end))
            .with_state(St {
                manager,
                passwords,
                alice_hash,
            })
            .layer(MockConnectInfo(SocketAddr::from((PEER, 40_000))));
        App {
            router,
            events,
            clock,
            secrets,
        }
    }

    fn tick(&self) {
        self.clock.fetch_add(1, Ordering::SeqCst);
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)], bearer: Option<&str>) -> Reply {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("user-agent", AGENT),
            // Never trusted without a configured proxy: the address is the socket's.
            ("x-forwarded-for", "203.0.113.66"),
        ];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth));
        }
        let body = Body::from(form_urlencoded(form));
        let reply = send(&self.router, request(Method::POST, path, &headers, body)).await;
        if let Ok(json) = serde_json::from_slice::<Value>(&reply.body) {
            for key in ["access_token", "refresh_token"] {
                if let Some(token) = json[key].as_str() {
                    self.remember(token);
                }
            }
        }
        for cookie in reply.set_cookies() {
            let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
            if !value.is_empty() {
                self.remember(value);
            }
        }
        reply
    }

    fn remember(&mut self, token: &str) {
        self.secrets.push(token.to_owned());
        let hash = login::session::TokenHash::of(token).0;
        self.secrets
            .push(hash.iter().map(|b| format!("{b:02x}")).collect());
    }

    async fn login(&mut self, path: &str, username: &str, password: &str) -> Reply {
        let form = [("username", username), ("password", password)];
        self.post(path, &form, None).await
    }

    /// Takes the events of one action: exactly one, which is returned.
    #[track_caller]
    fn one_event(&self, action: &str) -> AuthEvent {
        let mut events = self.events.take();
        assert_eq!(events.len(), 1, "{action}: {events:#?}");
        let event = events.remove(0);
        self.assert_no_secret(action, &format!("{event:?}"));
        event
    }

    #[track_caller]
    fn assert_no_secret(&self, action: &str, text: &str) {
        for secret in &self.secrets {
            for needle in needles(secret) {
                assert!(
                    !text.contains(needle),
                    "{action}: the event holds a secret ({needle:?}): {text}"
                );
            }
        }
    }
}

fn peer() -> Option<IpAddr> {
    Some(IpAddr::from(PEER))
}

#[track_caller]
fn assert_client(action: &str, event: &AuthEvent) {
    assert_eq!(event.address, peer(), "{action}");
    assert_eq!(event.user_agent.as_deref(), Some(AGENT), "{action}");
}

#[tokio::test]
async fn logins_are_reported_once_each_without_a_secret() {
    let mut app = App::new(true).await;

    let ok = app.login("/login", ALICE, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK);
    let event = app.one_event("login");
    assert_eq!(event.kind, AuthEventKind::LoginSucceeded);
    assert_eq!(event.subject.as_deref(), Some(ALICE));
    assert_eq!(event.at, NOW);
    assert_client("login", &event);
    let session_id = event.session_id.clone().expect("a session id");
    let access = ok.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&access)["sid"], session_id.as_str());

    // Wrong password, unknown user, an account without a password: the same 401, three
    // reasons.
    let cases = [
        (ALICE, WRONG, LoginFailure::WrongPassword, Some(ALICE)),
        (
            "mallory@example.com",
            WRONG,
            LoginFailure::UnknownUser,
            None,
        ),
        (
            NO_PASSWORD,
            WRONG,
            LoginFailure::NoPassword,
            Some(NO_PASSWORD),
        ),
    ];
    let mut bodies = Vec::new();
    for (username, password, reason, subject) in cases {
        let reply = app.login("/login", username, password).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{username}");
        bodies.push(reply.body.clone());
        let event = app.one_event(username);
        assert_eq!(event.kind, AuthEventKind::LoginFailed(reason), "{username}");
        assert_eq!(event.subject.as_deref(), subject, "{username}");
        assert_eq!(event.username.as_deref(), Some(username), "{username}");
        assert_eq!(event.session_id, None, "{username}");
        assert_client(username, &event);
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");

    // The user name is the client's text: printable and bounded in the event.
    let forged = format!("mallory\r\nINFO fake line {}", "x".repeat(5000));
    let reply = app.login("/login", &forged, WRONG).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let event = app.one_event("a forged user name");
    let username = event.username.unwrap();
    assert!(
        username.starts_with("malloryINFO fake line x"),
        "{username}"
    );
    assert_eq!(username.chars().count(), 256);

    // The cookie login: one event, with its session.
    let reply = app.login("/login/cookie", ALICE, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let event = app.one_event("cookie login");
    assert_eq!(event.kind, AuthEventKind::LoginSucceeded);
    assert!(event.session_id.is_some());
    assert_ne!(event.session_id.as_deref(), Some(session_id.as_str()));
    assert_client("cookie login", &event);

    let reply = app.login("/login/cookie", ALICE, WRONG).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let event = app.one_event("cookie login, wrong password");
    assert_eq!(
        event.kind,
        AuthEventKind::LoginFailed(LoginFailure::WrongPassword)
    );

    // `authenticate`, which knows no manager: the success is reported when it mints, a
    // failure is not.
    let reply = app.login("/login/plain", ALICE, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        app.one_event("plain login").kind,
        AuthEventKind::LoginSucceeded
    );
    let reply = app.login("/login/plain", ALICE, WRONG).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(app.events.take().is_empty());

    // A malformed form is no login attempt: nothing reported.
    let reply = app.post("/login", &[("username", ALICE)], None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(app.events.take().is_empty());
}

#[tokio::test]
async fn session_actions_are_reported_once_each_without_a_secret() {
    let mut app = App::new(true).await;
    let first = app.login("/login", ALICE, PASSWORD).await.json();
    let first_sid = app.one_event("login").session_id.unwrap();
    let refresh = first["refresh_token"].as_str().unwrap().to_owned();

    // A refresh is no event; presenting the rotated token again is, once.
    app.tick();
    let rotated = app
        .post(
            "/refresh",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            None,
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text());
    assert!(app.events.take().is_empty());
    app.tick();
    let reused = app
        .post(
            "/refresh",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            None,
        )
        .await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    let event = app.one_event("reuse");
    assert_eq!(event.kind, AuthEventKind::RefreshReuseDetected);
    assert_eq!(event.session_id.as_deref(), Some(first_sid.as_str()));
    assert_client("reuse", &event);
    // The session is gone: its successor is refused without another event.
    let successor = rotated.json()["refresh_token"].as_str().unwrap().to_owned();
    let again = app
        .post(
            "/refresh",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &successor),
            ],
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(app.events.take().is_empty());

    // Logout with the access token: one event, with the subject and the session.
    app.tick();
    let second = app.login("/login", ALICE, PASSWORD).await.json();
    let second_sid = app.one_event("login").session_id.unwrap();
    let access = second["access_token"].as_str().unwrap().to_owned();
    let reply = app.post("/logout", &[], Some(&access)).await;
    assert_eq!(reply.text(), "true");
    let event = app.one_event("logout");
    assert_eq!(event.kind, AuthEventKind::Logout);
    assert_eq!(event.subject.as_deref(), Some(ALICE));
    assert_eq!(event.session_id.as_deref(), Some(second_sid.as_str()));
    assert_client("logout", &event);

    // Logout with the refresh token; then again, when nothing is live: no event.
    app.tick();
    let third = app.login("/login", ALICE, PASSWORD).await.json();
    let third_sid = app.one_event("login").session_id.unwrap();
    let refresh = third["refresh_token"].as_str().unwrap().to_owned();
    let reply = app
        .post("/logout/refresh", &[("refresh_token", &refresh)], None)
        .await;
    assert_eq!(reply.text(), "true");
    let event = app.one_event("logout with the refresh token");
    assert_eq!(event.kind, AuthEventKind::Logout);
    assert_eq!(event.subject.as_deref(), Some(ALICE));
    assert_eq!(event.session_id.as_deref(), Some(third_sid.as_str()));
    let reply = app
        .post("/logout/refresh", &[("refresh_token", &refresh)], None)
        .await;
    assert_eq!(reply.text(), "false");
    assert!(app.events.take().is_empty());

    // Ending a session by id: its id, no subject (the store does not return it).
    app.tick();
    app.login("/login", ALICE, PASSWORD).await;
    let fourth_sid = app.one_event("login").session_id.unwrap();
    let reply = app.post(&format!("/end/{fourth_sid}"), &[], None).await;
    assert_eq!(reply.text(), "true");
    let event = app.one_event("end a session");
    assert_eq!(event.kind, AuthEventKind::Logout);
    assert_eq!(event.session_id.as_deref(), Some(fourth_sid.as_str()));
    assert_eq!(event.subject, None);
    let reply = app.post(&format!("/end/{fourth_sid}"), &[], None).await;
    assert_eq!(reply.text(), "false");
    assert!(app.events.take().is_empty());

    // Revoking an access token: its id, once.
    app.tick();
    let fifth = app.login("/login", ALICE, PASSWORD).await.json();
    app.one_event("login");
    let access = fifth["access_token"].as_str().unwrap().to_owned();
    let reply = app.post("/revoke", &[], Some(&access)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let event = app.one_event("revoke");
    assert_eq!(event.kind, AuthEventKind::TokenRevoked);
    let jti = claims_of(&access)["jti"].as_str().unwrap().to_owned();
    assert_eq!(event.token_id.as_deref(), Some(jti.as_str()));
    assert_client("revoke", &event);

    // Log out everywhere: one event however many sessions were live.
    app.tick();
    for _ in 0..3 {
        app.login("/login", ALICE, PASSWORD).await;
    }
    assert_eq!(app.events.take().len(), 3);
    let access = app.login("/login", ALICE, PASSWORD).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.one_event("login");
    app.tick();
    let reply = app.post("/logout/all", &[], Some(&access)).await;
    assert_eq!(
        reply.text(),
        "5",
        "the four logins and the fifth, not revoked"
    );
    let event = app.one_event("logout everywhere");
    assert_eq!(event.kind, AuthEventKind::LogoutEverywhere);
    assert_eq!(event.subject.as_deref(), Some(ALICE));
    assert_client("logout everywhere", &event);
}

/// Without a hook, each event is one `tracing` line, target `login::events`, at `info` or
/// `warn`, with the fields known and no secret.
#[tokio::test]
async fn the_default_hook_logs_each_event_once() {
    let mut app = App::new(false).await;
    let (guard, logs) = logs::capture();
    let reply = app.login("/login", ALICE, PASSWORD).await;
    let refresh = reply.json()["refresh_token"].as_str().unwrap().to_owned();
    app.login("/login", "mallory@example.com", WRONG).await;
    app.tick();
    for _ in 0..2 {
        app.post(
            "/refresh",
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
            None,
        )
        .await;
        app.tick();
    }
    drop(guard);
    let lines: Vec<String> = logs
        .lines()
        .into_iter()
        .filter(|l| l.contains(" login::events:"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:#?}");
    let expect = [
        ("INFO", "event=login_succeeded", "subject=alice@example.com"),
        ("WARN", "event=login_failed", "username=mallory@example.com"),
        ("WARN", "event=refresh_reuse_detected", "session="),
    ];
    for (line, (level, event, field)) in lines.iter().zip(expect) {
        assert!(
            line.starts_with(&format!("{level} login::events:")),
            "{line}"
        );
        assert!(line.contains(event), "{line}");
        assert!(line.contains(field), "{line}");
        assert!(line.contains("address=192.0.2.7"), "{line}");
        assert!(line.contains(&format!("user_agent={AGENT}")), "{line}");
    }
    assert!(lines[1].contains("reason=unknown_user"), "{}", lines[1]);
    app.assert_no_secret("the tracing lines", &logs.text());
}

fn claims_of(token: &str) -> Value {
    serde_json::from_slice(&base64_url_decode(token.split('.').nth(1).unwrap())).unwrap()
}

fn base64_url_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The login throttle reports through the same hook: each attempt it refuses (429, before any
/// password work) is one `LoginThrottled`, with the name as submitted and the client; a login
/// that presents a valid device token is one `DeviceTokenUsed`, then its `LoginSucceeded`.
#[tokio::test]
async fn the_throttle_reports_refused_attempts_and_device_tokens() {
    let mut app = App::new(true).await;
    let mut refused = 0;
    for _ in 0..12 {
        let reply = app.login("/login", ALICE, WRONG).await;
        let events = app.events.take();
        assert_eq!(events.len(), 1, "{events:#?}");
        app.assert_no_secret("a guess", &format!("{events:?}"));
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
            assert_eq!(events[0].kind, AuthEventKind::LoginThrottled);
            assert_eq!(events[0].username.as_deref(), Some(ALICE));
            assert_client("throttled", &events[0]);
        } else {
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            assert!(matches!(events[0].kind, AuthEventKind::LoginFailed(_)));
        }
    }
    assert!(refused > 0, "the throttle never refused");

    // Later, the owner logs in and gets a device token; with it, a login during the next
    // attack is judged by the device's own counter and reported as such.
    app.clock.fetch_add(24 * 3600, Ordering::SeqCst);
    let reply = app.login("/login", ALICE, PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(app.one_event("login").kind, AuthEventKind::LoginSucceeded);
    let device = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("device-token="))
        .expect("a device token");
    let device = device.split(';').next().unwrap().to_owned();
    for _ in 0..12 {
        app.login("/login", ALICE, WRONG).await;
    }
    app.events.take();
    let form = form_urlencoded(&[("username", ALICE), ("password", PASSWORD)]);
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("user-agent", AGENT),
        ("cookie", device.as_str()),
    ];
    let reply = send(
        &app.router,
        request(Method::POST, "/login", &headers, Body::from(form)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let kinds: Vec<AuthEventKind> = app.events.take().into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            AuthEventKind::DeviceTokenUsed,
            AuthEventKind::LoginSucceeded
        ]
    );
}
