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
//! #[automatically_derived]
//! impl ::login::__private::RequiredScopes for __login_scopes_h { const SCOPES: .. = &["write"]; }
//! const _: () = ::login::__private::assert_user_loader::<User>();
//! ```
//! `fresh = "10m"` and `factors = ["otp"]` use the same marker, adding
//! `const MAX_AGE: Option<u64> = Some(600u64);` and `const FACTORS: .. = &["otp"];` to it
//! (with no `scopes`, `SCOPES` is empty and nothing is registered for the start-up check).
//! Only the first parameter's pattern and type change; attributes, docs, visibility, the
//! body, the return type and every span the user wrote stay as they were.
//!
//! On a mistake the expansion is a best guess next to the error, so that the function is
//! still the handler that was meant and routing it adds no second error:
//!
//! | mistake | the guess |
//! |---|---|
//! | malformed or repeated argument | the arguments understood (a malformed one counts as absent) |
//! | `optional` and `Option<User>` disagree | the parameter's type decides: `Option<User>` is optional |
//! | `user: &User` | `User`, bound by reference: `AuthUser(ref user): AuthUser<User>` |
//! | not `async` | an `async fn` (unless it already returns a future) |
//! | no parameter, `self`, a user type that is not a named type | the function as written |

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    FnArg, Ident, ItemFn, LitStr, Pat, PatIdent, PatType, Signature, Token, Type,
    parse_quote_spanned,
};

use crate::args::ProtectedArgs;
use crate::error::Errors;
use crate::paths::at;
use crate::{openapi, paths, ty};

/// Expands `#[protected(args)] item`. Never fails: errors come back as `compile_error!`s next
/// to the best guess at the handler that was meant.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_with(args, item, cfg!(feature = "openapi"))
}

/// [`expand`], documenting a `#[utoipa::path]` under the attribute when `openapi` is on (the
/// `openapi` feature; see [`crate::openapi`]). Off, the expansion is the same as without
/// the feature.
pub(crate) fn expand_with(args: TokenStream, item: TokenStream, openapi: bool) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(error) => {
            // Not a function: there is no handler to guess, so the item stays as written.
            let error =
                syn::Error::new(error.span(), "`#[protected]` goes on an `async fn` handler");
            return Errors::from(error).with(item);
        }
    };
    let (args, mut errors) = ProtectedArgs::parse(args);
    let mut handler = Handler::new(args, item_fn, &mut errors);
    handler.openapi = openapi;
    errors.with(handler.expand())
}

/// What `scopes`, `fresh` and `factors` require, and the marker type that carries it.
struct Marker {
    ident: Ident,
    scopes: Vec<LitStr>,
    /// Seconds.
    fresh: Option<u64>,
    factors: Vec<LitStr>,
}

/// A `#[protected]` handler, rewritten as far as it could be.
struct Handler {
    /// The function, `async`, with its first parameter receiving the user (when it can).
    item: ItemFn,
    /// The user type, when the first parameter receives it.
    user: Option<Type>,
    /// The marker type of `scopes = [...]`, `fresh = ".."` and `factors = [...]` and what
    /// it requires, when the first parameter receives the user through `Scoped`/`MaybeScoped`.
    marker: Option<Marker>,
    /// Whether the first parameter is an `Option` (the handler is optional).
    optional: bool,
    /// Whether to document a `#[utoipa::path]` under the attribute (the `openapi` feature).
    openapi: bool,
}

