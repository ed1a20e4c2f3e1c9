//! The README's quick start, built as written in a fresh crate outside the workspace: its
//! `Cargo.toml` lines (with `login` pointing at this checkout) and its `src/main.rs`.
//!
//! Offline, with this workspace's `Cargo.lock`: nothing is downloaded at test time.

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

#[test]
fn the_readme_quick_start_builds_in_a_fresh_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Quick start")
        .expect("a Quick start section")..];
    let manifest = block(section, "```toml");
    let main = block(section, "```rust");
    // The README names the crate as a user depends on it.
    let published = "login = \"0.1\"";
    assert!(manifest.contains(published), "{manifest}");
    let login = format!("login = {{ path = {:?} }}", root.join("login"));

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("quickstart");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"quickstart\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
             publish = false\n\n# Not a member of the login workspace.\n[workspace]\n\n{}\n",
            manifest.replace(published, &login)
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let output = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env("RUSTFLAGS", "-D warnings")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "the README's quick start does not build as written:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
