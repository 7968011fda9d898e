//! Running one case: resolve, build, send, check, capture.

use std::collections::HashMap;

use grantspec_spec::matcher::lookup;
use grantspec_spec::template::{Resolver, TargetKind, Unresolved};
use grantspec_spec::{Case, Expect, Matcher, Mismatch, ParamSpec, Spec, Step};
use grantspec_token::{
    ClientCredentials, HttpRequest, HttpResponse, ParamValue, ProviderProfile, SecretString, Text,
    Transport, build_raw,
};
use serde_json::Value;
use url::Url;

use crate::config::Env;

/// One request of a case and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `step 2 of 3 (refresh_token)`.
    pub label: String,
    /// The request as sent (secrets stay marked).
    pub request: HttpRequest,
    /// The endpoint path relative to the provider's base URL, the same for
    /// every target.
    pub endpoint: String,
    /// The response, unless the exchange failed.
    pub response: Option<HttpResponse>,
    /// Why the exchange failed, when it did.
    pub transport_error: Option<String>,
    /// Expectations that did not hold.
    pub mismatches: Vec<PathMismatch>,
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
}

/// Everything needed to run cases of one spec against one target.
pub struct CaseContext<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// Its profile.
    pub profile: &'a ProviderProfile,
    /// Where the provider is.
    pub base_url: &'a Url,
    /// Mock or live.
    pub target: TargetKind,
    /// Environment for `${env:…}`.
    pub env: &'a Env,
    /// The HTTP client.
    pub transport: &'a Transport,
}

/// Runs `case`.
pub async fn run_case(cx: &CaseContext<'_>, case: &Case) -> CaseRun {
    let mut run = CaseRun {
        verdict: Verdict::Passed,
        exchanges: Vec::new(),
        error: None,
        secrets: Vec::new(),
    };
    let env_lookup = |name: &str| cx.env.get(name);
    let resolver = Resolver::new(cx.spec, cx.target, &env_lookup);
    let steps = case.steps();
    let mut captures: HashMap<String, Value> = HashMap::new();

    for (index, step) in steps.iter().enumerate() {
        let label = format!("step {} of {} ({})", index + 1, steps.len(), step.grant);
        let request = match build_step(cx, &resolver, step, &captures, &mut run.secrets) {
            Ok(request) => request,
            Err(StepError::Missing(name)) => {
                run.verdict = Verdict::Skipped(format!(
                    "needs environment variable {name}, which is not set"
                ));
                return run;
            }
            Err(StepError::Other(message)) => {
                run.verdict = Verdict::Failed;
                run.error = Some(format!("{label}: {message}"));
                return run;
            }
        };
        let (response, transport_error) = match cx.transport.send(&request).await {
            Ok(response) => (Some(response), None),
            Err(error) => (None, Some(error.to_string())),
        };
        let mismatches = response
            .as_ref()
            .map(|response| check(&step.expect, response))
            .unwrap_or_default();
        let failed = transport_error.is_some() || !mismatches.is_empty();
        if let (Some(id), Some(body)) = (&step.id, response.as_ref().and_then(HttpResponse::json)) {
            let envelope = cx.profile.response.envelope.as_deref();
            let captured = envelope
                .and_then(|pointer| body.pointer(pointer).cloned())
                .unwrap_or(body);
            captures.insert(id.clone(), captured);
        }
        run.exchanges.push(Exchange {
            label,
            request,
            endpoint: cx.profile.token_endpoint.path.clone(),
            response,
            transport_error,
            mismatches,
        });
        if failed {
            run.verdict = Verdict::Failed;
            return run;
        }
    }
    run
}

enum StepError {
    Missing(String),
    Other(String),
}

impl From<Unresolved> for StepError {
    fn from(error: Unresolved) -> Self {
        match error {
            Unresolved::MissingEnv(name) => Self::Missing(name),
            other => Self::Other(other.to_string()),
        }
    }
}

fn build_step(
    cx: &CaseContext<'_>,
    resolver: &Resolver<'_>,
    step: &Step,
    captures: &HashMap<String, Value>,
    secrets: &mut Vec<SecretString>,
) -> Result<HttpRequest, StepError> {
    let mut client_id = None;
    let mut client_secret = None;
    let mut params = Vec::new();
    for (name, value) in &step.with {
        let value = match value {
            ParamSpec::One(template) => ParamValue::One(resolver.resolve(template, captures)?),
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
        };
        if let ParamValue::One(Text::Secret(secret)) = &value {
            secrets.push(secret.clone());
        }
        match (name.as_str(), value) {
            ("client_id", ParamValue::One(text)) => client_id = Some(text.expose().to_owned()),
            ("client_secret", ParamValue::One(text)) => {
                let secret = SecretString::from(text.expose().to_owned());
                secrets.push(secret.clone());
                client_secret = Some(secret);
            }
            (_, value) => params.push((name.clone(), value)),
        }
    }
    let client = client_id.map(|id| ClientCredentials {
        id,
        secret: client_secret,
    });
    build_raw(
        cx.profile,
        cx.base_url,
        step.grant.as_str(),
        client.as_ref(),
        params,
    )
    .map_err(|e| StepError::Other(e.to_string()))
}

/// Checks a response against expectations.
pub fn check(expect: &Expect, response: &HttpResponse) -> Vec<PathMismatch> {
    let mut mismatches = Vec::new();
    if let Some(status) = expect.status {
        if status != response.status {
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
        let Some(body) = response.json() else {
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
            if let Err(mismatch) = matcher.check(lookup(&body, key)) {
                let path = if key.starts_with('/') {
                    key.clone()
                } else {
                    format!("/{key}")
                };
                let expected_value = match matcher {
                    Matcher::Literal(value) => Some(value.clone()),
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
