//! The `simple` example's documentation: `GET /openapi.json` and Swagger UI at
//! `/docs`.
//!
//! - The document is pinned by a snapshot, `tests/simple.openapi.json`, reviewed in the diff
//!   like the UI tests' `.stderr` files: `LOGIN_OPENAPI_OVERWRITE=1 cargo test -p
//!   login-examples --test simple_openapi` rewrites it.
//! - It validates against the OpenAPI 3.1 schema with Python's `openapi-spec-validator`
//!   (installed by `.ci/run`); without it the test prints a note and passes, unless `CI` is
//!   set: then it fails.
//! - The bodies the routes send conform to the schemas the document gives them.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, StatusCode};
use login_examples::simple::{Db, app, manager};
use login_test_support::{Reply, form_request, request, send};
use serde_json::Value;

const SECRET: &str = "openapi-example-test-secret-32-bytes-or-more";
const SNAPSHOT: &str = "tests/simple.openapi.json";
const JOHN: &str = "username=johndoe%40mail.com&password=hunter2";

fn router() -> Router {
    static DB: OnceLock<Db> = OnceLock::new();
    app(manager(SECRET).unwrap(), DB.get_or_init(Db::demo).clone())
}

async fn get(app: &Router, path: &str, headers: &[(&str, &str)]) -> Reply {
    send(app, request(Method::GET, path, headers, Body::empty())).await
}

async fn document(app: &Router) -> Value {
    let reply = get(app, "/openapi.json", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

#[tokio::test]
async fn the_document_matches_its_snapshot() {
    let doc = document(&router()).await;
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SNAPSHOT);
    if std::env::var_os("LOGIN_OPENAPI_OVERWRITE").is_some_and(|v| v != "0") {
        std::fs::write(&path, &pretty).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == pretty,
        "the OpenAPI document changed; rerun with LOGIN_OPENAPI_OVERWRITE=1 and review the \
         diff of {SNAPSHOT}\n--- actual\n{pretty}"
    );
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let doc = document(&router()).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let script = "import json, sys\n\
                  from openapi_spec_validator import OpenAPIV31SpecValidator, validate\n\
                  validate(json.load(sys.stdin), cls=OpenAPIV31SpecValidator)\n";
    let probe = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|status| status.success()) {
        let missing = "python3 with openapi-spec-validator is missing \
                       (pip install 'openapi-spec-validator>=0.7,<1')";
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the OpenAPI document cannot be validated: {missing}");
        }
        eprintln!("note: skipping the OpenAPI 3.1 validation: {missing}");
        return;
    }
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(doc.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the document is not valid OpenAPI 3.1:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The validator itself rejects an invalid document (so a pass above means something).
    let mut broken = doc.clone();
    // A response without its required `description`.
    broken["paths"]["/protected"]["get"]["responses"]["200"]
        .as_object_mut()
        .unwrap()
        .remove("description");
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(broken.to_string().as_bytes())
        .unwrap();
    assert!(!child.wait().unwrap().success());
}

/// Every operation of the example is documented, and every documented operation is served.
#[tokio::test]
async fn the_document_lists_exactly_the_routes() {
    let app = router();
    let doc = document(&app).await;
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    documented.sort();
    let expected = [
        ("DELETE", "/mfa/totp"),
        ("DELETE", "/sessions/{id}"),
        ("GET", "/fresh"),
        ("GET", "/optional"),
        ("GET", "/protected"),
        ("GET", "/scoped"),
        ("GET", "/secure"),
        ("GET", "/sessions"),
        ("POST", "/login"),
        ("POST", "/login/cookie"),
        ("POST", "/login/mfa"),
        ("POST", "/logout"),
        ("POST", "/logout/all"),
        ("POST", "/mfa/recovery-codes"),
        ("POST", "/mfa/totp"),
        ("POST", "/mfa/totp/confirm"),
        ("POST", "/reauth"),
        ("POST", "/refresh"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);
    for (method, path) in &documented {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let reply = send(
            &app,
            request(method.clone(), path, &[("x", "y")], Body::empty()),
        )
        .await;
        assert!(
            reply.status != StatusCode::NOT_FOUND && reply.status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}: {}",
            reply.status
        );
    }
}

