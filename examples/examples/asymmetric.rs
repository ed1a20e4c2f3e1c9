//! The `simple` example's routes, signing with a private key, plus the JWKS route.
//!
//! ```text
//! openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out key.pem
//! LOGIN_PRIVATE_KEY=key.pem cargo run --example asymmetric
//! curl -s http://127.0.0.1:8000/.well-known/jwks.json
//! ```
//!
//! `LOGIN_PRIVATE_KEY`: a PEM private key (PKCS#1, PKCS#8, SEC1 or encrypted PKCS#8);
//! without it a key is generated at start-up. `LOGIN_KEY_PASSWORD`: the password of an
//! encrypted key. `LOGIN_ALGORITHM`: RS256 (default), RS384, RS512, PS256, PS384, PS512,
//! ES256, ES384 or EdDSA. `LOGIN_ADDR`: the address (default `127.0.0.1:8000`).

use login_examples::asymmetric::{KeyConfig, app, manager, signing_key};
use login_examples::simple::Db;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();

    let config = KeyConfig::from_env()?;
    let (key, generated) = signing_key(&config)?;
    if generated {
        tracing::warn!(
            algorithm = ?config.algorithm,
            "LOGIN_PRIVATE_KEY is not set: generated a {:?} key; tokens will not survive a restart",
            config.algorithm
        );
    }
    let manager = manager(key)?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    println!("asymmetric example listening on http://{local} (JWKS at /.well-known/jwks.json)");
    axum::serve(listener, app(manager, Db::demo()))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
