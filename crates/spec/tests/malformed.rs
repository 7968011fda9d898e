//! The malformed-spec corpus: every `malformed/NAME.yaml` must be refused,
//! and the full error text must equal `malformed/NAME.txt`.
//!
//! After changing a message, run with `UPDATE_EXPECT=1` to rewrite the
//! `.txt` files, then read the diff: those texts are what someone writing a
//! spec sees, so they should read well.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed")
}

/// The error text for one corpus file, named relative to the corpus folder
/// so that it does not depend on where the checkout is.
fn errors_of(spec: &Path) -> String {
    let bytes = std::fs::read(spec).unwrap();
    let name = Path::new(spec.file_name().unwrap());
    match grantspec_spec::load_bytes(name, &bytes) {
        Ok(_) => format!(
            "{} loaded, but the corpus holds only bad specs",
            name.display()
        ),
        Err(errors) => {
            for error in &errors.0 {
                assert_eq!(error.file, name, "{error}");
            }
            format!("{errors}\n")
        }
    }
}

#[test]
fn malformed_specs_are_refused_with_the_expected_errors() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let mut specs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 20, "the corpus has {} specs", specs.len());

    let mut failures = String::new();
    for spec in &specs {
        let actual = errors_of(spec);
        let expected_path = spec.with_extension("txt");
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(&expected, &actual);
            writeln!(
                failures,
                "{}\n{}",
                expected_path.display(),
                diff.unified_diff().header("expected", "actual")
            )
            .unwrap();
        }
    }
    for expected in std::fs::read_dir(corpus()).unwrap() {
        let expected = expected.unwrap().path();
        if expected.extension().is_some_and(|ext| ext == "txt")
            && !expected.with_extension("yaml").exists()
        {
            writeln!(failures, "{}: no spec beside it", expected.display()).unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "error messages differ from the expected ones (rerun with UPDATE_EXPECT=1 to accept, then review the diff):\n\n{failures}"
    );
}
