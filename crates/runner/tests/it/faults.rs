#![allow(clippy::unwrap_used)]
//! Live mode against a token endpoint that misbehaves.
//!
//! A small HTTP server on 127.0.0.1 answers `/<fault>/token` badly: it hangs,
//! resets mid-response, sends a 502 HTML page, a 200 that is not JSON, a
//! 10 MB body, a redirect, or drips one byte every 200 ms; `/ok/token` is a
//! correct endpoint. Each test writes two specs into a temp dir (one case
//! against the faulty path, two healthy cases against `/ok`), runs them with
//! `Suite::start` and `run_all` in live mode with a short timeout, and checks
//! that the faulty case fails with a message that says what happened, that
//! the healthy cases pass regardless, and that the run cannot hang.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grantspec_runner::{CaseReport, Env, Suite, SuiteConfig, Verdict};
use grantspec_spec::template::TargetKind;
use grantspec_token::{ExposeSecret as _, TransportConfig, basic_authorization};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The transport's whole-exchange timeout in these tests.
const TIMEOUT: Duration = Duration::from_millis(1500);
/// The transport's connect timeout in these tests.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// The transport's response body cap in these tests.
const MAX_BODY: usize = 1024 * 1024;
/// What the faulty server sends as a "huge" body.
const HUGE: usize = 10 * 1024 * 1024;
/// Time between two bytes of the slow drip.
const DRIP_EVERY: Duration = Duration::from_millis(200);

pub(crate) const CLIENT_ID: &str = "fault-client";
/// A throwaway secret that must never show up in a message, or reach the
/// redirect target.
pub(crate) const CLIENT_SECRET: &str = "fault-secret-2c9d71";

/// A hang guard, not a performance claim: a run whose every exchange is
/// bounded by [`TIMEOUT`] ends well within this.
/// How long the early-hints flood goes on if the client never closes the
/// connection: a hang guard. How soon the client closes depends on how fast
/// it parses, which on a loaded debug build takes seconds.
const FLOOD_LIMIT: Duration = Duration::from_secs(60);

/// Interim responses the early-hints flood sends per millisecond.
const HINTS_PER_BURST: usize = 16;

fn hang_bound() -> Duration {
    TIMEOUT * 4 + Duration::from_secs(5)
}

/// What the redirect target saw.
#[derive(Default)]
struct Recorder {
    connections: AtomicUsize,
    received: Mutex<Vec<u8>>,
}

/// Shared state of the faulty server.
struct Faulty {
    redirect_target: SocketAddr,
    dripped: AtomicUsize,
    /// Interim responses sent by the early-hints flood.
    hints: AtomicUsize,
    /// Whether the early-hints flood ended because the client closed the
    /// connection.
    client_hung_up: AtomicBool,
    /// Requests to `/slow` being answered now, and the most at once.
    slow_now: AtomicUsize,
    slow_most: AtomicUsize,
}

impl Faulty {
    /// A server whose redirects point at `redirect_target`.
    fn new(redirect_target: SocketAddr) -> Arc<Self> {
        Arc::new(Self {
            redirect_target,
            dripped: AtomicUsize::new(0),
            hints: AtomicUsize::new(0),
            client_hung_up: AtomicBool::new(false),
            slow_now: AtomicUsize::new(0),
            slow_most: AtomicUsize::new(0),
        })
    }
}

/// The runtime each test runs its suite on.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) struct Request {
    pub(crate) path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request: the head, then a `content-length` body.
pub(crate) async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buffer.len() > 64 * 1024 {
            return None;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Some(Request {
        path,
        headers,
        body,
    })
}

pub(crate) fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

const TOKEN_BODY: &str = r#"{"access_token":"tok-4b1e0c9a7d2f3e5a8c6b91f0d3a2e7c5b8d4f6a1","token_type":"Bearer","expires_in":3600}"#;
const NOT_JSON_PAGE: &str =
    "<!doctype html><html><body><h1>Welcome!</h1><p>Sign in to continue.</p></body></html>";
