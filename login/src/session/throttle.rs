//! The store side of login throttling: the [`ThrottleStore`] trait (failure counters with an
//! exponential back-off, kept where the sessions are) and [`MemoryThrottle`], its bounded
//! in-process implementation. The settings and the request side are in
//! [`login::throttle`](crate::throttle).
//!
//! A counter is charged *before* the password is checked: [`ThrottleStore::attempt`] checks
//! every counter of an attempt and, if none is in back-off, counts the attempt as a failure on
//! each, in one atomic step (so concurrent attempts cannot all pass the check). A login that
//! succeeds then calls [`ThrottleStore::succeeded`], which forgets the counters it resets and
//! takes the charge back from the others.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::store::StoreFuture;

/// One counter an attempt is judged by: its key and its limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// The counter's key (`a:`, `i:`, `p:` or `d:` and a hash or an address; the store adds
    /// its own prefix).
    pub key: String,
    /// Failures allowed before the first back-off.
    pub free: u32,
    /// The first back-off, in seconds (doubled by each further failure).
    pub first: u64,
    /// The longest back-off, in seconds.
    pub ceiling: u64,
    /// How long, in seconds, a counter is remembered after its back-off ends without a new
    /// failure.
    pub window: u64,
}

impl Counter {
    /// The back-off after `failures` failures: none below `free`, then `first`, doubled by
    /// each further failure, at most `ceiling`.
    pub fn backoff(&self, failures: u64) -> u64 {
        let Some(extra) = failures.checked_sub(u64::from(self.free)) else {
            return 0;
        };
        let doubled = if extra >= 63 {
            u64::MAX
        } else {
            self.first.saturating_mul(1 << extra)
        };
        doubled.min(self.ceiling)
    }

    /// How long the counter is kept after a failure at `failures`: its back-off and the window.
    pub fn ttl(&self, failures: u64) -> u64 {
        self.backoff(failures).saturating_add(self.window).max(1)
    }
}

/// Where the failure counters live. [`MemoryStore`](super::MemoryStore) and `RedisStore` have
/// one ([`SessionStore::throttle_store`](super::SessionStore::throttle_store)); a manager
/// whose session store has none (or without sessions) uses a [`MemoryThrottle`] of its own.
///
/// Times are seconds since the Unix epoch, from the manager's clock.
pub trait ThrottleStore: Send + Sync + 'static {
    /// Checks `counters` at `now`: if one is in back-off, answers `Some(seconds)` (the longest
    /// wait, at least 1) and changes nothing; otherwise counts one failure on each (its
    /// time `now`, kept for [`Counter::ttl`]) and answers `None`. One atomic step.
    fn attempt(&self, counters: Vec<Counter>, now: i64) -> StoreFuture<'_, Option<u64>>;

    /// A login succeeded: forgets the counters keyed `reset`, and takes one failure back from
    /// those keyed `refund` (the charge [`attempt`](Self::attempt) made).
    fn succeeded(&self, reset: Vec<String>, refund: Vec<String>) -> StoreFuture<'_, ()>;
}

/// The default bound of a [`MemoryThrottle`]: 65 536 counters (a few MiB).
pub(crate) const DEFAULT_MEMORY_COUNTERS: usize = 65_536;

/// Failure counters in this process's memory, at most a fixed number of them.
///
/// When full, the expired counters are dropped first; if that is not enough, the half with
/// the fewest failures goes (a flood of distinct user names or addresses, each failing once,
/// cannot push out the counter of an account under attack). Each counter is a fixed size
/// (its key is a hash or an address), so the bound is in bytes too.
#[derive(Debug)]
pub struct MemoryThrottle {
    capacity: usize,
    counters: Mutex<HashMap<String, Entry>>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u64,
    last: i64,
    expires: i64,
}

impl Default for MemoryThrottle {
    fn default() -> Self {
        MemoryThrottle::with_capacity(DEFAULT_MEMORY_COUNTERS)
    }
}

impl MemoryThrottle {
    /// Counters in memory, at most `capacity` of them (at least 16).
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryThrottle {
            capacity: capacity.max(16),
            counters: Mutex::new(HashMap::new()),
        }
    }

    /// How many counters are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no counter is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most counters kept at once.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The attempt, synchronously (see [`ThrottleStore::attempt`]).
    pub(crate) fn attempt_now(&self, counters: &[Counter], now: i64) -> Option<u64> {
        let mut map = self.lock();
        let mut wait = 0u64;
        for counter in counters {
            if let Some(entry) = map.get(&counter.key).filter(|e| e.expires > now) {
                let until = entry
                    .last
                    .saturating_add(counter.backoff(entry.failures) as i64);
                wait = wait.max(until.saturating_sub(now).max(0) as u64);
            }
        }
        if wait > 0 {
            return Some(wait);
        }
        let missing = counters
            .iter()
            .filter(|c| !map.contains_key(&c.key))
            .count();
        if map.len() + missing > self.capacity {
            make_room(&mut map, self.capacity, now);
        }
        for counter in counters {
            let entry = map.entry(counter.key.clone()).or_insert(Entry {
                failures: 0,
                last: now,
                expires: now,
            });
            if entry.expires <= now {
                entry.failures = 0;
            }
            entry.failures += 1;
            entry.last = now;
            entry.expires = now.saturating_add(counter.ttl(entry.failures) as i64);
        }
        None
    }

    pub(crate) fn succeeded_now(&self, reset: &[String], refund: &[String]) {
        let mut map = self.lock();
        for key in reset {
            map.remove(key);
        }
        for key in refund {
            if let Some(entry) = map.get_mut(key) {
                entry.failures = entry.failures.saturating_sub(1);
            }
        }
    }
}