impl Handler {
    /// Rewrites `item`, reporting every mistake to `errors` (which already holds those of
    /// the arguments) and carrying on with a best guess.
    fn new(args: ProtectedArgs, mut item: ItemFn, errors: &mut Errors) -> Self {
        // With malformed arguments, whether `optional` was meant is unknown: the parameter's
        // type decides, and the mismatch is not reported.
        let optional = errors.is_empty().then_some(args.optional.is_some());
        make_async(&mut item.sig, errors);
        let requires = args.scopes.is_some() || args.fresh.is_some() || args.factors.is_some();
        let marker = requires.then(|| Marker {
            ident: format_ident!(
                "__login_scopes_{}",
                item.sig.ident,
                span = Span::call_site()
            ),
            scopes: args.scopes.map(|scopes| scopes.values).unwrap_or_default(),
            fresh: args.fresh,
            factors: args.factors.unwrap_or_default(),
        });
        let example = if args.optional.is_some() {
            "`user: Option<User>`"
        } else {
            "`user: User`"
        };
        let sig = &mut item.sig;
        let receives_option = matches!(sig.inputs.first(),
            Some(FnArg::Typed(param)) if ty::option_inner(&param.ty).is_some());
        let user = match sig.inputs.first_mut() {
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
                let marker = marker.as_ref().map(|marker| &marker.ident);
                receive_user(param, optional, marker, errors)
            }
        };
        // Without a user parameter to name it, the marker would only be an unused type.
        let marker = marker.filter(|_| user.is_some());
        Self {
            item,
            user,
            marker,
            optional: receives_option,
            openapi: false,
        }
    }

    fn expand(mut self) -> TokenStream {
        // The `#[utoipa::path]` under the attribute documents the route; without one, a check
        // that there is none above it either.
        let mut order_check = None;
        if self.openapi && self.user.is_some() {
            match openapi::find_path_attribute(&self.item.attrs) {
                Some(index) => {
                    let scopes = self.marker.as_ref().map_or(&[][..], |m| &m.scopes[..]);
                    let step_up = self
                        .marker
                        .as_ref()
                        .is_some_and(|m| m.fresh.is_some() || !m.factors.is_empty());
                    let requirement = openapi::Requirement {
                        optional: self.optional,
                        scopes,
                        step_up,
                    };
                    openapi::document(&mut self.item.attrs[index], &requirement);
                }
                None => order_check = Some(openapi::order_check(&self.item.sig.ident)),
            }
        }
        let mut out = self.item.to_token_stream();
        let Some(user) = self.user else {
            return out;
        };
        out.extend(order_check);
        let generic = !self.item.sig.generics.params.is_empty();
        // The scopes' registration names `<User as HasUserLoader>::Manager`, which checks the
        // loader as `assert_user_loader` does (same message, same tokens): one check, one error.
        let scoped = self.marker.as_ref().is_some_and(|m| !m.scopes.is_empty());
        let registered = scoped && !generic;
        if let Some(Marker {
            ident: marker,
            scopes,
            fresh,
            factors,
        }) = self.marker
        {
            let vis = &self.item.vis;
            let required = paths::private("RequiredScopes", Span::call_site());
            let max_age = fresh.map(|seconds| {
                quote! {
                    const MAX_AGE: ::core::option::Option<u64> =
                        ::core::option::Option::Some(#seconds);
                }
            });
            let factors = (!factors.is_empty()).then(|| {
                quote! {
                    const FACTORS: &'static [&'static str] = &[#(#factors),*];
                }
            });
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
                #[automatically_derived]
                impl #required for #marker {
                    const SCOPES: &'static [&'static str] = &[#(#scopes),*];
                    #max_age
                    #factors
                }
            });
            if scoped {
                // Registered for the manager's start-up check: a scope it does not declare is
                // an error naming this handler.
                let inventory = paths::private("inventory", Span::call_site());
                let route = paths::private("RouteScopes", Span::call_site());
                let name = self.item.sig.ident.to_string();
                // The user type's manager checks these scopes; a generic handler's user type
                // may name its parameters, which the registration cannot, and is left to
                // every manager.
                let manager = if !generic {
                    let user_span = at(user.span());
                    let id = paths::private("manager_type_id", user_span);
                    quote_spanned!(user_span=> ::core::option::Option::Some(#id::<#user>))
                } else {
                    quote!(::core::option::Option::None)
                };
                out.extend(quote! {
                    #inventory::submit! {
                        #route {
                            handler: ::core::concat!(::core::module_path!(), "::", #name),
                            scopes: &[#(#scopes),*],
                            file: ::core::file!(),
                            line: ::core::line!(),
                            manager: #manager,
                        }
                    }
                });
            }
        }
        // A generic handler's user type may name its parameters, which an item outside the
        // function cannot; the extractor's own bounds still require the loader there.
        if !generic && !registered {
            let user_span = at(user.span());
            let assert = paths::private("assert_user_loader", user_span);
            out.extend(quote_spanned! {user_span=>
                const _: () = #assert::<#user>();
            });
        }
        out
    }
}

