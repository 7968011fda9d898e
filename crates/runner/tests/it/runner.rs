//! Tests of the runner itself: the `specs` test binary run as a user runs it,
//! on spec and snapshot folders made for each test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use grantspec_runner::snapshot_body;
use grantspec_test_support::{
    TestDir, copy_dir, outcomes, specs_binary, temp_dir, text, workspace,
};

/// A spec folder holding only the Shopware spec, optionally edited.
fn shopware_specs(edit: impl FnOnce(String) -> String) -> TestDir {
    let dir = temp_dir("specs");
    let source = std::fs::read_to_string(workspace().join("specs/shopware.yaml")).unwrap();
    std::fs::write(dir.join("shopware.yaml"), edit(source)).unwrap();
    dir
}

fn run_specs(specs: &Path, snapshots: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(specs_binary());
    command
        .args(args)
        .current_dir(specs)
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("CI")
        .env_remove("INSTA_UPDATE");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("the specs binary runs")
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn one_changed_expectation_fails_exactly_that_case_with_a_diff() {
    let specs =
        shopware_specs(|s| s.replacen("        expires_in: 600\n", "        expires_in: 601\n", 1));
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );

    let output = run_specs(&specs, &snapshots, &[], &[]);
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    let outcomes = outcomes(&output);
    assert_eq!(outcomes["shopware::client_credentials"], "FAILED", "{all}");
    let failed: Vec<_> = outcomes.iter().filter(|(_, o)| *o == "FAILED").collect();
    assert_eq!(failed.len(), 1, "only the edited case fails: {all}");
    assert!(outcomes.len() > 10, "{all}");

    assert!(all.contains("/expires_in: expected 601, got 600"), "{all}");
    assert!(all.contains("-  \"expires_in\": 601,"), "{all}");
    assert!(all.contains("+  \"expires_in\": 600,"), "{all}");
    assert!(all.contains("\"client_secret\":\"[redacted]\""), "{all}");
    assert!(
        !all.contains("mock-integration-secret"),
        "a secret leaked: {all}"
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn passing_cases_pass_and_leave_nothing_pending() {
    let specs = shopware_specs(|s| s);
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );

    let output = run_specs(&specs, &snapshots, &[], &[]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        outcomes(&output).values().all(|o| o == "ok"),
        "{}",
        text(&output)
    );
    let pending = std::fs::read_dir(snapshots.join("shopware"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .to_string_lossy()
                .ends_with(".new")
        })
        .count();
    assert_eq!(pending, 0);
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn live_case_without_its_variables_is_ignored_naming_them() {
    let specs = shopware_specs(|s| s);
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );
    let live = [("GRANTSPEC_TARGET", "live")];

    // No base URL: every trial is ignored, and says which variable it
    // needs; the provider's declared deviations too, as nothing can run.
    let output = run_specs(&specs, &snapshots, &live, &[]);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let cases = outcomes(&output);
    assert!(cases.values().all(|o| o == "ignored"), "{all}");
    assert!(cases.contains_key("shopware::declared_deviations"), "{all}");
    for trial in ["unknown_client_rejected", "declared_deviations"] {
        assert!(
            all.contains(&format!(
                "shopware::{trial}: needs environment variable SHOPWARE_BASE_URL"
            )),
            "{all}"
        );
    }

    // A "live" provider (the mock, served on its own): cases whose variables
    // are set run and pass; the others are ignored naming what they need.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let spec = grantspec_spec::load_file(&specs.join("shopware.yaml"))
        .unwrap()
        .spec;
    let clock = std::sync::Arc::new(grantspec_token::SystemClock);
    let server = runtime
        .block_on(grantspec_mock::MockServer::start(
            [spec.mock_provider().unwrap()],
            clock,
            0,
        ))
        .unwrap();
    let base_url = server.base_url("shopware").to_string();
    // Its live snapshots are the mock's, since the mock answers.
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware/live"),
    );
    let env = [
        ("GRANTSPEC_TARGET", "live"),
        ("SHOPWARE_BASE_URL", base_url.as_str()),
    ];
    let output = run_specs(&specs, &snapshots, &env, &[]);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let outcomes = outcomes(&output);
    assert_eq!(outcomes["shopware::client_credentials"], "ignored", "{all}");
    assert_eq!(outcomes["shopware::unknown_client_rejected"], "ok", "{all}");
    assert!(
        all.contains("shopware::client_credentials: needs environment variables SHOPWARE_CLIENT_ID, SHOPWARE_CLIENT_SECRET, which are not set"),
        "{all}"
    );
    assert!(
        all.contains(
            "shopware::password_grant: needs environment variables SHOPWARE_ADMIN_PASSWORD, SHOPWARE_ADMIN_USER, which are not set"
        ),
        "{all}"
    );
    assert!(
        all.contains("shopware::token_works_then_expires_after_ten_minutes: tagged mock-only"),
        "{all}"
    );

    let included = run_specs(
        &specs,
        &snapshots,
        &env,
        &[
            "--include-ignored",
            "--exact",
            "shopware::client_credentials",
        ],
    );
    let all = text(&included);
    assert!(
        all.contains("ignored (needs environment variables SHOPWARE_CLIENT_ID, SHOPWARE_CLIENT_SECRET, which are not set)"),
        "{all}"
    );

    // A value that is not UTF-8 neither panics the harness nor is shown.
    use std::os::unix::ffi::OsStrExt;
    let not_unicode = std::ffi::OsStr::from_bytes(b"canary\xff\xfeid");
    let output = Command::new(specs_binary())
        .args([
            "--exact",
            "shopware::client_credentials",
            "--include-ignored",
        ])
        .current_dir(&specs)
        .env("GRANTSPEC_SPECS", &specs)
        .env("GRANTSPEC_SNAPSHOTS", &snapshots)
        .env("GRANTSPEC_TARGET", "live")
        .env("SHOPWARE_BASE_URL", &base_url)
        .env("SHOPWARE_CLIENT_ID", not_unicode)
        .env_remove("SHOPWARE_CLIENT_SECRET")
        .output()
        .unwrap();
    let all = text(&output);
    assert!(!all.contains("panicked"), "{all}");
    assert!(
        all.contains(
            "SHOPWARE_CLIENT_ID (set, but not valid UTF-8), SHOPWARE_CLIENT_SECRET (not set)"
        ),
        "{all}"
    );
    assert!(!all.contains("canary"), "the value was shown: {all}");
    drop(server);
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn new_snapshot_is_pending_until_accepted_and_never_written_in_ci() {
    let specs = shopware_specs(|s| s);
    let filter = ["--exact", "shopware::client_credentials"];

    let in_ci = temp_dir("snapshots-ci");
    let output = run_specs(&specs, &in_ci, &[("CI", "true")], &filter);
    assert!(!output.status.success());
    assert!(
        text(&output).contains("has no stored snapshot; no pending snapshot was written"),
        "{}",
        text(&output)
    );
    assert!(
        !in_ci.join("shopware").exists()
            || std::fs::read_dir(in_ci.join("shopware")).unwrap().count() == 0
    );

    let local = temp_dir("snapshots-local");
    let output = run_specs(&specs, &local, &[], &filter);
    assert!(!output.status.success());
    let pending = local.join("shopware/client_credentials.snap.new");
    assert!(pending.exists(), "{}", text(&output));
    assert!(
        text(&output).contains("cargo xtask accept"),
        "{}",
        text(&output)
    );

    std::fs::rename(&pending, local.join("shopware/client_credentials.snap")).unwrap();
    let output = run_specs(&specs, &local, &[], &filter);
    assert!(output.status.success(), "{}", text(&output));
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn same_spec_twice_gives_byte_identical_snapshots() {
    let specs = shopware_specs(|s| s);
    let first = temp_dir("first");
    let second = temp_dir("second");
    run_specs(&specs, &first, &[("INSTA_UPDATE", "always")], &[]);
    run_specs(&specs, &second, &[("INSTA_UPDATE", "always")], &[]);
    let files = |dir: &Path| -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(dir.join("shopware"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read(p).unwrap(),
                )
            })
            .collect()
    };
    let (a, b) = (files(&first), files(&second));
    assert!(a.len() > 10, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, content) in &a {
        assert!(content == &b[name], "{name} differs between runs");
    }
    // The committed snapshots hold the same content (insta's header differs
    // between a snapshot written directly and one accepted from `.snap.new`).
    for (name, content) in &a {
        let committed =
            std::fs::read_to_string(workspace().join("snapshots/shopware").join(name)).unwrap();
        assert_eq!(
            snapshot_body(&String::from_utf8_lossy(content)),
            snapshot_body(&committed),
            "{name} differs from the committed snapshot"
        );
    }
}

