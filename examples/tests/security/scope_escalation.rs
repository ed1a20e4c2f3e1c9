//! Scopes (A.40–A.44): `/scoped` needs `write`. A token without it is 403
//! `insufficient_scope` with `scope="write"`, decided before the loader; matching is exact;
//! malformed scope claims are an invalid token; the login route never grants more than the
//! user may hold.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use login_test_support::Expect;
use login_test_support::forge::{claims, valid_claims};
use serde_json::json;

use crate::common::{
    Case, Harness, JANE, JANE_PW, JOHN, JOHN_PW, both, both_on, count, run_all, user_json,
};

/// The case on `/scoped` (which requires `write`) through both carriers.
fn scoped(cases: &mut Vec<Case>, name: &str, token: &str, expect: Expect) {
    both_on(cases, "/scoped", name, token, expect);
}

/// A.40–A.43 with the example's own tokens and with forged scope claims.
#[tokio::test]
async fn insufficient_and_malformed_scopes() {
    let h = Harness::new();
    let write = Expect::InsufficientScope("write");
    let mut cases = Vec::new();
    scoped(
        &mut cases,
        "A.40 Jane's real token (read)",
        &h.jane(),
        write,
    );
    scoped(
        &mut cases,
        "A.40 John's token with read only",
        &h.token(JOHN, &["read"]),
        write,
    );
    scoped(
        &mut cases,
        "A.43 no scopes claim",
        &h.token(JOHN, &[]),
        write,
    );
    scoped(
        &mut cases,
        "John's real token",
        &h.john(),
        Expect::User(JOHN),
    );
    for (name, scopes, expect) in [
        ("A.42 Write (case)", json!(["Write"]), write),
        ("A.42 WRITE", json!(["WRITE"]), write),
        ("A.42 write with a space", json!(["write "]), write),
        ("A.42 rewrite (substring)", json!(["rewrite"]), write),
        ("A.42 writer (prefix)", json!(["writer"]), write),
        ("A.42 read write in one item", json!(["read write"]), write),
        (
            "A.42 string, not an array",
            json!("write"),
            Expect::InvalidToken,
        ),
        (
            "A.42 non-string item",
            json!(["read", 1]),
            Expect::InvalidToken,
        ),
        ("A.42 null", json!(null), Expect::InvalidToken),
        (
            "A.42 object",
            json!({ "write": true }),
            Expect::InvalidToken,
        ),
        (
            "A.42 empty item",
            json!(["", "write"]),
            Expect::InvalidToken,
        ),
        (
            "A.42 nested array",
            json!([["write"]]),
            Expect::InvalidToken,
        ),
    ] {
        let mut c = valid_claims(JOHN, json!({}));
        c["scopes"] = scopes;
        scoped(&mut cases, name, &claims(&c), expect);
    }
    for (name, scope, expect) in [
        (
            "OAuth scope string",
            json!("read write"),
            Expect::User(JOHN),
        ),
        (
            "OAuth scope string without write",
            json!("read writer"),
            write,
        ),
        ("OAuth scope string glued", json!("readwrite"), write),
        (
            "OAuth scope not a string",
            json!(["write"]),
            Expect::InvalidToken,
        ),
    ] {
        scoped(
            &mut cases,
            name,
            &claims(&valid_claims(JOHN, json!({ "scope": scope }))),
            expect,
        );
    }
    // Scopes do not make a token valid: an expired token with `write` is still expired.
    scoped(
        &mut cases,
        "expired token with write",
        &claims(&valid_claims(
            JOHN,
            json!({ "scopes": ["write"], "exp": login_test_support::NOW }),
        )),
        Expect::InvalidToken,
    );
    // A scope the route does not need changes nothing on the other routes.
    both(
        &mut cases,
        "A.43 no scopes on /protected",
        &h.token(JOHN, &[]),
        Expect::User(JOHN),
    );
    // The optional route does not check scopes; a missing scope does not make it anonymous.
    cases.push(Case::bearer(
        "read-only token on /optional",
        "/optional",
        &h.jane(),
        Expect::User(JANE),
    ));
    run_all("scopes", &cases).await;
}

/// A.44: scope escalation at login. Jane (who may hold `read` only) asks for `write`,
/// `admin`, a case variant and a smuggled separator; the token she gets never grants more
/// than `read`, and `/scoped` refuses it; when nothing she asked for is grantable she gets
/// `invalid_scope` and no token at all.
#[tokio::test]
async fn login_never_grants_more_than_the_user_holds() {
    let h = Harness::new();
    for (name, scope) in [
        ("write", "write"),
        ("admin", "admin"),
        ("WRITE", "WRITE"),
        ("write with NUL", "write%00"),
        ("write with a plus", "write+read"),
        ("tab-separated", "read%09write"),
        ("comma-separated", "read,write"),
        ("repeated", "read%20read%20write%20write"),
    ] {
        let body = format!("username=janedoe%40mail.com&password={JANE_PW}&scope={scope}");
        let reply = h.form("/login", &body, &[]).await;
        if reply.status == 400 {
            assert_eq!(reply.json()["error"], "invalid_scope", "A.44 {name}");
            assert!(reply.json().get("access_token").is_none(), "A.44 {name}");
            assert!(
                !["write+read", "read%20read%20write%20write"].contains(&scope),
                "A.44 {name}: `read` was grantable"
            );
            continue;
        }
        assert_eq!(reply.status, 200, "A.44 {name}: {}", reply.text());
        let token = reply.json()["access_token"].as_str().unwrap().to_owned();
        let granted = h.manager.verify_token(&token).unwrap().scopes;
        assert!(
            granted.iter().all(|s| s == "read"),
            "A.44 {name}: granted {granted:?}"
        );
        let denied = h.bearer("/scoped", &token).await;
        denied.assert_case(
            &format!("A.44 {name}"),
            Expect::InsufficientScope("write"),
            user_json,
        );
    }
    // John may hold `write`, but not `admin`.
    let body = format!("username=johndoe%40mail.com&password={JOHN_PW}&scope=admin%20write");
    let reply = h.form("/login", &body, &[]).await;
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        h.manager.verify_token(&token).unwrap().scopes,
        vec!["write"]
    );
    count("scopes", 9);
}
