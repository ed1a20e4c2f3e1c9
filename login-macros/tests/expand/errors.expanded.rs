::core::compile_error! {
    "`#[user_loader]` must be an `async fn`: write `async fn`"
}
fn not_async(subject: String) -> Option<User> {
    None
}
#[automatically_derived]
impl<__S> ::login::__private::UserLoader<__S> for User
where
    __S: ::login::__private::Send + ::login::__private::Sync + 'static,
{
    fn load_user(
        _: ::login::__private::String,
        _: &mut ::login::__private::Parts,
        _: &__S,
    ) -> impl ::login::__private::Future<
        Output = ::login::__private::Result<
            ::login::__private::Option<Self>,
            ::login::__private::Response,
        >,
    > + ::login::__private::Send {
        async { ::login::__private::Result::Ok(::login::__private::Option::None) }
    }
}
#[automatically_derived]
impl ::login::__private::HasUserLoader for User {
    type Manager = ::login::__private::LoginManager;
}
::core::compile_error! {
    "`#[user_loader]` must return `Option<User>` or `Result<Option<User>, E>`, not `Result<User, DbError>`"
}
async fn not_an_option(subject: String) -> Result<User, DbError> {
    Ok(User)
}
#[automatically_derived]
impl<__S> ::login::__private::UserLoader<__S> for User
where
    __S: ::login::__private::Send + ::login::__private::Sync + 'static,
{
    fn load_user(
        _: ::login::__private::String,
        _: &mut ::login::__private::Parts,
        _: &__S,
    ) -> impl ::login::__private::Future<
        Output = ::login::__private::Result<
            ::login::__private::Option<Self>,
            ::login::__private::Response,
        >,
    > + ::login::__private::Send {
        async { ::login::__private::Result::Ok(::login::__private::Option::None) }
    }
}
#[automatically_derived]
impl ::login::__private::HasUserLoader for User {
    type Manager = ::login::__private::LoginManager;
}
::core::compile_error! {
    "`Arc<User>` is defined in another crate, so `#[user_loader]` cannot implement `login::loader::UserLoader` for it (Rust's orphan rule); wrap it in a newtype defined in your crate, like `#[derive(Clone)] struct AppUser(Arc<User>);`, and return that"
}
async fn orphan(subject: String) -> Option<Arc<User>> {
    None
}
::core::compile_error! {
    "`#[user_loader]` takes one optional argument: `manager = Type` (the type holding this user's `LoginManager`)"
}
async fn with_arguments(subject: String) -> Option<User> {
    None
}
#[automatically_derived]
impl<__S> ::login::__private::UserLoader<__S> for User
where
    __S: ::login::__private::Send + ::login::__private::Sync + 'static,
{
    fn load_user(
        __login_subject: ::login::__private::String,
        __login_parts: &mut ::login::__private::Parts,
        __login_state: &__S,
    ) -> impl ::login::__private::Future<
        Output = ::login::__private::Result<
            ::login::__private::Option<Self>,
            ::login::__private::Response,
        >,
    > + ::login::__private::Send {
        async move {
            ::login::__private::LoaderOutput::into_load_result(
                with_arguments(__login_subject).await,
            )
        }
    }
}
#[automatically_derived]
impl ::login::__private::HasUserLoader for User {
    type Manager = ::login::__private::LoginManager;
}
::core::compile_error! {
    "expected one of: `optional`, `scopes`, `fresh`, `factors`"
}
async fn unknown_argument(
    ::login::__private::MaybeUser(user): ::login::__private::MaybeUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "expected a list of string literals in brackets: `scopes = [\"read\", \"write\"]`"
}
async fn malformed_scopes(
    ::login::__private::MaybeUser(user): ::login::__private::MaybeUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "the scope \"read write\" contains whitespace; list each scope as its own string: `scopes = [\"read\", \"write\"]`"
}
async fn invalid_scope(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "`#[protected(optional)]` passes the user as an `Option`: write `Option<User>`"
}
async fn optional_without_option(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "`#[protected]` handlers must be `async fn`s: write `async fn`"
}
async fn not_async(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) -> String {
    String::new()
}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "`#[protected]` handlers must be `async fn`s: write `async fn`"
}
fn returns_future(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) -> impl Future<Output = String> {
    async { String::new() }
}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "the user type must be a named type, like `User`, not `&User`"
}
async fn by_reference(
    ::login::__private::AuthUser(ref user): ::login::__private::AuthUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
::core::compile_error! {
    "`#[protected]` needs a first parameter to receive the user, like `user: User`"
}
async fn no_parameter() {}
::core::compile_error! {
    "the duration \"10\" has no unit: write a whole number and a unit, like \"30s\", \"10m\", \"1h\" or \"1d\""
}
::core::compile_error! {
    "unknown factor `totp`: use an RFC 8176 authentication method, such as \"otp\" (a one-time code), \"hwk\" (a passkey or security key), \"mfa\" (any second factor) or \"pwd\" (a password)"
}
async fn bad_step_up(
    ::login::__private::AuthUser(user): ::login::__private::AuthUser<User>,
) {}
const _: () = ::login::__private::assert_user_loader::<User>();
