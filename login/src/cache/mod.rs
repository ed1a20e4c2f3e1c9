//! A bounded cache of verified tokens.
//!
//! Verifying a token is a pure function of the token string and the key ring: the signature,
//! the header and the parsed claims never change. The cache memoizes exactly that function and
//! nothing else:
//!
//! - the key is the exact token string — for ES256/ES384, with its signature in the low-S form,
//!   so that a token and its malleated twin `(r, n − s)` are one entry — (tokens longer than
//!   [`MAX_CACHED_TOKEN_BYTES`] are never cached) and compared in full. It is hashed by its last
//!   [`HASHED_BYTES`](hash::HASHED_BYTES) bytes, which belong to the signature, under random
//!   seeds ([`hash`]): only verified tokens are inserted, and nobody chooses the signature of a
//!   valid token, so nobody can crowd a bucket; hashing a fixed-size suffix keeps the hashing
//!   cost at a few nanoseconds whatever the token's length;
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
//! The cache is bounded by memory: each entry is charged its bytes (the token, the claims'
//! heap, and a fixed [`ENTRY_OVERHEAD_BYTES`] for the claims' struct, the reference counts, the
//! map's slot and the allocator's rounding), and the entries' charges never exceed the budget
//! (S3-FIFO eviction, from `quick_cache`). Once it is full, a token is admitted only on its
//! second verification within a window (the doorkeeper of [`admission`]), so traffic of tokens
//! each seen once costs a lookup and a filter probe, not an insert and an eviction.

mod admission;
mod hash;

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use quick_cache::sync::Cache;
use quick_cache::{Equivalent, Lifecycle, Weighter};
use serde_json::Value;

use crate::claims::Claims;
use admission::Doorkeeper;
use hash::{BuildSuffixHasher, Seeds, hashed_part};

/// The token cache's default memory budget: 4 MiB (see
/// [`LoginManagerBuilder::token_cache_bytes`](crate::LoginManagerBuilder::token_cache_bytes)).
pub(crate) const DEFAULT_TOKEN_CACHE_BYTES: usize = 4 << 20;

/// The bytes of a typical cached token, roughly (the cache's sizing hint): one the `simple`
/// example's `/login` issues (`sub`, `exp`, `iat`, `jti`, `sid`, two scopes, `amr`,
/// `auth_time`; 328 bytes of token) really takes 978–992 bytes in the cache (measured with a
/// counting allocator that includes the allocator's rounding: `login/tests/cache_memory.rs`)
/// and is charged about 1,070.
pub(crate) const TOKEN_CACHE_ENTRY_BYTES: usize = 1024;

/// Tokens longer than this many bytes are verified on every request and never cached.
pub(crate) const MAX_CACHED_TOKEN_BYTES: usize = 2048;

/// What an entry costs besides the token's bytes and the claims' heap: the `Claims` struct
/// and its `Arc` counts, the key's box, the map's slot and index, and the allocator's rounding
/// of each of its 8 allocations (measured: see `login/tests/cache_memory.rs`; a typical entry
/// is charged a little more than it really takes).
pub(crate) const ENTRY_OVERHEAD_BYTES: usize = 600;

#[derive(Clone)]
struct Entry {
    epoch: u64,
    /// The bytes charged for this entry (see [`entry_bytes`]).
    bytes: u64,
    claims: Arc<Claims>,
}

/// The bytes an entry of `token` with `claims` is charged.
fn entry_bytes(token: &str, claims: &Claims) -> usize {
    let string = |s: &String| s.capacity();
    let strings =
        |v: &Vec<String>| v.capacity() * size_of::<String>() + v.iter().map(string).sum::<usize>();
    token.len()
        + ENTRY_OVERHEAD_BYTES
        + claims.sub.capacity()
        + [&claims.jti, &claims.iss, &claims.sid]
            .into_iter()
            .flatten()
            .map(string)
            .sum::<usize>()
        + strings(&claims.aud)
        + strings(&claims.scopes)
        + strings(&claims.amr)
        + claims
            .extra
            .iter()
            .map(|(k, v)| k.capacity() + map_entry_bytes() + value_bytes(v))
            .sum::<usize>()
}

/// A `serde_json::Map` entry's own bytes (its node and index), roughly.
const fn map_entry_bytes() -> usize {
    size_of::<String>() + size_of::<Value>() + 16
}

