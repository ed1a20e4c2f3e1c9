//! Password hashing for the login route: Argon2id, run off the async executor.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), login::password::PasswordError> {
//! use login::password;
//!
//! let stored = password::hash("hunter2").await?;          // at registration
//! assert!(password::verify("hunter2", Some(&stored)).await?);   // at login
//! assert!(!password::verify("wrong", Some(&stored)).await?);
//! // Unknown user: same work (a verify against a dummy hash), same answer.
//! assert!(!password::verify("hunter2", None).await?);
//! // Hashes made with older parameters still verify; rehash them after a successful login.
//! assert!(!password::needs_rehash(&stored));
//! # Ok(()) }
//! ```
//!
//! # The seam: [`Passwords`] and [`PasswordScheme`]
//!
//! The free functions use a shared [`Passwords`] with the default [`Argon2id`] scheme. An app
//! that wants other parameters, metrics, or a test that wants to *count* the expensive
//! verifications (to show that an unknown user and a wrong password cost the same work, or
//! that an oversized password is refused before any hashing) holds its own [`Passwords`]
//! built from a [`PasswordScheme`] — typically a wrapper around [`Argon2id`]:
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use login::password::{Argon2id, PasswordError, PasswordScheme, Passwords};
//!
//! /// Argon2id, counting every full verification.
//! struct Counting { inner: Argon2id, verifications: Arc<AtomicUsize> }
//!
//! impl PasswordScheme for Counting {
//!     fn hash(&self, password: &[u8]) -> Result<String, PasswordError> { self.inner.hash(password) }
//!     fn can_verify(&self, stored: &str) -> bool { self.inner.can_verify(stored) }
//!     fn verify(&self, password: &[u8], stored: &str) -> bool {
//!         self.verifications.fetch_add(1, Ordering::SeqCst);
//!         self.inner.verify(password, stored)
//!     }
//!     fn needs_rehash(&self, stored: &str) -> bool { self.inner.needs_rehash(stored) }
//! }
//!
//! let verifications = Arc::new(AtomicUsize::new(0));
//! let passwords = Passwords::new(Counting { inner: Argon2id::default(), verifications: verifications.clone() })?;
//! assert_eq!(passwords.verify_blocking("hunter2", None), Ok(false));           // unknown user
//! assert_eq!(passwords.verify_blocking("hunter2", Some("not-a-hash")), Ok(false)); // broken hash
//! assert_eq!(verifications.load(Ordering::SeqCst), 2);                          // one each
//! assert_eq!(passwords.verify_blocking(&"x".repeat(5000), None), Err(PasswordError::TooLong));
//! assert_eq!(verifications.load(Ordering::SeqCst), 2);                          // none
//! # Ok::<(), PasswordError>(())
//! ```
//!
//! [`Passwords::verify`] calls [`PasswordScheme::verify`] **exactly once** for every password
//! within bounds — against the stored hash, or against a dummy hash made when the
//! [`Passwords`] was built (unknown user, malformed or unusable stored hash) — and **never**
//! for a password out of bounds.

use std::fmt;
use std::sync::{Arc, LazyLock};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Argon2, Params, Version};

/// The longest password accepted, in bytes. Longer input is refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The largest Argon2 memory cost (KiB) a stored hash may ask for: 256 MiB. A stored hash
/// asking for more (or for more than [`MAX_STORED_T_COST`] passes or [`MAX_STORED_P_COST`]
/// lanes) is treated as malformed — it fails closed after the usual dummy verification —
/// because Argon2 takes its parameters from the stored hash: a corrupted or planted hash with
/// `m=4294967295` or `t=4294967295` would otherwise allocate terabytes or spin for hours on a
/// login request. The limits grow to fit the parameters an [`Argon2id`] scheme is built with.
pub const MAX_STORED_M_COST: u32 = 256 * 1024;
/// The largest Argon2 time cost (passes) a stored hash may ask for. See [`MAX_STORED_M_COST`].
pub const MAX_STORED_T_COST: u32 = 16;
/// The largest Argon2 parallelism (lanes) a stored hash may ask for. See [`MAX_STORED_M_COST`].
pub const MAX_STORED_P_COST: u32 = 16;

/// Why a password could not be hashed or checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is empty.
    #[error("the password is empty")]
    Empty,
    /// The password is longer than [`MAX_PASSWORD_BYTES`].
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    /// Hashing failed (should not happen with valid input).
    #[error("password hashing failed")]
    Hash,
    /// The blocking task running the hash was cancelled or panicked.
    #[error("password hashing task failed")]
    Task,
    /// The Argon2 parameters given to [`Argon2id::new`] are out of Argon2's range.
    #[error("invalid Argon2 parameters")]
    Params,
}

