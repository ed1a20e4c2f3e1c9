//! The issue's targets as paired ratios, for a shared or noisy machine.
//!
//! ```text
//! cargo bench -p login --bench ratios
//! RATIOS=cache cargo bench -p login --bench ratios     # only the token cache's section
//! RATIOS=throttle cargo bench -p login --bench ratios  # only the login throttle's cost
//! ```
//!
//! Each line compares two variants that run alternately in short blocks (about a millisecond
//! each, the first one alternating), timed in the thread's CPU time; a line reports the median
//! per-iteration time of each variant and the median of the per-block-pair ratios. Load that
//! comes and goes on the machine lands on both sides of a pair, so the ratio is steady even when
//! the absolute times (and criterion's separate runs) drift by tens of per cent. The variants
//! are the criterion benches' (`verify`, `route`); see their docs.

mod common;

use std::cell::Cell;
use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::{Extensions, HeaderValue, Request, StatusCode, header};
use axum::routing::get;
use http_body_util::BodyExt;
use jsonwebtoken::Algorithm;
use login::{AuthUser, LoginManager, TokenRequest};
use serde_json::Value;
use tower::ServiceExt;

use common::*;

const ROUNDS: usize = 301;

/// Runs `a` and `b` alternately; prints `name`, both medians and the median ratio a / b.
fn pair(name: &str, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> f64 {
    let (x, y, r) = paired(ROUNDS, a, b);
    println!("{name:<62} {:>10} {:>10} {r:>6.2}x", fmt(x), fmt(y));
    r
}

fn fmt(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => unreachable!(),
    }
}

const POOL: usize = 2048;

/// The extractor on a fresh request each time; `cycle` sends a new token from `headers` each
/// time (the cache never has it: see the `verify` bench), else the first one again.
fn extractor<'a>(
    state: &'a AppState,
    headers: &'a [HeaderValue],
    cycle: bool,
) -> impl FnMut() + 'a {
    let next = Cell::new(0);
    let mut parts = parts_with("placeholder");
    parts
        .headers
        .insert(header::AUTHORIZATION, headers[0].clone());
    move || {
        if cycle {
            let i = (next.get() + 1) % headers.len();
            next.set(i);
            parts
                .headers
                .insert(header::AUTHORIZATION, headers[i].clone());
        }
        parts.extensions = Extensions::new();
        let user = ready(AuthUser::<User>::from_request_parts(&mut parts, state));
        black_box(user.ok().unwrap());
    }
}

fn raw_decode<'a>(raw: &'a RawKeys, pool: &'a [String], db: Option<&'a Db>) -> impl FnMut() + 'a {
    let mut i = 0;
    move || {
        i = (i + 1) % pool.len();
        let data =
            jsonwebtoken::decode::<RawClaims>(&pool[i], &raw.decoding, &raw.validation).unwrap();
        match db {
            Some(db) => {
                black_box(db.find_now(&data.claims.sub).unwrap());
            }
            None => {
                black_box(data.claims);
            }
        }
    }
}

fn verify(only_hs256: bool) {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "in process (per request)", "a", "b", "a / b"
    );
    let mut repeated_hs256 = None;
    for alg in ALGORITHMS {
        if only_hs256 && alg != Algorithm::HS256 {
            continue;
        }
        let name = alg_name(alg);
        let minter = manager(alg, 0);
        let pool: Vec<String> = (0..POOL).map(|_| mint(&minter)).collect();
        let headers: Vec<HeaderValue> = pool.iter().map(|t| bearer(t)).collect();
        let raw = raw_keys(alg);
        let db = Db::demo();
        let first_seen = AppState::new(manager(alg, 16), alg);
        let no_cache = AppState::new(manager(alg, 0), alg);
        let repeated = AppState::new(manager(alg, DEFAULT_CACHE_ENTRIES), alg);
        pair(
            &format!("{name}: extractor, first seen / raw decode"),
            &mut extractor(&first_seen, &headers, true),
            &mut raw_decode(&raw, &pool, None),
        );
        pair(
            &format!("{name}: extractor, first seen / raw decode + user"),
            &mut extractor(&first_seen, &headers, true),
            &mut raw_decode(&raw, &pool, Some(&db)),
        );
        pair(
            &format!("{name}: extractor, no cache / raw decode + user"),
            &mut extractor(&no_cache, &headers, true),
            &mut raw_decode(&raw, &pool, Some(&db)),
        );
        pair(
            &format!("{name}: extractor, repeated token / raw decode + user"),
            &mut extractor(&repeated, &headers, false),
            &mut raw_decode(&raw, &pool, Some(&db)),
        );
        match &repeated_hs256 {
            None => repeated_hs256 = Some((repeated, headers)),
            Some((hs_state, hs_headers)) => {
                pair(
                    &format!("{name}: extractor, repeated token / HS256 repeated token"),
                    &mut extractor(&repeated, &headers, false),
                    &mut extractor(hs_state, hs_headers, false),
                );
            }
        }
    }
}

