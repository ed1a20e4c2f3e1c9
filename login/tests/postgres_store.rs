//! `PostgresStore` against a real PostgreSQL (feature `postgres`): each test starts its own
//! cluster (`initdb` in a temporary folder, a free loopback port) and stops it; the contract
//! suite takes a fresh database on one server for each case. Skipped, with a message, when
//! PostgreSQL is not installed outside CI; a failure in CI.
//!
//! No timed assertion: what must happen "soon" is awaited in a loop bounded in count and time.

use std::sync::Arc;
use std::time::Duration;

use login::session::test_kit::{self, Instances};
use login::session::{PostgresStore, SessionStore, ThrottleStore, TokenHash};
use login::{LoginManager, rejection::VerifyError, session::RefreshError};
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

/// Waits until `done` holds: at most 20 s, every 20 ms.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
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

/// The server killed: refreshes answer a store error (503), protected requests 503 once the
/// view is stale (never a 401 or anonymous); after a restart, with the data kept, service
/// resumes by itself, and a revocation made while one instance's stream was down reaches it
/// through the resync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_answers_unavailable_and_service_resumes_after_restart() {
    let Some(mut server) = PostgresServer::start() else {
        return;
    };
    let url = server.database();
    let a = manager(store(&url).await);
    let tokens = a.start_session("alice", None).await.expect("login");
    let claims = a.verify_token(&tokens.access_token).expect("verified");
    server.kill();
    let refresh = a.refresh(&tokens.refresh_token, None).await;
    assert!(
        matches!(refresh, Err(RefreshError::Store(_))),
        "a refresh with the server down is a store error: {refresh:?}"
    );
    eventually("the view goes stale", || !a.revocations_fresh()).await;
    assert_eq!(
        a.verify_token(&tokens.access_token),
        Err(VerifyError::RevocationsStale),
        "a stale view answers 503, never 401 or anonymous"
    );
    server.restart();
    eventually("service resumes", || {
        a.verify_token(&tokens.access_token).is_ok()
    })
    .await;
    let renewed = a
        .refresh(&tokens.refresh_token, None)
        .await
        .expect("the session survived the restart (PostgreSQL is durable)");
    // A second instance revokes; the first sees it.
    let b = manager(store(&url).await);
    b.end_all_sessions(&claims.sub).await.expect("logout");
    eventually("the logout reaches A", || {
        a.verify_token(&renewed.access_token) == Err(VerifyError::Revoked)
    })
    .await;
}

/// The notification connection terminated (`pg_terminate_backend` on the listener): the
/// store reconnects and reloads, and a revocation made meanwhile is applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_listener_reconnects_and_resyncs() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.database();
    let a = manager(store(&url).await);
    let b = manager(store(&url).await);
    let tokens = a.start_session("bob", None).await.expect("login");
    let killed = server.sql(
        &url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    );
    assert_eq!(
        killed.lines().filter(|l| *l == "t").count(),
        2,
        "both instances' listening connections were terminated: {killed:?}"
    );
    b.end_session(&tokens.session_id).await.expect("logout");
    eventually(
        "the logout reaches A after its listener was terminated",
        || a.verify_token(&tokens.access_token) == Err(VerifyError::Revoked),
    )
    .await;
    let refresh = a.refresh(&tokens.refresh_token, None).await;
    assert!(
        refresh.is_err(),
        "the ended session's refresh token is dead"
    );
}

/// A slow server (every process stopped with SIGSTOP): operations fail within the command
/// timeout, protected requests answer 503 once stale, nothing hangs; resumed, service resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_answers_unavailable_within_the_timeout_and_nothing_hangs() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.database();
    let a = manager(store(&url).await);
    let tokens = a.start_session("carol", None).await.expect("login");
    server.pause();
    let started = std::time::Instant::now();
    let refresh = a.refresh(&tokens.refresh_token, None).await;
    assert!(
        matches!(refresh, Err(RefreshError::Store(_))),
        "{refresh:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the refresh gave up (bounded by the command timeout), it did not hang"
    );
    eventually("the view goes stale", || !a.revocations_fresh()).await;
    server.resume();
    eventually("service resumes", || {
        a.verify_token(&tokens.access_token).is_ok()
    })
    .await;
    a.refresh(&tokens.refresh_token, None)
        .await
        .expect("the refresh works again");
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
