//! A manager on an identity provider's keys (feature `oidc`) against a small provider of the
//! tests' own (`login_test_support::oidc`), for what a real provider will not do on demand:
//! a flood of made-up `kid`s, the provider down or answering garbage, an `issuer` that
//! differs, a key set too large, `alg`/`kty` confusion, a wrong or missing `aud`, rotation.
//! The real provider's tests are `examples/tests/resource_server.rs`.
//!
//! No timed assertion: what must happen "eventually" is awaited in a bounded loop.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use login::oidc::{Provider, ProviderError};
use login::{Claims, LoginManager};
use login_test_support::forge;
use login_test_support::oidc::{Answer, LocalProvider, TestKey, provider_claims};
use login_test_support::{Expect, request, send};
use serde_json::{Value, json};

const AUDIENCE: &str = "shop-api";

async fn manager_for(provider: Provider) -> LoginManager {
    let discovered = provider.discover().await.expect("discovery");
    LoginManager::builder("/login")
        .identity_provider(discovered)
        .audience(AUDIENCE)
        .build()
        .expect("build")
}

/// `GET /me` answers the subject and scopes; `GET /admin` needs the `admin` scope.
fn app(manager: LoginManager) -> Router {
    Router::new()
        .route(
            "/me",
            get(|claims: Claims| async move { format!("{} {}", claims.sub, claims.scopes.join(" ")) }),
        )
        .route(
            "/optional",
            get(|claims: Option<Claims>| async move {
                claims.map_or("anonymous".to_owned(), |c| c.sub)
            }),
        )
        .with_state(manager)
}

async fn get_me(app: &Router, token: &str) -> login_test_support::Reply {
    bearer(app, "/me", token).await
}

async fn bearer(app: &Router, path: &str, token: &str) -> login_test_support::Reply {
    let auth = format!("Bearer {token}");
    send(
        app,
        request(Method::GET, path, &[("authorization", auth)], Body::empty()),
    )
    .await
}

fn claims(idp: &LocalProvider, sub: &str, extra: Value) -> Value {
    provider_claims(&idp.issuer(), AUDIENCE, sub, extra)
}

/// Waits until `done` holds: at most 10 s, every 20 ms.
async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..500 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn a_provider_token_is_verified_and_its_scopes_mapped() {
    let key = TestKey::rsa("k1");
    let ec = TestKey::p256("e1");
    let idp = LocalProvider::start(vec![key.jwk(), ec.jwk()]).await;
    let m = manager_for(Provider::new(idp.issuer()).roles_claim("realm_access.roles")).await;
    let app = app(m);
    let token = key.sign(&claims(
        &idp,
        "alice",
        json!({ "scp": ["write"], "realm_access": { "roles": ["admin"] } }),
    ));
    let reply = get_me(&app, &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "alice openid read write admin");
    // ES256 from the same set; `aud` as an array naming us among others.
    let token = ec.sign(&claims(&idp, "bob", json!({ "aud": ["other", AUDIENCE] })));
    let reply = get_me(&app, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(idp.jwks_requests(), 1, "discovery reads the keys once");
}

#[tokio::test]
async fn wrong_or_missing_audience_issuer_or_expiry_is_401() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    let app = app(manager_for(Provider::new(idp.issuer())).await);
    for (why, extra) in [
        ("wrong aud", json!({ "aud": "another-api" })),
        ("aud array without us", json!({ "aud": ["a", "b"] })),
        ("missing aud", json!({ "aud": null })),
        ("other issuer", json!({ "iss": "http://127.0.0.1:1/realm" })),
        (
            "issuer with a trailing slash",
            json!({ "iss": format!("{}/", idp.issuer()) }),
        ),
        ("expired", json!({ "exp": 1_000_000_000 })),
    ] {
        let reply = get_me(&app, &key.sign(&claims(&idp, "alice", extra))).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{why}");
        reply.assert(Expect::InvalidToken);
    }
}

