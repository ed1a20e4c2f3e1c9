//! A resource server for an identity provider's tokens (the routes are in
//! `examples/src/resource_server.rs`).
//!
//! ```text
//! LOGIN_OIDC_ISSUER=https://idp.example.com/realms/shop LOGIN_OIDC_AUDIENCE=shop-api \
//!     cargo run --example resource_server
//! curl -s -H "Authorization: Bearer <the provider's access token>" http://127.0.0.1:8000/me
//! ```
//!
//! `LOGIN_OIDC_ISSUER`: the provider's issuer, exactly as its tokens' `iss` says it (HTTPS;
//! plain HTTP only on a loopback host). `LOGIN_OIDC_AUDIENCE`: this API's identifier at the
//! provider, which its tokens' `aud` must name. `LOGIN_ADDR` (default `127.0.0.1:8000`).
//! A provider to try it with, on this machine: `examples/oidc-provider/` (`npm ci`, then
//! `PORT=4000 AUDIENCE=https://api.example node server.mjs`; its README line is in the
//! guide `docs/identity-providers.md`).

#[path = "../src/resource_server.rs"]
mod resource_server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    login_examples::init_tracing();
    let var = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let issuer = var("LOGIN_OIDC_ISSUER")?;
    let audience = var("LOGIN_OIDC_AUDIENCE")?;
    let manager = resource_server::manager(&issuer, &audience).await?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, resource_server::app(manager)).await?;
    Ok(())
}
