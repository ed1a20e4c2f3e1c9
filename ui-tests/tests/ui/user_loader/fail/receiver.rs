// Fails: the loader is a method.
use login::user_loader;

#[derive(Clone)]
struct User;

struct Db;

impl Db {
    #[user_loader]
    async fn load_user(&self, _subject: String) -> Option<User> {
        Some(User)
    }
}

fn main() {}
