//! [`PostgresStore`] (feature `postgres`): sessions shared by many instances through
//! PostgreSQL, with sqlx.
//!
//! | file | what it holds |
//! |---|---|
//! | `mod.rs` | the store, its builder, the schema ([`PostgresStore::migrate`]) and the sweep |
//! | `ops.rs` | [`SessionStore`] in SQL: which lock each statement relies on |
//! | `stream.rs` | the revocation stream: `LISTEN`/`NOTIFY`, the heartbeat, the resync |
//! | `throttle.rs` | the login throttle's counters in a table |
//!
//! **Isolation.** Every transaction runs at PostgreSQL's default, `READ COMMITTED`; what makes
//! the statements correct under concurrency is row locks and transaction-scoped advisory
//! locks, named at each statement in `ops.rs`:
//!
//! - a rotation locks the session's row (`SELECT … FOR UPDATE`), so two rotations of one token
//!   (on any instances) run one after the other, and the second sees the first's successor;
//! - a login and "log out everywhere" of one subject take the same advisory lock
//!   (`pg_advisory_xact_lock` on the subject's hash), so the login's check of the logout
//!   generation and its insert are one step with respect to the logout;
//! - a revocation is written and `NOTIFY`'d in the transaction that makes it, so it reaches
//!   the other instances when, and only if, it commits.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::store::StoreError;
use stream::Hub;

mod ops;
mod stream;
mod throttle;

pub use throttle::PostgresThrottle;

/// The schema, version 1 (also shipped as `login/migrations/0001_login_sessions.sql`).
pub const SCHEMA: &str = include_str!("../../../migrations/0001_login_sessions.sql");

/// The channel revocations are published on (`NOTIFY login_revocations, '<json>'`).
pub(crate) const CHANNEL: &str = "login_revocations";

/// How many rows one sweep statement deletes at most (each batch its own short transaction).
pub(crate) const SWEEP_BATCH: i64 = 1000;

/// Sessions, refresh-token hashes, revocations and throttle counters in PostgreSQL, shared by
/// every instance connected to the same database.
///
/// Revocations reach every instance through `LISTEN`/`NOTIFY`: each instance keeps one
/// listening connection, loads the revocations in force after each (re)connection, and
/// checks the stream with a heartbeat (a `NOTIFY` on a channel of its own, sent every
/// [`heartbeat`](PostgresStoreBuilder::heartbeat)): notifications reach a listener in commit
/// order, so when the heartbeat comes back every revocation committed before it has been
/// received. A stream whose heartbeat has not come back within the
/// [`staleness bound`](PostgresStoreBuilder::staleness_bound) makes every protected request
/// answer 503 (never 401, never anonymous) until it is reopened and reloaded.
///
/// The schema: [`PostgresStore::migrate`] creates it (or the app runs [`SCHEMA`] with its own
/// migration tool). Expired rows are deleted by [`PostgresStore::sweep`], which the store runs
/// every [`sweep_every`](PostgresStoreBuilder::sweep_every), in batches of 1000 rows.
pub struct PostgresStore {
    pub(crate) shared: Arc<Shared>,
    tasks: Vec<tokio::task::AbortHandle>,
}

pub(crate) struct Shared {
    pub(crate) pool: PgPool,
    pub(crate) config: Config,
    pub(crate) hub: Hub,
    pub(crate) throttle: Arc<PostgresThrottle>,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) heartbeat: Duration,
    pub(crate) staleness_bound: Duration,
    pub(crate) command_timeout: Duration,
    pub(crate) sweep_every: Duration,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Builds a [`PostgresStore`] ([`PostgresStore::builder`]).
#[derive(Debug, Clone)]
pub struct PostgresStoreBuilder {
    url: String,
    max_connections: u32,
    migrate: bool,
    config: Config,
}

