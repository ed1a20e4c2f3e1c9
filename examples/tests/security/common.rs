//! The harness of the security suite: the `simple` example's own router (`app_with_passwords`)
//! around a fresh, instrumented store, a manager with the example's settings and a frozen
//! clock and a `tracing` capture at TRACE level; and [`Case`], one adversarial request with
//! everything it must (and must not) cause.
//!
//! How "the loader was not called" and "the handler did not run" are observed:
//! - the example's [`Db`] counts its lookups, and the example's `#[user_loader]` is the only
//!   caller on protected routes, so `db.lookups()` is the number of loader calls;
//! - each protected handler of the example is `#[tracing::instrument]`ed, so its span appears
//!   in the capture exactly when its body runs (the span is created after the extractor).
//!
//! The helpers shared with `login-tests` (the collected [`Reply`] and its exact assertions,
//! [`Expect`], token forging, the log capture, [`SECRET`] and [`NOW`]) are in
//! `login-test-support`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use login::password::{Argon2id, Passwords};
use login::{LoginManager, TokenRequest};
use login_examples::simple::{Db, app_with_passwords, settings};
use login_test_support::logs::{self, Logs};
use login_test_support::{CountingScheme, Expect, NOW, Reply, SECRET, needles, request, send};
use serde_json::{Value, json};

/// The demo users (as `Db::demo()` makes them).
pub const JOHN: &str = "johndoe@mail.com";
pub const JANE: &str = "janedoe@mail.com";
pub const JOHN_PW: &str = "hunter2";
pub const JANE_PW: &str = "jane-secret-pw";
/// A well-formed subject the store does not know.
pub const GHOST: &str = "ghost@mail.com";

/// The names of the example's protected handlers (their `tracing` spans).
const HANDLERS: [&str; 3] = ["protected_route", "optional_route", "scoped_route"];

/// The demo users' hashes, made once per test binary (Argon2 is slow); every harness gets a
/// fresh store (fresh counters) with the same users.
fn demo_hashes() -> &'static (String, String) {
    static HASHES: LazyLock<(String, String)> = LazyLock::new(|| {
        (
            login::password::Passwords::default()
                .hash_blocking(JOHN_PW)
                .unwrap(),
            login::password::Passwords::default()
                .hash_blocking(JANE_PW)
                .unwrap(),
        )
    });
    &HASHES
}

/// A store with the demo users, and a fresh lookup counter.
pub fn demo_db() -> Db {
    let (john, jane) = demo_hashes();
    let db = Db::default();
    db.add_user(JOHN, "John Doe", john.clone(), &["read", "write"]);
    db.add_user(JANE, "Jane Doe", jane.clone(), &["read"]);
    db
}

pub fn john_json() -> Value {
    json!({ "email": JOHN, "name": "John Doe" })
}

pub fn jane_json() -> Value {
    json!({ "email": JANE, "name": "Jane Doe" })
}

/// The user a subject names in the example's JSON.
pub fn user_json(email: &str) -> Value {
    match email {
        JOHN => john_json(),
        JANE => jane_json(),
        other => panic!("no demo user {other}"),
    }
}

/// Argon2id counting its work: full verifications (with the stored hash each was against),
/// hashes, and `m × t` of the hashes it ran against.
pub type Counter = CountingScheme<Argon2id>;

/// One instance of the example app under test.
pub struct Harness {
    pub router: Router,
    pub manager: LoginManager,
    pub db: Db,
    pub logs: Logs,
    pub counter: Counter,
    clock: Arc<AtomicI64>,
    _guard: Option<tracing::subscriber::DefaultGuard>,
}

impl Harness {
    /// The example's router with a fresh store, a counting password scheme, the clock frozen at
    /// [`NOW`], and every `tracing` event of this thread captured.
    pub fn new() -> Self {
        Self::build(demo_db(), true)
    }

    /// The same around a given store.
    pub fn with_db(db: Db) -> Self {
        Self::build(db, true)
    }

