//! The change stream: a task per store that keeps a pub/sub connection subscribed to the
//! revocation channel, loads the revocations in force after each (re)subscription, and
//! sends a heartbeat (`PING` on the same connection) every `heartbeat`.
//!
//! Why a heartbeat on the subscription itself: replies on one connection come in order, so
//! when a `PING` sent at `t` is answered, every revocation published before `t` has been
//! received, and, once the messages already received are applied, the views are complete up
//! to `t`. They are then trusted until `t + staleness_bound`; a stream that stops answering
//! (Redis down, killed, partitioned, or blocked by a slow command) is dropped and reopened, and
//! after the bound every protected request answers 503 until a resync succeeds.

use std::convert::Infallible;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::{self, Either};
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::sync::oneshot;

use super::{Shared, Stream};
use crate::session::Revocation;

/// Why the stream broke (logged, then the stream is reopened).
pub(super) type Broken = String;

/// Where the first load is reported (`connect` waits for it).
pub(super) type Ready = Option<oneshot::Sender<Result<(), String>>>;

/// Runs the stream until the store is dropped (the task is aborted then). `ready` hears of
/// the first successful load, or of the first failure.
pub(super) async fn run(shared: Arc<Shared>, mut ready: Ready) {
    let mut failures: u32 = 0;
    loop {
        let opened = Instant::now();
        let Err(broken) = match &shared.stream {
            Stream::Single(client) => stream_once(&shared, client, &mut ready).await,
            #[cfg(feature = "redis-cluster")]
            Stream::Cluster(nodes) => super::cluster::stream_once(&shared, nodes, &mut ready).await,
        };
        if let Some(ready) = ready.take() {
            let _ = ready.send(Err(broken));
            return;
        }
        // A stream that served for a while starts its back-off again.
        if opened.elapsed() > shared.config.staleness_bound {
            failures = 0;
        }
        if failures == 0 {
            tracing::warn!(error = %broken, "login: the Redis revocation stream broke; reopening it");
        } else {
            tracing::debug!(error = %broken, failures, "login: the Redis revocation stream is still down");
        }
        // 50 ms, doubling, at most the heartbeat: a restarted Redis is found within a
        // heartbeat.
        let delay = Duration::from_millis(50)
            .saturating_mul(1 << failures.min(10))
            .min(shared.config.heartbeat);
        failures = failures.saturating_add(1);
        tokio::time::sleep(delay).await;
    }
}

/// One life of the pub/sub connection: open, subscribe, load, then follow and heartbeat until
/// something breaks.
async fn stream_once(
    shared: &Shared,
    client: &redis::Client,
    ready: &mut Ready,
) -> Result<Infallible, Broken> {
    let config = &shared.config;
    let timeout = config.command_timeout;
    let within = |what: &'static str| move |_| format!("{what}: no answer within {timeout:?}");
    let pubsub = tokio::time::timeout(timeout, client.get_async_pubsub())
        .await
        .map_err(within("connect"))?
        .map_err(|e| format!("connect: {e}"))?;
    let (mut sink, mut stream) = pubsub.split();
    tokio::time::timeout(timeout, sink.subscribe(&config.channel))
        .await
        .map_err(within("SUBSCRIBE"))?
        .map_err(|e| format!("SUBSCRIBE: {e}"))?;
    resync(shared, ready).await?;
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    heartbeat.tick().await;
    loop {
        // The heartbeat first when both are ready: its drain applies the waiting messages too.
        let message = match future::select(pin!(heartbeat.tick()), stream.next()).await {
            Either::Left(_) => None,
            Either::Right((message, _)) => Some(message),
        };
        match message {
            Some(Some(message)) => apply(shared, &message)?,
            Some(None) => return Err("the connection closed".to_owned()),
            None => {
                let sent = Instant::now();
                tokio::time::timeout(timeout, sink.ping::<redis::Value>())
                    .await
                    .map_err(within("PING"))?
                    .map_err(|e| format!("PING: {e}"))?;
                // Everything received before the answer is waiting in the stream: apply it.
                while let Some(message) = stream.next().now_or_never() {
                    match message {
                        Some(message) => apply(shared, &message)?,
                        None => return Err("the connection closed".to_owned()),
                    }
                }
                shared
                    .hub
                    .fresh(sent + config.staleness_bound, super::unix_now());
            }
        }
    }
}

/// Applies one message of the channel. One that is not a revocation this store wrote is a
/// gap: the stream is reopened and the full set reloaded.
fn apply(shared: &Shared, message: &redis::Msg) -> Result<(), Broken> {
    apply_payload(shared, message.get_payload_bytes())
}

/// Applies one message's payload (see [`apply`]).
pub(super) fn apply_payload(shared: &Shared, payload: &[u8]) -> Result<(), Broken> {
    match serde_json::from_slice::<Revocation>(payload) {
        Ok(revocation) => {
            shared.hub.apply(&revocation);
            Ok(())
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "login: a message on the Redis revocation channel is not a revocation; reloading"
            );
            Err(format!(
                "a message on the channel is not a revocation this store wrote: {e}"
            ))
        }
    }
}

/// After a (re)subscription: loads the revocations in force, merges them into the views
/// (fresh for the staleness bound from the moment the load was sent), writes back what Redis
/// lacks, and reports the first load to `connect`.
pub(super) async fn resync(shared: &Shared, ready: &mut Ready) -> Result<(), Broken> {
    let config = &shared.config;
    let timeout = config.command_timeout;
    let within = |what: &'static str| move |_| format!("{what}: no answer within {timeout:?}");
    // Subscribed first, then loaded: a revocation published before the load is in it, one
    // published after is in the stream (both is harmless: applying one twice changes nothing).
    let sent = Instant::now();
    let snapshot = tokio::time::timeout(timeout, shared.load_revocations())
        .await
        .map_err(within("ZRANGEBYSCORE"))?
        .map_err(|e| e.to_string())?;
    let count = snapshot.len();
    let missing = shared
        .hub
        .merge(snapshot, sent + config.staleness_bound, super::unix_now());
    tracing::info!(revocations = count, "login: revocations loaded from Redis");
    if !missing.is_empty() {
        // Redis lost revocations this process knows (it restarted without persistence):
        // write them back, so that instances started from now on know them too.
        tracing::warn!(
            missing = missing.len(),
            "login: Redis lacks revocations this instance knows; writing them back"
        );
        shared.record(&missing).await.map_err(|e| e.to_string())?;
    }
    if let Some(ready) = ready.take() {
        let _ = ready.send(Ok(()));
    }
    Ok(())
}
