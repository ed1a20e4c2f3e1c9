//! The revocations as a set, and the [`RevocationView`] every request is checked against.
//!
//! The view is a copy, in this process, of the revocations in force, fed by the store's change
//! stream ([`RevocationSink`]). A check is three hash-map lookups under a read lock, skipped
//! entirely while the view is empty (one atomic load; with a store whose stream can break, also
//! the freshness deadline and a read of the monotonic clock).
//!
//! A store whose change stream can break (Redis) renews the view's freshness on every
//! heartbeat ([`RevocationSink::fresh_until`]); once the deadline it gave has passed without a
//! renewal, every check refuses the token as stale (503) rather than trusting a copy that may
//! miss a revocation. Every entry carries an `until` after which no token it
//! refuses can still be valid; entries are dropped once their `until` has passed (at most once
//! per second, on the first check after the earliest one), so the view holds only entries
//! whose tokens could still be valid.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::Instant;

use super::store::{Revocation, RevocationSink};
use crate::claims::Claims;

/// Why a token is refused by the revocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its `jti` was revoked.
    Token,
    /// Its session ended.
    Session,
    /// Its subject logged out everywhere after it was issued (or it has no `iat`).
    Subject,
    /// The view may be stale: its store's change stream has not been known complete within
    /// the store's staleness bound. Nothing is accepted until it is again.
    Stale,
}

/// `fresh_until` of a view whose store never monitors its stream (in process).
const UNMONITORED: u64 = u64::MAX;
/// The bit of `entries` that says the view's freshness is monitored.
const MONITORED: usize = 1 << (usize::BITS - 1);

/// Milliseconds of the monotonic clock since the first use in this process.
fn monotonic_ms(at: Instant) -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX - 1)
}

/// The revocations in force, by kind.
#[derive(Debug, Default, Clone)]
pub(crate) struct RevocationSet {
    jtis: HashMap<String, i64>,
    sessions: HashMap<String, i64>,
    /// subject → (before, until)
    subjects: HashMap<String, (i64, i64)>,
}

impl RevocationSet {
    /// Adds a revocation; a second one for the same key keeps the later times.
    pub(crate) fn apply(&mut self, revocation: &Revocation) {
        match revocation {
            Revocation::AccessTokenRevoked { jti, until } => {
                let e = self.jtis.entry(jti.clone()).or_insert(*until);
                *e = (*e).max(*until);
            }
            Revocation::SessionEnded { sid, until } => {
                let e = self.sessions.entry(sid.clone()).or_insert(*until);
                *e = (*e).max(*until);
            }
            Revocation::SubjectLoggedOut {
                subject,
                before,
                until,
            } => {
                let e = self
                    .subjects
                    .entry(subject.clone())
                    .or_insert((*before, *until));
                *e = (e.0.max(*before), e.1.max(*until));
            }
        }
    }

    /// Whether the set already holds `revocation` (the same key, with times at least as late).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn covers(&self, revocation: &Revocation) -> bool {
        match revocation {
            Revocation::AccessTokenRevoked { jti, until } => {
                self.jtis.get(jti).is_some_and(|u| u >= until)
            }
            Revocation::SessionEnded { sid, until } => {
                self.sessions.get(sid).is_some_and(|u| u >= until)
            }
            Revocation::SubjectLoggedOut {
                subject,
                before,
                until,
            } => self
                .subjects
                .get(subject)
                .is_some_and(|(b, u)| b >= before && u >= until),
        }
    }

    /// Drops every entry whose `until` has passed.
    pub(crate) fn prune(&mut self, now: i64) {
        self.jtis.retain(|_, until| *until > now);
        self.sessions.retain(|_, until| *until > now);
        self.subjects.retain(|_, (_, until)| *until > now);
    }

    /// The earliest `until`, if any entry is left.
    pub(crate) fn earliest_until(&self) -> Option<i64> {
        let jtis = self.jtis.values().copied();
        let sessions = self.sessions.values().copied();
        let subjects = self.subjects.values().map(|(_, until)| *until);
        jtis.chain(sessions).chain(subjects).min()
    }

    /// How many entries the set holds.
    pub(crate) fn len(&self) -> usize {
        self.jtis.len() + self.sessions.len() + self.subjects.len()
    }

    /// Every entry, as revocations (for a snapshot).
    pub(crate) fn to_vec(&self) -> Vec<Revocation> {
        let jtis = self
            .jtis
            .iter()
            .map(|(jti, until)| Revocation::AccessTokenRevoked {
                jti: jti.clone(),
                until: *until,
            });
        let sessions = self
            .sessions
            .iter()
            .map(|(sid, until)| Revocation::SessionEnded {
                sid: sid.clone(),
                until: *until,
            });
        let subjects =
            self.subjects
                .iter()
                .map(|(subject, (before, until))| Revocation::SubjectLoggedOut {
                    subject: subject.clone(),
                    before: *before,
                    until: *until,
                });
        jtis.chain(sessions).chain(subjects).collect()
    }

    /// Whether the set refuses a token with these claims.
    ///
    /// After "log out everywhere" at `before`: a token of a session is refused when it was
    /// issued before `before` (the store also ended every session that existed then, so a
    /// token minted in the same second by a refresh that won the race is refused through its
    /// session); a token without a session is refused when issued at or before that second,
    /// and when it has no `iat`.
    pub(crate) fn check(&self, claims: &Claims) -> Result<(), Refused> {
        if let Some(jti) = &claims.jti
            && self.jtis.contains_key(jti.as_str())
        {
            return Err(Refused::Token);
        }
        if let Some(sid) = &claims.sid
            && self.sessions.contains_key(sid.as_str())
        {
            return Err(Refused::Session);
        }
        if let Some((before, _)) = self.subjects.get(claims.sub.as_str()) {
            let refused = match (claims.iat, &claims.sid) {
                (None, _) => true,
                (Some(iat), Some(_)) => iat < *before,
                (Some(iat), None) => iat <= *before,
            };
            if refused {
                return Err(Refused::Subject);
            }
        }
        Ok(())
    }
}

