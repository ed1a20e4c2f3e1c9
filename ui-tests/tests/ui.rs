//! Compile-pass and compile-fail cases for `#[user_loader]` and `#[protected]`.
//!
//! One concern per file under `tests/ui/{protected,user_loader}/{pass,fail}/`. The `.stderr`
//! files are pinned to one toolchain (rustc's wording and spans change between releases):
//! regenerate them with `TRYBUILD=overwrite cargo test -p login-ui-tests` and review the diff.
//! `cargo test -p login-ui-tests -- ui trybuild=NAME.rs` runs one case.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr files are pinned to Rust 1.95 stable"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/protected/pass/*.rs");
    cases.pass("tests/ui/user_loader/pass/*.rs");
    cases.compile_fail("tests/ui/protected/fail/*.rs");
    cases.compile_fail("tests/ui/user_loader/fail/*.rs");
}
