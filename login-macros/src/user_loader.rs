//! `#[user_loader]`: registers an `async fn(subject: String, <extractors>...) -> Option<User>`
//! as the loader of `User`.
//!
//! The function is emitted unchanged (so it stays callable as written), followed by
//! `impl<S> UserLoader<S> for User` that runs each further argument's extractor and calls the
//! function, and `impl HasUserLoader for User` (naming the user's manager type: `LoginManager`,
//! or `manager = Admins`) for `#[protected]`'s compile-time check and the extractors.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Signature, Token, Type};

use crate::args::LoaderArgs;
use crate::error::{self, Errors};
use crate::paths::at;
use crate::{paths, ty};

/// Expands `#[user_loader] item`. Never fails: errors come back as `compile_error!`s next to
/// a best guess. Malformed arguments are reported and the loader is expanded with the
/// default manager. A mistake in the function keeps it as written and adds, when a user type can be
/// read off its return type, a stand-in loader impl, so that the `#[protected]` handlers of
/// that type compile and do not report a second, misleading error.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                "`#[user_loader]` goes on an `async fn(subject: String, ...) -> Option<User>`",
            );
            return Errors::from(error).with(item);
        }
    };
    // In source order: the attribute's arguments, the signature, then the return type.
    let (LoaderArgs { manager }, mut errors) = LoaderArgs::parse(args);
    let manager = manager.as_ref();
    match error::join(Loader::validate(&item_fn), user_type(&item_fn.sig)) {
        Ok((loader, user)) => errors.with(loader.expand(user, manager)),
        Err(error) => {
            errors.push(error);
            let mut out = errors.with(&item_fn);
            // A method sits in an `impl` or `trait` block, where an impl cannot follow it.
            let in_impl_block = item_fn.sig.receiver().is_some();
            if let Some(user) = guess_user(&item_fn.sig.output)
                && !in_impl_block
            {
                out.extend(stand_in(user, manager));
            }
            out
        }
    }
}

/// The return type and the user type in it, from `-> Option<User>` or
/// `-> Result<Option<User>, E>`; an error for any other return type or a user type the
/// generated impls cannot name.
fn user_type(sig: &Signature) -> syn::Result<UserType<'_>> {
    const EXPECTED: &str =
        "`#[user_loader]` must return `Option<User>` or `Result<Option<User>, E>`";
    let ReturnType::Type(_, returned) = &sig.output else {
        return Err(syn::Error::new_spanned(&sig.ident, EXPECTED));
    };
    let Some(user) = ty::option_inner(returned).or_else(|| ty::result_option_inner(returned))
    else {
        return Err(syn::Error::new_spanned(
            returned,
            format!("{EXPECTED}, not `{}`", ty::display(returned)),
        ));
    };
    ty::check_named(user, "the user type")?;
    ty::check_local(user)?;
    Ok(UserType { returned, user })
}

/// The user type read off any return type, for the stand-in impl of an invalid loader:
/// `User` from `Option<User>`, `Result<Option<User>, E>`, `Result<User, E>` or `User`, as
/// long as the stand-in can implement a trait for it (a named type of this crate).
fn guess_user(output: &ReturnType) -> Option<&Type> {
    let ReturnType::Type(_, returned) = output else {
        return None;
    };
    let user = ty::option_inner(returned)
        .or_else(|| ty::result_option_inner(returned))
        .or_else(|| ty::result_ok(returned))
        .unwrap_or(returned);
    let implementable = ty::check_named(user, "").is_ok() && ty::check_local(user).is_ok();
    implementable.then_some(user)
}

/// A valid loader's return type, and the user type in it.
struct UserType<'a> {
    returned: &'a Type,
    user: &'a Type,
}

const NOT_GENERIC: &str = "`#[user_loader]` cannot be generic: the loader is found by its user \
                           type, so name concrete types, like `State<Db>`";

/// A validated loader function; the user type is checked separately.
struct Loader<'a> {
    item: &'a ItemFn,
    asyncness: Token![async],
    /// The types of the arguments after the subject: each one an extractor.
    extractors: Vec<&'a Type>,
}

