//! The conformance engine: every exchange of a case is checked against the
//! token-endpoint rules of RFC 6749 (§2.3, §3.2, §3.3, §4, §4.4.3, §4.5, §5.1,
//! §5.2, §6, §7.1, §10.10, Appendix A), RFC 6750 (§2.1, §3) and the OAuth 2.0
//! Security BCP (RFC 9700), beside the case's own expectations; and, for a
//! provider whose spec names its discovery metadata, the metadata (RFC 8414,
//! OpenID Connect Discovery) and its JWT access tokens (RFC 9068) against what
//! the endpoint did ([`check_metadata`]).
//!
//! Every rule is a [`Check`] in [`CHECKS`]: a stable id, the clause it comes
//! from, a [`Severity`] (failure for a MUST, warning for a SHOULD or a
//! heuristic)
//! and the deviation id a provider spec declares when it knowingly breaks the
//! rule. [`check_exchange`] judges one request and its response,
//! [`check_sequence`] the steps of one case together (refresh scope, bearer
//! use, refresh-token rotation). Both return one [`Finding`] per check they
//! own, whatever its [`Outcome`], so a report can count pass, warn, fail and
//! not applicable by clause.
//!
//! [`observed_deviations`] turns findings into the deviation ids a run shows,
//! and [`compare_deviations`] compares them with what a spec declares.
//!
//! Everything here is pure: no I/O, no async. Secrets and tokens are read in
//! memory where a rule needs them (to decode a Basic header, to follow a
//! refresh token from the step that issued it) and never appear in a
//! finding's detail. `docs/conformance.md` documents every check; its table is
//! [`markdown_table`].
//!
//! The checks live by area, one module each: client authentication
//! (`client_auth`), the request's shape (`request_shape`), the success
//! response (`success`), the tokens themselves (`strength`), the error
//! response (`error_response`), bearer use at the protected resource
//! (`bearer`), where the token goes at the resource (`placement`), refresh
//! and other sequences (`refresh`), the authorization code grant and PKCE
//! (`code`), whom and what a grant is for (`grants`), the extension grants
//! and JWT client authentication (`extension_grants`: RFC 7523, 8628,
//! 8693), and discovery metadata (`metadata`). A check is one
//! `const` [`Check`] there, carrying its rule (one exchange, a case's
//! sequence, or the provider's metadata) and its evaluation function, next to which it sits; the
//! module's tests hold its failing and passing fixtures. [`CHECKS`] only
//! orders them. The areas read exchanges through shared readers: the
//! exchange's context (`ctx`), its parameters and headers (`params`), its
//! token object (`token_view`), challenges (`challenge`), ABNF character
//! classes (`syntax`) and a case's steps (`steps`).

mod bearer;
mod challenge;
mod client_auth;
mod code;
mod ctx;
mod deviations;
mod docs;
mod error_response;
mod extension_grants;
mod grants;
mod metadata;
mod params;
mod placement;
mod refresh;
mod request_shape;
mod steps;
mod strength;
mod success;
mod syntax;
#[cfg(test)]
mod testkit;
mod token_view;

use std::borrow::Cow;
use std::sync::OnceLock;

use grantspec_token::{HttpRequest, HttpResponse};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::steps::{Step, Tally, analyse};

pub use deviations::{
    DeviationReport, compare_deviations, exercised_deviations, observed_deviations,
};
pub use docs::markdown_table;
pub use grants::{jwt_scope, scope_from_json};
pub use metadata::{
    MetadataFacts, OAUTH_WELL_KNOWN, OIDC_WELL_KNOWN, RFC9068_CLAIMS, check_metadata,
    well_known_urls,
};

pub use grantspec_outcome::Severity;

/// One conformance rule, with how it is judged.
///
/// Checks are equal when their ids are: an id names one check.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    /// Unique and stable, such as `RFC6749-5.1-content-type`.
    pub id: &'static str,
    /// The clause the rule comes from, such as `RFC6749-5.1`.
    pub clause: &'static str,
    /// Failure for a MUST, warning for a SHOULD or a heuristic.
    pub severity: Severity,
    /// The rule, in one line.
    pub title: &'static str,
    /// What the check reads in the exchange, and when it applies.
    pub looks_at: &'static str,
    /// The kebab-case deviation id a provider spec declares when the provider
    /// knowingly breaks this rule. Several checks may share one.
    pub deviation: &'static str,
    /// How the check judges: one exchange at a time, or a case's sequence.
    pub(crate) rule: Rule,
}