impl PostgresStore {
    /// A builder for a store on the database at `url` (`postgres://user:password@host/db`).
    pub fn builder(url: impl Into<String>) -> PostgresStoreBuilder {
        PostgresStoreBuilder {
            url: url.into(),
            max_connections: 10,
            migrate: false,
            config: Config {
                heartbeat: Duration::from_secs(1),
                staleness_bound: Duration::from_secs(5),
                command_timeout: Duration::from_secs(2),
                sweep_every: Duration::from_secs(60),
            },
        }
    }

    /// Connects with the default settings, creating the schema if it is missing.
    pub async fn connect(url: impl Into<String>) -> Result<Arc<PostgresStore>, StoreError> {
        PostgresStore::builder(url).migrate(true).connect().await
    }

    /// Creates the schema ([`SCHEMA`]) if it is missing: idempotent, and safe when several
    /// instances start at once (they take a transaction-scoped advisory lock first).
    pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
        let mut tx = pool.begin().await.map_err(StoreError::new)?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('login_schema', 0))")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?;
        // The schema is idempotent (`CREATE … IF NOT EXISTS`): at every start but the first,
        // each statement would send a "relation already exists, skipping" notice, which sqlx
        // logs at info level. Only warnings and errors, for this transaction.
        sqlx::query("SET LOCAL client_min_messages = warning")
            .execute(&mut *tx)
            .await
            .map_err(StoreError::new)?;
        // Through `Executor::execute` on the connection, not `RawSql::execute`: the latter's
        // future is not `Send` for every lifetime (sqlx issue 3150), which made `connect()`
        // unusable in `tokio::spawn` and other `Send` contexts.
        sqlx::Executor::execute(&mut *tx, sqlx::raw_sql(SCHEMA))
            .await
            .map_err(StoreError::new)?;
        tx.commit().await.map_err(StoreError::new)
    }

    /// The connection pool (for an app that runs its own queries, or [`migrate`](Self::migrate)).
    pub fn pool(&self) -> &PgPool {
        &self.shared.pool
    }

    /// Deletes the rows expired at `now` (sessions, their rotated tokens, revocations,
    /// logout generations, throttle counters), in batches of 1000 rows, each its own
    /// statement and transaction (`FOR UPDATE SKIP LOCKED`: a batch never waits for a row a
    /// request holds, nor holds many rows for long). Returns how many rows went.
    pub async fn sweep(&self, now: i64) -> Result<u64, StoreError> {
        self.shared.sweep(now).await
    }
}

impl Shared {
    pub(crate) async fn sweep(&self, now: i64) -> Result<u64, StoreError> {
        // A logout generation is kept an hour past its `until`, so that a login that read it
        // just before is not refused by the sweep.
        let statements: [(&str, i64); 4] = [
            (
                "DELETE FROM login_sessions WHERE sid IN (SELECT sid FROM login_sessions \
                 WHERE live_until <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                now,
            ),
            (
                "DELETE FROM login_revocations WHERE id IN (SELECT id FROM login_revocations \
                 WHERE until <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                now,
            ),
            (
                "DELETE FROM login_logouts WHERE subject IN (SELECT subject FROM login_logouts \
                 WHERE until <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                now - 3600,
            ),
            (
                "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle \
                 WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                now,
            ),
        ];
        let mut total = 0;
        for (sql, before) in statements {
            loop {
                let deleted = self
                    .timed(
                        sqlx::query(sql)
                            .bind(before)
                            .bind(SWEEP_BATCH)
                            .execute(&self.pool),
                    )
                    .await?
                    .rows_affected();
                total += deleted;
                if deleted < SWEEP_BATCH as u64 {
                    break;
                }
            }
        }
        Ok(total)
    }

    /// Runs `f` within the command timeout: a slow or unreachable server is a [`StoreError`]
    /// (503), never a hang.
    pub(crate) async fn timed<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.config.command_timeout, f).await {
            Ok(result) => result.map_err(StoreError::new),
            Err(_) => Err(StoreError::new(format!(
                "PostgreSQL: no answer within {:?}",
                self.config.command_timeout
            ))),
        }
    }
}

