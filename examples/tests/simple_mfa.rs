//! The `simple` example's second factor over HTTP, driven by pyotp (a standard TOTP
//! implementation, in `python3`): enrolment, confirmation, the two-step login, recovery codes,
//! step-up routes, and every bad input of the second step. The manager's clock is the test's,
//! so that pyotp computes the codes of the moment the server judges.
//!
//! Skipped, with a note, when pyotp is missing outside CI; a failure under CI (`.ci/run`
//! installs it).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use login::LoginManager;
use login::throttle::Throttle;
use login_examples::simple::{Db, app, settings};
use login_test_support::{Reply, form_request, form_urlencoded, python, request, send};
use serde_json::{Value, json};

const SECRET: &str = "simple-example-test-secret-32-bytes-or-more";
const MIA: &str = "mia@mail.com";
const BOB: &str = "bob@mail.com";
const PASSWORD: &str = "correct horse battery";
/// A moment on a 30-second boundary, so that steps are easy to name.
const T0: i64 = 1_800_000_010 - 1_800_000_010 % 30;

fn pyotp() -> bool {
    python::require(
        "pyotp",
        "pip install pyotp",
        "the simple example's TOTP tests",
    )
}

/// pyotp's code for `secret` at `at` (`pyotp.TOTP(secret).at(at)`).
fn code(secret: &str, at: i64) -> String {
    python::run(
        "import sys, pyotp; print(pyotp.TOTP(sys.argv[1]).at(int(sys.argv[2])))",
        &[secret, &at.to_string()],
    )
    .expect("pyotp runs")
    .trim()
    .to_owned()
}

struct App {
    router: Router,
    manager: LoginManager,
    clock: Arc<AtomicI64>,
}

fn setup() -> App {
    setup_with(Throttle::default())
}

/// The example's manager and routes, with `throttle`, on a store of two users.
fn setup_with(throttle: Throttle) -> App {
    let clock = Arc::new(AtomicI64::new(T0));
    let c = clock.clone();
    let manager = settings(
        LoginManager::builder("/login")
            .secret(SECRET)
            .clock(move || c.load(Ordering::SeqCst)),
    )
    .throttle(throttle)
    .build()
    .unwrap();
    let db = Db::default();
    let hash = login::password::Passwords::default()
        .hash_blocking(PASSWORD)
        .unwrap();
    db.add_user(MIA, "Mia", hash.clone(), &["read"]);
    db.add_user(BOB, "Bob", hash, &["read"]);
    App {
        router: app(manager.clone(), db),
        manager,
        clock,
    }
}

impl App {
    fn at(&self, t: i64) {
        self.clock.store(t, Ordering::SeqCst);
    }

    async fn post(&self, path: &str, bearer: Option<&str>, form: &[(&str, &str)]) -> Reply {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        send(
            &self.router,
            request(
                Method::POST,
                path,
                &headers,
                Body::from(form_urlencoded(form)),
            ),
        )
        .await
    }

    async fn get(&self, path: &str, bearer: &str) -> Reply {
        let auth = format!("Bearer {bearer}");
        send(
            &self.router,
            request(
                Method::GET,
                path,
                &[("authorization", auth.as_str())],
                Body::empty(),
            ),
        )
        .await
    }

    async fn password(&self, user: &str) -> Reply {
        let form = form_urlencoded(&[("username", user), ("password", PASSWORD)]);
        send(&self.router, form_request("/login", form)).await
    }

