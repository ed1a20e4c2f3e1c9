// Fails: a user type from another crate (`Arc<User>`).
use login::user_loader;

#[derive(Clone)]
struct User;

use std::sync::Arc;

#[user_loader]
async fn load_user(_subject: String) -> Result<Option<Arc<User>>, std::convert::Infallible> {
    Ok(Some(Arc::new(User)))
}

fn main() {}
