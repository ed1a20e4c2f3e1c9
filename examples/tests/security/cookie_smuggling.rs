//! Cookies (A.8 and B): a bearer token in the header decides, the `access-token`
//! cookie only when there is none (a planted cookie must not override the header),
//! with no silent fallback; two different values under the token's name are refused, never
//! "first one wins"; look-alike names are not the token cookie; the value is taken verbatim
//! (optionally quoted, RFC 6265), never decoded or stripped of a scheme.
//!
//! The CSRF gate for cookie-authenticated state-changing requests does not apply to the
//! example (its protected routes are all GET; the runtime's suite covers the gate); login CSRF
//! is in the `login` group.
//!
//! Item numbers (A.n, B) are those of `docs/security-checklist.md`.
use login_test_support::Expect;

use crate::common::{Case, Harness, JANE, JOHN, run_all};

/// A.8: precedence between the cookie and the header, pinned: the header's bearer token
/// decides (RFC 6750 §2, one method per request; fastapi-login reads the cookie first, but a
/// cookie can be planted by a sibling subdomain or a plain-HTTP man in the middle, a header
/// cannot), with no fallback either way.
#[tokio::test]
async fn header_first_without_fallback() {
    let h = Harness::new();
    let john = h.john();
    let jane = h.jane();
    let bearer = |t: &str| format!("Bearer {t}");
    let cookie = |t: &str| format!("access-token={t}");
    let cases = vec![
        Case::header(
            "valid cookie",
            "/protected",
            "cookie",
            cookie(&john),
            Expect::User(JOHN),
        ),
        Case::header(
            "valid header (Jane) wins over a valid cookie (John)",
            "/protected",
            "cookie",
            cookie(&john),
            Expect::User(JANE),
        )
        .with("authorization", bearer(&jane)),
        Case::header(
            "garbage header, valid cookie: no fallback",
            "/protected",
            "cookie",
            cookie(&john),
            Expect::InvalidToken,
        )
        .with("authorization", "Bearer x.y.z")
        .secret(&john),
        Case::header(
            "invalid cookie, valid header: the cookie is not read",
            "/protected",
            "cookie",
            cookie("x.y.z"),
            Expect::User(JOHN),
        )
        .with("authorization", bearer(&john)),
        Case::header(
            "conflicting cookies, valid header: the cookie is not read",
            "/protected",
            "cookie",
            format!("access-token={jane}; access-token=x.y.z"),
            Expect::User(JOHN),
        )
        .with("authorization", bearer(&john)),
        Case::header(
            "garbage header, valid cookie on /optional: anonymous, no fallback",
            "/optional",
            "cookie",
            cookie(&john),
            Expect::Anonymous,
        )
        .with("authorization", "Bearer garbage")
        .secret(&john),
        Case::header(
            "empty cookie, valid header: the header is used",
            "/protected",
            "cookie",
            cookie(""),
            Expect::User(JOHN),
        )
        .with("authorization", bearer(&john)),
        Case::header(
            "valid cookie, empty bearer token: the cookie is used",
            "/protected",
            "cookie",
            cookie(&john),
            Expect::User(JOHN),
        )
        .with("authorization", "Bearer "),
        Case::header(
            "empty quoted cookie, no header",
            "/protected",
            "cookie",
            cookie("\"\""),
            Expect::NoCredentials,
        ),
        Case::header(
            "valid cookie with two Authorization headers: still malformed",
            "/protected",
            "cookie",
            cookie(&john),
            Expect::InvalidRequest,
        )
        .with("authorization", bearer(&john))
        .with("authorization", bearer(&jane)),
    ];
    run_all("cookies", &cases).await;
}

