// Fails: the first parameter is `self`.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

struct Routes;

impl Routes {
    #[protected]
    async fn me(self) {}
}

fn main() {}