/// Reports a handler that is not `async`; the guess is the `async fn` that was meant, unless
/// it returns a future already (axum takes such a function as it is).
fn make_async(sig: &mut Signature, errors: &mut Errors) {
    if sig.asyncness.is_some() {
        return;
    }
    errors.push(syn::Error::new_spanned(
        sig.fn_token,
        "`#[protected]` handlers must be `async fn`s: write `async fn`",
    ));
    if !ty::returns_future(&sig.output) {
        sig.asyncness = Some(Token![async](sig.fn_token.span));
        // `const async fn` does not exist.
        sig.constness = None;
    }
}

/// Rewrites the first parameter, `pat: User` (or `pat: Option<User>` with `optional`), into
/// the extractor that receives the user, and returns the user type. Reports a parameter
/// that does not fit `optional` (when `optional` is known) or is not a named type; returns
/// `None`, leaving the parameter as written, when no user type can be guessed from it.
fn receive_user(
    param: &mut PatType,
    optional: Option<bool>,
    marker: Option<&Ident>,
    errors: &mut Errors,
) -> Option<Type> {
    let declared = &*param.ty;
    let inner = ty::option_inner(declared);
    match (optional, inner) {
        (Some(true), None) => errors.push(syn::Error::new_spanned(
            declared,
            format!(
                "`#[protected(optional)]` passes the user as an `Option`: write `Option<{}>`",
                ty::display(declared)
            ),
        )),
        (Some(false), Some(user)) => errors.push(syn::Error::new_spanned(
            declared,
            format!(
                "`#[protected]` always passes a user; to receive `Option<{}>` \
                 (`None` without valid credentials), write `#[protected(optional)]`",
                ty::display(user)
            ),
        )),
        _ => {}
    }
    // From here on the parameter's type decides whether the user is optional.
    let receives_option = inner.is_some();
    let written = inner.unwrap_or(declared);
    if let Err(error) = ty::check_named(written, "the user type") {
        errors.push(error);
    }
    // `user: &User` (or `&mut User`): receive `User`, and bind `user` by reference so that
    // the body sees the type it declared. Inside an `Option` there is no such pattern.
    let (user, by_ref) = match ty::peel(written) {
        Type::Reference(reference) => {
            let by_ref = (!receives_option).then_some(reference.mutability);
            (&*reference.elem, by_ref)
        }
        _ => (written, None),
    };
    ty::check_named(user, "the user type").ok()?;
    let user = user.clone();

    let mut pat = (*param.pat).clone();
    if let (Some(mutability), Pat::Ident(ident)) = (by_ref, &mut pat)
        && ident.by_ref.is_none()
        && ident.subpat.is_none()
    {
        *ident = PatIdent {
            by_ref: Some(Token![ref](ident.ident.span())),
            mutability,
            ..ident.clone()
        };
    }
    let pat_span = at(param.pat.span());
    let ty_span = at(param.ty.span());
    let (name, pat): (&str, TokenStream) = match (marker, receives_option) {
        (None, false) => ("AuthUser", quote!(#pat)),
        (None, true) => ("MaybeUser", quote!(#pat)),
        (Some(_), false) => ("Scoped", quote_spanned!(pat_span=> #pat, _)),
        (Some(_), true) => ("MaybeScoped", quote_spanned!(pat_span=> #pat, _)),
    };
    let wrapper = paths::private(name, pat_span);
    let ty_wrapper = paths::private(name, ty_span);
    let marker = marker.map(|marker| quote_spanned!(ty_span=> , #marker));
    *param.pat = parse_quote_spanned!(pat_span=> #wrapper(#pat));
    *param.ty = parse_quote_spanned!(ty_span=> #ty_wrapper<#user #marker>);
    Some(user)
}
