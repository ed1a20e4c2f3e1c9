//! Fixtures shared by the benches: the app (`login_test_support::bench_app`, also the load
//! benchmark's server: the keys of `login/tests/keys/`, an in-memory user store, the app state,
//! a `#[user_loader]`, and the hand-written jsonwebtoken extractor every ratio divides by), and
//! the benches' own harness (tokens, requests, criterion's thread-CPU-time measurement, paired
//! ratios).
#![allow(dead_code)]

pub use login_test_support::bench_app::*;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::http::request::Parts;
use axum::http::{HeaderValue, Request, StatusCode, header};
use jsonwebtoken::Algorithm;
use login::{LoginManager, TokenRequest};
use serde::Serialize;

/// About how many typical tokens (~1 KiB each) the default 4 MiB token cache holds.
pub const DEFAULT_CACHE_ENTRIES: usize = 4096;

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
