//! `cargo xtask new-provider` and `cargo xtask record`, run as a user runs
//! them, on folders made for each test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use grantspec_test_support::{outcomes, specs_binary, temp_dir, text, workspace};

use grantspec_runner::snapshot_body;

fn xtask(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .args(args)
        .current_dir(workspace())
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("GRANTSPEC_SPECS")
        .env_remove("GRANTSPEC_SNAPSHOTS");
    command
}

/// `GRANTSPEC_SPECS=specs GRANTSPEC_SNAPSHOTS=snapshots cargo test --test specs`.
fn run_specs(specs: &Path, snapshots: &Path) -> Output {
    Command::new(specs_binary())
        .current_dir(specs)
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("the specs binary runs")
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn new_provider_scaffolds_a_spec_that_validates_and_passes_on_the_mock() {
    let specs = temp_dir("specs");
    let snapshots = temp_dir("snapshots");
    let specs_arg = specs.to_str().unwrap();

    let output = xtask(&["new-provider", "demo", "--specs", specs_arg])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let file = specs.join("demo.yaml");
    let scaffold = std::fs::read_to_string(&file).unwrap();
    assert!(
        scaffold.starts_with("# yaml-language-server: $schema=../schema/spec.schema.json\n"),
        "{scaffold}"
    );
    assert!(
        text(&output).contains("cargo xtask accept"),
        "{}",
        text(&output)
    );

    // Never overwritten; bad ids refused.
    std::fs::write(&file, format!("{scaffold}# edited\n")).unwrap();
    let again = xtask(&["new-provider", "demo", "--specs", specs_arg])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(text(&again).contains("already exists"), "{}", text(&again));
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .ends_with("# edited\n")
    );
    for bad in ["Demo", "demo_1", "../demo", "a--b"] {
        let refused = xtask(&["new-provider", bad, "--specs", specs_arg])
            .output()
            .unwrap();
        assert!(!refused.status.success(), "{bad}");
        assert!(text(&refused).contains("not a valid provider id"), "{bad}");
    }
    assert_eq!(std::fs::read_dir(&specs).unwrap().count(), 1);

    let validate = xtask(&["validate", "--specs", specs_arg]).output().unwrap();
    assert!(validate.status.success(), "{}", text(&validate));
    assert!(
        text(&validate).contains("1 spec file(s), 5 case(s): ok"),
        "{}",
        text(&validate)
    );

    // First run: every expectation holds, and each case fails only because
    // it has no stored snapshot yet (a pending one is written for review).
    let first = run_specs(&specs, &snapshots);
    let all = text(&first);
    assert!(!first.status.success(), "{all}");
    let mut cases = outcomes(&first);
    assert_eq!(
        cases.remove("demo::declared_deviations").as_deref(),
        Some("ok"),
        "{all}"
    );
    assert_eq!(cases.len(), 5, "{all}");
    assert!(cases.keys().all(|name| name.starts_with("demo::")), "{all}");
    assert_eq!(all.matches("has no stored snapshot").count(), 5, "{all}");
    assert!(!all.contains("mismatches:"), "an expectation failed: {all}");

    let accept = xtask(&["accept", "--snapshots", snapshots.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        text(&accept).contains("5 snapshot(s) accepted"),
        "{}",
        text(&accept)
    );

    let second = run_specs(&specs, &snapshots);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        outcomes(&second).values().all(|o| o == "ok"),
        "{}",
        text(&second)
    );
}

/// A provider whose token responses carry an extra member: the "live"
/// provider below echoes a configured secret in it.
const LEAKY: &str = r#"provider:
  id: leaky
  name: Leaky
  token_endpoint: { path: /oauth/token }
mock:
  extra_members: { note: "canary-9d1e-never-in-a-snapshot" }
  clients:
    - { id: leaky-client, secret: mock-leaky-secret, grants: [client_credentials] }
live:
  base_url: ${env:LEAKY_BASE_URL}
vars:
  client_id: { mock: leaky-client, live: "${env:LEAKY_CLIENT_ID}" }
  client_secret: { mock: mock-leaky-secret, live: "${secret:LEAKY_CLIENT_SECRET}" }
  admin_token: { mock: unused, live: "${secret:LEAKY_ADMIN_TOKEN}" }
