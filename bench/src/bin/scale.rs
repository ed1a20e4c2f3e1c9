//! The sessions-at-scale measurement (`bench/scale.sh`, see BENCHMARKS.md, "Sessions at
//! scale"): several `simple` processes (the `login-simple` binary) sharing a store, the store
//! filled toward a million live sessions, and at each size:
//!
//! - the store's memory per session (Redis `INFO memory` `used_memory`, summed over the
//!   primaries; a cluster's replicas hold as much again);
//! - each instance's resident memory (`VmRSS`), as sessions and then revocations grow;
//! - a realistic HTTP mix across the instances (each worker: log in, 30 protected requests
//!   spread over the instances with a refresh every 10, then log out, or one time in ten "log
//!   out everywhere"), with the store's CPU time over it: store operations per CPU second;
//! - the delay of a revocation reaching another instance: `POST /logout/all` answered by
//!   instance A to instance B's first 401 (B polled over HTTP), p50 / p99, with the store also
//!   ending sessions in the background at each rate of `REVOKE_RATES` per second.
//!
//! ```text
//! cargo build --release -p login-examples --bin login-simple
//! cargo run --release -p login-bench --bin scale
//! ```
//!
//! Settings (environment): `STORES` (default `memory redis cluster postgres`), `SESSIONS` (the sizes,
//! default `10000 100000 1000000`), `INSTANCES` (default 3), `MIX_SECONDS` (default 10),
//! `WORKERS` (HTTP mix threads, default 8), `ROUNDS` (propagation rounds, default 100),
//! `REVOKE_RATES` (default `0 100 1000`), `REVOKE_SECONDS` (default 10), `REVOKE_BULK` (sessions
//! ended at once at the end, default 100000), `SIMPLE_BIN`
//! (default `target/release/login-simple`).
//!
//! The bulk of the sessions is created directly in the store (`LoginManager::start_session`
//! from this process, with the instances' secret and prefix, 64 at a time), not through
//! `POST /login`: a login over HTTP is an Argon2id hash (about 15 ms of a core), so a million
//! of them would take hours here. `memory` is one process's `MemoryStore` (this one: its own
//! resident memory per session and per revocation), the baseline every instance pays without a
//! shared store. `postgres` is a PostgreSQL cluster of its own (`initdb` in a temporary folder,
//! as the tests start one), the instances on it with `LOGIN_DATABASE_URL`; its "store memory"
//! is the database's size on disk, and its CPU the postmaster's and its backends'.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use login::LoginManager;
use login::session::{PostgresStore, RedisStore, SessionStore};
use login_test_support::postgres::PostgresServer;
use login_test_support::redis::{RedisServer, command_at};
use login_test_support::redis_cluster::RedisCluster;

const SECRET: &str = "scale-bench-secret-0123456789abcdef0123456789";
/// The examples' default prefix (`LOGIN_REDIS_PREFIX` unset).
const PREFIX: &str = "login:";
/// Bulk sessions kept (their ids) to be ended in the revocation phases.
const KEPT_IDS: usize = 200_000;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn env_list(name: &str, default: &str) -> Vec<u64> {
    env_or(name, default)
        .split_whitespace()
        .map(|n| {
            n.parse()
                .unwrap_or_else(|_| panic!("{name}: not a number: {n}"))
        })
        .collect()
}

fn env_num(name: &str, default: u64) -> u64 {
    env_list(name, &default.to_string())[0]
}

/// The shared store the instances run on.
enum Store {
    One(RedisServer),
    Cluster(RedisCluster),
    /// A PostgreSQL cluster of its own and the database the sessions are in.
    Postgres(PostgresServer, String),
}

impl Store {
    fn start(kind: &str) -> Option<Store> {
        match kind {
            "redis" => RedisServer::start().map(Store::One),
            "cluster" => RedisCluster::start().map(Store::Cluster),
            "postgres" => PostgresServer::start().map(|server| {
                let url = server.database();
                Store::Postgres(server, url)
            }),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Store::Postgres(..) => "one PostgreSQL server".into(),
            _ => format!(
                "{} primaries, {} nodes",
                self.primaries().len(),
                self.nodes().len()
            ),
        }
    }

