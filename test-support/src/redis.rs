//! A `redis-server` of the test's own: started on a free loopback port with no persistence
//! (`--save '' --appendonly no`), stopped when dropped; never a server already running.
//!
//! Without the `redis-server` binary a test skips, with a message, outside CI; in CI (`CI`
//! set) it fails, since `.ci/run` installs it.
//!
//! [`RedisServer::command`] talks RESP over a plain `TcpStream`, so the tests need neither
//! `redis-cli` nor a client library of their own to inspect or disturb the server.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` owned by the test.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

/// A reply, rendered: simple strings, bulk strings and integers as text, arrays as their
/// elements, nil as `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    /// A simple or bulk string, or an integer, as text.
    Text(String),
    /// A nil bulk string or array.
    Nil,
    /// An array.
    Array(Vec<Resp>),
}

impl Resp {
    /// The text of a string or integer reply (empty for nil or an array).
    pub fn text(&self) -> &str {
        match self {
            Resp::Text(t) => t,
            _ => "",
        }
    }
    /// The elements of an array reply (empty otherwise).
    pub fn items(&self) -> &[Resp] {
        match self {
            Resp::Array(items) => items,
            _ => &[],
        }
    }
}

fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().unwrap().port()
}

impl RedisServer {
    /// Starts a server, or returns `None` (after saying so) when `redis-server` is not
    /// installed and `CI` is not set. Panics in CI without it, or if it does not start.
    pub fn start() -> Option<RedisServer> {
        if binary().is_none() {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "redis-server is not installed; .ci/run installs it (apt-get install redis-server)"
                );
            }
            eprintln!(
                "skipped: redis-server is not installed (apt-get install redis-server); these tests need a real Redis"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "login-redis-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let mut server = RedisServer {
            child: None,
            port: 0,
            dir,
        };
        // A port found free can be taken before the server binds it: a few tries.
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn() {
                return Some(server);
            }
        }
        panic!("redis-server did not start");
    }

    /// Starts the process on `self.port`; whether it answers `PING` within 10 s.
    fn spawn(&mut self) -> bool {
        let child = Command::new(binary().expect("redis-server"))
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--enable-debug-command", "local"])
            .args(["--dir", self.dir.to_str().expect("a UTF-8 temporary path")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = &mut self.child
                && let Ok(Some(_)) = child.try_wait()
            {
                self.child = None;
                return false;
            }
            if self.command(&["PING"]).is_ok_and(|r| r.text() == "PONG") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        false
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGSTOP): its connections stay open and nothing answers, a server
    /// too slow to serve. [`resume`](Self::resume) undoes it.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Resumes a [`pause`](Self::pause)d server (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .arg(signal)
                .arg(child.id().to_string())
                .status();
        }
    }

    /// Starts the server again on the same port, empty (nothing is persisted). Panics if it
    /// does not start.
    pub fn restart(&mut self) {
        self.kill();
        for _ in 0..50 {
            if self.spawn() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }

    /// Sends one command on a new connection and reads its reply (5 s at most); `Err` for an
    /// error reply or a connection failure.
    pub fn command(&self, args: &[&str]) -> Result<Resp, String> {
        self.command_within(args, Duration::from_secs(5))
    }

    /// [`command`](Self::command) with another time limit (for `DEBUG SLEEP`).
    pub fn command_within(&self, args: &[&str], limit: Duration) -> Result<Resp, String> {
        command_at(self.port, args, limit)
    }

    /// The value of `field` in `INFO section`, if present.
    pub fn info(&self, section: &str, field: &str) -> Option<String> {
        let info = self.command(&["INFO", section]).ok()?;
        info.text().lines().find_map(|line| {
            let (k, v) = line.split_once(':')?;
            (k == field).then(|| v.trim().to_owned())
        })
    }

    /// The calls each command has received (`INFO commandstats`), sorted by name.
    pub fn commandstats(&self) -> Vec<(String, u64)> {
        let info = self
            .command(&["INFO", "commandstats"])
            .expect("INFO commandstats");
        let mut out: Vec<(String, u64)> = info
            .text()
            .lines()
            .filter_map(|line| {
                let (name, stats) = line.strip_prefix("cmdstat_")?.split_once(':')?;
                let calls = stats
                    .strip_prefix("calls=")?
                    .split(',')
                    .next()?
                    .parse()
                    .ok()?;
                Some((name.to_owned(), calls))
            })
            .collect();
        out.sort();
        out
    }
}

/// Sends one command to the server on `port` (from another thread, say) and reads its reply
/// within `limit`.
pub fn command_at(port: u16, args: &[&str], limit: Duration) -> Result<Resp, String> {
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&address, Duration::from_secs(1)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| e.to_string())?;
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    stream.write_all(&out).map_err(|e| e.to_string())?;
    read_reply(&mut BufReader::new(stream))
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

fn read_reply(reader: &mut impl BufRead) -> Result<Resp, String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| e.to_string())?;
    let line = line.trim_end_matches("\r\n");
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" | ":" => Ok(Resp::Text(rest.to_owned())),
        "-" => Err(rest.to_owned()),
        "$" => {
            let len: i64 = rest
                .parse()
                .map_err(|_| format!("bad bulk length {rest:?}"))?;
            if len < 0 {
                return Ok(Resp::Nil);
            }
            let mut buf = vec![0; len as usize + 2];
            reader.read_exact(&mut buf).map_err(|e| e.to_string())?;
            buf.truncate(len as usize);
            Ok(Resp::Text(String::from_utf8_lossy(&buf).into_owned()))
        }
        "*" => {
            let len: i64 = rest
                .parse()
                .map_err(|_| format!("bad array length {rest:?}"))?;
            if len < 0 {
                return Ok(Resp::Nil);
            }
            (0..len)
                .map(|_| read_reply(reader))
                .collect::<Result<_, _>>()
                .map(Resp::Array)
        }
        _ => Err(format!("unexpected reply {line:?}")),
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