/// The in-process copy of the revocations in force, fed by the store
/// ([`RevocationSink`]) and consulted by every request, cached token or not.
#[derive(Debug)]
pub struct RevocationView {
    set: RwLock<RevocationSet>,
    /// The number of entries, read without the lock, with [`MONITORED`] set once a store
    /// monitors the view's freshness: an empty view of a store in this process costs one
    /// atomic load.
    entries: AtomicUsize,
    /// The earliest `until` (entries are dropped on the first check at or after it).
    next_prune: AtomicI64,
    /// Until when the view may be trusted ([`monotonic_ms`]), or [`UNMONITORED`].
    fresh_until: AtomicU64,
}

impl Default for RevocationView {
    fn default() -> Self {
        RevocationView {
            set: RwLock::new(RevocationSet::default()),
            entries: AtomicUsize::new(0),
            next_prune: AtomicI64::new(i64::MAX),
            fresh_until: AtomicU64::new(UNMONITORED),
        }
    }
}

impl RevocationView {
    /// An empty view.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries the view holds.
    pub fn len(&self) -> usize {
        self.entries.load(Ordering::Acquire) & !MONITORED
    }

    /// Whether the view holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the view can be trusted now: always for a store in this process; for a store
    /// whose stream can break, until the deadline of its last heartbeat.
    pub fn is_fresh(&self) -> bool {
        let fresh_until = self.fresh_until.load(Ordering::Acquire);
        fresh_until == UNMONITORED || monotonic_ms(Instant::now()) < fresh_until
    }

    /// Whether a token with these claims is refused at `now`.
    pub(crate) fn check(&self, claims: &Claims, now: i64) -> Result<(), Refused> {
        let entries = self.entries.load(Ordering::Acquire);
        if entries == 0 {
            return Ok(());
        }
        if entries & MONITORED != 0
            && monotonic_ms(Instant::now()) >= self.fresh_until.load(Ordering::Acquire)
        {
            return Err(Refused::Stale);
        }
        if entries & !MONITORED == 0 {
            return Ok(());
        }
        if now >= self.next_prune.load(Ordering::Relaxed) {
            self.prune(now);
        }
        let set = self.set.read().unwrap_or_else(PoisonError::into_inner);
        set.check(claims)
    }

    /// Drops the entries whose `until` has passed.
    pub(crate) fn prune(&self, now: i64) {
        let mut set = self.set.write().unwrap_or_else(PoisonError::into_inner);
        set.prune(now);
        self.publish(&set, now);
    }

    /// Updates the lock-free counters after a change (called with the write lock held).
    fn publish(&self, set: &RevocationSet, now: i64) {
        self.store_len(set.len());
        // At most one prune per second: `until` has a one-second granularity.
        let next = set
            .earliest_until()
            .map_or(i64::MAX, |until| until.max(now + 1));
        self.next_prune.store(next, Ordering::Relaxed);
    }

    /// Publishes the entry count, keeping the [`MONITORED`] bit.
    fn store_len(&self, len: usize) {
        let monitored = self.entries.load(Ordering::Acquire) & MONITORED;
        self.entries.store(len | monitored, Ordering::Release);
    }

    fn write(&self, change: impl FnOnce(&mut RevocationSet)) {
        let mut set = self.set.write().unwrap_or_else(PoisonError::into_inner);
        change(&mut set);
        self.store_len(set.len());
        let earliest = set.earliest_until().unwrap_or(i64::MAX);
        self.next_prune.store(earliest, Ordering::Relaxed);
    }
}

impl RevocationSink for RevocationView {
    fn apply(&self, revocation: &Revocation) {
        self.write(|set| set.apply(revocation));
    }

    fn replace(&self, revocations: Vec<Revocation>) {
        self.write(|set| {
            *set = RevocationSet::default();
            for revocation in &revocations {
                set.apply(revocation);
            }
        });
    }

