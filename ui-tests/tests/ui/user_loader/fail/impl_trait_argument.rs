// Fails: a generic loader through `impl Trait`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String, _extra: impl Send) -> Option<User> {
    Some(User)
}

fn main() {}
