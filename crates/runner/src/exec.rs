//! Running one case: resolve, build, send, check, capture.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, SystemTime};

use grantspec_mock::MAX_CLOCK_OFFSET;

use grantspec_conformance::{self as rfc, ExchangeFacts, ExchangeKind, Finding};
use grantspec_spec::matcher::lookup;
use grantspec_spec::template::{self, Part, ResolvedVars, Resolver, TargetKind, Unresolved};
use grantspec_spec::{
    AssertionSpec, Case, DEFAULT_AUTHORIZE_PATH, Expect, MAX_AUTHORIZE_REDIRECTS, Matcher,
    Mismatch, ParamSpec, RequestOverride, ResourceEndpoint, Spec, Step, StepKind,
};
use grantspec_token::{
    AuthorizationRequest, Body, CLOCK_OFFSET_HEADER, ClientAssertion, ClientAuth,
    ClientCredentials, CodeVerifier, ExposeSecret, HttpRequest, HttpResponse, JsonField,
    ParamValue, ProviderProfile, Retries, SecretString, Sent, Text, Transport,
    build_device_authorization, build_raw_at, endpoint_url, present_token, random_state,
};
use serde_json::Value;
use url::Url;

use crate::config::Env;
use crate::metadata::Metadata;

mod jwt;

/// One request of a case and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `step 2 of 3 (refresh_token)`.
    pub label: StepLabel,
    /// The request as sent (secrets stay marked).
    pub request: HttpRequest,
    /// The endpoint path relative to the provider's base URL, the same for
    /// every target.
    pub endpoint: String,
    /// The response, unless the exchange failed: the final one, when the
    /// provider throttled earlier attempts.
    pub response: Option<HttpResponse>,
    /// Why the exchange failed, when it did.
    pub transport_error: Option<String>,
    /// The throttled answers (429, 503 with `Retry-After`) the transport
    /// retried before the final one, with their waits, and whether it gave
    /// up. Shown in failure messages and notes, never in snapshots: a
    /// snapshot records the final answer, so a retried request whose final
    /// answer is the same snapshots the same.
    pub retries: Retries,
    /// Expectations that did not hold.
    pub mismatches: Vec<PathMismatch>,
    /// Token endpoint or protected resource.
    pub kind: ExchangeKind,
    /// The `grant_type` sent, for a token request.
    pub grant_type: Option<String>,
    /// Whether the request is what the profile builds (no override bent it).
    pub profile_shaped: bool,
}

impl Exchange {
    /// What the RFC checks look at, when a response came back; `json` is the
    /// response body as JSON ([`HttpResponse::json`]).
    pub fn facts<'e>(&'e self, json: Option<&'e Value>) -> Option<ExchangeFacts<'e>> {
        Some(ExchangeFacts {
            request: &self.request,
            response: self.response.as_ref()?,
            json,
            grant_type: self.grant_type.as_deref(),
            request_is_profile_shaped: self.profile_shaped,
            kind: self.kind,
        })
    }
}

/// Which step of a case an exchange is, shown as `step 2 of 3
/// (refresh_token)`; formatted only when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLabel {
    /// 1-based position among the case's steps.
    pub step: usize,
    /// How many steps the case has.
    pub of: usize,
    /// The grant type, or `resource`.
    pub action: &'static str,
}

impl std::fmt::Display for StepLabel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {} of {} ({})", self.step, self.of, self.action)
    }
}

/// An expectation that did not hold, at a place in the response.
#[derive(Debug, Clone, PartialEq)]
pub struct PathMismatch {
    /// `status`, `header content-type`, or a JSON pointer.
    pub path: String,
    /// What was expected and what was there.
    pub mismatch: Mismatch,
    /// For a literal expectation: the expected value, to show in the diff.
    pub expected_value: Option<Value>,
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held.
    Passed,
    /// Something did not hold; the text says what.
    Failed,
    /// The case could not run here (a live variable is missing, or its tags
    /// exclude this target).
    Skipped(String),
}

/// The result of running a case.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// How it ended.
    pub verdict: Verdict,
    /// Every exchange made, in order.
    pub exchanges: Vec<Exchange>,
    /// A problem that stopped the case before or between exchanges.
    pub error: Option<String>,
    /// Secret values seen while running, to scrub from anything shown.
    pub secrets: Vec<SecretString>,
    /// What the RFC checks found in this case's profile-shaped exchanges:
    /// the provider's dialect, compared with its declared deviations. Only
    /// deviations (warnings and failures) carry a detail
    /// ([`rfc::Details::Deviations`]); [`rfc::check_exchange`] explains every
    /// outcome.
    pub findings: Vec<Finding>,
    /// What the RFC checks found in bent requests (probes: requests a case
    /// bent on purpose with `request:` overrides, or a resource call with a
    /// scheme other than `Bearer`), one list per exchange flattened in order:
    /// the response-side checks, the request-side ones being not applicable.
    /// An undeclared deviation among them fails the case as drift does, and
    /// the report shows them marked as coming from a bent request, but they
    /// are not the provider's dialect: they never count among the deviations
    /// it shows ([`CaseRun::findings`]). Only deviations carry a detail.
    pub probe_findings: Vec<Finding>,
}

/// Everything needed to run cases of one spec against one target.
pub struct CaseContext<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// Its profile.
    pub profile: &'a ProviderProfile,
    /// Where the provider is.
    pub base_url: &'a Url,
    /// Its token endpoint ([`endpoint_url`] of `base_url` and the profile's
    /// path), joined once; `None` when they do not join, which each token
    /// request then reports.
    pub token_url: Option<&'a Url>,
    /// Mock or live.
    pub target: TargetKind,
    /// Environment for `${env:…}`.
    pub env: &'a Env,
    /// The spec's variables resolved once for this target and `env`
    /// ([`ResolvedVars::new`]); an empty set resolves every one each time.
    pub resolved_vars: &'a ResolvedVars,
    /// The HTTP client: on the live target, paced to the provider's
    /// `live.rate` when it has one, that pace shared by all its cases.
    pub transport: &'a Transport,
    /// The provider's discovery metadata, on a live run of a spec that
    /// names it: every case is also judged against it.
    pub metadata: Option<&'a Metadata>,
    /// The target's time when the case starts: the mock's clock (which
    /// `advance` steps move for the case), or the system clock live. The
    /// `iat` of the JWTs the case signs.
    pub now: SystemTime,
    /// The spec file, whose folder a `key_file` is relative to (worked out
    /// only for a case that reads one).
    pub spec_path: Option<&'a Path>,
}

