//! [`MemoryStore`]: the default [`SessionStore`], for an app that runs as one process.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use super::store::{
    NewSession, Revocation, RevocationSink, Rotated, Rotation, SessionStore, StoreFuture,
};
use super::throttle::{MemoryThrottle, ThrottleStore};
use super::view::RevocationSet;
use super::{Session, TokenHash};

/// How many rotated refresh tokens of a session are remembered for reuse detection (the most
/// recent ones). An older one presented again is refused without ending the session.
pub(crate) const REMEMBERED_ROTATIONS: usize = 64;

/// Sessions, refresh-token hashes and revocations in this process's memory.
///
/// Every method runs under one lock, so rotation is atomic, and revocations are applied to
/// the subscribers before the method returns. Expired sessions and revocations are dropped as
/// the clock passes them (checked at most once a minute, on a write). Nothing survives a
/// restart: after one, every refresh token is unknown (`invalid_grant`) and the users sign in
/// again.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    sinks: Mutex<Vec<Arc<dyn RevocationSink>>>,
    /// The login throttle's failure counters.
    throttle: Arc<MemoryThrottle>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("MemoryStore")
            .field("sessions", &state.sessions.len())
            .field("refresh_tokens", &state.tokens.len())
            .field("revocations", &state.revoked.len())
            .finish()
    }
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Entry>,
    /// Every remembered refresh-token hash → its session.
    tokens: HashMap<TokenHash, String>,
    subjects: HashMap<String, HashSet<String>>,
    /// subject → (its logout generation, until when it is kept: its revocation's `until`).
    logouts: HashMap<String, (u64, i64)>,
    revoked: RevocationSet,
    last_sweep: i64,
}

struct Entry {
    session: Session,
    current: TokenHash,
    /// Rotated tokens, oldest first.
    rotated: VecDeque<TokenHash>,
    /// The last rotation, within its grace window: (the token it consumed, the successor,
    /// the end of the window).
    grace: Option<(TokenHash, String, i64)>,
}

