//! The arguments of `#[protected(...)]`: `optional`, `scopes = ["a", "b"]`, and for step-up
//! `fresh = "10m"` and `factors = ["otp"]`, in any order.
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
    syn::custom_keyword!(fresh);
    syn::custom_keyword!(factors);
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
    /// `fresh = "10m"`: the longest time since the login, in seconds. `None` also when the
    /// duration was malformed (that is reported).
    pub(crate) fresh: Option<u64>,
    /// `factors = ["otp"]`: the authentication methods the token's `amr` must hold, every one
    /// an RFC 8176 value. `None` also when the list was malformed (that is reported).
    pub(crate) factors: Option<Vec<LitStr>>,
}

/// The authentication method values of RFC 8176 §2 (the IANA registry it creates), which
/// `factors = [...]` accepts.
pub(crate) const FACTORS: &[&str] = &[
    "face", "fpt", "geo", "hwk", "iris", "kba", "mca", "mfa", "otp", "pin", "pop", "pwd", "rba",
    "retina", "sc", "sms", "swk", "tel", "user", "vbm", "wia",
];

/// The longest `fresh` duration: 30 days (a "fresh" login older than that is not fresh).
const MAX_FRESH: u64 = 30 * 24 * 3600;

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
        let mut seen = Seen::default();
        while !input.is_empty() {
            let parsed = self.parse_one(input, &mut seen, errors).and_then(|()| {
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
        seen: &mut Seen,
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
            if std::mem::replace(&mut seen.scopes, true) {
                errors.push(syn::Error::new(
                    keyword.span,
                    "`scopes` specified more than once; list every scope once: \
                     `scopes = [\"a\", \"b\"]`",
                ));
            } else {
                self.scopes = scopes;
            }
            Ok(())
        } else if lookahead.peek(kw::fresh) {
            let keyword: kw::fresh = input.parse()?;
            let fresh = parse_fresh(input, errors)?;
            if std::mem::replace(&mut seen.fresh, true) {
                errors.push(syn::Error::new(
                    keyword.span,
                    "`fresh` specified more than once: give one duration, like `fresh = \"10m\"`",
                ));
            } else {
                self.fresh = fresh;
            }
            Ok(())
        } else if lookahead.peek(kw::factors) {
            let keyword: kw::factors = input.parse()?;
            let factors = parse_factors(input, errors)?;
            if std::mem::replace(&mut seen.factors, true) {
                errors.push(syn::Error::new(
                    keyword.span,
                    "`factors` specified more than once; list every factor once: \
                     `factors = [\"otp\"]`",
                ));
            } else {
                self.factors = factors;
            }
            Ok(())
        } else {
            Err(lookahead.error())
        }
    }
}

/// Which arguments were met already (each may appear once).
#[derive(Default)]
struct Seen {
    scopes: bool,
    fresh: bool,
    factors: bool,
}

