//! A small HTTP/1.1 load generator for the login route's flood test
//! (`examples/tests/flood.rs`) and benchmark (`bench/flood.sh`): many concurrent connections to
//! a loopback address, one request each (`Connection: close`), every answer and every
//! connection error counted. Plus the resident memory of a process, from `/proc`.
//!
//! Loopback only: [`Flood::run`] refuses any other address.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What a flood got back.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// How many answers had each status.
    pub statuses: BTreeMap<u16, usize>,
    /// Connection errors (refused, reset, an unreadable answer…), by kind.
    pub errors: BTreeMap<String, usize>,
    /// 503 answers without a `Retry-After` header.
    pub busy_without_retry_after: usize,
}

impl Report {
    /// How many requests were answered (with any status).
    pub fn answered(&self) -> usize {
        self.statuses.values().sum()
    }

    /// How many requests got `status`.
    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    fn merge(&mut self, other: Report) {
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        for (error, n) in other.errors {
            *self.errors.entry(error).or_default() += n;
        }
        self.busy_without_retry_after += other.busy_without_retry_after;
    }
}

/// One answer: the status and the response head (lower-cased).
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and the headers, lower-cased.
    pub head: String,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends one raw HTTP/1.1 request on a new connection and reads the whole answer (the request
/// must ask for `Connection: close`).
pub async fn send(addr: SocketAddr, request: &[u8]) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await?;
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&bytes[..split]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    Ok(Answer {
        status,
        head,
        body: bytes[split + 4..].to_vec(),
    })
}

/// `POST /login` for a user the example does not know (`ghost-<n>@mail.com`), so that every
/// request costs one full password verification (against the dummy hash).
pub fn unknown_user_login(n: usize) -> Vec<u8> {
    let body = format!("username=ghost-{n}%40mail.com&password=not-the-password-{n}");
    format!(
        "POST /login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// `GET path` with `Authorization: Bearer <token>`.
pub fn bearer_get(path: &str, token: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
    )
    .into_bytes()
}

/// A flood: `connections` concurrent clients sending requests until `requests` were sent or
/// `duration` passed, whichever comes first.
#[derive(Debug, Clone)]
pub struct Flood {
    /// The server (a loopback address).
    pub addr: SocketAddr,
    /// Concurrent connections.
    pub connections: usize,
    /// Stop after this many requests.
    pub requests: Option<usize>,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

impl Flood {
    /// Runs the flood; `request(n)` makes the `n`th request. Every connection error is counted
    /// in the report, never retried.
    pub async fn run(&self, request: fn(usize) -> Vec<u8>) -> Report {
        assert!(
            self.addr.ip().is_loopback(),
            "the flood only targets loopback addresses"
        );
        assert!(
            self.requests.is_some() || self.duration.is_some(),
            "give a number of requests or a duration"
        );
        let next = Arc::new(AtomicUsize::new(0));
        let deadline = self.duration.map(|d| Instant::now() + d);
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.connections {
            let (next, limit, addr) = (next.clone(), self.requests, self.addr);
            workers.spawn(async move {
                let mut report = Report::default();
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        break;
                    }
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if limit.is_some_and(|limit| n >= limit) {
                        break;
                    }
                    match send(addr, &request(n)).await {
                        Ok(answer) => {
                            *report.statuses.entry(answer.status).or_default() += 1;
                            if answer.status == 503 && !answer.head.contains("\r\nretry-after:") {
                                report.busy_without_retry_after += 1;
                            }
                        }
                        Err(error) => {
                            *report.errors.entry(error.kind().to_string()).or_default() += 1
                        }
                    }
                }
                report
            });
        }
        let mut report = Report::default();
        while let Some(worker) = workers.join_next().await {
            report.merge(worker.expect("a flood worker panicked"));
        }
        report
    }
}

/// A process's resident memory, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rss {
    /// `VmRSS`: resident now.
    pub now_kib: u64,
    /// `VmHWM`: the peak since the process started.
    pub peak_kib: u64,
}

/// The resident memory of process `pid` (`None` for this process). `None` where `/proc` is not
/// available.
pub fn rss(pid: Option<u32>) -> Option<Rss> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(path).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some(Rss {
        now_kib: field("VmRSS:")?,
        peak_kib: field("VmHWM:")?,
    })
}

/// Samples a process's resident memory every `every` until stopped, keeping the largest
/// `VmRSS` seen.
#[derive(Debug, Clone)]
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max_kib: Arc<Mutex<u64>>,
}

impl RssSampler {
    /// Starts sampling process `pid` (`None`: this process) on a thread of its own.
    pub fn start(pid: Option<u32>, every: Duration) -> Self {
        let sampler = RssSampler {
            stop: Arc::new(AtomicBool::new(false)),
            max_kib: Arc::new(Mutex::new(0)),
        };
        let s = sampler.clone();
        std::thread::spawn(move || {
            while !s.stop.load(Ordering::Relaxed) {
                if let Some(rss) = rss(pid) {
                    let mut max = s.max_kib.lock().unwrap_or_else(|e| e.into_inner());
                    *max = (*max).max(rss.now_kib);
                }
                std::thread::sleep(every);
            }
        });
        sampler
    }

    /// Stops sampling and returns the largest `VmRSS` seen, in KiB.
    pub fn stop(&self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        *self.max_kib.lock().unwrap_or_else(|e| e.into_inner())
    }
}
