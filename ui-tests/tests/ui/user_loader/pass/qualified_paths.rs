// The return type may be spelled with full paths, and the user type may live in a module.
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, protected, user_loader};

mod models {
    #[derive(Clone)]
    pub struct User {
        pub name: String,
    }

    #[derive(Clone)]
    pub struct Admin;
}

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_user(subject: std::string::String) -> core::option::Option<models::User> {
    Some(models::User { name: subject })
}

#[user_loader]
async fn load_admin(
    _subject: String,
) -> ::std::result::Result<::std::option::Option<crate::models::Admin>, (axum::http::StatusCode, String)>
{
    Ok(None)
}

#[protected]
async fn me(user: models::User) -> String {
    user.name
}

#[protected]
async fn admin(_: crate::models::Admin) {}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin));
}