impl PartialEq for Check {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Check {}

impl std::hash::Hash for Check {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.id.hash(state);
    }
}

/// How a check came out on an exchange or a case (the one check outcome
/// type, shared with the report).
pub use grantspec_outcome::CheckOutcome as Outcome;

/// A check's outcome, with what was seen. The detail never contains a secret
/// or a token value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check.
    pub check: &'static Check,
    /// How it came out.
    pub outcome: Outcome,
    /// What was seen, in words; names parameters and members, never secret
    /// values.
    pub detail: Cow<'static, str>,
    /// The check's position in [`CHECKS`].
    position: usize,
}

impl Finding {
    /// The check's position in [`CHECKS`]: a small dense index, for sets of
    /// checks.
    pub fn position(&self) -> usize {
        self.position
    }
}

/// Which findings say what was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Details {
    /// Every finding: what [`check_exchange`] and [`check_sequence`] give.
    All,
    /// Only deviations (warnings and failures); a pass or a not-applicable
    /// finding has an empty detail. What a case run keeps: failure messages
    /// and reports show only deviations' details, and formatting the others
    /// would cost a case run more than judging every rule does.
    Deviations,
}

/// What kind of call an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeKind {
    /// A request to the token endpoint.
    Token,
    /// A protected-resource call presenting a token (a `resource` step).
    Resource,
    /// An authorization request (RFC 6749 §4.1.1) and the redirect that
    /// answered it (an `authorize` step); only sequence checks read it.
    Authorization,
    /// A request to the device authorization endpoint (RFC 8628 §3.1).
    DeviceAuthorization,
}

/// One exchange to judge: the request as sent and the response received.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeFacts<'a> {
    /// The request as sent; secrets stay marked.
    pub request: &'a HttpRequest,
    /// The response.
    pub response: &'a HttpResponse,
    /// The response body as JSON, as [`HttpResponse::json`] reads it. The
    /// caller parses it once and shares it with its own checks.
    pub json: Option<&'a Value>,
    /// The `grant_type` the step asked for, when it is a token request. When
    /// `None`, the request's own `grant_type` parameter is used.
    pub grant_type: Option<&'a str>,
    /// Whether the request is what the provider's profile builds. `false`
    /// when the case overrode the request to probe the provider (another
    /// method, body, client authentication, raw body, extra headers…): then
    /// the request-side checks are not applicable, since they would blame the
    /// provider for the tester's choice. Response-side checks still apply.
    pub request_is_profile_shaped: bool,
    /// Token endpoint or protected resource.
    pub kind: ExchangeKind,
}

// ---------------------------------------------------------------------------
// The catalogue.

