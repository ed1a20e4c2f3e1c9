//! Several instances of the `simple` example, as separate processes on loopback ports, sharing
//! one `redis-server` of the test's own (`LOGIN_REDIS_URL`), or a local Redis Cluster of six
//! (`LOGIN_REDIS_CLUSTER`), or one PostgreSQL cluster of the test's own (`LOGIN_DATABASE_URL`):
//! what one instance does to a session holds on the others, and Redis faults have their
//! defined answers.
//!
//! The instances are the `login-simple` binary of this package (the `simple` example's
//! server). Requests are plain HTTP/1.1 over a `TcpStream` with a 10 s read timeout: a request
//! that hangs fails the test. Nothing is timed in an assertion; what must happen "soon" is
//! awaited in loops bounded in count and time. The propagation delay of "log out everywhere"
//! is measured and printed (`--nocapture`), for BENCHMARKS.md.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use login_test_support::postgres::PostgresServer;
use login_test_support::redis::RedisServer;
use login_test_support::redis_cluster::RedisCluster;
use serde_json::Value;

const SECRET: &str = "redis-instances-test-secret-0123456789abcdef";

/// One `login-simple` process.
struct Instance {
    child: Child,
    port: u16,
}

impl Instance {
    /// Starts an instance on a free port, sharing `redis`; heartbeat 50 ms, stale after
    /// 500 ms, so that the fault tests see the 503s within a second.
    fn start(redis: &RedisServer) -> Instance {
        Self::start_with("LOGIN_REDIS_URL", &redis.url())
    }

    /// An instance on `cluster` (`LOGIN_REDIS_CLUSTER`, every node's URL), as [`start`].
    fn start_on_cluster(cluster: &RedisCluster) -> Instance {
        Self::start_with("LOGIN_REDIS_CLUSTER", &cluster.urls().join(","))
    }

    /// An instance on the PostgreSQL database at `url` (`LOGIN_DATABASE_URL`), as [`start`].
    fn start_on_postgres(url: &str) -> Instance {
        Self::start_with("LOGIN_DATABASE_URL", url)
    }

