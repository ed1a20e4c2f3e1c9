//! `PostgresStore` against a real PostgreSQL (feature `postgres`): each test starts its own
//! cluster (`initdb` in a temporary folder, a free loopback port) and stops it; the contract
//! suite takes a fresh database on one server for each case. Skipped, with a message, when
//! PostgreSQL is not installed outside CI; a failure in CI.
//!
//! No timed assertion: what must happen "soon" is awaited in a loop bounded in count and time.

use std::sync::Arc;
use std::time::Duration;

use login::LoginManager;
use login::session::test_kit::{self, Instances};
use login::session::{PostgresStore, SessionStore, ThrottleStore, TokenHash};
use login_test_support::SECRET;
use login_test_support::postgres::PostgresServer;

/// Short settings, so that faults show within a test.
async fn store(url: &str) -> Arc<PostgresStore> {
    PostgresStore::builder(url)
        .migrate(true)
        .heartbeat(Duration::from_millis(50))
        .staleness_bound(Duration::from_millis(600))
        .command_timeout(Duration::from_millis(600))
        .connect()
        .await
        .expect("connect to the test's PostgreSQL")
}

fn manager(store: Arc<PostgresStore>) -> LoginManager {
    LoginManager::builder("/login")
        .secret(SECRET)
        .session_store(store)
        .refresh_grace(Duration::ZERO)
        .refresh_lifetime(Duration::from_secs(3600))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_session_contract() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let server = &server;
    test_kit::check_session_store(|| async move {
        let url = server.database();
        let a: Arc<dyn SessionStore> = store(&url).await;
        let b: Arc<dyn SessionStore> = store(&url).await;
        Instances::new(a, b)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_throttle_contract() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let server = &server;
    test_kit::check_throttle_store(|| async move {
        let url = server.database();
        let a: Arc<dyn ThrottleStore> = store(&url).await.throttle_store().unwrap();
        let b: Arc<dyn ThrottleStore> = store(&url).await.throttle_store().unwrap();
        (a, b)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_urls_are_refused_with_a_clear_error() {
    let cases: [(PostgresStoreBuilderFn, &str); 4] = [
        (|b| b.heartbeat(Duration::from_millis(1)), "heartbeat"),
        (
            |b| b.staleness_bound(Duration::from_millis(500)),
            "staleness bound",
        ),
        (|b| b.command_timeout(Duration::ZERO), "command timeout"),
        (|b| b.max_connections(0), "max_connections"),
    ];
    for (setting, what) in cases {
        let error = setting(PostgresStore::builder("postgres://127.0.0.1:1/x"))
            .connect()
            .await
            .expect_err(what);
        assert!(error.to_string().contains(what), "{error}");
    }
    let error = PostgresStore::builder("redis://127.0.0.1:1/")
        .connect()
        .await
        .expect_err("a redis URL");
    assert!(error.to_string().contains("postgres://"), "{error}");
    // Nothing listening: an error within the command timeout, not a hang.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = PostgresStore::builder(format!("postgres://postgres@127.0.0.1:{port}/x"))
        .command_timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect_err("no server");
    assert!(
        error.to_string().contains("session store failed"),
        "{error}"
    );
}

type PostgresStoreBuilderFn =
    fn(login::session::PostgresStoreBuilder) -> login::session::PostgresStoreBuilder;

/// The test kit's fault cases on a server of their own each: PostgreSQL killed and restarted
/// (with its data), the listening connections terminated, every process stopped (SIGSTOP).
struct PostgresBackend {
    server: PostgresServer,
    url: String,
}

impl test_kit::FaultyBackend for PostgresBackend {
    fn store(&self) -> test_kit::InstanceFuture<'_> {
        Box::pin(async move {
            let store: Arc<dyn SessionStore> = store(&self.url).await;
            store
        })
    }
    fn kill(&mut self) {
        self.server.kill();
    }
    fn restart(&mut self) {
        self.server.restart();
    }
    fn drop_streams(&mut self) {
        let killed = self.server.sql(
            &self.url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
        );
        assert!(
            killed.lines().any(|l| l == "t"),
            "the instances' listening connections were terminated: {killed:?}"
        );
    }
    fn pause(&mut self) {
        self.server.pause();
    }
    fn resume(&mut self) {
        self.server.resume();
    }
    fn durable(&self) -> bool {
        true
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_fault_cases() {
    let Some(first) = PostgresServer::start() else {
        return;
    };
    let mut first = Some(first);
    test_kit::check_store_faults(|| {
        let spare = first.take();
        async move {
            let server = spare
                .unwrap_or_else(|| PostgresServer::start().expect("PostgreSQL started before"));
            let url = server.database();
            PostgresBackend { server, url }
        }
    })
    .await;
}

/// Expired rows are swept, in batches, and live ones kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_deletes_expired_rows_only() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.database();
    let s = store(&url).await;
    let a = manager(s.clone());
    let mut kept = Vec::new();
    for n in 0..3 {
        kept.push(a.start_session(&format!("u{n}"), None).await.unwrap());
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(s.sweep(now).await.unwrap(), 0, "nothing expired yet");
    let swept = s.sweep(now + 10 * 24 * 3600).await.unwrap();
    assert!(
        swept >= 3,
        "the sessions, expired ten days on, are swept: {swept}"
    );
    let hash = TokenHash::of(&kept[0].refresh_token);
    assert_eq!(s.find(hash, now).await.unwrap(), None);
}
