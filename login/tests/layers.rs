//! The crate's module layering, checked from the source: leaves → `manager/` → extractors,
//! and no two modules that depend on each other, directly or through others; the size of the
//! crate root; and files that have clearly grown two jobs.
//!
//! A module depends on another when its code (comments and doc comments excluded) names
//! `crate::other` or an item the crate root re-exports from `other` (`crate::LoginManager`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LEAVES: &[&str] = &[
    "cache",
    "claims",
    "cookie",
    "credentials",
    "csrf",
    "error",
    "events",
    "jws",
    "keys",
    "loader",
    "oauth2",
    "oidc",
    "password",
    "redirect",
    "registry",
    "rejection",
    "secret",
    "session",
    "throttle",
];
const MANAGER: &str = "manager";
const TOP: &[&str] = &[
    "extract",
    "login_route",
    "mfa",
    "middleware",
    "openapi",
    "refresh",
    "routes",
    "testing",
];
fn in_a_layer(module: &str) -> bool {
    LEAVES.contains(&module) || module == MANAGER || TOP.contains(&module)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level module a file belongs to (`manager/verify/mod.rs` → `manager`).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src()).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib").then(|| name.to_owned())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its comments (line comments and doc comments).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // `://` inside a string (a URL) is not a comment.
            Some(i) if !line[..i].ends_with(':') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Root re-exports: `pub use module::{A, B};` in lib.rs maps `A` and `B` to `module`.
fn root_exports() -> BTreeMap<String, String> {
    let lib = code(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    let mut map = BTreeMap::new();
    for stmt in lib.split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        // `module::path::{A, B}` or `module::path::A`: the module is the path's first segment.
        let (path, items) = match rest.find('{') {
            Some(brace) => (&rest[..brace], &rest[brace..]),
            None => match rest.rsplit_once("::") {
                Some((path, item)) => (path, item),
                None => continue,
            },
        };
        let module = path.split("::").next().unwrap_or_default();
        if !in_a_layer(module) {
            continue;
        }
        for item in items.trim_matches(|c| c == '{' || c == '}').split(',') {
            let item = item.trim();
            if !item.is_empty() {
                map.insert(item.to_owned(), module.to_owned());
            }
        }
    }
    map
}

/// Which modules each module's code names.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let exports = root_exports();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = code(&std::fs::read_to_string(&file).unwrap());
        let entry = deps.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let target = exports.get(&name).cloned().unwrap_or(name);
            if target != module && in_a_layer(&target) {
                entry.insert(target);
            }
        }
    }
    deps
}

#[test]
fn the_layer_lists_cover_every_module() {
    let deps = dependencies();
    for module in deps.keys() {
        assert!(
            in_a_layer(module),
            "module `{module}` is in no layer: add it to tests/layers.rs and lib.rs's picture"
        );
    }
    assert!(deps.contains_key(MANAGER));
}

#[test]
fn leaves_import_nothing_above_them() {
    for (module, targets) in dependencies() {
        if !LEAVES.contains(&module.as_str()) {
            continue;
        }
        for target in targets {
            assert!(
                LEAVES.contains(&target.as_str()),
                "leaf module `{module}` uses `{target}`, a module above it"
            );
        }
    }
}

#[test]
fn the_manager_imports_no_extractor() {
    let deps = dependencies();
    for target in &deps[MANAGER] {
        assert!(
            !TOP.contains(&target.as_str()),
            "`manager` uses `{target}`, which sits above it"
        );
    }
}

#[test]
fn no_module_cycles() {
    let deps = dependencies();
    // Depth-first search from every module; a module met again on the current path closes
    // a cycle.
    fn visit(
        module: &str,
        deps: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_owned());
            panic!("module cycle: {}", cycle.join(" → "));
        }
        if done.contains(module) {
            return;
        }
        path.push(module.to_owned());
        for next in deps.get(module).into_iter().flatten() {
            visit(next, deps, path, done);
        }
        path.pop();
        done.insert(module.to_owned());
    }
    let mut done = BTreeSet::new();
    for module in deps.keys() {
        visit(module, &deps, &mut Vec::new(), &mut done);
    }
}

/// A guard, not a style rule: a file past this many lines has most likely grown a second
/// job, which belongs in a module of its own.
const MAX_FILE_LINES: usize = 800;

#[test]
fn no_source_file_has_clearly_grown_two_jobs() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert!(
            lines <= MAX_FILE_LINES,
            "{} has {lines} lines: split it by concern",
            file.display()
        );
    }
}

/// The names the crate root re-exports (`pub use` at the top level of lib.rs) and the
/// macros it exports (`#[macro_export]`, which always land at the root).
fn root_names() -> Vec<String> {
    let lib = code(&std::fs::read_to_string(src().join("lib.rs")).unwrap());
    let top_level = lib.split("pub mod __private").next().unwrap();
    let mut names = Vec::new();
    for stmt in top_level.split(';') {
        let Some(pos) = stmt.find("pub use ") else {
            continue;
        };
        let rest = &stmt[pos + "pub use ".len()..];
        let items = match rest.find('{') {
            Some(brace) => rest[brace..]
                .trim_matches(|c| c == '{' || c == '}')
                .to_owned(),
            None => rest.rsplit("::").next().unwrap().to_owned(),
        };
        names.extend(
            items
                .split(',')
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty()),
        );
    }
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        let text = code(&std::fs::read_to_string(&file).unwrap());
        for (i, _) in text.match_indices("#[macro_export]") {
            let after = &text[i..];
            if let Some(start) = after.find("macro_rules! ") {
                let name: String = after[start + "macro_rules! ".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(format!("{name}!"));
            }
        }
    }
    names
}

/// The root is the quick-start set; everything else is reached through a module named for
/// its concern.
#[test]
fn the_crate_root_is_the_quick_start_set() {
    let names = root_names();
    assert!(names.contains(&"LoginManager".to_owned()), "{names:?}");
    assert!(names.contains(&"protected".to_owned()), "{names:?}");
    assert!(
        names.len() <= 20,
        "the crate root exports {} names (at most 20): {names:?}",
        names.len()
    );
}
