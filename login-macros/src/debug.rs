//! `LOGIN_MACROS_DEBUG=1`: print every expansion to stderr while compiling.

use proc_macro2::TokenStream;

/// Returns `tokens`, after printing them when `LOGIN_MACROS_DEBUG` is set (and not `0`).
pub(crate) fn dump(macro_name: &str, tokens: TokenStream) -> TokenStream {
    if std::env::var_os("LOGIN_MACROS_DEBUG").is_some_and(|value| value != "0") {
        eprintln!("#[{macro_name}] expands to:\n{tokens}\n");
    }
    tokens
}
