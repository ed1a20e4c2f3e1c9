// Fails: the user type's manager is not reachable from the router's state. With
// `#[axum::debug_handler]`, rustc names the missing `FromRef` (without it, only that the
// handler is not a `Handler`).
use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use login::{LoginManager, define_manager, protected, user_loader};

define_manager!(pub Admins);

#[derive(Clone)]
struct Admin;

#[derive(Clone, FromRef)]
struct AppState {
    users: LoginManager,
}

#[user_loader(manager = Admins)]
async fn load_admin(_subject: String) -> Option<Admin> {
    Some(Admin)
}

#[protected]
#[axum::debug_handler(state = AppState)]
async fn admin(_admin: Admin) {}

fn main() {
    let _app: Router<AppState> = Router::new().route("/admin", get(admin));
}
