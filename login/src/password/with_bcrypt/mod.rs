//! [`WithBcrypt`]: existing bcrypt hashes (passlib's `bcrypt`, as fastapi-login's docs make
//! them) verified with the same work as every other login, and upgraded at the next one.
//!
//! # Equal work across two algorithms
//!
//! An unknown user is checked against an Argon2id dummy hash; a user with a bcrypt hash costs a
//! bcrypt run. The two take very different times — thread CPU time, medians, on a quiet 2-core
//! machine (`cargo bench -p login --features bcrypt --bench passwords`): Argon2id m=19456,
//! t=2 11 ms; bcrypt cost 10 48 ms (4.2×), cost 12 197 ms (17×) — and no conversion rate
//! between them holds on every CPU. So every verification does **both**: one verification of the inner scheme
//! (against the stored hash, or the inner dummy for a bcrypt hash) and bcrypt work of
//! `2^cost` rounds at the configured cost (the check of the stored bcrypt hash, topped up with
//! runs at lower costs when it is cheaper, or a padding run). The work is then the same
//! on every path, on every machine, counted in each algorithm's own unit.

use std::fmt;

use super::{PasswordError, PasswordScheme};

/// The smallest and largest costs bcrypt allows.
const COSTS: std::ops::RangeInclusive<u32> = 4..=31;

/// A [`PasswordScheme`] that verifies existing bcrypt hashes besides the hashes of its inner
/// scheme (by default [`Argon2id`](super::Argon2id)), flags them for rehashing, and makes new
/// hashes with the inner scheme only: each bcrypt user moves to Argon2id at their next
/// successful login (the login route's [`needs_rehash`](super::Passwords::needs_rehash), or
/// [`Authenticated::new_password_hash`](crate::Authenticated::new_password_hash)).
///
/// ```
/// # fn main() -> Result<(), login::password::PasswordError> {
/// use login::password::{Argon2id, Passwords, WithBcrypt};
///
/// // passlib's CryptContext(schemes=["bcrypt"]) hashes with cost ("rounds") 12.
/// let passwords = Passwords::new(WithBcrypt::new(Argon2id::default(), 12)?)?;
/// let stored = "$2b$04$U8Sy4aiE/7KLTBeyvzLSkuqTuh6JiH5gjGFrf.qF25Ur2.mTOvpYS"; // passlib, "hunter2"
/// assert_eq!(passwords.verify_blocking("hunter2", Some(stored)), Ok(true));
/// assert_eq!(passwords.verify_blocking("hunter3", Some(stored)), Ok(false));
/// assert!(passwords.needs_rehash(stored));          // → store passwords.hash("hunter2")
/// # Ok(()) }
/// ```
///
/// **What verifies.** `$2b$` (what passlib and pyca `bcrypt` write), `$2a$` and `$2y$`
/// (crypt_blowfish's name for the same, correct algorithm), with a cost from 4 to the
/// configured cost. **Refused** (failing
/// closed like a malformed hash): `$2x$`, crypt_blowfish's mark for hashes made by its
/// pre-2011 sign-extension bug, which the correct algorithm would check wrongly for any
/// non-ASCII password (passlib refuses them too); `$2$`, bcrypt's first format, which no
/// current library writes; and every other passlib format (`bcrypt_sha256`, `pbkdf2_sha256`,
/// `sha256_crypt`, …). passlib's `argon2` writes standard PHC strings, which the inner
/// [`Argon2id`](super::Argon2id) already verifies.
///
/// **Long passwords.** bcrypt uses only the first 72 bytes of the password (UTF-8): like
/// passlib 1.7 (without `truncate_error`), a longer password is checked on its first 72
/// bytes, so a password differing only after them matches too. The upgrade hashes the whole
/// password the user typed, which from then on must match in full. A password with a NUL byte
/// (which passlib refuses to hash) never matches a bcrypt hash: `Ok(false)`, like any wrong
/// password, after the same work — an error would tell that the account has a bcrypt hash.
///
/// **Cost of every login.** Every verification does one inner verification *and* bcrypt work
/// at the configured cost (see the module docs of [`password`](super)), even for users already
/// on Argon2id and for unknown users: that is what keeps them indistinguishable by timing. With
/// the defaults and cost 12, a login costs about 18 times the work of a plain Argon2id one
/// (205 ms of a core instead of 11 ms in the `passwords` bench; the unknown user, the bcrypt
/// user and the Argon2id user within 1 % of each other), so the same
/// [`PasswordLimits`](super::PasswordLimits) let about that many times fewer logins through
/// per second. Once no
/// bcrypt hash is left (or the remaining users must reset their passwords), go back to the
/// plain [`Argon2id`](super::Argon2id) scheme.
///
/// **The configured cost is the most a stored hash may ask for.** A bcrypt hash with a higher
/// cost fails closed (`Ok(false)`, logged at warn level) after the usual work: verified at its
/// own cost, its login would take longer than an unknown user's (each step of the cost
/// doubles the work), and timing would tell which accounts exist. Give `new` the cost of your
/// costliest stored hashes (passlib's default is 12).
#[derive(Clone)]
pub struct WithBcrypt<S = super::Argon2id> {
    inner: S,
    /// The bcrypt cost every verification spends.
    bcrypt_cost: u32,
    /// A hash of a random password made by the inner scheme: what a bcrypt user's login
    /// verifies against, so that it costs one inner verification too.
    inner_dummy: String,
    /// The inner scheme's cost of `inner_dummy`.
    inner_work: u64,
}

