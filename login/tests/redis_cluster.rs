//! `RedisStore` on a real local Redis Cluster (feature `redis-cluster`): six `redis-server`
//! processes, three primaries and three replicas, joined by `redis-cli --cluster create`
//! (`login_test_support::redis_cluster`). The tests that leave the cluster as they found it
//! share one (each with its own key prefix); the failover test kills a primary of its own
//! cluster.
//!
//! Two stores on one cluster are two instances' stores (the HTTP test with two `simple`
//! processes is in `examples/tests/redis_instances.rs`). No timed assertion: what must happen
//! "soon" is awaited in a loop bounded in count and time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use login::session::test_kit::{self, Instances};
use login::session::{Counter, RedisStore, RefreshError, SessionStore, ThrottleStore};
use login::{LoginManager, rejection::VerifyError};
use login_test_support::SECRET;
use login_test_support::redis_cluster::RedisCluster;

/// Short settings, so that faults show within a test: heartbeat 50 ms, stale after 500 ms,
/// commands give up after 1 s.
async fn store(cluster: &RedisCluster, prefix: &str) -> Arc<RedisStore> {
    RedisStore::cluster(cluster.urls())
        .prefix(prefix)
        .heartbeat(Duration::from_millis(50))
        .staleness_bound(Duration::from_millis(500))
        .command_timeout(Duration::from_secs(1))
        .connect()
        .await
        .expect("connect to the test's Redis Cluster")
}

fn manager(store: Arc<RedisStore>, cap: usize) -> LoginManager {
    LoginManager::builder("/login")
        .secret(SECRET)
        .session_store(store)
        .refresh_grace(Duration::from_secs(10))
        .refresh_lifetime(Duration::from_secs(3600))
        .max_sessions_per_subject(cap)
        .build()
        .unwrap()
}

/// Waits until `done` holds: at most 30 s, every 10 ms.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

/// A revoked token: refused as revoked (401), not stale (503).
fn refused(manager: &LoginManager, token: &str) -> bool {
    manager.verify_token(token) == Err(VerifyError::Revoked)
}

