// Fails: the loader is not `async`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

fn main() {}
