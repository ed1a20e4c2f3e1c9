//! Token shape, encoding, algorithm, signature, header parameters and size
//! (A.9–A.27, A.45). Every case is sent as `Authorization: Bearer <token>` to `/me` and must
//! answer exactly 401 `invalid_token`, never echo the token, and never run the loader or the
//! handler.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use std::io::ErrorKind;
use std::net::TcpListener;

use jsonwebtoken::Algorithm;
use login::{TokenRequest, rejection::VerifyError};
use login_test_support::forge::{self, HS256_HEADER, b64, mac, raw, unb64};
use login_test_support::{Expect, NOW, SECRET};
use login_tests::TestApp;
use serde_json::json;

/// The documented size cap on tokens: 8 KiB, checked before any decoding.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

const K: &[u8] = SECRET.as_bytes();

fn payload() -> String {
    json!({ "sub": "alice", "exp": NOW + 900 }).to_string()
}

/// Asserts that every token is rejected with `invalid_token`, both over HTTP and by
/// `verify_token`.
async fn all_invalid(app: &TestApp, tokens: &[String]) {
    for token in tokens {
        assert!(
            app.manager.verify_token(token).is_err(),
            "verify_token accepted {token:?}"
        );
        app.assert_rejected_bearer(token, Expect::InvalidToken)
            .await;
    }
}

/// The fixture itself is accepted, so every rejection below is due to the one thing changed.
#[tokio::test]
async fn the_forged_fixture_is_accepted() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    app.bearer("/me", &good)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!(app.probe.loads(), 1);
}

/// A.9: wrong number of segments, including the JWE shape.
#[tokio::test]
async fn segment_count() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    all_invalid(
        &app,
        &[
            format!("{h}.{p}"),
            format!("{h}.{p}.{s}.{s}"),
            format!("{h}..{p}.{s}.{s}"),
            h.to_owned(),
            ".".to_owned(),
            "..".to_owned(),
            format!(".{p}.{s}"),
            format!("{h}..{s}"),
        ],
    )
    .await;
    assert!(app.manager.verify_token("").is_err());
}

/// A.10: whitespace inside the compact form (checked at the verifier; a header value cannot
/// carry a line break, and a leading space is absorbed by `1*SP`).
#[tokio::test]
async fn whitespace_inside_the_compact_form() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    let (h, rest) = good.split_once('.').unwrap();
    for token in [
        format!(" {good}"),
        format!("{good}\n"),
        format!("{good}\r\n"),
        format!("{h}. {rest}"),
        format!("{h}.\n{rest}"),
    ] {
        assert!(app.manager.verify_token(&token).is_err(), "{token:?}");
    }
    all_invalid(&app, &[format!("{h}. {rest}"), format!("{good}\t")]).await;
}

/// A.12: the standard base64 alphabet, padding, and non-canonical trailing bits are refused.
#[tokio::test]
async fn base64url_is_strict() {
    let app = TestApp::new();
    // Find a signature that contains a URL-safe-only character.
    let token = (0..)
        .map(|i| forge::hs256(&json!({ "sub": "alice", "exp": NOW + 900, "n": i }).to_string()))
        .find(|t| {
            let sig = t.rsplit('.').next().unwrap();
            sig.contains('-') || sig.contains('_')
        })
        .unwrap();
    app.bearer("/me", &token)
        .await
        .assert_ok(json!({ "user": "alice" }));
    let app = TestApp::new();

    let (input, sig) = token.rsplit_once('.').unwrap();
    let standard = sig.replace('-', "+").replace('_', "/");
    let (h, p) = input.split_once('.').unwrap();

    // The last character of a 32-byte signature carries 4 data bits and 2 zero bits; flipping
    // the lowest bit gives a non-canonical encoding of the same bytes.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = sig.as_bytes()[sig.len() - 1];
    let index = ALPHABET.iter().position(|&c| c == last).unwrap();
    let non_canonical = format!("{}{}", &sig[..sig.len() - 1], ALPHABET[index ^ 1] as char);

    all_invalid(
        &app,
        &[
            format!("{input}.{standard}"),
            format!("{input}.{sig}="),
            format!("{h}=.{p}.{sig}"),
            format!("{h}.{p}==.{sig}"),
            format!("{input}.{non_canonical}"),
            format!("{input}.{sig}*"),
        ],
    )
    .await;
}

