// Fails: `optional` twice.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(optional, optional)]
async fn home(_user: Option<User>) {}

fn main() {}
