//! The issue's targets as paired ratios, for a shared or noisy machine.
//!
//! ```text
//! cargo bench -p login --bench ratios
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

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::{Extensions, HeaderValue, Request, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt;
use jsonwebtoken::Algorithm;
use login::{AuthUser, protected};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::*;

const ROUNDS: usize = 301;
const BLOCK_NS: u64 = 1_000_000;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time_block(f: &mut dyn FnMut(), iters: u64) -> f64 {
    let start = thread_cpu_ns();
    for _ in 0..iters {
        f();
    }
    (thread_cpu_ns() - start) as f64 / iters as f64
}

/// Runs `a` and `b` alternately; prints `name`, both medians and the median ratio a / b.
fn pair(name: &str, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> f64 {
    // Warm up, and size the blocks to about BLOCK_NS each.
    let ta = time_block(a, 20).max(time_block(a, 20));
    let tb = time_block(b, 20).max(time_block(b, 20));
    let iters_a = (BLOCK_NS as f64 / ta).clamp(1.0, 1e6) as u64;
    let iters_b = (BLOCK_NS as f64 / tb).clamp(1.0, 1e6) as u64;
    let (mut xs, mut ys, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
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
    let (x, y, r) = (median(&mut xs), median(&mut ys), median(&mut ratios));
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

fn verify() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "in process (per request)", "a", "b", "a / b"
    );
    let mut repeated_hs256 = None;
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        let minter = manager(alg, 0);
        let pool: Vec<String> = (0..POOL).map(|_| mint(&minter)).collect();
        let headers: Vec<HeaderValue> = pool.iter().map(|t| bearer(t)).collect();
        let raw = raw_keys(alg);
        let db = Db::demo();
        let first_seen = AppState::new(manager(alg, 16), alg);
        let no_cache = AppState::new(manager(alg, 0), alg);
        let repeated = AppState::new(manager(alg, login::DEFAULT_TOKEN_CACHE_CAPACITY), alg);
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

#[protected]
async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

async fn unprotected_route(State(db): State<Db>) -> Json<Value> {
    let user = db.find(SUBJECT).await;
    Json(json!({ "user": user }))
}

async fn hand_written_route(HandWritten(user): HandWritten) -> Json<Value> {
    Json(json!({ "user": user }))
}

fn app(alg: Algorithm, cache: usize) -> (Router, HeaderValue) {
    let manager = manager(alg, cache);
    let token = mint(&manager);
    let router = Router::new()
        .route("/unprotected", get(unprotected_route))
        .route("/hand-written", get(hand_written_route))
        .route("/protected", get(protected_route))
        .with_state(AppState::new(manager, alg));
    (router, bearer(&token))
}

fn route<'a>(
    rt: &'a tokio::runtime::Runtime,
    app: &'a (Router, HeaderValue),
    path: &'static str,
) -> impl FnMut() + 'a {
    move || {
        let request = Request::get(path)
            .header(header::AUTHORIZATION, app.1.clone())
            .body(Body::empty())
            .unwrap();
        rt.block_on(async {
            let response = app.0.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            black_box(response.into_body().collect().await.unwrap().to_bytes());
        });
    }
}

fn routes() {
    println!(
        "\n{:<62} {:>10} {:>10} {:>7}",
        "Router::oneshot, repeated token", "a", "b", "a / b"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let hs = app(Algorithm::HS256, login::DEFAULT_TOKEN_CACHE_CAPACITY);
    let hs_off = app(Algorithm::HS256, 0);
    pair(
        "protected HS256 / unprotected",
        &mut route(&rt, &hs, "/protected"),
        &mut route(&rt, &hs, "/unprotected"),
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
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let other = app(alg, login::DEFAULT_TOKEN_CACHE_CAPACITY);
        pair(
            &format!("protected {} / protected HS256", alg_name(alg)),
            &mut route(&rt, &other, "/protected"),
            &mut route(&rt, &hs, "/protected"),
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter is not supported (the run takes ~1 min).
    routes();
    verify();
}
