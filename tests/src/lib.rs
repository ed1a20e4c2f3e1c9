//! The fixture of the HTTP-level integration tests of `login`: [`TestApp`], a router whose
//! user loader and handlers count their calls, a manager with a frozen, settable clock, and
//! helpers that send requests through `tower::ServiceExt::oneshot`.
//!
//! The helpers shared with the examples' tests (collected responses and their RFC 6750
//! assertions, token forging, log capture, the fixture secret and clock) are in
//! `login-test-support`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Body;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json, Router};
use login::password::PasswordError;
use login::{
    AuthUser, Claims, CookieJar, LoginError, LoginManager, LoginManagerBuilder, OAuth2PasswordForm,
    Scoped, TokenRequest, extract::RequiredScopes, loader::UserLoader,
};
use login_test_support::{Expect, NOW, Reply, SECRET, request, send};
use serde_json::{Value, json};

/// The guides in `docs/` as doctests.
#[cfg(doctest)]
pub mod guides;
pub use login_test_support::python;

/// Subject the loader does not know (`Ok(None)`).
pub const GHOST: &str = "ghost";
/// Subject for which the loader fails (`Err(503)`).
pub const DB_DOWN: &str = "db-down";

/// The application's user.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct User {
    /// The subject it was loaded for.
    pub name: String,
}

/// Counters shared by the loader and the handlers.
#[derive(Clone, Default, Debug)]
pub struct Probe {
    loads: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
    verifies: Arc<AtomicUsize>,
    subjects: Arc<Mutex<Vec<String>>>,
}

impl Probe {
    /// How many times the user loader ran.
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
    /// How many times a protected handler body ran.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
    /// How many times the login route called `login::password::verify`.
    pub fn verifies(&self) -> usize {
        self.verifies.load(Ordering::SeqCst)
    }
    /// The subjects the loader received, in order.
    pub fn subjects(&self) -> Vec<String> {
        self.subjects.lock().unwrap().clone()
    }
    /// Records that a handler ran.
    pub fn ran(&self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

/// The router's state: the manager (reached through `FromRef`) and the probe.
#[derive(Clone)]
pub struct AppState {
    /// The manager under test.
    pub manager: LoginManager,
    /// The counters.
    pub probe: Probe,
}

impl FromRef<AppState> for LoginManager {
    fn from_ref(state: &AppState) -> Self {
        state.manager.clone()
    }
}

/// The body of the loader's failure response.
pub const STORE_DOWN_BODY: &str = r#"{"detail":"user store unavailable"}"#;

impl login::loader::HasUserLoader for User {
    type Manager = LoginManager;
}

impl UserLoader<AppState> for User {
    async fn load_user(
        subject: String,
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Response> {
        state.probe.loads.fetch_add(1, Ordering::SeqCst);
        state.probe.subjects.lock().unwrap().push(subject.clone());
        match subject.as_str() {
            GHOST => Ok(None),
            DB_DOWN => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::RETRY_AFTER, "5"),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                STORE_DOWN_BODY,
            )
                .into_response()),
            _ => Ok(Some(User { name: subject })),
        }
    }
}

/// A user whose loader needs another extractor (`Extension<Tenant>`): fastapi-login's
/// "predefined loader arguments".
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TenantUser {
    /// The subject.
    pub name: String,
    /// The tenant the `Extension` layer provided.
    pub tenant: String,
}

/// The tenant, provided by an `Extension` layer.
#[derive(Clone, Debug)]
pub struct Tenant(pub String);

impl login::loader::HasUserLoader for TenantUser {
    type Manager = LoginManager;
}

impl UserLoader<AppState> for TenantUser {
    async fn load_user(
        subject: String,
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Response> {
        state.probe.loads.fetch_add(1, Ordering::SeqCst);
        let Extension(Tenant(tenant)) = Extension::<Tenant>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Some(TenantUser {
            name: subject,
            tenant,
        }))
    }
}