/// Two shipped specs (29 cases) rather than all of them: what is proved
/// (nextest's partitions split the trials the harness lists, each run
/// once) does not grow with the number of cases, while the time does,
/// since nextest runs every trial in a process of its own.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo-nextest, which runs every trial in a process of its own; runs with `cargo test --all-features`"
)]
fn nextest_partitions_cover_every_case_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["advanced-store.yaml", "shopware.yaml"] {
        std::fs::copy(workspace().join("specs").join(name), dir.path().join(name)).unwrap();
    }
    let specs = dir.path();
    let snapshots = workspace().join("snapshots");
    let list = |extra: &[&str]| -> Vec<String> {
        let listed = Command::new(specs_binary())
            .args(["--list", "--format", "terse"])
            .args(extra)
            .current_dir(workspace())
            .env("GRANTSPEC_SPECS", specs)
            .env("GRANTSPEC_SNAPSHOTS", &snapshots)
            .env_remove("GRANTSPEC_TARGET")
            .output()
            .unwrap();
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_owned)
            .collect()
    };
    // Ignored trials (live-only cases, on the mock) are listed but not run.
    let ignored = list(&["--ignored"]);
    let all: Vec<String> = list(&[])
        .into_iter()
        .filter(|name| !ignored.contains(name))
        .collect();
    assert!(all.len() >= 29, "{all:?}");

    // The three partitions are independent runs, so they run side by side;
    // `--workspace` and the same features, as `cargo test` builds it, so
    // nextest finds its build fresh (see
    // `grantspec_test_support::workspace_executable`).
    let snapshots = &snapshots;
    let logs = std::thread::scope(|scope| {
        let partitions = [1, 2, 3].map(|k| {
            scope.spawn(move || {
                let output = Command::new(env!("CARGO"))
                    .args([
                        "nextest",
                        "run",
                        "--workspace",
                        "--test",
                        "specs",
                        "--partition",
                        &format!("count:{k}/3"),
                        "--no-fail-fast",
                        "--status-level",
                        "pass",
                        "--final-status-level",
                        "none",
                        "--color",
                        "never",
                    ])
                    .args(grantspec_test_support::cargo_feature_args())
                    .current_dir(workspace())
                    .env("GRANTSPEC_SPECS", specs)
                    .env("GRANTSPEC_SNAPSHOTS", snapshots)
                    .env_remove("GRANTSPEC_TARGET")
                    .output()
                    .expect("cargo-nextest is installed (cargo install cargo-nextest)");
                let log = text(&output);
                assert!(output.status.success(), "partition {k}/3 failed:\n{log}");
                log
            })
        });
        partitions.map(|partition| {
            partition
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    });
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for log in &logs {
        for line in log.lines() {
            if let Some(rest) = line.trim_start().strip_prefix("PASS") {
                let name = rest.rsplit(' ').next().unwrap().to_owned();
                *seen.entry(name).or_default() += 1;
            }
        }
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "run by more than one partition: {twice:?}"
    );
    let seen: Vec<String> = seen.into_keys().collect();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(seen, expected, "the partitions together run every case");
}

#[test]
fn committed_snapshots_hold_no_token_secret_or_password() {
    let (specs, errors) = grantspec_spec::load_dir(&workspace().join("specs"));
    assert!(errors.is_empty(), "{errors:?}");
    let mut secrets: Vec<String> = Vec::new();
    for loaded in &specs {
        let Some(mock) = &loaded.spec.mock else {
            continue;
        };
        secrets.extend(mock.clients.iter().filter_map(|c| c.secret.clone()));
        secrets.extend(mock.users.iter().map(|u| u.password.clone()));
    }
    assert!(secrets.len() >= 4, "{secrets:?}");

    let mut files = Vec::new();
    let mut stack = vec![workspace().join("snapshots")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 40, "{}", files.len());
    let jwt = regex_lite_jwt();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{} contains a secret",
                file.display()
            );
        }
        for line in text.lines() {
            let token_like = line.contains("eyJ") && jwt(line)
                || line
                    .split(|c: char| !c.is_ascii_hexdigit())
                    .any(|run| run.len() >= 32);
            assert!(
                !token_like,
                "{} holds a token-like value: {line}",
                file.display()
            );
        }
    }
}

