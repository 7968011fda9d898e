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

/// Requests in flight, for the runner, the floors and the load generator.
pub(super) const IN_FLIGHT: usize = 8;
/// How long each load-test side runs, per round.
const LOAD_SECONDS: &str = "2";
/// How long each load-test side runs once, unmeasured, before the rounds:
/// a fresh server's first second (connections, an empty token store
/// growing) is not what it sustains.
const WARM_UP_SECONDS: &str = "1";
/// Rounds of every measurement but the test suite's. The sides of a
/// comparison alternate within each round, and each result is the median
/// of its rounds, so a burst of load from elsewhere on a shared machine
/// does not decide a ratio.
const ROUNDS: usize = 5;

pub(super) const CLIENT_ID: &str = "bench-client";
pub(super) const CLIENT_SECRET: &str = "bench-secret-0123456789";

/// A spec of `cases` client_credentials cases for an RFC 6749 provider.
fn generate_spec(cases: usize) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema=../schema/spec.schema.json\n\
         provider:\n  id: bench\n  name: Benchmark provider\n  token_endpoint: {{ path: /oauth/token }}\n\
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
    let cases: usize = crate::take_value(&mut args, "--cases")?
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000);
    let skip_suite = crate::take_flag(&mut args, "--skip-test-suite");
    crate::no_more(&args)?;

    let dir = temp_dir()?;
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs)?;
    let spec_file = specs.join("bench.yaml");
    std::fs::write(&spec_file, generate_spec(cases))?;
    let mut rows = Vec::new();

    // (c) Loading and validating, at three sizes, each in its own process
    // (the median time and the largest peak of ROUNDS processes).
    let mut per_case = Vec::new();
    for size in [cases / 10, cases / 2, cases] {
        let sized = dir.join(format!("size-{size}"));
        std::fs::create_dir_all(&sized)?;
        let file = sized.join("bench.yaml");
        std::fs::write(&file, generate_spec(size))?;
        let (mut times, mut peak) = (Vec::new(), 0.0_f64);
        for _ in 0..ROUNDS {
            let out = child(&["bench-load-spec", &file.to_string_lossy()])?;
            times.push(field(&out, "millis")?);
            peak = peak.max(field(&out, "peak_kib")?);
        }
        let millis = median_f64(times);
        per_case.push(millis * 1000.0 / size as f64);
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
        last.ratio = format!("{linear:.2}× per case vs {}", cases / 10);
        last.target = "≈1× per case (linear)".into();
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    // (a) The runner against the floors, in rounds.
    let binary = specs_test_binary()?;
    let (mut harness, mut trials, mut engine, mut floor) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        harness.push(run_harness(&binary, &specs, &dir.join("snapshots"))?);
        trials.push(run_trials_floor(&specs)?);
        engine.push(runtime.block_on(run_engine(&specs))?);
        floor.push(runtime.block_on(super::floor::bare_loop(&specs, cases))?);
    }
    let startup = median(harness.iter().map(|h| h.total.saturating_sub(h.run)));
    let harness = median(harness.iter().map(|h| h.run));
    let engine_cpu = median_cpu(&engine);
    let floor_cpu = median_cpu(&floor);
    let engine = median(engine.iter().map(|t| t.wall));
    let floor = median(floor.iter().map(|t| t.wall));
    let (trials, engine, floor) = (median(trials), engine, floor);
    let rate = |d: Duration| cases as f64 / d.as_secs_f64();
    let ratio = |d: Duration| format!("{:.2}×", d.as_secs_f64() / floor.as_secs_f64());
    let bare = format!(
        "bare reqwest loop: {:.0} req/s ({:.2} s)",
        rate(floor),
        floor.as_secs_f64()
    );
    rows.push(Row {
        what: format!("(a) runner: specs test binary, {cases} cases, {IN_FLIGHT} threads"),
        result: format!(
            "{:.0} cases/s ({:.2} s; start-up {:.2} s more)",
            rate(harness),
            harness.as_secs_f64(),
            startup.as_secs_f64()
        ),
        baseline: bare,
        ratio: ratio(harness),
        target: "≤ 1.25×".into(),
    });
    rows.push(Row {
        what: format!("(a) its floor: the bare request as {cases} libtest-mimic trials"),
        result: format!(
            "{:.0} req/s ({:.2} s); the runner takes {:.2}× this",
            rate(trials),
            trials.as_secs_f64(),
            harness.as_secs_f64() / trials.as_secs_f64()
        ),
        baseline: "same bare loop".into(),
        ratio: ratio(trials),
        target: "(the cost of a trial)".into(),
    });
    let cpu = |cpu: Option<Duration>| {
        cpu.map_or_else(String::new, |cpu| {
            format!("; {:.2} CPU-s", cpu.as_secs_f64())
        })
    };
    rows.push(Row {
        what: format!("(a) runner engine in-process (Suite::run), {IN_FLIGHT} in flight"),
        result: format!(
            "{:.0} cases/s ({:.2} s{})",
            rate(engine),
            engine.as_secs_f64(),
            cpu(engine_cpu)
        ),
        baseline: format!(
            "same bare loop ({:.2} s{})",
            floor.as_secs_f64(),
            cpu(floor_cpu)
        ),
        ratio: match (engine_cpu, floor_cpu) {
            (Some(engine_cpu), Some(floor_cpu)) => format!(
                "{} (CPU {:.2}×)",
                ratio(engine),
                engine_cpu.as_secs_f64() / floor_cpu.as_secs_f64()
            ),
            _ => ratio(engine),
        },
        target: "≤ 1.25×".into(),
    });

    // (b) The mock under load from a second process, against a minimal
    // handler, both served by a third: a fresh process, whose heap the
    // measurements above have not shaped.
    let request = token_request_bytes("/bench/oauth/token");
    let request_file = dir.join("request.http");
    std::fs::write(&request_file, &request)?;
    let minimal_request_file = dir.join("minimal.http");
    std::fs::write(&minimal_request_file, token_request_bytes("/token"))?;
    let servers = Servers::start(&spec_file)?;
    let (mock_rate, minimal_rate) = runtime.block_on(async {
        let (mock, minimal) = (&servers.mock, &servers.minimal);
        load_from_child(mock, &request_file, WARM_UP_SECONDS).await?;
        load_from_child(minimal, &minimal_request_file, WARM_UP_SECONDS).await?;
        let (mut mock_rates, mut minimal_rates) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            mock_rates.push(load_from_child(mock, &request_file, LOAD_SECONDS).await?);
            minimal_rates
                .push(load_from_child(minimal, &minimal_request_file, LOAD_SECONDS).await?);
        }
        anyhow::Ok((median_f64(mock_rates), median_f64(minimal_rates)))
    })?;
    servers.stop()?;
    rows.push(Row {
        what: format!("(b) mock token endpoint, {IN_FLIGHT} connections from a second process"),
        result: format!("{mock_rate:.0} req/s"),
        baseline: format!("minimal axum handler: {minimal_rate:.0} req/s"),
        ratio: format!("{:.2}×", mock_rate / minimal_rate),
        target: "≥ 0.8×".into(),
    });

    // (d) The default test suite, build excluded.
    if !skip_suite {
        let root = grantspec_runner::workspace_root();
        let build = Command::new(super::cargo())
            .args(["test", "--no-run", "-q"])
            .current_dir(&root)
            .stderr(Stdio::null())
            .status()?;
        anyhow::ensure!(build.success(), "cargo test --no-run failed");
        let started = Instant::now();
        let test = Command::new(super::cargo())
            .args(["test", "-q"])
            .current_dir(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        let wall = started.elapsed();
        anyhow::ensure!(test.success(), "cargo test failed");
        rows.push(Row {
            what: "(d) `cargo test`, the default suite, build excluded".into(),
            result: format!("{:.1} s wall", wall.as_secs_f64()),
            baseline: String::new(),
            ratio: String::new(),
            target: String::new(),
        });
    }

    print_table(&rows);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}

