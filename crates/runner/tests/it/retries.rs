#![allow(clippy::unwrap_used)]
//! Live mode against a token endpoint that throttles, and a provider's
//! declared request rate.
//!
//! A server on 127.0.0.1 answers `/<mode>/token`: `once` answers the first
//! request `429` with `Retry-After: 1` and later ones correctly; `always`
//! answers `429` with `Retry-After: 1` to every request; `date` answers the
//! first `503` with `Retry-After` as an HTTP-date two seconds ahead;
//! `far` asks for an hour; `garbage` sends a `Retry-After` that is neither
//! form, once; `unavailable` is a bare `503`; `ok` and `paced` answer
//! correctly. The server records when each request arrived, so the tests
//! assert on the intervals it saw, not on how long the run took. The suite
//! runs in-process, except in the last test, which runs the `specs` test
//! binary as a user does and reads what it prints.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use grantspec_runner::render::{retry_notes, snapshot_text};
use grantspec_runner::{CaseReport, Env, Suite, SuiteConfig, Verdict};
use grantspec_spec::template::TargetKind;
use grantspec_test_support::{outcomes, specs_binary, temp_dir, text};
use grantspec_token::{GiveUp, RetryAfter, RetryPolicy, TransportConfig};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};

use crate::faults::{
    CLIENT_ID, CLIENT_SECRET, FAULTY_CASES, healthy, read_request, response, runtime,
};

/// The retry policy of these runs: three attempts, five seconds of waiting,
/// a 100 ms backoff.
fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        max_total_wait: Duration::from_secs(5),
        backoff: Duration::from_millis(100),
    }
}

/// A hang guard, not a performance claim: every run here waits at most the
/// policy's budget per request, and sends a few requests.
const HANG_BOUND: Duration = Duration::from_secs(60);

/// When each request to each path arrived.
#[derive(Default)]
struct Arrivals(Mutex<Vec<(String, Instant)>>);

impl Arrivals {
    /// Records a request to `path`; how many came before it.
    fn record(&self, path: &str) -> usize {
        let mut seen = self.0.lock().unwrap();
        let before = seen.iter().filter(|(p, _)| p == path).count();
        seen.push((path.to_owned(), Instant::now()));
        before
    }

    fn at(&self, path: &str) -> Vec<Instant> {
        let seen = self.0.lock().unwrap();
        seen.iter()
            .filter(|(p, _)| p == path)
            .map(|(_, at)| *at)
            .collect()
    }
}

fn throttled(status: &str, retry_after: &str) -> Vec<u8> {
    response(
        status,
        &[
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
            ("retry-after", retry_after),
        ],
        br#"{"error":"slow_down"}"#,
    )
}

async fn serve(mut stream: TcpStream, arrivals: Arc<Arrivals>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let before = arrivals.record(&request.path);
    let mode = request
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let answer = match (mode.as_str(), before) {
        ("once", 0) => throttled("429 Too Many Requests", "1"),
        ("always", _) => throttled("429 Too Many Requests", "1"),
        ("date", 0) => {
            let at = SystemTime::now() + Duration::from_secs(2);
            throttled("503 Service Unavailable", &httpdate::fmt_http_date(at))
        }
        ("far", _) => throttled("429 Too Many Requests", "3600"),
        ("garbage", 0) => throttled("429 Too Many Requests", "soon, maybe"),
        ("unavailable", _) => response(
            "503 Service Unavailable",
            &[("content-type", "text/html")],
            b"<h1>down for maintenance</h1>",
        ),
        _ => healthy(&request),
    };
    let _ = stream.write_all(&answer).await;
}

async fn start(arrivals: Arc<Arrivals>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve(stream, Arc::clone(&arrivals)));
        }
    });
    addr
}

/// A spec for provider `id` at `/<mode>`, with `cases`, and `rate` under
/// `live` when given.
fn spec(id: &str, mode: &str, rate: Option<&str>, cases: &str) -> String {
    let rate = rate
        .map(|rate| format!("\n  rate: {rate}"))
        .unwrap_or_default();
    let var = format!("{}_BASE_URL", mode.to_ascii_uppercase());
    format!(
        r#"provider:
  id: {id}
  name: {id}
  token_endpoint: {{ path: /token, client_auth: basic }}
live:
  base_url: "${{env:{var}}}"{rate}
vars:
  client_id: {CLIENT_ID}
  client_secret: {{ mock: unused-mock-secret, live: "${{secret:FAULT_CLIENT_SECRET}}" }}
cases:
{cases}"#
    )
}

