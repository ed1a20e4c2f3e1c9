//! The servers of the HTTP load benchmark (`bench/load.sh`, see BENCHMARKS.md).
//!
//! ```text
//! cargo run --release -p login-bench --bin bench_server -- <mode> [alg] [--no-cache]
//! ```
//!
//! `<mode>`: `unprotected`, `hand-written` or `protected`; `[alg]`: `HS256` (default),
//! `RS256`, `ES256` or `EdDSA` (for `protected`); `--no-cache` turns the token cache off.
//! Every mode serves `GET /protected` with the same JSON (`{"user": {...}}`) for the same user.
//! The server prints `token <token>` (a token for that user, as the simple example's `/login`
//! issues it) and `listening on http://<addr>`; `BENCH_ADDR` sets the address (default
//! `127.0.0.1:8001`); `BENCH_SECRET` the HS256 secret (default: a fixed one), so that the tokens
//! of `mint_tokens` (the many-tokens mode) verify.
//!
//! - `unprotected`: the framework's ceiling; the handler looks the user up and answers.
//! - `hand-written`: what a Rust user writes by hand with jsonwebtoken (after axum's `jwt`
//!   example): the bearer token from the header, `jsonwebtoken::decode` with a key and a
//!   `Validation` built once, then the user from the store.
//! - `protected`: `#[protected]` and `#[user_loader]`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use login::{LoginManager, TokenRequest, keys::SigningKey, protected, user_loader};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const SECRET: &str = "bench-secret-0123456789abcdef-0123456789";
const SUBJECT: &str = "johndoe@mail.com";

#[derive(Clone, Serialize)]
struct User {
    email: String,
    name: String,
}

#[derive(Clone)]
struct Db {
    users: Arc<HashMap<String, User>>,
}

impl Db {
    fn demo() -> Self {
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

    async fn find(&self, email: &str) -> Option<User> {
        self.users.get(email).cloned()
    }
}

/// jsonwebtoken's key and validation rules, built once.
struct Keys {
    decoding: DecodingKey,
    validation: Validation,
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
    keys: Arc<Keys>,
}

#[user_loader]
async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.find(&email).await
}

#[protected]
async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

async fn unprotected_route(State(db): State<Db>) -> Json<Value> {
    let user = db.find(SUBJECT).await;
    Json(json!({ "user": user }))
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[allow(dead_code)]
    exp: u64,
}

/// The hand-written extractor.
struct CurrentUser(User);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, StatusCode> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(StatusCode::UNAUTHORIZED)?;
        let data =
            jsonwebtoken::decode::<Claims>(token, &state.keys.decoding, &state.keys.validation)
                .map_err(|_| StatusCode::UNAUTHORIZED)?;
        let user = state
            .db
            .find(&data.claims.sub)
            .await
            .ok_or(StatusCode::UNAUTHORIZED)?;
        Ok(CurrentUser(user))
    }
}

async fn hand_written_route(CurrentUser(user): CurrentUser) -> Json<Value> {
    Json(json!({ "user": user }))
}

fn signing_key(alg: &str, secret: &str) -> SigningKey {
    let (alg, pem) = match alg {
        "HS256" => return SigningKey::hmac(Algorithm::HS256, secret).unwrap(),
        "RS256" => (
            Algorithm::RS256,
            include_str!("../../../login/tests/keys/rsa2048.pem"),
        ),
        "ES256" => (
            Algorithm::ES256,
            include_str!("../../../login/tests/keys/p256.pem"),
        ),
        "EdDSA" => (
            Algorithm::EdDSA,
            include_str!("../../../login/tests/keys/ed25519.pem"),
        ),
        other => panic!("unknown algorithm {other}: HS256, RS256, ES256 or EdDSA"),
    };
    SigningKey::from_pem(alg, pem).unwrap()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or("protected");
    let alg = args
        .iter()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(String::as_str)
        .unwrap_or("HS256");
    let secret = std::env::var("BENCH_SECRET").unwrap_or_else(|_| SECRET.to_owned());
    let mut builder = LoginManager::builder("/login").signing_key(signing_key(alg, &secret));
    if args.iter().any(|a| a == "--no-cache") {
        builder = builder.token_cache_bytes(0);
    }
    let manager = builder.build()?;
    let token =
        manager.create_access_token(TokenRequest::new(SUBJECT).scopes(["read", "write"]))?;
    let state = AppState {
        manager,
        db: Db::demo(),
        keys: Arc::new(Keys {
            decoding: DecodingKey::from_secret(secret.as_bytes())?,
            validation: Validation::new(Algorithm::HS256),
        }),
    };
    let router = match mode {
        "unprotected" => Router::new().route("/protected", get(unprotected_route)),
        "hand-written" => Router::new().route("/protected", get(hand_written_route)),
        "protected" => Router::new().route("/protected", get(protected_route)),
        other => return Err(format!("unknown mode {other}").into()),
    }
    .with_state(state);

    let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:8001".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("token {token}");
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).await?;
    Ok(())
}