    /// Without the log capture (for multi-threaded tests).
    pub fn uncaptured() -> Self {
        Self::build(demo_db(), false)
    }

    fn build(db: Db, capture: bool) -> Self {
        let clock = Arc::new(AtomicI64::new(NOW));
        let c = clock.clone();
        let manager = settings(LoginManager::builder("/login").secret(SECRET))
            .clock(move || c.load(Ordering::SeqCst))
            .build()
            .expect("the example's settings build");
        let counter = Counter::new(Argon2id::default());
        let passwords = Passwords::new(counter.clone()).unwrap();
        // The dummy hash made at construction is not counted.
        counter.reset();
        let router = app_with_passwords(manager.clone(), db.clone(), passwords);
        let (guard, logs) = if capture {
            let (guard, logs) = logs::capture();
            (Some(guard), logs)
        } else {
            (None, Logs::default())
        };
        Harness {
            router,
            manager,
            db,
            logs,
            counter,
            clock,
            _guard: guard,
        }
    }

    pub fn set_now(&self, now: i64) {
        self.clock.store(now, Ordering::SeqCst);
    }

    /// A token minted by the example's manager.
    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.manager
            .create_access_token(TokenRequest::new(subject).scopes(scopes.iter().copied()))
            .unwrap()
    }

    /// John's token, as `/login` issues it (`read write`).
    pub fn john(&self) -> String {
        self.token(JOHN, &["read", "write"])
    }

    /// Jane's token, as `/login` issues it (`read`).
    pub fn jane(&self) -> String {
        self.token(JANE, &["read"])
    }

    /// How many times the user loader (the store) ran.
    pub fn loads(&self) -> usize {
        self.db.lookups()
    }

    /// How many times a protected handler's body ran.
    pub fn handler_runs(&self) -> usize {
        self.logs.spans(&HANDLERS)
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    /// `method path` with raw header values (repeated names are appended).
    pub async fn request(&self, method: Method, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        self.send(request(method, path, headers, Body::empty()))
            .await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        self.request(Method::GET, path, headers).await
    }

    pub async fn bearer(&self, path: &str, token: &str) -> Reply {
        let value = format!("Bearer {token}");
        self.get(path, &[("authorization", value.as_bytes())]).await
    }

    /// `POST path` with a form body.
    pub async fn form(&self, path: &str, body: &str, headers: &[(&str, &[u8])]) -> Reply {
        let mut all: Vec<(&str, &[u8])> =
            vec![("content-type", b"application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        self.send(request(
            Method::POST,
            path,
            &all,
            Body::from(body.to_owned()),
        ))
        .await
    }

    /// Neither the loader nor a handler ran.
    #[track_caller]
    pub fn assert_untouched(&self, case: &str) {
        assert_eq!(self.loads(), 0, "{case}: the user loader must not run");
        assert_eq!(self.handler_runs(), 0, "{case}: the handler must not run");
    }

    /// Neither the response nor any captured log line contains `secret` or any of its
    /// dot-separated segments longer than 8 characters.
    #[track_caller]
    pub fn assert_not_leaked(&self, case: &str, reply: &Reply, secret: &str) {
        // Only pieces longer than 8 characters: a short credential (`Bearer`, a raw header
        // value) can legitimately appear in the challenge.
        for needle in needles(secret).into_iter().filter(|n| n.len() > 8) {
            reply.assert_not_containing(case, needle);
            self.logs.assert_not_containing(case, needle);
        }
    }

    /// The capture works and the runtime said why it refused: at least one event from the
    /// `login` crate.
    #[track_caller]
    pub fn assert_reason_logged(&self, case: &str) {
        let logs = self.logs.text();
        assert!(
            logs.contains(" login:") || logs.contains(" login::"),
            "{case}: no login event was captured:\n{logs}"
        );
    }
}

/// One adversarial request and what it must get.
pub struct Case {
    pub name: String,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    /// The credential that must never be echoed (the token, or the raw header value).
    pub secret: String,
    pub expect: Expect,
    /// How many times the loader must run (0 for every rejection before the loader).
    pub loads: usize,
}

