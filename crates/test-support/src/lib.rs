//! Helpers shared by grantspec's integration tests (a dev-dependency only):
//! temporary folders that are removed when dropped, copying folders, the
//! runner's `specs` test binary as cargo built it, reading libtest's
//! output, and golden files kept as insta snapshots.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh, empty folder under the system temp dir, removed (with all it
/// holds) when dropped. It derefs to its [`Path`].
#[derive(Debug)]
pub struct TestDir(tempfile::TempDir);

impl std::ops::Deref for TestDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<OsStr> for TestDir {
    fn as_ref(&self) -> &OsStr {
        self.0.path().as_os_str()
    }
}

/// A [`TestDir`] named `grantspec-<label>-…`.
///
/// # Panics
///
/// When the system temp dir cannot hold a new folder.
pub fn temp_dir(label: &str) -> TestDir {
    match tempfile::Builder::new()
        .prefix(&format!("grantspec-{label}-"))
        .tempdir()
    {
        Ok(dir) => TestDir(dir),
        Err(error) => panic!("cannot make a temp dir: {error}"),
    }
}

/// Copies the files and folders of `from` into `to`.
///
/// # Panics
///
/// When a file cannot be read or written.
pub fn copy_dir(from: &Path, to: &Path) {
    let fail = |what: &str, path: &Path, error: std::io::Error| -> ! {
        panic!("cannot {what} {}: {error}", path.display())
    };
    std::fs::create_dir_all(to).unwrap_or_else(|e| fail("create", to, e));
    let entries = std::fs::read_dir(from).unwrap_or_else(|e| fail("read", from, e));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| fail("read", from, e)).path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap_or_else(|e| fail("copy", &path, e));
        }
    }
}

/// stdout then stderr, as text.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `test <name> ... <outcome>` lines of libtest's output, by test name.
pub fn outcomes(output: &Output) -> BTreeMap<String, String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("test "))
        .filter_map(|line| line.split_once(" ... "))
        .map(|(name, outcome)| (name.trim().to_owned(), outcome.trim().to_owned()))
        .collect()
}

/// The runner's `specs` test binary, built by the same cargo that runs the
/// calling test, as cargo itself reports it (built once per test binary).
///
/// # Panics
///
/// When cargo cannot build it.
pub fn specs_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "test",
                "--no-run",
                "--message-format=json-render-diagnostics",
                "-p",
                "grantspec",
                "--test",
                "specs",
                "--manifest-path",
            ])
            .arg(workspace().join("Cargo.toml"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cargo does not run: {e}"));
        assert!(
            output.status.success(),
            "building the specs test binary failed ({})",
            output.status
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["name"] == "specs")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| panic!("cargo reported no executable for the `specs` test target"))
    })
}

/// Compares `actual` with the golden file `<dir>/<name>.snap`, an insta
/// snapshot: `Ok` when its body is the same; otherwise the unified diff,
/// and (outside CI) insta leaves `<name>.snap.new` beside it for review with
/// `cargo insta review` or `cargo xtask review`. The workspace's insta
/// config passes every insta assertion, so the comparison is made here.
///
/// # Errors
///
/// The diff of the stored body against `actual`, when they differ.
pub fn golden(dir: &Path, name: &str, actual: &str) -> Result<(), GoldenMismatch> {
    let file = dir.join(format!("{name}.snap"));
    let stored = std::fs::read_to_string(&file).ok().map(|text| {
        text.strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map_or(text.as_str(), |(_, body)| body)
            .to_owned()
    });
    if stored.as_deref().map(str::trim_end) == Some(actual.trim_end()) {
        return Ok(());
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, actual));
    let stored = stored.unwrap_or_default();
    Err(GoldenMismatch(format!(
        "{} differs (review the pending .snap.new with `cargo insta review`):\n{}",
        file.display(),
        similar::TextDiff::from_lines(stored.as_str(), actual)
            .unified_diff()
            .header("stored", "actual")
    )))
}

/// A golden file that differs from what a test produced: its `Display` is
/// the file and the unified diff.
#[derive(Debug)]
pub struct GoldenMismatch(String);

impl std::fmt::Display for GoldenMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoldenMismatch {}
