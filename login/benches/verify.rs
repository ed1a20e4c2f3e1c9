//! Per request: verifying a token and loading the user through the library's extractor,
//! against a raw `jsonwebtoken::decode` of the same token with the same key; and minting.
//!
//! ```text
//! cargo bench -p login --bench verify
//! ```
//!
//! Variants, per algorithm (HS256, RS256, ES256, EdDSA):
//!
//! - `raw decode`: `jsonwebtoken::decode::<{sub, exp}>` with a prebuilt key and `Validation`;
//! - `raw decode + user`: the same and the user looked up in the in-memory store (the work a
//!   hand-written extractor does);
//! - `extractor, first seen`: `AuthUser<User>` from the request head, each token new to the
//!   token cache (a cycle of 2048 distinct tokens through a 16-entry cache: a lookup misses,
//!   the token is inserted and evicts another, as in a full cache; a scan-resistant cache
//!   keeps part of a loop, so at most 16 in 2048 lookups can hit);
//! - `extractor, no cache`: the same with `token_cache(0)`;
//! - `extractor, repeated token`: one token, as a client sends it (a cache hit).
//!
//! Every variant starts from a fresh request (empty extensions), as a server does.

mod common;

use std::cell::{Cell, OnceCell};
use std::hint::black_box;

use axum::extract::FromRequestParts;
use axum::http::{Extensions, HeaderValue, header};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use login::AuthUser;

use common::*;

const POOL: usize = 2048;
/// The cache of the `first seen` variant: so much smaller than the pool that a token is long
/// evicted when it comes back (S3-FIFO keeps at most this many of a loop: hits <= 16/2048).
const POOL_CACHE: usize = 16;

fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        _ => unreachable!(),
    }
}

fn verify(c: &mut Criterion<ThreadCpuTime>) {
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        let mut group = c.benchmark_group(format!("verify/{name}"));
        if alg != Algorithm::HS256 {
            group.sample_size(30);
        }

        // Minted on first use, so that a filtered run (`-- verify/HS256`) signs nothing else.
        let tokens = OnceCell::new();
        let pool = || -> &Vec<String> {
            tokens.get_or_init(|| {
                let minter = manager(alg, 0);
                (0..POOL).map(|_| mint(&minter)).collect()
            })
        };
        let raw = raw_keys(alg);
        let db = Db::demo();

        group.bench_function("raw decode", |b| {
            let pool = pool();
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % POOL;
                let data = jsonwebtoken::decode::<RawClaims>(
                    black_box(&pool[i]),
                    &raw.decoding,
                    &raw.validation,
                )
                .unwrap();
                black_box(data.claims)
            })
        });

        group.bench_function("raw decode + user", |b| {
            let pool = pool();
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % POOL;
                let data = jsonwebtoken::decode::<RawClaims>(
                    black_box(&pool[i]),
                    &raw.decoding,
                    &raw.validation,
                )
                .unwrap();
                black_box(db.find_now(&data.claims.sub).unwrap())
            })
        });

        let variants = [
            ("extractor, first seen", POOL_CACHE, true),
            ("extractor, no cache", 0, true),
            ("extractor, repeated token", DEFAULT_CACHE_ENTRIES, false),
        ];
        for (label, cache, cycle) in variants {
            let state = AppState::new(manager(alg, cache), alg);
            let headers = OnceCell::new();
            let next = Cell::new(0);
            group.bench_function(label, |b| {
                let headers: &Vec<HeaderValue> =
                    headers.get_or_init(|| pool().iter().map(|t| bearer(t)).collect());
                let mut parts = parts_with(&pool()[0]);
                b.iter(|| {
                    if cycle {
                        // Carried across criterion's calls: a token comes back only after
                        // POOL - 1 others, long after the cache evicted it.
                        let i = (next.get() + 1) % POOL;
                        next.set(i);
                        parts
                            .headers
                            .insert(header::AUTHORIZATION, headers[i].clone());
                    }
                    parts.extensions = Extensions::new();
                    let user = ready(AuthUser::<User>::from_request_parts(&mut parts, &state));
                    black_box(user.ok().unwrap())
                })
            });
        }
        group.finish();
    }
}

fn create(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("create_token");
    group.sample_size(20);
    for alg in ALGORITHMS {
        let name = alg_name(alg);
        let manager = manager(alg, 0);
        group.bench_function(BenchmarkId::new("library", name), |b| {
            b.iter(|| black_box(mint(&manager)))
        });
        let raw = raw_keys(alg);
        group.bench_function(BenchmarkId::new("raw encode", name), |b| {
            b.iter(|| {
                let now = now();
                let jti: [u8; 16] = rand::random();
                let claims = FullClaims {
                    sub: SUBJECT,
                    exp: now + 900,
                    iat: now,
                    jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
                    scopes: ["read", "write"],
                };
                black_box(jsonwebtoken::encode(&raw.header, &claims, &raw.encoding).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify, create
}
criterion_main!(benches);
