// Fails: a loader whose future is not `Send`.
use login::user_loader;

#[derive(Clone)]
struct User;

use std::rc::Rc;

async fn yield_now() {}

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    let not_send = Rc::new(());
    yield_now().await;
    drop(not_send);
    Some(User)
}

fn main() {}
