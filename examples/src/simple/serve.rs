//! The `simple` app as a server: its settings from the environment (see
//! `examples/simple.rs`).

use std::sync::Arc;

use login::{LoginManager, session::SessionStore};

use super::{Db, app, settings};

/// [`manager`](super::manager) with its sessions in `store` (the `RedisStore` of `LOGIN_REDIS_URL`), or in
/// memory for `None`.
pub fn manager_with_store(
    secret: &str,
    store: Option<Arc<dyn SessionStore>>,
) -> Result<LoginManager, login::ConfigError> {
    let builder = settings(LoginManager::builder("/login").secret(secret));
    match store {
        Some(store) => builder.session_store(store),
        None => builder,
    }
    .build()
}

/// The example's server, configured from the environment (see `examples/simple.rs`):
/// `LOGIN_SECRET`, `LOGIN_ADDR`, and `LOGIN_REDIS_URL` for sessions in Redis. Prints
/// `simple example listening on http://ADDR` once it accepts connections; stops on Ctrl-C.
pub async fn serve_from_env() -> Result<(), Box<dyn std::error::Error>> {
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
    let store = crate::session_store_from_env().await?;
    let manager = manager_with_store(&secret, store).map_err(|e| format!("LOGIN_SECRET: {e}"))?;
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
