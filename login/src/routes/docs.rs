//! The session routes documented (feature `openapi`): [`SessionRoutes::openapi_router`], and
//! the `#[utoipa::path]` of each route, written on documentation-only functions so that the
//! operations can be served at the paths the app chose.

use axum::extract::FromRef;
use axum::routing::{MethodRouter, delete, get, post};
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, PathItem, Paths};
use utoipa::openapi::{Info, OpenApi, RefOr, schema::Schema};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::{
    LogoutForm, SessionList, SessionRoutes, end_session, list_sessions, logout, logout_all,
};
use crate::manager::AsLoginManager;
use crate::openapi::{CrossSiteRefused, RefreshForm, RefreshResponses, Unauthorized};

impl<M: AsLoginManager> SessionRoutes<M> {
    /// The routes as a utoipa-axum router, each documented in the app's OpenAPI document
    /// when merged into it (`OpenApiRouter::merge`): the request forms, every answer, and
    /// the security (the manager's schemes, which [`LoginSecurity`](crate::openapi::LoginSecurity)
    /// or [`Docs`](crate::openapi::Docs) declare).
    pub fn openapi_router<S>(self) -> OpenApiRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        M: FromRef<S>,
    {
        let one = self.session_path();
        let empty = OpenApi::new(Info::new("", ""), Paths::new());
        OpenApiRouter::with_openapi(empty)
            .routes(documented::<__path_refresh_doc, _>(
                &self.refresh,
                HttpMethod::Post,
                post(crate::refresh::refresh_route_for::<M>),
                schemas::<RefreshForm>,
            ))
            .routes(documented::<__path_logout_doc, _>(
                &self.logout,
                HttpMethod::Post,
                post(logout::<M>),
                |all| {
                    schemas::<LogoutForm>(all);
                    schemas::<Status>(all);
                    schemas::<Detail>(all);
                },
            ))
            .routes(documented::<__path_logout_all_doc, _>(
                &self.logout_all,
                HttpMethod::Post,
                post(logout_all::<M>),
                |all| {
                    schemas::<SessionsEnded>(all);
                    schemas::<Detail>(all);
                },
            ))
            .routes(documented::<__path_list_sessions_doc, _>(
                &self.sessions,
                HttpMethod::Get,
                get(list_sessions::<M>),
                |all| {
                    schemas::<SessionList>(all);
                    schemas::<Detail>(all);
                },
            ))
            .routes(documented::<__path_end_session_doc, _>(
                &one,
                HttpMethod::Delete,
                delete(end_session::<M>),
                schemas::<Detail>,
            ))
    }
}

type Schemas = Vec<(String, RefOr<Schema>)>;

/// `T`'s schema and those it refers to.
fn schemas<T: ToSchema>(all: &mut Schemas) {
    all.push((T::name().into_owned(), T::schema()));
    T::schemas(all);
}

/// The route `method_router` at `path`, documented by the operation of `P` (a
/// `#[utoipa::path]`), with the schemas it names.
fn documented<P: utoipa::Path, S>(
    path: &str,
    method: HttpMethod,
    method_router: MethodRouter<S>,
    add_schemas: impl FnOnce(&mut Schemas),
) -> UtoipaMethodRouter<S> {
    let mut all = Schemas::new();
    add_schemas(&mut all);
    let paths = Paths::builder()
        .path(path, PathItem::new(method, P::operation()))
        .build();
    (all, paths, method_router)
}

/// `{"status": "Success"}`: logged out.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Status {
    /// Always `Success`.
    #[schema(example = "Success")]
    status: String,
}

/// `{"status": "Success", "sessions_ended": 2}`: logged out everywhere.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SessionsEnded {
    /// Always `Success`.
    #[schema(example = "Success")]
    status: String,
    /// How many sessions were ended.
    sessions_ended: u64,
}

/// `{"detail": "…"}`: what went wrong, in general terms.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Detail {
    /// What went wrong.
    detail: String,
}

// The operations. Their `path`s are placeholders: `documented` serves each at its own.
// `LoginSecurity` keeps only the schemes the manager uses.

/// Refresh: new tokens for a refresh token (RFC 6749 §6).
///
/// The refresh token comes in the form or in the refresh cookie; it is rotated (a token used
/// twice ends its session).
#[utoipa::path(
    post,
    operation_id = "refresh",
    path = "/refresh",
    request_body(content = RefreshForm, content_type = "application/x-www-form-urlencoded"),
    responses(RefreshResponses)
)]
#[allow(dead_code)]
fn refresh_doc() {}

/// Log out: ends this session and clears the cookies.
///
/// Ends the session of the access token (header or cookie), else of the form's
/// `refresh_token`, and clears both cookies. Without any token it still answers 200 and
/// clears the cookies.
#[utoipa::path(
    post,
    operation_id = "logout",
    path = "/logout",
    request_body(content = Option<LogoutForm>, content_type = "application/x-www-form-urlencoded"),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = []), ()),
    responses(
        (status = 200, description = "Logged out: the cookies are cleared.", body = Status,
            headers(("set-cookie" = String, description = "Both cookies, expired"))),
        (status = 403, response = inline(CrossSiteRefused)),
        (status = 503, description = "The session store failed.", body = Detail,
            headers(("retry-after" = String, description = "Seconds to wait"))),
    )
)]
#[allow(dead_code)]
fn logout_doc() {}

/// Log out everywhere.
///
/// Ends every session of the token's user and refuses every token of it issued before now.
#[utoipa::path(
    post,
    operation_id = "logout_all",
    path = "/logout/all",
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = [])),
    responses(
        (status = 200, description = "Every session of the user is ended.", body = SessionsEnded,
            headers(("set-cookie" = String, description = "Both cookies, expired"))),
        (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(CrossSiteRefused)),
        (status = 503, description = "The session store failed.", body = Detail,
            headers(("retry-after" = String, description = "Seconds to wait"))),
    )
)]
#[allow(dead_code)]
fn logout_all_doc() {}

/// Where you're signed in: the user's sessions.
///
/// Every live session of the token's user, oldest first; `current` marks the one the
/// request's own token belongs to.
#[utoipa::path(
    get,
    operation_id = "list_sessions",
    path = "/sessions",
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = [])),
    responses(
        (status = 200, description = "The user's sessions.", body = SessionList,
            headers(("cache-control" = String, description = "`no-store`"))),
        (status = 401, response = inline(Unauthorized)),
        (status = 503, description = "The session store failed.", body = Detail,
            headers(("retry-after" = String, description = "Seconds to wait"))),
    )
)]
#[allow(dead_code)]
fn list_sessions_doc() {}

/// End one of your sessions ("log out that device").
///
/// Ends the session `id` (from the sessions list) if it is one of the token's user's live
/// sessions; ending the current one also clears the cookies.
#[utoipa::path(
    delete,
    operation_id = "end_session",
    path = "/sessions/{id}",
    params(("id" = String, Path, description = "The session's id, from the sessions list")),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = [])),
    responses(
        (status = 204, description = "The session is ended."),
        (status = 401, response = inline(Unauthorized)),
        (status = 403, response = inline(CrossSiteRefused)),
        (status = 404, description = "No such session of this user.", body = Detail),
        (status = 503, description = "The session store failed.", body = Detail,
            headers(("retry-after" = String, description = "Seconds to wait"))),
    )
)]
#[allow(dead_code)]
fn end_session_doc() {}
