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
//! `127.0.0.1:8000`). `RUST_LOG`: the log filter (default `info`). `LOGIN_REDIS_URL`
//! (`redis://127.0.0.1:6379/`): keep sessions and revocations in Redis, so that several
//! instances behind a load balancer share them (see `login_examples::session_store_from_env`
//! for the optional settings); `LOGIN_REDIS_CLUSTER` (`redis://10.0.0.1:6379,redis://10.0.0.2:6379`,
//! comma-separated node URLs) for the same on a Redis Cluster; `LOGIN_DATABASE_URL`
//! (`postgres://user@127.0.0.1/app`) for the same in PostgreSQL (its schema created if
//! missing); without any, in memory. `LOGIN_TRUSTED_PROXIES`
//! (`10.0.0.0/8,192.0.2.7`): the proxies whose `X-Forwarded-For` the login throttle believes
//! (default none: the socket's address is the client's).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();
    login_examples::simple::serve_from_env().await
}
