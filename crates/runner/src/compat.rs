//! The provider compatibility report: fills [`grantspec_report`]'s model
//! from a suite's specs and the reports of its cases.
//!
//! What the spec *declares* comes from the profile and the mock seed, each
//! fact with its provenance (`provider.sources`: documented or assumed; no
//! entry is an assumption); what the run's target *did* comes from the
//! exchanges themselves, and is the mock's emulation on the mock target
//! (never an observation of the provider) or observed live on a live run:
//!
//! - a grant, body encoding or client authentication method is **accepted**
//!   when a token request using it got a 2xx answer;
//! - a body encoding or client authentication method is **refused** when a
//!   step that explicitly chose it (`request.body`, `request.client_auth`)
//!   got a 4xx answer and no request of the run with it was accepted; a
//!   grant is refused when the answer says `unsupported_grant_type` (or, in
//!   an `errors` array or problem, that the grant type is not supported);
//! - `token_type`, expiry members and lifetimes (by grant, and by client
//!   where the spec gives a client its own) and the error format are read
//!   from the responses;
//! - the refresh behaviour is inferred from what the cases did with refresh
//!   tokens (`refresh`): as far as they tell it, and no further.
//!
//! Everything shown comes from texts the runner already redacts (failure
//! messages, skip reasons) or from the spec; token and secret values are
//! compared in memory (refresh behaviour) and never copied into the model.
//!
//! RFC check results and deviation drift come from the runner's checks
//! ([`grantspec_conformance`]), aggregated per provider by `rfc_results`.

mod answer;
mod refresh;

use base64::Engine as _;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use grantspec_conformance as rfc;
use grantspec_report::{
    Acceptance, BODY_ENCODINGS, CLIENT_AUTH, Capability, CaseOutcome, CaseResult, Compatibility,
    ContradictionReport, Dialect, Endpoint, ErrorFormatReport, ExpiryReport, Fact, LifetimeRule,
    LifetimeSeen, NOT_DECLARED, NoteBasis, NoteReport, Provenance, ProviderReport, QuirkReport,
    RefreshBehaviour, RefreshReport, RfcReport, RunKind, RunSource, SpecFileError, Target,
    TokenTypeReport, WayOutcome, WayReport,
};
use grantspec_spec::template::{Resolver, TargetKind};
use grantspec_spec::{
    Basis, DEFAULT_TOKEN_LIFETIME, GrantKind, MockClient, MockSeed, Note, ParamSpec, RefreshPolicy,
    ResponseScope, Spec, Step, StepKind, TokenFormat, TokenLifetime,
};
use grantspec_token::{Body, ClientAuth, JsonField, MissingTokenType, ProviderProfile};
use serde_json::Value;

use crate::exec::Exchange;
use crate::redact::{Redactor, configured_secrets, scrub_strings};
use crate::render::unified_diff;
use crate::{CaseReport, Judgement, Suite, TrialId, read_snapshot, snapshot_body, snapshot_file};
use answer::TokenAnswer;
use grantspec_token::ExposeSecret;

