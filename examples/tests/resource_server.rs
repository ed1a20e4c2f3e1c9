//! The `resource_server` example against a real OpenID provider: panva's certified
//! `oidc-provider` (npm, pinned by `examples/oidc-provider/package-lock.json`, installed by
//! `.ci/run` with `npm ci`), started by the test with the machine's Node.js on a free
//! loopback port, issuing JWT access tokens through the client credentials grant. The
//! provider's own rotation (a new signing key in front of its `jwks`, the old one still
//! published) is a restart of it with `ROTATE=1`; the resource server is not restarted.
//!
//! Without Node.js or `examples/oidc-provider/node_modules` the test skips with a message,
//! outside CI; under CI (`CI` set) it fails. The failure cases a provider will not produce on
//! demand are `login/tests/oidc_failures.rs`, against a provider of the tests' own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use base64::Engine as _;
#[path = "../src/resource_server.rs"]
mod resource_server;
use login_test_support::{Expect, Reply, request, send};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://api.example";

/// The provider's process; killed when dropped.
struct Idp {
    child: Child,
    port: u16,
    keys: PathBuf,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// Whether the provider can run here; `None` (skip) outside CI when it cannot.
fn available() -> bool {
    let node = Command::new("node").arg("--version").output().is_ok();
    let installed = provider_dir().join("node_modules/oidc-provider").is_dir();
    if node && installed {
        return true;
    }
    let why = if node {
        "examples/oidc-provider/node_modules is missing (cd examples/oidc-provider && npm ci)"
    } else {
        "Node.js is not installed"
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "the real OpenID provider cannot run under CI: {why}"
    );
    eprintln!("skipped: {why}; these tests need a real OpenID provider");
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Idp {
    fn start(keys: PathBuf) -> Idp {
        Self::start_on(free_port(), keys, false)
    }

    /// Starts `server.mjs` on `port` and waits for its "listening" line.
    fn start_on(port: u16, keys: PathBuf, rotate: bool) -> Idp {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(provider_dir())
            .env("PORT", port.to_string())
            .env("AUDIENCE", AUDIENCE)
            .env("KEYS_FILE", &keys)
            .env("ROTATE", if rotate { "1" } else { "0" })
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..50 {
            line.clear();
            if stdout.read_line(&mut line).unwrap_or(0) == 0 || line.contains("listening on") {
                break;
            }
        }
        assert!(
            line.contains("listening on"),
            "the provider did not start: {line:?}"
        );
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Idp { child, port, keys }
    }

    fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it and starts it again on the same port with a new signing key in front.
    fn rotate(mut self) -> Idp {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (port, keys) = (self.port, self.keys.clone());
        std::mem::forget(self);
        Idp::start_on(port, keys, true)
    }

    /// An access token from the client credentials grant for `client` with `scope`.
    fn token(&self, client: &str, scope: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&scope={}",
            scope.replace(' ', "+")
        );
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{client}:{client}-secret"));
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "POST /token HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Basic {basic}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            self.port,
            form.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let body = response.split("\r\n\r\n").nth(1).unwrap_or("");
        // The body may come chunked: the JSON object is between the first `{` and last `}`.
        let json = &body[body.find('{').unwrap_or(0)..=body.rfind('}').unwrap_or(0)];
        let parsed: Value = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("token response {response:?}: {e}"));
        parsed["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access_token: {parsed}"))
            .to_owned()
    }
}

fn keys_file(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("login-oidc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("keys.json")
}

async fn get(app: &axum::Router, path: &str, token: Option<&str>) -> Reply {
    let headers: Vec<(&str, String)> = token
        .map(|t| vec![("authorization", format!("Bearer {t}"))])
        .unwrap_or_default();
    send(app, request(Method::GET, path, &headers, Body::empty())).await
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.text()).unwrap()
}

#[tokio::test]
async fn the_providers_tokens_are_verified_and_a_rotated_key_needs_no_restart() {
    if !available() {
        return;
    }
    let idp = Idp::start(keys_file("rotate"));
    let issuer = idp.issuer();
    let app = resource_server::app(resource_server::manager(&issuer, AUDIENCE).await.unwrap());
    let service = idp.token("service", "read admin");
    let reader = idp.token("reader", "read");

    let me = get(&app, "/me", Some(&service)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(
        json_of(&me),
        json!({ "sub": "service", "scopes": ["read", "admin"] })
    );
    let admin = get(&app, "/admin", Some(&service)).await;
    assert_eq!(json_of(&admin), json!({ "sub": "service", "admin": true }));
    get(&app, "/admin", Some(&reader))
        .await
        .assert(Expect::InsufficientScope("admin"));
    assert_eq!(
        json_of(&get(&app, "/optional", Some(&reader)).await),
        json!({ "sub": "reader" })
    );
    assert_eq!(
        json_of(&get(&app, "/optional", None).await),
        json!({ "sub": null })
    );
    get(&app, "/me", None).await.assert(Expect::NoCredentials);
    // A token altered in transit.
    let mut tampered = service.clone();
    tampered.pop();
    tampered.push(if service.ends_with('A') { 'B' } else { 'A' });
    get(&app, "/me", Some(&tampered))
        .await
        .assert(Expect::InvalidToken);

    // The provider rotates: a new signing key, the old one still published. The running
    // resource server accepts tokens of the new key (one refresh) and of the old one.
    let idp = idp.rotate();
    let rotated = idp.token("service", "read admin");
    assert_ne!(
        login_test_support::forge::header_of(&rotated)["kid"],
        login_test_support::forge::header_of(&service)["kid"],
        "the provider signs with its new key"
    );
    let me = get(&app, "/me", Some(&rotated)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(
        get(&app, "/me", Some(&service)).await.status,
        StatusCode::OK
    );

    // The provider goes away: the keys already known keep verifying.
    drop(idp);
    assert_eq!(
        get(&app, "/me", Some(&rotated)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    if !available() {
        return;
    }
    let idp = Idp::start(keys_file("audience"));
    let other = resource_server::manager(&idp.issuer(), "https://another-api.example")
        .await
        .unwrap();
    let app = resource_server::app(other);
    let token = idp.token("service", "read admin");
    get(&app, "/me", Some(&token))
        .await
        .assert(Expect::InvalidToken);
    // A service configured with the issuer written otherwise (a trailing slash) does not start.
    let error = resource_server::manager(&format!("{}/", idp.issuer()), AUDIENCE)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("issuer"), "{error}");
}