    /// The variable and value that put a `simple` instance on this store.
    fn instance_env(&self) -> (&'static str, String) {
        match self {
            Store::One(s) => ("LOGIN_REDIS_URL", s.url()),
            Store::Cluster(c) => ("LOGIN_REDIS_CLUSTER", c.urls().join(",")),
            Store::Postgres(_, url) => ("LOGIN_DATABASE_URL", url.clone()),
        }
    }

    async fn connect(&self) -> Arc<dyn SessionStore> {
        let builder = match self {
            Store::One(s) => RedisStore::builder(s.url()),
            Store::Cluster(c) => RedisStore::cluster(c.urls()),
            Store::Postgres(_, url) => {
                // The schema exists already (the instances create it when missing).
                return PostgresStore::builder(url.as_str())
                    .max_connections(16)
                    .connect()
                    .await
                    .expect("connect");
            }
        };
        builder.prefix(PREFIX).connect().await.expect("connect")
    }

    /// The bytes the store's data takes on its primaries: Redis `used_memory`, summed; for
    /// PostgreSQL the database's size on disk (tables, indexes, TOAST; `pg_database_size`).
    fn memory(&self) -> f64 {
        match self {
            Store::Postgres(server, url) => {
                pg_number(server, url, "SELECT pg_database_size(current_database())")
            }
            _ => self.sum(&self.primaries(), "memory", "used_memory"),
        }
    }

    /// [`memory`](Self::memory), replicas included.
    fn memory_all(&self) -> f64 {
        match self {
            Store::Postgres(..) => self.memory(),
            _ => self.sum(&self.nodes(), "memory", "used_memory"),
        }
    }

    /// Seconds of CPU (user + system) the store's processes have used: every Redis node's
    /// `used_cpu_*`; the postmaster and its backends' (`/proc/<pid>/stat`; a backend that
    /// exited took its time with it, so the instances' pools, which keep theirs, are what
    /// counts).
    fn cpu(&self) -> f64 {
        match self {
            Store::Postgres(server, _) => server.pid().map_or(0.0, process_tree_cpu),
            _ => {
                let nodes = self.nodes();
                self.sum(&nodes, "cpu", "used_cpu_user") + self.sum(&nodes, "cpu", "used_cpu_sys")
            }
        }
    }

    /// The ports of the primaries.
    fn primaries(&self) -> Vec<u16> {
        match self {
            Store::One(s) => vec![s.port()],
            Store::Postgres(..) => Vec::new(),
            Store::Cluster(c) => c
                .ports()
                .into_iter()
                .filter(|p| info(*p, "replication", "role").as_deref() == Some("master"))
                .collect(),
        }
    }

    /// Every node's port (the replicas too).
    fn nodes(&self) -> Vec<u16> {
        match self {
            Store::One(s) => vec![s.port()],
            Store::Cluster(c) => c.ports(),
            Store::Postgres(..) => Vec::new(),
        }
    }

    /// `field` of `INFO section`, summed over `ports`.
    fn sum(&self, ports: &[u16], section: &str, field: &str) -> f64 {
        ports
            .iter()
            .map(|p| {
                info(*p, section, field)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            })
            .sum()
    }
}

/// A number `sql` answers on the store's database.
fn pg_number(server: &PostgresServer, url: &str, sql: &str) -> f64 {
    server.sql(url, sql).trim().parse().unwrap_or(0.0)
}

