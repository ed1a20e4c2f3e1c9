//! Two managers in one app: users and admins, each with its own secret, login route, cookie
//! and scopes (see `login_examples::admins` for the routes).
//!
//! ```text
//! cargo run --example admins
//! curl -s -d 'username=root&password=correct horse' http://127.0.0.1:8000/admin/login
//! curl -s -H "Authorization: Bearer <access_token>" http://127.0.0.1:8000/admin
//! # the same token on a users' route is refused:
//! curl -si -H "Authorization: Bearer <access_token>" http://127.0.0.1:8000/me   # 401
//! ```
//!
//! `LOGIN_SECRET` and `LOGIN_ADMIN_SECRET` (at least 32 bytes each; random without them),
//! `LOGIN_ADDR` (default `127.0.0.1:8000`).

use login::password::Passwords;
use login_examples::admins::{self, Accounts, AppState};

fn secret(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect()
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    login_examples::init_tracing();
    let passwords = Passwords::default();
    let state = AppState {
        users: admins::users_manager(&secret("LOGIN_SECRET")).build()?,
        admins: admins::Admins(admins::admins_manager(&secret("LOGIN_ADMIN_SECRET")).build()?),
        accounts: Accounts::demo(&passwords),
        passwords,
    };
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("users and admins on http://{addr}");
    axum::serve(listener, admins::app(state)).await?;
    Ok(())
}
