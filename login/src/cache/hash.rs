//! The cache's hash of a token: a keyed multiply-xorshift mix of the token's last
//! [`HASHED_BYTES`] bytes, for the map and the doorkeeper.
//!
//! Those bytes are base64url of the signature (96 bits): only verified tokens are inserted or
//! recorded, and nobody but the key holder makes a valid signature, so nobody can choose keys
//! that crowd a bucket or aim at the doorkeeper's bits; the random seeds (drawn from the
//! operating system's randomness through the standard library's `RandomState`) keep even the
//! key holder from predicting where a token lands. A few nanoseconds, where SipHash of the
//! same bytes took tens: on a miss (a token seen once) the cache's whole cost is this hash, a
//! shard's read lock and one probe.

use std::hash::{BuildHasher, Hasher};

/// How many bytes at the end of a token are hashed (all of it when shorter).
pub(crate) const HASHED_BYTES: usize = 16;

/// The part of a token that is hashed.
pub(super) fn hashed_part(token: &str) -> &[u8] {
    let bytes = token.as_bytes();
    &bytes[bytes.len().saturating_sub(HASHED_BYTES)..]
}

/// Two random 64-bit seeds.
#[derive(Clone, Copy)]
pub(super) struct Seeds([u64; 2]);

impl Seeds {
    pub(super) fn random() -> Self {
        let state = std::collections::hash_map::RandomState::new();
        let seed = |n: u64| state.hash_one(n) | 1;
        Seeds([seed(1), seed(2)])
    }

    /// Given seeds, for tests whose outcome must not depend on a draw.
    #[cfg(test)]
    pub(super) const fn fixed(a: u64, b: u64) -> Self {
        Seeds([a | 1, b | 1])
    }

    /// The hash of `bytes` (at most [`HASHED_BYTES`] of them are read: the last ones).
    pub(super) fn hash(&self, bytes: &[u8]) -> u64 {
        let tail = &bytes[bytes.len().saturating_sub(HASHED_BYTES)..];
        let mut words = [0u8; HASHED_BYTES];
        words[HASHED_BYTES - tail.len()..].copy_from_slice(tail);
        let (a, b) = words.split_at(8);
        let a = u64::from_le_bytes(a.try_into().expect("8 bytes")) ^ self.0[0];
        let b = u64::from_le_bytes(b.try_into().expect("8 bytes")) ^ self.0[1];
        let product = u128::from(a) * u128::from(b);
        let mixed = product as u64 ^ (product >> 64) as u64;
        mixed ^ (mixed >> 29) ^ (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
}

/// The map's hasher: [`Seeds::hash`] of what the key writes (its [`hashed_part`]).
#[derive(Clone, Copy)]
pub(super) struct BuildSuffixHasher(pub(super) Seeds);

pub(super) struct SuffixHasher {
    seeds: Seeds,
    state: u64,
}

impl BuildHasher for BuildSuffixHasher {
    type Hasher = SuffixHasher;

    fn build_hasher(&self) -> SuffixHasher {
        SuffixHasher {
            seeds: self.0,
            state: 0,
        }
    }
}

impl Hasher for SuffixHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Keys write once; anything else is folded in all the same.
        self.state = self.state.rotate_left(23) ^ self.seeds.hash(bytes);
    }

    fn finish(&self) -> u64 {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Fixed seeds (digits of pi and of the golden ratio), so that the statistics below are
    /// the same on every run.
    const SEEDS: [Seeds; 3] = [
        Seeds::fixed(0x243f_6a88_85a3_08d3, 0x1319_8a2e_0370_7344),
        Seeds::fixed(0xa409_3822_299f_31d0, 0x082e_fa98_ec4e_6c89),
        Seeds::fixed(0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9),
    ];

    #[test]
    fn spreads_base64_tails() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for seeds in SEEDS {
            // Tails that differ in one character only: each lands in its own bucket of 2^12.
            let mut buckets = HashSet::new();
            for position in 0..HASHED_BYTES {
                for &c in alphabet {
                    let mut tail = *b"aaaaaaaaaaaaaaaa";
                    tail[position] = c;
                    buckets.insert(seeds.hash(&tail) & 0xfff);
                }
            }
            // 1,024 distinct tails (less the 16 identical ones) in 4,096 buckets: about 12 %
            // collide at random.
            assert!(buckets.len() > 850, "{}", buckets.len());
        }
    }

    #[test]
    fn seeded() {
        let (a, b) = (Seeds::random(), Seeds::random());
        assert_ne!(a.hash(b"signature-bytes!"), b.hash(b"signature-bytes!"));
        assert_eq!(a.hash(b"x.signature-bytes!"), a.hash(b"y.signature-bytes!"));
    }
}