fn check_bounds(password: &str) -> Result<(), PasswordError> {
    if password.is_empty() {
        Err(PasswordError::Empty)
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// A password-hashing scheme: what [`Passwords`] runs. [`Argon2id`] is the default; implement
/// this trait to wrap it (count verifications in a test, record metrics) or to plug in another
/// algorithm. Every method is called on a blocking thread by the async functions.
pub trait PasswordScheme: Send + Sync + 'static {
    /// Hashes `password` (already bounds-checked) into a PHC string, with a fresh salt and the
    /// scheme's current parameters.
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError>;

    /// Whether `stored` is a hash this scheme can check within its resource limits. Must be
    /// cheap (parsing only): [`Passwords`] uses it to decide between the stored hash and its
    /// dummy hash before the one expensive [`verify`](Self::verify).
    fn can_verify(&self, stored: &str) -> bool;

    /// Checks `password` against `stored` (for which [`can_verify`](Self::can_verify) said
    /// yes): one full verification, whatever the answer, compared in constant time.
    fn verify(&self, password: &[u8], stored: &str) -> bool;

    /// Whether `stored` was made with another algorithm or other parameters than
    /// [`hash`](Self::hash) uses now: after a successful login, hash the password again and
    /// store the new hash ("upgrading the work factor"). Malformed hashes need it too.
    fn needs_rehash(&self, stored: &str) -> bool;
}

/// Argon2id (RFC 9106) with OWASP's parameters by default: m=19456 KiB, t=2, p=1, 16-byte salt,
/// 32-byte output. Verifies any Argon2 variant (`argon2id`, `argon2i`, `argon2d`, versions 0x10
/// and 0x13) within the stored-parameter limits ([`MAX_STORED_M_COST`] …), and flags every
/// hash not made with its own parameters for rehashing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Argon2id {
    params: Params,
}

impl Argon2id {
    /// Argon2id with memory cost `m_cost_kib` (KiB), `t_cost` passes and `p_cost` lanes (see
    /// OWASP's Password Storage cheat sheet for equivalent choices).
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, PasswordError> {
        Params::new(m_cost_kib, t_cost, p_cost, None)
            .map(|params| Argon2id { params })
            .map_err(|_| PasswordError::Params)
    }

    fn hasher(&self) -> Argon2<'static> {
        Argon2::new(
            argon2::Algorithm::Argon2id,
            Version::V0x13,
            self.params.clone(),
        )
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
}

impl PasswordScheme for Argon2id {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.hasher()
            .hash_password(password)
            .map(|h| h.to_string())
            .map_err(|_| PasswordError::Hash)
    }

    fn can_verify(&self, stored: &str) -> bool {
        self.parse(stored).is_some()
    }

    fn verify(&self, password: &[u8], stored: &str) -> bool {
        match self.parse(stored) {
            // Algorithm, version and parameters come from the stored hash (checked above).
            Some((parsed, _)) => self.hasher().verify_password(password, &parsed).is_ok(),
            None => false,
        }
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
}

/// Hashes and checks passwords with a [`PasswordScheme`], off the async executor, with the
/// length bounds and the unknown-user defence built in. Cheap to clone (an `Arc` inside); keep
/// one in your app state.
///
/// [`Passwords::default()`] is the shared Argon2id instance the free functions of this module
/// use. [`Passwords::new`] hashes a random dummy password once, up front, so that the first
/// unknown-user login costs the same as every other one.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    scheme: Box<dyn PasswordScheme>,
    /// A hash of a random password, made with the scheme's current parameters.
    dummy: String,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

static DEFAULT: LazyLock<Passwords> =
    LazyLock::new(|| Passwords::new(Argon2id::default()).expect("Argon2id hashes 32 random bytes"));

impl Default for Passwords {
    /// The shared Argon2id instance (its dummy hash is made on first use).
    fn default() -> Self {
        DEFAULT.clone()
    }
}

impl Passwords {
    /// Wraps `scheme`, hashing the dummy password now (one hash).
    pub fn new(scheme: impl PasswordScheme) -> Result<Self, PasswordError> {
        let random: [u8; 32] = rand::random();
        let dummy = scheme.hash(&random)?;
        if !scheme.can_verify(&dummy) {
            return Err(PasswordError::Hash);
        }
        Ok(Passwords {
            inner: Arc::new(Inner {
                scheme: Box::new(scheme),
                dummy,
            }),
        })
    }

