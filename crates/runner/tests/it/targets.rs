#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One spec, two targets: the embedded mock and a live provider (the
//! loopback provider of [`super::faults`]). A spec without a `mock` section
//! is live-only.

use std::path::Path;
use std::sync::Arc;

use grantspec_runner::{CaseReport, Env, Judgement, LIVE_ONLY, Suite, SuiteConfig, TrialId};
use grantspec_spec::template::TargetKind;
use grantspec_test_support::{TestDir, temp_dir};
use grantspec_token::TransportConfig;

use super::faults::{CLIENT_ID, CLIENT_SECRET, start_loopback_provider};

/// The mock seed of [`spec`]: the loopback provider's client, with tokens
/// of ten minutes where the loopback provider's last an hour.
const SEED: &str = "mock:
  token_lifetime: 600
  clients:
    - { id: fault-client, secret: mock-secret, grants: [client_credentials] }
";

/// The cases of [`spec`].
const CASES: &str = r#"  - name: client_credentials
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect: { status: 200, body: { token_type: Bearer } }
  - name: wrong_secret_rejected
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: not-the-secret }
    expect: { status: 401, body: { error: invalid_client } }
"#;

/// A spec for the loopback provider (`LOOPBACK_BASE_URL`), with `seed` as
/// its mock section (empty: live-only) and these declared deviations.
fn spec(id: &str, seed: &str, deviations: &[&str]) -> String {
    format!(
        r#"provider:
  id: {id}
  name: {id}
  token_endpoint: {{ path: /token, client_auth: basic }}
  deviations: [{deviations}]
{seed}live:
  base_url: "${{env:LOOPBACK_BASE_URL}}"
vars:
  client_id: {CLIENT_ID}
  client_secret: {{ mock: mock-secret, live: "${{secret:LOOPBACK_CLIENT_SECRET}}" }}
cases:
{CASES}"#,
        deviations = deviations.join(", ")
    )
}

