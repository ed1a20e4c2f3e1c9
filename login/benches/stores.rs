//! The cost of a login and of a refresh on each store, in one run, for BENCHMARKS.md:
//! `MemoryStore` (the baseline), `RedisStore` on a `redis-server` and `PostgresStore` on a
//! PostgreSQL cluster, both started for the run on loopback:
//!
//! ```text
//! cargo bench -p login --features redis,postgres --bench stores
//! ```
//!
//! Operations per second through the manager (`start_session`, `refresh`), wall clock, 1 and
//! 16 concurrent clients, the three stores interleaved in 3 rounds of 2 s each; printed as
//! rates and as ratios against the memory store measured in the same round.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use login::LoginManager;
use login::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use login_test_support::postgres::PostgresServer;
use login_test_support::redis::RedisServer;

use common::median;

fn manager_on(store: Arc<dyn SessionStore>) -> LoginManager {
    LoginManager::builder("/login")
        .secret("stores-bench-secret-0123456789abcdef-0123456789")
        .session_store(store)
        .build()
        .unwrap()
}

#[derive(Clone, Copy)]
enum Op {
    Login,
    Refresh,
}

/// Operations per second over `duration`, `clients` loops in parallel on `rt`.
fn rate(
    rt: &tokio::runtime::Runtime,
    manager: &LoginManager,
    op: Op,
    clients: usize,
    duration: Duration,
) -> f64 {
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|n| {
                let manager = manager.clone();
                tokio::spawn(async move {
                    // Each client its own subject: the per-subject cap never ends a session.
                    let subject = format!("user{n}");
                    let mut token = manager
                        .start_session(subject.as_str(), None)
                        .await
                        .unwrap()
                        .refresh_token;
                    let mut done = 0u64;
                    while start.elapsed() < duration {
                        match op {
                            Op::Login => {
                                manager.start_session(subject.as_str(), None).await.unwrap();
                            }
                            Op::Refresh => {
                                token = manager.refresh(&token, None).await.unwrap().refresh_token;
                            }
                        }
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

fn main() {
    let (Some(redis), Some(postgres)) = (RedisServer::start(), PostgresServer::start()) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = postgres.database();
    let stores: [(&str, LoginManager); 3] = [
        ("memory", manager_on(MemoryStore::shared())),
        (
            "Redis",
            manager_on(rt.block_on(RedisStore::connect(redis.url())).unwrap()),
        ),
        (
            "PostgreSQL",
            manager_on(rt.block_on(PostgresStore::connect(url)).unwrap()),
        ),
    ];
    println!("operations per second (wall clock, 3 interleaved rounds of 2 s; ratio to memory)");
    for (op, name) in [(Op::Login, "login"), (Op::Refresh, "refresh")] {
        for clients in [1, 16] {
            let mut rates: [Vec<f64>; 3] = Default::default();
            let mut ratios: [Vec<f64>; 2] = Default::default();
            for _ in 0..3 {
                let round: Vec<f64> = stores
                    .iter()
                    .map(|(_, m)| rate(&rt, m, op, clients, Duration::from_secs(2)))
                    .collect();
                for (i, r) in round.iter().enumerate() {
                    rates[i].push(*r);
                }
                ratios[0].push(round[1] / round[0]);
                ratios[1].push(round[2] / round[0]);
            }
            println!(
                "  {name:<7} {clients:>2} client(s): memory {:>8.0}/s, Redis {:>7.0}/s ({:.4}x), PostgreSQL {:>7.0}/s ({:.4}x)",
                median(&mut rates[0]),
                median(&mut rates[1]),
                median(&mut ratios[0]),
                median(&mut rates[2]),
                median(&mut ratios[1]),
            );
        }
    }
}
