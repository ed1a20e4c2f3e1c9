// Fails: a generic loader.
use login::user_loader;

#[derive(Clone)]
struct User;

use axum::extract::State;

#[user_loader]
async fn load_user<S: Clone + Send + Sync + 'static>(_subject: String, State(_s): State<S>) -> Option<User> {
    Some(User)
}

fn main() {}
