//! The one verdict: how a trial ended, judged once, in this crate, for every
//! way of running it (`cargo test`, `cargo nextest run`, `cargo xtask
//! report` and its junit.xml, `cargo xtask record`).
//!
//! A run has three kinds of trial, named as libtest lists them:
//! `<file stem>::spec` for a spec file that did not load, `<provider>::<case>`
//! for each case, and `<provider>::declared_deviations` for each provider.
//! [`Suite::trials`](crate::Suite::trials) lists them in that order, and
//! every entry point judges each one into a [`Judgement`], so their verdicts
//! and totals cannot disagree.

use grantspec_report::CaseOutcome;
use libtest_mimic::{Completion, Failed};

use crate::snapshot::SnapshotCheck;

/// How a trial ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Everything held: expectations, RFC checks, snapshot, declarations.
    Passed,
    /// Something did not hold; the failure says what.
    Failed(Failure),
    /// The trial did not run here, for this reason (the spec marks the case
    /// `ignore:`, its tags exclude the target, or a live variable is missing).
    /// libtest counts it as ignored.
    Ignored(String),
}

/// Why a trial failed, and the message that says it (redacted, with a diff
/// where there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What failed.
    pub kind: FailureKind,
    /// The whole message, as `cargo test` prints it.
    pub message: String,
}

/// What made a trial fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// An expectation did not hold, a request failed, or an exchange showed
    /// a deviation the spec does not declare (whatever the snapshot says).
    Case,
    /// The case held, but its response differs from the stored snapshot.
    SnapshotChanged,
    /// The case held, but it has no stored snapshot yet: a pending snapshot
    /// awaits review. It fails, as a new insta snapshot does, so that an
    /// unreviewed answer never passes.
    SnapshotPending,
    /// The provider's declared deviations disagree with what its cases
    /// showed.
    Deviations,
    /// The spec file did not load.
    Spec,
}

impl FailureKind {
    /// A short name: `case`, `snapshot-changed`, `snapshot-pending`,
    /// `deviations` or `spec`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Case => "case",
            Self::SnapshotChanged => "snapshot-changed",
            Self::SnapshotPending => "snapshot-pending",
            Self::Deviations => "deviations",
            Self::Spec => "spec",
        }
    }
}

impl Judgement {
    /// A failure of this kind with this message.
    pub fn failed(kind: FailureKind, message: impl Into<String>) -> Self {
        Self::Failed(Failure {
            kind,
            message: message.into(),
        })
    }

    /// A case's verdict from its own run (`case_failure`: the message when an
    /// expectation, a request or a declaration failed) and, when it keeps
    /// one, how its snapshot compared. A case that failed is a
    /// [`FailureKind::Case`] failure whatever its snapshot says, and the
    /// message then shows both.
    pub fn of_case(
        case_name: &str,
        case_failure: Option<String>,
        snapshot: Option<&SnapshotCheck>,
    ) -> Self {
        let snapshot_failure = snapshot.and_then(|check| {
            let kind = match check {
                SnapshotCheck::Matched => return None,
                SnapshotCheck::New { .. } => FailureKind::SnapshotPending,
                SnapshotCheck::Changed { .. } => FailureKind::SnapshotChanged,
            };
            Some((kind, check.failure(case_name)?))
        });
        match (case_failure, snapshot_failure) {
            (None, None) => Self::Passed,
            (Some(failure), Some((_, snapshot))) => {
                Self::failed(FailureKind::Case, format!("{failure}\n{snapshot}"))
            }
            (Some(failure), None) => Self::failed(FailureKind::Case, failure),
            (None, Some((kind, snapshot))) => Self::failed(kind, snapshot),
        }
    }

    /// A provider's declared-deviations trial: passes when its declarations
    /// and what its cases showed agree. A failure's message ends with the
    /// declared deviations left unjudged ([`DeviationReport::notes`]).
    ///
    /// [`DeviationReport::notes`]: grantspec_conformance::DeviationReport::notes
    pub fn of_deviations(report: &grantspec_conformance::DeviationReport) -> Self {
        if report.is_clean() {
            Self::Passed
        } else {
            let mut lines = report.messages();
            lines.extend(report.notes());
            Self::failed(FailureKind::Deviations, lines.join("\n"))
        }
    }

    /// The outcome a report shows: a missing snapshot is [`CaseOutcome::Pending`],
    /// any other failure [`CaseOutcome::Failed`].
    pub fn outcome(&self) -> CaseOutcome {
        match self {
            Self::Passed => CaseOutcome::Passed,
            Self::Failed(failure) if failure.kind == FailureKind::SnapshotPending => {
                CaseOutcome::Pending
            }
            Self::Failed(_) => CaseOutcome::Failed,
            Self::Ignored(_) => CaseOutcome::Skipped,
        }
    }

    /// Whether the trial failed.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Failed(_))
    }

    /// The failure, if the trial failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(failure) => Some(failure),
            _ => None,
        }
    }

    /// The reason the trial was ignored, if it was.
    pub fn ignored_reason(&self) -> Option<&str> {
        match self {
            Self::Ignored(reason) => Some(reason),
            _ => None,
        }
    }

    /// `passed`, `failed` or `ignored`, as libtest says it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed(_) => "failed",
            Self::Ignored(_) => "ignored",
        }
    }

    /// What a libtest-mimic trial returns for this verdict.
    pub fn to_libtest(&self) -> Result<Completion, Failed> {
        match self {
            Self::Passed => Ok(Completion::Completed),
            Self::Failed(failure) => Err(Failed::from(failure.message.as_str())),
            Self::Ignored(reason) => Ok(Completion::ignored_with(reason)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_that_held_is_judged_by_its_snapshot() {
        let matched = Judgement::of_case("p::c", None, Some(&SnapshotCheck::Matched));
        assert_eq!(matched, Judgement::Passed);
        let pending = Judgement::of_case(
            "p::c",
            None,
            Some(&SnapshotCheck::New {
                pending: None,
                mock_snapshot: None,
            }),
        );
        assert_eq!(
            pending.failure().map(|f| f.kind),
            Some(FailureKind::SnapshotPending)
        );
        let changed = Judgement::of_case(
            "p::c",
            None,
            Some(&SnapshotCheck::Changed {
                diff: "-a\n+b".into(),
                pending: None,
            }),
        );
        let failure = changed.failure().expect("a changed snapshot fails");
        assert_eq!(failure.kind, FailureKind::SnapshotChanged);
        assert!(failure.message.contains("-a\n+b"), "{}", failure.message);
    }

    #[test]
    fn a_failed_case_is_a_case_failure_and_shows_its_snapshot_too() {
        let judged = Judgement::of_case(
            "p::c",
            Some("expected 601, got 600".into()),
            Some(&SnapshotCheck::New {
                pending: None,
                mock_snapshot: None,
            }),
        );
        let failure = judged.failure().expect("fails");
        assert_eq!(failure.kind, FailureKind::Case);
        assert!(failure.message.contains("expected 601, got 600"));
        assert!(failure.message.contains("has no stored snapshot"));
    }
}
