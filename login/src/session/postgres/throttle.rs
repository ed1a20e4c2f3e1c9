//! The login throttle's failure counters in `login_throttle`.

use std::time::Duration;

use sqlx::postgres::PgPool;

use crate::session::store::{StoreError, StoreFuture};
use crate::session::throttle::{Counter, ThrottleStore};

/// The failure counters of a [`PostgresStore`](super::PostgresStore), shared by every
/// instance on the database ([`SessionStore::throttle_store`](crate::session::SessionStore::throttle_store)).
///
/// An attempt takes a transaction-scoped advisory lock on each of its counters (in key
/// order, so two attempts never deadlock), reads them, and counts the failure or answers the
/// back-off: concurrent attempts on any instances pass one at a time.
#[derive(Debug, Clone)]
pub struct PostgresThrottle {
    pool: PgPool,
    timeout: Duration,
}

impl PostgresThrottle {
    pub(crate) fn new(pool: PgPool, timeout: Duration) -> Self {
        PostgresThrottle { pool, timeout }
    }

    async fn timed<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(result) => result.map_err(StoreError::new),
            Err(_) => Err(StoreError::new(format!(
                "PostgreSQL: no answer within {:?}",
                self.timeout
            ))),
        }
    }

    async fn attempt_sql(
        &self,
        counters: &[Counter],
        now: i64,
    ) -> Result<Option<u64>, sqlx::Error> {
        let mut keys: Vec<&str> = counters.iter().map(|c| c.key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = self.pool.begin().await?;
        for key in &keys {
            // Key space 11 (the sessions' subject lock is 7).
            sqlx::query("SELECT pg_advisory_xact_lock(11, hashtext($1))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT key, failures, last, expires FROM login_throttle WHERE key = ANY($1)",
        )
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?;
        let find = |key: &str| rows.iter().find(|r| r.0 == key).filter(|r| r.3 > now);
        let mut wait = 0u64;
        for counter in counters {
            if let Some((_, failures, last, _)) = find(&counter.key) {
                let until = last.saturating_add(counter.backoff(*failures as u64) as i64);
                wait = wait.max(until.saturating_sub(now).max(0) as u64);
            }
        }
        if wait > 0 {
            return Ok(Some(wait));
        }
        for counter in counters {
            let failures = find(&counter.key).map_or(0, |r| r.1) as u64 + 1;
            sqlx::query(
                "INSERT INTO login_throttle (key, failures, last, expires) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (key) DO UPDATE SET failures = EXCLUDED.failures, \
                 last = EXCLUDED.last, expires = EXCLUDED.expires",
            )
            .bind(&counter.key)
            .bind(failures as i64)
            .bind(now)
            .bind(now.saturating_add(counter.ttl(failures) as i64))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(None)
    }

    async fn succeeded_sql(&self, reset: &[String], refund: &[String]) -> Result<(), sqlx::Error> {
        let mut keys: Vec<&str> = reset.iter().chain(refund).map(String::as_str).collect();
        keys.sort_unstable();
        keys.dedup();
        let mut tx = self.pool.begin().await?;
        // The attempts' locks, in the same order: a refund never lands between an attempt's
        // read and its write.
        for key in &keys {
            sqlx::query("SELECT pg_advisory_xact_lock(11, hashtext($1))")
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM login_throttle WHERE key = ANY($1)")
            .bind(reset)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE login_throttle SET failures = GREATEST(failures - 1, 0) WHERE key = ANY($1)",
        )
        .bind(refund)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

impl ThrottleStore for PostgresThrottle {
    fn attempt(&self, counters: Vec<Counter>, now: i64) -> StoreFuture<'_, Option<u64>> {
        Box::pin(async move { self.timed(self.attempt_sql(&counters, now)).await })
    }

    fn succeeded(&self, reset: Vec<String>, refund: Vec<String>) -> StoreFuture<'_, ()> {
        Box::pin(async move { self.timed(self.succeeded_sql(&reset, &refund)).await })
    }
}
