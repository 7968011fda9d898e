//! One verdict for every entry point: the corpus under `tests/verdicts/`
//! (a spec folder and its snapshots, one provider per fixture) is run by
//! `cargo test` (the `specs` binary), `cargo nextest run` and `cargo xtask
//! report`, and every trial must get the same verdict from each of them,
//! from the report's summary line, its `compatibility.json` and its
//! `junit.xml`, with the same totals.
//!
//! | fixture | what it holds | verdict |
//! |---|---|---|
//! | `passing` | a case that holds, with its mock snapshot and a live snapshot that differs (never read on the mock); a live-only case | passed; ignored |
//! | `tampered` | a stored snapshot edited (expires_in 600 -> 601) | failed (snapshot changed) |
//! | `pending` | no stored snapshot | failed (pending review) |
//! | `failing` | an expectation that does not hold | failed |
//! | `undeclared` | a deviation the spec does not declare | failed, and its declared_deviations |
//! | `bent` | a request bent on purpose (Basic, not the profile's post) whose response breaks a rule | failed; its declared_deviations pass (probes are no dialect) |
//! | `broken` | a spec error | `broken::spec` failed |
//! | `remote` | no `mock` section: a live-only provider | its case and its declared_deviations ignored, saying so |
//! | `unemulated` | a declared deviation the mock does not emulate | passed, the deviation noted as not emulated |
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Output};

use grantspec_test_support::{copy_dir, outcomes, specs_binary, temp_dir, text, workspace};

/// Trial name to `passed`, `failed` or `ignored`.
type Verdicts = BTreeMap<String, &'static str>;

/// What each fixture must come to.
fn expected() -> Verdicts {
    [
        ("bent::basic_probe", "failed"),
        ("bent::declared_deviations", "passed"),
        ("broken::spec", "failed"),
        ("failing::client_credentials", "failed"),
        ("failing::declared_deviations", "passed"),
        ("passing::client_credentials", "passed"),
        ("passing::live_only", "ignored"),
        ("passing::declared_deviations", "passed"),
        ("pending::client_credentials", "failed"),
        ("pending::declared_deviations", "passed"),
        ("remote::client_credentials", "ignored"),
        ("remote::declared_deviations", "ignored"),
        ("tampered::client_credentials", "failed"),
        ("tampered::declared_deviations", "passed"),
        ("undeclared::client_credentials", "failed"),
        ("undeclared::declared_deviations", "failed"),
        ("unemulated::client_credentials", "passed"),
        ("unemulated::declared_deviations", "passed"),
    ]
    .into_iter()
    .map(|(name, verdict)| (name.to_owned(), verdict))
    .collect()
}

/// libtest's and nextest's closing counts: passed, failed, ignored.
type Totals = (usize, usize, usize);

fn totals(verdicts: &Verdicts) -> Totals {
    let count = |v: &str| verdicts.values().filter(|x| **x == v).count();
    (count("passed"), count("failed"), count("ignored"))
}

/// A command on the corpus copied to `dir`, in CI (nothing pending is
/// written), on the mock target.
fn on_corpus(mut command: Command, dir: &Path) -> Output {
    command
        .current_dir(workspace())
        .env("GRANTSPEC_SPECS", dir.join("specs"))
        .env("GRANTSPEC_SNAPSHOTS", dir.join("snapshots"))
        .env("CI", "true")
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("the command runs")
}

/// The number after each of `words` in `line` (`6 passed; 7 failed`).
fn counts_in(line: &str, words: [&str; 3]) -> Totals {
    let tokens: Vec<&str> = line
        .split(|c: char| c.is_whitespace() || c == ';' || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let number_before = |word: &str| {
        tokens
            .windows(2)
            .find(|pair| pair[1] == word)
            .and_then(|pair| pair[0].parse().ok())
            .unwrap_or(0)
    };
    (
        number_before(words[0]),
        number_before(words[1]),
        number_before(words[2]),
    )
}

/// The verdicts, totals and success of `cargo test`, and all it printed.
fn cargo_test(dir: &Path) -> (Verdicts, Totals, bool, String) {
    let output = on_corpus(Command::new(specs_binary()), dir);
    let verdicts = outcomes(&output)
        .into_iter()
        .map(|(name, outcome)| {
            let verdict = match outcome.as_str() {
                "ok" => "passed",
                "FAILED" => "failed",
                other if other.starts_with("ignored") => "ignored",
                other => panic!("libtest outcome {other:?} for {name}"),
            };
            (name, verdict)
        })
        .collect();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("test result:"))
        .unwrap_or_else(|| panic!("no test result line: {}", text(&output)));
    let totals = counts_in(line, ["passed", "failed", "ignored"]);
    (verdicts, totals, output.status.success(), text(&output))
}

