//! Where the specs and snapshots are, which target to run, and the
//! environment live credentials come from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::time::Duration;

use grantspec_spec::template::TargetKind;
use grantspec_token::TransportConfig;

/// The workspace this crate was built in; specs and snapshots default to
/// folders of it.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .to_path_buf()
}

/// How a suite is set up.
#[derive(Debug, Clone)]
pub struct SuiteConfig {
    /// Folder of spec files.
    pub specs_dir: PathBuf,
    /// Folder of snapshots (one sub-folder per provider).
    pub snapshots_dir: PathBuf,
    /// Mock or live.
    pub target: TargetKind,
    /// Environment variables visible to `${env:…}` and `${secret:…}`.
    pub env: Env,
    /// Timeouts, body cap, cleartext and retry policies of the HTTP client
    /// (the retry policy applies on the live target only).
    pub transport: TransportConfig,
    /// Whether a case whose snapshot differs (or is missing) leaves a pending
    /// `.snap.new` file for review (insta still writes none in CI). `record`
    /// turns it off: it writes the snapshots themselves.
    pub write_pending_snapshots: bool,
}

impl SuiteConfig {
    /// Configuration from the process environment:
    /// `GRANTSPEC_SPECS`, `GRANTSPEC_SNAPSHOTS`, `GRANTSPEC_TARGET`
    /// (`mock` or `live`), `GRANTSPEC_TIMEOUT_MS`, `GRANTSPEC_CONNECT_TIMEOUT_MS`,
    /// `GRANTSPEC_ALLOW_INSECURE_HTTP=1`, `GRANTSPEC_RETRY_ATTEMPTS`,
    /// `GRANTSPEC_RETRY_MAX_WAIT_MS`, over the `.env` files in the working
    /// directory, in the spec folder, beside it and at the workspace root,
    /// the first one that sets a variable winning (`dotenv_paths`).
    ///
    /// # Errors
    ///
    /// A `.env` file that cannot be read, or a variable with a value it
    /// cannot take ([`ConfigError`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        let root = workspace_root();
        // The spec folder may itself be named in a `.env` file.
        let early = Env::from_process_and_dotenv(&[Path::new(".env"), &root.join(".env")])?;
        let specs_dir = early
            .get("GRANTSPEC_SPECS")
            .map_or_else(|| root.join("specs"), PathBuf::from);
        let paths = dotenv_paths(&root, &specs_dir);
        let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let env = Env::from_process_and_dotenv(&paths)?;
        let target = match env.get("GRANTSPEC_TARGET").as_deref() {
            None | Some("" | "mock") => TargetKind::Mock,
            Some("live") => TargetKind::Live,
            Some(other) => return Err(ConfigError::Target(other.to_owned())),
        };
        let transport = transport_config(&env)?;
        let snapshots_dir = match env.get("GRANTSPEC_SNAPSHOTS") {
            Some(dir) => {
                let dir = PathBuf::from(dir);
                if let Some(problem) = snapshot_folder_problem(&dir) {
                    return Err(ConfigError::SnapshotsDir { dir, problem });
                }
                dir
            }
            None => root.join("snapshots"),
        };
        Ok(Self {
            transport,
            specs_dir,
            snapshots_dir,
            target,
            env,
            write_pending_snapshots: true,
        })
    }
}

/// The `.env` files a suite reads, the most important first: a variable
/// comes from the first of them that sets it (and the process environment
/// comes before them all).
///
/// 1. `.env` in the working directory;
/// 2. `.env` inside the spec folder (`GRANTSPEC_SPECS/.env`);
/// 3. `.env` beside the spec folder (in its parent folder);
/// 4. `.env` at the workspace root.
///
/// A file reached twice (the default spec folder's parent is the workspace
/// root) is listed once, at its first place.
pub fn dotenv_paths(root: &Path, specs_dir: &Path) -> Vec<PathBuf> {
    let beside = match specs_dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(".env"),
        _ => PathBuf::from(".env"),
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for path in [
        PathBuf::from(".env"),
        specs_dir.join(".env"),
        beside,
        root.join(".env"),
    ] {
        let same = |seen: &PathBuf| match (seen.canonicalize(), path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => *seen == path,
        };
        if !paths.iter().any(same) {
            paths.push(path);
        }
    }
    paths
}

/// Most attempts `GRANTSPEC_RETRY_ATTEMPTS` may ask for.
const MAX_RETRY_ATTEMPTS: u32 = 10;

