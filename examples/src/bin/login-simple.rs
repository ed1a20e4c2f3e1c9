//! The `simple` example as a binary of the examples package, so that tests can start it as a
//! separate process (`env!("CARGO_BIN_EXE_login-simple")`; Cargo gives no such path for an
//! example). The same server as `cargo run --example simple`, configured by the same
//! environment variables.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();
    login_examples::simple::serve_from_env().await
}