    /// Hashes `password` into a PHC string, on a blocking thread.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_bounds(password)?;
        let password = zeroize::Zeroizing::new(password.to_owned());
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.hash_blocking(&password))
            .await
            .map_err(|_| PasswordError::Task)?
    }

    /// The blocking version of [`hash`](Self::hash).
    pub fn hash_blocking(&self, password: &str) -> Result<String, PasswordError> {
        check_bounds(password)?;
        self.inner.scheme.hash(password.as_bytes())
    }

    /// Checks `password` against a stored PHC hash, on a blocking thread.
    ///
    /// Pass `None` when the user does not exist: the password is then checked against the
    /// dummy hash, so an unknown user and a wrong password cost the same work (exactly one
    /// [`PasswordScheme::verify`]) and both answer `Ok(false)`. A malformed stored hash, or one
    /// the scheme cannot check within its limits, is treated the same way (fail closed, logged
    /// at warn level). Only out-of-bounds input is an error, checked before any hashing.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        check_bounds(password)?;
        let password = zeroize::Zeroizing::new(password.to_owned());
        let stored = stored_hash.map(str::to_owned);
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.verify_blocking(&password, stored.as_deref()))
            .await
            .map_err(|_| PasswordError::Task)?
    }

    /// The blocking version of [`verify`](Self::verify).
    pub fn verify_blocking(
        &self,
        password: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        check_bounds(password)?;
        let scheme = &*self.inner.scheme;
        let usable = stored_hash.filter(|stored| {
            let ok = scheme.can_verify(stored);
            if !ok {
                tracing::warn!(
                    "login: stored password hash is malformed or exceeds the limits; failing closed"
                );
            }
            ok
        });
        // Exactly one full verification on every path: the stored hash or the dummy one.
        let matched = scheme.verify(password.as_bytes(), usable.unwrap_or(&self.inner.dummy));
        Ok(matched && usable.is_some())
    }

    /// Whether `stored` should be replaced by a fresh hash of the same password (made with
    /// other parameters or another algorithm, or malformed). Call it after a successful
    /// [`verify`](Self::verify), then [`hash`](Self::hash) and store.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        self.inner.scheme.needs_rehash(stored)
    }
}

/// Hashes `password` with Argon2id (m=19456 KiB, t=2, p=1, a random salt) into a PHC string,
/// on a blocking thread.
pub async fn hash(password: &str) -> Result<String, PasswordError> {
    check_bounds(password)?;
    Passwords::default().hash(password).await
}

/// The blocking version of [`hash`], for start-up code and threads of your own.
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    check_bounds(password)?;
    Passwords::default().hash_blocking(password)
}

/// Checks `password` against a stored PHC hash, on a blocking thread.
///
/// Pass `None` when the user does not exist: the password is then checked against a dummy
/// hash, so an unknown user and a wrong password cost the same work and both answer
/// `Ok(false)`. A malformed stored hash (or one asking for more than [`MAX_STORED_M_COST`] …)
/// also answers `Ok(false)` after the same work (fail closed, logged at warn level). Only
/// out-of-bounds input is an error, and it is checked before any hashing.
pub async fn verify(password: &str, stored_hash: Option<&str>) -> Result<bool, PasswordError> {
    check_bounds(password)?;
    Passwords::default().verify(password, stored_hash).await
}

/// The blocking version of [`verify`].
pub fn verify_blocking(password: &str, stored_hash: Option<&str>) -> Result<bool, PasswordError> {
    check_bounds(password)?;
    Passwords::default().verify_blocking(password, stored_hash)
}

