// Fails: a non-async fn that returns a future. axum takes it as it is, so `async` is not
// added; routing the handler adds no second error.
use std::future::Future;

use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected]
fn me(_user: User) -> impl Future<Output = &'static str> + Send {
    async { "hello" }
}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/", get(me));
}
