// Fails: a factor that is not an RFC 8176 authentication method. Routing the handler adds no second error.
use axum::Router;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(factors = ["otp", "totp"])]
async fn me(_user: User) {}

fn main() {
    let _app: Router<LoginManager> = Router::new().route("/", get(me));
}
