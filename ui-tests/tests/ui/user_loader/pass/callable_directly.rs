// The loader stays an ordinary function: a login route (or anything else) can call it.
use axum::extract::{FromRef, State};
use login::{LoginManager, user_loader};

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    email: String,
}

#[derive(Clone)]
pub struct Db;

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

/// Docs and other attributes stay on the function.
#[user_loader]
#[must_use]
pub async fn load_user(email: String, State(_db): State<Db>) -> Option<User> {
    (email == "john@mail.com").then_some(User { email })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let found = runtime.block_on(load_user("john@mail.com".to_owned(), State(Db)));
    assert_eq!(found, Some(User { email: "john@mail.com".to_owned() }));
    let missing = runtime.block_on(load_user("jane@mail.com".to_owned(), State(Db)));
    assert_eq!(missing, None);
}
