// Fails: `Result<User, E>` instead of `Result<Option<User>, E>`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Result<User, std::io::Error> {
    Ok(User)
}

fn main() {}
