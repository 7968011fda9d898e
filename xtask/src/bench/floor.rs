//! The floor the runner is measured against: the same request, sent and
//! checked with nothing else around it, either as a process of its own
//! (`xtask bench-bare`, against a mock another process serves) or in the
//! engine's process against an embedded mock (`xtask bench-engine`).
//!
//! It sends what the runner sends for a generated case (a client_credentials
//! request with Basic authentication, a form body and `Accept:
//! application/json`) and checks the response as the case does: status
//! 200, a JSON body, `token_type` `Bearer`, an `access_token` string of at
//! least 16 characters, a positive `expires_in`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_spec::Spec;
use grantspec_token::ExposeSecret as _;
use grantspec_token::{ManualClock, basic_authorization};

use super::measure::{CLIENT_ID, CLIENT_SECRET, IN_FLIGHT, Stopwatch, Timed};

/// One bare request: what a generated case does, and nothing more.
#[derive(Clone)]
struct BareRequest {
    client: reqwest::Client,
    url: String,
    authorization: String,
}

impl BareRequest {
    /// A client for the `bench` provider of `server`.
    fn new(server: &MockServer) -> anyhow::Result<Self> {
        let url = server
            .token_url("bench")
            .ok_or_else(|| anyhow::anyhow!("no bench provider"))?
            .to_string();
        Self::to(url)
    }

    /// A client for the token endpoint at `url`.
    fn to(url: String) -> anyhow::Result<Self> {
        let authorization = basic_authorization(CLIENT_ID, CLIENT_SECRET)
            .expose_secret()
            .to_owned();
        // Configured as the token crate's transport configures its client.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .no_proxy()
            .build()?;
        Ok(Self {
            client,
            url,
            authorization,
        })
    }

    /// Sends the request and checks the answer as the generated case does.
    async fn send(&self) -> anyhow::Result<()> {
        let response = self
            .client
            .post(&self.url)
            .header("authorization", &self.authorization)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("grant_type=client_credentials")
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "status {}", response.status());
        let body: serde_json::Value = serde_json::from_slice(&response.bytes().await?)?;
        anyhow::ensure!(body["token_type"] == "Bearer", "token_type {body}");
        anyhow::ensure!(
            body["access_token"]
                .as_str()
                .is_some_and(|token| token.chars().count() >= 16),
            "access_token {body}"
        );
        anyhow::ensure!(
            body["expires_in"].as_f64().is_some_and(|s| s >= 1.0),
            "expires_in {body}"
        );
        Ok(())
    }
}

/// What the mock serves of a generated spec, which always seeds it.
pub(crate) fn seeded(spec: &Spec) -> anyhow::Result<grantspec_spec::MockProvider<'_>> {
    spec.mock_provider()
        .ok_or_else(|| anyhow::anyhow!("the generated spec has no `mock` section"))
}

/// The generated spec in `specs`, its embedded mock, and a bare request to it.
async fn start(specs: &Path) -> anyhow::Result<(Spec, MockServer, BareRequest)> {
    let spec = grantspec_spec::load_file(&specs.join("bench.yaml"))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .spec;
    let server = MockServer::start([seeded(&spec)?], Arc::new(ManualClock::default()), 0).await?;
    let request = BareRequest::new(&server)?;
    Ok((spec, server, request))
}

/// The floor of the engine: `cases` bare requests with one reqwest client,
/// `IN_FLIGHT` at a time, in this process.
pub async fn bare_loop(specs: &Path, cases: usize) -> anyhow::Result<Timed> {
    let (_spec, _server, request) = start(specs).await?;
    send_all(&request, cases).await
}

/// Sends `cases` bare requests, `IN_FLIGHT` at a time.
async fn send_all(request: &BareRequest, cases: usize) -> anyhow::Result<Timed> {
    let started = Stopwatch::start();
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..IN_FLIGHT {
        let request = request.clone();
        let count = (worker..cases).step_by(IN_FLIGHT).count();
        tasks.spawn(async move {
            for _ in 0..count {
                request.send().await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    Ok(started.stop())
}

/// `xtask bench-bare TOKEN_URL CASES`: the floor of the runner as a whole
/// process. It sends `CASES` bare requests to a mock another process
/// serves, `IN_FLIGHT` at a time with one reqwest client, and prints
/// `loop_ms=T`, the loop's own time; the caller times the whole process.
pub fn bare_process(args: Vec<String>) -> anyhow::Result<ExitCode> {
    let [url, cases] = args.as_slice() else {
        anyhow::bail!("usage: xtask bench-bare TOKEN_URL CASES");
    };
    anyhow::ensure!(
        url.starts_with("http://127.0.0.1:"),
        "the bare loop only ever sends to loopback"
    );
    let cases: usize = cases.parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let request = BareRequest::to(url.clone())?;
    let timed = runtime.block_on(send_all(&request, cases))?;
    println!("loop_ms={:.1}", timed.wall.as_secs_f64() * 1000.0);
    Ok(ExitCode::SUCCESS)
}
