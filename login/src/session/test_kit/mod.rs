//! A contract suite for [`SessionStore`] and [`ThrottleStore`] implementations (feature
//! `test-kit`): the behaviour the manager relies on, checked against a real backend.
//!
//! `login` runs it against [`MemoryStore`](super::MemoryStore), `RedisStore` (one server and a
//! cluster) and `PostgresStore`; the author of another store (a database, a key-value service)
//! runs it against theirs, from a test:
//!
//! ```no_run
//! use std::sync::Arc;
//! use login::session::MemoryStore;
//! use login::session::test_kit::{self, Instances};
//!
//! # async fn run() {
//! // Each case gets a fresh, empty backend and two instances of the store on it (two
//! // processes sharing it). A store that lives in one process passes itself twice.
//! test_kit::check_session_store(|| async {
//!     let store = MemoryStore::shared();
//!     Instances::new(store.clone(), store)
//! })
//! .await;
//! # }
//! ```
//!
//! **What it checks** ([`SESSION_CASES`], [`THROTTLE_CASES`]): creating and finding a
//! session; rotation (the outcome, the successor, the expiry capped at the session's end); the
//! grace window (a repeated refresh gets the same successor, and after the window it is
//! reuse); reuse ending the session and publishing its end; two rotations of one token at
//! once on the two instances (exactly one successor wins); ending one session and every
//! session of a subject, with the same-second rule (a login that read the logout generation
//! before "log out everywhere" is not stored, even within the same second); revoking an
//! access token; a re-authentication renewing a live session's `amr` and `auth_time` for its
//! refreshes (and only a live one of that subject); listing a subject's sessions oldest
//! first; the per-subject cap; the revocation stream (the instance that makes a revocation applies it to its own subscribers
//! before the call returns; a subscriber gets the revocations in force, then every new one made on
//! the *other* instance, and a snapshot holds them until their `until`); and the throttle's
//! counters (back-off, reset, refund, shared by the instances).
//!
//! **How it reports**: each case runs in its own task; a failing case panics with the case's
//! name and what was expected, so the test calling [`check_session_store`] fails. A case waits
//! for what a shared store delivers asynchronously (a revocation reaching the other instance)
//! in a loop bounded in count and time ([`DELIVERY_BOUND`]), never by a timed assertion.
//!
//! **What a fresh backend must be**: empty of sessions, revocations and counters (a key
//! prefix of its own, a database of its own), so that cases do not see each other's data.
//! Times given to the store are the wall clock's, so a store that expires data by real time
//! (Redis TTLs, SQL `now()`) agrees with the times in the calls.
//!
//! **The fault cases** ([`FAULT_CASES`], run by [`check_store_faults`]) are for a store shared
//! through a server: the server killed and restarted, the change stream (the connection that
//! carries revocations) dropped, the server stopped so that it answers nothing. Only the test
//! knows how its server is started and stopped, so it hands the kit a [`FaultyBackend`]: a
//! server of its own plus those few operations. `login` runs them on `RedisStore` and
//! `PostgresStore`; a store in one process has no server to lose and skips them.
//!
//! ```no_run
//! use std::sync::Arc;
//! use login::session::SessionStore;
//! use login::session::test_kit::{self, FaultyBackend, InstanceFuture};
//!
//! /// A test's own server (started on a free loopback port, stopped on drop).
//! struct MyServer { url: String /* and its process */ }
//! # // Your store's own constructor, with short timeouts.
//! # async fn connect_my_store(_url: &str) -> Arc<dyn SessionStore> {
//! #     login::session::MemoryStore::shared()
//! # }
//!
//! impl FaultyBackend for MyServer {
//!     fn store(&self) -> InstanceFuture<'_> {
//!         // Short timeouts, so that faults show within the cases' bounds.
//!         Box::pin(async move { connect_my_store(&self.url).await })
//!     }
//!     fn kill(&mut self) { /* SIGKILL, and wait for the process */ }
//!     fn restart(&mut self) { /* start it again on the same port */ }
//!     fn drop_streams(&mut self) { /* the server closes every change-stream connection */ }
//!     fn pause(&mut self) { /* SIGSTOP */ }
//!     fn resume(&mut self) { /* SIGCONT */ }
//!     fn durable(&self) -> bool { true }
//! }
//!
//! # async fn run() {
//! // A fresh server for each case.
//! test_kit::check_store_faults(|| async { MyServer { url: "redis://127.0.0.1:6390/".into() } }).await;
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::store::{Revocation, RevocationSink, SessionStore};
use super::throttle::ThrottleStore;
use super::{Session, TokenHash};

