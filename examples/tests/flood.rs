//! A login flood cannot exhaust the server. Thousands of concurrent logins for
//! unknown users (each one full Argon2id verification, 19 MiB) against the `simple` example's
//! router on a real loopback socket, in this process, with the password work bounded to two
//! jobs at a time: the process's resident memory stays under [`RSS_BOUND_MIB`], every answer
//! is 200, 401 or 503 (with `Retry-After`), no connection fails, and `GET /protected` answers
//! 200 throughout.
//!
//! No timing is asserted. The test is its own binary, so that no other test's memory counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use login::TokenRequest;
use login::password::{Argon2id, PasswordLimits, Passwords};
use login_examples::flood::{self, Flood, RssSampler};
use login_examples::simple::{Db, app_with_passwords, manager};

/// Concurrent connections of the flood.
const CONNECTIONS: usize = 1000;
/// Logins sent in all.
const REQUESTS: usize = 4000;
/// The bound on the process's peak resident memory (test harness, server and clients): the
/// measured peak is 74 MiB (two 19 MiB Argon2 buffers for the login route, one for the
/// start-up hashes, 1,000 connections). Without the bound on password work, the same test
/// with only 64 connections peaked at 18.9 GiB (a 19 MiB Argon2 job per login in flight, each
/// on its own blocking thread, and the freed blocks kept by the allocator's per-thread arenas).
const RSS_BOUND_MIB: u64 = 160;

const SECRET: &str = "flood-test-secret-0123456789abcdef-0123456789";

/// Unknown users, and every 100th request John with his password (a 200 when it gets through).
fn login(n: usize) -> Vec<u8> {
    if n.is_multiple_of(100) {
        let body = "username=johndoe%40mail.com&password=hunter2";
        format!(
            "POST /login HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    } else {
        flood::unknown_user_login(n)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_bounded_and_the_server_keeps_answering() {
    let manager = manager(SECRET).unwrap();
    let token = manager
        .create_access_token(TokenRequest::new("johndoe@mail.com"))
        .unwrap();
    // Two jobs at a time (whatever the machine's CPU count), 16 waiting at most, half a
    // second of waiting at most.
    let limits = PasswordLimits::new()
        .max_concurrent(2)
        .max_waiting(16)
        .max_wait(Duration::from_millis(500));
    let passwords = Passwords::with_limits(Argon2id::default(), limits).unwrap();
    let router = app_with_passwords(manager, Db::demo(), passwords);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let sampler = RssSampler::start(None, Duration::from_millis(20));
    let done = Arc::new(AtomicBool::new(false));
    let probe = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut answers = Vec::new();
            while !done.load(Ordering::SeqCst) {
                let answer = flood::send(addr, &flood::bearer_get("/protected", &token)).await;
                answers.push(answer.map(|a| a.status).map_err(|e| e.to_string()));
            }
            answers
        })
    };
    let report = Flood {
        addr,
        connections: CONNECTIONS,
        requests: Some(REQUESTS),
        duration: None,
    }
    .run(login)
    .await;
    done.store(true, Ordering::SeqCst);
    let probes = probe.await.unwrap();
    let sampled_mib = sampler.stop() / 1024;
    let peak_mib = flood::rss(None).map(|r| r.peak_kib / 1024);
    eprintln!(
        "flood: {report:?}; peak RSS {peak_mib:?} MiB (sampled {sampled_mib} MiB); /protected probes: {}",
        probes.len()
    );

    let peak_mib = peak_mib.expect("/proc/self/status is readable");
    assert!(
        peak_mib < RSS_BOUND_MIB,
        "peak RSS {peak_mib} MiB, bound {RSS_BOUND_MIB} MiB"
    );
    assert!(
        report.errors.is_empty(),
        "connection errors: {:?}",
        report.errors
    );
    assert_eq!(report.answered(), REQUESTS, "{report:?}");
    for status in report.statuses.keys() {
        assert!(
            [200, 401, 503].contains(status),
            "status {status}: {report:?}"
        );
    }
    assert!(
        report.count(503) > 0,
        "the bound was never reached: {report:?}"
    );
    assert!(
        report.count(401) > 0,
        "no password was ever checked: {report:?}"
    );
    assert_eq!(report.busy_without_retry_after, 0, "{report:?}");
    assert!(
        !probes.is_empty(),
        "no /protected request completed during the flood"
    );
    assert!(
        probes.iter().all(|p| p == &Ok(200)),
        "/protected during the flood: {probes:?}"
    );
}
