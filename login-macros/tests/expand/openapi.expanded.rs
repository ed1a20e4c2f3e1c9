/// Above `#[utoipa::path]`: the security requirement and the 401 are added.
#[utoipa::path(
    get,
    path = "/me",
    responses(
        (status = 401, response = inline(::login::__private::openapi::Unauthorized)),
        (status = 200, body = User)
    ),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = []))
)]
pub async fn me(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) -> Json<User> {
    Json(user)
}
const _: () = ::login::__private::assert_user_loader::<User>();
/// Scopes: in the requirement, and the 403 too.
#[utoipa::path(
    post,
    path = "/items",
    request_body = Item,
    responses(
        (status = 401, response = inline(::login::__private::openapi::Unauthorized)),
        (status = 403, response = inline(::login::__private::openapi::Forbidden))
    ),
    security(
        ("OAuth2PasswordBearer" = ["items:write"]),
        ("APIKeyCookie" = ["items:write"])
    )
)]
async fn create(
    ::login::__private::Scoped(
        user,
        _,
    ): ::login::__private::Scoped<User, __login_scopes_create>,
    Json(item): Json<Item>,
) -> StatusCode {
    StatusCode::CREATED
}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    dead_code,
    missing_docs,
    missing_debug_implementations,
    missing_copy_implementations,
    unreachable_pub
)]
struct __login_scopes_create;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_create {
    const SCOPES: &'static [&'static str] = &["items:write"];
}
::login::__private::inventory::submit! {
    ::login::__private::RouteScopes { handler : ::core::concat!(::core::module_path!(),
    "::", "create"), scopes : & ["items:write"], file : ::core::file!(), line :
    ::core::line!(), manager :
    ::core::option::Option::Some(::login::__private::manager_type_id:: < User >), }
}
/// Optional: the empty requirement too, and no error response.
#[utoipa::path(
    get,
    path = "/",
    responses((status = 200, body = String)),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = []), ())
)]
async fn home(
    ::login::__private::MaybeUser(user): ::login::__private::MaybeUser<User>,
) -> String {
    String::new()
}
const _: () = ::login::__private::assert_user_loader::<User>();
/// A `security(...)` the user wrote is kept; their own 401 wins over ours (it comes after).
#[utoipa::path(
    get,
    path = "/key",
    security(("api_key" = [])),
    responses(
        (status = 401, response = inline(::login::__private::openapi::Unauthorized)),
        (status = 401, description = "No key")
    )
)]
async fn with_key(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
/// No `#[utoipa::path]` under the attribute: the check that there is none above it.
async fn undocumented(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) {}
#[doc(hidden)]
#[allow(non_snake_case, non_camel_case_types, dead_code)]
mod __login_path_undocumented {
    pub(super) struct __path_undocumented;
    #[automatically_derived]
    impl ::login::__private::openapi::ProtectedAboveUtoipaPath for __path_undocumented {}
}
#[allow(unused_imports)]
use __login_path_undocumented::*;
const _: () = ::login::__private::openapi::protected_above_utoipa_path::<
    __path_undocumented,
>();
const _: () = ::login::__private::assert_user_loader::<User>();
/// Step-up: the 401 is `StepUpRequired` (RFC 9470's challenge as well as RFC 6750's).
#[utoipa::path(
    get,
    path = "/fresh",
    responses(
        (status = 401, response = inline(::login::__private::openapi::StepUpRequired))
    ),
    security(("OAuth2PasswordBearer" = []), ("APIKeyCookie" = []))
)]
async fn fresh(
    ::login::__private::Scoped(
        user,
        _,
    ): ::login::__private::Scoped<User, __login_scopes_fresh>,
) {}
#[doc(hidden)]
#[allow(
    non_camel_case_types,
    dead_code,
    missing_docs,
    missing_debug_implementations,
    missing_copy_implementations,
    unreachable_pub
)]
struct __login_scopes_fresh;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_fresh {
    const SCOPES: &'static [&'static str] = &[];
    const MAX_AGE: ::core::option::Option<u64> = ::core::option::Option::Some(300u64);
}
const _: () = ::login::__private::assert_user_loader::<User>();