fn app(alg: Algorithm, cache: usize) -> (Router, HeaderValue) {
    let manager = manager(alg, cache);
    let token = mint(&manager);
    let router = Router::new()
        .route("/unprotected", get(unprotected_route))
        .route("/hand-written", get(hand_written_route))
        .route("/protected", get(protected_route))
        .route("/claims", get(claims_route))
        .with_state(AppState::new(manager, alg));
    (router, bearer(&token))
}

/// The app with a token as the login route mints it (`amr`, `auth_time`), for the step-up
/// route and its plain twin.
fn login_token_app(alg: Algorithm) -> (Router, HeaderValue) {
    let manager = manager(alg, DEFAULT_CACHE_ENTRIES);
    let token = manager
        .create_access_token(
            TokenRequest::new(SUBJECT)
                .scopes(["read", "write"])
                .amr(["pwd"])
                .auth_time(manager.now()),
        )
        .unwrap();
    let router = Router::new()
        .route("/protected", get(protected_route))
        .route("/step-up", get(step_up_route))
        .with_state(AppState::new(manager, alg));
    (router, bearer(&token))
}

fn route<'a>(
    rt: &'a tokio::runtime::Runtime,
    app: &'a (Router, HeaderValue),
    path: &'static str,
) -> impl FnMut() + 'a {
    move || get_ok(rt, &app.0, path, &app.1)
}

fn routes() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "Router::oneshot, repeated token", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let hs = app(Algorithm::HS256, DEFAULT_CACHE_ENTRIES);
    let hs_off = app(Algorithm::HS256, 0);
    pair(
        "protected HS256 / unprotected",
        &mut route(&rt, &hs, "/protected"),
        &mut route(&rt, &hs, "/unprotected"),
    );
    pair(
        "protected claims-only HS256 / unprotected",
        &mut route(&rt, &hs, "/claims"),
        &mut route(&rt, &hs, "/unprotected"),
    );
    pair(
        "protected claims-only HS256 / protected HS256",
        &mut route(&rt, &hs, "/claims"),
        &mut route(&rt, &hs, "/protected"),
    );
    pair(
        "protected HS256 / hand-written HS256",
        &mut route(&rt, &hs, "/protected"),
        &mut route(&rt, &hs, "/hand-written"),
    );
    pair(
        "hand-written HS256 / unprotected",
        &mut route(&rt, &hs, "/hand-written"),
        &mut route(&rt, &hs, "/unprotected"),
    );
    pair(
        "protected HS256, no cache / hand-written HS256",
        &mut route(&rt, &hs_off, "/protected"),
        &mut route(&rt, &hs, "/hand-written"),
    );
    let login_token = login_token_app(Algorithm::HS256);
    pair(
        "protected fresh + factors (step-up) HS256 / protected HS256",
        &mut route(&rt, &login_token, "/step-up"),
        &mut route(&rt, &login_token, "/protected"),
    );
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let other = app(alg, DEFAULT_CACHE_ENTRIES);
        pair(
            &format!("protected {} / protected HS256", alg_name(alg)),
            &mut route(&rt, &other, "/protected"),
            &mut route(&rt, &hs, "/protected"),
        );
    }
}

/// A manager with sessions in memory, its view holding `revocations` entries (none of them
/// for the benchmark's own token), so that the per-request lookups really run.
fn session_manager(rt: &tokio::runtime::Runtime, revocations: usize) -> LoginManager {
    let manager = LoginManager::builder("/login")
        .signing_key(signing_key(Algorithm::HS256))
        .sessions()
        .build()
        .unwrap();
    rt.block_on(common::revoke_others(&manager, revocations));
    assert!(manager.revocations_in_view() >= revocations);
    manager
}