/// Whether a stored hash should be replaced after the next successful login: it was not made
/// with Argon2id v19 and the default parameters (m=19456, t=2, p=1), or it is malformed.
pub fn needs_rehash(stored_hash: &str) -> bool {
    Passwords::default().needs_rehash(stored_hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Argon2 with explicit parameters, algorithm and version, and a fixed salt.
    fn hash_with(alg: argon2::Algorithm, version: Version, m: u32, t: u32, pw: &str) -> String {
        let params = Params::new(m, t, 1, None).unwrap();
        Argon2::new(alg, version, params)
            .hash_password_with_salt(pw.as_bytes(), b"fixed-salt-16byt")
            .unwrap()
            .to_string()
    }

    struct Counting(Argon2id, Arc<AtomicUsize>);
    impl PasswordScheme for Counting {
        fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
            self.0.hash(password)
        }
        fn can_verify(&self, stored: &str) -> bool {
            self.0.can_verify(stored)
        }
        fn verify(&self, password: &[u8], stored: &str) -> bool {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.verify(password, stored)
        }
        fn needs_rehash(&self, stored: &str) -> bool {
            self.0.needs_rehash(stored)
        }
    }

    #[test]
    fn bounds_checked_before_hashing() {
        assert_eq!(hash_blocking(""), Err(PasswordError::Empty));
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert_eq!(hash_blocking(&long), Err(PasswordError::TooLong));
        assert_eq!(verify_blocking(&long, None), Err(PasswordError::TooLong));
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert_eq!(
            verify_blocking("correct horse battery staple", Some(&h)),
            Ok(true)
        );
        assert_eq!(verify_blocking("wrong", Some(&h)), Ok(false));
        assert_eq!(verify_blocking("x", Some("not-a-phc-string")), Ok(false));
        assert_eq!(verify_blocking("x", None), Ok(false));
        let passphrase = "p".repeat(64);
        let h = hash_blocking(&passphrase).unwrap();
        assert_eq!(verify_blocking(&passphrase, Some(&h)), Ok(true));
        assert!(!needs_rehash(&h));
    }

    #[test]
    fn legacy_hashes_verify_and_need_rehash() {
        use argon2::Algorithm::{Argon2d, Argon2i, Argon2id as Id};
        for stored in [
            hash_with(Id, Version::V0x13, 4096, 3, "pw"),
            hash_with(Id, Version::V0x10, 19456, 2, "pw"),
            hash_with(Argon2i, Version::V0x13, 19456, 2, "pw"),
            hash_with(Argon2d, Version::V0x13, 19456, 2, "pw"),
            hash_with(Id, Version::V0x13, 19456, 1, "pw"),
        ] {
            assert_eq!(verify_blocking("pw", Some(&stored)), Ok(true), "{stored}");
            assert_eq!(verify_blocking("pW", Some(&stored)), Ok(false), "{stored}");
            assert!(needs_rehash(&stored), "{stored}");
        }
        let current = hash_with(Id, Version::V0x13, 19456, 2, "pw");
        assert!(!needs_rehash(&current), "{current}");
        assert!(needs_rehash("not-a-phc-string"));
        assert!(needs_rehash(""));
    }

    #[test]
    fn custom_parameters() {
        let strong = Passwords::new(Argon2id::new(47104, 1, 1).unwrap()).unwrap();
        let h = strong.hash_blocking("pw").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=47104,t=1,p=1$"), "{h}");
        assert!(!strong.needs_rehash(&h));
        assert!(needs_rehash(&h), "not the default parameters");
        assert_eq!(verify_blocking("pw", Some(&h)), Ok(true));
        assert_eq!(Argon2id::new(0, 0, 0), Err(PasswordError::Params));
    }

    /// Every path costs exactly one full verification; out-of-bounds input none; unusable
    /// stored hashes (malformed, another algorithm, absurd parameters) fail closed.
    #[test]
    fn one_verification_on_every_path() {
        let count = Arc::new(AtomicUsize::new(0));
        let passwords = Passwords::new(Counting(Argon2id::default(), count.clone())).unwrap();
        let good = passwords.hash_blocking("pw").unwrap();
        let check = |pw: &str, stored: Option<&str>, expect: Result<bool, PasswordError>| {
            let before = count.load(Ordering::SeqCst);
            assert_eq!(passwords.verify_blocking(pw, stored), expect, "{stored:?}");
            let work = usize::from(expect.is_ok());
            assert_eq!(count.load(Ordering::SeqCst) - before, work, "{stored:?}");
        };
        check("pw", Some(&good), Ok(true));
        check("wrong", Some(&good), Ok(false));
        check("pw", None, Ok(false));
        for bad in [
            "",
            "not-a-phc-string",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0",
            "$pbkdf2-sha256$i=600000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=8,t=4294967295,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=19$m=65536,t=2,p=16777215$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
        ] {
            check("pw", Some(bad), Ok(false));
        }
        check("", Some(&good), Err(PasswordError::Empty));
        check(
            &"p".repeat(MAX_PASSWORD_BYTES + 1),
            None,
            Err(PasswordError::TooLong),
        );
    }
}
