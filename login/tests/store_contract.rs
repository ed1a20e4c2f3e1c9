//! The store contract suite (`login::session::test_kit`, feature `test-kit`) against
//! `MemoryStore` and `RedisStore` (feature `redis`; `RedisStore` on a cluster and
//! `PostgresStore` run it in `redis_cluster.rs` and `postgres_store.rs`) on a real
//! `redis-server` this test starts on a free loopback port (skipped, with a message, when the
//! binary is missing outside CI; a failure in CI). Each case gets a fresh backend: a new
//! `MemoryStore`, or a key prefix of its own on the one server, with two `RedisStore`
//! instances on it (two processes sharing Redis).

use std::sync::Arc;

use login::session::test_kit::{self, Instances};
use login::session::{MemoryStore, SessionStore, ThrottleStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_session_contract() {
    test_kit::check_session_store(|| async {
        let store = MemoryStore::shared();
        Instances::new(store.clone(), store)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_passes_the_throttle_contract() {
    test_kit::check_throttle_store(|| async {
        let throttle: Arc<dyn ThrottleStore> = MemoryStore::new()
            .throttle_store()
            .expect("MemoryStore keeps throttle counters");
        (throttle.clone(), throttle)
    })
    .await;
}

/// A store that breaks the contract is caught, and the failing case named: one that forgets
/// rotations (every rotation answers `Invalid`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_breaks_the_contract_fails_the_suite_naming_the_case() {
    use login::session::{
        NewSession, Revocation, RevocationSink, Rotated, Rotation, Session, StoreFuture, TokenHash,
    };
    struct NoRotation(Arc<MemoryStore>);
    impl SessionStore for NoRotation {
        fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64> {
            self.0.logout_generation(subject)
        }
        fn create(&self, new: NewSession) -> StoreFuture<'_, ()> {
            self.0.create(new)
        }
        fn rotate(&self, _: Rotation) -> StoreFuture<'_, Rotated> {
            Box::pin(async { Ok(Rotated::Invalid) })
        }
        fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>> {
            self.0.find(refresh, now)
        }
        fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
            self.0.end_session(sid, now, until)
        }
        fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
            self.0.end_subject(subject, now, until)
        }
        fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
            self.0.revoke_access_token(jti, until)
        }
        fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
            self.0.sessions(subject, now)
        }
        fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>> {
            self.0.snapshot(now)
        }
        fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
            self.0.subscribe(sink)
        }
    }
    let run = tokio::spawn(test_kit::check_session_store(|| async {
        let store: Arc<dyn SessionStore> = Arc::new(NoRotation(MemoryStore::shared()));
        Instances::new(store.clone(), store)
    }));
    let error = run
        .await
        .expect_err("a store that never rotates fails the suite");
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("rotation_consumes_the_token_and_installs_the_successor"),
        "the failure names the case: {message}"
    );
}

/// The fault cases catch a store that does not fail closed: a "server" whose kill changes
/// nothing (an in-process store that keeps answering) fails the first case, named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_ignores_a_dead_server_fails_the_fault_cases_naming_the_case() {
    struct Immortal(Arc<MemoryStore>);
    impl test_kit::FaultyBackend for Immortal {
        fn store(&self) -> test_kit::InstanceFuture<'_> {
            let store: Arc<dyn SessionStore> = self.0.clone();
            Box::pin(async move { store })
        }
        fn kill(&mut self) {}
        fn restart(&mut self) {}
        fn drop_streams(&mut self) {}
        fn pause(&mut self) {}
        fn resume(&mut self) {}
        fn durable(&self) -> bool {
            true
        }
    }
    let run = tokio::spawn(test_kit::check_store_faults(|| async {
        Immortal(MemoryStore::shared())
    }));
    let error = run
        .await
        .expect_err("a store that answers with its server dead fails the fault cases");
    let payload = error.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("a_killed_server_fails_closed_and_service_resumes_after_restart")
            && message.contains("store error"),
        "the failure names the case and what was expected: {message}"
    );
}

#[cfg(feature = "redis")]
mod redis {
    use std::sync::Arc;
    use std::time::Duration;

    use login::session::test_kit::{self, Instances};
    use login::session::{RedisStore, SessionStore, ThrottleStore};
    use login_test_support::redis::RedisServer;

    async fn instance(server: &RedisServer, prefix: &str) -> Arc<RedisStore> {
        RedisStore::builder(server.url())
            .prefix(prefix)
            .heartbeat(Duration::from_millis(50))
            .staleness_bound(Duration::from_millis(2000))
            .command_timeout(Duration::from_millis(2000))
            .connect()
            .await
            .expect("connect to the test's redis-server")
    }

    fn prefix() -> String {
        format!("kit{}:", rand::random::<u64>())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_passes_the_session_contract() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let server = &server;
        test_kit::check_session_store(|| async move {
            let prefix = prefix();
            let a: Arc<dyn SessionStore> = instance(server, &prefix).await;
            let b: Arc<dyn SessionStore> = instance(server, &prefix).await;
            Instances::new(a, b)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_passes_the_throttle_contract() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        let server = &server;
        test_kit::check_throttle_store(|| async move {
            let prefix = prefix();
            let a: Arc<dyn ThrottleStore> = instance(server, &prefix)
                .await
                .throttle_store()
                .expect("RedisStore keeps throttle counters");
            let b: Arc<dyn ThrottleStore> = instance(server, &prefix)
                .await
                .throttle_store()
                .expect("RedisStore keeps throttle counters");
            (a, b)
        })
        .await;
    }
}
