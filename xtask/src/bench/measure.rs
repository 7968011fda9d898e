//! The measurements, run in release mode by `xtask bench-measure`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grantspec_runner::{Env, Judgement, Suite, SuiteConfig};
use grantspec_spec::template::TargetKind;
use grantspec_token::ExposeSecret as _;
use grantspec_token::{TransportConfig, basic_authorization};

/// Requests in flight, for the runner, the bare loop and Hurl.
pub(super) const IN_FLIGHT: usize = 8;
/// Connections the load generator keeps busy against the mock and the
/// minimal handler.
const LOAD_CONNECTIONS: usize = 64;
/// How long each load-test side runs, per round.
const LOAD_SECONDS: &str = "2";
/// How long each load-test side runs once, unmeasured, before the rounds:
/// a fresh server's first second (connections, an empty token store
/// growing) is not what it sustains.
const WARM_UP_SECONDS: &str = "1";
/// Rounds of every measurement but the test suite's, unless `--rounds`
/// says otherwise. The sides of a comparison alternate within each round,
/// and each result is the median of its rounds, so a burst of load from
/// elsewhere on a shared machine does not decide a ratio.
const DEFAULT_ROUNDS: usize = 5;
/// Cases in the generated spec, unless `--cases` says otherwise.
const DEFAULT_CASES: usize = 10_000;

pub(super) const CLIENT_ID: &str = "bench-client";
pub(super) const CLIENT_SECRET: &str = "bench-secret-0123456789";

/// A spec of `cases` client_credentials cases for an RFC 6749 provider.
fn generate_spec(cases: usize) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema=../schema/spec.schema.json\n\
         provider:\n  id: bench\n  name: Benchmark provider\n  token_endpoint: {{ path: /oauth/token }}\n\
         live:\n  base_url: \"${{env:BENCH_BASE_URL}}\"\n\
         mock:\n  cache_headers: true\n  clients:\n    - {{ id: {CLIENT_ID}, secret: {CLIENT_SECRET}, grants: [client_credentials] }}\n\
         vars:\n  client_id: {CLIENT_ID}\n  client_secret: {{ mock: {CLIENT_SECRET}, live: \"${{secret:BENCH_SECRET}}\" }}\ncases:\n"
    );
    for index in 0..cases {
        let _ = write!(
            out,
            "  - name: token_{index:05}\n    snapshot: false\n    grant: client_credentials\n    \
             with: {{ client_id: \"${{client_id}}\", client_secret: \"${{client_secret}}\" }}\n    \
             expect: {{ status: 200, body: {{ token_type: Bearer, access_token: {{ type: string, min_len: 16 }}, expires_in: {{ min: 1 }} }} }}\n"
        );
    }
    out
}

