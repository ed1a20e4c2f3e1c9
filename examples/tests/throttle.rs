//! The login throttle of the `simple` example, over HTTP (its own router, in process, with a
//! settable clock and a counting password scheme): a brute-force run against one account,
//! measured in guesses evaluated per day of the test clock; unknown and known accounts
//! answered alike; the owner with a device token logging in during an attack; the client's
//! address from the socket, a spoofed `X-Forwarded-For` ignored, a credential-stuffing run
//! through a trusted proxy; and two instances sharing Redis sharing the counts, Redis down
//! answering 503.
//!
//! Nothing waits: the clock is moved by each answer's `Retry-After`. Run with `--nocapture`
//! to see the measured numbers (BENCHMARKS.md and docs/login-throttling.md quote them).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, StatusCode};
use login::LoginManager;
use login::password::{Argon2id, Passwords};
use login::session::SessionStore;
use login::throttle::{Throttle, TrustedProxies};
use login_examples::simple::{Db, app_with_passwords, settings, throttle};
use login_test_support::redis::RedisServer;
use login_test_support::{CountingScheme, NOW, Reply, SECRET, form_urlencoded, request, send};
use serde_json::json;

const JOHN: &str = "johndoe@mail.com";
const JOHN_PW: &str = "hunter2";
const JANE: &str = "janedoe@mail.com";
const JANE_PW: &str = "jane-secret-pw";
const DAY: i64 = 24 * 3600;

/// One instance of the example: its router, clock and password-work counter.
struct App {
    router: Router,
    clock: Arc<AtomicI64>,
    counter: CountingScheme<Argon2id>,
}

fn demo_db() -> Db {
    use std::sync::LazyLock;
    static HASHES: LazyLock<(String, String)> = LazyLock::new(|| {
        let p = Passwords::default();
        (
            p.hash_blocking(JOHN_PW).unwrap(),
            p.hash_blocking(JANE_PW).unwrap(),
        )
    });
    let db = Db::default();
    db.add_user(JOHN, "John Doe", HASHES.0.clone(), &["read", "write"]);
    db.add_user(JANE, "Jane Doe", HASHES.1.clone(), &["read"]);
    db
}

impl App {
    fn new(throttle: Throttle) -> App {
        Self::with_store(throttle, None)
    }

    fn with_store(throttle: Throttle, store: Option<Arc<dyn SessionStore>>) -> App {
        let clock = Arc::new(AtomicI64::new(NOW));
        let c = clock.clone();
        let builder = settings(LoginManager::builder("/login").secret(SECRET))
            .clock(move || c.load(Ordering::SeqCst))
            .throttle(throttle);
        let builder = match store {
            Some(store) => builder.session_store(store),
            None => builder,
        };
        let manager = builder.build().expect("the example's settings build");
        let counter = CountingScheme::new(Argon2id::default());
        let passwords = Passwords::new(counter.clone()).unwrap();
        counter.reset();
        App {
            router: app_with_passwords(manager, demo_db(), passwords),
            clock,
            counter,
        }
    }

    /// The example's own throttle (`simple::throttle`), with `proxies`.
    fn example(proxies: &str) -> App {
        App::new(throttle(SECRET, proxies.parse().unwrap()))
    }

    fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }

    /// `POST path` with the login form, from the socket address `peer` (`None`: no
    /// `ConnectInfo`), with extra headers.
    async fn login_from(
        &self,
        path: &str,
        peer: Option<&str>,
        user: &str,
        password: &str,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut all = vec![("content-type", "application/x-www-form-urlencoded")];
        all.extend_from_slice(headers);
        let body = form_urlencoded(&[("username", user), ("password", password)]);
        let mut req = request(Method::POST, path, &all, Body::from(body));
        if let Some(peer) = peer {
            let ip: IpAddr = peer.parse().unwrap();
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
        }
        send(&self.router, req).await
    }

    async fn login(&self, peer: &str, user: &str, password: &str) -> Reply {
        self.login_from("/login", Some(peer), user, password, &[])
            .await
    }
}

