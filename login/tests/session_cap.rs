//! The cap on sessions per subject: one account with a valid password can no longer grow the
//! store without bound (nor the Redis scripts that walk a subject's sessions). Past the cap, a
//! login ends the subject's oldest sessions (their refresh tokens stop working and their
//! access tokens are refused from the next request on). Both stores, through the manager
//! (Redis against a real `redis-server`, skipped with a message outside CI when none is
//! installed).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use login::session::{MemoryStore, RefreshError, SessionStore, SessionTokens};
use login::{LoginManager, LoginManagerBuilder, rejection::VerifyError};
use login_test_support::{NOW, SECRET};

/// The default cap.
const DEFAULT_CAP: usize = 100;

fn builder(store: Arc<dyn SessionStore>, clock: Arc<AtomicI64>) -> LoginManagerBuilder {
    LoginManager::builder("/login")
        .secret(SECRET)
        .clock(move || clock.load(Ordering::SeqCst))
        .session_store(store)
}

/// `n` logins of `subject`, one a second (so that "oldest" is well defined).
async fn logins(
    manager: &LoginManager,
    clock: &AtomicI64,
    subject: &str,
    n: usize,
) -> Vec<SessionTokens> {
    let mut all = Vec::with_capacity(n);
    for _ in 0..n {
        clock.fetch_add(1, Ordering::SeqCst);
        all.push(manager.start_session(subject, None).await.unwrap());
    }
    all
}

#[track_caller]
fn assert_ended(manager: &LoginManager, tokens: &SessionTokens) {
    assert!(
        matches!(
            manager.verify_token(&tokens.access_token),
            Err(VerifyError::Revoked)
        ),
        "the access token of an ended session is accepted"
    );
}

async fn the_default_cap_ends_the_oldest_sessions(store: Arc<dyn SessionStore>) {
    let clock = Arc::new(AtomicI64::new(NOW));
    let manager = builder(store, clock.clone()).build().unwrap();
    let other = logins(&manager, &clock, "bob", 1).await;
    let all = logins(&manager, &clock, "alice", DEFAULT_CAP + 2).await;
    let listed = manager.list_sessions("alice").await.unwrap();
    assert_eq!(listed.len(), DEFAULT_CAP);
    // The two oldest are ended; the newest 100 are listed, oldest first.
    for old in &all[..2] {
        assert_ended(&manager, old);
        assert!(matches!(
            manager.refresh(&old.refresh_token, None).await,
            Err(RefreshError::InvalidGrant)
        ));
    }
    let kept: Vec<&str> = all[2..].iter().map(|t| t.session_id.as_str()).collect();
    let listed: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(listed, kept);
    for newer in &all[2..] {
        assert_eq!(
            manager.verify_token(&newer.access_token).unwrap().sub,
            "alice"
        );
    }
    manager.refresh(&all[2].refresh_token, None).await.unwrap();
    // Another subject is not touched.
    assert_eq!(
        manager.verify_token(&other[0].access_token).unwrap().sub,
        "bob"
    );
    assert_eq!(manager.list_sessions("bob").await.unwrap().len(), 1);
}

/// A cap of 3, and a flood of logins of one account: the store keeps 3 sessions of it; a
/// cap of 1 keeps the newest login only.
async fn a_set_cap_bounds_a_flood_of_logins(store: Arc<dyn SessionStore>) {
    let clock = Arc::new(AtomicI64::new(NOW));
    let manager = builder(store.clone(), clock.clone())
        .max_sessions_per_subject(3)
        .build()
        .unwrap();
    let all = logins(&manager, &clock, "alice", 300).await;
    let listed: Vec<String> = manager
        .list_sessions("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let newest: Vec<String> = all[297..].iter().map(|t| t.session_id.clone()).collect();
    assert_eq!(listed, newest);
    for old in &all[..297] {
        assert_ended(&manager, old);
    }
    // Within one second, the cap still holds and never ends the login being made.
    let same_second = builder(store, clock.clone())
        .max_sessions_per_subject(1)
        .build()
        .unwrap();
    for _ in 0..20 {
        let t = same_second.start_session("carol", None).await.unwrap();
        assert_eq!(
            same_second.verify_token(&t.access_token).unwrap().sub,
            "carol"
        );
        let listed = same_second.list_sessions("carol").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, t.session_id);
    }
}

#[test]
fn the_cap_is_between_1_and_10000() {
    for bad in [0, 10_001, usize::MAX] {
        let err = LoginManager::builder("/login")
            .secret(SECRET)
            .sessions()
            .max_sessions_per_subject(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, login::ConfigError::InvalidSessionSetting(_)),
            "{bad}: {err:?}"
        );
    }
    for good in [1, 10_000] {
        LoginManager::builder("/login")
            .secret(SECRET)
            .sessions()
            .max_sessions_per_subject(good)
            .build()
            .unwrap();
    }
}

#[tokio::test]
async fn memory_store_set_cap() {
    let store = MemoryStore::shared();
    a_set_cap_bounds_a_flood_of_logins(store.clone()).await;
    assert_eq!(store.len(), 3 + 1);
    assert_eq!(store.refresh_tokens(), 3 + 1);
}

#[tokio::test]
async fn memory_store_default_cap() {
    let store = MemoryStore::shared();
    the_default_cap_ends_the_oldest_sessions(store.clone()).await;
    // What the store holds is bounded too: 100 sessions of alice's and bob's one.
    assert_eq!(store.len(), DEFAULT_CAP + 1);
}

#[cfg(feature = "redis")]
mod redis {
    use super::*;
    use login_test_support::redis::RedisServer;

    async fn store(server: &RedisServer) -> Arc<login::session::RedisStore> {
        login::session::RedisStore::builder(server.url())
            .connect()
            .await
            .expect("connect to the test's redis-server")
    }

    /// The session ids Redis keeps for `subject`.
    fn stored_sessions(server: &RedisServer, subject: &str) -> usize {
        let key = format!("login:u:{{{subject}}}");
        server
            .command(&["SCARD", &key])
            .unwrap()
            .text()
            .parse()
            .unwrap()
    }

    fn session_keys(server: &RedisServer) -> usize {
        let keys = server.command(&["KEYS", "login:s:*"]).unwrap();
        keys.items()
            .iter()
            .filter(|k| !k.text().ends_with(":rot") && !k.text().ends_with(":grace"))
            .count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_default_cap() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        the_default_cap_ends_the_oldest_sessions(store(&server).await).await;
        assert_eq!(stored_sessions(&server, "alice"), DEFAULT_CAP);
        assert_eq!(session_keys(&server), DEFAULT_CAP + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn redis_store_set_cap() {
        let Some(server) = RedisServer::start() else {
            return;
        };
        a_set_cap_bounds_a_flood_of_logins(store(&server).await).await;
        assert_eq!(stored_sessions(&server, "alice"), 3);
        assert_eq!(stored_sessions(&server, "carol"), 1);
        assert_eq!(session_keys(&server), 3 + 1);
        let tokens = server.command(&["KEYS", "login:rt:*"]).unwrap();
        assert_eq!(tokens.items().len(), 3 + 1);
    }
}
