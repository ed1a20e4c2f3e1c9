//! [`RedisStoreBuilder`]: the settings of a [`RedisStore`], and connecting.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::conn::Conn;
use super::hub::Hub;
use super::scripts::Scripts;
use super::{RedisStore, Shared, Stream, stream};
use crate::session::StoreError;

/// The default key prefix.
pub(crate) const DEFAULT_PREFIX: &str = "login:";
/// The default heartbeat of the revocation stream.
pub(crate) const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(1);
/// The default staleness bound: protected requests answer 503 once the revocation stream has
/// not been known complete for this long.
pub(crate) const DEFAULT_STALENESS_BOUND: Duration = Duration::from_secs(5);
/// The default time a command may take before the store gives up on it (the request that
/// needed it answers 503).
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The settings of a [`RedisStore`] (see [`RedisStore::builder`]). Its `Debug` prints the
/// URL without its password (`redis://user:***@host/0`, `?password=***`).
#[derive(Clone)]
pub struct RedisStoreBuilder {
    pub(super) target: Target,
    pub(super) prefix: String,
    pub(super) heartbeat: Duration,
    pub(super) staleness_bound: Duration,
    pub(super) command_timeout: Duration,
}

impl std::fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("heartbeat", &self.heartbeat)
            .field("staleness_bound", &self.staleness_bound)
            .field("command_timeout", &self.command_timeout)
            .finish()
    }
}

/// Where the store connects.
#[derive(Clone)]
pub(super) enum Target {
    /// One server.
    Url(String),
    /// A cluster, through these nodes.
    #[cfg(feature = "redis-cluster")]
    Cluster(Vec<String>),
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Url(url) => f.write_str(&redacted_url(url)),
            #[cfg(feature = "redis-cluster")]
            Target::Cluster(nodes) => f
                .debug_tuple("Cluster")
                .field(&nodes.iter().map(|n| redacted_url(n)).collect::<Vec<_>>())
                .finish(),
        }
    }
}

/// `url` with its password replaced by `***`: the one of the user info
/// (`redis://user:password@host`) and the value of a `password` or `pass` query parameter.
fn redacted_url(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (url, None),
    };
    let mut out = String::with_capacity(url.len());
    match head.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            out.push_str(scheme);
            out.push_str("://");
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    match userinfo.split_once(':') {
                        Some((user, _password)) => {
                            out.push_str(user);
                            out.push_str(":***");
                        }
                        // `redis://password@host` is read as a password by some clients.
                        None if !userinfo.is_empty() => out.push_str("***"),
                        None => {}
                    }
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(head),
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _))
                    if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("pass") =>
                {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    out
}

/// The checked settings.
#[derive(Debug, Clone)]
pub(super) struct Config {
    pub(super) prefix: String,
    pub(super) channel: String,
    pub(super) heartbeat: Duration,
    pub(super) staleness_bound: Duration,
    pub(super) command_timeout: Duration,
    /// `PUBLISH` on one server, `SPUBLISH` (the shard channel) on a cluster.
    pub(super) publish: &'static str,
}