const BAD_GATEWAY_HTML: &str = "<html><head><title>502 Bad Gateway</title></head>\
    <body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";

/// A correct token endpoint: the client credentials grant for one client.
pub(crate) fn healthy(request: &Request) -> Vec<u8> {
    let expected = basic_authorization(CLIENT_ID, CLIENT_SECRET);
    let authenticated = request.header("authorization") == Some(expected.expose_secret());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect();
    let client_credentials = form
        .iter()
        .any(|(n, v)| n == "grant_type" && v == "client_credentials");
    let no_store = [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
    ];
    match (authenticated, client_credentials) {
        (true, true) => response("200 OK", &no_store, TOKEN_BODY.as_bytes()),
        (true, false) => response(
            "400 Bad Request",
            &no_store,
            br#"{"error":"unsupported_grant_type"}"#,
        ),
        (false, _) => {
            let mut headers = no_store.to_vec();
            headers.push(("www-authenticate", r#"Basic realm="faults""#));
            response(
                "401 Unauthorized",
                &headers,
                br#"{"error":"invalid_client"}"#,
            )
        }
    }
}

async fn serve_faulty(mut stream: TcpStream, state: Arc<Faulty>) {
    let Some(request) = read_request(&mut stream).await else {
        return;
    };
    let fault = request
        .path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    match fault.as_str() {
        "ok" => {
            let _ = stream.write_all(&healthy(&request)).await;
        }
        "slow" => {
            // A healthy answer after a while, counting how many wait at once.
            let now = state.slow_now.fetch_add(1, Ordering::SeqCst) + 1;
            state.slow_most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(40)).await;
            state.slow_now.fetch_sub(1, Ordering::SeqCst);
            let _ = stream.write_all(&healthy(&request)).await;
        }
        "hang" => {
            // Accepts, reads the request, never answers; keeps the socket open.
            std::future::pending::<()>().await;
        }
        "reset" => {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: applic")
                .await;
            let _ = stream.flush().await;
            // SO_LINGER 0: closing sends a RST instead of a FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        "bad-gateway" => {
            let page = response(
                "502 Bad Gateway",
                &[("content-type", "text/html")],
                BAD_GATEWAY_HTML.as_bytes(),
            );
            let _ = stream.write_all(&page).await;
        }
        "not-json" => {
            let page = response(
                "200 OK",
                &[("content-type", "text/html")],
                NOT_JSON_PAGE.as_bytes(),
            );
            let _ = stream.write_all(&page).await;
        }
        "huge" | "huge-streamed" => {
            let length = HUGE.to_string();
            let head = if fault == "huge" {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
                )
            } else {
                // No length: the body runs until the connection closes.
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < HUGE {
                if stream.write_all(&block).await.is_err() {
                    return;
                }
                sent += block.len();
            }
        }
        "redirect" => {
            let location = format!("http://{}/token", state.redirect_target);
            let page = response(
                "302 Found",
                &[("location", &location), ("content-type", "text/html")],
                b"<a href=\"elsewhere\">moved</a>",
            );
            let _ = stream.write_all(&page).await;
        }
        "drip" => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                TOKEN_BODY.len()
            );
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for byte in TOKEN_BODY.bytes() {
                if stream.write_all(&[byte]).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                state.dripped.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(DRIP_EVERY).await;
            }
        }
        "early-hints" => {
            // Interim responses without end, until the client goes away
            // (or, should it never, for `FLOOD_LIMIT`): a burst of them every
            // millisecond, which never lets a response start, without
            // taking both cores of a test machine from the other tests.
            let hint = b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n";
            let until = Instant::now() + FLOOD_LIMIT;
            while Instant::now() < until {
                for _ in 0..HINTS_PER_BURST {
                    if stream.write_all(hint).await.is_err() {
                        state.client_hung_up.store(true, Ordering::SeqCst);
                        return;
                    }
                    state.hints.fetch_add(1, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        "control" => {
            // Terminal escapes, a carriage return, and a forged libtest line.
            // (A JSON string is re-escaped when shown; text is not.)
            let text = "\u{1b}]0;pwned\u{7}\u{1b}[2J\r\ntest result: ok. 99 passed; 0 failed\r\n";
            let page = response(
                "401 Unauthorized",
                &[("content-type", "text/plain")],
                text.as_bytes(),
            );
            let _ = stream.write_all(&page).await;
        }
        "gzip" => {
            // A compressed body the client never asked for: binary noise.
            let noise: Vec<u8> = (0..256 * 1024_u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect();
            let mut body = vec![0x1f, 0x8b, 0x08, 0x00];
            body.extend_from_slice(&noise);
            let page = response(
                "200 OK",
                &[
                    ("content-type", "application/octet-stream"),
                    ("content-encoding", "gzip"),
                ],
                &body,
            );
            let _ = stream.write_all(&page).await;
        }
        _ => {
            let _ = stream
                .write_all(&response("404 Not Found", &[], b"no such fault"))
                .await;
        }
    }
}

/// The redirect target: records every connection and every byte, and
/// answers with a valid token, so a client that followed the redirect would
/// see its case pass.
async fn start_recorder() -> (SocketAddr, Arc<Recorder>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let recorder = Arc::new(Recorder::default());
    let seen = Arc::clone(&recorder);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.connections.fetch_add(1, Ordering::SeqCst);
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let mut chunk = [0u8; 4096];
                let read = stream.read(&mut chunk).await.unwrap_or(0);
                seen.received
                    .lock()
                    .unwrap()
                    .extend_from_slice(&chunk[..read]);
                let ok = response(
                    "200 OK",
                    &[("content-type", "application/json")],
                    TOKEN_BODY.as_bytes(),
                );
                let _ = stream.write_all(&ok).await;
            });
        }
    });
    (addr, recorder)
}