/// A key prefix of its own for each contract case, on the shared cluster.
fn kit_prefix() -> String {
    format!("kit{}:", rand::random::<u64>())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_on_a_cluster_passes_the_session_contract() {
    let Some(cluster) = RedisCluster::shared() else {
        return;
    };
    test_kit::check_session_store(|| async move {
        let prefix = kit_prefix();
        let a: Arc<dyn SessionStore> = store(cluster, &prefix).await;
        let b: Arc<dyn SessionStore> = store(cluster, &prefix).await;
        Instances::new(a, b)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_on_a_cluster_passes_the_throttle_contract() {
    let Some(cluster) = RedisCluster::shared() else {
        return;
    };
    test_kit::check_throttle_store(|| async move {
        let prefix = kit_prefix();
        let a: Arc<dyn ThrottleStore> = store(cluster, &prefix).await.throttle_store().unwrap();
        let b: Arc<dyn ThrottleStore> = store(cluster, &prefix).await.throttle_store().unwrap();
        (a, b)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_every_rule_on_a_cluster_and_revocations_reach_the_other_instance() {
    let Some(cluster) = RedisCluster::shared() else {
        return;
    };
    let a_store = store(cluster, "c1:").await;
    assert!(a_store.is_cluster());
    let a = manager(a_store, 3);
    let b = manager(store(cluster, "c1:").await, 3);
    // A subject whose name has braces and spaces: its keys still share one slot.
    for subject in ["alice@example.com", "}{ odd user"] {
        let t0 = a.start_session(subject, Some("curl/8")).await.unwrap();
        assert_eq!(b.verify_token(&t0.access_token).unwrap().sub, subject);
        // Rotation: within the grace window the same successor on the other instance.
        let t1 = a.refresh(&t0.refresh_token, None).await.unwrap();
        let again = b.refresh(&t0.refresh_token, None).await.unwrap();
        assert_eq!(again.refresh_token, t1.refresh_token);
        let t2 = b.refresh(&t1.refresh_token, Some("firefox")).await.unwrap();
        let listed = a.list_sessions(subject).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].user_agent.as_deref(), Some("firefox"));
        // t0, two rotations old, replayed on A: reuse, the session ends on both instances.
        assert!(matches!(
            a.refresh(&t0.refresh_token, None).await,
            Err(RefreshError::InvalidGrant)
        ));
        assert!(refused(&a, &t2.access_token));
        eventually("B refuses the reused session's token", || {
            refused(&b, &t2.access_token)
        })
        .await;
        assert!(matches!(
            b.refresh(&t2.refresh_token, None).await,
            Err(RefreshError::InvalidGrant)
        ));
        assert!(a.list_sessions(subject).await.unwrap().is_empty());
    }

    // Ending one session on A: refused on B, its refresh token dead.
    let one = a.start_session("bob", None).await.unwrap();
    let other = a.start_session("bob", None).await.unwrap();
    assert!(a.end_session(&one.session_id).await.unwrap());
    assert!(
        !a.end_session(&one.session_id).await.unwrap(),
        "already ended"
    );
    eventually("B refuses the ended session", || {
        refused(&b, &one.access_token)
    })
    .await;
    assert!(b.refresh(&one.refresh_token, None).await.is_err());
    assert!(b.verify_token(&other.access_token).is_ok());

    // Revoking one access token on B: refused on A.
    let claims = b.verify_token(&other.access_token).unwrap();
    b.revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp)
        .await
        .unwrap();
    eventually("A refuses the revoked token", || {
        refused(&a, &other.access_token)
    })
    .await;

    // The cap (3): five logins keep three; the two others (the oldest: by start time, then
    // id, within one second) are refused everywhere.
    let mut logins = Vec::new();
    for _ in 0..5 {
        logins.push(a.start_session("carol", None).await.unwrap());
    }
    let listed = b.list_sessions("carol").await.unwrap();
    assert_eq!(listed.len(), 3);
    let (kept, ended): (Vec<_>, Vec<_>) = logins
        .iter()
        .partition(|t| listed.iter().any(|s| s.id == t.session_id));
    assert_eq!((kept.len(), ended.len()), (3, 2));
    assert!(
        kept.iter().any(|t| t.session_id == logins[4].session_id),
        "the newest is kept"
    );
    for old in &ended {
        eventually("B refuses a session past the cap", || {
            refused(&b, &old.access_token)
        })
        .await;
        assert!(b.refresh(&old.refresh_token, None).await.is_err());
    }

    // Log out everywhere on B: every session of carol refused on A, none left in Redis.
    assert_eq!(b.end_all_sessions("carol").await.unwrap(), 3);
    for t in &kept {
        eventually("A refuses carol's tokens", || refused(&a, &t.access_token)).await;
        assert!(a.refresh(&t.refresh_token, None).await.is_err());
    }
    assert!(a.list_sessions("carol").await.unwrap().is_empty());
    assert_eq!(
        cluster.keys("c1:*{carol}*"),
        ["c1:lo:{carol}"],
        "only the logout generation is left of carol"
    );
    // The keys really are spread over the shards: the subjects' slots are on several
    // primaries (a script touching another slot would have failed).
    let mut primaries: Vec<u16> = [
        "c1:u:{bob}",
        "c1:u:{alice@example.com}",
        "c1:lo:{carol}",
        "c1:revocations",
    ]
    .iter()
    .map(|k| cluster.primary_of(k))
    .collect();
    primaries.sort();
    primaries.dedup();
    assert!(primaries.len() >= 2, "{primaries:?}");

    // A third instance started now loads every revocation in force.
    let c = manager(store(cluster, "c1:").await, 3);
    for t in [&one, &other, ended[0], kept[0]] {
        assert!(refused(&c, &t.access_token));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_throttle_counts_on_a_cluster() {
    let Some(cluster) = RedisCluster::shared() else {
        return;
    };
    let a = store(cluster, "c2:").await.throttle_store().unwrap();
    let b = store(cluster, "c2:").await.throttle_store().unwrap();
    let counters = |ip: &str| {
        ["a:alice", &format!("i:{ip}")]
            .map(|key| Counter {
                key: key.to_owned(),
                free: 2,
                first: 60,
                ceiling: 600,
                window: 900,
            })
            .to_vec()
    };
    let now = login_test_support::NOW;
    // Two free failures of the account, counted on both instances; the third waits the
    // first back-off (and is not charged).
    assert_eq!(a.attempt(counters("10.0.0.1"), now).await.unwrap(), None);
    assert_eq!(b.attempt(counters("10.0.0.2"), now).await.unwrap(), None);
    assert_eq!(
        a.attempt(counters("10.0.0.3"), now + 1).await.unwrap(),
        Some(59)
    );
    // A success resets the account's counter: free again.
    b.succeeded(vec!["a:alice".to_owned()], vec![])
        .await
        .unwrap();
    assert_eq!(
        a.attempt(counters("10.0.0.5"), now + 1).await.unwrap(),
        None
    );
    assert_eq!(
        b.attempt(counters("10.0.0.6"), now + 1).await.unwrap(),
        None
    );
    assert_eq!(
        a.attempt(counters("10.0.0.7"), now + 2).await.unwrap(),
        Some(59)
    );
    let keys = cluster.keys("c2:*");
    assert!(
        keys.contains(&"c2:thr:{thr}:a:alice".to_owned()),
        "{keys:?}"
    );
    assert!(
        keys.iter().all(|k| k.starts_with("c2:thr:{thr}:")),
        "{keys:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_cluster_setting_is_a_clear_error() {
    let none: [&str; 0] = [];
    let e = RedisStore::cluster(none)
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no node URL"), "{e}");
    let e = RedisStore::cluster(["not a url"])
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("redis cluster"), "{e}");
    // A port where nothing listens: refused within the command timeout, never a hang.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = RedisStore::cluster([format!("redis://127.0.0.1:{port}/")])
        .command_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("connect"), "{e}");
    // A password in a node URL is never printed.
    let builder = RedisStore::cluster(["redis://:s3cr3t@127.0.0.1:1/"]);
    assert!(!format!("{builder:?}").contains("s3cr3t"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_killed_and_its_replica_promoted_never_lets_a_revoked_token_in() {
    let Some(mut cluster) = RedisCluster::start() else {
        return;
    };
    let a = manager(store(&cluster, "f:").await, 100);
    let b = manager(store(&cluster, "f:").await, 100);
    let kept = a.start_session("kate", None).await.unwrap();
    let revoked = a.start_session("kate", None).await.unwrap();
    assert!(a.end_session(&revoked.session_id).await.unwrap());
    eventually("B refuses the ended session", || {
        refused(&b, &revoked.access_token)
    })
    .await;

    // Both instances checked in a loop while the primary holding the revocations is killed:
    // the revoked token is never accepted, the kept one is accepted or stale (503).
    let stop = Arc::new(AtomicBool::new(false));
    let stale_seen = Arc::new(AtomicUsize::new(0));
    let checker = {
        let (a, b) = (a.clone(), b.clone());
        let (kept, revoked) = (kept.access_token.clone(), revoked.access_token.clone());
        let (stop, stale_seen) = (stop.clone(), stale_seen.clone());
        std::thread::spawn(move || {
            let mut checks = 0u64;
            while !stop.load(Ordering::Relaxed) {
                for m in [&a, &b] {
                    assert!(
                        m.verify_token(&revoked).is_err(),
                        "a revoked token was accepted"
                    );
                    match m.verify_token(&kept) {
                        Ok(_) => {}
                        Err(VerifyError::RevocationsStale) => {
                            stale_seen.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("the kept token was refused: {e:?}"),
                    }
                    checks += 1;
                }
            }
            checks
        })
    };
    let primary = cluster.primary_of("f:revocations");
    cluster.kill_primary_and_wait_for_failover(primary);
    assert_ne!(
        cluster.primary_of("f:revocations"),
        primary,
        "a replica took over"
    );
    // Both instances find the new primary by themselves and serve again.
    eventually("A serves again", || {
        a.verify_token(&kept.access_token).is_ok()
    })
    .await;
    eventually("B serves again", || {
        b.verify_token(&kept.access_token).is_ok()
    })
    .await;
    // A revocation made after the failover reaches the other instance.
    let late = b.start_session("kate", None).await;
    let late = match late {
        Ok(late) => late,
        // The first command after a failover may still meet the old topology: once more.
        Err(_) => b.start_session("kate", None).await.unwrap(),
    };
    assert!(b.end_session(&late.session_id).await.unwrap());
    eventually("A refuses a session ended after the failover", || {
        refused(&a, &late.access_token)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let checks = checker.join().expect("no revoked token was accepted");
    println!(
        "failover: {checks} checks, {} stale (503) answers for the kept token",
        stale_seen.load(Ordering::Relaxed)
    );
    assert!(refused(&a, &revoked.access_token));
    assert!(refused(&b, &revoked.access_token));
    // The kept session still refreshes (its subject's slot was replicated or never moved).
    assert!(a.refresh(&kept.refresh_token, None).await.is_ok());
}
