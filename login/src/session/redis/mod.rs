//! [`RedisStore`]: the [`SessionStore`] for many instances of an app, on Redis (feature
//! `redis`).
//!
//! - Every write is one Lua script (the many-instances guide, `docs/many-instances.md`, lists
//!   the keys and their TTLs), so a rotation is atomic on the server: two instances racing on one refresh
//!   token produce one successor, and the grace and reuse rules hold across instances.
//! - Every revocation is recorded in a sorted set and published on a channel by the script
//!   that makes it. Each instance follows the channel with one pub/sub connection, loads the
//!   set at start-up and after every reconnection, and feeds its managers' views: a protected
//!   request never waits on Redis.
//! - The stream is watched by a heartbeat; when it has not been known complete for longer
//!   than the staleness bound, the views refuse every token (503) until it is back.
//!
//! The client is redis-rs: its `ConnectionManager` (one multiplexed connection that
//! reconnects by itself) for commands, and its async pub/sub for the stream.

mod builder;
mod hub;
mod scripts;
mod stream;
mod throttle;

use std::fmt;
use std::sync::Arc;

use redis::aio::ConnectionManager;
use tokio::task::JoinHandle;

use self::builder::Config;
pub use self::builder::RedisStoreBuilder;
use self::builder::{
    DEFAULT_COMMAND_TIMEOUT, DEFAULT_HEARTBEAT, DEFAULT_PREFIX, DEFAULT_STALENESS_BOUND,
};
use self::hub::Hub;
use self::scripts::Scripts;
use super::memory::REMEMBERED_ROTATIONS;
use super::store::{
    NewSession, Revocation, RevocationSink, Rotated, Rotation, SessionStore, StoreError,
    StoreFuture,
};
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
            .field("revocations", &self.shared.hub.len())
            .field("loaded", &self.shared.hub.loaded())
            .finish()
    }
}

/// What the store and its stream task share.
struct Shared {
    client: redis::Client,
    conn: ConnectionManager,
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
    /// Runs a script with the prefix as its first argument, within the command timeout.
    async fn run<T: redis::FromRedisValue>(
        &self,
        op: &'static str,
        script: &redis::Script,
        args: &[&str],
    ) -> Result<T, StoreError> {
        let mut invocation = script.prepare_invoke();
        invocation.arg(&self.config.prefix);
        for arg in args {
            invocation.arg(*arg);
        }
        let mut conn = self.conn.clone();
        let timeout = self.config.command_timeout;
        match tokio::time::timeout(timeout, invocation.invoke_async::<T>(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::new(format!("redis {op}: {e}"))),
            Err(_) => Err(StoreError::new(format!(
                "redis {op}: no answer within {timeout:?}"
            ))),
        }
    }

    /// The revocations in force (by the wall clock), from the sorted set.
    async fn load_revocations(&self) -> Result<Vec<Revocation>, StoreError> {
        self.snapshot_at(unix_now()).await
    }

    async fn snapshot_at(&self, now: i64) -> Result<Vec<Revocation>, StoreError> {
        let mut conn = self.conn.clone();
        let key = &self.config.channel;
        let command = redis::cmd("ZRANGEBYSCORE")
            .arg(key)
            .arg(format!("({now}"))
            .arg("+inf")
            .to_owned();
        let timeout = self.config.command_timeout;
        let members: Vec<Vec<u8>> =
            match tokio::time::timeout(timeout, command.query_async(&mut conn)).await {
                Ok(Ok(members)) => members,
                Ok(Err(e)) => return Err(StoreError::new(format!("redis ZRANGEBYSCORE: {e}"))),
                Err(_) => {
                    return Err(StoreError::new(format!(
                        "redis ZRANGEBYSCORE: no answer within {timeout:?}"
                    )));
                }
            };
        members
            .iter()
            .map(|member| {
                serde_json::from_slice(member).map_err(|e| {
                    corrupt(format_args!("a member of {key} is not a revocation: {e}"))
                })
            })
            .collect()
    }

    /// Records a revocation in Redis (the sorted set, and the channel).
    async fn record(&self, revocation: &Revocation) -> Result<(), StoreError> {
        let member = serde_json::to_string(revocation)
            .map_err(|e| StoreError::new(format!("redis: cannot encode a revocation: {e}")))?;
        // `now` only prunes: entries whose `until` has passed by the wall clock.
        let args = [
            member.as_str(),
            &revocation.until().to_string(),
            &unix_now().to_string(),
        ];
        self.run::<redis::Value>("revoke", &self.scripts.revoke, &args)
            .await?;
        Ok(())
    }

