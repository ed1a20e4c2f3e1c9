//! [`Argon2id`]: the default [`PasswordScheme`], with its memory blocks reused.
//!
//! Argon2 needs `m` KiB of working memory per job (19 MiB by default). Allocated and freed by
//! every job, that memory stays with the allocator: glibc serves a freed 19 MiB block to the
//! thread's own arena again, so each blocking thread that ever hashed keeps one, and a process
//! that hashed on many threads keeps many. Here each job borrows a buffer from a pool owned by
//! the scheme and gives it back: there are never more buffers than jobs that ran at once
//! (which [`Passwords`](super::Passwords) bounds), and none is freed and reallocated.

use std::fmt;
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Argon2, Block, Params, Version};

use super::{
    MAX_STORED_M_COST, MAX_STORED_P_COST, MAX_STORED_T_COST, PasswordError, PasswordScheme,
};

/// The most buffers a pool keeps (beyond it, buffers are freed after use).
const MAX_POOLED: usize = 64;

/// Argon2's working memory, reused from job to job.
struct BlockPool {
    /// The size of the pooled buffers, in blocks (KiB): the scheme's own `m`.
    blocks: usize,
    free: Mutex<Vec<Box<[Block]>>>,
}

impl BlockPool {
    fn new(blocks: usize) -> Self {
        BlockPool {
            blocks,
            free: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` with `needed` blocks of memory: a pooled buffer, or for a hash that asks for
    /// more than the scheme's own `m` (an old hash made with more memory), a one-off one.
    fn with<R>(&self, needed: usize, f: impl FnOnce(&mut [Block]) -> R) -> R {
        if needed > self.blocks {
            let mut one_off = vec![Block::new(); needed];
            return f(&mut one_off);
        }
        let pooled = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut buffer =
            pooled.unwrap_or_else(|| vec![Block::new(); self.blocks].into_boxed_slice());
        let result = f(&mut buffer[..needed]);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < MAX_POOLED {
            free.push(buffer);
        }
        result
    }

    #[cfg(test)]
    fn pooled(&self) -> usize {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Argon2id (RFC 9106) with OWASP's parameters by default: m=19456 KiB, t=2, p=1, 16-byte salt,
/// 32-byte output. Verifies any Argon2 variant (`argon2id`, `argon2i`, `argon2d`, versions 0x10
/// and 0x13) within the stored-parameter limits (at most 256 MiB of memory, 16 passes and 16
/// lanes), and flags every hash not made with its own parameters for rehashing.
///
/// Its working memory is reused: a clone shares its buffers, and it keeps one buffer per job
/// that ran at the same time (see [`Passwords`](super::Passwords), which bounds them).
#[derive(Clone)]
pub struct Argon2id {
    params: Params,
    pool: Arc<BlockPool>,
}

impl Default for Argon2id {
    fn default() -> Self {
        Self::with_params(Params::default())
    }
}

impl fmt::Debug for Argon2id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Argon2id")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Argon2id {
    fn eq(&self, other: &Self) -> bool {
        self.params == other.params
    }
}

impl Eq for Argon2id {}

impl Argon2id {
    /// Argon2id with memory cost `m_cost_kib` (KiB), `t_cost` passes and `p_cost` lanes (see
    /// OWASP's Password Storage cheat sheet for equivalent choices).
    ///
    /// Through [`Passwords`](super::Passwords), these are also the most a stored hash may
    /// cost (memory × passes): a costlier one fails closed after the usual work, since
    /// verified at its own cost its login would take longer than an unknown user's and timing
    /// would tell which accounts exist. Choose parameters at least as costly as your costliest
    /// stored hashes (passlib's `argon2`: `Argon2id::new(65536, 3, 4)`).
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, PasswordError> {
        Params::new(m_cost_kib, t_cost, p_cost, None)
            .map(Self::with_params)
            .map_err(|_| PasswordError::Params)
    }

    fn with_params(params: Params) -> Self {
        let pool = Arc::new(BlockPool::new(params.block_count()));
        Argon2id { params, pool }
    }

    /// How many working-memory buffers the scheme keeps for reuse.
    #[cfg(test)]
    pub(super) fn pooled_buffers(&self) -> usize {
        self.pool.pooled()
    }

    /// The stored hash, parsed, if it is an Argon2 hash within the resource limits.
    fn parse(&self, stored: &str) -> Option<(PasswordHash, Params)> {
        let parsed = PasswordHash::new(stored).ok()?;
        argon2::Algorithm::try_from(parsed.algorithm.as_str()).ok()?;
        if let Some(version) = parsed.version {
            Version::try_from(version).ok()?;
        }
        parsed.salt.as_ref()?;
        parsed.hash.as_ref()?;
        let params = Params::try_from(&parsed).ok()?;
        let within = params.m_cost() <= MAX_STORED_M_COST.max(self.params.m_cost())
            && params.t_cost() <= MAX_STORED_T_COST.max(self.params.t_cost())
            && params.p_cost() <= MAX_STORED_P_COST.max(self.params.p_cost());
        within.then_some((parsed, params))
    }

    /// Argon2 of `password` and `salt` into `out`, in pooled memory.
    fn compute(
        &self,
        argon: &Argon2<'_>,
        blocks: usize,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), argon2::Error> {
        self.pool.with(blocks, |memory| {
            argon.hash_password_into_with_memory(password, salt, out, memory)
        })
    }
}

/// The work of one Argon2 run with `params`: blocks (KiB) × passes.
fn work_of(params: &Params) -> u64 {
    params.block_count() as u64 * u64::from(params.t_cost())
}

impl PasswordScheme for Argon2id {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        let argon = Argon2::new(
            argon2::Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        );
        let salt: [u8; 16] = crate::secret::random_bytes();
        let mut out = vec![
            0u8;
            self.params
                .output_len()
                .unwrap_or(Params::DEFAULT_OUTPUT_LEN)
        ];
        self.compute(&argon, self.params.block_count(), password, &salt, &mut out)
            .map_err(|_| PasswordError::Hash)?;
        let hash = PasswordHash {
            algorithm: argon2::Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params).map_err(|_| PasswordError::Hash)?,
            salt: Some(Salt::new(&salt).map_err(|_| PasswordError::Hash)?),
            hash: Some(Output::new(&out).map_err(|_| PasswordError::Hash)?),
        };
        Ok(hash.to_string())
    }

    fn can_verify(&self, stored: &str) -> bool {
        self.parse(stored).is_some()
    }

    fn verify(&self, password: &[u8], stored: &str) -> bool {
        // Algorithm, version and parameters come from the stored hash (checked by `parse`).
        let Some((parsed, params)) = self.parse(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = argon2::Algorithm::try_from(parsed.algorithm.as_str()) else {
            return false;
        };
        let version = parsed
            .version
            .and_then(|v| Version::try_from(v).ok())
            .unwrap_or_default();
        let blocks = params.block_count();
        let argon = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        if self
            .compute(&argon, blocks, password, salt, &mut out)
            .is_err()
        {
            return false;
        }
        // `Output`'s equality is constant-time.
        Output::new(&out).is_ok_and(|computed| computed == *expected)
    }

    fn needs_rehash(&self, stored: &str) -> bool {
        let Some((parsed, params)) = self.parse(stored) else {
            return true;
        };
        parsed.algorithm.as_str() != argon2::Algorithm::Argon2id.as_str()
            || parsed.version != Some(Version::V0x13.into())
            || params.m_cost() != self.params.m_cost()
            || params.t_cost() != self.params.t_cost()
            || params.p_cost() != self.params.p_cost()
            || params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)
                != self
                    .params
                    .output_len()
                    .unwrap_or(Params::DEFAULT_OUTPUT_LEN)
    }

    /// Blocks (KiB of memory) × passes of the stored hash's parameters.
    fn cost(&self, stored: &str) -> u64 {
        self.parse(stored).map_or(0, |(_, params)| work_of(&params))
    }

    /// One Argon2id run with this scheme's passes and lanes = 1, and just enough memory for
    /// `work` (rounded up to whole segments: less than 4 × t blocks more), never more than the
    /// scheme's own memory when `work` is at most one verification's.
    fn spend(&self, password: &[u8], work: u64) {
        if let Some(params) = self.padding_params(work) {
            let argon = Argon2::new(argon2::Algorithm::Argon2id, Version::V0x13, params.clone());
            let salt: [u8; 16] = crate::secret::random_bytes();
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            let _ = self.compute(&argon, params.block_count(), password, &salt, &mut out);
        }
    }
}

impl Argon2id {
    /// The parameters of a run that costs at least `work` (`None` for no work).
    pub(super) fn padding_params(&self, work: u64) -> Option<Params> {
        if work == 0 {
            return None;
        }
        let t = self.params.t_cost();
        let blocks = work.div_ceil(u64::from(t)).next_multiple_of(4);
        let m = u32::try_from(blocks)
            .unwrap_or(u32::MAX)
            .max(Params::MIN_M_COST);
        Params::new(m, t, 1, None).ok()
    }
}
