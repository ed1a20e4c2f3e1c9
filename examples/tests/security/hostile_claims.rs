//! Claims (A.29–A.39): `exp` required, typed and strictly in the future (no
//! leeway), `nbf` and `iat` checked, `sub` a non-empty string, `aud` refused when none is
//! configured, and no claim twice — including the attempt to smuggle a second `sub` naming
//! another user. Every token is validly MACed with the example's key (the clock is frozen at
//! `NOW`), so only the claims are at fault; all are refused before the loader.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use login_test_support::forge::{claims, hs256, valid_claims};
use login_test_support::{Expect, NOW};
use serde_json::{Value, json};

use crate::common::{Case, Harness, JANE, JOHN, both, run_all};

fn refused(cases: &mut Vec<Case>, name: &str, claim_set: &Value) {
    both(cases, name, &claims(claim_set), Expect::InvalidToken);
}

/// A.29–A.33: `exp`.
#[tokio::test]
async fn exp() {
    let mut cases = Vec::new();
    refused(
        &mut cases,
        "A.29 exp missing",
        &valid_claims(JOHN, json!({ "exp": null })),
    );
    for (name, exp) in [
        ("string", json!("9999999999")),
        ("null", Value::Null),
        ("true", json!(true)),
        ("negative", json!(-1)),
        ("1e300", json!(1e300)),
        (
            "2^64",
            serde_json::from_str::<Value>("18446744073709551616").unwrap(),
        ),
        ("array", json!([NOW + 900])),
        ("object", json!({ "t": NOW + 900 })),
        ("zero", json!(0)),
        ("after year 9999", json!(253_402_300_800i64)),
    ] {
        // `valid_claims` drops a null; write it by hand.
        let mut c = valid_claims(JOHN, json!({}));
        c["exp"] = exp;
        refused(&mut cases, &format!("A.30 exp {name}"), &c);
    }
    for (name, exp) in [("now - 1", NOW - 1), ("now", NOW)] {
        refused(
            &mut cases,
            &format!("A.31 exp = {name}"),
            &valid_claims(JOHN, json!({ "exp": exp })),
        );
    }
    // A fractional NumericDate is truncated towards the past: now + 0.5 is already expired.
    refused(
        &mut cases,
        "A.33 exp = now + 0.5",
        &valid_claims(JOHN, json!({ "exp": NOW as f64 + 0.5 })),
    );
    for (name, exp) in [
        ("A.31 exp = now + 1", json!(NOW + 1)),
        ("A.33 exp = now + 900.5", json!(NOW as f64 + 900.5)),
    ] {
        both(
            &mut cases,
            name,
            &claims(&valid_claims(JOHN, json!({ "exp": exp }))),
            Expect::User(JOHN),
        );
    }
    run_all("claims", &cases).await;
}

/// A.31 with the example's own tokens and a moving clock: valid until one second before
/// `iat + 900`, refused from then on — also when the token was seen (and cached) before.
#[tokio::test]
async fn minted_token_expires_on_time() {
    let h = Harness::new();
    let token = h.john();
    Case::bearer("fresh", "/protected", &token, Expect::User(JOHN))
        .run_on(&h)
        .await;
    h.set_now(NOW + 899);
    Case::bearer("last second", "/protected", &token, Expect::User(JOHN))
        .run_on(&h)
        .await;
    for offset in [900, 901, 86_400] {
        h.set_now(NOW + offset);
        Case::bearer(
            format!("now + {offset}"),
            "/protected",
            &token,
            Expect::InvalidToken,
        )
        .run_on(&h)
        .await;
    }
    // Back in time (a clock step): `iat` in the future.
    h.set_now(NOW - 1);
    Case::bearer(
        "iat in the future",
        "/protected",
        &token,
        Expect::InvalidToken,
    )
    .run_on(&h)
    .await;
    crate::common::count("claims", 6);
}

