//! `#[protected]` and `#[utoipa::path]` (the `openapi` feature of `login`).
//!
//! **`#[protected]` above `#[utoipa::path(...)]`** (the supported order): `#[protected]` runs
//! first and sees the attribute among the function's, so it rewrites the attribute's tokens
//! before utoipa reads them:
//!
//! ```text
//! #[protected(scopes = ["write"])]
//! #[utoipa::path(get, path = "/items", responses((status = 200, body = Item)))]
//! ```
//! becomes
//! ```text
//! #[utoipa::path(get, path = "/items",
//!     responses((status = 401, response = inline(::login::__private::openapi::Unauthorized)),
//!               (status = 403, response = inline(::login::__private::openapi::Forbidden)),
//!               (status = 200, body = Item)),
//!     security(("OAuth2PasswordBearer" = ["write"]), ("APIKeyCookie" = ["write"])))]
//! ```
//! - `security(...)`: one alternative per scheme of the manager, with the route's scopes
//!   (`login::openapi::LoginSecurity` drops the scheme the manager does not use); with
//!   `optional`, also `()` (anonymous allowed). A `security(...)` the user wrote is kept as
//!   it is and nothing is added.
//! - `responses(...)`: 401 for a route that requires a user, 403 too when it requires scopes;
//!   none for `optional` (it never answers them). They come *first*, so a response the user
//!   wrote for the same status (a tuple or an `IntoResponses` type) replaces ours.
//!
//! **`#[utoipa::path]` above `#[protected]`**: utoipa has already expanded, and its
//! `__path_<handler>` cannot be changed any more. `#[protected]` cannot see that attribute, so
//! next to every handler without one it declares a stand-in `__path_<handler>` behind a glob
//! import, and requires it to implement a trait only the stand-in implements. utoipa's struct,
//! when there is one, shadows the glob import, and the bound fails with a message that says
//! which order to write.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::{Attribute, LitStr, Meta};

use crate::paths;

/// The scheme names of `login::openapi::{OAUTH2_SCHEME, COOKIE_SCHEME}` (a test in `login`
/// checks that they agree).
const SCHEMES: [&str; 2] = ["OAuth2PasswordBearer", "APIKeyCookie"];

/// What the route requires, as `#[protected]` resolved it.
pub(crate) struct Requirement<'a> {
    /// `optional`: anonymous requests reach the handler.
    pub(crate) optional: bool,
    /// The scopes of `scopes = [...]`.
    pub(crate) scopes: &'a [LitStr],
    /// `fresh` or `factors`: the 401 also covers RFC 9470's step-up challenge.
    pub(crate) step_up: bool,
}

/// The index of the function's `#[utoipa::path]` attribute (also `#[path(...)]` after
/// `use utoipa::path`, which is the only `path` attribute a function can carry).
pub(crate) fn find_path_attribute(attrs: &[Attribute]) -> Option<usize> {
    attrs.iter().position(|attr| {
        let segments: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        match segments.as_slice() {
            [utoipa, path] => utoipa == "utoipa" && path == "path",
            [path] => path == "path" && !matches!(attr.meta, Meta::NameValue(_)),
            _ => false,
        }
    })
}