/// Whether `line` holds something shaped like a JWT (three base64url parts).
fn regex_lite_jwt() -> impl Fn(&str) -> bool {
    |line: &str| {
        line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .any(|word| word.starts_with("eyJ") && word.split('.').count() == 3)
    }
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn declared_deviations_are_checked_both_ways() {
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );

    // A declaration nothing shows fails: every token request is POST, so
    // the provider "no longer deviates" in its method. The method is in
    // the request alone, so the mock target judges it as a live one would.
    let stale =
        shopware_specs(|s| s.replacen("errors-array]", "errors-array, token-request-method]", 1));
    let output = run_specs(
        &stale,
        &snapshots,
        &[],
        &["--exact", "shopware::declared_deviations"],
    );
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(
        all.contains("declared deviation `token-request-method` was not observed: the provider no longer deviates; remove the declaration"),
        "{all}"
    );

    // The same in a run of the whole suite, where the trial reads what the
    // case trials' runs showed instead of running the cases again.
    let output = run_specs(&stale, &snapshots, &[], &[]);
    let all = text(&output);
    assert_eq!(
        outcomes(&output)["shopware::declared_deviations"],
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("declared deviation `token-request-method` was not observed"),
        "{all}"
    );

    // Shopware's mock sends both cache headers, so it cannot show their
    // absence: declared, it is left to a live run, and said so.
    let unemulated =
        shopware_specs(|s| s.replacen("errors-array]", "errors-array, missing-cache-headers]", 1));
    let output = run_specs(&unemulated, &snapshots, &[], &[]);
    let all = text(&output);
    assert_eq!(
        outcomes(&output)["shopware::declared_deviations"],
        "ok",
        "{all}"
    );
    assert!(
        all.contains("declared deviations not emulated by the mock, so not judged on the mock target (a live run judges them):\n  shopware::declared_deviations: `missing-cache-headers`"),
        "{all}"
    );

    // A deviation the spec does not declare is drift, in every case that shows it.
    let undeclared = shopware_specs(|s| s.replacen(", errors-array]", "]", 1));
    let output = run_specs(&undeclared, &snapshots, &[], &[]);
    let all = text(&output);
    let outcomes = outcomes(&output);
    assert_eq!(
        outcomes["shopware::wrong_secret_rejected"], "FAILED",
        "{all}"
    );
    assert_eq!(outcomes["shopware::client_credentials"], "ok", "{all}");
    assert!(
        all.contains("undeclared deviation `errors-array` (RFC6749-5.2-no-errors-array)"),
        "{all}"
    );
    assert!(
        all.contains("step 1 of 1 (client_credentials): RFC6749-5.2-no-errors-array (fail): an `errors` array"),
        "{all}"
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn a_bent_requests_undeclared_deviation_fails_its_case_as_drift_does() {
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/elastic-path"),
        &snapshots.join("elastic-path"),
    );
    let specs = temp_dir("specs");
    let source = std::fs::read_to_string(workspace().join("specs/elastic-path.yaml")).unwrap();
    std::fs::write(
        specs.join("elastic-path.yaml"),
        source.replacen(", errors-array", "", 1),
    )
    .unwrap();
    let output = run_specs(
        &specs,
        &snapshots,
        &[],
        &["--exact", "elastic-path::json_body_rejected"],
    );
    let all = text(&output);
    assert_eq!(
        outcomes(&output)["elastic-path::json_body_rejected"],
        "FAILED",
        "{all}"
    );
    assert!(
        all.contains("undeclared deviation `errors-array` (RFC6749-5.2-no-errors-array), shown by a bent request's response"),
        "{all}"
    );
    assert!(
        all.contains("step 1 of 1 (client_credentials), bent request: RFC6749-5.2-no-errors-array (fail): an `errors` array"),
        "{all}"
    );
    // The request side of a bent request is the tester's choice: the JSON
    // body it sends is no deviation of the provider.
    assert!(!all.contains("json-request-body"), "{all}");
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn a_case_marked_ignore_runs_only_when_asked() {
    let specs = shopware_specs(|s| {
        s.replacen(
            "  - name: client_credentials\n",
            "  - name: client_credentials\n    ignore: the integration is being rotated\n",
            1,
        )
    });
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );
    let filter = ["--exact", "shopware::client_credentials"];

    let output = run_specs(&specs, &snapshots, &[], &filter);
    let all = text(&output);
    assert_eq!(
        outcomes(&output)["shopware::client_credentials"],
        "ignored",
        "{all}"
    );
    assert!(
        all.contains("shopware::client_credentials: the integration is being rotated"),
        "{all}"
    );

    let mut asked = filter.to_vec();
    asked.push("--ignored");
    let output = run_specs(&specs, &snapshots, &[], &asked);
    assert_eq!(
        outcomes(&output)["shopware::client_credentials"],
        "ok",
        "{}",
        text(&output)
    );

    // A full run (what `cargo xtask report` does) ignores it with its reason.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let config = grantspec_runner::SuiteConfig {
        specs_dir: specs.to_path_buf(),
        snapshots_dir: snapshots.to_path_buf(),
        target: grantspec_spec::template::TargetKind::Mock,
        env: grantspec_runner::Env::default(),
        transport: grantspec_token::TransportConfig::default(),
        write_pending_snapshots: true,
    };
    let suite = std::sync::Arc::new(
        runtime
            .block_on(grantspec_runner::Suite::start(config))
            .unwrap(),
    );
    let reports = runtime.block_on(suite.run_all());
    let report = reports
        .iter()
        .find(|r| r.case == "client_credentials")
        .unwrap();
    assert_eq!(
        report.judgement,
        grantspec_runner::Judgement::Ignored("the integration is being rotated".into())
    );
}

