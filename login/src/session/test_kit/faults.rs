//! The fault cases: a shared store's server killed and restarted, its change stream dropped,
//! the server too slow to answer. Each drives two instances of the store, each with a
//! [`RevocationView`] subscribed (as the manager subscribes its own), and checks what the
//! manager relies on: a store that cannot be reached fails closed (every call an error within
//! the store's timeouts, never a hang, and a view that goes stale, which the manager answers
//! 503; never a revocation forgotten), and service resumes by itself.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{FaultCase, FaultyBackend, now, session, token, unique};
use crate::claims::Claims;
use crate::session::store::{NewSession, Rotated, Rotation, SessionStore, StoreError};
use crate::session::view::{Refused, RevocationView};
use crate::session::{Session, TokenHash};

pub(super) const CASES: &[FaultCase] = &[
    FaultCase {
        name: "a_killed_server_fails_closed_and_service_resumes_after_restart",
        run: |backend| Box::pin(killed_and_restarted(backend)),
    },
    FaultCase {
        name: "a_dropped_change_stream_reconnects_and_resyncs",
        run: |backend| Box::pin(dropped_stream(backend)),
    },
    FaultCase {
        name: "a_slow_server_fails_within_the_timeout_and_nothing_hangs",
        run: |backend| Box::pin(slow_server(backend)),
    },
];

/// What a store call may take, at most, when the server is down or stopped: the store's
/// command timeout is meant to be well under it (see [`FaultyBackend::store`]).
const ANSWER_BOUND: Duration = Duration::from_secs(10);

/// How long a case waits for what happens by itself (the view going stale, service
/// resuming, a revocation arriving): 30 seconds, polled every 10 ms.
const RECOVERY_BOUND: Duration = Duration::from_secs(30);

/// One instance of the store and the view it feeds.
struct Instance {
    store: Arc<dyn SessionStore>,
    view: Arc<RevocationView>,
}

impl Instance {
    async fn on(backend: &dyn FaultyBackend) -> Instance {
        let store = backend.store().await;
        let view = Arc::new(RevocationView::new());
        store.subscribe(view.clone());
        Instance { store, view }
    }

    /// What the view answers for an access token of `session`, issued when it started.
    fn verdict(&self, session: &Session) -> Result<(), Refused> {
        let t = now();
        let claims = Claims {
            sub: session.subject.clone(),
            exp: t + 900,
            iat: Some(session.created_at),
            nbf: None,
            jti: Some(unique("jti")),
            iss: None,
            sid: Some(session.id.clone()),
            aud: Vec::new(),
            scopes: Vec::new(),
            amr: Vec::new(),
            auth_time: None,
            extra: Default::default(),
        };
        self.view.check(&claims, t)
    }

    /// Whether the view refuses the session's tokens as ended (not merely stale).
    fn refuses(&self, session: &Session) -> bool {
        matches!(
            self.verdict(session),
            Err(Refused::Session | Refused::Subject)
        )
    }

    /// Starts `session` (reading the logout generation first, as a login does).
    async fn create(&self, session: &Session) -> Result<TokenHash, StoreError> {
        let (_, hash) = token();
        let generation = self.store.logout_generation(&session.subject).await?;
        self.store
            .create(NewSession {
                session: session.clone(),
                refresh: hash,
                logout_generation: generation,
                max_sessions: 100,
                revoke_until: session.created_at + 900,
            })
            .await?;
        Ok(hash)
    }

    async fn rotate(&self, presented: TokenHash) -> Result<Rotated, StoreError> {
        let t = now();
        self.store
            .rotate(Rotation {
                presented,
                successor: token().1,
                grace: None,
                now: t,
                expires_at: t + 3600,
                user_agent: None,
                revoke_until: t + 900,
                manager: None,
            })
            .await
    }
}

/// Waits until `done` holds, at most [`RECOVERY_BOUND`]; panics naming `what` otherwise.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + RECOVERY_BOUND;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never happened within {RECOVERY_BOUND:?}: {what}");
}

/// Runs `call`, which must answer (with anything) within [`ANSWER_BOUND`].
async fn bounded<T>(what: &str, call: impl Future<Output = T>) -> T {
    match tokio::time::timeout(ANSWER_BOUND, call).await {
        Ok(answer) => answer,
        Err(_) => panic!(
            "{what} did not answer within {ANSWER_BOUND:?}: the store must give up by its \
             command timeout"
        ),
    }
}

