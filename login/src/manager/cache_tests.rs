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

/// Issue 15 §6: an ECDSA signature `(r, s)` has a twin `(r, n − s)` that verifies too, so a
/// holder of a token can make a second string for it. Minted signatures are low-S; a flipped
/// (high-S) one still verifies — other issuers make either form — but is the same token to
/// the cache: one entry for both strings, keyed by the low-S form.
#[test]
fn ecdsa_twins_are_one_token() {
    use jsonwebtoken::Algorithm;
    for (alg, pem) in [
        (Algorithm::ES256, include_str!("../../tests/keys/p256.pem")),
        (Algorithm::ES384, include_str!("../../tests/keys/p384.pem")),
    ] {
        let manager = crate::LoginManager::builder("/login")
            .signing_key(crate::SigningKey::from_pem(alg, pem).unwrap())
            .build()
            .unwrap();
        let mut tokens = Vec::new();
        for _ in 0..32 {
            let token = manager.create_access_token("alice").unwrap();
            let (message, signature) = token.rsplit_once('.').unwrap();
            assert!(
                crate::keys::low_s(alg, signature).is_none(),
                "{alg:?}: minted a high-S signature"
            );
            tokens.push((message.to_owned(), signature.to_owned()));
        }
        let (message, signature) = &tokens[0];
        let token = format!("{message}.{signature}");
        let twin = format!("{message}.{}", crate::keys::flip_s(alg, signature).unwrap());
        assert_ne!(twin, token);
        // The twin is a valid signature (so the curve order is right) …
        let public: &[u8] = match alg {
            Algorithm::ES256 => include_bytes!("../../tests/keys/p256.pub.pem"),
            _ => include_bytes!("../../tests/keys/p384.pub.pem"),
        };
        let verifier = jsonwebtoken::DecodingKey::from_ec_pem(public).unwrap();
        let (_, twin_signature) = twin.rsplit_once('.').unwrap();
        assert!(
            jsonwebtoken::crypto::verify(twin_signature, message.as_bytes(), &verifier, alg)
                .unwrap(),
            "{alg:?}: the twin does not verify"
        );
        // … which the manager accepts, as the same token: one cache entry for both strings.
        assert_eq!(manager.verify_token(&twin).unwrap().sub, "alice");
        assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
        assert_eq!(
            cache_len(&manager),
            1,
            "{alg:?}: the twin has its own entry"
        );
        assert_eq!(manager.canonical_token(&twin), token);
        assert_eq!(manager.canonical_token(&token), token);
        // Flipping twice gives the original back.
        assert_eq!(
            crate::keys::flip_s(alg, &crate::keys::flip_s(alg, signature).unwrap()).as_deref(),
            Some(signature.as_str())
        );
    }
}
