//! Encoding: the token's shape (A.9–A.16). Each token goes through both carriers
//! (`Authorization: Bearer` and the `access-token` cookie) to `/protected`, and must be 401
//! `invalid_token` with the loader and the handler never run.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use jsonwebtoken::Algorithm;
use login_test_support::forge::{self, HS256_HEADER, hs256, parts, raw, valid_claims};
use login_test_support::{Expect, SECRET};

use crate::common::{Case, Harness, JOHN, both, run_all};

/// A valid payload for John, as JSON text.
fn john_payload() -> String {
    valid_claims(JOHN, serde_json::json!({})).to_string()
}

/// The fixture itself is accepted through both carriers, so each rejection below is due to the
/// one thing changed.
#[tokio::test]
async fn forged_fixture_is_accepted() {
    let mut cases = Vec::new();
    both(
        &mut cases,
        "fixture",
        &hs256(&john_payload()),
        Expect::User(JOHN),
    );
    run_all("encoding", &cases).await;
}

/// A.9: segment counts.
#[tokio::test]
async fn segment_count() {
    let h = Harness::new();
    let good = h.john();
    let (hd, pl, sig) = parts(&good);
    let mut cases = Vec::new();
    for (name, token) in [
        ("one segment", hd.clone()),
        ("two segments", format!("{hd}.{pl}")),
        ("four segments", format!("{hd}.{pl}.{sig}.{sig}")),
        ("JWE shape", format!("{hd}.{pl}.{sig}.{pl}.{sig}")),
        ("empty segments", "..".to_owned()),
        ("four empty segments", "...".to_owned()),
        ("leading dot", format!(".{hd}.{pl}.{sig}")),
        ("trailing dot", format!("{good}.")),
        ("doubled dot", format!("{hd}..{pl}.{sig}")),
        ("dots only", ".".repeat(50)),
    ] {
        both(
            &mut cases,
            &format!("A.9 {name}"),
            &token,
            Expect::InvalidToken,
        );
    }
    run_all("encoding", &cases).await;
}

/// A.10: whitespace and escapes inside the compact form. (Leading and trailing spaces are
/// separators in the header and are trimmed from a cookie pair, so they are not "inside".)
#[tokio::test]
async fn whitespace_and_escapes_inside() {
    let h = Harness::new();
    let good = h.john();
    let (hd, pl, sig) = parts(&good);
    let mut cases = Vec::new();
    for (name, token) in [
        ("space after a dot", format!("{hd}. {pl}.{sig}")),
        ("space before a dot", format!("{hd} .{pl}.{sig}")),
        ("tab inside", format!("{hd}.{pl}\t.{sig}")),
        ("percent-encoded dots", format!("{hd}%2E{pl}%2E{sig}")),
        ("quoted inside", format!("{hd}.\"{pl}\".{sig}")),
        ("backslash", format!("{hd}.{pl}.\\{sig}")),
    ] {
        both(
            &mut cases,
            &format!("A.10 {name}"),
            &token,
            Expect::InvalidToken,
        );
    }
    // In the header only: a trailing tab is not a separator there.
    cases.push(Case::bearer(
        "A.10 trailing tab (header)",
        "/protected",
        &format!("{good}\t"),
        Expect::InvalidToken,
    ));
    cases.push(Case::bearer(
        "A.10 leading tab (header)",
        "/protected",
        &format!("\t{good}"),
        Expect::InvalidToken,
    ));
    run_all("encoding", &cases).await;
}

/// A.12: base64url is strict — no standard alphabet, no padding, no non-canonical trailing
/// bits (a second spelling of the same signature bytes), no lower/upper-case games.
#[tokio::test]
async fn base64url_is_strict() {
    let h = Harness::new();
    let good = h.john();
    let (hd, pl, sig) = parts(&good);
    let mut cases = Vec::new();

    // The same header and payload bytes, encoded with the standard alphabet and MACed over
    // exactly that text: the MAC is right, the encoding is not.
    let payload = valid_claims(JOHN, serde_json::json!({ "x": "???>>>~~~" })).to_string();
    let std_input = format!(
        "{}.{}",
        STANDARD_NO_PAD.encode(HS256_HEADER),
        STANDARD_NO_PAD.encode(&payload)
    );
    assert!(std_input.contains('+') || std_input.contains('/'));
    let std_token = format!(
        "{std_input}.{}",
        forge::mac(std_input.as_bytes(), SECRET.as_bytes(), Algorithm::HS256)
    );
    both(
        &mut cases,
        "A.12 standard alphabet in the signing input",
        &std_token,
        Expect::InvalidToken,
    );
    // The signature in the standard alphabet (when it has a `-` or `_` to change).
    let sig_bytes = URL_SAFE_NO_PAD.decode(&sig).unwrap();
    let std_sig = STANDARD_NO_PAD.encode(&sig_bytes);
    if std_sig != sig {
        both(
            &mut cases,
            "A.12 standard-alphabet signature",
            &format!("{hd}.{pl}.{std_sig}"),
            Expect::InvalidToken,
        );
    }
    both(
        &mut cases,
        "A.12 padded signature",
        &format!("{hd}.{pl}.{}", STANDARD.encode(&sig_bytes)),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.12 padded payload",
        &format!("{hd}.{pl}==.{sig}"),
        Expect::InvalidToken,
    );
    // Non-canonical trailing bits: the last character of a 32-byte MAC carries 4 bits; its two
    // low bits are padding. Flipping one keeps the decoded bytes for a lenient decoder.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = *sig.as_bytes().last().unwrap();
    let index = ALPHABET.iter().position(|&c| c == last).unwrap();
    let twin = ALPHABET[index ^ 1] as char;
    let twin_sig = format!("{}{twin}", &sig[..sig.len() - 1]);
    both(
        &mut cases,
        "A.12 non-canonical signature twin",
        &format!("{hd}.{pl}.{twin_sig}"),
        Expect::InvalidToken,
    );
    // Case changes anywhere break it.
    both(
        &mut cases,
        "A.12 upper-cased signature",
        &format!("{hd}.{pl}.{}", sig.to_ascii_uppercase()),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.12 lower-cased header",
        &format!("{}.{pl}.{sig}", hd.to_ascii_lowercase()),
        Expect::InvalidToken,
    );
    run_all("encoding", &cases).await;
}

