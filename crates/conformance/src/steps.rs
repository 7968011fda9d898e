//! The steps of a case as sequence checks read them, read once from the
//! exchanges' contexts, and the tally a sequence check keeps across them.

use std::borrow::Cow;
use std::collections::BTreeSet;

use grantspec_token::{CLOCK_OFFSET_HEADER, PkceMethod};
use serde_json::Value;

use crate::ExchangeKind::Token;
use crate::ctx::Ctx;
use crate::params::{Param, names_scope, request_headers, split_scheme};
use crate::token_view::Class;
use crate::{Check, Details, ExchangeKind, Finding, Judged, finding};

/// What one exchange of a case contributes to sequence checks. Token values
/// are held in memory to link steps, and never shown.
pub(crate) struct Step<'c> {
    pub(crate) number: usize,
    pub(crate) kind: ExchangeKind,
    pub(crate) success: bool,
    pub(crate) grant: Option<&'c str>,
    pub(crate) sent_refresh: Option<&'c str>,
    pub(crate) requested_scope: Option<BTreeSet<String>>,
    pub(crate) stated_scope: Option<BTreeSet<String>>,
    pub(crate) issued_access: Option<&'c str>,
    pub(crate) issued_refresh: Option<&'c str>,
    pub(crate) lifetime: Option<u64>,
    pub(crate) clock_offset: u64,
    pub(crate) public_client: bool,
    pub(crate) sender_constrained: bool,
    pub(crate) bearer_sent: Option<&'c str>,
    pub(crate) status: u16,
    /// The client the request names: its Basic id, else `client_id`.
    pub(crate) client_id: Option<Cow<'c, str>>,
    /// A token request's `code`, `code_verifier` and `redirect_uri`.
    pub(crate) sent_code: Option<&'c str>,
    pub(crate) sent_verifier: Option<&'c str>,
    pub(crate) sent_redirect_uri: Option<&'c str>,
    /// An authorization request's PKCE challenge and method (`plain` when
    /// the request names none, RFC 7636 §4.3).
    pub(crate) challenge: Option<(&'c str, PkceMethod)>,
    /// The code the redirect answering an authorization request carried.
    pub(crate) issued_code: Option<String>,
    /// The `(iss, jti)` of each JWT assertion sent, by parameter.
    pub(crate) jtis: Vec<(&'static str, (String, String))>,
    /// The `device_code` sent (a poll).
    pub(crate) device_code: Option<&'c str>,
    /// The `device_code` a device authorization answered.
    pub(crate) issued_device_code: Option<&'c str>,
    /// The `interval` a device authorization answered.
    pub(crate) interval: Option<u64>,
    /// The `error` of an error answer.
    pub(crate) error: Option<&'c str>,
    /// The response's `Date`, in seconds since the Unix epoch.
    pub(crate) date: Option<u64>,
}

impl Step<'_> {
    pub(crate) fn is_refresh(&self) -> bool {
        self.kind == Token && self.grant == Some("refresh_token")
    }

    pub(crate) fn is_code_exchange(&self) -> bool {
        self.kind == Token && self.grant == Some("authorization_code")
    }
}

/// The `code` in the query or fragment of a redirect's `Location`.
fn code_in_location(response: &grantspec_token::HttpResponse) -> Option<String> {
    let location = response.header("location")?;
    location
        .split(['?', '#'])
        .skip(1)
        .flat_map(|part| url::form_urlencoded::parse(part.as_bytes()))
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .filter(|code| !code.is_empty())
}

/// A Basic client id, form-decoded as RFC 6749 §2.3.1 encodes it.
fn basic_id(id: &str) -> Cow<'_, str> {
    if !id.contains(['%', '+']) {
        return Cow::Borrowed(id);
    }
    url::form_urlencoded::parse(format!("id={id}").as_bytes())
        .next()
        .map_or(Cow::Borrowed(id), |(_, value)| {
            Cow::Owned(value.into_owned())
        })
}

pub(crate) fn scope_set(values: &[Cow<'_, str>]) -> BTreeSet<String> {
    values
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_owned)
        .collect()
}

