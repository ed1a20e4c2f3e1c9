//! Two managers in one `Router` (the `admins` example), over a real loopback socket: each
//! refuses the other's tokens (different secrets; or one secret with different audiences),
//! and cookies, CSRF, redirects, the middleware, sessions and the verified-token cache work
//! per manager.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;

use login::password::Passwords;
use login::{LoginManager, session::MemoryStore, session::SessionStore};
use login_examples::admins::{self, Accounts, Admins, AppState};
use login_test_support::{Expect, Reply, form_urlencoded};
use serde_json::{Value, json};

const USERS_SECRET: &str = "users-secret-0123456789abcdef0123";
const ADMINS_SECRET: &str = "admins-secret-0123456789abcdef012";

struct Server {
    base: String,
    client: Client<HttpConnector, Body>,
}

/// Serves the example on a free loopback port with these two managers.
async fn serve(users: LoginManager, admins: LoginManager) -> Server {
    let passwords = Passwords::default();
    // Fresh accounts per server: a test that deletes a user must not affect another.
    let hashing = passwords.clone();
    let accounts = tokio::task::spawn_blocking(move || Accounts::demo(&hashing))
        .await
        .unwrap();
    let state = AppState {
        users,
        admins: Admins(admins),
        accounts,
        passwords,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, admins::app(state)).await });
    Server {
        base: format!("http://{addr}"),
        client: Client::builder(TokioExecutor::new()).build_http(),
    }
}

async fn default_server() -> Server {
    serve(
        admins::users_manager(USERS_SECRET).build().unwrap(),
        admins::admins_manager(ADMINS_SECRET).build().unwrap(),
    )
    .await
}

impl Server {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        form: &str,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if !form.is_empty() {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request.body(Body::from(form.to_owned())).unwrap();
        let response = self.client.request(request).await.expect("an answer");
        Reply::collect(response.map(Body::new)).await
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.send(Method::GET, path, headers, "").await
    }

    /// Logs in through `path` and returns the token response.
    async fn login(&self, path: &str, username: &str, password: &str) -> Value {
        let form = form_urlencoded(&[("username", username), ("password", password)]);
        let reply = self.send(Method::POST, path, &[], &form).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
        reply.json()
    }

    async fn user_token(&self) -> String {
        let body = self.login("/login", "alice", "wonderland").await;
        body["access_token"].as_str().unwrap().to_owned()
    }

