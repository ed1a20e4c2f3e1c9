//! Password hashing for the login route: Argon2id, run off the async executor, with bounded
//! work.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), login::password::PasswordError> {
//! use login::password::Passwords;
//!
//! let passwords = Passwords::default();                         // keep one in your app state
//! let stored = passwords.hash("hunter2").await?;                 // at registration
//! assert!(passwords.verify("hunter2", Some(&stored)).await?);    // at login
//! assert!(!passwords.verify("wrong", Some(&stored)).await?);
//! // Unknown user: same work (a verify against a dummy hash), same answer.
//! assert!(!passwords.verify("hunter2", None).await?);
//! // Hashes made with older parameters still verify; rehash them after a successful login.
//! assert!(!passwords.needs_rehash(&stored));
//! # Ok(()) }
//! ```
//!
//! # The seam: [`Passwords`] and [`PasswordScheme`]
//!
//! [`Passwords::default()`] uses the default [`Argon2id`] scheme. An app
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
//!     // Forward these two too: they keep the work equal for hashes with older parameters.
//!     fn cost(&self, stored: &str) -> u64 { self.inner.cost(stored) }
//!     fn spend(&self, password: &[u8], work: u64) { self.inner.spend(password, work) }
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
//! for a password out of bounds. When the stored hash is cheaper than the dummy one (made
//! with older parameters: m=4096, t=3 costs a third of m=19456, t=2), it adds the difference
//! ([`PasswordScheme::spend`]), so that an existing user with an old hash costs the same work
//! as an unknown one. A stored hash *costlier* than the dummy one (more memory or passes than
//! the scheme's parameters: [`PasswordScheme::cost`] above the dummy's) fails closed after the
//! usual work, `Ok(false)` and a warning: verified at its own cost, its login would take
//! longer than an unknown user's, and timing would tell which accounts exist. Build the scheme
//! with parameters at least as costly as your costliest stored hashes (passlib's `argon2`
//! writes `m=65536,t=3,p=4`: `Argon2id::new(65536, 3, 4)`); every login, an unknown user's
//! included, then costs that.
//!
//! # Existing bcrypt hashes (passlib, fastapi-login)
//!
//! With the `bcrypt` feature, `WithBcrypt` verifies bcrypt hashes (`$2b$`, `$2a$`, `$2y$`, as
//! passlib's `CryptContext(schemes=["bcrypt"])` makes them) besides Argon2id ones, and flags
//! them for rehashing, so that each user moves to Argon2id at their next successful login.
//! Every verification then does one Argon2id verification *and* bcrypt work at the configured
//! cost (a padding run for Argon2id users and unknown users), so that the three kinds of login
//! still cost the same; a stored hash may ask for a bcrypt cost of at most the configured one.
//! Without it (the plain [`Argon2id`]), a bcrypt hash is
//! treated as malformed: `Ok(false)` after the dummy work, and a warning that names the fix.
//!
//! # Bounded work
//!
//! Anyone who can reach the login route can make the server hash: every verification holds
//! the scheme's memory (19 MiB) and a core for tens of milliseconds, and an unknown user costs
//! the same by design. So the async functions run at most
//! [`PasswordLimits::concurrent`] jobs at once (the CPU count by default), let a bounded number
//! of requests wait a bounded time for a turn, and answer [`PasswordError::Busy`] beyond that —
//! a `503 Service Unavailable` with `Retry-After` as a response. A job whose request is gone
//! (the client hung up while it waited) never starts. With the default Argon2id, the memory
//! blocks of finished jobs are reused, so the memory of password work stays at
//! `concurrent × 19 MiB`. The blocking functions (`*_blocking`) are not bounded: they are for
//! start-up code and threads of your own.

use std::fmt;
use std::sync::{Arc, LazyLock};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

mod argon2id;
mod gate;
#[cfg(test)]
mod tests;
#[cfg(feature = "bcrypt")]
mod with_bcrypt;

pub use argon2id::Argon2id;
pub use gate::PasswordLimits;
#[cfg(feature = "bcrypt")]
#[cfg_attr(docsrs, doc(cfg(feature = "bcrypt")))]
pub use with_bcrypt::WithBcrypt;

use gate::Gate;

