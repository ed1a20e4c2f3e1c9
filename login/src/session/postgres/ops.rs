//! [`SessionStore`] for [`PostgresStore`] in SQL. Every transaction is `READ COMMITTED`
//! (PostgreSQL's default); the lock each one relies on is named where it is taken.

use std::sync::Arc;

use sqlx::{Postgres, Row as _, Transaction};

use super::{CHANNEL, PostgresStore, Shared};
use crate::session::store::{
    NewSession, Revocation, RevocationSink, Rotated, Rotation, SessionStore, StoreError,
    StoreFuture,
};
use crate::session::throttle::ThrottleStore;
use crate::session::{Session, TokenHash};

/// How many rotated refresh tokens of a session are remembered (as `MemoryStore` does).
const REMEMBERED_ROTATIONS: i64 = 64;

/// The session lock: a transaction-scoped advisory lock on the subject's hash, taken by a
/// login and by "log out everywhere" (key space 7, apart from the throttle's).
const LOCK_SUBJECT: &str = "SELECT pg_advisory_xact_lock(7, hashtext($1))";

fn parse(data: &str) -> Result<Session, StoreError> {
    serde_json::from_str(data)
        .map_err(|e| StoreError::new(format!("a session row this store did not write: {e}")))
}

fn live_until(session: &Session) -> i64 {
    session
        .ends_at
        .map_or(session.expires_at, |end| end.min(session.expires_at))
}

/// Records `revocation` and notifies every listener, inside `tx`: the notification is
/// delivered when, and only if, the transaction commits. Noted in `published`, which the
/// caller applies to this process's sinks once the commit succeeded (so this instance refuses
/// from the next request on, before its own notification comes back).
async fn publish(
    tx: &mut Transaction<'_, Postgres>,
    published: &mut Vec<Revocation>,
    revocation: Revocation,
) -> Result<(), sqlx::Error> {
    let body = serde_json::to_string(&revocation).expect("a revocation serializes");
    sqlx::query("INSERT INTO login_revocations (until, body) VALUES ($1, $2)")
        .bind(revocation.until())
        .bind(&body)
        .execute(&mut **tx)
        .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(&body)
        .execute(&mut **tx)
        .await?;
    published.push(revocation);
    Ok(())
}

impl Shared {
    /// Commits `tx`, then applies what it published to this process's sinks.
    async fn commit(
        &self,
        tx: Transaction<'_, Postgres>,
        published: Vec<Revocation>,
    ) -> Result<(), sqlx::Error> {
        tx.commit().await?;
        for revocation in &published {
            self.hub.apply(revocation);
        }
        Ok(())
    }

