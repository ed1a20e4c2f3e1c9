//! The `openapi` feature: `#[protected]` above `#[utoipa::path]` documents the route, and
//! `LoginSecurity` declares the manager's schemes (and drops the one it does not use).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use login::openapi::{LoginResponses, LoginSecurity};
use login::{LoginManager, LoginManagerBuilder, OAuth2PasswordForm, protected, user_loader};
use serde_json::{Value, json};
use tower::ServiceExt;
use utoipa::{Modify, OpenApi};

/// The documented names of the security schemes (fastapi's).
const OAUTH2_SCHEME: &str = "OAuth2PasswordBearer";
const COOKIE_SCHEME: &str = "APIKeyCookie";

const SECRET: &str = "openapi-test-secret-that-is-32-bytes-long";

#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
struct User {
    name: String,
}

#[user_loader]
async fn load_user(name: String) -> Option<User> {
    (name == "ann").then_some(User { name })
}

/// Requires a user.
#[protected]
#[utoipa::path(get, path = "/me", responses((status = 200, body = User)))]
async fn me(user: User) -> String {
    user.name
}

/// Requires the `write` scope.
#[protected(scopes = ["write"])]
#[utoipa::path(post, path = "/items", responses((status = 201)))]
async fn create(user: User) -> StatusCode {
    let _ = user;
    StatusCode::CREATED
}

/// Anyone; a user if there is one.
#[protected(optional, scopes = ["read"])]
#[utoipa::path(get, path = "/", responses((status = 200, body = String)))]
async fn home(user: Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

/// The user's own security and 401 stay.
#[protected]
#[utoipa::path(get, path = "/key", security(("api_key" = [])),
    responses((status = 401, description = "No key")))]
async fn with_key(user: User) -> String {
    user.name
}

/// Logs in.
#[utoipa::path(post, path = "/login", responses(LoginResponses),
    request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"))]
async fn login() {}

#[derive(OpenApi)]
#[openapi(paths(me, create, home, with_key, login))]
struct ApiDoc;

fn builder() -> LoginManagerBuilder {
    LoginManager::builder("/auth/token")
        .secret(SECRET)
        .scopes([("read", "Read things"), ("write", "Write things")])
}

fn document(manager: &LoginManager, security: Option<LoginSecurity>) -> Value {
    let mut api = ApiDoc::openapi();
    security
        .unwrap_or_else(|| LoginSecurity::new(manager))
        .modify(&mut api);
    serde_json::to_value(&api).unwrap()
}

#[test]
fn the_schemes_come_from_the_manager() {
    let manager = builder().use_cookie(true).build().unwrap();
    let doc = document(&manager, None);
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes[OAUTH2_SCHEME],
        json!({
            "type": "oauth2",
            "flows": { "password": {
                "tokenUrl": "/auth/token",
                "scopes": { "read": "Read things", "write": "Write things" },
            }},
            "description": schemes[OAUTH2_SCHEME]["description"],
        })
    );
    assert!(
        schemes[OAUTH2_SCHEME]["description"]
            .as_str()
            .unwrap()
            .contains("`/auth/token`")
    );
    assert_eq!(schemes[COOKIE_SCHEME]["type"], "apiKey");
    assert_eq!(schemes[COOKIE_SCHEME]["in"], "cookie");
    assert_eq!(schemes[COOKIE_SCHEME]["name"], "access-token");

    let prefixed = builder()
        .use_cookie(true)
        .cookie_host_prefix(true)
        .build()
        .unwrap();
    let doc = document(&prefixed, None);
    assert_eq!(
        doc["components"]["securitySchemes"][COOKIE_SCHEME]["name"],
        "__Host-access-token"
    );
}

#[test]
fn the_refresh_url_goes_into_the_password_flow() {
    let flow = |doc: &Value| {
        doc["components"]["securitySchemes"][OAUTH2_SCHEME]["flows"]["password"].clone()
    };
    // Without sessions, no refresh URL.
    let manager = builder().build().unwrap();
    let doc = document(&manager, None);
    assert!(flow(&doc).get("refreshUrl").is_none(), "{}", flow(&doc));
    // With sessions, the manager's refresh path.
    let sessions = builder().sessions().build().unwrap();
    assert_eq!(flow(&document(&sessions, None))["refreshUrl"], "/refresh");
    let moved = builder()
        .sessions()
        .refresh_path("/auth/refresh")
        .build()
        .unwrap();
    assert_eq!(flow(&document(&moved, None))["refreshUrl"], "/auth/refresh");
    // Set by hand (a route behind a prefix, or on another host).
    let doc = document(
        &manager,
        Some(LoginSecurity::new(&manager).refresh_url("https://auth.example.com/refresh")),
    );
    assert_eq!(flow(&doc)["refreshUrl"], "https://auth.example.com/refresh");
}