/// The compatibility report of a run: every loaded spec, with the reports
/// of its cases (in any order; cases without a report count as not run).
pub fn build(suite: &Suite, reports: &[CaseReport]) -> Compatibility {
    let target = match suite.config().target {
        TargetKind::Mock => Target::Mock,
        TargetKind::Live => Target::Live,
    };
    let mut report = Compatibility::new(format!("grantspec {}", env!("CARGO_PKG_VERSION")), target);
    report.grants = GrantKind::ALL
        .iter()
        .map(|grant| grant.as_str().to_owned())
        .collect();
    report.generated_at = Some(rfc3339(SystemTime::now()));

    for (index, errors) in suite.spec_file_errors().iter().enumerate() {
        report.summary.count(CaseOutcome::Failed);
        report.spec_errors.push(SpecFileError {
            trial: suite.trial_name(TrialId::SpecFile(index)),
            file: errors
                .files
                .iter()
                .map(|file| file.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            message: errors.message.clone(),
        });
    }

    for (index, loaded) in suite.specs().enumerate() {
        let spec = &loaded.spec;
        let cases: Vec<&CaseReport> = reports
            .iter()
            .filter(|r| r.provider == spec.provider.id)
            .collect();
        let drift = suite.deviations(index, cases.iter().copied());
        let mut provider =
            provider_report(spec, target, &cases, &drift, report.generated_at.clone());
        for result in &mut provider.cases {
            let keeps_snapshot = spec
                .cases
                .iter()
                .any(|case| case.name == result.name && case.snapshot);
            if keeps_snapshot {
                result.mock_vs_live = mock_vs_live(
                    &suite.config().snapshots_dir,
                    &spec.provider.id,
                    &result.name,
                );
            }
        }
        let deviations = suite.judge_deviations(index, &drift);
        let result = case_result(
            "declared_deviations",
            Some("The provider's declared deviations agree with what its cases showed.".into()),
            &deviations,
        );
        provider.outcome.count(result.outcome);
        provider.cases.push(result);
        report.summary.add(provider.outcome);
        report.providers.push(provider);
    }
    scrubbed(report, &report_redactor(suite))
}

/// A case's stored mock snapshot against its stored live snapshot, as a
/// unified diff (empty when they are the same); `None` unless both are
/// stored and readable. Both files are redacted already.
fn mock_vs_live(snapshots_dir: &Path, provider: &str, case: &str) -> Option<String> {
    let [mock, live] = [TargetKind::Mock, TargetKind::Live].map(|target| {
        let file = snapshot_file(snapshots_dir, target, provider, case);
        read_snapshot(&file)
            .ok()
            .flatten()
            .map(|text| snapshot_body(&text))
    });
    let (mock, live) = (mock?, live?);
    Some(if mock == live {
        String::new()
    } else {
        unified_diff(&mock, &live, "mock", "live")
    })
}

/// What a report must not show: the configured values of every spec's
/// `${secret:…}` variables and, on the mock target, the seed's client
/// secrets and passwords. The spec's own texts (a description, a note) may
/// hold one, and servers echo them.
fn report_redactor(suite: &Suite) -> Redactor {
    let mut secrets: Vec<String> = Vec::new();
    for loaded in suite.specs() {
        let spec = &loaded.spec;
        secrets.extend(
            configured_secrets(spec, &suite.config().env)
                .into_iter()
                .map(|(_, value)| value.expose_secret().to_owned()),
        );
        if let (TargetKind::Mock, Some(seed)) = (suite.config().target, &spec.mock) {
            secrets.extend(seed.clients.iter().filter_map(|c| c.secret.clone()));
            secrets.extend(seed.users.iter().map(|u| u.password.clone()));
        }
    }
    Redactor::new(&secrets, &[])
}

/// `report` with every string scrubbed and control characters escaped.
fn scrubbed(report: Compatibility, redactor: &Redactor) -> Compatibility {
    let Ok(mut value) = serde_json::to_value(&report) else {
        return report;
    };
    scrub_strings(&mut value, redactor);
    serde_json::from_value(value).unwrap_or(report)
}

/// The provider's RFC check results aggregated over its cases (worst outcome
/// per check; details of warnings and failures, prefixed with the case name),
/// and its deviation drift both ways as [`Suite::deviations`] computes it.
/// Bent requests (probes: requests a case bent on purpose) get their
/// response-side findings recorded too, marked as such (`bent_outcome`, and
/// `(bent request)` after the case name in a detail); they are not the
/// provider's dialect, so the drift leaves them out.
fn rfc_results(drift: &rfc::DeviationReport, cases: &[&CaseReport]) -> RfcReport {
    let mut results = RfcReport::default();
    for report in cases {
        let shaped = report.run.findings.iter().map(|f| (f, false));
        let bent = report.run.probe_findings.iter().map(|f| (f, true));
        for (finding, bent) in shaped.chain(bent) {
            let record = if bent {
                RfcReport::record_bent
            } else {
                RfcReport::record
            };
            record(
                &mut results,
                finding.check.id,
                finding.check.clause,
                finding.check.severity,
                finding.check.title,
                finding.outcome,
                &report.name,
                &finding.detail,
            );
        }
    }
    results.evaluated = true;
    results.drift = drift.messages();
    results.not_emulated = drift.not_emulated.clone();
    results
}

/// A trial's row in the report, from its verdict.
fn case_result(name: &str, description: Option<String>, judgement: &Judgement) -> CaseResult {
    let failure = judgement.failure();
    CaseResult {
        name: name.to_owned(),
        description,
        outcome: judgement.outcome(),
        failure_kind: failure.map(|f| f.kind.as_str().to_owned()),
        message: failure.map(|f| f.message.clone()),
        skip_reason: judgement.ignored_reason().map(str::to_owned),
        mock_vs_live: None,
    }
}

fn snake<T: serde::Serialize>(value: T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => text,
        _ => String::new(),
    }
}

/// What one token request used, as sent.
struct Used {
    grant: Option<GrantKind>,
    body: Option<&'static str>,
    auth: Option<&'static str>,
    explicit_body: bool,
    explicit_auth: bool,
}

fn param(exchange: &Exchange, name: &str) -> Option<String> {
    let request = &exchange.request;
    let from_body = match &request.body {
        Some(Body::Form(pairs)) => pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.expose().to_owned()),
        Some(Body::Json(fields)) => {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| match v {
                    JsonField::Text(text) => Some(text.expose().to_owned()),
                    JsonField::Array(_) => None,
                })
        }
        _ => None,
    };
    from_body.or_else(|| {
        request
            .url
            .query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    })
}

