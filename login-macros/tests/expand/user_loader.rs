// Inputs for the expansion snapshots (not compiled): each `#[user_loader]` item is expanded.

/// The loader with extractor arguments, as in the design brief.
#[user_loader]
pub async fn load_user(email: String, State(db): State<Db>, Extension(pool): Extension<Pool>) -> Option<User> {
    db.find(&email).await
}

#[user_loader]
async fn load_account(id: std::string::String) -> ::core::result::Result<Option<crate::Account>, DbError> {
    Ok(None)
}
