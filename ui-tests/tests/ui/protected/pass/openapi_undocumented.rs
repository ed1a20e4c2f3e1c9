// With the `openapi` feature, `#[protected]` without `#[utoipa::path]` still compiles without
// a warning under strict lints, also next to a documented handler of the same name in another
// module and inside a function body.
#![deny(warnings, unused_qualifications, unreachable_pub, missing_docs)]
//! Undocumented handlers.

use login::{protected, user_loader};

/// The user.
#[derive(Clone)]
pub struct User;

#[user_loader]
async fn load_user(_subject: String) -> Option<User> {
    Some(User)
}

/// Not documented.
#[protected]
pub async fn me(_user: User) {}

mod documented {
    use super::*;

    /// Documented, with the same name.
    #[protected]
    #[utoipa::path(get, path = "/me")]
    pub(crate) async fn me(_user: User) {}
}

fn main() {
    #[protected(optional)]
    async fn inner(_user: Option<User>) {}

    let _ = (me, documented::me, inner);
}