/// Starts a live suite over `specs` (file stem, text) against the server,
/// every mode's base URL set.
async fn suite(
    dir: &tempfile::TempDir,
    addr: std::net::SocketAddr,
    specs: &[(&str, String)],
    target: TargetKind,
) -> Arc<Suite> {
    let folder = dir.path().join("specs");
    std::fs::create_dir_all(&folder).unwrap();
    for (stem, text) in specs {
        std::fs::write(folder.join(format!("{stem}.yaml")), text).unwrap();
    }
    let mut env: Vec<(String, String)> = [
        "once",
        "always",
        "date",
        "far",
        "garbage",
        "unavailable",
        "ok",
        "paced",
    ]
    .iter()
    .map(|mode| {
        (
            format!("{}_BASE_URL", mode.to_ascii_uppercase()),
            format!("http://{addr}/{mode}"),
        )
    })
    .collect();
    env.push(("FAULT_CLIENT_SECRET".into(), CLIENT_SECRET.into()));
    let config = SuiteConfig {
        specs_dir: folder,
        snapshots_dir: dir.path().join("snapshots"),
        target,
        env: Env::from_pairs(env),
        transport: TransportConfig {
            retry: policy(),
            ..TransportConfig::default()
        },
        write_pending_snapshots: false,
    };
    let suite = Arc::new(Suite::start(config).await.unwrap());
    assert!(
        suite.load_errors().is_empty(),
        "generated specs must load: {:?}",
        suite
            .load_errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    suite
}

/// What one run against a mode came to.
struct Outcome {
    /// The one case against `/<mode>/token`.
    report: CaseReport,
    /// Its failure message, or an empty string.
    message: String,
    /// What the suite notes of throttled requests.
    notes: Vec<String>,
    /// When the server received each request to `/<mode>/token`.
    arrivals: Vec<Instant>,
    /// The snapshot text of the same case against `/ok`, a server that
    /// never throttles.
    unthrottled_snapshot: String,
}

fn run_against(mode: &str) -> Outcome {
    let runtime = runtime();
    runtime.block_on(async {
        let arrivals = Arc::new(Arrivals::default());
        let addr = start(Arc::clone(&arrivals)).await;
        let dir = tempfile::tempdir().unwrap();
        let suite = suite(
            &dir,
            addr,
            &[
                ("throttled", spec("throttled", mode, None, FAULTY_CASES)),
                ("steady", spec("steady", "ok", None, FAULTY_CASES)),
            ],
            TargetKind::Live,
        )
        .await;
        let reports = tokio::time::timeout(HANG_BOUND, suite.run_all())
            .await
            .unwrap_or_else(|_| panic!("the run against /{mode} did not end"));
        let (throttled, steady): (Vec<CaseReport>, Vec<CaseReport>) = reports
            .into_iter()
            .partition(|report| report.provider == "throttled");
        let report = throttled.into_iter().next().unwrap();
        let steady = steady.into_iter().next().unwrap();
        assert_eq!(
            steady.run.verdict,
            Verdict::Passed,
            "{:?}",
            steady.failure()
        );
        let message = report.failure().unwrap_or_default();
        println!("{message}\n{}", suite.retry_notes().join("\n"));
        assert!(
            !message.contains(CLIENT_SECRET),
            "the message shows the secret: {message}"
        );
        Outcome {
            message,
            notes: suite.retry_notes(),
            arrivals: arrivals.at(&format!("/{mode}/token")),
            unthrottled_snapshot: snapshot_text(&steady.run),
            report,
        }
    })
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out real Retry-After seconds; runs with `cargo test --all-features`"
)]
fn a_429_with_retry_after_is_waited_out_and_the_case_passes_saying_so() {
    let outcome = run_against("once");
    assert_eq!(
        outcome.report.run.verdict,
        Verdict::Passed,
        "{}",
        outcome.message
    );
    assert_eq!(
        outcome.notes,
        [
            "throttled::token step 1 of 1 (client_credentials): retried 1 time: \
             HTTP 429 with Retry-After: 1, waited 1s"
        ]
    );
    assert_eq!(retry_notes(&outcome.report.run).len(), 1);
    let [first, second] = <[Instant; 2]>::try_from(outcome.arrivals).unwrap();
    let gap = second.duration_since(first);
    assert!(gap >= Duration::from_secs(1), "sent again after {gap:?}");
    // The final answer is what the case judged and what it snapshots: the
    // same as a provider that never throttled.
    assert_eq!(
        snapshot_text(&outcome.report.run),
        outcome.unthrottled_snapshot
    );
    assert!(
        outcome.unthrottled_snapshot.contains("status: 200"),
        "{}",
        outcome.unthrottled_snapshot
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out real Retry-After seconds; runs with `cargo test --all-features`"
)]
fn a_provider_that_keeps_throttling_fails_the_case_within_the_budget() {
    let outcome = run_against("always");
    assert_eq!(outcome.report.run.verdict, Verdict::Failed);
    assert_eq!(outcome.arrivals.len(), 3, "the policy's three attempts");
    let message = &outcome.message;
    assert!(
        message.contains("status: expected 200, got 429"),
        "{message}"
    );
    let note = "step 1 of 1 (client_credentials): retried 2 times: \
                HTTP 429 with Retry-After: 1, waited 1s; \
                HTTP 429 with Retry-After: 1, waited 1s; \
                then gave up on HTTP 429 with Retry-After: 1: \
                3 attempts made, the most the retry policy allows";
    assert!(
        message.contains(&format!("\nthrottled by the provider:\n  {note}\n")),
        "{message}"
    );
    assert_eq!(outcome.notes, [format!("throttled::token {note}")]);
    let retries = &outcome.report.run.exchanges[0].retries;
    assert!(retries.waited() <= policy().max_total_wait);
    assert_eq!(
        retries.gave_up.as_ref().map(|g| g.reason),
        Some(GiveUp::Attempts { max_attempts: 3 })
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out real Retry-After seconds; runs with `cargo test --all-features`"
)]
fn retry_after_as_an_http_date_is_honoured() {
    let outcome = run_against("date");
    assert_eq!(
        outcome.report.run.verdict,
        Verdict::Passed,
        "{}",
        outcome.message
    );
    let retries = &outcome.report.run.exchanges[0].retries;
    let [retry] = retries.retried.as_slice() else {
        panic!("one retry: {retries}");
    };
    assert_eq!(retry.answer.status, 503);
    let RetryAfter::Date { wait, .. } = retry.answer.retry_after else {
        panic!("read as a date: {retries}");
    };
    // The date has whole seconds, two ahead of when the server wrote it.
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    assert_eq!(retry.waited, wait);
    let [first, second] = <[Instant; 2]>::try_from(outcome.arrivals).unwrap();
    assert!(second.duration_since(first) >= wait);
    assert!(
        outcome.notes[0].contains("retried 1 time: HTTP 503 with Retry-After: "),
        "{:?}",
        outcome.notes
    );
}

