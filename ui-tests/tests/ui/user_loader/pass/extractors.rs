// Loader arguments after the subject are axum extractors: `State<Db>`, `Extension<Pool>`,
// with patterns as in a handler.
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Extension, Router};
use login::{LoginManager, protected, user_loader};

#[derive(Clone)]
struct User {
    name: String,
}

#[derive(Clone)]
struct Db {
    prefix: String,
}

#[derive(Clone)]
struct Pool(u32);

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
    db: Db,
}

#[user_loader]
async fn load_user(
    email: String,
    State(db): State<Db>,
    Extension(Pool(size)): Extension<Pool>,
    headers: axum::http::HeaderMap,
) -> Option<User> {
    let _ = (size, headers.len());
    Some(User { name: db.prefix + &email })
}

#[protected]
async fn me(user: User) -> String {
    user.name
}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .layer(Extension(Pool(4)));
}
