//! Algorithm and signature (A.17–A.27, C.1, C.3, C.5): `alg: none` and its
//! spellings, forged and truncated signatures, the algorithm allow-list, key confusion, `crit`,
//! and key material named by the token. Everything is 401 `invalid_token` before the loader.
//!
//! Item numbers (A.n, C.n) are those of `docs/security-checklist.md`.

use std::io::Read as _;
use std::net::TcpListener;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use login_test_support::forge::{self, HS256_HEADER, b64, parts, raw, valid_claims};
use login_test_support::{Expect, SECRET};
use serde_json::json;

use crate::common::{JANE, JOHN, both, run_all};

fn john_payload() -> String {
    valid_claims(JOHN, json!({ "scopes": ["read", "write"] })).to_string()
}

/// A.17–A.18: `alg: none` (with and without a signature, RFC 7519 §6.1 literal) and every
/// other spelling of `alg`, each MACed with the example's key where a MAC is present.
#[tokio::test]
async fn alg_none_and_spellings() {
    let payload = john_payload();
    let mut cases = Vec::new();
    let none_header = r#"{"alg":"none","typ":"JWT"}"#;
    let unsigned = format!("{}.{}.", b64(none_header), b64(&payload));
    both(
        &mut cases,
        "A.17 alg none, empty signature",
        &unsigned,
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.17 alg none, no signature segment",
        unsigned.trim_end_matches('.'),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "A.17 alg none with an HS256 MAC",
        &raw(
            none_header.as_bytes(),
            payload.as_bytes(),
            SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        Expect::InvalidToken,
    );
    both(
        &mut cases,
        "C.3 RFC 7519 §6.1 unsecured JWT",
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.",
        Expect::InvalidToken,
    );
    for alg in [
        "None",
        "NONE",
        "nOnE",
        "hs256",
        "Hs256",
        "HS256 ",
        " HS256",
        "HS256\u{0}",
        "",
        "HS-256",
        "HS2560",
        "RS256",
        "ES256",
        "EdDSA",
        "PS256",
    ] {
        let header = json!({ "alg": alg, "typ": "JWT" }).to_string();
        both(
            &mut cases,
            &format!("A.18 alg {alg:?}"),
            &raw(
                header.as_bytes(),
                payload.as_bytes(),
                SECRET.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::InvalidToken,
        );
    }
    both(
        &mut cases,
        "A.18 alg missing",
        &raw(
            br#"{"typ":"JWT"}"#,
            payload.as_bytes(),
            SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        Expect::InvalidToken,
    );
    run_all("algorithm", &cases).await;
}

/// A.19–A.21: signatures — empty, another key, a swapped payload naming another user with the
/// original signature, an HS512 tag under an HS256 header, truncated and extended tags, and
/// tokens validly MACed with the example's key under HS384/HS512 (not allowed).
#[tokio::test]
async fn signatures_and_allow_list() {
    let john = forge::claims(&valid_claims(JOHN, json!({ "scopes": ["read", "write"] })));
    let jane = forge::claims(&valid_claims(JANE, json!({ "scopes": ["read"] })));
    let (jh, jp, js) = parts(&john);
    let (_, np, ns) = parts(&jane);
    let payload = john_payload();
    let other_key = "another-32-byte-secret-0123456789";
    let input = format!("{}.{}", b64(HS256_HEADER), b64(&payload));
    let full = forge::unb64(&js);
    let mut cases = Vec::new();
    for (name, token) in [
        ("A.19 empty signature", format!("{jh}.{jp}.")),
        (
            "A.19 another key",
            raw(
                HS256_HEADER.as_bytes(),
                payload.as_bytes(),
                other_key.as_bytes(),
                Algorithm::HS256,
            ),
        ),
        (
            "A.19 Jane's payload, John's signature",
            format!("{jh}.{np}.{js}"),
        ),
        (
            "A.19 John's payload, Jane's signature",
            format!("{jh}.{jp}.{ns}"),
        ),
        (
            "A.19 HS512 tag under an HS256 header",
            format!(
                "{input}.{}",
                forge::mac(input.as_bytes(), SECRET.as_bytes(), Algorithm::HS512)
            ),
        ),
        (
            "A.19 the key itself as the signature",
            format!("{jh}.{jp}.{}", b64(SECRET)),
        ),
        (
            "A.20 truncated tag (16 bytes)",
            format!("{jh}.{jp}.{}", b64(&full[..16])),
        ),
        (
            "A.20 truncated tag (31 bytes)",
            format!("{jh}.{jp}.{}", b64(&full[..31])),
        ),
        (
            "A.20 tag and an extra byte",
            format!("{jh}.{jp}.{}", b64([&full[..], &[0]].concat())),
        ),
        ("A.20 all-zero tag", format!("{jh}.{jp}.{}", b64([0u8; 32]))),
        (
            "A.20 a MAC of the empty string",
            format!(
                "{jh}.{jp}.{}",
                forge::mac(b"", SECRET.as_bytes(), Algorithm::HS256)
            ),
        ),
    ] {
        both(&mut cases, name, &token, Expect::InvalidToken);
    }
    for (alg, name) in [(Algorithm::HS384, "HS384"), (Algorithm::HS512, "HS512")] {
        let header = json!({ "alg": name, "typ": "JWT" }).to_string();
        both(
            &mut cases,
            &format!("A.21 {name} with the example's key"),
            &raw(
                header.as_bytes(),
                payload.as_bytes(),
                SECRET.as_bytes(),
                alg,
            ),
            Expect::InvalidToken,
        );
    }
    run_all("algorithm", &cases).await;
}

/// A.22: key confusion — `RS256`/`ES256`/`EdDSA` headers over an HMAC made with the secret,
/// and a public-key PEM used as an HMAC key. The example's key is an HMAC secret with exactly
/// one algorithm.
#[tokio::test]
async fn key_confusion() {
    let payload = john_payload();
    let pem = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEf83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEXH8UTNG72bfocs3+257rn0s2ldbqkLJK2KRiMohYjlrQ==\n-----END PUBLIC KEY-----\n";
    let mut cases = Vec::new();
    for alg in ["RS256", "ES256", "EdDSA", "PS256"] {
        let header = json!({ "alg": alg, "typ": "JWT" }).to_string();
        both(
            &mut cases,
            &format!("A.22 {alg} header, HMAC with the secret"),
            &raw(
                header.as_bytes(),
                payload.as_bytes(),
                SECRET.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::InvalidToken,
        );
    }
    both(
        &mut cases,
        "A.22 HS256 MACed with a public-key PEM",
        &raw(
            HS256_HEADER.as_bytes(),
            payload.as_bytes(),
            pem.as_bytes(),
            Algorithm::HS256,
        ),
        Expect::InvalidToken,
    );
    run_all("algorithm", &cases).await;
}

/// A.25: `crit` and `b64` (RFC 7515 §4.1.11, RFC 7797): every critical extension is unknown
/// to the example, an empty list is forbidden, and an unencoded payload is refused.
#[tokio::test]
async fn crit_and_b64() {
    let payload = john_payload();
    let mut cases = Vec::new();
    for (name, header) in [
        ("crit exp", json!({"alg":"HS256","crit":["exp"],"exp":1})),
        ("crit empty", json!({"alg":"HS256","crit":[]})),
        (
            "crit b64",
            json!({"alg":"HS256","crit":["b64"],"b64":false}),
        ),
        (
            "crit unknown",
            json!({"alg":"HS256","crit":["x-unknown"],"x-unknown":1}),
        ),
        ("b64 false without crit", json!({"alg":"HS256","b64":false})),
        ("crit not an array", json!({"alg":"HS256","crit":"exp"})),
    ] {
        both(
            &mut cases,
            &format!("A.25 {name}"),
            &raw(
                header.to_string().as_bytes(),
                payload.as_bytes(),
                SECRET.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::InvalidToken,
        );
    }
    run_all("algorithm", &cases).await;
}

/// A.26: a hostile `kid` on a token MACed with the right key is just a valid token to a
/// single-key manager (it is never used for a lookup): 200, and the store is asked exactly
/// once, for the subject.
#[tokio::test]
async fn hostile_kid_is_ignored() {
    let payload = john_payload();
    let mut cases = Vec::new();
    for kid in [
        "' OR '1'='1",
        "../../../../dev/null",
        "johndoe@mail.com",
        "\u{0}",
    ] {
        let header = json!({ "alg": "HS256", "typ": "JWT", "kid": kid }).to_string();
        both(
            &mut cases,
            &format!("A.26 kid {kid:?}"),
            &raw(
                header.as_bytes(),
                payload.as_bytes(),
                SECRET.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::User(JOHN),
        );
    }
    run_all("algorithm", &cases).await;
}

/// A.27: `jku`, `x5u` and an embedded `jwk` naming an attacker's key, with the token MACed
/// with that key: refused, and nothing connects to the URL (a canary listener on 127.0.0.1).
#[tokio::test]
async fn key_material_named_by_the_token_is_never_used() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let attacker = "attacker-key-attacker-key-attacker-key";
    let payload = john_payload();
    let mut cases = Vec::new();
    for (name, header) in [
        ("jku", json!({"alg":"HS256","jku":url})),
        ("x5u", json!({"alg":"HS256","x5u":url})),
        (
            "embedded jwk",
            json!({"alg":"HS256","jwk":{"kty":"oct","k":b64(attacker)}}),
        ),
        (
            "jwk with kid",
            json!({"alg":"HS256","kid":"k1","jwk":{"kty":"oct","kid":"k1","k":b64(attacker)}}),
        ),
    ] {
        both(
            &mut cases,
            &format!("A.27 {name}"),
            &raw(
                header.to_string().as_bytes(),
                payload.as_bytes(),
                attacker.as_bytes(),
                Algorithm::HS256,
            ),
            Expect::InvalidToken,
        );
    }
    run_all("algorithm", &cases).await;
    std::thread::sleep(Duration::from_millis(50));
    let mut connections = 0;
    while let Ok((mut stream, _)) = listener.accept() {
        connections += 1;
        let _ = stream.read(&mut [0; 16]);
    }
    assert_eq!(connections, 0, "the canary was contacted");
}

/// C.1 and C.5: published tokens — the RFC 7515 A.1 vector and jwt.io's public examples —
/// are refused by the example (other keys, no `exp`, no `sub`).
#[tokio::test]
async fn published_vectors() {
    let mut cases = Vec::new();
    for (name, token) in [
        (
            "C.1 RFC 7515 A.1",
            "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        ),
        (
            "C.2 RFC 7515 A.3 (ES256)",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
        ),
        (
            "C.5 jwt.io your-256-bit-secret",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        ),
        (
            "C.5 jwt.io OWASP example",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30",
        ),
        (
            "C.6 PyJWT secret `secret`",
            "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJoZWxsbyI6ICJ3b3JsZCJ9.tvagLDLoaiJKxOKqpBXSEGy7SYSifZhjntgm9ctpyj8",
        ),
    ] {
        both(&mut cases, name, token, Expect::InvalidToken);
    }
    // The jwt.io claims re-MACed with the example's key still lack `exp` and name nobody.
    let (_, payload, _) = parts(
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.KMUFsIDTnFmyG3nMiGM6H9FNFUROf3wh7SmqJp-QV30",
    );
    both(
        &mut cases,
        "C.5 OWASP example claims with our key",
        &raw(
            HS256_HEADER.as_bytes(),
            &forge::unb64(&payload),
            SECRET.as_bytes(),
            Algorithm::HS256,
        ),
        Expect::InvalidToken,
    );
    run_all("algorithm", &cases).await;
}