impl<'a> Loader<'a> {
    fn validate(item: &'a ItemFn) -> syn::Result<Self> {
        let sig = &item.sig;
        let asyncness = sig.asyncness.ok_or_else(|| {
            syn::Error::new_spanned(
                sig.fn_token,
                "`#[user_loader]` must be an `async fn`: write `async fn`",
            )
        });
        // The checks that keep no value, after `async` in source order.
        let mut errors = Errors::default();
        if let Some(unsafety) = sig.unsafety {
            errors.push(syn::Error::new_spanned(
                unsafety,
                "`#[user_loader]` cannot be `unsafe`",
            ));
        }
        if !sig.generics.params.is_empty() {
            errors.push(syn::Error::new_spanned(&sig.generics, NOT_GENERIC));
        } else if let Some(where_clause) = &sig.generics.where_clause {
            errors.push(syn::Error::new_spanned(where_clause, NOT_GENERIC));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            None => errors.push(syn::Error::new(
                sig.paren_token.span.join(),
                "`#[user_loader]` receives the token's subject as its first parameter: \
                 add `subject: String`",
            )),
            Some(FnArg::Receiver(receiver)) => errors.push(syn::Error::new_spanned(
                receiver,
                "`#[user_loader]` must be a free function, not a method: remove `self`",
            )),
            Some(FnArg::Typed(subject)) if !is_string(&subject.ty) => {
                errors.push(syn::Error::new_spanned(
                    &subject.ty,
                    "the first parameter of a `#[user_loader]` receives the token's subject \
                     and must be a `String`: put `subject: String` first, then any extractors",
                ));
            }
            Some(FnArg::Typed(_)) => {}
        }
        let mut extractors = Vec::new();
        for input in inputs {
            match input {
                FnArg::Typed(arg) if matches!(ty::peel(&arg.ty), Type::ImplTrait(_)) => {
                    errors.push(syn::Error::new_spanned(&arg.ty, NOT_GENERIC));
                }
                FnArg::Typed(arg) => extractors.push(&*arg.ty),
                FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                    receiver,
                    "`#[user_loader]` must be a free function, not a method: remove `self`",
                )),
            }
        }
        let (asyncness, ()) = error::join(asyncness, errors.finish())?;
        Ok(Self {
            item,
            asyncness,
            extractors,
        })
    }

    fn expand(
        &self,
        UserType { returned, user }: UserType<'_>,
        manager: Option<&Type>,
    ) -> TokenStream {
        let sig = &self.item.sig;
        let name = &sig.ident;
        let site = Span::mixed_site();
        // Where rustc's diagnostics about the generated code land, all on the loader's
        // signature: the impl headers on the user type ("required for `User` to implement
        // `UserLoader<S>`", "conflicting implementations"), the `Send` future on `async`,
        // the `LoaderOutput` conversion on the return type (an error type that is not
        // `IntoResponse`), and each `FromRequestParts` bound on its argument's type.
        let header = at(user.span());
        let async_span = at(self.asyncness.span);
        let output_span = at(returned.span());

        let state_ty = syn::Ident::new("__S", site);
        let subject = paths::local("subject");
        let parts = paths::local("parts");
        let state = paths::local("state");
        let value = paths::local("value");
        let rejection = paths::local("rejection");
        let args: Vec<syn::Ident> = (1..=self.extractors.len())
            .map(|i| paths::local(&format!("arg{i}")))
            .collect();

        let header_state = syn::Ident::new("__S", header);
        let user_loader = paths::private("UserLoader", header);
        let has_user_loader = paths::private("HasUserLoader", header);
        let (send, sync) = (paths::private("Send", site), paths::private("Sync", site));
        let bounds = self.extractors.iter().map(|ty| {
            let span = at(ty.span());
            let bound = paths::private("FromRequestParts", span);
            quote_spanned!(span=> #ty: #bound<#state_ty>)
        });

        let (future, result, option, response) = (
            paths::private("Future", async_span),
            paths::private("Result", async_span),
            paths::private("Option", async_span),
            paths::private("Response", async_span),
        );
        let send_future = paths::private("Send", async_span);
        let returns = quote_spanned! {async_span=>
            impl #future<Output = #result<#option<Self>, #response>> + #send_future
        };

        let (ok, err) = (
            paths::private("Result", site),
            paths::private("Result", site),
        );
        let from_request_parts = paths::private("FromRequestParts", site);
        let into_response = paths::private("IntoResponse", site);
        let extract = self.extractors.iter().zip(&args).map(|(ty, arg)| {
            quote_spanned! {site=>
                let #arg = match <#ty as #from_request_parts<#state_ty>>::from_request_parts(
                    #parts,
                    #state,
                )
                .await
                {
                    #ok::Ok(#value) => #value,
                    #err::Err(#rejection) => {
                        return #err::Err(#into_response::into_response(#rejection));
                    }
                };
            }
        });
        let loader_output = paths::private("LoaderOutput", output_span);
        let call = quote_spanned! {output_span=>
            #loader_output::into_load_result(#name(#subject, #(#args),*).await)
        };
        let body = quote_spanned! {async_span=>
            async move {
                #(#extract)*
                #call
            }
        };
        let (string, parts_ty) = (
            paths::private("String", site),
            paths::private("Parts", site),
        );

        let items = quote_spanned! {site=>
            fn load_user(
                #subject: #string,
                #parts: &mut #parts_ty,
                #state: &#state_ty,
            ) -> #returns {
                #body
            }
        };
        // The braces too, so that the impl as a whole is on the user type.
        let mut items = Group::new(Delimiter::Brace, items);
        items.set_span(header);
        let mut out = self.item.to_token_stream();
        out.extend(quote_spanned! {header=>
            #[automatically_derived]
            impl<#header_state> #user_loader<#header_state> for #user
        });
        out.extend(quote_spanned! {site=>
            where
                #state_ty: #send + #sync + 'static,
                #(#bounds,)*
        });
        out.extend(std::iter::once(TokenTree::Group(items)));
        out.extend(has_user_loader_impl(
            &has_user_loader,
            user,
            manager,
            header,
        ));
        out
    }
}