mod faults;
mod sessions;
mod throttle;

/// How long a case waits, at most, for what a shared store delivers asynchronously (a
/// revocation reaching the other instance's subscriber): 10 seconds, polled every 10 ms.
pub const DELIVERY_BOUND: Duration = Duration::from_secs(10);

/// Two instances of a store on one fresh backend: what two processes sharing it would hold.
/// A case writes through one and checks that the other sees it.
#[derive(Clone)]
pub struct Instances {
    /// The first instance.
    pub a: Arc<dyn SessionStore>,
    /// The second instance (the same store again, for a store in one process).
    pub b: Arc<dyn SessionStore>,
}

impl Instances {
    /// Two instances on one backend.
    pub fn new(a: Arc<dyn SessionStore>, b: Arc<dyn SessionStore>) -> Self {
        Instances { a, b }
    }
}

impl std::fmt::Debug for Instances {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instances").finish_non_exhaustive()
    }
}

/// The future a case returns.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One case of the session-store contract: its name and the check.
#[derive(Clone, Copy)]
pub struct SessionCase {
    /// What it checks, as a test name (`rotation_installs_the_successor`).
    pub name: &'static str,
    /// The check: panics, with what was expected, when the store breaks the contract.
    pub run: fn(Instances) -> CaseFuture,
}

impl std::fmt::Debug for SessionCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCase")
            .field("name", &self.name)
            .finish()
    }
}

/// One case of the throttle-store contract: its name and the check, given two instances of
/// the counters on one fresh backend.
#[derive(Clone, Copy)]
pub struct ThrottleCase {
    /// What it checks, as a test name.
    pub name: &'static str,
    /// The check: panics, with what was expected, when the store breaks the contract.
    pub run: fn(Arc<dyn ThrottleStore>, Arc<dyn ThrottleStore>) -> CaseFuture,
}

impl std::fmt::Debug for ThrottleCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThrottleCase")
            .field("name", &self.name)
            .finish()
    }
}

/// The future [`FaultyBackend::store`] returns: one more instance of the store, on this
/// backend.
pub type InstanceFuture<'a> = Pin<Box<dyn Future<Output = Arc<dyn SessionStore>> + Send + 'a>>;

/// A store's server that the fault cases can break and mend: what a test hands
/// [`check_store_faults`]. Each method acts at once and returns when it is done (a killed
/// server is gone, a restarted one accepts connections).
pub trait FaultyBackend: Send + Sync {
    /// One more instance of the store on this backend: what another process sharing the
    /// server would hold. Its timeouts must be short for the cases to see faults within their
    /// bounds: a command timeout and a staleness bound of a second or two at most (the cases
    /// wait 10 s for an answer and 30 s for recovery).
    fn store(&self) -> InstanceFuture<'_>;
    /// Kills the server (no goodbye to its clients: SIGKILL) and waits until it is gone.
    fn kill(&mut self);
    /// Starts the killed server again, on the same address; [`durable`](Self::durable) says
    /// whether its data is still there.
    fn restart(&mut self);
    /// Has the server close every instance's change-stream connection (Redis `CLIENT KILL
    /// TYPE pubsub`, PostgreSQL `pg_terminate_backend` on the listeners); the server stays up.
    fn drop_streams(&mut self);
    /// Stops the server answering while it keeps its connections (SIGSTOP): a server too slow
    /// to serve.
    fn pause(&mut self);
    /// Resumes a [`pause`](Self::pause)d server.
    fn resume(&mut self);
    /// Whether what the server held before [`kill`](Self::kill) is there after
    /// [`restart`](Self::restart) (PostgreSQL: yes; a Redis without persistence: no).
    fn durable(&self) -> bool;
}

/// The future a fault case returns.
pub type FaultCaseFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One fault case: its name and the check, given a fresh backend.
#[derive(Clone, Copy)]
pub struct FaultCase {
    /// What it checks, as a test name.
    pub name: &'static str,
    /// The check: panics, with what was expected, when the store breaks the contract.
    pub run: for<'a> fn(&'a mut dyn FaultyBackend) -> FaultCaseFuture<'a>,
}

impl std::fmt::Debug for FaultCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultCase")
            .field("name", &self.name)
            .finish()
    }
}

/// Every fault case.
pub const FAULT_CASES: &[FaultCase] = faults::CASES;

