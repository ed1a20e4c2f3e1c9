//! A small identity provider of the tests' own, on a free loopback port: the discovery
//! documents and a key set it can be told to change, to withhold (500), to garble or to bloat,
//! counting the key set's requests. It covers what a real provider will not do on demand
//! (the real one, `oidc-provider` from npm, is started by the examples' tests).
//!
//! [`TestKey`] signs tokens with the suite's keys (`login/tests/keys/`) and gives their JWK.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use login::keys::SigningKey;
use serde_json::{Value, json};

/// What the key set's URL answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The keys, with `Cache-Control: max-age=…` when one is set.
    Keys,
    /// 500 Internal Server Error.
    Down,
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with a valid key set padded past 1 MiB.
    Huge,
}

struct Shared {
    url: String,
    keys: Mutex<Vec<Value>>,
    answer: Mutex<Answer>,
    max_age: Mutex<Option<u64>>,
    claimed_issuer: Mutex<Option<String>>,
    openid_configuration: Mutex<bool>,
    jwks_requests: AtomicUsize,
}

/// The provider; stopped when dropped.
pub struct LocalProvider {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalProvider {
    /// Starts a provider serving `keys` (JWKs, as [`TestKey::jwk`] gives them) at
    /// `http://127.0.0.1:<port>/jwks`, its issuer `http://127.0.0.1:<port>/realm`.
    pub async fn start(keys: Vec<Value>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            url,
            keys: Mutex::new(keys),
            answer: Mutex::new(Answer::Keys),
            max_age: Mutex::new(None),
            claimed_issuer: Mutex::new(None),
            openid_configuration: Mutex::new(true),
            jwks_requests: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .route("/realm/.well-known/openid-configuration", get(openid))
            .route(
                "/.well-known/oauth-authorization-server/realm",
                get(rfc8414),
            )
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        LocalProvider { shared, task }
    }

    /// The issuer (`http://127.0.0.1:<port>/realm`).
    pub fn issuer(&self) -> String {
        format!("{}/realm", self.shared.url)
    }

    /// How many times the key set was asked for.
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// Replaces the keys served.
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.shared.keys.lock().unwrap() = keys;
    }

    /// Sets what the key set's URL answers.
    pub fn answer(&self, answer: Answer) {
        *self.shared.answer.lock().unwrap() = answer;
    }

    /// Sends `Cache-Control: max-age=<secs>` with the keys.
    pub fn max_age(&self, secs: u64) {
        *self.shared.max_age.lock().unwrap() = Some(secs);
    }

    /// Makes the discovery documents name another `issuer`.
    pub fn claim_issuer(&self, issuer: &str) {
        *self.shared.claimed_issuer.lock().unwrap() = Some(issuer.to_owned());
    }

    /// Answers 404 at OpenID Connect Discovery's URL: only RFC 8414's is served.
    pub fn only_rfc8414(&self) {
        *self.shared.openid_configuration.lock().unwrap() = false;
    }
}

fn metadata(shared: &Shared) -> Response {
    let issuer = shared
        .claimed_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| format!("{}/realm", shared.url));
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/jwks", shared.url),
        "token_endpoint": format!("{}/realm/token", shared.url),
    }))
    .into_response()
}

async fn openid(State(shared): State<Arc<Shared>>) -> Response {
    if !*shared.openid_configuration.lock().unwrap() {
        return StatusCode::NOT_FOUND.into_response();
    }
    metadata(&shared)
}

async fn rfc8414(State(shared): State<Arc<Shared>>) -> Response {
    metadata(&shared)
}

async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    let answer = *shared.answer.lock().unwrap();
    let keys = shared.keys.lock().unwrap().clone();
    match answer {
        Answer::Down => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::Garbage => (StatusCode::OK, "<html>maintenance</html>").into_response(),
        Answer::Huge => {
            let padding = "x".repeat(1024 * 1024 + 1);
            axum::Json(json!({ "keys": keys, "padding": padding })).into_response()
        }
        Answer::Keys => {
            let body = axum::Json(json!({ "keys": keys }));
            match *shared.max_age.lock().unwrap() {
                Some(secs) => (
                    [(header::CACHE_CONTROL, format!("public, max-age={secs}"))],
                    body,
                )
                    .into_response(),
                None => body.into_response(),
            }
        }
    }
}

/// A key of the suite's, to sign provider tokens with.
pub struct TestKey {
    encoding: EncodingKey,
    algorithm: Algorithm,
    kid: String,
    jwk: Value,
}

impl TestKey {
    fn new(algorithm: Algorithm, pem: &str, kid: &str) -> Self {
        let encoding = match algorithm {
            Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()),
            _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
        }
        .expect("the suite's key");
        let signing = SigningKey::from_pem(algorithm, pem).expect("the suite's key");
        let mut jwk = serde_json::to_value(signing.verifying_key().to_jwk().expect("a JWK"))
            .expect("JWK as JSON");
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!(format!("{algorithm:?}"));
        jwk["use"] = json!("sig");
        TestKey {
            encoding,
            algorithm,
            kid: kid.to_owned(),
            jwk,
        }
    }

    /// The suite's first 2048-bit RSA key (RS256), named `kid`.
    pub fn rsa(kid: &str) -> Self {
        Self::new(
            Algorithm::RS256,
            include_str!("../../login/tests/keys/rsa2048.pem"),
            kid,
        )
    }

    /// The suite's second 2048-bit RSA key (RS256), named `kid`.
    pub fn rsa_b(kid: &str) -> Self {
        Self::new(
            Algorithm::RS256,
            include_str!("../../login/tests/keys/rsa2048-b.pem"),
            kid,
        )
    }

    /// The suite's P-256 key (ES256), named `kid`.
    pub fn p256(kid: &str) -> Self {
        Self::new(
            Algorithm::ES256,
            include_str!("../../login/tests/keys/p256.pem"),
            kid,
        )
    }

    /// The public key as a JWK with `kid`, `alg` and `use: sig`.
    pub fn jwk(&self) -> Value {
        self.jwk.clone()
    }

    /// The public key's JWK with `changes` merged in (a `null` removes the member).
    pub fn jwk_with(&self, changes: Value) -> Value {
        let mut jwk = self.jwk();
        if let Value::Object(changes) = changes {
            for (k, v) in changes {
                if v.is_null() {
                    jwk.as_object_mut().unwrap().remove(&k);
                } else {
                    jwk[k] = v;
                }
            }
        }
        jwk
    }

    /// A token of `claims`, with the header `{"alg", "kid", "typ": typ}`.
    pub fn sign_typ(&self, claims: &Value, typ: &str) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }

    /// A token of `claims` with `typ: at+jwt` (RFC 9068), as providers issue access tokens.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_typ(claims, "at+jwt")
    }

    /// A token of `claims` signed by this key but naming another `kid`.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("sign")
    }
}

/// Claims a provider would issue for `sub` at `issuer` for `audience`, valid for 5 minutes
/// from the real clock (providers' tokens are checked against it), with `extra` merged in
/// (a `null` removes a claim).
pub fn provider_claims(issuer: &str, audience: &str, sub: &str, extra: Value) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut c = json!({
        "iss": issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + 300,
        "scope": "openid read",
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(&k);
            } else {
                c[k] = v;
            }
        }
    }
    c
}
