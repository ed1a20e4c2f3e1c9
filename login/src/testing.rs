//! Helpers for testing your protected routes.
//!
//! Mint a real token with the same manager your router uses, then send it as a header or a
//! cookie. Nothing is mocked: the request goes through the same verification as in production.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{Router, body::Body, extract::State, http::{Request, StatusCode}, routing::get};
//! use login::{AuthUser, LoginManager, loader::UserLoader, testing};
//! use tower::ServiceExt;
//!
//! #[derive(Clone)]
//! struct User(String);
//! impl login::loader::HasUserLoader for User { type Manager = LoginManager; }
//! impl UserLoader<LoginManager> for User {
//!     async fn load_user(sub: String, _: &mut axum::http::request::Parts, _: &LoginManager)
//!         -> Result<Option<Self>, axum::response::Response> { Ok(Some(User(sub))) }
//! }
//! async fn me(AuthUser(user): AuthUser<User>) -> String { user.0 }
//!
//! let manager = LoginManager::new("test-secret-that-is-32-bytes-long", "/login")?;
//! let app = Router::new().route("/me", get(me)).with_state(manager.clone());
//!
//! let request = Request::get("/me")
//!     .header("authorization", testing::bearer(&manager, "alice", &[])?)
//!     .body(Body::empty())?;
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! # Ok(()) }
//! ```

use axum::http::HeaderValue;

use crate::{LoginManager, TokenError, TokenRequest};

/// An `Authorization` header value, `Bearer <token>`, for `subject` with `scopes`.
pub fn bearer(
    manager: &LoginManager,
    subject: &str,
    scopes: &[&str],
) -> Result<HeaderValue, TokenError> {
    let token =
        manager.create_access_token(TokenRequest::new(subject).scopes(scopes.iter().copied()))?;
    Ok(HeaderValue::from_str(&format!("Bearer {token}")).expect("a JWT is a valid header value"))
}

/// A `Cookie` header value carrying a token for `subject` with `scopes` under the manager's
/// cookie name.
pub fn cookie(
    manager: &LoginManager,
    subject: &str,
    scopes: &[&str],
) -> Result<HeaderValue, TokenError> {
    let token =
        manager.create_access_token(TokenRequest::new(subject).scopes(scopes.iter().copied()))?;
    Ok(
        HeaderValue::from_str(&format!("{}={token}", manager.cookie_name()))
            .expect("a cookie name and a JWT form a valid header value"),
    )
}
