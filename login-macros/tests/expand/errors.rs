// Inputs for the expansion snapshots (not compiled): misuse fails soft, the item is kept.

#[user_loader]
fn not_async(subject: String) -> Option<User> {
    None
}

#[user_loader]
async fn orphan(subject: String) -> Option<Arc<User>> {
    None
}

#[protected(foo)]
async fn unknown_argument(user: User) {}

#[protected(optional)]
async fn optional_without_option(user: User) {}
