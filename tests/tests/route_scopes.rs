//! Scope names in `#[protected(scopes = [...])]` are checked against the manager's declared
//! scopes at start-up: a typo fails `build()` with the handler and the scope, instead of
//! answering 403 to everyone. (Its own test binary: the registry spans the whole binary.)

use login::{ConfigError, LoginManager, protected, user_loader};
use login_test_support::SECRET;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(scopes = ["notes:read"])]
async fn list_notes(_user: User) {}

// The typo under test.
#[protected(scopes = ["notes:wirte"])]
async fn create_note(_user: User) {}

fn builder() -> login::LoginManagerBuilder {
    LoginManager::builder("/login").secret(SECRET)
}

#[test]
fn a_typo_in_a_route_scope_fails_at_start_up_naming_the_handler_and_the_scope() {
    let error = builder()
        .scopes([("notes:read", "Read notes"), ("notes:write", "Write notes")])
        .build()
        .unwrap_err();
    let ConfigError::UnknownRouteScope {
        handler,
        location,
        scope,
        declared,
    } = &error
    else {
        panic!("expected UnknownRouteScope, got {error:?}");
    };
    assert_eq!(handler, "route_scopes::create_note");
    assert_eq!(scope, "notes:wirte");
    assert_eq!(declared, "notes:read, notes:write");
    assert!(
        location.starts_with("tests/tests/route_scopes.rs:"),
        "{location}"
    );
    let message = error.to_string();
    for part in [
        "route_scopes::create_note",
        "\"notes:wirte\"",
        "notes:write",
    ] {
        assert!(message.contains(part), "{message}");
    }
    // The route is kept in its router either way; this is only about the names.
    let _ = axum::routing::get::<_, _, LoginManager>(list_notes);
    let _ = axum::routing::get::<_, _, LoginManager>(create_note);
}

#[test]
fn known_scopes_pass_and_the_check_can_be_turned_off() {
    // With the typo's scope declared, every route scope is known.
    builder()
        .scopes([
            ("notes:read", "Read notes"),
            ("notes:wirte", "Typo, declared"),
        ])
        .build()
        .unwrap();
    // A manager that declares no scopes checks nothing.
    builder().build().unwrap();
    // A second manager with scopes of its own opts out.
    builder()
        .scopes([("admin", "Administer")])
        .check_route_scopes(false)
        .build()
        .unwrap();
}
