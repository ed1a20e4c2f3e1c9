//! The `simple` app's documentation: the OpenAPI 3.1 document of every route at
//! `GET /openapi.json`, and Swagger UI at `/docs` (its assets inside the binary), whose
//! "Authorize" button logs in through `POST /login`.

use axum::Router;
use login::LoginManager;
use login::openapi::LoginSecurity;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::{Config, SwaggerUi};

use super::AppState;

/// The document's title and description; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(info(
    title = "login: the simple example",
    description = "fastapi-login's usage page as an axum server. Log in with **Authorize** \
        (`johndoe@mail.com` / `hunter2`, or `janedoe@mail.com` / `jane-secret-pw` without the \
        `write` scope), then try the protected routes."
))]
pub(super) struct ApiDoc;

/// The routes, documented, plus the document and Swagger UI; with the manager's security
/// schemes: the OAuth2 password flow on `/login` with its scopes and its refresh URL, and the
/// cookie.
pub(super) fn serve_docs(
    routes: OpenApiRouter<AppState>,
    manager: &LoginManager,
) -> Router<AppState> {
    let (router, mut api) = routes.split_for_parts();
    LoginSecurity::new(manager).modify(&mut api);
    // No online validator: it would send the document's URL to another host.
    let docs = SwaggerUi::new("/docs")
        .url("/openapi.json", api)
        .config(Config::new(["/openapi.json"]).validator_url("none"));
    router.merge(docs)
}
