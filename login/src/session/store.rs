//! The [`SessionStore`] trait: every piece of session state, behind one async interface that
//! a shared backend (Redis, a database) can implement.
//!
//! Two rules make a store correct:
//!
//! - **Rotation is one atomic step** ([`SessionStore::rotate`]): consuming the presented
//!   refresh token and installing its successor happen together, so two refreshes with the
//!   same token can never both succeed with different successors, and a refresh racing an
//!   end of the session never leaves a usable token (a Redis store does it in one Lua script
//!   or a `WATCH`/`MULTI` transaction).
//! - **Every revocation reaches every process** through [`SessionStore::subscribe`]: the store
//!   hands the subscriber the revocations still in force, then each new one, and after any
//!   gap in its change stream (a reconnection) the full set again. The manager's
//!   [`RevocationView`](super::RevocationView) is such a subscriber, and it is what every
//!   request is checked against, in process, without I/O.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::throttle::ThrottleStore;
use super::{Session, TokenHash};

/// The future a [`SessionStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store failure (unreachable server, corrupt record…). Refresh and session routes answer
/// it with a 503; it never turns into "signed out".
#[derive(Debug, thiserror::Error)]
#[error("session store failed: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps any error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(error.into())
    }
}

/// A change to what every request must refuse. `until` is the time (seconds since the Unix
/// epoch) after which no token the entry refuses can still be valid: the entry may be dropped
/// then, which is what bounds the memory of every copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Revocation {
    /// One access token, by its `jti`.
    AccessTokenRevoked {
        /// The token's `jti`.
        jti: String,
        /// Its `exp` (at the latest).
        until: i64,
    },
    /// A session ended (logged out, or its refresh token was reused): every access token
    /// carrying its `sid` is refused.
    SessionEnded {
        /// The session's id.
        sid: String,
        /// When its last access token expires at the latest.
        until: i64,
    },
    /// "Log out everywhere": every token of `subject` issued before `before` is refused, and
    /// every token of it without `iat` (it cannot show that it is newer).
    SubjectLoggedOut {
        /// The subject.
        subject: String,
        /// The time of the logout.
        before: i64,
        /// When the last token issued before it expires at the latest.
        until: i64,
    },
}

impl Revocation {
    /// When the entry may be dropped.
    pub fn until(&self) -> i64 {
        match self {
            Revocation::AccessTokenRevoked { until, .. }
            | Revocation::SessionEnded { until, .. }
            | Revocation::SubjectLoggedOut { until, .. } => *until,
        }
    }
}

/// Receives a store's revocations (the manager's [`RevocationView`](super::RevocationView)).
pub trait RevocationSink: Send + Sync {
    /// One new revocation.
    fn apply(&self, revocation: &Revocation);
    /// The complete set of revocations in force, replacing whatever the sink held (at
    /// subscription, and after a gap in the change stream).
    fn replace(&self, revocations: Vec<Revocation>);
    /// The change stream is known complete now (every revocation published so far has been
    /// handed to the sink), and may be trusted until `deadline` unless the store says so
    /// again: a store whose stream can break (a shared store behind a network) calls it on
    /// every heartbeat, and a sink that has heard it once refuses every token once
    /// `deadline` has passed without a renewal (503: the view may be stale). A store in this
    /// process, whose stream cannot break, never calls it. The default does nothing.
    fn fresh_until(&self, deadline: std::time::Instant) {
        let _ = deadline;
    }
}

/// A session to store ([`SessionStore::create`]).
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The session.
    pub session: Session,
    /// The hash of its refresh token.
    pub refresh: TokenHash,
    /// The subject's logout generation, read with [`SessionStore::logout_generation`] before
    /// the session's tokens were minted. If it has changed ("log out everywhere" ran since),
    /// the session is not stored.
    pub logout_generation: u64,
    /// The most live sessions the subject may have, this one included: past it, the store
    /// ends the oldest others (by `created_at`, then id).
    pub max_sessions: usize,
    /// The `until` of each [`Revocation::SessionEnded`] the creation publishes: for this
    /// session when it is not stored, and for each session ended past the cap.
    pub revoke_until: i64,
}

