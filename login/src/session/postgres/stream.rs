//! The revocation stream: one listening connection per store (`LISTEN login_revocations`,
//! and a heartbeat channel of its own), the revocations in force loaded after each
//! (re)connection, and a heartbeat every `heartbeat`.
//!
//! Why the heartbeat is a `NOTIFY` to itself: PostgreSQL hands a listener the notifications
//! of every channel it listens to in the order their transactions committed. When the
//! heartbeat sent at `t` comes back, every revocation committed before `t` has been received
//! (and applied, as messages are handled in order): the view is complete up to `t` and is
//! trusted until `t + staleness_bound`. A listening connection that breaks (the server
//! restarted, the backend terminated) or stops answering is dropped and reopened, then the
//! whole set is reloaded; past the bound, every protected request answers 503.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::{self, Either};
use sqlx::postgres::PgListener;

use super::{CHANNEL, Shared, unix_now};
use crate::session::view::RevocationSet;
use crate::session::{Revocation, RevocationSink};

/// The revocations in force and the sinks, under one lock, so that every sink sees the
/// changes in the same order.
#[derive(Default)]
pub(crate) struct Hub {
    state: Mutex<HubState>,
}

#[derive(Default)]
struct HubState {
    set: RevocationSet,
    sinks: Vec<Arc<dyn RevocationSink>>,
    fresh_until: Option<Instant>,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a sink: the revocations known now, and the freshness known now.
    pub(crate) fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        let mut state = self.lock();
        sink.replace(state.set.to_vec());
        sink.fresh_until(state.fresh_until.unwrap_or_else(Instant::now));
        state.sinks.push(sink);
    }

    pub(crate) fn apply(&self, revocation: &Revocation) {
        let mut state = self.lock();
        state.set.apply(revocation);
        for sink in &state.sinks {
            sink.apply(revocation);
        }
    }

    /// The set loaded after a (re)connection, merged into what this process knows (a
    /// revocation is never lifted before its `until`), handed whole to the sinks.
    fn merge(&self, snapshot: Vec<Revocation>, deadline: Instant, now: i64) {
        let mut state = self.lock();
        state.set.prune(now);
        for revocation in &snapshot {
            state.set.apply(revocation);
        }
        let all = state.set.to_vec();
        for sink in &state.sinks {
            sink.replace(all.clone());
            sink.fresh_until(deadline);
        }
        state.fresh_until = Some(deadline);
    }

    fn fresh(&self, deadline: Instant, now: i64) {
        let mut state = self.lock();
        state.set.prune(now);
        for sink in &state.sinks {
            sink.fresh_until(deadline);
        }
        state.fresh_until = Some(deadline);
    }
}

/// Where the first load is reported (`connect` waits for it).
pub(super) type Ready = Option<tokio::sync::oneshot::Sender<Result<(), String>>>;

/// Runs the stream until the store is dropped (the task is aborted then).
pub(super) async fn run(shared: Arc<Shared>, mut ready: Ready) {
    let mut failures: u32 = 0;
    // This instance's heartbeat channel (a channel name is an identifier: 63 bytes at most).
    let bytes: [u8; 8] = crate::secret::random_bytes();
    let own: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let heartbeat_channel = format!("login_heartbeat_{own}");
    loop {
        let opened = Instant::now();
        let Err(broken) = stream_once(&shared, &heartbeat_channel, &mut ready).await;
        if let Some(ready) = ready.take() {
            let _ = ready.send(Err(broken));
            return;
        }
        if opened.elapsed() > shared.config.staleness_bound {
            failures = 0;
        }
        if failures == 0 {
            tracing::warn!(error = %broken, "login: the PostgreSQL revocation stream broke; reopening it");
        } else {
            tracing::debug!(error = %broken, failures, "login: the PostgreSQL revocation stream is still down");
        }
        let delay = Duration::from_millis(50)
            .saturating_mul(1 << failures.min(10))
            .min(shared.config.heartbeat);
        failures = failures.saturating_add(1);
        tokio::time::sleep(delay).await;
    }
}

/// One life of the listening connection.
async fn stream_once(
    shared: &Shared,
    heartbeat_channel: &str,
    ready: &mut Ready,
) -> Result<Infallible, String> {
    let config = &shared.config;
    let timeout = config.command_timeout;
    let within = |what: &'static str| move |_| format!("{what}: no answer within {timeout:?}");
    let mut listener = tokio::time::timeout(timeout, PgListener::connect_with(&shared.pool))
        .await
        .map_err(within("connect"))?
        .map_err(|e| format!("connect: {e}"))?;
    // A broken connection must end this life (and be followed by a reload), not be
    // reconnected silently.
    listener.ignore_pool_close_event(true);
    tokio::time::timeout(timeout, listener.listen_all([CHANNEL, heartbeat_channel]))
        .await
        .map_err(within("LISTEN"))?
        .map_err(|e| format!("LISTEN: {e}"))?;
    // Listening first, then loaded: a revocation committed before the load is in it, one
    // committed after is in the stream (both is harmless).
    let sent = Instant::now();
    let snapshot = shared
        .snapshot(unix_now())
        .await
        .map_err(|e| format!("load: {e}"))?;
    let count = snapshot.len();
    shared
        .hub
        .merge(snapshot, sent + config.staleness_bound, unix_now());
    tracing::info!(
        revocations = count,
        "login: revocations loaded from PostgreSQL"
    );
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    // The heartbeats sent and not yet back: (sequence number, when it was sent).
    let mut in_flight: std::collections::VecDeque<(u64, Instant)> = Default::default();
    let mut seq: u64 = 0;
    let mut last_back = Instant::now();
    loop {
        let event = match future::select(pin!(heartbeat.tick()), pin!(listener.try_recv())).await {
            Either::Left(_) => None,
            Either::Right((received, _)) => Some(received),
        };
        match event {
            None => {
                if last_back.elapsed() > config.staleness_bound {
                    return Err(format!(
                        "no heartbeat came back within {:?}",
                        config.staleness_bound
                    ));
                }
                seq += 1;
                in_flight.push_back((seq, Instant::now()));
                if in_flight.len() > 64 {
                    in_flight.pop_front();
                }
                shared
                    .timed(
                        sqlx::query("SELECT pg_notify($1, $2)")
                            .bind(heartbeat_channel)
                            .bind(seq.to_string())
                            .execute(&shared.pool),
                    )
                    .await
                    .map_err(|e| format!("heartbeat: {e}"))?;
            }
            Some(Err(e)) => return Err(format!("receive: {e}")),
            Some(Ok(None)) => return Err("the listening connection closed".to_owned()),
            Some(Ok(Some(notification))) if notification.channel() == CHANNEL => {
                match serde_json::from_str::<Revocation>(notification.payload()) {
                    Ok(revocation) => shared.hub.apply(&revocation),
                    Err(e) => {
                        tracing::error!(error = %e, "login: a notification on the revocation channel is not a revocation; reloading");
                        return Err(format!("not a revocation this store wrote: {e}"));
                    }
                }
            }
            Some(Ok(Some(notification))) => {
                let Ok(back) = notification.payload().parse::<u64>() else {
                    continue;
                };
                while let Some(&(n, sent)) = in_flight.front() {
                    if n > back {
                        break;
                    }
                    in_flight.pop_front();
                    if n == back {
                        last_back = Instant::now();
                        shared.hub.fresh(sent + config.staleness_bound, unix_now());
                    }
                }
            }
        }
    }
}