/// The HTTP client's limits and policies, from `GRANTSPEC_TIMEOUT_MS`,
/// `GRANTSPEC_CONNECT_TIMEOUT_MS`, `GRANTSPEC_ALLOW_INSECURE_HTTP`,
/// `GRANTSPEC_RETRY_ATTEMPTS` and `GRANTSPEC_RETRY_MAX_WAIT_MS`.
fn transport_config(env: &Env) -> Result<TransportConfig, ConfigError> {
    let mut transport = TransportConfig::default();
    if let Some(ms) = env.get("GRANTSPEC_TIMEOUT_MS") {
        transport.timeout = Duration::from_millis(parse_ms("GRANTSPEC_TIMEOUT_MS", &ms)?);
    }
    if let Some(ms) = env.get("GRANTSPEC_CONNECT_TIMEOUT_MS") {
        transport.connect_timeout =
            Duration::from_millis(parse_ms("GRANTSPEC_CONNECT_TIMEOUT_MS", &ms)?);
    }
    transport.allow_insecure_http =
        env.get("GRANTSPEC_ALLOW_INSECURE_HTTP").as_deref() == Some("1");
    if let Some(attempts) = env.get("GRANTSPEC_RETRY_ATTEMPTS") {
        transport.retry.max_attempts = attempts
            .trim()
            .parse()
            .ok()
            .filter(|n| (1..=MAX_RETRY_ATTEMPTS).contains(n))
            .ok_or(ConfigError::RetryAttempts { value: attempts })?;
    }
    if let Some(ms) = env.get("GRANTSPEC_RETRY_MAX_WAIT_MS") {
        transport.retry.max_total_wait =
            Duration::from_millis(parse_ms("GRANTSPEC_RETRY_MAX_WAIT_MS", &ms)?);
    }
    Ok(transport)
}

/// What keeps `dir` from being a snapshot folder: it, or the closest of its
/// ancestors that exists, is not a folder (one that does not exist yet is
/// created when a snapshot is written).
pub(crate) fn snapshot_folder_problem(dir: &Path) -> Option<String> {
    for ancestor in dir.ancestors() {
        let probe = if ancestor.as_os_str().is_empty() {
            Path::new(".")
        } else {
            ancestor
        };
        match std::fs::metadata(probe) {
            Ok(metadata) if metadata.is_dir() => return None,
            Ok(_) => return Some(format!("{} is not a folder", probe.display())),
            Err(_) => {}
        }
    }
    None
}

/// Why [`SuiteConfig::from_env`] cannot configure a suite.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `.env` file could not be read or has a malformed line.
    #[error(transparent)]
    Dotenv(#[from] DotenvError),
    /// `GRANTSPEC_TARGET` is neither `mock` nor `live`.
    #[error("GRANTSPEC_TARGET is {0:?}; expected `mock` (the default) or `live`")]
    Target(String),
    /// A `…_MS` variable is not a whole number of milliseconds.
    #[error("{name} is {value:?}; expected a whole number of milliseconds")]
    Milliseconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// Why it does not parse.
        #[source]
        source: std::num::ParseIntError,
    },
    /// `GRANTSPEC_RETRY_ATTEMPTS` is not a number of attempts.
    #[error(
        "GRANTSPEC_RETRY_ATTEMPTS is {value:?}; expected a whole number of attempts from 1 (never retry) to {MAX_RETRY_ATTEMPTS}"
    )]
    RetryAttempts {
        /// Its value.
        value: String,
    },
    /// `GRANTSPEC_SNAPSHOTS` names something that cannot be a folder.
    #[error(
        "GRANTSPEC_SNAPSHOTS is {}: {problem}; it names the snapshot folder",
        dir.display()
    )]
    SnapshotsDir {
        /// The folder named.
        dir: PathBuf,
        /// What keeps it from being a snapshot folder.
        problem: String,
    },
}

fn parse_ms(name: &'static str, value: &str) -> Result<u64, ConfigError> {
    value
        .trim()
        .parse()
        .map_err(|source| ConfigError::Milliseconds {
            name,
            value: value.to_owned(),
            source,
        })
}

/// Largest `.env` file read, in bytes.
const MAX_DOTENV_BYTES: u64 = 1024 * 1024;

/// Environment variables: the process's, over those of a `.env` file.
///
/// A variable whose name or value is not valid UTF-8 is left out, and is
/// never shown: a case that needs it says it is not valid UTF-8.
#[derive(Clone, Default)]
pub struct Env {
    vars: HashMap<String, String>,
    /// Names (valid UTF-8) of variables whose values are not.
    not_unicode: Vec<String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Env").field("names", &names).finish()
    }
}