/// The server killed: every call fails with a store error within the bound (no session
/// created, none rotated, none ended); each view goes stale (the manager answers 503, for live
/// and ended sessions alike). Restarted: both views are fresh again without a new instance, a
/// session ended before the kill stays refused (by them and by an instance started after the
/// restart, whether or not the server kept its data), and, on a durable backend, the sessions
/// survived: their refresh tokens still rotate, and a later "log out everywhere" reaches the
/// other instance.
async fn killed_and_restarted(backend: &mut dyn FaultyBackend) {
    let a = Instance::on(backend).await;
    let b = Instance::on(backend).await;
    let subject = unique("fault-kill");
    let kept = session(&subject, now());
    let kept_hash = a.create(&kept).await.expect("create");
    let ended = session(&subject, now());
    a.create(&ended).await.expect("create");
    a.store
        .end_session(&ended.id, now(), now() + 900)
        .await
        .expect("end_session");
    assert!(
        a.refuses(&ended),
        "the instance that ended the session applies it before the call returns"
    );
    eventually("the end reaches the other instance", || b.refuses(&ended)).await;

    backend.kill();
    let rotated = bounded("a rotation", a.rotate(kept_hash)).await;
    assert!(
        rotated.is_err(),
        "a rotation with the server down is a store error (503), no token: {rotated:?}"
    );
    let fresh = session(&subject, now());
    let created = bounded("a login", a.create(&fresh)).await;
    assert!(
        created.is_err(),
        "a login with the server down is a store error, no session: {created:?}"
    );
    let logout = bounded(
        "log out everywhere",
        b.store.end_subject(&subject, now(), now() + 900),
    )
    .await;
    assert!(
        logout.is_err(),
        "log out everywhere with the server down is a store error: {logout:?}"
    );
    eventually("the first instance's view goes stale", || {
        !a.view.is_fresh()
    })
    .await;
    for s in [&kept, &ended] {
        assert_eq!(
            a.verdict(s),
            Err(Refused::Stale),
            "a stale view refuses everything as stale (503), never as valid or revoked"
        );
    }

    backend.restart();
    eventually("the first instance's view is fresh again", || {
        a.view.is_fresh()
    })
    .await;
    eventually("the second instance's view is fresh again", || {
        b.view.is_fresh()
    })
    .await;
    assert!(a.refuses(&ended), "after the restart, the first instance");
    assert!(b.refuses(&ended), "after the restart, the second instance");
    let c = Instance::on(backend).await;
    eventually(
        "an instance started after the restart refuses the ended session",
        || c.refuses(&ended),
    )
    .await;
    assert_eq!(a.verdict(&kept), Ok(()), "the kept session is served again");
    let rotated = bounded("a rotation after the restart", a.rotate(kept_hash)).await;
    if backend.durable() {
        assert!(
            matches!(rotated, Ok(Rotated::Rotated(_))),
            "the session survived the restart (the backend is durable): {rotated:?}"
        );
        b.store
            .end_subject(&subject, now() + 1, now() + 900)
            .await
            .expect("log out everywhere");
        eventually(
            "log out everywhere after the restart reaches the first instance",
            || a.refuses(&kept),
        )
        .await;
    } else {
        assert!(
            matches!(rotated, Ok(Rotated::Invalid)),
            "the session was lost with the data: its refresh token is unknown: {rotated:?}"
        );
    }
    let later = session(&unique("fault-kill"), now());
    bounded("a login after the restart", a.create(&later))
        .await
        .expect("a new login works after the restart");
}

/// Every instance's change-stream connection dropped by the server, which stays up: a
/// session ended at once on the other instance reaches the first (by the stream once it
/// reconnects, or by the reload that follows a reconnect), and the stream carries what comes
/// next.
async fn dropped_stream(backend: &mut dyn FaultyBackend) {
    let a = Instance::on(backend).await;
    let b = Instance::on(backend).await;
    let first = session(&unique("fault-stream"), now());
    let hash = a.create(&first).await.expect("create");
    let second = session(&unique("fault-stream"), now());
    a.create(&second).await.expect("create");
    backend.drop_streams();
    b.store
        .end_session(&first.id, now(), now() + 900)
        .await
        .expect("end_session");
    eventually(
        "the end reaches the first instance after its stream was dropped",
        || a.refuses(&first),
    )
    .await;
    assert!(
        matches!(a.rotate(hash).await, Ok(Rotated::Invalid)),
        "the ended session's refresh token is dead"
    );
    b.store
        .end_subject(&second.subject, now() + 1, now() + 900)
        .await
        .expect("log out everywhere");
    eventually("a later revocation reaches the first instance", || {
        a.refuses(&second)
    })
    .await;
}

/// The server stopped (it keeps its connections and answers nothing): calls give up within
/// the bound, the view goes stale; the server resumed, the view is fresh again by itself and
/// sessions start and rotate.
///
/// A call that gave up may still be carried out by the server once it resumes (it was in
/// its socket), so the case does not present that refresh token again.
async fn slow_server(backend: &mut dyn FaultyBackend) {
    let a = Instance::on(backend).await;
    let live = session(&unique("fault-slow"), now());
    let hash = a.create(&live).await.expect("create");
    backend.pause();
    let rotated = bounded("a rotation", a.rotate(hash)).await;
    assert!(
        rotated.is_err() || matches!(rotated, Ok(Rotated::Rotated(_))),
        "a rotation against a stopped server is a store error: {rotated:?}"
    );
    eventually("the view goes stale while the server is stopped", || {
        !a.view.is_fresh()
    })
    .await;
    assert_eq!(a.verdict(&live), Err(Refused::Stale));
    let created = bounded("a login", a.create(&session(&unique("fault-slow"), now()))).await;
    assert!(
        created.is_err(),
        "a login against a stopped server is a store error: {created:?}"
    );
    backend.resume();
    eventually("the view is fresh again", || a.view.is_fresh()).await;
    assert_eq!(a.verdict(&live), Ok(()));
    let later = session(&unique("fault-slow"), now());
    let hash = bounded("a login after the resume", a.create(&later))
        .await
        .expect("a login works again");
    let rotated = bounded("a rotation after the resume", a.rotate(hash)).await;
    assert!(
        matches!(rotated, Ok(Rotated::Rotated(_))),
        "a rotation works again: {rotated:?}"
    );
}
