//! The floors the runner is measured against: the same request, sent and
//! checked with nothing else around it.
//!
//! Both floors send what the runner sends for a generated case (a
//! client_credentials request with Basic authentication, a form body and
//! `Accept: application/json`) to the same mock, and check the response as
//! the case does: status 200, a JSON body, `token_type` `Bearer`, an
//! `access_token` string of at least 16 characters, a positive `expires_in`.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_runner::harness::RunAhead;
use grantspec_spec::Spec;
use grantspec_token::ExposeSecret as _;
use grantspec_token::{ManualClock, basic_authorization};
use libtest_mimic::{Arguments, Failed, Trial};

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
        let authorization = basic_authorization(CLIENT_ID, CLIENT_SECRET)
            .expose_secret()
            .to_owned();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
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

/// The generated spec in `specs`, its mock, and a bare request to it.
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

/// `xtask bench-trials SPECS_DIR [LIBTEST ARGUMENTS…]`: the floor of the
/// specs test binary. Like it, this process loads the generated spec,
/// starts the mock and turns every case into a libtest-mimic trial whose
/// work runs ahead on the runtime ([`RunAhead`], `--test-threads` at once)
/// while the trials wait for it in order; here the work is the bare request.
/// What this costs beyond the bare loop is the price of one trial per
/// request, which the harness pays whatever it runs.
pub fn trials(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !args.is_empty(),
        "usage: xtask bench-trials SPECS_DIR [LIBTEST ARGUMENTS…]"
    );
    let specs = args.remove(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (spec, server, request) = runtime.block_on(start(Path::new(&specs)))?;
    let mut arguments =
        Arguments::from_iter(std::iter::once("bench-trials".to_owned()).chain(args));
    let cases = spec.cases.len();
    let ahead = RunAhead::new(runtime.handle(), cases);
    let trials: Vec<Trial> = spec
        .cases
        .iter()
        .enumerate()
        .map(|(index, case)| {
            let (request, handle, ahead) = (
                request.clone(),
                runtime.handle().clone(),
                Arc::clone(&ahead),
            );
            Trial::test(format!("bench::{}", case.name), move || {
                ahead
                    .take(index, || handle.block_on(request.send()))
                    .map_err(|e| Failed::from(e.to_string()))
            })
        })
        .collect();
    let in_flight = arguments.test_threads.unwrap_or(IN_FLIGHT);
    ahead.start((0..cases).collect(), in_flight, move |_| {
        let request = request.clone();
        async move { request.send().await }
    });
    arguments.test_threads = Some(1);
    let conclusion = libtest_mimic::run(&arguments, trials);
    drop(server);
    Ok(conclusion.exit_code())
}