/// Seconds between two sweeps of expired sessions.
const SWEEP_EVERY: i64 = 60;

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store behind an `Arc`, ready for
    /// [`LoginManagerBuilder::session_store`](crate::LoginManagerBuilder::session_store).
    pub fn shared() -> Arc<Self> {
        Arc::new(Self::new())
    }

    /// How many sessions the store holds (live or not yet swept).
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether the store holds no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many login-throttle counters the store keeps now (at most 65,536: see
    /// [`MemoryThrottle`]).
    pub fn throttle_counters(&self) -> usize {
        self.throttle.len()
    }

    /// How many refresh-token hashes the store remembers (current and rotated).
    pub fn refresh_tokens(&self) -> usize {
        self.lock().tokens.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `revocation` and applies it to every subscriber (with the state locked, so
    /// subscribers see revocations in the order the store made them).
    fn publish(&self, state: &mut State, revocation: Revocation) {
        state.revoked.apply(&revocation);
        let sinks = self.sinks.lock().unwrap_or_else(PoisonError::into_inner);
        for sink in sinks.iter() {
            sink.apply(&revocation);
        }
    }
}

impl State {
    fn remove_session(&mut self, sid: &str) -> Option<Entry> {
        let entry = self.sessions.remove(sid)?;
        self.tokens.remove(&entry.current);
        for hash in &entry.rotated {
            self.tokens.remove(hash);
        }
        if let Some(sids) = self.subjects.get_mut(&entry.session.subject) {
            sids.remove(sid);
            if sids.is_empty() {
                self.subjects.remove(&entry.session.subject);
            }
        }
        Some(entry)
    }

    /// Drops expired sessions and revocations, at most once a minute.
    fn sweep(&mut self, now: i64) {
        if now - self.last_sweep < SWEEP_EVERY {
            return;
        }
        self.last_sweep = now;
        let dead: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, e)| !e.session.is_live(now))
            .map(|(sid, _)| sid.clone())
            .collect();
        for sid in dead {
            self.remove_session(&sid);
        }
        self.logouts.retain(|_, (_, until)| *until > now);
        self.revoked.prune(now);
    }

    fn logout_generation(&self, subject: &str) -> u64 {
        self.logouts
            .get(subject)
            .map_or(0, |(generation, _)| *generation)
    }

    /// The subject's live sessions other than `except`, oldest first, beyond the `keep`
    /// newest: the ones a new session past the cap ends.
    fn past_the_cap(&self, subject: &str, except: &str, keep: usize, now: i64) -> Vec<String> {
        let mut live: Vec<(i64, &str)> = self
            .subjects
            .get(subject)
            .into_iter()
            .flatten()
            .filter(|sid| sid.as_str() != except)
            .filter_map(|sid| self.sessions.get(sid))
            .filter(|entry| entry.session.is_live(now))
            .map(|entry| (entry.session.created_at, entry.session.id.as_str()))
            .collect();
        let excess = live.len().saturating_sub(keep);
        live.sort_unstable();
        live.into_iter()
            .take(excess)
            .map(|(_, sid)| sid.to_owned())
            .collect()
    }

    fn rotate(&mut self, r: Rotation) -> (Rotated, Option<Revocation>) {
        let Some(sid) = self.tokens.get(&r.presented).cloned() else {
            return (Rotated::Invalid, None);
        };
        let Some(entry) = self.sessions.get_mut(&sid) else {
            return (Rotated::Invalid, None);
        };
        if !entry.session.is_live(r.now) || entry.session.manager != r.manager {
            return (Rotated::Invalid, None);
        }
        if entry.current == r.presented {
            entry.rotated.push_back(r.presented);
            let forgotten = (entry.rotated.len() > REMEMBERED_ROTATIONS)
                .then(|| entry.rotated.pop_front())
                .flatten();
            entry.current = r.successor;
            entry.grace = r.grace.map(|(token, until)| (r.presented, token, until));
            entry.session.refreshed_at = Some(r.now);
            entry.session.expires_at = match entry.session.ends_at {
                Some(end) => r.expires_at.min(end),
                None => r.expires_at,
            };
            if r.user_agent.is_some() {
                entry.session.user_agent = r.user_agent;
            }
            let session = entry.session.clone();
            if let Some(old) = forgotten {
                self.tokens.remove(&old);
            }
            self.tokens.insert(r.successor, sid);
            return (Rotated::Rotated(session), None);
        }
        // An already rotated token: within the grace window of the last rotation (and its
        // successor still unused), the same successor again; otherwise, reuse.
        if let Some((from, token, until)) = &entry.grace
            && *from == r.presented
            && r.now < *until
        {
            return (
                Rotated::Repeated {
                    session: entry.session.clone(),
                    refresh_token: token.clone(),
                },
                None,
            );
        }
        self.remove_session(&sid);
        let revocation = Revocation::SessionEnded {
            sid: sid.clone(),
            until: r.revoke_until,
        };
        (Rotated::Reused { sid }, Some(revocation))
    }
}

impl SessionStore for MemoryStore {
    fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64> {
        let generation = self.lock().logout_generation(subject);
        Box::pin(std::future::ready(Ok(generation)))
    }

