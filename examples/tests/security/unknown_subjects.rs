//! The loader (A.47–A.48): what reaches the example's store. A validly signed token
//! whose subject the store does not know is 401 `invalid_token` after exactly one lookup, and
//! the handler never runs; subjects are matched exactly (no case folding, trimming or
//! normalisation); nothing about unknown users is cached between requests.
//!
//! A.48 (a failing store → 5xx) does not apply: the example's loader returns `Option<User>`,
//! so it cannot fail; the runtime's suite covers it (`tests/tests/user_loader.rs`).
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use login_test_support::Expect;
use login_test_support::forge::{claims, valid_claims};
use serde_json::json;

use crate::common::{Case, GHOST, Harness, JOHN, both, count, run_all};

/// A.47: subjects the store does not know — a stranger, and near-misses of John's address.
#[tokio::test]
async fn unknown_subjects_are_invalid_after_one_lookup() {
    let h = Harness::new();
    let mut cases = Vec::new();
    for (name, sub) in [
        ("stranger", GHOST.to_owned()),
        ("upper case", JOHN.to_uppercase()),
        ("leading space", format!(" {JOHN}")),
        ("trailing space", format!("{JOHN} ")),
        ("trailing NUL", format!("{JOHN}\u{0}")),
        ("trailing newline", format!("{JOHN}\n")),
        ("fullwidth at sign", JOHN.replace('@', "\u{ff20}")),
        ("Cyrillic o", JOHN.replace('o', "\u{43e}")),
        ("percent-encoded", JOHN.replace('@', "%40")),
        ("SQL", "' OR '1'='1".to_owned()),
        ("wildcard", "*".to_owned()),
    ] {
        let token = claims(&valid_claims(&sub, json!({ "scopes": ["read", "write"] })));
        for path in ["/protected", "/scoped"] {
            cases.push(
                Case::bearer(
                    format!("A.47 {name} {path}"),
                    path,
                    &token,
                    Expect::InvalidToken,
                )
                .loads(1),
            );
        }
        // The optional route treats an unknown user as anonymous (after the one lookup).
        cases.push(
            Case::bearer(
                format!("A.47 {name} /optional"),
                "/optional",
                &token,
                Expect::Anonymous,
            )
            .loads(1),
        );
    }
    // The example's own manager mints tokens for anyone: the store still decides.
    both(
        &mut cases,
        "A.47 minted for a stranger",
        &h.token(GHOST, &[]),
        Expect::InvalidToken,
    );
    for case in &mut cases {
        if case.name.starts_with("A.47 minted") {
            case.loads = 1;
        }
    }
    run_all("loader", &cases).await;
}

/// Exactly one lookup per request, and nothing cached across requests: an unknown user's
/// token keeps costing one lookup, and works as soon as the user exists.
#[tokio::test]
async fn one_lookup_per_request_and_no_stale_answers() {
    let h = Harness::new();
    let token = h.token("new@mail.com", &["read", "write"]);
    for i in 0..3 {
        Case::bearer(
            format!("unknown, request {i}"),
            "/protected",
            &token,
            Expect::InvalidToken,
        )
        .loads(1)
        .run_on(&h)
        .await;
    }
    let hash = login::password::Passwords::default()
        .hash_blocking("new-password")
        .unwrap();
    h.db.add_user("new@mail.com", "New", hash, &["read"]);
    let reply = h.bearer("/protected", &token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["user"]["email"], "new@mail.com");
    assert_eq!(h.loads(), 4);
    // Scopes come from the token, not the store (the token was minted with `write`).
    let reply = h.bearer("/scoped", &token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(h.loads(), 5);
    assert_eq!(h.handler_runs(), 2);
    count("loader", 5);
}

/// The store receives exactly the token's subject, and the handler gets that user — also for
/// a subject with characters that need escaping in JSON.
#[tokio::test]
async fn the_handler_gets_the_subjects_user() {
    let h = Harness::new();
    let odd = "o'brien+\"tag\"@mail.com";
    let hash = login::password::Passwords::default()
        .hash_blocking("pw-of-obrien")
        .unwrap();
    h.db.add_user(odd, "O'Brien", hash, &[]);
    let token = claims(&valid_claims(odd, json!({})));
    let reply = h.bearer("/protected", &token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({ "user": { "email": odd, "name": "O'Brien" } })
    );
    assert_eq!((h.loads(), h.handler_runs()), (1, 1));
    count("loader", 1);
}