/// The documented security schemes and requirements.
#[tokio::test]
async fn the_protected_routes_carry_their_security() {
    let doc = document(&router()).await;
    let password =
        &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"];
    assert_eq!(password["tokenUrl"], "/login");
    assert_eq!(password["refreshUrl"], "/refresh");
    assert_eq!(password["scopes"]["write"], "Change your data");
    assert_eq!(
        doc["components"]["securitySchemes"]["APIKeyCookie"]["name"],
        "access-token"
    );
    let security = |path: &str| doc["paths"][path]["get"]["security"].clone();
    assert_eq!(
        security("/scoped"),
        serde_json::json!([{ "OAuth2PasswordBearer": ["write"] }, { "APIKeyCookie": ["write"] }])
    );
    assert_eq!(security("/optional")[2], serde_json::json!({}));
    for path in ["/login", "/login/cookie", "/refresh"] {
        assert!(
            doc["paths"][path]["post"].get("security").is_none(),
            "{path}"
        );
    }
    // Logout takes the token if there is one; "everywhere" needs it.
    let both = serde_json::json!([{ "OAuth2PasswordBearer": [] }, { "APIKeyCookie": [] }]);
    assert_eq!(doc["paths"]["/logout/all"]["post"]["security"], both);
    assert_eq!(doc["paths"]["/sessions"]["get"]["security"], both);
    assert_eq!(doc["paths"]["/sessions/{id}"]["delete"]["security"], both);
    assert_eq!(
        doc["paths"]["/logout"]["post"]["security"][2],
        serde_json::json!({})
    );
}

/// Whether `value` conforms to `schema` (the subset of JSON Schema the document uses:
/// `$ref`, `type`, `properties`, `required`, `oneOf`, `enum`), with the reason when not.
fn conforms(doc: &Value, schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return conforms(doc, &doc["components"]["schemas"][name], value);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        return options
            .iter()
            .any(|option| conforms(doc, option, value).is_ok())
            .then_some(())
            .ok_or_else(|| format!("{value} matches none of {schema}"));
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return Err(format!("{value} is not one of {values:?}"));
    }
    let type_ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("null") => value.is_null(),
        Some(other) => return Err(format!("type {other} is not handled by this check")),
        None => true,
    };
    if !type_ok {
        return Err(format!("{value} is not of type {}", schema["type"]));
    }
    if let Some(object) = value.as_object()
        && let Some(properties) = schema["properties"].as_object()
    {
        for key in object.keys() {
            let property = properties
                .get(key)
                .ok_or_else(|| format!("`{key}` is not documented in {schema}"))?;
            conforms(doc, property, &object[key])?;
        }
        for required in schema["required"].as_array().into_iter().flatten() {
            let required = required.as_str().unwrap();
            if !object.contains_key(required) {
                return Err(format!("`{required}` is required by {schema}"));
            }
        }
    }
    Ok(())
}

fn assert_documented(doc: &Value, method: &str, path: &str, reply: &Reply) {
    let response = &doc["paths"][path][method]["responses"][reply.status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} answered {}, which is not documented",
        reply.status
    );
    let schema = &response["content"]["application/json"]["schema"];
    if let Err(reason) = conforms(doc, schema, &reply.json()) {
        panic!("{method} {path} {}: {reason}", reply.status);
    }
}