/// One rotation: consume `presented`, install `successor`. Its `Debug` never prints the
/// successor token of the grace window (`"***"`).
#[derive(Clone)]
pub struct Rotation {
    /// The hash of the refresh token presented.
    pub presented: TokenHash,
    /// The hash of its successor.
    pub successor: TokenHash,
    /// The successor itself, kept for the grace window only (`None` when there is none) so
    /// that a concurrent refresh with the same token gets the same successor; with its end.
    pub grace: Option<(String, i64)>,
    /// Now, in seconds since the Unix epoch.
    pub now: i64,
    /// When the successor expires (the store caps it at the session's `ends_at`).
    pub expires_at: i64,
    /// The user agent of the refresh, if known (recorded in the session).
    pub user_agent: Option<String>,
    /// The `until` of the [`Revocation::SessionEnded`] published if the presented token was
    /// already rotated (reuse).
    pub revoke_until: i64,
    /// The manager rotating ([`Session::manager`]): a session another manager started is
    /// [`Rotated::Invalid`], and nothing changes (two managers may share a store).
    pub manager: Option<String>,
}

impl std::fmt::Debug for Rotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rotation")
            .field("presented", &self.presented)
            .field("successor", &self.successor)
            .field(
                "grace",
                &self.grace.as_ref().map(|(_, until)| ("***", until)),
            )
            .field("now", &self.now)
            .field("expires_at", &self.expires_at)
            .field("user_agent", &self.user_agent)
            .field("revoke_until", &self.revoke_until)
            .field("manager", &self.manager)
            .finish()
    }
}

/// What [`SessionStore::rotate`] did. Its `Debug` never prints the successor token of
/// [`Rotated::Repeated`] (`"***"`).
#[derive(Clone, PartialEq)]
pub enum Rotated {
    /// The presented token was the session's current one: it is consumed and the successor
    /// installed.
    Rotated(Session),
    /// The presented token was rotated within the grace window and its successor is still
    /// unused: the same successor is handed out again; nothing changed.
    Repeated {
        /// The session.
        session: Session,
        /// The successor installed by the first rotation.
        refresh_token: String,
    },
    /// The presented token was already rotated (outside the grace window): the whole session
    /// has been ended and [`Revocation::SessionEnded`] published (RFC 9700 §4.14.2).
    Reused {
        /// The session ended.
        sid: String,
    },
    /// Unknown, expired, or of an ended session. Nothing changed.
    Invalid,
}

impl std::fmt::Debug for Rotated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rotated::Rotated(session) => f.debug_tuple("Rotated").field(session).finish(),
            Rotated::Repeated { session, .. } => f
                .debug_struct("Repeated")
                .field("session", session)
                .field("refresh_token", &"***")
                .finish(),
            Rotated::Reused { sid } => f.debug_struct("Reused").field("sid", sid).finish(),
            Rotated::Invalid => f.write_str("Invalid"),
        }
    }
}

