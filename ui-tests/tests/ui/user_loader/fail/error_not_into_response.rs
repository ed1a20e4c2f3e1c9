// Fails: a loader error type that is not `IntoResponse`.
use login::user_loader;

#[derive(Clone)]
struct User;

struct DbError;

#[user_loader]
async fn load_user(_subject: String) -> Result<Option<User>, DbError> {
    Err(DbError)
}

fn main() {}
