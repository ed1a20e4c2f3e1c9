// Fails: a misspelled `optional`. With malformed arguments the parameter's type decides, so
// `Option<User>` is received as the optional user: no second error about `Option`, and
// routing the handler adds none either.
use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(optinal)]
async fn home(user: Option<User>) -> &'static str {
    if user.is_some() { "hello" } else { "who are you?" }
}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/", get(home));
}