pub(crate) fn analyse<'c>(contexts: &'c [Ctx<'_>]) -> Vec<Step<'c>> {
    contexts
        .iter()
        .enumerate()
        .map(|(index, cx)| {
            let facts = &cx.facts;
            let param = |name: &str| cx.params.iter().find(|p| p.name == name);
            let requested_scope = cx
                .params
                .iter()
                .find(|p| names_scope(&p.name))
                .map(|p| scope_set(&p.values))
                .filter(|s| !s.is_empty());
            let view = cx.token;
            let member = |name: &str| {
                view.as_ref()
                    .and_then(|v| v.object.get(name))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            };
            let stated_scope = view
                .as_ref()
                .and_then(|v| v.object.get("scope"))
                .and_then(grantspec_token::scope_values)
                .map(|scopes| scopes.into_iter().collect());
            let lifetime = view
                .as_ref()
                .and_then(|v| v.object.get("expires_in"))
                .and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
            let clock_offset = request_headers(facts.request, CLOCK_OFFSET_HEADER)
                .find_map(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let public_client = cx.basic.is_none()
                && param("client_secret").is_none()
                && param("client_assertion").is_none();
            let sender_constrained = request_headers(facts.request, "dpop").next().is_some();
            let bearer_sent = request_headers(facts.request, "authorization")
                .map(split_scheme)
                .find(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token);
            let authorization = facts.kind == ExchangeKind::Authorization;
            let client_id = match &cx.basic {
                Some(Ok(basic)) => Some(basic_id(basic.id())),
                _ => param("client_id")
                    .and_then(Param::first_value)
                    .map(Cow::Borrowed),
            };
            let challenge_method = param("code_challenge_method").and_then(Param::first_value);
            let challenge = param("code_challenge")
                .and_then(Param::first_value)
                .filter(|_| authorization)
                .and_then(|challenge| Some((challenge, PkceMethod::parse(challenge_method)?)));
            Step {
                number: index + 1,
                client_id,
                sent_code: param("code")
                    .and_then(Param::first_value)
                    .filter(|_| !authorization),
                sent_verifier: param("code_verifier").and_then(Param::first_value),
                sent_redirect_uri: param("redirect_uri").and_then(Param::first_value),
                challenge,
                issued_code: authorization
                    .then(|| code_in_location(facts.response))
                    .flatten(),
                kind: facts.kind,
                success: cx.class == Class::Success,
                grant: cx.grant_type.as_deref(),
                sent_refresh: param("refresh_token").and_then(Param::first_value),
                requested_scope,
                stated_scope,
                issued_access: member("access_token"),
                issued_refresh: member("refresh_token"),
                lifetime,
                clock_offset,
                public_client,
                sender_constrained,
                bearer_sent,
                status: facts.response.status,
                jtis: crate::extension_grants::assertions(cx)
                    .into_iter()
                    .filter_map(|assertion| Some((assertion.param, assertion.id()?)))
                    .collect(),
                device_code: param("device_code").and_then(Param::first_value),
                issued_device_code: (facts.kind == ExchangeKind::DeviceAuthorization)
                    .then(|| cx.json.and_then(|json| json.get("device_code")))
                    .flatten()
                    .and_then(Value::as_str),
                interval: (facts.kind == ExchangeKind::DeviceAuthorization)
                    .then(|| cx.json.and_then(|json| json.get("interval")))
                    .flatten()
                    .and_then(Value::as_u64),
                error: (cx.class == Class::Error)
                    .then(|| cx.error_code())
                    .flatten(),
                date: crate::extension_grants::response_date(cx),
            }
        })
        .collect()
}

/// Instances of a sequence check across a case.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) violations: Vec<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) passes: Vec<String>,
    pub(crate) not_applicable: Option<&'static str>,
}

impl Tally {
    pub(crate) fn finding(
        self,
        check: &'static Check,
        position: usize,
        details: Details,
    ) -> Finding {
        let judged = if !self.violations.is_empty() {
            Judged::Violated(self.violations.join("; ").into())
        } else if !self.warnings.is_empty() {
            Judged::Warned(self.warnings.join("; ").into())
        } else if !self.passes.is_empty() {
            Judged::Pass(self.passes.join("; ").into())
        } else {
            Judged::NotApplicable(
                self.not_applicable
                    .unwrap_or("nothing in the case to judge")
                    .into(),
            )
        };
        finding(check, position, judged, details)
    }
}
