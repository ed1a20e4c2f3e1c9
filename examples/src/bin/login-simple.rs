//! The `simple` example as a binary of the examples package, so that tests can start it as a
//! separate process (`env!("CARGO_BIN_EXE_login-simple")`; Cargo gives no such path for an
//! example). The same server as `cargo run --example simple`, configured by the same
//! environment variables.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    login_examples::simple::serve_from_env().await
}
