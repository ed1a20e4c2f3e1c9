// The subject parameter may use any binding pattern.
use axum::extract::FromRef;
use login::{LoginManager, user_loader};

#[derive(Clone)]
struct Anonymous;

#[derive(Clone)]
struct Named(String);

#[derive(Clone, FromRef)]
struct AppState {
    manager: LoginManager,
}

#[user_loader]
async fn load_anonymous(_: String) -> Option<Anonymous> {
    Some(Anonymous)
}

#[user_loader]
async fn load_named(mut subject: String) -> Option<Named> {
    subject.make_ascii_lowercase();
    Some(Named(subject))
}

fn main() {
    fn has_loader<U: login::loader::UserLoader<AppState>>() {}
    has_loader::<Anonymous>();
    has_loader::<Named>();
}