    fn start_with(variable: &str, value: &str) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_login-simple"))
            .env("LOGIN_ADDR", "127.0.0.1:0")
            .env("LOGIN_SECRET", SECRET)
            .env(variable, value)
            .env("LOGIN_REDIS_HEARTBEAT_MS", "50")
            .env("LOGIN_REDIS_STALENESS_MS", "500")
            .env("LOGIN_DATABASE_HEARTBEAT_MS", "50")
            .env("LOGIN_DATABASE_STALENESS_MS", "500")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start login-simple");
        // The line that says where it listens (log lines may come first): at most 100 lines.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..100 {
            line.clear();
            stdout.read_line(&mut line).expect("the instance's output");
            if line.contains("listening on http://") {
                break;
            }
        }
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no \"listening on\" line; the last: {line:?}"));
        // Keep reading (and dropping) its output, so that it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Instance { child, port }
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>, form: &str) -> Reply {
        request(self.port, method, path, token, form)
    }

    fn login(&self) -> (String, String) {
        let reply = self.request(
            "POST",
            "/login",
            None,
            "username=johndoe%40mail.com&password=hunter2",
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let json = reply.json();
        (
            json["access_token"].as_str().unwrap().to_owned(),
            json["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    fn protected(&self, token: &str) -> u16 {
        self.request("GET", "/protected", Some(token), "").status
    }

    fn refresh(&self, refresh_token: &str) -> Reply {
        let form = format!("grant_type=refresh_token&refresh_token={refresh_token}");
        self.request("POST", "/refresh", None, &form)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Reply {
    status: u16,
    /// The status line and headers, lower-cased.
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One request on its own connection (`Connection: close`); panics if no answer comes within
/// 10 s.
fn request(port: u16, method: &str, path: &str, token: Option<&str>, form: &str) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the instance");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    stream
        .read_to_string(&mut raw)
        .unwrap_or_else(|e| panic!("{method} {path}: no complete answer within 10 s: {e}"));
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {raw:?}"));
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    Reply {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_owned(),
    }
}

/// Waits until `done` holds: at most 20 s, every 5 ms.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..4000 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("never happened: {what}");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn log_out_everywhere_on_one_instance_refuses_the_token_on_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    log_out_everywhere_reaches_b(
        &Instance::start(&redis),
        &Instance::start(&redis),
        "Redis pub/sub",
    );
}

/// The cross-instance checks of one Redis, on a Redis Cluster: a login on A works on B, "log
/// out everywhere" on A is refused on B (the delays printed), a refresh rotated on A is consumed
/// on B (and replayed on B it is reuse), concurrent refreshes over both make one successor.
#[test]
fn two_instances_sharing_a_redis_cluster_pass_the_same_cross_instance_checks() {
    let Some(cluster) = RedisCluster::start() else {
        return;
    };
    let a = Instance::start_on_cluster(&cluster);
    let b = Instance::start_on_cluster(&cluster);
    let (access, r0) = a.login();
    assert_eq!(b.protected(&access), 200, "a login on A works on B");
    let rotated = a.refresh(&r0).json();
    let r1 = rotated["refresh_token"].as_str().unwrap().to_owned();
    let consumed = b.refresh(&r1);
    assert_eq!(
        consumed.status, 200,
        "the refresh rotated on A is consumed on B: {}",
        consumed.body
    );
    let r2 = consumed.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(a.refresh(&r2).status, 200);
    log_out_everywhere_reaches_b(&a, &b, "a Redis Cluster's sharded pub/sub");
    refresh_replayed_on_b_ends_the_session(&a, &b);
    concurrent_refreshes_make_one_successor(&[a, b]);
}

/// The cross-instance checks of one Redis, on PostgreSQL (LISTEN/NOTIFY): a login on A works
/// on B, "log out everywhere" on A is refused on B (the delays printed), a refresh rotated on A
/// is consumed on B (and replayed on B it is reuse), concurrent refreshes over both make one
/// successor.
#[test]
fn two_instances_sharing_postgresql_pass_the_same_cross_instance_checks() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    let url = server.database();
    let a = Instance::start_on_postgres(&url);
    let b = Instance::start_on_postgres(&url);
    let (access, r0) = a.login();
    assert_eq!(b.protected(&access), 200, "a login on A works on B");
    let rotated = a.refresh(&r0).json();
    let r1 = rotated["refresh_token"].as_str().unwrap().to_owned();
    let consumed = b.refresh(&r1);
    assert_eq!(
        consumed.status, 200,
        "the refresh rotated on A is consumed on B: {}",
        consumed.body
    );
    let r2 = consumed.json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(a.refresh(&r2).status, 200);
    log_out_everywhere_reaches_b(&a, &b, "PostgreSQL LISTEN/NOTIFY");
    refresh_replayed_on_b_ends_the_session(&a, &b);
    concurrent_refreshes_make_one_successor(&[a, b]);
}

/// What `login-simple` prints on stderr when it refuses to start with `env`.
fn refused_start(env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_login-simple"))
        .env("LOGIN_ADDR", "127.0.0.1:0")
        .env("LOGIN_SECRET", SECRET)
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run login-simple");
    assert!(!output.status.success(), "it started with {env:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bad_postgres_settings_stop_the_instance_with_a_clear_error() {
    let both = refused_start(&[
        ("LOGIN_DATABASE_URL", "postgres://127.0.0.1:1/x"),
        ("LOGIN_REDIS_URL", "redis://127.0.0.1:1/"),
    ]);
    assert!(
        both.contains("LOGIN_DATABASE_URL and a Redis setting"),
        "{both}"
    );
    let scheme = refused_start(&[("LOGIN_DATABASE_URL", "mysql://127.0.0.1/x")]);
    assert!(
        scheme.contains("LOGIN_DATABASE_URL") && scheme.contains("postgres://"),
        "{scheme}"
    );
    let millis = refused_start(&[
        ("LOGIN_DATABASE_URL", "postgres://127.0.0.1:1/x"),
        ("LOGIN_DATABASE_HEARTBEAT_MS", "soon"),
    ]);
    assert!(
        millis.contains("LOGIN_DATABASE_HEARTBEAT_MS: not a number"),
        "{millis}"
    );
}

/// "Log out everywhere" on A, 40 times: refused on A at once, on B as soon as the revocation
/// arrives; prints the delays (BENCHMARKS.md has them: well under a second).
fn log_out_everywhere_reaches_b(a: &Instance, b: &Instance, over: &str) {
    const ROUNDS: usize = 40;
    let mut delays = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let (access, refresh) = a.login();
        assert_eq!(b.protected(&access), 200);
        let reply = a.request("POST", "/logout/all", Some(&access), "");
        assert_eq!(reply.status, 200, "{}", reply.body);
        let logged_out = Instant::now();
        // A refuses from the next request on; B as soon as the revocation reaches it.
        assert_eq!(a.protected(&access), 401);
        let mut polls = 0;
        while b.protected(&access) != 401 {
            polls += 1;
            assert!(polls < 10_000, "B never refused the token");
        }
        delays.push(logged_out.elapsed());
        assert_eq!(b.refresh(&refresh).status, 400, "the session is ended");
    }
    delays.sort();
    println!(
        "log out everywhere, A -> B over {over}, {ROUNDS} rounds (debug build; includes one HTTP round trip to B): p50 {:?}, p99 {:?}, max {:?}",
        percentile(&delays, 0.50),
        percentile(&delays, 0.99),
        delays[ROUNDS - 1],
    );
}

#[test]
fn a_refresh_token_replayed_on_another_instance_ends_the_session_on_both() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    refresh_replayed_on_b_ends_the_session(&Instance::start(&redis), &Instance::start(&redis));
}

