//! The store's operations: each a few steps, every step on one hash slot (see
//! [`scripts`](super::scripts) for the keys and the order of the steps).

use std::sync::Arc;

use redis::Value;

use super::conn::{self, tag};
use super::{RedisStore, corrupt, hex, session_from, text, throttle};
use crate::session::memory::REMEMBERED_ROTATIONS;
use crate::session::store::{
    NewSession, Revocation, RevocationSink, Rotated, Rotation, SessionStore, StoreError,
    StoreFuture,
};
use crate::session::{Session, TokenHash};

/// Element `i` of a script's answer.
fn at<T: redis::FromRedisValue>(reply: &[Value], i: usize, what: &str) -> Result<T, StoreError> {
    let value = reply
        .get(i)
        .ok_or_else(|| corrupt(format_args!("a short answer from the {what} script")))?;
    redis::from_redis_value_ref(value)
        .map_err(|e| corrupt(format_args!("the {what} script's answer: {e}")))
}

fn ended(sid: &str, until: i64) -> Revocation {
    Revocation::SessionEnded {
        sid: sid.to_owned(),
        until,
    }
}

impl RedisStore {
    fn prefix(&self) -> &str {
        &self.shared.config.prefix
    }

    /// The `T sid` an index holds, if the key is there.
    async fn index(&self, key: &str) -> Result<Option<(String, String)>, StoreError> {
        let value: Option<String> = self.shared.query("GET", redis::cmd("GET").arg(key)).await?;
        match value {
            None => Ok(None),
            Some(v) => match conn::split_index(&v) {
                Some((t, sid)) => Ok(Some((t.to_owned(), sid.to_owned()))),
                None => Err(corrupt(format_args!("the index {key} holds {v:?}"))),
            },
        }
    }

