//! A resource server: it never sees a password. Its callers sign in at an identity provider
//! (Keycloak, Auth0, Entra ID, …) and send the access token it gave them; the manager is built
//! from the provider's issuer URL and this API's audience (feature `oidc`), and
//! `#[user_loader]` / `#[protected]` are the same as with the manager's own tokens. The user is
//! built from the token's claims: no database.
//!
//! Routes:
//! - `GET /me` (`#[protected]`): `{"sub": …, "scopes": [...]}`
//! - `GET /admin` (`#[protected(scopes = ["admin"])]`): `{"sub": …, "admin": true}`
//! - `GET /optional` (`#[protected(optional)]`): `{"sub": …}` or `{"sub": null}`
//!
//! A token the provider did not sign, for another audience, expired or naming another issuer
//! answers 401 `invalid_token`; without the scope 403 `insufficient_scope`; while the
//! provider's keys are stale past their bound (the provider unreachable for hours), 503.

use axum::routing::get;
use axum::{Json, Router};
use login::oidc::Provider;
use login::{Claims, LoginManager, protected, user_loader};
use serde_json::{Value, json};

/// The caller, from its token's claims.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The token's subject (a user, or a client in the client credentials grant).
    pub sub: String,
    /// The token's scopes (its `scope`, `scp` and roles, as the provider's settings map them).
    pub scopes: Vec<String>,
}

/// Builds the caller from the claims the manager verified (the `Claims` extractor reads the
/// verification already made for this request: nothing is verified twice).
#[user_loader]
pub async fn load_caller(sub: String, claims: Claims) -> Option<Caller> {
    Some(Caller {
        sub,
        scopes: claims.scopes,
    })
}

#[protected]
async fn me(caller: Caller) -> Json<Value> {
    Json(json!({ "sub": caller.sub, "scopes": caller.scopes }))
}

#[protected(scopes = ["admin"])]
async fn admin(caller: Caller) -> Json<Value> {
    Json(json!({ "sub": caller.sub, "admin": true }))
}

#[protected(optional)]
async fn optional(caller: Option<Caller>) -> Json<Value> {
    Json(json!({ "sub": caller.map(|c| c.sub) }))
}

/// The manager for `issuer`'s tokens meant for `audience`: roles from Keycloak's
/// `realm_access.roles` are scopes too (absent elsewhere, so harmless).
///
/// Errors: the provider's discovery or keys failed (a bad issuer URL, an issuer mismatch, the
/// provider unreachable: this example fails fast at start-up), or a manager setting.
pub async fn manager(
    issuer: &str,
    audience: &str,
) -> Result<LoginManager, Box<dyn std::error::Error + Send + Sync>> {
    let provider = Provider::new(issuer)
        .roles_claim("realm_access.roles")
        .discover()
        .await?;
    tracing::info!(
        issuer = provider.issuer(),
        jwks_uri = provider.jwks_uri(),
        kids = ?provider.kids().collect::<Vec<_>>(),
        "identity provider discovered"
    );
    Ok(LoginManager::builder("/login")
        .identity_provider(provider)
        .audience(audience)
        .build()?)
}

/// The router.
pub fn app(manager: LoginManager) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/optional", get(optional))
        .with_state(manager)
}