impl<S> fmt::Debug for WithBcrypt<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithBcrypt")
            .field("bcrypt_cost", &self.bcrypt_cost)
            .finish_non_exhaustive()
    }
}

impl<S: PasswordScheme> WithBcrypt<S> {
    /// `inner` for new hashes (and its own), plus bcrypt hashes, every verification spending
    /// bcrypt work at `bcrypt_cost`: the cost your existing hashes were made with, the highest
    /// if they differ, since a costlier stored hash fails closed (passlib's
    /// `bcrypt__rounds`, 12 by default; the `12` in `$2b$12$…`). Hashes the inner dummy
    /// password now (one hash). `Params` for a cost outside bcrypt's 4 to 31.
    pub fn new(inner: S, bcrypt_cost: u32) -> Result<Self, PasswordError> {
        if !COSTS.contains(&bcrypt_cost) {
            return Err(PasswordError::Params);
        }
        let random: [u8; 32] = crate::secret::random_bytes();
        let inner_dummy = inner.hash(&random)?;
        if !inner.can_verify(&inner_dummy) {
            return Err(PasswordError::Hash);
        }
        let inner_work = inner.cost(&inner_dummy);
        Ok(WithBcrypt {
            inner,
            bcrypt_cost,
            inner_dummy,
            inner_work,
        })
    }

    /// The bcrypt cost every verification spends.
    pub fn bcrypt_cost(&self) -> u32 {
        self.bcrypt_cost
    }

    /// The inner scheme.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The cost of `stored` if it is a bcrypt hash this scheme verifies: at most the
    /// configured cost. A costlier one would be verified at its own cost, longer than an
    /// unknown user's login, so timing would tell that the account exists (and a planted
    /// `$2b$31$…` would spin for days): it fails closed after the usual work instead.
    fn usable_cost(&self, stored: &str) -> Option<u32> {
        let cost = bcrypt_cost_of(stored)?;
        (cost <= self.bcrypt_cost).then_some(cost)
    }

    /// Bcrypt work that brings `done` rounds (a cost-`c` check: `2^c`) up to the configured
    /// cost's `2^cost`: runs at costs `c, c+1, …, cost-1` (their rounds add up to
    /// `2^cost - 2^c`), or one run at the configured cost when nothing was done.
    fn pad_bcrypt(&self, password: &[u8], done: Option<u32>) {
        let from = match done {
            Some(cost) => cost,
            None => {
                bcrypt_run(password, self.bcrypt_cost);
                return;
            }
        };
        for cost in from..self.bcrypt_cost {
            bcrypt_run(password, cost);
        }
    }
}

/// One bcrypt run at `cost` with a random salt, the result thrown away.
fn bcrypt_run(password: &[u8], cost: u32) {
    let salt: [u8; 16] = crate::secret::random_bytes();
    let _ = std::hint::black_box(bcrypt::hash_with_salt(password, cost, salt));
    #[cfg(test)]
    count::add(cost);
}

