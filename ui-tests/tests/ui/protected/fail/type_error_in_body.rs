// Fails: a type error in the body stays on the user's expression.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected]
async fn me(user: User) -> String {
    let _user: User = user;
    42
}

fn main() {}