fn used(step: &Step, exchange: &Exchange) -> Used {
    let overrides = step.request.as_ref();
    let grant_overridden = step.with.contains_key("grant_type")
        || overrides.is_some_and(|r| r.omit.iter().any(|n| n == "grant_type"));
    let body = match &exchange.request.body {
        Some(Body::Form(_)) => Some("form"),
        Some(Body::Json(_)) => Some("json"),
        _ => None,
    };
    let basic = exchange.request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("authorization")
            && value
                .expose()
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("basic "))
    });
    let assertion = param(exchange, "client_assertion");
    let auth = if basic {
        Some("basic")
    } else if let Some(assertion) = assertion {
        // HS256 is signed with the client secret; any other algorithm with
        // a private key.
        let symmetric = assertion
            .split('.')
            .next()
            .and_then(|header| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(header.trim_end_matches('='))
                    .ok()
            })
            .and_then(|header| serde_json::from_slice::<Value>(&header).ok())
            .is_some_and(|header| header.get("alg").and_then(Value::as_str) == Some("HS256"));
        Some(if symmetric {
            "client_secret_jwt"
        } else {
            "private_key_jwt"
        })
    } else if param(exchange, "client_secret").is_some() {
        Some("post")
    } else if param(exchange, "client_id").is_some() {
        Some("none")
    } else {
        None
    };
    Used {
        grant: if grant_overridden { None } else { step.grant },
        body,
        auth,
        explicit_body: overrides.is_some_and(|r| r.body.is_some()),
        explicit_auth: overrides.is_some_and(|r| r.client_auth.is_some()),
    }
}

/// The token object of a response body: inside the profile's envelope when
/// it holds the token there, else the body; `None` when it has no
/// `access_token`.
fn token_object<'v>(profile: &ProviderProfile, body: &'v Value) -> Option<&'v Value> {
    let object = profile
        .response
        .envelope
        .as_deref()
        .and_then(|pointer| body.pointer(pointer))
        .filter(|v| v.get("access_token").is_some())
        .unwrap_or(body);
    object.get("access_token").is_some().then_some(object)
}

/// The seeded client a step stands for: its `client_id` as the mock target
/// resolves it, so that a live run's client, named by an environment
/// variable, is matched with the seed's by the same step.
fn seed_client<'s>(spec: &'s Spec, step: &Step) -> Option<&'s MockClient> {
    let ParamSpec::One(template) = step.with.get("client_id")? else {
        return None;
    };
    let no_env = |_: &str| None;
    let id = Resolver::new(spec, TargetKind::Mock, &no_env)
        .resolve(template, &HashMap::new())
        .ok()?;
    spec.mock
        .as_ref()?
        .clients
        .iter()
        .find(|client| client.id == id.expose())
}

/// The lifetimes the spec declares beyond its one number or default: the
/// seed's by grant, then each client's own.
fn lifetime_rules(seed: &grantspec_spec::MockSeed) -> Vec<LifetimeRule> {
    let rules = |client: Option<&str>, lifetime: &TokenLifetime| -> Vec<LifetimeRule> {
        lifetime
            .entries()
            .into_iter()
            .filter(|(key, _)| client.is_some() || key.is_some_and(|k| k != "default"))
            .map(|(key, seconds)| LifetimeRule {
                client: client.map(str::to_owned),
                grant: key.filter(|k| *k != "default").map(str::to_owned),
                seconds,
            })
            .collect()
    };
    let mut all = rules(None, &seed.token_lifetime);
    for client in &seed.clients {
        if let Some(lifetime) = &client.token_lifetime {
            all.extend(rules(Some(&client.id), lifetime));
        }
    }
    all
}

fn behaviour(policy: RefreshPolicy) -> RefreshBehaviour {
    match policy {
        RefreshPolicy::Rotate => RefreshBehaviour::Rotate,
        RefreshPolicy::Reuse => RefreshBehaviour::Reuse,
        RefreshPolicy::RotateKeepOld => RefreshBehaviour::RotateKeepOld,
        RefreshPolicy::RotateRevokeFamily => RefreshBehaviour::RotateRevokeFamily,
    }
}

fn says_unsupported_grant(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    text.contains("unsupported_grant_type")
        || (text.contains("grant type") && text.contains("not supported"))
}

/// Accepted wins over refused; refused over nothing seen.
fn observe(capability: &mut Capability, accepted: bool, case: &str) {
    match (capability.run, accepted) {
        (Acceptance::Accepted, false) => return,
        (Acceptance::Accepted, true) | (Acceptance::Rejected, false) => {}
        (_, true) => {
            capability.run = Acceptance::Accepted;
            capability.evidence.clear();
        }
        (Acceptance::NotExercised, false) => capability.run = Acceptance::Rejected,
    }
    if !capability.evidence.iter().any(|e| e == case) {
        capability.evidence.push(case.to_owned());
    }
}

fn find<'a>(list: &'a mut [Capability], name: &str) -> Option<&'a mut Capability> {
    list.iter_mut().find(|c| c.name == name)
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// What the successful token responses of a run showed beyond the
/// capabilities, `token_type`, expiry and refresh, each as the distinct
/// values seen.
#[derive(Default)]
struct Seen {
    cache_headers: Vec<String>,
    content_types: Vec<String>,
    statuses: Vec<String>,
    response_scope: Vec<String>,
    token_formats: Vec<String>,
    extra_members: Vec<String>,
    in_envelope: bool,
}

/// Members of a token response that RFC 6749 (and OpenID Connect's
/// `id_token`) define, and the expiry members the profile knows.
const KNOWN_MEMBERS: [&str; 10] = [
    "access_token",
    "token_type",
    "expires_in",
    "refresh_token",
    "scope",
    "id_token",
    "expires",
    "expires_at",
    "error",
    // RFC 8693 §2.2.1: a token exchange answer's type of token.
    "issued_token_type",
];

