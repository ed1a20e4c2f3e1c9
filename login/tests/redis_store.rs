//! `RedisStore` against a real `redis-server` (feature `redis`): each test starts its own on a
//! free loopback port and stops it. Two stores on one server are two instances' stores (the
//! HTTP tests with separate processes are in `examples/tests/redis_instances.rs`).
//!
//! No timed assertion: what must happen "soon" (a revocation reaching the other instance, the
//! view going stale, service resuming) is awaited in a loop bounded in count and time, and
//! the test fails if it never happens.

use std::sync::Arc;
use std::time::Duration;

use login::session::test_kit;
use login::session::{RedisStore, SessionStore, TokenHash};
use login::{LoginManager, rejection::VerifyError, session::RefreshError, session::SessionError};
use login_test_support::SECRET;
use login_test_support::redis::RedisServer;

/// Short settings, so that faults show within a test: heartbeat 50 ms, stale after 400 ms,
/// commands give up after 400 ms.
async fn store(server: &RedisServer, prefix: &str) -> Arc<RedisStore> {
    RedisStore::builder(server.url())
        .prefix(prefix)
        .heartbeat(Duration::from_millis(50))
        .staleness_bound(Duration::from_millis(400))
        .command_timeout(Duration::from_millis(400))
        .connect()
        .await
        .expect("connect to the test's redis-server")
}

fn manager(store: Arc<RedisStore>, grace: Duration) -> LoginManager {
    LoginManager::builder("/login")
        .secret(SECRET)
        .session_store(store)
        .refresh_grace(grace)
        .refresh_lifetime(Duration::from_secs(3600))
        .build()
        .unwrap()
}

/// Waits until `done` holds: at most 20 s, every 10 ms (bounded in count and time).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened: {what}");
}

