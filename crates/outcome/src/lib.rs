//! How a check or a trial came out, modelled once.
//!
//! The RFC checks (`grantspec-conformance`) judge with [`Severity`] and
//! [`CheckOutcome`], the runner judges trials into a [`CaseOutcome`], and
//! the report (`grantspec-report`) serialises and renders the same types:
//! nothing maps one enum onto another by hand, and every reader ranks
//! outcomes the same way. This crate depends on serde only, so both sides
//! can use it without depending on each other.

use serde::{Deserialize, Serialize};

/// How much a broken rule matters: it follows the RFC's word for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A MUST, MUST NOT or REQUIRED of the RFC, or a normative definition
    /// that leaves no choice (ABNF, media type, parameter names): breaking
    /// it fails the check.
    Failure,
    /// A SHOULD, SHOULD NOT or RECOMMENDED, other advice, or a heuristic
    /// (even one approximating a MUST): breaking it warns.
    Warning,
}

impl Severity {
    /// `failure` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Warning => "warning",
        }
    }
}

/// How a check came out on an exchange, a case or a provider's run.
///
/// Ordered from least to most severe (`NotApplicable < Pass < Warn <
/// Fail`), so the worst of several is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// The rule has nothing to judge here.
    NotApplicable,
    /// The rule holds.
    Pass,
    /// The rule is broken and the check (or this way of breaking it) is a
    /// warning.
    Warn,
    /// The rule is broken and the check is a failure.
    Fail,
}

impl CheckOutcome {
    /// `pass`, `warn`, `fail` or `n/a`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::NotApplicable => "n/a",
        }
    }

    /// Whether the rule was broken (warned or failed).
    pub fn is_deviation(self) -> bool {
        matches!(self, Self::Warn | Self::Fail)
    }

    /// The worse of two outcomes.
    pub fn worst(self, other: Self) -> Self {
        self.max(other)
    }
}

/// How a trial ended, as a report shows it (the runner's verdict, without
/// its message).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// Everything held.
    Passed,
    /// Something did not hold.
    Failed,
    /// The case held but its snapshot is new and not yet reviewed: a
    /// failure, as in `cargo test`.
    Pending,
    /// The case could not run on this target (libtest's "ignored").
    Skipped,
}

impl CaseOutcome {
    /// `passed`, `failed`, `pending` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Pending => "pending",
            Self::Skipped => "skipped",
        }
    }

    /// Whether the trial failed (a pending snapshot fails).
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_wins_and_not_applicable_is_the_least() {
        use CheckOutcome::*;
        assert_eq!(NotApplicable.worst(Pass), Pass);
        assert_eq!(Pass.worst(NotApplicable), Pass);
        assert_eq!(Pass.worst(Warn), Warn);
        assert_eq!(Fail.worst(Warn), Fail);
        assert_eq!(Warn.worst(Fail), Fail);
    }

    #[test]
    fn outcomes_serialise_in_snake_case() {
        let json = serde_json::to_string(&(
            Severity::Warning,
            CheckOutcome::NotApplicable,
            CaseOutcome::Pending,
        ))
        .unwrap_or_default();
        assert_eq!(json, r#"["warning","not_applicable","pending"]"#);
    }
}
