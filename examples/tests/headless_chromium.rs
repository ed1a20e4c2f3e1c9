//! The `app` example end to end in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with fantoccini.
//!
//! The test starts the app on 127.0.0.1 with an in-memory database, an "attacker" server on
//! another port, and chromedriver; then, in the browser: registers, logs out, is sent to the
//! login page by a protected page, logs in through the form and lands back on that page,
//! writes a post, visits two attacker pages that auto-submit a form to the app (both refused,
//! nothing created), logs out, and is sent to the login page again.
//!
//! A second test covers sessions: the browser stays signed in across the token's expiry without
//! noticing (silent refresh), and a session ended from the sessions page of one browser context
//! is signed out in another. The token expires when the test moves the app's clock past it
//! (or drops its cookie, as the browser does at its `Max-Age`), not by waiting: no step
//! depends on how fast the others ran.
//!
//! A third drives the `simple` example's Swagger UI: at `/docs`, the "Authorize"
//! dialog logs John in through the OAuth2 password flow (`POST /login`), "Try it out" on
//! `/protected` shows 200 with the user; as Jane (no `write` scope), `/scoped` shows 403, and
//! `/sessions` lists her sessions with the current one marked. With
//! `LOGIN_SCREENSHOTS=DIR` it saves the dialog and the call as PNG files in `DIR`
//! (`LOGIN_SCREENSHOTS=docs` refreshes the README's pictures). The tests take turns (one
//! Chromium at a time).
//!
//! Without chromedriver the tests print a note and pass, unless `CI` is set: then they fail.
//! `CHROMEDRIVER` and `CHROMIUM` override the binaries' paths.