/// Every check, in the order reports show them. Each area module defines
/// its checks; this list only orders them.
pub const CHECKS: &[Check] = &[
    client_auth::NO_CREDENTIALS_IN_URL,
    client_auth::BASIC_FORM_ENCODED,
    client_auth::ONE_AUTH_METHOD,
    request_shape::POST_METHOD,
    request_shape::FORM_ENCODED_BODY,
    request_shape::NO_REPEATED_PARAMETERS,
    request_shape::NO_REPEATED_AUDIENCE,
    request_shape::NO_EMPTY_PARAMETERS,
    request_shape::SCOPE_PARAMETER_NAME,
    request_shape::PARAMETER_NAMES,
    success::CLIENT_CREDENTIALS_NO_REFRESH,
    success::STATUS_200,
    success::SUCCESS_CONTENT_TYPE,
    success::NO_ENVELOPE,
    success::ACCESS_TOKEN,
    success::TOKEN_TYPE,
    success::EXPIRES_IN_PRESENT,
    success::EXPIRES_IN_NUMBER,
    success::EXPIRES_IN_RANGE,
    success::RELATIVE_EXPIRY,
    success::SCOPE_FORMAT,
    success::NO_STORE,
    error_response::ERROR_STATUS,
    error_response::ERROR_CONTENT_TYPE,
    error_response::ERROR_MEMBER,
    error_response::NO_ERRORS_ARRAY,
    error_response::NO_PROBLEM_DETAILS,
    error_response::ERROR_CODE,
    error_response::ERROR_TEXT_SYNTAX,
    error_response::BASIC_CHALLENGE,
    refresh::REFRESH_SCOPE_NOT_WIDER,
    refresh::WIDER_SCOPE_REFUSED,
    refresh::ROTATION_KEEPS_SCOPE,
    success::TOKEN_TYPE_REGISTERED,
    strength::TOKEN_ENTROPY,
    refresh::DISTINCT_ACCESS_TOKENS,
    bearer::AUTHORIZATION_HEADER,
    strength::B64TOKEN,
    strength::REFRESH_TOKEN_SYNTAX,
    bearer::BEARER_ACCEPTED,
    bearer::BEARER_CHALLENGE,
    bearer::INVALID_TOKEN_ERROR,
    bearer::INSUFFICIENT_SCOPE,
    request_shape::EXTENSION_GRANT_URI,
    refresh::REFRESH_ROTATION,
    refresh::USED_REFRESH_TOKEN_INVALIDATED,
    refresh::REPLAY_REVOKES_ACTIVE_TOKEN,
    request_shape::PASSWORD_GRANT,
    code::CODE_SINGLE_USE,
    code::CODE_REPLAY_REVOKES_TOKENS,
    code::REDIRECT_URI_MATCH,
    code::WRONG_VERIFIER_REFUSED,
    code::VERIFIER_REQUIRED,
    code::VERIFIER_WITHOUT_CHALLENGE_REFUSED,
    code::PLAIN_WHERE_S256,
    grants::CLIENT_CREDENTIALS_AUTHENTICATED,
    grants::REFRESH_BOUND_TO_CLIENT,
    grants::SCOPE_STATED_WHEN_CHANGED,
    metadata::METADATA_DOCUMENT,
    metadata::METADATA_ISSUER,
    metadata::METADATA_TOKEN_ENDPOINT,
    metadata::METADATA_AUTH_METHODS,
    metadata::METADATA_GRANT_TYPES,
    metadata::JWT_TYP,
    metadata::JWT_CLAIMS,
    metadata::JWT_SIGNATURE,
    placement::SCHEME_PRESENT,
    placement::TOKEN_NOT_IN_QUERY,
    placement::FORM_FIELD_TOKEN,
    extension_grants::ASSERTION_AUDIENCE,
    extension_grants::ASSERTION_EXPIRY,
    extension_grants::ASSERTION_REPLAY,
    extension_grants::DEVICE_ERROR_CODES,
    extension_grants::DEVICE_SLOW_DOWN,
    extension_grants::ISSUED_TOKEN_TYPE,
];

/// The check with this id.
pub fn find_check(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|check| check.id == id)
}

/// Whether `id` is a deviation id some check can report.
pub fn known_deviation(id: &str) -> bool {
    CHECKS.iter().any(|check| check.deviation == id)
}

/// Every deviation id some check can report, each once, in catalogue order.
pub fn deviation_ids() -> impl Iterator<Item = &'static str> {
    CHECKS
        .iter()
        .enumerate()
        .filter(|(at, check)| {
            !CHECKS[..*at]
                .iter()
                .any(|earlier| earlier.deviation == check.deviation)
        })
        .map(|(_, check)| check.deviation)
}

/// The checks that report deviation `id`.
pub fn checks_for_deviation(id: &str) -> impl Iterator<Item = &'static Check> + '_ {
    CHECKS.iter().filter(move |check| check.deviation == id)
}

/// Whether deviation `id` shows in requests alone: every check that reports
/// it judges the request and nothing of the response. Any target, the mock
/// or a live provider, then shows it exactly when the requests sent to it
/// do. False for an id no check reports.
pub fn shown_by_requests_alone(id: &str) -> bool {
    let mut checks = checks_for_deviation(id).peekable();
    checks.peek().is_some()
        && checks.all(|check| {
            matches!(
                check.rule,
                Rule::Exchange {
                    side: Side::Request,
                    ..
                }
            )
        })
}

/// Whether deviation `id` is reported by metadata checks only: it shows only
/// where a spec names its discovery metadata ([`check_metadata`]), so never
/// against the mock, which serves none. False for an id no check reports.
pub fn shown_by_metadata_only(id: &str) -> bool {
    let mut checks = checks_for_deviation(id).peekable();
    checks.peek().is_some() && checks.all(|check| matches!(check.rule, Rule::Metadata(_)))
}

// ---------------------------------------------------------------------------
// Rules: how a check judges.

/// Which part of an exchange a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The request alone: not applicable when the case overrode the
    /// request.
    Request,
    /// The request the profile builds, together with what the response did
    /// with it (whether a token was issued for it): not applicable when the
    /// case overrode the request, as a request-side rule.
    RequestAndOutcome,
    /// The response (possibly read together with the request).
    Response,
}