/// The heap bytes of a JSON value, roughly.
fn value_bytes(value: &Value) -> usize {
    match value {
        Value::String(s) => s.capacity(),
        Value::Array(a) => a.iter().map(|v| size_of::<Value>() + value_bytes(v)).sum(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| k.capacity() + map_entry_bytes() + value_bytes(v))
            .sum(),
        _ => 0,
    }
}

/// Charges each entry its bytes.
#[derive(Clone)]
struct Bytes;

impl Weighter<Key, Entry> for Bytes {
    fn weight(&self, _: &Key, entry: &Entry) -> u64 {
        entry.bytes
    }
}

/// Notes the first eviction (the cache is full from then on, and the doorkeeper decides), and
/// drops evicted entries outside the map's locks, as `quick_cache`'s default does.
#[derive(Clone)]
struct NoteFull(Arc<AtomicBool>);

impl Lifecycle<Key, Entry> for NoteFull {
    type RequestState = [Option<(Key, Entry)>; 2];

    fn on_evict(&self, state: &mut Self::RequestState, key: Key, entry: Entry) {
        if !self.0.load(Ordering::Relaxed) {
            self.0.store(true, Ordering::Relaxed);
        }
        if let Some(slot) = state.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some((key, entry));
        }
    }
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

type Map = Cache<Key, Entry, Bytes, BuildSuffixHasher, NoteFull>;

pub(crate) struct TokenCache {
    map: Map,
    epoch: AtomicU64,
    /// Set at the first eviction, cleared with the cache: from then on an insert evicts.
    full: Arc<AtomicBool>,
    doorkeeper: Doorkeeper,
}

impl TokenCache {
    /// A cache of at most `budget` bytes of entries; `None` for 0 (no cache).
    pub(crate) fn new(budget: usize) -> Option<Self> {
        Self::with_seeds(budget, Seeds::random(), Seeds::random())
    }