impl Env {
    /// The process environment, over the `.env` files of `dotenv_paths`
    /// that exist, the first that sets a variable winning.
    ///
    /// Each file is read as dotenv files are ([`dotenvy`]: `export`, quotes
    /// and their escapes, `# comments` after a value); a line that is not
    /// `NAME=value` is an error naming the file and line, never showing it.
    /// A file that exists but cannot be read (a FIFO, a device, a folder,
    /// not UTF-8) is an error naming it: its variables would otherwise be
    /// missing without a word.
    pub fn from_process_and_dotenv(dotenv_paths: &[&Path]) -> Result<Self, DotenvError> {
        let mut vars = HashMap::new();
        for path in dotenv_paths.iter().rev() {
            if let Some(text) = read_dotenv(path)? {
                vars.extend(parse_dotenv(path, &text)?);
            }
        }
        let mut not_unicode = Vec::new();
        for (name, value) in std::env::vars_os() {
            match (name.into_string(), value.into_string()) {
                (Ok(name), Ok(value)) => {
                    vars.insert(name, value);
                }
                (Ok(name), Err(_)) => {
                    vars.remove(&name);
                    not_unicode.push(name);
                }
                (Err(_), _) => {}
            }
        }
        Ok(Self { vars, not_unicode })
    }

    /// Why a variable that [`Env::get`] does not give is missing: `not set`,
    /// or `not valid UTF-8`.
    pub fn why_missing(&self, name: &str) -> &'static str {
        if self.not_unicode.iter().any(|n| n == name) {
            "set, but not valid UTF-8"
        } else {
            "not set"
        }
    }

    /// An environment with exactly these variables.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            not_unicode: Vec::new(),
        }
    }

    /// A variable's value; empty values count as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        self.vars.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// Whether [`Env::get`] finds `name`, without copying its value.
    pub fn has(&self, name: &str) -> bool {
        self.vars.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// A `.env` file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DotenvError {
    /// A line that is not `NAME=value`; the line is not shown, as it may
    /// hold a secret.
    #[error(
        "{}:{line}: not a `NAME=value` line (not shown here: it may hold a secret)",
        file.display()
    )]
    Line {
        /// The file.
        file: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The file exists but is not one that can be read: a FIFO, a device,
    /// a folder, a link to nothing, larger than the cap, or not UTF-8.
    #[error("cannot read {}: {source}", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: grantspec_spec::ReadError,
    },
    /// The file could not be read.
    #[error("cannot read {}: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The text of the `.env` file `path`, `None` when there is nothing there
/// (not even a dangling link). Only a regular file is read, capped: a FIFO
/// named `.env` would wait for a writer, a link to `/dev/zero` never end.
fn read_dotenv(path: &Path) -> Result<Option<String>, DotenvError> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    grantspec_spec::read_regular_text(path, MAX_DOTENV_BYTES, "`.env` file")
        .map(Some)
        .map_err(|source| DotenvError::Unreadable {
            file: path.to_path_buf(),
            source,
        })
}