    async fn create(&self, new: NewSession) -> Result<(), sqlx::Error> {
        let NewSession {
            session,
            refresh,
            logout_generation,
            max_sessions,
            revoke_until,
        } = new;
        let now = session.created_at;
        let mut tx = self.pool.begin().await?;
        let mut published = Vec::new();
        // The subject lock: "log out everywhere" of this subject waits for this login to
        // commit, or this login waits for it, so the generation read below is the one the
        // insert is judged by.
        sqlx::query(LOCK_SUBJECT)
            .bind(&session.subject)
            .execute(&mut *tx)
            .await?;
        let generation: Option<i64> =
            sqlx::query_scalar("SELECT generation FROM login_logouts WHERE subject = $1")
                .bind(&session.subject)
                .fetch_optional(&mut *tx)
                .await?;
        if generation.unwrap_or(0) as u64 != logout_generation {
            tracing::debug!("login: session of a subject logged out since its login not stored");
            let ended = Revocation::SessionEnded {
                sid: session.id,
                until: revoke_until,
            };
            publish(&mut tx, &mut published, ended).await?;
            return self.commit(tx, published).await;
        }
        // Past the cap: under the subject lock, no other login of the subject runs at once,
        // so the count is exact.
        let keep = max_sessions.saturating_sub(1) as i64;
        let excess: Vec<String> = sqlx::query_scalar(
            "DELETE FROM login_sessions WHERE sid IN (SELECT sid FROM login_sessions \
             WHERE subject = $1 AND sid <> $2 AND live_until > $3 \
             ORDER BY created_at DESC, sid DESC OFFSET $4) RETURNING sid",
        )
        .bind(&session.subject)
        .bind(&session.id)
        .bind(now)
        .bind(keep)
        .fetch_all(&mut *tx)
        .await?;
        for sid in excess {
            tracing::debug!(session = %sid, "login: oldest session ended past the cap");
            let ended = Revocation::SessionEnded {
                sid,
                until: revoke_until,
            };
            publish(&mut tx, &mut published, ended).await?;
        }
        sqlx::query(
            "INSERT INTO login_sessions (sid, subject, created_at, live_until, current, data) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.id)
        .bind(&session.subject)
        .bind(session.created_at)
        .bind(live_until(&session))
        .bind(&refresh.0[..])
        .bind(serde_json::to_string(&session).expect("a session serializes"))
        .execute(&mut *tx)
        .await?;
        self.commit(tx, published).await
    }

    async fn rotate(&self, r: Rotation) -> Result<Result<Rotated, StoreError>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut published = Vec::new();
        // One statement, one snapshot: a concurrent rotation commits its new `current` and
        // the rotated row together, so the token is found either way.
        let sid: Option<String> = sqlx::query_scalar(
            "SELECT sid FROM login_sessions WHERE current = $1 \
             UNION ALL SELECT sid FROM login_rotated WHERE hash = $1 LIMIT 1",
        )
        .bind(&r.presented.0[..])
        .fetch_optional(&mut *tx)
        .await?;
        let Some(sid) = sid else {
            return Ok(Ok(Rotated::Invalid));
        };
        // The session's row lock: every rotation and end of this session waits here for the
        // one before it to commit, then (READ COMMITTED) reads the row as it committed it.
        let row = sqlx::query(
            "SELECT current, grace_from, grace_token, grace_until, data FROM login_sessions \
             WHERE sid = $1 FOR UPDATE",
        )
        .bind(&sid)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Ok(Rotated::Invalid));
        };
        let mut session = match parse(row.try_get("data")?) {
            Ok(session) => session,
            Err(error) => return Ok(Err(error)),
        };
        if !session.is_live(r.now) || session.manager != r.manager {
            return Ok(Ok(Rotated::Invalid));
        }
        let current: Vec<u8> = row.try_get("current")?;
        if current == r.presented.0 {
            session.refreshed_at = Some(r.now);
            session.expires_at = match session.ends_at {
                Some(end) => r.expires_at.min(end),
                None => r.expires_at,
            };
            if r.user_agent.is_some() {
                session.user_agent = r.user_agent;
            }
            let (grace_token, grace_until) = match r.grace {
                Some((token, until)) => (Some(token), Some(until)),
                None => (None, None),
            };
            let grace_from = grace_token.as_ref().map(|_| r.presented.0.to_vec());
            sqlx::query(
                "UPDATE login_sessions SET current = $2, grace_from = $3, grace_token = $4, \
                 grace_until = $5, live_until = $6, data = $7 WHERE sid = $1",
            )
            .bind(&sid)
            .bind(&r.successor.0[..])
            .bind(grace_from)
            .bind(grace_token)
            .bind(grace_until)
            .bind(live_until(&session))
            .bind(serde_json::to_string(&session).expect("a session serializes"))
            .execute(&mut *tx)
            .await?;
            sqlx::query("INSERT INTO login_rotated (hash, sid) VALUES ($1, $2)")
                .bind(&r.presented.0[..])
                .bind(&sid)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "DELETE FROM login_rotated WHERE hash IN (SELECT hash FROM login_rotated \
                 WHERE sid = $1 ORDER BY seq DESC OFFSET $2)",
            )
            .bind(&sid)
            .bind(REMEMBERED_ROTATIONS)
            .execute(&mut *tx)
            .await?;
            self.commit(tx, published).await?;
            return Ok(Ok(Rotated::Rotated(session)));
        }
        let grace_from: Option<Vec<u8>> = row.try_get("grace_from")?;
        let grace_token: Option<String> = row.try_get("grace_token")?;
        let grace_until: Option<i64> = row.try_get("grace_until")?;
        if let (Some(from), Some(token), Some(until)) = (grace_from, grace_token, grace_until)
            && from == r.presented.0
            && r.now < until
        {
            return Ok(Ok(Rotated::Repeated {
                session,
                refresh_token: token,
            }));
        }
        sqlx::query("DELETE FROM login_sessions WHERE sid = $1")
            .bind(&sid)
            .execute(&mut *tx)
            .await?;
        let ended = Revocation::SessionEnded {
            sid: sid.clone(),
            until: r.revoke_until,
        };
        publish(&mut tx, &mut published, ended).await?;
        self.commit(tx, published).await?;
        Ok(Ok(Rotated::Reused { sid }))
    }

    async fn find(&self, refresh: TokenHash, now: i64) -> Result<Option<Session>, StoreError> {
        let data: Option<String> = self
            .timed(
                sqlx::query_scalar(
                    "SELECT s.data FROM login_sessions s WHERE s.current = $1 AND s.live_until > $2 \
                     UNION ALL SELECT s.data FROM login_rotated r JOIN login_sessions s \
                     ON s.sid = r.sid WHERE r.hash = $1 AND s.live_until > $2 LIMIT 1",
                )
                .bind(&refresh.0[..])
                .bind(now)
                .fetch_optional(&self.pool),
            )
            .await?;
        data.map(|d| parse(&d)).transpose()
    }

    /// The session's row lock (as a rotation takes it), then its data rewritten with the
    /// new `amr` and `auth_time`: a rotation in flight commits first, and this one reads what
    /// it wrote.
    async fn reauthenticate(
        &self,
        subject: &str,
        sid: &str,
        amr: &[String],
        auth_time: i64,
        now: i64,
    ) -> Result<Result<bool, StoreError>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let data: Option<String> = sqlx::query_scalar(
            "SELECT data FROM login_sessions WHERE sid = $1 AND subject = $2 FOR UPDATE",
        )
        .bind(sid)
        .bind(subject)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(data) = data else {
            return Ok(Ok(false));
        };
        let mut session = match parse(&data) {
            Ok(session) => session,
            Err(error) => return Ok(Err(error)),
        };
        if !session.is_live(now) {
            return Ok(Ok(false));
        }
        session.set_authentication(amr, auth_time);
        sqlx::query("UPDATE login_sessions SET data = $2 WHERE sid = $1")
            .bind(sid)
            .bind(serde_json::to_string(&session).expect("a session serializes"))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(true))
    }

    async fn end_session(&self, sid: &str, now: i64, until: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut published = Vec::new();
        // The DELETE takes the row's lock: it waits for a rotation in flight to commit.
        let live: Option<i64> =
            sqlx::query_scalar("DELETE FROM login_sessions WHERE sid = $1 RETURNING live_until")
                .bind(sid)
                .fetch_optional(&mut *tx)
                .await?;
        let ended = Revocation::SessionEnded {
            sid: sid.to_owned(),
            until,
        };
        publish(&mut tx, &mut published, ended).await?;
        self.commit(tx, published).await?;
        Ok(live.is_some_and(|live_until| live_until > now))
    }

    async fn end_subject(&self, subject: &str, now: i64, until: i64) -> Result<usize, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut published = Vec::new();
        // The subject lock (see `create`): a login in flight commits first (and its session
        // is ended here) or runs after (and finds the new generation).
        sqlx::query(LOCK_SUBJECT)
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        let ended: Vec<(String, i64)> = sqlx::query_as(
            "DELETE FROM login_sessions WHERE subject = $1 RETURNING sid, live_until",
        )
        .bind(subject)
        .fetch_all(&mut *tx)
        .await?;
        let mut live = 0;
        for (sid, live_until) in ended {
            live += usize::from(live_until > now);
            publish(
                &mut tx,
                &mut published,
                Revocation::SessionEnded { sid, until },
            )
            .await?;
        }
        sqlx::query(
            "INSERT INTO login_logouts (subject, generation, until) VALUES ($1, 1, $2) \
             ON CONFLICT (subject) DO UPDATE SET generation = login_logouts.generation + 1, \
             until = GREATEST(login_logouts.until, EXCLUDED.until)",
        )
        .bind(subject)
        .bind(until)
        .execute(&mut *tx)
        .await?;
        let logout = Revocation::SubjectLoggedOut {
            subject: subject.to_owned(),
            before: now,
            until,
        };
        publish(&mut tx, &mut published, logout).await?;
        self.commit(tx, published).await?;
        Ok(live)
    }

    async fn revoke_access_token(&self, jti: &str, until: i64) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut published = Vec::new();
        let revoked = Revocation::AccessTokenRevoked {
            jti: jti.to_owned(),
            until,
        };
        publish(&mut tx, &mut published, revoked).await?;
        self.commit(tx, published).await
    }

    async fn sessions(&self, subject: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let rows: Vec<String> = self
            .timed(
                sqlx::query_scalar(
                    "SELECT data FROM login_sessions WHERE subject = $1 AND live_until > $2 \
                     ORDER BY created_at, sid",
                )
                .bind(subject)
                .bind(now)
                .fetch_all(&self.pool),
            )
            .await?;
        rows.iter().map(|d| parse(d)).collect()
    }

    pub(crate) async fn snapshot(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let rows: Vec<String> = self
            .timed(
                sqlx::query_scalar("SELECT body FROM login_revocations WHERE until > $1")
                    .bind(now)
                    .fetch_all(&self.pool),
            )
            .await?;
        rows.iter()
            .map(|body| {
                serde_json::from_str(body).map_err(|e| {
                    StoreError::new(format!("a revocation row this store did not write: {e}"))
                })
            })
            .collect()
    }
}

