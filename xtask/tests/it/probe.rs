//! `cargo xtask probe`, run as a user runs it, against `cargo xtask mock`:
//! credentials from the environment only and never shown, the table on
//! stdout, a spec that loads, and no file overwritten without `--force`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use grantspec_test_support::{temp_dir, text};

fn xtask() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("GRANTSPEC_PROBE_CLIENT_ID")
        .env_remove("GRANTSPEC_PROBE_CLIENT_SECRET");
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

/// `cargo xtask mock ebay`, and eBay's token URL on it.
fn serve_ebay() -> (KillOnDrop, String) {
    let child = xtask()
        .args(["mock", "ebay"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let mut url = None;
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("mock listening on") {
            break;
        }
        url = line.split_whitespace().nth(3).map(str::to_owned);
    }
    (child, url.unwrap())
}

/// The eBay mock's throwaway client (specs/ebay.yaml).
const CLIENT_ID: &str = "Mock-App-PRD-000000000-00000000";
const SECRET: &str = "PRD-mock0ebay0secret";

fn probe(url: &str, out: &std::path::Path, extra: &[&str]) -> Output {
    xtask()
        .args([
            "probe",
            url,
            "--id",
            "ebay-probed",
            "--interval",
            "1ms",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .env("GRANTSPEC_PROBE_CLIENT_ID", CLIENT_ID)
        .env("GRANTSPEC_PROBE_CLIENT_SECRET", SECRET)
        .output()
        .unwrap()
}

#[test]
fn probe_prints_its_table_writes_a_loading_spec_and_never_overwrites_without_force() {
    let spec = std::fs::read_to_string(
        grantspec_runner::workspace_root()
            .join("specs")
            .join("ebay.yaml"),
    )
    .unwrap();
    assert!(
        spec.contains(CLIENT_ID) && spec.contains(SECRET),
        "the seed changed"
    );
    let (_server, url) = serve_ebay();
    let dir = temp_dir("probe-cli");
    let out = dir.join("ebay-probed.yaml");

    let output = probe(&url, &out, &["--budget", "20"]);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert!(!all.contains(SECRET), "the secret is shown:\n{all}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let declared = stdout
        .lines()
        .find(|line| line.starts_with("deviations") && line.contains("declared"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(declared.ends_with("unregistered-token-type"), "{declared}");
    assert!(stdout.contains("of a budget of 20"), "{stdout}");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(!written.contains(SECRET), "{written}");
    assert!(
        written.contains("\"${secret:EBAY_PROBED_CLIENT_SECRET}\""),
        "{written}"
    );
    for note in written
        .lines()
        .filter(|l| l.trim_start().starts_with("- { observed:"))
    {
        assert!(note.contains("on: \""), "a note without its date: {note}");
    }
    grantspec_spec::load_file(&out).unwrap();

    // Again: the file is there, so nothing is sent and nothing changes.
    std::fs::write(&out, "kept\n").unwrap();
    let output = probe(&url, &out, &[]);
    assert!(!output.status.success());
    assert!(text(&output).contains("pass --force"), "{}", text(&output));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "kept\n");
    let output = probe(
        &url,
        &out,
        &["--force", "--only", "errors", "--no-discovery"],
    );
    assert!(output.status.success(), "{}", text(&output));
    let narrowed = std::fs::read_to_string(&out).unwrap();
    assert!(
        narrowed.contains("name: \"wrong_client_secret\""),
        "{narrowed}"
    );
    assert!(
        !narrowed.contains("name: \"method_get\""),
        "--only errors: {narrowed}"
    );
}

#[test]
fn probe_takes_credentials_from_the_environment_only() {
    let dir = temp_dir("probe-cli-env");
    let output = xtask()
        .args(["probe", "http://127.0.0.1:9/token", "--out"])
        .arg(dir.join("p.yaml"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("set GRANTSPEC_PROBE_CLIENT_ID to the client id"),
        "{}",
        text(&output)
    );
    let output = xtask()
        .args([
            "probe",
            "http://127.0.0.1:9/token",
            "--client-secret",
            "s3cret",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("--client-secret-env"),
        "{}",
        text(&output)
    );
    let output = xtask()
        .args(["probe", "http://127.0.0.1:9/token", "--id", "no/slash"])
        .env("GRANTSPEC_PROBE_CLIENT_ID", "id")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("a provider id holds"),
        "{}",
        text(&output)
    );
    let output = xtask()
        .args(["probe", "http://127.0.0.1:9/token", "--id", "one", "--out"])
        .arg(dir.join("other.yaml"))
        .env("GRANTSPEC_PROBE_CLIENT_ID", "id")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text(&output).contains("differ"), "{}", text(&output));
    // A URL with credentials in it is refused before anything is sent.
    let output = xtask()
        .args(["probe", "http://user:pw@127.0.0.1:9/token", "--out"])
        .arg(dir.join("p.yaml"))
        .env("GRANTSPEC_PROBE_CLIENT_ID", "id")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        text(&output).contains("must not carry credentials"),
        "{}",
        text(&output)
    );
}
