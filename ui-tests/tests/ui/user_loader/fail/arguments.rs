// Fails: arguments given to `#[user_loader]`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader(User)]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

fn main() {}
