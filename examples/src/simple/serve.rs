//! The `simple` app as a server: its settings from the environment (see
//! `examples/simple.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use login::throttle::{Throttle, TrustedProxies};
use login::{LoginManager, session::SessionStore};

use super::{Db, app, settings};

/// [`manager`](super::manager) with its sessions in `store` (the `RedisStore` of `LOGIN_REDIS_URL` or `LOGIN_REDIS_CLUSTER`), or in
/// memory for `None`.
pub fn manager_with_store(
    secret: &str,
    store: Option<Arc<dyn SessionStore>>,
) -> Result<LoginManager, login::ConfigError> {
    manager_with_throttle(secret, store, throttle(secret, TrustedProxies::none()))
}

/// The example's login throttle: the defaults, device tokens signed with a key derived from
/// `secret` (so every instance with the same secret honours them), and the forwarding header
/// believed from `proxies` only.
pub fn throttle(secret: &str, proxies: TrustedProxies) -> Throttle {
    Throttle::default()
        .device_key(format!("simple example device tokens: {secret}"))
        .trusted_proxies(proxies)
}

/// [`manager_with_store`] with the login throttle's settings.
pub fn manager_with_throttle(
    secret: &str,
    store: Option<Arc<dyn SessionStore>>,
    throttle: Throttle,
) -> Result<LoginManager, login::ConfigError> {
    let builder = settings(LoginManager::builder("/login").secret(secret)).throttle(throttle);
    match store {
        Some(store) => builder.session_store(store),
        None => builder,
    }
    .build()
}

/// The example's server, configured from the environment (see `examples/simple.rs`):
/// `LOGIN_SECRET`, `LOGIN_ADDR`, `LOGIN_REDIS_URL` (or `LOGIN_REDIS_CLUSTER`) for sessions in
/// Redis, `LOGIN_DATABASE_URL` for sessions in PostgreSQL, and
/// `LOGIN_TRUSTED_PROXIES` (comma-separated addresses and CIDR ranges, default none) for the
/// proxies whose `X-Forwarded-For` the login throttle believes. Prints
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
    let proxies: TrustedProxies = std::env::var("LOGIN_TRUSTED_PROXIES")
        .unwrap_or_default()
        .parse()
        .map_err(|e| format!("LOGIN_TRUSTED_PROXIES: {e}"))?;
    let manager = manager_with_throttle(&secret, store, throttle(&secret, proxies))
        .map_err(|e| format!("LOGIN_SECRET: {e}"))?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());

    let app = app(manager, Db::demo());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("simple example listening on http://{local}");
    // The socket's address reaches the login throttle as `ConnectInfo`.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
