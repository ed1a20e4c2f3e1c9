//! [`RedisStore`]: the [`SessionStore`] for many instances of an app, on one Redis server
//! (feature `redis`) or a Redis Cluster (feature `redis-cluster`).
//!
//! - Every step is one Lua script on the keys of one hash slot (the many-instances guide,
//!   `docs/many-instances.md`, lists the keys and their TTLs): a subject's sessions share a
//!   hash tag, so a rotation is atomic on the server, two instances racing on one refresh token
//!   produce one successor, and the grace and reuse rules hold across instances.
//! - Every revocation is recorded in a sorted set and published on a channel (a shard channel
//!   on a cluster, in the slot of the set) by one script. Each instance follows the channel
//!   with one subscription, loads the set at start-up and after every reconnection, and feeds
//!   its managers' views: a protected request never waits on Redis.
//! - The stream is watched by a heartbeat; when it has not been known complete for longer
//!   than the staleness bound, the views refuse every token (503) until it is back.
//!
//! The client is redis-rs: its `ConnectionManager` (one multiplexed connection that
//! reconnects by itself) or its cluster client for commands, and its async pub/sub (on a
//! cluster: a RESP3 cluster connection with `SSUBSCRIBE`) for the stream.

mod builder;
#[cfg(feature = "redis-cluster")]
mod cluster;
mod conn;
mod hub;
mod ops;
mod scripts;
mod stream;
mod throttle;

use std::fmt;
use std::sync::Arc;

use tokio::task::JoinHandle;

use self::builder::Config;
pub use self::builder::RedisStoreBuilder;
use self::builder::Target;
use self::conn::Conn;
use self::hub::Hub;
use self::scripts::Scripts;
use super::store::{Revocation, StoreError};
use super::{Session, TokenHash};

/// Sessions, refresh tokens and revocations in Redis, shared by every instance that connects
/// to it with the same prefix. See the module documentation and the many-instances guide
/// (`docs/many-instances.md`).
pub struct RedisStore {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.shared.config.prefix)
            .field("cluster", &self.shared.is_cluster())
            .field("revocations", &self.shared.hub.len())
            .field("loaded", &self.shared.hub.loaded())
            .finish()
    }
}

/// How the stream reaches Redis.
enum Stream {
    /// One server: a pub/sub connection of this client.
    Single(redis::Client),
    /// A cluster: a RESP3 cluster connection of its own, built from these nodes.
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

/// What the store and its stream task share.
struct Shared {
    stream: Stream,
    conn: Conn,
    config: Config,
    scripts: Scripts,
    hub: Hub,
}

/// Seconds since the Unix epoch (for pruning the store's own copy).
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn hex(hash: &TokenHash) -> String {
    use std::fmt::Write as _;
    hash.0.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A value Redis returned that this store did not write.
fn corrupt(what: impl fmt::Display) -> StoreError {
    StoreError::new(format!(
        "redis: unexpected data (not what this store wrote): {what}"
    ))
}

impl Shared {
    fn is_cluster(&self) -> bool {
        !matches!(self.stream, Stream::Single(_))
    }

    /// Sends one command or pipeline within the command timeout.
    async fn within<T>(
        &self,
        op: &str,
        call: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let timeout = self.config.command_timeout;
        match tokio::time::timeout(timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::new(format!("redis {op}: {e}"))),
            Err(_) => Err(StoreError::new(format!(
                "redis {op}: no answer within {timeout:?}"
            ))),
        }
    }

    /// One command, within the command timeout.
    async fn query<T: redis::FromRedisValue>(
        &self,
        op: &str,
        command: &redis::Cmd,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn.clone();
        self.within(op, command.query_async(&mut conn)).await
    }

    /// Commands on keys of different slots, sent at once (a pipeline must stay in one slot
    /// on a cluster), within the command timeout.
    async fn each(&self, op: &str, commands: &[redis::Cmd]) -> Result<(), StoreError> {
        let sends = commands.iter().map(|command| {
            let mut conn = self.conn.clone();
            async move { command.exec_async(&mut conn).await }
        });
        self.within(op, futures_util::future::try_join_all(sends))
            .await
            .map(drop)
    }

    /// Runs a script on `keys` with `args`, within the command timeout.
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        script: &redis::Script,
        keys: &[&str],
        args: &[&str],
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        let mut conn = self.conn.clone();
        self.within(op, invocation.invoke_async::<T>(&mut conn))
            .await
    }

