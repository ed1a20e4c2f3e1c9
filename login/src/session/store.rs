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

/// One rotation: consume `presented`, install `successor`.
#[derive(Debug, Clone)]
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

/// What [`SessionStore::rotate`] did.
#[derive(Debug, Clone, PartialEq)]
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

/// Where sessions, refresh tokens and revocations live.
///
/// Held as `Arc<dyn SessionStore>` by the manager; every method but [`subscribe`](Self::subscribe)
/// is async. Times are seconds since the Unix epoch, from the manager's clock. See the module
/// documentation for the two rules (atomic rotation, complete change stream).
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session whose current refresh token is `refresh`.
    ///
    /// Unless its subject logged out everywhere ([`end_subject`](Self::end_subject)) *after*
    /// `session.created_at`: a login that raced the logout minted its tokens before it, so the
    /// logout ends that session too — the store must not keep it (and answers `Ok`: the access
    /// token is refused by the revocation already, and the refresh token is unknown). Compare
    /// within the same atomic step as the write.
    fn create(&self, session: Session, refresh: TokenHash) -> StoreFuture<'_, ()>;

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

    /// Where the login throttle keeps its failure counters in this store's backend, so that
    /// every instance sharing the store shares the counts ([`MemoryStore`](super::MemoryStore)
    /// and `RedisStore` have one). The default, `None`, makes the manager keep them in its
    /// own memory.
    fn throttle_store(&self) -> Option<Arc<dyn ThrottleStore>> {
        None
    }
}
