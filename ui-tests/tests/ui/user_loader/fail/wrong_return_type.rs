// Fails: a return type that is neither `Option<User>` nor `Result<Option<User>, E>`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> User {
    User
}

fn main() {}