/// `= "10m"` after the `fresh` keyword: a whole number and one unit (`s`, `m`, `h`, `d`),
/// from one second to 30 days. Malformed syntax is returned at once; a bad duration is
/// reported to `errors` with the literal's span, and then the duration is `None`.
fn parse_fresh(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Option<u64>> {
    if !input.peek(Token![=]) {
        return Err(input.error("expected `=`: write `fresh = \"10m\"`"));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(LitStr) {
        return Err(input.error(
            "expected a duration in a string literal, like `fresh = \"10m\"` \
             (units: `s`, `m`, `h`, `d`)",
        ));
    }
    let lit: LitStr = input.parse()?;
    match parse_duration(&lit.value()) {
        Ok(seconds) => Ok(Some(seconds)),
        Err(message) => {
            errors.push(syn::Error::new(lit.span(), message));
            Ok(None)
        }
    }
}

/// `"90s"`, `"10m"`, `"1h"`, `"7d"` in seconds, or what is wrong with it.
fn parse_duration(text: &str) -> Result<u64, String> {
    let usage = "write a whole number and a unit, like \"30s\", \"10m\", \"1h\" or \"1d\"";
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("the duration {text:?} has no unit: {usage}"))?;
    let (number, unit) = text.split_at(split);
    if number.is_empty() {
        return Err(format!(
            "the duration {text:?} does not start with a number: {usage}"
        ));
    }
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 24 * 3600,
        _ => {
            return Err(format!(
                "the duration {text:?} has an unknown unit {unit:?}: {usage}"
            ));
        }
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|&s| s <= MAX_FRESH)
        .ok_or_else(|| format!("the duration {text:?} is longer than 30 days"))?;
    if seconds == 0 {
        return Err(format!(
            "the duration {text:?} is zero: no login is that fresh; give at least \"1s\""
        ));
    }
    Ok(seconds)
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

/// `= ["otp", "hwk"]` after the `factors` keyword: RFC 8176 values, each once.
fn parse_factors(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Option<Vec<LitStr>>> {
    parse_list(input, errors, &LIST_OF_FACTORS, check_factor)
}

/// `= ["a", "b"]` after the `scopes` keyword.
fn parse_scopes(input: ParseStream<'_>, errors: &mut Errors) -> syn::Result<Option<Scopes>> {
    let values = parse_list(input, errors, &LIST_OF_SCOPES, check_scope_token)?;
    Ok(values.map(|values| Scopes { values }))
}

/// What a list argument's messages say: its name, an example, and what an empty list means.
struct ListMessages {
    /// `expected `=`: ...`
    equals: &'static str,
    /// `expected a list of string literals in brackets: ...`
    brackets: &'static str,
    /// The error for `[]`.
    empty: &'static str,
    /// The error for an entry that is not a string literal.
    not_literal: &'static str,
    /// `{what} `x` is listed more than once`.
    what: &'static str,
}

const LIST_OF_SCOPES: ListMessages = ListMessages {
    equals: "expected `=`: write `scopes = [\"read\", \"write\"]`",
    brackets: "expected a list of string literals in brackets: `scopes = [\"read\", \"write\"]`",
    empty: "`scopes` needs at least one scope, like `scopes = [\"read\"]`; \
            to require only authentication, remove `scopes`",
    not_literal: "scopes must be string literals, like `\"items:write\"`",
    what: "scope",
};

const LIST_OF_FACTORS: ListMessages = ListMessages {
    equals: "expected `=`: write `factors = [\"otp\"]`",
    brackets: "expected a list of string literals in brackets: `factors = [\"otp\"]`",
    empty: "`factors` needs at least one factor, like `factors = [\"otp\"]`; \
            to require none, remove `factors`",
    not_literal: "factors must be string literals, like `\"otp\"`",
    what: "factor",
};

/// `= ["a", "b"]` after a list argument's keyword. Malformed syntax is returned at once;
/// invalid entries (refused by `check`, or repeated) are collected into `errors` so that
/// every bad entry is reported in one go, and then the list is `None`.
fn parse_list(
    input: ParseStream<'_>,
    errors: &mut Errors,
    messages: &ListMessages,
    check: fn(&str) -> Result<(), String>,
) -> syn::Result<Option<Vec<LitStr>>> {
    if !input.peek(Token![=]) {
        return Err(input.error(messages.equals));
    }
    input.parse::<Token![=]>()?;
    if !input.peek(token::Bracket) {
        return Err(input.error(messages.brackets));
    }
    let content;
    let bracket = syn::bracketed!(content in input);
    let entries = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    let mut valid = true;
    if entries.is_empty() {
        valid = false;
        errors.push(syn::Error::new(bracket.span.join(), messages.empty));
    }
    let mut values: Vec<LitStr> = Vec::with_capacity(entries.len());
    for entry in entries {
        let lit = match entry {
            Expr::Lit(ExprLit {
                lit: Lit::Str(lit), ..
            }) => lit,
            other => {
                valid = false;
                errors.push(syn::Error::new_spanned(other, messages.not_literal));
                continue;
            }
        };
        let value = lit.value();
        if let Err(message) = check(&value) {
            valid = false;
            errors.push(syn::Error::new(lit.span(), message));
        } else if values.iter().any(|seen| seen.value() == value) {
            valid = false;
            errors.push(syn::Error::new(
                lit.span(),
                format!("{} `{value}` is listed more than once", messages.what),
            ));
        } else {
            values.push(lit);
        }
    }
    Ok(valid.then_some(values))
}

/// An RFC 8176 authentication method, as `factors = [...]` accepts it.
fn check_factor(value: &str) -> Result<(), String> {
    if FACTORS.contains(&value) {
        return Ok(());
    }
    Err(format!(
        "unknown factor `{value}`: use an RFC 8176 authentication method, such as \
         \"otp\" (a one-time code), \"hwk\" (a passkey or security key), \"mfa\" \
         (any second factor) or \"pwd\" (a password)"
    ))
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
        assert_eq!(
            error("foo"),
            "expected one of: `optional`, `scopes`, `fresh`, `factors`"
        );
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

    #[test]
    fn fresh_takes_a_duration_with_a_unit() {
        for (text, seconds) in [
            ("1s", 1),
            ("90s", 90),
            ("10m", 600),
            ("1h", 3600),
            ("7d", 604_800),
            ("30d", 2_592_000),
        ] {
            let (args, errors) = parse(&format!("fresh = {text:?}"));
            assert_eq!(errors, Vec::<String>::new(), "{text}");
            assert_eq!(args.fresh, Some(seconds), "{text}");
        }
        for (text, message) in [
            ("10", "has no unit"),
            ("m", "does not start with a number"),
            ("10 m", "unknown unit \" m\""),
            ("10min", "unknown unit \"min\""),
            ("1h30m", "unknown unit \"h30m\""),
            ("-5m", "does not start with a number"),
            ("0s", "is zero"),
            ("31d", "longer than 30 days"),
            ("99999999999999999999s", "longer than 30 days"),
            ("", "has no unit"),
        ] {
            let (args, errors) = parse(&format!("fresh = {text:?}"));
            assert_eq!(args.fresh, None, "{text}");
            assert_eq!(errors.len(), 1, "{text}: {errors:?}");
            assert!(errors[0].contains(message), "{text}: {errors:?}");
        }
        assert!(error("fresh = 600").starts_with("expected a duration in a string literal"));
        assert!(error(r#"fresh "10m""#).starts_with("expected `=`"));
        assert!(error(r#"fresh = "1m", fresh = "2m""#).starts_with("`fresh` specified more"));
    }

    #[test]
    fn factors_are_rfc_8176_methods() {
        let (args, errors) = parse(r#"factors = ["otp", "hwk"], fresh = "5m", optional"#);
        assert_eq!(errors, Vec::<String>::new());
        let factors: Vec<String> = args.factors.unwrap().iter().map(LitStr::value).collect();
        assert_eq!(factors, ["otp", "hwk"]);
        assert_eq!(args.fresh, Some(300));
        assert!(args.optional.is_some());
        for (tokens, message) in [
            (r#"factors = ["totp"]"#, "unknown factor `totp`"),
            (r#"factors = ["OTP"]"#, "unknown factor `OTP`"),
            (r#"factors = ["otp", "otp"]"#, "listed more than once"),
            ("factors = []", "needs at least one factor"),
            ("factors = [otp]", "factors must be string literals"),
            (r#"factors = "otp""#, "expected a list"),
        ] {
            let (args, errors) = parse(tokens);
            assert!(args.factors.is_none(), "{tokens}");
            assert!(errors.join(" | ").contains(message), "{tokens}: {errors:?}");
        }
        assert!(
            FACTORS.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicate"
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
