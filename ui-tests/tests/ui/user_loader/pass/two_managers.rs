// Two managers in one state: each user type names its own; handlers of both route, with
// `#[axum::debug_handler]` too, and the per-manager extractors take the manager's type.
use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::{get, post};
use login::{extract::ClaimsOf, LoginManager, refresh::RefreshRequest, extract::SameOrigin, define_manager, protected, user_loader};

define_manager!(pub Admins);

mod staff {
    login::define_manager!(
        /// Documented, in another module, with a path to name it by.
        pub Staff
    );
}

#[derive(Clone)]
struct User;
#[derive(Clone)]
struct Admin;
#[derive(Clone)]
struct Clerk;

#[derive(Clone, FromRef)]
struct AppState {
    users: LoginManager,
    admins: Admins,
    staff: staff::Staff,
}

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[user_loader(manager = Admins)]
async fn load_admin(_subject: String, State(_admins): State<Admins>) -> Option<Admin> {
    Some(Admin)
}

#[user_loader(manager = staff::Staff,)]
async fn load_clerk(_subject: String) -> Option<Clerk> {
    Some(Clerk)
}

#[protected]
async fn me(_user: User) {}

#[protected(scopes = ["admin"])]
#[axum::debug_handler(state = AppState)]
async fn admin(_admin: Admin) {}

#[protected(optional)]
async fn desk(_clerk: Option<Clerk>) {}

async fn claims(_: ClaimsOf<Admins>, _: Option<ClaimsOf<staff::Staff>>) {}

async fn admin_login(_: SameOrigin<Admins>) {}

async fn admin_refresh(_: RefreshRequest<Admins>) {}

fn main() {
    let _app: Router<AppState> = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/desk", get(desk))
        .route("/claims", get(claims))
        .route("/admin/login", post(admin_login))
        .route("/admin/refresh", post(admin_refresh))
        .route("/admin/refresh2", post(login::refresh::refresh_route_for::<Admins>));
}