fn temp_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("grantspec-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

struct Row {
    what: String,
    result: String,
    baseline: String,
    ratio: String,
    target: String,
}

/// Runs every measurement and prints the table.
pub fn measure(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cases = take_count(&mut args, "--cases", DEFAULT_CASES)?;
    let rounds = take_count(&mut args, "--rounds", DEFAULT_ROUNDS)?;
    let skip_suite = crate::take_flag(&mut args, "--skip-test-suite");
    crate::no_more(&args)?;

    let dir = temp_dir()?;
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs)?;
    let spec_file = specs.join("bench.yaml");
    std::fs::write(&spec_file, generate_spec(cases))?;
    let mut rows = Vec::new();

    // (c) Loading and validating, at three sizes, each in its own process
    // (the median time and the largest peak of `rounds` processes).
    let mut per_case = Vec::new();
    let mut full_load = Duration::ZERO;
    let mut full_read = Duration::ZERO;
    // A tenth and a half of the cases, and all of them; at least one each.
    let sizes = [(cases / 10).max(1), (cases / 2).max(1), cases];
    for size in sizes {
        let sized = dir.join(format!("size-{size}"));
        std::fs::create_dir_all(&sized)?;
        let file = sized.join("bench.yaml");
        std::fs::write(&file, generate_spec(size))?;
        let (mut times, mut reads, mut peak) = (Vec::new(), Vec::new(), 0.0_f64);
        for _ in 0..rounds {
            let out = child(&["bench-load-spec", &file.to_string_lossy()])?;
            times.push(field(&out, "millis")?);
            reads.push(field(&out, "read_millis")?);
            peak = peak.max(field(&out, "peak_kib")?);
        }
        let millis = median_f64(times);
        per_case.push(millis * 1000.0 / size as f64);
        full_load = Duration::from_secs_f64(millis / 1000.0);
        full_read = Duration::from_secs_f64(median_f64(reads) / 1000.0);
        rows.push(Row {
            what: format!("(c) load + validate {size} cases"),
            result: format!("{millis:.0} ms, peak RSS {:.1} MiB", peak / 1024.0),
            baseline: format!("{:.1} µs per case", millis * 1000.0 / size as f64),
            ratio: String::new(),
            target: "linear".into(),
        });
    }
    let linear = per_case[2] / per_case[0];
    if let Some(last) = rows.last_mut() {
        last.ratio = format!("{linear:.2}× per case vs {}", sizes[0]);
        last.target = "≈1× per case (linear)".into();
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    // (a) The runner, the bare loop and Hurl, each a process of its own,
    // against one mock served by another, in rounds.
    let binary = specs_test_binary()?;
    let servers = Servers::start(&spec_file)?;
    let base_url = format!("http://{}/bench", servers.mock);
    let token_url = format!("{base_url}/oauth/token");
    let hurl = super::hurl::find();
    let hurl_files = match &hurl {
        Some(_) => super::hurl::write_files(&dir, &token_url, cases)?,
        None => Vec::new(),
    };
    let (mut runner, mut bare, mut hurl_times) = (Vec::new(), Vec::new(), Vec::new());
    let mut selecting_nothing = Vec::new();
    for _ in 0..rounds {
        runner.push(run_harness(
            &binary,
            &specs,
            &dir.join("snapshots"),
            &base_url,
        )?);
        selecting_nothing.push(run_selecting_nothing(
            &binary,
            &specs,
            &dir.join("snapshots"),
            &base_url,
        )?);
        bare.push(run_bare(&token_url, cases)?);
        if let Some(hurl) = &hurl {
            hurl_times.push(super::hurl::run(hurl, &hurl_files)?);
        }
    }
    let runner_total = median(runner.iter().map(|r| r.total));
    let runner_trials = median(runner.iter().map(|r| r.run));
    let start_up = median(runner.iter().map(|r| r.total.saturating_sub(r.run)));
    let start_up_whole = median(selecting_nothing);
    let bare_total = median(bare.iter().map(|b| b.total));
    let bare_loop = median(bare.iter().map(|b| b.run));
    let rate = |d: Duration| cases as f64 / d.as_secs_f64();
    let seconds = |d: Duration| d.as_secs_f64();
    rows.push(Row {
        what: format!(
            "(a) runner: specs test binary, live mode, {cases} cases, {IN_FLIGHT} threads, whole process"
        ),
        result: format!(
            "{:.2} s ({:.0} cases/s)",
            seconds(runner_total),
            rate(runner_total)
        ),
        baseline: format!(
            "bare reqwest loop, {IN_FLIGHT} in flight, same checks, whole process: {:.2} s",
            seconds(bare_total)
        ),
        ratio: format!(
            "{:.2}× {}",
            seconds(runner_total) / seconds(bare_total),
            RoundRatios::of(runner.iter().map(|r| r.total), bare.iter().map(|b| b.total))
        ),
        target: "≤ 1.5×".into(),
    });
    rows.push(Row {
        what: "(a) the same runs: the trials by libtest's clock".into(),
        result: format!("{:.2} s", seconds(runner_trials)),
        baseline: format!("the bare loop's own loop: {:.2} s", seconds(bare_loop)),
        ratio: format!(
            "{:.2}× {}",
            seconds(runner_trials) / seconds(bare_loop),
            RoundRatios::of(runner.iter().map(|r| r.run), bare.iter().map(|b| b.run))
        ),
        target: "≤ 1.15×".into(),
    });
    let millis = |d: f64| d.max(0.0) * 1000.0;
    rows.push(Row {
        what: format!(
            "(a) runner start-up for the {cases}-case spec, beyond reading it: the specs binary selecting no trial, whole process − reading the file's bytes"
        ),
        result: format!(
            "{:.0} ms",
            millis(seconds(start_up_whole) - seconds(full_read))
        ),
        baseline: format!(
            "of which loading and validating the file {:.0} ms (c); reading its bytes {:.1} ms; the bare loop's process outside its loop: {:.0} ms",
            millis(seconds(full_load) - seconds(full_read)),
            seconds(full_read) * 1000.0,
            seconds(bare_total.saturating_sub(bare_loop)) * 1000.0
        ),
        ratio: String::new(),
        target: "≤ 50 ms".into(),
    });
    rows.push(Row {
        what: "(a) the runs of the first row outside libtest's clock: whole process − trials − reading the file's bytes".into(),
        result: format!(
            "{:.0} ms",
            millis(seconds(start_up) - seconds(full_read))
        ),
        baseline: "start-up, the process's start and end, and libtest's clock in hundredths of a second: a cross-check of the row above".into(),
        ratio: String::new(),
        target: String::new(),
    });
    rows.push(match &hurl {
        Some(path) => {
            let hurl_rounds = RoundRatios::of(
                hurl_times.iter().copied(),
                runner.iter().map(|r| r.total),
            );
            let hurl_total = median(hurl_times);
            Row {
                what: format!(
                    "(a) {}, `--test --jobs {IN_FLIGHT}`, the same requests and checks, whole process",
                    super::hurl::version(path)
                ),
                result: format!("{:.2} s ({:.0} req/s)", seconds(hurl_total), rate(hurl_total)),
                baseline: format!("the runner, whole process: {:.2} s", seconds(runner_total)),
                ratio: format!(
                    "runner {:.1}× faster {hurl_rounds}",
                    seconds(hurl_total) / seconds(runner_total)
                ),
                target: "runner ≥ 5× faster".into(),
            }
        }
        None => Row {
            what: "(a) Hurl, the same requests and checks".into(),
            result: format!("not measured: `hurl` is not on PATH (get it: {})", super::hurl::HOW_TO_GET),
            baseline: String::new(),
            ratio: String::new(),
            target: "runner ≥ 5× faster".into(),
        },
    });

    // (b) The mock under load from another process, against a minimal
    // handler, each served by a fresh process of its own, whose heap the
    // measurements above have not shaped: the mock's resident memory is
    // then its own, read after its warm-up and again after every round.
    servers.stop()?;
    let request = token_request_bytes("/bench/oauth/token");
    let request_file = dir.join("request.http");
    std::fs::write(&request_file, &request)?;
    let minimal_request_file = dir.join("minimal.http");
    std::fs::write(&minimal_request_file, token_request_bytes("/token"))?;
    let mock_server = Servers::start(&spec_file)?;
    let minimal_server = Servers::start(&spec_file)?;
    let (mock_rounds, minimal_rounds, warm_rss, last_rss) = runtime.block_on(async {
        let (mock, minimal) = (&mock_server.mock, &minimal_server.minimal);
        load_from_child(mock, &request_file, WARM_UP_SECONDS).await?;
        load_from_child(minimal, &minimal_request_file, WARM_UP_SECONDS).await?;
        let warm_rss = mock_server.rss_kib()?;
        let (mut mock_rounds, mut minimal_rounds) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            mock_rounds.push(mock_server.loaded(mock, &request_file).await?);
            minimal_rounds.push(
                minimal_server
                    .loaded(minimal, &minimal_request_file)
                    .await?,
            );
        }
        let last_rss = mock_server.rss_kib()?;
        anyhow::Ok((mock_rounds, minimal_rounds, warm_rss, last_rss))
    })?;
    let (mock_rate, minimal_rate) = (
        median_f64(mock_rounds.iter().map(|(load, _)| load.rate()).collect()),
        median_f64(minimal_rounds.iter().map(|(load, _)| load.rate()).collect()),
    );
    // Microseconds of the server's CPU a request, each round, where the
    // system gave one.
    let cpu_per_request = |rounds: &[(Load, Option<Duration>)]| -> Option<Vec<f64>> {
        rounds
            .iter()
            .map(|(load, cpu)| Some(cpu.as_ref()?.as_secs_f64() * 1e6 / load.requests))
            .collect()
    };
    mock_server.stop()?;
    minimal_server.stop()?;
    rows.push(Row {
        what: format!(
            "(b) mock token endpoint, {LOAD_CONNECTIONS} keep-alive connections from another process"
        ),
        result: format!("{mock_rate:.0} req/s"),
        baseline: format!("minimal axum handler: {minimal_rate:.0} req/s"),
        ratio: format!(
            "{:.2}× {}",
            mock_rate / minimal_rate,
            RoundRatios::of_rates(
                mock_rounds.iter().map(|(load, _)| load.rate()),
                minimal_rounds.iter().map(|(load, _)| load.rate())
            )
        ),
        target: "≥ 0.9×".into(),
    });
    let cpu_row =
        "(b) the same rounds, the server process's CPU time a request (user + system, from /proc)";
    rows.push(
        match (
            cpu_per_request(&mock_rounds),
            cpu_per_request(&minimal_rounds),
        ) {
            (Some(mock_each), Some(minimal_each)) => {
                let rounds =
                    RoundRatios::of_rates(minimal_each.iter().copied(), mock_each.iter().copied());
                let (mock_cpu, minimal_cpu) = (median_f64(mock_each), median_f64(minimal_each));
                Row {
                    what: cpu_row.into(),
                    result: format!("{mock_cpu:.1} µs"),
                    baseline: format!("minimal axum handler: {minimal_cpu:.1} µs"),
                    ratio: format!("{:.2}× (minimal ÷ mock) {rounds}", minimal_cpu / mock_cpu),
                    target: String::new(),
                }
            }
            _ => Row {
                what: cpu_row.into(),
                result: "not measured: this system has no /proc/<pid>/stat".into(),
                baseline: String::new(),
                ratio: String::new(),
                target: String::new(),
            },
        },
    );
    rows.push(Row {
        what: format!(
            "(b) the mock's resident memory over those rounds ({rounds} × {LOAD_SECONDS} s, {:.1} M tokens issued in all)",
            mock_rate * (rounds as f64) * LOAD_SECONDS.parse::<f64>().unwrap_or(0.0) / 1e6
        ),
        result: format!("{:.1} MiB after", last_rss as f64 / 1024.0),
        baseline: format!("{:.1} MiB once warm", warm_rss as f64 / 1024.0),
        ratio: format!("{:.2}×", last_rss as f64 / warm_rss.max(1) as f64),
        target: "≤ 1.2× (flat)".into(),
    });

    // (d) The default test suite (the offline tier), build excluded.
    if !skip_suite {
        let root = grantspec_runner::workspace_root();
        let build = Command::new(super::cargo())
            .args(["test", "--no-run", "--message-format=json"])
            .env("CI", "true")
            .current_dir(&root)
            .stderr(Stdio::null())
            .output()?;
        anyhow::ensure!(build.status.success(), "cargo test --no-run failed");
        // Each test executable's package and target, to name the binaries
        // cargo's `Running` lines give only by path.
        let names: Vec<(String, String)> = String::from_utf8_lossy(&build.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|message| {
                let executable = message["executable"].as_str()?;
                let file = Path::new(executable)
                    .file_name()?
                    .to_string_lossy()
                    .into_owned();
                // `path+file:///…/dir#name@version`, or `…/name#version`.
                let id = message["package_id"].as_str()?;
                let (path, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
                let package = match fragment.split_once('@') {
                    Some((name, _)) => name,
                    None => path.rsplit('/').next().unwrap_or(path),
                };
                let target = message["target"]["name"].as_str()?;
                Some((file, format!("{package} {target}")))
            })
            .collect();
        let (wall, binaries) = time_test_suite(&root)?;
        let binaries: Vec<(String, Duration)> = binaries
            .into_iter()
            .map(|(running, took)| {
                let named = names
                    .iter()
                    .find(|(file, _)| running.contains(file.as_str()))
                    .map_or(running, |(_, name)| name.clone());
                (named, took)
            })
            .collect();
        let slowest = binaries
            .iter()
            .take(3)
            .map(|(name, took)| format!("{name} {:.1} s", took.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(Row {
            what: "(d) `cargo test`, the default offline tier (the slow tier listed as ignored), build excluded".into(),
            result: format!("{:.1} s wall", wall.as_secs_f64()),
            baseline: format!("slowest test binaries: {slowest}"),
            ratio: String::new(),
            target: "< 15 s".into(),
        });
    }

    print_table(&rows, rounds);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row], rounds: usize) {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "\ngrantspec bench ({cpus} CPUs, release build, median of {rounds} rounds; (d) one run)\n"
    );
    println!("| measurement | result | baseline | ratio | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            row.what, row.result, row.baseline, row.ratio, row.target
        );
    }
}