/// A.15: validly MACed payloads that are not a JSON object of claims.
#[tokio::test]
async fn payload_not_a_json_object() {
    let app = TestApp::new();
    let p = payload();
    let header = HS256_HEADER.as_bytes();
    let mut bad_utf8 = br#"{"sub":"al"#.to_vec();
    bad_utf8.push(0xFF);
    bad_utf8.extend_from_slice(format!(r#"ice","exp":{}}}"#, NOW + 900).as_bytes());
    let tokens: Vec<String> = [
        b"[1,2]".to_vec(),
        br#""alice""#.to_vec(),
        b"null".to_vec(),
        b"42".to_vec(),
        b"".to_vec(),
        format!("{p}}}").into_bytes(),
        format!("{p} garbage").into_bytes(),
        format!("{p}{p}").into_bytes(),
        p.as_bytes()[..p.len() - 1].to_vec(),
        bad_utf8,
        // A duplicated claim is ambiguous: two parsers may pick different values.
        format!(r#"{{"sub":"admin","sub":"alice","exp":{}}}"#, NOW + 900).into_bytes(),
        format!(r#"{{"sub":"alice","exp":{0},"exp":{0}}}"#, NOW + 900).into_bytes(),
    ]
    .iter()
    .map(|payload| raw(header, payload, K, Algorithm::HS256))
    .collect();
    all_invalid(&app, &tokens).await;
}

/// A.15 for the header: not a JSON object, or a duplicated `alg`.
#[tokio::test]
async fn header_not_a_json_object() {
    let app = TestApp::new();
    let p = payload();
    let tokens: Vec<String> = [
        "[]",
        "null",
        r#""HS256""#,
        "",
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"HS256""#,
    ]
    .iter()
    .map(|h| raw(h.as_bytes(), p.as_bytes(), K, Algorithm::HS256))
    .collect();
    all_invalid(&app, &tokens).await;
}

/// A.16: RFC 7520 §4.4 — a valid HS256 JWS whose payload is not JSON, with its own key
/// configured. The signature verifies; the claims do not parse.
#[tokio::test]
async fn rfc7520_non_json_payload_with_its_key() {
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";
    let key = unb64("hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg");
    assert_eq!(key.len(), 32);

    // The MAC is right (interop proof at the JWS layer)…
    let (input, sig) = TOKEN.rsplit_once('.').unwrap();
    assert_eq!(mac(input.as_bytes(), &key, Algorithm::HS256), sig);

    // …and the manager still refuses it, as malformed claims.
    let app = TestApp::with(|b| b.secret(key.as_slice()));
    assert!(matches!(
        app.manager.verify_token(TOKEN),
        Err(VerifyError::InvalidClaims(_))
    ));
    app.assert_rejected_bearer(TOKEN, Expect::InvalidToken)
        .await;
}

/// A.17: `alg: none`, with and without a signature, and the RFC 7519 §6.1 literal.
#[tokio::test]
async fn alg_none_is_refused() {
    let app = TestApp::new();
    let p = b64(payload());
    let good = forge::hs256(&payload());
    let good_sig = good.rsplit('.').next().unwrap();
    let mut tokens = Vec::new();
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"none"}"#] {
        let h = b64(header);
        tokens.push(format!("{h}.{p}."));
        tokens.push(format!("{h}.{p}.{good_sig}"));
        tokens.push(format!("{h}.{p}"));
    }
    tokens.push(
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
            .to_owned(),
    );
    all_invalid(&app, &tokens).await;
}

/// A.18: `alg` is case-sensitive and must be present, even when the MAC is right.
#[tokio::test]
async fn alg_spellings_are_refused() {
    let app = TestApp::new();
    let p = payload();
    let tokens: Vec<String> = [
        r#"{"alg":"None","typ":"JWT"}"#,
        r#"{"alg":"NONE","typ":"JWT"}"#,
        r#"{"alg":"nOnE","typ":"JWT"}"#,
        r#"{"alg":"hs256","typ":"JWT"}"#,
        r#"{"alg":"HS256 ","typ":"JWT"}"#,
        r#"{"alg":" HS256","typ":"JWT"}"#,
        r#"{"alg":"","typ":"JWT"}"#,
        r#"{"alg":null,"typ":"JWT"}"#,
        r#"{"alg":["HS256"],"typ":"JWT"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{}"#,
    ]
    .iter()
    .map(|h| raw(h.as_bytes(), p.as_bytes(), K, Algorithm::HS256))
    .collect();
    all_invalid(&app, &tokens).await;
}

/// A.19: empty signature, another key, a changed payload with the original signature, and an
/// HS512 tag under an HS256 header.
#[tokio::test]
async fn bad_signatures() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    let (input, _) = good.rsplit_once('.').unwrap();
    let (h, _) = input.split_once('.').unwrap();
    let sig = good.rsplit('.').next().unwrap();
    let admin = b64(json!({ "sub": "admin", "exp": NOW + 900 }).to_string());
    let other_key = b"fedcba9876543210fedcba9876543210";
    let tokens = [
        format!("{input}."),
        raw(
            HS256_HEADER.as_bytes(),
            payload().as_bytes(),
            other_key,
            Algorithm::HS256,
        ),
        format!("{h}.{admin}.{sig}"),
        format!("{input}.{}", mac(input.as_bytes(), K, Algorithm::HS512)),
        format!("{input}.{}", mac(input.as_bytes(), K, Algorithm::HS384)),
        // The key with one byte changed, a prefix of the key, the key twice.
        raw(
            HS256_HEADER.as_bytes(),
            payload().as_bytes(),
            b"1123456789abcdef0123456789abcdef",
            Algorithm::HS256,
        ),
        raw(
            HS256_HEADER.as_bytes(),
            payload().as_bytes(),
            &K[..31],
            Algorithm::HS256,
        ),
        raw(
            HS256_HEADER.as_bytes(),
            payload().as_bytes(),
            &[K, K].concat(),
            Algorithm::HS256,
        ),
    ];
    for token in &tokens[..2] {
        assert_eq!(
            app.manager.verify_token(token),
            Err(VerifyError::BadSignature),
            "{token}"
        );
    }
    all_invalid(&app, &tokens).await;
}

/// A.20: a truncated tag (the first 16 bytes of the HS256 MAC), and a tag with an extra byte.
#[tokio::test]
async fn truncated_or_extended_tag() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let tag = unb64(sig);
    assert_eq!(tag.len(), 32);
    let mut longer = tag.clone();
    longer.push(0);
    all_invalid(
        &app,
        &[
            format!("{input}.{}", b64(&tag[..16])),
            format!("{input}.{}", b64(&tag[..31])),
            format!("{input}.{}", b64(&longer)),
        ],
    )
    .await;
}

