//! Unit tests of [`WithBcrypt`]: passlib's hashes, the refused variants, and equal work.

use super::{bcrypt_cost_of, count};
use crate::password::tests::counting_scheme::CountingScheme;
use crate::password::*;

fn verify_blocking(password: &str, stored: Option<&str>) -> Result<bool, PasswordError> {
    Passwords::default().verify_blocking(password, stored)
}
fn needs_rehash(stored: &str) -> bool {
    Passwords::default().needs_rehash(stored)
}

/// Made by passlib 1.7.4 (bcrypt 4.0.1 backend): `bcrypt.using(rounds=4, ident=…).hash("hunter2")`.
const PASSLIB_2B: &str = "$2b$04$U8Sy4aiE/7KLTBeyvzLSkuqTuh6JiH5gjGFrf.qF25Ur2.mTOvpYS";
const PASSLIB_2A: &str = "$2a$04$yc7F8S/2qWXytjIKgYL6SerUZAeIZ53dOabnD2mGS/aC1OjpZoe3a";
const PASSLIB_2Y: &str = "$2y$04$hm5EdA2uIh.T6il7ElDYLOwE4q4dIZcRSMmYmuYo3XYXoq97mTv6C";
/// passlib, `"ü" * 40` (80 bytes of UTF-8: bcrypt uses the first 72).
const PASSLIB_LONG: &str = "$2b$04$n86TCW6CSTgoTZTk8aXtcOQ826HeMD39Wixfbu211iXMHJcURNlyq";

fn passwords(bcrypt_cost: u32) -> Passwords {
    Passwords::new(WithBcrypt::new(Argon2id::default(), bcrypt_cost).unwrap()).unwrap()
}

/// A bcrypt hash of `password` at `cost`, made by the bcrypt crate.
fn bcrypt_hash(password: &str, cost: u32) -> String {
    bcrypt::hash(password, cost).unwrap()
}

#[test]
fn passlib_hashes_verify_and_need_rehash() {
    let passwords = passwords(4);
    for stored in [PASSLIB_2B, PASSLIB_2A, PASSLIB_2Y] {
        assert_eq!(
            passwords.verify_blocking("hunter2", Some(stored)),
            Ok(true),
            "{stored}"
        );
        assert_eq!(
            passwords.verify_blocking("hunter3", Some(stored)),
            Ok(false),
            "{stored}"
        );
        assert_eq!(
            passwords.verify_blocking("Hunter2", Some(stored)),
            Ok(false),
            "{stored}"
        );
        assert!(passwords.needs_rehash(stored), "{stored}");
    }
    // New hashes are Argon2id, verify, and need no rehash.
    let upgraded = passwords.hash_blocking("hunter2").unwrap();
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );
    assert_eq!(
        passwords.verify_blocking("hunter2", Some(&upgraded)),
        Ok(true)
    );
    assert_eq!(
        passwords.verify_blocking("hunter3", Some(&upgraded)),
        Ok(false)
    );
    assert!(!passwords.needs_rehash(&upgraded));
    // The plain Argon2id scheme fails them closed.
    assert_eq!(verify_blocking("hunter2", Some(PASSLIB_2B)), Ok(false));
    assert!(needs_rehash(PASSLIB_2B));
}

/// Like passlib 1.7: only the first 72 bytes count, a multi-byte character cut at byte 72.
#[test]
fn long_passwords_use_their_first_72_bytes_like_passlib() {
    let passwords = passwords(4);
    let password = "ü".repeat(40);
    assert_eq!(
        passwords.verify_blocking(&password, Some(PASSLIB_LONG)),
        Ok(true)
    );
    // Differs after byte 72 only: passlib verifies it too (checked live in login-tests).
    let after = format!("{}xxxxxxxx", "ü".repeat(36));
    assert_eq!(
        passwords.verify_blocking(&after, Some(PASSLIB_LONG)),
        Ok(true)
    );
    // Differs before byte 72, or is shorter: no.
    let before = format!("a{}", "ü".repeat(39));
    assert_eq!(
        passwords.verify_blocking(&before, Some(PASSLIB_LONG)),
        Ok(false)
    );
    let shorter = "ü".repeat(35);
    assert_eq!(
        passwords.verify_blocking(&shorter, Some(PASSLIB_LONG)),
        Ok(false)
    );
    // The upgrade hashes the whole password: from then on it must match in full.
    let upgraded = passwords.hash_blocking(&password).unwrap();
    assert_eq!(
        passwords.verify_blocking(&password, Some(&upgraded)),
        Ok(true)
    );
    assert_eq!(
        passwords.verify_blocking(&after, Some(&upgraded)),
        Ok(false)
    );
    // Made here, 100 ASCII bytes.
    let stored = bcrypt_hash(&"x".repeat(100), 4);
    assert_eq!(
        passwords.verify_blocking(&"x".repeat(72), Some(&stored)),
        Ok(true)
    );
    assert_eq!(
        passwords.verify_blocking(&"x".repeat(71), Some(&stored)),
        Ok(false)
    );
}

