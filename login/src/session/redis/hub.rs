//! The store's side of the change stream in this process: its own copy of the revocations
//! in force, the sinks it feeds (the managers' views), and the freshness it hands them.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::session::view::RevocationSet;
use crate::session::{Revocation, RevocationSink};

/// The revocations in force and the sinks, under one lock, so that every sink sees the
/// changes in the same order.
#[derive(Default)]
pub(super) struct Hub {
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    set: RevocationSet,
    sinks: Vec<Arc<dyn RevocationSink>>,
    /// The deadline handed out with the last heartbeat; `None` before the first load.
    fresh_until: Option<Instant>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a sink: the revocations known now, and the freshness known now (a sink
    /// registered before the first load is stale from the start).
    pub(super) fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        let mut state = self.lock();
        sink.replace(state.set.to_vec());
        sink.fresh_until(state.fresh_until.unwrap_or_else(Instant::now));
        state.sinks.push(sink);
    }

    /// One revocation, from the stream or made by this process.
    pub(super) fn apply(&self, revocation: &Revocation) {
        let mut state = self.lock();
        state.set.apply(revocation);
        for sink in &state.sinks {
            sink.apply(revocation);
        }
    }

    /// The set loaded after a (re)subscription, merged into what this process knows, then
    /// handed whole to the sinks, fresh until `deadline`.
    ///
    /// Merged, not replaced: a revocation is never lifted before its `until`, so whatever this
    /// process knows stays in force even if Redis lost it (a restart without persistence).
    /// Returns the revocations Redis lacks, for the store to write back.
    pub(super) fn merge(
        &self,
        snapshot: Vec<Revocation>,
        deadline: Instant,
        now: i64,
    ) -> Vec<Revocation> {
        let mut state = self.lock();
        state.set.prune(now);
        let mut loaded = RevocationSet::default();
        for revocation in &snapshot {
            loaded.apply(revocation);
            state.set.apply(revocation);
        }
        let missing = state
            .set
            .to_vec()
            .into_iter()
            .filter(|r| !loaded.covers(r))
            .collect();
        let all = state.set.to_vec();
        for sink in &state.sinks {
            sink.replace(all.clone());
            sink.fresh_until(deadline);
        }
        state.fresh_until = Some(deadline);
        missing
    }

    /// A heartbeat came back after every message before it was applied: fresh until
    /// `deadline`. Drops what no longer needs keeping (`now`: seconds since the epoch).
    pub(super) fn fresh(&self, deadline: Instant, now: i64) {
        let mut state = self.lock();
        state.set.prune(now);
        for sink in &state.sinks {
            sink.fresh_until(deadline);
        }
        state.fresh_until = Some(deadline);
    }

    /// How many revocations the store's own copy holds.
    pub(super) fn len(&self) -> usize {
        self.lock().set.len()
    }

    /// Whether the stream has been loaded at least once.
    pub(super) fn loaded(&self) -> bool {
        self.lock().fresh_until.is_some()
    }
}
