//! The `notes` example: the API a new user writes from the README alone (under 150 lines),
//! driven over HTTP, on one instance and on two sharing Redis.

#[path = "../examples/notes.rs"]
#[allow(dead_code)]
mod notes;

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use login_test_support::redis::RedisServer;
use login_test_support::{Reply, form_request, request, send};
use serde_json::json;

const SECRET: &str = "notes-example-test-secret-32-bytes-or-more";
const ANN: &str = "username=ann%40mail.com&password=ann-password";
const BOB: &str = "username=bob%40mail.com&password=bob-password";

async fn app(redis: Option<&str>) -> Router {
    let manager = notes::manager(SECRET, redis).await.unwrap();
    notes::app(manager, notes::demo_db().await.unwrap())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn call(app: &Router, method: Method, path: &str, token: &str, body: &str) -> Reply {
    let auth = bearer(token);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(
        app,
        request(method, path, &headers, Body::from(body.to_owned())),
    )
    .await
}

/// (access token, refresh token) of a login.
async fn login(app: &Router, creds: &str) -> (String, String) {
    let reply = send(app, form_request("/login", creds)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let json = reply.json();
    let token = |name: &str| json[name].as_str().unwrap().to_owned();
    (token("access_token"), token("refresh_token"))
}

#[test]
fn the_example_fits_in_150_lines() {
    let source = include_str!("../examples/notes.rs");
    assert!(
        source.lines().count() <= 150,
        "{} lines",
        source.lines().count()
    );
}

#[tokio::test]
async fn notes_with_scopes_sessions_and_docs() {
    let app = app(None).await;
    let (ann, ann_refresh) = login(&app, ANN).await;
    let (bob, _) = login(&app, BOB).await;

    let added = call(&app, Method::POST, "/notes", &ann, r#"{"text":"milk"}"#).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let listed = call(&app, Method::GET, "/notes", &ann, "").await;
    assert_eq!(listed.json(), json!([{ "text": "milk" }]));
    // Bob may read (his own notes) but not write.
    let refused = call(&app, Method::POST, "/notes", &bob, r#"{"text":"x"}"#).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        call(&app, Method::GET, "/notes", &bob, "").await.json(),
        json!([])
    );

    // The session routes: the list, a refresh, logout, log out everywhere.
    let (ann2, _) = login(&app, ANN).await;
    let sessions = call(&app, Method::GET, "/sessions", &ann2, "").await.json();
    let sessions = sessions["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let body = format!("grant_type=refresh_token&refresh_token={ann_refresh}");
    let refreshed = send(&app, form_request("/refresh", body)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    let out = call(&app, Method::POST, "/logout", &ann2, "").await;
    assert_eq!(out.json(), json!({ "status": "Success" }));
    assert_eq!(
        call(&app, Method::GET, "/notes", &ann2, "").await.status,
        StatusCode::UNAUTHORIZED
    );
    let all = call(&app, Method::POST, "/logout/all", &ann, "").await;
    assert_eq!(all.json()["sessions_ended"], 1);
    assert_eq!(
        call(&app, Method::GET, "/notes", &ann, "").await.status,
        StatusCode::UNAUTHORIZED
    );

    // The document is the app's, with every route and its security; Swagger UI is served.
    let doc = send(
        &app,
        request(
            Method::GET,
            "/openapi.json",
            &[("accept", "*/*")],
            Body::empty(),
        ),
    )
    .await
    .json();
    assert_eq!(doc["info"]["title"], "Notes");
    assert_eq!(doc["info"]["version"], "1.0.0");
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/login",
            "/logout",
            "/logout/all",
            "/notes",
            "/refresh",
            "/sessions",
            "/sessions/{id}"
        ]
    );
    let scheme = &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"];
    assert_eq!(scheme["scopes"]["notes:write"], "Write notes");
    assert_eq!(scheme["refreshUrl"], "/refresh");
    assert_eq!(
        doc["paths"]["/notes"]["post"]["security"],
        json!([{ "OAuth2PasswordBearer": ["notes:write"] }])
    );
    let ui = send(
        &app,
        request(Method::GET, "/docs/", &[("accept", "*/*")], Body::empty()),
    )
    .await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(
        ui.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// Two instances on one Redis: a login on one works on the other, and "log out everywhere"
/// on the other reaches the first.
#[tokio::test]
async fn two_instances_share_sessions_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let url = redis.url();
    let (a, b) = (app(Some(&url)).await, app(Some(&url)).await);
    let (ann, _) = login(&a, ANN).await;
    assert_eq!(
        call(&b, Method::GET, "/notes", &ann, "").await.status,
        StatusCode::OK
    );
    let listed = call(&b, Method::GET, "/sessions", &ann, "").await.json();
    assert_eq!(listed["sessions"][0]["current"], true);
    let all = call(&b, Method::POST, "/logout/all", &ann, "").await;
    assert_eq!(all.json()["sessions_ended"], 1);
    // The revocation reaches instance A through Redis's change stream (a bounded poll).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = call(&a, Method::GET, "/notes", &ann, "").await.status;
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A still accepts the token: {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
