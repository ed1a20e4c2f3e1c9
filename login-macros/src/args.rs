//! The arguments of `#[protected(...)]`: `optional` and `scopes = ["a", "b"]`, in any order.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Token, token};

use crate::error::Errors;

mod kw {
    syn::custom_keyword!(optional);
    syn::custom_keyword!(scopes);
}

/// `#[protected]`, `#[protected(optional)]`, `#[protected(scopes = [...])]` or both.
#[derive(Default)]
pub(crate) struct ProtectedArgs {
    /// `optional`: the first parameter is `Option<User>`.
    pub(crate) optional: Option<kw::optional>,
    /// `scopes = [...]`: every listed scope is required.
    pub(crate) scopes: Option<Scopes>,
}

/// `scopes = ["a", "b"]`, already validated: non-empty, every entry an RFC 6749 scope-token.
pub(crate) struct Scopes {
    pub(crate) values: Vec<LitStr>,
}

impl Parse for ProtectedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Self::default();
        let mut errors = Errors::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::optional) {
                let optional: kw::optional = input.parse()?;
                if input.peek(Token![=]) || input.peek(token::Paren) {
                    return Err(
                        input.error("`optional` takes no value: write `#[protected(optional)]`")
                    );
                }
                if args.optional.is_some() {
                    errors.push(syn::Error::new(
                        optional.span,
                        "`optional` specified more than once",
                    ));
                } else {
                    args.optional = Some(optional);
                }
            } else if lookahead.peek(kw::scopes) {
                let keyword: kw::scopes = input.parse()?;
                let scopes = parse_scopes(input, &mut errors)?;
                if args.scopes.is_some() {
                    errors.push(syn::Error::new(
                        keyword.span,
                        "`scopes` specified more than once; list every scope once: \
                         `scopes = [\"a\", \"b\"]`",
                    ));
                } else {
                    args.scopes = Some(scopes);
                }
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        errors.finish()?;
        Ok(args)
    }
}

/// `= ["a", "b"]` after the `scopes` keyword. Malformed syntax is returned at once; invalid
/// entries are collected into `errors` so that every bad scope is reported in one go.
fn parse_scopes(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Scopes> {
    if !input.peek(Token![=]) {
        return Err(input.error("expected `=`: write `scopes = [\"read\", \"write\"]`"));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(token::Bracket) {
        return Err(input.error(
            "expected a list of string literals in brackets: `scopes = [\"read\", \"write\"]`",
        ));
    }
    let content;
    let bracket = syn::bracketed!(content in input);
    let entries = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    if entries.is_empty() {
        errors.push(syn::Error::new(
            bracket.span.join(),
            "`scopes` needs at least one scope, like `scopes = [\"read\"]`; \
             to require only authentication, remove `scopes`",
        ));
    }
    let mut values: Vec<LitStr> = Vec::with_capacity(entries.len());
    for entry in entries {
        let lit = match entry {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => lit,
            other => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "scopes must be string literals, like `\"items:write\"`",
                ));
                continue;
            }
        };
        let value = lit.value();
        if let Err(message) = check_scope_token(&value) {
            errors.push(syn::Error::new(lit.span(), message));
        } else if values.iter().any(|seen| seen.value() == value) {
            errors.push(syn::Error::new(
                lit.span(),
                format!("scope `{value}` is listed more than once"),
            ));
        } else {
            values.push(lit);
        }
    }
    Ok(Scopes { values })
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, that is printable ASCII
/// except space, `"` and `\`.
fn check_scope_token(scope: &str) -> Result<(), String> {
    if scope.is_empty() {
        return Err("a scope cannot be empty".to_owned());
    }
    if scope.chars().any(char::is_whitespace) {
        return Err(format!(
            "the scope {scope:?} contains whitespace; list each scope as its own string: \
             `scopes = [\"read\", \"write\"]`"
        ));
    }
    if let Some(bad) = scope
        .chars()
        .find(|&c| !matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
    {
        return Err(format!(
            "the scope {scope:?} contains {bad:?}, which is not allowed in a scope \
             (RFC 6749 §3.3: printable ASCII except space, `\"` and `\\`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: &str) -> syn::Result<ProtectedArgs> {
        syn::parse_str(tokens)
    }

    fn error(tokens: &str) -> String {
        match parse(tokens) {
            Ok(_) => panic!("`{tokens}` parsed"),
            Err(error) => error
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }

    #[test]
    fn accepts_every_combination() {
        for ok in [
            "",
            "optional",
            "optional,",
            r#"scopes = ["a"]"#,
            r#"scopes = ["a", "b:c",]"#,
            r#"optional, scopes = ["a"]"#,
            r#"scopes = ["a"], optional"#,
        ] {
            assert!(parse(ok).is_ok(), "{ok}");
        }
        let args = parse(r#"scopes = ["items:write", "x"], optional"#).unwrap();
        assert!(args.optional.is_some());
        let scopes: Vec<_> = args
            .scopes
            .unwrap()
            .values
            .iter()
            .map(LitStr::value)
            .collect();
        assert_eq!(scopes, ["items:write", "x"]);
    }

    #[test]
    fn rejects_misuse() {
        assert_eq!(error("foo"), "expected `optional` or `scopes`");
        assert_eq!(
            error("optional, optional"),
            "`optional` specified more than once"
        );
        assert!(error(r#"scopes = ["a"], scopes = ["b"]"#).starts_with("`scopes` specified"));
        assert!(error("optional = true").starts_with("`optional` takes no value"));
        assert!(error(r#"scopes ["a"]"#).starts_with("expected `=`"));
        assert!(error(r#"scopes = "a""#).starts_with("expected a list"));
        assert!(error("scopes = [A]").starts_with("scopes must be string literals"));
        assert!(error("scopes = [1]").starts_with("scopes must be string literals"));
        assert!(error("scopes = []").starts_with("`scopes` needs at least one scope"));
        assert!(error(r#"scopes = [""]"#).starts_with("a scope cannot be empty"));
        assert!(error(r#"scopes = ["a b"]"#).contains("contains whitespace"));
        assert!(error(r#"scopes = ["a\"b"]"#).contains("not allowed in a scope"));
        assert!(error(r#"scopes = ["a\\b"]"#).contains("not allowed in a scope"));
        assert!(error(r#"scopes = ["é"]"#).contains("not allowed in a scope"));
        assert!(error(r#"scopes = ["a", "a"]"#).contains("listed more than once"));
        assert_eq!(error("optional scopes"), "expected `,`");
        // Every invalid scope is reported, not only the first.
        assert_eq!(
            error(r#"scopes = ["", X, "a b"]"#).matches(" | ").count(),
            2
        );
    }
}