fn nextest(dir: &Path) -> (Verdicts, Totals, bool) {
    let mut command = Command::new(env!("CARGO"));
    command.args([
        "nextest",
        "run",
        "--workspace",
        "--test",
        "specs",
        "--no-fail-fast",
        "--status-level",
        "all",
        "--final-status-level",
        "none",
        "--color",
        "never",
    ]);
    command.args(grantspec_test_support::cargo_feature_args());
    let output = on_corpus(command, dir);
    let log = text(&output);
    let mut verdicts = Verdicts::new();
    for line in log.lines() {
        let mut words = line.split_whitespace();
        let verdict = match words.next() {
            Some("PASS") => "passed",
            Some("FAIL") => "failed",
            Some("SKIP") => "ignored",
            _ => continue,
        };
        if let Some(name) = line.split_whitespace().last() {
            verdicts.insert(name.to_owned(), verdict);
        }
    }
    let summary = log
        .lines()
        .find(|l| l.trim_start().starts_with("Summary"))
        .unwrap_or_else(|| panic!("no nextest summary: {log}"));
    let totals = counts_in(summary, ["passed", "failed", "skipped"]);
    (verdicts, totals, output.status.success())
}

/// The report's verdicts from its summary line, `compatibility.json` and
/// `junit.xml`, with their totals, and whether the task succeeded.
struct ReportRun {
    summary: Totals,
    json: Verdicts,
    json_totals: Totals,
    junit: Verdicts,
    junit_totals: Totals,
    succeeded: bool,
    report: grantspec_report::Compatibility,
    /// What the task printed.
    text: String,
}

