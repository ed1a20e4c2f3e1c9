// Inputs for the expansion snapshots (not compiled): each `#[protected]` item is expanded.

/// Requires a user; everything but the first parameter is left as written.
#[protected]
#[tracing::instrument(skip_all)]
pub async fn protected_route(user: User) -> Json<Value> {
    Json(json!({ "user": user }))
}

#[protected(optional)]
async fn optional_route(mut user: Option<User>) -> impl IntoResponse {
    user.take().map(|user| user.name).unwrap_or_default()
}

#[protected(scopes = ["items:write"])]
pub(crate) async fn scoped_route(user: User, Json(item): Json<Item>) -> StatusCode {
    StatusCode::CREATED
}

#[protected(optional, scopes = ["read", "write"])]
async fn optional_scoped(User { name, .. }: Option<User>, State(db): State<Db>) -> String {
    name
}

#[protected]
async fn generic_handler<S: Clone>(user: crate::models::User, State(state): State<S>) {}

// Step-up: a login of the last ten minutes (`MAX_AGE`), no scope to register.
#[protected(fresh = "10m")]
async fn fresh_route(user: User) {}

// Step-up with scopes: `SCOPES`, `FACTORS` and the registration.
#[protected(scopes = ["admin"], factors = ["otp"])]
async fn second_factor(user: User) {}
