//! Helpers shared by grantspec's integration tests (a dev-dependency only):
//! temporary folders that are removed when dropped, copying folders, the
//! `specs` test binary and the `xtask` binary as the workspace's `cargo test`
//! built them, reading libtest's output, golden files kept as insta
//! snapshots, and an HTTP client for the tests' loopback servers.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A reqwest client for the tests' loopback `http://` servers, built in a
/// fraction of a millisecond: given no root certificate, it parses none,
/// where `reqwest::Client::new()` loads the platform's roots (tens of
/// milliseconds in a debug build, and the tests build dozens), and so it
/// can never complete a TLS handshake. It follows no redirect and uses no
/// proxy, as grantspec's own transport does.
///
/// # Panics
///
/// When reqwest cannot build a client at all.
pub fn loopback_client() -> reqwest::Client {
    let no_roots: [reqwest::Certificate; 0] = [];
    reqwest::Client::builder()
        .tls_certs_only(no_roots)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("a reqwest client without roots")
}

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

/// The runner's `specs` test binary, as the workspace's `cargo test` built
/// it (see [`workspace_executable`]).
///
/// # Panics
///
/// When cargo cannot build it.
pub fn specs_binary() -> &'static Path {
    workspace_executable("test", "specs")
}

/// The `xtask` binary, as the workspace's `cargo test` built it, for tests
/// outside the xtask package (which have `CARGO_BIN_EXE_xtask`).
///
/// # Panics
///
/// When cargo cannot build it.
pub fn xtask_binary() -> &'static Path {
    workspace_executable("bin", "xtask")
}

/// The feature flags of the `cargo test` that built this test run, for the
/// cargo commands a test starts: `--all-features` in the full tier (built
/// with `cargo test --all-features`, which turns on this crate's
/// `slow-tests` feature), none in the default one. A command with other
/// features than the outer build's compiles the workspace a second time.
pub fn cargo_feature_args() -> &'static [&'static str] {
    if cfg!(feature = "slow-tests") {
        &["--all-features"]
    } else {
        &[]
    }
}

/// The executable of the `kind` target `name` that `cargo test` builds for
/// the whole workspace, as cargo itself reports it (asked once per test
/// binary).
///
/// Cargo unifies dependency features over the packages it builds, so a
/// narrower command (`-p grantspec`, `cargo run -p xtask`) would compile a
/// second copy of much of the dependency tree, inside the test run, on a
/// fresh CI machine. Asking for the same packages, with the same features
/// ([`cargo_feature_args`]), as `cargo test` finds everything fresh.
///
/// # Panics
///
/// When cargo cannot build the workspace's tests or built no such target.
pub fn workspace_executable(kind: &str, name: &str) -> &'static Path {
    static BUILT: OnceLock<Vec<(String, String, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args([
                "test",
                "--no-run",
                "--workspace",
                "--message-format=json-render-diagnostics",
            ])
            .args(cargo_feature_args())
            .arg("--manifest-path")
            .arg(workspace().join("Cargo.toml"))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("cargo does not run: {e}"));
        assert!(
            output.status.success(),
            "building the workspace's tests failed ({})",
            output.status
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            // A binary's unit-test harness has the binary's kind and name.
            .filter(|message| {
                message["target"]["kind"][0] == "test" || message["profile"]["test"] == false
            })
            .filter_map(|message| {
                let target = &message["target"];
                let executable = PathBuf::from(message["executable"].as_str()?);
                Some((
                    target["kind"][0].as_str()?.to_owned(),
                    target["name"].as_str()?.to_owned(),
                    executable,
                ))
            })
            .collect()
    });
    built
        .iter()
        .find(|(k, n, _)| k == kind && n == name)
        .map(|(_, _, path)| path.as_path())
        .unwrap_or_else(|| panic!("cargo reported no executable for the {kind} target `{name}`"))
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