fn report(dir: &Path) -> ReportRun {
    let out = dir.join("out");
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("report").arg("--out").arg(&out);
    let output = on_corpus(command, dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("report result:"))
        .unwrap_or_else(|| panic!("no report result line: {}", text(&output)));
    let summary = counts_in(line, ["passed", "failed", "ignored"]);

    let report = grantspec_report::from_json(
        &std::fs::read_to_string(out.join("compatibility.json")).unwrap(),
    )
    .unwrap();
    let mut json = Verdicts::new();
    for error in &report.spec_errors {
        json.insert(error.trial.clone(), "failed");
    }
    for provider in &report.providers {
        for case in &provider.cases {
            let verdict = match case.outcome {
                grantspec_report::CaseOutcome::Passed => "passed",
                grantspec_report::CaseOutcome::Failed | grantspec_report::CaseOutcome::Pending => {
                    "failed"
                }
                grantspec_report::CaseOutcome::Skipped => "ignored",
            };
            json.insert(format!("{}::{}", provider.id, case.name), verdict);
        }
    }
    let s = &report.summary;
    let json_totals = (s.passed, s.failed, s.skipped);

    let xml = std::fs::read(out.join("junit.xml")).unwrap();
    let parsed = junit_parser::from_reader(Cursor::new(xml)).unwrap();
    let mut junit = Verdicts::new();
    for suite in &parsed.suites {
        for case in &suite.cases {
            let verdict = if case.status.is_success() {
                "passed"
            } else if case.status.is_skipped() {
                "ignored"
            } else {
                "failed"
            };
            let class = case.classname.clone().unwrap_or_default();
            junit.insert(format!("{class}::{}", case.original_name), verdict);
        }
    }
    let junit_totals = (
        parsed.tests as usize - parsed.failures as usize - parsed.skipped as usize,
        parsed.failures as usize,
        parsed.skipped as usize,
    );
    ReportRun {
        summary,
        json,
        json_totals,
        junit,
        junit_totals,
        succeeded: output.status.success(),
        report,
        text: text(&output),
    }
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo and cargo-nextest, then `xtask report` and `record`, on one corpus; runs with `cargo test --all-features`"
)]
fn every_entry_point_gives_every_trial_the_same_verdict() {
    let dir = temp_dir("verdicts");
    copy_dir(&workspace().join("xtask/tests/verdicts"), &dir);
    let expected = expected();
    let expected_totals = totals(&expected);

    let (libtest, libtest_totals, libtest_ok, libtest_text) = cargo_test(&dir);
    assert_eq!(libtest, expected, "cargo test");
    assert_eq!(libtest_totals, expected_totals, "cargo test's result line");
    assert!(!libtest_ok, "cargo test fails when a trial fails");

    let (next, next_totals, next_ok) = nextest(&dir);
    assert_eq!(next, expected, "cargo nextest run");
    assert_eq!(next_totals, expected_totals, "nextest's summary");
    assert!(!next_ok, "nextest fails when a trial fails");

    let report = report(&dir);
    assert_eq!(report.json, expected, "compatibility.json");
    assert_eq!(report.junit, expected, "junit.xml");
    assert_eq!(report.summary, expected_totals, "the report's result line");
    assert_eq!(
        report.json_totals, expected_totals,
        "compatibility.json's summary"
    );
    assert_eq!(report.junit_totals, expected_totals, "junit.xml's counts");
    assert!(
        !report.succeeded,
        "the report exits non-zero when a trial fails"
    );

    // What failed is named the same way everywhere.
    let case = |provider: &str, name: &str| {
        report
            .report
            .providers
            .iter()
            .find(|p| p.id == provider)
            .and_then(|p| p.cases.iter().find(|c| c.name == name))
            .unwrap_or_else(|| panic!("{provider}::{name} is in the report"))
            .clone()
    };
    let tampered = case("tampered", "client_credentials");
    assert_eq!(tampered.failure_kind.as_deref(), Some("snapshot-changed"));
    let message = tampered.message.unwrap();
    assert!(message.contains("-  \"expires_in\": 601,"), "{message}");
    assert!(message.contains("+  \"expires_in\": 600,"), "{message}");
    let pending = case("pending", "client_credentials");
    assert_eq!(pending.outcome, grantspec_report::CaseOutcome::Pending);
    assert_eq!(report.report.summary.pending, 1);
    let undeclared = case("undeclared", "declared_deviations");
    assert_eq!(undeclared.failure_kind.as_deref(), Some("deviations"));
    assert!(
        undeclared
            .message
            .unwrap()
            .contains("missing-cache-headers"),
        "the drift is named"
    );
    let bent = case("bent", "basic_probe");
    let message = bent.message.unwrap();
    assert!(message.contains("bent request"), "{message}");
    assert!(message.contains("missing-cache-headers"), "{message}");

    // A live-only provider: ignored, saying why, in every entry point.
    let live_only = "live-only: the spec has no `mock` section";
    for trial in ["client_credentials", "declared_deviations"] {
        assert!(
            libtest_text.contains(&format!("remote::{trial}: {live_only}")),
            "{libtest_text}"
        );
        let skipped = case("remote", trial);
        assert!(
            skipped
                .skip_reason
                .as_deref()
                .is_some_and(|r| r.starts_with(live_only)),
            "{skipped:?}"
        );
    }
    let remote = report
        .report
        .providers
        .iter()
        .find(|p| p.id == "remote")
        .unwrap();
    assert!(remote.live_only);

    // A declared deviation the mock does not emulate passes unjudged, noted.
    assert!(
        libtest_text.contains(&format!(
            "declared deviations {}:\n  unemulated::declared_deviations: `expires-in-as-string`",
            grantspec_report::NOT_EMULATED
        )),
        "{libtest_text}"
    );
    let unemulated = report
        .report
        .providers
        .iter()
        .find(|p| p.id == "unemulated")
        .unwrap();
    assert_eq!(unemulated.rfc.not_emulated, ["expires-in-as-string"]);
    assert!(
        report.text.contains(
            "unemulated::declared_deviations: declared deviations not emulated by the mock"
        )
    );

    // Each target keeps its own snapshot: the mock run passed against the
    // mock's, and the report shows the two side by side.
    let passing = case("passing", "client_credentials");
    assert_eq!(passing.outcome, grantspec_report::CaseOutcome::Passed);
    let diff = passing.mock_vs_live.unwrap();
    assert!(diff.contains("-  \"expires_in\": 600,"), "{diff}");
    assert!(diff.contains("+  \"expires_in\": 3600,"), "{diff}");

    let nothing_pending = walk(&dir.join("snapshots"))
        .into_iter()
        .filter(|p| p.ends_with(".snap.new"))
        .collect::<Vec<_>>();
    assert!(
        nothing_pending.is_empty(),
        "CI writes nothing: {nothing_pending:?}"
    );
}

/// Every file under `dir`, as text paths.
fn walk(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path.display().to_string());
        }
    }
    files
}