    /// Runs a subject script: on the subject's slot, the prefix and its tag first.
    async fn run_subject<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        script: &redis::Script,
        tag: &str,
        args: &[&str],
    ) -> Result<T, StoreError> {
        let prefix = &self.config.prefix;
        let key = conn::subject_key(prefix, tag);
        let mut all = Vec::with_capacity(args.len() + 2);
        all.push(prefix.as_str());
        all.push(tag);
        all.extend_from_slice(args);
        self.run(op, script, &[&key], &all).await
    }

    /// Deletes index keys (of several slots: the cluster client splits the command).
    async fn delete(&self, keys: &[String]) -> Result<(), StoreError> {
        if keys.is_empty() {
            return Ok(());
        }
        let _: i64 = self.query("DEL", redis::cmd("DEL").arg(keys)).await?;
        Ok(())
    }

    /// The revocations in force (by the wall clock), from the sorted set.
    async fn load_revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        self.snapshot_at(unix_now()).await
    }

    async fn snapshot_at(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let key = &self.config.channel;
        let command = redis::cmd("ZRANGEBYSCORE")
            .arg(key)
            .arg(format!("({now}"))
            .arg("+inf")
            .to_owned();
        let members: Vec<Vec<u8>> = self.query("ZRANGEBYSCORE", &command).await?;
        members
            .iter()
            .map(|member| {
                serde_json::from_slice(member).map_err(|e| {
                    corrupt(format_args!("a member of {key} is not a revocation: {e}"))
                })
            })
            .collect()
    }

    /// Records revocations in Redis (the sorted set, and the channel), in one script.
    async fn record(&self, revocations: &[Revocation]) -> Result<(), StoreError> {
        if revocations.is_empty() {
            return Ok(());
        }
        let mut args = vec![unix_now().to_string(), self.config.publish.to_owned()];
        for revocation in revocations {
            let member = serde_json::to_string(revocation)
                .map_err(|e| StoreError::new(format!("redis: cannot encode a revocation: {e}")))?;
            args.push(member);
            args.push(revocation.until().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let key = self.config.channel.as_str();
        self.run::<redis::Value>("revoke", &self.scripts.revoke, &[key], &args)
            .await?;
        Ok(())
    }

    /// Records revocations, then applies them here at once.
    async fn revoke(&self, revocations: &[Revocation]) -> Result<(), StoreError> {
        self.record(revocations).await?;
        for revocation in revocations {
            self.hub.apply(revocation);
        }
        Ok(())
    }
}

/// A session from its stored fields: `data` (the JSON written at creation), then the fields
/// that change (`ref`, `exp`, `ua`).
fn session_from(
    data: &[u8],
    refreshed: &str,
    expires: &str,
    ua: &str,
) -> Result<Session, StoreError> {
    let mut session: Session = serde_json::from_slice(data)
        .map_err(|e| corrupt(format_args!("a session record is not a session: {e}")))?;
    session.refreshed_at = match refreshed {
        "" => None,
        v => Some(
            v.parse()
                .map_err(|_| corrupt(format_args!("refreshed_at {v:?}")))?,
        ),
    };
    session.expires_at = expires
        .parse()
        .map_err(|_| corrupt(format_args!("expires_at {expires:?}")))?;
    session.user_agent = (!ua.is_empty()).then(|| ua.to_owned());
    Ok(session)
}

fn text(value: &[u8], what: &str) -> Result<String, StoreError> {
    String::from_utf8(value.to_vec()).map_err(|_| corrupt(format_args!("{what} is not UTF-8")))
}

impl RedisStore {
    /// The settings for a store on one Redis server at `url` (`redis://host:port/db`;
    /// `rediss://` for TLS is not compiled in), with the defaults.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(Target::Url(url.into()))
    }

    /// The settings for a store on a Redis Cluster (feature `redis-cluster`), reached through
    /// any of `nodes` (`redis://host:port`, one or more of its nodes: the client finds the
    /// others), with the defaults. See the many-instances guide, "Redis Cluster".
    #[cfg(feature = "redis-cluster")]
    pub fn cluster<I, S>(nodes: I) -> RedisStoreBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisStoreBuilder::new(Target::Cluster(nodes.into_iter().map(Into::into).collect()))
    }

    /// A store on one Redis server at `url` with the default settings.
    pub async fn connect(url: impl Into<String>) -> Result<Arc<RedisStore>, StoreError> {
        Self::builder(url).connect().await
    }

    /// How many revocations this process holds (the store's own copy of the set in Redis).
    pub fn revocations(&self) -> usize {
        self.shared.hub.len()
    }

    /// Whether the store runs on a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.shared.is_cluster()
    }
}