fn retry_after(reply: &Reply) -> i64 {
    reply
        .headers
        .get("retry-after")
        .expect("a 429 has Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The exact throttled answer.
#[track_caller]
fn assert_throttled(case: &str, reply: &Reply) -> i64 {
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{case}: {}",
        reply.text()
    );
    assert_eq!(
        reply.json(),
        json!({
            "error": "slow_down",
            "error_description": "too many failed logins: retry after the delay in Retry-After",
        }),
        "{case}"
    );
    assert_eq!(reply.headers["cache-control"], "no-store", "{case}");
    assert!(reply.headers.get("set-cookie").is_none(), "{case}");
    let wait = retry_after(reply);
    assert!(wait >= 1, "{case}: Retry-After {wait}");
    wait
}

/// The device-token cookie of a successful login (`device-token=ldt_…`), as a `Cookie`
/// header value.
fn device_cookie(reply: &Reply) -> String {
    let set = reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("device-token="))
        .unwrap_or_else(|| panic!("no device-token cookie: {:?}", reply.headers));
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
        "Max-Age=",
    ] {
        assert!(set.contains(attribute), "{set}: {attribute}");
    }
    set.split(';').next().unwrap().to_owned()
}

/// Guesses at one account from one address, each sent as soon as the last answer allows
/// (the clock moved by `Retry-After`), for one day of the clock: how many were evaluated.
async fn brute_force_one_day(app: &App, peer: &str) -> (u64, u64) {
    let end = app.now() + DAY;
    let (mut guesses, mut throttled) = (0u64, 0u64);
    while app.now() < end {
        let reply = app.login(peer, JOHN, &format!("guess-{guesses}")).await;
        match reply.status {
            StatusCode::UNAUTHORIZED => guesses += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                throttled += 1;
                let wait = assert_throttled("brute force", &reply);
                app.advance(wait);
            }
            other => panic!("brute force: {other} {}", reply.text()),
        }
    }
    (guesses, throttled)
}