/// Whether a token looks like a JWT: three dot-separated base64url parts.
fn jwt_shaped(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts.iter().take(2).all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Seen {
    fn record(&mut self, response: &grantspec_token::HttpResponse, object: &Value) {
        let no_store = response
            .header("cache-control")
            .is_some_and(|v| v.to_ascii_lowercase().contains("no-store"));
        let no_cache = response
            .header("pragma")
            .is_some_and(|v| v.to_ascii_lowercase().contains("no-cache"));
        push_unique(
            &mut self.cache_headers,
            cache_words(no_store, no_cache).to_owned(),
        );
        push_unique(
            &mut self.content_types,
            response
                .header("content-type")
                .unwrap_or("(none)")
                .to_owned(),
        );
        push_unique(&mut self.statuses, response.status.to_string());
        push_unique(
            &mut self.response_scope,
            match object.get("scope") {
                None => "omit",
                Some(Value::String(_)) => "always",
                Some(Value::Array(_)) => "array",
                Some(Value::Null) => "null",
                Some(_) => "other",
            }
            .to_owned(),
        );
        if let Some(token) = object.get("access_token").and_then(Value::as_str) {
            let format = if jwt_shaped(token) { "jwt" } else { "opaque" };
            push_unique(&mut self.token_formats, format.to_owned());
        }
        if let Value::Object(map) = object {
            let extra: Vec<&str> = map
                .keys()
                .map(String::as_str)
                .filter(|k| !KNOWN_MEMBERS.contains(k))
                .collect();
            push_unique(&mut self.extra_members, list_or_none(&extra));
        }
    }
}

fn cache_words(no_store: bool, no_cache: bool) -> &'static str {
    match (no_store, no_cache) {
        (true, true) => "no-store, no-cache",
        (true, false) => "no-store",
        (false, true) => "no-cache",
        (false, false) => "none",
    }
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

/// Distinct values seen, as one value; `None` when nothing was seen.
fn joined(values: &[String]) -> Option<String> {
    (!values.is_empty()).then(|| values.join(" | "))
}

/// Where the spec says a fact comes from; no entry is an assumption.
fn provenance(spec: &Spec, key: &str) -> Provenance {
    match spec.provider.sources.get(key) {
        Some(grantspec_spec::Source::Documented(citation)) => Provenance::Documented {
            citation: citation.clone(),
            docs: spec.provider.docs.clone(),
        },
        Some(grantspec_spec::Source::Assumed(reason)) => Provenance::Assumed {
            reason: reason.clone(),
        },
        None => Provenance::Assumed {
            reason: "the spec names no source".to_owned(),
        },
    }
}

fn about(key: &str) -> String {
    grantspec_spec::facts::FACTS
        .iter()
        .find(|(k, _)| *k == key)
        .map_or_else(String::new, |(_, about)| (*about).to_owned())
}

/// Every provider fact the report shows, with its provenance and what the
/// run's target did.
#[allow(clippy::too_many_arguments)]
fn facts(
    spec: &Spec,
    capabilities: [(&str, &[Capability]); 3],
    token_type: &TokenTypeReport,
    expiry: &ExpiryReport,
    refresh: &RefreshReport,
    errors: &ErrorFormatReport,
    seen: &Seen,
) -> Vec<(Fact, Vec<String>)> {
    let profile = spec.profile();
    let endpoint = &profile.token_endpoint;
    let seed = &*declared_seed(spec);
    let mut facts = Vec::new();
    let mut add = |key: String, spec_says: String, run: Option<String>, evidence: Vec<String>| {
        let run_differs = run.as_ref().is_some_and(|r| *r != spec_says);
        facts.push((
            Fact {
                about: about(&key),
                source: provenance(spec, &key),
                key,
                spec: spec_says,
                run,
                run_differs,
                live: None,
            },
            evidence,
        ));
    };
    add(
        "endpoint".into(),
        format!("{} {}", endpoint.method.as_str(), endpoint.path),
        None,
        Vec::new(),
    );
    add(
        "resource_token".into(),
        spec.profile().resource.token.describe(),
        None,
        Vec::new(),
    );
    add("lists".into(), snake(endpoint.lists), None, Vec::new());
    let renamed: Vec<String> = endpoint
        .rename
        .iter()
        .map(|(rfc, wire)| format!("{rfc} → {wire}"))
        .collect();
    add(
        "rename".into(),
        list_or_none(&renamed.iter().map(String::as_str).collect::<Vec<_>>()),
        None,
        Vec::new(),
    );
    for (kind, list) in capabilities {
        for c in list {
            let run = match c.run {
                Acceptance::Accepted => Some("accepted".to_owned()),
                Acceptance::Rejected => Some("refused".to_owned()),
                Acceptance::NotExercised => None,
            };
            let says = if c.declared { "accepted" } else { "refused" };
            add(
                format!("{kind}.{}", c.name),
                says.to_owned(),
                run,
                c.evidence.clone(),
            );
        }
    }
    let mut type_seen = token_type.run.clone();
    if token_type.run_missing {
        type_seen.push("(absent)".to_owned());
    }
    add(
        "token_type".into(),
        token_type
            .declared
            .clone()
            .unwrap_or_else(|| "(absent)".to_owned()),
        joined(&type_seen),
        Vec::new(),
    );
    let in_envelope = |style: &str, inside: bool| match (&expiry.envelope, inside) {
        (Some(envelope), true) => format!("{style} in {envelope}"),
        _ => style.to_owned(),
    };
    let has = |m: &str| expiry.run_members.iter().any(|x| x == m);
    let style_seen = match (has("expires_in"), has("expires")) {
        (true, true) => "both",
        (true, false) => "expires_in",
        (false, true) => "expires",
        (false, false) => "none",
    };
    let any_token = !token_type.run.is_empty() || token_type.run_missing;
    add(
        "expiry".into(),
        in_envelope(&expiry.style, true),
        any_token.then(|| in_envelope(style_seen, seen.in_envelope)),
        Vec::new(),
    );
    // With lifetimes by grant or client, each lifetime seen is judged
    // against the one declared for its grant and client (below); with one
    // number, every lifetime seen against it, by their texts.
    let (lifetimes, separator): (Vec<String>, &str) = if expiry.declared_rules.is_empty() {
        let values = expiry.run_lifetimes.iter().map(|s| format!("{s} s"));
        (values.collect(), " | ")
    } else {
        let seen = expiry.run_by_grant.iter().map(LifetimeSeen::words);
        (seen.collect(), "; ")
    };
    add(
        "token_lifetime".into(),
        expiry.declared_words(),
        (!lifetimes.is_empty()).then(|| lifetimes.join(separator)),
        Vec::new(),
    );
    add(
        "refresh".into(),
        refresh.declared.map_or_else(
            || "no refresh tokens".to_owned(),
            |declared| declared.as_str().to_owned(),
        ),
        refresh
            .run
            .as_ref()
            .map(grantspec_report::RefreshSeen::words),
        refresh.evidence.clone(),
    );
    let formats: Vec<String> = errors
        .run
        .iter()
        .filter(|f| *f != "other")
        .cloned()
        .collect();
    add(
        "errors".into(),
        errors.format.clone(),
        joined(&formats),
        Vec::new(),
    );
    add(
        "cache_headers".into(),
        cache_words(seed.cache_headers, seed.cache_headers && seed.pragma).to_owned(),
        joined(&seen.cache_headers),
        Vec::new(),
    );
    add(
        "response_scope".into(),
        match seed.response_scope {
            ResponseScope::Omit => "omit",
            ResponseScope::Always => "always",
            ResponseScope::Array => "array",
            ResponseScope::Null => "null",
        }
        .to_owned(),
        joined(&seen.response_scope),
        Vec::new(),
    );
    add(
        "audience".into(),
        if seed.require_audience {
            "required"
        } else {
            "optional"
        }
        .to_owned(),
        None,
        Vec::new(),
    );
    add(
        "token_format".into(),
        match seed.token_format {
            TokenFormat::Opaque => "opaque",
            TokenFormat::Jwt => "jwt",
        }
        .to_owned(),
        joined(&seen.token_formats),
        Vec::new(),
    );
    add(
        "content_type".into(),
        seed.content_type.clone(),
        joined(&seen.content_types),
        Vec::new(),
    );
    add(
        "success_status".into(),
        seed.success_status.to_string(),
        joined(&seen.statuses),
        Vec::new(),
    );
    let extra: Vec<&str> = seed.extra_members.keys().map(String::as_str).collect();
    add(
        "extra_members".into(),
        list_or_none(&extra),
        joined(&seen.extra_members),
        Vec::new(),
    );
    // Facts judged by more than their texts.
    for (fact, _) in &mut facts {
        match fact.key.as_str() {
            "token_lifetime" if !expiry.declared_rules.is_empty() => {
                fact.run_differs = expiry.run_by_grant.iter().any(LifetimeSeen::differs);
            }
            // Per-grant spellings come in the order the cases ran.
            "token_type" => {
                fn set(text: &str) -> Vec<&str> {
                    let mut items: Vec<&str> = text.split(" | ").collect();
                    items.sort_unstable();
                    items.dedup();
                    items
                }
                fact.run_differs = fact
                    .run
                    .as_deref()
                    .is_some_and(|run| set(run) != set(&fact.spec));
            }
            "refresh" => {
                fact.run_differs = refresh.run.as_ref().is_some_and(|seen| {
                    refresh
                        .declared
                        .is_none_or(|declared| !seen.allows(declared))
                });
            }
            _ => {}
        }
    }
    if spec.is_live_only() {
        for (fact, _) in &mut facts {
            let capability = ["grant.", "body.", "client_auth."]
                .iter()
                .any(|kind| fact.key.starts_with(kind));
            let from_seed = if capability {
                fact.spec != "accepted"
            } else {
                SEED_FACTS.contains(&fact.key.as_str())
            };
            if from_seed {
                fact.spec = NOT_DECLARED.to_owned();
                fact.run_differs = false;
            }
        }
    }
    facts
}

/// The facts only a mock seed declares (besides the grants, and the body
/// encodings and client authentication methods beyond the profile's own):
/// a live-only spec declares none of them.
const SEED_FACTS: [&str; 10] = [
    "token_type",
    "token_lifetime",
    "refresh",
    "cache_headers",
    "response_scope",
    "audience",
    "token_format",
    "content_type",
    "success_status",
    "extra_members",
];

/// The dialect columns of the matrix, from the profile and the seed.
fn dialect(spec: &Spec) -> Dialect {
    let profile = spec.profile();
    let shape = &profile.response;
    let renamed_members = shape
        .members
        .renamed()
        .map(|(rfc, name)| format!("{rfc} → {name}"))
        .collect();
    Dialect {
        encoding: snake(shape.encoding),
        renamed_members,
        errors_with_status: spec
            .mock
            .as_ref()
            .and_then(|seed| seed.error_status)
            .filter(|status| (200..300).contains(status)),
        token_placement: profile.resource.token.describe(),
    }
}

/// The seed whose values the report shows as what the spec says: the spec's
/// own or, for a live-only spec (no `mock` section), an empty one. Having no
/// clients, it declares no grant and no body encoding or client
/// authentication beyond the profile's; its other values are shown as
/// [`NOT_DECLARED`].
fn declared_seed(spec: &Spec) -> Cow<'_, MockSeed> {
    spec.mock
        .as_ref()
        .map_or_else(|| Cow::Owned(MockSeed::default()), Cow::Borrowed)
}

