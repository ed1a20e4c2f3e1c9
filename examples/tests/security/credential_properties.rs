//! Properties (proptest) over the example's routes: arbitrary bytes and arbitrary mutations of
//! valid tokens, in the `Authorization` header and in the `access-token` cookie, never give a
//! 5xx or a panic, and a 200 only ever names the owner of a token sent unchanged; and a model
//! of the credential rules (a bearer token in the header first, no fallback, empty = absent) predicts every answer
//! exactly.

use std::collections::HashMap;

use axum::http::{HeaderValue, StatusCode};
use login_test_support::{Expect, Reply};
use proptest::prelude::*;
use proptest::sample::select;

use crate::common::{GHOST, Harness, JANE, JOHN, count, user_json};

const ROUTES: [&str; 3] = ["/protected", "/optional", "/scoped"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The app, and the valid tokens with their owners.
struct World {
    h: Harness,
    owners: HashMap<String, &'static str>,
    tokens: Vec<String>,
}

impl World {
    fn new() -> Self {
        let h = Harness::uncaptured();
        let john = h.john();
        let jane = h.jane();
        let owners = HashMap::from([(john.clone(), JOHN), (jane.clone(), JANE)]);
        World {
            h,
            owners,
            tokens: vec![john, jane],
        }
    }

    /// Sends `value` in `header` (skipped if it is not a valid header value) to every route,
    /// and checks the invariant. `sent` is the credential as the client meant it.
    async fn check(&self, header: &str, value: &[u8], sent: &[u8]) -> Result<(), TestCaseError> {
        if HeaderValue::from_bytes(value).is_err() {
            return Ok(());
        }
        // In a `Cookie` header, `;` ends the cookie: `access-token=<token>;x` carries <token>.
        let sent = match header {
            "cookie" => sent.split(|&b| b == b';').next().unwrap_or(sent),
            _ => sent,
        };
        for route in ROUTES {
            let reply = self.h.get(route, &[(header, value)]).await;
            self.invariant(route, &reply, sent)?;
        }
        Ok(())
    }

    /// No 5xx; only the statuses of the RFC 6750 rules; a 200 names nobody (optional route) or
    /// the owner of a valid token that was sent unchanged (up to the whitespace and quotes the
    /// carriers strip).
    fn invariant(&self, route: &str, reply: &Reply, sent: &[u8]) -> Result<(), TestCaseError> {
        prop_assert!(
            [200, 400, 401, 403].contains(&reply.status.as_u16()),
            "{route}: unexpected status {}",
            reply.status
        );
        if reply.status != StatusCode::OK {
            return Ok(());
        }
        let user = &reply.json()["user"];
        if user.is_null() {
            prop_assert_eq!(route, "/optional");
            return Ok(());
        }
        let sent = String::from_utf8_lossy(sent);
        let core = sent.trim_matches(|c| c == ' ' || c == '\t' || c == '"');
        let owner = self.owners.get(core);
        prop_assert!(
            owner.is_some(),
            "{route}: 200 for a token that is not one of the valid ones: {sent:?}"
        );
        prop_assert_eq!(
            user["email"].as_str(),
            owner.copied(),
            "{}: wrong user",
            route
        );
        Ok(())
    }
}

/// One edit of a token's bytes.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Replace {
        at: usize,
        byte: u8,
    },
    Insert {
        at: usize,
        byte: u8,
    },
    Delete {
        at: usize,
    },
    Truncate {
        at: usize,
    },
    ToggleCase {
        at: usize,
    },
    SwapSegments {
        a: usize,
        b: usize,
    },
    /// Replace segment `segment` by the same segment of the other user's token.
    Splice {
        segment: usize,
    },
    Append(Vec<u8>),
    Prepend(Vec<u8>),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (at, select(b"AZaz09-_.=+/ \t\"%,;".to_vec()))
            .prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (at, any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        at.prop_map(|at| Mutation::Delete { at }),
        at.prop_map(|at| Mutation::Truncate { at }),
        at.prop_map(|at| Mutation::ToggleCase { at }),
        (0usize..3, 0usize..3).prop_map(|(a, b)| Mutation::SwapSegments { a, b }),
        (0usize..3).prop_map(|segment| Mutation::Splice { segment }),
        proptest::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Append),
        proptest::collection::vec(any::<u8>(), 1..8).prop_map(Mutation::Prepend),
    ]
}

