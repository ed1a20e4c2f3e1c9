// Fails: two loaders for the same user type.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[user_loader]
async fn load_user_again(_subject: String) -> Option<User> {
    None
}

fn main() {}
