//! Step-up (RFC 9470): `#[protected(fresh = "..")]` and `#[protected(factors = [..])]` over
//! HTTP. A token whose login is too old, that has no `auth_time`, or whose `amr` lacks a
//! factor answers 401 `insufficient_user_authentication` with the route's `max_age`; the
//! password login mints `amr` and `auth_time`, and a refresh keeps them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use login::password::Passwords;
use login::rejection::RejectionKind;
use login::{
    Claims, LoginAccount, LoginError, LoginManager, PasswordGrant, TokenError, TokenRequest,
    protected, user_loader,
};
use login_test_support::{NOW, SECRET, form_request, request, send};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
struct User {
    name: String,
    hash: String,
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.hash)
    }
}

#[derive(Clone, FromRef)]
struct State {
    manager: LoginManager,
    passwords: Passwords,
    hash: Hash,
}

#[derive(Clone)]
struct Hash(Arc<String>);

#[user_loader]
async fn load_user(
    name: String,
    axum::extract::State(hash): axum::extract::State<Hash>,
) -> Option<User> {
    (name == "alice").then(|| User {
        name,
        hash: hash.0.to_string(),
    })
}

#[protected(fresh = "10m")]
async fn fresh(user: User) -> String {
    user.name
}

#[protected(factors = ["otp"])]
async fn secure(user: User) -> String {
    user.name
}

#[protected(fresh = "5m", factors = ["otp", "hwk"])]
async fn both(claims: Claims) -> String {
    claims.sub
}

#[protected(optional, fresh = "10m")]
async fn maybe(user: Option<User>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |user| user.name)
}

async fn login(
    axum::extract::State(s): axum::extract::State<State>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let user = load_user(
        grant.username().to_owned(),
        axum::extract::State(s.hash.clone()),
    )
    .await;
    grant
        .authenticate(&s.passwords, user)
        .await?
        .token_response(&s.manager)
        .await
}

struct App {
    router: Router,
    manager: LoginManager,
    clock: Arc<AtomicI64>,
}

async fn app() -> App {
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .clock(move || c.load(Ordering::SeqCst))
        .default_lifetime(Duration::from_secs(3600))
        .sessions()
        .build()
        .unwrap();
    let passwords = Passwords::default();
    let hash = Hash(Arc::new(passwords.hash("wonderland").await.unwrap()));
    let router = Router::new()
        .route("/login", post(login))
        .route("/fresh", get(fresh))
        .route("/secure", get(secure))
        .route("/both", get(both))
        .route("/maybe", get(maybe))
        .with_state(State {
            manager: manager.clone(),
            passwords,
            hash,
        });
    App {
        router,
        manager,
        clock,
    }
}

impl App {
    fn token(&self, request: TokenRequest) -> String {
        self.manager.create_access_token(request).unwrap()
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Option<String>, Value) {
        let auth = format!("Bearer {token}");
        let reply = send(
            &self.router,
            request(
                Method::GET,
                path,
                &[("authorization", auth.as_str())],
                Body::empty(),
            ),
        )
        .await;
        let body = serde_json::from_str(&reply.text()).unwrap_or(Value::String(reply.text()));
        (
            reply.status.as_u16(),
            reply.header("www-authenticate").map(str::to_owned),
            body,
        )
    }
}