impl SessionStore for PostgresStore {
    fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64> {
        let subject = subject.to_owned();
        Box::pin(async move {
            let generation: Option<i64> = self
                .shared
                .timed(
                    sqlx::query_scalar("SELECT generation FROM login_logouts WHERE subject = $1")
                        .bind(&subject)
                        .fetch_optional(&self.shared.pool),
                )
                .await?;
            Ok(generation.unwrap_or(0) as u64)
        })
    }

    fn create(&self, new: NewSession) -> StoreFuture<'_, ()> {
        Box::pin(self.shared.timed(self.shared.create(new)))
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        Box::pin(async move { self.shared.timed(self.shared.rotate(rotation)).await? })
    }

    fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>> {
        Box::pin(self.shared.find(refresh, now))
    }

    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
        let sid = sid.to_owned();
        Box::pin(async move {
            self.shared
                .timed(self.shared.end_session(&sid, now, until))
                .await
        })
    }

    fn reauthenticate(
        &self,
        subject: &str,
        sid: &str,
        amr: Vec<String>,
        auth_time: i64,
        now: i64,
    ) -> StoreFuture<'_, bool> {
        let (subject, sid) = (subject.to_owned(), sid.to_owned());
        Box::pin(async move {
            self.shared
                .timed(
                    self.shared
                        .reauthenticate(&subject, &sid, &amr, auth_time, now),
                )
                .await?
        })
    }

    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
        let subject = subject.to_owned();
        Box::pin(async move {
            self.shared
                .timed(self.shared.end_subject(&subject, now, until))
                .await
        })
    }

    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
        let jti = jti.to_owned();
        Box::pin(async move {
            self.shared
                .timed(self.shared.revoke_access_token(&jti, until))
                .await
        })
    }

    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
        let subject = subject.to_owned();
        Box::pin(async move { self.shared.sessions(&subject, now).await })
    }

    fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>> {
        Box::pin(self.shared.snapshot(now))
    }

    fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        self.shared.hub.subscribe(sink);
    }

    fn throttle_store(&self) -> Option<Arc<dyn ThrottleStore>> {
        Some(self.shared.throttle.clone())
    }
}