/// The cost of a well-formed `$2a$`, `$2b$` or `$2y$` hash (60 characters: the cost in two
/// digits, then 53 of bcrypt's base64), or `None`.
pub(super) fn bcrypt_cost_of(stored: &str) -> Option<u32> {
    let rest = ["$2a$", "$2b$", "$2y$"]
        .iter()
        .find_map(|ident| stored.strip_prefix(ident))?;
    let (cost, rest) = rest.split_at_checked(2)?;
    let tail = rest.strip_prefix('$')?;
    let alphabet = |c: u8| c == b'.' || c == b'/' || c.is_ascii_alphanumeric();
    if !cost.bytes().all(|c| c.is_ascii_digit()) || tail.len() != 53 || !tail.bytes().all(alphabet)
    {
        return None;
    }
    let cost: u32 = cost.parse().ok()?;
    // The bcrypt crate's own parse: salt and checksum decode (canonical base64, no stray
    // trailing bits), so that `verify` always runs the work.
    stored.parse::<bcrypt::HashParts>().ok()?;
    COSTS.contains(&cost).then_some(cost)
}

/// Whether `stored` looks like a bcrypt hash of any variant (`$2$`, `$2x$`, … included):
/// such a hash is never handed to the inner scheme.
pub(super) fn looks_like_bcrypt(stored: &str) -> bool {
    let Some(rest) = stored.strip_prefix("$2") else {
        return false;
    };
    rest.starts_with('$') || rest.get(1..2) == Some("$")
}

impl<S: PasswordScheme> PasswordScheme for WithBcrypt<S> {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.inner.hash(password)
    }

    fn can_verify(&self, stored: &str) -> bool {
        if looks_like_bcrypt(stored) {
            self.usable_cost(stored).is_some()
        } else {
            self.inner.can_verify(stored)
        }
    }

    /// One inner verification and `2^cost` bcrypt rounds, whatever `stored` is.
    fn verify(&self, password: &[u8], stored: &str) -> bool {
        if !looks_like_bcrypt(stored) {
            let matched = self.inner.verify(password, stored);
            self.pad_bcrypt(password, None);
            return matched;
        }
        let _ = self.inner.verify(password, &self.inner_dummy);
        let Some(cost) = self.usable_cost(stored) else {
            self.pad_bcrypt(password, None);
            return false;
        };
        // Truncates to 72 bytes like passlib; compares in constant time.
        match bcrypt::verify(password, stored) {
            Ok(matched) => {
                #[cfg(test)]
                count::add(cost);
                self.pad_bcrypt(password, Some(cost));
                matched
            }
            // Not reached: `usable_cost` parsed it as the crate does. The same work regardless.
            Err(_) => {
                self.pad_bcrypt(password, None);
                false
            }
        }
    }

    /// Every bcrypt hash (so that the user moves to the inner scheme), and whatever the inner
    /// scheme flags.
    fn needs_rehash(&self, stored: &str) -> bool {
        looks_like_bcrypt(stored) || self.inner.needs_rehash(stored)
    }

    /// The inner scheme's cost; for a bcrypt hash, that of the inner dummy hash, which
    /// [`verify`](PasswordScheme::verify) checks too. The bcrypt work is kept equal inside
    /// `verify`.
    fn cost(&self, stored: &str) -> u64 {
        if looks_like_bcrypt(stored) {
            self.inner_work
        } else {
            self.inner.cost(stored)
        }
    }

    fn spend(&self, password: &[u8], work: u64) {
        self.inner.spend(password, work);
    }
}

/// The bcrypt rounds run on this thread, for the equal-work tests.
#[cfg(test)]
pub(super) mod count {
    use std::cell::Cell;

    thread_local! {
        static ROUNDS: Cell<u64> = const { Cell::new(0) };
    }

    pub(super) fn add(cost: u32) {
        ROUNDS.with(|r| r.set(r.get() + (1u64 << cost)));
    }

    /// The rounds counted on this thread since the last call (and resets the count).
    pub(in crate::password) fn take() -> u64 {
        ROUNDS.with(|r| r.replace(0))
    }
}

#[cfg(test)]
mod tests;