fn session_app(manager: LoginManager, token: &str) -> (Router, HeaderValue) {
    let router = Router::new()
        .route("/protected", get(protected_route))
        .route(
            "/refresh",
            axum::routing::post(login::refresh::refresh_route),
        )
        .route("/login", axum::routing::post(login_route))
        .with_state(AppState::new(manager, Algorithm::HS256));
    (router, bearer(token))
}

/// The demo user's password and its Argon2id hash (made once, as a user store holds it).
const PASSWORD: &str = "hunter2";
static PASSWORD_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A login route as the examples write it, with the password checked on this thread
/// (`verify_blocking`) so that its Argon2id work is counted in the thread's CPU time.
async fn login_route(
    State(state): State<AppState>,
    axum::Form(form): axum::Form<login::OAuth2PasswordForm>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let user = state.db.find(&form.username).await;
    let hash = user.and(PASSWORD_HASH.get()).map(String::as_str);
    if !login::password::Passwords::default()
        .verify_blocking(&form.password, hash)
        .unwrap_or(false)
    {
        return login::LoginError::InvalidCredentials.into_response();
    }
    let request = TokenRequest::new(form.username).scopes(["read", "write"]);
    match state.manager.login_response(request, None).await {
        Ok(response) => response.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn post_form(path: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn sessions() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "sessions (Router::oneshot)", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let off = app(Algorithm::HS256, DEFAULT_CACHE_ENTRIES);
    for revocations in [0, 1000] {
        let on = session_manager(&rt, revocations);
        let tokens = rt
            .block_on(on.start_session(TokenRequest::new(SUBJECT).scopes(["read", "write"]), None))
            .unwrap();
        let on = session_app(on, &tokens.access_token);
        pair(
            &format!("protected HS256, sessions on ({revocations} revocations) / off"),
            &mut route(&rt, &on, "/protected"),
            &mut route(&rt, &off, "/protected"),
        );
    }

    // Refresh vs login, each request a real one: every refresh presents the refresh token the
    // previous one returned; every login checks the demo user's Argon2id password.
    PASSWORD_HASH.get_or_init(|| {
        login::password::Passwords::default()
            .hash_blocking(PASSWORD)
            .unwrap()
    });
    let manager = session_manager(&rt, 0);
    let first = rt.block_on(manager.start_session(SUBJECT, None)).unwrap();
    let (router, _) = session_app(manager, &first.access_token);
    let current = Cell::new(first.refresh_token);
    let mut refresh = || {
        let body = format!("grant_type=refresh_token&refresh_token={}", current.take());
        let next = rt.block_on(async {
            let response = router
                .clone()
                .oneshot(post_form("/refresh", body))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            let json: Value = serde_json::from_slice(&bytes).unwrap();
            json["refresh_token"].as_str().unwrap().to_owned()
        });
        current.set(next);
    };
    let mut login = || {
        let body = format!(
            "username={}&password={PASSWORD}",
            SUBJECT.replace('@', "%40")
        );
        rt.block_on(async {
            let response = router
                .clone()
                .oneshot(post_form("/login", body))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response.into_body().collect().await.unwrap().to_bytes());
        });
    };
    let ratio = pair(
        "refresh / login (HS256, Argon2id login)",
        &mut refresh,
        &mut login,
    );
    println!(
        "{:<62} {:>29.0}x",
        "refresh requests per login request, same CPU",
        1.0 / ratio
    );
}

/// The auth events hook on a login: the same login route (`PasswordGrant::authenticate_for`,
/// then `token_response` with sessions in memory) on a manager with a hook that keeps each
/// event (a clone behind a mutex, as a hook feeding a queue does) and on one with the default
/// (`TracingEvents`, no subscriber installed). The password work is made negligible (Argon2id
/// with 8 KiB and one pass) so that the ratio shows the hook against the rest of a login;
/// with real parameters the password check alone costs tens of milliseconds.
fn events() {
    use login::events::AuthEvent;
    use login::password::{Argon2id, Passwords};
    use std::sync::{Arc, Mutex};

    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "auth events (Router::oneshot)", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let passwords = Passwords::new(Argon2id::new(8, 1, 1).unwrap()).unwrap();
    let hash = passwords.hash_blocking(PASSWORD).unwrap();
    #[derive(Clone)]
    struct Account(String);
    impl login::LoginAccount for Account {
        fn subject(&self) -> String {
            SUBJECT.to_owned()
        }
        fn password_hash(&self) -> Option<&str> {
            Some(&self.0)
        }
    }
    let router = |manager: LoginManager| {
        let (passwords, hash) = (passwords.clone(), hash.clone());
        let state = manager.clone();
        Router::new()
            .route(
                "/login",
                axum::routing::post(move |grant: login::PasswordGrant| async move {
                    let account = (grant.username() == SUBJECT).then_some(Account(hash));
                    match grant.authenticate_for(&manager, &passwords, account).await {
                        Ok(login) => login.token_response(&manager).await,
                        Err(error) => Err(error),
                    }
                }),
            )
            .with_state(state)
    };
    let builder = || {
        LoginManager::builder("/login")
            .signing_key(signing_key(Algorithm::HS256))
            .sessions()
    };
    let kept = Arc::new(Mutex::new(Vec::<AuthEvent>::new()));
    let hook = {
        let kept = kept.clone();
        move |event: &AuthEvent| {
            let mut kept = kept.lock().unwrap();
            if kept.len() >= 1024 {
                kept.clear();
            }
            kept.push(event.clone());
        }
    };
    let with_hook = router(builder().events(hook).build().unwrap());
    let default = router(builder().build().unwrap());
    let login = |router: &Router| {
        let router = router.clone();
        let rt = &rt;
        move || {
            let body = format!(
                "username={}&password={PASSWORD}",
                SUBJECT.replace('@', "%40")
            );
            rt.block_on(async {
                let response = router
                    .clone()
                    .oneshot(post_form("/login", body))
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                black_box(response.into_body().collect().await.unwrap().to_bytes());
            });
        }
    };
    pair(
        "login (cheap password), a keeping hook / the default",
        &mut login(&with_hook),
        &mut login(&default),
    );
    assert!(!kept.lock().unwrap().is_empty());
}

/// `Router::oneshot` on `/protected` of `router`, each request with the next header of
/// `headers` (cycling).
fn route_cycling<'a>(
    rt: &'a tokio::runtime::Runtime,
    router: &'a Router,
    headers: &'a [HeaderValue],
) -> impl FnMut() + 'a {
    let mut i = 0;
    move || {
        i = (i + 1) % headers.len();
        get_ok(rt, router, "/protected", &headers[i]);
    }
}

