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

/// Entries of a spec folder that are named like specs but cannot be
/// committed (a FIFO, symbolic links) or only make sense together (two files
/// for one provider): made at test time, loaded as a folder, and the error
/// text, with the folder shown as `<dir>`, must equal
/// `tests/malformed-files.txt`.
#[cfg(unix)]
#[test]
fn entries_that_are_not_spec_files_are_refused_with_the_expected_errors() {
    let dir = tempfile::tempdir().unwrap();
    let spec = |id: &str| {
        format!(
            "provider:\n  id: {id}\n  name: X\n  token_endpoint: {{ path: /token }}\n\
             cases:\n  - name: c\n    grant: client_credentials\n"
        )
    };
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
    std::os::unix::fs::symlink("nowhere.yaml", dir.path().join("dangling.yaml")).unwrap();
    std::os::unix::fs::symlink("loop.yaml", dir.path().join("loop.yaml")).unwrap();
    std::fs::create_dir(dir.path().join("folder.yaml")).unwrap();
    std::fs::write(dir.path().join("twice.yaml"), spec("twice")).unwrap();
    std::fs::write(dir.path().join("twice.yml"), spec("twice")).unwrap();

    let (specs, errors) = grantspec_spec::load_dir(dir.path());
    let loaded: Vec<_> = specs.iter().map(|s| s.spec.provider.id.as_str()).collect();
    assert_eq!(loaded, ["twice"]);
    let actual = format!("{}\n", grantspec_spec::SpecErrors(errors))
        .replace(&dir.path().display().to_string(), "<dir>");

    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed-files.txt");
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        std::fs::write(&expected_path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
    let diff = similar::TextDiff::from_lines(&expected, &actual);
    assert!(
        expected == actual,
        "error messages differ from {} (rerun with UPDATE_EXPECT=1 to accept, then review the diff):\n{}",
        expected_path.display(),
        diff.unified_diff().header("expected", "actual")
    );
}
