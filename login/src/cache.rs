//! A bounded cache of verified tokens.
//!
//! Verifying a token is a pure function of the token string and the key ring: the signature,
//! the header and the parsed claims never change. The cache memoizes exactly that function and
//! nothing else:
//!
//! - the key is the exact token string — for ES256/ES384, with its signature in the low-S form,
//!   so that a token and its malleated twin `(r, n − s)` are one entry — (tokens longer than
//!   [`MAX_CACHED_TOKEN_BYTES`] are never cached) and compared in full. It is hashed by its last [`HASHED_SUFFIX`] bytes, which
//!   belong to the signature, with the standard library's SipHash under keys drawn from the
//!   operating system's randomness: only verified tokens are inserted, and nobody chooses the
//!   signature of a valid token, so nobody can crowd a bucket; hashing a fixed-size suffix
//!   keeps a hit's hashing cost at tens of nanoseconds whatever the token's length;
//! - only tokens that passed every check are inserted, so garbage cannot fill the cache;
//! - every rule that depends on the time (`exp`, `nbf`, `iat`) is checked again on every hit
//!   with the manager's clock, so a cached token expires at exactly the same second as an
//!   uncached one, and an expired entry is dropped when it is next seen;
//! - scopes, the user loader and anything else after verification run on every request, as
//!   without the cache;
//! - every change to the key ring (rotation, adding or removing a key) bumps an epoch; entries
//!   made under an older epoch are never served again, so a removed key's tokens are rejected
//!   at once, even if a request verified with the old ring inserts after the change.
//!
//! The cache is bounded by its number of entries (S3-FIFO eviction, from `quick_cache`).

use std::collections::hash_map::RandomState;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::{Equivalent, UnitWeighter};

use crate::claims::Claims;

/// How many verified tokens a [`LoginManager`](crate::LoginManager) remembers by default.
pub const DEFAULT_TOKEN_CACHE_CAPACITY: usize = 4096;

/// Tokens longer than this many bytes are verified on every request and never cached.
pub const MAX_CACHED_TOKEN_BYTES: usize = 2048;

#[derive(Clone)]
struct Entry {
    epoch: u64,
    claims: Arc<Claims>,
}

/// How many bytes at the end of a token are hashed (all of it when shorter).
pub(crate) const HASHED_SUFFIX: usize = 32;

fn hashed_part(token: &str) -> &[u8] {
    let bytes = token.as_bytes();
    &bytes[bytes.len().saturating_sub(HASHED_SUFFIX)..]
}

/// A cached token.
#[derive(PartialEq, Eq)]
struct Key(Box<str>);

/// A token looked up.
struct Lookup<'a>(&'a str);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(hashed_part(&self.0));
    }
}

impl Hash for Lookup<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(hashed_part(self.0));
    }
}

impl Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        *self.0 == *key.0
    }
}

type Map = Cache<Key, Entry, UnitWeighter, RandomState, DefaultLifecycle<Key, Entry>>;

pub(crate) struct TokenCache {
    map: Map,
    epoch: AtomicU64,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens; `None` for 0 (no cache).
    pub(crate) fn new(capacity: usize) -> Option<Self> {
        (capacity > 0).then(|| TokenCache {
            map: Cache::with(
                capacity,
                capacity as u64,
                UnitWeighter,
                RandomState::new(),
                DefaultLifecycle::default(),
            ),
            epoch: AtomicU64::new(0),
        })
    }

    /// The current epoch. Read it *before* loading the key ring that verifies a token, and
    /// insert under it: a ring change in between then makes the entry stale, never wrong.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// The claims of `token`, verified under the current key ring. The caller still checks
    /// every time-dependent rule.
    pub(crate) fn get(&self, token: &str) -> Option<Arc<Claims>> {
        if token.len() > MAX_CACHED_TOKEN_BYTES {
            return None;
        }
        let entry = self.map.get(&Lookup(token))?;
        (entry.epoch == self.epoch()).then_some(entry.claims)
    }

    /// Remembers a token that passed every check under the key ring of `epoch`.
    pub(crate) fn insert(&self, token: &str, epoch: u64, claims: Arc<Claims>) {
        if token.len() > MAX_CACHED_TOKEN_BYTES || epoch != self.epoch() {
            return;
        }
        self.map.insert(Key(token.into()), Entry { epoch, claims });
    }

    /// Forgets a token (one that expired, or failed a time check, since it was cached).
    pub(crate) fn remove(&self, token: &str) {
        self.map.remove(&Lookup(token));
    }

    /// Forgets every token: the key ring changed. Call it after the new ring is stored.
    pub(crate) fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.map.clear();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str) -> Arc<Claims> {
        Arc::new(serde_json::from_str(&format!(r#"{{"sub":"{sub}","exp":100}}"#)).unwrap())
    }

    #[test]
    fn zero_capacity_is_no_cache() {
        assert!(TokenCache::new(0).is_none());
    }

    #[test]
    fn hit_miss_and_epoch() {
        let cache = TokenCache::new(16).unwrap();
        let e = cache.epoch();
        cache.insert("a.b.c", e, claims("alice"));
        assert_eq!(cache.get("a.b.c").unwrap().sub, "alice");
        assert!(cache.get("a.b.d").is_none());
        cache.invalidate();
        assert!(cache.get("a.b.c").is_none());
        // An insert made under the old epoch (a verification that raced with a rotation) is
        // never stored nor served.
        cache.insert("a.b.c", e, claims("alice"));
        assert!(cache.get("a.b.c").is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn tokens_with_the_same_suffix_are_told_apart() {
        let cache = TokenCache::new(16).unwrap();
        let suffix = "s".repeat(HASHED_SUFFIX);
        let (a, b) = (format!("a.{suffix}"), format!("b.{suffix}"));
        cache.insert(&a, cache.epoch(), claims("alice"));
        assert!(cache.get(&b).is_none());
        cache.insert(&b, cache.epoch(), claims("bob"));
        assert_eq!(cache.get(&a).unwrap().sub, "alice");
        assert_eq!(cache.get(&b).unwrap().sub, "bob");
        assert_eq!(cache.get("short").map(|c| c.sub.clone()), None);
    }

    #[test]
    fn long_tokens_are_not_cached() {
        let cache = TokenCache::new(16).unwrap();
        let long = "x".repeat(MAX_CACHED_TOKEN_BYTES + 1);
        cache.insert(&long, cache.epoch(), claims("alice"));
        assert!(cache.get(&long).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn bounded() {
        let cache = TokenCache::new(64).unwrap();
        for i in 0..10_000 {
            cache.insert(&format!("token-{i}"), cache.epoch(), claims("bob"));
        }
        assert!(cache.len() <= 64, "{}", cache.len());
    }

    #[test]
    fn remove_forgets() {
        let cache = TokenCache::new(16).unwrap();
        cache.insert("t", cache.epoch(), claims("carol"));
        cache.remove("t");
        assert!(cache.get("t").is_none());
    }
}