/// passlib refuses to hash a password with a NUL byte, so none matches; the answer is a wrong
/// password's, not an error that would tell the account has a bcrypt hash.
#[test]
fn a_nul_byte_never_matches() {
    let passwords = passwords(4);
    let stored = bcrypt_hash("abc", 4);
    assert_eq!(passwords.verify_blocking("abc", Some(&stored)), Ok(true));
    assert_eq!(passwords.verify_blocking("abc\0", Some(&stored)), Ok(false));
    assert_eq!(
        passwords.verify_blocking("abc\0xyz", Some(&stored)),
        Ok(false)
    );
}

#[test]
fn refused_variants_and_malformed_hashes_fail_closed() {
    let passwords = passwords(4);
    let tail = &PASSLIB_2B[7..];
    let refused = [
        // crypt_blowfish's buggy-algorithm mark, and bcrypt's first format.
        format!("$2x$04${tail}"),
        format!("$2$04${tail}"),
        // Costs outside bcrypt's range, or above the limit (a planted hash would spin for days).
        format!("$2b$03${tail}"),
        format!("$2b$15${tail}"),
        format!("$2b$31${tail}"),
        format!("$2b$99${tail}"),
        // Malformed: cost, length, alphabet, separator.
        format!("$2b$4${tail}"),
        format!("$2b$+4${tail}"),
        format!("$2b$04${}", &tail[1..]),
        format!("$2b$04${tail}x"),
        format!("$2b$04${}!", &tail[1..]),
        format!("$2b$04x{tail}"),
        // Non-canonical base64: the salt's last character carries stray low bits.
        format!("$2b$04${}Z{}", &tail[..21], &tail[22..]),
        "$2b$".to_owned(),
        "$2".to_owned(),
    ];
    for stored in &refused {
        assert_eq!(
            passwords.verify_blocking("hunter2", Some(stored)),
            Ok(false),
            "{stored}"
        );
        assert!(!passwords.inner.scheme.can_verify(stored), "{stored}");
        assert!(passwords.needs_rehash(stored), "{stored}");
    }
    assert_eq!(bcrypt_cost_of(PASSLIB_2B), Some(4));
    assert_eq!(bcrypt_cost_of(&format!("$2b$31${tail}")), Some(31));
    assert_eq!(bcrypt_cost_of(&format!("$2x$04${tail}")), None);
}

#[test]
fn the_cost_is_checked_and_is_the_limit_of_stored_hashes() {
    for cost in [0, 3, 32, u32::MAX] {
        assert_eq!(
            WithBcrypt::new(Argon2id::default(), cost).map(|_| ()),
            Err(PasswordError::Params),
            "{cost}"
        );
    }
    let tail = &PASSLIB_2B[7..];
    let at_15 = format!("$2b$15${tail}");
    let default = WithBcrypt::new(Argon2id::new(256, 1, 1).unwrap(), 12).unwrap();
    assert_eq!(default.bcrypt_cost(), 12);
    assert!(default.can_verify(&format!("$2b$12${tail}")));
    assert!(default.can_verify(&format!("$2b$04${tail}")));
    // Costlier than configured: fails closed (see the test of the timing oracle below).
    assert!(!default.can_verify(&format!("$2b$13${tail}")));
    assert!(!default.can_verify(&at_15));
    let high = WithBcrypt::new(Argon2id::new(256, 1, 1).unwrap(), 15).unwrap();
    assert!(high.can_verify(&at_15));
    assert!(!high.can_verify(&format!("$2b$16${tail}")));
    assert_eq!(high.inner(), &Argon2id::new(256, 1, 1).unwrap());
    assert!(format!("{high:?}").contains("bcrypt_cost: 15"));
}

