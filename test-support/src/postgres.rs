//! A PostgreSQL server of the test's own: a cluster made by `initdb` in a temporary folder,
//! `postgres` started on a free loopback port (`listen_addresses=127.0.0.1`, its socket in
//! that folder, `trust` authentication, `fsync=off`: durable across a killed server, not a crashed machine), stopped and removed when dropped; never
//! a server already running. A test asks it for databases of its own
//! ([`PostgresServer::database`]), so that one server serves many cases without coupling them.
//!
//! The binaries are Debian's (`/usr/lib/postgresql/<version>/bin`, the newest found). As root
//! (CI), `initdb` and `postgres` run as the `postgres` user (`runuser`), since PostgreSQL
//! refuses to run as root. Without the binaries a test skips, with a message, outside CI; in
//! CI (`CI` set) it fails, since `.ci/run` installs them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A running PostgreSQL cluster owned by the test.
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    pid: Option<u32>,
    child: Option<std::process::Child>,
}

/// The newest `/usr/lib/postgresql/*/bin` holding `postgres` and `initdb`.
fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("postgres").is_file() && bin.join("initdb").is_file())
                .then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().unwrap().port()
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl PostgresServer {
    /// Starts a cluster, or returns `None` (after saying so) when PostgreSQL is not installed
    /// and `CI` is not set. Panics in CI without it, or if it does not start.
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = bin_dir() else {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "PostgreSQL is not installed; .ci/run installs it (apt-get install postgresql)"
                );
            }
            eprintln!(
                "skipped: PostgreSQL is not installed (apt-get install postgresql); these tests need a real PostgreSQL"
            );
            return None;
        };
        let dir = std::env::temp_dir().join(format!(
            "login-postgres-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let as_postgres = is_root();
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres", dir.to_str().expect("a UTF-8 path")])
                .status()
                .expect("run chown");
            assert!(status.success(), "chown the cluster's folder to postgres");
        }
        let mut server = PostgresServer {
            bin,
            dir,
            port: 0,
            as_postgres,
            pid: None,
            child: None,
        };
        let data = server.data();
        let output = server
            .command("initdb")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
            ])
            .args(["--no-sync", "-E", "UTF8"])
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        // A port found free can be taken before the server binds it: a few tries.
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn() {
                return Some(server);
            }
        }
        panic!("postgres did not start (see {}/log)", server.dir.display());
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `program` of the PostgreSQL binaries, as the `postgres` user when running as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Starts `postgres` on `self.port`; whether it accepts connections within 20 s.
    fn spawn(&mut self) -> bool {
        let _ = std::fs::remove_file(self.data().join("postmaster.pid"));
        let log = std::fs::File::create(self.dir.join("log")).expect("the server's log");
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-k", self.dir.to_str().unwrap()])
            .args(["-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            // fsync off: a killed server loses nothing the OS has (its page cache survives
            // the process); commits stay synchronous, so a commit is in the WAL the OS has.
            .args(["-c", "fsync=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn postgres");
        // The child is `runuser` (as root) or `postgres`; the server's pid is in postmaster.pid.
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(pid) = self.read_pid()
                && self.ready()
            {
                self.pid = Some(pid);
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(pid) = self.read_pid() {
            self.pid = Some(pid);
            self.kill();
        }
        false
    }

    fn read_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Whether the server accepts connections (`pg_isready`).
    fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q"])
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's main process id.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new, empty database and returns its URL.
    pub fn database(&self) -> String {
        let name = format!("t{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let output = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&name)
            .output()
            .expect("run createdb");
        assert!(
            output.status.success(),
            "createdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        self.url(&name)
    }

    /// Runs `sql` on `database` (a name or a URL [`database`](Self::database) returned) with
    /// `psql`, and returns its output (tuples only, unaligned). Panics if it fails.
    pub fn sql(&self, database: &str, sql: &str) -> String {
        let name = database.rsplit('/').next().unwrap_or(database);
        let output = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args([
                "-d",
                name,
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn signal(&self, signal: &str) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill")
                .args([signal, &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }

    /// Kills the server (SIGKILL to the postmaster: no goodbye to its clients; its backends
    /// exit when they notice) and waits until it is gone.
    pub fn kill(&mut self) {
        self.signal("-KILL");
        self.wait_gone();
        self.pid = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server (SIGSTOP to the postmaster and its backends): connections stay
    /// open and nothing answers, a server too slow to serve. [`resume`](Self::resume) undoes it.
    pub fn pause(&self) {
        self.signal_all("-STOP");
    }

    /// Resumes a [`pause`](Self::pause)d server.
    pub fn resume(&self) {
        self.signal_all("-CONT");
    }

    /// The postmaster and every process it started (`pkill -P`-free: by parent pid, read
    /// from `ps`).
    fn signal_all(&self, signal: &str) {
        let Some(pid) = self.pid else { return };
        let mut pids = vec![pid.to_string()];
        if let Ok(out) = Command::new("ps")
            .args(["-o", "pid=", "--ppid", &pid.to_string()])
            .output()
        {
            pids.extend(
                String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .map(str::to_owned),
            );
        }
        let _ = Command::new("kill")
            .arg(signal)
            .args(&pids)
            .stderr(Stdio::null())
            .status();
    }

    fn wait_gone(&self) {
        let Some(pid) = self.pid else { return };
        let proc = PathBuf::from(format!("/proc/{pid}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while proc_alive(&proc) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again on the same port, with its data (PostgreSQL is durable:
    /// the sessions survive). Panics if it does not start.
    pub fn restart(&mut self) {
        self.kill();
        for _ in 0..50 {
            if self.spawn() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("postgres did not restart on port {}", self.port);
    }
}

/// Whether the process at `/proc/<pid>` runs (a zombie, `Z`, does not).
fn proc_alive(proc: &Path) -> bool {
    std::fs::read_to_string(proc.join("stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.resume();
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
