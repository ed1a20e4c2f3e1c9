// Fails: a freshness duration over 30 days. Routing the handler adds no second error.
use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(fresh = "90d")]
async fn me(_user: User) {}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/", get(me));
}
