//! Example apps for the `login` crate. Each app lives in a module here (so that tests can drive
//! its router) and is started by a file of the same name in `examples/`:
//!
//! ```text
//! cargo run --example simple
//! ```

pub mod admins;
pub mod app;
pub mod asymmetric;
pub mod chat;
pub mod flood;
pub mod simple;

use std::sync::Arc;
use std::time::Duration;

use login::session::RedisStore;
use login::session::SessionStore;
use tracing_subscriber::EnvFilter;

/// The session store the examples run on: Redis when `LOGIN_REDIS_URL` is set (several
/// instances then share sessions and revocations), `None` otherwise (the manager keeps them in
/// memory, and the two-command quick start needs no server).
///
/// Optional, with `LOGIN_REDIS_URL`: `LOGIN_REDIS_PREFIX` (default `login:`),
/// `LOGIN_REDIS_HEARTBEAT_MS` (default 1000) and `LOGIN_REDIS_STALENESS_MS` (default 5000),
/// the store's settings of the same names.
pub async fn session_store_from_env() -> Result<Option<Arc<dyn SessionStore>>, String> {
    let Ok(url) = std::env::var("LOGIN_REDIS_URL") else {
        return Ok(None);
    };
    let mut builder = RedisStore::builder(url);
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
        .map_err(|e| format!("LOGIN_REDIS_URL: {e}"))?;
    tracing::info!("sessions in Redis (LOGIN_REDIS_URL)");
    Ok(Some(store))
}

/// Logs to stderr at `info` (or as `RUST_LOG` says): what every example binary starts with.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
}
