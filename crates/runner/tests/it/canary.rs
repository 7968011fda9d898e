#![allow(clippy::unwrap_used)]
//! Canary test: no mock secret ever leaves the process in clear.
//!
//! Copies `specs/` into a temp dir with every mock secret (client secrets,
//! user passwords, authorization codes, and every place in `mock`, `vars` and
//! `cases` that carries one of them) replaced by a unique canary string, runs
//! the `specs` test binary on the copies with an empty snapshot folder (so
//! every snapshot is new and written as a pending file), then again with
//! expectations changed so that every case fails and prints its request dump,
//! and checks that no canary appears in stdout, stderr or any written file.
//!
//! The JWTs the cases sign are secrets too: the private keys they are signed
//! with (crates/test-support/keys, which the copies name as the originals
//! do) and every signed assertion must not appear either. A key cannot be
//! replaced by a canary and still sign, so the test looks for the keys'
//! own text, and for the header every assertion the runner signs starts
//! with.

use grantspec_test_support::{specs_binary, xtask_binary};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_yaml::Value;

const CANARY_TAIL: &str = "7d1f";

fn canary(n: usize) -> String {
    format!("CANARY-{n}-{CANARY_TAIL}")
}

/// The mock secrets a spec seeds.
fn mock_secrets(spec: &Value) -> Vec<String> {
    let mut secrets = Vec::new();
    let mock = &spec["mock"];
    if let Some(clients) = mock["clients"].as_sequence() {
        for client in clients {
            secrets.extend(client["secret"].as_str().map(str::to_owned));
            if let Some(codes) = client["codes"].as_sequence() {
                secrets.extend(
                    codes
                        .iter()
                        .filter_map(|code| code["code"].as_str().map(str::to_owned)),
                );
            }
        }
    }
    if let Some(users) = mock["users"].as_sequence() {
        secrets.extend(
            users
                .iter()
                .filter_map(|user| user["password"].as_str().map(str::to_owned)),
        );
    }
    secrets
}

/// Replaces every secret in every string value (not keys) under `value`.
fn replace_secrets(value: &mut Value, canaries: &[(String, String)], replaced: &mut usize) {
    match value {
        Value::String(text) => {
            for (secret, canary) in canaries {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), canary);
                    *replaced += 1;
                }
            }
        }
        Value::Sequence(items) => {
            for item in items {
                replace_secrets(item, canaries, replaced);
            }
        }
        Value::Mapping(map) => {
            for (_, member) in map.iter_mut() {
                replace_secrets(member, canaries, replaced);
            }
        }
        Value::Tagged(tagged) => replace_secrets(&mut tagged.value, canaries, replaced),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Makes every case fail at a request that carries credentials: the expected
/// status of a single-request case, or of the last request step of a
/// multi-step case (so captured tokens are in the dumped request), becomes 599.
fn break_expectations(spec: &mut Value) {
    let Some(cases) = spec.get_mut("cases").and_then(Value::as_sequence_mut) else {
        return;
    };
    for case in cases {
        let has_steps = case
            .get("steps")
            .and_then(Value::as_sequence)
            .is_some_and(|steps| !steps.is_empty());
        let target = if has_steps {
            case.get_mut("steps")
                .and_then(Value::as_sequence_mut)
                .and_then(|steps| {
                    steps
                        .iter_mut()
                        .rev()
                        .find(|step| step.get("grant").is_some() || step.get("resource").is_some())
                })
        } else {
            Some(case)
        };
        let Some(target) = target else { continue };
        let Some(map) = target.as_mapping_mut() else {
            continue;
        };
        let expect = map
            .entry(Value::from("expect"))
            .or_insert_with(|| Value::Mapping(serde_yaml::Mapping::new()));
        expect
            .as_mapping_mut()
            .unwrap()
            .insert(Value::from("status"), Value::from(599));
    }
}

/// For a spec whose API takes the token in the URL query
/// (`provider.resource.token: { query: … }`), its cases' made-up resource
/// tokens (`made-up|…`) become a canary: the one credential the harness puts
/// in a URL must not show in any output either, raw or percent-encoded (its
/// `|`, `+` and `/` are encoded in the URL). Returns the canary, if any.
fn canary_query_token(spec: &mut Value, n: usize) -> Option<(String, String)> {
    spec["provider"]["resource"]["token"].get("query")?;
    let token = format!("CANARY|{n}+q/-{CANARY_TAIL}");
    let mut replaced = false;
    for case in spec.get_mut("cases")?.as_sequence_mut()? {
        let Some(steps) = case.get_mut("steps").and_then(Value::as_sequence_mut) else {
            continue;
        };
        for step in steps {
            let Some(sent) = step.get_mut("resource").and_then(|r| r.get_mut("token")) else {
                continue;
            };
            if sent.as_str().is_some_and(|t| t.starts_with("made-up|")) {
                *sent = Value::from(token.clone());
                replaced = true;
            }
        }
    }
    replaced.then(|| (format!("query token {n}"), token))
}

