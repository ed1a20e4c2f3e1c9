// Fails: a user type that is not `Clone`.
use login::user_loader;

#[derive(Clone)]
struct User;

struct Account;

#[user_loader]
async fn load_account(_subject: String) -> Option<Account> {
    Some(Account)
}

fn main() {}
