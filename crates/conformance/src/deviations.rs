//! Deviations: which ones findings show, and how they compare with what a
//! provider spec declares.

use std::collections::BTreeSet;

use crate::{Finding, Outcome, checks_for_deviation, known_deviation};

#[cfg(test)]
use crate::shown_by_requests_alone;

/// The deviation ids of checks that failed or warned.
pub fn observed_deviations(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings
        .iter()
        .filter(|f| f.outcome.is_deviation())
        .map(|f| f.check.deviation)
        .collect()
}

/// The deviation ids of checks that judged something (passed, warned or
/// failed) at least once. A declared deviation outside this set was not
/// exercised by the run, which is not the same as fixed.
pub fn exercised_deviations(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings
        .iter()
        .filter(|f| f.outcome != Outcome::NotApplicable)
        .map(|f| f.check.deviation)
        .collect()
}

/// Declared deviations against observed ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviationReport {
    /// Observed but not declared: drift, the provider deviates in a new way.
    pub undeclared: Vec<&'static str>,
    /// Declared but not observed: the provider no longer deviates (or the id
    /// is unknown).
    pub unobserved: Vec<String>,
    /// Declared, not observed, and not judged because the target could not
    /// show it: on the mock target, deviations the mock does not emulate for
    /// this provider. They are judged on a live run; nothing here fails.
    pub not_emulated: Vec<String>,
}

impl DeviationReport {
    /// Whether declarations and observations agree.
    pub fn is_clean(&self) -> bool {
        self.undeclared.is_empty() && self.unobserved.is_empty()
    }

    /// One message per disagreement, saying what to do.
    pub fn messages(&self) -> Vec<String> {
        self.messages_seen_in(None)
    }

    /// One note per declared deviation left unjudged because the mock does
    /// not emulate it ([`DeviationReport::not_emulated`]).
    pub fn notes(&self) -> Vec<String> {
        self.not_emulated
            .iter()
            .map(|id| {
                format!(
                    "declared deviation `{id}` is not emulated by the mock: judged on the live target only"
                )
            })
            .collect()
    }

    /// [`DeviationReport::messages`], saying where the undeclared deviations
    /// were seen when that is not the provider's own dialect (`a bent
    /// request's response`).
    pub fn messages_seen_in(&self, seen_in: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let seen_in = seen_in.map(|what| format!(", shown by {what}"));
        for id in &self.undeclared {
            let checks: Vec<&str> = checks_for_deviation(id).map(|c| c.id).collect();
            out.push(format!(
                "undeclared deviation `{id}` ({}){}: the provider now deviates from the RFC; declare it under provider.deviations if that is known and accepted",
                checks.join(", "),
                seen_in.as_deref().unwrap_or_default()
            ));
        }
        for id in &self.unobserved {
            if known_deviation(id) {
                out.push(format!(
                    "declared deviation `{id}` was not observed: the provider no longer deviates; remove the declaration"
                ));
            } else {
                out.push(format!(
                    "declared deviation `{id}` is not a deviation id any check reports; see docs/conformance.md for the list"
                ));
            }
        }
        out
    }
}

/// Compares a spec's declared deviations with those observed in a run.
pub fn compare_deviations(
    declared: &[String],
    observed: &BTreeSet<&'static str>,
) -> DeviationReport {
    let declared_set: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
    DeviationReport {
        undeclared: observed
            .iter()
            .filter(|id| !declared_set.contains(**id))
            .copied()
            .collect(),
        unobserved: declared_set
            .iter()
            .filter(|id| !observed.contains(**id))
            .map(|id| (*id).to_owned())
            .collect(),
        not_emulated: Vec::new(),
    }
}

// ---------------------------------------------------------------------------
// Documentation.

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::*;

    #[test]
    fn deviations_are_observed_and_compared_both_ways() {
        let fixture = fx(
            "envelope and errors",
            vec![
                cc(ok(json!({ "data": token_with(json!({})) }))),
                cc(error(400, json!({ "errors": [{ "status": 400 }] }))),
            ],
            &[],
        );
        let findings = run(&fixture);
        let observed = observed_deviations(&findings);
        assert_eq!(
            observed.iter().copied().collect::<Vec<_>>(),
            vec!["errors-array", "response-envelope"]
        );
        assert!(exercised_deviations(&findings).contains("missing-cache-headers"));
        assert!(!exercised_deviations(&findings).contains("password-grant"));

        let declared = vec![
            "response-envelope".to_owned(),
            "password-grant".to_owned(),
            "no-such-deviation".to_owned(),
        ];
        let report = compare_deviations(&declared, &observed);
        assert_eq!(report.undeclared, vec!["errors-array"]);
        assert_eq!(
            report.unobserved,
            vec!["no-such-deviation", "password-grant"]
        );
        assert!(!report.is_clean());
        let messages = report.messages().join("\n");
        assert!(
            messages.contains("undeclared deviation `errors-array` (RFC6749-5.2-no-errors-array)"),
            "{messages}"
        );
        assert!(messages.contains("`password-grant` was not observed: the provider no longer deviates; remove the declaration"), "{messages}");
        assert!(
            messages.contains("`no-such-deviation` is not a deviation id"),
            "{messages}"
        );

        let clean = compare_deviations(
            &["errors-array".to_owned(), "response-envelope".to_owned()],
            &observed,
        );
        assert!(clean.is_clean() && clean.messages().is_empty());
    }

    #[test]
    fn deviations_shown_by_requests_alone_are_those_whose_checks_read_only_the_request() {
        for id in [
            "json-request-body",
            "token-request-method",
            "renamed-scope-parameter",
            "repeated-audience-parameter",
            "non-bearer-authorization",
        ] {
            assert!(shown_by_requests_alone(id), "{id}");
        }
        // Issued a token for `implicit`: the request and what came of it.
        assert!(!shown_by_requests_alone("non-uri-grant-type"));
        assert!(!shown_by_requests_alone("password-grant"));
        assert!(!shown_by_requests_alone("missing-cache-headers"));
        assert!(!shown_by_requests_alone("no-such-deviation"));
    }

    #[test]
    fn deviations_not_emulated_are_notes_not_failures() {
        let report = DeviationReport {
            not_emulated: vec!["expires-in-as-string".to_owned()],
            ..DeviationReport::default()
        };
        assert!(report.is_clean());
        assert!(report.messages().is_empty());
        assert_eq!(
            report.notes(),
            [
                "declared deviation `expires-in-as-string` is not emulated by the mock: judged on the live target only"
            ]
        );
    }

    #[test]
    fn known_deviations_include_those_the_seed_specs_declare() {
        for id in [
            "repeated-audience-parameter",
            "json-request-body",
            "missing-token-type",
            "renamed-scope-parameter",
            "password-grant",
            "response-envelope",
            "errors-array",
            "non-uri-grant-type",
            "absolute-expires",
            "missing-cache-headers",
            "expires-in-as-string",
            "refresh-token-syntax",
        ] {
            assert!(known_deviation(id), "{id}");
        }
        assert!(!known_deviation("lower-case-token-type"));
    }

    #[test]
    fn deviation_ids_lists_each_checks_deviation_once() {
        let ids: Vec<&str> = crate::deviation_ids().collect();
        let distinct: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(ids.len(), distinct.len(), "{ids:?}");
        for check in crate::CHECKS {
            assert!(distinct.contains(check.deviation), "{}", check.id);
        }
    }
}
