//! The `app` example's HTTP contract, driven against its router with an in-memory
//! database: registration, login with the cookie, redirects with `next`, the JSON API with
//! bearer tokens, owners-only edits, CSRF, logout, and a failing database.

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use login::LoginManager;
use login_examples::app::{self, Cookies, db};
use login_test_support::{Reply, cookie_parts, form_request, form_urlencoded, send};
use serde_json::{Value, json};
use sqlx::SqlitePool;

const SECRET: &str = "app-example-test-secret-that-is-32-bytes-or-more";
/// What Chromium sends when it navigates or submits a form.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const HOST: &str = "127.0.0.1:8000";
const ORIGIN: &str = "http://127.0.0.1:8000";
const COOKIE: &str = "__Host-access-token";
/// The client's address every request of the tests comes from.
const PEER: [u8; 4] = [192, 0, 2, 44];

/// The single `Set-Cookie` header of the token cookie (the refresh cookie that sessions set or
/// clear next to it is checked by the session tests).
#[track_caller]
fn token_cookie(reply: &Reply) -> String {
    let all: Vec<String> = reply
        .set_cookies()
        .into_iter()
        .filter(|c| {
            !c.starts_with("__Host-refresh-token=")
                && !c.starts_with("refresh-token=")
                && !c.starts_with("__Host-device-token=")
                && !c.starts_with("device-token=")
        })
        .collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

struct TestApp {
    router: Router,
    db: SqlitePool,
    manager: LoginManager,
}

/// The `Cookie` header a browser would send back.
fn cookie_header(set_cookie: &str) -> String {
    cookie_parts(set_cookie).0
}

/// A browser's form submission from the app's own page.
fn browser_post(path: &str, fields: &[(&str, &str)], cookie: Option<&str>) -> Request<Body> {
    browser_post_from(path, fields, cookie, "same-origin", ORIGIN)
}

fn browser_post_from(
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
    fetch_site: &str,
    origin: &str,
) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", fetch_site)
        .header(header::ORIGIN, origin);
    if let Some(cookie) = cookie {
        b = b.header(header::COOKIE, cookie);
    }
    b.body(Body::from(form_urlencoded(fields))).unwrap()
}

fn browser_get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path)
        .header(header::HOST, HOST)
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .header("sec-fetch-site", "same-origin");
    if let Some(cookie) = cookie {
        b = b.header(header::COOKIE, cookie);
    }
    b.body(Body::empty()).unwrap()
}

/// An API client: JSON in and out, optionally a bearer token.
fn api(method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "application/json");
    if let Some(token) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// An API client's login: the login form, answered in JSON (`Accept: application/json`).
fn api_login(email: &str, password: &str) -> Request<Body> {
    let mut request = form_request(
        "/login",
        form_urlencoded(&[("username", email), ("password", password)]),
    );
    request
        .headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    request
}

const ANN: (&str, &str, &str) = ("ann@example.com", "Ann", "ann-password-1");
const BOB: (&str, &str, &str) = ("bob@example.com", "Bob", "bob-password-2");

impl TestApp {
    async fn new() -> Self {
        Self::with(Cookies::HostPrefixed).await
    }

    async fn with(cookies: Cookies) -> Self {
        let db = app::connect("sqlite::memory:").await.unwrap();
        let manager = app::manager(SECRET, cookies, &db).unwrap();
        // The peer's address, as `into_make_service_with_connect_info` gives it.
        let peer = std::net::SocketAddr::from((PEER, 50_000));
        TestApp {
            router: app::router(manager.clone(), db.clone()).layer(MockConnectInfo(peer)),
            db,
            manager,
        }
    }

    async fn send(&self, request: Request<Body>) -> Reply {
        send(&self.router, request).await
    }

    async fn register(&self, (email, name, password): (&str, &str, &str)) -> Reply {
        self.send(api(
            "POST",
            "/register",
            None,
            Some(json!({ "email": email, "name": name, "password": password })),
        ))
        .await
    }