use std::net::{SocketAddr, TcpListener as StdListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use fantoccini::elements::Element;
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use login::{LoginManager, rejection::VerifyError};
use login_examples::app::{self, Cookies, db};
use serde_json::json;
use sqlx::SqlitePool;

const SECRET: &str = "browser-test-secret-that-is-32-bytes-or-more";
/// Every wait in the browser is bounded by this.
const STEP: Duration = Duration::from_secs(15);
/// The whole scenario, browser start-up included.
const WHOLE_TEST: Duration = Duration::from_secs(90);

/// One Chromium at a time: the scenarios run one after the other.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// chromedriver and everything it starts (Chromium and its helpers) run in their own process
/// group, killed as a whole when this guard drops, whether the test passed, failed or timed
/// out. The fresh profile directory is removed too.
struct Browser {
    driver: Child,
    dir: PathBuf,
    /// chromedriver's WebDriver port.
    port: u16,
}

impl Browser {
    fn start(chromedriver: &Path) -> Browser {
        let dir = std::env::temp_dir().join(format!(
            "login-browser-test-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(dir.join("profile")).unwrap();
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.join("chromedriver.log").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Chromium keeps its crash-report database under the XDG config directory, and
            // its crashpad handlers leave the process group: keep both inside `dir`.
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let browser = Browser { driver, dir, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + STEP;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {addr}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        browser
    }

    fn profile(&self) -> PathBuf {
        self.dir.join("profile")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pgid = self.driver.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals the process group we created for
        // chromedriver (process_group(0) made its pid the group id); no memory is involved.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
        let _ = self.driver.wait();
        // The crashpad handlers start their own sessions; find them by the directory only
        // this run uses, which their command lines name.
        for pid in processes_mentioning(&self.dir) {
            // SAFETY: as above, a signal to a process id; no memory is involved.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        if std::thread::panicking() {
            let log =
                std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
            // The log shows cookies' values; leave those out.
            let tail: Vec<&str> = log
                .lines()
                .filter(|line| !line.contains("\"value\""))
                .rev()
                .take(40)
                .collect();
            eprintln!("--- chromedriver.log (last lines) ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The ids of processes whose command line mentions `dir`.
fn processes_mentioning(dir: &Path) -> Vec<libc::pid_t> {
    let needle = dir.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: libc::pid_t = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            cmdline
                .windows(needle.len())
                .any(|w| w == needle)
                .then_some(pid)
        })
        .collect()
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Serves `router` on 127.0.0.1 and returns its port.
async fn serve(router: Router) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    port
}

/// The attacker's site: a page that submits a form to the app as soon as it loads.
fn attacker(app_port: u16) -> Router {
    let page = format!(
        r#"<!doctype html><html><body>
<h1>You won a prize!</h1>
<form id="evil" method="post" action="http://127.0.0.1:{app_port}/posts">
<input name="title" value="pwned"><input name="body" value="posted by another site">
</form>
<script>document.getElementById("evil").submit();</script>
</body></html>"#
    );
    Router::new().route("/", get(move || async move { Html(page) }))
}

fn binary(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_csrf_logout_in_headless_chromium() {
    let Some((chromedriver, chromium)) = binaries() else {
        return;
    };
    let _turn = ONE_BROWSER.lock().await;

    let started = Instant::now();
    let manager = app::manager(SECRET, Cookies::HostPrefixed).unwrap();
    let pool = app::connect("sqlite::memory:").await.unwrap();
    let app_port = serve(app::router(manager, pool.clone())).await;
    let evil_port = serve(attacker(app_port)).await;

    let browser = Browser::start(&chromedriver);
    let outcome = tokio::time::timeout(
        WHOLE_TEST,
        scenario(&browser, &chromium, app_port, evil_port, &pool),
    )
    .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("browser test failed: {e}"),
        Err(_) => panic!("browser test timed out after {WHOLE_TEST:?}"),
    }
    eprintln!("browser test took {:?}", started.elapsed());
}

type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

async fn connect(browser: &Browser, chromium: &Path) -> Result<Client> {
    connect_profile(browser, chromium, &browser.profile()).await
}

/// A browser session with its own profile: a separate browser context (its own cookies).
async fn connect_profile(browser: &Browser, chromium: &Path, profile: &Path) -> Result<Client> {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), json!("chrome"));
    capabilities.insert("pageLoadStrategy".into(), json!("normal"));
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1024,768",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let url = format!("http://127.0.0.1:{}", browser.port);
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&url)
        .await?;
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(STEP),
            Some(STEP),
            Some(Duration::ZERO),
        ))
        .await?;
    Ok(client)
}

async fn scenario(
    browser: &Browser,
    chromium: &Path,
    app_port: u16,
    evil_port: u16,
    pool: &SqlitePool,
) -> Result<()> {
    let client = connect(browser, chromium).await?;
    let result = steps(&client, app_port, evil_port, pool).await;
    // End the session (chromedriver closes Chromium); the guard kills whatever is left.
    let _ = tokio::time::timeout(STEP, client.close()).await;
    result
}

/// Polls until the browser's URL is `expected`.
/// Waits until the page holds exactly `expected` elements matching `css`.
async fn wait_for_count(client: &Client, css: &str, expected: usize) -> Result<()> {
    let deadline = Instant::now() + STEP;
    loop {
        let found = client.find_all(Locator::Css(css)).await?.len();
        if found == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            let page = body_text(client).await?;
            return Err(format!("expected {expected} × {css}, found {found}:\n{page}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_url(client: &Client, expected: &str) -> Result<()> {
    let deadline = Instant::now() + STEP;
    loop {
        let current = client.current_url().await?;
        if current.as_str() == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("expected {expected}, still at {current}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn find(client: &Client, css: &str) -> Result<Element> {
    Ok(client
        .wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await?)
}

async fn fill(client: &Client, css: &str, text: &str) -> Result<()> {
    let input = find(client, css).await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

async fn body_text(client: &Client) -> Result<String> {
    Ok(find(client, "body").await?.text().await?)
}

async fn post_titles(pool: &SqlitePool, email: &str) -> Vec<String> {
    let Some(user) = db::find_user(pool, email).await.unwrap() else {
        return Vec::new();
    };
    db::posts_of(pool, user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.title)
        .collect()
}

async fn steps(client: &Client, app_port: u16, evil_port: u16, pool: &SqlitePool) -> Result<()> {
    let app = format!("http://127.0.0.1:{app_port}");
    let email = "ann@example.com";
    let password = "correct horse battery";

    // 1. Register through the form: the account is created and the browser signed in.
    client.goto(&format!("{app}/register")).await?;
    fill(client, "#register-form input[name=email]", email).await?;
    fill(client, "#register-form input[name=name]", "Ann <Tester>").await?;
    fill(client, "#register-form input[name=password]", password).await?;
    find(client, "#register-form button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_url(client, &format!("{app}/posts")).await?;
    let whoami = find(client, "#whoami").await?.text().await?;
    assert_eq!(
        whoami, "Signed in as Ann <Tester>",
        "escaped, rendered as text"
    );

    // The cookie as Chromium stored it: __Host- prefixed, HttpOnly, Secure, SameSite=Lax,
    // accepted over http://127.0.0.1 (a loopback origin is a secure context).
    let cookies = client.get_all_cookies().await?;
    let cookie = cookies
        .iter()
        .find(|c| c.name() == "__Host-access-token")
        .ok_or_else(|| format!("no __Host-access-token cookie in {cookies:?}"))?;
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.same_site(), Some(login::cookie::SameSite::Lax));
    assert_eq!(cookie.path(), Some("/"));

    // 2. Log out: the cookie is gone.
    find(client, "#logout").await?.click().await?;
    wait_for_url(client, &format!("{app}/login")).await?;
    assert!(client.get_all_cookies().await?.is_empty());

    // 3. A protected page sends the browser to the login page with `next`...
    client.goto(&format!("{app}/posts/new")).await?;
    wait_for_url(client, &format!("{app}/login?next=%2Fposts%2Fnew")).await?;
    // ...and logging in through the form returns there.
    fill(client, "#login-form input[name=username]", email).await?;
    fill(client, "#login-form input[name=password]", password).await?;
    find(client, "#login-form button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_url(client, &format!("{app}/posts/new")).await?;

    // 4. The protected page works: write a post.
    fill(client, "#new-post-form input[name=title]", "My first post").await?;
    fill(
        client,
        "#new-post-form textarea[name=body]",
        "Hello from Chromium",
    )
    .await?;
    find(client, "#new-post-form button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_url(client, &format!("{app}/posts")).await?;
    let list = find(client, "#posts").await?.text().await?;
    assert!(list.contains("My first post"), "{list}");
    assert_eq!(post_titles(pool, email).await, ["My first post"]);

    // 5. Cross-site: a page on http://localhost:<port> is another site, so Chromium does not
    // even send the SameSite=Lax cookie with its form; the app sees no credentials and sends
    // the browser to the login page. Nothing is created.
    client
        .goto(&format!("http://localhost:{evil_port}/"))
        .await?;
    wait_for_url(client, &format!("{app}/login?next=%2Fposts")).await?;
    assert_eq!(post_titles(pool, email).await, ["My first post"]);

    // 6. Same site, other origin: a page on http://127.0.0.1:<other port> gets the cookie
    // attached (same site), and it is the library's CSRF check (Sec-Fetch-Site, Origin) that
    // refuses the request with 403 before the handler runs.
    client
        .goto(&format!("http://127.0.0.1:{evil_port}/"))
        .await?;
    wait_for_url(client, &format!("{app}/posts")).await?;
    let text = body_text(client).await?;
    assert!(text.contains("Cross-site request refused"), "{text}");
    assert_eq!(post_titles(pool, email).await, ["My first post"]);

    // The user is still signed in and their page is intact.
    client.goto(&format!("{app}/posts")).await?;
    let list = find(client, "#posts").await?.text().await?;
    assert!(
        list.contains("My first post") && !list.contains("pwned"),
        "{list}"
    );

    // 7. Log out, then a protected page sends the browser to the login page.
    find(client, "#logout").await?.click().await?;
    wait_for_url(client, &format!("{app}/login")).await?;
    client.goto(&format!("{app}/posts")).await?;
    wait_for_url(client, &format!("{app}/login?next=%2Fposts")).await?;
    find(client, "#login-form").await?;
    Ok(())
}

/// The two binaries, or `None` (with a note) when they are missing and `CI` is not set.
fn binaries() -> Option<(PathBuf, PathBuf)> {
    let chromedriver = binary("CHROMEDRIVER", "/usr/bin/chromedriver");
    let chromium = binary("CHROMIUM", "/usr/bin/chromium");
    if !chromedriver.exists() || !chromium.exists() {
        let missing = format!(
            "{} or {} is missing (apt-get install chromium chromium-driver)",
            chromedriver.display(),
            chromium.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser test cannot run: {missing}");
        }
        eprintln!("note: skipping the browser test: {missing}");
        return None;
    }
    Some((chromedriver, chromium))
}

/// The access token's lifetime in the sessions test: longer than the whole test, so that a
/// token expires only when the test moves the app's clock past it.
const LIFETIME: Duration = Duration::from_secs(600);

/// The app's clock in the sessions test: the real time, plus an offset that the test moves on.
#[derive(Clone, Default)]
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn now(&self) -> i64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        real + self.0.load(Ordering::SeqCst)
    }

    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_refresh_and_sign_out_across_browser_contexts_in_headless_chromium() {
    let Some((chromedriver, chromium)) = binaries() else {
        return;
    };
    let _turn = ONE_BROWSER.lock().await;
    let clock = Clock::default();
    let manager = app::builder(SECRET, Cookies::HostPrefixed)
        .default_lifetime(LIFETIME)
        .clock({
            let clock = clock.clone();
            move || clock.now()
        })
        .build()
        .unwrap();
    let pool = app::connect("sqlite::memory:").await.unwrap();
    let app_port = serve(app::router(manager.clone(), pool)).await;
    let browser = Browser::start(&chromedriver);
    let app = App {
        port: app_port,
        manager,
        clock,
    };
    let outcome =
        tokio::time::timeout(WHOLE_TEST, sessions_scenario(&browser, &chromium, &app)).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("browser sessions test failed: {e}"),
        Err(_) => panic!("browser sessions test timed out after {WHOLE_TEST:?}"),
    }
}

/// The app under test in the sessions test, with its manager and its clock.
struct App {
    port: u16,
    manager: LoginManager,
    clock: Clock,
}

async fn sessions_scenario(browser: &Browser, chromium: &Path, app: &App) -> Result<()> {
    let a = connect_profile(browser, chromium, &browser.dir.join("profile-a")).await?;
    let b = match connect_profile(browser, chromium, &browser.dir.join("profile-b")).await {
        Ok(b) => b,
        Err(e) => {
            let _ = tokio::time::timeout(STEP, a.close()).await;
            return Err(e);
        }
    };
    let result = session_steps(&a, &b, app).await;
    let _ = tokio::time::timeout(STEP, a.close()).await;
    let _ = tokio::time::timeout(STEP, b.close()).await;
    result
}

async fn access_cookie(client: &Client) -> Result<Option<String>> {
    let cookies = client.get_all_cookies().await?;
    Ok(cookies
        .iter()
        .find(|c| c.name() == "__Host-access-token")
        .map(|c| c.value().to_owned()))
}

async fn session_steps(a: &Client, b: &Client, under_test: &App) -> Result<()> {
    let app = format!("http://127.0.0.1:{}", under_test.port);
    let email = "sam@example.com";
    let password = "correct horse battery";

    // 1. Context A registers: signed in.
    a.goto(&format!("{app}/register")).await?;
    fill(a, "#register-form input[name=email]", email).await?;
    fill(a, "#register-form input[name=name]", "Sam").await?;
    fill(a, "#register-form input[name=password]", password).await?;
    find(a, "#register-form button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_url(a, &format!("{app}/posts")).await?;
    let first = access_cookie(a)
        .await?
        .ok_or("no access cookie after registering")?;

    // 2. Silent refresh: once the access token has expired, a protected page still opens,
    // signed in, with a new access token. First the app's clock passes the token's expiry
    // (the browser still sends it, the app refuses it)...
    under_test.clock.advance(LIFETIME + Duration::from_secs(1));
    assert_eq!(
        under_test.manager.verify_token(&first),
        Err(VerifyError::Expired)
    );
    a.goto(&format!("{app}/posts/new")).await?;
    wait_for_url(a, &format!("{app}/posts/new")).await?;
    find(a, "#new-post-form").await?;
    assert_eq!(find(a, "#whoami").await?.text().await?, "Signed in as Sam");
    let second = access_cookie(a)
        .await?
        .ok_or("no access cookie after the refresh")?;
    assert_ne!(first, second);
    // ...then the cookie is gone, as when the browser drops it at its `Max-Age`.
    a.delete_cookie("__Host-access-token").await?;
    assert_eq!(access_cookie(a).await?, None, "the access cookie is gone");
    a.goto(&format!("{app}/posts")).await?;
    wait_for_url(a, &format!("{app}/posts")).await?;
    assert_eq!(find(a, "#whoami").await?.text().await?, "Signed in as Sam");
    let third = access_cookie(a)
        .await?
        .ok_or("no access cookie after the second refresh")?;
    assert_ne!(second, third);

    // 3. Context B (another browser) logs in as the same user.
    b.goto(&format!("{app}/login")).await?;
    fill(b, "#login-form input[name=username]", email).await?;
    fill(b, "#login-form input[name=password]", password).await?;
    find(b, "#login-form button[type=submit]")
        .await?
        .click()
        .await?;
    wait_for_url(b, &format!("{app}/posts")).await?;

    // 4. A's sessions page lists both; A signs B's session out.
    a.goto(&format!("{app}/sessions")).await?;
    wait_for_url(a, &format!("{app}/sessions")).await?;
    let listed = a.find_all(Locator::Css("li.session")).await?;
    assert_eq!(listed.len(), 2, "{}", body_text(a).await?);
    find(a, r#"li.session[data-current="false"] button.end-session"#)
        .await?
        .click()
        .await?;
    // The form posts and comes back to the same URL: wait for the new page's list, not the URL
    // (the old page still answers at first).
    wait_for_count(a, "li.session", 1).await?;

    // 5. B is signed out at its next request (its access token refused, its refresh token
    // too), whether or not its access token had expired.
    b.goto(&format!("{app}/posts")).await?;
    wait_for_url(b, &format!("{app}/login?next=%2Fposts")).await?;

    // 6. "Sign out everywhere" from A: A is signed out too, and stays so.
    find(a, "#logout-all").await?.click().await?;
    wait_for_url(a, &format!("{app}/login")).await?;
    a.goto(&format!("{app}/posts")).await?;
    wait_for_url(a, &format!("{app}/login?next=%2Fposts")).await?;
    Ok(())
}

// ----- the `simple` example's Swagger UI ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_authorize_and_try_it_out_in_headless_chromium() {
    let Some((chromedriver, chromium)) = binaries() else {
        return;
    };
    let _turn = ONE_BROWSER.lock().await;

    let started = Instant::now();
    let manager = login_examples::simple::manager(SECRET).unwrap();
    let app_port = serve(login_examples::simple::app(
        manager,
        login_examples::simple::Db::demo(),
    ))
    .await;

    let browser = Browser::start(&chromedriver);
    let outcome = tokio::time::timeout(WHOLE_TEST, async {
        let client = connect(&browser, &chromium).await?;
        let result = swagger_steps(&client, app_port).await;
        let _ = tokio::time::timeout(STEP, client.close()).await;
        result
    })
    .await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("Swagger UI browser test failed: {e}"),
        Err(_) => panic!("Swagger UI browser test timed out after {WHOLE_TEST:?}"),
    }
    eprintln!("Swagger UI browser test took {:?}", started.elapsed());
}

/// Polls until the element at `css` shows text containing `needle`; returns the text.
async fn wait_for_text(client: &Client, css: &str, needle: &str) -> Result<String> {
    let deadline = Instant::now() + STEP;
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return Ok(text);
        }
        if Instant::now() > deadline {
            return Err(format!("expected {needle:?} in {css}, found {text:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a screenshot as `DIR/name` when `LOGIN_SCREENSHOTS=DIR` is set.
async fn screenshot(client: &Client, name: &str) -> Result<()> {
    let Some(dir) = std::env::var_os("LOGIN_SCREENSHOTS") else {
        return Ok(());
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(name), client.screenshot().await?)?;
    Ok(())
}

/// Opens the Authorize dialog and logs in through the OAuth2 password flow (Swagger UI posts
/// the form to the scheme's `tokenUrl`, `/login`), then closes the dialog.
async fn authorize(
    client: &Client,
    username: &str,
    password: &str,
    shot: Option<&str>,
) -> Result<()> {
    find(client, ".auth-wrapper .authorize")
        .await?
        .click()
        .await?;
    find(client, ".dialog-ux .modal-ux").await?;
    // Logged in already (as someone else): log out of the OAuth2 scheme first.
    if let Ok(logout) = client
        .find(Locator::Css(r#"button[aria-label="Remove authorization"]"#))
        .await
    {
        logout.click().await?;
    }
    fill(client, "#oauth_username", username).await?;
    fill(client, "#oauth_password", password).await?;
    if let Some(name) = shot {
        screenshot(client, name).await?;
    }
    find(
        client,
        r#"button[aria-label="Apply given OAuth2 credentials"]"#,
    )
    .await?
    .click()
    .await?;
    // Authorized: the dialog shows the user name and offers to log out.
    find(client, r#"button[aria-label="Remove authorization"]"#).await?;
    let dialog = find(client, ".dialog-ux .modal-ux").await?.text().await?;
    if !dialog.contains("Authorized") || !dialog.contains(username) {
        return Err(format!("the dialog does not show {username} authorized: {dialog}").into());
    }
    find(client, ".dialog-ux .btn-done").await?.click().await?;
    Ok(())
}

/// Expands the operation `id`, clicks "Try it out" (once) and "Execute"; returns the status
/// and the body Swagger UI shows.
async fn try_it_out(client: &Client, id: &str, expected_status: &str) -> Result<String> {
    let block = format!("#operations-default-{id}");
    if client
        .find(Locator::Css(&format!("{block} .try-out__btn")))
        .await
        .is_err()
    {
        find(client, &format!("{block} .opblock-summary-control"))
            .await?
            .click()
            .await?;
    }
    let try_out = find(client, &format!("{block} .try-out__btn")).await?;
    if try_out.text().await?.trim() == "Try it out" {
        try_out.click().await?;
    }
    find(client, &format!("{block} .execute"))
        .await?
        .click()
        .await?;
    let status_css = format!("{block} .live-responses-table .response .response-col_status");
    wait_for_text(client, &status_css, expected_status).await?;
    let body_css = format!("{block} .live-responses-table .response-col_description pre");
    Ok(find(client, &body_css).await?.text().await?)
}

async fn swagger_steps(client: &Client, app_port: u16) -> Result<()> {
    let app = format!("http://127.0.0.1:{app_port}");
    client.set_window_size(1280, 900).await?;
    client.goto(&format!("{app}/docs")).await?;
    wait_for_url(client, &format!("{app}/docs/")).await?;
    wait_for_text(
        client,
        ".information-container .title",
        "login: the simple example",
    )
    .await?;

    // John: every scope, `/protected` answers 200 with him.
    authorize(
        client,
        "johndoe@mail.com",
        "hunter2",
        Some("swagger-authorize.png"),
    )
    .await?;
    let body = try_it_out(client, "protected_route", "200").await?;
    if !body.contains("johndoe@mail.com") || !body.contains("John Doe") {
        return Err(format!("/protected did not answer with John: {body}").into());
    }
    client
        .execute(
            "document.querySelector('#operations-default-protected_route .live-responses-table')\
             .scrollIntoView({ block: 'center' })",
            Vec::new(),
        )
        .await?;
    screenshot(client, "swagger-try-it-out.png").await?;

    // Jane: no `write` scope, `/scoped` answers 403 in the page.
    authorize(client, "janedoe@mail.com", "jane-secret-pw", None).await?;
    let body = try_it_out(client, "scoped_route", "403").await?;
    if !body.contains("Insufficient scope") {
        return Err(format!("/scoped did not refuse Jane: {body}").into());
    }
    // The session routes are documented and authorized like the app's own: Jane's sessions
    // list, with the one Swagger UI logged in marked as current.
    let body = try_it_out(client, "list_sessions", "200").await?;
    if !body.contains("\"sessions\"") || !body.contains("\"current\": true") {
        return Err(format!("/sessions did not list Jane's current session: {body}").into());
    }
    Ok(())
}
