//! [`Docs`]: the app's OpenAPI document served, with the manager's security schemes and
//! (feature `swagger-ui`) Swagger UI, in one call.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::Modify;
use utoipa_axum::router::OpenApiRouter;

use super::LoginSecurity;
use crate::manager::LoginManager;

/// Serves an app's routes with their OpenAPI document: the manager's security schemes added
/// ([`LoginSecurity`]), the document at `/openapi.json`, and, with the `swagger-ui` feature,
/// Swagger UI at `/docs` (its assets inside the binary, no online validator), whose
/// "Authorize" button logs in through the manager's token URL.
///
/// The document is the one the router was made with: start from your own, with your title
/// and version (`OpenApiRouter::with_openapi(ApiDoc::openapi())`, where `ApiDoc` derives
/// `utoipa::OpenApi` with `#[openapi(info(title = "…", version = "…"))]`);
/// `OpenApiRouter::new()` would publish utoipa-axum's own name, version and author (logged
/// as a warning).
///
/// ```
/// use axum::Router;
/// use login::{LoginManager, openapi::Docs, routes::SessionRoutes};
/// use utoipa::OpenApi;
/// use utoipa_axum::router::OpenApiRouter;
///
/// #[derive(OpenApi)]
/// #[openapi(info(title = "Notes", version = "1.0.0"))]
/// struct ApiDoc;
///
/// # fn main() -> Result<(), login::ConfigError> {
/// let manager = LoginManager::builder("/login")
///     .secret("a-32-byte-or-longer-secret-from-env!")
///     .sessions()
///     .build()?;
/// let routes = OpenApiRouter::with_openapi(ApiDoc::openapi())
///     .merge(SessionRoutes::new(&manager).openapi_router());
/// let app: Router = Docs::new(&manager).router(routes).with_state(manager);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Docs {
    security: LoginSecurity,
    document: String,
    #[cfg(feature = "swagger-ui")]
    swagger_ui: Option<String>,
}

impl Docs {
    /// The documentation of `manager`'s app, at the default paths: `/openapi.json` and (with
    /// `swagger-ui`) `/docs`.
    pub fn new(manager: &LoginManager) -> Self {
        Docs {
            security: LoginSecurity::new(manager),
            document: "/openapi.json".to_owned(),
            #[cfg(feature = "swagger-ui")]
            swagger_ui: Some("/docs".to_owned()),
        }
    }

    /// Serves the document at `path` instead of `/openapi.json`.
    pub fn document_path(mut self, path: impl Into<String>) -> Self {
        self.document = path.into();
        self
    }

    /// Serves Swagger UI at `path` instead of `/docs`; `None` serves no Swagger UI.
    #[cfg(feature = "swagger-ui")]
    #[cfg_attr(docsrs, doc(cfg(feature = "swagger-ui")))]
    pub fn swagger_ui_path(mut self, path: Option<&str>) -> Self {
        self.swagger_ui = path.map(str::to_owned);
        self
    }

    /// The security schemes' settings (for example their `refresh_url`).
    pub fn security(mut self, security: LoginSecurity) -> Self {
        self.security = security;
        self
    }

    /// `routes` as an axum router, plus the document (and Swagger UI).
    pub fn router<S>(self, routes: OpenApiRouter<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let (router, mut api) = routes.split_for_parts();
        if api.info.title == "utoipa-axum" {
            tracing::warn!(
                "login: the OpenAPI document has utoipa-axum's title, version and author: start the router from your own document (`OpenApiRouter::with_openapi(ApiDoc::openapi())`)"
            );
        }
        self.security.modify(&mut api);
        #[cfg(feature = "swagger-ui")]
        if let Some(ui) = self.swagger_ui {
            // No online validator: it would send the document's URL to another host.
            let config =
                utoipa_swagger_ui::Config::new([self.document.clone()]).validator_url("none");
            let docs = utoipa_swagger_ui::SwaggerUi::new(ui)
                .url(self.document, api)
                .config(config);
            return router.merge(docs);
        }
        let json = match api.to_json() {
            Ok(json) => json,
            Err(error) => {
                tracing::error!(%error, "login: the OpenAPI document could not be serialized");
                return router;
            }
        };
        router.route(
            &self.document,
            get(move || {
                let json = json.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            HeaderValue::from_static("application/json"),
                        )],
                        json,
                    )
                        .into_response()
                }
            }),
        )
    }
}