/// What a rule found, before the check's severity is applied.
pub(crate) enum Judged {
    Pass(Detail),
    /// The rule is broken: fail or warn as the check's severity says.
    Violated(Detail),
    /// The rule is broken in a way that only warns, whatever the severity.
    Warned(Detail),
    NotApplicable(Detail),
}

/// A finding's detail: most are fixed texts, which need no allocation.
pub(crate) type Detail = Cow<'static, str>;

/// How a check judges: each [`Check`] carries its one rule.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rule {
    /// One exchange at a time: `n/a` on the other kind of exchange, and a
    /// request-side rule is `n/a` on a request the case overrode.
    Exchange {
        kind: ExchangeKind,
        side: Side,
        eval: fn(&Ctx<'_>) -> Judged,
    },
    /// The steps of a case together.
    Sequence(fn(&[Step<'_>]) -> Tally),
    /// The provider's discovery metadata, against a case's exchanges: only
    /// judged when a spec names its metadata ([`check_metadata`]).
    Metadata(fn(&metadata::MetaCtx<'_>) -> Judged),
}

/// Judges one exchange: one [`Finding`] for every per-exchange check, in
/// [`CHECKS`] order, `NotApplicable` where the check has nothing to judge
/// (a token check on a resource call, a request check on an overridden
/// request, an error check on a success…).
pub fn check_exchange(facts: &ExchangeFacts<'_>) -> Vec<Finding> {
    exchange_findings(&Ctx::new(*facts, Details::All))
}

/// [`check_exchange`] of a context: every exchange rule, in catalogue order.
fn exchange_findings(cx: &Ctx<'_>) -> Vec<Finding> {
    let facts = &cx.facts;
    let catalogue = Catalogue::get();
    // Room for the case's sequence findings too: a caller putting a case's
    // findings in one list (the runner does) then extends this one in place.
    let mut findings = Vec::with_capacity(catalogue.exchange.len() + catalogue.sequence.len());
    findings.extend(catalogue.exchange.iter().map(|&position| {
        let check = &CHECKS[position];
        let Rule::Exchange { kind, side, eval } = check.rule else {
            unreachable!("the catalogue lists exchange checks only")
        };
        let judged = if kind != facts.kind {
            Judged::NotApplicable(match kind {
                ExchangeKind::Token => "not a token-endpoint exchange".into(),
                ExchangeKind::Resource => "not a protected-resource call".into(),
                ExchangeKind::Authorization => "not an authorization request".into(),
                ExchangeKind::DeviceAuthorization => "not a device authorization request".into(),
            })
        } else if side != Side::Response && !facts.request_is_profile_shaped {
            Judged::NotApplicable(
                "the case overrode the request, so its shape is the tester's choice".into(),
            )
        } else {
            eval(cx)
        };
        finding(check, position, judged, cx.details)
    }));
    findings
}

/// Judges the steps of one case together, in order: one [`Finding`] for
/// every sequence check (refresh scope, rotation, bearer use). Details name
/// exchanges by their 1-based position in `exchanges`.
pub fn check_sequence(exchanges: &[ExchangeFacts<'_>]) -> Vec<Finding> {
    let contexts: Vec<Ctx<'_>> = exchanges
        .iter()
        .map(|facts| Ctx::new(*facts, Details::All))
        .collect();
    sequence_findings(&contexts, Details::All)
}

/// Whether a sequence rule can judge anything in a case: a refresh, a
/// resource call, or two successful token responses.
fn sequence_relevant(contexts: &[Ctx<'_>]) -> bool {
    contexts.iter().any(Ctx::sequence_relevant)
        || contexts
            .iter()
            .filter(|cx| cx.facts.kind == ExchangeKind::Token && cx.token.is_some())
            .nth(1)
            .is_some()
}

/// [`check_sequence`] of contexts: every sequence rule, in catalogue order.
fn sequence_findings(contexts: &[Ctx<'_>], details: Details) -> Vec<Finding> {
    // Every sequence rule judges a refresh, a resource call or a second
    // token; a case with none of them (most cases: one grant) gives them
    // nothing to judge, and its steps are not worth reading: the rules come
    // out on no steps as they always do, worked out once.
    if sequence_relevant(contexts) {
        judge_steps(&analyse(contexts), details)
    } else {
        judged_on_no_steps(details).to_vec()
    }
}

/// Every sequence rule, in catalogue order, judging `steps`.
fn judge_steps(steps: &[Step<'_>], details: Details) -> Vec<Finding> {
    Catalogue::get()
        .sequence
        .iter()
        .map(|&position| {
            let check = &CHECKS[position];
            let Rule::Sequence(eval) = check.rule else {
                unreachable!("the catalogue lists sequence checks only")
            };
            eval(steps).finding(check, position, details)
        })
        .collect()
}

/// [`judge_steps`] on no steps, with `details`: the same for every case,
/// so judged once.
fn judged_on_no_steps(details: Details) -> &'static [Finding] {
    static JUDGED: OnceLock<[Vec<Finding>; 2]> = OnceLock::new();
    let [all, deviations] =
        JUDGED.get_or_init(|| [Details::All, Details::Deviations].map(|d| judge_steps(&[], d)));
    match details {
        Details::All => all,
        Details::Deviations => deviations,
    }
}

/// Every exchange of a case judged alone ([`check_exchange`], one list per
/// exchange) and the exchanges together ([`check_sequence`]), reading each
/// exchange once, with the `details` asked for.
pub fn check_case(
    exchanges: &[ExchangeFacts<'_>],
    details: Details,
) -> (Vec<Vec<Finding>>, Vec<Finding>) {
    let contexts: Vec<Ctx<'_>> = exchanges
        .iter()
        .map(|facts| Ctx::new(*facts, details))
        .collect();
    let each = contexts.iter().map(exchange_findings).collect();
    (each, sequence_findings(&contexts, details))
}

/// [`check_metadata`] of a context: every metadata rule, in catalogue order.
fn metadata_findings(mx: &metadata::MetaCtx<'_>, details: Details) -> Vec<Finding> {
    Catalogue::get()
        .metadata
        .iter()
        .map(|&position| {
            let check = &CHECKS[position];
            let Rule::Metadata(eval) = check.rule else {
                unreachable!("the catalogue lists metadata checks only")
            };
            finding(check, position, eval(mx), details)
        })
        .collect()
}

/// Every exchange judged alone, as [`check_exchange`] does, with the
/// `details` asked for: one list per exchange. What a case's bent requests
/// get, which are judged apart from the provider's dialect.
pub fn check_exchanges(exchanges: &[ExchangeFacts<'_>], details: Details) -> Vec<Vec<Finding>> {
    exchanges
        .iter()
        .map(|facts| exchange_findings(&Ctx::new(*facts, details)))
        .collect()
}

/// Where the exchange checks and the sequence checks stand in [`CHECKS`],
/// worked out once.
struct Catalogue {
    /// Positions of the checks with a [`Rule::Exchange`], in order.
    exchange: Vec<usize>,
    /// Positions of the checks with a [`Rule::Sequence`], in order.
    sequence: Vec<usize>,
    /// Positions of the checks with a [`Rule::Metadata`], in order.
    metadata: Vec<usize>,
}

impl Catalogue {
    fn get() -> &'static Self {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            let of = |wanted: fn(&Rule) -> bool| {
                (0..CHECKS.len())
                    .filter(|&position| wanted(&CHECKS[position].rule))
                    .collect()
            };
            Self {
                exchange: of(|rule| matches!(rule, Rule::Exchange { .. })),
                sequence: of(|rule| matches!(rule, Rule::Sequence(_))),
                metadata: of(|rule| matches!(rule, Rule::Metadata(_))),
            }
        })
    }
}

pub(crate) fn finding(
    check: &'static Check,
    position: usize,
    judged: Judged,
    details: Details,
) -> Finding {
    let (outcome, detail) = match judged {
        Judged::Pass(detail) => (Outcome::Pass, detail),
        Judged::Violated(detail) => (violation(check), detail),
        Judged::Warned(detail) => (Outcome::Warn, detail),
        Judged::NotApplicable(detail) => (Outcome::NotApplicable, detail),
    };
    let detail = match details {
        Details::Deviations if !outcome.is_deviation() => Cow::Borrowed(""),
        _ => detail,
    };
    Finding {
        check,
        outcome,
        detail,
        position,
    }
}

fn violation(check: &Check) -> Outcome {
    match check.severity {
        Severity::Failure => Outcome::Fail,
        Severity::Warning => Outcome::Warn,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::testkit::all_fixtures as fixtures;
    use crate::testkit::*;

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }

    #[test]
    fn every_check_has_a_failing_and_a_passing_fixture() {
        let mut broken = BTreeSet::new();
        let mut held = BTreeSet::new();
        for fixture in fixtures() {
            for (id, outcome) in fixture.expect {
                match outcome {
                    Pass => held.insert(id),
                    Fail | Warn => broken.insert(id),
                    NA => false,
                };
            }
        }
        // Metadata checks keep their fixtures in `metadata.rs`.
        let missing: Vec<String> = CHECKS
            .iter()
            .filter(|check| !matches!(check.rule, Rule::Metadata(_)))
            .filter_map(|check| {
                let what: Vec<&str> = [
                    (!broken.contains(check.id)).then_some("a failing"),
                    (!held.contains(check.id)).then_some("a passing"),
                ]
                .into_iter()
                .flatten()
                .collect();
                (!what.is_empty()).then(|| format!("{} lacks {}", check.id, what.join(" and ")))
            })
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn a_broken_rule_fails_or_warns_by_its_severity() {
        for fixture in fixtures() {
            for finding in run(&fixture) {
                if finding.check.severity == Severity::Warning {
                    assert_ne!(
                        finding.outcome, Fail,
                        "{}: {}",
                        fixture.name, finding.check.id
                    );
                }
            }
        }
    }

    #[test]
    fn details_never_show_secrets_or_tokens() {
        for fixture in fixtures() {
            for finding in run(&fixture) {
                for marker in ["SECRET", "TKN"] {
                    assert!(
                        !finding.detail.contains(marker),
                        "{}: {} shows a secret: {}",
                        fixture.name,
                        finding.check.id,
                        finding.detail
                    );
                }
            }
        }
    }

    #[test]
    fn checks_are_unique_well_formed_and_each_judged_by_one_rule() {
        let mut ids = BTreeSet::new();
        for check in CHECKS {
            assert!(ids.insert(check.id), "duplicate check id {}", check.id);
            assert!(
                check.id.starts_with(&format!("{}-", check.clause)),
                "{} does not start with its clause {}",
                check.id,
                check.clause
            );
            assert!(
                !check.deviation.is_empty()
                    && check
                        .deviation
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}: deviation {:?} is not kebab-case",
                check.id,
                check.deviation
            );
            for text in [check.title, check.looks_at] {
                assert!(
                    !text.contains('|') && !text.contains('\n'),
                    "{}: table-breaking text",
                    check.id
                );
            }
        }
        // Each check carries its one rule, so no check is judged by two
        // rules or none; a check an area defines but `CHECKS` leaves out is
        // dead code, which the lints refuse. What is left to see is that the
        // catalogue runs every check once: as an exchange check or as a
        // sequence check.
        let catalogue = Catalogue::get();
        let mut judged: Vec<usize> = catalogue
            .exchange
            .iter()
            .chain(&catalogue.sequence)
            .chain(&catalogue.metadata)
            .copied()
            .collect();
        judged.sort_unstable();
        assert_eq!(judged, (0..CHECKS.len()).collect::<Vec<_>>());
    }

    #[test]
    fn sequence_rules_judge_nothing_without_a_refresh_or_resource_call() {
        // `sequence_findings` skips reading the steps of such a case, and
        // gives the rules' findings on no steps, judged once: every rule
        // must come out the same on its steps.
        for fixture in fixtures() {
            let bodies = bodies(&fixture);
            let contexts: Vec<Ctx<'_>> = facts(&fixture, &bodies)
                .into_iter()
                .map(|facts| Ctx::new(facts, Details::All))
                .collect();
            if sequence_relevant(&contexts) {
                continue;
            }
            let steps = analyse(&contexts);
            for details in [Details::All, Details::Deviations] {
                assert_eq!(
                    sequence_findings(&contexts, details),
                    judge_steps(&steps, details),
                    "{} ({details:?})",
                    fixture.name
                );
            }
        }
    }

    #[test]
    fn findings_cover_every_check_once_in_catalogue_order() {
        let fixtures = fixtures();
        let fixture = fixtures
            .iter()
            .find(|fixture| fixture.name == "conformant client_credentials")
            .unwrap();
        let findings = run(fixture);
        let ids: Vec<&str> = findings.iter().map(|f| f.check.id).collect();
        let mut expected: Vec<&str> = CHECKS
            .iter()
            .filter(|c| matches!(c.rule, Rule::Exchange { .. }))
            .map(|c| c.id)
            .collect();
        expected.extend(
            CHECKS
                .iter()
                .filter(|c| matches!(c.rule, Rule::Sequence(_)))
                .map(|c| c.id),
        );
        assert_eq!(ids, expected);
    }
}