fn step_up(description: &str, max_age: Option<u64>) -> String {
    let mut challenge = format!(
        r#"Bearer error="insufficient_user_authentication", error_description="{description}""#
    );
    if let Some(max_age) = max_age {
        challenge.push_str(&format!(r#", max_age="{max_age}""#));
    }
    challenge
}

#[tokio::test]
async fn a_recent_login_passes_and_an_old_one_meets_the_challenge() {
    let app = app().await;
    let recent = app.token(TokenRequest::new("alice").auth_time(NOW - 599));
    assert_eq!(app.get("/fresh", &recent).await.0, 200);

    let challenge = step_up(
        "This route requires a login within the last 600 seconds",
        Some(600),
    );
    for (case, token) in [
        (
            "older than ten minutes",
            app.token(TokenRequest::new("alice").auth_time(NOW - 601)),
        ),
        ("no auth_time at all", app.token(TokenRequest::new("alice"))),
    ] {
        let (status, header, body) = app.get("/fresh", &token).await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(header.as_deref(), Some(challenge.as_str()), "{case}");
        assert_eq!(
            body,
            json!({ "detail": "Insufficient user authentication" }),
            "{case}"
        );
    }
    // Time passes: the same token stops being fresh.
    app.clock.store(NOW + 2, Ordering::SeqCst);
    assert_eq!(app.get("/fresh", &recent).await.0, 401);
}

#[tokio::test]
async fn a_factor_must_be_in_amr() {
    let app = app().await;
    let with_otp = app.token(TokenRequest::new("alice").amr(["pwd", "otp"]));
    assert_eq!(app.get("/secure", &with_otp).await.0, 200);
    let challenge = step_up("This route requires the authentication method otp", None);
    for amr in [&[][..], &["pwd"], &["OTP"], &["otp2"], &["mfa"]] {
        let token = app.token(TokenRequest::new("alice").amr(amr.iter().copied()));
        let (status, header, _) = app.get("/secure", &token).await;
        assert_eq!(
            (status, header.as_deref()),
            (401, Some(challenge.as_str())),
            "{amr:?}"
        );
    }
    // Both: every factor and the freshness; the challenge names all of it.
    let challenge = step_up(
        "This route requires a login within the last 300 seconds and the authentication \
         methods otp, hwk",
        Some(300),
    );
    let partial = app.token(TokenRequest::new("alice").amr(["otp"]).auth_time(NOW));
    let (status, header, _) = app.get("/both", &partial).await;
    assert_eq!((status, header.as_deref()), (401, Some(challenge.as_str())));
    let full = app.token(
        TokenRequest::new("alice")
            .amr(["hwk", "otp"])
            .auth_time(NOW),
    );
    assert_eq!(app.get("/both", &full).await.2, json!("alice"));
}

/// A forged, expired or missing token is still RFC 6750's answer, not a step-up challenge;
/// an optional step-up route serves a stale token as anonymous, as it does a missing scope.
#[tokio::test]
async fn other_failures_keep_their_answers() {
    let app = app().await;
    let fresh = app.token(TokenRequest::new("alice").auth_time(NOW).amr(["otp"]));
    let (head, _) = fresh.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    let (status, header, _) = app.get("/fresh", &forged).await;
    assert_eq!(
        (status, header.as_deref()),
        (401, Some(r#"Bearer error="invalid_token""#))
    );
    let reply = send(
        &app.router,
        request::<&str>(Method::GET, "/secure", &[], Body::empty()),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));

    let old = app.token(TokenRequest::new("alice").auth_time(NOW - 3600));
    assert_eq!(app.get("/maybe", &old).await.2, json!("anonymous"));
    assert_eq!(app.get("/maybe", &fresh).await.2, json!("alice"));
}

/// The password login mints `amr: ["pwd"]` and `auth_time`; a refresh carries the login's,
/// it does not renew them.
#[tokio::test]
async fn the_login_sets_amr_and_auth_time_and_a_refresh_keeps_them() {
    let app = app().await;
    let reply = send(
        &app.router,
        form_request("/login", "username=alice&password=wonderland"),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text());
    let body = reply.json();
    let access = body["access_token"].as_str().unwrap();
    let claims = app.manager.verify_token(access).unwrap();
    assert_eq!(
        (claims.amr.clone(), claims.auth_time),
        (vec!["pwd".to_owned()], Some(NOW))
    );
    assert_eq!(app.get("/fresh", access).await.0, 200);
    assert_eq!(
        app.get("/secure", access).await.0,
        401,
        "a password is not `otp`"
    );

    app.clock.store(NOW + 700, Ordering::SeqCst);
    let renewed = app
        .manager
        .refresh(body["refresh_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let claims = app.manager.verify_token(&renewed.access_token).unwrap();
    assert_eq!(
        claims.auth_time,
        Some(NOW),
        "a refresh keeps the login's time"
    );
    assert_eq!(claims.amr, ["pwd"]);
    let (status, header, _) = app.get("/fresh", &renewed.access_token).await;
    assert_eq!(status, 401, "the refreshed token is not a fresh login");
    assert!(header.unwrap().contains(r#"max_age="600""#));
}

#[test]
fn bad_amr_and_auth_time_are_refused_when_minting() {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .clock(|| NOW)
        .build()
        .unwrap();
    for bad in ["", "o t p", "otp\"", &"x".repeat(33), "é"] {
        let result = manager.create_access_token(TokenRequest::new("alice").amr([bad]));
        assert!(
            matches!(result, Err(TokenError::InvalidAmr(ref m)) if m == bad),
            "{bad:?}"
        );
    }
    for at in [-1, NOW + 1] {
        let result = manager.create_access_token(TokenRequest::new("alice").auth_time(at));
        assert!(matches!(result, Err(TokenError::InvalidAuthTime)), "{at}");
    }
    for reserved in ["amr", "auth_time"] {
        let result =
            manager.create_access_token(TokenRequest::new("alice").extra(&json!({ reserved: 1 })));
        assert!(
            matches!(result, Err(TokenError::ReservedClaim(ref c)) if c == reserved),
            "{reserved}"
        );
    }
    // Duplicates go; the order stays.
    let token = manager
        .create_access_token(
            TokenRequest::new("alice")
                .amr(["pwd", "otp", "pwd"])
                .auth_time(NOW),
        )
        .unwrap();
    let claims = manager.verify_token(&token).unwrap();
    assert_eq!(claims.amr, ["pwd", "otp"]);
    assert!(claims.has_amr("otp") && !claims.has_amr("hwk"));
}

/// The rejection hook sees what the route required.
#[tokio::test]
async fn the_rejection_hook_sees_the_step_up_requirement() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s = seen.clone();
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .clock(|| NOW)
        .on_rejection(move |ctx| {
            if ctx.kind() == RejectionKind::InsufficientUserAuthentication {
                *s.lock().unwrap() =
                    Some((ctx.required_max_age(), ctx.required_factors().to_vec()));
            }
            None
        })
        .build()
        .unwrap();
    let token = manager
        .create_access_token(TokenRequest::new("alice"))
        .unwrap();
    let router = Router::new().route("/both", get(both)).with_state(manager);
    let auth = format!("Bearer {token}");
    let reply = send(
        &router,
        request(
            Method::GET,
            "/both",
            &[("authorization", auth.as_str())],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 401);
    assert_eq!(*seen.lock().unwrap(), Some((Some(300), vec!["otp", "hwk"])));
}
