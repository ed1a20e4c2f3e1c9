// Fails: the loader is `unsafe`.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async unsafe fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

fn main() {}
