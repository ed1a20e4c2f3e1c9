// Fails: `scopes` given a string instead of a list.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(scopes = "read write")]
async fn me(_user: User) {}

fn main() {}
