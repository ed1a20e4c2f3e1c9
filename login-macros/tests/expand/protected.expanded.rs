/// Requires a user; everything but the first parameter is left as written.
#[tracing::instrument(skip_all)]
pub async fn protected_route(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) -> Json<Value> {
    Json(json!({ "user" : user }))
}
const _: () = ::login::__private::assert_user_loader::<User>();
async fn optional_route(
    ::login::__private::MaybeUser(mut user): ::login::__private::MaybeUser<User>,
) -> impl IntoResponse {
    user.take().map(|user| user.name).unwrap_or_default()
}
const _: () = ::login::__private::assert_user_loader::<User>();
pub(crate) async fn scoped_route(
    ::login::__private::Scoped(
        user,
        _,
    ): ::login::__private::Scoped<User, __login_scopes_scoped_route>,
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
pub(crate) struct __login_scopes_scoped_route;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_scoped_route {
    const SCOPES: &'static [&'static str] = &["items:write"];
}
::login::__private::inventory::submit! {
    ::login::__private::RouteScopes { handler : ::core::concat!(::core::module_path!(),
    "::", "scoped_route"), scopes : & ["items:write"], file : ::core::file!(), line :
    ::core::line!(), manager :
    ::core::option::Option::Some(::login::__private::manager_type_id:: < User >), }
}
async fn optional_scoped(
    ::login::__private::MaybeScoped(
        User { name, .. },
        _,
    ): ::login::__private::MaybeScoped<User, __login_scopes_optional_scoped>,
    State(db): State<Db>,
) -> String {
    name
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
struct __login_scopes_optional_scoped;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_optional_scoped {
    const SCOPES: &'static [&'static str] = &["read", "write"];
}
::login::__private::inventory::submit! {
    ::login::__private::RouteScopes { handler : ::core::concat!(::core::module_path!(),
    "::", "optional_scoped"), scopes : & ["read", "write"], file : ::core::file!(), line
    : ::core::line!(), manager :
    ::core::option::Option::Some(::login::__private::manager_type_id:: < User >), }
}
async fn generic_handler<S: Clone>(
    ::login::__private::AuthUser(
        user,
    ): ::login::__private::AuthUser<crate::models::User>,
    State(state): State<S>,
) {}
async fn fresh_route(
    ::login::__private::Scoped(
        user,
        _,
    ): ::login::__private::Scoped<User, __login_scopes_fresh_route>,
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
struct __login_scopes_fresh_route;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_fresh_route {
    const SCOPES: &'static [&'static str] = &[];
    const MAX_AGE: ::core::option::Option<u64> = ::core::option::Option::Some(600u64);
}
const _: () = ::login::__private::assert_user_loader::<User>();
async fn second_factor(
    ::login::__private::Scoped(
        user,
        _,
    ): ::login::__private::Scoped<User, __login_scopes_second_factor>,
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
struct __login_scopes_second_factor;
#[automatically_derived]
impl ::login::__private::RequiredScopes for __login_scopes_second_factor {
    const SCOPES: &'static [&'static str] = &["admin"];
    const FACTORS: &'static [&'static str] = &["otp"];
}
::login::__private::inventory::submit! {
    ::login::__private::RouteScopes { handler : ::core::concat!(::core::module_path!(),
    "::", "second_factor"), scopes : & ["admin"], file : ::core::file!(), line :
    ::core::line!(), manager :
    ::core::option::Option::Some(::login::__private::manager_type_id:: < User >), }
}
