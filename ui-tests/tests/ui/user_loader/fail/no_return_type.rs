// Fails: no return type.
use login::user_loader;

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) {}

fn main() {}