async fn start_faulty(state: Arc<Faulty>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(serve_faulty(stream, Arc::clone(&state)));
        }
    });
    addr
}

/// A correct provider on loopback, for other tests' live runs: its token
/// endpoint is `http://ADDR/ok/token` ([`healthy`]: the client credentials
/// grant for [`CLIENT_ID`] with [`CLIENT_SECRET`], Basic only, a Bearer token
/// of an hour with both cache headers). Runs on the current runtime.
pub(crate) async fn start_loopback_provider() -> SocketAddr {
    let (redirect_target, _recorder) = start_recorder().await;
    start_faulty(Faulty::new(redirect_target)).await
}

fn spec(id: &str, base_url_var: &str, cases: &str) -> String {
    format!(
        r#"provider:
  id: {id}
  name: {id}
  token_endpoint: {{ path: /token, client_auth: basic }}
live:
  base_url: "${{env:{base_url_var}}}"
vars:
  client_id: {CLIENT_ID}
  client_secret: {{ mock: unused-mock-secret, live: "${{secret:FAULT_CLIENT_SECRET}}" }}
cases:
{cases}"#
    )
}

pub(crate) const FAULTY_CASES: &str = r#"  - name: token
    snapshot: false
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect:
      status: 200
      body: { access_token: { type: string }, token_type: Bearer }
"#;

const HEALTHY_CASES: &str = r#"  - name: client_credentials
    snapshot: false
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: "${client_secret}" }
    expect:
      status: 200
      headers: { cache-control: no-store }
      body: { access_token: { type: string, min_len: 16 }, token_type: Bearer, expires_in: 3600 }
  - name: wrong_secret_rejected
    snapshot: false
    grant: client_credentials
    with: { client_id: "${client_id}", client_secret: not-the-secret }
    expect:
      status: 401
      headers: { www-authenticate: { regex: "^Basic " } }
      body: { error: invalid_client }
"#;

