//! Example apps for the `login` crate. Each app lives in a module here (so that tests can drive
//! its router) and is started by a file of the same name in `examples/`:
//!
//! ```text
//! cargo run --example simple
//! ```
//!
//! One exception: `resource_server.rs` is not a module of this library but is compiled into its
//! example and its test only (`#[path]`). Its manager is a plain `LoginManager` whose routes
//! require the scope `admin`, and a `LoginManager` that declares scopes checks at `build()` the
//! scopes of every `#[protected]` route of its type linked into the binary: linked into every
//! example here, that route would fail the others' managers, which declare other scopes. (The
//! `admins` example shows the other way out: a manager type of its own, `define_manager!`.)

pub mod admins;
pub mod app;
pub mod asymmetric;
pub mod chat;
pub mod flood;
pub mod simple;

use std::sync::Arc;
use std::time::Duration;

use login::session::SessionStore;
use login::session::{PostgresStore, RedisStore};
use tracing_subscriber::EnvFilter;

/// The session store the examples run on: Redis when `LOGIN_REDIS_URL` is set, a Redis
/// Cluster when `LOGIN_REDIS_CLUSTER` is (comma-separated node URLs, one or more:
/// `redis://10.0.0.1:6379,redis://10.0.0.2:6379`; both set is an error), so that several
/// instances share sessions and revocations; `None` otherwise (the manager keeps them in
/// memory, and the two-command quick start needs no server).
///
/// Optional, with either: `LOGIN_REDIS_PREFIX` (default `login:`),
/// `LOGIN_REDIS_HEARTBEAT_MS` (default 1000) and `LOGIN_REDIS_STALENESS_MS` (default 5000),
/// the store's settings of the same names.
///
/// PostgreSQL when `LOGIN_DATABASE_URL` is set (a `postgres://` URL; with a Redis setting too
/// is an error): see [`postgres_store_from_env`].
pub async fn session_store_from_env() -> Result<Option<Arc<dyn SessionStore>>, String> {
    if let Some(store) = postgres_store_from_env().await? {
        return Ok(Some(store));
    }
    let url = std::env::var("LOGIN_REDIS_URL").ok();
    let cluster = std::env::var("LOGIN_REDIS_CLUSTER").ok();
    let (mut builder, name) = match (url, cluster) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(
                "LOGIN_REDIS_URL and LOGIN_REDIS_CLUSTER are both set: give one of them".to_owned(),
            );
        }
        (Some(url), None) => (RedisStore::builder(url), "LOGIN_REDIS_URL"),
        (None, Some(nodes)) => (
            RedisStore::cluster(cluster_nodes(&nodes)?),
            "LOGIN_REDIS_CLUSTER",
        ),
    };
    if let Ok(prefix) = std::env::var("LOGIN_REDIS_PREFIX") {
        builder = builder.prefix(prefix);
    }
    let millis = |name: &str| -> Result<Option<Duration>, String> {
        match std::env::var(name) {
            Ok(v) => v
                .parse()
                .map(|ms| Some(Duration::from_millis(ms)))
                .map_err(|_| format!("{name}: not a number of milliseconds: {v:?}")),
            Err(_) => Ok(None),
        }
    };
    if let Some(heartbeat) = millis("LOGIN_REDIS_HEARTBEAT_MS")? {
        builder = builder.heartbeat(heartbeat);
    }
    if let Some(bound) = millis("LOGIN_REDIS_STALENESS_MS")? {
        builder = builder.staleness_bound(bound);
    }
    let store = builder
        .connect()
        .await
        .map_err(|e| format!("{name}: {e}"))?;
    tracing::info!("sessions in Redis ({name})");
    Ok(Some(store))
}

/// The `PostgresStore` of `LOGIN_DATABASE_URL` (a `postgres://` or `postgresql://` URL), with
/// its schema created if missing; `None` when it is not set. An error when a Redis setting is
/// given too, or the database cannot be reached. Optional: `LOGIN_DATABASE_HEARTBEAT_MS`
/// (default 1000) and `LOGIN_DATABASE_STALENESS_MS` (default 5000), the store's settings of
/// the same names.
pub async fn postgres_store_from_env() -> Result<Option<Arc<dyn SessionStore>>, String> {
    let Ok(url) = std::env::var("LOGIN_DATABASE_URL") else {
        return Ok(None);
    };
    if std::env::var_os("LOGIN_REDIS_URL").is_some()
        || std::env::var_os("LOGIN_REDIS_CLUSTER").is_some()
    {
        return Err(
            "LOGIN_DATABASE_URL and a Redis setting (LOGIN_REDIS_URL, LOGIN_REDIS_CLUSTER) are both set: give one of them"
                .to_owned(),
        );
    }
    let mut builder = PostgresStore::builder(url).migrate(true);
    for (name, set) in [
        ("LOGIN_DATABASE_HEARTBEAT_MS", true),
        ("LOGIN_DATABASE_STALENESS_MS", false),
    ] {
        if let Ok(v) = std::env::var(name) {
            let ms: u64 = v
                .parse()
                .map_err(|_| format!("{name}: not a number of milliseconds: {v:?}"))?;
            let d = Duration::from_millis(ms);
            builder = if set {
                builder.heartbeat(d)
            } else {
                builder.staleness_bound(d)
            };
        }
    }
    let store = builder
        .connect()
        .await
        .map_err(|e| format!("LOGIN_DATABASE_URL: {e}"))?;
    tracing::info!("sessions in PostgreSQL (LOGIN_DATABASE_URL)");
    Ok(Some(store))
}

/// The node URLs of `LOGIN_REDIS_CLUSTER`: comma-separated, blanks around them ignored; an
/// empty list or an empty entry is an error.
pub fn cluster_nodes(value: &str) -> Result<Vec<String>, String> {
    let nodes: Vec<String> = value.split(',').map(|n| n.trim().to_owned()).collect();
    if nodes.iter().any(String::is_empty) {
        return Err(format!(
            "LOGIN_REDIS_CLUSTER: an empty node URL in {value:?} (comma-separated redis:// URLs)"
        ));
    }
    Ok(nodes)
}

/// Logs to stderr at `info` (or as `RUST_LOG` says): what every example binary starts with.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
}