impl RedisStoreBuilder {
    pub(super) fn new(target: Target) -> Self {
        RedisStoreBuilder {
            target,
            prefix: DEFAULT_PREFIX.to_owned(),
            heartbeat: DEFAULT_HEARTBEAT,
            staleness_bound: DEFAULT_STALENESS_BOUND,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    /// The prefix of every key and of the channel (default `login:`): give each app sharing
    /// a Redis its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How often the revocation stream is checked (default 1 s). At least 10 ms.
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.heartbeat = heartbeat;
        self
    }

    /// How long the views may go without a heartbeat before protected requests answer 503
    /// (default 5 s). At least twice the heartbeat.
    pub fn staleness_bound(mut self, bound: Duration) -> Self {
        self.staleness_bound = bound;
        self
    }

    /// How long a command may take (default 2 s): a login, refresh or logout that needs
    /// Redis answers 503 after at most this (and the connection is retried).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// Connects, subscribes to the revocation channel and loads the revocations in force.
    /// Fails when Redis cannot be reached within the command timeout. Call it inside a Tokio
    /// runtime: the stream runs on it until the store is dropped.
    pub async fn connect(self) -> Result<Arc<RedisStore>, StoreError> {
        if self.heartbeat < Duration::from_millis(10) {
            return Err(StoreError::new(
                "redis: the heartbeat must be at least 10 ms",
            ));
        }
        if self.staleness_bound < self.heartbeat * 2 {
            return Err(StoreError::new(
                "redis: the staleness bound must be at least twice the heartbeat",
            ));
        }
        if self.command_timeout.is_zero() {
            return Err(StoreError::new(
                "redis: the command timeout must not be zero",
            ));
        }
        let publish = match &self.target {
            Target::Url(_) => "PUBLISH",
            #[cfg(feature = "redis-cluster")]
            Target::Cluster(_) => "SPUBLISH",
        };
        let config = Config {
            channel: format!("{}revocations", self.prefix),
            prefix: self.prefix,
            heartbeat: self.heartbeat,
            staleness_bound: self.staleness_bound,
            command_timeout: self.command_timeout,
            publish,
        };
        let (stream, conn) = match self.target {
            Target::Url(url) => {
                let client = redis::Client::open(url.as_str())
                    .map_err(|e| StoreError::new(format!("redis: bad URL: {e}")))?;
                let manager_config = redis::aio::ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(config.command_timeout))
                    .set_response_timeout(Some(config.command_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(config.heartbeat);
                let conn = tokio::time::timeout(
                    config.command_timeout * 2,
                    ConnectionManager::new_with_config(client.clone(), manager_config),
                )
                .await
                .map_err(|_| StoreError::new("redis: connect: no answer in time"))?
                .map_err(|e| StoreError::new(format!("redis: connect: {e}")))?;
                (Stream::Single(client), Conn::Single(conn))
            }
            #[cfg(feature = "redis-cluster")]
            Target::Cluster(nodes) => {
                let conn = super::cluster::connect(&nodes, &config).await?;
                (Stream::Cluster(nodes), Conn::Cluster(conn))
            }
        };
        let shared = Arc::new(Shared {
            stream,
            conn,
            config,
            scripts: Scripts::new(),
            hub: Hub::default(),
        });
        let (ready, loaded) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(stream::run(Arc::clone(&shared), Some(ready)));
        let store = RedisStore { shared, task };
        match loaded.await {
            Ok(Ok(())) => Ok(Arc::new(store)),
            Ok(Err(e)) => Err(StoreError::new(format!("redis: revocation stream: {e}"))),
            Err(_) => Err(StoreError::new("redis: revocation stream ended")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::RedisStore;

    /// `Debug` of the settings never prints the Redis password (in the URL's user info, or
    /// as a `password`/`pass` query parameter); the rest of the URL stays, to be debuggable.
    #[test]
    fn debug_of_the_builder_hides_the_redis_password() {
        for (url, shown) in [
            (
                "redis://:s3cr3t-pw@10.0.0.1:6380/2",
                "redis://:***@10.0.0.1:6380/2",
            ),
            ("redis://app:s3cr3t-pw@cache/0", "redis://app:***@cache/0"),
            (
                "redis://cache:6379/0?password=s3cr3t-pw&db=1",
                "redis://cache:6379/0?password=***&db=1",
            ),
            (
                "redis+unix:///run/redis.sock?pass=s3cr3t-pw",
                "redis+unix:///run/redis.sock?pass=***",
            ),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ] {
            let builder = RedisStore::builder(url).prefix("app:");
            let printed = format!("{builder:?} {builder:#?}");
            assert!(!printed.contains("s3cr3t-pw"), "{printed}");
            assert!(printed.contains(shown), "{url}: {printed}");
            assert!(printed.contains("app:"), "{printed}");
        }
    }
}