/// The `Retry-After` (seconds) of the response to [`PasswordError::Busy`].
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The longest password accepted, in bytes. Longer input is refused before any hashing.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The largest Argon2 memory cost (KiB) a stored hash may ask for: 256 MiB. A stored hash
/// asking for more (or for more than [`MAX_STORED_T_COST`] passes or [`MAX_STORED_P_COST`]
/// lanes) is treated as malformed — it fails closed after the usual dummy verification —
/// because Argon2 takes its parameters from the stored hash: a corrupted or planted hash with
/// `m=4294967295` or `t=4294967295` would otherwise allocate terabytes or spin for hours on a
/// login request. The limits grow to fit the parameters an [`Argon2id`] scheme is built with.
pub(crate) const MAX_STORED_M_COST: u32 = 256 * 1024;
/// The largest Argon2 time cost (passes) a stored hash may ask for. See [`MAX_STORED_M_COST`].
pub(crate) const MAX_STORED_T_COST: u32 = 16;
/// The largest Argon2 parallelism (lanes) a stored hash may ask for. See [`MAX_STORED_M_COST`].
pub(crate) const MAX_STORED_P_COST: u32 = 16;

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
    /// The Argon2 parameters given to [`Argon2id::new`] are out of Argon2's range, or the
    /// bcrypt cost given to `WithBcrypt::new` (feature `bcrypt`) out of bcrypt's (4 to 31).
    #[error("invalid password-hashing parameters")]
    Params,
    /// Too much password work in progress: every job slot was taken and the waiting room full,
    /// or the wait exceeded [`PasswordLimits::wait`]. As a response: `503 Service
    /// Unavailable` with `Retry-After`.
    #[error("too many password checks in progress; retry later")]
    Busy,
    /// The [`PasswordLimits`] are invalid (no concurrent job at all).
    #[error("invalid password limits: at least one concurrent job is needed")]
    InvalidLimits,
}

impl IntoResponse for PasswordError {
    /// `Empty`/`TooLong`: 400; `Busy`: 503 with `Retry-After:`
    /// [`BUSY_RETRY_AFTER_SECS`]; anything else: 500. The body is `{"detail": "..."}`, sent
    /// with `Cache-Control: no-store`; it never holds the password.
    fn into_response(self) -> Response {
        let (status, detail) = match self {
            PasswordError::Empty | PasswordError::TooLong => {
                (StatusCode::BAD_REQUEST, "Password is empty or too long")
            }
            PasswordError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Too many logins in progress, retry later",
            ),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "Internal server error"),
        };
        let retry_after = (self == PasswordError::Busy).then_some(BUSY_RETRY_AFTER_SECS);
        crate::rejection::detail_response(status, detail, retry_after)
    }
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

    /// The work of one [`verify`](Self::verify) against `stored`, in the scheme's own unit
    /// (Argon2: KiB of memory × passes), or 0 when unknown. Must be cheap (parsing only).
    ///
    /// [`Passwords`] compares it with the cost of its dummy hash: when a stored hash is
    /// cheaper (made with older parameters), it calls [`spend`](Self::spend) with the
    /// difference. The default (0) turns that off; a wrapper should forward both methods.
    fn cost(&self, stored: &str) -> u64 {
        let _ = stored;
        0
    }

    /// Does `work` units of the scheme's work (as [`cost`](Self::cost) counts them) and throws
    /// the result away. The default does nothing.
    fn spend(&self, password: &[u8], work: u64) {
        let _ = (password, work);
    }
}

/// Hashes and checks passwords with a [`PasswordScheme`], off the async executor, with the
/// length bounds, the unknown-user defence and the bound on concurrent work
/// ([`PasswordLimits`]) built in. Cheap to clone (an `Arc` inside); keep one in your app state.
///
/// [`Passwords::default()`] is one Argon2id instance shared by the whole process, with the
/// default limits. [`Passwords::new`] hashes a random dummy password once, up
/// front, so that the first unknown-user login costs the same as every other one.
#[derive(Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

struct Inner {
    scheme: Box<dyn PasswordScheme>,
    /// A hash of a random password, made with the scheme's current parameters.
    dummy: String,
    /// The work of a verification against the dummy hash: what every verification costs.
    work: u64,
    /// The bound on concurrent work.
    gate: Gate,
}

