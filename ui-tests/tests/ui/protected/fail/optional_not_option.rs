// Fails: `optional` whose first parameter is not an `Option`.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(optional)]
async fn home(_user: User) {}

fn main() {}
