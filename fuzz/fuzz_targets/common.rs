//! Shared fixtures: a manager like the `simple` example's (HS256, cookie and header, scopes
//! `read` and `write`) with its clock frozen, so that seed tokens stay valid forever.

#![allow(dead_code)]

use login::{LoginManager, TokenRequest};

/// The HMAC secret of every fuzz target (the seeds in `fuzz/seeds` are MACed with it).
pub const SECRET: &str = "fuzz-secret-0123456789abcdef-0123456789";
/// The frozen clock: 2027-01-15T08:00:00Z.
pub const NOW: i64 = 1_800_000_000;

/// The manager, with a token cache of `cache` entries of about 1 KiB each (0: none).
pub fn manager(cache: usize) -> LoginManager {
    LoginManager::builder("/login")
        .secret(SECRET)
        .use_cookie(true)
        .use_header(true)
        .scopes([("read", "Read"), ("write", "Write")])
        .token_cache_bytes(cache * 1024)
        .clock(|| NOW)
        .build()
        .expect("valid fuzz configuration")
}

/// A token minted by `manager` for `subject` with `scopes`.
pub fn token(manager: &LoginManager, subject: &str, scopes: &[&str]) -> String {
    manager
        .create_access_token(TokenRequest::new(subject).scopes(scopes.iter().copied()))
        .expect("token")
}
