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
//! The filter is shared by every thread: its bits are atomics set with `fetch_or`; a clear that
//! races with a record may lose that record (the token is then admitted on its next sight).
//! False positives (a token seen once admitted) are under 1.5 % at the end of a window and
//! fewer before.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Bits of filter per token of the window.
const BITS_PER_TOKEN: usize = 16;

/// How many bytes at the end of a token the doorkeeper hashes: 16 characters of the signature
/// (96 bits of base64url). Only verified tokens are recorded, and nobody but the key holder
/// chooses a valid token's signature, so nobody can aim at the filter's bits.
const HASHED_BYTES: usize = 16;

pub(super) struct Doorkeeper {
    bits: Box<[AtomicU64]>,
    /// `bits.len() * 64 - 1`: the filter's size is a power of two.
    mask: u64,
    seeds: [u64; 2],
    recorded: AtomicUsize,
    window: usize,
}

impl Doorkeeper {
    /// A doorkeeper that forgets after `window` recorded tokens.
    pub(super) fn new(window: usize) -> Self {
        let window = window.max(1);
        let bits = (window * BITS_PER_TOKEN).next_power_of_two().max(64);
        let state = std::collections::hash_map::RandomState::new();
        let seed = |n: u64| std::hash::BuildHasher::hash_one(&state, n) | 1;
        Doorkeeper {
            bits: (0..bits / 64).map(|_| AtomicU64::new(0)).collect(),
            mask: bits as u64 - 1,
            seeds: [seed(1), seed(2)],
            recorded: AtomicUsize::new(0),
            window,
        }
    }

    /// Records `token`; whether it had been recorded before (within the window).
    pub(super) fn seen_before(&self, token: &str) -> bool {
        let hash = self.hash(token);
        let mut seen = true;
        for position in [
            hash & self.mask,
            (hash >> 32 ^ hash.rotate_left(17)) & self.mask,
        ] {
            let (word, bit) = ((position / 64) as usize, 1u64 << (position % 64));
            if self.bits[word].load(Ordering::Relaxed) & bit == 0 {
                seen = false;
                self.bits[word].fetch_or(bit, Ordering::Relaxed);
            }
        }
        if !seen && self.recorded.fetch_add(1, Ordering::Relaxed) + 1 >= self.window {
            self.clear();
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

    /// A keyed hash of the token's last [`HASHED_BYTES`] bytes (a multiply-xorshift mix of two
    /// words, each under its own random seed).
    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        let tail = &bytes[bytes.len().saturating_sub(HASHED_BYTES)..];
        let mut words = [0u8; HASHED_BYTES];
        words[HASHED_BYTES - tail.len()..].copy_from_slice(tail);
        let (a, b) = words.split_at(8);
        let a = u64::from_le_bytes(a.try_into().expect("8 bytes")) ^ self.seeds[0];
        let b = u64::from_le_bytes(b.try_into().expect("8 bytes")) ^ self.seeds[1];
        let mixed = (a as u128 * b as u128) as u64 ^ ((a as u128 * b as u128) >> 64) as u64;
        mixed ^ (mixed >> 29) ^ (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_sight_is_admitted() {
        let door = Doorkeeper::new(1024);
        assert!(!door.seen_before("header.payload.signature-one-0123456789"));
        assert!(door.seen_before("header.payload.signature-one-0123456789"));
        assert!(!door.seen_before("header.payload.signature-two-0123456789"));
    }

    #[test]
    fn forgets_after_the_window() {
        let door = Doorkeeper::new(100);
        assert!(!door.seen_before("token-first"));
        for i in 0..100 {
            door.seen_before(&format!("other-token-{i:08}"));
        }
        assert!(!door.seen_before("token-first"));
    }

    #[test]
    fn few_false_positives() {
        let door = Doorkeeper::new(10_000);
        let fresh = (0..9_000)
            .filter(|i| door.seen_before(&format!("a.b.signature-{i:012}")))
            .count();
        // 9,000 tokens in a filter of 262,144 bits: about 0.2 % expected.
        assert!(fresh < 200, "{fresh} of 9000 new tokens taken for seen");
    }
}
