//! Fixtures shared by the benches: the keys of `login/tests/keys/`, an in-memory user store,
//! the app state, a `#[user_loader]`, and a hand-written jsonwebtoken extractor.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use login::{LoginManager, TokenRequest, keys::SigningKey, user_loader};
use serde::{Deserialize, Serialize};

pub const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";
pub const SUBJECT: &str = "johndoe@mail.com";
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The private and public PEM of each algorithm's test key.
fn pems(alg: Algorithm) -> (&'static str, &'static str) {
    match alg {
        Algorithm::RS256 => (
            include_str!("../../tests/keys/rsa2048.pem"),
            include_str!("../../tests/keys/rsa2048.pub.pem"),
        ),
        Algorithm::ES256 => (
            include_str!("../../tests/keys/p256.pem"),
            include_str!("../../tests/keys/p256.pub.pem"),
        ),
        Algorithm::EdDSA => (
            include_str!("../../tests/keys/ed25519.pem"),
            include_str!("../../tests/keys/ed25519.pub.pem"),
        ),
        _ => unreachable!("HS256 has no PEM"),
    }
}

/// The library's signing key for `alg`.
pub fn signing_key(alg: Algorithm) -> SigningKey {
    match alg {
        Algorithm::HS256 => SigningKey::hmac(alg, SECRET).unwrap(),
        _ => SigningKey::from_pem(alg, pems(alg).0).unwrap(),
    }
}

/// A manager for `alg` with a token cache of `cache` entries of about 1 KiB each (0: off).
pub fn manager(alg: Algorithm, cache: usize) -> LoginManager {
    LoginManager::builder("/login")
        .signing_key(signing_key(alg))
        .token_cache_bytes(cache * 1024)
        .build()
        .unwrap()
}

/// What the simple example's `/login` issues: the subject and two scopes.
pub fn mint(manager: &LoginManager) -> String {
    manager
        .create_access_token(TokenRequest::new(SUBJECT).scopes(["read", "write"]))
        .unwrap()
}

/// jsonwebtoken's keys for `alg`, built once, as a hand-written extractor keeps them.
pub struct RawKeys {
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub validation: Validation,
    pub header: jsonwebtoken::Header,
}

pub fn raw_keys(alg: Algorithm) -> RawKeys {
    let (encoding, decoding) = match alg {
        Algorithm::HS256 => (
            EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
            DecodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        ),
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_rsa_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_ec_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        Algorithm::EdDSA => (
            EncodingKey::from_ed_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_ed_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        _ => unreachable!(),
    };
    RawKeys {
        encoding,
        decoding,
        validation: Validation::new(alg),
        header: jsonwebtoken::Header::new(alg),
    }
}

/// The claims a hand-written extractor typically declares (axum's `jwt` example: the subject
/// and the expiry; jsonwebtoken skips the others).
#[derive(Debug, Serialize, Deserialize)]
pub struct RawClaims {
    pub sub: String,
    pub exp: u64,
}

/// The same claims as the library's tokens, for `jsonwebtoken::encode`.
#[derive(Serialize)]
pub struct FullClaims<'a> {
    pub sub: &'a str,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub scopes: [&'a str; 2],
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[derive(Clone, Serialize)]
pub struct User {
    pub email: String,
    pub name: String,
}

#[derive(Clone)]
pub struct Db {
    users: Arc<HashMap<String, User>>,
}

impl Db {
    pub fn demo() -> Self {
        let users = [
            ("johndoe@mail.com", "John Doe"),
            ("janedoe@mail.com", "Jane Doe"),
        ]
        .into_iter()
        .map(|(email, name)| {
            let user = User {
                email: email.into(),
                name: name.into(),
            };
            (email.to_owned(), user)
        })
        .collect();
        Db {
            users: Arc::new(users),
        }
    }

    pub async fn find(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }

    pub fn find_now(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub manager: LoginManager,
    pub db: Db,
    pub raw: Arc<RawKeys>,
}

impl AppState {
    pub fn new(manager: LoginManager, alg: Algorithm) -> Self {
        AppState {
            manager,
            db: Db::demo(),
            raw: Arc::new(raw_keys(alg)),
        }
    }
}

#[user_loader]
pub async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.find(&email).await
}

/// What a Rust user writes by hand with jsonwebtoken (after axum's `jwt` example): the bearer
/// token from the header, `decode` with keys built once, then the user from the store.
pub struct HandWritten(pub User);

impl FromRequestParts<AppState> for HandWritten {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, StatusCode> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &state.raw.decoding, &state.raw.validation)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
        let user = state
            .db
            .find(&data.claims.sub)
            .await
            .ok_or(StatusCode::UNAUTHORIZED)?;
        Ok(HandWritten(user))
    }
}

