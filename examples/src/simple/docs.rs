//! The `simple` app's documentation: the title and description of the OpenAPI 3.1 document
//! that `login::openapi::Docs` serves at `GET /openapi.json`, with Swagger UI at `/docs`
//! (its assets inside the binary), whose "Authorize" button logs in through `POST /login`.

use utoipa::OpenApi;

/// The document's title and description; the paths come from the routes.
#[derive(OpenApi)]
#[openapi(info(
    title = "login: the simple example",
    description = "fastapi-login's usage page as an axum server. Log in with **Authorize** \
        (`johndoe@mail.com` / `hunter2`, or `janedoe@mail.com` / `jane-secret-pw` without the \
        `write` scope), then try the protected routes."
))]
pub(super) struct ApiDoc;
