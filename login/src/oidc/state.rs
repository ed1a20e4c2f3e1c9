//! What the manager keeps of a provider after discovery: where its keys are, the client that
//! fetches them, when they were last fetched, and the unknown-`kid` cooldown.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex as AsyncMutex, MutexGuard, Notify};

use super::fetch::Fetcher;
use super::{ProviderError, Settings};
use crate::keys::VerifyingKey;

/// A discovered provider's key source and its freshness.
pub(crate) struct Remote {
    issuer: String,
    jwks_uri: String,
    fetcher: Fetcher,
    pub(crate) settings: Settings,
    /// The origin of the millisecond counts below.
    base: Instant,
    /// When the key set was last fetched and accepted, in ms since `base`.
    last_good: AtomicU64,
    /// When the last refresh for an unknown `kid` was started.
    last_unknown_kid: Mutex<Option<Instant>>,
    /// One refresh at a time (the background one, or a request's).
    refreshing: AsyncMutex<()>,
    /// Stops the background refresh (notified when the manager is dropped).
    pub(crate) stop: Notify,
}

impl Remote {
    pub(super) fn new(
        issuer: String,
        jwks_uri: String,
        fetcher: Fetcher,
        settings: Settings,
    ) -> Self {
        Remote {
            issuer,
            jwks_uri,
            fetcher,
            settings,
            base: Instant::now(),
            last_good: AtomicU64::new(0),
            last_unknown_kid: Mutex::new(None),
            refreshing: AsyncMutex::new(()),
            stop: Notify::new(),
        }
    }

    pub(crate) fn issuer(&self) -> &str {
        &self.issuer
    }

    pub(crate) fn jwks_uri(&self) -> &str {
        &self.jwks_uri
    }

    /// Fetches and reads the key set (nothing is changed here: see [`mark_good`](Self::mark_good)).
    pub(crate) async fn fetch_keys(
        &self,
    ) -> Result<(Vec<VerifyingKey>, Option<Duration>), ProviderError> {
        let fetched = self.fetcher.get(&self.jwks_uri).await?;
        let keys = super::jwks::keys_from_jwks(&self.jwks_uri, &fetched.body)?;
        Ok((keys, fetched.max_age))
    }

    fn millis(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.base).as_millis()).unwrap_or(u64::MAX)
    }

    /// Records that a key set was fetched and accepted now.
    pub(crate) fn mark_good(&self) {
        self.last_good
            .store(self.millis(Instant::now()), Ordering::Release);
    }

    /// Whether a key set was accepted after `instant`.
    pub(crate) fn good_since(&self, instant: Instant) -> bool {
        self.last_good.load(Ordering::Acquire) >= self.millis(instant)
    }

    /// Whether no key set has been accepted for longer than the staleness bound.
    pub(crate) fn is_stale(&self) -> bool {
        let since = self
            .millis(Instant::now())
            .saturating_sub(self.last_good.load(Ordering::Acquire));
        u128::from(since) > self.settings.max_stale.as_millis()
    }

    /// When to refresh next after a fetch whose response allowed `max_age`.
    pub(crate) fn next_refresh(&self, max_age: Option<Duration>) -> Duration {
        let s = &self.settings;
        max_age
            .unwrap_or(s.refresh_max)
            .clamp(s.refresh_min, s.refresh_max)
    }

    /// Waits for the refresh lock.
    pub(crate) async fn lock(&self) -> MutexGuard<'_, ()> {
        self.refreshing.lock().await
    }

    /// Takes the unknown-`kid` refresh if the cooldown allows one now.
    pub(crate) fn take_unknown_kid_refresh(&self) -> bool {
        let mut last = self
            .last_unknown_kid
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < self.settings.cooldown) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }
}