fn hex(token: &str) -> String {
    TokenHash::of(token)
        .0
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_grace_and_reuse_hold_across_instances() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = manager(store(&server, "t:").await, Duration::from_secs(10));
    let b = manager(store(&server, "t:").await, Duration::from_secs(10));
    let t0 = a.start_session("alice", Some("curl/8")).await.unwrap();
    assert_eq!(b.verify_token(&t0.access_token).unwrap().sub, "alice");
    let t1 = a.refresh(&t0.refresh_token, None).await.unwrap();
    // The same token on the other instance, within the grace window: the same successor.
    let again = b.refresh(&t0.refresh_token, None).await.unwrap();
    assert_eq!(again.refresh_token, t1.refresh_token);
    assert_eq!(again.session_id, t0.session_id);
    let t2 = b.refresh(&t1.refresh_token, Some("firefox")).await.unwrap();
    assert_ne!(t2.refresh_token, t1.refresh_token);
    let listed = a.list_sessions("alice").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].user_agent.as_deref(), Some("firefox"));
    assert!(listed[0].refreshed_at.is_some());
    // t0 is two rotations old: replayed on A, it ends the session on both instances.
    assert!(matches!(
        a.refresh(&t0.refresh_token, None).await,
        Err(RefreshError::InvalidGrant)
    ));
    assert_eq!(
        a.verify_token(&t2.access_token),
        Err(VerifyError::Revoked),
        "the instance that detected the reuse refuses at once"
    );
    eventually("B refuses the session's access token", || {
        b.verify_token(&t2.access_token) == Err(VerifyError::Revoked)
    })
    .await;
    assert_eq!(b.verify_token(&t0.access_token), Err(VerifyError::Revoked));
    assert!(matches!(
        b.refresh(&t2.refresh_token, None).await,
        Err(RefreshError::InvalidGrant)
    ));
    assert!(a.list_sessions("alice").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_across_instances_produce_one_successor() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    for grace in [Duration::ZERO, Duration::from_secs(10)] {
        let a = manager(store(&server, "c:").await, grace);
        let b = manager(store(&server, "c:").await, grace);
        let t0 = a.start_session("carol", None).await.unwrap();
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let m = if i % 2 == 0 { a.clone() } else { b.clone() };
                let token = t0.refresh_token.clone();
                tokio::spawn(async move { m.refresh(&token, None).await })
            })
            .collect();
        let mut successors = Vec::new();
        let mut refused = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(tokens) => successors.push(tokens.refresh_token),
                Err(RefreshError::InvalidGrant) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        successors.sort();
        successors.dedup();
        assert_eq!(successors.len(), 1, "grace {grace:?}: one successor");
        if grace.is_zero() {
            // Without a grace window every other refresh is a reuse: the session ended.
            assert_eq!(refused, 15);
            assert!(a.list_sessions("carol").await.unwrap().is_empty());
        } else {
            // Within it, every refresh got the same successor, and it still works.
            assert_eq!(refused, 0);
            assert!(a.refresh(&successors[0], None).await.is_ok());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_carries_the_prefix_and_a_bounded_ttl() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = manager(store(&server, "app1:").await, Duration::from_secs(10));
    let other = manager(store(&server, "app2:").await, Duration::from_secs(10));
    let t0 = a.start_session("dave", None).await.unwrap();
    let t1 = a.refresh(&t0.refresh_token, None).await.unwrap();
    let claims = a.verify_token(&t1.access_token).unwrap();
    a.revoke_access_token("some-jti", claims.exp).await.unwrap();
    // Another prefix shares nothing.
    assert!(matches!(
        other.refresh(&t1.refresh_token, None).await,
        Err(RefreshError::InvalidGrant)
    ));
    assert_eq!(other.verify_token(&t1.access_token).unwrap().sub, "dave");
    let keys = server.command(&["KEYS", "*"]).unwrap();
    let keys: Vec<&str> = keys.items().iter().map(|k| k.text()).collect();
    assert!(!keys.is_empty());
    for key in &keys {
        assert!(key.starts_with("app1:"), "{key}");
        let ttl: i64 = server
            .command(&["TTL", key])
            .unwrap()
            .text()
            .parse()
            .unwrap();
        let max = if key.ends_with(":grace") {
            10 // the grace window
        } else if *key == "app1:revocations" {
            900 // the longest access-token lifetime: no revoked token outlives it
        } else {
            3600 // the refresh lifetime
        };
        assert!(ttl > 0 && ttl <= max, "{key}: TTL {ttl}, at most {max}");
    }
    // Ending every session leaves only the revocations and the subject's logout generation
    // (which a login that raced it is checked against), until they expire.
    a.end_all_sessions("dave").await.unwrap();
    let keys = server.command(&["KEYS", "*"]).unwrap();
    let mut keys: Vec<&str> = keys.items().iter().map(|k| k.text()).collect();
    keys.sort();
    assert_eq!(keys, ["app1:lo:{dave}", "app1:revocations"]);
    let ttl = server.command(&["TTL", "app1:lo:{dave}"]).unwrap();
    let ttl: i64 = ttl.text().parse().unwrap();
    assert!(ttl > 0 && ttl <= 900, "app1:lo:{{dave}}: TTL {ttl}");
}

/// The commands each kind has received (`INFO commandstats`), without `ping` (the stream's
/// heartbeat) and `info` (this very question).
fn commands(server: &RedisServer) -> Vec<(String, u64)> {
    let mut all = server.commandstats();
    all.retain(|(name, _)| name != "ping" && name != "info");
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_requests_send_no_command_to_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = manager(store(&server, "p:").await, Duration::from_secs(10));
    let kept = a.start_session("erin", None).await.unwrap();
    let ended = a.start_session("erin", None).await.unwrap();
    a.end_session(&ended.session_id).await.unwrap();
    let before = commands(&server);
    for _ in 0..1000 {
        assert!(a.verify_token(&kept.access_token).is_ok());
        assert_eq!(
            a.verify_token(&ended.access_token),
            Err(VerifyError::Revoked)
        );
    }
    assert_eq!(commands(&server), before, "2000 checks, no command");
}

/// The test kit's fault cases on a server of their own each: Redis killed and restarted
/// (empty: nothing is persisted), the subscriptions killed, Redis stopped (SIGSTOP).
struct RedisBackend(RedisServer);

