//! The bound on password work: at most `max_concurrent` jobs run at once (each Argon2id job
//! holds its memory, 19 MiB by default, and a core for tens of milliseconds), at most
//! `max_waiting` requests wait for a turn, none waits longer than `max_wait`, and a job whose
//! request is gone never starts. Anything over the bound is [`PasswordError::Busy`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, oneshot};

use super::PasswordError;

/// How much password work runs at once, and how long a request may wait for a turn. Part of
/// [`Passwords`](super::Passwords) ([`Passwords::with_limits`](super::Passwords::with_limits));
/// the defaults ([`PasswordLimits::new`]) follow the machine's CPU count.
///
/// ```
/// use std::time::Duration;
/// use login::password::{Argon2id, PasswordLimits, Passwords};
///
/// let limits = PasswordLimits::new()
///     .max_concurrent(4)                  // 4 × 19 MiB of Argon2 memory at most
///     .max_waiting(64)                    // then 503 for the 65th waiting request
///     .max_wait(Duration::from_secs(1));  // and for any that waited a second
/// let passwords = Passwords::with_limits(Argon2id::default(), limits)?;
/// # Ok::<(), login::password::PasswordError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordLimits {
    max_concurrent: usize,
    max_waiting: usize,
    max_wait: Duration,
}

/// How many requests may wait per running job, by default.
const WAITING_PER_JOB: usize = 32;
/// How long a request may wait for a turn, by default.
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(2);

impl Default for PasswordLimits {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordLimits {
    /// The defaults: as many concurrent jobs as the machine has CPUs
    /// (`std::thread::available_parallelism`), 32 waiting requests per job, 2 seconds of
    /// waiting at most.
    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        PasswordLimits {
            max_concurrent: cpus,
            max_waiting: cpus * WAITING_PER_JOB,
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// How many hashes or verifications run at once (at least 1). The peak memory of password
    /// work is this many times the scheme's memory cost (19 MiB for the default Argon2id).
    pub fn max_concurrent(mut self, jobs: usize) -> Self {
        self.max_concurrent = jobs;
        self
    }

    /// How many requests may wait for a turn (0: none; a request that finds every job slot
    /// taken is answered [`PasswordError::Busy`] at once).
    pub fn max_waiting(mut self, requests: usize) -> Self {
        self.max_waiting = requests;
        self
    }

    /// How long a request may wait for a turn before it is answered [`PasswordError::Busy`].
    /// Waiting needs a Tokio runtime with its time driver (`#[tokio::main]` has one).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The number of concurrent jobs.
    pub fn concurrent(&self) -> usize {
        self.max_concurrent
    }

    /// The number of requests that may wait.
    pub fn waiting(&self) -> usize {
        self.max_waiting
    }

    /// The longest wait.
    pub fn wait(&self) -> Duration {
        self.max_wait
    }

    pub(super) fn check(self) -> Result<Self, PasswordError> {
        if self.max_concurrent == 0 {
            return Err(PasswordError::InvalidLimits);
        }
        // Tokio's semaphore holds at most `usize::MAX >> 3` permits.
        if self.max_concurrent > Semaphore::MAX_PERMITS {
            return Err(PasswordError::InvalidLimits);
        }
        Ok(self)
    }
}

/// The semaphore and the waiting room.
pub(super) struct Gate {
    limits: PasswordLimits,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// One place in the waiting room, given back when dropped (served, timed out, or the request
/// gone).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Gate {
    pub(super) fn new(limits: PasswordLimits) -> Self {
        Gate {
            limits,
            slots: Arc::new(Semaphore::new(limits.max_concurrent)),
            waiting: AtomicUsize::new(0),
        }
    }

    pub(super) fn limits(&self) -> PasswordLimits {
        self.limits
    }

    /// Runs `job` on a blocking thread once a slot is free.
    ///
    /// `Busy` when the waiting room is full or the wait is over. Dropping the returned future
    /// (the request is gone) before the job starts means the job never starts: while waiting
    /// for a slot, the place is given up; once the slot is taken, the job checks that someone
    /// still waits for its answer before doing any work. A job that has started runs to its
    /// end (Argon2 cannot be interrupted), still holding its slot.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let slot = match Arc::clone(&self.slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(TryAcquireError::NoPermits) => self.wait_for_slot().await?,
            Err(TryAcquireError::Closed) => return Err(PasswordError::Task),
        };
        let (answer, answered) = oneshot::channel();
        tokio::task::spawn_blocking(move || {
            if answer.is_closed() {
                tracing::debug!("login: password job dropped before it started (request gone)");
                return;
            }
            let result = job();
            // The slot is free before the answer is sent: whoever reads the answer finds it
            // free (a test checking the gate right after its answer raced this).
            drop(slot);
            let _ = answer.send(result);
        });
        answered.await.map_err(|_| PasswordError::Task)
    }

    async fn wait_for_slot(&self) -> Result<OwnedSemaphorePermit, PasswordError> {
        let ahead = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _place = Waiting(&self.waiting);
        if ahead >= self.limits.max_waiting {
            tracing::debug!(
                waiting = ahead,
                "login: password work busy (waiting room full)"
            );
            return Err(PasswordError::Busy);
        }
        let slot = Arc::clone(&self.slots).acquire_owned();
        match tokio::time::timeout(self.limits.max_wait, slot).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(_closed)) => Err(PasswordError::Task),
            Err(_elapsed) => {
                tracing::debug!("login: password work busy (waited too long)");
                Err(PasswordError::Busy)
            }
        }
    }

    #[cfg(test)]
    pub(super) fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    #[cfg(test)]
    pub(super) fn waiting_now(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }
}