/// The request head of `GET /protected` with `Authorization: Bearer <token>`.
pub fn parts_with(token: &str) -> Parts {
    Request::builder()
        .uri("/protected")
        .header(header::AUTHORIZATION, bearer(token))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

pub fn bearer(token: &str) -> HeaderValue {
    HeaderValue::try_from(format!("Bearer {token}")).unwrap()
}

/// `GET path` with `Authorization: auth` through `Router::oneshot` on `rt`: asserts 200 and
/// collects the body.
pub fn get_ok(rt: &tokio::runtime::Runtime, router: &axum::Router, path: &str, auth: &HeaderValue) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = Request::get(path)
        .header(header::AUTHORIZATION, auth.clone())
        .body(axum::body::Body::empty())
        .unwrap();
    rt.block_on(async {
        let response = router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        std::hint::black_box(response.into_body().collect().await.unwrap().to_bytes());
    });
}

/// Polls a future that never waits (the benches' loaders are in memory) to completion.
pub fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

/// Criterion's measurement: the bench thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), in ns.
/// The benches are single-threaded and CPU-bound, so on a quiet machine it equals the wall
/// time; on a shared one it leaves out the time slices other processes take, which would
/// otherwise land on whichever variant happened to be running. (Hardware counters would be
/// steadier still, but virtual machines often have none.)
pub struct ThreadCpuTime;

pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl criterion::measurement::Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns() - start
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn criterion::measurement::ValueFormatter {
        &NanosFormatter
    }
}

struct NanosFormatter;

impl criterion::measurement::ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e-3, "µs")
        } else if typical < 1e9 {
            (1e-6, "ms")
        } else {
            (1e-9, "s")
        };
        values.iter_mut().for_each(|v| *v *= factor);
        unit
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &criterion::Throughput,
        values: &mut [f64],
    ) -> &'static str {
        values.iter_mut().for_each(|v| *v = 1e9 / *v);
        "/s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

/// The benches' criterion configuration: thread CPU time, 1 s of warm-up, 3 s per variant.
pub fn config() -> criterion::Criterion<ThreadCpuTime> {
    criterion::Criterion::default()
        .with_measurement(ThreadCpuTime)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
}

/// How long one timed block of [`paired`] lasts, in thread CPU time.
pub const BLOCK_NS: u64 = 1_000_000;

/// The median of `v` (sorts it).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// Thread CPU time per call of `f`, over `iters` calls.
pub fn time_block(f: &mut dyn FnMut(), iters: u64) -> f64 {
    let start = thread_cpu_ns();
    for _ in 0..iters {
        f();
    }
    (thread_cpu_ns() - start) as f64 / iters as f64
}

/// Runs `a` and `b` alternately for `rounds` rounds of about [`BLOCK_NS`] each (after a warm-up
/// that sizes the blocks); returns the median time per call of each, in ns, and the median of
/// the per-round ratios a / b: a paired ratio, robust to the machine's load changing between
/// rounds.
pub fn paired(rounds: usize, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> (f64, f64, f64) {
    let ta = time_block(a, 20).max(time_block(a, 20));
    let tb = time_block(b, 20).max(time_block(b, 20));
    let iters_a = (BLOCK_NS as f64 / ta).clamp(1.0, 1e6) as u64;
    let iters_b = (BLOCK_NS as f64 / tb).clamp(1.0, 1e6) as u64;
    let (mut xs, mut ys, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time_block(a, iters_a);
            (x, time_block(b, iters_b))
        } else {
            let y = time_block(b, iters_b);
            (time_block(a, iters_a), y)
        };
        xs.push(x);
        ys.push(y);
        ratios.push(x / y);
    }
    (median(&mut xs), median(&mut ys), median(&mut ratios))
}

/// Puts `revocations` entries in the manager's revocation view — ended sessions, revoked
/// tokens and logged-out subjects, none of them the benchmark's own token — so that the
/// per-request lookups really run.
pub async fn revoke_others(manager: &LoginManager, revocations: usize) {
    for i in 0..revocations {
        match i % 3 {
            0 => {
                let tokens = manager.start_session(format!("other{i}"), None).await;
                manager
                    .end_session(&tokens.unwrap().session_id)
                    .await
                    .unwrap();
            }
            1 => {
                let exp = manager.now() + 600;
                let jti = format!("jti-{i}");
                manager.revoke_access_token(&jti, exp).await.unwrap();
            }
            _ => {
                manager.end_all_sessions(&format!("gone{i}")).await.unwrap();
            }
        }
    }
}
