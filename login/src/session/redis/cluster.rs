//! A [`RedisStore`](super::RedisStore) on a Redis Cluster (feature `redis-cluster`): the
//! command connection (redis-rs's cluster client, which follows `MOVED` and failovers by
//! itself) and the revocation stream.
//!
//! The stream is Redis 7's sharded pub/sub: the revocations' sorted set and the shard channel
//! have one name, so one slot, so one shard holds both, and the script that records a
//! revocation publishes it (`SPUBLISH`) on the same node in the same step. Each instance
//! subscribes (`SSUBSCRIBE`) on a RESP3 cluster connection of its own, which routes the
//! subscription to the primary of that slot.
//!
//! The heartbeat is a message: every heartbeat the stream publishes `hb:<id>:<n>` (`id` this
//! stream's, `n` counting up) on the channel through the command connection. The shard's
//! primary delivers the messages of the channel in the order it ran them, so when the stream
//! receives its own heartbeat back, every revocation published before it was sent has been
//! received: the views are complete up to the moment it was sent. The proof holds whatever
//! node the subscription is on: after a failover, a subscription left on a node that no longer
//! holds the slot never sees the heartbeat, the views go stale, and the stream is reopened. Any
//! sign of a change under the subscription (a connection of it lost, the subscription moved or
//! dropped by the server) reopens the stream at once, with a fresh load.

use std::convert::Infallible;
use std::time::Instant;

use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{PushKind, Value};

use super::Shared;
use super::builder::Config;
use super::stream::{Broken, Ready, apply_payload, resync};
use crate::session::StoreError;

/// Builds a cluster client of `nodes` with the store's timeouts.
fn client(nodes: &[String], config: &Config) -> ClusterClientBuilder {
    ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(config.command_timeout)
        .response_timeout(config.command_timeout)
        .retries(3)
        .max_retry_wait(config.heartbeat.as_millis().max(10) as u64)
}

/// The command connection: fails when no node answers within the command timeout.
pub(super) async fn connect(
    nodes: &[String],
    config: &Config,
) -> Result<ClusterConnection, StoreError> {
    if nodes.is_empty() {
        return Err(StoreError::new(
            "redis cluster: no node URL given (at least one is needed)",
        ));
    }
    let client = client(nodes, config)
        .build()
        .map_err(|e| StoreError::new(format!("redis cluster: bad node URL: {e}")))?;
    tokio::time::timeout(config.command_timeout * 2, client.get_async_connection())
        .await
        .map_err(|_| StoreError::new("redis cluster: connect: no answer in time"))?
        .map_err(|e| StoreError::new(format!("redis cluster: connect: {e}")))
}

/// The payload of a shard message, if `push` is one on `channel`.
fn message<'a>(push: &'a redis::PushInfo, channel: &str) -> Option<&'a [u8]> {
    match push.data.as_slice() {
        [Value::BulkString(name), Value::BulkString(payload)] if name == channel.as_bytes() => {
            Some(payload)
        }
        _ => None,
    }
}

/// One life of the stream on a cluster: connect, subscribe, load, then follow and heartbeat
/// until something breaks.
pub(super) async fn stream_once(
    shared: &Shared,
    nodes: &[String],
    ready: &mut Ready,
) -> Result<Infallible, Broken> {
    let config = &shared.config;
    let timeout = config.command_timeout;
    let within = |what: &'static str| move |_| format!("{what}: no answer within {timeout:?}");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = client(nodes, config)
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(tx)
        .build()
        .map_err(|e| format!("bad node URL: {e}"))?;
    let mut conn = tokio::time::timeout(timeout, client.get_async_connection())
        .await
        .map_err(within("connect"))?
        .map_err(|e| format!("connect: {e}"))?;
    tokio::time::timeout(timeout, conn.ssubscribe(&config.channel))
        .await
        .map_err(within("SSUBSCRIBE"))?
        .map_err(|e| format!("SSUBSCRIBE: {e}"))?;
    resync(shared, ready).await?;

    let id: u64 = {
        let mut bytes = [0; 8];
        getrandom::fill(&mut bytes).map_err(|e| format!("random: {e}"))?;
        u64::from_le_bytes(bytes)
    };
    let mine = format!("hb:{id:016x}:");
    // The subscription's own confirmation may reach the channel after `ssubscribe` returned.
    let mut confirmations = 1;
    let mut beat: u64 = 0;
    // The heartbeat in flight: its number, when it was sent, when it must be back.
    let mut pending: Option<(u64, Instant, tokio::time::Instant)> = None;
    let mut next = tokio::time::Instant::now() + config.heartbeat;
    loop {
        let wake = pending.map_or(next, |(_, _, by)| by.min(next));
        match tokio::time::timeout_at(wake, rx.recv()).await {
            Ok(None) => return Err("the connection closed".to_owned()),
            Ok(Some(push)) => match push.kind {
                PushKind::SMessage | PushKind::Message => {
                    let Some(payload) = message(&push, &config.channel) else {
                        continue;
                    };
                    if let Some(n) = payload.strip_prefix(mine.as_bytes()) {
                        let n: Option<u64> =
                            std::str::from_utf8(n).ok().and_then(|n| n.parse().ok());
                        if let (Some(n), Some((expected, sent, _))) = (n, pending)
                            && n == expected
                        {
                            pending = None;
                            shared
                                .hub
                                .fresh(sent + config.staleness_bound, super::unix_now());
                        }
                    } else if !payload.starts_with(b"hb:") {
                        apply_payload(shared, payload)?;
                    }
                }
                PushKind::SSubscribe if confirmations > 0 => confirmations -= 1,
                PushKind::SSubscribe | PushKind::SUnsubscribe | PushKind::Disconnection => {
                    return Err(format!(
                        "the subscription changed under the stream ({:?})",
                        push.kind
                    ));
                }
                _ => {}
            },
            Err(_) => {
                let now = tokio::time::Instant::now();
                if let Some((n, _, by)) = pending
                    && now >= by
                {
                    return Err(format!("heartbeat {n} not back within {timeout:?}"));
                }
                if now >= next {
                    next = now + config.heartbeat;
                    if pending.is_none() {
                        beat += 1;
                        let sent = Instant::now();
                        let command = redis::cmd("SPUBLISH")
                            .arg(&config.channel)
                            .arg(format!("{mine}{beat}"))
                            .to_owned();
                        let _: i64 = shared
                            .query("SPUBLISH", &command)
                            .await
                            .map_err(|e| e.to_string())?;
                        pending = Some((beat, sent, now + timeout));
                    }
                }
            }
        }
    }
}
