//! `cargo xtask` tasks, run as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    command
}

/// Kills the child when dropped, so a failing test leaves no server behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn mock_serves_the_chosen_providers_and_prints_their_token_urls() {
    let child = xtask()
        .args(["mock", "shopware", "json-token-api"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut urls = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("mock listening on 127.0.0.1:") {
            break;
        }
        urls.push(line);
    }
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls[0].starts_with("json-token-api"), "{urls:?}");
    let shopware = urls[1].split_whitespace().nth(3).unwrap().to_owned();
    assert!(
        shopware.starts_with("http://127.0.0.1:")
            && shopware.ends_with("/shopware/api/oauth/token")
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        let response = grantspec_test_support::loopback_client()
            .post(&shopware)
            .header("content-type", "application/json")
            .body(r#"{"grant_type":"client_credentials","client_id":"SWIAINTEGRATION01","client_secret":"mock-integration-secret"}"#)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    });
    assert_eq!(status, 200);
}

#[test]
fn mock_keeps_at_most_max_tokens_and_forgets_the_oldest() {
    let output = xtask()
        .args(["mock", "shopware", "--max-tokens", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"0\" is not a positive whole number"),
        "{stderr}"
    );

    let child = xtask()
        .args(["mock", "shopware", "--max-tokens", "1"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let mut token_url = String::new();
    for line in lines {
        let line = line.unwrap();
        if line.starts_with("mock listening on 127.0.0.1:") {
            assert!(line.contains("newest 1 tokens"), "{line}");
            break;
        }
        token_url = line.split_whitespace().nth(3).unwrap().to_owned();
    }
    let ping = token_url.replace("/api/oauth/token", "/ping");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (first, second) = runtime.block_on(async {
        let client = grantspec_test_support::loopback_client();
        let mut statuses = Vec::new();
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let response = client
                .post(&token_url)
                .header("content-type", "application/json")
                .body(r#"{"grant_type":"client_credentials","client_id":"SWIAINTEGRATION01","client_secret":"mock-integration-secret"}"#)
                .send()
                .await
                .unwrap();
            let body: serde_json::Value =
                serde_json::from_str(&response.text().await.unwrap()).unwrap();
            tokens.push(body["access_token"].as_str().unwrap().to_owned());
        }
        for token in &tokens {
            let response = client.get(&ping).bearer_auth(token).send().await.unwrap();
            statuses.push(response.status().as_u16());
        }
        (statuses[0], statuses[1])
    });
    assert_eq!((first, second), (401, 200), "the older token is forgotten");
}

#[test]
fn mock_does_not_serve_a_live_only_provider_and_says_so() {
    let specs = grantspec_test_support::temp_dir("mock-live-only");
    let live_only = "provider:\n  id: remote\n  name: Remote\n  token_endpoint: { path: /token }\n\
                     live: { base_url: \"https://remote.example\" }\ncases: []\n";
    std::fs::write(specs.join("remote.yaml"), live_only).unwrap();
    let shopware = grantspec_test_support::workspace().join("specs/shopware.yaml");
    std::fs::copy(shopware, specs.join("shopware.yaml")).unwrap();

    // Asked for by name, it is refused.
    let output = xtask()
        .args(["mock", "remote", "--specs"])
        .arg(&*specs)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("provider `remote` is live-only: its spec has no `mock` section"),
        "{stderr}"
    );

    // Serving every provider, it is listed as not served.
    let child = xtask()
        .args(["mock", "--specs"])
        .arg(&*specs)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut lines = Vec::new();
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("mock listening on 127.0.0.1:") {
            break;
        }
        lines.push(line);
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("shopware") && lines[0].contains("token endpoint http://127.0.0.1:"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("remote") && lines[1].contains("not served: live-only"),
        "{lines:?}"
    );
}

#[test]
fn mock_names_the_closest_provider_when_one_is_unknown() {
    let output = xtask().args(["mock", "shopwar"]).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("did you mean `shopware`?"), "{stderr}");
}

#[test]
fn validate_passes_on_the_shipped_specs() {
    let output = xtask().arg("validate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains(": ok"));
}

#[test]
fn validate_fails_with_located_messages_on_every_malformed_spec() {
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/spec/tests/malformed");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "{}", files.len());
    for file in files {
        let output = xtask().arg("validate").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{} validated", file.display());
        // Problems of the whole file (nothing to point at) name the file alone.
        let whole_file = ["empty"];
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        let located = if whole_file.contains(&stem.as_str()) {
            format!("--> {}\n", file.display())
        } else {
            format!("--> {}:", file.display())
        };
        assert!(
            stderr.contains(&located),
            "{}: not located in\n{stderr}",
            file.display()
        );
        assert!(stderr.contains("error: "), "{stderr}");
    }
}

#[test]
fn validate_fails_on_a_folder_named_like_a_spec_an_empty_folder_and_a_provider_defined_twice() {
    let dir = std::env::temp_dir().join(format!("grantspec-xtask-validate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let folder = dir.join("folder.yaml");
    std::fs::create_dir_all(&folder).unwrap();
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let twice = dir.join("twice");
    std::fs::create_dir_all(&twice).unwrap();
    let spec = "provider:\n  id: x\n  name: X\n  token_endpoint: { path: /token }\n\
                cases:\n  - name: c\n    grant: client_credentials\n";
    std::fs::write(twice.join("x.yaml"), spec).unwrap();
    std::fs::write(twice.join("x.yml"), spec).unwrap();
    for (path, expected) in [
        (
            folder.clone(),
            format!(
                "this is a folder, not a spec file\n  --> {}",
                folder.display()
            ),
        ),
        (
            empty.clone(),
            format!("no spec files in {}", empty.display()),
        ),
        (
            twice.clone(),
            format!(
                "provider `x` is already defined by {}\n  --> {}:2:7",
                twice.join("x.yaml").display(),
                twice.join("x.yml").display()
            ),
        ),
    ] {
        let output = xtask().arg("validate").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !output.status.success(),
            "{}: {stdout}{stderr}",
            path.display()
        );
        assert!(stderr.contains(&expected), "{expected}\nnot in\n{stderr}");
        assert!(!stdout.contains(": ok"), "{stdout}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn each_task_has_its_own_help_typos_get_suggestions_and_unknown_flags_are_refused() {
    let run = |args: &[&str]| xtask().args(args).output().unwrap();
    let help = run(&["report", "--help"]);
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(help.status.success(), "{text}");
    assert!(text.contains("Usage: cargo xtask report"), "{text}");
    assert!(text.contains("--with-live"), "{text}");
    assert!(!text.contains("--max-tokens"), "report's own help: {text}");

    let typo = run(&["reprot"]);
    let text = String::from_utf8_lossy(&typo.stderr);
    assert!(!typo.status.success());
    assert!(
        text.contains("similar subcommand") && text.contains("'report'"),
        "{text}"
    );

    let bogus = run(&["validate", "--bogus"]);
    let text = String::from_utf8_lossy(&bogus.stderr);
    assert!(!bogus.status.success());
    assert!(text.contains("unexpected argument '--bogus'"), "{text}");

    let specs = grantspec_runner::workspace_root().join("specs");
    let equals = run(&["validate", &format!("--specs={}", specs.display())]);
    let text = String::from_utf8_lossy(&equals.stdout);
    assert!(equals.status.success(), "{text}");
    assert!(
        text.contains("spec file(s)") && text.ends_with(": ok\n"),
        "{text}"
    );
}

/// Runs `command` to its end, or kills it after `limit` and fails the test.
fn output_within(command: &mut Command, limit: std::time::Duration) -> std::process::Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[cfg(unix)]
#[test]
fn review_and_accept_refuse_pending_snapshots_that_are_not_regular_files() {
    let dir = grantspec_test_support::temp_dir("xtask-review");
    let snapshots = dir.join("snapshots");
    std::fs::create_dir_all(snapshots.join("p")).unwrap();
    let fifo = snapshots.join("p").join("fifo.snap.new");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let zero = snapshots.join("p").join("zero.snap.new");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    // A link back up: following it would never end.
    std::os::unix::fs::symlink("..", snapshots.join("p").join("up")).unwrap();

    for task in ["review", "accept"] {
        let output = output_within(
            xtask()
                .args([task, "--snapshots"])
                .arg(&snapshots)
                .stdin(Stdio::null()),
            std::time::Duration::from_secs(30),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{task}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{}: this is not a regular file (a FIFO); a snapshot must be one",
                fifo.display()
            )),
            "{task}: {stderr}"
        );
    }
    assert!(fifo.exists() && zero.exists(), "nothing was accepted");
    assert!(!snapshots.join("p").join("fifo.snap").exists());
}
