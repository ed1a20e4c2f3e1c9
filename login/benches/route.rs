//! The whole route through a `Router` with `oneshot`: `#[protected]` against the same route
//! unprotected and against a hand-written jsonwebtoken extractor.
//!
//! ```text
//! cargo bench -p login --bench route
//! ```
//!
//! Every route answers `{"user": {...}}` for the same user; every request carries the same
//! `Authorization` header (the unprotected route ignores it). The client repeats its token, as
//! real clients do; `protected, no cache` is the `#[protected]` route with `token_cache(0)`.
//! The response body is collected, on a current-thread tokio runtime.

mod common;

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use jsonwebtoken::Algorithm;
use tower::ServiceExt;

use common::*;

fn app(alg: Algorithm, cache: usize) -> (Router, String) {
    let manager = manager(alg, cache);
    let token = mint(&manager);
    let router = Router::new()
        .route("/unprotected", get(unprotected_route))
        .route("/hand-written", get(hand_written_route))
        .route("/protected", get(protected_route))
        .with_state(AppState::new(manager, alg));
    (router, token)
}

fn routes(c: &mut Criterion<ThreadCpuTime>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("route");
    let cached = app(Algorithm::HS256, DEFAULT_CACHE_ENTRIES);
    let uncached = app(Algorithm::HS256, 0);
    let rows = [
        ("unprotected", "/unprotected", &cached),
        ("hand-written HS256", "/hand-written", &cached),
        ("protected HS256", "/protected", &cached),
        ("protected HS256, no cache", "/protected", &uncached),
    ];
    let asymmetric: Vec<_> = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
        .into_iter()
        .map(|alg| {
            (
                format!("protected {alg:?}"),
                app(alg, DEFAULT_CACHE_ENTRIES),
            )
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|(n, p, a)| (n.to_owned(), p, a))
        .chain(asymmetric.iter().map(|(n, a)| (n.clone(), "/protected", a)));
    for (name, path, (router, token)) in rows {
        let auth = bearer(token);
        let body = rt.block_on(send(router, path, &auth));
        assert!(body.contains("johndoe@mail.com"), "{name}: {body}");
        group.bench_function(name, |b| {
            b.iter(|| black_box(rt.block_on(send(router, path, &auth))))
        });
    }
    group.finish();
}

async fn send(router: &Router, path: &str, auth: &axum::http::HeaderValue) -> String {
    let request = Request::get(path)
        .header(header::AUTHORIZATION, auth.clone())
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

criterion_group! {
    name = benches;
    config = config();
    targets = routes
}
criterion_main!(benches);
