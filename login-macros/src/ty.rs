//! Syntactic inspection of types: `Option<T>`, `Result<Option<T>, E>`, and user types that
//! the generated impls cannot name.

use quote::ToTokens;
use syn::{GenericArgument, PathArguments, ReturnType, Type, TypeParamBound};

/// `T` when `ty` is `Option<T>` (also `core::option::Option<T>`, `std::option::Option<T>`).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    match generic_args(ty, "Option")?.as_slice() {
        [inner] => Some(inner),
        _ => None,
    }
}

/// `T` when `ty` is `Result<Option<T>, E>` (any path ending in `Result`; also an alias with
/// one argument, like `Result<Option<T>>`).
pub(crate) fn result_option_inner(ty: &Type) -> Option<&Type> {
    match generic_args(ty, "Result")?.as_slice() {
        [ok] | [ok, _] => option_inner(ok),
        _ => None,
    }
}

/// `T` when `ty` is `Result<T, E>` (any path ending in `Result`, also an alias with one
/// argument).
pub(crate) fn result_ok(ty: &Type) -> Option<&Type> {
    generic_args(ty, "Result")?.first().copied()
}

/// The type arguments of `ty` when it is a path whose last segment is `name<...>`.
fn generic_args<'a>(ty: &'a Type, name: &str) -> Option<Vec<&'a Type>> {
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args
        .iter()
        .map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect()
}

/// `ty` without invisible groups and parentheses.
pub(crate) fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// Whether a function returning `output` already returns a future: `impl Future<...>`,
/// `Pin<...>` or a `...Future<...>` alias such as `BoxFuture<'_, T>`.
pub(crate) fn returns_future(output: &ReturnType) -> bool {
    let ReturnType::Type(_, returned) = output else {
        return false;
    };
    match peel(returned) {
        Type::ImplTrait(bounds) => bounds.bounds.iter().any(|bound| {
            matches!(bound, TypeParamBound::Trait(bound)
                if bound.path.segments.last().is_some_and(|last| last.ident == "Future"))
        }),
        Type::Path(path) => {
            path.path.segments.last().is_some_and(|last| {
                last.ident == "Pin" || last.ident.to_string().ends_with("Future")
            })
        }
        _ => false,
    }
}

/// Types that cannot be the user: not a plain named type (`&User`, `(A, B)`, `[User; 2]`,
/// `impl Trait`, `Self`, `<T as Trait>::Assoc`, ...).
pub(crate) fn check_named(ty: &Type, what: &str) -> syn::Result<()> {
    match peel(ty) {
        Type::Path(path) if path.qself.is_none() && !path.path.is_ident("Self") => Ok(()),
        _ => Err(syn::Error::new_spanned(
            ty,
            format!(
                "{what} must be a named type, like `User`, not `{}`",
                display(ty)
            ),
        )),
    }
}

/// Types the orphan rule keeps `#[user_loader]` from implementing `UserLoader` for: a type
/// defined in another crate (`String`, `Vec<..>`, `Arc<User>`, `u64`, `::uuid::Uuid`, ...).
/// Only what is certain from the syntax is caught; `serde_json::Value` is left to rustc.
pub(crate) fn check_local(ty: &Type) -> syn::Result<()> {
    let Type::Path(path) = peel(ty) else {
        return Ok(());
    };
    let path = &path.path;
    let first = path
        .segments
        .first()
        .map(|segment| segment.ident.to_string());
    let foreign = path.leading_colon.is_some()
        || matches!(first.as_deref(), Some("std" | "core" | "alloc"))
        || (path.segments.len() == 1 && first.as_deref().is_some_and(is_std_name));
    if !foreign {
        return Ok(());
    }
    let shown = display(ty);
    Err(syn::Error::new_spanned(
        ty,
        format!(
            "`{shown}` is defined in another crate, so `#[user_loader]` cannot implement \
             `login::loader::UserLoader` for it (Rust's orphan rule); wrap it in a newtype defined in \
             your crate, like `#[derive(Clone)] struct AppUser({shown});`, and return that"
        ),
    ))
}