/// The cache's cost and gain with many tokens: the default cache against none,
/// each request with a new token (tokens seen once: the admission rule must make the cache
/// cost nothing), and with N tokens cycled.
fn cache() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "token cache, many tokens (HS256)", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Enough tokens that the cache-on side never sees one twice: 301 rounds of about 1 ms, a
    // few µs each.
    let minter = manager(Algorithm::HS256, 0);
    let pool: Vec<String> = (0..400_000).map(|_| mint(&minter)).collect();
    let headers: Vec<HeaderValue> = pool.iter().map(|t| bearer(t)).collect();
    let state = |cache| AppState::new(manager(Algorithm::HS256, cache), Algorithm::HS256);
    let (on, off) = (state(DEFAULT_CACHE_ENTRIES), state(0));
    // Fill the cache-on side first (the steady state of a busy server: the cache full), with
    // tokens the timed part does not use.
    let mut fill = extractor(&on, &headers[300_000..], true);
    for _ in 0..20_000 {
        fill();
    }
    pair(
        "extractor, tokens seen once: cache on / off",
        &mut extractor(&on, &headers[..150_000], true),
        &mut extractor(&off, &headers[..150_000], true),
    );
    let router = |state: &AppState| {
        Router::new()
            .route("/protected", get(protected_route))
            .with_state(state.clone())
    };
    let (r_on, r_off) = (router(&on), router(&off));
    pair(
        "route, tokens seen once: cache on / off",
        &mut route_cycling(&rt, &r_on, &headers[150_000..300_000]),
        &mut route_cycling(&rt, &r_off, &headers[150_000..300_000]),
    );
    for n in [2_000, 20_000] {
        let cycled = &headers[300_000..300_000 + n];
        pair(
            &format!("route, {n} tokens cycled: cache on / off"),
            &mut route_cycling(&rt, &r_on, cycled),
            &mut route_cycling(&rt, &r_off, cycled),
        );
    }
}