/// Runs `cargo test` (CI=true, as CI runs it) and returns its wall time and
/// each test binary's, slowest first: a binary runs from cargo's `Running`
/// line for it to the next one (or the end; doctests run last).
fn time_test_suite(root: &Path) -> anyhow::Result<(Duration, Vec<(String, Duration)>)> {
    use std::io::BufRead as _;
    let started = Instant::now();
    let mut child = Command::new(super::cargo())
        .arg("test")
        .env("CI", "true")
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut marks: Vec<(String, Instant)> = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line?;
            let line = line.trim_start();
            if let Some(rest) = line.strip_prefix("Running ") {
                marks.push((rest.to_owned(), Instant::now()));
            } else if line.starts_with("Doc-tests ") {
                marks.push((line.to_owned(), Instant::now()));
            }
        }
    }
    let status = child.wait()?;
    let wall = started.elapsed();
    anyhow::ensure!(status.success(), "cargo test failed");
    let ended = Instant::now();
    let mut binaries: Vec<(String, Duration)> = marks
        .iter()
        .enumerate()
        .map(|(index, (name, at))| {
            let until = marks.get(index + 1).map_or(ended, |(_, next)| *next);
            (name.clone(), until.duration_since(*at))
        })
        .collect();
    binaries.sort_by_key(|(_, took)| std::cmp::Reverse(*took));
    Ok((wall, binaries))
}