/// `impl HasUserLoader for User { type Manager = M; }` (`LoginManager` by default), and with
/// `manager = M` the check, at `M`'s tokens, that `M` holds a manager.
fn has_user_loader_impl(
    has_user_loader: &TokenStream,
    user: &Type,
    manager: Option<&Type>,
    header: Span,
) -> TokenStream {
    let site = Span::mixed_site();
    let manager_ty = match manager {
        Some(manager) => manager.to_token_stream(),
        None => paths::private("LoginManager", header),
    };
    let mut out = quote_spanned! {header=>
        #[automatically_derived]
        impl #has_user_loader for #user {
            type Manager = #manager_ty;
        }
    };
    if let Some(manager) = manager {
        let span = at(manager.span());
        let assert = paths::private("assert_manager", span);
        out.extend(quote_spanned! {site=>
            const _: () = #assert::<#manager>();
        });
    }
    out
}

/// When the loader is invalid but its user type is known: a loader impl that never loads,
/// so that `#[protected]` handlers of the type compile and only the real mistake is shown.
fn stand_in(user: &Type, manager: Option<&Type>) -> TokenStream {
    let site = Span::mixed_site();
    let p = |name: &str| paths::private(name, site);
    let (user_loader, has_user_loader, send, sync, future, result, option, string, parts) = (
        p("UserLoader"),
        p("HasUserLoader"),
        p("Send"),
        p("Sync"),
        p("Future"),
        p("Result"),
        p("Option"),
        p("String"),
        p("Parts"),
    );
    let response = p("Response");
    let mut out = quote_spanned! {site=>
        #[automatically_derived]
        impl<__S> #user_loader<__S> for #user
        where
            __S: #send + #sync + 'static,
        {
            fn load_user(
                _: #string,
                _: &mut #parts,
                _: &__S,
            ) -> impl #future<Output = #result<#option<Self>, #response>> + #send {
                async { #result::Ok(#option::None) }
            }
        }
    };
    out.extend(has_user_loader_impl(&has_user_loader, user, manager, site));
    out
}

/// `String`, `std::string::String` or `alloc::string::String`.
fn is_string(ty: &Type) -> bool {
    let Type::Path(path) = ty::peel(ty) else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|segment| {
            if segment.arguments.is_empty() {
                segment.ident.to_string()
            } else {
                String::new()
            }
        })
        .collect();
    path.qself.is_none()
        && matches!(
            segments
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
            ["String"] | ["std" | "alloc", "string", "String"]
        )
}