/// A password scheme whose hash is the password itself: no work, so that the login routes
/// below measure everything but the password hash (the throttle's share is then an upper
/// bound of its share of a real, Argon2id, login).
struct Plain;

impl login::password::PasswordScheme for Plain {
    fn hash(&self, password: &[u8]) -> Result<String, login::password::PasswordError> {
        Ok(format!("plain:{}", String::from_utf8_lossy(password)))
    }
    fn can_verify(&self, stored: &str) -> bool {
        stored.starts_with("plain:")
    }
    fn verify(&self, password: &[u8], stored: &str) -> bool {
        stored.as_bytes().get(6..) == Some(password)
    }
    fn needs_rehash(&self, _: &str) -> bool {
        false
    }
}

#[derive(Clone)]
struct Account;

impl login::LoginAccount for Account {
    fn subject(&self) -> String {
        SUBJECT.to_owned()
    }
    fn password_hash(&self) -> Option<&str> {
        Some("plain:hunter2")
    }
}

#[derive(Clone, axum::extract::FromRef)]
struct ThrottleState {
    manager: LoginManager,
    passwords: login::password::Passwords,
}

/// The login route as the README writes it: `PasswordGrant`, `authenticate`, the token
/// response (and, with the throttle, the device cookie).
async fn grant_login(
    State(state): State<ThrottleState>,
    grant: login::PasswordGrant,
) -> Result<axum::response::Response, login::LoginError> {
    let account = (grant.username() == SUBJECT).then_some(Account);
    let login = grant.authenticate(&state.passwords, account).await?;
    login.token_response(&state.manager).await
}

/// The login throttle's cost per login: the same successful login with the throttle on and
/// off (each success resets its counters, so every login is checked and charged).
fn throttle() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "login throttle (Router::oneshot)", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let router = |throttle: login::throttle::Throttle| {
        let manager = LoginManager::builder("/login")
            .signing_key(signing_key(Algorithm::HS256))
            .throttle(throttle)
            .build()
            .unwrap();
        let passwords = login::password::Passwords::new(Plain).unwrap();
        Router::new()
            .route("/login", axum::routing::post(grant_login))
            .with_state(ThrottleState { manager, passwords })
    };
    let on = router(login::throttle::Throttle::default());
    let off = router(login::throttle::Throttle::off());
    let login = |router: &Router, wrong: bool| {
        let router = router.clone();
        let rt = &rt;
        move || {
            let password = if wrong { "wrong" } else { PASSWORD };
            let body = format!(
                "username={}&password={password}",
                SUBJECT.replace('@', "%40")
            );
            rt.block_on(async {
                let mut request = post_form("/login", body);
                request.extensions_mut().insert(axum::extract::ConnectInfo(
                    std::net::SocketAddr::from(([198, 51, 100, 7], 40000)),
                ));
                let response = router.clone().oneshot(request).await.unwrap();
                assert_eq!(response.status().is_success(), !wrong);
                black_box(response.into_body().collect().await.unwrap().to_bytes());
            });
        }
    };
    pair(
        "login, throttle on / off (no password hash)",
        &mut login(&on, false),
        &mut login(&off, false),
    );
    PASSWORD_HASH.get_or_init(|| {
        login::password::Passwords::default()
            .hash_blocking(PASSWORD)
            .unwrap()
    });
    let argon2 = login::password::Passwords::default();
    let mut verify = || {
        black_box(argon2.verify_blocking(PASSWORD, PASSWORD_HASH.get().map(String::as_str)))
            .unwrap();
    };
    pair(
        "login with the throttle (no hash) / one Argon2id verification",
        &mut login(&on, false),
        &mut verify,
    );
}

fn main() {
    // `cargo bench` passes `--bench`. `RATIOS=sessions` runs only the sessions section,
    // `RATIOS=routes` only the routes through a `Router`,
    // `RATIOS=hs256` only the in-process HS256 lines (the first-seen target), `RATIOS=cache`
    // only the token cache's section, `RATIOS=events` only the auth events hook's line.
    match std::env::var("RATIOS").as_deref() {
        Ok("sessions") => sessions(),
        Ok("routes") => routes(),
        Ok("hs256") => verify(true),
        Ok("cache") => cache(),
        Ok("events") => events(),
        Ok("throttle") => throttle(),
        _ => {
            routes();
            verify(false);
            cache();
            sessions();
            events();
            throttle();
        }
    }
}