    /// Parses a revocation a script made and applies it here at once.
    fn publish_local(&self, member: &[u8]) -> Result<(), StoreError> {
        let revocation: Revocation = serde_json::from_slice(member)
            .map_err(|e| corrupt(format_args!("a revocation the script returned: {e}")))?;
        self.hub.apply(&revocation);
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
    /// The settings for a store at `url` (`redis://host:port/db`, `rediss://` for TLS is not
    /// compiled in), with the defaults.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: DEFAULT_PREFIX.to_owned(),
            heartbeat: DEFAULT_HEARTBEAT,
            staleness_bound: DEFAULT_STALENESS_BOUND,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
        }
    }

    /// A store at `url` with the default settings.
    pub async fn connect(url: impl Into<String>) -> Result<Arc<RedisStore>, StoreError> {
        Self::builder(url).connect().await
    }

    /// How many revocations this process holds (the store's own copy of the set in Redis).
    pub fn revocations(&self) -> usize {
        self.shared.hub.len()
    }

    async fn logout_generation_of(&self, subject: &str) -> Result<u64, StoreError> {
        let s = &self.shared;
        let key = format!("{}lo:{subject}", s.config.prefix);
        let mut conn = s.conn.clone();
        let command = redis::cmd("GET").arg(&key).to_owned();
        let timeout = s.config.command_timeout;
        let value: Option<String> =
            match tokio::time::timeout(timeout, command.query_async(&mut conn)).await {
                Ok(Ok(value)) => value,
                Ok(Err(e)) => return Err(StoreError::new(format!("redis GET: {e}"))),
                Err(_) => {
                    return Err(StoreError::new(format!(
                        "redis GET: no answer within {timeout:?}"
                    )));
                }
            };
        match value {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| corrupt(format_args!("the logout generation {v:?}"))),
        }
    }

    async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let NewSession {
            session,
            refresh,
            logout_generation,
            max_sessions,
            revoke_until,
        } = new;
        let data = serde_json::to_string(&session)
            .map_err(|e| StoreError::new(format!("redis: cannot encode the session: {e}")))?;
        let end = session.ends_at.map(|e| e.to_string()).unwrap_or_default();
        let ua = session.user_agent.clone().unwrap_or_default();
        let args = [
            session.id.as_str(),
            &session.subject,
            &data,
            &session.expires_at.to_string(),
            &end,
            &ua,
            &hex(&refresh),
            &session.created_at.to_string(),
            session.manager.as_deref().unwrap_or_default(),
            &logout_generation.to_string(),
            &max_sessions.to_string(),
            &revoke_until.to_string(),
        ];
        let s = &self.shared;
        let reply: Vec<redis::Value> = s.run("create", &s.scripts.create, &args).await?;
        let mut reply = reply.into_iter();
        let stored: i64 = match reply.next() {
            Some(v) => redis::from_redis_value(v)
                .map_err(|e| corrupt(format_args!("create answer: {e}")))?,
            None => return Err(corrupt("an empty answer from the create script")),
        };
        if stored == 0 {
            tracing::debug!("login: session of a subject logged out since its login not stored");
        }
        for member in reply {
            let member: Vec<u8> = redis::from_redis_value(member)
                .map_err(|e| corrupt(format_args!("create revocation: {e}")))?;
            s.publish_local(&member)?;
        }
        Ok(())
    }

    async fn rotate_token(&self, r: Rotation) -> Result<Rotated, StoreError> {
        let (grace_token, grace_until) = match &r.grace {
            Some((token, until)) => (token.clone(), until.to_string()),
            None => (String::new(), String::new()),
        };
        let args = [
            hex(&r.presented),
            hex(&r.successor),
            grace_token,
            grace_until,
            r.now.to_string(),
            r.expires_at.to_string(),
            r.user_agent.clone().unwrap_or_default(),
            r.revoke_until.to_string(),
            REMEMBERED_ROTATIONS.to_string(),
            r.manager.clone().unwrap_or_default(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let s = &self.shared;
        let reply: Vec<Vec<u8>> = s.run("rotate", &s.scripts.rotate, &args).await?;
        let field = |i: usize| -> Result<&[u8], StoreError> {
            reply
                .get(i)
                .map(Vec::as_slice)
                .ok_or_else(|| corrupt("a short answer from the rotate script"))
        };
        match field(0)? {
            b"invalid" => Ok(Rotated::Invalid),
            b"rotated" => Ok(Rotated::Rotated(session_from(
                field(1)?,
                &text(field(2)?, "refreshed_at")?,
                &text(field(3)?, "expires_at")?,
                &text(field(4)?, "user agent")?,
            )?)),
            b"repeated" => Ok(Rotated::Repeated {
                session: session_from(
                    field(1)?,
                    &text(field(2)?, "refreshed_at")?,
                    &text(field(3)?, "expires_at")?,
                    &text(field(4)?, "user agent")?,
                )?,
                refresh_token: text(field(5)?, "the grace successor")?,
            }),
            b"reused" => {
                s.publish_local(field(2)?)?;
                Ok(Rotated::Reused {
                    sid: text(field(1)?, "a session id")?,
                })
            }
            other => Err(corrupt(format_args!(
                "the rotate script answered {:?}",
                String::from_utf8_lossy(other)
            ))),
        }
    }
}

impl SessionStore for RedisStore {
    fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64> {
        let subject = subject.to_owned();
        Box::pin(async move { self.logout_generation_of(&subject).await })
    }

    fn create(&self, new: NewSession) -> StoreFuture<'_, ()> {
        Box::pin(self.create_session(new))
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        Box::pin(self.rotate_token(rotation))
    }

    fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>> {
        Box::pin(async move {
            let s = &self.shared;
            let reply: Vec<Vec<u8>> = s.run("find", &s.scripts.find, &[&hex(&refresh)]).await?;
            let [data, refreshed, expires, _, ua] = reply.as_slice() else {
                if reply.is_empty() {
                    return Ok(None);
                }
                return Err(corrupt("a short answer from the find script"));
            };
            let session = session_from(
                data,
                &text(refreshed, "refreshed_at")?,
                &text(expires, "expires_at")?,
                &text(ua, "user agent")?,
            )?;
            Ok(session.is_live(now).then_some(session))
        })
    }

    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
        let sid = sid.to_owned();
        Box::pin(async move {
            let s = &self.shared;
            let args = [sid.as_str(), &now.to_string(), &until.to_string()];
            let (live, member): (i64, Vec<u8>) =
                s.run("end_session", &s.scripts.end_session, &args).await?;
            s.publish_local(&member)?;
            Ok(live == 1)
        })
    }

    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
        let subject = subject.to_owned();
        Box::pin(async move {
            let s = &self.shared;
            let args = [subject.as_str(), &now.to_string(), &until.to_string()];
            let reply: Vec<redis::Value> =
                s.run("end_subject", &s.scripts.end_subject, &args).await?;
            let mut reply = reply.into_iter();
            let live: i64 = match reply.next() {
                Some(v) => redis::from_redis_value(v)
                    .map_err(|e| corrupt(format_args!("end_subject count: {e}")))?,
                None => return Err(corrupt("an empty answer from the end_subject script")),
            };
            for member in reply {
                let member: Vec<u8> = redis::from_redis_value(member)
                    .map_err(|e| corrupt(format_args!("end_subject revocation: {e}")))?;
                s.publish_local(&member)?;
            }
            Ok(usize::try_from(live).unwrap_or(0))
        })
    }

    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
        let revocation = Revocation::AccessTokenRevoked {
            jti: jti.to_owned(),
            until,
        };
        Box::pin(async move {
            self.shared.record(&revocation).await?;
            self.shared.hub.apply(&revocation);
            Ok(())
        })
    }

    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
        let subject = subject.to_owned();
        Box::pin(async move {
            let s = &self.shared;
            let reply: Vec<Vec<u8>> = s.run("sessions", &s.scripts.sessions, &[&subject]).await?;
            if !reply.len().is_multiple_of(6) {
                return Err(corrupt("a ragged answer from the sessions script"));
            }
            let mut sessions = Vec::new();
            for row in reply.chunks_exact(6) {
                let session = session_from(
                    &row[1],
                    &text(&row[2], "refreshed_at")?,
                    &text(&row[3], "expires_at")?,
                    &text(&row[5], "user agent")?,
                )?;
                if session.is_live(now) {
                    sessions.push(session);
                }
            }
            sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(sessions)
        })
    }

    fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>> {
        Box::pin(self.shared.snapshot_at(now))
    }

    fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        self.shared.hub.subscribe(sink);
    }

    fn throttle_store(&self) -> Option<Arc<dyn crate::session::ThrottleStore>> {
        Some(Arc::new(throttle::RedisThrottle {
            shared: self.shared.clone(),
        }))
    }
}
