#![allow(clippy::unwrap_used)]
//! The live tier against a real third-party OAuth server: node-oidc-provider,
//! started on loopback from `.ci/oidc-provider`, runs every case of
//! `specs/oidc-provider.yaml` in live mode, and must match the stored
//! snapshots. Needs Node.js and npm; fails (never skips) without them.
//!
//! By hand, with pending snapshots for review: `bash .ci/live-oidc.sh`.

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use grantspec_runner::{Env, Judgement, Suite, SuiteConfig};
use grantspec_spec::template::TargetKind;
use grantspec_token::TransportConfig;

/// The fixture's throwaway credentials, as `.ci/oidc-provider/server.mjs`
/// registers them. They exist only on this loopback server.
const CREDENTIALS: &[(&str, &str)] = &[
    ("OIDC_PROVIDER_BASIC_CLIENT_ID", "grantspec-basic"),
    ("OIDC_PROVIDER_BASIC_CLIENT_SECRET", "basic-secret-4f1c"),
    ("OIDC_PROVIDER_POST_CLIENT_ID", "grantspec-post"),
    ("OIDC_PROVIDER_POST_CLIENT_SECRET", "post-secret-9b2e"),
    ("OIDC_PROVIDER_RESERVED_CLIENT_ID", "sp client"),
    ("OIDC_PROVIDER_RESERVED_CLIENT_SECRET", "p@ss:w/rd+%"),
    ("OIDC_PROVIDER_PKJWT_CLIENT_ID", "grantspec-pkjwt"),
    ("OIDC_PROVIDER_CODE_CLIENT_ID", "grantspec-code"),
    ("OIDC_PROVIDER_CODE_CLIENT_SECRET", "code-secret-7d3a"),
    ("OIDC_PROVIDER_OTHER_CODE_CLIENT_ID", "grantspec-code-other"),
    (
        "OIDC_PROVIDER_OTHER_CODE_CLIENT_SECRET",
        "other-code-secret-2c8f",
    ),
];

/// How long the server may take to print its URL.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);

pub(super) fn fixture_dir() -> PathBuf {
    grantspec_runner::workspace_root()
        .join(".ci")
        .join("oidc-provider")
}

/// Runs `program --version`, or fails the test saying what is missing.
fn require_tool(program: &str) {
    match Command::new(program).arg("--version").output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "`{program} --version` failed ({}): the live tier needs Node.js (>= 20.19) and npm on PATH\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!(
            "cannot run `{program}` ({error}): the live tier needs Node.js (>= 20.19) and npm on PATH \
             (Debian: `apt-get install nodejs npm`)"
        ),
    }
}

/// Installs the fixture's locked dependencies unless they are there.
pub(super) fn npm_ci(dir: &Path) {
    if dir.join("node_modules").join("oidc-provider").is_dir() {
        return;
    }
    require_tool("npm");
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`npm ci` in {} failed ({}):\n{}\n{}",
        dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The running node-oidc-provider; stopped by its process id when dropped,
/// also when the test panics.
pub(super) struct Server {
    child: Child,
    pub(super) url: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    pub(super) fn start(dir: &Path) -> Self {
        require_tool("node");
        let mut child = Command::new("node")
            .args(["server.mjs", "0"])
            .current_dir(dir)
            .env_remove("NODE_ENV")
            .env_remove("DEBUG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `node server.mjs` in {}: {e}", dir.display()));

        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            sink.lock().unwrap().push_str(&text);
        });

        let stdout = child.stdout.take().unwrap();
        let (found, url) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let (false, Some(url)) = (sent, line.strip_prefix("listening ")) {
                    sent = found.send(url.trim().to_owned()).is_ok();
                }
            }
        });

        let mut server = Self {
            child,
            url: String::new(),
            stderr,
        };
        match url.recv_timeout(STARTUP_LIMIT) {
            Ok(url) => server.url = url,
            Err(_) => {
                let exited = server.child.try_wait().ok().flatten();
                // Give the stderr reader a moment to collect what an exiting process said.
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "node-oidc-provider printed no `listening URL` line within {STARTUP_LIMIT:?} (exit: {exited:?}); stderr:\n{}",
                    server.stderr.lock().unwrap()
                );
            }
        }
        assert!(
            server.url.starts_with("http://127.0.0.1:"),
            "the fixture must listen on 127.0.0.1 only, but said {}",
            server.url
        );
        server
    }
}