/// Where sessions, refresh tokens and revocations live.
///
/// Held as `Arc<dyn SessionStore>` by the manager; every method but [`subscribe`](Self::subscribe)
/// is async. Times are seconds since the Unix epoch, from the manager's clock. See the module
/// documentation for the two rules (atomic rotation, complete change stream).
pub trait SessionStore: Send + Sync + 'static {
    /// The subject's logout generation: a number that [`end_subject`](Self::end_subject)
    /// changes (0 when the subject never logged out everywhere, or its last logout is older
    /// than that revocation's `until`). The manager reads it before minting a login's tokens
    /// and hands it to [`create`](Self::create).
    fn logout_generation(&self, subject: &str) -> StoreFuture<'_, u64>;

    /// Stores a new session whose current refresh token is `new.refresh`, then ends the
    /// subject's oldest other live sessions past `new.max_sessions` (each removed with its
    /// refresh tokens and [`Revocation::SessionEnded`] published).
    ///
    /// Unless the subject's logout generation is no longer `new.logout_generation`: the
    /// subject logged out everywhere after the login minted its tokens, in the same second
    /// or not, so the logout ends that session too. The store then keeps nothing of it,
    /// publishes [`Revocation::SessionEnded`] for its id (its access token is refused from the
    /// next request on) and answers `Ok` (the refresh token is unknown). The generation is
    /// compared within the same atomic step as the write.
    fn create(&self, new: NewSession) -> StoreFuture<'_, ()>;

    /// Rotates a refresh token atomically (see [`Rotated`] for the outcomes).
    fn rotate(&self, rotation: Rotation) -> StoreFuture<'_, Rotated>;

    /// The live session a refresh token (current, or already rotated) belongs to.
    fn find(&self, refresh: TokenHash, now: i64) -> StoreFuture<'_, Option<Session>>;

    /// Ends one session: its refresh tokens stop working and [`Revocation::SessionEnded`]
    /// (with `until`) is published. Returns whether it was live.
    fn end_session(&self, sid: &str, now: i64, until: i64) -> StoreFuture<'_, bool>;

    /// Ends every session of `subject` and publishes [`Revocation::SubjectLoggedOut`] (with
    /// `before = now`) and a [`Revocation::SessionEnded`] for each. Returns how many sessions
    /// were live.
    fn end_subject(&self, subject: &str, now: i64, until: i64) -> StoreFuture<'_, usize>;

    /// Publishes [`Revocation::AccessTokenRevoked`].
    fn revoke_access_token(&self, jti: &str, until: i64) -> StoreFuture<'_, ()>;

    /// The live sessions of `subject`, oldest first.
    fn sessions(&self, subject: &str, now: i64) -> StoreFuture<'_, Vec<Session>>;

    /// The revocations in force at `now`.
    fn snapshot(&self, now: i64) -> StoreFuture<'_, Vec<Revocation>>;

    /// Registers `sink`: the store calls [`RevocationSink::replace`] with the revocations in
    /// force, then [`RevocationSink::apply`] with every new one — for a store shared by
    /// several processes, those published by any of them — and `replace` again after any
    /// gap in its change stream. A store in this process applies a revocation to its sinks
    /// before the method that made it returns, so "log out this device" holds from the next
    /// request on.
    fn subscribe(&self, sink: Arc<dyn RevocationSink>);

    /// Records a re-authentication of the live session `sid` of `subject` (the user gave
    /// the password, and the second factor, again): the session's `amr` and `auth_time`
    /// become these (in its extra claims), so that its later refreshes carry them. `false`
    /// when the session is not live (ended, expired, unknown).
    ///
    /// The default answers a store error, which a re-authentication answers 503: a store
    /// written before this method cannot renew a session's authentication.
    fn reauthenticate(
        &self,
        subject: &str,
        sid: &str,
        amr: Vec<String>,
        auth_time: i64,
        now: i64,
    ) -> StoreFuture<'_, bool> {
        let _ = (subject, sid, amr, auth_time, now);
        Box::pin(std::future::ready(Err(StoreError::new(
            "this session store cannot record a re-authentication",
        ))))
    }

    /// Where the login throttle keeps its failure counters in this store's backend, so that
    /// every instance sharing the store shares the counts ([`MemoryStore`](super::MemoryStore)
    /// and `RedisStore` have one). The default, `None`, makes the manager keep them in its
    /// own memory.
    fn throttle_store(&self) -> Option<Arc<dyn ThrottleStore>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            id: "s1".into(),
            subject: "alice".into(),
            scopes: vec![],
            extra: Default::default(),
            created_at: 0,
            refreshed_at: None,
            expires_at: 100,
            ends_at: None,
            user_agent: None,
            manager: None,
        }
    }

    /// The successor refresh token a rotation carries for its grace window, and the one a
    /// repeated refresh hands out again, are secrets: `Debug` (what `tracing::debug!(?x)`
    /// prints) shows neither.
    #[test]
    fn debug_of_a_rotation_and_of_a_repeated_refresh_hides_the_successor_token() {
        let secret = "lrt_the-plaintext-successor-refresh-token-000000";
        let rotation = Rotation {
            presented: TokenHash::of("lrt_a"),
            successor: TokenHash::of(secret),
            grace: Some((secret.to_owned(), 10)),
            now: 0,
            expires_at: 100,
            user_agent: None,
            revoke_until: 900,
            manager: None,
        };
        let printed = format!("{rotation:?} {rotation:#?}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(printed.contains("grace"), "{printed}");
        let repeated = Rotated::Repeated {
            session: session(),
            refresh_token: secret.to_owned(),
        };
        let printed = format!("{repeated:?} {repeated:#?}");
        assert!(!printed.contains(secret), "{printed}");
        assert!(printed.contains("alice"), "{printed}");
    }
}