    /// The same, the map hashing under `map_seeds` and the doorkeeper under `door_seeds`.
    fn with_seeds(budget: usize, map_seeds: Seeds, door_seeds: Seeds) -> Option<Self> {
        (budget > 0).then(|| {
            // The typical entry sizes the map's index and the doorkeeper's window.
            let entries = (budget / TOKEN_CACHE_ENTRY_BYTES).max(1);
            let full = Arc::new(AtomicBool::new(false));
            TokenCache {
                map: Cache::with(
                    entries,
                    budget as u64,
                    Bytes,
                    BuildSuffixHasher(map_seeds),
                    NoteFull(Arc::clone(&full)),
                ),
                epoch: AtomicU64::new(0),
                full,
                doorkeeper: Doorkeeper::new(entries, door_seeds),
            }
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

    /// Remembers a token that passed every check under the key ring of `epoch`: at once while
    /// the cache has room, else on its second verification within the doorkeeper's window.
    pub(crate) fn insert(&self, token: &str, epoch: u64, claims: Arc<Claims>) {
        if token.len() > MAX_CACHED_TOKEN_BYTES || epoch != self.epoch() {
            return;
        }
        if self.full.load(Ordering::Relaxed) && !self.doorkeeper.seen_before(token) {
            return;
        }
        let bytes = entry_bytes(token, &claims) as u64;
        self.map.insert(
            Key(token.into()),
            Entry {
                epoch,
                bytes,
                claims,
            },
        );
    }

    /// Forgets a token (one that expired, or failed a time check, since it was cached).
    pub(crate) fn remove(&self, token: &str) {
        self.map.remove(&Lookup(token));
    }

    /// Forgets every token: the key ring changed. Call it after the new ring is stored.
    pub(crate) fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.map.clear();
        self.full.store(false, Ordering::Relaxed);
        self.doorkeeper.clear();
    }

    /// The bytes charged for the entries held (at most the budget).
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.map.weight()
    }

    /// The budget, in bytes.
    #[cfg(test)]
    pub(crate) fn budget(&self) -> u64 {
        self.map.capacity()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Forgets which tokens were seen once, keeping the entries: the next new token is
    /// recorded, and neither admitted (no false positive in an empty filter) nor the one
    /// that ends the window.
    #[cfg(test)]
    pub(crate) fn forget_seen(&self) {
        self.doorkeeper.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(sub: &str) -> Arc<Claims> {
        Arc::new(serde_json::from_str(&format!(r#"{{"sub":"{sub}","exp":100}}"#)).unwrap())
    }

    /// A cache of `budget` bytes under fixed seeds: which tokens collide, in the map and in
    /// the doorkeeper, is the same on every run.
    fn seeded(budget: usize) -> TokenCache {
        TokenCache::with_seeds(
            budget,
            Seeds::fixed(0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344),
            Seeds::fixed(0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89),
        )
        .unwrap()
    }

    #[test]
    fn zero_capacity_is_no_cache() {
        assert!(TokenCache::new(0).is_none());
    }

    #[test]
    fn hit_miss_and_epoch() {
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
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
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
        let suffix = "s".repeat(hash::HASHED_BYTES);
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
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
        let long = "x".repeat(MAX_CACHED_TOKEN_BYTES + 1);
        cache.insert(&long, cache.epoch(), claims("alice"));
        assert!(cache.get(&long).is_none());
        assert_eq!(cache.len(), 0);
    }

    /// A token-like string: a signature-sized distinct tail.
    fn token(i: usize) -> String {
        format!("header.payload.signature-{i:020}")
    }

    /// Inserts distinct tokens, each twice (admitted), until an insert evicts.
    fn fill(cache: &TokenCache) -> usize {
        let mut i = 0;
        while !cache.full.load(Ordering::Relaxed) {
            for _ in 0..2 {
                cache.insert(&token(i), cache.epoch(), claims("bob"));
            }
            i += 1;
        }
        i
    }

    #[test]
    fn bounded_by_bytes() {
        let cache = seeded(64 * TOKEN_CACHE_ENTRY_BYTES);
        for i in 0..10_000 {
            // Each token twice: admitted, then the cache must evict.
            for _ in 0..2 {
                cache.insert(&token(i), cache.epoch(), claims("bob"));
            }
            assert!(cache.bytes() <= cache.budget());
        }
        // Small claims weigh less than a typical token: more of them fit, never more bytes.
        let each = entry_bytes(&token(0), &claims("bob")) as u64;
        assert!(
            cache.len() as u64 <= cache.budget() / each,
            "{}",
            cache.len()
        );
        assert!(cache.len() > 32, "{}", cache.len());
    }

    #[test]
    fn an_entry_is_charged_its_bytes() {
        let small = entry_bytes("a.b.c", &claims("bob"));
        assert_eq!(small, 5 + ENTRY_OVERHEAD_BYTES + 3);
        let big: Claims = serde_json::from_value(serde_json::json!({
            "sub": "bob", "exp": 100, "jti": "j".repeat(100), "scopes": ["s".repeat(50)],
            "tenant": { "name": "n".repeat(200) },
        }))
        .unwrap();
        assert!(entry_bytes("a.b.c", &big) > small + 350);
    }

    #[test]
    fn while_there_is_room_every_token_is_cached() {
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
        cache.insert(&token(1), cache.epoch(), claims("alice"));
        assert_eq!(cache.get(&token(1)).unwrap().sub, "alice");
    }

    #[test]
    fn once_full_a_token_seen_once_is_not_cached_and_seen_twice_is() {
        let cache = seeded(1024 * TOKEN_CACHE_ENTRY_BYTES);
        let filled = fill(&cache);
        // The tokens `fill` recorded are forgotten: `once` cannot be taken for seen, nor be
        // the token that ends the window (and forgets its own first sight).
        cache.forget_seen();
        let (len, bytes) = (cache.len(), cache.bytes());
        let once = token(filled);
        cache.insert(&once, cache.epoch(), claims("carol"));
        assert!(cache.get(&once).is_none());
        assert_eq!((cache.len(), cache.bytes()), (len, bytes));
        // Seen again within the window: admitted.
        cache.insert(&once, cache.epoch(), claims("carol"));
        assert_eq!(cache.get(&once).unwrap().sub, "carol");
        // Many tokens seen once: the filter's false positives (under 2 % at the end of a
        // window) are all that get in.
        let admitted = (filled + 1..filled + 1001)
            .filter(|&i| {
                cache.insert(&token(i), cache.epoch(), claims("carol"));
                cache.get(&token(i)).is_some()
            })
            .count();
        assert!(
            admitted <= 50,
            "{admitted} of 1000 tokens seen once were cached"
        );
    }

    #[test]
    fn emptying_the_cache_makes_room_again() {
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
        let filled = fill(&cache);
        cache.invalidate();
        cache.insert(&token(filled), cache.epoch(), claims("dave"));
        assert_eq!(cache.get(&token(filled)).unwrap().sub, "dave");
    }

    #[test]
    fn remove_forgets() {
        let cache = seeded(16 * TOKEN_CACHE_ENTRY_BYTES);
        cache.insert("t", cache.epoch(), claims("carol"));
        cache.remove("t");
        assert!(cache.get("t").is_none());
    }
}