/// Copies every spec of `from` into `to` with canaries in place of mock
/// secrets; returns the canaries.
fn write_canary_specs(from: &Path, to: &Path, broken: bool) -> Vec<String> {
    let mut canaries: Vec<(String, String)> = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(from)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no specs in {}", from.display());
    for file in files {
        let mut spec: Value = serde_yaml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let mut own: Vec<(String, String)> = Vec::new();
        for secret in mock_secrets(&spec) {
            if own.iter().any(|(s, _)| *s == secret) {
                continue;
            }
            own.push((secret, canary(canaries.len() + own.len() + 1)));
        }
        assert!(
            !own.is_empty(),
            "{} seeds no mock secret to replace",
            file.display()
        );
        // Longer secrets first, so one that contains another is replaced whole.
        own.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        let mut replaced = 0;
        for section in ["mock", "vars", "cases"] {
            if let Some(value) = spec.get_mut(section) {
                replace_secrets(value, &own, &mut replaced);
            }
        }
        assert!(
            replaced >= 2 * own.len(),
            "{}: expected every mock secret in the seed and in a var or case, replaced {replaced}",
            file.display()
        );
        own.extend(canary_query_token(
            &mut spec,
            canaries.len() + own.len() + 1,
        ));
        if broken {
            break_expectations(&mut spec);
        }
        let text = serde_yaml::to_string(&spec).unwrap();
        for (secret, _) in &own {
            for section in ["mock", "vars", "cases"] {
                let shown = serde_yaml::to_string(&spec[section]).unwrap();
                assert!(
                    !shown.contains(secret.as_str()),
                    "{}: `{section}` still holds a mock secret",
                    file.display()
                );
            }
        }
        std::fs::write(to.join(file.file_name().unwrap()), text).unwrap();
        canaries.extend(own);
    }
    let (loaded, errors) = grantspec_spec::load_dir(to);
    assert!(
        errors.is_empty(),
        "the canary specs must load: {:?}",
        errors.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    assert_eq!(loaded.len(), std::fs::read_dir(to).unwrap().count());
    canaries.into_iter().map(|(_, canary)| canary).collect()
}

fn run_specs(binary: &Path, specs: &Path, snapshots: &Path) -> Output {
    let root = grantspec_runner::workspace_root();
    Command::new(binary)
        .current_dir(specs)
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env("GRANTSPEC_TARGET", "mock")
        .env("INSTA_WORKSPACE_ROOT", &root)
        // Write every new snapshot as a pending file, in CI too.
        .env("INSTA_UPDATE", "new")
        .env_remove("CI")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Every file under `dir`, with its content.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let content = std::fs::read(&path).unwrap();
                found.push((path, content));
            }
        }
    }
    found
}

/// The test keys the specs sign with, as `../crates/test-support/keys`
/// from a specs folder names them.
fn keys_dir() -> PathBuf {
    grantspec_runner::workspace_root().join("crates/test-support/keys")
}

/// What of a private key or a signed assertion would show that it leaked:
/// each base64 line of every private test key, and the encoded JOSE header
/// of an assertion the runner signs (`{"typ":"JWT","alg":…}`) for each
/// algorithm.
fn jwt_secrets() -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(keys_dir()).unwrap() {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with("-private.pem") {
            continue;
        }
        let pem = std::fs::read_to_string(&path).unwrap();
        found.extend(
            pem.lines()
                .filter(|line| !line.starts_with("-----") && line.len() >= 40)
                .map(str::to_owned),
        );
    }
    assert!(found.len() >= 10, "the private test keys: {found:?}");
    for alg in ["HS256", "RS256", "ES256"] {
        use base64::Engine as _;
        let header = format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#);
        found.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header));
    }
    found
}

fn assert_no_jwt_secret(what: &str, text: &[u8]) {
    let text = String::from_utf8_lossy(text);
    for secret in jwt_secrets() {
        assert!(
            !text.contains(&secret),
            "{what} shows a private key line or a signed assertion ({secret})"
        );
    }
}

