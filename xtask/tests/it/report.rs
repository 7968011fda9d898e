//! `cargo xtask report`: the four files of a real mock run, the HTML page
//! opened in headless Chromium, and `junit.xml` read by a JUnit parser.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use grantspec_test_support::{temp_dir, workspace};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The provider ids of the shipped specs (each file's stem is its id).
fn shipped_providers() -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(workspace().join("specs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    ids.sort();
    ids
}

/// One `cargo xtask report` of the shipped specs on the mock, shared by the
/// tests of this file: its output folder.
fn mock_report() -> &'static Path {
    &mock_report_run().0
}

/// What that run printed on stdout: its summary and the files it wrote.
fn mock_report_stdout() -> &'static str {
    &mock_report_run().1
}

fn mock_report_run() -> &'static (PathBuf, String) {
    static RUN: OnceLock<(PathBuf, String)> = OnceLock::new();
    RUN.get_or_init(|| {
        // Shared by every test here, so kept under cargo's own temp folder
        // for test targets rather than the system's; one per process, as
        // nextest runs each test in a process of its own, side by side.
        let out = report_folder();
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["report", "--out"])
            .arg(&out)
            .current_dir(workspace())
            .env_remove("GRANTSPEC_TARGET")
            .env_remove("GRANTSPEC_SPECS")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}{stderr}");
        for name in grantspec_report::FILES {
            let path = out.join(name);
            assert!(
                stdout.contains(&path.display().to_string()),
                "the path of {name} is printed: {stdout}"
            );
            assert!(path.exists(), "{name} written");
        }
        // Progress: not a terminal here, so one plain line per case.
        let progress = stderr.lines().filter(|l| l.starts_with('[')).count();
        let json = grantspec_report::from_json(
            &std::fs::read_to_string(out.join("compatibility.json")).unwrap(),
        )
        .unwrap();
        // Every trial but the providers' declared-deviations trials is a case.
        let cases = json.summary.cases - json.providers.len() - json.spec_errors.len();
        assert_eq!(progress, cases, "{stderr}");
        assert!(stderr.contains(&format!("[{cases}/{cases}] ")));
        (out, stdout.into_owned())
    })
}

/// This process's folder for the shared report run, empty, under cargo's
/// temp folder for test targets; the folders earlier runs left there an hour
/// ago or more are removed (a run takes seconds).
fn report_folder() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let stale = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600))
    };
    for entry in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        let path = entry.path();
        let earlier_run = entry
            .file_name()
            .to_string_lossy()
            .starts_with("mock-report-");
        if earlier_run && stale(&path) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    let out = tmp.join(format!("mock-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    out
}

/// Runs Debian's Chromium headless on a fresh profile, killing it if it
/// takes more than a minute.
fn chromium(args: &[String]) -> Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: this test opens the report in a real browser. \
         Install Debian's `chromium` package: apt-get update && apt-get install -y chromium"
    );
    let profile = temp_dir("chromium-profile");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        // Files, not pipes: a DOM dump larger than a pipe buffer would block
        // Chromium while this loop waits for it to exit.
        .stdout(std::fs::File::create(profile.join("stdout")).unwrap())
        .stderr(std::fs::File::create(profile.join("stderr")).unwrap())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: std::fs::read(profile.join("stdout")).unwrap(),
        stderr: std::fs::read(profile.join("stderr")).unwrap(),
    }
}

fn page_url(fragment: &str) -> String {
    format!(
        "file://{}{fragment}",
        mock_report().join("compatibility.html").display()
    )
}

/// The DOM after the page's scripts ran.
fn dump_dom(fragment: &str) -> String {
    let output = chromium(&["--dump-dom".to_owned(), page_url(fragment)]);
    let dom = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "no DOM dumped: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    dom
}