/// The variables of the `.env` file `path`, whose content is `text`, in
/// order.
fn parse_dotenv(path: &Path, text: &str) -> Result<Vec<(String, String)>, DotenvError> {
    let read_error = |source| DotenvError::Read {
        file: path.to_path_buf(),
        source,
    };
    let mut vars = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(pair) => vars.push(pair),
            Err(dotenvy::Error::LineParse(bad, _)) => {
                // dotenvy names the line by its text; find its number.
                let first = bad.lines().next().unwrap_or_default().trim();
                let line = text
                    .lines()
                    .position(|l| l.trim() == first)
                    .map_or(0, |at| at + 1);
                return Err(DotenvError::Line {
                    file: path.to_path_buf(),
                    line,
                });
            }
            Err(dotenvy::Error::Io(source)) => return Err(read_error(source)),
            Err(other) => {
                return Err(read_error(std::io::Error::other(other.to_string())));
            }
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dotenv(text: &str) -> Result<Vec<(String, String)>, DotenvError> {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join(".env");
        std::fs::write(&path, text).expect("written");
        parse_dotenv(&path, text)
    }

    #[cfg(unix)]
    #[test]
    fn a_dotenv_that_is_not_a_regular_file_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let fifo = dir.path().join("fifo.env");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let zero = dir.path().join("zero.env");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("a link");
        let real = dir.path().join("real.env");
        std::fs::write(&real, "GRANTSPEC_TEST_DOTENV_NAME=from-file\n").expect("written");
        for (bad, what) in [(fifo, "a FIFO"), (zero, "a character device")] {
            let (send, receive) = std::sync::mpsc::channel();
            let paths = [bad.clone(), real.clone()];
            std::thread::spawn(move || {
                let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
                let _ = send.send(Env::from_process_and_dotenv(&paths).map(|_| ()));
            });
            let error = receive
                .recv_timeout(Duration::from_secs(5))
                .expect("a FIFO or a device named like a .env file hung start-up")
                .expect_err("refused");
            assert_eq!(
                error.to_string(),
                format!(
                    "cannot read {}: this is not a regular file ({what}); a `.env` file must be one",
                    bad.display()
                )
            );
        }
    }

    #[test]
    fn every_dotenv_file_is_read_and_the_first_to_set_a_variable_wins() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let first = dir.path().join("first.env");
        let second = dir.path().join("second.env");
        let absent = dir.path().join("absent.env");
        std::fs::write(&first, "GRANTSPEC_TEST_A=first\n").expect("written");
        std::fs::write(
            &second,
            "GRANTSPEC_TEST_A=second\nGRANTSPEC_TEST_B=second\n",
        )
        .expect("written");
        let env = Env::from_process_and_dotenv(&[&absent, &first, &second]).expect("read");
        assert_eq!(env.get("GRANTSPEC_TEST_A").as_deref(), Some("first"));
        assert_eq!(env.get("GRANTSPEC_TEST_B").as_deref(), Some("second"));
    }

    #[test]
    fn dotenv_files_are_looked_for_in_order_and_each_once() {
        let root = Path::new("/work/repo");
        assert_eq!(
            dotenv_paths(root, &root.join("specs")),
            [
                PathBuf::from(".env"),
                root.join("specs/.env"),
                root.join(".env"),
            ]
        );
        assert_eq!(
            dotenv_paths(root, Path::new("/team/oauth/specs")),
            [
                PathBuf::from(".env"),
                PathBuf::from("/team/oauth/specs/.env"),
                PathBuf::from("/team/oauth/.env"),
                root.join(".env"),
            ]
        );
        assert_eq!(
            dotenv_paths(root, Path::new("specs")),
            [
                PathBuf::from(".env"),
                PathBuf::from("specs/.env"),
                root.join(".env"),
            ]
        );
    }

    #[test]
    fn the_retry_policy_comes_from_the_environment_within_bounds() {
        let config =
            |pairs: &[(&str, &str)]| transport_config(&Env::from_pairs(pairs.iter().copied()));
        let default = config(&[]).expect("no variables");
        assert_eq!(default.retry, grantspec_token::RetryPolicy::default());
        let set = config(&[
            ("GRANTSPEC_RETRY_ATTEMPTS", " 5 "),
            ("GRANTSPEC_RETRY_MAX_WAIT_MS", "120000"),
        ])
        .expect("valid values");
        assert_eq!(set.retry.max_attempts, 5);
        assert_eq!(set.retry.max_total_wait, Duration::from_secs(120));
        assert_eq!(set.retry.backoff, default.retry.backoff);
        for attempts in ["0", "11", "-1", "three", "99999999999999999999"] {
            let error = config(&[("GRANTSPEC_RETRY_ATTEMPTS", attempts)])
                .expect_err("refused")
                .to_string();
            assert_eq!(
                error,
                format!(
                    "GRANTSPEC_RETRY_ATTEMPTS is {attempts:?}; expected a whole number of attempts from 1 (never retry) to 10"
                )
            );
        }
        let error = config(&[("GRANTSPEC_RETRY_MAX_WAIT_MS", "1s")])
            .expect_err("refused")
            .to_string();
        assert!(
            error.starts_with("GRANTSPEC_RETRY_MAX_WAIT_MS is \"1s\""),
            "{error}"
        );
    }

    #[test]
    fn dotenv_lines_are_read_as_dotenv_files_are() {
        let parsed = dotenv(
            "# a comment\nexport A=1\nB=\"two words\"\nC='x=y'\nD=value # a note\nE=\"say \\\"hi\\\"\"\n",
        )
        .expect("parses");
        assert_eq!(
            parsed,
            vec![
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into()),
                ("D".into(), "value".into()),
                ("E".into(), "say \"hi\"".into()),
            ]
        );
    }

    #[test]
    fn a_bad_dotenv_line_is_an_error_naming_its_line_not_its_text() {
        let error = dotenv("A=1\n\nnot a pair hunter2\n").expect_err("refused");
        let message = error.to_string();
        assert!(
            message.ends_with(
                ".env:3: not a `NAME=value` line (not shown here: it may hold a secret)"
            ),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }
}