/// Copies the test keys where the copied specs' `key_file`s look for them.
fn copy_keys(root: &Path) {
    let to = root.join("crates/test-support/keys");
    std::fs::create_dir_all(&to).unwrap();
    for entry in std::fs::read_dir(keys_dir()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

fn assert_no_canary(what: &str, text: &[u8], canaries: &[String]) {
    assert_no_jwt_secret(what, text);
    let text = String::from_utf8_lossy(text);
    // The common tail catches a canary even if something cut or re-cased it.
    let tail = format!("-{CANARY_TAIL}");
    if let Some(at) = text.find(&tail).or_else(|| text.find("CANARY-")) {
        let start = text[..at]
            .char_indices()
            .rev()
            .nth(200)
            .map_or(0, |(i, _)| i);
        let end = (at + 200).min(text.len());
        let named: Vec<&String> = canaries.iter().filter(|c| text.contains(*c)).collect();
        panic!(
            "{what} shows a mock secret ({named:?}) near:\n{}",
            text.get(start..end).unwrap_or_default()
        );
    }
}

/// The passing and the failing run are independent (each its own folder,
/// mock and processes), so they run side by side.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo, then the specs binary and `xtask report` on every shipped spec, passing and failing; runs with `cargo test --all-features`"
)]
fn no_mock_secret_appears_in_output_or_snapshots() {
    // Built once, before the two threads ask for them.
    let _ = (specs_binary(), xtask_binary());
    std::thread::scope(|scope| {
        let runs = [false, true].map(|broken| scope.spawn(move || canary_run(broken)));
        for run in runs {
            run.join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        }
    });
}

/// One run of the specs binary and of `xtask report` on the canary specs,
/// with every case passing (`broken: false`, every snapshot new) or failing.
fn canary_run(broken: bool) {
    let binary = specs_binary();
    let specs_source = grantspec_runner::workspace_root().join("specs");
    {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("specs");
        let snapshots = dir.path().join("snapshots");
        std::fs::create_dir(&specs).unwrap();
        std::fs::create_dir(&snapshots).unwrap();
        copy_keys(dir.path());
        let canaries = write_canary_specs(&specs_source, &specs, broken);
        assert!(canaries.len() >= 5, "canaries: {canaries:?}");
        assert!(
            canaries.iter().any(|c| c.starts_with("CANARY|")),
            "no spec puts the token in the query: {canaries:?}"
        );

        let output = run_specs(binary, &specs, &snapshots);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let label = if broken { "failing run" } else { "run" };
        assert!(
            stdout.contains("test result:"),
            "the specs binary did not run its trials ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !stdout.contains("::spec ... FAILED"),
            "a canary spec failed to load:\n{stdout}"
        );
        if broken {
            assert!(!output.status.success(), "every case was made to fail");
            assert!(
                stdout.matches("request (redacted):").count() >= 20,
                "the failing run must print request dumps:\n{stdout}"
            );
        } else {
            assert!(
                stdout.contains("has no stored snapshot"),
                "with an empty snapshot folder every snapshot is new:\n{stdout}"
            );
        }
        assert!(
            stdout.contains("keycloak::private_key_jwt ")
                && stdout.contains("keycloak::client_secret_jwt "),
            "the signed-assertion cases ran:\n{stdout}"
        );
        assert_no_canary(&format!("stdout of the {label}"), &output.stdout, &canaries);
        assert_no_canary(&format!("stderr of the {label}"), &output.stderr, &canaries);

        let written = files_under(&snapshots);
        assert!(
            written
                .iter()
                .filter(|(path, _)| path.to_string_lossy().ends_with(".snap.new"))
                .count()
                >= 20,
            "the {label} wrote too few pending snapshots: {:?}",
            written.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
        for (path, content) in &written {
            assert_no_canary(&path.display().to_string(), content, &canaries);
        }

        // `cargo xtask report` on the same specs: its output and all four
        // report files (failure messages and diffs included) stay clean.
        let out = dir.path().join("report");
        let report = Command::new(xtask_binary())
            .args(["report", "--specs"])
            .arg(&specs)
            .arg("--out")
            .arg(&out)
            .current_dir(grantspec_runner::workspace_root())
            .env_remove("GRANTSPEC_TARGET")
            .output()
            .unwrap();
        assert_eq!(
            report.status.success(),
            !broken,
            "{}",
            String::from_utf8_lossy(&report.stderr)
        );
        assert_no_canary(
            &format!("stdout of xtask report ({label})"),
            &report.stdout,
            &canaries,
        );
        assert_no_canary(
            &format!("stderr of xtask report ({label})"),
            &report.stderr,
            &canaries,
        );
        let files = files_under(&out);
        assert_eq!(
            files.len(),
            4,
            "{:?}",
            files.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
        for (path, content) in &files {
            assert_no_canary(&path.display().to_string(), content, &canaries);
        }
    }
}
