//! The arguments of `#[protected(...)]`: `optional` and `scopes = ["a", "b"]`, in any order.
//!
//! Parsing never gives up: a malformed argument is reported and skipped (up to the next
//! top-level `,`), so that `#[protected]` can still expand the handler with what it did
//! understand, and routing it adds no error of its own.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Token, token};

use crate::error::Errors;

mod kw {
    syn::custom_keyword!(optional);
    syn::custom_keyword!(scopes);
    syn::custom_keyword!(manager);
}

/// `#[user_loader]` or `#[user_loader(manager = Admins)]`: the type holding the manager that
/// verifies this user's tokens (`None`: `LoginManager`).
#[derive(Default)]
pub(crate) struct LoaderArgs {
    pub(crate) manager: Option<syn::Type>,
}

impl LoaderArgs {
    /// The arguments, and the errors found; a malformed `manager` counts as absent.
    pub(crate) fn parse(tokens: TokenStream) -> (Self, Errors) {
        let mut errors = Errors::default();
        let parsed = (|input: ParseStream<'_>| -> syn::Result<Option<syn::Type>> {
            if input.is_empty() {
                return Ok(None);
            }
            if !input.peek(kw::manager) {
                return Err(input.error(
                    "`#[user_loader]` takes one optional argument: `manager = Type` \
                     (the type holding this user's `LoginManager`)",
                ));
            }
            let keyword = input.parse::<kw::manager>()?;
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    keyword.span,
                    "expected `=` after `manager`: write `manager = Admins`",
                ));
            }
            input.parse::<Token![=]>()?;
            let manager: syn::Type = input.parse()?;
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
            }
            if !input.is_empty() {
                return Err(input.error(
                    "`#[user_loader]` takes one argument: `manager = Type`; nothing follows it",
                ));
            }
            Ok(Some(manager))
        })
        .parse2(tokens);
        let manager = parsed.unwrap_or_else(|error| {
            errors.push(error);
            None
        });
        (LoaderArgs { manager }, errors)
    }
}

/// `#[protected]`, `#[protected(optional)]`, `#[protected(scopes = [...])]` or both.
#[derive(Default)]
pub(crate) struct ProtectedArgs {
    /// `optional`: the first parameter is `Option<User>`.
    pub(crate) optional: Option<kw::optional>,
    /// `scopes = [...]`: every listed scope is required. `None` also when the list was
    /// malformed or held an invalid scope (that is reported).
    pub(crate) scopes: Option<Scopes>,
}

/// `scopes = ["a", "b"]`, already validated: non-empty, every entry an RFC 6749 scope-token.
pub(crate) struct Scopes {
    pub(crate) values: Vec<LitStr>,
}

impl ProtectedArgs {
    /// The arguments understood, and every error found on the way; the arguments are then
    /// a best guess (a malformed argument counts as absent).
    pub(crate) fn parse(tokens: TokenStream) -> (Self, Errors) {
        let mut args = Self::default();
        let mut errors = Errors::default();
        let parser = |input: ParseStream<'_>| args.parse_all(input, &mut errors);
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        (args, errors)
    }

    /// Every argument, to the end of `input`: errors go to `errors`, and the rest of a
    /// malformed argument is skipped.
    fn parse_all(&mut self, input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<()> {
        let mut scopes_seen = false;
        while !input.is_empty() {
            let parsed = self
                .parse_one(input, &mut scopes_seen, errors)
                .and_then(|()| {
                    if !input.is_empty() {
                        input.parse::<Token![,]>()?;
                    }
                    Ok(())
                });
            if let Err(error) = parsed {
                errors.push(error);
                skip_argument(input)?;
            }
        }
        Ok(())
    }

    /// One argument. An `Err` is a syntax error; the caller skips the rest of the argument.
    fn parse_one(
        &mut self,
        input: ParseStream<'_>,
        scopes_seen: &mut bool,
        errors: &mut Errors,
    ) -> syn::Result<()> {
        let lookahead = input.lookahead1();
        if lookahead.peek(kw::optional) {
            let optional: kw::optional = input.parse()?;
            if self.optional.is_some() {
                errors.push(syn::Error::new(
                    optional.span,
                    "`optional` specified more than once",
                ));
            } else {
                // Even with a stray value after it, `optional` is what the user meant.
                self.optional = Some(optional);
            }
            if input.peek(Token![=]) || input.peek(token::Paren) {
                return Err(
                    input.error("`optional` takes no value: write `#[protected(optional)]`")
                );
            }
            Ok(())
        } else if lookahead.peek(kw::scopes) {
            let keyword: kw::scopes = input.parse()?;
            let scopes = parse_scopes(input, errors)?;
            if std::mem::replace(scopes_seen, true) {
                errors.push(syn::Error::new(
                    keyword.span,
                    "`scopes` specified more than once; list every scope once: \
                     `scopes = [\"a\", \"b\"]`",
                ));
            } else {
                self.scopes = scopes;
            }
            Ok(())
        } else {
            Err(lookahead.error())
        }
    }
}

/// Skips to just after the next top-level `,` (brackets are single token trees, so a comma
/// inside `[...]` does not count), or to the end.
fn skip_argument(input: ParseStream<'_>) -> syn::Result<()> {
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            rest = next;
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
        }
        Ok(((), rest))
    })
}

