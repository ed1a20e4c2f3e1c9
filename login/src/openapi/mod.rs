//! OpenAPI documentation with [utoipa](https://docs.rs/utoipa) 5 (feature `openapi`): what
//! fastapi-login's `OAuth2PasswordBearer` gives a FastAPI app, for an axum app.
//!
//! - [`LoginSecurity`], a [`utoipa::Modify`] built from the manager, declares its security
//!   schemes: `OAuth2PasswordBearer` (the OAuth2 password flow: `tokenUrl` = the manager's token URL,
//!   the scopes and their descriptions) when the manager reads the `Authorization` header, and
//!   `APIKeyCookie` (an API key in the manager's cookie) when it reads the cookie.
//! - `#[protected]` documents the route: above a `#[utoipa::path(...)]`, it adds the route's
//!   security requirement (the scopes of `scopes = [...]`; for `optional`, the empty
//!   requirement too) and the [`Unauthorized`] and [`Forbidden`] responses, unless the
//!   attribute already has its own.
//! - The login route's types: [`OAuth2PasswordForm`](crate::OAuth2PasswordForm) and
//!   [`TokenResponse`](crate::TokenResponse) are schemas, and
//!   [`LoginResponses`] lists the token endpoint's answers; for the refresh route,
//!   [`RefreshForm`] and [`RefreshResponses`].
//!
//! ```
//! use axum::Json;
//! use login::openapi::{LoginResponses, LoginSecurity};
//! use login::{LoginManager, OAuth2PasswordForm, protected, user_loader};
//! use utoipa::{Modify, OpenApi};
//!
//! #[derive(Clone, serde::Serialize, utoipa::ToSchema)]
//! struct User { email: String }
//!
//! #[user_loader]
//! async fn load_user(email: String) -> Option<User> { Some(User { email }) }
//!
//! /// The current user.
//! #[protected(scopes = ["read"])]
//! #[utoipa::path(get, path = "/me", responses((status = 200, body = User)))]
//! async fn me(user: User) -> Json<User> { Json(user) }
//!
//! /// Log in (OAuth2 password grant).
//! #[utoipa::path(post, path = "/login", responses(LoginResponses),
//!     request_body(content = OAuth2PasswordForm, content_type = "application/x-www-form-urlencoded"))]
//! async fn login() {}
//!
//! #[derive(OpenApi)]
//! #[openapi(paths(me, login))]
//! struct ApiDoc;
//!
//! # fn main() -> Result<(), login::ConfigError> {
//! let manager = LoginManager::builder("/login")
//!     .secret("a-32-byte-or-longer-secret-from-env!")
//!     .scopes([("read", "Read your data")])
//!     .build()?;
//! let mut api = ApiDoc::openapi();
//! LoginSecurity::new(&manager).modify(&mut api);
//! let doc = serde_json::to_value(&api).unwrap();
//! let scheme = &doc["components"]["securitySchemes"]["OAuth2PasswordBearer"];
//! assert_eq!(scheme["flows"]["password"]["tokenUrl"], "/login");
//! assert_eq!(doc["paths"]["/me"]["get"]["security"][0]["OAuth2PasswordBearer"][0], "read");
//! assert!(doc["paths"]["/me"]["get"]["responses"]["403"].is_object());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use utoipa::Modify;
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, Flow, OAuth2, Password, Scopes, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{OpenApi, PathItem, path::Operation};

use crate::manager::LoginManager;

mod responses;
mod serve;

#[cfg(feature = "mfa")]
pub use responses::SecondStepResponses;
pub use responses::{
    CrossSiteRefused, Forbidden, LoginResponses, RefreshForm, RefreshResponses, StepUpRequired,
    Unauthorized,
};
pub use serve::Docs;

/// The name of the OAuth2 password-flow security scheme (FastAPI's default name for an
/// `OAuth2PasswordBearer`), present when the manager reads the `Authorization` header.
/// `#[protected]` names it in the security requirements it writes.
pub(crate) const OAUTH2_SCHEME: &str = "OAuth2PasswordBearer";

/// The name of the API-key security scheme for the token cookie (FastAPI's default name for an
/// `APIKeyCookie`), present when the manager reads the cookie. `#[protected]` names it in the
/// security requirements it writes.
pub(crate) const COOKIE_SCHEME: &str = "APIKeyCookie";