/// Requires `write`.
pub struct Write;
impl RequiredScopes for Write {
    const SCOPES: &'static [&'static str] = &["write"];
}

/// Requires `read` and `write`.
pub struct ReadWrite;
impl RequiredScopes for ReadWrite {
    const SCOPES: &'static [&'static str] = &["read", "write"];
}

async fn me(State(st): State<AppState>, AuthUser(user): AuthUser<User>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.name }))
}

async fn maybe(State(st): State<AppState>, user: Option<AuthUser<User>>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.map(|AuthUser(u)| u.name) }))
}

async fn maybe_user(State(st): State<AppState>, user: Option<AuthUser<User>>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.map(|AuthUser(u)| u.name) }))
}

async fn claims(State(st): State<AppState>, claims: Claims) -> Json<Claims> {
    st.probe.ran();
    Json(claims)
}

async fn maybe_claims(State(st): State<AppState>, claims: Option<Claims>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "sub": claims.map(|c| c.sub) }))
}

async fn write(State(st): State<AppState>, Scoped(user, _): Scoped<User, Write>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.name }))
}

async fn read_write(
    State(st): State<AppState>,
    Scoped(user, _): Scoped<User, ReadWrite>,
) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.name }))
}

async fn maybe_write(State(st): State<AppState>, user: Option<Scoped<User, Write>>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.map(|Scoped(u, _)| u.name) }))
}

async fn opt_write(State(st): State<AppState>, user: Option<Scoped<User, Write>>) -> Json<Value> {
    st.probe.ran();
    Json(json!({ "user": user.map(|Scoped(u, _)| u.name) }))
}

/// Every extractor at once: the loader must still run once.
async fn twice(
    State(st): State<AppState>,
    AuthUser(a): AuthUser<User>,
    b: Option<AuthUser<User>>,
    c: Option<AuthUser<User>>,
    claims: Claims,
) -> Json<Value> {
    st.probe.ran();
    Json(json!({
        "a": a.name,
        "b": b.map(|AuthUser(u)| u.name),
        "c": c.map(|AuthUser(u)| u.name),
        "sub": claims.sub,
    }))
}

async fn tenant(
    State(st): State<AppState>,
    AuthUser(user): AuthUser<TenantUser>,
) -> Json<TenantUser> {
    st.probe.ran();
    Json(user)
}

async fn public(State(st): State<AppState>) -> &'static str {
    st.probe.ran();
    "public"
}

/// The password every stored user (except the broken ones) has.
pub const PASSWORD: &str = "correct horse battery staple";
/// A 64-character passphrase (the stored password of `long`).
pub const PASSPHRASE: &str = "a passphrase of exactly sixty-four characters, spaces included!!";

/// The login store: user name → (PHC hash, scopes the user may be granted). Hashed once per
/// test binary, on first use (Argon2 is slow in debug builds).
pub fn users() -> &'static HashMap<&'static str, (String, Vec<&'static str>)> {
    static USERS: LazyLock<HashMap<&'static str, (String, Vec<&'static str>)>> =
        LazyLock::new(|| {
            let hash = login::password::Passwords::default()
                .hash_blocking(PASSWORD)
                .expect("hash");
            let long = login::password::Passwords::default()
                .hash_blocking(PASSPHRASE)
                .expect("hash");
            HashMap::from([
                ("alice", (hash.clone(), vec!["read", "write"])),
                ("bob", (hash, vec!["read"])),
                ("long", (long, vec![])),
                ("broken", ("not-a-phc-string".to_owned(), vec![])),
                ("legacy", (legacy_hash(PASSWORD), vec![])),
            ])
        });
    &USERS
}

/// An Argon2id hash with older, weaker parameters (m=4096, t=3, p=1) and a fixed salt.
pub fn legacy_hash(password: &str) -> String {
    use argon2::password_hash::PasswordHasher;
    let params = argon2::Params::new(4096, 3, 1, None).expect("params");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    argon
        .hash_password_with_salt(password.as_bytes(), b"legacy-salt-1234")
        .expect("hash")
        .to_string()
}

