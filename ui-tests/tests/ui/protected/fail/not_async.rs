// Fails: `#[protected]` on a non-async fn.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected]
fn me(_user: User) {}

fn main() {}