    fn fresh_until(&self, deadline: Instant) {
        // Never UNMONITORED: once monitored, a view stays monitored.
        let ms = monotonic_ms(deadline).min(UNMONITORED - 1);
        self.fresh_until.store(ms, Ordering::Release);
        // Under the write lock, so that no count is published without the bit after this.
        let _set = self.set.write().unwrap_or_else(PoisonError::into_inner);
        self.entries.fetch_or(MONITORED, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Claims {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn empty_view_refuses_nothing() {
        let view = RevocationView::new();
        assert!(view.is_empty());
        let c = claims(r#"{"sub":"a","exp":100,"jti":"j","sid":"s"}"#);
        assert_eq!(view.check(&c, 0), Ok(()));
    }

    #[test]
    fn each_kind_refuses_its_tokens_only() {
        let view = RevocationView::new();
        view.apply(&Revocation::AccessTokenRevoked {
            jti: "j1".into(),
            until: 100,
        });
        view.apply(&Revocation::SessionEnded {
            sid: "s1".into(),
            until: 100,
        });
        view.apply(&Revocation::SubjectLoggedOut {
            subject: "bob".into(),
            before: 50,
            until: 100,
        });
        assert_eq!(view.len(), 3);
        let check = |json: &str| view.check(&claims(json), 10);
        assert_eq!(
            check(r#"{"sub":"a","exp":99,"jti":"j1"}"#),
            Err(Refused::Token)
        );
        assert_eq!(check(r#"{"sub":"a","exp":99,"jti":"j2"}"#), Ok(()));
        assert_eq!(
            check(r#"{"sub":"a","exp":99,"sid":"s1"}"#),
            Err(Refused::Session)
        );
        assert_eq!(check(r#"{"sub":"a","exp":99,"sid":"s2"}"#), Ok(()));
        // bob: without iat refused; without a session, iat <= before refused; with a
        // session, iat < before refused.
        assert_eq!(check(r#"{"sub":"bob","exp":99}"#), Err(Refused::Subject));
        assert_eq!(
            check(r#"{"sub":"bob","exp":99,"iat":50}"#),
            Err(Refused::Subject)
        );
        assert_eq!(check(r#"{"sub":"bob","exp":99,"iat":51}"#), Ok(()));
        assert_eq!(
            check(r#"{"sub":"bob","exp":99,"iat":49,"sid":"s9"}"#),
            Err(Refused::Subject)
        );
        assert_eq!(
            check(r#"{"sub":"bob","exp":99,"iat":50,"sid":"s9"}"#),
            Ok(())
        );
        assert_eq!(check(r#"{"sub":"alice","exp":99}"#), Ok(()));
    }

    #[test]
    fn entries_are_dropped_once_their_tokens_cannot_be_valid() {
        let view = RevocationView::new();
        for i in 0..100 {
            view.apply(&Revocation::AccessTokenRevoked {
                jti: format!("j{i}"),
                until: 1000 + i,
            });
        }
        assert_eq!(view.len(), 100);
        let c = claims(r#"{"sub":"a","exp":2000,"jti":"j99"}"#);
        assert_eq!(view.check(&c, 999), Err(Refused::Token));
        assert_eq!(view.len(), 100);
        // At 1050, the 50 entries with until <= 1050 go.
        let _ = view.check(&c, 1050);
        assert_eq!(view.len(), 49);
        let _ = view.check(&c, 1099);
        assert_eq!(view.len(), 0);
        assert_eq!(view.check(&c, 1099), Ok(()));
    }

    #[test]
    fn replace_swaps_the_whole_set() {
        let view = RevocationView::new();
        view.apply(&Revocation::SessionEnded {
            sid: "old".into(),
            until: 100,
        });
        view.replace(vec![Revocation::SessionEnded {
            sid: "new".into(),
            until: 100,
        }]);
        assert_eq!(view.len(), 1);
        assert!(
            view.check(&claims(r#"{"sub":"a","exp":9,"sid":"old"}"#), 0)
                .is_ok()
        );
        assert!(
            view.check(&claims(r#"{"sub":"a","exp":9,"sid":"new"}"#), 0)
                .is_err()
        );
    }

    #[test]
    fn a_monitored_view_refuses_everything_once_its_deadline_passes() {
        let view = RevocationView::new();
        let c = claims(r#"{"sub":"a","exp":100}"#);
        assert!(view.is_fresh());
        view.fresh_until(Instant::now() + std::time::Duration::from_secs(3600));
        assert!(view.is_fresh());
        assert_eq!(view.check(&c, 0), Ok(()));
        view.fresh_until(Instant::now());
        assert!(!view.is_fresh());
        assert_eq!(view.check(&c, 0), Err(Refused::Stale));
        // A renewal serves again.
        view.fresh_until(Instant::now() + std::time::Duration::from_secs(3600));
        assert_eq!(view.check(&c, 0), Ok(()));
    }
}