/// Declares a [`LoginManager`]'s security schemes in an OpenAPI document (a [`utoipa::Modify`]).
///
/// - `OAuth2PasswordBearer`, when the manager reads the `Authorization: Bearer` header: the OAuth2
///   password flow with `tokenUrl` = [`LoginManager::token_url`], the manager's scopes with
///   their descriptions, and `refreshUrl` = [`LoginManager::refresh_path`] when the manager
///   has sessions (or the [`refresh_url`](Self::refresh_url) set here). Swagger UI's
///   "Authorize" button logs in through it.
/// - `APIKeyCookie`, when the manager reads the cookie: an API key in the cookie named
///   [`LoginManager::cookie_name`].
///
/// It also drops, from every operation, the security requirements that name one of these two
/// schemes when the manager does not use it (`#[protected]` writes both, since it cannot know
/// the manager's sources), so the document names only schemes it declares.
#[derive(Debug, Clone)]
pub struct LoginSecurity {
    token_url: String,
    refresh_url: Option<String>,
    scopes: Vec<(String, String)>,
    header: bool,
    cookie: Option<String>,
}

impl LoginSecurity {
    /// The schemes of `manager`, as it is configured now: with sessions, the password flow's
    /// `refreshUrl` is the manager's [`refresh_path`](LoginManager::refresh_path).
    pub fn new(manager: &LoginManager) -> Self {
        LoginSecurity {
            token_url: manager.token_url().to_owned(),
            refresh_url: manager.refresh_path().map(str::to_owned),
            scopes: manager
                .scopes()
                .map(|(scope, description)| (scope.to_owned(), description.to_owned()))
                .collect(),
            header: manager.reads_header(),
            cookie: manager
                .reads_cookie()
                .then(|| manager.cookie_name().to_owned()),
        }
    }

    /// The OAuth2 flow's `refreshUrl`: where a client exchanges a refresh token for a new
    /// access token (by default the manager's refresh path when it has sessions; set it when
    /// the route is served elsewhere, behind a prefix or on another host).
    pub fn refresh_url(mut self, url: impl Into<String>) -> Self {
        self.refresh_url = Some(url.into());
        self
    }

    /// The security schemes by name (what [`modify`](Modify::modify) adds to the document's
    /// components).
    pub fn schemes(&self) -> BTreeMap<String, SecurityScheme> {
        let mut schemes = BTreeMap::new();
        if self.header {
            let scopes = Scopes::from_iter(self.scopes.iter().cloned());
            let flow = match &self.refresh_url {
                Some(refresh) => {
                    Password::with_refresh_url(self.token_url.clone(), scopes, refresh.clone())
                }
                None => Password::new(self.token_url.clone(), scopes),
            };
            let description = format!(
                "Log in at `{}` (OAuth2 password grant: the form fields `username`, `password` \
                 and optional `scope`), then send the access token as \
                 `Authorization: Bearer <token>`.",
                self.token_url
            );
            schemes.insert(
                OAUTH2_SCHEME.to_owned(),
                SecurityScheme::OAuth2(OAuth2::with_description(
                    [Flow::Password(flow)],
                    description,
                )),
            );
        }
        if let Some(cookie) = &self.cookie {
            let description = format!(
                "The access token in the `{cookie}` cookie, set by a cookie login route. \
                 Requests that change state and carry the cookie must come from the app's \
                 own origin."
            );
            schemes.insert(
                COOKIE_SCHEME.to_owned(),
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    cookie.clone(),
                    description,
                ))),
            );
        }
        schemes
    }

    /// Whether a requirement names only schemes this manager has (other schemes are the
    /// app's own business).
    fn keeps(&self, requirement: &SecurityRequirement) -> bool {
        let Ok(names) = serde_json::to_value(requirement) else {
            return true;
        };
        let names = names.as_object().into_iter().flat_map(|map| map.keys());
        names.into_iter().all(|name| {
            (name != OAUTH2_SCHEME || self.header)
                && (name != COOKIE_SCHEME || self.cookie.is_some())
        })
    }

    fn prune(&self, requirements: &mut Vec<SecurityRequirement>) {
        let before = requirements.len();
        let kept: Vec<SecurityRequirement> = requirements
            .iter()
            .filter(|requirement| self.keeps(requirement))
            .cloned()
            .collect();
        // Dropping every alternative would leave `security: []`, which means "no security":
        // leave such a list alone.
        if kept.len() != before && !kept.is_empty() {
            *requirements = kept;
        }
    }
}

impl Modify for LoginSecurity {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.security_schemes.extend(self.schemes());
        if let Some(security) = &mut openapi.security {
            self.prune(security);
        }
        for item in openapi.paths.paths.values_mut() {
            for operation in operations(item) {
                if let Some(security) = &mut operation.security {
                    self.prune(security);
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
    ]
    .into_iter()
    .filter_map(Option::as_mut)
}
