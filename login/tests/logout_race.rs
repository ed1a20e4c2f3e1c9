//! A login racing "log out everywhere": it reads the subject's logout generation and mints its
//! tokens, then the logout ends every session of the subject, then the login's `create`
//! reaches the store. The logout came after the login, so it must end that session too: the
//! store does not keep it and revokes its id, in the same second or not. Checked for both
//! stores through the `SessionStore` contract (Redis against a real `redis-server`, skipped
//! with a message outside CI when none is installed).

use std::sync::Arc;

use login::session::{NewSession, TokenHash};
use login::{session::MemoryStore, session::Session, session::SessionStore};
use login_test_support::NOW;

fn session(id: &str, subject: &str, created_at: i64) -> Session {
    Session {
        id: id.to_owned(),
        subject: subject.to_owned(),
        scopes: Vec::new(),
        extra: Default::default(),
        created_at,
        refreshed_at: None,
        expires_at: created_at + 3600,
        ends_at: None,
        user_agent: None,
        manager: None,
    }
}

fn new(session: Session, refresh: TokenHash, logout_generation: u64) -> NewSession {
    NewSession {
        session,
        refresh,
        logout_generation,
        max_sessions: 100,
        revoke_until: NOW + 900,
    }
}

async fn a_login_minted_before_the_logout_is_not_kept(store: Arc<dyn SessionStore>) {
    let (raced, same_second, later, other) = (
        TokenHash::of("lrt_raced"),
        TokenHash::of("lrt_same_second"),
        TokenHash::of("lrt_later"),
        TokenHash::of("lrt_other"),
    );
    // The raced login reads Erin's generation, then mints its tokens…
    let before = store.logout_generation("erin").await.unwrap();
    let frank = store.logout_generation("frank").await.unwrap();
    // …Erin logs out everywhere at NOW (no session of hers is stored yet)…
    assert_eq!(store.end_subject("erin", NOW, NOW + 900).await.unwrap(), 0);
    let after = store.logout_generation("erin").await.unwrap();
    assert_ne!(after, before);
    // …and the raced login's session reaches the store, in the logout's second: not kept,
    // and its id is revoked (its access token is refused).
    store
        .create(new(session("s-raced", "erin", NOW), raced, before))
        .await
        .unwrap();
    assert!(store.find(raced, NOW).await.unwrap().is_none());
    let revoked = store.snapshot(NOW).await.unwrap();
    assert!(
        revoked.contains(&Revocation::SessionEnded {
            sid: "s-raced".into(),
            until: NOW + 900
        }),
        "{revoked:?}"
    );
    // A login that read the generation after the logout is a new login, in the same second
    // or later: kept.
    store
        .create(new(session("s-same", "erin", NOW), same_second, after))
        .await
        .unwrap();
    store
        .create(new(session("s-later", "erin", NOW + 5), later, after))
        .await
        .unwrap();
    let mut kept: Vec<String> = store
        .sessions("erin", NOW + 5)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    kept.sort();
    assert_eq!(kept, ["s-later", "s-same"]);
    assert!(store.find(same_second, NOW + 5).await.unwrap().is_some());
    // Another subject's login of the same moment is not touched.
    store
        .create(new(session("s-other", "frank", NOW - 1), other, frank))
        .await
        .unwrap();
    assert!(store.find(other, NOW).await.unwrap().is_some());
}

#[tokio::test]
async fn memory_store() {
    a_login_minted_before_the_logout_is_not_kept(Arc::new(MemoryStore::new())).await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store() {
    use login_test_support::redis::RedisServer;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = login::session::RedisStore::builder(server.url())
        .connect()
        .await
        .expect("connect to the test's redis-server");
    a_login_minted_before_the_logout_is_not_kept(store).await;
}

/// A store that runs "log out everywhere" of the subject, in the same second, right before
/// each `create` reaches the store it wraps: the moment a login has minted its tokens and has
/// not stored its session yet. Once (`armed`).
struct LogoutBeforeCreate {
    inner: Arc<dyn SessionStore>,
    armed: std::sync::atomic::AtomicBool,
}

impl LogoutBeforeCreate {
    fn new(inner: Arc<dyn SessionStore>) -> Arc<Self> {
        Arc::new(LogoutBeforeCreate {
            inner,
            armed: std::sync::atomic::AtomicBool::new(true),
        })
    }
}

use login::session::{Revocation, RevocationSink, Rotated, Rotation, StoreFuture};

impl SessionStore for LogoutBeforeCreate {
    fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64> {
        self.inner.logout_generation(subject)
    }
    fn create(&self, new: NewSession) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
                self.inner
                    .end_subject(&new.session.subject, NOW, NOW + 900)
                    .await?;
            }
            self.inner.create(new).await
        })
    }
    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        self.inner.rotate(rotation)
    }
    fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>> {
        self.inner.find(refresh, now)
    }
    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
        self.inner.end_session(sid, now, until)
    }
    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
        self.inner.end_subject(subject, now, until)
    }
    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
        self.inner.revoke_access_token(jti, until)
    }
    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
        self.inner.sessions(subject, now)
    }
    fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>> {
        self.inner.snapshot(now)
    }
    fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        self.inner.subscribe(sink)
    }
}

/// Review fix: a login racing "log out everywhere" *in the same second* (the clock is frozen)
/// keeps nothing: not its session, not its refresh token, not its access token. Whole seconds
/// could not order the two; the subject's logout generation, read before minting and checked
/// by the store in the same atomic step as the write, does. A login after the logout is kept.
async fn a_login_racing_log_out_everywhere_in_the_same_second_keeps_nothing(
    inner: Arc<dyn SessionStore>,
) {
    let manager = login::LoginManager::builder("/login")
        .secret(login_test_support::SECRET)
        .clock(|| NOW)
        .session_store(LogoutBeforeCreate::new(inner))
        .build()
        .unwrap();
    let raced = manager.start_session("erin", None).await.unwrap();
    assert!(
        matches!(
            manager.verify_token(&raced.access_token),
            Err(login::rejection::VerifyError::Revoked)
        ),
        "the raced login's access token is accepted"
    );
    assert!(
        matches!(
            manager.refresh(&raced.refresh_token, None).await,
            Err(login::session::RefreshError::InvalidGrant)
        ),
        "the raced login's refresh token works"
    );
    assert!(manager.list_sessions("erin").await.unwrap().is_empty());
    // The next login, after the logout (the same second still), is a new one: kept.
    let after = manager.start_session("erin", None).await.unwrap();
    assert_eq!(
        manager.verify_token(&after.access_token).unwrap().sub,
        "erin"
    );
    let renewed = manager.refresh(&after.refresh_token, None).await.unwrap();
    assert_eq!(
        manager.verify_token(&renewed.access_token).unwrap().sub,
        "erin"
    );
    assert_eq!(manager.list_sessions("erin").await.unwrap().len(), 1);
}

#[tokio::test]
async fn memory_store_same_second() {
    a_login_racing_log_out_everywhere_in_the_same_second_keeps_nothing(
        Arc::new(MemoryStore::new()),
    )
    .await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_same_second() {
    use login_test_support::redis::RedisServer;
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = login::session::RedisStore::builder(server.url())
        .connect()
        .await
        .expect("connect to the test's redis-server");
    a_login_racing_log_out_everywhere_in_the_same_second_keeps_nothing(store).await;
}
