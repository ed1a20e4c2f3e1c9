// Fails: scopes with characters RFC 6749 forbids (`"`, `\`, non-ASCII).
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(scopes = ["say-\"hi\"", "back\\slash", "café"])]
async fn me(_user: User) {}

fn main() {}