#[test]
fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let outcome = run_against("far");
    assert_eq!(outcome.report.run.verdict, Verdict::Failed);
    assert_eq!(outcome.arrivals.len(), 1, "nothing was sent again");
    assert!(
        outcome.message.contains(
            "step 1 of 1 (client_credentials): gave up on HTTP 429 with Retry-After: 3600: \
             waiting 3600s is beyond the 5s left of the 5s retry budget"
        ),
        "{}",
        outcome.message
    );
}

#[test]
fn an_unreadable_retry_after_is_waited_out_with_the_backoff() {
    let outcome = run_against("garbage");
    assert_eq!(
        outcome.report.run.verdict,
        Verdict::Passed,
        "{}",
        outcome.message
    );
    assert_eq!(
        outcome.notes,
        [
            "throttled::token step 1 of 1 (client_credentials): retried 1 time: \
             HTTP 429 with an unreadable Retry-After: \"soon, maybe\", waited 100ms (backoff)"
        ]
    );
}

#[test]
fn a_bare_503_is_the_answer() {
    let outcome = run_against("unavailable");
    assert_eq!(outcome.report.run.verdict, Verdict::Failed);
    assert_eq!(outcome.arrivals.len(), 1);
    assert!(
        outcome.message.contains("status: expected 200, got 503"),
        "{}",
        outcome.message
    );
    assert!(
        !outcome.message.contains("throttled by the provider"),
        "{}",
        outcome.message
    );
    assert!(outcome.notes.is_empty());
}

