//! `python3` for the interop tests with other implementations (fastapi-login's PyJWT and
//! passlib, pyotp's TOTP): whether the modules a test needs import, and running a script.
//!
//! A test whose modules are missing is skipped with a note — except under CI (the `CI`
//! variable set, as `.ci/run` runs), where it fails: `.ci/run` installs them.

use std::process::Command;

/// Whether `python3 -c "import <modules>"` works; otherwise, outside CI, prints a note naming
/// `test` and `install` and answers `false` (skip the test), and under CI panics.
pub fn require(modules: &str, install: &str, test: &str) -> bool {
    let imports = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if imports {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "CI is set but `python3 -c 'import {modules}'` fails: install them (`{install}`) to run {test}"
        );
    }
    println!(
        "note: skipping {test}: `python3 -c 'import {modules}'` failed ({install}; under CI this test is required)"
    );
    false
}

/// Runs `python3 -c script args…`: its standard output, or its standard error as the error.
pub fn run(script: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .map_err(|e| format!("python3 did not start: {e}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    String::from_utf8(output.stdout).map_err(|e| e.to_string())
}
