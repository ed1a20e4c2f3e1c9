//! The README's quick starts, each built as written in a fresh crate outside the workspace:
//! its `Cargo.toml` lines (with `login` pointing at this checkout) and its `src/main.rs`.
//!
//! Offline, with this workspace's `Cargo.lock`: nothing is downloaded at test time. The two
//! crates share one target directory, so what they have in common is built once.

use std::path::Path;
use std::process::Command;

/// The body of the first fenced block opening with `fence` in `text`.
fn block<'a>(text: &'a str, fence: &str) -> &'a str {
    let start = text
        .find(fence)
        .unwrap_or_else(|| panic!("no {fence} block"))
        + fence.len();
    let end = start + text[start..].find("\n```").expect("an unclosed block");
    text[start..end].trim_start_matches('\n')
}

/// The README section that starts with `heading` (up to the next `## `).
fn section<'a>(readme: &'a str, heading: &str) -> &'a str {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no {heading:?} section"));
    let rest = &readme[start + heading.len() + 2..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// Builds the section's crate; `published` is how its manifest names `login`, and `local`
/// the same dependency pointing at this checkout.
fn builds(heading: &str, name: &str, published: &str, local: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = section(&readme, heading);
    let manifest = block(section, "```toml");
    let main = block(section, "```rust");
    // The README names the crate as a user depends on it.
    assert!(manifest.contains(published), "{manifest}");

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             publish = false\n\n# Not a member of the login workspace.\n[workspace]\n\n{}\n",
            manifest.replace(published, local)
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let output = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", tmp.join("quickstart-target"))
        .env_remove("RUSTFLAGS")
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the README's {heading:?} does not build as written:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn login_path() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    format!("path = {:?}", root.join("login"))
}

#[test]
fn the_readme_quick_starts_build_in_fresh_crates() {
    builds(
        "## Quick start",
        "quickstart",
        "login = \"0.1\"",
        &format!("login = {{ {} }}", login_path()),
    );
    builds(
        "## Quick start with sessions",
        "quickstart-sessions",
        "login = { version = \"0.1\", features = [\"swagger-ui\"] }",
        &format!(
            "login = {{ {}, features = [\"swagger-ui\"] }}",
            login_path()
        ),
    );
}
