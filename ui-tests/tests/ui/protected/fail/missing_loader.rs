// Fails: a protected user type without a `#[user_loader]`.
use login::protected;

#[derive(Clone)]
struct User;

#[protected]
async fn me(_user: User) {}

#[protected(optional, scopes = ["read"])]
async fn home(_user: Option<User>) {}

fn main() {}
