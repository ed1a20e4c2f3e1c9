//! [`Counting`]: a [`PasswordScheme`] wrapper that counts what `Passwords` asks of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use login::password::{PasswordError, PasswordScheme};

/// `inner`, counting every full verification and every hash; `cost` and `spend` forwarded,
/// so the equal-work top-ups run as they would unwrapped. Clones share the counters.
pub struct Counting<S> {
    inner: Arc<S>,
    verifies: Arc<AtomicUsize>,
    hashes: Arc<AtomicUsize>,
}

impl<S> Clone for Counting<S> {
    fn clone(&self) -> Self {
        Counting {
            inner: self.inner.clone(),
            verifies: self.verifies.clone(),
            hashes: self.hashes.clone(),
        }
    }
}

impl<S: PasswordScheme> Counting<S> {
    /// Wraps `inner`, with both counters at 0.
    pub fn new(inner: S) -> Self {
        Counting {
            inner: Arc::new(inner),
            verifies: Arc::default(),
            hashes: Arc::default(),
        }
    }

    /// Verifications so far.
    pub fn verifies(&self) -> usize {
        self.verifies.load(Ordering::SeqCst)
    }

    /// Hashes so far.
    pub fn hashes(&self) -> usize {
        self.hashes.load(Ordering::SeqCst)
    }

    /// `(verifications, hashes)` so far, setting both back to 0.
    pub fn take(&self) -> (usize, usize) {
        (
            self.verifies.swap(0, Ordering::SeqCst),
            self.hashes.swap(0, Ordering::SeqCst),
        )
    }
}

impl<S: PasswordScheme> PasswordScheme for Counting<S> {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.hashes.fetch_add(1, Ordering::SeqCst);
        self.inner.hash(password)
    }
    fn can_verify(&self, stored: &str) -> bool {
        self.inner.can_verify(stored)
    }
    fn verify(&self, password: &[u8], stored: &str) -> bool {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        self.inner.verify(password, stored)
    }
    fn needs_rehash(&self, stored: &str) -> bool {
        self.inner.needs_rehash(stored)
    }
    fn cost(&self, stored: &str) -> u64 {
        self.inner.cost(stored)
    }
    fn spend(&self, password: &[u8], work: u64) {
        self.inner.spend(password, work)
    }
}
