//! The benches' app, written once for `login`'s criterion benches (`login/benches/`) and the
//! server of the HTTP load benchmark (`bench/`, package `login-bench`): the demo users in
//! memory, a `#[user_loader]`, the test keys of `login/tests/keys/`, and the three ways of
//! serving `GET /protected` with the same JSON (`{"user": {...}}`) for the same user:
//!
//! - [`unprotected_route`]: the framework's ceiling; the handler looks the user up and answers;
//! - [`hand_written_route`]: the baseline every published ratio divides by, [`HandWritten`],
//!   what a Rust user writes by hand with jsonwebtoken (after axum's `jwt` example);
//! - [`protected_route`]: `#[protected]` and `#[user_loader]`; [`step_up_route`] with
//!   `fresh` and `factors` too.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use login::{LoginManager, keys::SigningKey, protected, user_loader};
use serde_json::{Value, json};

/// The HS256 secret of the benches (and of the load benchmark's servers by default).
pub const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";
/// The user every benchmark request is for.
pub const SUBJECT: &str = "johndoe@mail.com";
/// The algorithms the benches compare.
pub const ALGORITHMS: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The private and public PEM of each asymmetric algorithm's test key.
fn pems(alg: Algorithm) -> (&'static str, &'static str) {
    match alg {
        Algorithm::RS256 => (
            include_str!("../../login/tests/keys/rsa2048.pem"),
            include_str!("../../login/tests/keys/rsa2048.pub.pem"),
        ),
        Algorithm::ES256 => (
            include_str!("../../login/tests/keys/p256.pem"),
            include_str!("../../login/tests/keys/p256.pub.pem"),
        ),
        Algorithm::EdDSA => (
            include_str!("../../login/tests/keys/ed25519.pem"),
            include_str!("../../login/tests/keys/ed25519.pub.pem"),
        ),
        other => panic!("no test key for {other:?}: HS256, RS256, ES256 or EdDSA"),
    }
}

/// The library's signing key for `alg` (HS256 with [`SECRET`]).
pub fn signing_key(alg: Algorithm) -> SigningKey {
    signing_key_with(alg, SECRET)
}

/// The library's signing key for `alg`, HS256 with `secret`.
pub fn signing_key_with(alg: Algorithm, secret: &str) -> SigningKey {
    match alg {
        Algorithm::HS256 => SigningKey::hmac(alg, secret).unwrap(),
        _ => SigningKey::from_pem(alg, pems(alg).0).unwrap(),
    }
}

/// jsonwebtoken's keys for one algorithm, built once, as a hand-written extractor keeps them.
pub struct RawKeys {
    /// For `jsonwebtoken::encode` (the benches' token creation).
    pub encoding: EncodingKey,
    /// For `jsonwebtoken::decode`.
    pub decoding: DecodingKey,
    /// `Validation::new(alg)`: the default rules.
    pub validation: Validation,
    /// `Header::new(alg)`.
    pub header: jsonwebtoken::Header,
}

/// [`RawKeys`] for `alg` (HS256 with [`SECRET`]).
pub fn raw_keys(alg: Algorithm) -> RawKeys {
    raw_keys_with(alg, SECRET)
}