/// What one run against a fault produced.
struct Outcome {
    /// The case against `/<fault>/token`.
    faulty: CaseReport,
    /// Its failure message, or an empty string if it did not fail.
    message: String,
    /// The cases against `/ok/token`.
    healthy: Vec<CaseReport>,
    /// How long `run_all` took.
    elapsed: Duration,
    /// Connections the redirect target accepted during the run.
    redirect_contacts: usize,
    /// Bytes the redirect target received during the run.
    redirect_received: Vec<u8>,
    /// Whether the redirect target recorded a probe sent after the run, so
    /// that "nothing recorded" means nothing was sent.
    recorder_works: bool,
    /// Body bytes the slow drip had sent.
    dripped: usize,
    /// Interim responses the early-hints flood had sent when the run ended.
    hints: usize,
    /// How long after the run the client closed the flooded connection, if
    /// it did within `FLOOD_LIMIT`.
    hung_up_after: Option<Duration>,
}

/// Connects to the recorder directly and checks that it saw the probe.
async fn probe(recorder: &Recorder, addr: SocketAddr) -> bool {
    let before = recorder.connections.load(Ordering::SeqCst);
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /probe HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    recorder.connections.load(Ordering::SeqCst) == before + 1
        && String::from_utf8_lossy(&recorder.received.lock().unwrap()).contains("GET /probe")
}