/// Drops the expired counters, then, if still over half full, the half with the fewest
/// failures: O(n) once every n/2 new counters at worst.
fn make_room(map: &mut HashMap<String, Entry>, capacity: usize, now: i64) {
    map.retain(|_, entry| entry.expires > now);
    if map.len() <= capacity / 2 {
        return;
    }
    let mut failures: Vec<u64> = map.values().map(|e| e.failures).collect();
    let keep = capacity / 2;
    let drop = failures.len() - keep;
    let (_, &mut threshold, _) = failures.select_nth_unstable(drop);
    // Below the threshold all go; at it, as many as needed.
    let mut at_threshold = drop - map.values().filter(|e| e.failures < threshold).count();
    map.retain(|_, entry| {
        if entry.failures < threshold {
            false
        } else if entry.failures == threshold && at_threshold > 0 {
            at_threshold -= 1;
            false
        } else {
            true
        }
    });
}

impl ThrottleStore for MemoryThrottle {
    fn attempt(&self, counters: Vec<Counter>, now: i64) -> StoreFuture<'_, Option<u64>> {
        let verdict = self.attempt_now(&counters, now);
        Box::pin(async move { Ok(verdict) })
    }

    fn succeeded(&self, reset: Vec<String>, refund: Vec<String>) -> StoreFuture<'_, ()> {
        self.succeeded_now(&reset, &refund);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counter(key: &str, free: u32) -> Counter {
        Counter {
            key: key.to_owned(),
            free,
            first: 2,
            ceiling: 60,
            window: 900,
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_ceiling() {
        let c = counter("a", 3);
        let waits: Vec<u64> = (0..10).map(|n| c.backoff(n)).collect();
        assert_eq!(waits, [0, 0, 0, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(c.backoff(u64::MAX), 60);
        assert_eq!(c.ttl(0), 900);
        assert_eq!(c.ttl(9), 960);
    }

    #[test]
    fn an_attempt_in_backoff_changes_nothing_and_a_success_resets() {
        let store = MemoryThrottle::default();
        let a = counter("a", 2);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 100), None);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 100), None);
        // Two failures: the third attempt waits 2 s, however often it is tried.
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 100), Some(2));
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 101), Some(1));
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 102), None);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 102), Some(4));
        store.succeeded_now(&["a".to_owned()], &[]);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 102), None);
    }

    #[test]
    fn the_longest_wait_of_the_counters_is_answered_and_a_refund_takes_one_back() {
        let store = MemoryThrottle::default();
        let (a, b) = (counter("a", 1), counter("b", 2));
        let both = [a.clone(), b.clone()];
        assert_eq!(store.attempt_now(&both, 0), None);
        assert_eq!(store.attempt_now(&both, 0), Some(2));
        store.succeeded_now(&["a".to_owned()], &["b".to_owned()]);
        // `b` is back at zero failures, `a` forgotten.
        assert_eq!(store.attempt_now(&both, 0), None);
        assert_eq!(store.attempt_now(std::slice::from_ref(&b), 0), None);
        assert_eq!(store.attempt_now(std::slice::from_ref(&b), 0), Some(2));
    }

    #[test]
    fn a_counter_is_forgotten_a_window_after_its_backoff() {
        let store = MemoryThrottle::default();
        let a = counter("a", 1);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 0), None);
        // One failure: a 2 s back-off, then kept 900 s more.
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 0), Some(2));
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 902), None);
        assert_eq!(store.attempt_now(std::slice::from_ref(&a), 902), Some(2));
    }

    /// A flood of distinct keys keeps the map within its bound, and the counter with many
    /// failures survives it.
    #[test]
    fn a_flood_of_distinct_keys_stays_bounded_and_keeps_the_heavy_counter() {
        let store = MemoryThrottle::with_capacity(1000);
        let target = counter("target", 1_000_000);
        for _ in 0..50 {
            assert_eq!(store.attempt_now(std::slice::from_ref(&target), 0), None);
        }
        for i in 0..100_000 {
            store.attempt_now(&[counter(&format!("flood{i}"), 5)], 0);
            assert!(store.len() <= 1000, "{} counters", store.len());
        }
        assert_eq!(store.lock().get("target").map(|e| e.failures), Some(50));
    }
}