/// What the target did with a case's last request that got an answer.
fn way_outcome(profile: &ProviderProfile, report: Option<&&CaseReport>) -> WayOutcome {
    let Some(report) = report else {
        return WayOutcome::NotExercised;
    };
    if matches!(report.judgement, Judgement::Ignored(_)) {
        return WayOutcome::NotExercised;
    }
    let Some((exchange, response)) = report
        .run
        .exchanges
        .iter()
        .rev()
        .find_map(|e| e.response.as_ref().map(|r| (e, r)))
    else {
        return WayOutcome::NotExercised;
    };
    // A token endpoint's error under a success status is a refusal.
    let answer = match exchange.kind {
        rfc::ExchangeKind::Token => TokenAnswer::of(profile, response),
        rfc::ExchangeKind::Resource | rfc::ExchangeKind::DeviceAuthorization => {
            match response.status {
                200..=299 => TokenAnswer::Issued,
                400.. => TokenAnswer::Refused,
                _ => TokenAnswer::Other,
            }
        } // An authorization request refused outright; a redirect (with a
        // code or an error) says nothing of the token endpoint.
        rfc::ExchangeKind::Authorization => match response.status {
            400.. => TokenAnswer::Refused,
            _ => TokenAnswer::Other,
        },
    };
    match answer {
        TokenAnswer::Issued => WayOutcome::Accepted,
        TokenAnswer::Refused => WayOutcome::Refused,
        TokenAnswer::Other if response.status >= 500 => WayOutcome::Refused,
        TokenAnswer::Other => WayOutcome::NotExercised,
    }
}

