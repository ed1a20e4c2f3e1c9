//! The lean header reader against jsonwebtoken, over generated headers: whenever the lean
//! reader answers, jsonwebtoken accepts the same header with the same `alg` and `kid`.

use base64::Engine as _;
use jsonwebtoken::Algorithm;
use proptest::prelude::*;

use super::*;

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// jsonwebtoken's answer: `decode_header`, then the rules of its `Header::from_encoded`
/// (which `decode` applies), copied from jsonwebtoken 12.
pub(crate) fn reference(encoded: &str) -> Option<(Algorithm, Option<String>)> {
    let header = jsonwebtoken::decode_header(format!("{encoded}.e30.c2ln")).ok()?;
    let b64 = header.extras.get::<bool>("b64").ok()?;
    if b64 == Some(false) {
        return None;
    }
    if let Some(crit) = &header.crit
        && (crit.is_empty() || crit.iter().any(|p| p != "b64") || b64.is_none() || crit.len() != 1)
    {
        return None;
    }
    Some((header.alg, header.kid))
}

fn lean(encoded: &str) -> Option<(Algorithm, Option<String>)> {
    let mut buf = [0; _];
    lean_header(encoded, &mut buf).map(|h| (h.alg, h.kid.map(str::to_owned)))
}

/// Header names: jsonwebtoken's fields, names in its `extras`, the same names escaped or in
/// another case, and odd ones.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("alg"),
        3 => Just("kid"),
        3 => Just("typ"),
        3 => Just("crit"),
        3 => Just("b64"),
        1 => Just("cty"),
        1 => Just("jwk"),
        1 => Just("x5c"),
        1 => Just("x5t#S256"),
        1 => Just("enc"),
        1 => Just("zip"),
        1 => Just("nonce"),
        1 => Just("url"),
        1 => Just("custom"),
        1 => Just(r"a\u006cg"),
        1 => Just(r"k\u0069d"),
        1 => Just(r"b\u0036\u0034"),
        1 => Just(r"cr\u0069t"),
        1 => Just("ALG"),
        1 => Just(""),
        1 => Just("é"),
    ]
    .prop_map(|name| format!("\"{name}\""))
}

