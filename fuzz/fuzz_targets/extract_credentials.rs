//! Credential extraction from arbitrary `Authorization` and `Cookie` header bytes, through a
//! router built with the public API (`AuthUser`, `MaybeUser`, `Scoped`) and a manager like the
//! `simple` example's.
//!
//! Input format (mutation-friendly, easy to write seeds by hand): byte 0 picks the route
//! (`/me`, `/maybe`, `/write`); the rest is split on `\n` into header lines whose first byte
//! picks the header (`A` Authorization, `C` Cookie, `X` an unrelated header, anything else is
//! skipped) and whose remaining bytes are the value, where the bytes 0x01–0x05 are replaced by
//! whole tokens: 0x01 alice (`read write`), 0x02 bob (`read`), 0x03 carol (not in the store),
//! 0x04 alice's token expired, 0x05 alice's header and payload with bob's signature.
//!
//! Invariants: never a panic; only 200/400/401/403; the same request twice gets the same
//! answer; a 200 that names a user carries that user's valid token verbatim in an
//! `Authorization` or `Cookie` header; `/write` only ever lets alice in.

#![no_main]

mod common;

use std::sync::LazyLock;

use axum::Router;
use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::Response;
use axum::routing::get;
use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use login::{AuthUser, LoginManager, MaybeUser, extract::RequiredScopes, Scoped, TokenRequest, loader::UserLoader};
use tower::ServiceExt;

#[derive(Clone)]
struct User(String);

impl login::loader::HasUserLoader for User {
    type Manager = LoginManager;
}

impl UserLoader<LoginManager> for User {
    async fn load_user(
        subject: String,
        _: &mut Parts,
        _: &LoginManager,
    ) -> Result<Option<Self>, Response> {
        Ok(matches!(subject.as_str(), "alice" | "bob").then_some(User(subject)))
    }
}

struct Write;
impl RequiredScopes for Write {
    const SCOPES: &'static [&'static str] = &["write"];
}

async fn me(AuthUser(user): AuthUser<User>) -> String {
    user.0
}

async fn maybe(MaybeUser(user): MaybeUser<User>) -> String {
    user.map(|u| u.0).unwrap_or_default()
}

async fn write(Scoped(user, _): Scoped<User, Write>) -> String {
    user.0
}

struct Fixture {
    router: Router,
    runtime: tokio::runtime::Runtime,
    /// alice, bob, carol, expired alice, tampered.
    tokens: [String; 5],
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let manager = common::manager(4096);
    let alice = common::token(&manager, "alice", &["read", "write"]);
    let bob = common::token(&manager, "bob", &["read"]);
    let carol = common::token(&manager, "carol", &["read", "write"]);
    // Minted by a manager whose clock is an hour behind: expired at `NOW`, same secret.
    let earlier = LoginManager::builder("/login")
        .secret(common::SECRET)
        .clock(|| common::NOW - 3600)
        .build()
        .unwrap();
    let expired = earlier
        .create_access_token(
            TokenRequest::new("alice").lifetime(std::time::Duration::from_secs(60)),
        )
        .unwrap();
    let tampered = {
        let (a_input, _) = alice.rsplit_once('.').unwrap();
        let (_, b_sig) = bob.rsplit_once('.').unwrap();
        format!("{a_input}.{b_sig}")
    };
    let router = Router::new()
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/write", get(write))
        .with_state(manager);
    Fixture {
        router,
        runtime: tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
        tokens: [alice, bob, carol, expired, tampered],
    }
});

fn expand(value: &[u8], tokens: &[String; 5]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for &b in value {
        match b {
            1..=5 => out.extend_from_slice(tokens[usize::from(b - 1)].as_bytes()),
            _ => out.push(b),
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    let f = &*FIXTURE;
    let path = ["/me", "/maybe", "/write"][usize::from(route % 3)];
    let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for line in rest.split(|&b| b == b'\n') {
        let Some((&kind, value)) = line.split_first() else {
            continue;
        };
        let name = match kind {
            b'A' => header::AUTHORIZATION,
            b'C' => header::COOKIE,
            b'X' => HeaderName::from_static("x-access-token"),
            _ => continue,
        };
        let Ok(value) = HeaderValue::from_bytes(&expand(value, &f.tokens)) else {
            continue;
        };
        headers.push((name, value));
    }
    let send = || {
        let mut request = Request::get(path).body(Body::empty()).unwrap();
        for (name, value) in &headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        f.runtime.block_on(async {
            let response = f.router.clone().oneshot(request).await.unwrap();
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8(body.to_vec()).unwrap())
        })
    };
    let (status, body) = send();
    assert!(
        [200, 400, 401, 403].contains(&status),
        "status {status} for {headers:?}"
    );
    let again = send();
    assert_eq!((status, &body), (again.0, &again.1), "not deterministic");
    if status == 200 && !body.is_empty() {
        let owner = match body.as_str() {
            "alice" => &f.tokens[0],
            "bob" => &f.tokens[1],
            other => panic!("200 naming {other:?}"),
        };
        let carried = headers.iter().any(|(name, value)| {
            (name == header::AUTHORIZATION || name == header::COOKIE)
                && contains(value.as_bytes(), owner.as_bytes())
        });
        assert!(carried, "200 for {body} without their token: {headers:?}");
        if path == "/write" {
            assert_eq!(body, "alice", "/write let {body} in");
        }
    }
    if status == 200 && body.is_empty() {
        assert_eq!(path, "/maybe", "anonymous 200 on {path}");
    }
});