impl test_kit::FaultyBackend for RedisBackend {
    fn store(&self) -> test_kit::InstanceFuture<'_> {
        Box::pin(async move {
            let store: Arc<dyn SessionStore> = store(&self.0, "f:").await;
            store
        })
    }
    fn kill(&mut self) {
        self.0.kill();
    }
    fn restart(&mut self) {
        self.0.restart();
    }
    fn drop_streams(&mut self) {
        self.0
            .command(&["CLIENT", "KILL", "TYPE", "pubsub"])
            .expect("CLIENT KILL TYPE pubsub");
    }
    fn pause(&mut self) {
        self.0.pause();
    }
    fn resume(&mut self) {
        self.0.resume();
    }
    fn durable(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_passes_the_fault_cases() {
    let Some(first) = RedisServer::start() else {
        return;
    };
    let mut first = Some(first);
    test_kit::check_store_faults(|| {
        let spare = first.take();
        async move {
            RedisBackend(
                spare.unwrap_or_else(|| RedisServer::start().expect("redis-server started before")),
            )
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_the_store_did_not_write_is_an_error_never_a_panic_or_a_token() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let a = manager(store(&server, "g:").await, Duration::from_secs(10));
    let store_error = |e: RefreshError| match e {
        RefreshError::Store(e) => e.to_string(),
        other => panic!("expected a store error, got {other:?}"),
    };

    // A field that is not a number.
    let t = a.start_session("hana", None).await.unwrap();
    let session = format!("g:s:{{hana}}:{}", t.session_id);
    server.command(&["HSET", &session, "exp", "soon"]).unwrap();
    let e = store_error(a.refresh(&t.refresh_token, None).await.unwrap_err());
    assert!(e.contains("not a number"), "{e}");

    // A key of the wrong type.
    let t = a.start_session("hana", None).await.unwrap();
    let index = format!("g:rt:{}", hex(&t.refresh_token));
    server.command(&["DEL", &index]).unwrap();
    server.command(&["SADD", &index, "x"]).unwrap();
    let e = store_error(a.refresh(&t.refresh_token, None).await.unwrap_err());
    assert!(e.contains("WRONGTYPE"), "{e}");

    // A session record that is not JSON.
    let t = a.start_session("hana", None).await.unwrap();
    let session = format!("g:s:{{hana}}:{}", t.session_id);
    server
        .command(&["HSET", &session, "data", "{garbage"])
        .unwrap();
    let e = store_error(a.refresh(&t.refresh_token, None).await.unwrap_err());
    assert!(e.contains("not what this store wrote"), "{e}");
    assert!(matches!(
        a.list_sessions("hana").await,
        Err(SessionError::Store(_))
    ));

    // Garbage in the revocations: a new instance refuses to start, with the reason.
    let ok = a.start_session("ivan", None).await.unwrap();
    let far = (login_test_support::NOW * 2).to_string();
    server
        .command(&["ZADD", "g:revocations", &far, "not json"])
        .unwrap();
    let e = RedisStore::builder(server.url())
        .prefix("g:")
        .connect()
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a revocation"), "{e}");
    // Garbage on the channel: the running instance reloads, finds the garbage, and stays
    // stale (503) rather than trusting what it has; once the garbage is gone it serves.
    server
        .command(&["PUBLISH", "g:revocations", "{\"kind\":\"nonsense\"}"])
        .unwrap();
    eventually("the view goes stale", || {
        a.verify_token(&ok.access_token) == Err(VerifyError::RevocationsStale)
    })
    .await;
    server
        .command(&["ZREM", "g:revocations", "not json"])
        .unwrap();
    eventually("service resumes", || {
        a.verify_token(&ok.access_token).is_ok()
    })
    .await;
}

login::define_manager!(Admins);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_managers_sharing_the_store_renew_only_their_own_sessions() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let shared = store(&server, "m:").await;
    let users = manager(shared.clone(), Duration::from_secs(10));
    let admins = Admins::builder("/admin/login")
        .secret("another-secret-0123456789abcdef0123")
        .session_store(shared)
        .build()
        .unwrap();
    let user_session = users.start_session("root", None).await.unwrap();
    // The admins' manager refuses the users' refresh token, and changes nothing: the user's
    // own manager still renews it.
    assert!(matches!(
        admins.refresh(&user_session.refresh_token, None).await,
        Err(RefreshError::InvalidGrant)
    ));
    users
        .refresh(&user_session.refresh_token, None)
        .await
        .unwrap();
    // And the reverse; each lists only its own sessions of `root`.
    let admin_session = admins.start_session("root", None).await.unwrap();
    assert!(matches!(
        users.refresh(&admin_session.refresh_token, None).await,
        Err(RefreshError::InvalidGrant)
    ));
    admins
        .refresh(&admin_session.refresh_token, None)
        .await
        .unwrap();
    assert_eq!(users.list_sessions("root").await.unwrap().len(), 1);
    assert_eq!(admins.list_sessions("root").await.unwrap().len(), 1);
}
