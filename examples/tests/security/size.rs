//! Size and parser DoS (A.45): oversized tokens in either carrier are refused before
//! any decoding or crypto (the runtime logs `token larger than 8192 bytes`), deep JSON inside
//! the size cap cannot overflow the stack, and many cookies or a huge subject cost one lookup
//! at most.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use std::time::{Duration, Instant};

use login_test_support::Expect;
use login_test_support::forge::{claims, hs256, valid_claims};
use serde_json::json;

use crate::common::{Case, Harness, JOHN, both, count, run_all};

/// A.45: 8 KiB + 1, 64 KiB, 300 KiB and 1 MiB tokens through both carriers, each one a later
/// step would refuse for another reason or accept: base64 of nothing, characters outside
/// base64url with no dots and in three parts (malformed), and a validly MACed token padded with
/// a huge claim (accepted). Each request logs the size refusal exactly once and no other
/// verification error: the size is checked before any decoding or crypto, and once.
#[tokio::test]
async fn oversized_tokens_are_refused_before_crypto() {
    let mut cases = Vec::new();
    for size in [8 * 1024 + 1, 64 * 1024, 300 * 1024, 1024 * 1024] {
        let garbage = "A".repeat(size);
        both(
            &mut cases,
            &format!("A.45 {size} B of base64"),
            &garbage,
            Expect::InvalidToken,
        );
        let not_base64 = "~".repeat(size);
        both(
            &mut cases,
            &format!("A.45 {size} B outside base64url"),
            &not_base64,
            Expect::InvalidToken,
        );
        let third = "~".repeat(size / 3);
        both(
            &mut cases,
            &format!("A.45 {size} B in three parts outside base64url"),
            &format!("{third}.{third}.{third}"),
            Expect::InvalidToken,
        );
        let padded = claims(&valid_claims(JOHN, json!({ "pad": "x".repeat(size) })));
        both(
            &mut cases,
            &format!("A.45 {size} B validly MACed"),
            &padded,
            Expect::InvalidToken,
        );
    }
    let started = Instant::now();
    for case in &cases {
        let h = Harness::new();
        case.run_on(&h).await;
        let logs = h.logs.text();
        assert_eq!(
            logs.matches("token larger than 8192 bytes").count(),
            1,
            "{}: not refused by size exactly once:\n{logs}",
            case.name
        );
        for later in [
            "malformed token",
            "algorithm not accepted",
            "bad signature",
            "invalid claims",
            "unknown key id",
            "token expired",
        ] {
            assert!(
                !logs.contains(later),
                "{}: reached a later step ({later}):\n{logs}",
                case.name
            );
        }
    }
    // The counts above prove the verification does no decoding; what is left is reading the
    // carriers (the header, the cookie jar), for which no count exists: a bound ~80× above
    // the measured 0.75 s (debug build, loaded 2-core machine), which only quadratic
    // scanning of a 1 MiB value would cross.
    let elapsed = started.elapsed();
    eprintln!("{} oversized tokens refused in {elapsed:?}", cases.len());
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    count("size", cases.len());
}

/// Just under the cap, a validly MACed token with a large extra claim is accepted (the cap is
/// on size, not on shape).
#[tokio::test]
async fn large_token_under_the_cap_is_accepted() {
    let base = claims(&valid_claims(JOHN, json!({ "pad": "" }))).len();
    // Each 3 bytes of claim text become 4 characters of base64.
    let pad = (8 * 1024 - base - 8) * 3 / 4;
    let token = claims(&valid_claims(JOHN, json!({ "pad": "x".repeat(pad) })));
    assert!(token.len() <= 8 * 1024, "{}", token.len());
    let mut cases = Vec::new();
    both(
        &mut cases,
        "token just under 8 KiB",
        &token,
        Expect::User(JOHN),
    );
    run_all("size", &cases).await;
}

/// Deep nesting within the size cap (serde_json's recursion limit, not the stack), a huge
/// number of claims, and huge numbers: refused or accepted, never a crash.
#[tokio::test]
async fn hostile_json_within_the_cap() {
    let exp = login_test_support::NOW + 900;
    // With an `iat`: `simple` has sessions, which refuse a token without one.
    let iat = login_test_support::NOW;
    let deep_array = format!(
        r#"{{"sub":"{JOHN}","exp":{exp},"iat":{iat},"x":{}{}}}"#,
        "[".repeat(2000),
        "]".repeat(2000)
    );
    let deep_object = format!(
        r#"{{"sub":"{JOHN}","exp":{exp},"iat":{iat},"x":{}1{}}}"#,
        r#"{"a":"#.repeat(600),
        "}".repeat(600)
    );
    let many_claims = {
        let mut c = valid_claims(JOHN, json!({}));
        for i in 0..400 {
            c[format!("c{i}")] = json!(i);
        }
        c.to_string()
    };
    let big_number = format!(
        r#"{{"sub":"{JOHN}","exp":{exp},"iat":{iat},"n":1{}}}"#,
        "0".repeat(300)
    );
    let huge_number = format!(
        r#"{{"sub":"{JOHN}","exp":{exp},"iat":{iat},"n":1{}}}"#,
        "0".repeat(4000)
    );
    let huge_exponent = format!(r#"{{"sub":"{JOHN}","exp":{exp},"iat":{iat},"n":1e999999999}}"#);
    let mut cases = Vec::new();
    both(
        &mut cases,
        "2000 nested arrays",
        &hs256(&deep_array),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "600 nested objects",
        &hs256(&deep_object),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "400 extra claims",
        &hs256(&many_claims),
        Expect::User(JOHN),
    );
    both(
        &mut cases,
        "a 300-digit number",
        &hs256(&big_number),
        Expect::User(JOHN),
    );
    both(
        &mut cases,
        "a 4000-digit number (out of f64 range)",
        &hs256(&huge_number),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "an out-of-range exponent",
        &hs256(&huge_exponent),
        Expect::InvalidToken,
    );
    run_all("size", &cases).await;
}

/// Many cookies (the token last), many `Cookie` headers, and a 5 KiB subject: the right answer,
/// with at most one store lookup.
#[tokio::test]
async fn many_cookies_and_huge_subjects() {
    let h = Harness::new();
    let good = h.john();
    let mut jar: String = (0..2000).map(|i| format!("c{i}=v{i}; ")).collect();
    jar.push_str(&format!("access-token={good}"));
    let mut cases = vec![
        Case::header(
            "2000 cookies, then the token",
            "/protected",
            "cookie",
            jar,
            Expect::User(JOHN),
        ),
        Case::header(
            "2000 cookies, no token",
            "/protected",
            "cookie",
            (0..2000)
                .map(|i| format!("c{i}=v{i}; "))
                .collect::<String>(),
            Expect::NoCredentials,
        ),
    ];
    let mut many = Case::header(
        "500 Cookie headers, no token",
        "/protected",
        "cookie",
        "a=1",
        Expect::NoCredentials,
    );
    for i in 0..499 {
        many = many.with("cookie", format!("c{i}=v{i}"));
    }
    cases.push(many);
    let huge_sub = format!("{}@mail.com", "j".repeat(5 * 1024));
    let token = claims(&valid_claims(&huge_sub, json!({})));
    assert!(token.len() < 8 * 1024, "{}", token.len());
    cases.push(
        Case::bearer(
            "5 KiB subject the store does not know",
            "/protected",
            &token,
            Expect::InvalidToken,
        )
        .loads(1),
    );
    run_all("size", &cases).await;
}