/// A spec folder holding `specs` (`id`, text), and an empty snapshot folder.
fn folders(specs: &[(&str, String)]) -> (TestDir, TestDir) {
    let dir = temp_dir("targets-specs");
    for (id, text) in specs {
        std::fs::write(dir.join(format!("{id}.yaml")), text).unwrap();
    }
    (dir, temp_dir("targets-snapshots"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The suite of `specs` on `target`, the live one at the loopback provider
/// listening on `addr`; pending snapshots are written.
fn suite(
    runtime: &tokio::runtime::Runtime,
    specs: &Path,
    snapshots: &Path,
    target: TargetKind,
    addr: std::net::SocketAddr,
) -> Arc<Suite> {
    let config = SuiteConfig {
        specs_dir: specs.to_path_buf(),
        snapshots_dir: snapshots.to_path_buf(),
        target,
        env: Env::from_pairs([
            ("LOOPBACK_BASE_URL", format!("http://{addr}/ok")),
            ("LOOPBACK_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ]),
        transport: TransportConfig::default(),
        write_pending_snapshots: true,
    };
    let suite = runtime.block_on(Suite::start(config)).unwrap();
    assert!(
        suite.load_errors().is_empty(),
        "{:?}",
        suite
            .load_errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    Arc::new(suite)
}

/// Every case report of `provider`, and its declared-deviations verdict.
fn run(
    runtime: &tokio::runtime::Runtime,
    suite: &Arc<Suite>,
    provider: &str,
) -> (Vec<CaseReport>, Judgement) {
    let reports: Vec<CaseReport> = runtime
        .block_on(suite.run_all())
        .into_iter()
        .filter(|r| r.provider == provider)
        .collect();
    let index = suite
        .specs()
        .position(|s| s.spec.provider.id == provider)
        .unwrap();
    let deviations =
        runtime.block_on(suite.judge_provider_trial(TrialId::DeclaredDeviations(index)));
    (reports, deviations)
}

#[test]
fn a_spec_without_mock_is_ignored_on_the_mock_with_its_reason_and_runs_live() {
    let runtime = runtime();
    let addr = runtime.block_on(start_loopback_provider());
    let (specs, snapshots) = folders(&[
        ("liveonly", spec("liveonly", "", &[])),
        ("seeded", spec("seeded", SEED, &[])),
    ]);

    // On the mock: every trial of the live-only provider is ignored, saying
    // why; the seeded one next to it runs.
    let mock = suite(&runtime, &specs, &snapshots, TargetKind::Mock, addr);
    assert!(
        mock.mock().unwrap().token_url("liveonly").is_none(),
        "the mock does not serve a live-only provider"
    );
    let (reports, deviations) = run(&runtime, &mock, "liveonly");
    assert_eq!(reports.len(), 2);
    for report in &reports {
        assert_eq!(
            report.judgement,
            Judgement::Ignored(LIVE_ONLY.to_owned()),
            "{}",
            report.name
        );
    }
    assert_eq!(deviations, Judgement::Ignored(LIVE_ONLY.to_owned()));
    assert!(LIVE_ONLY.starts_with("live-only: the spec has no `mock` section"));
    let (seeded, _) = run(&runtime, &mock, "seeded");
    assert!(
        seeded
            .iter()
            .all(|r| !matches!(r.judgement, Judgement::Ignored(_))),
        "the seeded provider runs on the mock"
    );

    // The report shows it as live-only, its trials skipped with the reason.
    let reports = runtime.block_on(mock.run_all());
    let report = grantspec_runner::compat::build(&mock, &reports);
    let provider = report
        .providers
        .iter()
        .find(|p| p.id == "liveonly")
        .unwrap();
    assert!(provider.live_only);
    assert_eq!(provider.outcome.skipped, 3, "two cases and its deviations");
    assert_eq!(provider.outcome.failed, 0);
    assert!(
        provider
            .cases
            .iter()
            .all(|c| c.skip_reason.as_deref() == Some(LIVE_ONLY)),
        "{:?}",
        provider.cases
    );
    let lifetime = provider.fact("token_lifetime").unwrap();
    assert_eq!(lifetime.spec, grantspec_report::NOT_DECLARED);
    assert!(!lifetime.run_differs);
    assert!(
        provider.differences.is_empty(),
        "{:?}",
        provider.differences
    );
    let markdown = grantspec_report::to_markdown(&report);
    assert!(markdown.contains("**Live-only.**"), "{markdown}");
    let seeded = report.providers.iter().find(|p| p.id == "seeded").unwrap();
    assert!(!seeded.live_only);

    // Live, it runs like any other provider.
    let live = suite(&runtime, &specs, &snapshots, TargetKind::Live, addr);
    let (reports, deviations) = run(&runtime, &live, "liveonly");
    for report in &reports {
        assert!(
            matches!(
                report.judgement,
                Judgement::Passed
                    | Judgement::Failed(grantspec_runner::Failure {
                        kind: grantspec_runner::FailureKind::SnapshotPending,
                        ..
                    })
            ),
            "{}: {:?}",
            report.name,
            report.judgement
        );
        assert_eq!(
            report.run.verdict,
            grantspec_runner::Verdict::Passed,
            "{}",
            report.name
        );
    }
    assert_eq!(deviations, Judgement::Passed);
}

/// The pending snapshots under `dir`, relative to it, sorted.
fn pending(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".snap.new") {
                let relative = path.strip_prefix(dir).unwrap();
                found.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

/// Whether insta leaves pending `.snap.new` files here: never in CI.
fn pending_written() -> bool {
    std::env::var_os("CI").is_none()
        && std::env::var("INSTA_UPDATE").map_or(true, |update| update != "no")
}

/// The pending snapshots a run leaves: `files` where insta writes them,
/// none in CI.
fn expected_pending(files: &[&str]) -> Vec<String> {
    if pending_written() {
        files.iter().map(|f| (*f).to_owned()).collect()
    } else {
        Vec::new()
    }
}

/// Stores each report's answer as its target's snapshot, as accepting the
/// pending one would, and drops the pending files (which CI never writes).
fn record(snapshots: &Path, target: TargetKind, reports: &[CaseReport]) {
    for report in reports {
        let file =
            grantspec_runner::snapshot_file(snapshots, target, &report.provider, &report.case);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        let text = grantspec_runner::render::snapshot_text(&report.run);
        std::fs::write(&file, format!("---\nsource: targets.rs\n---\n{text}")).unwrap();
    }
    for file in pending(snapshots) {
        std::fs::remove_file(snapshots.join(file)).unwrap();
    }
}

/// `provider::case`'s judgement, from reports.
fn judged<'r>(reports: &'r [CaseReport], case: &str) -> &'r Judgement {
    &reports.iter().find(|r| r.case == case).unwrap().judgement
}

#[test]
fn each_target_writes_reads_and_fails_on_its_own_snapshot_only() {
    let runtime = runtime();
    let addr = runtime.block_on(start_loopback_provider());
    let (specs, snapshots) = folders(&[("both", spec("both", SEED, &[]))]);
    let on = |target| suite(&runtime, &specs, &snapshots, target, addr);

    // First runs: each target writes its own pending snapshots, in its own
    // place, and fails only as pending.
    let (mock, _) = run(&runtime, &on(TargetKind::Mock), "both");
    assert_eq!(
        pending(&snapshots),
        expected_pending(&[
            "both/client_credentials.snap.new",
            "both/wrong_secret_rejected.snap.new"
        ])
    );
    let (live, _) = run(&runtime, &on(TargetKind::Live), "both");
    assert_eq!(
        pending(&snapshots),
        expected_pending(&[
            "both/client_credentials.snap.new",
            "both/live/client_credentials.snap.new",
            "both/live/wrong_secret_rejected.snap.new",
            "both/wrong_secret_rejected.snap.new"
        ])
    );
    for report in mock.iter().chain(&live) {
        assert_eq!(
            report.judgement.failure().map(|f| f.kind),
            Some(grantspec_runner::FailureKind::SnapshotPending),
            "{}",
            report.name
        );
    }
    record(&snapshots, TargetKind::Mock, &mock);
    record(&snapshots, TargetKind::Live, &live);
    let read = |path: &str| std::fs::read_to_string(snapshots.join(path)).unwrap();
    let file =
        |target| grantspec_runner::snapshot_file(&snapshots, target, "both", "client_credentials");
    assert_eq!(
        file(TargetKind::Mock),
        snapshots.join("both/client_credentials.snap")
    );
    assert_eq!(
        file(TargetKind::Live),
        snapshots.join("both/live/client_credentials.snap")
    );
    // The two answers legitimately differ (ten minutes against an hour).
    assert!(read("both/client_credentials.snap").contains("\"expires_in\": 600"));
    assert!(read("both/live/client_credentials.snap").contains("\"expires_in\": 3600"));

    // Each target now matches its own snapshot.
    for target in [TargetKind::Mock, TargetKind::Live] {
        let (reports, _) = run(&runtime, &on(target), "both");
        for report in &reports {
            assert_eq!(
                report.judgement,
                Judgement::Passed,
                "{target:?} {}",
                report.name
            );
        }
    }
    assert!(pending(&snapshots).is_empty());

    // A tampered live snapshot fails the live run only; a tampered mock
    // snapshot the mock run only.
    let tamper = |path: &str| {
        let text = read(path).replace("status: 200", "status: 299");
        std::fs::write(snapshots.join(path), text).unwrap();
    };
    tamper("both/live/client_credentials.snap");
    let (mock, _) = run(&runtime, &on(TargetKind::Mock), "both");
    assert_eq!(judged(&mock, "client_credentials"), &Judgement::Passed);
    let (live, _) = run(&runtime, &on(TargetKind::Live), "both");
    let failure = judged(&live, "client_credentials").failure().unwrap();
    assert_eq!(failure.kind, grantspec_runner::FailureKind::SnapshotChanged);
    assert!(
        failure.message.contains("-status: 299"),
        "{}",
        failure.message
    );
    record(&snapshots, TargetKind::Live, &live);

    tamper("both/client_credentials.snap");
    let (live, _) = run(&runtime, &on(TargetKind::Live), "both");
    assert_eq!(judged(&live, "client_credentials"), &Judgement::Passed);
    let (mock, _) = run(&runtime, &on(TargetKind::Mock), "both");
    assert_eq!(
        judged(&mock, "client_credentials")
            .failure()
            .map(|f| f.kind),
        Some(grantspec_runner::FailureKind::SnapshotChanged)
    );
    record(&snapshots, TargetKind::Mock, &mock);

    // The report compares the two stored snapshots of each case, as
    // information: the cases passed.
    let mock = on(TargetKind::Mock);
    let reports = runtime.block_on(mock.run_all());
    let report = grantspec_runner::compat::build(&mock, &reports);
    let case = report.providers[0]
        .cases
        .iter()
        .find(|c| c.name == "client_credentials")
        .unwrap();
    assert_eq!(case.outcome, grantspec_report::CaseOutcome::Passed);
    let diff = case.mock_vs_live.as_deref().unwrap();
    assert!(diff.starts_with("--- mock\n+++ live\n"), "{diff}");
    assert!(diff.contains("\n-  \"expires_in\": 600,\n"), "{diff}");
    assert!(diff.contains("\n+  \"expires_in\": 3600,\n"), "{diff}");
    assert!(!diff.contains(CLIENT_SECRET) && !diff.contains("mock-secret"));
}

#[test]
fn a_live_run_without_its_own_snapshot_points_at_the_mocks() {
    let runtime = runtime();
    let addr = runtime.block_on(start_loopback_provider());
    let (specs, snapshots) = folders(&[("both", spec("both", SEED, &[]))]);
    let (mock, _) = run(
        &runtime,
        &suite(&runtime, &specs, &snapshots, TargetKind::Mock, addr),
        "both",
    );
    record(&snapshots, TargetKind::Mock, &mock);
    // Before snapshots were kept per target, a live run compared with the
    // mock's file; a live run without a live snapshot now says so.
    let (live, _) = run(
        &runtime,
        &suite(&runtime, &specs, &snapshots, TargetKind::Live, addr),
        "both",
    );
    let failure = judged(&live, "client_credentials").failure().unwrap();
    assert_eq!(failure.kind, grantspec_runner::FailureKind::SnapshotPending);
    assert!(
        failure.message.contains(&format!(
            "{} is the mock's: if it was recorded live, move it there with `git mv`",
            snapshots.join("both/client_credentials.snap").display()
        )),
        "{}",
        failure.message
    );
}

#[test]
fn a_declared_deviation_the_mock_does_not_emulate_passes_on_the_mock_with_a_note_and_is_judged_live()
 {
    let runtime = runtime();
    let addr = runtime.block_on(start_loopback_provider());
    // The loopback provider sends `expires_in` as a number, and so does the
    // mock, which never sends it as a string.
    let (specs, snapshots) =
        folders(&[("stringy", spec("stringy", SEED, &["expires-in-as-string"]))]);

    let mock = suite(&runtime, &specs, &snapshots, TargetKind::Mock, addr);
    assert_eq!(mock.not_emulated(0), ["expires-in-as-string"]);
    let (reports, verdict) = run(&runtime, &mock, "stringy");
    assert_eq!(verdict, Judgement::Passed);
    let report = mock.deviations(0, &reports);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.not_emulated, ["expires-in-as-string"]);
    assert_eq!(
        report.notes(),
        [
            "declared deviation `expires-in-as-string` is not emulated by the mock: judged on the live target only"
        ]
    );
    let compatibility = grantspec_runner::compat::build(&mock, &reports);
    let provider = &compatibility.providers[0];
    assert_eq!(provider.rfc.not_emulated, ["expires-in-as-string"]);
    assert!(provider.rfc.drift.is_empty(), "{:?}", provider.rfc.drift);
    let markdown = grantspec_report::to_markdown(&compatibility);
    assert!(
        markdown.contains(&format!(
            "Declared deviations {}: `expires-in-as-string`",
            grantspec_report::NOT_EMULATED
        )),
        "{markdown}"
    );

    // Live, it is judged: the provider does not deviate so.
    let live = suite(&runtime, &specs, &snapshots, TargetKind::Live, addr);
    assert!(live.not_emulated(0).is_empty());
    let (_, verdict) = run(&runtime, &live, "stringy");
    let failure = verdict.failure().expect("judged live");
    assert_eq!(failure.kind, grantspec_runner::FailureKind::Deviations);
    assert!(
        failure.message.contains("declared deviation `expires-in-as-string` was not observed: the provider no longer deviates"),
        "{}",
        failure.message
    );
}

#[test]
fn a_declared_deviation_the_mock_emulates_is_still_judged_on_the_mock() {
    let runtime = runtime();
    let addr = runtime.block_on(start_loopback_provider());
    // The mock emulates the password grant for this seed, but the one
    // password case is refused: the declaration is judged, and fails.
    let seeded = SEED.replace(
        "  clients:\n",
        "  users:\n    - { username: alice, password: wonderland }\n  clients:\n    - { id: owner, secret: owner-secret, grants: [password] }\n",
    );
    let text = spec("granting", &seeded, &["password-grant"]).replace(
        "cases:\n",
        "cases:\n  - name: wrong_password_refused\n    snapshot: false\n    grant: password\n    with: { client_id: owner, client_secret: owner-secret, username: alice, password: wrong }\n    expect: { status: 400 }\n",
    );
    let (specs, snapshots) = folders(&[("granting", text)]);
    let mock = suite(&runtime, &specs, &snapshots, TargetKind::Mock, addr);
    assert!(mock.not_emulated(0).is_empty());
    let (_, verdict) = run(&runtime, &mock, "granting");
    let failure = verdict.failure().expect("judged on the mock");
    assert!(
        failure
            .message
            .contains("declared deviation `password-grant` was not observed"),
        "{}",
        failure.message
    );
}
