//! MIGRATING.md's blocking loader: a `#[user_loader]` that calls a blocking database driver
//! through `spawn_blocking` leaves the executor free, on a single-threaded runtime.
//!
//! The "driver" blocks its thread until another task of the same runtime opens a gate, which
//! that task can only do while the executor keeps running. A loader that called the driver on
//! the executor thread would hold it, the gate would never open, and the driver would give up
//! (the control route below shows exactly that). No timing is asserted: the outcome depends on
//! whether the executor is free, not on how fast anything runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::request::Parts;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use login::{AuthUser, LoginManager, loader::UserLoader, protected, testing, user_loader};
use login_test_support::{SECRET, send};

/// A stand-in for a blocking database driver (a synchronous client, a C library…).
#[derive(Clone, Default)]
struct BlockingDb {
    gate: Arc<(Mutex<bool>, Condvar)>,
    entered: Arc<AtomicBool>,
}

impl BlockingDb {
    /// Blocks the calling thread until the gate opens; gives up (an error) after a while.
    fn find_user(&self, email: &str) -> Result<Option<User>, &'static str> {
        self.entered.store(true, Ordering::SeqCst);
        let (open, wake) = &*self.gate;
        let guard = open.lock().unwrap();
        let (guard, _) = wake
            .wait_timeout_while(guard, Duration::from_secs(2), |open| !*open)
            .unwrap();
        if !*guard {
            return Err("the driver timed out: the executor was blocked");
        }
        Ok(Some(User(email.to_owned())))
    }

    /// What another task of the runtime does: wait for the driver call, then open the gate.
    async fn open_when_called(&self) {
        for _ in 0..5_000 {
            if self.entered.load(Ordering::SeqCst) {
                let (open, wake) = &*self.gate;
                *open.lock().unwrap() = true;
                wake.notify_all();
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[derive(Clone)]
struct AppState {
    manager: LoginManager,
    db: BlockingDb,
}

impl FromRef<AppState> for LoginManager {
    fn from_ref(state: &AppState) -> Self {
        state.manager.clone()
    }
}

impl FromRef<AppState> for BlockingDb {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

#[derive(Clone, Debug, PartialEq)]
struct User(String);

/// The loader of MIGRATING.md: the blocking call runs on tokio's blocking pool.
#[user_loader]
async fn load_user(
    email: String,
    State(db): State<BlockingDb>,
) -> Result<Option<User>, StatusCode> {
    tokio::task::spawn_blocking(move || db.find_user(&email))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)
}

#[protected]
async fn me(user: User) -> String {
    user.0
}

/// The control: a loader that calls the driver on the executor thread.
#[derive(Clone)]
struct BlockingUser;

impl login::loader::HasUserLoader for BlockingUser {
    type Manager = LoginManager;
}

impl UserLoader<AppState> for BlockingUser {
    async fn load_user(
        subject: String,
        _: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Response> {
        match state.db.find_user(&subject) {
            Ok(user) => Ok(user.map(|_| BlockingUser)),
            Err(_) => Err(StatusCode::SERVICE_UNAVAILABLE.into_response()),
        }
    }
}

async fn me_blocking(AuthUser(_): AuthUser<BlockingUser>) -> &'static str {
    "unreachable unless the executor stayed free"
}

fn app() -> (Router, AppState) {
    let state = AppState {
        manager: LoginManager::new(SECRET, "/login").unwrap(),
        db: BlockingDb::default(),
    };
    let router = Router::new()
        .route("/me", get(me))
        .route("/me-blocking", get(me_blocking))
        .with_state(state.clone());
    (router, state)
}

async fn call(path: &str) -> (StatusCode, String) {
    let (router, state) = app();
    let header = testing::bearer(&state.manager, "ann@example.com", &[]).unwrap();
    let request = Request::get(path)
        .header("authorization", header)
        .body(Body::empty())
        .unwrap();
    let (reply, ()) = tokio::join!(send(&router, request), state.db.open_when_called());
    (reply.status, reply.text())
}

#[tokio::test(flavor = "current_thread")]
async fn a_loader_on_spawn_blocking_leaves_the_executor_free() {
    assert_eq!(
        call("/me").await,
        (StatusCode::OK, "ann@example.com".into())
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_control_a_blocking_call_on_the_executor_stalls_it() {
    // The same driver called on the executor thread: the gate-opening task never runs while
    // the driver waits, so the driver gives up and the loader reports a store error.
    let (status, _) = call("/me-blocking").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
