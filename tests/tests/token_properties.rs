//! Property tests: round trips of random subjects, scope sets and extra claims; any single
//! character changed in a token breaks it; garbage never authenticates; expiry and scope
//! decisions follow their rules for random inputs.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use login::{LoginManager, TokenRequest};
use login_test_support::{Expect, NOW, SECRET};
use login_tests::{DB_DOWN, GHOST, TestApp, builder};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const RESERVED: &[&str] = &[
    "sub", "exp", "iat", "nbf", "jti", "iss", "sid", "aud", "scopes", "scope",
];
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn frozen_manager() -> LoginManager {
    builder().clock(|| NOW).build().unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// An RFC 6749 §3.3 scope-token.
fn scope() -> impl Strategy<Value = String> {
    "[!#-\\[\\]-~]{1,12}"
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Floats with few significant digits: serde_json's default (non-`float_roundtrip`)
        // parser may be off by one ULP on long ones, e.g. 485889519241335.56 comes back as
        // 485889519241335.5 (found by this test; see the report).
        (-1_000_000i64..1_000_000, 0u32..4)
            .prop_map(|(m, e)| Value::from(m as f64 / f64::from(1u32 << e) + 0.5)),
        "\\PC{0,24}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn extra_claims() -> impl Strategy<Value = Map<String, Value>> {
    btree_map(
        "[a-zA-Z_][a-zA-Z0-9_:.-]{0,12}"
            .prop_filter("reserved", |k| !RESERVED.contains(&k.as_str())),
        json_value(),
        0..6,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn dedup(scopes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scopes {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    /// create_access_token → verify_token gives back the subject, the de-duplicated scopes in
    /// order, the extra claims, and `exp - iat` = the lifetime.
    #[test]
    fn round_trip(
        subject in "\\PC{1,40}",
        scopes in vec(scope(), 0..8),
        extra in extra_claims(),
        lifetime in 1u64..=30 * 24 * 3600,
    ) {
        let manager = frozen_manager();
        let token = manager
            .create_access_token(
                TokenRequest::new(subject.clone())
                    .scopes(scopes.clone())
                    .extra(&extra)
                    .lifetime(Duration::from_secs(lifetime)),
            )
            .unwrap();
        let claims = manager.verify_token(&token).unwrap();
        prop_assert_eq!(&claims.sub, &subject);
        prop_assert_eq!(&claims.scopes, &dedup(&scopes));
        prop_assert_eq!(&claims.extra, &extra);
        prop_assert_eq!(claims.iat, Some(NOW));
        prop_assert_eq!(claims.exp, NOW + lifetime as i64);
        prop_assert!(claims.jti.is_some());
        prop_assert!(claims.aud.is_empty() && claims.iss.is_none() && claims.nbf.is_none());
        prop_assert!(claims.has_scopes(&scopes.iter().map(String::as_str).collect::<Vec<_>>()));
    }

    /// Any one character of a valid token replaced by another base64url character (or by a
    /// dot) makes it invalid.
    #[test]
    fn any_single_character_change_breaks_the_token(
        subject in "[a-z]{1,12}",
        position in any::<prop::sample::Index>(),
        replacement in prop::sample::select(B64URL.iter().copied().chain([b'.']).collect::<Vec<u8>>()),
    ) {
        let manager = frozen_manager();
        let token = manager.create_access_token(subject).unwrap();
        let mut bytes = token.clone().into_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let mutated = String::from_utf8(bytes).unwrap();
        prop_assert!(manager.verify_token(&mutated).is_err(), "accepted {} (from {})", mutated, token);
    }

    /// Random strings never verify and never panic.
    #[test]
    fn garbage_never_verifies(text in "\\PC{0,200}", dotted in "[A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,60}\\.[A-Za-z0-9_-]{0,50}") {
        let manager = frozen_manager();
        prop_assert!(manager.verify_token(&text).is_err());
        prop_assert!(manager.verify_token(&dotted).is_err());
    }

    /// Random subjects through HTTP: the loader receives exactly the subject.
    #[test]
    fn http_round_trip(subject in "[ -~]{1,40}".prop_filter("special", |s| s != GHOST && s != DB_DOWN)) {
        let app = TestApp::new();
        let reply = runtime().block_on(app.bearer("/me", &app.token(&subject)));
        reply.assert_ok(json!({ "user": subject }));
        prop_assert_eq!(app.probe.subjects(), vec![subject]);
    }

    /// Random `Authorization` values never authenticate: 401 or 400, loader and handler never
    /// run.
    #[test]
    fn random_authorization_never_authenticates(value in "[ -~]{0,120}") {
        let app = TestApp::new();
        let reply = runtime().block_on(app.get("/me", &[("authorization", &value)]));
        prop_assert!(reply.status == 401 || reply.status == 400, "{}", reply.status);
        prop_assert_eq!(app.probe.loads(), 0);
        prop_assert_eq!(app.probe.runs(), 0);
    }

    /// A token minted at NOW with lifetime `L` is valid exactly while `now < NOW + L`
    /// (with leeway 0).
    #[test]
    fn expiry_follows_the_lifetime(lifetime in 1u64..100_000, offset in -10i64..200_000) {
        let clock = Arc::new(AtomicI64::new(NOW));
        let c = clock.clone();
        let manager = LoginManager::builder("/login")
            .secret(SECRET)
            .clock(move || c.load(std::sync::atomic::Ordering::SeqCst))
            .build()
            .unwrap();
        let token = manager
            .create_access_token(TokenRequest::new("alice").lifetime(Duration::from_secs(lifetime)))
            .unwrap();
        clock.store(NOW + offset, std::sync::atomic::Ordering::SeqCst);
        let valid = offset < lifetime as i64 && offset >= 0;
        prop_assert_eq!(manager.verify_token(&token).is_ok(), valid, "offset {} lifetime {}", offset, lifetime);
    }

    /// `/write` answers 200 exactly when `write` is granted, and 403 (loader never run)
    /// otherwise.
    #[test]
    fn scope_decision(granted in vec(prop::sample::select(vec!["read", "write", "Write", "admin", "writer"]), 0..5)) {
        let app = TestApp::new();
        let token = app.token_with_scopes("alice", &granted);
        let reply = runtime().block_on(app.bearer("/write", &token));
        if granted.contains(&"write") {
            reply.assert_ok(json!({ "user": "alice" }));
        } else {
            reply.assert(Expect::InsufficientScope("write"));
            prop_assert_eq!(app.probe.loads(), 0);
        }
    }
}
