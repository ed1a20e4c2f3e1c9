//! A notes API from the README alone (its test keeps it ≤ 150 lines): sessions, scopes, Redis
//! (`LOGIN_REDIS_URL`), Swagger UI. `LOGIN_SECRET=$(openssl rand -hex 32) cargo run --example notes`

use std::{collections::HashMap, error::Error, sync::Arc, sync::Mutex};

use axum::{Json, extract::FromRef, extract::State, http::StatusCode, response::Response};
use login::{LoginAccount, LoginError, LoginManager, OAuth2PasswordForm, PasswordGrant};
use login::{openapi::Docs, openapi::LoginResponses, password::PasswordError, password::Passwords};
use login::{protected, routes::SessionRoutes, session::RedisStore, user_loader};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(Clone)]
pub struct User {
    email: String,
    password_hash: String,
    scopes: Vec<String>,
}

impl LoginAccount for User {
    fn subject(&self) -> String {
        self.email.clone()
    }
    fn password_hash(&self) -> Option<&str> {
        Some(&self.password_hash)
    }
    fn allowed_scopes(&self) -> Vec<String> {
        self.scopes.clone()
    }
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Note {
    text: String,
}

#[derive(Clone, Default)]
pub struct Db {
    users: Arc<HashMap<String, User>>,
    notes: Arc<Mutex<HashMap<String, Vec<Note>>>>,
    passwords: Passwords,
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(email: String, State(db): State<Db>) -> Option<User> {
    db.users.get(&email).cloned()
}

/// Log in: an access token and a refresh token.
#[utoipa::path(post, path = "/login", responses(LoginResponses),
    request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"))]
async fn login(State(s): State<AppState>, grant: PasswordGrant) -> Result<Response, LoginError> {
    let user = load_user(grant.username().to_owned(), State(s.db.clone())).await;
    let login = grant.authenticate(&s.db.passwords, user).await?;
    login.token_response(&s.manager).await
}

/// Your notes.
#[protected(scopes = ["notes:read"])]
#[utoipa::path(get, path = "/notes", responses((status = 200, body = Vec<Note>)))]
async fn list_notes(user: User, State(db): State<Db>) -> Json<Vec<Note>> {
    let notes = db.notes.lock().unwrap();
    Json(notes.get(&user.email).cloned().unwrap_or_default())
}

/// Add a note.
#[protected(scopes = ["notes:write"])]
#[utoipa::path(post, path = "/notes", request_body = Note, responses((status = 201)))]
async fn add_note(user: User, State(db): State<Db>, Json(note): Json<Note>) -> StatusCode {
    let mut notes = db.notes.lock().unwrap();
    notes.entry(user.email).or_default().push(note);
    StatusCode::CREATED
}

#[derive(OpenApi)]
#[openapi(info(title = "Notes", version = "1.0.0"))]
struct ApiDoc;

/// Sessions in Redis at `redis` (shared by every instance), or in memory.
pub async fn manager(secret: &str, redis: Option<&str>) -> Result<LoginManager, Box<dyn Error>> {
    let builder = LoginManager::builder("/login")
        .secret(secret)
        .scopes([("notes:read", "Read notes"), ("notes:write", "Write notes")]);
    let builder = match redis {
        Some(url) => builder.session_store(RedisStore::builder(url).connect().await?),
        None => builder.sessions(),
    };
    Ok(builder.build()?)
}

/// Ann may read and write, Bob only read.
pub async fn demo_db() -> Result<Db, PasswordError> {
    let (mut db, mut users) = (Db::default(), HashMap::new());
    for (email, password, scopes) in [
        ("ann@mail.com", "ann-password", "notes:read notes:write"),
        ("bob@mail.com", "bob-password", "notes:read"),
    ] {
        let password_hash = db.passwords.hash(password).await?;
        let scopes = scopes.split(' ').map(str::to_owned).collect();
        let email = email.to_owned();
        users.insert(
            email.clone(),
            User {
                email,
                password_hash,
                scopes,
            },
        );
    }
    db.users = Arc::new(users);
    Ok(db)
}

/// The routes, the session routes, `/openapi.json` and Swagger UI at `/docs`.
pub fn app(manager: LoginManager, db: Db) -> axum::Router {
    let routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login))
        .routes(routes!(list_notes, add_note))
        .merge(SessionRoutes::new(&manager).openapi_router());
    let docs = Docs::new(&manager).router(routes);
    docs.with_state(AppState { manager, db })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt::init();
    let secret = std::env::var("LOGIN_SECRET")
        .map_err(|_| "set LOGIN_SECRET to a secret of at least 32 bytes")?;
    let manager = manager(&secret, std::env::var("LOGIN_REDIS_URL").ok().as_deref()).await?;
    let addr = std::env::var("LOGIN_ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("notes listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(manager, demo_db().await?)).await?;
    Ok(())
}
