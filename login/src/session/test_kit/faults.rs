//! The fault cases: a shared store's server killed and restarted, its change stream dropped,
//! the server too slow to answer. Each runs through a [`LoginManager`] on instances of the
//! store, and checks what the manager promises: a store that cannot be reached fails closed
//! (a store error, which the routes answer 503; a stale revocation view, which protected
//! routes answer 503; never a 401, never anonymous, never a token minted), nothing waits
//! longer than the store's timeouts, and service resumes by itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{FaultCase, FaultyBackend};
use crate::LoginManager;
use crate::rejection::VerifyError;
use crate::session::{RefreshError, SessionError, SessionTokens};

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

/// A manager on one instance of the store: a random secret (the instances' managers share
/// it, as the instances of one app do), no refresh grace, hour-long refresh tokens.
fn manager(store: Arc<dyn super::SessionStore>, secret: &[u8]) -> LoginManager {
    LoginManager::builder("/login")
        .secret(secret)
        .session_store(store)
        .refresh_grace(Duration::ZERO)
        .refresh_lifetime(Duration::from_secs(3600))
        .build()
        .expect("a manager on the store under test")
}

fn secret() -> Vec<u8> {
    let bytes: [u8; 32] = crate::secret::random_bytes();
    bytes.to_vec()
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
async fn bounded<T>(what: &str, call: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(ANSWER_BOUND, call).await {
        Ok(answer) => answer,
        Err(_) => panic!(
            "{what} did not answer within {ANSWER_BOUND:?}: the store must give up by its \
             command timeout"
        ),
    }
}

fn assert_refused(manager: &LoginManager, tokens: &SessionTokens, who: &str) {
    assert_eq!(
        manager.verify_token(&tokens.access_token).map(|_| ()),
        Err(VerifyError::Revoked),
        "{who} refuses the access token of an ended session"
    );
}

/// The server killed: every call that needs it fails with a store error within the bound and
/// mints nothing; the view goes stale and protected requests meet `RevocationsStale` (503),
/// for live and ended sessions alike. Restarted: both instances serve again without being
/// restarted themselves, a session ended before the kill stays refused (by them and by an
/// instance started after the restart, whether or not the server kept its data), and, on a
/// durable backend, the sessions survived: their refresh tokens still rotate.
async fn killed_and_restarted(backend: &mut dyn FaultyBackend) {
    let secret = secret();
    let a = manager(backend.store().await, &secret);
    let b = manager(backend.store().await, &secret);
    let kept = a.start_session("fault-kill", None).await.expect("login");
    let ended = a.start_session("fault-kill", None).await.expect("login");
    a.end_session(&ended.session_id).await.expect("logout");
    assert_refused(&a, &ended, "the instance that ended the session");
    eventually("the logout reaches the other instance", || {
        b.verify_token(&ended.access_token) == Err(VerifyError::Revoked)
    })
    .await;

    backend.kill();
    let refresh = bounded("a refresh", a.refresh(&kept.refresh_token, None)).await;
    assert!(
        matches!(refresh, Err(RefreshError::Store(_))),
        "a refresh with the server down is a store error: {refresh:?}"
    );
    let login = bounded("a login", a.start_session("fault-kill", None)).await;
    assert!(
        matches!(login, Err(SessionError::Store(_))),
        "a login with the server down is a store error, no token: {login:?}"
    );
    let logout = bounded("log out everywhere", b.end_all_sessions("fault-kill")).await;
    assert!(
        matches!(logout, Err(SessionError::Store(_))),
        "log out everywhere with the server down is a store error: {logout:?}"
    );
    eventually("the first instance's view goes stale", || {
        !a.revocations_fresh()
    })
    .await;
    for tokens in [&kept, &ended] {
        assert_eq!(
            a.verify_token(&tokens.access_token).map(|_| ()),
            Err(VerifyError::RevocationsStale),
            "a stale view answers 503, never 401 or anonymous"
        );
    }

    backend.restart();
    eventually("the first instance serves again", || {
        a.verify_token(&kept.access_token).is_ok()
    })
    .await;
    eventually("the second instance serves again", || {
        b.verify_token(&kept.access_token).is_ok()
    })
    .await;
    assert_refused(&a, &ended, "after the restart, the first instance");
    assert_refused(&b, &ended, "after the restart, the second instance");
    let c = manager(backend.store().await, &secret);
    eventually("an instance started after the restart serves", || {
        c.revocations_fresh()
    })
    .await;
    assert_refused(&c, &ended, "an instance started after the restart");
    let refresh = bounded(
        "a refresh after the restart",
        a.refresh(&kept.refresh_token, None),
    )
    .await;
    if backend.durable() {
        let renewed = refresh.expect("the session survived the restart (the backend is durable)");
        b.end_all_sessions("fault-kill")
            .await
            .expect("log out everywhere");
        eventually("log out everywhere reaches the first instance", || {
            a.verify_token(&renewed.access_token) == Err(VerifyError::Revoked)
        })
        .await;
    } else {
        assert!(
            matches!(refresh, Err(RefreshError::InvalidGrant)),
            "the session was lost with the data: its refresh token is unknown: {refresh:?}"
        );
    }
    bounded(
        "a login after the restart",
        a.start_session("fault-kill", None),
    )
    .await
    .expect("a new login works after the restart");
}

/// Every instance's change-stream connection dropped by the server, which stays up: a
/// revocation made at once on the other instance reaches the first (by the stream once it
/// reconnects, or by the reload that follows a reconnect), and the ended session's refresh
/// token is dead.
async fn dropped_stream(backend: &mut dyn FaultyBackend) {
    let secret = secret();
    let a = manager(backend.store().await, &secret);
    let b = manager(backend.store().await, &secret);
    let tokens = a.start_session("fault-stream", None).await.expect("login");
    let other = a
        .start_session("fault-stream-2", None)
        .await
        .expect("login");
    backend.drop_streams();
    b.end_session(&tokens.session_id).await.expect("logout");
    eventually(
        "the logout reaches the first instance after its stream was dropped",
        || a.verify_token(&tokens.access_token) == Err(VerifyError::Revoked),
    )
    .await;
    let refresh = bounded("a refresh", a.refresh(&tokens.refresh_token, None)).await;
    assert!(
        matches!(refresh, Err(RefreshError::InvalidGrant)),
        "the ended session's refresh token is dead: {refresh:?}"
    );
    // And the stream works again for what comes next.
    b.end_all_sessions("fault-stream-2")
        .await
        .expect("log out everywhere");
    eventually("a later revocation reaches the first instance", || {
        a.verify_token(&other.access_token) == Err(VerifyError::Revoked)
    })
    .await;
}

/// The server stopped (it keeps its connections and answers nothing): calls give up within
/// the bound, the view goes stale, protected requests answer 503; the server resumed,
/// service resumes by itself and sessions start and rotate again.
///
/// A call that gave up may still be carried out by the server once it resumes (it was in
/// its socket), so the case does not present that refresh token again.
async fn slow_server(backend: &mut dyn FaultyBackend) {
    let secret = secret();
    let a = manager(backend.store().await, &secret);
    let tokens = a.start_session("fault-slow", None).await.expect("login");
    backend.pause();
    let refresh = bounded("a refresh", a.refresh(&tokens.refresh_token, None)).await;
    assert!(
        matches!(refresh, Err(RefreshError::Store(_)) | Ok(_)),
        "a refresh against a stopped server is a store error: {refresh:?}"
    );
    eventually("the view goes stale while the server is stopped", || {
        a.verify_token(&tokens.access_token) == Err(VerifyError::RevocationsStale)
    })
    .await;
    let login = bounded("a login", a.start_session("fault-slow", None)).await;
    assert!(
        matches!(login, Err(SessionError::Store(_))),
        "a login against a stopped server is a store error, no token: {login:?}"
    );
    backend.resume();
    eventually("service resumes", || {
        a.verify_token(&tokens.access_token).is_ok()
    })
    .await;
    let fresh = bounded(
        "a login after the resume",
        a.start_session("fault-slow", None),
    )
    .await
    .expect("a login works again");
    bounded(
        "a refresh after the resume",
        a.refresh(&fresh.refresh_token, None),
    )
    .await
    .expect("a refresh works again");
}