#[test]
fn protected_writes_the_requirement_with_the_scopes() {
    let manager = builder().use_cookie(true).build().unwrap();
    let doc = document(&manager, None);
    let paths = &doc["paths"];
    assert_eq!(
        paths["/me"]["get"]["security"],
        json!([{ OAUTH2_SCHEME: [] }, { COOKIE_SCHEME: [] }])
    );
    assert_eq!(
        paths["/items"]["post"]["security"],
        json!([{ OAUTH2_SCHEME: ["write"] }, { COOKIE_SCHEME: ["write"] }])
    );
    // Optional: anonymous requests are allowed too.
    assert_eq!(
        paths["/"]["get"]["security"],
        json!([{ OAUTH2_SCHEME: ["read"] }, { COOKIE_SCHEME: ["read"] }, {}])
    );
    // The user's own requirement is kept as written.
    assert_eq!(paths["/key"]["get"]["security"], json!([{ "api_key": [] }]));
    // The login route is not protected.
    assert!(paths["/login"]["post"].get("security").is_none());
}

#[test]
fn a_scheme_the_manager_does_not_use_is_neither_declared_nor_required() {
    let header_only = builder().build().unwrap();
    let doc = document(&header_only, None);
    assert!(doc["components"]["securitySchemes"][COOKIE_SCHEME].is_null());
    assert_eq!(
        doc["paths"]["/items"]["post"]["security"],
        json!([{ OAUTH2_SCHEME: ["write"] }])
    );
    assert_eq!(
        doc["paths"]["/"]["get"]["security"],
        json!([{ OAUTH2_SCHEME: ["read"] }, {}])
    );

    let cookie_only = builder()
        .use_cookie(true)
        .use_header(false)
        .build()
        .unwrap();
    let doc = document(&cookie_only, None);
    assert!(doc["components"]["securitySchemes"][OAUTH2_SCHEME].is_null());
    assert_eq!(
        doc["paths"]["/me"]["get"]["security"],
        json!([{ COOKIE_SCHEME: [] }])
    );
}

#[test]
fn protected_adds_the_rfc_6750_responses() {
    let manager = builder().build().unwrap();
    let doc = document(&manager, None);
    let me = &doc["paths"]["/me"]["get"]["responses"];
    assert!(me["200"].is_object());
    let unauthorized = &me["401"];
    assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
    let examples = &unauthorized["content"]["application/json"]["examples"];
    assert_eq!(
        examples["Not authenticated"]["value"],
        json!({ "detail": "Not authenticated" })
    );
    assert_eq!(
        examples["Invalid credentials"]["value"],
        json!({ "detail": "Invalid credentials" })
    );
    assert!(me.get("403").is_none(), "no scopes, no 403: {me}");

    let items = &doc["paths"]["/items"]["post"]["responses"];
    assert_eq!(
        items["403"]["content"]["application/json"]["examples"]["Insufficient scope"]["value"],
        json!({ "detail": "Insufficient scope" })
    );
    assert!(items["401"].is_object() && items["201"].is_object());

    // An optional route never answers 401 or 403.
    let home = &doc["paths"]["/"]["get"]["responses"];
    assert!(
        home.get("401").is_none() && home.get("403").is_none(),
        "{home}"
    );

    // The user's own 401 wins.
    assert_eq!(
        doc["paths"]["/key"]["get"]["responses"]["401"],
        json!({ "description": "No key" })
    );
}

#[test]
fn the_login_route_has_its_form_and_answers() {
    let manager = builder().build().unwrap();
    let doc = document(&manager, None);
    let login = &doc["paths"]["/login"]["post"];
    let form = &login["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
    assert_eq!(form["$ref"], "#/components/schemas/OAuth2PasswordForm");
    let schema = &doc["components"]["schemas"]["OAuth2PasswordForm"];
    assert_eq!(schema["required"], json!(["username", "password"]));
    assert_eq!(schema["properties"]["scope"]["type"], "string");
    let responses = &login["responses"];
    for status in ["200", "400", "401", "415", "429"] {
        assert!(responses[status].is_object(), "{status}: {responses}");
    }
    assert_eq!(
        responses["200"]["content"]["application/json"]["schema"]["required"],
        json!(["access_token", "token_type", "expires_in"])
    );
}

/// The rewritten attribute leaves the handler what it was: 401 without a token, the user with
/// one.
#[tokio::test]
async fn documented_handlers_still_authenticate() {
    let manager = builder().build().unwrap();
    let app: Router = Router::new()
        .route("/me", get(me))
        .route("/items", post(create))
        .route("/", get(home))
        .route("/key", get(with_key))
        .route("/login", post(login))
        .with_state(manager.clone());
    let anonymous = app
        .clone()
        .oneshot(Request::get("/me").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let token = manager.create_access_token("ann").unwrap();
    let request = Request::get("/me")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let reply = app.clone().oneshot(request).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    // The scope is still required, and an optional route still lets anonymous requests in.
    let request = Request::post("/items")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let reply = app.clone().oneshot(request).await.unwrap();
    assert_eq!(reply.status(), StatusCode::FORBIDDEN);
    let reply = app
        .oneshot(Request::get("/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
}