    /// Logs `user` in with the password alone (no second factor yet): the access token.
    async fn token(&self, user: &str) -> String {
        let reply = self.password(user).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Enrols and confirms TOTP for `user` at the current time: the secret and the codes.
    async fn enrol(&self, user: &str) -> (String, Vec<String>) {
        let token = self.token(user).await;
        let reply = self.post("/mfa/totp", Some(&token), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let secret = reply.json()["secret"].as_str().unwrap().to_owned();
        let now = self.manager.now();
        let confirmed = self
            .post(
                "/mfa/totp/confirm",
                Some(&token),
                &[("code", &code(&secret, now))],
            )
            .await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
        let codes = confirmed.json()["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }

    /// The first step for an enrolled user: the `mfa_token`.
    async fn mfa_token(&self, user: &str) -> String {
        let reply = self.password(user).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        reply.json()["mfa_token"].as_str().unwrap().to_owned()
    }

    async fn second(&self, form: &[(&str, &str)]) -> Reply {
        self.post("/login/mfa", None, form).await
    }
}

/// A bad second step: what it is, the code fields sent, the status and `error` expected.
type Case = (
    &'static str,
    Vec<(&'static str, String)>,
    StatusCode,
    &'static str,
);

fn error_of(reply: &Reply) -> (StatusCode, Value) {
    (reply.status, reply.json()["error"].clone())
}

#[tokio::test]
async fn enrol_confirm_and_log_in_with_a_totp_code() {
    if !pyotp() {
        return;
    }
    let app = setup();
    let password_only = app.token(MIA).await;
    let reply = app.post("/mfa/totp", Some(&password_only), &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    let enrolment = reply.json();
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert_eq!(enrolment.as_object().unwrap().len(), 2, "{enrolment}");
    // Pending until confirmed: the password still logs in alone.
    assert_eq!(app.password(MIA).await.status, StatusCode::OK);
    // A wrong code does not confirm.
    let wrong = app
        .post(
            "/mfa/totp/confirm",
            Some(&password_only),
            &[("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json(), json!({ "detail": "Invalid code" }));
    let confirmed = app
        .post(
            "/mfa/totp/confirm",
            Some(&password_only),
            &[("code", &code(&secret, T0))],
        )
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.text());
    let codes = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(codes.len(), 10);

    // The first step: 403 mfa_required, no token, no session.
    let first = app.password(MIA).await;
    assert_eq!(first.status, StatusCode::FORBIDDEN, "{}", first.text());
    assert_eq!(first.headers[header::CACHE_CONTROL], "no-store");
    let body = first.json();
    assert_eq!(body["error"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    assert!(body.get("access_token").is_none());
    let sessions_before = app.manager.list_sessions(MIA).await.unwrap().len();
    assert_eq!(
        sessions_before, 2,
        "the two password-only logins; none for the first step"
    );
    // The confirmation's own code was used: the next step's code, 30 s later.
    app.at(T0 + 30);
    let reply = app
        .second(&[
            ("mfa_token", body["mfa_token"].as_str().unwrap()),
            ("otp", &code(&secret, T0 + 30)),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let tokens = reply.json();
    assert_eq!(tokens["token_type"], "bearer");
    assert!(
        tokens["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("lrt_")
    );
    assert_eq!(
        app.manager.list_sessions(MIA).await.unwrap().len(),
        sessions_before + 1,
        "the second step started the session"
    );
    let access = tokens["access_token"].as_str().unwrap();
    let claims = app.manager.verify_token(access).unwrap();
    assert_eq!(claims.amr, ["pwd", "otp", "mfa"]);
    assert_eq!(claims.auth_time, Some(T0 + 30));
    assert_eq!(claims.scopes, ["read"], "the password step's scopes");

    // Step-up: the two-step token passes both; the password-only one meets the challenge.
    assert_eq!(app.get("/secure", access).await.status, StatusCode::OK);
    assert_eq!(app.get("/fresh", access).await.status, StatusCode::OK);
    let refused = app.get("/secure", &password_only).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="insufficient_user_authentication", error_description="This route requires the authentication method otp""#
    );
    app.at(T0 + 30 + 301);
    let stale = app.get("/fresh", access).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    assert!(
        stale.headers[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .ends_with(r#"max_age="300""#)
    );
}

#[tokio::test]
async fn every_bad_second_step_is_a_clear_4xx_and_logs_nobody_in() {
    if !pyotp() {
        return;
    }
    // Without the throttle, so that every case gets its own answer (the throttle's test is
    // below).
    let app = setup_with(Throttle::off());
    let (secret, _) = app.enrol(MIA).await;
    let (bob_secret, _) = app.enrol(BOB).await;
    app.at(T0 + 60);
    let mfa_token = app.mfa_token(MIA).await;
    let good = code(&secret, T0 + 60);

    let cases: Vec<Case> = vec![
        (
            "a wrong code",
            vec![("otp", "000000".into())],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "Bob's code for Mia's mfa_token",
            vec![("otp", code(&bob_secret, T0 + 60))],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "a code with a space",
            vec![("otp", format!("{} {}", &good[..3], &good[3..]))],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "five digits",
            vec![("otp", good[..5].to_owned())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "seven digits",
            vec![("otp", format!("{good}0"))],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "a code from two steps ago",
            vec![("otp", code(&secret, T0))],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
        (
            "both an otp and a recovery code",
            vec![
                ("otp", good.clone()),
                ("recovery_code", "abcde-fghjk".into()),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "no code at all",
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            "an unknown recovery code",
            vec![("recovery_code", "abcde-fghjk".into())],
            StatusCode::BAD_REQUEST,
            "invalid_grant",
        ),
    ];
    for (case, fields, status, error) in cases {
        let mut form = vec![("mfa_token", mfa_token.clone())];
        form.extend(fields);
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = app.second(&form).await;
        assert_eq!(
            error_of(&reply),
            (status, json!(error)),
            "{case}: {}",
            reply.text()
        );
        assert!(reply.json().get("access_token").is_none(), "{case}");
        assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store", "{case}");
    }

    // The mfa_token is no access token, and an access token is no mfa_token.
    let as_bearer = app.get("/protected", &mfa_token).await;
    assert_eq!(as_bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        as_bearer.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    let reply = app
        .second(&[("mfa_token", "not-a-token"), ("otp", &good)])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant"))
    );

    // The right code: in; the same code again (with a new mfa_token): replay, refused; the
    // used mfa_token again: refused.
    let reply = app
        .second(&[("mfa_token", &mfa_token), ("otp", &good)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let access = reply.json()["access_token"].as_str().unwrap().to_owned();
    let reply = app
        .second(&[("mfa_token", &mfa_token), ("otp", &code(&secret, T0 + 90))])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "used"
    );
    let fresh_token = app.mfa_token(MIA).await;
    let reply = app
        .second(&[("mfa_token", &fresh_token), ("otp", &good)])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "replayed"
    );
    // An access token where the mfa_token goes.
    let reply = app
        .second(&[("mfa_token", &access), ("otp", &code(&secret, T0 + 90))])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "access"
    );
    // Expired: five minutes and a second later.
    app.at(T0 + 60 + 301);
    let reply = app
        .second(&[
            ("mfa_token", &fresh_token),
            ("otp", &code(&secret, T0 + 361)),
        ])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "expired"
    );
}

#[tokio::test]
async fn recovery_codes_log_in_once_each_and_regenerating_kills_the_old_ones() {
    if !pyotp() {
        return;
    }
    let app = setup();
    let (secret, codes) = app.enrol(MIA).await;
    let mfa_token = app.mfa_token(MIA).await;
    // Upper case and without the dash: the same code.
    let typed = codes[3].to_uppercase().replace('-', "");
    let reply = app
        .second(&[("mfa_token", &mfa_token), ("recovery_code", &typed)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let access = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.manager.verify_token(&access).unwrap().amr,
        ["pwd", "otp", "mfa"]
    );
    let again = app.mfa_token(MIA).await;
    let reply = app
        .second(&[("mfa_token", &again), ("recovery_code", &codes[3])])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "used twice"
    );

    // New codes need a fresh login; the old ones die.
    let regenerated = app.post("/mfa/recovery-codes", Some(&access), &[]).await;
    assert_eq!(regenerated.status, StatusCode::OK, "{}", regenerated.text());
    let new_codes = regenerated.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(new_codes.len(), 10);
    let reply = app
        .second(&[("mfa_token", &again), ("recovery_code", &codes[4])])
        .await;
    assert_eq!(
        error_of(&reply),
        (StatusCode::BAD_REQUEST, json!("invalid_grant")),
        "old code"
    );
    let reply = app
        .second(&[
            ("mfa_token", &again),
            ("recovery_code", new_codes[0].as_str().unwrap()),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

    // Turning TOTP off needs a fresh login too; then the password alone logs in again.
    app.at(T0 + 600);
    let stale = app.delete("/mfa/totp", &access).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED);
    let fresh_token = app.mfa_token(MIA).await;
    let reply = app
        .second(&[
            ("mfa_token", &fresh_token),
            ("otp", &code(&secret, T0 + 600)),
        ])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let fresh = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.delete("/mfa/totp", &fresh).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(app.password(MIA).await.status, StatusCode::OK);
}

/// Guessing codes is throttled like guessing passwords: the same counters, the same 429; a
/// right password for an account with a second factor does not clear its failures.
#[tokio::test]
async fn guessing_codes_meets_the_login_throttle() {
    if !pyotp() {
        return;
    }
    let app = setup();
    app.enrol(MIA).await;
    let mut throttled = None;
    for attempt in 0..20 {
        let mfa_token = app.mfa_token_or_throttled(MIA).await;
        let Some(mfa_token) = mfa_token else {
            throttled = Some(attempt);
            break;
        };
        let reply = app
            .second(&[("mfa_token", &mfa_token), ("otp", "000000")])
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.headers.contains_key(header::RETRY_AFTER));
            assert_eq!(reply.json()["error"], "slow_down");
            throttled = Some(attempt);
            break;
        }
        assert_eq!(
            error_of(&reply),
            (StatusCode::BAD_REQUEST, json!("invalid_grant"))
        );
    }
    let attempt = throttled.expect("wrong codes were throttled within 20 attempts");
    assert!(attempt >= 1, "a few free failures first");

    // Re-authentication guesses too: a password-only user, wrong passwords on /reauth.
    let bob = app.token(BOB).await;
    let mut throttled = None;
    for attempt in 0..20 {
        let reply = app
            .post("/reauth", Some(&bob), &[("password", "wrong")])
            .await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(reply.headers.contains_key(header::RETRY_AFTER));
            throttled = Some(attempt);
            break;
        }
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    }
    let attempt = throttled.expect("wrong re-authentication passwords were throttled");
    assert!(attempt >= 3, "the free failures first: {attempt}");
}

impl App {
    async fn delete(&self, path: &str, bearer: &str) -> Reply {
        let auth = format!("Bearer {bearer}");
        send(
            &self.router,
            request(
                Method::DELETE,
                path,
                &[("authorization", auth.as_str())],
                Body::empty(),
            ),
        )
        .await
    }

    /// The first step: the `mfa_token`, or `None` when the throttle answered 429.
    async fn mfa_token_or_throttled(&self, user: &str) -> Option<String> {
        let reply = self.password(user).await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            return None;
        }
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
        Some(reply.json()["mfa_token"].as_str().unwrap().to_owned())
    }
}

/// `POST /reauth`: the password again (and the code, with TOTP on) gives the same session a
/// fresh `auth_time`; its refreshes keep it; every bad input is a clear 4xx.
#[tokio::test]
async fn reauthentication_freshens_the_same_session() {
    if !pyotp() {
        return;
    }
    let app = setup();
    let (secret, _) = app.enrol(MIA).await;
    let mfa_token = app.mfa_token(MIA).await;
    app.at(T0 + 30);
    let login = app
        .second(&[("mfa_token", &mfa_token), ("otp", &code(&secret, T0 + 30))])
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    let access = login.json()["access_token"].as_str().unwrap().to_owned();
    let refresh_token = login.json()["refresh_token"].as_str().unwrap().to_owned();
    let sid = app.manager.verify_token(&access).unwrap().sid;

    app.at(T0 + 400);
    assert_eq!(
        app.get("/fresh", &access).await.status,
        StatusCode::UNAUTHORIZED
    );
    for (case, form, status, error) in [
        (
            "a wrong password",
            vec![("password", "wrong"), ("otp", "123456")],
            StatusCode::UNAUTHORIZED,
            Value::Null,
        ),
        (
            "no code with TOTP on",
            vec![("password", PASSWORD)],
            StatusCode::BAD_REQUEST,
            json!("invalid_request"),
        ),
        (
            "a wrong code",
            vec![("password", PASSWORD), ("otp", "000000")],
            StatusCode::BAD_REQUEST,
            json!("invalid_grant"),
        ),
        (
            "the login's code again",
            vec![("password", PASSWORD), ("otp", &code(&secret, T0 + 30))],
            StatusCode::BAD_REQUEST,
            json!("invalid_grant"),
        ),
    ] {
        let reply = app.post("/reauth", Some(&access), &form).await;
        assert_eq!(
            error_of(&reply),
            (status, error),
            "{case}: {}",
            reply.text()
        );
    }
    let otp = code(&secret, T0 + 400);
    let reply = app
        .post(
            "/reauth",
            Some(&access),
            &[("password", PASSWORD), ("otp", &otp)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let body = reply.json();
    assert!(
        body.get("refresh_token").is_none(),
        "the refresh token does not change"
    );
    let fresh = body["access_token"].as_str().unwrap();
    let claims = app.manager.verify_token(fresh).unwrap();
    assert_eq!(
        (claims.sid.clone(), claims.auth_time),
        (sid.clone(), Some(T0 + 400))
    );
    assert_eq!(claims.amr, ["pwd", "otp", "mfa"]);
    assert_eq!(app.get("/fresh", fresh).await.status, StatusCode::OK);
    // The session's next refresh carries the re-authentication's time.
    let refreshed = app
        .post(
            "/refresh",
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh_token),
            ],
        )
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    let renewed = refreshed.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let claims = app.manager.verify_token(&renewed).unwrap();
    assert_eq!((claims.sid, claims.auth_time), (sid, Some(T0 + 400)));

    // A token of an ended session: refused before anything is checked.
    let logout = app.post("/logout", Some(&renewed), &[]).await;
    assert_eq!(logout.status, StatusCode::OK, "{}", logout.text());
    let reply = app
        .post(
            "/reauth",
            Some(&renewed),
            &[("password", PASSWORD), ("otp", &code(&secret, T0 + 430))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );

    // Without TOTP, the password alone.
    let bob = app.token(BOB).await;
    let reply = app
        .post("/reauth", Some(&bob), &[("password", PASSWORD)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let claims = app
        .manager
        .verify_token(reply.json()["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(claims.amr, ["pwd"]);
}
