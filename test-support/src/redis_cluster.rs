//! A Redis Cluster of the test's own: six `redis-server` processes (three primaries, three
//! replicas) with `cluster-enabled yes` on free loopback ports, in temporary folders, with no
//! persistence, joined by `redis-cli --cluster create ... --cluster-replicas 1`; stopped when
//! dropped, and killed with the test process if it dies first (a watcher process).
//!
//! Without `redis-server` or `redis-cli` a test skips, with a message, outside CI; in CI (`CI`
//! set) it fails, since `.ci/run` installs them (Debian's `redis-server` package brings both).
//!
//! [`RedisCluster::shared`] is one cluster for every test of a binary that does not disturb
//! it (each test uses its own key prefix); a test that kills or fails over a node starts its
//! own with [`RedisCluster::start`].

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::redis::{Resp, command_at};

/// One node of the cluster.
struct Node {
    child: Option<Child>,
    port: u16,
}

/// A running cluster owned by the test (or, for [`RedisCluster::shared`], by the binary).
pub struct RedisCluster {
    nodes: Vec<Node>,
    dir: PathBuf,
    watcher: Option<Child>,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Whether the binaries are there; panics in CI without them.
fn installed() -> bool {
    if on_path("redis-server").is_some() && on_path("redis-cli").is_some() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "redis-server or redis-cli is not installed; .ci/run installs them (apt-get install redis-server)"
        );
    }
    eprintln!(
        "skipped: redis-server or redis-cli is not installed (apt-get install redis-server); these tests need a real Redis Cluster"
    );
    false
}

/// A free loopback port whose cluster bus port (+10000) is free too.
fn free_port_pair() -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn ping(port: u16) -> bool {
    command_at(port, &["PING"], Duration::from_secs(1)).is_ok_and(|r| r.text() == "PONG")
}

impl RedisCluster {
    /// Starts a cluster of its own, or returns `None` (after saying so) when the binaries are
    /// missing and `CI` is not set. Panics in CI without them, or if it does not form.
    pub fn start() -> Option<RedisCluster> {
        if !installed() {
            return None;
        }
        for _ in 0..3 {
            if let Some(cluster) = Self::try_start() {
                return Some(cluster);
            }
        }
        panic!("the Redis Cluster did not form");
    }

