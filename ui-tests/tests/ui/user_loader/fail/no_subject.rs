// Fails: the first parameter is an extractor, not the subject.
use login::user_loader;

#[derive(Clone)]
struct User;

use axum::extract::State;

#[derive(Clone)]
struct Db;

#[user_loader]
async fn load_user(State(_db): State<Db>) -> Option<User> {
    Some(User)
}

fn main() {}
