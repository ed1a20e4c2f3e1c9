//! `RedisStore` against the `MemoryStore`, in one run, on a `redis-server` started for the run
//! (loopback, no persistence), for BENCHMARKS.md:
//!
//! ```text
//! cargo bench -p login --features redis --bench redis
//! ```
//!
//! 1. the repeated-token `#[protected]` route, sessions in Redis / in memory (0 and 1000
//!    revocations in the view), paired blocks in thread CPU time as in `ratios`;
//! 2. `INFO commandstats` before and after 100,000 protected requests: which commands reached
//!    Redis (the stream's `PING` heartbeat aside);
//! 3. refreshes per second, sequential (one client) and 16 concurrent, Redis / memory,
//!    interleaved, wall clock;
//! 4. the revocation propagation delay between two stores (two instances in one process: two
//!    connections and two streams): from `end_session` returning on A to B refusing;
//! 5. Redis memory per live session and per revocation (`used_memory`, 10,000 of each).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::routing::get;
use http_body_util::BodyExt;
use jsonwebtoken::Algorithm;
use login::session::RedisStore;
use login::{LoginManager, TokenRequest, session::SessionStore};
use login_test_support::redis::RedisServer;
use serde_json::Value;
use tower::ServiceExt;

use common::*;

const ROUNDS: usize = 201;

/// `ratios`'s pairing: `a` and `b` alternately in ~1 ms blocks of thread CPU time.
fn pair(name: &str, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> f64 {
    let (x, y, r) = paired(ROUNDS, a, b);
    println!("{name:<64} {x:>9.0} ns {y:>9.0} ns {r:>6.3}x");
    r
}

fn manager_on(store: Arc<dyn SessionStore>) -> LoginManager {
    LoginManager::builder("/login")
        .signing_key(signing_key(Algorithm::HS256))
        .session_store(store)
        .build()
        .unwrap()
}

fn router(manager: LoginManager) -> Router {
    Router::new()
        .route("/protected", get(protected_route))
        .route(
            "/refresh",
            axum::routing::post(login::refresh::refresh_route),
        )
        .with_state(AppState::new(manager, Algorithm::HS256))
}

fn get_protected(rt: &tokio::runtime::Runtime, app: &Router, auth: &HeaderValue) {
    get_ok(rt, app, "/protected", auth);
}

/// One refresh through the route; returns the next refresh token.
async fn refresh_once(app: &Router, token: String) -> String {
    let request = Request::post("/refresh")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "grant_type=refresh_token&refresh_token={token}"
        )))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap();
    json["refresh_token"].as_str().unwrap().to_owned()
}