cases:
  - name: client_credentials
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect: { status: 200 }
  - name: wrong_secret_rejected
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: wrong }
    expect: { status: 401, body: { error: invalid_client } }
  - name: not_kept
    snapshot: false
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect: { status: 200 }
  - name: mock_only
    tags: [mock-only]
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect: { status: 200 }
"#;

/// Serves `spec` on loopback as the "live" provider, in this process.
fn serve(spec: &grantspec_spec::Spec) -> (tokio::runtime::Runtime, grantspec_mock::MockServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime
        .block_on(grantspec_mock::MockServer::start(
            [spec.mock_provider().unwrap()],
            Arc::new(grantspec_token::SystemClock),
            0,
        ))
        .unwrap();
    (runtime, server)
}

#[test]
fn record_refuses_a_snapshot_that_would_contain_a_secret() {
    const CANARY: &str = "canary-9d1e-never-in-a-snapshot";
    let specs = temp_dir("leaky-specs");
    let snapshots = temp_dir("leaky-snapshots");
    std::fs::write(specs.join("leaky.yaml"), LEAKY).unwrap();
    let spec = grantspec_spec::load_file(&specs.join("leaky.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let (_runtime, server) = serve(&spec);
    let base_url = server.base_url("leaky").to_string();

    let record = |args: &[&str]| {
        let mut all = vec!["record", "leaky"];
        all.extend_from_slice(args);
        all.extend([
            "--specs",
            specs.to_str().unwrap(),
            "--snapshots",
            snapshots.to_str().unwrap(),
        ]);
        xtask(&all)
            .env("LEAKY_BASE_URL", &base_url)
            .env("LEAKY_CLIENT_ID", "leaky-client")
            .env("LEAKY_CLIENT_SECRET", "mock-leaky-secret")
            .env("LEAKY_ADMIN_TOKEN", CANARY)
            .output()
            .unwrap()
    };

    let without_live = record(&[]);
    assert!(!without_live.status.success());
    assert!(
        text(&without_live).contains("--live"),
        "{}",
        text(&without_live)
    );

    let output = record(&["--live"]);
    let all = text(&output);
    assert!(!output.status.success(), "a refusal fails the task: {all}");
    assert!(
        all.contains("refused  leaky::client_credentials: its snapshot would contain the value of secret variable LEAKY_ADMIN_TOKEN; nothing was written"),
        "{all}"
    );
    assert!(!all.contains(CANARY), "the secret was shown: {all}");
    assert!(
        all.contains("recorded leaky::wrong_secret_rejected"),
        "{all}"
    );
    assert!(
        all.contains("passed   leaky::not_kept (keeps no snapshot)"),
        "{all}"
    );
    assert!(
        all.contains("ignored  leaky::mock_only: tagged mock-only"),
        "{all}"
    );
    assert!(
        all.contains("leaky: 1 recorded, 0 failed, 1 ignored, 1 refused"),
        "{all}"
    );

    // Live snapshots, kept apart from the mock's.
    let provider: Vec<String> = std::fs::read_dir(snapshots.join("leaky"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(provider, ["live"], "nothing beside the live folder");
    let dir = snapshots.join("leaky/live");
    let mut written: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        ["wrong_secret_rejected.snap"],
        "nothing pending, nothing leaky"
    );
    let snapshot = std::fs::read_to_string(dir.join("wrong_secret_rejected.snap")).unwrap();
    assert!(snapshot.contains("status: 401"), "{snapshot}");
    assert!(!snapshot.contains(CANARY) && !snapshot.contains("mock-leaky-secret"));
}

#[test]
fn record_writes_live_snapshots_that_match_the_mock_ones() {
    let specs = temp_dir("shopware-specs");
    let snapshots = temp_dir("shopware-snapshots");
    std::fs::copy(
        workspace().join("specs/shopware.yaml"),
        specs.join("shopware.yaml"),
    )
    .unwrap();
    let spec = grantspec_spec::load_file(&specs.join("shopware.yaml"))
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
    let (_runtime, server) = serve(&spec);
    let output = xtask(&[
        "record",
        "shopware",
        "--live",
        "--specs",
        specs.to_str().unwrap(),
        "--snapshots",
        snapshots.to_str().unwrap(),
    ])
    .env("SHOPWARE_BASE_URL", server.base_url("shopware").to_string())
    .env("SHOPWARE_CLIENT_ID", "SWIAINTEGRATION01")
    .env("SHOPWARE_CLIENT_SECRET", "mock-integration-secret")
    .env("SHOPWARE_ADMIN_USER", "admin")
    .env("SHOPWARE_ADMIN_PASSWORD", "mock-admin-password")
    .output()
    .unwrap();
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(all.contains("0 failed, 1 ignored, 0 refused"), "{all}");
    assert!(!all.contains("mock-integration-secret"), "{all}");

    // Written directly into the live folder, with insta's header, and the
    // same as the committed snapshots of the mock run (the "live" provider
    // here is the mock).
    let recorded: Vec<PathBuf> = std::fs::read_dir(snapshots.join("shopware/live"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(recorded.len(), spec.cases.len() - 1, "{all}");
    for path in recorded {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.ends_with(".snap"), "{name}");
        let content = std::fs::read_to_string(&path).unwrap();
        assert!(content.starts_with("---\nsource: xtask/src/record.rs\ndescription: \"shopware::"));
        let committed =
            std::fs::read_to_string(workspace().join("snapshots/shopware").join(&name)).unwrap();
        assert_eq!(
            snapshot_body(&content),
            snapshot_body(&committed),
            "{name} differs from the committed mock snapshot"
        );
    }
}

/// The workspace root is a package, so insta's own tooling finds a pending
/// snapshot under `snapshots/` and accepts it: on a copy of the workspace's
/// manifests, specs and snapshots (no build), with one snapshot changed.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo-insta; runs with `cargo test --all-features`"
)]
fn cargo_insta_lists_and_accepts_a_pending_snapshot_under_snapshots() {
    let copy = temp_dir("insta-workspace");
    for entry in [
        "Cargo.toml",
        "Cargo.lock",
        "src",
        "tests",
        "crates",
        "xtask",
        "specs",
        "snapshots",
        ".config",
    ] {
        let from = workspace().join(entry);
        let to = copy.join(entry);
        if from.is_dir() {
            grantspec_test_support::copy_dir(&from, &to);
        } else {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    let stored = copy.join("snapshots/shopware/client_credentials.snap");
    let pending = stored.with_extension("snap.new");
    let changed = std::fs::read_to_string(&stored)
        .unwrap()
        .replace("\"expires_in\": 600", "\"expires_in\": 601");
    std::fs::write(&pending, &changed).unwrap();
    // A live snapshot, in its provider's live folder.
    let stored_live = copy.join("snapshots/oidc-provider/live/token_response_wire_format.snap");
    let pending_live = stored_live.with_extension("snap.new");
    let changed_live = std::fs::read_to_string(&stored_live)
        .unwrap()
        .replace("status: 200", "status: 200\n# changed");
    assert_ne!(changed_live, std::fs::read_to_string(&stored_live).unwrap());
    std::fs::write(&pending_live, &changed_live).unwrap();

    let insta = |args: &[&str]| {
        Command::new(env!("CARGO"))
            .arg("insta")
            .args(args)
            .arg("--manifest-path")
            .arg(copy.join("Cargo.toml"))
            .env_remove("INSTA_WORKSPACE_ROOT")
            .output()
            .expect(
                "cargo-insta runs: this test checks insta's own tooling (cargo install cargo-insta, as .ci/run does)",
            )
    };
    let listed = insta(&["pending-snapshots", "--workspace"]);
    let all = text(&listed);
    assert!(listed.status.success(), "is cargo-insta installed? {all}");
    assert!(
        all.contains("snapshots/shopware/client_credentials.snap"),
        "{all}"
    );
    assert!(
        all.contains("snapshots/oidc-provider/live/token_response_wire_format.snap"),
        "{all}"
    );

    let accepted = insta(&["accept", "--workspace"]);
    assert!(accepted.status.success(), "{}", text(&accepted));
    assert!(!pending.exists(), "the pending snapshot was accepted");
    assert!(
        !pending_live.exists(),
        "the pending live snapshot was accepted"
    );
    assert!(
        std::fs::read_to_string(&stored_live)
            .unwrap()
            .contains("status: 200\n# changed"),
        "the stored live snapshot is the accepted one"
    );
    assert!(
        std::fs::read_to_string(&stored)
            .unwrap()
            .contains("\"expires_in\": 601"),
        "the stored snapshot is the accepted one"
    );
}