    /// Registers through the API and returns a bearer token from the JSON login.
    async fn bearer(&self, user: (&str, &str, &str)) -> String {
        let reply = self.register(user).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
        let reply = self.send(api_login(user.0, user.2)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["access_token"].as_str().unwrap().to_owned()
    }

    /// Logs in through the HTML form and returns the `Cookie` header to send back.
    async fn browser_login(&self, (email, _, password): (&str, &str, &str)) -> String {
        let reply = self
            .send(browser_post(
                "/login",
                &[("username", email), ("password", password)],
                None,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
        cookie_header(&token_cookie(&reply))
    }

    async fn post_count(&self, owner_email: &str) -> usize {
        let owner = db::find_user(&self.db, owner_email).await.unwrap().unwrap();
        db::posts_of(&self.db, owner.id).await.unwrap().len()
    }
}

#[tokio::test]
async fn register_through_the_api_and_the_form() {
    let app = TestApp::new().await;
    let reply = app.register(ANN).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let user = &reply.json()["user"];
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["name"], "Ann");
    assert!(user.get("password_hash").is_none(), "{user}");
    assert!(reply.set_cookies().is_empty(), "API clients get no cookie");

    let stored = db::find_user(&app.db, "ann@example.com")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored.password_hash.starts_with("$argon2id$"),
        "{}",
        stored.password_hash
    );

    // The form: the account is created and the browser signed in.
    let reply = app
        .send(browser_post(
            "/register",
            &[
                ("email", " Bob@Example.com "),
                ("name", "Bob"),
                ("password", BOB.2),
            ],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.location(), "/posts");
    let cookie = cookie_header(&token_cookie(&reply));
    let page = app.send(browser_get("/posts", Some(&cookie))).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Signed in as Bob"), "{}", page.text());
    // Stored lower-cased: logging in with any case works.
    app.browser_login(("BOB@example.com", "", BOB.2)).await;
}

#[tokio::test]
async fn duplicate_and_invalid_registrations_are_refused() {
    let app = TestApp::new().await;
    assert_eq!(app.register(ANN).await.status, StatusCode::CREATED);

    let reply = app
        .register(("ANN@example.com", "Ann 2", "another-pw"))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({ "detail": "An account with this e-mail address already exists." })
    );

    let reply = app
        .send(browser_post(
            "/register",
            &[
                ("email", ANN.0),
                ("name", "<b>Ann</b>"),
                ("password", "another-pw"),
            ],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let page = reply.text();
    assert!(page.contains("already exists"), "{page}");
    assert!(
        page.contains("&lt;b&gt;Ann&lt;/b&gt;"),
        "the form keeps the input, escaped"
    );
    assert!(reply.set_cookies().is_empty());

    for (email, name, password) in [
        ("not-an-email", "X", "long-enough"),
        ("x@example.com", "", "long-enough"),
        ("x@example.com", "X", "short"),
        ("x@example.com", "X", &"p".repeat(2000)),
    ] {
        let reply = app.register((email, name, password)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{email} {name}");
    }
    // A body that is neither JSON nor a form.
    let reply = app
        .send(
            Request::post("/register")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("email=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn login_sets_the_cookie_with_safe_attributes() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/posts");
    let (pair, attributes) = cookie_parts(&token_cookie(&reply));
    let (name, token) = pair.split_once('=').unwrap();
    assert_eq!(name, COOKIE);
    assert_eq!(app.manager.verify_token(token).unwrap().sub, ANN.0);
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "Max-Age=900",
            "Path=/",
            "SameSite=Lax",
            "Secure"
        ],
        "no Domain; Max-Age is the token lifetime"
    );

    // The JSON login answers with a bearer token and sets no cookie.
    let reply = app.send(api_login(ANN.0, ANN.2)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["token_type"], "bearer");
    assert_eq!(reply.json()["expires_in"], 900);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    // Only the login throttle's device token; no token cookie.
    let cookies = reply.set_cookies();
    assert!(
        cookies
            .iter()
            .all(|c| c.starts_with("__Host-device-token=")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn wrong_credentials_get_the_same_answer() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let mut answers = Vec::new();
    for (user, password) in [(ANN.0, "wrong-password"), ("nobody@example.com", ANN.2)] {
        let reply = app
            .send(
                Request::post("/login")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form_urlencoded(&[
                        ("username", user),
                        ("password", password),
                    ])))
                    .unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.set_cookies().is_empty());
        answers.push((
            reply.json(),
            reply.headers[header::WWW_AUTHENTICATE].clone(),
        ));

        let page = app
            .send(browser_post(
                "/login?next=%2Fposts%2Fnew",
                &[("username", user), ("password", password)],
                None,
            ))
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_eq!(page.headers[header::WWW_AUTHENTICATE], "Bearer");
        assert!(page.text().contains("Wrong e-mail or password."));
        assert!(
            page.text()
                .contains(r#"action="/login?next=%2Fposts%2Fnew""#),
            "the form keeps next: {}",
            page.text()
        );
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn protected_pages_redirect_browsers_to_the_login_page_with_next() {
    let app = TestApp::new().await;
    for (path, location) in [
        ("/posts", "/login?next=%2Fposts"),
        ("/posts/new", "/login?next=%2Fposts%2Fnew"),
        (
            "/posts/7/edit?x=1",
            "/login?next=%2Fposts%2F7%2Fedit%3Fx%3D1",
        ),
    ] {
        // Sessions: first through the silent refresh, which, without a refresh cookie, goes
        // on to the login page with the same `next`.
        let reply = app.send(browser_get(path, None)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        let refresh = location.replace("/login?", "/refresh?");
        assert_eq!(reply.location(), refresh);
        let reply = app.send(browser_get(&refresh, None)).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.location(), location);
    }
    // An expired or forged cookie redirects too.
    let reply = app
        .send(browser_get("/posts", Some(&format!("{COOKIE}=not.a.jwt"))))
        .await;
    assert_eq!(reply.location(), "/refresh?next=%2Fposts");

    // API clients get RFC 6750's 401, never a redirect.
    let reply = app.send(api("GET", "/posts", None, None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers[header::WWW_AUTHENTICATE], "Bearer");
    let reply = app
        .send(api("GET", "/posts", Some("not.a.jwt"), None))
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        r#"Bearer error="invalid_token""#
    );

    // The login page carries next into its form, and logging in returns there.
    let page = app
        .send(browser_get("/login?next=%2Fposts%2Fnew", None))
        .await;
    assert!(
        page.text()
            .contains(r#"action="/login?next=%2Fposts%2Fnew""#),
        "{}",
        page.text()
    );
    app.register(ANN).await;
    let reply = app
        .send(browser_post(
            "/login?next=%2Fposts%2Fnew%3Fdraft%3D1",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/posts/new?draft=1");
}

#[tokio::test]
async fn open_redirect_next_values_are_refused() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    for next in [
        "https://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/ok\r\nSet-Cookie: x=1",
        "/\t/evil.example",
        "",
    ] {
        let query = format!("/login?next={}", app::html::url_encode(next));
        let reply = app
            .send(browser_post(
                &query,
                &[("username", ANN.0), ("password", ANN.2)],
                None,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(reply.location(), "/posts", "{next:?}");

        let page = app.send(browser_get(&query, None)).await.text();
        assert!(page.contains(r#"action="/login""#), "{next:?}: {page}");
        assert!(!page.contains("evil"), "{next:?}: {page}");
    }
}

#[tokio::test]
async fn json_api_with_a_bearer_token() {
    let app = TestApp::new().await;
    let token = app.bearer(ANN).await;

    let reply = app
        .send(api(
            "POST",
            "/posts",
            Some(&token),
            Some(json!({ "title": "Hello", "body": "First post" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let post = reply.json()["post"].clone();
    let id = post["id"].as_i64().unwrap();
    assert_eq!(reply.location(), format!("/posts/{id}"));
    assert_eq!(post["title"], "Hello");
    assert_eq!(post["author"], "Ann");

    let list = app.send(api("GET", "/posts", Some(&token), None)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["posts"].as_array().unwrap().len(), 1);

    let reply = app
        .send(api(
            "PUT",
            &format!("/posts/{id}"),
            Some(&token),
            Some(json!({ "title": "Hello again", "body": "Edited" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["post"]["title"], "Hello again");

    let reply = app
        .send(api(
            "POST",
            "/posts",
            Some(&token),
            Some(json!({ "title": "   " })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let me = app.send(api("GET", "/me", Some(&token), None)).await;
    assert_eq!(me.json()["user"]["email"], ANN.0);

    let reply = app
        .send(api("DELETE", &format!("/posts/{id}"), Some(&token), None))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let reply = app
        .send(api("GET", &format!("/posts/{id}"), Some(&token), None))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post_count(ANN.0).await, 0);

    // A bearer request is not subject to the cookie's CSRF check: browsers never attach the
    // header on their own.
    let mut request = api(
        "POST",
        "/posts",
        Some(&token),
        Some(json!({ "title": "From a script" })),
    );
    request
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    request
        .headers_mut()
        .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    assert_eq!(app.send(request).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn only_the_owner_may_edit_or_delete() {
    let app = TestApp::new().await;
    let ann = app.bearer(ANN).await;
    let bob = app.bearer(BOB).await;
    let reply = app
        .send(api(
            "POST",
            "/posts",
            Some(&ann),
            Some(json!({ "title": "Ann's post" })),
        ))
        .await;
    let id = reply.json()["post"]["id"].as_i64().unwrap();
    let path = format!("/posts/{id}");

    // Bob may read it...
    let reply = app.send(api("GET", &path, Some(&bob), None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    // ...but not change or delete it.
    let reply = app
        .send(api(
            "PUT",
            &path,
            Some(&bob),
            Some(json!({ "title": "Bob was here" })),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json(),
        json!({ "detail": "Only the author may change this post" })
    );
    let reply = app.send(api("DELETE", &path, Some(&bob), None)).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // The same through the HTML forms, with Bob's cookie.
    let cookie = app.browser_login(BOB).await;
    let reply = app
        .send(browser_get(&format!("{path}/edit"), Some(&cookie)))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.text().contains("Only the author"), "{}", reply.text());
    let reply = app
        .send(browser_post(
            &path,
            &[("title", "Bob was here")],
            Some(&cookie),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let reply = app
        .send(browser_post(&format!("{path}/delete"), &[], Some(&cookie)))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    // Bob's view of the post has no edit buttons.
    let page = app.send(browser_get(&path, Some(&cookie))).await.text();
    assert!(!page.contains("/edit"), "{page}");

    let reply = app.send(api("GET", &path, Some(&ann), None)).await;
    assert_eq!(reply.json()["post"]["title"], "Ann's post");
}

#[tokio::test]
async fn html_forms_create_edit_and_delete_with_the_cookie() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let cookie = app.browser_login(ANN).await;

    let form = app.send(browser_get("/posts/new", Some(&cookie))).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text().contains(r#"id="new-post-form""#));

    let title = r#"<script>alert("x")</script>"#;
    let reply = app
        .send(browser_post(
            "/posts",
            &[("title", title), ("body", "a & b")],
            Some(&cookie),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.location(), "/posts");

    let page = app.send(browser_get("/posts", Some(&cookie))).await;
    let text = page.text();
    assert!(!text.contains("<script>"), "escaped: {text}");
    assert!(text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("form-action 'self'")
    );
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");

    let id = db::posts_of(&app.db, 1).await.unwrap()[0].id;
    let reply = app
        .send(browser_post(
            &format!("/posts/{id}"),
            &[("title", "Edited"), ("body", "new text")],
            Some(&cookie),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), format!("/posts/{id}"));
    let page = app
        .send(browser_get(&format!("/posts/{id}"), Some(&cookie)))
        .await;
    assert!(page.text().contains("Edited"));
    assert!(page.text().contains(&format!("/posts/{id}/edit")));

    let reply = app
        .send(browser_post(
            &format!("/posts/{id}"),
            &[("title", "")],
            Some(&cookie),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains(r#"id="edit-post-form""#));

    let reply = app
        .send(browser_post(
            &format!("/posts/{id}/delete"),
            &[],
            Some(&cookie),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(app.post_count(ANN.0).await, 0);
}

#[tokio::test]
async fn cross_site_posts_with_the_cookie_are_refused() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let cookie = app.browser_login(ANN).await;
    let fields = [("title", "pwned"), ("body", "by another site")];

    for (fetch_site, origin) in [
        ("cross-site", "http://evil.example"),
        // Another port of the same host is same-site but not same-origin.
        ("same-site", "http://127.0.0.1:9999"),
    ] {
        let reply = app
            .send(browser_post_from(
                "/posts",
                &fields,
                Some(&cookie),
                fetch_site,
                origin,
            ))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{fetch_site}");
        assert_eq!(
            reply.json(),
            json!({ "detail": "Cross-site request refused" })
        );
    }
    // No Fetch Metadata (an older browser): the Origin header decides.
    let mut request = browser_post("/posts", &fields, Some(&cookie));
    request.headers_mut().remove("sec-fetch-site");
    request
        .headers_mut()
        .insert(header::ORIGIN, "http://evil.example".parse().unwrap());
    assert_eq!(app.send(request).await.status, StatusCode::FORBIDDEN);
    // The edit and delete forms are covered the same way.
    let reply = app
        .send(browser_post_from(
            "/posts/1/delete",
            &[],
            Some(&cookie),
            "cross-site",
            "http://evil.example",
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(app.post_count(ANN.0).await, 0, "nothing was created");

    // Same origin passes; so does a non-browser client that sends no Origin at all.
    let reply = app
        .send(browser_post("/posts", &fields, Some(&cookie)))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let reply = app
        .send(
            Request::post("/posts")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"title":"from curl"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    assert_eq!(app.post_count(ANN.0).await, 2);

    // Login CSRF: another site cannot sign the browser in, nor out.
    for path in ["/login", "/register", "/logout"] {
        let reply = app
            .send(browser_post_from(
                path,
                &[("username", ANN.0), ("password", ANN.2)],
                None,
                "cross-site",
                "http://evil.example",
            ))
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
        assert!(reply.set_cookies().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn logout_clears_the_cookie_with_the_same_attributes() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    let set = cookie_parts(&token_cookie(&reply));
    let cookie = cookie_header(&token_cookie(&reply));

    let reply = app.send(browser_post("/logout", &[], Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/login");
    let cleared = cookie_parts(&token_cookie(&reply));
    assert_eq!(cleared.0, format!("{COOKIE}="), "empty value, same name");
    let without_max_age = |attributes: &[String]| -> Vec<String> {
        attributes
            .iter()
            .filter(|a| !a.starts_with("Max-Age="))
            .cloned()
            .collect()
    };
    assert_eq!(without_max_age(&cleared.1), without_max_age(&set.1));
    assert!(
        cleared.1.contains(&"Max-Age=0".to_owned()),
        "{:?}",
        cleared.1
    );
}

#[tokio::test]
async fn a_failing_database_is_a_500_never_a_401() {
    let app = TestApp::new().await;
    let token = app.bearer(ANN).await;
    let cookie = app.browser_login(ANN).await;
    app.db.close().await;

    let reply = app.send(api("GET", "/posts", Some(&token), None)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.json(), json!({ "detail": "Internal server error" }));
    assert!(!reply.text().contains(&token));
    // A browser is not sent to the login page as if it were signed out.
    let reply = app.send(browser_get("/posts", Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(reply.headers.get(header::LOCATION).is_none());
    assert!(reply.set_cookies().is_empty(), "the cookie is kept");
    assert!(
        reply.text().contains("<h1>Internal Server Error</h1>"),
        "an HTML page for the browser (the loader took the format as an argument): {}",
        reply.text()
    );
    // Public pages with credentials fail too (the layer loads the user), rather than showing
    // "not signed in".
    let reply = app.send(browser_get("/login", Some(&cookie))).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    // Logging in needs the database: 500, not "wrong password".
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn the_insecure_development_cookie_is_an_explicit_choice() {
    let app = TestApp::with(Cookies::InsecureForDevelopment).await;
    app.register(ANN).await;
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    let (pair, attributes) = cookie_parts(&token_cookie(&reply));
    assert!(pair.starts_with("access-token="), "{pair}");
    assert_eq!(
        attributes,
        ["HttpOnly", "Max-Age=900", "Path=/", "SameSite=Lax"]
    );
}

#[tokio::test]
async fn migrations_run_once_on_a_file_database() {
    let dir = std::env::temp_dir().join(format!("login-app-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("app.db");
    let _ = std::fs::remove_file(&path);
    let url = format!("sqlite:{}", path.display());
    let pool = app::connect(&url).await.unwrap();
    db::create_user(&pool, "ann@example.com", "Ann", "x")
        .await
        .unwrap();
    pool.close().await;
    // Opening it again keeps the data and applies nothing twice.
    let pool = app::connect(&url).await.unwrap();
    assert!(
        db::find_user(&pool, "ann@example.com")
            .await
            .unwrap()
            .is_some()
    );
    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- sessions -----------------------------------------------------------------------------

/// The value of cookie `name` among the `Set-Cookie` headers.
fn cookie_value(reply: &Reply, name: &str) -> String {
    let prefix = format!("{name}=");
    let all = reply.set_cookies();
    let cookie = all
        .iter()
        .find(|c| c.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {all:?}"));
    cookie[prefix.len()..].split(';').next().unwrap().to_owned()
}

/// Logs a browser in as `who`: (access cookie header, refresh cookie header).
async fn browser_login(app: &TestApp, who: (&str, &str, &str)) -> (String, String) {
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", who.0), ("password", who.2)],
            None,
        ))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    (
        format!("{COOKIE}={}", cookie_value(&reply, COOKIE)),
        format!(
            "__Host-refresh-token={}",
            cookie_value(&reply, "__Host-refresh-token")
        ),
    )
}

#[tokio::test]
async fn a_browser_login_sets_a_strict_refresh_cookie_for_the_refresh_route_only() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let reply = app
        .send(browser_post(
            "/login",
            &[("username", ANN.0), ("password", ANN.2)],
            None,
        ))
        .await;
    let all = reply.set_cookies();
    let refresh = all
        .iter()
        .find(|c| c.starts_with("__Host-refresh-token="))
        .unwrap();
    let (_, attributes) = cookie_parts(refresh);
    assert_eq!(
        attributes,
        [
            "HttpOnly",
            "Max-Age=1209600",
            "Path=/",
            "SameSite=Strict",
            "Secure"
        ]
    );
    // The API login returns both tokens in the body and sets no cookie.
    let reply = app
        .send(
            Request::post("/login")
                .header(header::ACCEPT, "application/json")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form_urlencoded(&[
                    ("username", ANN.0),
                    ("password", ANN.2),
                ])))
                .unwrap(),
        )
        .await;
    assert!(
        reply.json()["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with("lrt_")
    );
    // Only the login throttle's device token; no token cookie.
    let cookies = reply.set_cookies();
    assert!(
        cookies
            .iter()
            .all(|c| c.starts_with("__Host-device-token=")),
        "{cookies:?}"
    );
}

#[tokio::test]
async fn the_silent_refresh_sends_the_browser_back_signed_in() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let (_, refresh) = browser_login(&app, ANN).await;
    // The access cookie is gone (expired): the page sends the browser to /refresh...
    let reply = app.send(browser_get("/posts/new", None)).await;
    assert_eq!(reply.location(), "/refresh?next=%2Fposts%2Fnew");
    // ...where the refresh cookie is rotated and the browser sent back, with new cookies.
    let reply = app
        .send(browser_get("/refresh?next=%2Fposts%2Fnew", Some(&refresh)))
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(reply.location(), "/posts/new");
    let access = format!("{COOKIE}={}", cookie_value(&reply, COOKIE));
    let new_refresh = format!(
        "__Host-refresh-token={}",
        cookie_value(&reply, "__Host-refresh-token")
    );
    assert_ne!(new_refresh, refresh);
    let page = app.send(browser_get("/posts/new", Some(&access))).await;
    assert_eq!(page.status, StatusCode::OK);
    // An unsafe `next` is dropped; a bad or missing cookie goes on to the login page.
    let reply = app
        .send(browser_get(
            "/refresh?next=https%3A%2F%2Fevil.example",
            Some(&new_refresh),
        ))
        .await;
    assert_eq!(reply.location(), "/posts");
    let reply = app
        .send(browser_get(
            "/refresh?next=%2Fposts",
            Some("__Host-refresh-token=lrt_forged"),
        ))
        .await;
    assert_eq!(reply.location(), "/login?next=%2Fposts");
    assert!(reply.set_cookies().is_empty());
    // Another site cannot trigger it with the cookie.
    let cross = Request::get("/refresh?next=%2Fposts")
        .header(header::HOST, HOST)
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .header("sec-fetch-site", "cross-site")
        .header(header::COOKIE, &new_refresh)
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(cross).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_sessions_page_lists_and_ends_sessions() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    app.register(BOB).await;
    let (here, _) = browser_login(&app, ANN).await;
    let (there, there_refresh) = browser_login(&app, ANN).await;
    let (bob, _) = browser_login(&app, BOB).await;
    let page = app.send(browser_get("/sessions", Some(&here))).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.text();
    assert_eq!(text.matches(r#"class="session""#).count(), 2, "{text}");
    assert_eq!(text.matches(r#"data-current="true""#).count(), 1, "{text}");
    assert!(text.contains("(this browser)") && text.contains("Sign out everywhere"));
    // The other browser's session, from its access token.
    let there_sid = app
        .manager
        .verify_token(there.split_once('=').unwrap().1)
        .unwrap()
        .sid
        .unwrap();
    assert!(text.contains(&format!(r#"action="/sessions/{there_sid}/end""#)));
    // Bob cannot end Ann's session.
    let reply = app
        .send(browser_post(
            &format!("/sessions/{there_sid}/end"),
            &[],
            Some(&bob),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Ann ends it: the other browser is signed out at its next request.
    let reply = app
        .send(browser_post(
            &format!("/sessions/{there_sid}/end"),
            &[],
            Some(&here),
        ))
        .await;
    assert_eq!(reply.location(), "/sessions");
    let reply = app.send(browser_get("/posts", Some(&there))).await;
    assert_eq!(reply.location(), "/refresh?next=%2Fposts");
    let reply = app
        .send(browser_get("/refresh?next=%2Fposts", Some(&there_refresh)))
        .await;
    assert_eq!(reply.location(), "/login?next=%2Fposts");
    assert_eq!(
        app.send(browser_get("/posts", Some(&here))).await.status,
        StatusCode::OK
    );
    // As JSON.
    let token = here.split_once('=').unwrap().1;
    let reply = app.send(api("GET", "/sessions", Some(token), None)).await;
    assert_eq!(reply.json()["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(reply.json()["sessions"][0]["id"], reply.json()["current"]);
}

#[tokio::test]
async fn logout_ends_this_session_and_logout_all_every_one() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    let (one, _) = browser_login(&app, ANN).await;
    let (two, two_refresh) = browser_login(&app, ANN).await;
    let (three, _) = browser_login(&app, ANN).await;
    let reply = app.send(browser_post("/logout", &[], Some(&one))).await;
    assert_eq!(reply.location(), "/login");
    let cleared = reply.set_cookies();
    assert!(
        cleared
            .iter()
            .any(|c| c.starts_with("__Host-refresh-token=;")),
        "{cleared:?}"
    );
    assert_eq!(
        app.send(browser_get("/posts", Some(&one))).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.send(browser_get("/posts", Some(&two))).await.status,
        StatusCode::OK
    );
    let reply = app
        .send(browser_post("/logout/all", &[], Some(&three)))
        .await;
    assert_eq!(reply.location(), "/login");
    for cookie in [&two, &three] {
        let reply = app.send(browser_get("/posts", Some(cookie))).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    let reply = app
        .send(browser_get("/refresh?next=%2Fposts", Some(&two_refresh)))
        .await;
    assert_eq!(reply.location(), "/login?next=%2Fposts");
}

// ----- sign-in activity --------------------------------------------------------------------

const AGENT: &str = "ActivityTest/2.0 (Windows NT 10.0)";

fn with_agent(mut request: Request<Body>) -> Request<Body> {
    request
        .headers_mut()
        .insert(header::USER_AGENT, HeaderValue::from_static(AGENT));
    request
}

/// `GET /activity` as JSON with `token`, once the recorder has written `expected` events
/// (it writes in a task of its own: a bounded poll, then the exact list).
async fn activity(app: &TestApp, token: &str, expected: usize) -> Vec<Value> {
    for _ in 0..500 {
        let reply = app.send(api("GET", "/activity", Some(token), None)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let events = reply.json()["events"].as_array().unwrap().clone();
        if events.len() >= expected {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the recorder did not write {expected} events");
}

#[tokio::test]
async fn the_activity_page_shows_each_user_their_own_sign_in_events() {
    let app = TestApp::new().await;
    app.register(ANN).await;
    app.register(BOB).await;
    let login = |who: (&str, &str, &str), password: &str| {
        with_agent(browser_post(
            "/login",
            &[("username", who.0), ("password", password)],
            None,
        ))
    };
    let mut secrets = vec![
        ANN.2.to_owned(),
        BOB.2.to_owned(),
        "not-anns-password".into(),
    ];
    let mut remember = |reply: &Reply| {
        for cookie in reply.set_cookies() {
            let value = cookie_parts(&cookie).0;
            let value = value.split_once('=').unwrap().1;
            if !value.is_empty() {
                secrets.push(value.to_owned());
            }
        }
    };

    // Ann signs in; a wrong password for her; an unknown account; Bob signs in.
    let reply = app.send(login(ANN, ANN.2)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    remember(&reply);
    let first = format!("{COOKIE}={}", cookie_value(&reply, COOKIE));
    let reply = app.send(login(ANN, "not-anns-password")).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let ghost = ("ghost@example.com", "Ghost", "whatever-password");
    let reply = app.send(login(ghost, ghost.2)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = app.send(login(BOB, BOB.2)).await;
    remember(&reply);

    // Ann's second browser: its refresh token rotated twice, then the first one replayed.
    let reply = app.send(login(ANN, ANN.2)).await;
    remember(&reply);
    let r1 = format!(
        "__Host-refresh-token={}",
        cookie_value(&reply, "__Host-refresh-token")
    );
    let mut refresh = r1.clone();
    for _ in 0..2 {
        let reply = app
            .send(with_agent(browser_get(
                "/refresh?next=%2Fposts",
                Some(&refresh),
            )))
            .await;
        assert_eq!(reply.location(), "/posts");
        remember(&reply);
        refresh = format!(
            "__Host-refresh-token={}",
            cookie_value(&reply, "__Host-refresh-token")
        );
    }
    let reply = app
        .send(with_agent(browser_get("/refresh?next=%2Fposts", Some(&r1))))
        .await;
    assert_eq!(reply.location(), "/login?next=%2Fposts");

    // Ann signs the first browser out, then a third one out everywhere.
    let reply = app
        .send(with_agent(browser_post("/logout", &[], Some(&first))))
        .await;
    assert_eq!(reply.location(), "/login");
    let reply = app.send(login(ANN, ANN.2)).await;
    remember(&reply);
    let third = format!("{COOKIE}={}", cookie_value(&reply, COOKIE));
    let reply = app
        .send(with_agent(browser_post("/logout/all", &[], Some(&third))))
        .await;
    assert_eq!(reply.location(), "/login");

    // Her activity, newest first, through an API login of hers (the last event).
    let reply = app.send(with_agent(api_login(ANN.0, ANN.2))).await;
    let token = reply.json()["access_token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    secrets.push(reply.json()["refresh_token"].as_str().unwrap().to_owned());
    let events = activity(&app, &token, 8).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "login_succeeded",
            "logout_everywhere",
            "login_succeeded",
            "logout",
            "refresh_reuse_detected",
            "login_succeeded",
            "login_failed",
            "login_succeeded",
        ],
        "{events:#?}"
    );
    assert_eq!(events[6]["reason"], "wrong_password");
    for event in &events {
        assert_eq!(event["address"], "192.0.2.44", "{event}");
        assert_eq!(event["user_agent"], AGENT, "{event}");
        assert!(event["at"].as_i64().unwrap() > 1_700_000_000, "{event}");
    }

    // Bob sees his own sign-ins only; nobody sees the unknown account's.
    let reply = app.send(api_login(BOB.0, BOB.2)).await;
    let bob = reply.json()["access_token"].as_str().unwrap().to_owned();
    let bobs = activity(&app, &bob, 2).await;
    assert_eq!(bobs.len(), 2, "{bobs:#?}");
    assert!(bobs.iter().all(|e| e["kind"] == "login_succeeded"));

    // The page, linked from every signed-in page.
    let mut page = browser_get("/activity", None);
    page.headers_mut().insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let page = app.send(page).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("Recent sign-in activity"), "{html}");
    assert_eq!(html.matches(r#"<tr class="event""#).count(), 8, "{html}");
    assert!(html.contains("Failed sign-in") && html.contains("Signed out everywhere"));
    assert!(html.contains("used twice") && html.contains(AGENT));
    let mut posts_request = browser_get("/posts", None);
    posts_request.headers_mut().insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    let posts = app.send(posts_request).await;
    assert!(
        posts.text().contains(r#"<a href="/activity">"#),
        "{}",
        posts.text()
    );

    // No password, token or refresh token in what is stored or shown.
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT COALESCE(kind, '') || ' ' || COALESCE(reason, '') || ' ' || COALESCE(subject, '')          || ' ' || COALESCE(address, '') || ' ' || COALESCE(user_agent, '') || ' ' ||          COALESCE(session_id, '') FROM auth_events",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let stored: String = rows.into_iter().map(|(r,)| r + "\n").collect();
    assert!(!stored.contains("ghost@example.com"), "{stored}");
    for secret in &secrets {
        for needle in login_test_support::needles(secret) {
            assert!(!stored.contains(needle), "stored: {needle}");
            assert!(!html.contains(needle), "shown: {needle}");
        }
    }
}

/// The user's `Debug` (what `tracing::debug!(?user)` prints) never holds the
/// password hash.
#[test]
fn user_debug_hides_the_password_hash() {
    let user = db::User {
        id: 7,
        email: "ann@example.com".into(),
        name: "Ann".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2g".into(),
    };
    let debug = format!("{user:?}");
    assert!(debug.contains("ann@example.com"), "{debug}");
    assert!(
        !debug.contains("argon2") && !debug.contains("c2FsdHNhbHRzYWx0"),
        "{debug}"
    );
}
