//! Stored password hashes from arbitrary text: `Argon2id::can_verify`, `needs_rehash` and
//! `Passwords::verify_blocking` never panic; what cannot be verified always needs a rehash;
//! and verification fails closed (a malformed or over-limit hash never verifies).
//!
//! Full verifications are only run for hashes with tiny parameters (m ≤ 256 KiB, t ≤ 2,
//! p ≤ 2), so that an execution stays fast; larger ones are checked for parsing only.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use login::password::{Argon2id, PasswordScheme, Passwords};

static PASSWORDS: LazyLock<Passwords> =
    LazyLock::new(|| Passwords::new(Argon2id::new(8, 1, 1).unwrap()).unwrap());

/// Whether the PHC parameters `m=…,t=…,p=…` are all small (a crude parse of the text).
fn cheap(stored: &str) -> bool {
    let Some(params) = stored.split('$').find(|s| s.contains("m=")) else {
        return true;
    };
    params.split(',').all(|kv| match kv.split_once('=') {
        Some(("m", v)) => v.parse::<u32>().is_ok_and(|m| m <= 256),
        Some(("t" | "p", v)) => v.parse::<u32>().is_ok_and(|n| n <= 2),
        _ => true,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(stored) = std::str::from_utf8(data) else {
        return;
    };
    let scheme = Argon2id::default();
    let usable = scheme.can_verify(stored);
    let rehash = scheme.needs_rehash(stored);
    if !usable {
        assert!(rehash, "an unusable hash must need a rehash: {stored:?}");
        assert_eq!(
            PASSWORDS.verify_blocking("password", Some(stored)),
            Ok(false)
        );
    } else if cheap(stored) {
        // A hash of some password: `verify` answers, never panics.
        let _ = PASSWORDS.verify_blocking("password", Some(stored));
    }
});
