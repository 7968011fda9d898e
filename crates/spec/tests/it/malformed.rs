//! The malformed-spec corpus: every `malformed/NAME.yaml` must be refused,
//! and the full error text must equal the golden file `malformed/NAME.snap`
//! (an insta snapshot).
//!
//! After changing a message, run the tests (outside CI) and review the
//! pending `.snap.new` files with `cargo insta review` (or `cargo xtask
//! review --snapshots crates/spec/tests/malformed`): those texts are what
//! someone writing a spec sees, so they should read well.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use grantspec_test_support::golden;

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
    let mut specs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 20, "the corpus has {} specs", specs.len());

    let mut failures = String::new();
    for spec in &specs {
        let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
        if let Err(diff) = golden(&corpus(), &stem, &errors_of(spec)) {
            writeln!(failures, "{diff}").unwrap();
        }
    }
    for expected in std::fs::read_dir(corpus()).unwrap() {
        let expected = expected.unwrap().path();
        if expected.extension().is_some_and(|ext| ext == "snap")
            && !expected.with_extension("yaml").exists()
        {
            writeln!(failures, "{}: no spec beside it", expected.display()).unwrap();
        }
    }
    assert!(
        failures.is_empty(),
        "error messages differ from the golden files:\n\n{failures}"
    );
}

/// Entries of a spec folder that are named like specs but cannot be
/// committed (a FIFO, symbolic links) or only make sense together (two files
/// for one provider): made at test time, loaded as a folder, and the error
/// text, with the folder shown as `<dir>`, must equal
/// the golden file `tests/malformed-files.snap`.
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

    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    if let Err(diff) = golden(&tests, "malformed-files", &actual) {
        panic!("{diff}");
    }
}
