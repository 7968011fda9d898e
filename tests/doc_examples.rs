//! The workspace's libraries without examples in their docs set
//! `doctest = false`, so that `cargo test` does not start rustdoc for each
//! of them to find nothing (about half a second each). This keeps that
//! honest: a library that sets it has no Rust code block in its docs, so no
//! example is ever skipped silently.

use std::path::{Path, PathBuf};

/// The manifests of the workspace's packages: the root and `crates/*`.
fn manifests() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut manifests = vec![root.join("Cargo.toml")];
    for entry in std::fs::read_dir(root.join("crates")).expect("crates/ is readable") {
        let manifest = entry
            .expect("crates/ is readable")
            .path()
            .join("Cargo.toml");
        if manifest.is_file() {
            manifests.push(manifest);
        }
    }
    manifests.sort();
    manifests
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a readable entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// Whether rustdoc runs a code block opened with this info string: one
/// with no language, or only rustdoc's own attributes, is Rust.
fn is_rust(info: &str) -> bool {
    info.split([',', ' '])
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .all(|token| {
            matches!(
                token,
                "rust"
                    | "ignore"
                    | "no_run"
                    | "should_panic"
                    | "compile_fail"
                    | "test_harness"
                    | "standalone_crate"
            ) || token.starts_with("edition")
        })
}

/// `file:line` of each Rust code block opened in a doc comment of `text`.
fn rust_blocks(file: &Path, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut open: Option<&str> = None;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let Some(doc) = trimmed
            .strip_prefix("///")
            .or_else(|| trimmed.strip_prefix("//!"))
        else {
            continue;
        };
        let doc = doc.trim_start();
        let fence = ["```", "~~~"].into_iter().find(|f| doc.starts_with(f));
        match (open, fence) {
            (None, Some(fence)) => {
                open = Some(fence);
                if is_rust(doc.trim_start_matches(fence.chars().next().unwrap_or('`'))) {
                    found.push(format!("{}:{}", file.display(), index + 1));
                }
            }
            (Some(opened), Some(fence)) if opened == fence => open = None,
            _ => {}
        }
    }
    found
}

#[test]
fn libraries_without_doctests_have_no_rust_examples_in_their_docs() {
    let mut without = Vec::new();
    let mut examples = Vec::new();
    for manifest in manifests() {
        let text = std::fs::read_to_string(&manifest).expect("a readable manifest");
        if !text.lines().any(|line| line.trim() == "doctest = false") {
            continue;
        }
        without.push(manifest.clone());
        let mut files = Vec::new();
        rust_files(&manifest.with_file_name("src"), &mut files);
        assert!(!files.is_empty(), "{} has no sources", manifest.display());
        for file in files {
            let source = std::fs::read_to_string(&file).expect("a readable source");
            examples.extend(rust_blocks(&file, &source));
        }
    }
    assert!(
        without.len() >= 2,
        "the check reads the libraries that set `doctest = false`: {without:?}"
    );
    assert!(
        examples.is_empty(),
        "these libraries set `doctest = false` but have Rust examples in their docs, which \
         would never run; remove `doctest = false` from their Cargo.toml:\n{}",
        examples.join("\n")
    );
}

#[test]
fn a_rust_example_is_found_and_other_blocks_are_not() {
    let source = "//! Text.\n//! ```text\n//! not rust\n//! ```\n/// ```\n/// let x = 1;\n/// ```\n    /// ```no_run,edition2024\n    /// ```\n/// ```yaml\n/// a: b\n/// ```\n// ```\n";
    assert_eq!(rust_blocks(Path::new("x.rs"), source), ["x.rs:5", "x.rs:8"]);
}