/// A.34 and `iat`: not yet valid, or issued in the future, or mistyped.
#[tokio::test]
async fn nbf_and_iat() {
    let mut cases = Vec::new();
    for (name, extra) in [
        ("A.34 nbf in the future", json!({ "nbf": NOW + 3000 })),
        ("A.34 nbf = now + 1", json!({ "nbf": NOW + 1 })),
        (
            "A.34 nbf a string",
            json!({ "nbf": (NOW - 10).to_string() }),
        ),
        ("A.34 nbf null", json!({ "nbf": Value::Null })),
        ("iat in the future", json!({ "iat": NOW + 1 })),
        ("iat a string", json!({ "iat": NOW.to_string() })),
        ("iat negative", json!({ "iat": -5 })),
    ] {
        let mut c = valid_claims(JOHN, json!({}));
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        refused(&mut cases, name, &c);
    }
    both(
        &mut cases,
        "A.34 nbf = now",
        &claims(&valid_claims(JOHN, json!({ "nbf": NOW }))),
        Expect::User(JOHN),
    );
    // `simple` has sessions: a token without `iat` is refused (nothing bounds when it was
    // issued, so no revocation could be kept long enough for it). A manager without sessions
    // accepts it (tests/tests/interop.rs).
    both(
        &mut cases,
        "no iat (fastapi-login's shape), with sessions",
        &claims(&valid_claims(JOHN, json!({ "iat": null }))),
        Expect::InvalidToken,
    );
    run_all("claims", &cases).await;
}

/// A.36: `sub` must be a non-empty string — refused before the loader otherwise (fastapi-login
/// would pass any JSON value to its loader).
#[tokio::test]
async fn sub_is_a_non_empty_string() {
    let mut cases = Vec::new();
    for (name, sub) in [
        ("missing", None),
        ("null", Some(Value::Null)),
        ("number", Some(json!(123))),
        ("array", Some(json!([JOHN]))),
        ("object", Some(json!({ "email": JOHN }))),
        ("empty", Some(json!(""))),
        ("true", Some(json!(true))),
    ] {
        let mut c = valid_claims(JOHN, json!({}));
        match sub {
            None => {
                c.as_object_mut().unwrap().remove("sub");
            }
            Some(v) => c["sub"] = v,
        }
        refused(&mut cases, &format!("A.36 sub {name}"), &c);
    }
    run_all("claims", &cases).await;
}

/// Duplicated claims are refused (RFC 7519 §4: a parser may keep the first or the last): a
/// second `sub` naming Jane after John's, spelled plainly or with a `\u` escape, and a second
/// `exp` extending the lifetime. Never "last one wins".
#[tokio::test]
async fn duplicated_claims_are_refused() {
    let exp = NOW + 900;
    let mut cases = Vec::new();
    for (name, payload) in [
        (
            "sub twice, two users",
            format!(r#"{{"sub":"{JOHN}","exp":{exp},"sub":"{JANE}"}}"#),
        ),
        (
            "sub twice, escaped key",
            format!(r#"{{"sub":"{JOHN}","exp":{exp},"s\u0075b":"{JANE}"}}"#),
        ),
        (
            "sub twice, same value",
            format!(r#"{{"sub":"{JOHN}","exp":{exp},"sub":"{JOHN}"}}"#),
        ),
        (
            "exp twice",
            format!(r#"{{"sub":"{JOHN}","exp":{},"exp":{exp}}}"#, NOW - 100),
        ),
        (
            "scopes twice",
            format!(
                r#"{{"sub":"{JOHN}","exp":{exp},"scopes":["read"],"scopes":["read","write"]}}"#
            ),
        ),
    ] {
        both(
            &mut cases,
            &format!("duplicated: {name}"),
            &hs256(&payload),
            Expect::InvalidToken,
        );
    }
    run_all("claims", &cases).await;
}

/// A.38: an `aud` is refused when the example configures none; mistyped registered claims are
/// refused; unknown claims are ignored.
#[tokio::test]
async fn aud_and_registered_claims() {
    let mut cases = Vec::new();
    for (name, extra) in [
        ("A.38 aud string", json!({ "aud": "other" })),
        ("A.38 aud array", json!({ "aud": ["other", "api"] })),
        ("A.38 aud empty array", json!({ "aud": [] })),
        ("iss not a string", json!({ "iss": 1 })),
        ("jti not a string", json!({ "jti": ["a"] })),
    ] {
        let mut c = valid_claims(JOHN, json!({}));
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        // An empty `aud` array is no audience at all: accepted.
        let expect = if name.contains("empty array") {
            Expect::User(JOHN)
        } else {
            Expect::InvalidToken
        };
        both(&mut cases, name, &claims(&c), expect);
    }
    both(
        &mut cases,
        "unknown claims (admin: true) are ignored",
        &claims(&valid_claims(
            JOHN,
            json!({ "admin": true, "role": "root" }),
        )),
        Expect::User(JOHN),
    );
    run_all("claims", &cases).await;
}