impl fmt::Debug for Passwords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Passwords")
            .field("limits", &self.inner.gate.limits())
            .finish_non_exhaustive()
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
    /// Wraps `scheme` with the default [`PasswordLimits`], hashing the dummy password now
    /// (one hash).
    pub fn new(scheme: impl PasswordScheme) -> Result<Self, PasswordError> {
        Self::with_limits(scheme, PasswordLimits::new())
    }

    /// Wraps `scheme` with these limits on concurrent work, hashing the dummy password now
    /// (one hash). `InvalidLimits` for `max_concurrent(0)`.
    pub fn with_limits(
        scheme: impl PasswordScheme,
        limits: PasswordLimits,
    ) -> Result<Self, PasswordError> {
        let limits = limits.check()?;
        let random: [u8; 32] = crate::secret::random_bytes();
        let dummy = scheme.hash(&random)?;
        if !scheme.can_verify(&dummy) {
            return Err(PasswordError::Hash);
        }
        let work = scheme.cost(&dummy);
        Ok(Passwords {
            inner: Arc::new(Inner {
                scheme: Box::new(scheme),
                dummy,
                work,
                gate: Gate::new(limits),
            }),
        })
    }

    /// The limits on concurrent work.
    pub fn limits(&self) -> PasswordLimits {
        self.inner.gate.limits()
    }

    /// Hashes `password` into a PHC string, on a blocking thread, within the limits
    /// (`Busy` beyond them).
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        check_bounds(password)?;
        let password = zeroize::Zeroizing::new(password.to_owned());
        let this = self.clone();
        self.inner
            .gate
            .run(move || this.hash_blocking(&password))
            .await?
    }

    /// The blocking version of [`hash`](Self::hash).
    pub fn hash_blocking(&self, password: &str) -> Result<String, PasswordError> {
        check_bounds(password)?;
        self.inner.scheme.hash(password.as_bytes())
    }

    /// Checks `password` against a stored PHC hash, on a blocking thread, within the limits.
    ///
    /// Pass `None` when the user does not exist: the password is then checked against the
    /// dummy hash, so an unknown user and a wrong password cost the same work (exactly one
    /// [`PasswordScheme::verify`]) and both answer `Ok(false)`. A malformed stored hash, or one
    /// the scheme cannot check within its limits, is treated the same way (fail closed, logged
    /// at warn level); a stored hash cheaper than the current parameters is topped up to the
    /// same work. Errors: out-of-bounds input (checked before any hashing), and `Busy` when
    /// the limits on concurrent work are reached.
    pub async fn verify(
        &self,
        password: &str,
        stored_hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        check_bounds(password)?;
        let password = zeroize::Zeroizing::new(password.to_owned());
        let stored = stored_hash.map(str::to_owned);
        let this = self.clone();
        self.inner
            .gate
            .run(move || this.verify_blocking(&password, stored.as_deref()))
            .await?
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
            if ok && scheme.cost(stored) > self.inner.work {
                // Verified at its own cost, it would take longer than an unknown user's login:
                // timing would tell that the account exists.
                tracing::warn!(
                    "login: stored password hash is costlier than the scheme's parameters (the \
                     work of every other login); failing closed: build the scheme with parameters \
                     at least as costly as your stored hashes"
                );
                return false;
            }
            if !ok && stored.starts_with("$2") {
                tracing::warn!(
                    "login: stored password hash looks like bcrypt, which this scheme cannot check \
                     (bcrypt needs password::WithBcrypt, feature `bcrypt`; `$2x$` hashes and costs \
                     above the configured one are refused); failing closed"
                );
            } else if !ok {
                tracing::warn!(
                    "login: stored password hash is malformed or exceeds the limits; failing closed"
                );
            }
            ok
        });
        // Exactly one full verification on every path: the stored hash or the dummy one…
        let against = usable.unwrap_or(&self.inner.dummy);
        let matched = scheme.verify(password.as_bytes(), against);
        // …topped up to the dummy's work when the stored hash is cheaper (older parameters).
        let spent = scheme.cost(against);
        if spent < self.inner.work {
            scheme.spend(password.as_bytes(), self.inner.work - spent);
        }
        Ok(matched && usable.is_some())
    }

    /// Whether `stored` should be replaced by a fresh hash of the same password (made with
    /// other parameters or another algorithm, or malformed). Call it after a successful
    /// [`verify`](Self::verify), then [`hash`](Self::hash) and store.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        self.inner.scheme.needs_rehash(stored)
    }
}
