//! The token-endpoint helper (`PasswordGrant`) over HTTP: the form's errors, equal work for
//! unknown users, scope granting, store errors, rehashing, the cookie login.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use login::password::{Argon2id, Passwords};
use login::{CookieJar, LoginAccount, LoginError, LoginManager, PasswordGrant};
use login_test_support::CountingScheme;
use login_test_support::{Reply, SECRET, send};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Debug)]
struct Account {
    name: String,
    hash: Option<String>,
    scopes: Vec<String>,
}

impl LoginAccount for Account {
    fn subject(&self) -> String {
        self.name.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        self.hash.as_deref()
    }
    fn allowed_scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }
}

// `FromRef`: `PasswordGrant` finds the manager (its login throttle) in the state.
#[derive(Clone, axum::extract::FromRef)]
struct AppState {
    manager: LoginManager,
    passwords: Passwords,
    accounts: Arc<Mutex<HashMap<String, Account>>>,
}

/// Subject whose lookup fails (the store is down).
const STORE_DOWN: &str = "store-down";

fn find(state: &AppState, name: &str) -> Result<Option<Account>, (StatusCode, &'static str)> {
    if name == STORE_DOWN {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "store down"));
    }
    Ok(state.accounts.lock().unwrap().get(name).cloned())
}

async fn login(
    State(state): State<AppState>,
    grant: PasswordGrant,
) -> Result<Response, LoginError> {
    let account = find(&state, grant.username());
    let login = grant.authenticate(&state.passwords, account).await?;
    if let Some(hash) = login.new_password_hash() {
        let mut accounts = state.accounts.lock().unwrap();
        accounts.get_mut(&login.account().name).unwrap().hash = Some(hash.to_owned());
    }
    login.token_response(&state.manager).await
}

async fn login_cookie(
    State(state): State<AppState>,
    jar: CookieJar,
    grant: PasswordGrant,
) -> Result<(CookieJar, Json<Value>), LoginError> {
    let account = find(&state, grant.username());
    let login = grant.authenticate(&state.passwords, account).await?;
    Ok((
        login.set_cookies(&state.manager, jar).await?,
        Json(json!({ "ok": true })),
    ))
}

struct App {
    router: Router,
    state: AppState,
    /// Argon2id with test-sized parameters, counting every verification and hash.
    scheme: CountingScheme<Argon2id>,
}

impl App {
    /// Accounts: `alice` (read, write, admin allowed), `bob` (read), `nopw` (no password).
    fn new(manager_scopes: &[&str]) -> Self {
        let scheme = CountingScheme::new(Argon2id::new(64, 1, 1).unwrap());
        let passwords = Passwords::new(scheme.clone()).unwrap();
        let hash = passwords.hash_blocking(PASSWORD).unwrap();
        let mut accounts = HashMap::new();
        for (name, hash, scopes) in [
            ("alice", Some(hash.clone()), &["read", "write", "admin"][..]),
            ("bob", Some(hash), &["read"][..]),
            ("nopw", None, &["read"][..]),
        ] {
            let account = Account {
                name: name.to_owned(),
                hash,
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            };
            accounts.insert(name.to_owned(), account);
        }
        let mut builder = LoginManager::builder("/login")
            .secret(SECRET)
            .use_cookie(true);
        if !manager_scopes.is_empty() {
            builder = builder.scopes(manager_scopes.iter().map(|s| (*s, "a scope")));
        }
        let state = AppState {
            manager: builder.build().unwrap(),
            passwords,
            accounts: Arc::new(Mutex::new(accounts)),
        };
        let router = Router::new()
            .route("/login", post(login))
            .route("/login/cookie", post(login_cookie))
            .with_state(state.clone());
        let app = App {
            router,
            state,
            scheme,
        };
        app.reset();
        app
    }

    fn reset(&self) {
        self.scheme.take();
    }

    fn verifies(&self) -> usize {
        self.scheme.verifies()
    }

    async fn post(&self, path: &str, content_type: &str, body: &str) -> Reply {
        let request = Request::post(path)
            .header("content-type", content_type)
            .body(Body::from(body.to_owned()))
            .unwrap();
        send(&self.router, request).await
    }

    async fn form(&self, body: &str) -> Reply {
        self.post("/login", "application/x-www-form-urlencoded", body)
            .await
    }

    /// Logs in and returns the granted scopes and the response's `scope` field.
    async fn scopes(&self, body: &str) -> (Vec<String>, Option<String>) {
        let reply = self.form(body).await;
        assert_eq!(reply.status, StatusCode::OK, "{body}: {}", reply.text());
        let json = reply.json();
        let token = json["access_token"].as_str().unwrap();
        let claims = self.state.manager.verify_token(token).unwrap();
        (claims.scopes, json["scope"].as_str().map(str::to_owned))
    }
}

