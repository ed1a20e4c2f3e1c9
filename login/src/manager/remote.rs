//! A manager whose keys come from an identity provider (feature `oidc`): the background
//! refresh, the one refresh a request with an unknown `kid` may wait for, and the key set's
//! staleness. The fetching itself is `oidc`'s.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use super::keyring::KeyRing;
use super::{Inner, LoginManager};
use crate::error::ConfigError;
use crate::keys::VerifyingKey;
use crate::oidc::{ProviderError, Remote};

/// Notifies the background refresh to stop when the manager's last clone is dropped.
pub(super) struct StopOnDrop(pub(super) Arc<Remote>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop.notify_one();
    }
}

/// Starts the background refresh of `inner`'s provider keys, first after `first`.
pub(super) fn spawn_refresher(
    inner: &Arc<Inner>,
    remote: Arc<Remote>,
    first: Duration,
) -> Result<(), ConfigError> {
    let runtime =
        tokio::runtime::Handle::try_current().map_err(|_| ConfigError::ProviderNeedsRuntime)?;
    let weak: Weak<Inner> = Arc::downgrade(inner);
    runtime.spawn(async move {
        let mut wait = first;
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = remote.stop.notified() => return,
            }
            let Some(inner) = weak.upgrade() else { return };
            let _one = remote.lock().await;
            wait = match refresh(&inner, &remote).await {
                Ok(max_age) => remote.next_refresh(max_age),
                Err(error) => {
                    tracing::warn!(%error, "login: refreshing the provider's keys failed; the last good keys keep serving");
                    remote.settings.cooldown
                }
            };
        }
    });
    Ok(())
}

/// Fetches the key set and puts it in force; the caller holds the refresh lock.
async fn refresh(inner: &Inner, remote: &Remote) -> Result<Option<Duration>, ProviderError> {
    let (keys, max_age) = remote.fetch_keys().await?;
    apply(inner, remote, keys)?;
    remote.mark_good();
    Ok(max_age)
}

/// Replaces the key ring with `keys` if they differ from the ring's (and then empties the
/// token cache), logging the `kid`s that came and went.
fn apply(inner: &Inner, remote: &Remote, keys: Vec<VerifyingKey>) -> Result<(), ProviderError> {
    let same = {
        let ring = inner.keys.load();
        ring.same_keys(&keys)
    };
    if same {
        return Ok(());
    }
    let (old, new) = {
        let ring = inner.keys.load();
        let old: Vec<String> = ring.kids().map(str::to_owned).collect();
        let new: Vec<String> = keys
            .iter()
            .filter_map(|k| k.kid().map(str::to_owned))
            .collect();
        (old, new)
    };
    inner
        .keys
        .update(
            |_| KeyRing::new(None, keys),
            || {
                if let Some(cache) = &inner.cache {
                    cache.invalidate();
                }
            },
        )
        .map_err(|e| ProviderError::InvalidDocument {
            url: remote.jwks_uri().to_owned(),
            reason: e.to_string(),
        })?;
    let added: Vec<&String> = new.iter().filter(|k| !old.contains(k)).collect();
    let removed: Vec<&String> = old.iter().filter(|k| !new.contains(k)).collect();
    tracing::info!(
        issuer = remote.issuer(),
        ?added,
        ?removed,
        "login: the provider's keys changed"
    );
    Ok(())
}

impl LoginManager {
    /// Whether the provider's keys are stale past their bound (requests then answer 503).
    pub(super) fn provider_keys_stale(&self) -> bool {
        self.inner.remote.as_ref().is_some_and(|r| r.is_stale())
    }

    /// After a token named a `kid` the key set lacks: refreshes the keys, at most once per
    /// cooldown (a request that waited while another refresh finished uses that one).
    /// Whether the token is worth verifying again.
    pub(super) async fn refresh_for_unknown_kid(&self) -> bool {
        let Some(remote) = &self.inner.remote else {
            return false;
        };
        let asked = Instant::now();
        let _one = remote.lock().await;
        if remote.good_since(asked) {
            return true;
        }
        if !remote.take_unknown_kid_refresh() {
            tracing::debug!(
                "login: unknown `kid`; the provider's keys were refreshed less than a cooldown ago"
            );
            return false;
        }
        match refresh(&self.inner, remote).await {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(%error, "login: refreshing the provider's keys for an unknown `kid` failed");
                false
            }
        }
    }
}