fn print_table(rows: &[Row]) {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "\ngrantspec bench ({cpus} CPUs, release build, median of {ROUNDS} rounds; (d) one run)\n"
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

/// One run of the specs test binary.
struct HarnessRun {
    /// The trials, as libtest times them.
    run: Duration,
    /// The process, start to exit: also loading the specs, starting the
    /// mock and listing the trials.
    total: Duration,
}

/// Runs the specs test binary on the generated spec, `IN_FLIGHT` threads.
fn run_harness(binary: &Path, specs: &Path, snapshots: &Path) -> anyhow::Result<HarnessRun> {
    let started = Instant::now();
    let output = Command::new(binary)
        .args(["--test-threads", &IN_FLIGHT.to_string(), "-q"])
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env_remove("GRANTSPEC_TARGET")
        .output()?;
    let total = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "the specs binary failed on the generated spec: {stdout}"
    );
    Ok(HarnessRun {
        run: libtest_time(&stdout)?,
        total,
    })
}

/// Runs the libtest-mimic floor (`xtask bench-trials`) in its own process,
/// as the specs binary runs, and returns its trials' time.
fn run_trials_floor(specs: &Path) -> anyhow::Result<Duration> {
    let output = Command::new(std::env::current_exe()?)
        .arg("bench-trials")
        .arg(specs)
        .args(["--test-threads", &IN_FLIGHT.to_string(), "-q"])
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(output.status.success(), "the trials floor failed: {stdout}");
    libtest_time(&stdout)
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

fn median(values: impl IntoIterator<Item = Duration>) -> Duration {
    let mut values: Vec<Duration> = values.into_iter().collect();
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

fn median_f64(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// `xtask bench-engine [--cases N] [--rounds R]`: the engine and its bare
/// loop alone, alternating, each round's times printed: what to run under a
/// profiler (`perf record`, `valgrind --tool=callgrind`) when (a) moves.
pub fn engine(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let cases: usize = crate::take_value(&mut args, "--cases")?
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(10_000);
    let rounds: usize = crate::take_value(&mut args, "--rounds")?
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(ROUNDS);
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
            cpu: process_cpu(),
        }
    }

    /// The time since the start.
    pub(super) fn stop(self) -> Timed {
        Timed {
            wall: self.wall.elapsed(),
            cpu: self
                .cpu
                .zip(process_cpu())
                .map(|(before, after)| after.saturating_sub(before)),
        }
    }
}

/// The CPU time this process has used (user and system), from
/// `/proc/self/stat` at the usual 100 ticks a second; `None` elsewhere.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 10))
}

fn median_cpu(times: &[Timed]) -> Option<Duration> {
    let cpu: Option<Vec<Duration>> = times.iter().map(|t| t.cpu).collect();
    cpu.map(median)
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

/// Runs the load generator in a second process against `addr`.
async fn load_from_child(addr: &str, request_file: &Path, seconds: &str) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let output = tokio::process::Command::new(exe)
        .args([
            "bench-load",
            addr,
            &request_file.to_string_lossy(),
            &IN_FLIGHT.to_string(),
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
    Ok(field(&stdout, "requests")? / field(&stdout, "seconds")?)
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

    /// Closes the child's stdin, which stops it, and waits for it.
    fn stop(mut self) -> anyhow::Result<()> {
        drop(self.child.stdin.take());
        let status = self.child.wait()?;
        anyhow::ensure!(status.success(), "bench-serve failed: {status}");
        Ok(())
    }
}
