//! fastapi-login's usage page as an axum server.
//!
//! ```text
//! LOGIN_SECRET=$(openssl rand -hex 32) cargo run --example simple
//! curl -s -d 'username=johndoe@mail.com&password=hunter2' http://127.0.0.1:8000/login
//! curl -s -H "Authorization: Bearer <access_token>" http://127.0.0.1:8000/protected
//! ```
//!
//! `LOGIN_SECRET`: the HS256 secret (at least 32 bytes); without it a random one is made and
//! tokens do not survive a restart. `LOGIN_ADDR`: the address to bind (default
//! `127.0.0.1:8000`). `RUST_LOG`: the log filter (default `info`).

use login_examples::simple::{Db, app, manager};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let secret = match std::env::var("LOGIN_SECRET") {
        Ok(secret) => secret,
        Err(_) => {
            let bytes: [u8; 32] = rand::random();
            tracing::warn!(
                "LOGIN_SECRET is not set: using a random secret; tokens will not survive a restart"
            );
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let manager = manager(&secret).map_err(|e| format!("LOGIN_SECRET: {e}"))?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());

    let app = app(manager, Db::demo());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("simple example listening on http://{local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
