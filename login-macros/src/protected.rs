//! `#[protected]`: the handler's first parameter receives the user through an extractor.
//!
//! ```text
//! #[protected(scopes = ["write"])]
//! pub async fn h(user: User, body: String) -> StatusCode { .. }
//! ```
//! becomes
//! ```text
//! pub async fn h(::login::__private::Scoped(user, _): ::login::__private::Scoped<User, __login_scopes_h>, body: String) -> StatusCode { .. }
//! #[doc(hidden)] #[allow(..)] pub struct __login_scopes_h;
//! impl ::login::__private::RequiredScopes for __login_scopes_h { const SCOPES: .. = &["write"]; }
//! const _: () = ::login::__private::assert_user_loader::<User>();
//! ```
//! Only the first parameter's pattern and type change; attributes, docs, visibility, the
//! body, the return type and every span the user wrote stay as they were.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, PatType, Type, parse_quote_spanned};

use crate::args::ProtectedArgs;
use crate::error::{self, Errors};
use crate::paths::at;
use crate::{paths, ty};

/// Expands `#[protected(args)] item`. Never fails: errors come back as `compile_error!`s next
/// to the unchanged item.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            let error =
                syn::Error::new(error.span(), "`#[protected]` goes on an `async fn` handler");
            return error::with_item(error, item);
        }
    };
    let args: ProtectedArgs = match syn::parse2(args) {
        Ok(args) => args,
        Err(error) => return error::with_item(error, item_fn),
    };
    match Handler::validate(&args, &item_fn) {
        Ok(handler) => handler.expand(),
        Err(error) => error::with_item(error, item_fn),
    }
}

/// A validated `#[protected]` handler.
struct Handler<'a> {
    args: &'a ProtectedArgs,
    item: &'a ItemFn,
    /// The first parameter, `pat: User` (or `pat: Option<User>`).
    param: &'a PatType,
    /// `User`, without the `Option` of `optional`.
    user: &'a Type,
}

impl<'a> Handler<'a> {
    fn validate(args: &'a ProtectedArgs, item: &'a ItemFn) -> syn::Result<Self> {
        let sig = &item.sig;
        let mut errors = Errors::default();
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new_spanned(
                sig.fn_token,
                "`#[protected]` handlers must be `async fn`s: write `async fn`",
            ));
        }
        let example = if args.optional.is_some() {
            "`user: Option<User>`"
        } else {
            "`user: User`"
        };
        let found = match sig.inputs.first() {
            None => {
                errors.push(syn::Error::new(
                    sig.paren_token.span.join(),
                    format!(
                        "`#[protected]` needs a first parameter to receive the user, like {example}"
                    ),
                ));
                None
            }
            Some(FnArg::Receiver(receiver)) => {
                errors.push(syn::Error::new_spanned(
                    receiver,
                    format!(
                        "`#[protected]` handlers cannot take `self`: the first parameter \
                         receives the user, like {example}"
                    ),
                ));
                None
            }
            Some(FnArg::Typed(param)) => {
                Self::user_type(args, param, &mut errors).map(|user| (param, user))
            }
        };
        errors.finish()?;
        let Some((param, user)) = found else {
            // Unreachable: every path that finds no user type reports an error above.
            return Err(syn::Error::new_spanned(
                &sig.inputs,
                "expected a user parameter",
            ));
        };
        Ok(Self {
            args,
            item,
            param,
            user,
        })
    }

    /// The user type in the first parameter, or an error explaining what to write.
    fn user_type(
        args: &ProtectedArgs,
        param: &'a PatType,
        errors: &mut Errors,
    ) -> Option<&'a Type> {
        let declared = &*param.ty;
        let inner = ty::option_inner(declared);
        let user = match (args.optional.is_some(), inner) {
            (true, Some(user)) => user,
            (true, None) => {
                errors.push(syn::Error::new_spanned(
                    declared,
                    format!(
                        "`#[protected(optional)]` passes the user as an `Option`: \
                         write `Option<{}>`",
                        ty::display(declared)
                    ),
                ));
                return None;
            }
            (false, Some(user)) => {
                errors.push(syn::Error::new_spanned(
                    declared,
                    format!(
                        "`#[protected]` always passes a user; to receive `Option<{}>` \
                         (`None` without valid credentials), write `#[protected(optional)]`",
                        ty::display(user)
                    ),
                ));
                return None;
            }
            (false, None) => declared,
        };
        match ty::check_named(user, "the user type") {
            Ok(()) => Some(user),
            Err(error) => {
                errors.push(error);
                None
            }
        }
    }

    fn expand(&self) -> TokenStream {
        let mut item = self.item.clone();
        let optional = self.args.optional.is_some();
        let user = self.user;
        let pat = &self.param.pat;
        let pat_span = at(pat.span());
        let ty_span = at(self.param.ty.span());

        let marker = self.args.scopes.as_ref().map(|scopes| {
            let ident = format_ident!(
                "__login_scopes_{}",
                self.item.sig.ident,
                span = Span::call_site()
            );
            (ident, &scopes.values)
        });
        let (new_pat, new_ty): (syn::Pat, Type) = match (&marker, optional) {
            (None, false) => {
                let wrapper = paths::private("AuthUser", pat_span);
                let ty_wrapper = paths::private("AuthUser", ty_span);
                (
                    parse_quote_spanned!(pat_span=> #wrapper(#pat)),
                    parse_quote_spanned!(ty_span=> #ty_wrapper<#user>),
                )
            }
            (None, true) => {
                let wrapper = paths::private("MaybeUser", pat_span);
                let ty_wrapper = paths::private("MaybeUser", ty_span);
                (
                    parse_quote_spanned!(pat_span=> #wrapper(#pat)),
                    parse_quote_spanned!(ty_span=> #ty_wrapper<#user>),
                )
            }
            (Some((marker, _)), optional) => {
                let name = if optional { "MaybeScoped" } else { "Scoped" };
                let wrapper = paths::private(name, pat_span);
                let ty_wrapper = paths::private(name, ty_span);
                (
                    parse_quote_spanned!(pat_span=> #wrapper(#pat, _)),
                    parse_quote_spanned!(ty_span=> #ty_wrapper<#user, #marker>),
                )
            }
        };
        if let Some(FnArg::Typed(param)) = item.sig.inputs.first_mut() {
            *param.pat = new_pat;
            *param.ty = new_ty;
        }

        let mut out = item.into_token_stream();
        if let Some((marker, scopes)) = marker {
            let vis = &self.item.vis;
            let required = paths::private("RequiredScopes", Span::call_site());
            out.extend(quote! {
                #[doc(hidden)]
                #[allow(
                    non_camel_case_types,
                    dead_code,
                    missing_docs,
                    missing_debug_implementations,
                    missing_copy_implementations,
                    unreachable_pub
                )]
                #vis struct #marker;
                impl #required for #marker {
                    const SCOPES: &'static [&'static str] = &[#(#scopes),*];
                }
            });
        }
        // A generic handler's user type may name its parameters, which an item outside the
        // function cannot; the extractor's own bounds still require the loader there.
        if self.item.sig.generics.params.is_empty() {
            let user_span = at(user.span());
            let assert = paths::private("assert_user_loader", user_span);
            out.extend(quote_spanned! {user_span=>
                const _: () = #assert::<#user>();
            });
        }
        out
    }
}