/// Seconds of CPU (user + system) of `pid` and its children (one level: the postmaster's
/// backends), from `/proc/<pid>/stat` in clock ticks (100 per second on Linux).
fn process_tree_cpu(pid: u32) -> f64 {
    let ticks = |pid: &str| -> f64 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return 0.0;
        };
        // Fields after the `(comm)`: state is the 3rd field, utime the 14th, stime the 15th.
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        n(11) + n(12)
    };
    let parent = pid.to_string();
    let children: f64 = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, r)| r.split_whitespace().nth(1).map(|pp| pp == parent))
                    .unwrap_or(false)
            })
        })
        .map(|p| ticks(&p))
        .sum();
    (ticks(&parent) + children) / 100.0
}

fn info(port: u16, section: &str, field: &str) -> Option<String> {
    let reply = command_at(port, &["INFO", section], Duration::from_secs(10)).ok()?;
    reply.text().lines().find_map(|l| {
        l.strip_prefix(&format!("{field}:"))
            .map(|v| v.trim().to_owned())
    })
}

/// One `login-simple` process.
struct Instance {
    child: Child,
    port: u16,
}

impl Instance {
    fn start(bin: &str, (variable, value): (&str, String)) -> Instance {
        let mut child = Command::new(bin)
            .env("LOGIN_ADDR", "127.0.0.1:0")
            .env("LOGIN_SECRET", SECRET)
            .env(variable, value)
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {bin}: {e} (build it: see the top of this file)"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..100 {
            line.clear();
            stdout.read_line(&mut line).expect("the instance's output");
            if line.contains("listening on http://") {
                break;
            }
        }
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("no \"listening on\" line: {line:?}"));
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Instance { child, port }
    }

    /// Resident memory, in bytes.
    fn rss(&self) -> u64 {
        rss_of(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rss_of(status: &str) -> u64 {
    let text = std::fs::read_to_string(status).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// One HTTP/1.1 request on its own connection: (status, body).
fn request(port: u16, method: &str, path: &str, token: Option<&str>, form: &str) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
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
    if stream.write_all(head.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut raw = String::new();
    let _ = stream.read_to_string(&mut raw);
    let status = raw
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// (access token, refresh token) of a successful login or refresh answer.
fn tokens(body: &str) -> Option<(String, String)> {
    let json: serde_json::Value = serde_json::from_str(body).ok()?;
    Some((
        json["access_token"].as_str()?.to_owned(),
        json["refresh_token"].as_str()?.to_owned(),
    ))
}

/// A login's tokens, or the status of its refusal.
fn login(port: u16, user: &str, password: &str) -> Result<(String, String), u16> {
    let form = format!("username={}&password={password}", user.replace('@', "%40"));
    let (status, body) = request(port, "POST", "/login", None, &form);
    if status != 200 {
        return Err(status);
    }
    tokens(&body).ok_or(status)
}

/// What the mix did, by kind.
#[derive(Default)]
struct Counts {
    logins: AtomicU64,
    refreshes: AtomicU64,
    protected: AtomicU64,
    logouts: AtomicU64,
    logouts_all: AtomicU64,
    errors: AtomicU64,
    /// The status of the last refused login.
    refused_with: AtomicU64,
}

/// The HTTP mix on `ports` for `seconds`, from `workers` threads (all as johndoe).
fn mix(ports: &[u16], workers: u64, seconds: u64) -> Arc<Counts> {
    let counts = Arc::new(Counts::default());
    let end = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let (ports, counts) = (ports.to_vec(), counts.clone());
            std::thread::spawn(move || {
                let mut cycle = w;
                while Instant::now() < end {
                    cycle += 1;
                    let at = |i: u64| ports[((cycle + i) % ports.len() as u64) as usize];
                    let (mut access, mut refresh) =
                        match login(at(0), "johndoe@mail.com", "hunter2") {
                            Ok(t) => t,
                            Err(status) => {
                                counts.errors.fetch_add(1, Ordering::Relaxed);
                                counts.refused_with.store(status.into(), Ordering::Relaxed);
                                continue;
                            }
                        };
                    counts.logins.fetch_add(1, Ordering::Relaxed);
                    'session: for i in 0..30 {
                        if i > 0 && i % 10 == 0 {
                            let form = format!("grant_type=refresh_token&refresh_token={refresh}");
                            let (status, body) = request(at(i), "POST", "/refresh", None, &form);
                            match (status, tokens(&body)) {
                                (200, Some(t)) => (access, refresh) = t,
                                // Ended meanwhile by another worker's "log out everywhere".
                                _ => break 'session,
                            }
                            counts.refreshes.fetch_add(1, Ordering::Relaxed);
                        }
                        let (status, _) = request(at(i), "GET", "/protected", Some(&access), "");
                        counts.protected.fetch_add(1, Ordering::Relaxed);
                        if status != 200 {
                            break 'session;
                        }
                    }
                    if cycle % 10 == 0 {
                        request(at(1), "POST", "/logout/all", Some(&access), "");
                        counts.logouts_all.fetch_add(1, Ordering::Relaxed);
                    } else {
                        request(at(1), "POST", "/logout", Some(&access), "");
                        counts.logouts.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    counts
}

/// `POST /logout/all` answered by A to B's first 401, `rounds` times (janedoe), sorted.
fn propagation(a: u16, b: u16, rounds: u64) -> Vec<Duration> {
    let mut delays = Vec::new();
    for _ in 0..rounds {
        let Ok((access, _)) = login(a, "janedoe@mail.com", "jane-secret-pw") else {
            continue;
        };
        let started = Instant::now();
        while request(b, "GET", "/protected", Some(&access), "").0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "B never accepted the login"
            );
        }
        assert_eq!(request(a, "POST", "/logout/all", Some(&access), "").0, 200);
        let ended = Instant::now();
        while request(b, "GET", "/protected", Some(&access), "").0 != 401 {
            assert!(
                ended.elapsed() < Duration::from_secs(10),
                "never propagated"
            );
        }
        delays.push(ended.elapsed());
    }
    delays.sort();
    delays
}

fn pct(d: &[Duration], p: f64) -> String {
    if d.is_empty() {
        return "-".into();
    }
    let i = ((d.len() as f64 * p).ceil() as usize).clamp(1, d.len()) - 1;
    format!("{:.2} ms", d[i].as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Creates sessions `from..to` (subjects `bulk<i>`), 64 at a time; keeps the first ids.
async fn bulk(m: &LoginManager, from: u64, to: u64, kept: &mut Vec<String>) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    let stripes = 64;
    for s in 0..stripes {
        let m = m.clone();
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            let mut i = from + s;
            while i < to {
                let t = m
                    .start_session(format!("bulk{i}"), None)
                    .await
                    .expect("start_session");
                if i < KEPT_IDS as u64 {
                    ids.push(t.session_id);
                }
                i += stripes;
            }
            ids
        }));
    }
    for t in tasks {
        kept.extend(t.await.unwrap());
    }
    start.elapsed()
}

/// Ends kept sessions at `rate` per second until `stop` (rate 0: none). Returns how many.
fn revoke_in_background(
    m: LoginManager,
    ids: Arc<std::sync::Mutex<Vec<String>>>,
    rate: u64,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut ended = 0;
        if rate == 0 {
            return 0;
        }
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        while !stop.load(Ordering::Relaxed) {
            let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
            while ended < due {
                let Some(id) = ids.lock().unwrap().pop() else {
                    break;
                };
                let m = m.clone();
                tasks.spawn(async move { m.end_session(&id).await.is_ok() });
                ended += 1;
                while tasks.len() > 32 {
                    tasks.join_next().await;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        while tasks.join_next().await.is_some() {}
        ended
    })
}

fn memory_baseline(rt: &tokio::runtime::Runtime, sizes: &[u64]) {
    println!("\n== memory (one process's MemoryStore: this process's VmRSS)");
    let m = LoginManager::builder("/login")
        .secret(SECRET)
        .sessions()
        .build()
        .unwrap();
    let me = "/proc/self/status";
    let base = rss_of(me);
    let mut kept = Vec::new();
    let mut have = 0;
    for &n in sizes {
        rt.block_on(bulk(&m, have, n, &mut kept));
        have = n;
        let rss = rss_of(me);
        println!(
            "sessions {n:>8}: RSS {} (+{} over empty, {:.0} B per session, ids kept included)",
            mb(rss),
            mb(rss - base),
            (rss - base) as f64 / n as f64
        );
    }
    let before = rss_of(me);
    let ends = kept.len().min(100_000);
    rt.block_on(async {
        for id in kept.drain(..ends) {
            m.end_session(&id).await.unwrap();
        }
    });
    println!(
        "{ends} sessions ended: revocations in the view {}, RSS +{} ({:.0} B per revocation, the ended sessions' memory freed in it)",
        m.revocations_in_view(),
        mb(rss_of(me).saturating_sub(before)),
        rss_of(me).saturating_sub(before) as f64 / ends as f64
    );
}

fn main() {
    let bin = env_or("SIMPLE_BIN", "target/release/login-simple");
    let sizes = env_list("SESSIONS", "10000 100000 1000000");
    let instances = env_num("INSTANCES", 3);
    let mix_seconds = env_num("MIX_SECONDS", 10);
    let workers = env_num("WORKERS", 8);
    let rounds = env_num("ROUNDS", 100);
    let rates = env_list("REVOKE_RATES", "0 100 1000");
    let revoke_seconds = env_num("REVOKE_SECONDS", 10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for kind in env_or("STORES", "memory redis cluster postgres").split_whitespace() {
        if kind == "memory" {
            memory_baseline(&rt, &sizes);
            continue;
        }
        let Some(store) = Store::start(kind) else {
            println!("\n== {kind}: no redis-server / PostgreSQL (or not a store name); skipped");
            continue;
        };
        println!("\n== {kind}: {}, {instances} instances", store.describe());
        let servers: Vec<Instance> = (0..instances)
            .map(|_| Instance::start(&bin, store.instance_env()))
            .collect();
        let ports: Vec<u16> = servers.iter().map(|s| s.port).collect();
        let m = rt.block_on(async {
            LoginManager::builder("/login")
                .secret(SECRET)
                .session_store(store.connect().await)
                .build()
                .unwrap()
        });
        let rss = |servers: &[Instance]| {
            servers
                .iter()
                .map(|s| mb(s.rss()))
                .collect::<Vec<_>>()
                .join(" / ")
        };
        println!(
            "empty: store memory {} (primaries), instances' RSS {}",
            mb(store.memory() as u64),
            rss(&servers)
        );
        let mut kept = Vec::new();
        let mut have = 0;
        for &n in &sizes {
            let (mem0, cpu0) = (store.memory(), store.cpu());
            let took = rt.block_on(bulk(&m, have, n, &mut kept));
            let (mem1, cpu1) = (store.memory(), store.cpu());
            let made = n - have;
            have = n;
            println!(
                "sessions {n:>8}: store memory {} (+{:.0} B per session), all nodes' {} ; bulk {made} in {:.1} s ({:.0}/s), store CPU {:.1} s ({:.0} logins per store CPU second); instances' RSS {}",
                mb(mem1 as u64),
                (mem1 - mem0) / made as f64,
                mb(store.memory_all() as u64),
                took.as_secs_f64(),
                made as f64 / took.as_secs_f64(),
                cpu1 - cpu0,
                made as f64 / (cpu1 - cpu0),
                rss(&servers)
            );
            let cpu0 = store.cpu();
            let started = Instant::now();
            let c = mix(&ports, workers, mix_seconds);
            let wall = started.elapsed().as_secs_f64();
            let cpu = store.cpu() - cpu0;
            let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let store_ops = g(&c.logins) + g(&c.refreshes) + g(&c.logouts) + g(&c.logouts_all);
            println!(
                "  mix {wall:.0} s: {} logins, {} refreshes, {} protected, {} logouts, {} log-outs-everywhere, {} logins refused (last with {}); {:.0} store operations/s, store CPU {:.2} s ({:.0} operations per store CPU second)",
                g(&c.logins),
                g(&c.refreshes),
                g(&c.protected),
                g(&c.logouts),
                g(&c.logouts_all),
                g(&c.errors),
                g(&c.refused_with),
                store_ops as f64 / wall,
                cpu,
                store_ops as f64 / cpu
            );
            let d = propagation(ports[0], ports[1 % ports.len()], rounds);
            println!(
                "  propagation A -> B over HTTP, {} rounds: p50 {}, p99 {}, max {}",
                d.len(),
                pct(&d, 0.5),
                pct(&d, 0.99),
                pct(&d, 1.0)
            );
        }
        let ids = Arc::new(std::sync::Mutex::new(kept));
        for &rate in &rates {
            let stop = Arc::new(AtomicBool::new(false));
            let cpu0 = store.cpu();
            let started = Instant::now();
            let task = {
                let _guard = rt.enter();
                revoke_in_background(m.clone(), ids.clone(), rate, stop.clone())
            };
            let d = propagation(ports[0], ports[1 % ports.len()], rounds);
            let left = Duration::from_secs(revoke_seconds).saturating_sub(started.elapsed());
            std::thread::sleep(left);
            stop.store(true, Ordering::Relaxed);
            let ended = rt.block_on(task).unwrap();
            let wall = started.elapsed().as_secs_f64();
            let cpu = store.cpu() - cpu0;
            std::thread::sleep(Duration::from_millis(500));
            println!(
                "revocations {rate:>5}/s (got {:.0}/s) for {wall:.0} s: propagation p50 {}, p99 {}, max {}; revocations in the view {}; store CPU {:.0} % of a core; store memory {}; instances' RSS {}",
                ended as f64 / wall,
                pct(&d, 0.5),
                pct(&d, 0.99),
                pct(&d, 1.0),
                m.revocations_in_view(),
                100.0 * cpu / wall,
                mb(store.memory() as u64),
                rss(&servers)
            );
        }
        // Many revocations at once: what the view costs each instance, and the store.
        let bulk_ends = (env_num("REVOKE_BULK", 100_000) as usize).min(ids.lock().unwrap().len());
        let rss0: Vec<u64> = servers.iter().map(Instance::rss).collect();
        let (mem0, cpu0, view0) = (store.memory(), store.cpu(), m.revocations_in_view());
        let started = Instant::now();
        let batch: Vec<String> = {
            let mut ids = ids.lock().unwrap();
            let at = ids.len() - bulk_ends;
            ids.split_off(at)
        };
        rt.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in batch.chunks(bulk_ends.div_ceil(64).max(1)) {
                let (m, chunk) = (m.clone(), chunk.to_vec());
                tasks.spawn(async move {
                    for id in chunk {
                        m.end_session(&id).await.expect("end_session");
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        });
        let took = started.elapsed().as_secs_f64();
        let cpu = store.cpu() - cpu0;
        std::thread::sleep(Duration::from_secs(2));
        let grown: Vec<String> = servers
            .iter()
            .zip(&rss0)
            .map(|(s, r0)| format!("+{}", mb(s.rss().saturating_sub(*r0))))
            .collect();
        let added = (m.revocations_in_view() - view0).max(1);
        println!(
            "{bulk_ends} sessions ended at once in {took:.1} s ({:.0}/s; {:.0} per store CPU second): revocations in the view {} (+{added}); store memory {:+.0} B per ended session; instances' RSS {} ({}; {:.0} B per revocation on the first)",
            bulk_ends as f64 / took,
            bulk_ends as f64 / cpu,
            m.revocations_in_view(),
            (store.memory() - mem0) / bulk_ends.max(1) as f64,
            rss(&servers),
            grown.join(" / "),
            servers[0].rss().saturating_sub(rss0[0]) as f64 / added as f64
        );
        drop(servers);
    }
}