/// A.21: the algorithm allow-list — HS384 and HS512 tokens validly MACed with the same key are
/// refused by an HS256 manager (and the other way round).
#[tokio::test]
async fn algorithm_allow_list() {
    let app = TestApp::new();
    let p = payload();
    let tokens: Vec<String> = [Algorithm::HS384, Algorithm::HS512]
        .iter()
        .map(|&alg| {
            raw(
                format!(r#"{{"alg":"{alg:?}","typ":"JWT"}}"#).as_bytes(),
                p.as_bytes(),
                K,
                alg,
            )
        })
        .collect();
    for token in &tokens {
        assert_eq!(
            app.manager.verify_token(token),
            Err(VerifyError::WrongAlgorithm)
        );
    }
    all_invalid(&app, &tokens).await;

    // An HS512 manager refuses HS256 tokens minted with its own (64-byte) secret.
    let secret = format!("{SECRET}{SECRET}");
    let app = TestApp::with(|b| b.secret(secret.as_str()).algorithm(Algorithm::HS512));
    let hs256 = raw(
        HS256_HEADER.as_bytes(),
        p.as_bytes(),
        secret.as_bytes(),
        Algorithm::HS256,
    );
    all_invalid(&app, &[hs256]).await;
    let hs512 = raw(
        br#"{"alg":"HS512","typ":"JWT"}"#,
        p.as_bytes(),
        secret.as_bytes(),
        Algorithm::HS512,
    );
    app.bearer("/me", &hs512)
        .await
        .assert_ok(json!({ "user": "alice" }));
}

/// A.25: `crit` — every critical extension is unknown to us, an empty list is forbidden, and
/// `b64: false` (RFC 7797 unencoded payload) is refused with or without `crit`.
#[tokio::test]
async fn crit_and_b64_are_refused() {
    let app = TestApp::new();
    let p = payload();
    let tokens: Vec<String> = [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"],"exp":1}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":[]}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["b64"],"b64":false}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":["x-unknown"],"x-unknown":1}"#,
        r#"{"alg":"HS256","typ":"JWT","b64":false}"#,
        r#"{"alg":"HS256","typ":"JWT","crit":"x-unknown"}"#,
    ]
    .iter()
    .map(|h| raw(h.as_bytes(), p.as_bytes(), K, Algorithm::HS256))
    .collect();
    all_invalid(&app, &tokens).await;
}

