//! A manager that reads the token cookie without the `__Host-` prefix warns at
//! start-up, once per process — the prefix is what stops a sibling subdomain or a plain-HTTP
//! man in the middle from planting the cookie. (Its own test binary: the warning is emitted at
//! most once per process, so no other test may build a manager first.)

use login::LoginManager;
use login_test_support::SECRET;
use login_test_support::logs;

fn warnings(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.starts_with("WARN login") && l.contains("__Host-"))
        .collect()
}

#[test]
fn unprefixed_cookie_warns_once_at_start_up() {
    let (guard, logs) = logs::capture();
    let b = || LoginManager::builder("/login").secret(SECRET);
    // The header alone, or the prefixed cookie: nothing to say.
    b().build().unwrap();
    b().use_cookie(true)
        .cookie_host_prefix(true)
        .build()
        .unwrap();
    // A refused configuration warns about nothing either.
    assert!(b().use_cookie(true).cookie_path("x").build().is_err());
    assert!(warnings(&logs.lines()).is_empty(), "{}", logs.text());
    // The unprefixed cookie (fastapi-login's `access-token`): one warning…
    b().use_cookie(true).build().unwrap();
    let lines = logs.lines();
    let found = warnings(&lines);
    assert_eq!(found.len(), 1, "{}", logs.text());
    assert!(found[0].contains("access-token"), "{}", found[0]);
    assert!(found[0].contains("cookie_host_prefix"), "{}", found[0]);
    // …and never another, however many managers the process builds.
    b().use_cookie(true).cookie_name("session").build().unwrap();
    b().use_cookie(true).build().unwrap();
    drop(guard);
    assert_eq!(warnings(&logs.lines()).len(), 1, "{}", logs.text());
}
