// `#[protected]` above `#[utoipa::path]` (the supported order) documents the route: the
// security requirement with the scopes (and `()` for `optional`), the 401 (and the 403 with
// scopes); a `security(...)` and a response the user wrote are kept. Checked at run time.
#![deny(warnings)]

use axum::Json;
use login::openapi::LoginSecurity;
use login::{LoginManager, protected, user_loader};
use serde_json::{Value, json};
use utoipa::{Modify, OpenApi};

#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
struct User {
    name: String,
}

#[user_loader]
async fn load_user(name: String) -> Option<User> {
    Some(User { name })
}

/// Required.
#[protected]
#[utoipa::path(get, path = "/me", responses((status = 200, body = User)))]
async fn me(user: User) -> Json<User> {
    Json(user)
}

/// Scopes.
#[protected(scopes = ["items:write", "admin"])]
#[utoipa::path(post, path = "/items")]
#[tracing::instrument(skip_all)]
async fn create(user: User) -> String {
    user.name
}

/// Optional.
#[protected(optional)]
#[utoipa::path(get, path = "/")]
async fn home(user: Option<User>) -> String {
    user.map(|user| user.name).unwrap_or_default()
}

/// The user's own security, and their own 401.
#[protected]
#[utoipa::path(get, path = "/key", security(("api_key" = [])),
    responses((status = 401, description = "Bring your key")))]
async fn with_key(user: User) -> String {
    user.name
}

#[derive(OpenApi)]
#[openapi(paths(me, create, home, with_key))]
struct ApiDoc;

fn main() {
    let manager = LoginManager::builder("/token")
        .secret("a-32-byte-or-longer-secret-from-env!")
        .scopes([("items:write", "Write items"), ("admin", "Administer")])
        .use_cookie(true)
        .build()
        .unwrap();
    let mut api = ApiDoc::openapi();
    LoginSecurity::new(&manager).modify(&mut api);
    let doc: Value = serde_json::to_value(&api).unwrap();
    let operation = |path: &str, method: &str| doc["paths"][path][method].clone();

    let me = operation("/me", "get");
    assert_eq!(
        me["security"],
        json!([{ "OAuth2PasswordBearer": [] }, { "APIKeyCookie": [] }])
    );
    assert!(me["responses"]["401"].is_object() && me["responses"]["403"].is_null());

    let create = operation("/items", "post");
    assert_eq!(
        create["security"],
        json!([
            { "OAuth2PasswordBearer": ["items:write", "admin"] },
            { "APIKeyCookie": ["items:write", "admin"] },
        ])
    );
    assert!(create["responses"]["401"].is_object() && create["responses"]["403"].is_object());

    let home = operation("/", "get");
    assert_eq!(
        home["security"],
        json!([{ "OAuth2PasswordBearer": [] }, { "APIKeyCookie": [] }, {}])
    );
    assert!(home["responses"]["401"].is_null());

    let with_key = operation("/key", "get");
    assert_eq!(with_key["security"], json!([{ "api_key": [] }]));
    assert_eq!(
        with_key["responses"]["401"],
        json!({ "description": "Bring your key" })
    );

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"],
        "/token"
    );
}
