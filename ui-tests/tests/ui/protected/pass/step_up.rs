// Step-up: `fresh`, `factors`, with scopes and `optional`, on claims-only handlers too.
use axum::Router;
use axum::routing::get;
use login::{Claims, LoginManager, protected, user_loader};

#[derive(Clone)]
struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

#[protected(fresh = "10m")]
async fn fresh(_user: User) {}

#[protected(factors = ["otp"], fresh = "30s")]
async fn both(_user: User) {}

#[protected(optional, factors = ["hwk", "mfa"])]
async fn optional(_user: Option<User>) {}

#[protected(scopes = ["admin"], factors = ["otp"])]
async fn admin(_user: User) {}

#[protected(fresh = "1d")]
async fn claims_only(claims: Claims) -> String {
    claims.sub
}

fn main() {
    let _app: Router<LoginManager> = Router::new()
        .route("/fresh", get(fresh))
        .route("/both", get(both))
        .route("/optional", get(optional))
        .route("/admin", get(admin))
        .route("/claims", get(claims_only));
}