/// The login route, as an application writes it: the password is always verified (against a
/// dummy hash for unknown users), failures all answer `LoginError::InvalidCredentials`, and only the
/// scopes the user may have are granted (others are silently dropped, RFC 6749 §3.3).
async fn login_route(State(st): State<AppState>, Form(form): Form<OAuth2PasswordForm>) -> Response {
    st.probe.ran();
    let user = users().get(form.username.as_str());
    st.probe.verifies.fetch_add(1, Ordering::SeqCst);
    match login::password::Passwords::default()
        .verify(&form.password, user.map(|(hash, _)| hash.as_str()))
        .await
    {
        Ok(true) => {}
        Ok(false) => return LoginError::InvalidCredentials.into_response(),
        Err(PasswordError::Empty | PasswordError::TooLong) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({ "detail": "Invalid password length" })),
            )
                .into_response();
        }
        Err(busy @ PasswordError::Busy) => return busy.into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    let allowed = user
        .map(|(_, scopes)| scopes.as_slice())
        .unwrap_or_default();
    let granted = form
        .scope
        .iter()
        .filter(|s| allowed.contains(&s.as_str()))
        .cloned();
    match st
        .manager
        .token_response(TokenRequest::new(form.username).scopes(granted))
    {
        Ok(response) => response.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Logs in through the cookie: the token goes into the manager's cookie.
async fn cookie_login(
    State(st): State<AppState>,
    jar: CookieJar,
    body: String,
) -> (CookieJar, StatusCode) {
    st.probe.ran();
    let token = st.manager.create_access_token(body).expect("token");
    (st.manager.set_cookie(jar, token), StatusCode::NO_CONTENT)
}

async fn logout(State(st): State<AppState>, jar: CookieJar) -> (CookieJar, StatusCode) {
    st.probe.ran();
    (st.manager.clear_cookie(jar), StatusCode::NO_CONTENT)
}

/// The test router. Routes:
///
/// | route | extractor |
/// |---|---|
/// | `GET/POST /me` | `AuthUser<User>` |
/// | `GET /maybe` | `Option<AuthUser<User>>` |
/// | `GET /maybe-user` | `Option<AuthUser<User>>` |
/// | `GET /claims` | `Claims` |
/// | `GET /maybe-claims` | `Option<Claims>` |
/// | `GET /write` | `Scoped<User, Write>` |
/// | `GET /read-write` | `Scoped<User, ReadWrite>` |
/// | `GET /maybe-write` | `Option<Scoped<User, Write>>` (as `/opt-write`, written apart) |
/// | `GET /opt-write` | `Option<Scoped<User, Write>>` |
/// | `GET /twice` | `AuthUser` + `Option<AuthUser>` twice + `Claims` |
/// | `GET /tenant` | `AuthUser<TenantUser>` (loader uses `Extension<Tenant>`) |
/// | `GET /public` | none |
/// | `POST /login` | `Form<OAuth2PasswordForm>` → `TokenResponse` |
/// | `POST /cookie-login` | body = subject → `Set-Cookie` |
/// | `POST /logout` | clears the cookie |
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/me", get(me).post(me))
        .route("/maybe", get(maybe))
        .route("/maybe-user", get(maybe_user))
        .route("/claims", get(claims))
        .route("/maybe-claims", get(maybe_claims))
        .route("/write", get(write))
        .route("/read-write", get(read_write))
        .route("/maybe-write", get(maybe_write))
        .route("/opt-write", get(opt_write))
        .route("/twice", get(twice))
        .route("/tenant", get(tenant))
        .route("/public", get(public))
        .route("/login", post(login_route))
        .route("/cookie-login", post(cookie_login))
        .route("/logout", post(logout))
        .with_state(state)
}

