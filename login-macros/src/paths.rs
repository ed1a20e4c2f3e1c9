//! Every path the generated code names, in one place.
//!
//! Generated code only reaches the runtime through `::login::__private`, so a user depends on
//! `login` alone and names they shadow (`Result`, `Option`, `String`, ...) cannot capture ours.

use proc_macro2::{Span, TokenStream};
use quote::quote_spanned;

/// `::login::__private::<name>`, with every token at `span`.
pub(crate) fn private(name: &str, span: Span) -> TokenStream {
    let name = syn::Ident::new(name, span);
    quote_spanned!(span=> ::login::__private::#name)
}

/// `::login::__private::openapi::<name>`, with every token at `span`.
pub(crate) fn private_openapi(name: &str, span: Span) -> TokenStream {
    let name = syn::Ident::new(name, span);
    quote_spanned!(span=> ::login::__private::openapi::#name)
}

/// An identifier for a generated local: `__login_<name>`, resolved at the macro's own
/// (mixed-site) hygiene, so it can neither capture nor be captured by the user's names.
pub(crate) fn local(name: &str) -> syn::Ident {
    syn::Ident::new(&format!("__login_{name}"), Span::mixed_site())
}

/// A span at `location` (so errors point at the user's tokens) that still belongs to this
/// expansion (so lints such as `unused_qualifications` leave the generated paths alone).
pub(crate) fn at(location: Span) -> Span {
    Span::mixed_site().located_at(location)
}