/// Runs this binary in one of its child modes and returns its stdout.
fn child(args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(std::env::current_exe()?).args(args).output()?;
    anyhow::ensure!(
        output.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Reads `name=value` from a child's output.
fn field(output: &str, name: &str) -> anyhow::Result<f64> {
    output
        .split_whitespace()
        .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {name}= in {output:?}"))
}

/// The release `specs` test binary, built now (the build is not timed).
fn specs_test_binary() -> anyhow::Result<PathBuf> {
    let output = Command::new(super::cargo())
        .args([
            "test",
            "--release",
            "-p",
            "grantspec",
            "--test",
            "specs",
            "--no-run",
            "--message-format=json",
        ])
        .current_dir(grantspec_runner::workspace_root())
        .stderr(Stdio::inherit())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "building the specs test binary failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == "specs")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| anyhow::anyhow!("cargo did not report the specs test executable"))
}

/// One timed process: the whole of it, and the part it times itself.
struct ProcessRun {
    /// What the process timed itself: the trials by libtest's clock, or
    /// the bare loop's loop.
    run: Duration,
    /// The process, start to exit: for the specs binary also loading the
    /// spec and listing the trials.
    total: Duration,
}

/// Runs the specs test binary in live mode on the generated spec, against
/// the mock at `base_url`, `IN_FLIGHT` threads.
fn run_harness(
    binary: &Path,
    specs: &Path,
    snapshots: &Path,
    base_url: &str,
) -> anyhow::Result<ProcessRun> {
    let (output, total) = harness_process(binary, &[], specs, snapshots, base_url)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success() && stdout.contains(" 0 ignored;"),
        "the specs binary did not pass every generated case live: {stdout}"
    );
    Ok(ProcessRun {
        run: libtest_time(&stdout)?,
        total,
    })
}

/// The specs binary's start-up, measured whole: the process run with a
/// filter no trial matches (`--exact`, so matching it against every name is
/// one comparison each) loads and checks the specs, makes every trial, and
/// ends without running one. Libtest's clock, which the whole run's
/// start-up is worked out with, shows hundredths of a second only.
fn run_selecting_nothing(
    binary: &Path,
    specs: &Path,
    snapshots: &Path,
    base_url: &str,
) -> anyhow::Result<Duration> {
    let nothing = ["--exact", "bench::no-trial-has-this-name"];
    let (output, total) = harness_process(binary, &nothing, specs, snapshots, base_url)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success() && stdout.contains(" 0 passed;") && stdout.contains("filtered out"),
        "the specs binary did not select nothing: {stdout}"
    );
    Ok(total)
}