/// The spec's contradictions, with what the run's target did with each way.
fn contradictions(spec: &Spec, cases: &[&CaseReport]) -> Vec<ContradictionReport> {
    let profile = spec.profile();
    spec.provider
        .contradictions
        .iter()
        .map(|c| ContradictionReport {
            id: c.id.clone(),
            about: c.about.clone(),
            ways: c
                .ways
                .iter()
                .map(|w| WayReport {
                    says: w.says.clone(),
                    quote: w.quote.clone(),
                    location: w.location.as_str().to_owned(),
                    case: w.case.clone(),
                    run: way_outcome(&profile, cases.iter().find(|r| r.case == w.case)),
                    live: None,
                })
                .collect(),
            live_at: None,
        })
        .collect()
}

fn provider_report(
    spec: &Spec,
    target: Target,
    cases: &[&CaseReport],
    drift: &rfc::DeviationReport,
    generated_at: Option<String>,
) -> ProviderReport {
    let profile = spec.profile();
    let endpoint = &profile.token_endpoint;
    let seed = &*declared_seed(spec);
    let live_only = spec.is_live_only();

    let mut grants: Vec<Capability> = GrantKind::ALL
        .iter()
        .map(|grant| {
            let declared = seed.clients.iter().any(|c| c.grants.contains(grant));
            Capability::new(grant.as_str(), false, declared)
        })
        .collect();
    let mut body_encodings: Vec<Capability> = BODY_ENCODINGS
        .iter()
        .map(|name| {
            let default = snake(endpoint.body) == *name;
            let declared = default || seed.accepts.iter().any(|b| snake(b) == *name);
            Capability::new(*name, default, declared)
        })
        .collect();
    let public_client = seed
        .clients
        .iter()
        .any(|c| c.secret.is_none() || c.grants.contains(&GrantKind::Implicit));
    let mut client_auth: Vec<Capability> = CLIENT_AUTH
        .iter()
        .map(|name| {
            let default = snake(endpoint.client_auth) == *name;
            let declared = default
                || seed.client_auth.iter().any(|a| snake(a) == *name)
                || (*name == snake(ClientAuth::None) && public_client);
            Capability::new(*name, default, declared)
        })
        .collect();

    let mut token_type = TokenTypeReport {
        declared: (!seed.token_type.is_empty() && !live_only).then(|| {
            let mut spellings = vec![seed.token_type.clone()];
            for spelling in seed.token_type_by_grant.values() {
                push_unique(&mut spellings, spelling.to_owned());
            }
            spellings.join(" | ")
        }),
        assume_bearer_when_missing: profile.response.missing_token_type
            == MissingTokenType::AssumeBearer,
        run: Vec::new(),
        run_missing: false,
    };
    let mut expiry = ExpiryReport {
        style: snake(profile.response.expiry),
        envelope: profile.response.envelope.clone(),
        declared_lifetime: if live_only {
            0
        } else {
            seed.token_lifetime
                .default_seconds()
                .unwrap_or(DEFAULT_TOKEN_LIFETIME)
        },
        declared_rules: lifetime_rules(seed),
        run_members: Vec::new(),
        run_lifetimes: Vec::new(),
        run_by_grant: Vec::new(),
    };
    let refresh_issued = seed
        .clients
        .iter()
        .any(|c| c.grants.contains(&GrantKind::RefreshToken));
    let mut inference = refresh::Inference::default();
    let mut errors = ErrorFormatReport {
        format: snake(profile.errors),
        run: Vec::new(),
    };
    let mut seen = Seen::default();
    let mut tally = grantspec_report::Tally::default();
    let mut results = Vec::new();

    // Cases in spec order, whatever order the reports came in.
    let mut ordered: Vec<&CaseReport> = cases.to_vec();
    ordered.sort_by_key(|r| {
        spec.cases
            .iter()
            .position(|c| c.name == r.case)
            .unwrap_or(usize::MAX)
    });
    for report in &ordered {
        let case = spec.cases.iter().find(|c| c.name == report.case);
        let result = case_result(
            &report.case,
            case.and_then(|c| c.description.clone()),
            &report.judgement,
        );
        tally.count(result.outcome);
        results.push(result);
        let Some(case) = case else { continue };

        let bodies: Vec<Option<Value>> = report
            .run
            .exchanges
            .iter()
            .map(|e| e.response.as_ref().and_then(|r| r.json()))
            .collect();
        inference.case(
            &report.name,
            &refresh::events(case, &report.run.exchanges, &bodies, &profile),
        );

        let steps: Vec<&Step> = case
            .steps
            .iter()
            .filter(|s| !matches!(s.kind(), Some(StepKind::Advance(_)) | None))
            .collect();
        for (step, exchange) in steps.iter().zip(&report.run.exchanges) {
            if !matches!(step.kind(), Some(StepKind::Grant(_))) {
                continue;
            }
            let Some(response) = &exchange.response else {
                continue;
            };
            let used = used(step, exchange);
            let name = report.name.as_str();
            let answer = TokenAnswer::of(&profile, response);
            let success = answer == TokenAnswer::Issued;
            let refused = answer == TokenAnswer::Refused;
            if success {
                if let Some(c) = used.grant.and_then(|g| find(&mut grants, g.as_str())) {
                    observe(c, true, name);
                }
                if let Some(c) = used.body.and_then(|b| find(&mut body_encodings, b)) {
                    observe(c, true, name);
                }
                if let Some(c) = used.auth.and_then(|a| find(&mut client_auth, a)) {
                    observe(c, true, name);
                }
            } else if refused {
                if says_unsupported_grant(&response.body) {
                    if let Some(c) = used.grant.and_then(|g| find(&mut grants, g.as_str())) {
                        observe(c, false, name);
                    }
                }
                if used.explicit_body {
                    if let Some(c) = used.body.and_then(|b| find(&mut body_encodings, b)) {
                        observe(c, false, name);
                    }
                }
                if used.explicit_auth {
                    if let Some(c) = used.auth.and_then(|a| find(&mut client_auth, a)) {
                        observe(c, false, name);
                    }
                }
            }

            let json = response.json();
            if success {
                let Some(body) = json else { continue };
                let Some(object) = token_object(&profile, &body) else {
                    continue;
                };
                seen.record(response, object);
                if !std::ptr::eq(object, &body) {
                    seen.in_envelope = true;
                }
                match object.get("token_type") {
                    Some(Value::String(spelling)) => {
                        push_unique(&mut token_type.run, spelling.clone());
                    }
                    Some(other) => push_unique(&mut token_type.run, other.to_string()),
                    None => token_type.run_missing = true,
                }
                for member in ["expires_in", "expires", "expires_at"] {
                    if object.get(member).is_some() {
                        push_unique(&mut expiry.run_members, member.to_owned());
                    }
                }
                let lifetime = match object.get("expires_in") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(s)) => s.trim().parse().ok(),
                    _ => None,
                };
                if let Some(lifetime) = lifetime {
                    push_unique(&mut expiry.run_lifetimes, lifetime);
                    if let Some(grant) = used.grant {
                        let client = seed_client(spec, step);
                        push_unique(
                            &mut expiry.run_by_grant,
                            LifetimeSeen {
                                grant: grant.as_str().to_owned(),
                                client: client
                                    .filter(|c| c.token_lifetime.is_some())
                                    .map(|c| c.id.clone()),
                                seconds: lifetime,
                                declared: seed.token_lifetime_for(client, grant),
                            },
                        );
                    }
                }
            } else if response.status >= 400 {
                let format = match &json {
                    Some(Value::Object(map)) if map.get("error").is_some_and(Value::is_string) => {
                        "rfc6749"
                    }
                    Some(Value::Object(map)) if map.get("errors").is_some_and(Value::is_array) => {
                        "errors_array"
                    }
                    Some(Value::Object(_))
                        if response
                            .header("content-type")
                            .is_some_and(|t| t.contains("problem+json")) =>
                    {
                        "problem"
                    }
                    _ => "other",
                };
                push_unique(&mut errors.run, format.to_owned());
            }
        }
    }
    expiry.run_lifetimes.sort_unstable();
    let refresh = RefreshReport {
        declared: refresh_issued.then(|| behaviour(seed.refresh)),
        run: inference.seen(),
        evidence: inference.evidence,
        observations: inference.observations,
    };

    let facts = facts(
        spec,
        [
            ("grant", &grants),
            ("body", &body_encodings),
            ("client_auth", &client_auth),
        ],
        &token_type,
        &expiry,
        &refresh,
        &errors,
        &seen,
    );
    let differences = facts
        .iter()
        .filter(|(fact, _)| fact.run_differs)
        .map(|(fact, evidence)| {
            let run = fact.run.as_deref().unwrap_or_default();
            let cases = if evidence.is_empty() {
                String::new()
            } else {
                format!(" ({})", evidence.join(", "))
            };
            match target {
                Target::Mock => format!(
                    "`{}`: the spec says `{}` ({}), but the mock emulated `{run}`{cases}: a bug in the mock",
                    fact.key,
                    fact.spec,
                    fact.source.label()
                ),
                Target::Live => format!(
                    "`{}`: the spec says `{}` ({}), the live provider answered `{run}`{cases}: drift",
                    fact.key,
                    fact.spec,
                    fact.source.label()
                ),
            }
        })
        .collect();
    let facts = facts.into_iter().map(|(fact, _)| fact).collect();
    let run = match target {
        Target::Mock => RunSource {
            kind: RunKind::Emulated,
            at: None,
        },
        Target::Live => RunSource {
            kind: RunKind::ObservedLive,
            at: generated_at,
        },
    };

    ProviderReport {
        id: spec.provider.id.clone(),
        name: spec.provider.name.clone(),
        docs: spec.provider.docs.clone(),
        target,
        endpoint: Endpoint {
            method: endpoint.method.as_str().to_owned(),
            path: endpoint.path.clone(),
            renamed: endpoint.rename.clone(),
            lists: snake(endpoint.lists),
        },
        grants,
        body_encodings,
        client_auth,
        token_type,
        expiry,
        refresh,
        errors,
        dialect: dialect(spec),
        rfc: rfc_results(drift, cases),
        deviations: spec.provider.deviations.clone(),
        live_only,
        notes: spec.provider.notes.iter().map(note_report).collect(),
        quirks: spec
            .provider
            .quirks
            .iter()
            .map(|quirk| QuirkReport {
                id: quirk.id.clone(),
                note: note_report(&quirk.note),
                case: quirk.case.clone(),
            })
            .collect(),
        run,
        facts,
        contradictions: contradictions(spec, cases),
        differences,
        live_differences: Vec::new(),
        outcome: tally,
        cases: results,
    }
}

