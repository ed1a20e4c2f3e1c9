//! A chat over WebSockets behind `#[protected]`.
//!
//! ```text
//! LOGIN_SECRET=$(openssl rand -hex 32) cargo run --example chat
//! curl -s -d 'username=alice&password=wonderland' http://127.0.0.1:8000/login
//! # then connect to ws://127.0.0.1:8000/ws with `Authorization: Bearer <access_token>`
//! ```
//!
//! `LOGIN_SECRET` (at least 32 bytes; random without it), `LOGIN_ADDR` (default
//! `127.0.0.1:8000`). Open connections re-check their token every 5 seconds and are closed
//! (code 1008) when it expires or its session ends.

use std::time::Duration;

use login_examples::chat;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();
    let secret = std::env::var("LOGIN_SECRET").unwrap_or_else(|_| {
        (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect()
    });
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let app = chat::app(
        chat::manager(&secret)?,
        chat::Users::demo(),
        Duration::from_secs(5),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("chat on http://{addr} (WebSocket at ws://{addr}/ws)");
    axum::serve(listener, app).await?;
    Ok(())
}
