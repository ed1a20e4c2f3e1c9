// `#[protected(scopes = [...])]` and `optional, scopes`, including on public handlers in a
// module: the hidden marker type shares the handler's visibility.
use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use login::{LoginManager, user_loader};

#[derive(Clone)]
pub struct User {
    pub name: String,
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(subject: String) -> Option<User> {
    Some(User { name: subject })
}

mod api {
    use login::protected;

    use super::User;

    #[protected(scopes = ["items:write"])]
    pub async fn create(user: User, body: String) -> String {
        user.name + &body
    }

    #[protected(scopes = ["read", "write"], optional)]
    pub(crate) async fn feed(user: Option<User>) -> String {
        user.map(|user| user.name).unwrap_or_default()
    }

    #[protected(optional, scopes = ["https://example.com/auth/read", "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~"])]
    pub(super) async fn unusual(_user: Option<User>) {}
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/items", post(api::create))
        .route("/feed", get(api::feed))
        .route("/unusual", get(api::unusual));
}
