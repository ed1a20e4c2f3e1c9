//! fastapi-login's "full example": users and posts in SQLite, HTML pages with a cookie login,
//! and a JSON API with bearer tokens on the same routes.
//!
//! ```text
//! LOGIN_SECRET=$(openssl rand -hex 32) cargo run --example app
//! # then open http://127.0.0.1:8000 in a browser, or:
//! curl -s -d 'email=ann@example.com&name=Ann&password=correct-horse' http://127.0.0.1:8000/register
//! curl -s -H 'Accept: application/json' -d 'username=ann@example.com&password=correct-horse' http://127.0.0.1:8000/login
//! curl -s -H "Authorization: Bearer <access_token>" -H 'Content-Type: application/json' \
//!      -d '{"title":"Hello","body":"First post"}' http://127.0.0.1:8000/posts
//! ```
//!
//! Options: `--database <url>` (default `sqlite:app.db`, created and migrated at start-up;
//! `sqlite::memory:` for a throw-away database), `--insecure-dev-cookie` (no `Secure`, no
//! `__Host-` prefix: only for browsers that refuse `Secure` cookies over plain HTTP, such as a
//! LAN address). `LOGIN_SECRET`: the HS256 secret (at least 32 bytes; without it a random one
//! is made and sessions do not survive a restart). `LOGIN_ADDR`: the address to bind (default
//! `127.0.0.1:8000`). `RUST_LOG`: the log filter (default `info`). `LOGIN_REDIS_URL`: keep
//! sessions and revocations in Redis, shared by every instance (in memory without it).

use std::net::SocketAddr;

use login_examples::app::{Cookies, builder, connect, router};

const USAGE: &str = "usage: app [--database <sqlite-url-or-path>] [--insecure-dev-cookie]";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();

    let mut database = "sqlite:app.db".to_owned();
    let mut cookies = Cookies::HostPrefixed;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--database" => database = args.next().ok_or(USAGE)?,
            "--insecure-dev-cookie" => cookies = Cookies::InsecureForDevelopment,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}").into()),
        }
    }
    if cookies == Cookies::InsecureForDevelopment {
        tracing::warn!("--insecure-dev-cookie: the token cookie is not Secure; development only");
    }

    let secret = match std::env::var("LOGIN_SECRET") {
        Ok(secret) => secret,
        Err(_) => {
            let bytes: [u8; 32] = rand::random();
            tracing::warn!(
                "LOGIN_SECRET is not set: using a random secret; sessions will not survive a restart"
            );
            bytes.iter().map(|b| format!("{b:02x}")).collect()
        }
    };
    let db = connect(&database)
        .await
        .map_err(|e| format!("database {database}: {e}"))?;
    let mut settings = builder(&secret, cookies, &db);
    if let Some(store) = login_examples::session_store_from_env().await? {
        settings = settings.session_store(store);
    }
    let manager = settings.build().map_err(|e| format!("LOGIN_SECRET: {e}"))?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(%database, "database ready");
    println!("app example listening on http://{local}");
    // With the peer's address (`ConnectInfo`), for the sign-in activity.
    let app = router(manager, db.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    db.close().await;
    Ok(())
}
