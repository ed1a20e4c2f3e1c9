//! The client of the login-flood benchmark (`bench/flood.sh`, see BENCHMARKS.md): floods
//! `POST /login` with unknown users on a loopback server and reports the answers and the
//! server's resident memory.
//!
//! ```text
//! cargo run --release -p login-examples --example login_flood -- <addr> <server-pid> <phase>...
//! ```
//!
//! Phases, run in order: `seq:N` (N logins one after another), `flood:C:S` (C concurrent
//! connections for S seconds). After each phase: the answers by status, connection errors,
//! and the server's `VmRSS` now, the largest `VmRSS` sampled during the phase (every 20 ms),
//! and `VmHWM` (its peak since start-up).

use std::net::SocketAddr;
use std::time::Duration;

use login_examples::flood::{Flood, RssSampler, rss, unknown_user_login};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, pid, phases @ ..] = args.as_slice() else {
        return Err("usage: login_flood <addr> <server-pid> <seq:N | flood:C:S>...".into());
    };
    let addr: SocketAddr = addr.parse()?;
    let pid: u32 = pid.parse()?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let before = rss(Some(pid)).ok_or("cannot read the server's /proc status")?;
    println!(
        "start: VmRSS {:.1} MiB, VmHWM {:.1} MiB",
        mib(before.now_kib),
        mib(before.peak_kib)
    );
    for phase in phases {
        let parts: Vec<&str> = phase.split(':').collect();
        let flood = match parts.as_slice() {
            ["seq", n] => Flood {
                addr,
                connections: 1,
                requests: Some(n.parse()?),
                duration: None,
            },
            ["flood", c, s] => Flood {
                addr,
                connections: c.parse()?,
                requests: None,
                duration: Some(Duration::from_secs(s.parse()?)),
            },
            _ => return Err(format!("unknown phase {phase}").into()),
        };
        let sampler = RssSampler::start(Some(pid), Duration::from_millis(20));
        let report = flood.run(unknown_user_login).await;
        let max = sampler.stop();
        let after = rss(Some(pid)).ok_or("the server is gone")?;
        println!(
            "{phase}: statuses {:?}, errors {:?}, 503 without Retry-After {}; VmRSS max {:.1} MiB, now {:.1} MiB, VmHWM {:.1} MiB",
            report.statuses,
            report.errors,
            report.busy_without_retry_after,
            mib(max),
            mib(after.now_kib),
            mib(after.peak_kib)
        );
    }
    Ok(())
}