fn apply(token: &[u8], other: &[u8], m: &Mutation) -> Vec<u8> {
    let mut t = token.to_vec();
    let len = t.len().max(1);
    match m {
        Mutation::FlipBit { at, bit } if !t.is_empty() => t[at % len] ^= 1 << bit,
        Mutation::Replace { at, byte } if !t.is_empty() => t[at % len] = *byte,
        Mutation::Insert { at, byte } => t.insert(at % (t.len() + 1), *byte),
        Mutation::Delete { at } if !t.is_empty() => {
            t.remove(at % len);
        }
        Mutation::Truncate { at } => t.truncate(at % len),
        Mutation::ToggleCase { at } if !t.is_empty() => {
            let b = &mut t[at % len];
            *b = if b.is_ascii_lowercase() {
                b.to_ascii_uppercase()
            } else {
                b.to_ascii_lowercase()
            };
        }
        Mutation::SwapSegments { a, b } => {
            let mut segs: Vec<Vec<u8>> = t.split(|&c| c == b'.').map(<[u8]>::to_vec).collect();
            if *a < segs.len() && *b < segs.len() {
                segs.swap(*a, *b);
            }
            t = segs.join(&b'.');
        }
        Mutation::Splice { segment } => {
            let mut segs: Vec<Vec<u8>> = t.split(|&c| c == b'.').map(<[u8]>::to_vec).collect();
            let theirs: Vec<&[u8]> = other.split(|&c| c == b'.').collect();
            if *segment < segs.len() && *segment < theirs.len() {
                segs[*segment] = theirs[*segment].to_vec();
            }
            t = segs.join(&b'.');
        }
        Mutation::Append(bytes) => t.extend_from_slice(bytes),
        Mutation::Prepend(bytes) => {
            let mut p = bytes.clone();
            p.extend_from_slice(&t);
            t = p;
        }
        _ => {}
    }
    t
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

fn carriers(credential: &[u8]) -> [(&'static str, Vec<u8>); 2] {
    [
        (
            "authorization",
            [b"Bearer ".as_slice(), credential].concat(),
        ),
        ("cookie", [b"access-token=".as_slice(), credential].concat()),
    ]
}

/// Arbitrary mutations (1–4 edits, including splices with the other user's token) of John's
/// and Jane's valid tokens, in both carriers, on every route.
#[test]
fn mutated_tokens_never_authenticate_someone_else() {
    let rt = runtime();
    let world = World::new();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &(any::<bool>(), proptest::collection::vec(mutation(), 1..5)),
            |(jane, mutations)| {
                let (base, other) = if jane {
                    (&world.tokens[1], &world.tokens[0])
                } else {
                    (&world.tokens[0], &world.tokens[1])
                };
                let mut t = base.as_bytes().to_vec();
                for m in &mutations {
                    t = apply(&t, other.as_bytes(), m);
                }
                rt.block_on(async {
                    for (header, value) in carriers(&t) {
                        world.check(header, &value, &t).await?;
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
    count("properties", 1);
}

/// Arbitrary bytes as the bearer token, as the whole `Authorization` value, as the cookie's
/// value and as the whole `Cookie` header.
#[test]
fn arbitrary_bytes_never_authenticate() {
    let rt = runtime();
    let world = World::new();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..300), |bytes| {
            rt.block_on(async {
                for (header, value) in carriers(&bytes) {
                    world.check(header, &value, &bytes).await?;
                }
                world.check("authorization", &bytes, &bytes).await?;
                world.check("cookie", &bytes, &bytes).await?;
                Ok(())
            })
        })
        .unwrap();
    count("properties", 1);
}

/// Dotted text shaped like a JWT (three base64url-ish segments), in both carriers.
#[test]
fn jwt_shaped_text_never_authenticates() {
    let rt = runtime();
    let world = World::new();
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &"eyJ[A-Za-z0-9_-]{0,60}\\.eyJ[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,64}",
            |text| {
                rt.block_on(async {
                    for (header, value) in carriers(text.as_bytes()) {
                        world.check(header, &value, text.as_bytes()).await?;
                    }
                    Ok(())
                })
            },
        )
        .unwrap();
    count("properties", 1);
}

/// What a client may send as one credential.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cred {
    John,
    Jane,
    /// Validly signed, with every scope, for a subject the store does not know.
    Ghost,
    /// A tampered token: John's header and payload with Jane's signature.
    Tampered,
    Garbage,
    Empty,
}

fn cred() -> impl Strategy<Value = Cred> {
    select(vec![
        Cred::John,
        Cred::Jane,
        Cred::Ghost,
        Cred::Tampered,
        Cred::Garbage,
        Cred::Empty,
    ])
}

/// The rules, as a model: the header's bearer token decides when it is present and not empty
/// (no fallback to the cookie, which a third party could have planted); then the
/// cookie; an empty credential is no credential; scopes before the loader; the optional route
/// turns every 401 into an anonymous 200.
fn model(route: &str, cookie: Option<Cred>, header: Option<Cred>) -> (Expect, usize) {
    let decided = match (cookie, header) {
        (_, Some(h)) if h != Cred::Empty => Some(h),
        (Some(c), _) if c != Cred::Empty => Some(c),
        _ => None,
    };
    let (expect, loads) = match decided {
        None => (Expect::NoCredentials, 0),
        Some(Cred::Garbage | Cred::Tampered) => (Expect::InvalidToken, 0),
        Some(Cred::Jane) if route == "/scoped" => (Expect::InsufficientScope("write"), 0),
        Some(Cred::John) => (Expect::User(JOHN), 1),
        Some(Cred::Jane) => (Expect::User(JANE), 1),
        Some(Cred::Ghost) => (Expect::InvalidToken, 1),
        Some(Cred::Empty) => unreachable!(),
    };
    match (route, expect) {
        ("/optional", Expect::NoCredentials | Expect::InvalidToken) => (Expect::Anonymous, loads),
        _ => (expect, loads),
    }
}

/// Random combinations of a cookie and a header, each any kind of credential, on every route:
/// the exact answer and the exact number of store lookups are the model's.
#[test]
fn credential_rules_follow_the_model() {
    let rt = runtime();
    let world = World::new();
    let h = &world.h;
    let john = world.tokens[0].clone();
    let jane = world.tokens[1].clone();
    let ghost = h.token(GHOST, &["read", "write"]);
    let tampered = {
        let (jh, jp, _) = login_test_support::forge::parts(&john);
        let (_, _, ns) = login_test_support::forge::parts(&jane);
        format!("{jh}.{jp}.{ns}")
    };
    let text = |c: Cred| -> String {
        match c {
            Cred::John => john.clone(),
            Cred::Jane => jane.clone(),
            Cred::Ghost => ghost.clone(),
            Cred::Tampered => tampered.clone(),
            Cred::Garbage => "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".to_owned(),
            Cred::Empty => String::new(),
        }
    };
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(
            &(
                select(ROUTES.to_vec()),
                proptest::option::of(cred()),
                proptest::option::of(cred()),
            ),
            |(route, cookie, header)| {
                let cookie_value = cookie.map(|c| format!("access-token={}", text(c)));
                let header_value = header.map(|c| format!("Bearer {}", text(c)));
                let mut headers: Vec<(&str, &[u8])> = Vec::new();
                if let Some(v) = &cookie_value {
                    headers.push(("cookie", v.as_bytes()));
                }
                if let Some(v) = &header_value {
                    headers.push(("authorization", v.as_bytes()));
                }
                let (expect, loads) = model(route, cookie, header);
                let before = h.loads();
                let reply = rt.block_on(h.get(route, &headers));
                reply.assert_case(
                    &format!("{route} cookie={cookie:?} header={header:?}"),
                    expect,
                    user_json,
                );
                prop_assert_eq!(h.loads() - before, loads);
                Ok(())
            },
        )
        .unwrap();
    count("properties", 1);
}
