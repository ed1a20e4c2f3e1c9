//! Error plumbing: fold several errors into one, and fail soft.

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Several errors folded into one, so that the user sees all of them in one build.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn extend(&mut self, errors: impl IntoIterator<Item = syn::Error>) {
        for error in errors {
            self.push(error);
        }
    }

    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// The error next to the item, unchanged, so that one mistake does not cascade into
/// "cannot find function" errors elsewhere and IDEs keep seeing the function.
pub(crate) fn with_item(error: syn::Error, item: impl ToTokens) -> TokenStream {
    let mut tokens = error.into_compile_error();
    item.to_tokens(&mut tokens);
    tokens
}
