//! Expansion snapshots: every `tests/expand/NAME.rs` is expanded item by item and compared,
//! pretty-printed, with `tests/expand/NAME.expanded.rs`. Set `LOGIN_EXPAND_OVERWRITE=1` to
//! rewrite the snapshots, then review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::ToTokens;

/// Expands the first `#[protected]` / `#[user_loader]` attribute of each item in `source`,
/// `#[protected]` as with the `openapi` feature when `openapi` is set (whatever the features
/// this crate was built with, so that the snapshots do not depend on them).
fn expand_file(source: &str, openapi: bool) -> String {
    let file: syn::File = syn::parse_str(source).expect("the input parses as a Rust file");
    let mut out = TokenStream::new();
    for attr in &file.attrs {
        attr.to_tokens(&mut out);
    }
    for mut item in file.items {
        let attrs = match &mut item {
            syn::Item::Fn(item_fn) => Some(&mut item_fn.attrs),
            _ => None,
        };
        let found = attrs.and_then(|attrs| {
            let index = attrs.iter().position(|attr| {
                attr.path().is_ident("protected") || attr.path().is_ident("user_loader")
            })?;
            Some(attrs.remove(index))
        });
        let Some(attr) = found else {
            item.to_tokens(&mut out);
            continue;
        };
        let is_protected = attr.path().is_ident("protected");
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => TokenStream::new(),
        };
        let item = item.into_token_stream();
        out.extend(if is_protected {
            crate::protected::expand_with(args, item, openapi)
        } else {
            crate::user_loader::expand(args, item)
        });
    }
    let expanded: syn::File = syn::parse2(out).expect("the expansion parses as a Rust file");
    prettyplease::unparse(&expanded)
}

fn snapshots() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expand");
    let mut inputs: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("tests/expand exists")
        .map(|entry| entry.expect("readable directory").path())
        .filter(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or("");
            path.extension().is_some_and(|ext| ext == "rs") && !name.ends_with(".expanded.rs")
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn expansions_match_snapshots() {
    let overwrite = std::env::var_os("LOGIN_EXPAND_OVERWRITE").is_some_and(|v| v != "0");
    let inputs = snapshots();
    assert!(!inputs.is_empty(), "no inputs in tests/expand");
    let mut stale = Vec::new();
    for input in inputs {
        let source = fs::read_to_string(&input).expect("readable input");
        // `openapi*.rs` inputs are expanded as with the `openapi` feature.
        let openapi = input
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("openapi"));
        let expanded = expand_file(&source, openapi);
        let snapshot = input.with_extension("expanded.rs");
        if overwrite {
            fs::write(&snapshot, &expanded).expect("writable snapshot");
            continue;
        }
        let expected = fs::read_to_string(&snapshot).unwrap_or_default();
        if expected != expanded {
            eprintln!(
                "--- {} (expected)\n{expected}\n+++ (actual)\n{expanded}",
                snapshot.display()
            );
            stale.push(snapshot);
        }
    }
    assert!(
        stale.is_empty(),
        "expansions changed: {stale:?}; rerun with LOGIN_EXPAND_OVERWRITE=1 and review the diff"
    );
}
