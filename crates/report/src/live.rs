//! Folding an earlier live report into a report, so what the spec says
//! (documented or assumed), what the mock emulated and what the live
//! provider was observed doing stand side by side.

use std::fmt;

use crate::model::{
    Compatibility, FORMAT_VERSION, LiveFact, LiveReportRef, NOT_DECLARED, Target, WayOutcome,
};

/// Why a file cannot be folded in as a live report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveReportError {
    /// Not a `compatibility.json` at all.
    NotAReport(String),
    /// Written by a different version of the report format.
    FormatVersion {
        /// The file's `format_version`.
        found: u64,
    },
    /// A report of a mock run: the mock's emulation is not an observation.
    NotLive,
    /// A live report without `generated_at`: nothing to date the
    /// observations with.
    Undated,
    /// Folding into a report that is itself live.
    IntoLive,
}

impl fmt::Display for LiveReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAReport(why) => write!(f, "not a grantspec compatibility.json: {why}"),
            Self::FormatVersion { found } => write!(
                f,
                "the report has format_version {found}, this grantspec reads {FORMAT_VERSION}: rerun `cargo xtask report --live` with this version"
            ),
            Self::NotLive => write!(
                f,
                "the report is of a mock run (target `mock`): only a live report (`cargo xtask report --live`) holds observations of the provider"
            ),
            Self::Undated => write!(
                f,
                "the live report has no `generated_at`, so its observations cannot be dated"
            ),
            Self::IntoLive => write!(
                f,
                "this run is itself live: fold a live report into a mock run's report"
            ),
        }
    }
}

impl std::error::Error for LiveReportError {}

/// Reads the `compatibility.json` of a live run, refusing anything else: a
/// file that is not a report, a report of another format version, a mock
/// run's report, or a live report without a date.
pub fn read_live_report(text: &str) -> Result<Compatibility, LiveReportError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| LiveReportError::NotAReport(e.to_string()))?;
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| LiveReportError::NotAReport("no `format_version`".to_owned()))?;
    if version != u64::from(FORMAT_VERSION) {
        return Err(LiveReportError::FormatVersion { found: version });
    }
    let report: Compatibility =
        serde_json::from_value(value).map_err(|e| LiveReportError::NotAReport(e.to_string()))?;
    if report.target != Target::Live {
        return Err(LiveReportError::NotLive);
    }
    if report.generated_at.is_none() {
        return Err(LiveReportError::Undated);
    }
    Ok(report)
}

impl Compatibility {
    /// Folds in what an earlier live run observed: each provider's facts
    /// get the live value (dated by the live report's `generated_at`) and
    /// whether it differs from what the spec says, each contradiction which
    /// ways live confirmed, and `live_differences` lists the drift.
    /// Providers the live report does not hold get "not observed live".
    pub fn fold_live(&mut self, live: &Compatibility) -> Result<(), LiveReportError> {
        if self.target == Target::Live {
            return Err(LiveReportError::IntoLive);
        }
        if live.format_version != FORMAT_VERSION {
            return Err(LiveReportError::FormatVersion {
                found: u64::from(live.format_version),
            });
        }
        if live.target != Target::Live {
            return Err(LiveReportError::NotLive);
        }
        let at = live.generated_at.clone().ok_or(LiveReportError::Undated)?;
        for provider in &mut self.providers {
            let seen = live.providers.iter().find(|p| p.id == provider.id);
            provider.live_differences.clear();
            for fact in &mut provider.facts {
                let observed = seen.and_then(|p| p.fact(&fact.key));
                let value = observed.and_then(|f| f.run.clone());
                // The live run judged its value against what its spec said.
                // When that is what this spec says, its judgement stands:
                // some facts are judged by more than their texts (lifetimes
                // by grant, a refresh behaviour left among several). When
                // the spec has changed since, only the texts can be compared.
                // What a live-only spec does not declare never differs.
                let differs = fact.spec != NOT_DECLARED
                    && match observed {
                        Some(observed) if observed.spec == fact.spec => observed.run_differs,
                        _ => value.as_ref().is_some_and(|v| *v != fact.spec),
                    };
                if let (true, Some(value)) = (differs, &value) {
                    provider.live_differences.push(format!(
                        "`{}`: the spec says `{}` ({}), the live run of {at} observed `{value}`: drift",
                        fact.key,
                        fact.spec,
                        fact.source.label()
                    ));
                }
                fact.live = Some(LiveFact {
                    value,
                    at: at.clone(),
                    differs,
                });
            }
            for contradiction in &mut provider.contradictions {
                let other =
                    seen.and_then(|p| p.contradictions.iter().find(|c| c.id == contradiction.id));
                for way in &mut contradiction.ways {
                    let outcome = other
                        .and_then(|c| c.ways.iter().find(|w| w.case == way.case))
                        .map_or(WayOutcome::NotExercised, |w| w.run);
                    way.live = Some(outcome);
                }
                contradiction.live_at = Some(at.clone());
            }
        }
        self.live_report = Some(LiveReportRef {
            generated_at: at,
            generator: live.generator.clone(),
        });
        Ok(())
    }
}