    async fn logout_generation_of(&self, subject: &str) -> Result<u64, StoreError> {
        let key = conn::logout_key(self.prefix(), &tag(subject));
        let value: Option<String> = self
            .shared
            .query("GET", redis::cmd("GET").arg(&key))
            .await?;
        match value {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| corrupt(format_args!("the logout generation {v:?}"))),
        }
    }

    /// Revokes the sessions `sids` of the subject tagged `t`, then drops them.
    async fn end_these(&self, t: &str, sids: &[String], until: i64) -> Result<(), StoreError> {
        if sids.is_empty() {
            return Ok(());
        }
        let s = &self.shared;
        let revocations: Vec<Revocation> = sids.iter().map(|sid| ended(sid, until)).collect();
        s.revoke(&revocations).await?;
        let args: Vec<&str> = sids.iter().map(String::as_str).collect();
        let gone: Vec<String> = s.run_subject("drop", &s.scripts.drop, t, &args).await?;
        s.delete(&gone).await
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
        let t = tag(&session.subject);
        let refresh = hex(&refresh);
        let args = [
            session.id.as_str(),
            &session.subject,
            &data,
            &session.expires_at.to_string(),
            &end,
            &ua,
            &refresh,
            &session.created_at.to_string(),
            session.manager.as_deref().unwrap_or_default(),
            &logout_generation.to_string(),
            &max_sessions.to_string(),
        ];
        let s = &self.shared;
        let reply: Vec<Value> = s
            .run_subject("create", &s.scripts.create, &t, &args)
            .await?;
        let stored: i64 = at(&reply, 0, "create")?;
        if stored == 0 {
            // A login that raced "log out everywhere": not stored, and its tokens refused.
            tracing::debug!("login: session of a subject logged out since its login not stored");
            return s.revoke(&[ended(&session.id, revoke_until)]).await;
        }
        // The indexes, before the refresh token is handed out.
        let ttl = (session.expires_at - session.created_at).max(1);
        let prefix = self.prefix();
        let indexes = [
            redis::cmd("SET")
                .arg(conn::token_key(prefix, &refresh))
                .arg(format!("{t} {}", session.id))
                .arg("EX")
                .arg(ttl)
                .to_owned(),
            redis::cmd("SET")
                .arg(conn::sid_key(prefix, &session.id))
                .arg(&t)
                .arg("EX")
                .arg(ttl)
                .to_owned(),
        ];
        s.each("create indexes", &indexes).await?;
        let excess: Vec<String> = reply[1..]
            .iter()
            .map(|v| {
                redis::from_redis_value_ref(v)
                    .map_err(|e| corrupt(format_args!("the create script's answer: {e}")))
            })
            .collect::<Result<_, _>>()?;
        self.end_these(&t, &excess, revoke_until).await
    }

    async fn rotate_token(&self, r: Rotation) -> Result<Rotated, StoreError> {
        let prefix = self.prefix();
        let presented = hex(&r.presented);
        let presented_key = conn::token_key(prefix, &presented);
        let Some((t, sid)) = self.index(&presented_key).await? else {
            return Ok(Rotated::Invalid);
        };
        let s = &self.shared;
        // The successor's index first, so that it leads to the session once handed out; the
        // presented one's and the session id's live as long as the session now may.
        let successor = hex(&r.successor);
        let successor_key = conn::token_key(prefix, &successor);
        let ttl = (r.expires_at - r.now).max(1);
        let indexes = [
            redis::cmd("SET")
                .arg(&successor_key)
                .arg(format!("{t} {sid}"))
                .arg("EX")
                .arg(ttl)
                .to_owned(),
            redis::cmd("EXPIRE").arg(&presented_key).arg(ttl).to_owned(),
            redis::cmd("EXPIRE")
                .arg(conn::sid_key(prefix, &sid))
                .arg(ttl)
                .to_owned(),
        ];
        s.each("rotate indexes", &indexes).await?;
        let (grace_token, grace_until) = match &r.grace {
            Some((token, until)) => (token.clone(), until.to_string()),
            None => (String::new(), String::new()),
        };
        let args = [
            sid.clone(),
            presented,
            successor,
            grace_token,
            grace_until,
            r.now.to_string(),
            r.expires_at.to_string(),
            r.user_agent.clone().unwrap_or_default(),
            REMEMBERED_ROTATIONS.to_string(),
            r.manager.clone().unwrap_or_default(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply: Vec<Value> = s
            .run_subject("rotate", &s.scripts.rotate, &t, &args)
            .await?;
        let kind: Vec<u8> = at(&reply, 0, "rotate")?;
        let session = |reply: &[Value]| -> Result<Session, StoreError> {
            let data: Vec<u8> = at(reply, 1, "rotate")?;
            let refreshed: Vec<u8> = at(reply, 2, "rotate")?;
            let expires: Vec<u8> = at(reply, 3, "rotate")?;
            let ua: Vec<u8> = at(reply, 4, "rotate")?;
            session_from(
                &data,
                &text(&refreshed, "refreshed_at")?,
                &text(&expires, "expires_at")?,
                &text(&ua, "user agent")?,
            )
        };
        match kind.as_slice() {
            b"invalid" => {
                s.delete(&[successor_key]).await?;
                Ok(Rotated::Invalid)
            }
            b"rotated" => {
                let session = session(&reply)?;
                let gone: Vec<String> = at(&reply, 5, "rotate")?;
                s.delete(&gone).await?;
                Ok(Rotated::Rotated(session))
            }
            b"repeated" => {
                let session = session(&reply)?;
                let token: Vec<u8> = at(&reply, 5, "rotate")?;
                s.delete(&[successor_key]).await?;
                Ok(Rotated::Repeated {
                    session,
                    refresh_token: text(&token, "the grace successor")?,
                })
            }
            b"reused" => {
                // The session is dropped: its tokens are refused from here on.
                s.revoke(&[ended(&sid, r.revoke_until)]).await?;
                let mut gone: Vec<String> = at(&reply, 1, "rotate")?;
                gone.push(successor_key);
                s.delete(&gone).await?;
                Ok(Rotated::Reused { sid })
            }
            other => Err(corrupt(format_args!(
                "the rotate script answered {:?}",
                String::from_utf8_lossy(other)
            ))),
        }
    }

    async fn find_session(
        &self,
        refresh: TokenHash,
        now: i64,
    ) -> Result<Option<Session>, StoreError> {
        let prefix = self.prefix();
        let Some((t, sid)) = self.index(&conn::token_key(prefix, &hex(&refresh))).await? else {
            return Ok(None);
        };
        let command = redis::cmd("HMGET")
            .arg(conn::session_key(prefix, &t, &sid))
            .arg(&["data", "ref", "exp", "ua"])
            .to_owned();
        let fields: Vec<Option<Vec<u8>>> = self.shared.query("HMGET", &command).await?;
        let [Some(data), refreshed, expires, ua] = fields.as_slice() else {
            return Ok(None);
        };
        let field = |v: &Option<Vec<u8>>, what| text(v.as_deref().unwrap_or_default(), what);
        let session = session_from(
            data,
            &field(refreshed, "refreshed_at")?,
            &field(expires, "expires_at")?,
            &field(ua, "user agent")?,
        )?;
        Ok(session.is_live(now).then_some(session))
    }

    /// Reads the session's data, sets its `amr` and `auth_time`, and writes it back if no
    /// one changed it meanwhile (the script compares), reading again if someone did.
    async fn reauthenticate_session(
        &self,
        subject: &str,
        sid: &str,
        amr: &[String],
        auth_time: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let s = &self.shared;
        let t = tag(subject);
        let key = conn::session_key(self.prefix(), &t, sid);
        for _ in 0..3 {
            let data: Option<Vec<u8>> = s
                .query("HGET", redis::cmd("HGET").arg(&key).arg("data"))
                .await?;
            let Some(data) = data else {
                return Ok(false);
            };
            let read = text(&data, "session data")?;
            let mut value: serde_json::Value = serde_json::from_str(&read)
                .map_err(|_| corrupt(format_args!("the data of session {sid}")))?;
            let Some(object) = value.as_object_mut() else {
                return Err(corrupt(format_args!("the data of session {sid}")));
            };
            let extra = object
                .entry("extra")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            let Some(extra) = extra.as_object_mut() else {
                return Err(corrupt(format_args!("the extra claims of session {sid}")));
            };
            extra.insert("amr".into(), serde_json::Value::from(amr.to_vec()));
            extra.insert("auth_time".into(), serde_json::Value::from(auth_time));
            let written = value.to_string();
            let outcome: i64 = s
                .run_subject(
                    "reauthenticate",
                    &s.scripts.reauthenticate,
                    &t,
                    &[sid, &now.to_string(), &read, &written],
                )
                .await?;
            match outcome {
                1 => return Ok(true),
                0 => return Ok(false),
                _ => continue,
            }
        }
        Err(StoreError::new(
            "redis: the session changed three times during a re-authentication",
        ))
    }

    async fn end_one(&self, sid: &str, now: i64, until: i64) -> Result<bool, StoreError> {
        let s = &self.shared;
        // The revocation first: from here on the session's tokens are refused.
        s.revoke(&[ended(sid, until)]).await?;
        let key = conn::sid_key(self.prefix(), sid);
        let t: Option<String> = s.query("GET", redis::cmd("GET").arg(&key)).await?;
        let Some(t) = t else {
            return Ok(false);
        };
        let reply: Vec<Value> = s
            .run_subject(
                "end_session",
                &s.scripts.end_session,
                &t,
                &[sid, &now.to_string()],
            )
            .await?;
        let live: i64 = at(&reply, 0, "end_session")?;
        let gone: Vec<String> = at(&reply, 1, "end_session")?;
        s.delete(&gone).await?;
        Ok(live == 1)
    }

    async fn end_all(&self, subject: &str, now: i64, until: i64) -> Result<usize, StoreError> {
        let s = &self.shared;
        let t = tag(subject);
        let members = redis::cmd("SMEMBERS")
            .arg(conn::subject_key(self.prefix(), &t))
            .to_owned();
        let known: Vec<String> = s.query("SMEMBERS", &members).await?;
        // The revocations first: the subject's older tokens, and those of the sessions known.
        let mut revocations: Vec<Revocation> = known.iter().map(|sid| ended(sid, until)).collect();
        revocations.push(Revocation::SubjectLoggedOut {
            subject: subject.to_owned(),
            before: now,
            until,
        });
        s.revoke(&revocations).await?;
        let args = [now.to_string(), until.to_string()];
        let reply: Vec<Value> = s
            .run_subject(
                "end_subject",
                &s.scripts.end_subject,
                &t,
                &[&args[0], &args[1]],
            )
            .await?;
        let live: i64 = at(&reply, 0, "end_subject")?;
        let dropped: Vec<String> = at(&reply, 1, "end_subject")?;
        let gone: Vec<String> = at(&reply, 2, "end_subject")?;
        // A session stored between the read and the drop (a login racing the logout).
        let late: Vec<Revocation> = dropped
            .iter()
            .filter(|sid| !known.contains(sid))
            .map(|sid| ended(sid, until))
            .collect();
        s.revoke(&late).await?;
        s.delete(&gone).await?;
        Ok(usize::try_from(live).unwrap_or(0))
    }

    async fn sessions_of(&self, subject: &str, now: i64) -> Result<Vec<Session>, StoreError> {
        let s = &self.shared;
        let reply: Vec<Vec<u8>> = s
            .run_subject("sessions", &s.scripts.sessions, &tag(subject), &[])
            .await?;
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
        Box::pin(self.find_session(refresh, now))
    }

    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
        let sid = sid.to_owned();
        Box::pin(async move { self.end_one(&sid, now, until).await })
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
            self.reauthenticate_session(&subject, &sid, &amr, auth_time, now)
                .await
        })
    }

    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
        let subject = subject.to_owned();
        Box::pin(async move { self.end_all(&subject, now, until).await })
    }

    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
        let revocation = Revocation::AccessTokenRevoked {
            jti: jti.to_owned(),
            until,
        };
        Box::pin(async move { self.shared.revoke(&[revocation]).await })
    }

    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
        let subject = subject.to_owned();
        Box::pin(async move { self.sessions_of(&subject, now).await })
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