fn refresh_replayed_on_b_ends_the_session(a: &Instance, b: &Instance) {
    let (access0, r0) = a.login();
    let r1 = a.refresh(&r0).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = a.refresh(&r1).json();
    let (access2, r2) = (
        second["access_token"].as_str().unwrap().to_owned(),
        second["refresh_token"].as_str().unwrap().to_owned(),
    );
    assert_eq!(b.protected(&access2), 200);
    // r0 was rotated twice on A: replayed on B, it is reuse.
    let replay = b.refresh(&r0);
    assert_eq!(replay.status, 400);
    assert_eq!(replay.json()["error"], "invalid_grant");
    assert_eq!(b.protected(&access2), 401, "B ended the session");
    eventually("A refuses the session's tokens", || {
        a.protected(&access2) == 401
    });
    assert_eq!(a.protected(&access0), 401);
    assert_eq!(
        a.refresh(&r2).status,
        400,
        "the latest refresh token is dead too"
    );
}

#[test]
fn concurrent_refreshes_of_one_token_across_instances_produce_one_successor() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    concurrent_refreshes_make_one_successor(&[Instance::start(&redis), Instance::start(&redis)]);
}

/// 16 refreshes of one token at once, over both instances: one successor for all.
fn concurrent_refreshes_make_one_successor(instances: &[Instance; 2]) {
    let ports = [instances[0].port, instances[1].port];
    let (_, r0) = instances[0].login();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(16));
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let port = ports[i % 2];
            let form = format!("grant_type=refresh_token&refresh_token={r0}");
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                request(port, "POST", "/refresh", None, &form)
            })
        })
        .collect();
    let mut successors: Vec<String> = threads
        .into_iter()
        .map(|t| {
            let reply = t.join().unwrap();
            // Within the grace window (10 s), every racer gets the one successor.
            assert_eq!(reply.status, 200, "{}", reply.body);
            reply.json()["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect();
    successors.dedup();
    assert_eq!(successors.len(), 1, "exactly one successor");
    assert_eq!(instances[1].refresh(&successors[0]).status, 200);
}

#[test]
fn redis_killed_and_restarted_under_load_never_accepts_a_revoked_token() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let a = Instance::start(&redis);
    let b = Instance::start(&redis);
    let (kept, kept_refresh) = a.login();
    let (revoked, _) = a.login();
    assert_eq!(a.request("POST", "/logout", Some(&revoked), "").status, 200);
    eventually("B refuses the logged-out token", || {
        b.protected(&revoked) == 401
    });

    // Load on both instances while Redis is killed and restarted: the revoked token is never
    // accepted (401, or 503 while the view is stale), the other one is 200 or 503, and every
    // request answers (10 s read timeout).
    // The load's progress, shared so that the test waits for events rather than for time:
    // requests answered, and the valid token's 503s (the load saw the outage).
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let answered = std::sync::Arc::new(AtomicUsize::new(0));
    let outage_seen = std::sync::Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = [a.port, b.port]
        .into_iter()
        .map(|port| {
            let (kept, revoked, stop) = (kept.clone(), revoked.clone(), stop.clone());
            let (answered, outage_seen) = (answered.clone(), outage_seen.clone());
            std::thread::spawn(move || {
                let mut seen = std::collections::BTreeMap::<(bool, u16), usize>::new();
                for _ in 0..200_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    for (is_revoked, token) in [(false, &kept), (true, &revoked)] {
                        let status = request(port, "GET", "/protected", Some(token), "").status;
                        *seen.entry((is_revoked, status)).or_default() += 1;
                        answered.fetch_add(1, Ordering::Relaxed);
                        if !is_revoked && status == 503 {
                            outage_seen.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                seen
            })
        })
        .collect();
    let served_beyond = |n: usize| {
        let start = answered.load(Ordering::Relaxed);
        eventually("the load keeps being answered", || {
            answered.load(Ordering::Relaxed) >= start + n
        });
    };
    served_beyond(100);
    redis.kill();
    eventually("A answers 503", || a.protected(&kept) == 503);
    let stale = a.request("GET", "/protected", Some(&kept), "");
    assert!(stale.head.contains("\r\nretry-after: 5"), "{}", stale.head);
    assert!(!stale.head.contains("www-authenticate"), "{}", stale.head);
    assert_eq!(
        stale.body,
        r#"{"detail":"Service temporarily unavailable"}"#
    );
    // An optional route does not serve the user as anonymous while the view may be stale.
    assert_eq!(a.request("GET", "/optional", Some(&kept), "").status, 503);
    // Everything that needs Redis answers 503 and mints nothing.
    let login = a.request(
        "POST",
        "/login",
        None,
        "username=johndoe%40mail.com&password=hunter2",
    );
    assert_eq!(login.status, 503, "{}", login.body);
    assert!(!login.body.contains("access_token"));
    let refresh = b.refresh(&kept_refresh);
    assert_eq!(refresh.status, 503, "{}", refresh.body);
    assert!(!refresh.body.contains("access_token"));
    assert_eq!(
        b.request("POST", "/logout/all", Some(&kept), "").status,
        503
    );
    // The session routes too: the sessions list and ending one, 503 with `Retry-After`.
    for (method, path) in [("GET", "/sessions"), ("DELETE", "/sessions/some-id")] {
        let reply = b.request(method, path, Some(&kept), "");
        assert_eq!(reply.status, 503, "{method} {path}: {}", reply.body);
        assert!(reply.head.contains("\r\nretry-after: 5"), "{}", reply.head);
    }
    eventually("the load saw the outage", || {
        outage_seen.load(Ordering::Relaxed) > 0
    });
    redis.restart();
    eventually("A serves again", || a.protected(&kept) == 200);
    eventually("B serves again", || b.protected(&kept) == 200);
    served_beyond(100);
    stop.store(true, Ordering::Relaxed);
    let mut total = std::collections::BTreeMap::<(bool, u16), usize>::new();
    for thread in load {
        for (k, n) in thread.join().unwrap() {
            *total.entry(k).or_default() += n;
        }
    }
    println!("statuses under load (revoked?, status) -> count: {total:?}");
    for (is_revoked, status) in total.keys() {
        if *is_revoked {
            assert!([401, 503].contains(status), "revoked token got {status}");
        } else {
            assert!([200, 503].contains(status), "valid token got {status}");
        }
    }
    assert!(total.contains_key(&(false, 503)), "the outage was seen");
    // After the restart (Redis came back empty) the revoked token stays refused, on both.
    assert_eq!(a.protected(&revoked), 401);
    assert_eq!(b.protected(&revoked), 401);
}