/// `= ["a", "b"]` after the `scopes` keyword. Malformed syntax is returned at once; invalid
/// entries are collected into `errors` so that every bad scope is reported in one go, and
/// then the list is `None`.
fn parse_scopes(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Option<Scopes>> {
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
    let mut valid = true;
    if entries.is_empty() {
        valid = false;
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
                valid = false;
                errors.push(syn::Error::new_spanned(
                    other,
                    "scopes must be string literals, like `\"items:write\"`",
                ));
                continue;
            }
        };
        let value = lit.value();
        if let Err(message) = check_scope_token(&value) {
            valid = false;
            errors.push(syn::Error::new(lit.span(), message));
        } else if values.iter().any(|seen| seen.value() == value) {
            valid = false;
            errors.push(syn::Error::new(
                lit.span(),
                format!("scope `{value}` is listed more than once"),
            ));
        } else {
            values.push(lit);
        }
    }
    Ok(valid.then_some(Scopes { values }))
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

    fn parse(tokens: &str) -> (ProtectedArgs, Vec<String>) {
        let (args, errors) = ProtectedArgs::parse(tokens.parse().unwrap());
        (args, errors.messages())
    }

    fn error(tokens: &str) -> String {
        let (_, errors) = parse(tokens);
        assert!(!errors.is_empty(), "`{tokens}` parsed");
        errors.join(" | ")
    }

    fn scopes(args: &ProtectedArgs) -> Option<Vec<String>> {
        let scopes = args.scopes.as_ref()?;
        Some(scopes.values.iter().map(LitStr::value).collect())
    }

    fn loader(tokens: &str) -> (Option<String>, Vec<String>) {
        let (args, errors) = LoaderArgs::parse(tokens.parse().unwrap());
        let manager = args
            .manager
            .map(|ty| quote::ToTokens::to_token_stream(&ty).to_string());
        (manager, errors.messages())
    }

    #[test]
    fn loader_arguments() {
        assert_eq!(loader(""), (None, vec![]));
        assert_eq!(loader("manager = Admins"), (Some("Admins".into()), vec![]));
        assert_eq!(
            loader("manager = crate::auth::Admins,"),
            (Some("crate :: auth :: Admins".into()), vec![])
        );
        for (tokens, message) in [
            ("foo", "takes one optional argument: `manager = Type`"),
            ("manager", "expected `=`"),
            ("manager Admins", "expected `=`"),
            ("manager = ", "expected one of"),
            ("manager = Admins, optional", "nothing follows it"),
            ("manager = Admins Users", "nothing follows it"),
        ] {
            let (manager, errors) = loader(tokens);
            assert_eq!(manager, None, "{tokens}");
            assert_eq!(errors.len(), 1, "{tokens}: {errors:?}");
            assert!(errors[0].contains(message), "{tokens}: {errors:?}");
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
            assert_eq!(parse(ok).1, Vec::<String>::new(), "{ok}");
        }
        let (args, _) = parse(r#"scopes = ["items:write", "x"], optional"#);
        assert!(args.optional.is_some());
        assert_eq!(scopes(&args).unwrap(), ["items:write", "x"]);
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

    /// Each mistake is reported once, and what was understood around it is kept: the best
    /// guess `#[protected]` expands with.
    #[test]
    fn recovers_what_it_understood() {
        let cases: [(&str, bool, Option<&[&str]>, usize); 11] = [
            // (arguments, optional?, scopes, number of errors)
            ("foo, optional", true, None, 1),
            (r#"scope = ["read"], optional"#, true, None, 1),
            (r#"optional = true, scopes = ["a"]"#, true, Some(&["a"]), 1),
            (r#"optional(), scopes = ["a"]"#, true, Some(&["a"]), 1),
            (r#"optional scopes = ["a"]"#, true, None, 1),
            (r#"scopes = ["a", ""], optional"#, true, None, 1),
            (r#"scopes = [], optional"#, true, None, 1),
            (r#"scopes ["a"], optional"#, true, None, 1),
            (r#"scopes = "a, b", optional"#, true, None, 1),
            (r#"scopes = ["a"], scopes = ["b"]"#, false, Some(&["a"]), 1),
            (r#"scopes = [""], scopes = ["b"]"#, false, None, 2),
        ];
        for (tokens, optional, expected, count) in cases {
            let (args, errors) = parse(tokens);
            assert_eq!(args.optional.is_some(), optional, "{tokens}");
            assert_eq!(
                scopes(&args),
                expected.map(|s| s.iter().map(|s| (*s).to_owned()).collect()),
                "{tokens}"
            );
            assert_eq!(errors.len(), count, "{tokens}: {errors:?}");
        }
    }
}