/// A.15: validly MACed payloads and headers that are not a JSON object of claims.
#[tokio::test]
async fn not_a_json_object() {
    let good_payload = john_payload();
    let mut cases = Vec::new();
    for (name, payload) in [
        ("array", "[1,2]".to_owned()),
        ("string", "\"johndoe@mail.com\"".to_owned()),
        ("null", "null".to_owned()),
        ("number", "1800000900".to_owned()),
        ("empty", String::new()),
        ("trailing bytes", format!("{good_payload}x")),
        ("two objects", format!("{good_payload}{good_payload}")),
        ("byte-order mark", format!("\u{feff}{good_payload}")),
        ("comment", format!("/*x*/{good_payload}")),
        ("single quotes", good_payload.replace('"', "'")),
        ("NaN exp", format!(r#"{{"sub":"{JOHN}","exp":NaN}}"#)),
        (
            "unterminated",
            good_payload[..good_payload.len() - 1].to_owned(),
        ),
    ] {
        both(
            &mut cases,
            &format!("A.15 payload {name}"),
            &hs256(&payload),
            Expect::InvalidToken,
        );
    }
    // Invalid UTF-8 inside a string, and a lone surrogate escape.
    let mut bytes = br#"{"sub":"johndoe@mail.com","exp":1800000900,"x":""#.to_vec();
    bytes.extend_from_slice(&[0xFF, b'"', b'}']);
    both(
        &mut cases,
        "A.15 payload invalid UTF-8",
        &raw(
            HS256_HEADER.as_bytes(),
            &bytes,
            SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.15 payload lone surrogate",
        &hs256(&format!(
            r#"{{"sub":"{JOHN}","exp":1800000900,"x":"\ud800"}}"#
        )),
        Expect::InvalidToken,
    );
    for (name, header) in [
        ("array", "[]"),
        ("string", "\"HS256\""),
        ("empty object", "{}"),
        ("duplicated alg", r#"{"alg":"HS256","alg":"HS256"}"#),
        (
            "alg then none",
            r#"{"alg":"HS256","typ":"JWT","alg":"none"}"#,
        ),
        ("trailing bytes", r#"{"alg":"HS256"}x"#),
        ("alg not a string", r#"{"alg":256}"#),
        ("typ not a string", r#"{"alg":"HS256","typ":1}"#),
    ] {
        both(
            &mut cases,
            &format!("A.15 header {name}"),
            &raw(
                header.as_bytes(),
                good_payload.as_bytes(),
                SECRET.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::InvalidToken,
        );
    }
    run_all("encoding", &cases).await;
}

/// A.16: the RFC 7520 §4.4 vector (a valid HS256 JWS with a non-JSON payload, under its own
/// key) is refused by the example (its key is not the example's, and its payload is not
/// claims); so is the same non-JSON payload MACed with the example's key.
#[tokio::test]
async fn rfc7520_non_json_payload() {
    const VECTOR: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9.SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4.s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0";
    let (hd, pl, _) = parts(VECTOR);
    let input = format!("{hd}.{pl}");
    let ours = format!(
        "{input}.{}",
        forge::mac(input.as_bytes(), SECRET.as_bytes(), Algorithm::HS256)
    );
    let mut cases = Vec::new();
    both(
        &mut cases,
        "A.16 RFC 7520 §4.4",
        VECTOR,
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.16 RFC 7520 §4.4 payload with our key",
        &ours,
        Expect::InvalidToken,
    );
    run_all("encoding", &cases).await;
}

/// Non-ASCII look-alikes: a fullwidth full stop (U+FF0E) for a dot. In the header, a value
/// that is not visible ASCII is a malformed request (400); the token never reaches the
/// verifier.
#[tokio::test]
async fn unicode_look_alikes_in_the_header() {
    let h = Harness::new();
    let good = h.john();
    let token = good.replacen('.', "\u{ff0e}", 1);
    let cases = vec![
        Case::header(
            "fullwidth dot (header)",
            "/protected",
            "authorization",
            format!("Bearer {token}").into_bytes(),
            Expect::InvalidRequest,
        )
        .secret(&token),
    ];
    run_all("encoding", &cases).await;
}
