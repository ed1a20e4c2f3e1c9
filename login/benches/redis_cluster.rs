//! `RedisStore` on a local Redis Cluster (six `redis-server` processes, three primaries and
//! three replicas, loopback, no persistence) against the same store on one `redis-server`, in
//! one run, for BENCHMARKS.md:
//!
//! ```text
//! cargo bench -p login --features redis-cluster --bench redis_cluster
//! ```
//!
//! 1. each store operation (login, refresh, list, revoke a token, end a session, log out
//!    everywhere) sequentially, wall clock per call, cluster / one Redis, in interleaved rounds
//!    (the ratio is the median of the rounds');
//! 2. the revocation propagation delay between two stores (two instances in one process): from
//!    `end_session` returning on A to B refusing, on each.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use login::LoginManager;
use login::session::RedisStore;
use login_test_support::redis::RedisServer;
use login_test_support::redis_cluster::RedisCluster;

use common::median;

const ROUNDS: usize = 7;
const CALLS: usize = 300;

/// One operation's samples over the rounds: nanoseconds per call on one Redis and on the
/// cluster, and their ratio per round.
#[derive(Default)]
struct Row {
    name: &'static str,
    single: Vec<f64>,
    cluster: Vec<f64>,
    ratio: Vec<f64>,
}

fn manager_on(store: Arc<RedisStore>) -> LoginManager {
    LoginManager::builder("/login")
        .secret(login_test_support::SECRET)
        .session_store(store)
        .build()
        .unwrap()
}

/// Nanoseconds per call of each operation, on `m`, `CALLS` calls each (subjects `prefix`…).
async fn per_operation(m: &LoginManager, prefix: &str) -> Vec<(&'static str, f64)> {
    let per = |start: Instant| start.elapsed().as_nanos() as f64 / CALLS as f64;
    let subject = |i: usize| format!("{prefix}user{i}@example.com");
    let start = Instant::now();
    let mut tokens = Vec::with_capacity(CALLS);
    for i in 0..CALLS {
        tokens.push(m.start_session(subject(i), None).await.unwrap());
    }
    let login = per(start);
    let start = Instant::now();
    let mut refreshed = Vec::with_capacity(CALLS);
    for t in &tokens {
        refreshed.push(m.refresh(&t.refresh_token, None).await.unwrap());
    }
    let refresh = per(start);
    let start = Instant::now();
    for i in 0..CALLS {
        assert_eq!(m.list_sessions(&subject(i)).await.unwrap().len(), 1);
    }
    let list = per(start);
    let start = Instant::now();
    for t in &refreshed {
        let claims = m.verify_token(&t.access_token).unwrap();
        m.revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp)
            .await
            .unwrap();
    }
    let revoke = per(start);
    let start = Instant::now();
    for t in &refreshed {
        assert!(m.end_session(&t.session_id).await.unwrap());
    }
    let end = per(start);
    for i in 0..CALLS {
        m.start_session(subject(i), None).await.unwrap();
    }
    let start = Instant::now();
    for i in 0..CALLS {
        assert_eq!(m.end_all_sessions(&subject(i)).await.unwrap(), 1);
    }
    let end_all = per(start);
    vec![
        ("login (start_session)", login),
        ("refresh (rotation)", refresh),
        ("list_sessions", list),
        ("revoke_access_token", revoke),
        ("end_session", end),
        ("end_all_sessions (1 session)", end_all),
    ]
}

/// End-session-to-refused delays between two instances, 300 rounds, sorted.
async fn propagation(a: &LoginManager, b: &LoginManager) -> Vec<Duration> {
    let mut delays = Vec::new();
    for i in 0..300 {
        let tokens = a.start_session(format!("prop{i}"), None).await.unwrap();
        assert!(b.verify_token(&tokens.access_token).is_ok());
        a.end_session(&tokens.session_id).await.unwrap();
        let ended = Instant::now();
        while b.verify_token(&tokens.access_token).is_ok() {
            assert!(ended.elapsed() < Duration::from_secs(5), "never propagated");
            tokio::task::yield_now().await;
        }
        delays.push(ended.elapsed());
    }
    delays.sort();
    delays
}

fn main() {
    let (Some(server), Some(cluster)) = (RedisServer::start(), RedisCluster::start()) else {
        return;
    };
    println!(
        "redis-server {} (loopback, no persistence): one server, and a cluster of 3 primaries + 3 replicas",
        server.info("server", "redis_version").unwrap_or_default()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let one = |prefix: &'static str| {
            let url = server.url();
            async move { RedisStore::builder(url).prefix(prefix).connect().await.unwrap() }
        };
        let on_cluster = |prefix: &'static str| {
            let urls = cluster.urls();
            async move { RedisStore::cluster(urls).prefix(prefix).connect().await.unwrap() }
        };
        let single = manager_on(one("b:").await);
        let clustered = manager_on(on_cluster("b:").await);
        let mut rows: Vec<Row> = Vec::new();
        for round in 0..ROUNDS {
            let prefix = format!("r{round}-");
            let s = per_operation(&single, &prefix).await;
            let c = per_operation(&clustered, &prefix).await;
            for (i, ((name, s), (_, c))) in s.into_iter().zip(c).enumerate() {
                if rows.len() <= i {
                    rows.push(Row { name, ..Row::default() });
                }
                rows[i].single.push(s);
                rows[i].cluster.push(c);
                rows[i].ratio.push(c / s);
            }
        }
        println!(
            "\nper operation, sequential, wall clock, median of {ROUNDS} interleaved rounds of {CALLS} calls:"
        );
        println!("{:<32} {:>12} {:>12} {:>16}", "operation", "one Redis", "cluster", "cluster / one");
        for mut row in rows {
            println!(
                "{:<32} {:>9.0} µs {:>9.0} µs {:>15.2}x",
                row.name,
                median(&mut row.single) / 1000.0,
                median(&mut row.cluster) / 1000.0,
                median(&mut row.ratio)
            );
        }
        for (name, a, b) in [
            ("one Redis (pub/sub)", manager_on(one("p:").await), manager_on(one("p:").await)),
            (
                "cluster (sharded pub/sub)",
                manager_on(on_cluster("p:").await),
                manager_on(on_cluster("p:").await),
            ),
        ] {
            let d = propagation(&a, &b).await;
            println!(
                "revocation propagation A -> B, {name}, 300 rounds: p50 {:?}, p99 {:?}, max {:?}",
                d[150], d[297], d[299]
            );
        }
    });
}