/// The specs binary with `args`, in live mode against `base_url`, and how
/// long the process took.
fn harness_process(
    binary: &Path,
    args: &[&str],
    specs: &Path,
    snapshots: &Path,
    base_url: &str,
) -> anyhow::Result<(std::process::Output, Duration)> {
    let started = Instant::now();
    let output = Command::new(binary)
        .args(["--test-threads", &IN_FLIGHT.to_string(), "-q"])
        .args(args)
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env("GRANTSPEC_TARGET", "live")
        .env("BENCH_BASE_URL", base_url)
        .env("BENCH_SECRET", CLIENT_SECRET)
        .output()?;
    Ok((output, started.elapsed()))
}

/// Runs the bare loop (`xtask bench-bare`) as a process of its own.
fn run_bare(token_url: &str, cases: usize) -> anyhow::Result<ProcessRun> {
    let started = Instant::now();
    let output = Command::new(std::env::current_exe()?)
        .args(["bench-bare", token_url, &cases.to_string()])
        .output()?;
    let total = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the bare loop failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(ProcessRun {
        run: Duration::from_secs_f64(field(&stdout, "loop_ms")? / 1000.0),
        total,
    })
}

/// The time libtest's summary line gives: `… finished in 1.23s`.
fn libtest_time(output: &str) -> anyhow::Result<Duration> {
    output
        .lines()
        .filter_map(|line| line.split_once("finished in ")?.1.strip_suffix('s'))
        .find_map(|seconds| seconds.trim().parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .ok_or_else(|| anyhow::anyhow!("no `finished in` in {output:?}"))
}

/// The ratios of the two sides of each round, measured seconds apart: how
/// far a run's ratio moves with the host's speed, shown beside the ratio of
/// the medians as `(rounds 1.62–1.95×)`.
struct RoundRatios(Vec<f64>);

impl RoundRatios {
    /// `ours ÷ theirs`, round by round.
    fn of(
        ours: impl IntoIterator<Item = Duration>,
        theirs: impl IntoIterator<Item = Duration>,
    ) -> Self {
        Self::of_rates(
            ours.into_iter().map(|d| d.as_secs_f64()),
            theirs.into_iter().map(|d| d.as_secs_f64()),
        )
    }

    /// [`RoundRatios::of`] for numbers.
    fn of_rates(
        ours: impl IntoIterator<Item = f64>,
        theirs: impl IntoIterator<Item = f64>,
    ) -> Self {
        Self(
            ours.into_iter()
                .zip(theirs)
                .filter(|(_, theirs)| *theirs > 0.0)
                .map(|(ours, theirs)| ours / theirs)
                .collect(),
        )
    }
}

impl std::fmt::Display for RoundRatios {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lowest = self.0.iter().copied().reduce(f64::min);
        let highest = self.0.iter().copied().reduce(f64::max);
        match (lowest, highest) {
            (Some(lowest), Some(highest)) => write!(f, "(rounds {lowest:.2}–{highest:.2}×)"),
            _ => Ok(()),
        }
    }
}