/// Adds the route's security requirement and its 401/403 responses to `attr`, a
/// `#[utoipa::path(...)]`.
pub(crate) fn document(attr: &mut Attribute, requirement: &Requirement<'_>) {
    let span = Span::call_site();
    let tokens = match &attr.meta {
        Meta::List(list) => list.tokens.clone(),
        Meta::Path(_) => TokenStream::new(),
        // `#[path = "..."]` is not utoipa's; leave it to the compiler.
        Meta::NameValue(_) => return,
    };
    let mut trees: Vec<TokenTree> = tokens.into_iter().collect();

    let ours = responses(requirement, span);
    match find_entry(&trees, "responses") {
        Some(index) if !ours.is_empty() => {
            if let TokenTree::Group(group) = &trees[index + 1] {
                let mut inner = ours;
                if !group.stream().is_empty() {
                    inner.extend(quote_spanned!(span=> ,));
                    inner.extend(group.stream());
                }
                let mut replaced = Group::new(Delimiter::Parenthesis, inner);
                replaced.set_span(group.span());
                trees[index + 1] = TokenTree::Group(replaced);
            }
        }
        None if !ours.is_empty() => {
            push_entry(&mut trees, quote_spanned!(span=> responses(#ours)));
        }
        _ => {}
    }
    if find_entry(&trees, "security").is_none() {
        let scopes = requirement.scopes;
        let mut alternatives: Vec<TokenStream> = SCHEMES
            .iter()
            .map(|scheme| {
                let scheme = LitStr::new(scheme, span);
                quote_spanned!(span=> (#scheme = [#(#scopes),*]))
            })
            .collect();
        if requirement.optional {
            alternatives.push(quote_spanned!(span=> ()));
        }
        push_entry(
            &mut trees,
            quote_spanned!(span=> security(#(#alternatives),*)),
        );
    }

    let path = attr.path().clone();
    let tokens: TokenStream = trees.into_iter().collect();
    attr.meta = syn::parse_quote_spanned!(span=> #path(#tokens));
}

/// `(status = 401, response = inline(...Unauthorized))` and, with scopes, the 403; nothing for
/// an optional route.
fn responses(requirement: &Requirement<'_>, span: Span) -> TokenStream {
    if requirement.optional {
        return TokenStream::new();
    }
    let unauthorized = if requirement.step_up {
        paths::private_openapi("StepUpRequired", span)
    } else {
        paths::private_openapi("Unauthorized", span)
    };
    let mut out = quote_spanned!(span=> (status = 401, response = inline(#unauthorized)));
    if !requirement.scopes.is_empty() {
        let forbidden = paths::private_openapi("Forbidden", span);
        out.extend(quote_spanned!(span=> , (status = 403, response = inline(#forbidden))));
    }
    out
}

/// The index of a top-level `name(...)` entry of the attribute's arguments.
fn find_entry(trees: &[TokenTree], name: &str) -> Option<usize> {
    (0..trees.len().saturating_sub(1)).find(|&index| {
        let starts_entry = index == 0
            || matches!(&trees[index - 1], TokenTree::Punct(punct) if punct.as_char() == ',');
        starts_entry
            && matches!(&trees[index], TokenTree::Ident(ident) if ident == name)
            && matches!(&trees[index + 1], TokenTree::Group(group)
                if group.delimiter() == Delimiter::Parenthesis)
    })
}

/// Appends `entry` to the attribute's arguments, after a `,` unless there is one already.
fn push_entry(trees: &mut Vec<TokenTree>, entry: TokenStream) {
    let ends_with_comma =
        matches!(trees.last(), Some(TokenTree::Punct(punct)) if punct.as_char() == ',');
    if !trees.is_empty() && !ends_with_comma {
        trees.extend(quote!(,));
    }
    trees.extend(entry);
}

/// For a handler with no `#[utoipa::path]` under `#[protected]`: a stand-in `__path_<name>`
/// behind a glob import, and a check that `__path_<name>` is the stand-in. utoipa's own struct
/// (from a `#[utoipa::path]` above `#[protected]`) shadows the glob import and fails the check,
/// with an error on the handler's name that says to put `#[protected]` first.
pub(crate) fn order_check(handler: &Ident) -> TokenStream {
    let call_site = Span::call_site();
    let stand_in = format_ident!("__path_{}", handler, span = call_site);
    let module = format_ident!("__login_path_{}", handler, span = call_site);
    let at_name = call_site.located_at(handler.span());
    let checked = format_ident!("__path_{}", handler, span = at_name);
    let marker = paths::private_openapi("ProtectedAboveUtoipaPath", call_site);
    let check = paths::private_openapi("protected_above_utoipa_path", at_name);
    quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, non_camel_case_types, dead_code)]
        mod #module {
            pub(super) struct #stand_in;
            #[automatically_derived]
            impl #marker for #stand_in {}
        }
        #[allow(unused_imports)]
        use #module::*;
        const _: () = #check::<#checked>();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `attr` (the attribute's source) as `document` rewrites it.
    fn documented(attr: &str, optional: bool, scopes: &[&str]) -> String {
        let item: syn::ItemFn = syn::parse_str(&format!("{attr} fn f() {{}}")).unwrap();
        let mut attr = item.attrs.into_iter().next().unwrap();
        let scopes: Vec<LitStr> = scopes
            .iter()
            .map(|scope| LitStr::new(scope, Span::call_site()))
            .collect();
        let requirement = Requirement {
            optional,
            scopes: &scopes,
            step_up: false,
        };
        document(&mut attr, &requirement);
        quote!(#attr).to_string()
    }

    #[test]
    fn finds_the_utoipa_path_attribute() {
        let item: syn::ItemFn = syn::parse_quote! {
            #[doc = "x"]
            #[tracing::instrument]
            #[utoipa::path(get, path = "/")]
            async fn f() {}
        };
        assert_eq!(find_path_attribute(&item.attrs), Some(2));
        let item: syn::ItemFn = syn::parse_quote! { #[path(get, path = "/")] async fn f() {} };
        assert_eq!(find_path_attribute(&item.attrs), Some(0));
        let item: syn::ItemFn =
            syn::parse_quote! { #[other::path(get)] #[path = "x"] async fn f() {} };
        assert_eq!(find_path_attribute(&item.attrs), None);
    }

    #[test]
    fn adds_security_and_responses() {
        let out = documented(r#"#[utoipa::path(get, path = "/me")]"#, false, &[]);
        assert!(
            out.contains(r#"security (("OAuth2PasswordBearer" = []) , ("APIKeyCookie" = []))"#),
            "{out}"
        );
        assert!(out.contains("status = 401"), "{out}");
        assert!(!out.contains("status = 403"), "{out}");
    }

    #[test]
    fn scopes_add_the_403_and_name_the_scopes() {
        let out = documented(r#"#[utoipa::path(get, path = "/x")]"#, false, &["a", "b"]);
        assert!(
            out.contains(r#"("OAuth2PasswordBearer" = ["a" , "b"])"#),
            "{out}"
        );
        assert!(out.contains("status = 403"), "{out}");
    }

    #[test]
    fn optional_allows_anonymous_and_adds_no_error_response() {
        let out = documented(
            r#"#[utoipa::path(get, path = "/x", responses((status = 200)))]"#,
            true,
            &["a"],
        );
        assert!(out.contains(r#"("APIKeyCookie" = ["a"]) , ())"#), "{out}");
        assert!(!out.contains("401") && !out.contains("403"), "{out}");
        assert!(out.contains("responses ((status = 200))"), "{out}");
    }

    #[test]
    fn our_responses_come_first_so_that_the_users_win() {
        let out = documented(
            r#"#[utoipa::path(get, path = "/x", responses((status = 401, description = "mine")),)]"#,
            false,
            &[],
        );
        let ours = out.find("Unauthorized").unwrap();
        let theirs = out.find("mine").unwrap();
        assert!(ours < theirs, "{out}");
        assert_eq!(out.matches("responses").count(), 1, "{out}");
    }

    #[test]
    fn a_security_the_user_wrote_is_kept() {
        let out = documented(
            r#"#[utoipa::path(get, path = "/x", security(("api_key" = [])))]"#,
            false,
            &[],
        );
        assert_eq!(out.matches("security").count(), 1, "{out}");
        assert!(!out.contains("OAuth2PasswordBearer"), "{out}");
        assert!(out.contains("status = 401"), "{out}");
    }

    #[test]
    fn a_bare_attribute_gets_arguments() {
        let out = documented("#[utoipa::path]", false, &[]);
        assert!(out.starts_with("# [utoipa :: path (responses ("), "{out}");
    }
}