    async fn admin_token(&self) -> String {
        let body = self.login("/admin/login", "root", "correct horse").await;
        assert!(
            body["refresh_token"].is_string(),
            "the admins have sessions: {body}"
        );
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Logs in with the cookie route and returns the `name=value` pairs it set.
    async fn cookie_login(&self, path: &str, username: &str, password: &str) -> Vec<String> {
        let form = form_urlencoded(&[("username", username), ("password", password)]);
        let reply = self.send(Method::POST, path, &[], &form).await;
        assert_eq!(
            reply.status,
            StatusCode::NO_CONTENT,
            "{path}: {}",
            reply.text()
        );
        reply
            .set_cookies()
            .iter()
            .map(|c| c.split(';').next().unwrap().to_owned())
            .collect()
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn each_manager_accepts_its_own_tokens_and_refuses_the_others() {
    let server = default_server().await;
    let user = server.user_token().await;
    let admin = server.admin_token().await;

    let reply = server
        .get("/me", &[("authorization", &bearer(&user))])
        .await;
    reply.assert_ok(json!({ "user": "alice" }));
    let reply = server
        .get("/admin", &[("authorization", &bearer(&admin))])
        .await;
    reply.assert_ok(json!({ "admin": "root" }));

    // A user's token on the admins' route: the admins' manager cannot verify it.
    let reply = server
        .get("/admin", &[("authorization", &bearer(&user))])
        .await;
    reply.assert(Expect::InvalidToken);
    // An admin's token on the users' route: refused, although a *user* named `root` exists
    // (a shared manager would have let the admin in as that user).
    for _ in 0..2 {
        // Twice: after the admins' manager cached the token, the users' still refuses it.
        let reply = server
            .get("/admin", &[("authorization", &bearer(&admin))])
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let reply = server
            .get("/me", &[("authorization", &bearer(&admin))])
            .await;
        reply.assert(Expect::InvalidToken);
    }
}

#[tokio::test]
async fn one_secret_with_two_audiences_keeps_the_managers_apart() {
    const SHARED: &str = "one-shared-secret-0123456789abcdef";
    let server = serve(
        admins::users_manager(SHARED)
            .audience("users")
            .build()
            .unwrap(),
        admins::admins_manager(SHARED)
            .audience("admins")
            .build()
            .unwrap(),
    )
    .await;
    let user = server.user_token().await;
    let admin = server.admin_token().await;
    server
        .get("/me", &[("authorization", &bearer(&user))])
        .await
        .assert_ok(json!({ "user": "alice" }));
    server
        .get("/admin", &[("authorization", &bearer(&admin))])
        .await
        .assert_ok(json!({ "admin": "root" }));
    server
        .get("/admin", &[("authorization", &bearer(&user))])
        .await
        .assert(Expect::InvalidToken);
    server
        .get("/me", &[("authorization", &bearer(&admin))])
        .await
        .assert(Expect::InvalidToken);
}

#[tokio::test]
async fn scopes_are_granted_and_checked_per_manager() {
    let server = default_server().await;
    let user = server.user_token().await;
    let admin = server.admin_token().await;
    let as_user = [("authorization", bearer(&user))];
    let as_admin = [("authorization", bearer(&admin))];
    let reply = server
        .send(Method::POST, "/items", &pairs(&as_user), "")
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    // The admin deletes a user account; the second time it is gone.
    let path = "/admin/users/alice";
    let reply = server
        .send(Method::DELETE, path, &pairs(&as_admin), "")
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    let reply = server
        .send(Method::DELETE, path, &pairs(&as_admin), "")
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // A user's token is no admin's token, whatever its scopes: 401, not 403.
    let reply = server
        .send(Method::DELETE, "/admin/users/root", &pairs(&as_user), "")
        .await;
    reply.assert(Expect::InvalidToken);
    // And the admins' scope does not exist for users.
    let reply = server
        .send(Method::POST, "/items", &pairs(&as_admin), "")
        .await;
    reply.assert(Expect::InvalidToken);
}

fn pairs<'a>(headers: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    headers.iter().map(|(n, v)| (*n, v.as_str())).collect()
}

#[tokio::test]
async fn cookies_csrf_and_the_middleware_work_per_manager() {
    let server = default_server().await;
    let user_cookies = server
        .cookie_login("/login/cookie", "alice", "wonderland")
        .await;
    let admin_cookies = server
        .cookie_login("/admin/login/cookie", "root", "correct horse")
        .await;
    assert!(
        user_cookies.iter().any(|c| c.starts_with("access-token=")),
        "{user_cookies:?}"
    );
    let names: Vec<&str> = admin_cookies
        .iter()
        .map(|c| c.split('=').next().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{admin_cookies:?}");
    assert!(
        names.contains(&"admin-token")
            && names.contains(&"admin-refresh")
            && names.contains(&"admin-device"),
        "{names:?}"
    );
    let admin_token = admin_cookies
        .iter()
        .find(|c| c.starts_with("admin-token="))
        .unwrap()
        .clone();
    let both = format!("{}; {admin_token}", user_cookies.join("; "));

    // Each manager reads its own cookie: the admin cookie alone is no user.
    server
        .get("/admin", &[("cookie", &admin_token)])
        .await
        .assert_ok(json!({ "admin": "root" }));
    server
        .get("/me", &[("cookie", &admin_token)])
        .await
        .assert(Expect::NoCredentials);
    // The middleware, once per manager.
    server
        .get("/", &[("cookie", &both)])
        .await
        .assert_ok(json!({ "user": "alice", "admin": "root" }));
    server
        .get("/", &[("cookie", &admin_token)])
        .await
        .assert_ok(json!({ "user": null, "admin": "root" }));

    // CSRF, per manager: a cross-site state-changing request with a manager's cookie is
    // refused by that manager; the same request from the site goes through.
    let evil = ("origin", "https://evil.example");
    let reply = server
        .send(
            Method::DELETE,
            "/admin/users/alice",
            &[("cookie", &both), evil],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    let reply = server
        .send(Method::POST, "/items", &[("cookie", &both), evil], "")
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    let same = ("sec-fetch-site", "same-origin");
    let reply = server
        .send(
            Method::DELETE,
            "/admin/users/alice",
            &[("cookie", &both), same],
            "",
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.text());
    // Login CSRF on the admins' cookie login (`SameOrigin<Admins>`).
    let form = form_urlencoded(&[("username", "root"), ("password", "correct horse")]);
    let reply = server
        .send(Method::POST, "/admin/login/cookie", &[evil], &form)
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert!(reply.set_cookies().is_empty());
}

#[tokio::test]
async fn redirects_and_sessions_follow_their_manager() {
    // No grace for a reused refresh token, so that reuse ends the session at once.
    let server = serve(
        admins::users_manager(USERS_SECRET).build().unwrap(),
        admins::admins_manager(ADMINS_SECRET)
            .refresh_grace(std::time::Duration::ZERO)
            .build()
            .unwrap(),
    )
    .await;
    // A browser without credentials: the admins' manager sends it to its own login page; the
    // users' manager (no redirect set) answers 401.
    let html = ("accept", "text/html");
    let reply = server.get("/admin", &[html]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/admin/login?next=%2Fadmin");
    server
        .get("/me", &[html])
        .await
        .assert(Expect::NoCredentials);

    // The admins' sessions: refresh at the admins' route, with the admins' manager.
    let body = server.login("/admin/login", "root", "correct horse").await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let form = form_urlencoded(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
    let reply = server
        .send(Method::POST, "/admin/refresh", &[], &form)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let renewed = reply.json();
    let token = renewed["access_token"].as_str().unwrap();
    server
        .get("/admin", &[("authorization", &bearer(token))])
        .await
        .assert_ok(json!({ "admin": "root" }));
    server
        .get("/me", &[("authorization", &bearer(token))])
        .await
        .assert(Expect::InvalidToken);
    // The same refresh token twice: reuse, the admin's session ends.
    let reply = server
        .send(Method::POST, "/admin/refresh", &[], &form)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
}

#[test]
fn each_manager_checks_the_scopes_of_its_own_routes() {
    // The admins' builder (`Admins::builder`, from `define_manager!`) checks the admins'
    // routes only: a manager that does not know their scope fails to build, naming the route.
    let error = Admins::builder("/admin/login")
        .secret(ADMINS_SECRET)
        .scopes([("users:read", "Read users")])
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("delete_user"), "{error}");
    assert!(error.contains("users:delete"), "{error}");
    // The same settings built for `LoginManager` check the users' routes instead (here those
    // of every example in this crate), never the admins'.
    let error = LoginManager::builder("/login")
        .secret(USERS_SECRET)
        .scopes([("users:delete", "Delete users")])
        .build()
        .unwrap_err()
        .to_string();
    assert!(!error.contains("delete_user"), "{error}");
}

#[tokio::test]
async fn a_shared_session_store_keeps_each_managers_sessions_apart() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let users = admins::users_manager(USERS_SECRET)
        .session_store(store.clone())
        .build()
        .unwrap();
    let admins_manager = admins::admins_manager(ADMINS_SECRET)
        .session_store(store)
        .build()
        .unwrap();
    let server = serve(users.clone(), admins_manager.clone()).await;
    // The *user* named root logs in: a session of the users' manager in the shared store.
    let body = server.login("/login", "root", "wonderland").await;
    let refresh = body["refresh_token"].as_str().unwrap();
    // Presented to the admins' refresh route: refused, and nothing minted or rotated.
    let form = form_urlencoded(&[("grant_type", "refresh_token"), ("refresh_token", refresh)]);
    let reply = server
        .send(Method::POST, "/admin/refresh", &[], &form)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(reply.json()["error"], "invalid_grant");
    // Its own manager still renews it (the refusal did not consume it).
    let renewed = users.refresh(refresh, None).await.unwrap();
    assert_eq!(
        users.verify_token(&renewed.access_token).unwrap().sub,
        "root"
    );
    // The admin root logs in too; each manager lists only its own sessions of `root`.
    server.admin_token().await;
    assert_eq!(users.list_sessions("root").await.unwrap().len(), 1);
    let admin_sessions = admins_manager.list_sessions("root").await.unwrap();
    assert_eq!(admin_sessions.len(), 1);
    assert_eq!(admin_sessions[0].manager.as_deref(), Some("Admins"));
}