    /// One cluster shared by the tests of this binary (started on first use, killed when the
    /// test process exits); `None` as [`start`](Self::start) says.
    pub fn shared() -> Option<&'static RedisCluster> {
        static SHARED: OnceLock<Option<RedisCluster>> = OnceLock::new();
        SHARED.get_or_init(RedisCluster::start).as_ref()
    }

    fn try_start() -> Option<RedisCluster> {
        let dir = std::env::temp_dir().join(format!(
            "login-redis-cluster-{}-{}",
            std::process::id(),
            suffix()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut cluster = RedisCluster {
            nodes: Vec::new(),
            dir,
            watcher: None,
        };
        for _ in 0..6 {
            let port = free_port_pair();
            let child = spawn(&cluster.dir, port);
            cluster.nodes.push(Node {
                child: Some(child),
                port,
            });
        }
        cluster.watch();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !cluster.nodes.iter().all(|n| ping(n.port)) {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let addresses: Vec<String> = cluster
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new(on_path("redis-cli").unwrap())
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run redis-cli --cluster create");
        if !created.success() {
            return None;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cluster.ready() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(cluster)
    }

    /// A process that kills the nodes and removes the folder once this test process is gone
    /// (a cluster in a `static` is never dropped).
    fn watch(&mut self) {
        let pids: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| n.child.as_ref().map(|c| c.id().to_string()))
            .collect();
        let script = format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill -9 {} 2>/dev/null; rm -rf '{}'",
            std::process::id(),
            pids.join(" "),
            self.dir.display()
        );
        self.watcher = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
    }

    /// Every live node says `cluster_state:ok`, and every replica is in sync with its primary
    /// (`master_link_status:up`: only then can it take over).
    fn ready(&self) -> bool {
        self.nodes.iter().filter(|n| n.child.is_some()).all(|n| {
            let info = |section: &str| {
                command_at(n.port, &["INFO", section], Duration::from_secs(1))
                    .map(|r| r.text().to_owned())
                    .unwrap_or_default()
            };
            let cluster = command_at(n.port, &["CLUSTER", "INFO"], Duration::from_secs(1))
                .is_ok_and(|r| r.text().contains("cluster_state:ok"));
            let replication = info("replication");
            cluster
                && (replication.contains("role:master")
                    || replication.contains("master_link_status:up"))
        })
    }

    /// `redis://127.0.0.1:<port>/` of every node (killed ones included).
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| format!("redis://127.0.0.1:{}/", n.port))
            .collect()
    }

    /// The ports of the nodes that run.
    pub fn ports(&self) -> Vec<u16> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some())
            .map(|n| n.port)
            .collect()
    }

    /// Sends one command to the node on `port` (see [`crate::redis::command_at`]).
    pub fn command(&self, port: u16, args: &[&str]) -> Result<Resp, String> {
        command_at(port, args, Duration::from_secs(5))
    }

    /// The port of the primary that holds `key`'s slot now (as a live node sees it).
    pub fn primary_of(&self, key: &str) -> u16 {
        let port = self.ports()[0];
        let slot: u16 = self
            .command(port, &["CLUSTER", "KEYSLOT", key])
            .expect("CLUSTER KEYSLOT")
            .text()
            .parse()
            .expect("a slot");
        let slots = self
            .command(port, &["CLUSTER", "SLOTS"])
            .expect("CLUSTER SLOTS");
        for range in slots.items() {
            let items = range.items();
            let (Ok(from), Ok(to)) = (
                items[0].text().parse::<u16>(),
                items[1].text().parse::<u16>(),
            ) else {
                continue;
            };
            if (from..=to).contains(&slot) {
                return items[2].items()[1].text().parse().expect("a port");
            }
        }
        panic!("no primary holds the slot of {key}");
    }

    /// Keys stored on every primary, summed (`DBSIZE`).
    pub fn dbsize(&self) -> u64 {
        self.ports()
            .into_iter()
            .filter(|p| {
                self.command(*p, &["ROLE"])
                    .is_ok_and(|r| r.items().first().is_some_and(|k| k.text() == "master"))
            })
            .map(|p| {
                self.command(p, &["DBSIZE"])
                    .ok()
                    .and_then(|r| r.text().parse().ok())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// `KEYS pattern` on every primary, sorted.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .ports()
            .into_iter()
            .filter(|p| {
                self.command(*p, &["ROLE"])
                    .is_ok_and(|r| r.items().first().is_some_and(|k| k.text() == "master"))
            })
            .flat_map(|p| {
                self.command(p, &["KEYS", pattern])
                    .map(|r| {
                        r.items()
                            .iter()
                            .map(|k| k.text().to_owned())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
            .collect();
        keys.sort();
        keys
    }

    /// Waits until the replica of the primary on `port` has every write (replication is
    /// asynchronous), kills the primary (SIGKILL) and waits until its replica has taken over
    /// and the cluster is whole again (every slot served: `cluster_state:ok` on the nodes
    /// left). Panics if that takes more than 10 s and 30 s.
    pub fn kill_primary_and_wait_for_failover(&mut self, port: u16) {
        // Replication is asynchronous: a write the replica has not received is lost with the
        // primary (Redis Cluster's documented window). Wait until the replica has everything,
        // so that a test's data written before the kill survives it (at most 10 s).
        let caught_up = Instant::now() + Duration::from_secs(10);
        loop {
            let info = self
                .command(port, &["INFO", "replication"])
                .map(|r| r.text().to_owned())
                .unwrap_or_default();
            let field = |name: &str| {
                info.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .and_then(|v| v.trim().parse::<u64>().ok())
            };
            let primary = field("master_repl_offset:");
            let replica = info
                .lines()
                .find(|l| l.starts_with("slave0:"))
                .and_then(|l| l.split(',').find_map(|kv| kv.strip_prefix("offset=")))
                .and_then(|v| v.trim().parse::<u64>().ok());
            if primary.is_some() && primary == replica {
                break;
            }
            assert!(
                Instant::now() < caught_up,
                "the replica of {port} did not catch up within 10 s: {info}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("a node of this cluster");
        if let Some(mut child) = node.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // A live node that sees the killed one as failed, and every slot served.
            let promoted = self.ports().into_iter().all(|p| {
                self.command(p, &["CLUSTER", "INFO"])
                    .is_ok_and(|r| r.text().contains("cluster_state:ok"))
                    && self.command(p, &["CLUSTER", "NODES"]).is_ok_and(|r| {
                        // The killed node: flagged `fail` (not the `fail?` of a suspicion),
                        // and holding no slot any more (its replica holds them).
                        r.text().lines().any(|l| {
                            let fields: Vec<&str> = l.split(' ').collect();
                            fields.len() >= 8
                                && fields[1].starts_with(&format!("127.0.0.1:{port}@"))
                                && fields[2].split(',').any(|f| f == "fail")
                                && fields.len() == 8
                        })
                    })
            });
            if promoted {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no failover within 30 s after killing the primary on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn spawn(dir: &Path, port: u16) -> Child {
    let node_dir = dir.join(port.to_string());
    std::fs::create_dir_all(&node_dir).expect("a node's folder");
    Command::new(on_path("redis-server").expect("redis-server"))
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ])
        // A primary is seen failed after 1 s without an answer, then its replica takes over.
        .args(["--cluster-node-timeout", "1000"])
        // A replica's first sync at once (the default waits 5 s for more replicas): a primary
        // killed early still has a replica in sync to take over.
        .args(["--repl-diskless-sync-delay", "0"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--dir", node_dir.to_str().expect("a UTF-8 temporary path")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server")
}

fn suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        if let Some(mut watcher) = self.watcher.take() {
            let _ = watcher.kill();
            let _ = watcher.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