/// [`RawKeys`] for `alg`, HS256 with `secret`.
pub fn raw_keys_with(alg: Algorithm, secret: &str) -> RawKeys {
    let (encoding, decoding) = match alg {
        Algorithm::HS256 => (
            EncodingKey::from_secret(secret.as_bytes()).unwrap(),
            DecodingKey::from_secret(secret.as_bytes()).unwrap(),
        ),
        Algorithm::RS256 => (
            EncodingKey::from_rsa_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_rsa_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        Algorithm::ES256 => (
            EncodingKey::from_ec_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_ec_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        Algorithm::EdDSA => (
            EncodingKey::from_ed_pem(pems(alg).0.as_bytes()).unwrap(),
            DecodingKey::from_ed_pem(pems(alg).1.as_bytes()).unwrap(),
        ),
        other => panic!("no test key for {other:?}: HS256, RS256, ES256 or EdDSA"),
    };
    RawKeys {
        encoding,
        decoding,
        validation: Validation::new(alg),
        header: jsonwebtoken::Header::new(alg),
    }
}

/// The claims a hand-written extractor typically declares (axum's `jwt` example: the subject
/// and the expiry; jsonwebtoken skips the others).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RawClaims {
    /// The subject: the user's e-mail.
    pub sub: String,
    /// The expiry (jsonwebtoken checks it).
    pub exp: u64,
}

/// A demo user.
#[derive(Clone, serde::Serialize)]
pub struct User {
    /// The e-mail address: the token's subject.
    pub email: String,
    /// The display name.
    pub name: String,
}

/// The demo users, in memory.
#[derive(Clone)]
pub struct Db {
    users: Arc<HashMap<String, User>>,
}

impl Db {
    /// John and Jane.
    pub fn demo() -> Self {
        let users = [
            ("johndoe@mail.com", "John Doe"),
            ("janedoe@mail.com", "Jane Doe"),
        ]
        .into_iter()
        .map(|(email, name)| {
            let user = User {
                email: email.into(),
                name: name.into(),
            };
            (email.to_owned(), user)
        })
        .collect();
        Db {
            users: Arc::new(users),
        }
    }

    /// The user with this e-mail.
    pub async fn find(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }

    /// [`find`](Self::find), without the `async`.
    pub fn find_now(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }
}

/// The app's state: the manager, the users and jsonwebtoken's keys, each reachable through
/// `FromRef`.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The login manager (for `#[protected]`).
    pub manager: LoginManager,
    /// The users.
    pub db: Db,
    /// The hand-written extractor's keys.
    pub raw: Arc<RawKeys>,
}

impl AppState {
    /// `manager`, the demo users, and the hand-written extractor's keys for `alg` (HS256 with
    /// [`SECRET`]).
    pub fn new(manager: LoginManager, alg: Algorithm) -> Self {
        AppState::with_keys(manager, raw_keys(alg))
    }

    /// `manager`, the demo users, and `raw` for the hand-written extractor.
    pub fn with_keys(manager: LoginManager, raw: RawKeys) -> Self {
        AppState {
            manager,
            db: Db::demo(),
            raw: Arc::new(raw),
        }
    }
}

/// The user loader: the user of the token's subject.
#[user_loader]
pub async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.find(&email).await
}

/// What a Rust user writes by hand with jsonwebtoken (after axum's `jwt` example): the bearer
/// token from the header, `decode` with keys built once, then the user from the store.
pub struct HandWritten(pub User);

impl FromRequestParts<AppState> for HandWritten {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, StatusCode> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data =
            jsonwebtoken::decode::<RawClaims>(token, &state.raw.decoding, &state.raw.validation)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
        let user = state
            .db
            .find(&data.claims.sub)
            .await
            .ok_or(StatusCode::UNAUTHORIZED)?;
        Ok(HandWritten(user))
    }
}

/// `GET /protected` with `#[protected]`.
#[protected]
pub async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// `GET /step-up` with `#[protected(fresh = "10m", factors = ["pwd"])]`: the same as
/// [`protected_route`], and the step-up checks (the token's `auth_time` and `amr`).
#[protected(fresh = "10m", factors = ["pwd"])]
pub async fn step_up_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

/// `GET /claims` with `#[protected]` on the claims alone: the token verified, no user loaded.
#[protected]
pub async fn claims_route(claims: login::Claims) -> Json<Value> {
    Json(json!({ "sub": claims.sub }))
}

/// `GET /protected` unprotected: the user looked up, the header ignored.
pub async fn unprotected_route(State(db): State<Db>) -> Json<Value> {
    let user = db.find(SUBJECT).await;
    Json(json!({ "user": user }))
}

/// `GET /protected` with the hand-written extractor.
pub async fn hand_written_route(HandWritten(user): HandWritten) -> Json<Value> {
    Json(json!({ "user": user }))
}