#[cfg(unix)]
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn entries_named_like_specs_that_are_not_specs_fail_their_trials() {
    let specs = shopware_specs(|s| s);
    std::os::unix::fs::symlink("nowhere.yaml", specs.join("dangling.yaml")).unwrap();
    std::fs::create_dir(specs.join("folder.yaml")).unwrap();
    std::fs::write(specs.join("shopware.yml"), "provider: { id: shopware }\n").unwrap();
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );
    let output = run_specs(&specs, &snapshots, &[], &["--list"]);
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    for trial in [
        "dangling::spec: test",
        "folder::spec: test",
        "shopware::spec: test",
    ] {
        assert!(listed.contains(trial), "{trial} not in\n{listed}");
    }
    let output = run_specs(&specs, &snapshots, &[], &["::spec"]);
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    let outcomes = outcomes(&output);
    for trial in ["dangling::spec", "folder::spec", "shopware::spec"] {
        assert_eq!(outcomes[trial], "FAILED", "{all}");
    }
    assert!(
        all.contains("a symbolic link to `nowhere.yaml`, which does not exist"),
        "{all}"
    );
    assert!(all.contains("this is a folder, not a spec file"), "{all}");
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn a_spec_folder_without_specs_fails_rather_than_passing_no_tests() {
    let specs = temp_dir("nospecs");
    let snapshots = temp_dir("snapshots");
    let output = run_specs(&specs, &snapshots, &[], &[]);
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(
        all.contains(&format!("no spec files in {}", specs.display())),
        "{all}"
    );
    assert!(all.contains("::spec ... FAILED"), "{all}");
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn snapshots_pointing_at_a_file_is_a_start_up_error_naming_it() {
    let specs = shopware_specs(|s| s);
    let dir = temp_dir("snapshot-file");
    let file = dir.join("snapshots.txt");
    std::fs::write(&file, "not a folder").unwrap();
    for snapshots in [file.clone(), file.join("below")] {
        let output = run_specs(&specs, &snapshots, &[], &[]);
        let all = text(&output);
        assert!(!output.status.success(), "{all}");
        assert!(!all.contains("panicked"), "{all}");
        assert!(
            all.contains(&format!(
                "error: GRANTSPEC_SNAPSHOTS is {}",
                snapshots.display()
            )),
            "{all}"
        );
        assert!(
            all.contains(&format!("{} is not a folder", file.display())),
            "{all}"
        );
    }
}

#[cfg(unix)]
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn a_stored_snapshot_that_is_not_a_regular_file_fails_its_case_and_hangs_nothing() {
    let specs = shopware_specs(|s| s);
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );
    let fifo = snapshots.join("shopware/client_credentials.snap");
    std::fs::remove_file(&fifo).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let zero = snapshots.join("shopware/password_grant.snap");
    std::fs::remove_file(&zero).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();

    let mut child = Command::new(specs_binary())
        .current_dir(&specs)
        .env("GRANTSPEC_SPECS", &specs)
        .env("GRANTSPEC_SNAPSHOTS", &snapshots)
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run hung on a snapshot that is not a regular file");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    let outcomes = outcomes(&output);
    assert_eq!(outcomes["shopware::client_credentials"], "FAILED", "{all}");
    assert_eq!(outcomes["shopware::password_grant"], "FAILED", "{all}");
    assert_eq!(outcomes["shopware::refresh_rotates_token"], "ok", "{all}");
    assert!(all.contains("not a regular file (a FIFO)"), "{all}");
    assert!(
        all.contains("not a regular file (a character device)"),
        "{all}"
    );
    assert!(all.contains(&fifo.display().to_string()), "{all}");
}