#[tokio::test]
async fn algorithm_and_key_type_confusion_is_refused() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    let app = app(manager_for(Provider::new(idp.issuer())).await);
    let good = claims(&idp, "mallory", json!({}));
    let payload = good.to_string();
    // HMAC keyed with the provider's public key (the classic RS256 -> HS256 confusion).
    let public_n = key.jwk()["n"].as_str().unwrap().to_owned();
    for (header, mac_key) in [
        (
            json!({ "alg": "HS256", "kid": "k1" }),
            public_n.as_bytes().to_vec(),
        ),
        (
            json!({ "alg": "HS256", "kid": "k1" }),
            include_bytes!("keys/rsa2048.pub.pem").to_vec(),
        ),
    ] {
        let token = forge::raw(
            header.to_string().as_bytes(),
            payload.as_bytes(),
            &mac_key,
            jsonwebtoken::Algorithm::HS256,
        );
        get_me(&app, &token).await.assert(Expect::InvalidToken);
    }
    // `alg: none`, and ES256 claimed with the RSA key's `kid`.
    let (_, body, sig) = forge::parts(&key.sign(&good));
    for header in [
        json!({ "alg": "none", "kid": "k1" }),
        json!({ "alg": "ES256", "kid": "k1" }),
        json!({ "alg": "PS256", "kid": "k1" }),
    ] {
        let token = format!("{}.{body}.{sig}", forge::b64(header.to_string()));
        get_me(&app, &token).await.assert(Expect::InvalidToken);
    }
    // A key set whose only RSA key is named HS256 (or is an `oct` key) has no usable key.
    let confused = LocalProvider::start(vec![
        key.jwk_with(json!({ "alg": "HS256" })),
        json!({ "kty": "oct", "kid": "o", "alg": "HS256", "k": forge::b64(login_test_support::SECRET) }),
    ])
    .await;
    let error = Provider::new(confused.issuer())
        .discover()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::InvalidDocument { ref reason, .. } if reason.contains("no usable")),
        "{error}"
    );
}

#[tokio::test]
async fn a_required_typ_and_authorized_parties_are_checked() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    let strict = Provider::new(idp.issuer())
        .require_access_token_type(true)
        .authorized_parties(["web"]);
    let app = app(manager_for(strict).await);
    let ok = claims(&idp, "alice", json!({ "azp": "web" }));
    assert_eq!(get_me(&app, &key.sign(&ok)).await.status, StatusCode::OK);
    // An ID token (`typ: JWT`) of the same provider is not an access token.
    get_me(&app, &key.sign_typ(&ok, "JWT"))
        .await
        .assert(Expect::InvalidToken);
    for azp in [json!("mobile"), Value::Null] {
        let token = key.sign(&claims(&idp, "alice", json!({ "azp": azp })));
        get_me(&app, &token).await.assert(Expect::InvalidToken);
    }
}