/// The bodies the routes send, successes and failures, are the documented ones.
#[tokio::test]
async fn the_answers_are_the_documented_ones() {
    let app = router();
    let doc = document(&app).await;

    let login = send(&app, form_request("/login", JOHN)).await;
    assert_documented(&doc, "post", "/login", &login);
    let wrong = send(
        &app,
        form_request("/login", "username=johndoe%40mail.com&password=nope"),
    )
    .await;
    assert_documented(&doc, "post", "/login", &wrong);
    let malformed = send(&app, form_request("/login", "username=x")).await;
    assert_documented(&doc, "post", "/login", &malformed);

    let token = login.json()["access_token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    for path in ["/protected", "/optional", "/scoped"] {
        let reply = get(&app, path, &[("authorization", &bearer)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_documented(&doc, "get", path, &reply);
    }
    let anonymous = get(&app, "/optional", &[]).await;
    assert_documented(&doc, "get", "/optional", &anonymous);
    let anonymous = get(&app, "/protected", &[]).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_documented(&doc, "get", "/protected", &anonymous);

    let jane = send(
        &app,
        form_request(
            "/login",
            "username=janedoe%40mail.com&password=jane-secret-pw",
        ),
    )
    .await;
    let jane = format!("Bearer {}", jane.json()["access_token"].as_str().unwrap());
    let forbidden = get(&app, "/scoped", &[("authorization", &jane)]).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_documented(&doc, "get", "/scoped", &forbidden);

    let refresh_token = login.json()["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = send(
        &app,
        form_request(
            "/refresh",
            format!("grant_type=refresh_token&refresh_token={refresh_token}"),
        ),
    )
    .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text());
    assert_documented(&doc, "post", "/refresh", &refreshed);
    // An unknown refresh token: `invalid_grant`.
    let unknown = send(
        &app,
        form_request(
            "/refresh",
            "grant_type=refresh_token&refresh_token=lrt_unknown",
        ),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_documented(&doc, "post", "/refresh", &unknown);

    let cookie = send(&app, form_request("/login/cookie", JOHN)).await;
    assert_documented(&doc, "post", "/login/cookie", &cookie);
    let everywhere = send(
        &app,
        request(
            Method::POST,
            "/logout/all",
            &[("authorization", bearer.as_str())],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.text());
    assert_documented(&doc, "post", "/logout/all", &everywhere);
    let anonymous = send(
        &app,
        request(Method::POST, "/logout/all", &[("x", "y")], Body::empty()),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_documented(&doc, "post", "/logout/all", &anonymous);
    let logout = send(
        &app,
        request(Method::POST, "/logout", &[("x", "y")], Body::empty()),
    )
    .await;
    assert_documented(&doc, "post", "/logout", &logout);
    let cross_site = send(
        &app,
        request(
            Method::POST,
            "/logout",
            &[("sec-fetch-site", "cross-site")],
            Body::empty(),
        ),
    )
    .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_documented(&doc, "post", "/logout", &cross_site);
}

/// Swagger UI is served from the binary: its page, its assets, and its configuration naming
/// the document; nothing is loaded from another host.
#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let app = router();
    let redirect = get(&app, "/docs", &[]).await;
    assert!(redirect.status.is_redirection(), "{}", redirect.status);
    assert_eq!(redirect.location(), "/docs/");

    let page = get(&app, "/docs/", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let html = page.text();
    assert!(html.contains(r#"<div id="swagger-ui">"#), "{html}");
    for needle in ["http://", "https://", "//cdn", "unpkg", "jsdelivr"] {
        assert!(
            !html.contains(&format!("src=\"{needle}"))
                && !html.contains(&format!("href=\"{needle}")),
            "the page loads something from another host: {html}"
        );
    }

    let initializer = get(&app, "/docs/swagger-initializer.js", &[]).await;
    assert_eq!(initializer.status, StatusCode::OK);
    let initializer = initializer.text();
    assert!(
        initializer.contains(r#""url": "/openapi.json""#),
        "{initializer}"
    );
    // No online validator badge (it would send the document's URL to another host).
    assert!(
        initializer.contains(r#""validatorUrl": "none""#),
        "{initializer}"
    );

    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-ui-standalone-preset.js",
    ] {
        let reply = get(&app, &format!("/docs/{asset}"), &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{asset}");
        let length = reply.body.len();
        assert!(length > 10_000, "{asset} is {length} bytes");
    }
}
