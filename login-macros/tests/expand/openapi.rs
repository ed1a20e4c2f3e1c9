// Inputs for the expansion snapshots, expanded as with the `openapi` feature (not compiled).

/// Above `#[utoipa::path]`: the security requirement and the 401 are added.
#[protected]
#[utoipa::path(get, path = "/me", responses((status = 200, body = User)))]
pub async fn me(user: User) -> Json<User> {
    Json(user)
}

/// Scopes: in the requirement, and the 403 too.
#[protected(scopes = ["items:write"])]
#[utoipa::path(post, path = "/items", request_body = Item)]
async fn create(user: User, Json(item): Json<Item>) -> StatusCode {
    StatusCode::CREATED
}

/// Optional: the empty requirement too, and no error response.
#[protected(optional)]
#[utoipa::path(get, path = "/", responses((status = 200, body = String)))]
async fn home(user: Option<User>) -> String {
    String::new()
}

/// A `security(...)` the user wrote is kept; their own 401 wins over ours (it comes after).
#[protected]
#[utoipa::path(get, path = "/key", security(("api_key" = [])), responses((status = 401, description = "No key")))]
async fn with_key(user: User) {}

/// No `#[utoipa::path]` under the attribute: the check that there is none above it.
#[protected]
async fn undocumented(user: User) {}

/// Step-up: the 401 is `StepUpRequired` (RFC 9470's challenge as well as RFC 6750's).
#[protected(fresh = "5m")]
#[utoipa::path(get, path = "/fresh")]
async fn fresh(user: User) {}