/// `(provider, hidden)` for every matrix row, in DOM order.
fn rows(dom: &str) -> Vec<(String, bool)> {
    dom.match_indices("<tr data-provider=\"")
        .map(|(at, pattern)| {
            let rest = &dom[at + pattern.len()..];
            let id = &rest[..rest.find('"').unwrap()];
            let tag = &rest[..rest.find('>').unwrap()];
            (id.to_owned(), tag.contains(" hidden"))
        })
        .collect()
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: drives Chromium; runs with `cargo test --all-features`"
)]
fn html_report_shows_every_provider_in_chromium_without_console_errors() {
    // The screenshot's browser runs while the DOM's is read.
    let screenshot = mock_report().join("report.png");
    let screenshot_args = [
        format!("--screenshot={}", screenshot.display()),
        "--window-size=1720,960".to_owned(),
        page_url(""),
    ];
    let screenshot_browser = std::thread::spawn(move || chromium(&screenshot_args));
    let dom = dump_dom("");
    assert!(
        dom.contains("data-console-errors=\"0\""),
        "the page reported console errors: {}",
        &dom[..dom.find("<head>").unwrap_or(200).min(dom.len())]
    );
    let rows = rows(&dom);
    let shown: Vec<String> = rows
        .iter()
        .filter(|(_, hidden)| !hidden)
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(
        shown,
        shipped_providers(),
        "every provider has a visible row"
    );
    for id in shipped_providers() {
        assert!(dom.contains(&format!("<section class=\"provider\" id=\"provider-{id}\"")));
    }
    // Every fact says where it comes from, and the documentation's
    // contradictions are marked, in the matrix and in each section.
    assert!(dom.contains("<abbr class=\"src documented\" title=\"documented: "));
    assert!(dom.contains("<abbr class=\"src assumed\" title=\"assumed: "));
    for (id, line) in [
        (
            "audience-separator",
            "⚑ audience-separator: mock follows text + example",
        ),
        ("resource-scheme", "⚑ resource-scheme: mock follows example"),
        ("method", "⚑ method: mock follows example"),
    ] {
        assert!(
            dom.contains(&format!("<span class=\"flag\">{line}</span>")),
            "{line}"
        );
        assert!(
            dom.contains(&format!("data-contradiction=\"{id}\"")),
            "{id}"
        );
    }
    assert!(dom.contains("<tr data-fact=\"cache_headers\" data-source=\"assumed\">"));
    assert!(dom.contains("emulated by the mock"));
    // A case that keeps a snapshot on both targets shows the two compared,
    // in its own row, which passed: closed until opened, and labelled.
    let oidc = &dom[dom.find("id=\"provider-oidc-provider\"").unwrap()..];
    let row = |case: &str| {
        let at = oidc
            .find(&format!("<tr data-case=\"{case}\">"))
            .unwrap_or_else(|| panic!("{case} has a row"));
        let row = &oidc[at..];
        row[..row.find("</tr>").unwrap()].to_owned()
    };
    let json_body = row("json_body_rejected");
    assert!(
        json_body.contains("<td class=\"outcome passed\">"),
        "{json_body}"
    );
    assert!(
        json_body.contains("<details class=\"mock-vs-live\"><summary>mock vs live snapshot: 2 lines differ</summary>"),
        "{json_body}"
    );
    assert!(json_body.contains("Not a failure"), "{json_body}");
    assert!(
        json_body.contains("<span class=\"meta\">--- mock</span>")
            && json_body.contains("<span class=\"meta\">+++ live</span>"),
        "{json_body}"
    );
    assert!(
        json_body.contains("only application/x-www-form-urlencoded content-type bodies are supported on POST /token"),
        "the live answer: {json_body}"
    );
    assert!(
        row("client_secret_basic").contains("mock vs live snapshot: the same"),
        "{}",
        row("client_secret_basic")
    );
    assert!(
        !row("basic_challenge_carries_the_error").contains("mock-vs-live"),
        "a live-only case without snapshots has nothing to compare"
    );
    assert!(
        !dom.contains("observed live") && !dom.contains("observed nothing"),
        "a mock report observes nothing"
    );
    // The script ran: it filled in the filter status.
    assert!(
        dom.contains(&format!(
            "<span id=\"filter-status\" aria-live=\"polite\">{} providers</span>",
            rows.len()
        )),
        "the page script did not run"
    );

    let output = screenshot_browser
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1720, 960));
    println!("screenshot: {}", screenshot.display());
    // `GRANTSPEC_UPDATE_SCREENSHOT=1 cargo test -p xtask --test it report::`
    // refreshes the one README shows.
    if std::env::var("GRANTSPEC_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        std::fs::create_dir_all(workspace().join("docs")).unwrap();
        std::fs::copy(&screenshot, workspace().join("docs/report.png")).unwrap();
    }
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: drives Chromium; runs with `cargo test --all-features`"
)]
fn html_report_filters_and_sorts_from_its_address_in_chromium() {
    // Three independent browsers, side by side.
    let _ = mock_report();
    let [filtered_dom, by_passed_dom, by_provider_dom] = std::thread::scope(|scope| {
        ["#filter=shopware", "#sort=-passed", "#sort=provider"]
            .map(|fragment| scope.spawn(move || dump_dom(fragment)))
            .map(|browser| {
                browser
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
    });
    let dom = filtered_dom;
    assert!(dom.contains("data-console-errors=\"0\""));
    let filtered = rows(&dom);
    assert_eq!(filtered.len(), shipped_providers().len());
    for (id, hidden) in &filtered {
        assert_eq!(*hidden, id != "shopware", "{id}: {filtered:?}");
    }
    assert!(dom.contains("<section class=\"provider\" id=\"provider-elastic-path\" data-provider=\"elastic-path\" hidden=\"\">"));
    assert!(dom.contains(&format!("1 of {} providers", filtered.len())));

    // Descending by cases passed; ties by provider id.
    let json = grantspec_report::from_json(
        &std::fs::read_to_string(mock_report().join("compatibility.json")).unwrap(),
    )
    .unwrap();
    let mut expected: Vec<(usize, String)> = json
        .providers
        .iter()
        .map(|p| (p.outcome.passed, p.id.clone()))
        .collect();
    expected.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    let dom = by_passed_dom;
    assert!(dom.contains("data-console-errors=\"0\""));
    let order: Vec<String> = rows(&dom).into_iter().map(|(id, _)| id).collect();
    assert_eq!(order, expected);
    assert!(dom.contains("data-key=\"passed\" title=\"cases passed\" aria-sort=\"descending\""));

    let dom = by_provider_dom;
    let order: Vec<String> = rows(&dom).into_iter().map(|(id, _)| id).collect();
    assert_eq!(order, shipped_providers());
}

#[test]
fn junit_of_a_mock_run_is_read_by_a_junit_parser() {
    let dir = mock_report();
    let json = grantspec_report::from_json(
        &std::fs::read_to_string(dir.join("compatibility.json")).unwrap(),
    )
    .unwrap();
    let xml = std::fs::read(dir.join("junit.xml")).unwrap();
    let parsed = junit_parser::from_reader(Cursor::new(xml)).unwrap();
    assert_eq!(parsed.tests as usize, json.summary.cases);
    assert_eq!(parsed.failures, 0);
    assert_eq!(parsed.errors, 0);
    assert_eq!(parsed.skipped as usize, json.summary.skipped);
    assert!(
        json.summary.skipped > 0,
        "live-only cases are skipped on the mock"
    );
    let suites: Vec<&str> = parsed.suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(suites, shipped_providers());
    for (suite, provider) in parsed.suites.iter().zip(&json.providers) {
        let names: Vec<&str> = suite
            .cases
            .iter()
            .map(|c| c.original_name.as_str())
            .collect();
        let expected: Vec<&str> = provider.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, expected);
        assert!(
            suite
                .cases
                .iter()
                .all(|c| c.status.is_success() || c.status.is_skipped())
        );
        assert!(
            suite
                .cases
                .iter()
                .all(|c| c.classname.as_deref() == Some(provider.id.as_str()))
        );
    }
}

#[test]
fn report_summarises_every_provider_on_the_mock() {
    let stdout = mock_report_stdout();
    for provider in [
        "advanced-store",
        "elastic-path",
        "json-token-api",
        "shopware",
    ] {
        assert!(stdout.contains(&format!("| {provider} |")), "{stdout}");
    }
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn markdown_report_has_the_matrix_and_a_section_per_provider() {
    let md = std::fs::read_to_string(mock_report().join("compatibility.md")).unwrap();
    assert!(md.starts_with("# grantspec compatibility report\n"));
    assert!(md.contains("| provider | `client_credentials` |"));
    for id in shipped_providers() {
        assert!(md.contains(&format!("](#provider-{id}) `{id}` |")), "{id}");
        assert!(
            md.contains(&format!("<a id=\"provider-{id}\"></a>")),
            "{id}"
        );
    }
}

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(workspace())
        .env_remove("GRANTSPEC_TARGET")
        .env_remove("GRANTSPEC_SPECS")
        .output()
        .unwrap()
}

#[test]
fn report_with_live_refuses_anything_but_a_dated_live_report() {
    let mock_json = mock_report().join("compatibility.json");
    let mock_json = mock_json.to_str().unwrap();
    let output = xtask(&["report", "--with-live", mock_json]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot be folded in: the report is of a mock run"),
        "{stderr}"
    );
    assert!(!stderr.contains("[1/"), "refused before running: {stderr}");

    let output = xtask(&["report", "--live", "--with-live", mock_json]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("drop --live"));

    let dir = temp_dir("old-live");
    let old = dir.join("compatibility.json");
    std::fs::write(
        &old,
        std::fs::read_to_string(mock_json)
            .unwrap()
            .replacen("\"target\": \"mock\"", "\"target\": \"live\"", 1)
            .replacen(
                &format!("\"format_version\": {}", grantspec_report::FORMAT_VERSION),
                "\"format_version\": 1",
                1,
            ),
    )
    .unwrap();
    let output = xtask(&["report", "--with-live", old.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("has format_version 1"), "{stderr}");

    let output = xtask(&["report", "--with-live", "/no/such/compatibility.json"]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the live report"));

    // A device that never ends is refused, not read.
    let output = xtask(&["report", "--with-live", "/dev/zero"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(
            "cannot read the live report /dev/zero: this is not a regular file (a character device)"
        ),
        "{stderr}"
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: runs `xtask report` twice more, live and on the mock; runs with `cargo test --all-features`"
)]
fn report_with_live_folds_a_live_run_into_the_mock_report() {
    // A live run with no provider's credentials: every case is skipped, so
    // it observes nothing, but it is a dated live report.
    let live = temp_dir("live");
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["report", "--live", "--out"])
        .arg(&live)
        .current_dir(workspace())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let live_json = live.join("compatibility.json");
    let earlier =
        grantspec_report::read_live_report(&std::fs::read_to_string(&live_json).unwrap()).unwrap();
    let at = earlier.generated_at.clone().unwrap();

    let out = temp_dir("folded");
    let output = xtask(&[
        "report",
        "--with-live",
        live_json.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let folded = grantspec_report::from_json(
        &std::fs::read_to_string(out.join("compatibility.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(folded.target, grantspec_report::Target::Mock);
    assert_eq!(folded.live_report.unwrap().generated_at, at);
    for p in &folded.providers {
        for f in &p.facts {
            let seen = f.live.as_ref().unwrap();
            assert_eq!(seen.at, at);
            assert!(seen.value.is_none(), "{}: nothing ran live", f.key);
        }
    }
    let md = std::fs::read_to_string(out.join("compatibility.md")).unwrap();
    assert!(md.contains(&format!("L observed live on {at}")), "{md}");
    assert!(md.contains(&format!("| observed live {at} |")), "{md}");
}