/// Refreshes per second over `duration`, `clients` chains in parallel on `rt`.
fn refresh_rate(
    rt: &tokio::runtime::Runtime,
    manager: &LoginManager,
    clients: usize,
    duration: Duration,
) -> f64 {
    let app = router(manager.clone());
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|_| {
                let (app, manager) = (app.clone(), manager.clone());
                tokio::spawn(async move {
                    let mut token = manager
                        .start_session(SUBJECT, None)
                        .await
                        .unwrap()
                        .refresh_token;
                    let mut done = 0u64;
                    while start.elapsed() < duration {
                        token = refresh_once(&app, token).await;
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let mut total = 0;
        for task in tasks {
            total += task.await.unwrap();
        }
        total as f64 / start.elapsed().as_secs_f64()
    })
}

fn used_memory(server: &RedisServer) -> i64 {
    server
        .info("memory", "used_memory")
        .unwrap()
        .parse()
        .unwrap()
}

fn main() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    println!(
        "redis-server {} (loopback, no persistence)",
        server.info("server", "redis_version").unwrap_or_default()
    );
    // The stores' streams run on their own worker thread; the routes on this thread.
    let io = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let connect = |prefix: &str| {
        io.block_on(RedisStore::builder(server.url()).prefix(prefix).connect())
            .unwrap()
    };

    // 1. The repeated-token route.
    println!(
        "\n{:<64} {:>12} {:>12} {:>7}",
        "protected HS256, Router::oneshot, repeated token", "a", "b", "a / b"
    );
    for revocations in [0, 1000] {
        let redis = manager_on(connect(&format!("route{revocations}:")));
        let memory = manager_on(login::session::MemoryStore::shared());
        let mut apps = Vec::new();
        for manager in [&redis, &memory] {
            io.block_on(common::revoke_others(manager, revocations));
            let request = TokenRequest::new(SUBJECT).scopes(["read", "write"]);
            let tokens = io.block_on(manager.start_session(request, None)).unwrap();
            apps.push((router(manager.clone()), bearer(&tokens.access_token)));
        }
        assert!(redis.revocations_in_view() >= revocations);
        let (r, m) = (&apps[0], &apps[1]);
        let ratio = pair(
            &format!("sessions in Redis / in memory ({revocations} revocations)"),
            &mut || get_protected(&rt, &r.0, &r.1),
            &mut || get_protected(&rt, &m.0, &m.1),
        );
        println!(
            "{:<64} {:>33.3}x",
            "  as throughput (Redis / memory)",
            1.0 / ratio
        );

        // 2. What reached Redis meanwhile.
        if revocations == 1000 {
            let before = server.commandstats();
            for _ in 0..100_000 {
                get_protected(&rt, &r.0, &r.1);
            }
            let after = server.commandstats();
            let changed: Vec<String> = after
                .iter()
                .filter(|c| !before.contains(c))
                .map(|(name, calls)| {
                    let was = before.iter().find(|(n, _)| n == name).map_or(0, |c| c.1);
                    format!("{name} +{}", calls - was)
                })
                .collect();
            println!("\nINFO commandstats across 100,000 protected requests: {changed:?}");
        }
    }

    // 3. Refreshes per second.
    println!("\nrefreshes per second (wall clock, 3 interleaved rounds of 2 s; Redis / memory)");
    let redis = manager_on(connect("refresh:"));
    let memory = manager_on(login::session::MemoryStore::shared());
    let workers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for clients in [1, 16] {
        let (mut rs, mut ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..3 {
            let r = refresh_rate(&workers, &redis, clients, Duration::from_secs(2));
            let m = refresh_rate(&workers, &memory, clients, Duration::from_secs(2));
            rs.push(r);
            ms.push(m);
            ratios.push(r / m);
        }
        println!(
            "  {clients:>2} client(s): Redis {:>8.0}/s, memory {:>8.0}/s, ratio {:.3}x (rounds: {:.3?})",
            median(&mut rs),
            median(&mut ms),
            median(&mut ratios.clone()),
            ratios
        );
    }

    // 4. Propagation between two instances.
    let a = manager_on(connect("prop:"));
    let b = manager_on(connect("prop:"));
    let mut delays = Vec::new();
    for _ in 0..500 {
        let tokens = io.block_on(a.start_session(SUBJECT, None)).unwrap();
        assert!(b.verify_token(&tokens.access_token).is_ok());
        io.block_on(a.end_session(&tokens.session_id)).unwrap();
        let ended = Instant::now();
        while b.verify_token(&tokens.access_token).is_ok() {
            assert!(ended.elapsed() < Duration::from_secs(5), "never propagated");
            std::hint::spin_loop();
        }
        delays.push(ended.elapsed());
    }
    delays.sort();
    println!(
        "\nrevocation propagation A -> B (end_session returned on A -> B refuses), 500 rounds: p50 {:?}, p99 {:?}, max {:?}",
        delays[250], delays[495], delays[499]
    );

    // 5. Memory.
    let m = manager_on(connect("mem:"));
    let base = used_memory(&server);
    let sessions: Vec<_> = (0..10_000)
        .map(|i| {
            io.block_on(m.start_session(format!("user{i}@example.com"), Some("Mozilla/5.0")))
                .unwrap()
        })
        .collect();
    let with_sessions = used_memory(&server);
    for s in &sessions {
        io.block_on(m.refresh(&s.refresh_token, Some("Mozilla/5.0")))
            .unwrap();
    }
    let refreshed = used_memory(&server);
    for s in &sessions {
        io.block_on(m.end_session(&s.session_id)).unwrap();
    }
    let ended = used_memory(&server);
    println!(
        "\nRedis used_memory per live session: {} B after login, {} B after one refresh (its rotated token and grace record kept); per ended session (a revocation in the sorted set): {} B",
        (with_sessions - base) / 10_000,
        (refreshed - base) / 10_000,
        (ended - base) / 10_000
    );
}