/// Duplicates: two values under the token's name — John's and Jane's valid tokens, or a valid
/// and a garbage one, in one `Cookie` header or two, in either order — are a malformed request
/// (400), on the optional route too. Identical duplicates are harmless.
#[tokio::test]
async fn conflicting_duplicates_are_malformed() {
    let h = Harness::new();
    let john = h.john();
    let jane = h.jane();
    let mut cases = Vec::new();
    for path in ["/protected", "/optional", "/scoped"] {
        for (name, a, b) in [
            ("John then Jane", john.as_str(), jane.as_str()),
            ("Jane then John", jane.as_str(), john.as_str()),
            ("valid then garbage", john.as_str(), "x.y.z"),
            ("garbage then valid", "x.y.z", john.as_str()),
        ] {
            cases.push(
                Case::header(
                    format!("one Cookie header, {name} {path}"),
                    path,
                    "cookie",
                    format!("access-token={a}; access-token={b}"),
                    Expect::InvalidRequest,
                )
                .secret(&john),
            );
            cases.push(
                Case::header(
                    format!("two Cookie headers, {name} {path}"),
                    path,
                    "cookie",
                    format!("access-token={a}"),
                    Expect::InvalidRequest,
                )
                .with("cookie", format!("access-token={b}"))
                .secret(&john),
            );
        }
    }
    cases.push(Case::header(
        "identical duplicates",
        "/protected",
        "cookie",
        format!("access-token={john}; access-token={john}"),
        Expect::User(JOHN),
    ));
    cases.push(Case::header(
        "quoted and unquoted spelling of one value",
        "/protected",
        "cookie",
        format!("access-token=\"{john}\"; access-token={john}"),
        Expect::User(JOHN),
    ));
    run_all("cookies", &cases).await;
}

/// Look-alike names are other cookies: no credentials (and on the optional route, anonymous).
#[tokio::test]
async fn look_alike_names_are_not_the_token_cookie() {
    let h = Harness::new();
    let john = h.john();
    let mut cases = Vec::new();
    for name in [
        "Access-Token",
        "ACCESS-TOKEN",
        "access_token",
        "access-token2",
        "x-access-token",
        "__Host-access-token",
        "__Secure-access-token",
        "access-token%00",
        "access%2Dtoken",
        "\"access-token\"",
    ] {
        cases.push(
            Case::header(
                format!("cookie named {name}"),
                "/protected",
                "cookie",
                format!("{name}={john}"),
                Expect::NoCredentials,
            )
            .secret(&john),
        );
    }
    cases.push(
        Case::header(
            "cookie named Access-Token on /optional",
            "/optional",
            "cookie",
            format!("Access-Token={john}"),
            Expect::Anonymous,
        )
        .secret(&john),
    );
    run_all("cookies", &cases).await;
}

/// The value is taken verbatim: surrounding whitespace and RFC 6265 double quotes are
/// removed, nothing else — no scheme, no percent-decoding, no base64 of the token.
#[tokio::test]
async fn values_are_verbatim() {
    let h = Harness::new();
    let john = h.john();
    let mut cases = vec![
        Case::header(
            "quoted",
            "/protected",
            "cookie",
            format!("access-token=\"{john}\""),
            Expect::User(JOHN),
        ),
        Case::header(
            "spaces around",
            "/protected",
            "cookie",
            format!("a=1;  access-token = {john} ; b=2"),
            Expect::User(JOHN),
        ),
        Case::header(
            "among others",
            "/protected",
            "cookie",
            format!("theme=dark; access-token={john}; lang=en"),
            Expect::User(JOHN),
        ),
    ];
    for (name, value) in [
        ("Bearer scheme inside", format!("Bearer {john}")),
        ("Bearer%20 inside", format!("Bearer%20{john}")),
        ("percent-encoded dots", john.replace('.', "%2E")),
        ("one quote", format!("\"{john}")),
        ("single quotes", format!("'{john}'")),
        ("trailing comma", format!("{john},")),
        (
            "two tokens, comma-separated",
            format!("{john},{}", h.jane()),
        ),
    ] {
        cases.push(
            Case::header(
                format!("value: {name}"),
                "/protected",
                "cookie",
                format!("access-token={value}"),
                Expect::InvalidToken,
            )
            .secret(&john),
        );
    }
    run_all("cookies", &cases).await;
}

/// A cookie the browser stores for the same site with a non-ASCII value (UTF-8 set by a page
/// script, an analytics cookie…) sits in the same `Cookie` header as the token. The token
/// cookie next to it must still authenticate, and a bad token cookie next to it must still be
/// refused rather than skipped.
#[tokio::test]
async fn non_ascii_sibling_cookie_does_not_hide_the_token() {
    let h = Harness::new();
    let john = h.john();
    let mut value = format!("access-token={john}; name=").into_bytes();
    value.extend_from_slice("José".as_bytes());
    Case::header(
        "valid token next to a UTF-8 cookie",
        "/protected",
        "cookie",
        value,
        Expect::User(JOHN),
    )
    .run()
    .await;
    let mut value = b"access-token=x.y.z; name=".to_vec();
    value.extend_from_slice("José".as_bytes());
    Case::header(
        "bad token next to a UTF-8 cookie, no header",
        "/protected",
        "cookie",
        value,
        Expect::InvalidToken,
    )
    .secret(&john)
    .run()
    .await;
}
