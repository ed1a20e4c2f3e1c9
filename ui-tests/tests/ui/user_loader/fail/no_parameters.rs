// Fails: no parameter for the subject.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user() -> Option<User> {
    Some(User)
}

fn main() {}