/// A spec note as the report shows it.
fn note_report(note: &Note) -> NoteReport {
    let (basis, on) = match &note.basis {
        Basis::Unstated => (NoteBasis::Unstated, None),
        Basis::Documented => (NoteBasis::Documented, None),
        Basis::Observed { on } => (NoteBasis::Observed, on.clone()),
    };
    NoteReport {
        text: note.text.clone(),
        basis,
        on,
    }
}

/// `2026-01-02T03:04:05Z`.
fn rfc3339(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let rem = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        utc_date(time),
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// The UTC date of `time`, `2026-01-02`: what a note observed on a day, or
/// a report generated at a time, says.
pub fn utc_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        let at = |secs| rfc3339(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_767_323_045), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn utc_dates() {
        let day = |days: u64| utc_date(UNIX_EPOCH + Duration::from_secs(days * 86_400));
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(19_723), "2024-01-01");
        assert_eq!(day(20_788), "2026-12-01");
        assert_eq!(day(11_016), "2000-02-29");
    }

    #[test]
    fn unsupported_grant_wording() {
        assert!(says_unsupported_grant(
            br#"{"error":"unsupported_grant_type"}"#
        ));
        assert!(says_unsupported_grant(
            br#"{"errors":[{"detail":"The authorization grant type `password` is not supported by this server."}]}"#
        ));
        assert!(!says_unsupported_grant(br#"{"error":"invalid_client"}"#));
    }
}