impl Server {
    /// Sends SIGTERM to the server's process id and waits up to five seconds
    /// for it to exit; kills it if it lingers. `None` if it had to be killed.
    fn terminate(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: drives node-oidc-provider; runs with `cargo test --all-features`"
)]
fn oidc_provider_passes_its_spec_live_and_matches_snapshots() {
    let fixture = fixture_dir();
    npm_ci(&fixture);
    let server = Server::start(&fixture);

    let root = grantspec_runner::workspace_root();
    let specs = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("specs").join("oidc-provider.yaml"),
        specs.path().join("oidc-provider.yaml"),
    )
    .unwrap();
    let snapshots_dir = root.join("snapshots");
    let mut env: Vec<(&str, &str)> = CREDENTIALS.to_vec();
    env.push(("OIDC_PROVIDER_BASE_URL", &server.url));
    // The private half of the key server.mjs registers for grantspec-pkjwt.
    let key_file = root.join("crates/test-support/keys/ec-private.pem");
    let key_file = key_file.to_str().unwrap();
    env.push(("OIDC_PROVIDER_PKJWT_KEY_FILE", key_file));
    let config = SuiteConfig {
        specs_dir: specs.path().to_path_buf(),
        snapshots_dir: snapshots_dir.clone(),
        target: TargetKind::Live,
        env: Env::from_pairs(env),
        transport: TransportConfig::default(),
        write_pending_snapshots: false,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    assert!(
        suite.load_errors().is_empty(),
        "the spec did not load: {:?}",
        suite
            .load_errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    let ids = suite.cases();
    let reports = runtime.block_on(suite.run_all());
    assert_eq!(reports.len(), ids.len(), "every case reports back");
    assert!(
        reports.len() >= 20,
        "expected the whole oidc-provider spec, got {} cases",
        reports.len()
    );

    // The authorization code cases show each code and PKCE check passing.
    assert_code_checks_pass(&reports);

    // Judged as every entry point judges a case (snapshots included), but
    // without leaving pending snapshots in the repository.
    let mut problems = Vec::new();
    let mut snapshots_matched = 0;
    for report in &reports {
        match &report.judgement {
            Judgement::Passed if report.snapshot => snapshots_matched += 1,
            Judgement::Passed => {}
            Judgement::Failed(failure) => problems.push(format!(
                "{}\n(run `bash .ci/live-oidc.sh` to write new or changed snapshots as pending for review)",
                failure.message
            )),
            Judgement::Ignored(reason) => {
                problems.push(format!("{} did not run live: {reason}", report.name));
            }
        }
        let pending = grantspec_runner::snapshot_file(
            &snapshots_dir,
            TargetKind::Live,
            &report.provider,
            &report.case,
        )
        .with_extension("snap.new");
        assert!(
            !pending.exists(),
            "a pending snapshot was left behind: {}",
            pending.display()
        );
    }
    drop(suite);
    drop(runtime);
    let mut server = server;
    let stopped = server.terminate();
    assert!(
        stopped.is_some_and(|status| status.success()),
        "node-oidc-provider must exit cleanly on SIGTERM, got {stopped:?}; stderr:\n{}",
        server.stderr.lock().unwrap()
    );

    assert!(
        problems.is_empty(),
        "{} problem(s) in the live oidc-provider run:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    assert!(
        snapshots_matched >= 10,
        "only {snapshots_matched} snapshots were compared; the live-only cases keep snapshots"
    );
}

/// The authorization code and PKCE checks that `specs/oidc-provider.yaml`'s
/// cases exercise.
const CODE_CHECKS: &[&str] = &[
    "RFC6749-4.1.2-code-single-use",
    "RFC6749-4.1.2-code-replay-revokes-tokens",
    "RFC6749-4.1.3-redirect-uri-match",
    "RFC7636-4.6-wrong-verifier-refused",
    "RFC7636-4.6-verifier-required",
    "RFC9700-2.1.1-plain-pkce-downgrade",
    "RFC6749-10.4-refresh-bound-to-client",
];

/// Each of [`CODE_CHECKS`] passed in some case of `reports` and warned or
/// failed in none: the cases judge what they are meant to, with no wrong
/// finding.
fn assert_code_checks_pass(reports: &[grantspec_runner::CaseReport]) {
    for id in CODE_CHECKS {
        let outcomes: Vec<(&str, grantspec_conformance::Outcome)> = reports
            .iter()
            .flat_map(|report| {
                report
                    .run
                    .findings
                    .iter()
                    .filter(|finding| finding.check.id == *id)
                    .map(|finding| (report.case.as_str(), finding.outcome))
            })
            .collect();
        assert!(
            outcomes
                .iter()
                .any(|(_, outcome)| *outcome == grantspec_conformance::Outcome::Pass),
            "{id} passed in no case: {outcomes:?}"
        );
        assert!(
            !outcomes.iter().any(|(_, outcome)| outcome.is_deviation()),
            "{id} found a deviation: {outcomes:?}"
        );
    }
}

#[test]
fn the_code_cases_judge_the_code_checks_on_the_mock_too() {
    let root = grantspec_runner::workspace_root();
    let specs = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("specs").join("oidc-provider.yaml"),
        specs.path().join("oidc-provider.yaml"),
    )
    .unwrap();
    let config = SuiteConfig {
        specs_dir: specs.path().to_path_buf(),
        snapshots_dir: root.join("snapshots"),
        target: TargetKind::Mock,
        env: Env::from_pairs(Vec::<(&str, &str)>::new()),
        transport: TransportConfig::default(),
        write_pending_snapshots: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    assert_code_checks_pass(&reports);
}
