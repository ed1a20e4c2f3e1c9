//! Unit tests of the manager: the token cache seen through it (what is cached, and when it is
//! emptied).

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
        Err(crate::rejection::VerifyError::Expired)
    );
    assert_eq!(cache_len(&manager), 0);
    assert_eq!(
        manager.verify_token(&token),
        Err(crate::rejection::VerifyError::Expired)
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
        Err(crate::rejection::VerifyError::IssuedInFuture)
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
    use crate::Algorithm;
    use crate::keys::SigningKey;
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
        Err(crate::rejection::VerifyError::UnknownKid)
    );
}

#[test]
fn the_cache_can_be_turned_off() {
    let manager = crate::LoginManager::builder("/login")
        .secret(SECRET)
        .token_cache_bytes(0)
        .build()
        .unwrap();
    assert!(manager.inner.cache.is_none());
    let token = manager.create_access_token("alice").unwrap();
    assert_eq!(manager.verify_token(&token).unwrap().sub, "alice");
}

/// ECDSA malleability: a signature `(r, s)` has a twin `(r, n − s)` that verifies too, so a
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
            .signing_key(crate::keys::SigningKey::from_pem(alg, pem).unwrap())
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
        let verifier = crate::keys::VerifyingKey::from_pem(alg, public)
            .unwrap()
            .decoding;
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

/// Verifies distinct tokens, each once, until the cache stops growing: it is full, and the
/// doorkeeper has recorded only the last few.
fn fill(manager: &crate::LoginManager) {
    let mut steady = 0;
    while steady < 3 {
        let before = cache_len(manager);
        let token = manager.create_access_token("filler").unwrap();
        manager.verify_token(&token).unwrap();
        steady = if cache_len(manager) == before {
            steady + 1
        } else {
            0
        };
    }
}

fn cached(manager: &crate::LoginManager, token: &str) -> bool {
    manager.inner.cache.as_ref().unwrap().get(token).is_some()
}

#[test]
fn once_full_a_token_is_cached_on_its_second_verification() {
    let manager = crate::LoginManager::builder("/login")
        .secret(SECRET)
        .token_cache_bytes(64 * crate::cache::TOKEN_CACHE_ENTRY_BYTES)
        .build()
        .unwrap();
    // While there is room, a token is cached at once.
    let early = manager.create_access_token("alice").unwrap();
    manager.verify_token(&early).unwrap();
    assert!(cached(&manager, &early));
    fill(&manager);
    // Random tokens (their `jti`): which of them the doorkeeper takes for seen, and where
    // its window ends, is left to chance. Forgotten, neither can concern the next token.
    manager.inner.cache.as_ref().unwrap().forget_seen();
    let len = cache_len(&manager);
    let token = manager.create_access_token("bob").unwrap();
    assert_eq!(manager.verify_token(&token).unwrap().sub, "bob");
    assert!(!cached(&manager, &token), "a token seen once was cached");
    assert_eq!(cache_len(&manager), len);
    assert_eq!(manager.verify_token(&token).unwrap().sub, "bob");
    assert!(
        cached(&manager, &token),
        "a token seen twice was not cached"
    );
    // Served from the cache from then on.
    assert_eq!(manager.verify_token(&token).unwrap().sub, "bob");
}

#[test]
fn the_budget_is_in_bytes() {
    // The same budget holds more small tokens than big ones.
    let count = |extra: usize| {
        let manager = crate::LoginManager::builder("/login")
            .secret(SECRET)
            .token_cache_bytes(64 * 1024)
            .build()
            .unwrap();
        for i in 0..400 {
            let request = crate::TokenRequest::new(format!("user{i}"))
                .extra(&serde_json::json!({ "padding": "p".repeat(extra) }));
            let token = manager.create_access_token(request).unwrap();
            manager.verify_token(&token).unwrap();
            manager.verify_token(&token).unwrap();
        }
        cache_len(&manager)
    };
    let (small, big) = (count(10), count(1000));
    assert!(small > 2 * big, "{small} small tokens, {big} big ones");
    assert!(big > 0);
}

/// Revocation and the session rules run on every hit: a cached token of an ended session, or
/// a revoked one, is refused at once.
#[test]
fn revocations_are_checked_on_hits() {
    let manager = crate::LoginManager::builder("/login")
        .secret(SECRET)
        .sessions()
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tokens = rt.block_on(manager.start_session("alice", None)).unwrap();
    let other = rt.block_on(manager.start_session("bob", None)).unwrap();
    for t in [&tokens.access_token, &other.access_token] {
        manager.verify_token(t).unwrap();
        manager.verify_token(t).unwrap();
        assert!(cached(&manager, t));
    }
    rt.block_on(manager.end_session(&tokens.session_id))
        .unwrap();
    assert_eq!(
        manager.verify_token(&tokens.access_token),
        Err(crate::rejection::VerifyError::Revoked)
    );
    let claims = manager.verify_token(&other.access_token).unwrap();
    rt.block_on(manager.revoke_access_token(claims.jti.as_deref().unwrap(), claims.exp))
        .unwrap();
    assert_eq!(
        manager.verify_token(&other.access_token),
        Err(crate::rejection::VerifyError::Revoked)
    );
}