    fn create(&self, new: NewSession) -> StoreFuture<'_, ()> {
        let NewSession {
            session,
            refresh,
            logout_generation,
            max_sessions,
            revoke_until,
        } = new;
        let mut state = self.lock();
        let now = session.created_at;
        state.sweep(now);
        if state.logout_generation(&session.subject) != logout_generation {
            // A login that raced "log out everywhere": its tokens were minted before the
            // logout, so the logout ends this session too (it is never stored, and its access
            // token is refused).
            tracing::debug!("login: session of a subject logged out since its login not stored");
            let ended = Revocation::SessionEnded {
                sid: session.id,
                until: revoke_until,
            };
            self.publish(&mut state, ended);
            return Box::pin(std::future::ready(Ok(())));
        }
        let keep = max_sessions.saturating_sub(1);
        for sid in state.past_the_cap(&session.subject, &session.id, keep, now) {
            state.remove_session(&sid);
            tracing::debug!(session = %sid, "login: oldest session ended past the cap");
            self.publish(
                &mut state,
                Revocation::SessionEnded {
                    sid,
                    until: revoke_until,
                },
            );
        }
        let sid = session.id.clone();
        state
            .subjects
            .entry(session.subject.clone())
            .or_default()
            .insert(sid.clone());
        state.tokens.insert(refresh, sid.clone());
        state.sessions.insert(
            sid,
            Entry {
                session,
                current: refresh,
                rotated: VecDeque::new(),
                grace: None,
            },
        );
        Box::pin(std::future::ready(Ok(())))
    }

    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated> {
        let mut state = self.lock();
        state.sweep(rotation.now);
        let (outcome, revocation) = state.rotate(rotation);
        if let Some(revocation) = revocation {
            self.publish(&mut state, revocation);
        }
        Box::pin(std::future::ready(Ok(outcome)))
    }

    fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>> {
        let state = self.lock();
        let session = state
            .tokens
            .get(&refresh)
            .and_then(|sid| state.sessions.get(sid))
            .map(|entry| entry.session.clone())
            .filter(|session| session.is_live(now));
        Box::pin(std::future::ready(Ok(session)))
    }

    fn reauthenticate(
        &self,
        subject: &str,
        sid: &str,
        amr: Vec<String>,
        auth_time: i64,
        now: i64,
    ) -> StoreFuture<'_, bool> {
        let mut state = self.lock();
        let renewed = match state.sessions.get_mut(sid) {
            Some(entry) if entry.session.subject == subject && entry.session.is_live(now) => {
                entry.session.set_authentication(&amr, auth_time);
                true
            }
            _ => false,
        };
        Box::pin(std::future::ready(Ok(renewed)))
    }

    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool> {
        let mut state = self.lock();
        let live = state
            .remove_session(sid)
            .is_some_and(|entry| entry.session.is_live(now));
        self.publish(
            &mut state,
            Revocation::SessionEnded {
                sid: sid.to_owned(),
                until,
            },
        );
        Box::pin(std::future::ready(Ok(live)))
    }

    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize> {
        let mut state = self.lock();
        let sids: Vec<String> = state
            .subjects
            .get(subject)
            .map(|sids| sids.iter().cloned().collect())
            .unwrap_or_default();
        let mut live = 0;
        for sid in sids {
            if let Some(entry) = state.remove_session(&sid) {
                live += usize::from(entry.session.is_live(now));
                self.publish(&mut state, Revocation::SessionEnded { sid, until });
            }
        }
        let logout = state
            .logouts
            .entry(subject.to_owned())
            .or_insert((0, until));
        *logout = (logout.0.wrapping_add(1), logout.1.max(until));
        self.publish(
            &mut state,
            Revocation::SubjectLoggedOut {
                subject: subject.to_owned(),
                before: now,
                until,
            },
        );
        Box::pin(std::future::ready(Ok(live)))
    }

    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()> {
        let mut state = self.lock();
        self.publish(
            &mut state,
            Revocation::AccessTokenRevoked {
                jti: jti.to_owned(),
                until,
            },
        );
        Box::pin(std::future::ready(Ok(())))
    }

    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>> {
        let state = self.lock();
        let mut sessions: Vec<Session> = state
            .subjects
            .get(subject)
            .into_iter()
            .flatten()
            .filter_map(|sid| state.sessions.get(sid))
            .map(|entry| entry.session.clone())
            .filter(|session| session.is_live(now))
            .collect();
        sessions.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Box::pin(std::future::ready(Ok(sessions)))
    }

    fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>> {
        let mut state = self.lock();
        state.revoked.prune(now);
        let all = state.revoked.to_vec();
        Box::pin(std::future::ready(Ok(all)))
    }

    fn subscribe(&self, sink: Arc<dyn RevocationSink>) {
        let state = self.lock();
        sink.replace(state.revoked.to_vec());
        self.sinks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(sink);
    }

    fn throttle_store(&self) -> Option<Arc<dyn ThrottleStore>> {
        Some(self.throttle.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::super::view::RevocationView;
    use super::*;

    fn block<T>(f: StoreFuture<'_, T>) -> T {
        // The memory store's futures are ready at once.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = f;
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r.unwrap(),
            std::task::Poll::Pending => panic!("pending"),
        }
    }

    fn session(id: &str, subject: &str, now: i64) -> Session {
        Session {
            id: id.into(),
            subject: subject.into(),
            scopes: vec![],
            extra: Default::default(),
            created_at: now,
            refreshed_at: None,
            expires_at: now + 100,
            ends_at: None,
            user_agent: None,
            manager: None,
        }
    }

    fn new(session: Session, refresh: &str) -> NewSession {
        NewSession {
            session,
            refresh: TokenHash::of(refresh),
            logout_generation: 0,
            max_sessions: 100,
            revoke_until: 900,
        }
    }

    fn rotation(from: &str, to: &str, now: i64, grace: Option<i64>) -> Rotation {
        Rotation {
            presented: TokenHash::of(from),
            successor: TokenHash::of(to),
            grace: grace.map(|g| (to.to_owned(), now + g)),
            now,
            expires_at: now + 100,
            user_agent: None,
            revoke_until: now + 900,
            manager: None,
        }
    }

    #[test]
    fn rotation_grace_and_reuse() {
        let store = MemoryStore::new();
        let view = Arc::new(RevocationView::new());
        store.subscribe(view.clone());
        block(store.create(new(session("s1", "alice", 0), "t0")));
        assert!(matches!(
            block(store.rotate(rotation("t0", "t1", 10, Some(5)))),
            Rotated::Rotated(_)
        ));
        // Within grace: the same successor, nothing changes.
        match block(store.rotate(rotation("t0", "tX", 12, Some(5)))) {
            Rotated::Repeated { refresh_token, .. } => assert_eq!(refresh_token, "t1"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            block(store.rotate(rotation("t1", "t2", 13, Some(5)))),
            Rotated::Rotated(_)
        ));
        // t0 is two rotations old: reuse, the session ends and the view hears of it.
        assert_eq!(
            block(store.rotate(rotation("t0", "tY", 14, Some(5)))),
            Rotated::Reused { sid: "s1".into() }
        );
        assert_eq!(view.len(), 1);
        assert_eq!(
            block(store.rotate(rotation("t2", "t3", 15, Some(5)))),
            Rotated::Invalid
        );
        assert!(store.is_empty());
        assert_eq!(store.refresh_tokens(), 0);
    }

    #[test]
    fn reuse_after_the_grace_window_ends_the_session() {
        let store = MemoryStore::new();
        block(store.create(new(session("s1", "alice", 0), "t0")));
        block(store.rotate(rotation("t0", "t1", 10, Some(5))));
        assert_eq!(
            block(store.rotate(rotation("t0", "tX", 15, Some(5)))),
            Rotated::Reused { sid: "s1".into() }
        );
        assert_eq!(
            block(store.rotate(rotation("t1", "t2", 16, Some(5)))),
            Rotated::Invalid
        );
    }

    #[test]
    fn rotated_tokens_are_remembered_up_to_a_bound() {
        let store = MemoryStore::new();
        block(store.create(new(session("s1", "alice", 0), "t0")));
        for i in 0..200 {
            let r =
                block(store.rotate(rotation(&format!("t{i}"), &format!("t{}", i + 1), 1, None)));
            assert!(matches!(r, Rotated::Rotated(_)), "{i}");
        }
        assert_eq!(store.refresh_tokens(), REMEMBERED_ROTATIONS + 1);
    }

    #[test]
    fn expired_sessions_are_swept() {
        let store = MemoryStore::new();
        block(store.create(new(session("s1", "alice", 0), "t0")));
        assert_eq!(block(store.sessions("alice", 99)).len(), 1);
        assert!(block(store.sessions("alice", 100)).is_empty());
        block(store.create(new(session("s2", "bob", 1000), "u0")));
        assert_eq!(store.len(), 1);
        assert_eq!(store.refresh_tokens(), 1);
    }
}