/// The value of `--NAME N` in `args`, a whole number of at least 1, or
/// `default` when it is not there.
fn take_count(args: &mut Vec<String>, name: &str, default: usize) -> anyhow::Result<usize> {
    match crate::take_value(args, name)? {
        None => Ok(default),
        Some(text) => {
            crate::flags::positive(&text).map_err(|error| anyhow::anyhow!("{name}: {error}"))
        }
    }
}

/// The middle value, or the mean of the two middle ones for an even count
/// (`--rounds` may ask for one); zero for none.
fn median(values: impl IntoIterator<Item = Duration>) -> Duration {
    let seconds = values.into_iter().map(|d| d.as_secs_f64()).collect();
    Duration::from_secs_f64(median_f64(seconds))
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => 0.0,
        len if len % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

/// `xtask bench-engine [--cases N] [--rounds R]`: the engine and its bare
/// loop alone, alternating, each round's times printed: what to run under a
/// profiler (`perf record`, `valgrind --tool=callgrind`) when (a) moves.
pub fn engine(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cases = take_count(&mut args, "--cases", DEFAULT_CASES)?;
    let rounds = take_count(&mut args, "--rounds", DEFAULT_ROUNDS)?;
    crate::no_more(&args)?;
    let dir = temp_dir()?;
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs)?;
    std::fs::write(specs.join("bench.yaml"), generate_spec(cases))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    for round in 1..=rounds {
        let engine = runtime.block_on(run_engine(&specs))?;
        let floor = runtime.block_on(super::floor::bare_loop(&specs, cases))?;
        let cpu = match (engine.cpu, floor.cpu) {
            (Some(engine), Some(floor)) => format!(
                "; CPU {:.2} s against {:.2} s, {:.2}×",
                engine.as_secs_f64(),
                floor.as_secs_f64(),
                engine.as_secs_f64() / floor.as_secs_f64()
            ),
            _ => String::new(),
        };
        println!(
            "round {round}: engine {:.3} s, bare loop {:.3} s, {:.2}×{cpu}",
            engine.wall.as_secs_f64(),
            floor.wall.as_secs_f64(),
            engine.wall.as_secs_f64() / floor.wall.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

/// One side's time: wall clock, and the CPU time of this whole process (its
/// mock included) while it ran, which a busy neighbour on a shared machine
/// moves less.
pub(super) struct Timed {
    pub(super) wall: Duration,
    pub(super) cpu: Option<Duration>,
}

/// When a side started, by both clocks.
pub(super) struct Stopwatch {
    wall: Instant,
    cpu: Option<Duration>,
}

impl Stopwatch {
    pub(super) fn start() -> Self {
        Self {
            wall: Instant::now(),
            cpu: process_cpu("self"),
        }
    }

    /// The time since the start.
    pub(super) fn stop(self) -> Timed {
        Timed {
            wall: self.wall.elapsed(),
            cpu: cpu_since("self", self.cpu),
        }
    }
}

/// The CPU time `process` has used since it had used `before`
/// ([`process_cpu`]).
fn cpu_since(process: &str, before: Option<Duration>) -> Option<Duration> {
    before
        .zip(process_cpu(process))
        .map(|(before, after)| after.saturating_sub(before))
}

/// The CPU time a process (`self`, or a PID) has used, user and system,
/// from `/proc/<process>/stat` at the usual 100 ticks a second; `None`
/// elsewhere.
fn process_cpu(process: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

/// The runner's engine in-process: every case of `specs`, `IN_FLIGHT` at a time.
async fn run_engine(specs: &Path) -> anyhow::Result<Timed> {
    let config = SuiteConfig {
        specs_dir: specs.to_path_buf(),
        snapshots_dir: specs.join("../snapshots"),
        target: TargetKind::Mock,
        env: Env::default(),
        transport: TransportConfig::default(),
        write_pending_snapshots: true,
    };
    let suite = Arc::new(Suite::start(config).await?);
    let ids = suite.cases();
    let started = Stopwatch::start();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..IN_FLIGHT {
        let suite = Arc::clone(&suite);
        let mine: Vec<_> = ids
            .iter()
            .copied()
            .skip(worker)
            .step_by(IN_FLIGHT)
            .collect();
        tasks.spawn(async move {
            for id in mine {
                let report = suite.run(id).await;
                if report.judgement != Judgement::Passed {
                    return Err(anyhow::anyhow!(
                        "{} did not pass: {:?}",
                        report.name,
                        report.failure()
                    ));
                }
            }
            Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(started.stop())
}

/// The raw bytes of a client_credentials request to `path`, kept alive.
fn token_request_bytes(path: &str) -> Vec<u8> {
    let authorization = basic_authorization(CLIENT_ID, CLIENT_SECRET)
        .expose_secret()
        .to_owned();
    let body = "grant_type=client_credentials";
    format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {authorization}\r\n\
         content-type: application/x-www-form-urlencoded\r\naccept: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What one run of the load generator did.
struct Load {
    requests: f64,
    seconds: f64,
}

impl Load {
    fn rate(&self) -> f64 {
        self.requests / self.seconds
    }
}

/// Runs the load generator in a second process against `addr`.
async fn load_from_child(addr: &str, request_file: &Path, seconds: &str) -> anyhow::Result<Load> {
    let exe = std::env::current_exe()?;
    let output = tokio::process::Command::new(exe)
        .args([
            "bench-load",
            addr,
            &request_file.to_string_lossy(),
            &LOAD_CONNECTIONS.to_string(),
            seconds,
        ])
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "load generator failed: {stdout}");
    let errors = field(&stdout, "errors")?;
    anyhow::ensure!(
        errors == 0.0,
        "the load generator saw {errors} errors: {stdout}"
    );
    Ok(Load {
        requests: field(&stdout, "requests")?,
        seconds: field(&stdout, "seconds")?,
    })
}

/// The (b) servers, in a child process (`xtask bench-serve`).
struct Servers {
    child: std::process::Child,
    mock: String,
    minimal: String,
}

impl Servers {
    fn start(spec_file: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("bench-serve")
            .arg(spec_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        }
        let address = |name: &str| {
            line.split_whitespace()
                .find_map(|pair| pair.strip_prefix(name))
                .map(str::to_owned)
                .ok_or_else(|| anyhow::anyhow!("bench-serve printed {line:?}"))
        };
        let (mock, minimal) = match (address("mock="), address("minimal=")) {
            (Ok(mock), Ok(minimal)) => (mock, minimal),
            (Err(e), _) | (_, Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(Self {
            child,
            mock,
            minimal,
        })
    }

    /// The child's resident set size in KiB, from `/proc/PID/status`.
    fn rss_kib(&self) -> anyhow::Result<u64> {
        super::load::status_kib(&self.child.id().to_string(), "VmRSS")
            .ok_or_else(|| anyhow::anyhow!("no VmRSS for the server process"))
    }

    /// One round of load against `addr`, served by this process, with the
    /// CPU time the process spent meanwhile.
    async fn loaded(
        &self,
        addr: &str,
        request_file: &Path,
    ) -> anyhow::Result<(Load, Option<Duration>)> {
        let process = self.child.id().to_string();
        let before = process_cpu(&process);
        let load = load_from_child(addr, request_file, LOAD_SECONDS).await?;
        Ok((load, cpu_since(&process, before)))
    }

    /// Closes the child's stdin, which stops it, and waits for it.
    fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        anyhow::ensure!(status.success(), "bench-serve failed: {status}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_default_when_absent_and_refuse_zero_or_text() {
        let mut args = vec!["--rounds".to_owned(), "9".to_owned(), "--other".to_owned()];
        assert_eq!(take_count(&mut args, "--rounds", 5).unwrap(), 9);
        assert_eq!(args, ["--other"]);
        assert_eq!(take_count(&mut args, "--cases", 10_000).unwrap(), 10_000);
        for bad in ["0", "-1", "many"] {
            let mut args = vec!["--rounds".to_owned(), bad.to_owned()];
            let error = take_count(&mut args, "--rounds", 5)
                .unwrap_err()
                .to_string();
            assert!(
                error.starts_with("--rounds: ") && error.contains("not a positive whole number"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median_f64(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median_f64(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median_f64(Vec::new()), 0.0);
        let seconds = [4.0, 1.0].map(Duration::from_secs_f64);
        assert_eq!(median(seconds), Duration::from_millis(2500));
    }

    #[test]
    fn round_ratios_pair_the_sides_round_by_round_and_show_the_extremes() {
        let ours = [2.0, 3.0, 1.0].map(Duration::from_secs_f64);
        let theirs = [1.0, 1.5, 2.0].map(Duration::from_secs_f64);
        assert_eq!(
            RoundRatios::of(ours, theirs).to_string(),
            "(rounds 0.50–2.00×)"
        );
        // A side that measured nothing gives no ratio, rather than infinity.
        assert_eq!(
            RoundRatios::of_rates([1.0, 3.0], [0.0, 2.0]).to_string(),
            "(rounds 1.50–1.50×)"
        );
        assert_eq!(RoundRatios::of_rates([1.0], [0.0]).to_string(), "");
    }
}
