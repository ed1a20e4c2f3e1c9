// `#[protected]`: the first parameter receives the authenticated user; the handler routes.
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(subject: String) -> Option<User> {
    Some(User { name: subject })
}

#[protected]
async fn me(user: User) -> String {
    user.name
}

// Any pattern works in the user's place.
#[protected]
async fn destructured(User { name }: User, body: String) -> String {
    name + &body
}

#[protected]
async fn mutable(mut user: User) -> String {
    user.name.push('!');
    user.name
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/destructured", get(destructured))
        .route("/mutable", get(mutable));
}
