// Fails: the user parameter is not a named type.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected]
async fn me(_user: &User) {}

fn main() {}
