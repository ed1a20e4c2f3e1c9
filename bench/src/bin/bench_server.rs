//! The servers of the HTTP load benchmark (`bench/load.sh`, see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p login-bench --bin bench_server -- <mode> [alg] [--no-cache]
//! ```
//!
//! `<mode>`: `unprotected`, `hand-written` or `protected`; `[alg]`: `HS256` (default),
//! `RS256`, `ES256` or `EdDSA` (for `protected`); `--no-cache` turns the token cache off.
//! Every mode serves `GET /protected` with the same JSON (`{"user": {...}}`) for the same user.
//! The server prints `token <token>` (a token for that user, as the simple example's `/login`
//! issues it) and `listening on http://<addr>`; `BENCH_ADDR` sets the address (default
//! `127.0.0.1:8001`); `BENCH_SECRET` the HS256 secret (default: a fixed one), so that the tokens
//! of `mint_tokens` (the many-tokens mode) verify.
//!
//! - `unprotected`: the framework's ceiling; the handler looks the user up and answers.
//! - `hand-written`: what a Rust user writes by hand with jsonwebtoken (after axum's `jwt`
//!   example): the bearer token from the header, `jsonwebtoken::decode` with a key and a
//!   `Validation` built once, then the user from the store.
//! - `protected`: `#[protected]` and `#[user_loader]`.
//!
//! The app (users, loader, handlers, the hand-written extractor) is `login-test-support`'s
//! `bench_app`, the same as the criterion benches' (`login/benches/`).

use axum::Router;
use axum::routing::get;
use jsonwebtoken::Algorithm;
use login::{LoginManager, TokenRequest};
use login_test_support::bench_app::{
    AppState, SECRET, SUBJECT, hand_written_route, protected_route, raw_keys_with,
    signing_key_with, unprotected_route,
};

fn algorithm(name: &str) -> Algorithm {
    match name {
        "HS256" => Algorithm::HS256,
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        other => panic!("unknown algorithm {other}: HS256, RS256, ES256 or EdDSA"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("protected");
    let alg = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or("HS256");
    let secret = std::env::var("BENCH_SECRET").unwrap_or_else(|_| SECRET.to_owned());
    let mut builder =
        LoginManager::builder("/login").signing_key(signing_key_with(algorithm(alg), &secret));
    if args.iter().any(|a| a == "--no-cache") {
        builder = builder.token_cache_bytes(0);
    }
    let manager = builder.build()?;
    let token =
        manager.create_access_token(TokenRequest::new(SUBJECT).scopes(["read", "write"]))?;
    // The hand-written extractor verifies HS256 with the same secret, whatever `alg`.
    let state = AppState::with_keys(manager, raw_keys_with(Algorithm::HS256, &secret));
    let router = match mode {
        "unprotected" => Router::new().route("/protected", get(unprotected_route)),
        "hand-written" => Router::new().route("/protected", get(hand_written_route)),
        "protected" => Router::new().route("/protected", get(protected_route)),
        other => return Err(format!("unknown mode {other}").into()),
    }
    .with_state(state);

    let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8001".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("token {token}");
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