/// The defaults allow fewer than 100 guesses a day against one account, measured: every
/// guess evaluated is one password verification, and a throttled attempt costs none.
#[tokio::test]
async fn a_brute_force_run_gets_fewer_than_100_guesses_a_day() {
    let app = App::example("");
    let (guesses, throttled) = brute_force_one_day(&app, "203.0.113.7").await;
    println!(
        "brute force, defaults: {guesses} guesses evaluated in one day ({throttled} attempts answered 429)"
    );
    assert!(guesses <= 100, "{guesses} guesses a day");
    assert!(guesses >= 5, "{guesses}: the first failures are free");
    assert_eq!(app.counter.verifies() as u64, guesses, "password work");
    // The same attacker rotating addresses: the account's own counter still holds.
    let app = App::example("");
    let end = app.now() + DAY;
    let mut rotated = 0u64;
    let mut i = 0u32;
    while app.now() < end {
        i += 1;
        let peer = format!("198.51.{}.{}", i / 250 % 250, i % 250);
        let reply = app.login(&peer, JOHN, "wrong").await;
        match reply.status {
            StatusCode::UNAUTHORIZED => rotated += 1,
            _ => app.advance(assert_throttled("rotating", &reply)),
        }
    }
    println!("brute force from a new address each time: {rotated} guesses evaluated in one day");
    assert!(rotated <= 100, "{rotated} guesses a day");
    // Without the throttle, every attempt is evaluated: the day's count is the server's speed.
    let app = App::new(Throttle::off());
    for n in 0..50 {
        let reply = app.login("203.0.113.7", JOHN, &format!("guess-{n}")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.counter.verifies(), 50);
}

/// The right password during a back-off gets the same 429; an unknown account gets exactly
/// the answers a known one gets, attempt by attempt (status, headers, body, Retry-After) and
/// the same password work.
#[tokio::test]
async fn throttled_answers_are_no_oracle() {
    let app = App::example("");
    // Five failures from five addresses: the account's limit.
    for n in 0..5 {
        let peer = format!("198.51.100.{n}");
        let reply = app.login(&peer, JOHN, &format!("wrong-{n}")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let wrong = app.login("203.0.113.7", JOHN, "wrong").await;
    let right = app.login("203.0.113.7", JOHN, JOHN_PW).await;
    assert_throttled("wrong password", &wrong);
    assert_throttled("right password", &right);
    assert_eq!(right.headers, wrong.headers);
    assert_eq!(right.body, wrong.body);
    assert_eq!(app.counter.verifies(), 5, "no password work when throttled");
    // From another address, the account's own counter still holds the right password back.
    let other = app.login("192.0.2.33", JOHN, JOHN_PW).await;
    assert_throttled("another address", &other);
    // After the back-off, the right password logs in.
    app.advance(retry_after(&right));
    assert_eq!(
        app.login("203.0.113.7", JOHN, JOHN_PW).await.status,
        StatusCode::OK
    );

    // Known and unknown accounts: the same script, the same answers.
    let mut transcripts = Vec::new();
    for user in [JANE, "nobody@mail.com"] {
        let app = App::example("");
        let mut transcript = Vec::new();
        for step in 0..30 {
            let reply = app.login("203.0.113.9", user, "not-the-password").await;
            if step % 4 == 3 {
                app.advance(1);
            }
            transcript.push((reply.status, reply.headers.clone(), reply.body.clone()));
        }
        transcripts.push((transcript, app.counter.verifies()));
    }
    assert!(
        transcripts[0]
            .0
            .iter()
            .any(|(s, ..)| *s == StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(transcripts[0], transcripts[1], "known vs unknown account");
    // The user name is counted as normalised (trimmed, lowercased).
    let app = App::example("");
    for (n, name) in [
        "JohnDoe@Mail.com",
        " johndoe@mail.com",
        "JOHNDOE@MAIL.COM",
        JOHN,
        JOHN,
    ]
    .iter()
    .enumerate()
    {
        let peer = format!("198.51.100.{n}");
        assert_eq!(
            app.login(&peer, name, "x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_throttled(
        "normalised name",
        &app.login("198.51.100.99", JOHN, "x").await,
    );
}

/// A success forgets the account's and the pair's failures.
#[tokio::test]
async fn a_success_resets_the_account() {
    let app = App::example("");
    for round in 0..3 {
        for n in 0..4 {
            let reply = app
                .login("203.0.113.7", JOHN, &format!("typo-{round}-{n}"))
                .await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "round {round}, typo {n}"
            );
            // The owner types slowly: 10 s, longer than any back-off four failures set
            // (without the reset, the second round would reach 16 s).
            app.advance(10);
        }
        let reply = app.login("203.0.113.7", JOHN, JOHN_PW).await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "round {round}: {}",
            reply.text()
        );
    }
}

/// The owner logs in with the device token a past login gave, while an attacker keeps the
/// account in back-off from many addresses; without the token, the owner would wait too. A
/// token is bound to its account, and both login routes set one.
#[tokio::test]
async fn the_owner_with_a_device_token_logs_in_during_an_attack() {
    let app = App::example("");
    let owner = "192.0.2.10";
    let cookie = device_cookie(&app.login(owner, JOHN, JOHN_PW).await);
    let cookie_login = app
        .login_from(
            "/login/cookie",
            Some(owner),
            JANE,
            JANE_PW,
            &[("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        cookie_login.status,
        StatusCode::OK,
        "{}",
        cookie_login.text()
    );
    let jane_cookie = device_cookie(&cookie_login);
    // The attack: a day of guesses from ever new addresses.
    let mut attacker = 0u32;
    let mut owner_logins = 0;
    let end = app.now() + DAY;
    while app.now() < end {
        attacker += 1;
        let peer = format!("198.51.{}.{}", attacker / 250 % 250, attacker % 250);
        let reply = app.login(&peer, JOHN, "guess").await;
        if reply.status == StatusCode::TOO_MANY_REQUESTS {
            // Now, in back-off: the owner without the token waits...
            let without = app.login(owner, JOHN, JOHN_PW).await;
            assert_throttled("owner without a device token", &without);
            // ...with it, logs in at once.
            let with = app
                .login_from("/login", Some(owner), JOHN, JOHN_PW, &[("cookie", &cookie)])
                .await;
            assert_eq!(with.status, StatusCode::OK, "{}", with.text());
            owner_logins += 1;
            // A device token for another account does not help.
            let jane_token = app
                .login_from(
                    "/login",
                    Some(owner),
                    JOHN,
                    JOHN_PW,
                    &[("cookie", &jane_cookie)],
                )
                .await;
            assert_throttled("another account's device token", &jane_token);
            app.advance(retry_after(&reply));
        }
    }
    println!("device tokens: the owner logged in {owner_logins} times during a day of attack");
    assert!(owner_logins >= 10, "{owner_logins}");
    // The device's own counter: a stolen token gets 5 guesses, then the back-off.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let reply = app
            .login_from(
                "/login",
                Some("198.51.100.200"),
                JOHN,
                "guess",
                &[("cookie", &cookie)],
            )
            .await;
        statuses.push(reply.status.as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
}

/// Without trusted proxies, `X-Forwarded-For` is never read: an attacker rotating it is still
/// one address (its 100 failures, over many user names, then 429).
#[tokio::test]
async fn a_spoofed_forwarded_header_changes_nothing() {
    let app = App::example("");
    let mut statuses = Vec::new();
    for n in 0..102 {
        let user = format!("user{n}@mail.com");
        let xff = format!("10.{}.{}.{}", n / 65536 % 256, n / 256 % 256, n % 256);
        let reply = app
            .login_from(
                "/login",
                Some("203.0.113.66"),
                &user,
                "x",
                &[
                    ("x-forwarded-for", &xff),
                    ("forwarded", &format!("for={xff}")),
                ],
            )
            .await;
        statuses.push(reply.status);
    }
    assert!(
        statuses[..100]
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED)
    );
    assert_throttled("the 101st failure from one socket", &{
        app.login("203.0.113.66", "someone@mail.com", "x").await
    });
    assert_eq!(statuses[100], StatusCode::TOO_MANY_REQUESTS);
    // Another client is not affected.
    assert_eq!(
        app.login("192.0.2.1", JOHN, JOHN_PW).await.status,
        StatusCode::OK
    );
    // Without ConnectInfo, the header is not believed either; the account still counts.
    let app = App::example("0.0.0.0/0");
    for n in 0..5 {
        let reply = app
            .login_from(
                "/login",
                None,
                JOHN,
                &format!("x{n}"),
                &[("x-forwarded-for", &format!("1.2.3.{n}"))],
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let reply = app
        .login_from("/login", None, JOHN, "x", &[("x-forwarded-for", "9.9.9.9")])
        .await;
    assert_throttled("no ConnectInfo", &reply);
}

/// Credential stuffing through a trusted proxy: many accounts × many addresses. Each client
/// address (`X-Forwarded-For`, read from the right) gets its own 100 failures; an IPv6
/// attacker rotating within its /64 is one address; the proxy's legitimate users are not
/// throttled by the attackers.
#[tokio::test]
async fn credential_stuffing_through_a_trusted_proxy() {
    let app = App::example("10.0.0.0/8");
    let proxy = "10.0.0.1";
    let attackers = ["203.0.113.1", "203.0.113.2", "2001:db8:5:6::"];
    let mut evaluated = [0u32; 3];
    let mut refused = [0u32; 3];
    for account in 0..110 {
        for (a, attacker) in attackers.iter().enumerate() {
            let client = if attacker.contains(':') {
                format!("{attacker}{account:x}")
            } else {
                attacker.to_string()
            };
            // The client forges a left-most entry; the proxy appends what it saw.
            let xff = format!("192.0.2.200, {client}");
            let reply = app
                .login_from(
                    "/login",
                    Some(proxy),
                    &format!("victim{account}@mail.com"),
                    "Password1",
                    &[("x-forwarded-for", &xff)],
                )
                .await;
            match reply.status {
                StatusCode::UNAUTHORIZED => evaluated[a] += 1,
                StatusCode::TOO_MANY_REQUESTS => refused[a] += 1,
                other => panic!("{other}"),
            }
        }
    }
    println!("credential stuffing through a proxy: evaluated {evaluated:?}, refused {refused:?}");
    assert_eq!(evaluated, [100, 100, 100]);
    assert_eq!(refused, [10, 10, 10]);
    // A user behind the same proxy logs in.
    let reply = app
        .login_from(
            "/login",
            Some(proxy),
            JOHN,
            JOHN_PW,
            &[("x-forwarded-for", "198.51.100.23")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
}

/// A password scheme with no work (the hash is the password), so that a flood of tens of
/// thousands of logins runs in seconds.
struct Plain;

impl login::password::PasswordScheme for Plain {
    fn hash(&self, password: &[u8]) -> Result<String, login::password::PasswordError> {
        Ok(format!("plain:{}", String::from_utf8_lossy(password)))
    }
    fn can_verify(&self, stored: &str) -> bool {
        stored.starts_with("plain:")
    }
    fn verify(&self, password: &[u8], stored: &str) -> bool {
        stored.as_bytes().get(6..) == Some(password)
    }
    fn needs_rehash(&self, _: &str) -> bool {
        false
    }
}

/// A flood of distinct user names from distinct addresses keeps the counters in memory
/// within their bound (65,536), and the account under attack before it is still throttled
/// after it: the flood's counters, each one failure, go first.
#[tokio::test]
async fn a_flood_of_distinct_names_and_addresses_stays_bounded() {
    let store = login::session::MemoryStore::shared();
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    let manager = settings(LoginManager::builder("/login").secret(SECRET))
        .clock(move || c.load(Ordering::SeqCst))
        .session_store(store.clone())
        .throttle(throttle(SECRET, TrustedProxies::none()))
        .build()
        .unwrap();
    let app = App {
        router: app_with_passwords(manager, demo_db(), Passwords::new(Plain).unwrap()),
        clock,
        counter: CountingScheme::new(Argon2id::default()),
    };
    for n in 0..5 {
        let peer = format!("192.0.2.{n}");
        assert_eq!(
            app.login(&peer, JOHN, "x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_throttled(
        "before the flood",
        &app.login("192.0.2.99", JOHN, "x").await,
    );
    let mut peak = 0;
    for n in 0u32..30_000 {
        let peer = format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255);
        let reply = app.login(&peer, &format!("flood-{n}@mail.com"), "x").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        peak = peak.max(store.throttle_counters());
    }
    println!("flood: 30,000 logins, 90,000 distinct counters; at most {peak} kept");
    assert!(peak <= 65_536, "{peak} counters");
    assert!(peak >= 30_000, "{peak}: the bound was not reached");
    assert_throttled("after the flood", &app.login("192.0.2.99", JOHN, "x").await);
}

async fn redis_store(redis: &RedisServer) -> Arc<dyn SessionStore> {
    login::session::RedisStore::builder(redis.url())
        .command_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .expect("connect to the test's redis-server")
}

/// Two instances sharing one Redis share the counts: failures on one throttle the other; a
/// success on one resets both; with Redis down, a password login is 503 (fail closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_share_the_counts() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let a = App::with_store(
        throttle(SECRET, TrustedProxies::none()),
        Some(redis_store(&redis).await),
    );
    let b = App::with_store(
        throttle(SECRET, TrustedProxies::none()),
        Some(redis_store(&redis).await),
    );
    for (n, app) in [&a, &b, &a, &b, &a].iter().enumerate() {
        let peer = format!("198.51.100.{n}");
        assert_eq!(
            app.login(&peer, JOHN, "x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let on_b = b.login("198.51.100.50", JOHN, JOHN_PW).await;
    let wait = assert_throttled("the sixth failure, on the other instance", &on_b);
    assert_eq!(wait, 2);
    // Every key has a TTL.
    let keys = redis.command(&["KEYS", "login:thr:*"]).unwrap();
    let keys: Vec<String> = keys.items().iter().map(|k| k.text().to_owned()).collect();
    assert!(!keys.is_empty());
    for key in &keys {
        let ttl: i64 = redis
            .command(&["TTL", key])
            .unwrap()
            .text()
            .parse()
            .unwrap();
        assert!(ttl > 0, "{key}: TTL {ttl}");
    }
    // Back-off over (both clocks): the owner logs in on a, which resets the account on b.
    a.advance(2);
    b.advance(2);
    assert_eq!(
        a.login("198.51.100.50", JOHN, JOHN_PW).await.status,
        StatusCode::OK
    );
    for n in 0..4 {
        let peer = format!("198.51.101.{n}");
        assert_eq!(
            b.login(&peer, JOHN, "x").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Redis down: 503, before any password work.
    redis.kill();
    let verifies = a.counter.verifies();
    let reply = a.login("198.51.100.50", JOHN, JOHN_PW).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.text()
    );
    assert_eq!(
        reply.json(),
        json!({ "detail": "Session store unavailable" })
    );
    assert_eq!(reply.headers["retry-after"], "5");
    assert_eq!(a.counter.verifies(), verifies);
}
