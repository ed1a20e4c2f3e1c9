//! An identity provider's tokens (feature `oidc`) against the manager's own, as paired ratios
//! (see `ratios.rs` for the method), for BENCHMARKS.md:
//!
//! ```text
//! cargo bench -p login --features oidc --bench oidc
//! ```
//!
//! The provider is the tests' own (`login_test_support::oidc`, on loopback: discovery and the
//! key set are fetched once, before any timing); its tokens are RS256 and ES256 with the
//! claims a provider issues (`iss`, `aud`, `scope`, `typ: at+jwt`). Each line runs the
//! `Claims` extractor on a fresh request head:
//!
//! 1. a repeated provider token (the verified-token cache holds it; four different tokens in
//!    turn) against a repeated HS256 token of the manager's own: what a protected route costs
//!    once cached;
//! 2. a provider token seen for the first time (a pool of 2,048 cycled through a cache of 16
//!    entries) against `jsonwebtoken::decode` of the same tokens with the same checks
//!    (issuer, audience, the key's algorithm).

mod common;

use std::cell::Cell;
use std::hint::black_box;

use axum::extract::FromRequestParts;
use axum::http::{Extensions, HeaderValue, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use login::oidc::Provider;
use login::{Claims, LoginManager};
use login_test_support::oidc::{LocalProvider, TestKey, provider_claims};
use serde_json::json;

use common::*;

const ROUNDS: usize = 301;
const POOL: usize = 2048;
const AUDIENCE: &str = "bench-api";

fn pair(name: &str, a: &mut dyn FnMut(), b: &mut dyn FnMut()) {
    let (x, y, r) = paired(ROUNDS, a, b);
    println!(
        "{name:<66} {:>9.2} µs {:>9.2} µs {r:>6.2}x",
        x / 1e3,
        y / 1e3
    );
}

/// The `Claims` extractor on a fresh request head each time, cycling through `headers`.
fn extractor<'a>(manager: &'a LoginManager, headers: &'a [HeaderValue]) -> impl FnMut() + 'a {
    let next = Cell::new(0);
    let mut parts = parts_with("placeholder");
    move || {
        let i = (next.get() + 1) % headers.len();
        next.set(i);
        parts
            .headers
            .insert(header::AUTHORIZATION, headers[i].clone());
        parts.extensions = Extensions::new();
        let claims = ready(Claims::from_request_parts(&mut parts, manager));
        black_box(claims.ok().unwrap());
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let _entered = rt.enter();
    let rsa = TestKey::rsa("rsa-1");
    let ec = TestKey::p256("ec-1");
    let idp = rt.block_on(LocalProvider::start(vec![rsa.jwk(), ec.jwk()]));
    let issuer = idp.issuer();
    let provider_manager = |cache_bytes: usize| {
        let discovered = rt
            .block_on(Provider::new(&issuer).discover())
            .expect("discovery");
        LoginManager::builder("/login")
            .identity_provider(discovered)
            .audience(AUDIENCE)
            .token_cache_bytes(cache_bytes)
            .build()
            .unwrap()
    };
    let cached = provider_manager(4 * 1024 * 1024);
    let first_seen = provider_manager(16 * 1024);
    let own = manager(Algorithm::HS256, DEFAULT_CACHE_ENTRIES);
    let own_token = [bearer(&mint(&own))];

    println!(
        "\n{:<66} {:>12} {:>12} {:>7}",
        "in process (per request)", "a", "b", "a / b"
    );
    for (name, key, public_pem) in [
        (
            "RS256",
            &rsa,
            &include_bytes!("../tests/keys/rsa2048.pub.pem")[..],
        ),
        (
            "ES256",
            &ec,
            &include_bytes!("../tests/keys/p256.pub.pem")[..],
        ),
    ] {
        let pool: Vec<String> = (0..POOL)
            .map(|i| {
                key.sign(&provider_claims(
                    &issuer,
                    AUDIENCE,
                    &format!("user-{i}"),
                    json!({ "jti": format!("{name}-{i}") }),
                ))
            })
            .collect();
        let headers: Vec<HeaderValue> = pool.iter().map(|t| bearer(t)).collect();
        // Four different tokens, each repeated: an ECDSA signature in its high-S form (about
        // half of a provider's, as of ours) is put in its low-S form on each lookup.
        for t in 0..4 {
            pair(
                &format!("provider {name}: Claims, repeated token #{t} / own HS256 repeated"),
                &mut extractor(&cached, &headers[t..=t]),
                &mut extractor(&own, &own_token),
            );
        }
        let alg = if name == "RS256" {
            Algorithm::RS256
        } else {
            Algorithm::ES256
        };
        let decoding = match alg {
            Algorithm::RS256 => DecodingKey::from_rsa_pem(public_pem),
            _ => DecodingKey::from_ec_pem(public_pem),
        }
        .unwrap();
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&[AUDIENCE]);
        let mut i = 0;
        pair(
            &format!("provider {name}: Claims, first seen / jsonwebtoken decode"),
            &mut extractor(&first_seen, &headers),
            &mut || {
                i = (i + 1) % pool.len();
                let data =
                    jsonwebtoken::decode::<serde_json::Value>(&pool[i], &decoding, &validation)
                        .unwrap();
                black_box(data.claims);
            },
        );
    }
    drop(idp);
}
