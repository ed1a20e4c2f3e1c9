//! Mints the tokens of `bench/load.sh`'s many-tokens mode (see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p login-bench --bin mint_tokens -- <count> <file>
//! ```
//!
//! Writes `<count>` distinct valid access tokens, one a line, as the `simple` example's
//! `/login` issues them: HS256 with the secret of `BENCH_SECRET` (at least 32 bytes), the demo
//! user `johndoe@mail.com`, the scopes `read` and `write`, a session id (`sid`), 15 minutes.
//! Every server of the load benchmark (`bench_server`'s rows and the `simple` example) is
//! started with that secret, so one file serves them all.

use std::io::Write;

use login::{LoginManager, TokenRequest};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, file] = args.as_slice() else {
        return Err("usage: mint_tokens <count> <file>".into());
    };
    let count: usize = count.parse()?;
    let secret = std::env::var("BENCH_SECRET").map_err(|_| "BENCH_SECRET is not set")?;
    // The simple example's settings that shape its tokens: sessions (a `sid` in every token).
    let manager = LoginManager::builder("/login")
        .secret(secret)
        .sessions()
        .build()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(file)?);
    for _ in 0..count {
        let request = TokenRequest::new("johndoe@mail.com").scopes(["read", "write"]);
        let tokens = manager.start_session(request, None).await?;
        writeln!(out, "{}", tokens.access_token)?;
    }
    out.flush()?;
    Ok(())
}