/// A.26: `kid` is ignored by a single-key manager: a hostile `kid` on a token MACed with the
/// right key is just a valid token (no lookup is made with it).
#[tokio::test]
async fn hostile_kid_is_ignored() {
    let app = TestApp::new();
    let p = payload();
    for kid in ["' OR '1'='1", "../../../../dev/null", ""] {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid }).to_string();
        let token = raw(header.as_bytes(), p.as_bytes(), K, Algorithm::HS256);
        app.bearer("/me", &token)
            .await
            .assert_ok(json!({ "user": "alice" }));
    }
    assert_eq!(app.probe.subjects(), vec!["alice"; 3]);
}

/// A.27: `jku`, `x5u` and an embedded `jwk` naming an attacker key are never used: tokens
/// MACed with that key are refused, and nothing connects to the URL (a canary listener on
/// 127.0.0.1 records no connection).
#[tokio::test]
async fn jku_x5u_and_embedded_jwk_are_not_trusted() {
    let canary = TcpListener::bind("127.0.0.1:0").unwrap();
    canary.set_nonblocking(true).unwrap();
    let url = format!("http://{}/jwks.json", canary.local_addr().unwrap());
    let attacker = b"attacker-key-attacker-key-attack";
    let app = TestApp::new();
    let p = payload();
    let tokens: Vec<String> = [
        json!({ "alg": "HS256", "typ": "JWT", "jku": url }),
        json!({ "alg": "HS256", "typ": "JWT", "x5u": url }),
        json!({ "alg": "HS256", "typ": "JWT", "jwk": { "kty": "oct", "k": b64(attacker) } }),
        json!({ "alg": "HS256", "typ": "JWT", "jku": url, "kid": "attacker",
                "jwk": { "kty": "oct", "k": b64(attacker), "kid": "attacker" } }),
    ]
    .iter()
    .map(|h| {
        raw(
            h.to_string().as_bytes(),
            p.as_bytes(),
            attacker,
            Algorithm::HS256,
        )
    })
    .collect();
    all_invalid(&app, &tokens).await;
    match canary.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("something connected to the jku/x5u URL: {other:?}"),
    }
}

