//! Example apps for the `login` crate. Each app lives in a module here (so that tests can drive
//! its router) and is started by a file of the same name in `examples/`:
//!
//! ```text
//! cargo run --example simple
//! ```

pub mod app;
pub mod asymmetric;
pub mod flood;
pub mod simple;
