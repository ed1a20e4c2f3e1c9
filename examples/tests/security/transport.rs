//! Transport: where the credentials come from (A.1–A.8). The token is only ever read
//! from `Authorization: Bearer` and the `access-token` cookie — never from another scheme,
//! another header, the query string or the body — and an ambiguous request is refused.
//!
//! Item numbers (A.n) are those of `docs/security-checklist.md`.

use axum::http::Method;
use login_test_support::Expect;

use crate::common::{Case, Harness, count, run_all, user_json};

/// A.1–A.5 on every protected route: no credentials, other schemes, empty and badly separated
/// bearer credentials; the scheme is case-insensitive.
#[tokio::test]
async fn schemes_and_separators() {
    let h = Harness::new();
    let good = h.john();
    let mut cases = Vec::new();
    for path in ["/protected", "/scoped"] {
        cases.push(Case::header(
            format!("A.1 no credentials {path}"),
            path,
            "accept",
            "application/json",
            Expect::NoCredentials,
        ));
        for (name, value) in [
            ("A.2 Basic", "Basic dXNlcjpwYXNz".to_owned()),
            ("A.2 Token scheme", format!("Token {good}")),
            ("A.2 Digest", format!("Digest {good}")),
            ("A.2 bare token", good.clone()),
            ("A.2 Bearer as a prefix", format!("Bearerx {good}")),
            ("A.4 Bearer alone", "Bearer".to_owned()),
            ("A.4 Bearer and a space", "Bearer ".to_owned()),
            ("A.4 Bearer and spaces", "Bearer     ".to_owned()),
            ("A.5 no space", format!("Bearer{good}")),
            ("A.5 tab", format!("Bearer\t{good}")),
            ("A.5 comma", format!("Bearer,{good}")),
        ] {
            cases.push(
                Case::header(
                    format!("{name} {path}"),
                    path,
                    "authorization",
                    value,
                    Expect::NoCredentials,
                )
                .secret(&good),
            );
        }
    }
    for scheme in ["bearer", "BEARER", "bEaReR", "Bearer  "] {
        cases.push(Case::header(
            format!("A.3 scheme {scheme:?}"),
            "/protected",
            "authorization",
            format!("{scheme} {good}"),
            Expect::User(crate::common::JOHN),
        ));
    }
    // A second credential after the token is part of the token, which then fails.
    cases.push(
        Case::header(
            "A.5 two credentials in one header",
            "/protected",
            "authorization",
            format!("Bearer {good}, Basic dXNlcjpwYXNz"),
            Expect::InvalidToken,
        )
        .secret(&good),
    );
    // The optional route serves anonymous users without calling the loader.
    cases.push(Case::header(
        "A.1 no credentials /optional",
        "/optional",
        "accept",
        "*/*",
        Expect::Anonymous,
    ));
    cases.push(
        Case::header(
            "A.2 Basic /optional",
            "/optional",
            "authorization",
            "Basic dXNlcjpwYXNz",
            Expect::Anonymous,
        )
        .secret("dXNlcjpwYXNz"),
    );
    run_all("transport", &cases).await;
}

/// A.7: tokens in the query string, a form body, or headers other than `Authorization` are
/// never read; with a header token, a query token changes nothing.
#[tokio::test]
async fn tokens_elsewhere_are_never_read() {
    let h = Harness::new();
    let good = h.john();
    let mut cases = Vec::new();
    for query in ["access_token", "token", "access-token", "jwt"] {
        let mut case = Case::header(
            format!("A.7 ?{query}="),
            "/protected",
            "accept",
            "*/*",
            Expect::NoCredentials,
        )
        .secret(&good);
        case.path = format!("/protected?{query}={good}");
        cases.push(case);
    }
    for header in [
        "proxy-authorization",
        "x-access-token",
        "x-auth-token",
        "access-token",
        "x-forwarded-authorization",
        "authentication",
    ] {
        cases.push(
            Case::header(
                format!("A.7 {header} header"),
                "/protected",
                header,
                format!("Bearer {good}"),
                Expect::NoCredentials,
            )
            .secret(&good),
        );
    }
    // `Set-Cookie` in a request is not a cookie.
    cases.push(
        Case::header(
            "A.7 Set-Cookie request header",
            "/protected",
            "set-cookie",
            format!("access-token={good}"),
            Expect::NoCredentials,
        )
        .secret(&good),
    );
    // A query token next to a header token: the header decides (the query is never read).
    let jane = h.jane();
    let mut both = Case::bearer(
        "A.7 header + query naming someone else",
        "/protected",
        &good,
        Expect::User(crate::common::JOHN),
    );
    both.path = format!("/protected?access_token={jane}");
    cases.push(both);
    run_all("transport", &cases).await;

    // A form body with a token is not read either (GET and POST with a body).
    for method in [Method::GET, Method::POST] {
        let h = Harness::new();
        let request = login_test_support::request(
            method.clone(),
            "/protected",
            &[("content-type", b"application/x-www-form-urlencoded")],
            axum::body::Body::from(format!("access_token={good}")),
        );
        let reply = h.send(request).await;
        if method == Method::GET {
            reply.assert_case("A.7 form body", Expect::NoCredentials, user_json);
        } else {
            // The route is GET only: the router answers 405 before any extractor.
            assert_eq!(reply.status, axum::http::StatusCode::METHOD_NOT_ALLOWED);
        }
        h.assert_untouched("A.7 form body");
        h.assert_not_leaked("A.7 form body", &reply, &good);
    }
    count("transport", 2);
}

/// Ambiguity is refused (RFC 6750 §3.1 `invalid_request`, 400): more than one `Authorization`
/// header — valid, identical, for two different users, or with an empty one — and an
/// `Authorization` value that is not visible ASCII. Also on the optional route, which must not
/// guess either.
#[tokio::test]
async fn ambiguous_requests_are_malformed() {
    let h = Harness::new();
    let john = format!("Bearer {}", h.john());
    let jane = format!("Bearer {}", h.jane());
    let mut cases = Vec::new();
    for path in ["/protected", "/optional", "/scoped"] {
        for (name, second) in [
            ("identical", john.clone()),
            ("another user", jane.clone()),
            ("empty bearer", "Bearer".to_owned()),
            ("garbage", "Bearer x.y.z".to_owned()),
            ("Basic", "Basic dXNlcjpwYXNz".to_owned()),
        ] {
            cases.push(
                Case::header(
                    format!("two Authorization headers ({name}) {path}"),
                    path,
                    "authorization",
                    john.clone(),
                    Expect::InvalidRequest,
                )
                .with("authorization", second)
                .secret(john.trim_start_matches("Bearer ")),
            );
        }
        let mut obs = b"Bearer ".to_vec();
        obs.extend_from_slice(h.john().as_bytes());
        obs.extend_from_slice(&[0xC3, 0xA9]);
        cases.push(
            Case::header(
                format!("obs-text in Authorization {path}"),
                path,
                "authorization",
                obs,
                Expect::InvalidRequest,
            )
            .secret(john.trim_start_matches("Bearer ")),
        );
    }
    run_all("transport", &cases).await;
}

/// HEAD is answered like GET: 401 before the handler, no body.
#[tokio::test]
async fn head_is_refused_like_get() {
    let h = Harness::new();
    let reply = h
        .request(Method::HEAD, "/protected", &[("accept", b"*/*")])
        .await;
    assert_eq!(reply.status, axum::http::StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert!(reply.body.is_empty());
    h.assert_untouched("HEAD");
    count("transport", 1);
}
