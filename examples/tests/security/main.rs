//! The security suite of the `simple` example, at the HTTP level against its own
//! router, grouped by threat. Every case asserts the exact status, the exact
//! `WWW-Authenticate`, how many times the user loader and the handler ran, and that neither
//! the response nor the captured logs (TRACE level) contain the token.
//!
//! The runtime's own tests (`tests/tests/*.rs`, package `login-tests`) cover the same items of
//! `docs/security-checklist.md`
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
//! | `hostile_claims` | `exp`/`nbf`/`iat`, `sub`, `aud`, duplicated claims |
//! | `scope_escalation` | insufficient and malformed scopes, login scope escalation |
//! | `size` | oversized tokens, cookies, payloads and login bodies |
//! | `unknown_subjects` | unknown subjects, and what reaches the store |
//! | `login` | equal work and answers, password bounds, stored hashes, rehash, login CSRF |
//! | `cookie_smuggling` | precedence, duplicates, names, quoting, encodings |
//! | `credential_properties` | proptest: random bytes and mutations in the header and the cookie |
//! | `concurrency` | many users' tokens at once, nothing lost or crossed |

mod common;

mod algorithm;
mod concurrency;
mod cookie_smuggling;
mod credential_properties;
mod encoding;
mod hostile_claims;
mod login;
mod scope_escalation;
mod size;
mod transport;
mod unknown_subjects;
