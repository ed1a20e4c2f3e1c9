// Fails: a user type from another crate (`String`).
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(subject: String) -> Option<String> {
    Some(subject)
}

fn main() {}
