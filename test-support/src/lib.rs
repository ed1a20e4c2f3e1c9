//! Helpers shared by the test suites of `login`: the runtime's HTTP-level tests (`tests/`,
//! package `login-tests`), the examples' security suite and contract tests
//! (`examples/tests/`, package `login-examples`), `login`'s integration tests and benches, and
//! the load benchmark's server (`bench/`). Each helper exists once, here; the suites
//! keep only their own fixtures (the `login-tests` router, the `simple` example's harness).
//!
//! * [`Reply`]: a collected response, with exact assertions for each RFC 6750 answer
//!   ([`Expect`]) and checks that a credential is not echoed.
//! * [`request`], [`form_request`], [`send`]: building requests and sending them through a
//!   router with `tower::ServiceExt::oneshot`.
//! * [`forge`]: hand-made JWS tokens (any header bytes, any payload bytes, any key).
//! * [`logs`]: a `tracing` subscriber that records every event and span of the current thread.
//! * [`form_urlencoded`], [`split_cookie`], [`cookie_parts`]: form bodies and `Set-Cookie`
//!   values.
//! * [`postgres`]: a PostgreSQL cluster of the test's own (`initdb`) on a free loopback port,
//!   with a database per case.
//! * [`oidc`]: a small identity provider of the tests' own (discovery, a key set it can be
//!   told to change, withhold, garble or bloat), and keys that sign its tokens.
//! * [`redis`]: a `redis-server` of the test's own on a free loopback port.
//! * [`redis_cluster`]: a Redis Cluster of the test's own (six `redis-server` processes).
//! * [`bench_app`]: the benches' app and its hand-written jsonwebtoken baseline, shared by
//!   `login`'s benches and the load benchmark's server (`bench/`).
//! * [`CountingScheme`]: a password scheme that counts the verifications, hashes and Argon2
//!   work `Passwords` asks of the scheme it wraps (`login`'s unit tests include its source).

#![warn(missing_docs)]

pub mod bench_app;
/// [`CountingScheme`]: a password scheme test double that counts work (`login`'s unit tests
/// include the same source file).
pub mod counting_scheme;
pub mod forge;
pub mod logs;
pub mod oidc;
pub mod postgres;
pub mod python;
pub mod redis;
pub mod redis_cluster;
mod reply;
mod request;

pub use counting_scheme::{CountingScheme, m_times_t};
pub use reply::{Expect, Reply, needles};
pub use request::{cookie_parts, form_request, form_urlencoded, request, send, split_cookie};

// What `counting_scheme` takes from the module around it (see the file).
use login::password::{PasswordError, PasswordScheme};

/// The fixture key `K` of the security checklist (`docs/security-checklist.md`; 32 bytes, the
/// HS256 minimum): the secret of every test manager and of [`forge`]'s tokens.
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// The frozen "now" of every test manager (2027-01-15T08:00:00Z), seconds since the epoch.
pub const NOW: i64 = 1_800_000_000;