/// An unknown user, Argon2id users (current or older parameters) and bcrypt users (at the
/// configured cost or below, right or wrong password), and every refused hash: one Argon2id
/// verification, the same Argon2id work and the same bcrypt rounds, on the same thread.
#[test]
fn equal_work_on_every_path() {
    const COST: u32 = 6;
    // Argon2id with small parameters, counting verifications and work (KiB × passes).
    let inner = CountingScheme::new(Argon2id::new(1024, 2, 1).unwrap());
    let counted = inner.clone();
    let passwords = Passwords::new(WithBcrypt::new(inner, COST).unwrap()).unwrap();
    let argon = passwords.hash_blocking("pw").unwrap();
    let dummy_work = passwords.inner.scheme.cost(&argon);
    assert_eq!(dummy_work, 2048);
    let argon_other = passwords.hash_blocking("pW").unwrap();
    let older = Argon2id::new(512, 1, 1).unwrap();
    let (older, older_other) = (older.hash(b"pw").unwrap(), older.hash(b"pW").unwrap());
    let tail = &PASSLIB_2B[7..];
    let cases: Vec<(&str, Option<String>, bool)> = vec![
        ("unknown user", None, false),
        ("argon2id, right", Some(argon), true),
        ("argon2id, wrong", Some(argon_other), false),
        ("older argon2id, right", Some(older), true),
        ("older argon2id, wrong", Some(older_other), false),
        (
            "bcrypt at the cost, right",
            Some(bcrypt_hash("pw", COST)),
            true,
        ),
        (
            "bcrypt at the cost, wrong",
            Some(bcrypt_hash("pW", COST)),
            false,
        ),
        ("cheaper bcrypt, right", Some(bcrypt_hash("pw", 4)), true),
        ("cheaper bcrypt, wrong", Some(bcrypt_hash("pW", 4)), false),
        ("$2x$", Some(format!("$2x$04${tail}")), false),
        ("planted cost 31", Some(format!("$2b$31${tail}")), false),
        ("malformed", Some("not-a-hash".to_owned()), false),
    ];
    count::take();
    for (case, stored, expected) in cases {
        counted.reset();
        assert_eq!(
            passwords.verify_blocking("pw", stored.as_deref()),
            Ok(expected),
            "{case}"
        );
        assert_eq!(counted.verifies(), 1, "{case}: Argon2id verifications");
        assert_eq!(counted.work(), dummy_work, "{case}: Argon2id work");
        assert_eq!(count::take(), 1 << COST, "{case}: bcrypt rounds");
    }
    // A stored cost above the configured one fails closed at the usual work.
    let costlier = bcrypt_hash("pw", COST + 1);
    counted.reset();
    assert_eq!(passwords.verify_blocking("pw", Some(&costlier)), Ok(false));
    assert_eq!(counted.work(), dummy_work);
    assert_eq!(count::take(), 1 << COST);
}

mod properties {
    use super::*;
    use crate::password::with_bcrypt::looks_like_bcrypt;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static SCHEME: LazyLock<WithBcrypt> =
        LazyLock::new(|| WithBcrypt::new(Argon2id::new(8, 1, 1).unwrap(), 4).unwrap());

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any text, and text shaped like bcrypt (any ident, any cost, any alphabet, lengths
        /// around the right one): no panic; whatever cannot be checked, and every bcrypt hash,
        /// needs a rehash; a usable one is a well-formed `$2a$`/`$2b$`/`$2y$` within the limit;
        /// a random usable hash never verifies (cheap ones only are run).
        #[test]
        fn stored_text_is_parsed_safely(
            any in "\\PC{0,80}",
            shaped in "\\$2[abxyz]?\\$[0-9+]{1,3}\\$[./A-Za-z0-9é$]{50,56}",
        ) {
            for stored in [&any, &shaped] {
                let usable = SCHEME.can_verify(stored);
                let bcrypt = looks_like_bcrypt(stored);
                prop_assert!(usable || SCHEME.needs_rehash(stored));
                if bcrypt {
                    prop_assert!(SCHEME.needs_rehash(stored));
                }
                if usable && bcrypt {
                    let cost = bcrypt_cost_of(stored).unwrap();
                    prop_assert!(cost <= SCHEME.bcrypt_cost());
                    prop_assert!(["$2a$", "$2b$", "$2y$"].contains(&&stored[..4]));
                    prop_assert_eq!(stored.len(), 60);
                    if cost <= 5 {
                        prop_assert!(!SCHEME.verify(b"password", stored));
                    }
                }
            }
        }
    }
}

/// Review fix: a stored bcrypt hash with a cost above the configured one fails closed after
/// the usual work (the configured cost's rounds): verified at its own cost, its login took
/// longer than an unknown user's, so timing told which accounts exist.
#[test]
fn a_bcrypt_cost_above_the_configured_one_fails_closed_after_the_usual_work() {
    let passwords =
        Passwords::new(WithBcrypt::new(Argon2id::new(64, 1, 1).unwrap(), 4).unwrap()).unwrap();
    let costlier = bcrypt_hash("hunter2", 5);
    count::take();
    assert_eq!(
        passwords.verify_blocking("hunter2", Some(&costlier)),
        Ok(false)
    );
    assert_eq!(count::take(), 1 << 4, "bcrypt rounds");
    assert_eq!(passwords.verify_blocking("hunter2", None), Ok(false));
    assert_eq!(count::take(), 1 << 4, "bcrypt rounds of an unknown user");
    // At the configured cost: verified.
    assert_eq!(
        passwords.verify_blocking("hunter2", Some(PASSLIB_2B)),
        Ok(true)
    );
    assert_eq!(count::take(), 1 << 4);
}