/// Runs `case`, checks every exchange against the RFCs, and fails it on an
/// observed deviation the spec does not declare (drift), whether a
/// profile-shaped exchange or a bent request's response shows it.
pub async fn run_case(cx: &CaseContext<'_>, case: &Case) -> CaseRun {
    let performed = perform(cx, case).await;
    check_conformance(performed, case, cx.metadata, &cx.spec.provider.deviations)
}

/// A case's steps, run, but not yet checked against the RFCs: the part of
/// [`run_case`] that does the I/O. [`check_conformance`] finishes it.
pub struct Performed {
    run: CaseRun,
    /// Each exchange's response body as JSON, read once for every check.
    bodies: Vec<Option<Value>>,
    /// Whether the last exchange's answer is still to be read as JSON and
    /// matched against its step's expectations: no later step needs it, so
    /// [`check_conformance`] reads it, with the checks.
    last_answer_unread: bool,
}

/// The bodies as read carry the issued tokens, so they are counted, not
/// shown; the run's own `Debug` redacts its responses.
impl std::fmt::Debug for Performed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Performed")
            .field("run", &self.run)
            .field("bodies_read", &self.bodies.iter().flatten().count())
            .field("last_answer_unread", &self.last_answer_unread)
            .finish()
    }
}

impl Performed {
    fn new(run: CaseRun, bodies: Vec<Option<Value>>) -> Self {
        Self {
            run,
            bodies,
            last_answer_unread: false,
        }
    }

    /// Reads the last exchange's answer, when [`perform`] left it unread,
    /// and fails the run on a mismatch with its step's expectations.
    fn read_last_answer(&mut self, steps: &[Step]) {
        if !std::mem::take(&mut self.last_answer_unread) {
            return;
        }
        let (Some(exchange), Some(body)) = (self.run.exchanges.last_mut(), self.bodies.last_mut())
        else {
            return;
        };
        let Some(response) = &exchange.response else {
            return;
        };
        *body = response.json();
        let expect = &steps[exchange.label.step - 1].expect;
        exchange.mismatches = check_parsed(expect, response, body.as_ref());
        if !exchange.mismatches.is_empty() {
            self.run.verdict = Verdict::Failed;
        }
    }
}