/// Runs every case of [`FAULT_CASES`], each on the backend `fresh` starts for it (a fresh
/// server each time, dropped after its case), one after the other. Panics naming the first
/// case that fails. Call it from a multi-threaded `#[tokio::test]` (the store's background
/// tasks run while a case waits).
pub async fn check_store_faults<B, F, Fut>(mut fresh: F)
where
    B: FaultyBackend + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = B>,
{
    for case in FAULT_CASES {
        let mut backend = fresh().await;
        let name = case.name;
        let run = case.run;
        let outcome = tokio::spawn(async move {
            run(&mut backend).await;
            backend
        });
        report(name, outcome.await.map(drop));
    }
}

/// Every case of the session-store contract.
pub const SESSION_CASES: &[SessionCase] = sessions::CASES;

/// Every case of the throttle-store contract.
pub const THROTTLE_CASES: &[ThrottleCase] = throttle::CASES;

/// Runs every case of [`SESSION_CASES`], each on the instances `fresh` makes for it (a fresh,
/// empty backend each time), one after the other. Panics naming the first case that fails.
/// Call it from a `#[tokio::test]` (any flavour).
pub async fn check_session_store<F, Fut>(mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Instances>,
{
    for case in SESSION_CASES {
        let instances = fresh().await;
        run_case(case.name, (case.run)(instances)).await;
    }
}

/// Runs every case of [`THROTTLE_CASES`], each on the two instances of the counters `fresh`
/// makes for it (a fresh, empty backend each time). Panics naming the first case that fails.
/// For a session store, the counters are its [`SessionStore::throttle_store`].
pub async fn check_throttle_store<F, Fut>(mut fresh: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Arc<dyn ThrottleStore>, Arc<dyn ThrottleStore>)>,
{
    for case in THROTTLE_CASES {
        let (a, b) = fresh().await;
        run_case(case.name, (case.run)(a, b)).await;
    }
}

async fn run_case(name: &str, case: CaseFuture) {
    report(name, tokio::spawn(case).await);
}

fn report(name: &str, outcome: Result<(), tokio::task::JoinError>) {
    match outcome {
        Ok(()) => {}
        Err(error) if error.is_panic() => {
            let payload = error.into_panic();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("store contract case `{name}` failed: {message}");
        }
        Err(error) => panic!("store contract case `{name}` did not finish: {error}"),
    }
}

/// What a [`Recorder`] was handed, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Apply(Revocation),
    Replace(Vec<Revocation>),
}

/// A [`RevocationSink`] that records what it is handed, for the stream cases.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether `revocation` is in force in what the sink was handed (the last replace and
    /// every apply after it).
    fn holds(&self, revocation: &Revocation) -> bool {
        let events = self.events();
        let start = events
            .iter()
            .rposition(|e| matches!(e, Event::Replace(_)))
            .unwrap_or(0);
        events[start..].iter().any(|event| match event {
            Event::Apply(r) => r == revocation,
            Event::Replace(all) => all.contains(revocation),
        })
    }

    /// Waits, at most [`DELIVERY_BOUND`], until the sink holds `revocation`.
    async fn wait_for(&self, revocation: &Revocation) {
        let polls = DELIVERY_BOUND.as_millis() / 10;
        for _ in 0..polls {
            if self.holds(revocation) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "the other instance's subscriber never received {revocation:?} within \
             {DELIVERY_BOUND:?} (it was handed {:?})",
            self.events()
        );
    }
}

impl RevocationSink for Recorder {
    fn apply(&self, revocation: &Revocation) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::Apply(revocation.clone()));
    }

    fn replace(&self, revocations: Vec<Revocation>) {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Event::Replace(revocations));
    }
}

/// Now, in seconds since the Unix epoch (the wall clock, as the manager's is).
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A random suffix, so that ids and tokens never collide across cases or runs.
fn unique(prefix: &str) -> String {
    let bytes: [u8; 12] = crate::secret::random_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// A session of `subject` created at `created_at`, its refresh token expiring an hour later.
fn session(subject: &str, created_at: i64) -> Session {
    Session {
        id: unique("sid"),
        subject: subject.to_owned(),
        scopes: vec!["read".to_owned()],
        extra: Default::default(),
        created_at,
        refreshed_at: None,
        expires_at: created_at + 3600,
        ends_at: None,
        user_agent: Some("test-kit".to_owned()),
        manager: None,
    }
}

/// A new refresh token and its hash.
fn token() -> (String, TokenHash) {
    let token = unique("lrt");
    let hash = TokenHash::of(&token);
    (token, hash)
}
