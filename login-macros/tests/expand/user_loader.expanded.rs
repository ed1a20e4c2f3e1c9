/// The loader with extractor arguments, as in the design brief.
pub async fn load_user(
    email: String,
    State(db): State<Db>,
    Extension(pool): Extension<Pool>,
) -> Option<User> {
    db.find(&email).await
}
#[automatically_derived]
impl<__S> ::login::__private::UserLoader<__S> for User
where
    __S: ::login::__private::Send + ::login::__private::Sync + 'static,
    State<Db>: ::login::__private::FromRequestParts<__S>,
    Extension<Pool>: ::login::__private::FromRequestParts<__S>,
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
            let __login_arg1 = match <State<
                Db,
            > as ::login::__private::FromRequestParts<
                __S,
            >>::from_request_parts(__login_parts, __login_state)
                .await
            {
                ::login::__private::Result::Ok(__login_value) => __login_value,
                ::login::__private::Result::Err(__login_rejection) => {
                    return ::login::__private::Result::Err(
                        ::login::__private::IntoResponse::into_response(
                            __login_rejection,
                        ),
                    );
                }
            };
            let __login_arg2 = match <Extension<
                Pool,
            > as ::login::__private::FromRequestParts<
                __S,
            >>::from_request_parts(__login_parts, __login_state)
                .await
            {
                ::login::__private::Result::Ok(__login_value) => __login_value,
                ::login::__private::Result::Err(__login_rejection) => {
                    return ::login::__private::Result::Err(
                        ::login::__private::IntoResponse::into_response(
                            __login_rejection,
                        ),
                    );
                }
            };
            ::login::__private::LoaderOutput::into_load_result(
                load_user(__login_subject, __login_arg1, __login_arg2).await,
            )
        }
    }
}
#[automatically_derived]
impl ::login::__private::HasUserLoader for User {
    type Manager = ::login::__private::LoginManager;
}
async fn load_account(
    id: std::string::String,
) -> ::core::result::Result<Option<crate::Account>, DbError> {
    Ok(None)
}
#[automatically_derived]
impl<__S> ::login::__private::UserLoader<__S> for crate::Account
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
                load_account(__login_subject).await,
            )
        }
    }
}
#[automatically_derived]
impl ::login::__private::HasUserLoader for crate::Account {
    type Manager = ::login::__private::LoginManager;
}