/// Checks every exchange of a performed `case` against the RFCs (and
/// against the provider's discovery `metadata`, when the run read it), and
/// fails the case on a deviation that `declared` does not list: the second
/// half of [`run_case`], which does no I/O.
pub fn check_conformance(
    mut performed: Performed,
    case: &Case,
    metadata: Option<&Metadata>,
    declared: &[String],
) -> CaseRun {
    performed.read_last_answer(&case.steps);
    let Performed {
        mut run, bodies, ..
    } = performed;
    // Only exchanges the profile shaped describe the provider's dialect: a
    // bent request (a probe) shows what the provider does with a request it
    // was not documented to take. Its request side is the tester's choice
    // (those checks are not applicable), but its response is the provider's
    // own, and is judged like any other.
    let (mut shaped, mut bent) = (Judged::default(), Judged::default());
    for (exchange, json) in run.exchanges.iter().zip(&bodies) {
        let Some(facts) = exchange.facts(json.as_ref()) else {
            continue;
        };
        let side = if exchange.profile_shaped {
            &mut shaped
        } else {
            &mut bent
        };
        side.labels.push(exchange.label);
        side.facts.push(facts);
    }
    let (each, sequence) = rfc::check_case(&shaped.facts, rfc::Details::Deviations);
    let mut findings = shaped.flatten(each, sequence);
    // The metadata's claims hold for every request the endpoint answered,
    // bent or not: a method or grant it accepted must be listed.
    if let Some(metadata) = metadata {
        let every: Vec<ExchangeFacts<'_>> = run
            .exchanges
            .iter()
            .zip(&bodies)
            .filter_map(|(exchange, json)| exchange.facts(json.as_ref()))
            .collect();
        findings.extend(rfc::check_metadata(
            &metadata.facts(),
            &every,
            rfc::Details::Deviations,
        ));
    }
    let each = rfc::check_exchanges(&bent.facts, rfc::Details::Deviations);
    let probe_findings = bent.flatten(each, Vec::new());
    let messages: Vec<String> = [
        shaped.drift_message(declared, &findings, None),
        bent.drift_message(declared, &probe_findings, Some("a bent request's response")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !messages.is_empty() && !matches!(run.verdict, Verdict::Skipped(_)) {
        let message = messages.join("\n");
        run.error = Some(match run.error.take() {
            Some(error) => format!("{error}\n{message}"),
            None => message,
        });
        run.verdict = Verdict::Failed;
    }
    run.findings = findings;
    run.probe_findings = probe_findings;
    run
}

/// Exchanges of a case to judge together, with the step each one is.
#[derive(Default)]
struct Judged<'e> {
    labels: Vec<StepLabel>,
    facts: Vec<ExchangeFacts<'e>>,
    /// How many findings each exchange has, once judged.
    counts: Vec<usize>,
}

impl Judged<'_> {
    /// The findings of each exchange (in order) and of the exchanges
    /// together, as one list; remembers how many each exchange has.
    fn flatten(&mut self, each: Vec<Vec<Finding>>, together: Vec<Finding>) -> Vec<Finding> {
        self.counts = each.iter().map(Vec::len).collect();
        let total = self.counts.iter().sum::<usize>() + together.len();
        // The first exchange's list is extended rather than copied: a case
        // of one exchange (most) then moves its findings nowhere.
        let mut lists = each.into_iter();
        let mut findings = lists.next().unwrap_or_default();
        findings.reserve_exact(total - findings.len());
        for found in lists {
            findings.extend(found);
        }
        findings.extend(together);
        findings
    }

    /// What fails the case: the deviations `findings` (from
    /// [`Judged::flatten`]) show that the spec does not declare, each with
    /// the findings that show it, labelled with their step; `None` when
    /// there are none. `seen_in` says where, when not the provider's own
    /// dialect.
    fn drift_message(
        &self,
        declared: &[String],
        findings: &[Finding],
        seen_in: Option<&str>,
    ) -> Option<String> {
        // Drift is a deviation seen: a run that showed none (most) has none,
        // and need not set what it showed against what the spec declares.
        if !findings.iter().any(|f| f.outcome.is_deviation()) {
            return None;
        }
        let drift = rfc::compare_deviations(declared, &rfc::observed_deviations(findings));
        if drift.undeclared.is_empty() {
            return None;
        }
        let report = rfc::DeviationReport {
            undeclared: drift.undeclared,
            ..rfc::DeviationReport::default()
        };
        let suffix = if seen_in.is_some() {
            ", bent request"
        } else {
            ""
        };
        let labelled = self
            .labels
            .iter()
            .zip(&self.counts)
            .flat_map(|(label, count)| std::iter::repeat_n(format!("{label}{suffix}"), *count))
            .chain(std::iter::repeat_with(|| "the case's steps".to_owned()));
        let details = labelled
            .zip(findings)
            .filter(|(_, f)| {
                f.outcome.is_deviation() && report.undeclared.contains(&f.check.deviation)
            })
            .map(|(label, f)| {
                format!(
                    "  {label}: {} ({}): {}",
                    f.check.id,
                    f.outcome.as_str(),
                    f.detail
                )
            });
        Some(
            std::iter::once(report.messages_seen_in(seen_in).join("\n"))
                .chain(details)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

/// The mock clock's offset after an `advance` of `seconds` from `offset`;
/// an error when the case's advances add up to more than the mock accepts.
fn advance_clock(offset: u64, seconds: u64) -> Result<u64, ClockTooFar> {
    offset
        .checked_add(seconds)
        .filter(|total| *total <= MAX_CLOCK_OFFSET)
        .ok_or(ClockTooFar {
            total: u128::from(offset) + u128::from(seconds),
        })
}

/// A case's `advance` steps add up to more than the mock's clock can move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the case's `advance` steps add up to {total} seconds, more than the \
     {MAX_CLOCK_OFFSET} (100 years) the mock's clock can be moved"
)]
struct ClockTooFar {
    /// The seconds they add up to (beyond `u64` when they overflow it).
    total: u128,
}

/// Runs the steps of `case`, each answer matched against its expectations
/// (the last one's left for [`check_conformance`]), and keeps each answer's
/// body as JSON for the checks: the first half of [`run_case`].
pub async fn perform(cx: &CaseContext<'_>, case: &Case) -> Performed {
    let steps = &case.steps;
    let mut run = CaseRun {
        verdict: Verdict::Passed,
        exchanges: Vec::with_capacity(steps.len()),
        error: None,
        secrets: seeded_secrets(cx),
        findings: Vec::new(),
        probe_findings: Vec::new(),
    };
    let mut bodies: Vec<Option<Value>> = Vec::with_capacity(steps.len());
    let env_lookup = |name: &str| cx.env.get(name);
    let resolver = Resolver::new(cx.spec, cx.target, &env_lookup).with_resolved(cx.resolved_vars);
    let mut captures: HashMap<String, Value> = HashMap::new();
    let mut jtis: HashMap<String, String> = HashMap::new();
    let mut clock_offset: u64 = 0;
    let mut last_answer_unread = false;

    for (index, step) in steps.iter().enumerate() {
        let Some(kind) = step.kind() else {
            run.verdict = Verdict::Failed;
            run.error = Some(format!(
                "step {} names no action, or several: use exactly one of `grant`, `resource`, `advance`",
                index + 1
            ));
            return Performed::new(run, bodies);
        };
        let what = match kind {
            StepKind::Grant(grant) => grant.as_str(),
            StepKind::Resource => "resource",
            StepKind::DeviceAuthorization => "device_authorization",
            StepKind::Authorize => "authorize",
            StepKind::Advance(seconds) => {
                if cx.target == TargetKind::Live {
                    run.verdict = Verdict::Skipped(
                        "moves the mock's clock (`advance`), which only the mock target can do"
                            .into(),
                    );
                    return Performed::new(run, bodies);
                }
                match advance_clock(clock_offset, seconds) {
                    Ok(offset) => clock_offset = offset,
                    Err(message) => {
                        run.verdict = Verdict::Failed;
                        run.error = Some(format!("step {} (advance): {message}", index + 1));
                        return Performed::new(run, bodies);
                    }
                }
                continue;
            }
        };
        let label = StepLabel {
            step: index + 1,
            of: steps.len(),
            action: what,
        };
        // The PKCE verifier of an authorization request, once made.
        let mut authorizing: Option<Option<CodeVerifier>> = None;
        let built = match kind {
            StepKind::Resource => {
                build_resource_call(cx, &resolver, step, &captures, &mut run.secrets)
            }
            StepKind::Authorize => {
                build_authorization(cx, &resolver, step, &captures, &mut run.secrets).map(
                    |(request, endpoint, verifier)| {
                        authorizing = Some(verifier);
                        (request, endpoint)
                    },
                )
            }
            _ => build_token_request(
                cx,
                &resolver,
                step,
                &captures,
                &mut run.secrets,
                clock_offset,
                &mut jtis,
            ),
        };
        let (mut request, endpoint) = match built {
            Ok(built) => built,
            Err(StepError::Missing(reason)) => {
                run.verdict = Verdict::Skipped(reason);
                return Performed::new(run, bodies);
            }
            Err(StepError::Other(message)) => {
                run.verdict = Verdict::Failed;
                run.error = Some(format!("{label}: {message}"));
                return Performed::new(run, bodies);
            }
        };
        if cx.target == TargetKind::Mock && clock_offset > 0 {
            request.headers.push((
                CLOCK_OFFSET_HEADER.to_owned(),
                Text::Plain(clock_offset.to_string()),
            ));
        }
        let sent = match &authorizing {
            Some(_) => follow_within_provider(cx.transport, &request, &mut run.secrets).await,
            None => cx.transport.send_retrying(&request).await,
        };
        let (response, transport_error) = match sent.outcome {
            Ok(response) => (Some(response), None),
            Err(error) => (None, Some(error.to_string())),
        };
        // No later step reads the last answer: it is read as the case is
        // judged, with the checks (`Performed::read_last_answer`).
        last_answer_unread =
            index + 1 == steps.len() && authorizing.is_none() && response.is_some();
        let body = match (&authorizing, &response) {
            (Some(verifier), Some(response)) => Some(redirect_parameters(
                response,
                &request.url,
                verifier.as_ref(),
                &mut run.secrets,
            )),
            _ if last_answer_unread => None,
            _ => response.as_ref().and_then(HttpResponse::json),
        };
        let mismatches = match &response {
            Some(response) if !last_answer_unread => {
                check_parsed(&step.expect, response, body.as_ref())
            }
            _ => Vec::new(),
        };
        let failed = transport_error.is_some() || !mismatches.is_empty();
        if let (Some(id), Some(body)) = (step.id.as_deref(), &body) {
            let envelope = cx.profile.response.envelope.as_deref();
            let captured = envelope
                .and_then(|pointer| body.pointer(pointer).cloned())
                .unwrap_or_else(|| body.clone());
            captures.insert(id.to_owned(), captured);
        }
        // A client assertion where the profile says another client
        // authentication bends the request, as `request.client_auth` would.
        let profile_auth = cx.profile.token_endpoint.client_auth;
        let shaped =
            step.request.is_none() && (step.client_assertion.is_none() || profile_auth.is_jwt());
        let (exchange_kind, grant_type, profile_shaped) = match kind {
            StepKind::Grant(grant) => (
                ExchangeKind::Token,
                Some(effective_grant_type(step).unwrap_or_else(|| grant.grant_type().to_owned())),
                shaped,
            ),
            StepKind::DeviceAuthorization => (ExchangeKind::DeviceAuthorization, None, shaped),
            StepKind::Authorize => (ExchangeKind::Authorization, None, true),
            _ => (
                ExchangeKind::Resource,
                None,
                step.resource.as_ref().is_some_and(|call| {
                    let profile = &cx.profile.resource.token;
                    call.placement(profile) == *profile
                }),
            ),
        };
        run.exchanges.push(Exchange {
            label,
            request,
            endpoint,
            response,
            transport_error,
            retries: sent.retries,
            mismatches,
            kind: exchange_kind,
            grant_type,
            profile_shaped,
        });
        bodies.push(body);
        if failed {
            run.verdict = Verdict::Failed;
            return Performed::new(run, bodies);
        }
    }
    Performed {
        run,
        bodies,
        last_answer_unread,
    }
}

/// On the mock target, the client secrets and passwords its seed declares:
/// a case may send them as literals (in a header, say), and they are shown
/// no more than a live secret.
fn seeded_secrets(cx: &CaseContext<'_>) -> Vec<SecretString> {
    let (TargetKind::Mock, Some(seed)) = (cx.target, &cx.spec.mock) else {
        return Vec::new();
    };
    seed.clients
        .iter()
        .filter_map(|client| client.secret.clone())
        .chain(seed.users.iter().map(|user| user.password.clone()))
        .map(SecretString::from)
        .collect()
}

/// A `grant_type` the step's `with` sets over its grant's own.
fn effective_grant_type(step: &Step) -> Option<String> {
    match step.with.get("grant_type")? {
        ParamSpec::One(value) if !value.contains("${") => Some(value.clone()),
        _ => None,
    }
}

enum StepError {
    /// The step cannot run on this target; the text says why.
    Missing(String),
    Other(String),
}

impl From<Unresolved> for StepError {
    fn from(error: Unresolved) -> Self {
        match error {
            Unresolved::MissingEnv(name) => Self::Missing(format!(
                "needs environment variable {name}, which is not set"
            )),
            other => Self::Other(other.to_string()),
        }
    }
}

fn resolve_param(
    resolver: &Resolver<'_>,
    value: &ParamSpec,
    captures: &HashMap<String, Value>,
    secrets: &mut Vec<SecretString>,
) -> Result<ParamValue, StepError> {
    Ok(match value {
        ParamSpec::One(template) => {
            let text = resolver.resolve(template, captures)?;
            if let Text::Secret(secret) = &text {
                secrets.push(secret.clone());
            }
            ParamValue::One(text)
        }
        ParamSpec::List(templates) => ParamValue::List(
            templates
                .iter()
                .map(|t| {
                    resolver
                        .resolve(t, captures)
                        .map(|text| text.expose().to_owned())
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn build_token_request(
    cx: &CaseContext<'_>,
    resolver: &Resolver<'_>,
    step: &Step,
    captures: &HashMap<String, Value>,
    secrets: &mut Vec<SecretString>,
    clock_offset: u64,
    jtis: &mut HashMap<String, String>,
) -> Result<(HttpRequest, String), StepError> {
    let no_overrides = RequestOverride::default();
    let overrides = step.request.as_deref().unwrap_or(&no_overrides);
    // The profile, copied only when the step bends it.
    let mut profile = Cow::Borrowed(cx.profile);
    if let Some(body) = overrides.body {
        profile.to_mut().token_endpoint.body = body;
    }
    if let Some(client_auth) = overrides.client_auth {
        profile.to_mut().token_endpoint.client_auth = client_auth;
    }
    if let Some(lists) = overrides.lists {
        profile.to_mut().token_endpoint.lists = lists;
    }

    let mut grant_type = step
        .grant
        .map(|g| g.grant_type().to_owned())
        .unwrap_or_default();
    let mut client_id = None;
    let mut client_secret = None;
    let mut params = Vec::new();
    for (name, value) in &step.with {
        let value = resolve_param(resolver, value, captures, secrets)?;
        match (name.as_str(), value) {
            ("grant_type", ParamValue::One(text)) => grant_type = text.into_exposed(),
            ("client_id", ParamValue::One(text)) => client_id = Some(text.into_exposed()),
            ("client_secret", ParamValue::One(text)) => {
                // A secret one is among `secrets` already (`resolve_param`).
                if !text.is_secret() {
                    secrets.push(SecretString::from(text.expose().to_owned()));
                }
                client_secret = Some(text.into_secret());
            }
            (_, value) => params.push((name.clone(), value)),
        }
    }
    let device = step.device_authorization;
    let path = if device {
        profile
            .token_endpoint
            .device_authorization_path()
            .to_owned()
    } else {
        profile.token_endpoint.path.clone()
    };
    let url = match (cx.token_url, device) {
        (Some(url), false) => url.clone(),
        _ => endpoint_url(cx.base_url, &path).map_err(|e| StepError::Other(e.to_string()))?,
    };
    let signing = jwt::Signing {
        cx,
        resolver,
        captures,
        now: cx.now + Duration::from_secs(clock_offset),
        token_url: &url,
        jtis,
    };
    let mut signed_jtis = Vec::new();
    if let Some(spec) = &step.assertion {
        let (jwt, jti) = signing.sign("assertion", spec, client_id.as_deref(), None, secrets)?;
        signed_jtis.push(("assertion", jti));
        params.push(("assertion".to_owned(), ParamValue::One(Text::Secret(jwt))));
    }
    // A profile that authenticates with `client_secret_jwt` has the runner
    // sign the client's assertion as a step's own would be, so that its
    // `iat` is the target's time (the mock's clock, with the case's
    // `advance`s), not the system clock the token crate would use.
    let profile_hs256 = (step.client_assertion.is_none()
        && profile.token_endpoint.client_auth == ClientAuth::ClientSecretJwt
        && client_secret.is_some())
    .then(AssertionSpec::client_secret_jwt);
    let assertion = match step.client_assertion.as_deref().or(profile_hs256.as_ref()) {
        Some(spec) => {
            let way = match overrides.client_auth {
                Some(way) if way.is_jwt() => way,
                _ if profile.token_endpoint.client_auth.is_jwt() => {
                    profile.token_endpoint.client_auth
                }
                _ if spec.alg.is_symmetric() => ClientAuth::ClientSecretJwt,
                _ => ClientAuth::PrivateKeyJwt,
            };
            profile.to_mut().token_endpoint.client_auth = way;
            let (jwt, jti) = signing.sign(
                "client_assertion",
                spec,
                client_id.as_deref(),
                client_secret.as_ref(),
                secrets,
            )?;
            signed_jtis.push(("client_assertion", jti));
            Some(ClientAssertion::Signed(jwt))
        }
        None => None,
    };
    if let Some(id) = &step.id {
        for (param, jti) in signed_jtis {
            jtis.insert(jwt::jti_key(id, param), jti);
        }
    }
    let client = client_id.map(|id| ClientCredentials {
        id,
        secret: client_secret,
        assertion,
    });
    let mut request = if device {
        build_device_authorization(&profile, url, client.as_ref(), params)
    } else {
        build_raw_at(&profile, url, &grant_type, client.as_ref(), params)
    }
    .map_err(|e| StepError::Other(e.to_string()))?;

    let wire = |name: &str| profile.token_endpoint.wire_name(name).to_owned();
    for name in &overrides.omit {
        let (rfc, renamed) = (name.clone(), wire(name));
        let omitted = |n: &String| *n == rfc || *n == renamed;
        request
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        match &mut request.body {
            Some(Body::Form(pairs)) => pairs.retain(|(n, _)| !omitted(n)),
            Some(Body::Json(fields)) => fields.retain(|(n, _)| !omitted(n)),
            Some(Body::Raw { .. }) | None => {}
        }
        let kept: Vec<(String, String)> = request
            .url
            .query_pairs()
            .filter(|(n, _)| !omitted(&n.to_string()))
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        if request.url.query().is_some() {
            request.url.set_query(None);
            if !kept.is_empty() {
                request.url.query_pairs_mut().extend_pairs(kept);
            }
        }
    }
    for (name, value) in &overrides.add {
        let value = resolve_param(resolver, value, captures, secrets)?;
        let name = wire(name);
        match (&mut request.body, value) {
            (Some(Body::Form(pairs)), ParamValue::One(text)) => pairs.push((name, text)),
            (Some(Body::Form(pairs)), ParamValue::List(items)) => {
                pairs.extend(
                    items
                        .into_iter()
                        .map(|item| (name.clone(), Text::Plain(item))),
                );
            }
            (Some(Body::Json(fields)), ParamValue::One(text)) => {
                fields.push((name, JsonField::Text(text)));
            }
            (Some(Body::Json(fields)), ParamValue::List(items)) => {
                fields.push((name, JsonField::Array(items)));
            }
            (_, ParamValue::One(text)) if !text.is_secret() => {
                request
                    .url
                    .query_pairs_mut()
                    .append_pair(&name, text.expose());
            }
            (_, ParamValue::List(items)) => {
                let mut query = request.url.query_pairs_mut();
                for item in items {
                    query.append_pair(&name, &item);
                }
            }
            (_, ParamValue::One(_)) => {
                return Err(StepError::Other(format!(
                    "refusing to add secret parameter `{name}` to a URL"
                )));
            }
        }
    }
    if let Some(raw) = &overrides.raw_body {
        let text = resolver.resolve(raw, captures)?;
        if let Text::Secret(secret) = &text {
            secrets.push(secret.clone());
        }
        let content_type = request
            .body
            .as_ref()
            .and_then(Body::content_type)
            .map(str::to_owned);
        request.body = Some(Body::Raw {
            content_type,
            bytes: text.expose().as_bytes().to_vec(),
        });
    }
    if let Some(content_type) = &overrides.content_type {
        let bytes = request
            .body
            .as_ref()
            .map(Body::to_bytes)
            .unwrap_or_default();
        request.body = Some(Body::Raw {
            content_type: Some(content_type.clone()),
            bytes,
        });
    }
    for (name, template) in &overrides.headers {
        let text = resolver.resolve(template, captures)?;
        if let Text::Secret(secret) = &text {
            secrets.push(secret.clone());
        }
        request.headers.push((name.to_ascii_lowercase(), text));
    }
    if let Some(method) = &overrides.method {
        request.method = method.to_ascii_uppercase();
    }
    Ok((request, path))
}

fn build_resource_call(
    cx: &CaseContext<'_>,
    resolver: &Resolver<'_>,
    step: &Step,
    captures: &HashMap<String, Value>,
    secrets: &mut Vec<SecretString>,
) -> Result<(HttpRequest, String), StepError> {
    let call = step
        .resource
        .as_ref()
        .ok_or_else(|| StepError::Other("not a resource step".into()))?;
    let path = match (cx.target, cx.spec.provider.resource.as_ref()) {
        (TargetKind::Mock, _) => "/ping".to_owned(),
        (
            TargetKind::Live,
            Some(ResourceEndpoint {
                path: Some(path), ..
            }),
        ) => path.clone(),
        (TargetKind::Live, _) => {
            return Err(StepError::Missing(
                "calls the protected resource, but the spec names no `provider.resource.path` for the live target".into(),
            ));
        }
    };
    let url = endpoint_url(cx.base_url, &path).map_err(|e| StepError::Other(e.to_string()))?;
    let placement = call.placement(&cx.profile.resource.token);
    let mut request = HttpRequest {
        method: call.method(&placement),
        url,
        query: Vec::new(),
        headers: vec![("accept".to_owned(), Text::from("application/json"))],
        body: None,
    };
    if let Some(template) = &call.token {
        let token = resolver.resolve(template, captures)?;
        let token = SecretString::from(token.expose().to_owned());
        secrets.push(token.clone());
        present_token(&placement, &token, &mut request)
            .map_err(|e| StepError::Other(e.to_string()))?;
    }
    Ok((request, path))
}

/// An authorization request for an `authorize` step: the URL (on the mock,
/// the mock's own authorization endpoint; live, the spec's), the endpoint
/// path, and the PKCE verifier it made a challenge of. The verifier and
/// any secret the step names join the run's secrets.
fn build_authorization(
    cx: &CaseContext<'_>,
    resolver: &Resolver<'_>,
    step: &Step,
    captures: &HashMap<String, Value>,
    secrets: &mut Vec<SecretString>,
) -> Result<(HttpRequest, String, Option<CodeVerifier>), StepError> {
    let call = step
        .authorize
        .as_ref()
        .ok_or_else(|| StepError::Other("not an authorize step".into()))?;
    // Every value goes in the URL, where no secret may go.
    let resolve = |template: &str| -> Result<String, StepError> {
        match resolver.resolve(template, captures)? {
            Text::Plain(text) => Ok(text),
            Text::Secret(_) => Err(StepError::Other(format!(
                "refusing to put a secret in the authorization URL (`{template}`)"
            ))),
        }
    };
    let mut authorization = AuthorizationRequest::new(resolve(&call.client_id)?);
    if let Some(redirect_uri) = &call.redirect_uri {
        authorization = authorization.with_redirect_uri(resolve(redirect_uri)?);
    }
    for scope in &call.scope {
        authorization.scope.push(resolve(scope)?);
    }
    let state = match &call.state {
        Some(state) => resolve(state)?,
        None => random_state().map_err(|e| StepError::Other(e.to_string()))?,
    };
    authorization = authorization.with_state(state);
    for (name, value) in &call.params {
        authorization = authorization.with_param(name, resolve(value)?);
    }
    let verifier = match call.pkce.method() {
        Some(method) => {
            let verifier = CodeVerifier::generate().map_err(|e| StepError::Other(e.to_string()))?;
            secrets.push(verifier.secret().clone());
            authorization = authorization.with_pkce(&verifier, method);
            Some(verifier)
        }
        None => None,
    };
    let path = match cx.target {
        TargetKind::Mock => DEFAULT_AUTHORIZE_PATH,
        TargetKind::Live => cx.spec.provider.authorize_path(),
    };
    let endpoint = endpoint_url(cx.base_url, path).map_err(|e| StepError::Other(e.to_string()))?;
    let request = HttpRequest {
        method: "GET".to_owned(),
        url: authorization.url(&endpoint),
        query: Vec::new(),
        headers: vec![(
            "accept".to_owned(),
            Text::from("text/html, application/json"),
        )],
        body: None,
    };
    Ok((request, path.to_owned(), verifier))
}

/// Sends an authorization request and follows the provider's own redirects
/// (same origin as the request, at most [`MAX_AUTHORIZE_REDIRECTS`], with
/// the cookies they set: a login and consent a provider completes without a
/// person), stopping at the first answer that is no redirect or leaves the
/// provider: the redirect to the client. Cookie values join the secrets.
async fn follow_within_provider(
    transport: &Transport,
    first: &HttpRequest,
    secrets: &mut Vec<SecretString>,
) -> Sent {
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut request = first.clone();
    let mut sent = transport.send_retrying(&request).await;
    for _ in 0..MAX_AUTHORIZE_REDIRECTS {
        let Ok(response) = &sent.outcome else { break };
        if !(300..400).contains(&response.status) {
            break;
        }
        let Some(next) = response
            .header("location")
            .and_then(|location| request.url.join(location).ok())
        else {
            break;
        };
        if next.origin() != first.url.origin() {
            break;
        }
        for (name, value) in &response.headers {
            if !name.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((cookie, value)) = pair.split_once('=') {
                let cookie = cookie.trim().to_owned();
                secrets.push(SecretString::from(value.to_owned()));
                cookies.retain(|(name, _)| *name != cookie);
                cookies.push((cookie, value.to_owned()));
            }
        }
        let mut headers: Vec<(String, Text)> = first
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("cookie"))
            .cloned()
            .collect();
        if !cookies.is_empty() {
            let jar: Vec<String> = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect();
            headers.push(("cookie".to_owned(), Text::secret(jar.join("; "))));
        }
        request = HttpRequest {
            method: "GET".to_owned(),
            url: next,
            query: Vec::new(),
            headers,
            body: None,
        };
        sent = transport.send_retrying(&request).await;
    }
    sent
}

/// What an `authorize` step captures and its body expectations match: the
/// query parameters of the redirect that answered it (`code`, `state`,
/// `error`…), with the PKCE verifier it made as `code_verifier`; an answer
/// that is no redirect gives its JSON body, if any. The code joins the
/// secrets.
fn redirect_parameters(
    response: &HttpResponse,
    sent_to: &url::Url,
    verifier: Option<&CodeVerifier>,
    secrets: &mut Vec<SecretString>,
) -> Value {
    let mut object = serde_json::Map::new();
    let location = response
        .header("location")
        .and_then(|location| sent_to.join(location).ok());
    match location {
        Some(location) => {
            let fragment = location.fragment().map(str::to_owned).unwrap_or_default();
            let pairs = location
                .query_pairs()
                .map(|(n, v)| (n.into_owned(), v.into_owned()))
                .chain(
                    url::form_urlencoded::parse(fragment.as_bytes())
                        .map(|(n, v)| (n.into_owned(), v.into_owned())),
                );
            for (name, value) in pairs {
                if name == "code" {
                    secrets.push(SecretString::from(value.clone()));
                }
                object.insert(name, Value::from(value));
            }
        }
        None => {
            if let Some(Value::Object(json)) = response.json() {
                object = json;
            }
        }
    }
    if let Some(verifier) = verifier {
        object.insert(
            "code_verifier".to_owned(),
            Value::from(verifier.secret().expose_secret()),
        );
    }
    Value::Object(object)
}

/// The environment variables a spec's variables need on the live target
/// and the environment lacks, worked out once per provider, so that each of
/// its cases looks its `${var}` up rather than parsing the variable again.
#[derive(Debug, Default)]
pub struct MissingEnv {
    by_var: BTreeMap<String, Vec<String>>,
}

impl MissingEnv {
    /// What each of `spec`'s variables lacks in `env`.
    pub fn new(spec: &Spec, env: &Env) -> Self {
        let by_var = spec
            .vars
            .iter()
            .map(|(name, var)| {
                let mut missing = Vec::new();
                missing_in(spec, var.on(TargetKind::Live), env, 1, &mut missing);
                (name.clone(), missing)
            })
            .collect();
        Self { by_var }
    }

    /// The environment variables `case` needs on the live target and `env`
    /// lacks, in the order its steps name them.
    pub fn of_case(&self, spec: &Spec, case: &Case, env: &Env) -> Vec<String> {
        let mut missing = Vec::new();
        for text in case.steps.iter().flat_map(Step::templates) {
            match template::lone_var(text).and_then(|name| self.by_var.get(name)) {
                Some(lacking) => {
                    for name in lacking {
                        if !missing.contains(name) {
                            missing.push(name.clone());
                        }
                    }
                }
                None if text.contains("${") => missing_in(spec, text, env, 0, &mut missing),
                None => {}
            }
        }
        missing
    }
}

/// Adds the environment variables `text` (found at `depth`) names, directly
/// or through the spec's live variables, that `env` lacks.
fn missing_in(spec: &Spec, text: &str, env: &Env, depth: u8, missing: &mut Vec<String>) {
    template::walk_through_vars(spec, TargetKind::Live, text, depth, &mut |part| {
        if let Part::Env(name) | Part::Secret(name) = part
            && !env.has(name)
            && !missing.iter().any(|seen| seen == name)
        {
            missing.push(name.to_owned());
        }
    });
}

/// Checks a response against expectations.
pub fn check(expect: &Expect, response: &HttpResponse) -> Vec<PathMismatch> {
    check_parsed(expect, response, response.json().as_ref())
}

/// [`check`], with the body already parsed (`json` is
/// [`HttpResponse::json`] of `response`).
fn check_parsed(
    expect: &Expect,
    response: &HttpResponse,
    json: Option<&Value>,
) -> Vec<PathMismatch> {
    let mut mismatches = Vec::new();
    if let Some(status) = &expect.status {
        if !status.matches(response.status) {
            mismatches.push(PathMismatch {
                path: "status".into(),
                mismatch: Mismatch {
                    expected: status.to_string(),
                    actual: response.status.to_string(),
                },
                expected_value: None,
            });
        }
    }
    for (name, matcher) in &expect.headers {
        let actual = response.header(name).map(Value::from);
        if let Err(mismatch) = matcher.check(actual.as_ref()) {
            mismatches.push(PathMismatch {
                path: format!("header {}", name.to_ascii_lowercase()),
                mismatch,
                expected_value: None,
            });
        }
    }
    if !expect.body.is_empty() {
        let Some(body) = json else {
            mismatches.push(PathMismatch {
                path: "body".into(),
                mismatch: Mismatch {
                    expected: "a JSON body".into(),
                    actual: format!("{} bytes that are not JSON", response.body.len()),
                },
                expected_value: None,
            });
            return mismatches;
        };
        for (key, matcher) in &expect.body {
            if let Err(mismatch) = matcher.check(lookup(body, key)) {
                let path = if key.starts_with('/') {
                    key.clone()
                } else {
                    format!("/{key}")
                };
                let expected_value = match matcher {
                    Matcher::Literal(value) => Some(Value::clone(value)),
                    Matcher::Rules(_) => None,
                };
                mismatches.push(PathMismatch {
                    path,
                    mismatch,
                    expected_value,
                });
            }
        }
    }
    mismatches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_performed_case_shows_no_issued_token_in_its_debug() {
        let specs = tempfile::tempdir().unwrap();
        std::fs::write(
            specs.path().join("p.yaml"),
            "provider: { id: p, name: P, token_endpoint: { path: /oauth/token } }\n\
             mock:\n  clients:\n    - { id: c, secret: s, grants: [client_credentials] }\n\
             cases:\n  - { name: issue, snapshot: false, grant: client_credentials, \
             with: { client_id: c, client_secret: s }, expect: { status: 200 } }\n",
        )
        .unwrap();
        let snapshots = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let suite = crate::mock_suite(&runtime, specs.path(), snapshots.path());
        let mut performed = runtime.block_on(suite.perform(suite.cases()[0]));
        let ran = performed.ran.as_mut().unwrap();
        // Read as the judge reads it, so that the body is held as JSON too.
        ran.read_last_answer(&suite.case(suite.cases()[0]).steps);
        let body = ran.bodies[0].as_ref().expect("the answer is JSON");
        let token = body["access_token"].as_str().unwrap().to_owned();
        let shown = format!("{performed:?}");
        assert!(shown.contains("Performed"), "{shown}");
        assert!(
            !crate::redact::Redactor::new(&[], &[token]).leaks(&shown),
            "{shown}"
        );
    }

    #[test]
    fn a_cases_findings_are_its_exchanges_in_order_then_its_sequences_in_the_first_list() {
        let list = || rfc::check_sequence(&[]);
        let n = list().len();
        assert!(n > 1, "the sequence rules are the lists here");
        let mut first = Vec::with_capacity(4 * n);
        first.extend(list());
        let first_at = first.as_ptr();
        let mut second = list();
        second.reverse();
        let mut judged = Judged::default();
        let flat = judged.flatten(vec![first, second.clone(), list()], list());
        assert_eq!(judged.counts, [n, n, n]);
        let expected: Vec<Finding> = [list(), second, list(), list()].concat();
        assert_eq!(flat, expected);
        assert_eq!(
            flat.as_ptr(),
            first_at,
            "the first list is extended, not copied"
        );
        assert!(Judged::default().flatten(Vec::new(), Vec::new()).is_empty());
    }

    #[test]
    fn a_case_lacks_the_environment_its_variables_and_its_own_templates_name() {
        let source = "provider: { id: p, name: P, token_endpoint: { path: /token } }\n\
                      vars:\n  id: { mock: m, live: \"${env:ID}\" }\n  \
                      secret: { mock: s, live: \"${secret:SECRET}\" }\n  \
                      both: \"${id}:${secret}\"\n  plain: text\n\
                      cases:\n  \
                      - { name: lone, grant: client_credentials, with: { client_id: \"${both}\", client_secret: \"${secret}\" } }\n  \
                      - { name: mixed, grant: client_credentials, with: { client_id: \"x-${id}\", client_secret: \"${env:OTHER}\" } }\n  \
                      - { name: none, grant: client_credentials, with: { client_id: \"${plain}\", client_secret: plain } }\n";
        let spec = grantspec_spec::load_str(std::path::Path::new("p.yaml"), source)
            .unwrap()
            .spec;
        let of = |env: &Env| -> Vec<Vec<String>> {
            let memo = MissingEnv::new(&spec, env);
            spec.cases
                .iter()
                .map(|case| memo.of_case(&spec, case, env))
                .collect()
        };
        assert_eq!(
            of(&Env::from_pairs([("UNRELATED", "1")])),
            [vec!["ID", "SECRET"], vec!["ID", "OTHER"], vec![]]
        );
        assert_eq!(
            of(&Env::from_pairs([("ID", "i"), ("OTHER", "")])),
            [vec!["SECRET"], vec!["OTHER"], vec![]],
            "an empty variable counts as not set"
        );
        assert_eq!(
            of(&Env::from_pairs([
                ("ID", "i"),
                ("SECRET", "s"),
                ("OTHER", "o")
            ])),
            [Vec::<String>::new(), vec![], vec![]]
        );
    }

    #[test]
    fn advances_add_up_to_the_mocks_bound_and_fail_beyond_it_without_overflow() {
        assert_eq!(advance_clock(0, 60), Ok(60));
        assert_eq!(advance_clock(MAX_CLOCK_OFFSET - 1, 1), Ok(MAX_CLOCK_OFFSET));
        let beyond = advance_clock(MAX_CLOCK_OFFSET, 1).unwrap_err().to_string();
        assert!(
            beyond.contains(&format!("{}", MAX_CLOCK_OFFSET + 1)),
            "{beyond}"
        );
        let overflow = advance_clock(u64::MAX, u64::MAX).unwrap_err().to_string();
        assert!(
            overflow.contains("36893488147419103230 seconds"),
            "{overflow}"
        );
    }

    #[test]
    fn a_status_matcher_passes_what_it_allows_and_says_what_it_wanted() {
        let expect = |yaml: &str| -> Expect { serde_yaml::from_str(yaml).unwrap() };
        let answered = |status: u16| HttpResponse {
            status,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        };
        let one_of = expect("status: { one_of: [400, 401] }");
        assert!(check(&one_of, &answered(401)).is_empty());
        let mismatches = check(&one_of, &answered(200));
        assert_eq!(mismatches.len(), 1);
        assert_eq!(mismatches[0].path, "status");
        assert_eq!(mismatches[0].mismatch.expected, "one of 400, 401");
        assert_eq!(mismatches[0].mismatch.actual, "200");
        let range = expect("status: { min: 400, max: 499 }");
        assert!(check(&range, &answered(429)).is_empty());
        assert_eq!(
            check(&range, &answered(503))[0].mismatch.expected,
            "400 to 499"
        );
    }
}