/// Primitives and the standard library types a loader is likely to return by mistake.
fn is_std_name(name: &str) -> bool {
    matches!(
        name,
        "bool"
            | "char"
            | "str"
            | "u8"
            | "u16"
            | "u32"
            | "u64"
            | "u128"
            | "usize"
            | "i8"
            | "i16"
            | "i32"
            | "i64"
            | "i128"
            | "isize"
            | "f32"
            | "f64"
            | "String"
            | "Vec"
            | "Box"
            | "Option"
            | "Result"
            | "Arc"
            | "Rc"
            | "Cow"
            | "Cell"
            | "RefCell"
            | "Mutex"
            | "RwLock"
            | "HashMap"
            | "HashSet"
            | "BTreeMap"
            | "BTreeSet"
            | "VecDeque"
            | "PathBuf"
    )
}

/// `ty` as the user wrote it, near enough: `Arc<User>` rather than `Arc < User >`.
pub(crate) fn display(ty: &Type) -> String {
    let mut out = String::new();
    let text = ty.to_token_stream().to_string();
    for (i, piece) in text.split(' ').enumerate() {
        let glue = i > 0
            && !matches!(piece, "<" | ">" | "," | "::" | ">>")
            && !out.ends_with('<')
            && !out.ends_with("::")
            && !out.ends_with('&');
        if glue {
            out.push(' ');
        }
        out.push_str(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).unwrap()
    }

    fn shown(inner: Option<&Type>) -> Option<String> {
        inner.map(display)
    }

    #[test]
    fn finds_the_user_type() {
        assert_eq!(
            shown(option_inner(&ty("Option<User>"))).as_deref(),
            Some("User")
        );
        assert_eq!(
            shown(option_inner(&ty("::core::option::Option<crate::m::User>"))).as_deref(),
            Some("crate::m::User")
        );
        assert_eq!(
            shown(result_option_inner(&ty("Result<Option<User>, DbError>"))).as_deref(),
            Some("User")
        );
        assert_eq!(
            shown(result_option_inner(&ty(
                "std::result::Result<Option<User>, E>"
            )))
            .as_deref(),
            Some("User")
        );
        assert_eq!(
            shown(result_option_inner(&ty("AppResult<Option<User>>"))),
            None,
            "the last segment must be `Result`"
        );
        assert!(option_inner(&ty("User")).is_none());
        assert!(option_inner(&ty("Option<User, X>")).is_none());
        assert!(result_option_inner(&ty("Result<User, E>")).is_none());
    }

    #[test]
    fn detects_foreign_user_types() {
        for foreign in [
            "String",
            "u64",
            "Vec<User>",
            "Arc<User>",
            "std::sync::Arc<User>",
            "::uuid::Uuid",
        ] {
            assert!(check_local(&ty(foreign)).is_err(), "{foreign}");
        }
        for local in ["User", "crate::User", "models::User", "User<Db>"] {
            assert!(check_local(&ty(local)).is_ok(), "{local}");
        }
        for unnamed in ["&User", "(User,)", "[User; 1]", "Self", "<T as X>::User"] {
            assert!(check_named(&ty(unnamed), "x").is_err(), "{unnamed}");
        }
    }

    #[test]
    fn detects_futures() {
        let output = |text: &str| -> ReturnType { syn::parse_str(text).unwrap() };
        for future in [
            "-> impl Future<Output = String>",
            "-> impl core::future::Future<Output = ()> + Send",
            "-> Pin<Box<dyn Future<Output = ()> + Send>>",
            "-> BoxFuture<'static, String>",
        ] {
            assert!(returns_future(&output(future)), "{future}");
        }
        for plain in ["", "-> String", "-> impl IntoResponse", "-> Json<Future>"] {
            assert!(!returns_future(&output(plain)), "{plain}");
        }
    }

    #[test]
    fn displays_types_compactly() {
        assert_eq!(display(&ty("Arc < User >")), "Arc<User>");
        assert_eq!(
            display(&ty("std::collections::HashMap<String, Vec<u8>>")),
            "std::collections::HashMap<String, Vec<u8>>"
        );
        assert_eq!(display(&ty("&'static str")), "&'static str");
    }
}