impl PostgresStoreBuilder {
    /// The most connections the pool opens (10 by default), besides the listening one.
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max;
        self
    }

    /// Whether [`connect`](Self::connect) creates the schema if it is missing
    /// ([`PostgresStore::migrate`]); off by default: an app that runs its migrations itself
    /// includes [`SCHEMA`] in them.
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// How often the store checks its revocation stream (1 s by default; at least 10 ms).
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.config.heartbeat = every;
        self
    }

    /// How long the revocations are trusted after the last heartbeat came back (5 s by
    /// default; more than the heartbeat): past it, protected requests answer 503.
    pub fn staleness_bound(mut self, bound: Duration) -> Self {
        self.config.staleness_bound = bound;
        self
    }

    /// How long a statement may take before the operation fails with a [`StoreError`] (2 s
    /// by default; at least 10 ms).
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.config.command_timeout = timeout;
        self
    }

    /// How often the store deletes expired rows ([`PostgresStore::sweep`]; 60 s by default,
    /// at least 1 s).
    pub fn sweep_every(mut self, every: Duration) -> Self {
        self.config.sweep_every = every;
        self
    }

    /// Connects (within the command timeout), creates the schema if asked, loads the
    /// revocations in force and starts the stream and the sweeper. Must be called within a
    /// Tokio runtime. A bad setting or URL, or a database that cannot be reached, is an error.
    pub async fn connect(self) -> Result<Arc<PostgresStore>, StoreError> {
        let config = self.config;
        if config.heartbeat < Duration::from_millis(10) {
            return Err(StoreError::new(
                "PostgresStore: heartbeat must be at least 10 ms",
            ));
        }
        if config.staleness_bound <= config.heartbeat {
            return Err(StoreError::new(
                "PostgresStore: the staleness bound must be longer than the heartbeat",
            ));
        }
        if config.command_timeout < Duration::from_millis(10) {
            return Err(StoreError::new(
                "PostgresStore: command timeout must be at least 10 ms",
            ));
        }
        if config.sweep_every < Duration::from_secs(1) {
            return Err(StoreError::new(
                "PostgresStore: sweep_every must be at least 1 s",
            ));
        }
        if self.max_connections == 0 {
            return Err(StoreError::new(
                "PostgresStore: max_connections must be at least 1",
            ));
        }
        if !(self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")) {
            return Err(StoreError::new(
                "PostgresStore: the URL must start with postgres:// or postgresql://",
            ));
        }
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(config.command_timeout)
            .connect(&self.url);
        let pool = match tokio::time::timeout(config.command_timeout, pool).await {
            Ok(pool) => pool.map_err(StoreError::new)?,
            Err(_) => {
                return Err(StoreError::new(format!(
                    "PostgreSQL: no connection within {:?}",
                    config.command_timeout
                )));
            }
        };
        if self.migrate {
            PostgresStore::migrate(&pool).await?;
        }
        let shared = Arc::new(Shared {
            throttle: Arc::new(PostgresThrottle::new(pool.clone(), config.command_timeout)),
            pool,
            config,
            hub: Hub::default(),
        });
        let (ready, loaded) = tokio::sync::oneshot::channel();
        let stream = tokio::spawn(stream::run(shared.clone(), Some(ready)));
        let sweeper = tokio::spawn(sweeper(Arc::downgrade(&shared)));
        let store = PostgresStore {
            shared,
            tasks: vec![stream.abort_handle(), sweeper.abort_handle()],
        };
        match loaded.await {
            Ok(Ok(())) => Ok(Arc::new(store)),
            Ok(Err(error)) => Err(StoreError::new(error)),
            Err(_) => Err(StoreError::new("PostgresStore: the stream task ended")),
        }
    }
}

/// Sweeps every `sweep_every` while the store lives.
async fn sweeper(shared: std::sync::Weak<Shared>) {
    let every = match shared.upgrade() {
        Some(shared) => shared.config.sweep_every,
        None => return,
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if let Err(error) = shared.sweep(unix_now()).await {
            tracing::warn!(%error, "login: sweeping expired PostgreSQL rows failed");
        }
    }
}

pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