/// `.env` files are read inside and beside a spec folder named with
/// `GRANTSPEC_SPECS`, not only in the working directory, the inner one
/// first.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn dotenv_files_inside_and_beside_the_spec_folder_are_read() {
    let team = temp_dir("team");
    let specs = team.join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::copy(
        workspace().join("specs/shopware.yaml"),
        specs.join("shopware.yaml"),
    )
    .unwrap();
    let elsewhere = temp_dir("cwd");
    let snapshots = temp_dir("snapshots");
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware"),
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let spec = grantspec_spec::load_file(&specs.join("shopware.yaml"))
        .unwrap()
        .spec;
    let server = runtime
        .block_on(grantspec_mock::MockServer::start(
            [spec.mock_provider().unwrap()],
            std::sync::Arc::new(grantspec_token::SystemClock),
            0,
        ))
        .unwrap();
    let base_url = server.base_url("shopware").to_string();
    // Its live snapshots are the mock's, since the mock answers.
    copy_dir(
        &workspace().join("snapshots/shopware"),
        &snapshots.join("shopware/live"),
    );
    // Beside the folder: the base URL, and a client id the inner file overrides.
    std::fs::write(
        team.join(".env"),
        format!("SHOPWARE_BASE_URL={base_url}\nSHOPWARE_CLIENT_ID=overridden\n"),
    )
    .unwrap();
    std::fs::write(specs.join(".env"), "SHOPWARE_CLIENT_ID=from-inside\n").unwrap();

    let output = Command::new(specs_binary())
        .args(["--include-ignored"])
        .current_dir(&elsewhere)
        .env("GRANTSPEC_SPECS", &specs)
        .env("GRANTSPEC_SNAPSHOTS", &snapshots)
        .env("GRANTSPEC_TARGET", "live")
        .env_remove("SHOPWARE_BASE_URL")
        .env_remove("SHOPWARE_CLIENT_ID")
        .env_remove("SHOPWARE_CLIENT_SECRET")
        .env_remove("CI")
        .output()
        .unwrap();
    let all = text(&output);
    let outcomes = outcomes(&output);
    // The base URL came from beside the folder: this case ran against it.
    assert_eq!(outcomes["shopware::unknown_client_rejected"], "ok", "{all}");
    // The client id came from inside the folder; only the secret is missing.
    assert!(
        all.contains(
            "shopware::client_credentials: needs environment variable SHOPWARE_CLIENT_SECRET"
        ),
        "{all}"
    );
    drop(server);
}