/// Header values: algorithm names and near misses, strings with escapes or non-ASCII text,
/// every JSON type, arrays for `crit`, and the enum-as-map form serde accepts for `alg`.
fn value() -> impl Strategy<Value = String> {
    let algs = prop_oneof![
        1 => Just("HS256"),
        1 => Just("HS384"),
        1 => Just("HS512"),
        1 => Just("RS256"),
        1 => Just("PS512"),
        1 => Just("ES256"),
        1 => Just("ES384"),
        1 => Just("EdDSA"),
        1 => Just("none"),
        1 => Just("hs256"),
        1 => Just("HS256 "),
        1 => Just(""),
        1 => Just("JWT"),
        1 => Just("b64"),
        1 => Just(r"HS\u0032\u00356"),
        1 => Just(r"HS256\u0000"),
        1 => Just("key-1"),
        1 => Just("clé"),
        1 => Just("\t"),
    ]
    .prop_map(|s| format!("\"{s}\""));
    let other = prop_oneof![
        1 => Just("null"),
        1 => Just("true"),
        1 => Just("false"),
        1 => Just("0"),
        1 => Just("1.5"),
        1 => Just("-1"),
        1 => Just("[]"),
        1 => Just(r#"["b64"]"#),
        1 => Just(r#"[ "b64" ]"#),
        1 => Just(r#"["b64","b64"]"#),
        1 => Just(r#"["exp"]"#),
        1 => Just(r#"["b64",1]"#),
        1 => Just(r#"[b64]"#),
        1 => Just("{}"),
        1 => Just(r#"{"HS256":null}"#),
        1 => Just(r#"{"HS256":[]}"#),
        1 => Just(r#"{"kty":"oct","k":"AAAA"}"#),
        1 => Just(r#"["MIIB"]"#),
        1 => Just("tru"),
        1 => Just("nul"),
        1 => Just(r#""unterminated"#),
        1 => Just("\"ctl\u{1}\""),
        1 => Just(r#""\"""#),
    ]
    .prop_map(str::to_owned);
    prop_oneof![6 => algs, 2 => other]
}

fn space() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => Just(""),
        1 => Just(" "),
        1 => Just("\n\t"),
        1 => Just("\r"),
        1 => Just("\u{a0}"),
        1 => Just("\u{c}"),
    ]
}

/// A header's JSON text: mostly objects of generated members, sometimes with something
/// before or after, or not an object at all.
pub(crate) fn header_json() -> impl Strategy<Value = String> {
    let member =
        (name(), space(), space(), value()).prop_map(|(n, s1, s2, v)| format!("{n}{s1}:{s2}{v}"));
    // Mostly with a valid `alg` somewhere, so that many headers pass and the rest is tried.
    let alg = prop_oneof![
        3 => Just(r#""alg":"HS256""#),
        1 => Just(r#""alg":"RS256""#),
        1 => Just(r#""alg" : "EdDSA""#),
        1 => Just(""),
    ];
    let object = (
        space(),
        alg,
        prop::collection::vec((member, space()), 0..4),
        any::<prop::sample::Index>(),
        space(),
        prop_oneof![
            12 => Just(""),
            1 => Just(","),
            1 => Just("}"),
            1 => Just(" x"),
            1 => Just("\0"),
            1 => Just("{}"),
        ],
        0u8..16,
    )
        .prop_map(|(before, alg, members, at, after, tail, shape)| {
            let mut members: Vec<String> = members
                .into_iter()
                .map(|(m, s)| format!("{m}{s}"))
                .collect();
            if !alg.is_empty() {
                members.insert(at.index(members.len() + 1), alg.to_owned());
            }
            let body = members.join(",");
            match shape {
                0 => format!("{before}{{{body}{after}{tail}"),
                1 => format!("{before}{{{body},}}{after}{tail}"),
                _ => format!("{before}{{{body}}}{after}{tail}"),
            }
        });
    prop_oneof![
        20 => object,
        1 => Just(r#"["HS256"]"#.to_owned()),
        1 => Just(r#""HS256""#.to_owned()),
        1 => Just("null".to_owned()),
        1 => Just(String::new()),
    ]
}

/// Headers as tokens carry them: an algorithm, then members from a short list (the lean
/// reader's common case), some of them refused.
pub(crate) fn usual_header() -> impl Strategy<Value = String> {
    let alg = prop_oneof![3 => Just("HS256"), 1 => Just("HS512"), 1 => Just("RS256")];
    let member = prop_oneof![
        Just(r#""typ":"JWT""#),
        Just(r#""cty":"JWT""#),
        Just(r#""x5t":"abc""#),
        Just(r#""b64":true"#),
        Just(r#""b64":false"#),
        Just(r#""crit":["b64"]"#),
        Just(r#""custom":[]"#),
        Just(r#""kid":null"#),
        Just(r#""kid":"key-1""#),
        Just(r#""crit":[]"#),
        Just(r#""crit":null"#),
        Just(r#""b64":null"#),
    ];
    (alg, prop::collection::vec(member, 0..3)).prop_map(|(alg, members)| {
        let mut json = format!(r#"{{"alg":"{alg}""#);
        for member in members {
            json.push(',');
            json.push_str(member);
        }
        json.push('}');
        json
    })
}

/// The header part of a token: the JSON's base64url, sometimes altered (see [`alter`]).
pub(crate) fn encoded_header() -> impl Strategy<Value = String> {
    (
        prop_oneof![header_json(), usual_header()],
        0u8..24,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(json, how, at)| alter(b64(json.as_bytes()), how, at))
}

/// A base64url text altered by `how` (0 to 5; anything else leaves it as is) at `at`: a
/// padding character, a trailing character, a dot, standard base64's `+` or `/`, or the
/// last character's neighbour (non-zero trailing bits, or another last byte).
pub(crate) fn alter(mut encoded: String, how: u8, at: prop::sample::Index) -> String {
    if encoded.is_empty() {
        return encoded;
    }
    let i = at.index(encoded.len());
    match how {
        0 => encoded.push('='),
        1 => encoded.push('A'),
        2 => encoded.insert(i, '.'),
        3 => encoded.replace_range(i..=i, "+"),
        4 => {
            let last = encoded.pop().unwrap();
            encoded.push(if last == 'A' { 'B' } else { 'A' });
        }
        5 => encoded.replace_range(i..=i, "/"),
        _ => {}
    }
    encoded
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Whenever the lean reader answers, jsonwebtoken accepts the header with the same `alg`
    /// and `kid`.
    #[test]
    fn lean_header_agrees_with_jsonwebtoken(encoded in encoded_header()) {
        if let Some(answer) = lean(&encoded) {
            prop_assert_eq!(Some(answer), reference(&encoded), "header {:?}", encoded);
        }
    }

    /// The same over arbitrary bytes (mostly not JSON at all).
    #[test]
    fn lean_header_agrees_on_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let encoded = b64(&bytes);
        if let Some(answer) = lean(&encoded) {
            prop_assert_eq!(Some(answer), reference(&encoded));
        }
    }
}

/// The lean reader answers for the headers tokens really carry, so the fast path is the
/// common one.
#[test]
fn answers_for_the_usual_headers() {
    for (json, alg, kid) in [
        (r#"{"typ":"JWT","alg":"HS256"}"#, Algorithm::HS256, None),
        (
            r#"{"alg":"HS512","kid":"key-2"}"#,
            Algorithm::HS512,
            Some("key-2"),
        ),
        (
            r#"{"typ":"JWT","alg":"RS256","kid":"2024-01","x5t":"abc","custom":[]}"#,
            Algorithm::RS256,
            Some("2024-01"),
        ),
        (
            r#" { "alg" : "EdDSA" , "kid" : null } "#,
            Algorithm::EdDSA,
            None,
        ),
        (
            r#"{"alg":"ES256","b64":true,"crit":["b64"]}"#,
            Algorithm::ES256,
            None,
        ),
    ] {
        let encoded = b64(json.as_bytes());
        let expected = (alg, kid.map(str::to_owned));
        assert_eq!(lean(&encoded), Some(expected.clone()), "{json}");
        assert_eq!(reference(&encoded), Some(expected), "{json}");
    }
}

/// What it leaves to jsonwebtoken, even where jsonwebtoken accepts: escapes, the map form
/// of an enum, a duplicated extra, an overlong header.
#[test]
fn leaves_the_unusual_to_jsonwebtoken() {
    for json in [
        r#"{"a\u006cg":"HS256"}"#,
        r#"{"alg":{"HS256":null}}"#,
        r#"{"alg":"HS256","custom":1,"custom":2}"#,
        r#"{"alg":"HS256","kid":"cl\u00e9"}"#,
        r#"{"alg":"HS256","jwk":null}"#,
    ] {
        let encoded = b64(json.as_bytes());
        assert!(reference(&encoded).is_some(), "{json}");
        assert_eq!(lean(&encoded), None, "{json}");
    }
    let long = format!(
        r#"{{"alg":"HS256","pad":"{}"}}"#,
        "x".repeat(MAX_LEAN_HEADER)
    );
    assert!(reference(&b64(long.as_bytes())).is_some());
    assert_eq!(lean(&b64(long.as_bytes())), None);
    // And the refusals, which jsonwebtoken words.
    for json in [
        r#"{"alg":"HS256","b64":false}"#,
        r#"{"alg":"HS256","crit":["b64"]}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
        r#"{"alg":"none"}"#,
        r#"{"typ":"JWT"}"#,
    ] {
        let encoded = b64(json.as_bytes());
        assert_eq!(reference(&encoded), None, "{json}");
        assert_eq!(lean(&encoded), None, "{json}");
    }
}
