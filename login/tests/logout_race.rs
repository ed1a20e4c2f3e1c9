//! A login racing "log out everywhere": its tokens are minted, then the logout ends every
//! session of the subject, then the login's `create` reaches the store. The logout came after
//! the login, so it must end that session too: the store does not keep it. Checked for both
//! stores through the `SessionStore` contract (Redis against a real `redis-server`, skipped
//! with a message outside CI when none is installed).

use std::sync::Arc;

use login::session::TokenHash;
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

async fn a_login_minted_before_the_logout_is_not_kept(store: Arc<dyn SessionStore>) {
    let (raced, same_second, later, other) = (
        TokenHash::of("lrt_raced"),
        TokenHash::of("lrt_same_second"),
        TokenHash::of("lrt_later"),
        TokenHash::of("lrt_other"),
    );
    // Erin logs out everywhere at NOW (no session of hers is stored yet).
    assert_eq!(store.end_subject("erin", NOW, NOW + 900).await.unwrap(), 0);
    // The raced login: minted a second before the logout, stored after it.
    store
        .create(session("s-raced", "erin", NOW - 1), raced)
        .await
        .unwrap();
    assert!(store.find(raced, NOW).await.unwrap().is_none());
    // A login in the logout's second, or later, is a new login: kept. (The revocation view
    // draws the same line for access tokens: `iat < before` is refused.)
    store
        .create(session("s-same", "erin", NOW), same_second)
        .await
        .unwrap();
    store
        .create(session("s-later", "erin", NOW + 5), later)
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
        .create(session("s-other", "frank", NOW - 1), other)
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
