//! Error plumbing: fold several errors into one, and fail soft.
//!
//! The macros never stop at the first error: they record it and carry on with a best guess,
//! so that the expansion is still the function the user meant (an axum handler, a loader
//! impl) and rustc reports the real mistake only, not a cascade of "`Handler<_, _>` is not
//! implemented" or "cannot find function" errors after it.

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

    /// `Ok` when no error was pushed; otherwise all of them.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// One `compile_error!` per error, in the order they were pushed; nothing when there
    /// are none.
    pub(crate) fn into_compile_error(self) -> TokenStream {
        self.0
            .map_or_else(TokenStream::new, syn::Error::into_compile_error)
    }

    /// The errors followed by `expansion`: the macro's best guess at what was meant.
    pub(crate) fn with(self, expansion: impl ToTokens) -> TokenStream {
        let mut tokens = self.into_compile_error();
        expansion.to_tokens(&mut tokens);
        tokens
    }

    #[cfg(test)]
    pub(crate) fn messages(self) -> Vec<String> {
        self.0
            .into_iter()
            .flatten()
            .map(|error| error.to_string())
            .collect()
    }
}

/// Both values, or every error of the two (`a`'s first): how validation keeps every value
/// it checked without an "impossible" branch for a missing one.
pub(crate) fn join<A, B>(a: syn::Result<A>, b: syn::Result<B>) -> syn::Result<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(mut first), Err(second)) => {
            first.combine(second);
            Err(first)
        }
        (Err(error), Ok(_)) | (Ok(_), Err(error)) => Err(error),
    }
}

impl From<syn::Error> for Errors {
    fn from(error: syn::Error) -> Self {
        Self(Some(error))
    }
}