/// A test application: the router, its manager, its counters and its clock.
#[derive(Clone)]
pub struct TestApp {
    /// The router (cloned per request).
    pub router: Router,
    /// The manager the router uses.
    pub manager: LoginManager,
    /// The loader and handler counters.
    pub probe: Probe,
    clock: Arc<AtomicI64>,
}

/// The default builder of the test apps: HS256 with [`SECRET`], header only, token URL
/// `/login`.
pub fn builder() -> LoginManagerBuilder {
    LoginManager::builder("/login").secret(SECRET)
}

impl TestApp {
    /// The default app: header only, clock frozen at [`NOW`].
    pub fn new() -> Self {
        Self::with(|b| b)
    }

    /// An app whose manager is [`builder`] changed by `configure`; the clock is always frozen
    /// at [`NOW`] (settable with [`TestApp::set_now`]).
    pub fn with(configure: impl FnOnce(LoginManagerBuilder) -> LoginManagerBuilder) -> Self {
        let clock = Arc::new(AtomicI64::new(NOW));
        let c = clock.clone();
        let manager = configure(builder())
            .clock(move || c.load(Ordering::SeqCst))
            .build()
            .expect("valid test configuration");
        Self::from_manager(manager, clock)
    }

    /// An app around an existing manager (its clock is the manager's own).
    pub fn from_manager(manager: LoginManager, clock: Arc<AtomicI64>) -> Self {
        let probe = Probe::default();
        let router = router(AppState {
            manager: manager.clone(),
            probe: probe.clone(),
        });
        TestApp {
            router,
            manager,
            probe,
            clock,
        }
    }

    /// Header and cookie both on (a bearer token in the header decides, else the cookie).
    pub fn with_cookie() -> Self {
        Self::with(|b| b.use_cookie(true))
    }

    /// Moves the manager's clock.
    pub fn set_now(&self, now: i64) {
        self.clock.store(now, Ordering::SeqCst);
    }

    /// A token for `subject`, minted by the app's manager.
    pub fn token(&self, subject: &str) -> String {
        self.manager.create_access_token(subject).expect("token")
    }

    /// A token for `subject` with `scopes`.
    pub fn token_with_scopes(&self, subject: &str, scopes: &[&str]) -> String {
        self.manager
            .create_access_token(TokenRequest::new(subject).scopes(scopes.iter().copied()))
            .expect("token")
    }

    /// Sends `request` through the router.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    /// `GET path` with the given headers (repeated names are appended, not replaced).
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(request(Method::GET, path, headers, Body::empty()))
            .await
    }

    /// `GET path` with `Authorization: Bearer <token>`.
    pub async fn bearer(&self, path: &str, token: &str) -> Reply {
        self.get(path, &[("authorization", &format!("Bearer {token}"))])
            .await
    }

    /// `GET path` with `Authorization: <value>` given as raw bytes.
    pub async fn authorization_bytes(&self, path: &str, value: &[u8]) -> Reply {
        self.send(request(
            Method::GET,
            path,
            &[("authorization", value)],
            Body::empty(),
        ))
        .await
    }

    /// `GET path` with the manager's cookie set to `token`.
    pub async fn cookie(&self, path: &str, token: &str) -> Reply {
        let cookie = format!("{}={token}", self.manager.cookie_name());
        self.get(path, &[("cookie", &cookie)]).await
    }

    /// Asserts that neither the loader nor any handler ran.
    #[track_caller]
    pub fn assert_untouched(&self) {
        assert_eq!(self.probe.loads(), 0, "the user loader must not run");
        assert_eq!(self.probe.runs(), 0, "the handler must not run");
    }

    /// Asserts a rejection on `/me` with `Authorization: Bearer <token>`: `expect` applied to
    /// the reply, the token not echoed, loader and handler never run.
    pub async fn assert_rejected_bearer(&self, token: &str, expect: Expect) {
        let reply = self.bearer("/me", token).await;
        reply.assert(expect);
        reply.assert_not_echoed(token);
        self.assert_untouched();
    }
}

impl Default for TestApp {
    fn default() -> Self {
        Self::new()
    }
}