fn credentials(user: &str, password: &str) -> String {
    format!("username={user}&password={}", password.replace(' ', "+"))
}

#[track_caller]
fn assert_invalid_credentials(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_eq!(reply.json(), json!({ "detail": "Invalid credentials" }));
    assert!(reply.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn a_good_password_gets_a_token_response() {
    let app = App::new(&[]);
    let reply = app.form(&credentials("alice", PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let json = reply.json();
    assert_eq!(json["token_type"], "bearer");
    assert_eq!(json["expires_in"], 900);
    let token = json["access_token"].as_str().unwrap();
    assert_eq!(app.state.manager.verify_token(token).unwrap().sub, "alice");
    assert_eq!(app.verifies(), 1);
    // grant_type=password is accepted as well as no grant_type (fastapi's form).
    let body = format!("grant_type=password&{}", credentials("alice", PASSWORD));
    assert_eq!(app.form(&body).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_user_wrong_password_and_no_password_cost_one_verification_each() {
    let app = App::new(&[]);
    for (user, password) in [
        ("alice", "wrong password"),
        ("nobody", PASSWORD),
        ("nopw", PASSWORD),
        ("nopw", ""),
    ] {
        app.reset();
        let reply = app.form(&credentials(user, password)).await;
        if password.is_empty() {
            // Out of bounds: refused before any hashing.
            assert_eq!(reply.status, StatusCode::BAD_REQUEST);
            assert_eq!(
                reply.json(),
                json!({ "detail": "Password is empty or too long" })
            );
            assert_eq!(app.verifies(), 0);
            continue;
        }
        assert_invalid_credentials(&reply);
        assert_eq!(app.verifies(), 1, "{user}: exactly one verification");
    }
    let reply = app.form(&credentials("alice", &"p".repeat(1025))).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(app.verifies(), 0);
}

#[tokio::test]
async fn granted_scopes_are_requested_and_allowed_and_known() {
    // The manager knows read and write, not admin.
    let app = App::new(&["read", "write"]);
    let alice = credentials("alice", PASSWORD);
    let bob = credentials("bob", PASSWORD);
    // None requested: every allowed scope the manager knows (admin is not known).
    assert_eq!(
        app.scopes(&alice).await,
        (vec!["read".into(), "write".into()], None)
    );
    // Requested and allowed: exactly those, and no `scope` in the response.
    assert_eq!(
        app.scopes(&format!("{alice}&scope=write")).await,
        (vec!["write".into()], None)
    );
    // Requested but not allowed, or not known: dropped; the response says what was granted
    // (RFC 6749 §5.1).
    assert_eq!(
        app.scopes(&format!("{bob}&scope=read+write")).await,
        (vec!["read".into()], Some("read".into()))
    );
    assert_eq!(
        app.scopes(&format!("{alice}&scope=admin+read")).await,
        (vec!["read".into()], Some("read".into()))
    );
    // Nothing requested is grantable: `invalid_scope`, never `"scope": ""` (RFC 6749 §3.3
    // has no empty scope), and no token.
    let reply = app.form(&format!("{bob}&scope=nonsense")).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_scope");
    assert!(reply.json().get("access_token").is_none());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn without_declared_scopes_a_client_cannot_grant_itself_one() {
    let app = App::new(&[]);
    let bob = credentials("bob", PASSWORD);
    assert_eq!(
        app.scopes(&format!("{bob}&scope=admin+read")).await,
        (vec!["read".into()], Some("read".into()))
    );
    assert_eq!(app.scopes(&bob).await, (vec!["read".into()], None));
}

#[tokio::test]
async fn a_store_error_is_the_stores_answer_and_no_work() {
    let app = App::new(&[]);
    let reply = app.form(&credentials(STORE_DOWN, PASSWORD)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.text(), "store down");
    // The store's own answer, never cached.
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(app.verifies(), 0);
}

#[tokio::test]
async fn malformed_requests_get_rfc_6749_json_without_the_password() {
    let app = App::new(&[]);
    let secret = "s3cret-pw";
    for (case, content_type, body, status, error) in [
        (
            "no password",
            "application/x-www-form-urlencoded",
            "username=alice".to_owned(),
            400,
            "invalid_request",
        ),
        (
            "no username",
            "application/x-www-form-urlencoded",
            format!("password={secret}"),
            400,
            "invalid_request",
        ),
        (
            "password twice",
            "application/x-www-form-urlencoded",
            format!("username=alice&password={secret}&password={secret}"),
            400,
            "invalid_request",
        ),
        (
            "JSON body",
            "application/json",
            format!(r#"{{"username":"alice","password":"{secret}"}}"#),
            415,
            "invalid_request",
        ),
        (
            "another grant",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&username=alice&password={secret}"),
            400,
            "unsupported_grant_type",
        ),
    ] {
        let reply = app.post("/login", content_type, &body).await;
        assert_eq!(reply.status.as_u16(), status, "{case}: {}", reply.text());
        assert_eq!(reply.json()["error"], error, "{case}");
        assert!(reply.json()["error_description"].is_string(), "{case}");
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{case}");
        assert!(
            !reply.text().contains(secret),
            "{case}: echoed the password"
        );
    }
    // The password is never read from the query string.
    let request = Request::get(format!("/login?username=alice&password={secret}"))
        .body(Body::empty())
        .unwrap();
    let get = Router::new()
        .route("/login", axum::routing::get(login))
        .with_state(app.state.clone());
    let reply = send(&get, request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"], "invalid_request");
    assert_eq!(reply.header("allow"), Some("POST"));
    assert_eq!(app.verifies(), 0);
}

#[tokio::test]
async fn an_outdated_hash_is_replaced_at_login() {
    let app = App::new(&[]);
    let old = Passwords::new(Argon2id::new(32, 1, 1).unwrap()).unwrap();
    let old_hash = old.hash_blocking(PASSWORD).unwrap();
    app.state
        .accounts
        .lock()
        .unwrap()
        .get_mut("bob")
        .unwrap()
        .hash = Some(old_hash.clone());
    app.reset();
    assert_eq!(
        app.form(&credentials("bob", PASSWORD)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.scheme.hashes(), 1, "rehashed once");
    let new_hash = app.state.accounts.lock().unwrap()["bob"]
        .hash
        .clone()
        .unwrap();
    assert_ne!(new_hash, old_hash);
    assert!(!app.state.passwords.needs_rehash(&new_hash));
    assert!(
        app.state
            .passwords
            .verify(PASSWORD, Some(&new_hash))
            .await
            .unwrap()
    );
    // A current hash is left alone.
    app.reset();
    assert_eq!(
        app.form(&credentials("bob", PASSWORD)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.scheme.hashes(), 0);
}

#[tokio::test]
async fn the_cookie_login_sets_the_managers_cookie() {
    let app = App::new(&[]);
    let reply = app
        .post(
            "/login/cookie",
            "application/x-www-form-urlencoded",
            &credentials("bob", PASSWORD),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let cookies: Vec<&str> = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    // The token cookie, and the login throttle's device token.
    assert_eq!(cookies.len(), 2, "{cookies:?}");
    assert!(
        cookies.iter().any(|c| c.starts_with("device-token=ldt_")),
        "{cookies:?}"
    );
    let cookie = *cookies
        .iter()
        .find(|c| c.starts_with("access-token="))
        .unwrap();
    let token = cookie
        .strip_prefix("access-token=")
        .and_then(|rest| rest.split(';').next())
        .unwrap();
    let claims = app.state.manager.verify_token(token).unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.scopes),
        ("bob", vec!["read".to_owned()])
    );
    assert!(cookie.contains("HttpOnly"));
    let wrong = app
        .post(
            "/login/cookie",
            "application/x-www-form-urlencoded",
            &credentials("bob", "nope"),
        )
        .await;
    assert_invalid_credentials(&wrong);
}

#[tokio::test]
async fn a_login_debug_never_holds_the_new_password_hash() {
    let app = App::new(&[]);
    let old = Passwords::new(Argon2id::new(32, 1, 1).unwrap()).unwrap();
    let account = Account {
        name: "bob".into(),
        hash: Some(old.hash_blocking(PASSWORD).unwrap()),
        scopes: vec![],
    };
    let form = login::OAuth2PasswordForm {
        username: "bob".into(),
        password: PASSWORD.into(),
        scope: vec![],
        grant_type: None,
        client_id: None,
        client_secret: None,
    };
    let login = PasswordGrant::new(form)
        .authenticate(&app.state.passwords, Some(account))
        .await
        .unwrap();
    let hash = login
        .new_password_hash()
        .expect("an outdated hash is replaced")
        .to_owned();
    let debug = format!("{login:?}");
    assert!(!debug.contains(&hash), "{debug}");
    assert!(debug.contains("bob"), "{debug}");
}
