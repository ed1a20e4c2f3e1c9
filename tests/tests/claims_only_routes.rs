//! `#[protected]` on a handler that needs only the verified token (`claims: Claims`): the
//! token is checked (scopes, `optional`) and documented like any protected route, and no
//! user loader runs. (Its own test binary: it counts the loader's calls.)

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use axum::http::{StatusCode, header};
use axum::routing::get;
use login::{Claims, LoginManager, TokenRequest, protected, user_loader};
use login_test_support::{SECRET, request, send};
use serde_json::json;
use utoipa::OpenApi;

static LOADS: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone)]
struct User;

/// The app's loader: a claims-only route must never call it.
#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    LOADS.fetch_add(1, Ordering::SeqCst);
    Some(User)
}

#[protected]
#[utoipa::path(get, path = "/whoami", responses((status = 200, description = "The subject.")))]
async fn whoami(claims: Claims) -> String {
    claims.sub
}

#[protected(scopes = ["write"])]
async fn write(claims: Claims) -> String {
    claims.scopes.join(" ")
}

#[protected(optional)]
async fn maybe(claims: Option<Claims>) -> String {
    claims.map_or_else(|| "anonymous".to_owned(), |c| c.sub)
}

#[protected]
async fn user_route(_user: User) -> &'static str {
    "user"
}

fn bearer_request(path: &str, token: &str) -> Request<Body> {
    let auth = format!("Bearer {token}");
    request(
        Method::GET,
        path,
        &[("authorization", auth.as_str())],
        Body::empty(),
    )
}

fn app() -> (Router, LoginManager) {
    let manager = LoginManager::builder("/login")
        .secret(SECRET)
        .scopes([("write", "Write")])
        .build()
        .unwrap();
    let app = Router::new()
        .route("/whoami", get(whoami))
        .route("/write", get(write))
        .route("/maybe", get(maybe))
        .route("/user", get(user_route))
        .with_state(manager.clone());
    (app, manager)
}

#[tokio::test]
async fn a_claims_handler_verifies_the_token_and_loads_no_user() {
    let (app, manager) = app();
    let plain = manager.create_access_token("alice").unwrap();
    let writer = manager
        .create_access_token(TokenRequest::new("bob").scopes(["write"]))
        .unwrap();
    let before = LOADS.load(Ordering::SeqCst);

    let reply = send(&app, bearer_request("/whoami", &plain)).await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "alice".to_owned())
    );
    let reply = send(&app, bearer_request("/write", &writer)).await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "write".to_owned())
    );
    let reply = send(&app, bearer_request("/maybe", &plain)).await;
    assert_eq!(reply.text(), "alice");
    assert_eq!(LOADS.load(Ordering::SeqCst), before, "no loader call");

    // The same rules as for a user: 401 without a valid token, 403 without the scope,
    // `None` for the optional route.
    let reply = send(&app, bearer_request("/whoami", "not-a-token")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );
    let reply = send(&app, bearer_request("/write", &plain)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="insufficient_scope", scope="write""#
    );
    let reply = send(&app, bearer_request("/maybe", "not-a-token")).await;
    assert_eq!(reply.text(), "anonymous");

    // A user route in the same app still loads its user.
    let reply = send(&app, bearer_request("/user", &plain)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(LOADS.load(Ordering::SeqCst), before + 1);
}

#[test]
fn a_claims_handler_is_documented_with_its_security() {
    #[derive(OpenApi)]
    #[openapi(paths(whoami))]
    struct ApiDoc;
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let operation = &doc["paths"]["/whoami"]["get"];
    assert_eq!(
        operation["security"],
        json!([{ "OAuth2PasswordBearer": [] }, { "APIKeyCookie": [] }])
    );
    assert!(operation["responses"]["401"].is_object(), "{operation}");
}
