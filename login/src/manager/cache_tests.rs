//! Tests of the token cache through the manager: what is cached, and when it is emptied.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::cache::TokenCache;

const SECRET: &str = "a-32-byte-or-longer-secret-for-tests!";

fn manager_at(clock: Arc<std::sync::atomic::AtomicI64>) -> crate::LoginManager {
    crate::LoginManager::builder("/login")
        .secret(SECRET)
        .clock(move || clock.load(Ordering::SeqCst))
        .build()
        .unwrap()
}

fn cache_len(manager: &crate::LoginManager) -> usize {
    manager.inner.cache.as_ref().map_or(0, TokenCache::len)
}

#[test]
fn a_cached_token_expires_at_the_same_second() {
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
    let manager = manager_at(clock.clone());
    let token = manager
        .create_access_token(
            crate::TokenRequest::new("alice").lifetime(std::time::Duration::from_secs(60)),
        )
        .unwrap();
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
    assert_eq!(cache_len(&manager), 1);
    clock.store(1_000_059, Ordering::SeqCst);
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
    // `exp == now` is expired, cached or not; the entry is dropped.
    clock.store(1_000_060, Ordering::SeqCst);
    assert_eq!(
        manager.verify_token(&token),
        Err(crate::VerifyError::Expired)
    );
    assert_eq!(cache_len(&manager), 0);
    assert_eq!(
        manager.verify_token(&token),
        Err(crate::VerifyError::Expired)
    );
    assert_eq!(cache_len(&manager), 0);
}

#[test]
fn time_rules_run_on_every_hit() {
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
    let manager = manager_at(clock.clone());
    let token = manager.create_access_token("alice").unwrap();
    manager.verify_token(&token).unwrap();
    // A clock set back before `iat`: the cached token is refused as issued in the future.
    clock.store(999_000, Ordering::SeqCst);
    assert_eq!(
        manager.verify_token(&token),
        Err(crate::VerifyError::IssuedInFuture)
    );
    clock.store(1_000_000, Ordering::SeqCst);
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
}

#[test]
fn only_valid_tokens_are_cached() {
    let clock = Arc::new(std::sync::atomic::AtomicI64::new(1_000_000));
    let manager = manager_at(clock);
    let token = manager.create_access_token("alice").unwrap();
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    for bad in [forged.as_str(), "garbage", "a.b.c", ""] {
        assert!(manager.verify_token(bad).is_err());
    }
    assert_eq!(cache_len(&manager), 0);
    // The cached token does not make its forgery valid.
    manager.verify_token(&token).unwrap();
    assert!(manager.verify_token(&forged).is_err());
    assert_eq!(cache_len(&manager), 1);
}

#[test]
fn removing_a_key_rejects_its_cached_tokens_at_once() {
    use crate::{Algorithm, SigningKey};
    let old_key = SigningKey::hmac(Algorithm::HS256, SECRET)
        .unwrap()
        .with_kid("old");
    let manager = crate::LoginManager::builder("/login")
        .signing_key(old_key)
        .build()
        .unwrap();
    let old = manager.create_access_token("alice").unwrap();
    manager.verify_token(&old).unwrap();
    manager
        .rotate_signing_key(
            SigningKey::hmac(Algorithm::HS256, "another-32-byte-or-longer-secret!!")
                .unwrap()
                .with_kid("new"),
        )
        .unwrap();
    assert_eq!(manager.verify_token(&old).unwrap().sub, "alice");
    manager.remove_verification_key("old").unwrap();
    assert_eq!(
        manager.verify_token(&old),
        Err(crate::VerifyError::UnknownKid)
    );
}

#[test]
fn the_cache_can_be_turned_off() {
    let manager = crate::LoginManager::builder("/login")
        .secret(SECRET)
        .token_cache(0)
        .build()
        .unwrap();
    assert!(manager.inner.cache.is_none());
    let token = manager.create_access_token("alice").unwrap();
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
}