/// A.45: huge tokens are refused before any decoding or crypto (`VerifyError::TooLarge`).
/// Each oversized token is one that a later step would refuse with another error: not split
/// into three parts, not base64url, not JSON, or with a wrong signature (`Malformed` or
/// `BadSignature`), or validly MACed (accepted). `TooLarge` for all of them means the size is
/// checked first; over HTTP each is a 401 `invalid_token` with the loader never called.
#[tokio::test]
async fn oversized_tokens_are_refused_before_crypto() {
    let app = TestApp::new();
    let good = forge::hs256(&payload());
    let (h, rest) = good.split_once('.').unwrap();
    let signature = rest.rsplit('.').next().unwrap();
    let padded = |n: usize| {
        app.manager
            .create_access_token(TokenRequest::new("alice").extra(&json!({ "pad": "x".repeat(n) })))
            .unwrap()
    };
    let mut tokens = Vec::new();
    for size in [MAX_TOKEN_BYTES + 1, 64 * 1024, 300 * 1024] {
        let filler = "A".repeat(size);
        let garbage = "~".repeat(size);
        tokens.push(format!("{h}.{filler}.{signature}"));
        tokens.push(format!("{good}{filler}"));
        // No dots at all: not a compact JWS.
        tokens.push(garbage.clone());
        // Header and payload neither base64url nor JSON, signature wrong.
        tokens.push(format!("{garbage}.{garbage}.{signature}"));
        // A JSON header that is not JWS, a payload of base64url that is not JSON.
        tokens.push(format!("{}.{filler}.{signature}", b64(b"[1,2,3]")));
        // A well-formed header and base64url JSON payload, signature wrong.
        tokens.push(format!(
            "{h}.{}.{signature}",
            b64(json!({ "sub": "alice", "exp": NOW + 900, "pad": garbage })
                .to_string()
                .as_bytes())
        ));
    }
    // Validly MACed by the manager itself, one step past the cap.
    let signed = (5000..6500)
        .map(padded)
        .find(|t| t.len() > MAX_TOKEN_BYTES)
        .expect("a signed token above the cap");
    assert!(signed.len() <= MAX_TOKEN_BYTES + 4, "{}", signed.len());
    tokens.push(signed);
    tokens.push(padded(300 * 1024));
    for token in &tokens {
        assert!(token.len() > MAX_TOKEN_BYTES);
        assert_eq!(
            app.manager.verify_token(token),
            Err(VerifyError::TooLarge {
                max: MAX_TOKEN_BYTES
            }),
            "a {}-byte token starting {:?}",
            token.len(),
            &token[..40]
        );
    }
    all_invalid(&app, &tokens).await;
}

/// A.45 at the boundary: a validly signed token of exactly `MAX_TOKEN_BYTES` is accepted, one
/// byte more is refused as too large even though its signature is right.
#[tokio::test]
async fn size_cap_boundary() {
    let app = TestApp::new();
    let mint = |n: usize| {
        app.manager
            .create_access_token(TokenRequest::new("alice").extra(&json!({ "pad": "x".repeat(n) })))
            .unwrap()
    };
    // base64 grows in steps of 4 characters per 3 bytes: find paddings that land on the cap
    // and just above it (the jti is random but of fixed length).
    let mut at_cap = None;
    let mut above = None;
    for n in 5000..6500 {
        let token = mint(n);
        if token.len() == MAX_TOKEN_BYTES {
            at_cap = Some(token);
        } else if token.len() > MAX_TOKEN_BYTES && above.is_none() {
            above = Some(token);
        }
    }
    let at_cap = at_cap.expect("a token of exactly the cap");
    let above = above.expect("a token above the cap");
    assert!(above.len() <= MAX_TOKEN_BYTES + 4);

    app.bearer("/me", &at_cap)
        .await
        .assert_ok(json!({ "user": "alice" }));
    assert_eq!(
        app.manager.verify_token(&above),
        Err(VerifyError::TooLarge {
            max: MAX_TOKEN_BYTES
        })
    );
    // A fresh app (same secret and clock) for the untouched-loader assertion.
    TestApp::new()
        .assert_rejected_bearer(&above, Expect::InvalidToken)
        .await;
}
