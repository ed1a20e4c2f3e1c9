::core::compile_error! {
    "`#[user_loader]` must be an `async fn`: write `async fn`"
}
fn not_async(subject: String) -> Option<User> {
    None
}
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
impl ::login::__private::HasUserLoader for User {}
::core::compile_error! {
    "`Arc<User>` is defined in another crate, so `#[user_loader]` cannot implement `login::UserLoader` for it (Rust's orphan rule); wrap it in a newtype defined in your crate, like `#[derive(Clone)] struct AppUser(Arc<User>);`, and return that"
}
async fn orphan(subject: String) -> Option<Arc<User>> {
    None
}
::core::compile_error! {
    "expected `optional` or `scopes`"
}
async fn unknown_argument(user: User) {}
::core::compile_error! {
    "`#[protected(optional)]` passes the user as an `Option`: write `Option<User>`"
}
async fn optional_without_option(user: User) {}
