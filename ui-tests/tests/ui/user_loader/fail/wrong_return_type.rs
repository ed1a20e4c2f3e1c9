// Fails: a return type that is neither `Option<User>` nor `Result<Option<User>, E>`. A stand-in loader keeps the handlers of `User` routable.
use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> User {
    User
}

#[protected]
async fn me(_user: User) {}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/me", get(me));
}