/// Waits up to `FLOOD_LIMIT` for the client to close the flooded connection.
async fn client_hangs_up(state: &Faulty) -> bool {
    let until = Instant::now() + FLOOD_LIMIT;
    while Instant::now() < until {
        if state.client_hung_up.load(Ordering::SeqCst) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn run_against(fault: &str) -> Outcome {
    let runtime = runtime();
    let outcome = runtime.block_on(async {
        let (redirect_target, recorder) = start_recorder().await;
        let state = Faulty::new(redirect_target);
        let addr = start_faulty(Arc::clone(&state)).await;

        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("specs");
        std::fs::create_dir(&specs).unwrap();
        std::fs::write(
            specs.join("faulty.yaml"),
            spec("faulty", "FAULT_BASE_URL", FAULTY_CASES),
        )
        .unwrap();
        std::fs::write(
            specs.join("healthy.yaml"),
            spec("healthy", "HEALTHY_BASE_URL", HEALTHY_CASES),
        )
        .unwrap();
        let config = SuiteConfig {
            specs_dir: specs,
            snapshots_dir: dir.path().join("snapshots"),
            target: TargetKind::Live,
            env: Env::from_pairs([
                ("FAULT_BASE_URL", format!("http://{addr}/{fault}")),
                ("HEALTHY_BASE_URL", format!("http://{addr}/ok")),
                ("FAULT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ]),
            transport: TransportConfig {
                timeout: TIMEOUT,
                connect_timeout: CONNECT_TIMEOUT,
                max_body: MAX_BODY,
                ..TransportConfig::default()
            },
            write_pending_snapshots: true,
        };

        let started = Instant::now();
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
        let reports = tokio::time::timeout(hang_bound(), suite.run_all())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the run against /{fault} did not finish within {:?}",
                    hang_bound()
                )
            });
        let elapsed = started.elapsed();
        assert_eq!(reports.len(), 3, "one faulty and two healthy cases");
        let (faulty, healthy): (Vec<CaseReport>, Vec<CaseReport>) = reports
            .into_iter()
            .partition(|report| report.provider == "faulty");
        let faulty = faulty.into_iter().next().unwrap();
        let message = faulty.failure().unwrap_or_default();
        let redirect_contacts = recorder.connections.load(Ordering::SeqCst);
        let redirect_received = recorder.received.lock().unwrap().clone();
        let recorder_works = probe(&recorder, redirect_target).await;
        let hung_up_after = if fault == "early-hints" {
            let waiting = Instant::now();
            client_hangs_up(&state).await.then(|| waiting.elapsed())
        } else {
            None
        };
        Outcome {
            faulty,
            message,
            healthy,
            elapsed,
            redirect_contacts,
            redirect_received,
            recorder_works,
            dripped: state.dripped.load(Ordering::SeqCst),
            hints: state.hints.load(Ordering::SeqCst),
            hung_up_after,
        }
    });
    println!("{}", outcome.message);
    // Tasks still holding sockets (the hang, the drip) end with the runtime.
    runtime.shutdown_timeout(Duration::from_secs(1));

    assert_eq!(
        outcome.faulty.run.verdict,
        Verdict::Failed,
        "the case against /{fault} must fail; message: {}",
        outcome.message
    );
    assert!(
        outcome.message.starts_with("case faulty::token failed"),
        "{}",
        outcome.message
    );
    for report in &outcome.healthy {
        assert_eq!(
            report.run.verdict,
            Verdict::Passed,
            "healthy case {} must pass next to /{fault}: {}",
            report.name,
            report.failure().unwrap_or_default()
        );
    }
    assert!(
        outcome.elapsed < hang_bound(),
        "hang guard: the run took {:?}",
        outcome.elapsed
    );
    let basic = basic_authorization(CLIENT_ID, CLIENT_SECRET);
    let basic_value = basic.expose_secret();
    let basic_token = basic_value.trim_start_matches("Basic ");
    assert!(
        !outcome.message.contains(CLIENT_SECRET) && !outcome.message.contains(basic_token),
        "the failure message shows the client secret: {}",
        outcome.message
    );
    outcome
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out a real 1.5 s timeout; runs with `cargo test --all-features`"
)]
fn an_endless_stream_of_early_hints_times_out_within_the_limit() {
    let outcome = run_against("early-hints");
    assert!(outcome.hints > 0, "the flood ran");
    // Dropping the timed-out exchange cancels the request, but hyper's
    // connection task only notices once it yields, which under a flood is
    // when tokio's cooperative budget (128 reads) runs out. Then it closes
    // the connection, whoever keeps sending.
    let hung_up_after = outcome.hung_up_after.unwrap_or_else(|| {
        panic!(
            "the client was still reading the flood {FLOOD_LIMIT:?} after the case ended ({} hints)",
            outcome.hints
        )
    });
    println!("the client closed the flooded connection {hung_up_after:?} after the run");
    assert!(
        outcome
            .message
            .contains(&format!("timed out after {:?}", TIMEOUT)),
        "{}",
        outcome.message
    );
    // A hang guard, not a performance claim: the deadline covers interim
    // responses too.
    assert!(
        outcome.elapsed < hang_bound(),
        "the run took {:?} with a {TIMEOUT:?} timeout",
        outcome.elapsed
    );
}

#[test]
fn control_characters_from_the_server_are_escaped() {
    let outcome = run_against("control");
    let message = &outcome.message;
    assert!(
        !message.contains('\u{1b}'),
        "ESC reached the message: {message:?}"
    );
    assert!(
        !message.contains('\u{7}') && !message.contains('\r'),
        "{message:?}"
    );
    assert!(
        message.contains("\\u{1b}]0;pwned"),
        "shown escaped: {message}"
    );
    assert!(
        !message.lines().any(|line| line.starts_with("test result:")),
        "a forged libtest line: {message}"
    );
}

#[test]
fn a_compressed_body_is_capped_and_named() {
    let outcome = run_against("gzip");
    let message = &outcome.message;
    assert!(message.contains("Content-Encoding: gzip"), "{message}");
    assert!(
        message.len() < 16 * 1024,
        "{} bytes of message",
        message.len()
    );
    assert!(message.contains("bytes shown"), "{message}");
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out a real 1.5 s timeout; runs with `cargo test --all-features`"
)]
fn hanging_endpoint_times_out_naming_the_limit() {
    let outcome = run_against("hang");
    assert!(
        outcome.message.contains("timed out after 1.5s"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("/hang/token"),
        "names the URL: {}",
        outcome.message
    );
}

#[test]
fn reset_mid_response_is_a_connection_error() {
    let outcome = run_against("reset");
    let error = outcome
        .message
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in: {}", outcome.message));
    assert!(error.contains("/reset/token"), "{error}");
    assert!(
        !error.contains("timed out"),
        "a reset is not a timeout: {error}"
    );
    assert!(
        outcome.faulty.run.exchanges[0].response.is_none(),
        "no response was read from a reset connection"
    );
}

#[test]
fn bad_gateway_html_shows_status_and_page() {
    let outcome = run_against("bad-gateway");
    assert!(
        outcome.message.contains("status: expected 200, got 502"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("<h1>502 Bad Gateway</h1>"),
        "shows the HTML: {}",
        outcome.message
    );
}

#[test]
fn non_json_success_says_not_json() {
    let outcome = run_against("not-json");
    assert!(
        outcome.message.contains(&format!(
            "body: expected a JSON body, got {} bytes that are not JSON",
            NOT_JSON_PAGE.len()
        )),
        "{}",
        outcome.message
    );
    assert!(
        outcome.message.contains("<h1>Welcome!</h1>"),
        "shows the page: {}",
        outcome.message
    );
}

#[test]
fn huge_body_with_length_is_refused_naming_the_cap() {
    let outcome = run_against("huge");
    assert!(
        outcome
            .message
            .contains(&format!("response body exceeds the {MAX_BODY}-byte limit")),
        "{}",
        outcome.message
    );
}

#[test]
fn huge_streamed_body_is_cut_off_naming_the_cap() {
    let outcome = run_against("huge-streamed");
    assert!(
        outcome
            .message
            .contains(&format!("response body exceeds the {MAX_BODY}-byte limit")),
        "{}",
        outcome.message
    );
}

#[test]
fn redirect_is_reported_and_never_followed() {
    let outcome = run_against("redirect");
    assert!(
        outcome.message.contains("status: expected 200, got 302"),
        "{}",
        outcome.message
    );
    assert_eq!(
        outcome.redirect_contacts, 0,
        "the redirect target was contacted"
    );
    assert!(
        outcome.redirect_received.is_empty(),
        "the redirect target received: {}",
        String::from_utf8_lossy(&outcome.redirect_received)
    );
    assert!(
        outcome.recorder_works,
        "the redirect target records connections"
    );
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out a real 1.5 s timeout; runs with `cargo test --all-features`"
)]
fn slow_drip_times_out_naming_the_limit() {
    let outcome = run_against("drip");
    assert!(
        outcome.message.contains("timed out after 1.5s"),
        "{}",
        outcome.message
    );
    assert!(
        outcome.dripped >= 1 && outcome.dripped < TOKEN_BODY.len(),
        "the body had started but not finished: {} of {} bytes",
        outcome.dripped,
        TOKEN_BODY.len()
    );
}

/// `run_all` (what `cargo xtask report` runs) sends a live provider at most
/// one request per CPU at a time, however many cases there are.
#[test]
fn run_all_sends_a_live_provider_one_request_per_cpu_at_a_time() {
    let runtime = runtime();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    let (most, reports) = runtime.block_on(async {
        let (redirect_target, _recorder) = start_recorder().await;
        let state = Faulty::new(redirect_target);
        let addr = start_faulty(Arc::clone(&state)).await;
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("specs");
        std::fs::create_dir(&specs).unwrap();
        let cases: String = (0..cpus * 3)
            .map(|i| FAULTY_CASES.replacen("name: token", &format!("name: token_{i}"), 1))
            .collect();
        std::fs::write(
            specs.join("slow.yaml"),
            spec("slow", "SLOW_BASE_URL", &cases),
        )
        .unwrap();
        let config = SuiteConfig {
            specs_dir: specs,
            snapshots_dir: dir.path().join("snapshots"),
            target: TargetKind::Live,
            env: Env::from_pairs([
                ("SLOW_BASE_URL", format!("http://{addr}/slow")),
                ("FAULT_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ]),
            transport: TransportConfig::default(),
            write_pending_snapshots: true,
        };
        let suite = Arc::new(Suite::start(config).await.unwrap());
        let reports = tokio::time::timeout(hang_bound(), suite.run_all())
            .await
            .expect("the run ends");
        (state.slow_most.load(Ordering::SeqCst), reports)
    });
    assert_eq!(reports.len(), cpus * 3);
    for report in &reports {
        assert_eq!(
            report.run.verdict,
            Verdict::Passed,
            "{:?}",
            report.failure()
        );
    }
    assert!(most <= cpus, "{most} requests at once on {cpus} CPUs");
    assert!(most >= 1);
}
