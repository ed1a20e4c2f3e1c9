// [`CountingScheme`]: a password scheme test double that counts the work `Passwords` asks of
// the scheme it wraps.
//
// One file, compiled in two places: `login-test-support` declares it as its `counting_scheme`
// module (for login's integration tests and benches, `login-tests` and the examples' suites),
// and `login`'s own unit tests `include!` it (they cannot use this crate: it links a second
// copy of `login`, whose `PasswordScheme` is another trait). So it has no inner attributes and
// takes `PasswordError` and `PasswordScheme` from the module around it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::{PasswordError, PasswordScheme};

/// `inner`, counting every full verification (and the stored hash each ran against), every
/// hash, and the Argon2 work done (KiB of memory × passes: [`m_times_t`] of each hash a
/// verification ran against, plus the work `spend` was asked for). `cost` and `spend` are
/// forwarded, so the equal-work top-ups run as they would unwrapped. Clones share the
/// counters.
pub struct CountingScheme<S> {
    inner: Arc<S>,
    verifies: Arc<AtomicUsize>,
    hashes: Arc<AtomicUsize>,
    work: Arc<AtomicU64>,
    against: Arc<Mutex<Vec<String>>>,
}

impl<S> Clone for CountingScheme<S> {
    fn clone(&self) -> Self {
        CountingScheme {
            inner: self.inner.clone(),
            verifies: self.verifies.clone(),
            hashes: self.hashes.clone(),
            work: self.work.clone(),
            against: self.against.clone(),
        }
    }
}

impl<S: PasswordScheme> CountingScheme<S> {
    /// Wraps `inner`, with every counter at 0.
    pub fn new(inner: S) -> Self {
        CountingScheme {
            inner: Arc::new(inner),
            verifies: Arc::default(),
            hashes: Arc::default(),
            work: Arc::default(),
            against: Arc::default(),
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

    /// The Argon2 work done so far, in KiB × passes (`m × t`).
    pub fn work(&self) -> u64 {
        self.work.load(Ordering::SeqCst)
    }

    /// The stored hashes the verifications ran against, in order (a dummy one included).
    pub fn against(&self) -> Vec<String> {
        self.against.lock().unwrap().clone()
    }

    /// `(verifications, hashes)` so far, setting both back to 0.
    pub fn take(&self) -> (usize, usize) {
        (
            self.verifies.swap(0, Ordering::SeqCst),
            self.hashes.swap(0, Ordering::SeqCst),
        )
    }

    /// Sets every counter back to 0.
    pub fn reset(&self) {
        self.take();
        self.work.store(0, Ordering::SeqCst);
        self.against.lock().unwrap().clear();
    }
}

impl<S: PasswordScheme> PasswordScheme for CountingScheme<S> {
    fn hash(&self, password: &[u8]) -> Result<String, PasswordError> {
        self.hashes.fetch_add(1, Ordering::SeqCst);
        self.inner.hash(password)
    }
    fn can_verify(&self, stored: &str) -> bool {
        self.inner.can_verify(stored)
    }
    fn verify(&self, password: &[u8], stored: &str) -> bool {
        self.verifies.fetch_add(1, Ordering::SeqCst);
        self.against.lock().unwrap().push(stored.to_owned());
        self.work.fetch_add(m_times_t(stored), Ordering::SeqCst);
        self.inner.verify(password, stored)
    }
    fn needs_rehash(&self, stored: &str) -> bool {
        self.inner.needs_rehash(stored)
    }
    fn cost(&self, stored: &str) -> u64 {
        self.inner.cost(stored)
    }
    fn spend(&self, password: &[u8], work: u64) {
        self.work.fetch_add(work, Ordering::SeqCst);
        self.inner.spend(password, work)
    }
}

/// `m × t` of an Argon2 PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`), read independently
/// of the library; 0 for anything else.
pub fn m_times_t(phc: &str) -> u64 {
    let params = phc.split('$').nth(3).unwrap_or("");
    let get = |name: &str| {
        params
            .split(',')
            .find_map(|kv| kv.strip_prefix(name))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get("m=") * get("t=")
}