impl Case {
    /// `GET path` with `Authorization: Bearer <token>`, rejected before the loader.
    pub fn bearer(name: impl Into<String>, path: &str, token: &str, expect: Expect) -> Self {
        Case::header(
            name,
            path,
            "authorization",
            format!("Bearer {token}").into_bytes(),
            expect,
        )
        .secret(token)
    }

    /// `GET path` with the `access-token` cookie set to `token`, rejected before the loader.
    pub fn cookie(name: impl Into<String>, path: &str, token: &str, expect: Expect) -> Self {
        Case::header(
            name,
            path,
            "cookie",
            format!("access-token={token}").into_bytes(),
            expect,
        )
        .secret(token)
    }

    /// `GET path` with one raw header.
    pub fn header(
        name: impl Into<String>,
        path: &str,
        header: &'static str,
        value: impl Into<Vec<u8>>,
        expect: Expect,
    ) -> Self {
        let value = value.into();
        Case {
            name: name.into(),
            method: Method::GET,
            path: path.to_owned(),
            secret: if ["authorization", "cookie"].contains(&header) {
                String::from_utf8_lossy(&value).into_owned()
            } else {
                String::new()
            },
            headers: vec![(header, value)],
            expect,
            loads: usize::from(matches!(expect, Expect::User(_))),
        }
    }

    /// Adds a header.
    pub fn with(mut self, header: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((header, value.into()));
        self
    }

    /// The credential that must not be echoed.
    pub fn secret(mut self, secret: &str) -> Self {
        self.secret = secret.to_owned();
        self
    }

    /// The loader is expected to run this many times.
    pub fn loads(mut self, loads: usize) -> Self {
        self.loads = loads;
        self
    }

    /// Runs the case on a fresh harness and asserts everything: the exact answer, the loader
    /// and handler counts, nothing echoed in the response or the logs, and (for rejections)
    /// that the runtime logged a reason.
    pub async fn run(&self) {
        let h = Harness::new();
        self.run_on(&h).await;
    }

    pub async fn run_on(&self, h: &Harness) {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_slice()))
            .collect();
        let loads_before = h.loads();
        let runs_before = h.handler_runs();
        let reply = h.request(self.method.clone(), &self.path, &headers).await;
        let case = &self.name;
        reply.assert_case(case, self.expect, user_json);
        let ran = matches!(self.expect, Expect::User(_) | Expect::Anonymous);
        assert_eq!(h.loads() - loads_before, self.loads, "{case}: loader calls");
        assert_eq!(
            h.handler_runs() - runs_before,
            usize::from(ran),
            "{case}: handler runs"
        );
        if !matches!(self.expect, Expect::User(_)) {
            h.assert_not_leaked(case, &reply, &self.secret);
        }
        if !ran {
            h.assert_reason_logged(case);
        }
    }
}

/// The case on `/protected` through both carriers: `Authorization: Bearer` and the cookie.
pub fn both(cases: &mut Vec<Case>, name: &str, token: &str, expect: Expect) {
    both_on(cases, "/protected", name, token, expect);
}

/// The case on `path` through both carriers: `Authorization: Bearer` and the cookie.
pub fn both_on(cases: &mut Vec<Case>, path: &str, name: &str, token: &str, expect: Expect) {
    cases.push(Case::bearer(
        format!("{name} (header)"),
        path,
        token,
        expect,
    ));
    cases.push(Case::cookie(
        format!("{name} (cookie)"),
        path,
        token,
        expect,
    ));
}

/// Runs every case, each on a fresh harness, and reports how many ran (`[cases] group: n`
/// with `--nocapture`).
pub async fn run_all(group: &str, cases: &[Case]) {
    for case in cases {
        case.run().await;
    }
    count(group, cases.len());
}

/// Reports `n` cases of a group (visible with `--nocapture`).
pub fn count(group: &str, n: usize) {
    eprintln!("[cases] {group}: {n}");
}