#[tokio::test]
async fn a_key_rotated_at_the_provider_is_accepted_without_a_restart() {
    let old = TestKey::rsa("2026-11");
    let new = TestKey::rsa_b("2026-12");
    let idp = LocalProvider::start(vec![old.jwk()]).await;
    let app = app(manager_for(Provider::new(idp.issuer())).await);
    assert_eq!(
        get_me(&app, &old.sign(&claims(&idp, "a", json!({}))))
            .await
            .status,
        StatusCode::OK
    );
    // The provider starts signing with a new key: the first token naming it makes the one
    // refresh a request may wait for.
    idp.set_keys(vec![old.jwk(), new.jwk()]);
    let reply = get_me(&app, &new.sign(&claims(&idp, "b", json!({})))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(idp.jwks_requests(), 2);
    // The old key is withdrawn: tokens signed with it stop verifying once the keys are
    // refreshed (on the schedule; here, at the next unknown `kid` after the cooldown).
    assert_eq!(
        get_me(&app, &old.sign(&claims(&idp, "a", json!({}))))
            .await
            .status,
        StatusCode::OK,
        "the old key serves until the set is refreshed"
    );
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_the_provider_one_request_per_cooldown() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    let app = app(manager_for(Provider::new(idp.issuer())).await);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = app.clone();
        let token = key.sign_as(&format!("made-up-{i}"), &claims(&idp, "x", json!({})));
        tasks.push(tokio::spawn(async move { get_me(&app, &token).await }));
    }
    for task in tasks {
        task.await.unwrap().assert(Expect::InvalidToken);
    }
    // Discovery's fetch, then one refresh for the whole flood (the cooldown is 10 s).
    assert_eq!(idp.jwks_requests(), 2, "requests to the provider's key set");
    // Known keys were never blocked by the flood.
    assert_eq!(
        get_me(&app, &key.sign(&claims(&idp, "a", json!({}))))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn with_the_provider_down_or_garbled_the_last_good_keys_serve_then_503() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    idp.max_age(1);
    let provider = Provider::new(idp.issuer())
        .refresh_bounds(Duration::from_secs(1), Duration::from_secs(1))
        .unknown_kid_cooldown(Duration::from_millis(200))
        .max_stale(Duration::from_secs(3));
    let app = app(manager_for(provider).await);
    let token = key.sign(&claims(&idp, "alice", json!({})));
    idp.answer(Answer::Down);
    // The background refresh fails (it tries every second, then every cooldown)...
    eventually("a failed background refresh", || async {
        idp.jwks_requests() >= 2
    })
    .await;
    // ...the last good keys keep serving (the bound is 3 s; the failure came after ~1 s)...
    let reply = get_me(&app, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    idp.answer(Answer::Garbage);
    let before = idp.jwks_requests();
    eventually("a garbled refresh", || async {
        idp.jwks_requests() > before
    })
    .await;
    // ...until the bound: then 503, never 401.
    eventually("503 once the keys are stale past the bound", || async {
        get_me(&app, &token).await.status == StatusCode::SERVICE_UNAVAILABLE
    })
    .await;
    let reply = get_me(&app, &token).await;
    assert!(
        reply.header("www-authenticate").is_none(),
        "503 is no challenge"
    );
    // Never anonymous on an optional route either.
    let optional = bearer(&app, "/optional", &token).await;
    assert_eq!(optional.status, StatusCode::SERVICE_UNAVAILABLE);
    // The provider comes back: the next refresh puts the keys in force again.
    idp.answer(Answer::Keys);
    eventually("service resumes once a refresh succeeds", || async {
        get_me(&app, &token).await.status == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn discovery_refuses_what_is_wrong_at_start_up() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    // An `issuer` in the document that is not exactly the configured one.
    idp.claim_issuer("https://evil.example/realm");
    let error = Provider::new(idp.issuer()).discover().await.unwrap_err();
    assert!(
        matches!(error, ProviderError::IssuerMismatch { .. }),
        "{error}"
    );
    let error = Provider::new(format!("{}/", idp.issuer()))
        .discover()
        .await
        .unwrap_err();
    assert!(
        matches!(error, ProviderError::IssuerMismatch { .. }),
        "{error}"
    );
    // A key set too large.
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    idp.answer(Answer::Huge);
    let error = Provider::new(idp.issuer()).discover().await.unwrap_err();
    assert!(matches!(error, ProviderError::TooLarge { .. }), "{error}");
    // A provider that is down; one that answers garbage.
    idp.answer(Answer::Down);
    let error = Provider::new(idp.issuer()).discover().await.unwrap_err();
    assert!(
        matches!(error, ProviderError::Status { status: 500, .. }),
        "{error}"
    );
    idp.answer(Answer::Garbage);
    let error = Provider::new(idp.issuer()).discover().await.unwrap_err();
    assert!(
        matches!(error, ProviderError::InvalidDocument { .. }),
        "{error}"
    );
    // Nobody listening.
    let error = Provider::new("http://127.0.0.1:1/realm")
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::Fetch { .. }), "{error}");
    // Bad URLs.
    for bad in [
        "not a url",
        "http://idp.example.com/realm",
        "ftp://127.0.0.1/realm",
        "https://idp.example.com/realm?x=1",
        "https://user:pw@idp.example.com/realm",
    ] {
        let error = Provider::new(bad).discover().await.unwrap_err();
        assert!(
            matches!(error, ProviderError::InvalidUrl { .. }),
            "{bad}: {error}"
        );
    }
}

#[tokio::test]
async fn rfc_8414_metadata_is_read_where_openid_discovery_is_absent() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    idp.only_rfc8414();
    let app = app(manager_for(Provider::new(idp.issuer())).await);
    let reply = get_me(&app, &key.sign(&claims(&idp, "alice", json!({})))).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_verify_only_manager_refuses_what_it_cannot_do() {
    let key = TestKey::rsa("k1");
    let idp = LocalProvider::start(vec![key.jwk()]).await;
    let discover = || Provider::new(idp.issuer()).discover();
    let no_audience = LoginManager::builder("/login")
        .identity_provider(discover().await.unwrap())
        .build();
    assert!(matches!(
        no_audience,
        Err(login::ConfigError::ProviderNeedsAudience)
    ));
    let with_secret = LoginManager::builder("/login")
        .identity_provider(discover().await.unwrap())
        .audience(AUDIENCE)
        .secret(login_test_support::SECRET)
        .build();
    assert!(matches!(
        with_secret,
        Err(login::ConfigError::ProviderConflict(_))
    ));
    let other_issuer = LoginManager::builder("/login")
        .identity_provider(discover().await.unwrap())
        .audience(AUDIENCE)
        .issuer("https://other.example")
        .build();
    assert!(matches!(
        other_issuer,
        Err(login::ConfigError::ProviderConflict(_))
    ));
    // It mints nothing.
    let m = manager_for(Provider::new(idp.issuer())).await;
    assert!(m.create_access_token("alice").is_err());
    // Bad settings are refused before any fetch.
    let error = Provider::new(idp.issuer())
        .refresh_bounds(Duration::from_secs(60), Duration::from_secs(1))
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(error, ProviderError::InvalidSetting(_)), "{error}");
}

login::define_manager!(
    /// The second provider's manager (the workforce's, say), told apart by its type.
    Workforce
);

#[tokio::test]
async fn two_providers_two_managers_each_token_only_where_it_belongs() {
    use axum::extract::FromRef;
    use login::extract::ClaimsOf;

    #[derive(Clone, FromRef)]
    struct State {
        customers: LoginManager,
        workforce: Workforce,
    }
    let (ck, wk) = (TestKey::rsa("customers"), TestKey::p256("workforce"));
    let (cidp, widp) = (
        LocalProvider::start(vec![ck.jwk()]).await,
        LocalProvider::start(vec![wk.jwk()]).await,
    );
    let state = State {
        customers: manager_for(Provider::new(cidp.issuer())).await,
        workforce: Workforce::from(manager_for(Provider::new(widp.issuer())).await),
    };
    let app = Router::new()
        .route("/me", get(|c: Claims| async move { c.sub }))
        .route(
            "/staff",
            get(|ClaimsOf(c, _): ClaimsOf<Workforce>| async move { c.sub }),
        )
        .with_state(state);
    let customer = ck.sign(&claims(&cidp, "carol", json!({})));
    let employee = wk.sign(&claims(&widp, "erin", json!({})));
    assert_eq!(bearer(&app, "/me", &customer).await.text(), "carol");
    assert_eq!(bearer(&app, "/staff", &employee).await.text(), "erin");
    bearer(&app, "/me", &employee)
        .await
        .assert(Expect::InvalidToken);
    bearer(&app, "/staff", &customer)
        .await
        .assert(Expect::InvalidToken);
}
