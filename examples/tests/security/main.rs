//! The security suite of the `simple` example (issue #6), at the HTTP level against its own
//! router, grouped by threat. Every case asserts the exact status, the exact
//! `WWW-Authenticate`, how many times the user loader and the handler ran, and that neither
//! the response nor the captured logs (TRACE level) contain the token.
//!
//! The runtime's own tests (`tests/tests/*.rs`, package `login-tests`) cover the same checklist
//! at the token and extractor level with a counting loader; this suite checks that the example
//! — its `#[user_loader]`, its `#[protected]` handlers, its login route and its store — keeps
//! every one of those promises, and adds what only an app shows (the login route's work, the
//! store, concurrency, properties over its real routes).
//!
//! | module | threat |
//! |---|---|
//! | `transport` | where credentials come from: schemes, headers, query, duplicates |
//! | `encoding` | token shape: segments, whitespace, base64url, JSON |
//! | `algorithm` | `alg`, signatures, allow-list, `crit`, `kid`/`jku`/`jwk`, public vectors |
//! | `claims` | `exp`/`nbf`/`iat`, `sub`, `aud`, duplicated claims |
//! | `scopes` | insufficient and malformed scopes, login scope escalation |
//! | `size` | oversized tokens, cookies, payloads and login bodies |
//! | `loader` | unknown subjects, and what reaches the store |
//! | `login` | equal work and answers, password bounds, stored hashes, rehash, login CSRF |
//! | `cookies` | precedence, duplicates, names, quoting, encodings |
//! | `properties` | proptest: random bytes and mutations in the header and the cookie |
//! | `concurrency` | many users' tokens at once, nothing lost or crossed |

mod common;

mod algorithm;
mod claims;
mod concurrency;
mod cookies;
mod encoding;
mod loader;
mod login;
mod properties;
mod scopes;
mod size;
mod transport;
