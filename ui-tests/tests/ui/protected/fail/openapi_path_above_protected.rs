// Fails: `#[utoipa::path]` above `#[protected]` has expanded before `#[protected]` runs, so
// the route would be documented without its security; the error says which order to write.
use login::{protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[utoipa::path(get, path = "/me")]
#[protected]
async fn me(_user: User) {}

fn main() {}
