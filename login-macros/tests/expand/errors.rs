// Inputs for the expansion snapshots (not compiled): misuse fails soft, with a best guess
// next to the error.

// The function as written, and a stand-in loader for its user type.
#[user_loader]
fn not_async(subject: String) -> Option<User> {
    None
}

// The user type is guessed from any return type.
#[user_loader]
async fn not_an_option(subject: String) -> Result<User, DbError> {
    Ok(User)
}

// No loader impl can be written for a foreign type: the function as written.
#[user_loader]
async fn orphan(subject: String) -> Option<Arc<User>> {
    None
}

// Arguments change nothing: the loader is expanded as usual.
#[user_loader(User)]
async fn with_arguments(subject: String) -> Option<User> {
    None
}

// The parameter's type decides: `MaybeUser`.
#[protected(foo)]
async fn unknown_argument(user: Option<User>) {}

// What parses is kept: `optional`, without the malformed `scopes`.
#[protected(optional, scopes = "read")]
async fn malformed_scopes(user: Option<User>) {}

// Invalid scopes: no marker type, the user is still received.
#[protected(scopes = ["read write"])]
async fn invalid_scope(user: User) {}

// The parameter's type decides: `AuthUser`.
#[protected(optional)]
async fn optional_without_option(user: User) {}

// `async` is added.
#[protected]
fn not_async(user: User) -> String {
    String::new()
}

// Already returns a future: kept as it is.
#[protected]
fn returns_future(user: User) -> impl Future<Output = String> {
    async { String::new() }
}

// `&User`: received as `User`, bound by reference.
#[protected]
async fn by_reference(user: &User) {}

// Nothing to receive the user: the function as written.
#[protected(scopes = ["read"])]
async fn no_parameter() {}

// A duration without a unit and a factor RFC 8176 does not know: both reported, neither kept.
#[protected(fresh = "10", factors = ["totp"])]
async fn bad_step_up(user: User) {}