/// Cases of one provider, run at once, keep to its declared rate together:
/// the server sees their requests at least an interval apart.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: paces six requests at a real rate of two a second; runs with `cargo test --all-features`"
)]
fn the_declared_rate_holds_across_concurrently_running_cases() {
    const CASES: usize = 6;
    // 2 a second: one every 500 ms.
    let interval = Duration::from_millis(500);
    let runtime = runtime();
    let (arrivals, reports) = runtime.block_on(async {
        let arrivals = Arc::new(Arrivals::default());
        let addr = start(Arc::clone(&arrivals)).await;
        let dir = tempfile::tempdir().unwrap();
        let cases: String = (0..CASES)
            .map(|i| FAULTY_CASES.replacen("name: token", &format!("name: token_{i}"), 1))
            .collect();
        let rate = "{ requests: 2, per_seconds: 1 }";
        let suite = suite(
            &dir,
            addr,
            &[("paced", spec("paced", "paced", Some(rate), &cases))],
            TargetKind::Live,
        )
        .await;
        assert_eq!(suite.rate(0).map(|r| r.interval()), Some(interval));
        // Every case at once, each on its own task.
        let running: Vec<_> = suite
            .cases()
            .into_iter()
            .map(|id| {
                let suite = Arc::clone(&suite);
                tokio::spawn(async move { suite.run(id).await })
            })
            .collect();
        let mut reports = Vec::new();
        for case in running {
            reports.push(
                tokio::time::timeout(HANG_BOUND, case)
                    .await
                    .expect("the case ends")
                    .unwrap(),
            );
        }
        (arrivals.at("/paced/token"), reports)
    });
    for report in &reports {
        assert_eq!(
            report.run.verdict,
            Verdict::Passed,
            "{:?}",
            report.failure()
        );
    }
    let mut arrivals = arrivals;
    assert_eq!(arrivals.len(), CASES);
    arrivals.sort();
    // A request can arrive later than its turn, never earlier; the slack
    // covers one arriving late on a busy machine (seen: over 125 ms while
    // other builds ran), which shortens the gap after it. Unpaced, the
    // requests arrive within a few milliseconds of each other.
    let slack = interval * 4 / 5;
    let gaps: Vec<Duration> = arrivals
        .windows(2)
        .map(|pair| pair[1].duration_since(pair[0]))
        .collect();
    assert!(
        gaps.iter().all(|gap| *gap >= interval - slack),
        "requests arrived {gaps:?} apart"
    );
    let span = arrivals[CASES - 1].duration_since(arrivals[0]);
    let least = interval * u32::try_from(CASES - 1).unwrap() - slack;
    assert!(span >= least, "{CASES} requests within {span:?}");
}

/// The mock never throttles: it keeps no rate and retries nothing, so a
/// spec's `live.rate` does not slow a mock run.
#[test]
fn the_mock_target_ignores_the_rate() {
    let runtime = runtime();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let rate = "{ requests: 1, per_seconds: 86400 }";
        let addr = "127.0.0.1:9".parse().unwrap();
        let live = suite(
            &dir,
            addr,
            &[("paced", spec("paced", "paced", Some(rate), FAULTY_CASES))],
            TargetKind::Live,
        )
        .await;
        assert_eq!(
            live.rate(0).map(|r| r.interval()),
            Some(Duration::from_secs(86_400))
        );
        let mock = suite(&dir, addr, &[], TargetKind::Mock).await;
        assert_eq!(mock.rate(0), None);
    });
}

/// The `specs` test binary, live, against `/once` at `addr`, with the
/// retry policy's attempts from the environment.
fn run_specs(specs: &Path, snapshots: &Path, addr: SocketAddr, attempts: &str) -> Output {
    Command::new(specs_binary())
        .current_dir(specs)
        .env("GRANTSPEC_SPECS", specs)
        .env("GRANTSPEC_SNAPSHOTS", snapshots)
        .env("GRANTSPEC_TARGET", "live")
        .env("GRANTSPEC_RETRY_ATTEMPTS", attempts)
        .env("ONCE_BASE_URL", format!("http://{addr}/once"))
        .env("FAULT_CLIENT_SECRET", CLIENT_SECRET)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("the specs binary runs")
}

/// `cargo test` against a live provider that throttles: the case passes,
/// and after libtest's summary the run says which request was throttled and
/// how it was retried; with one attempt allowed (from the environment) it
/// fails, saying why.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary, and waits out a real Retry-After; runs with `cargo test --all-features`"
)]
fn the_test_harness_says_which_requests_were_throttled() {
    let specs = temp_dir("specs");
    std::fs::write(
        specs.join("throttled.yaml"),
        spec("throttled", "once", None, FAULTY_CASES),
    )
    .unwrap();
    let snapshots = temp_dir("snapshots");
    // A server per run: `/once` throttles its first request only.
    let runtime = runtime();
    let addr = runtime.block_on(start(Arc::default()));
    let output = run_specs(&specs, &snapshots, addr, "2");
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    assert_eq!(
        outcomes(&output)
            .get("throttled::token")
            .map(String::as_str),
        Some("ok"),
        "{all}"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "throttled by the provider:\n  throttled::token step 1 of 1 (client_credentials): \
             retried 1 time: HTTP 429 with Retry-After: 1, waited 1s\n"
        ),
        "{all}"
    );

    let arrivals = Arc::new(Arrivals::default());
    let addr = runtime.block_on(start(Arc::clone(&arrivals)));
    let output = run_specs(&specs, &snapshots, addr, "1");
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(
        all.contains(
            "step 1 of 1 (client_credentials): gave up on HTTP 429 with Retry-After: 1: \
             the retry policy allows 1 attempt, so it is never retried"
        ),
        "{all}"
    );
    assert_eq!(arrivals.at("/once/token").len(), 1);
}
