//! The token cache's admission rule: a doorkeeper, as in TinyLFU (Einziger, Friedman and
//! Manes, 2017).
//!
//! Once the cache is full, every insert evicts an entry, so inserting a token that is never
//! seen again costs an insert and an eviction and saves nothing. The doorkeeper remembers the
//! tokens verified since it was last cleared in a small Bloom filter (two bits per token, about
//! sixteen bits per typical entry of the cache): a token is admitted on its second verification within a
//! window, not on its first. After `window` tokens have been recorded, the filter is cleared,
//! so a token must come back within about one cache's worth of other new tokens, the reuse
//! distance at which a cache of this size could serve it anyway.
//!
//! The filter is shared by every thread: its bits are atomic words, read and written with
//! plain (relaxed) loads and stores; a record that races with another in the same word, or
//! with a clear, may be lost (that token is then admitted one sight later).
//! False positives (a token seen once admitted) are under 1.5 % at the end of a window and
//! fewer before.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::hash::Seeds;

/// Bits of filter per token of the window.
const BITS_PER_TOKEN: usize = 16;

pub(super) struct Doorkeeper {
    bits: Box<[AtomicU64]>,
    /// `bits.len() * 64 - 1`: the filter's size is a power of two.
    mask: u64,
    seeds: Seeds,
    recorded: AtomicUsize,
    window: usize,
}

impl Doorkeeper {
    /// A doorkeeper that forgets after `window` recorded tokens, hashing under `seeds`.
    pub(super) fn new(window: usize, seeds: Seeds) -> Self {
        let window = window.max(1);
        let bits = (window * BITS_PER_TOKEN).next_power_of_two().max(64);
        Doorkeeper {
            bits: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
            seeds,
            recorded: AtomicUsize::new(0),
            window,
        }
    }

    /// Records `token`; whether it had been recorded before (within the window).
    pub(super) fn seen_before(&self, token: &str) -> bool {
        let hash = self.seeds.hash(token.as_bytes());
        let mut seen = true;
        for position in [
            hash & self.mask,
            (hash >> 32 ^ hash.rotate_left(17)) & self.mask,
        ] {
            let (word, bit) = (
                &self.bits[(position / 64) as usize],
                1u64 << (position % 64),
            );
            let bits = word.load(Ordering::Relaxed);
            if bits & bit == 0 {
                seen = false;
                // A plain store, not `fetch_or`: a bit another thread sets in the same word at
                // the same instant may be lost (that token is admitted one sight later), and
                // the miss path pays no read-modify-write.
                word.store(bits | bit, Ordering::Relaxed);
            }
        }
        if !seen {
            // Counted the same way: a lost increment only makes the window a little longer.
            let recorded = self.recorded.load(Ordering::Relaxed) + 1;
            if recorded >= self.window {
                self.clear();
            } else {
                self.recorded.store(recorded, Ordering::Relaxed);
            }
        }
        seen
    }

    /// Forgets every token.
    pub(super) fn clear(&self) {
        self.recorded.store(0, Ordering::Relaxed);
        for word in &self.bits {
            word.store(0, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A doorkeeper under fixed seeds: which tokens collide is the same on every run.
    fn doorkeeper(window: usize) -> Doorkeeper {
        Doorkeeper::new(
            window,
            Seeds::fixed(0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9),
        )
    }

    #[test]
    fn second_sight_is_admitted() {
        let door = doorkeeper(1024);
        assert!(!door.seen_before("header.payload.signature-one-0123456789"));
        assert!(door.seen_before("header.payload.signature-one-0123456789"));
        assert!(!door.seen_before("header.payload.signature-two-0123456789"));
    }

    #[test]
    fn forgets_after_the_window() {
        // The window counts tokens recorded: a false positive (a new token taken for seen)
        // records nothing. So new tokens are shown until the count is reached, however many
        // of them the filter takes for seen.
        let window = 100;
        let door = doorkeeper(window);
        let mut others = (0..10 * window).map(|i| format!("other-token-{i:08}"));
        let mut record_another = || {
            others
                .by_ref()
                .find(|token| !door.seen_before(token))
                .expect("a new token is recorded")
        };
        assert!(!door.seen_before("token-first"));
        for _ in 2..window {
            record_another();
        }
        // One short of the window: still remembered (and a token seen again records nothing).
        assert!(door.seen_before("token-first"));
        assert!(door.seen_before("token-first"));
        // The window's last token clears the filter.
        record_another();
        assert!(!door.seen_before("token-first"));
    }

    #[test]
    fn few_false_positives() {
        let door = doorkeeper(10_000);
        let fresh = (0..9_000)
            .filter(|i| door.seen_before(&format!("a.b.signature-{i:012}")))
            .count();
        // 9,000 tokens in a filter of 262,144 bits: about 0.2 % expected.
        assert!(fresh < 200, "{fresh} of 9000 new tokens taken for seen");
    }
}
