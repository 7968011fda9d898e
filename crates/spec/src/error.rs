//! Spec errors that say where, what, and how to fix it.
//!
//! A [`SpecError`] is a position and a [`SpecErrorKind`], which names what
//! is wrong; the message and the hint are rendered from the kind, in one
//! place. [`ReadError`] says why a file could not be read.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::limits::{MAX_NAME_LEN, NAME_CHARACTERS, RESERVED_CASE_NAMES};
use crate::template::TemplateError;

/// A problem in a spec file, located at a line and column: where (`file`,
/// `line`, `column`, `source_line`) and what ([`SpecErrorKind`]), rendered in
/// one place, this type's `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column, 0 when the problem concerns the whole file.
    pub column: usize,
    /// What is wrong.
    pub kind: SpecErrorKind,
    /// The offending source line, when there is one.
    pub source_line: Option<String>,
    /// How to fix it, when the place calls for a hint other than the kind's
    /// own ([`SpecErrorKind::help`]).
    pub help: Option<String>,
}

impl SpecError {
    /// An error about a whole file.
    pub fn file(file: impl Into<PathBuf>, kind: impl Into<SpecErrorKind>) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            kind: kind.into(),
            source_line: None,
            help: None,
        }
    }

    /// An error at `line`:`column` of `source`.
    pub fn at(
        file: impl Into<PathBuf>,
        source: &str,
        line: usize,
        column: usize,
        kind: impl Into<SpecErrorKind>,
    ) -> Self {
        // A tab is shown as `→`, one column wide like the tab itself, so the
        // caret stays under the right character and the tab is visible.
        let source_line = line
            .checked_sub(1)
            .and_then(|index| source.lines().nth(index))
            .map(|text| text.replace('\t', "→"));
        Self {
            file: file.into(),
            line,
            column,
            kind: kind.into(),
            source_line,
            help: None,
        }
    }

    /// Adds a hint, in place of the kind's own.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// What is wrong, in words: the kind's message.
    pub fn message(&self) -> String {
        self.kind.to_string()
    }

    /// How to fix it: this error's hint, else its kind's.
    pub fn hint(&self) -> Option<String> {
        self.help.clone().or_else(|| self.kind.help())
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.kind)?;
        if self.line == 0 {
            write!(f, "  --> {}", self.file.display())?;
        } else {
            write!(
                f,
                "  --> {}:{}:{}",
                self.file.display(),
                self.line,
                self.column
            )?;
        }
        if let Some(source_line) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(self.column.saturating_sub(1));
            write!(
                f,
                "\n{pad} |\n{number} | {source_line}\n{pad} | {caret_pad}^"
            )?;
        }
        if let Some(help) = self.hint() {
            let pad = if self.source_line.is_some() {
                " ".repeat(self.line.to_string().len())
            } else {
                " ".to_owned()
            };
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// The hint of a spec that is not a mapping.
const MAPPING_HELP: &str = "a spec is a mapping with `provider`, `cases` and optionally `mock`, `live` and `vars`; see docs/spec-format.md";

/// What is wrong in a spec file. Its `Display` is the message;
/// [`help`](Self::help) the hint that goes with it, unless the error gives
/// its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecErrorKind {
    /// The file cannot be read.
    #[error(transparent)]
    File(#[from] ReadError),
    /// The bytes are not UTF-8; `bytes` are the first invalid ones.
    #[error("the file is not valid UTF-8 (invalid byte {})", hex(bytes))]
    NotUtf8 {
        /// Up to four invalid bytes.
        bytes: Vec<u8>,
    },
    /// A spec folder without a spec.
    #[error("no spec files in {}", dir.display())]
    NoSpecFiles {
        /// The folder.
        dir: PathBuf,
    },
    /// A spec folder that cannot be listed.
    #[error("cannot list spec folder: {0}")]
    CannotList(#[source] IoError),
    /// A provider id that an earlier file defines (or one that differs from
    /// it only in case).
    #[error("{}", duplicate_provider(id, first_id, first_file))]
    DuplicateProvider {
        /// The id in this file.
        id: String,
        /// The id in the first file.
        first_id: String,
        /// The file that defined it first.
        first_file: PathBuf,
    },
    /// More errors than are reported for one file.
    #[error("stopped after {max} errors")]
    TooManyErrors {
        /// How many were reported.
        max: usize,
    },
    /// Not YAML: serde_yaml's message (without its positions) when there is
    /// one; also the fallback for any serde_yaml message the loader does not
    /// recognise, which is carried here verbatim.
    #[error("{}", match message { Some(message) => format!("invalid YAML: {message}"), None => "the file is not valid YAML".to_owned() })]
    Syntax {
        /// serde_yaml's message.
        message: Option<String>,
    },
    /// Nesting deeper than `limit` levels.
    #[error("{}", match cause {
        Depth::Nesting => format!("the YAML nests too deeply: more than {limit} levels"),
        Depth::Alias => format!("the YAML nests too deeply: this alias puts its anchor's content below level {limit}"),
        Depth::Parser => "the YAML nests too deeply".to_owned(),
    })]
    TooDeep {
        /// The most levels a spec may have.
        limit: usize,
        /// How the nesting was found.
        cause: Depth,
    },
    /// An alias inside the node its anchor names.
    #[error("recursive alias: it refers to an anchor that contains it")]
    RecursiveAlias,
    /// Aliases that expand the document far beyond its written size.
    #[error("{}", alias_bomb(*counts, *largest_alias))]
    AliasBomb {
        /// The document's nodes and what its aliases expand them to, when
        /// counted (serde_yaml's own limit does not say).
        counts: Option<(u64, u64)>,
        /// The nodes the largest alias stands for, when it is known.
        largest_alias: Option<u64>,
    },
    /// An alias without an anchor.
    #[error("unknown anchor")]
    UnknownAnchor,
    /// A second YAML document; `here` when the error points at its start.
    #[error("{}", if *here { "the YAML holds more than one document: a second one starts here" } else { "the YAML holds more than one document" })]
    SecondDocument {
        /// Whether the error is located at the second document.
        here: bool,
    },
    /// No YAML document at all.
    #[error("the file is empty: it holds no YAML document")]
    Empty,
    /// A document that is not a mapping.
    #[error("a spec must be a mapping, but this file holds {found}")]
    NotAMapping {
        /// What it is, in words (`a list`).
        found: String,
    },
    /// A key the mapping does not take.
    #[error("{}", match container {
        Some(container) => format!("unknown key `{key}` in `{container}`"),
        None => format!("unknown top-level key `{key}`"),
    })]
    UnknownKey {
        /// The key.
        key: String,
        /// The mapping it is in (`token_endpoint`, `cases[2]`); `None` at the
        /// top level.
        container: Option<String>,
        /// The keys the mapping takes.
        expected: Vec<String>,
        /// The closest of them, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// A value that is not one of the names its key takes.
    #[error("{}", match key.as_deref() {
        Some("grant" | "grants") => format!("unknown grant `{value}`"),
        Some(key) => format!("unknown value `{value}` for `{key}`"),
        None => format!("unknown value `{value}`"),
    })]
    UnknownValue {
        /// The value.
        value: String,
        /// The key it is under.
        key: Option<String>,
        /// The names the key takes.
        expected: Vec<String>,
        /// The closest of them, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// A required key that is not there.
    #[error("{}", match (top_level, container) {
        (true, _) => format!("missing top-level key `{key}`"),
        (false, Some(container)) => format!("missing key `{key}` in `{container}`"),
        (false, None) => format!("missing key `{key}`"),
    })]
    MissingKey {
        /// The key.
        key: String,
        /// What lacks it (`provider`, `cases[0]`), when known.
        container: Option<String>,
        /// Whether the spec itself lacks it.
        top_level: bool,
    },
    /// A key twice in one mapping; `quoted` when it is shown in backticks.
    #[error("{}", if *quoted { format!("duplicate key `{key}`") } else { format!("duplicate key {key}") })]
    DuplicateKey {
        /// The key, as written.
        key: String,
        /// Whether it is a name (shown in backticks).
        quoted: bool,
    },
    /// A value of the wrong type: `found`, where `expected` was.
    #[error("wrong type{}: {found}{}", for_key(key.as_deref()), expected_text(expected.as_deref()))]
    WrongType {
        /// The key it is under.
        key: Option<String>,
        /// What was found, in words.
        found: String,
        /// What was expected, in words.
        expected: Option<String>,
    },
    /// A value of the right type that is not one the key takes.
    #[error("invalid value{}: {found}{}", for_key(key.as_deref()), expected_text(expected.as_deref()))]
    InvalidValue {
        /// The key it is under.
        key: Option<String>,
        /// What was found, in words.
        found: String,
        /// What was expected, in words.
        expected: Option<String>,
    },
    /// A `regex` matcher that does not compile; the regex crate's message.
    #[error("{message}")]
    InvalidRegex {
        /// The message, `invalid regex …`.
        message: String,
    },
    /// A variable that is neither a string nor `{ mock, live }`.
    #[error("{}", match name {
        Some(name) => format!("variable `{name}` must be a string, or a mapping with `mock` and `live` strings"),
        None => "a variable must be a string, or a mapping with `mock` and `live` strings".to_owned(),
    })]
    BadVariable {
        /// The variable, when it could be found.
        name: Option<String>,
    },
    /// A parameter value that is neither a string nor a list of strings.
    #[error("{}", match name {
        Some(name) => format!("parameter `{name}` must be a string or a list of strings"),
        None => "a parameter value must be a string or a list of strings".to_owned(),
    })]
    BadParameter {
        /// The parameter, when it could be found.
        name: Option<String>,
    },
    /// A provider id or case name that cannot name a test, a mock or a
    /// snapshot file ([`crate::limits::name_problem`]).
    #[error("{} `{name}` {problem}", match of { Named::ProviderId => "provider id", Named::CaseName => "case name" })]
    BadName {
        /// What the name names.
        of: Named,
        /// The name, shortened when long.
        name: String,
        /// What is wrong with it (`is empty`).
        problem: String,
    },
    /// A case name the runner uses for trials of its own.
    #[error("case name `{name}` is taken by the runner")]
    ReservedCaseName {
        /// The name.
        name: String,
    },
    /// Two case names whose snapshot files would be one: `stem` when they
    /// share it outright, `None` when they differ only in case.
    #[error("{}", match stem {
        Some(stem) => format!("case names `{first}` and `{name}` would share the snapshot file `{stem}.snap`"),
        None => format!("case names `{first}` and `{name}` differ only in case: on a case-insensitive file system they would share a snapshot file"),
    })]
    SnapshotClash {
        /// The earlier name.
        first: String,
        /// This name.
        name: String,
        /// The snapshot file's stem they share exactly.
        stem: Option<String>,
    },
    /// A number of seconds above the most allowed.
    #[error("{what} is {value} seconds; at most {max} (100 years) are allowed")]
    OutOfBounds {
        /// The key, in backticks.
        what: String,
        /// The value.
        value: u64,
        /// The most allowed.
        max: u64,
    },
    /// The `advance` steps of one case, together, above the most allowed.
    #[error(
        "the steps of case `{case}` move the clock {total} seconds in all; at most {max} (100 years)"
    )]
    ClockTooFar {
        /// The case, shortened when long.
        case: String,
        /// The seconds they add up to.
        total: u64,
        /// The most allowed.
        max: u64,
    },
    /// A `live.rate` number outside what a rate can be.
    #[error("{}", match key {
        RateKey::Requests => format!("`requests` is {value}; a rate allows at least 1 request"),
        RateKey::PerSeconds => format!(
            "`per_seconds` is {value}; a rate's period is 1 to {} seconds (a day)",
            crate::limits::MAX_RATE_PERIOD
        ),
    })]
    RateOutOfRange {
        /// Which number.
        key: RateKey,
        /// Its value.
        value: u32,
    },
    /// A status outside the HTTP range.
    #[error("{what} {value} is not an HTTP status ({}–{})", crate::limits::STATUS_RANGE.start(), crate::limits::STATUS_RANGE.end())]
    NotAStatus {
        /// The key, in backticks.
        what: String,
        /// The value.
        value: u16,
    },
    /// A case name used before; `first_line` is where.
    #[error("duplicate case name `{name}`")]
    DuplicateCaseName {
        /// The name.
        name: String,
        /// The line of the first case with it.
        first_line: Option<usize>,
    },
    /// A provider id that is not its file's name.
    #[error("provider id `{id}` differs from the file name `{stem}`")]
    IdNotFileName {
        /// The id.
        id: String,
        /// The file name without extension.
        stem: String,
    },
    /// A key of `provider.sources` that names no fact.
    #[error("unknown fact `{key}` in `provider.sources`")]
    UnknownFact {
        /// The key.
        key: String,
        /// The closest fact, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// A `provider.deviations` entry that no check reports.
    #[error("unknown deviation `{id}` in `provider.deviations`")]
    UnknownDeviation {
        /// The id.
        id: String,
        /// The closest deviation id, when it is a likely typo.
        suggestion: Option<String>,
        /// Whether the id is one of the spec's own quirks.
        is_quirk: bool,
    },
    /// A quirk whose id is a check's deviation id.
    #[error("quirk `{id}` is a deviation a check reports")]
    QuirkIsChecked {
        /// The id.
        id: String,
    },
    /// A quirk id used before.
    #[error("duplicate quirk id `{id}`")]
    DuplicateQuirk {
        /// The id.
        id: String,
    },
    /// A quirk that names a case the spec does not have.
    #[error("quirk `{id}` names case `{case}`, which this spec does not have")]
    UnknownQuirkCase {
        /// The quirk.
        id: String,
        /// The case named.
        case: String,
        /// The closest case name, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// An `on:` that is not a day.
    #[error("`on: {value}` is not a day written YYYY-MM-DD")]
    NotADay {
        /// What was written.
        value: String,
    },
    /// A contradiction id used before.
    #[error("duplicate contradiction id `{id}`")]
    DuplicateContradiction {
        /// The id.
        id: String,
    },
    /// A contradiction with fewer than two ways.
    #[error("{}", if *ways == 0 { format!("contradiction `{id}` lists no ways") } else { format!("contradiction `{id}` lists only one way") })]
    TooFewWays {
        /// The contradiction.
        id: String,
        /// How many ways it lists.
        ways: usize,
    },
    /// A contradiction's way that names a case the spec does not have.
    #[error("contradiction `{id}` names case `{case}`, which this spec does not have")]
    UnknownWayCase {
        /// The contradiction.
        id: String,
        /// The case named.
        case: String,
        /// The closest case name, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// Variables that refer to each other in a loop, from `cycle[0]` back to
    /// it.
    #[error("variable `{name}` refers to itself: {}", cycle.iter().map(|var| format!("`{var}`")).collect::<Vec<_>>().join(" -> "))]
    VariableLoop {
        /// The variable.
        name: String,
        /// The loop.
        cycle: Vec<String>,
    },
    /// A case with both `grant` and `steps`.
    #[error("case `{case}` has both `grant` and `steps`")]
    GrantAndSteps {
        /// The case.
        case: String,
    },
    /// A case with neither `grant` nor `steps`.
    #[error("case `{case}` has neither `grant` nor `steps`")]
    NoGrantNorSteps {
        /// The case.
        case: String,
    },
    /// A case with `steps` and a `with`, `request` or `expect` of its own.
    #[error("case `{case}` has `steps`, so its `{field}` would be ignored")]
    IgnoredCaseField {
        /// The case.
        case: String,
        /// The field.
        field: String,
    },
    /// A case tagged to run nowhere.
    #[error("case `{case}` is tagged both `mock-only` and `live-only`, so it never runs")]
    NeverRuns {
        /// The case.
        case: String,
    },
    /// A case tagged to run only on the mock, in a spec without a `mock`
    /// section (a live-only provider, which the mock does not emulate).
    #[error(
        "case `{case}` is tagged `mock-only`, but the spec has no `mock` section (a live-only provider), so it never runs"
    )]
    MockOnlyWithoutMock {
        /// The case.
        case: String,
    },
    /// Two steps of a case with one id.
    #[error("case `{case}` has two steps with id `{id}`")]
    DuplicateStepId {
        /// The case.
        case: String,
        /// The id.
        id: String,
    },
    /// A `with` or `request` on a step that is not a token request.
    #[error(
        "step {step} of case `{case}` is not a token request, so its `{field}` would be ignored"
    )]
    IgnoredStepField {
        /// The case.
        case: String,
        /// The step, 1-based.
        step: usize,
        /// The field.
        field: String,
    },
    /// A step that names no action, or more than one: `actions` are those
    /// it names.
    #[error("{}", match actions.as_slice() {
        [] => format!("step {step} of case `{case}` names no action"),
        _ => format!("step {step} of case `{case}` names both {}", actions.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" and ")),
    })]
    StepActions {
        /// The case.
        case: String,
        /// The step, 1-based.
        step: usize,
        /// The actions it names (`grant`, `resource`, `advance`, `authorize`).
        actions: Vec<String>,
    },
    /// A `${…}` that does not parse.
    #[error(transparent)]
    BadReference(#[from] TemplateError),
    /// A `${name}` with no such variable.
    #[error("undefined variable `{name}`")]
    UndefinedVariable {
        /// The variable.
        name: String,
        /// The closest variable, when it is a likely typo.
        suggestion: Option<String>,
    },
    /// A capture `${step.member}` that cannot be taken.
    #[error("{}", capture(step, members, problem))]
    BadCapture {
        /// The step it names.
        step: String,
        /// The members it takes.
        members: Vec<String>,
        /// Why it cannot be taken.
        problem: CaptureProblem,
    },
}

impl SpecErrorKind {
    /// The hint that goes with this kind, when it has one of its own.
    pub fn help(&self) -> Option<String> {
        let text = match self {
            Self::NotUtf8 { .. } => "save the spec as UTF-8 (a Latin-1 `é` is the usual culprit)",
            Self::NoSpecFiles { .. } => "a spec is a file named `<provider id>.yaml` (or `.yml`)",
            Self::DuplicateProvider { .. } => {
                "each provider has one spec file: its tests, mock and snapshots are named by its id; remove or rename one"
            }
            Self::TooDeep { limit, .. } => {
                return Some(format!(
                    "a spec needs a few levels of nesting; more than {limit} are refused"
                ));
            }
            Self::RecursiveAlias => {
                "an alias `*name` must refer to a node that is complete before it; a node cannot contain itself"
            }
            Self::AliasBomb { .. } => {
                "a spec may use anchors and aliases, but not to multiply content"
            }
            Self::UnknownAnchor => "an alias `*name` needs an anchor `&name` earlier in the file",
            Self::SecondDocument { here: true } => {
                "a spec file is one document: remove this `---` and what follows, or split the file"
            }
            Self::SecondDocument { here: false } => {
                "a spec file is one document: remove every `---` after the first"
            }
            Self::Empty | Self::NotAMapping { .. } => MAPPING_HELP,
            Self::UnknownKey {
                expected,
                suggestion,
                ..
            } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `{best}`?"),
                    None if expected.is_empty() => "this mapping takes no keys".to_owned(),
                    None => format!("expected one of {}", quoted_list(expected)),
                });
            }
            Self::UnknownValue {
                expected,
                suggestion,
                ..
            } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!("expected one of {}", quoted_list(expected)),
                });
            }
            Self::MissingKey {
                top_level: true, ..
            } => "a spec needs `provider` and `cases`; see docs/spec-format.md",
            Self::DuplicateKey { .. } => "each key may appear once in a mapping",
            Self::InvalidRegex { .. } => {
                "`regex` takes a regular expression in the syntax of Rust's regex crate, unanchored"
            }
            Self::BadName {
                of: Named::ProviderId,
                ..
            } => {
                return Some(format!(
                    "the id names the spec's tests, its mock and its snapshot folder: use {NAME_CHARACTERS}"
                ));
            }
            Self::BadName {
                of: Named::CaseName,
                ..
            } => {
                return Some(format!(
                    "a case name names a test and a snapshot file: use {NAME_CHARACTERS}, at most {MAX_NAME_LEN} characters"
                ));
            }
            Self::ReservedCaseName { .. } => {
                return Some(format!(
                    "the runner has trials of its own named `<provider>::{}`: rename the case",
                    RESERVED_CASE_NAMES.join("` and `<provider>::")
                ));
            }
            Self::SnapshotClash { .. } => {
                "snapshot files keep ASCII letters, digits, `_` and `-` of a case name and make every other character `_`, and some file systems ignore case: rename one"
            }
            Self::OutOfBounds { .. } => {
                "seconds this large overflow the clock arithmetic that uses them; no token needs a century"
            }
            Self::ClockTooFar { .. } => {
                "the clock moves of one case add up; no token needs a century to expire"
            }
            Self::RateOutOfRange { .. } => {
                "`rate: { requests: N, per_seconds: S }` has a live run send the provider N requests every S seconds, one every S / N seconds"
            }
            Self::DuplicateCaseName { name, first_line } => {
                return Some(match first_line {
                    Some(line) => format!(
                        "case names name the generated tests, so they must be unique; the first `{name}` is at line {line}"
                    ),
                    None => {
                        "case names name the generated tests, so they must be unique".to_owned()
                    }
                });
            }
            Self::IdNotFileName { id, stem } => {
                return Some(format!(
                    "set `id: {stem}` or rename the file to `{id}.yaml`: the id names the spec's tests and its mock"
                ));
            }
            Self::UnknownFact { suggestion, .. } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => format!(
                        "a source is for one fact: {}",
                        crate::facts::FACTS
                            .iter()
                            .map(|(k, _)| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            Self::UnknownDeviation {
                suggestion,
                is_quirk,
                ..
            } => {
                return Some(match (suggestion, is_quirk) {
                    (_, true) => "it is one of this spec's quirks, which `provider.quirks` lists; `deviations` names what a check reports".to_owned(),
                    (Some(best), false) => format!("did you mean `{best}`?"),
                    (None, false) => "`deviations` names deviation ids a check reports (docs/conformance.md lists them); record anything else under `provider.quirks`".to_owned(),
                });
            }
            Self::QuirkIsChecked { .. } => {
                "a check reports it: list it under `provider.deviations` instead"
            }
            Self::DuplicateQuirk { .. } => {
                "the report names a quirk by its id, so ids must be unique"
            }
            Self::UnknownQuirkCase { suggestion, .. } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "`case` names the case of this spec that shows the quirk".to_owned(),
                });
            }
            Self::NotADay { .. } => "write the day a run saw it, such as `on: 2026-11-20`",
            Self::DuplicateContradiction { .. } => {
                "the report names a contradiction by its id, so ids must be unique"
            }
            Self::TooFewWays { .. } => {
                "a contradiction lists at least two ways the documentation says it"
            }
            Self::UnknownWayCase { suggestion, .. } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `{best}`?"),
                    None => "each way names the case of this spec that tries it".to_owned(),
                });
            }
            Self::VariableLoop { .. } => "a variable may use other variables, but not in a loop",
            Self::GrantAndSteps { .. } => {
                "a case is one request (`grant`, `with`, `request`, `expect`) or a list of `steps`; move the request into a step"
            }
            Self::NoGrantNorSteps { .. } => {
                "give it `grant: <grant>` for one token request, or `steps:` for several requests, resource calls or clock moves"
            }
            Self::IgnoredCaseField { field, .. } => {
                return Some(format!("move `{field}` into the step it belongs to"));
            }
            Self::NeverRuns { .. } => "keep one of the two tags, or neither to run everywhere",
            Self::MockOnlyWithoutMock { .. } => {
                "add a `mock` section to emulate the provider, or drop the tag to run the case live"
            }
            Self::DuplicateStepId { .. } => {
                "step ids must be unique within a case, so that captures are unambiguous"
            }
            Self::IgnoredStepField { .. } => {
                "`with` and `request` shape a `grant` step's token request"
            }
            Self::StepActions { .. } => {
                "a step does exactly one thing: `grant` (a token request), `resource` (a call to the protected resource), `advance` (seconds to move the mock's clock), `authorize` (an authorization request) or `device_authorization: true` (starting a device flow)"
            }
            Self::BadReference(TemplateError::Unclosed { .. }) => {
                "close the reference with `}`, as in `${client_id}`"
            }
            Self::BadReference(TemplateError::InvalidReference { .. }) => {
                "a reference is ${name} (a variable), ${env:NAME}, ${secret:NAME} or ${step.member}"
            }
            Self::UndefinedVariable { name, suggestion } => {
                return Some(match suggestion {
                    Some(best) => format!("did you mean `${{{best}}}`?"),
                    None => format!(
                        "define `{name}` under `vars`, or use `${{env:{name}}}` for an environment variable"
                    ),
                });
            }
            Self::BadCapture {
                members, problem, ..
            } => {
                return Some(match problem {
                    CaptureProblem::Outside { .. } => "captures take a member of an earlier step's response, inside a case's `steps`".to_owned(),
                    CaptureProblem::SingleRequest => "captures take a member of an earlier step's response: turn the case into `steps` with ids".to_owned(),
                    CaptureProblem::OwnStep => "a step can capture only from steps before it".to_owned(),
                    CaptureProblem::LaterStep => "a step can capture only from steps before it; reorder the steps".to_owned(),
                    CaptureProblem::NoSuchStep { suggestion: Some(best), .. } => {
                        format!("did you mean `${{{best}.{}}}`?", members.join("."))
                    }
                    CaptureProblem::NoSuchStep { earlier, .. } if earlier.is_empty() => {
                        "no earlier step of this case has an `id` to capture from".to_owned()
                    }
                    CaptureProblem::NoSuchStep { earlier, .. } => format!(
                        "captures name the `id` of an earlier step of this case: {}",
                        quoted_list(earlier)
                    ),
                });
            }
            Self::BadParameter { name: None } => "quote numbers and booleans: `\"600\"`",
            Self::File(_)
            | Self::CannotList(_)
            | Self::TooManyErrors { .. }
            | Self::Syntax { .. }
            | Self::MissingKey { .. }
            | Self::WrongType { .. }
            | Self::InvalidValue { .. }
            | Self::BadVariable { .. }
            | Self::BadParameter { .. }
            | Self::NotAStatus { .. } => return None,
        };
        Some(text.to_owned())
    }
}

/// Why a capture `${step.member}` cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureProblem {
    /// The template is not in a case (`place` names where it is).
    Outside {
        /// Where it is, for messages (`` `live.base_url` ``).
        place: String,
    },
    /// The case is a single request, without steps.
    SingleRequest,
    /// The step names itself.
    OwnStep,
    /// The step runs later.
    LaterStep,
    /// No step of the case has that id.
    NoSuchStep {
        /// The closest earlier id, when it is a likely typo.
        suggestion: Option<String>,
        /// The ids of the earlier steps.
        earlier: Vec<String>,
    },
}

fn capture(step: &str, members: &[String], problem: &CaptureProblem) -> String {
    let reference = format!("`${{{step}.{}}}`", members.join("."));
    match problem {
        CaptureProblem::Outside { place } => {
            format!("{reference} captures from step `{step}`, but {place} is not part of a case")
        }
        CaptureProblem::SingleRequest => {
            format!("{reference} captures from step `{step}`, but this case is a single request")
        }
        CaptureProblem::OwnStep => format!("{reference} captures from its own step `{step}`"),
        CaptureProblem::LaterStep => {
            format!("{reference} captures from step `{step}`, which runs later in this case")
        }
        CaptureProblem::NoSuchStep { .. } => {
            format!("{reference} captures from step `{step}`, which this case does not have")
        }
    }
}

/// Which number of a `live.rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKey {
    /// `requests`.
    Requests,
    /// `per_seconds`.
    PerSeconds,
}

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// `provider.id`.
    ProviderId,
    /// A case's `name`.
    CaseName,
}

/// How too deep a nesting was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Collections nested in the text.
    Nesting,
    /// An alias whose anchor's content lands too deep.
    Alias,
    /// serde_yaml's own recursion limit.
    Parser,
}

/// Why a file cannot be read ([`crate::read_regular_file`]), in words that
/// do not repeat its path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be opened or read.
    #[error("cannot read the file: {0}")]
    Io(#[source] IoError),
    /// A symbolic link to nothing.
    #[error("this is a symbolic link to `{}`, which does not exist", target.display())]
    DanglingLink {
        /// Where it leads.
        target: PathBuf,
    },
    /// A symbolic link that leads round in a loop.
    #[error("this is a symbolic link that leads round in a loop")]
    LinkLoop,
    /// A symbolic link that cannot be followed for another reason.
    #[error("this is a symbolic link that cannot be followed: {0}")]
    BadLink(#[source] IoError),
    /// A folder, a FIFO, a device, a socket.
    #[error(transparent)]
    NotARegularFile(#[from] NotARegularFile),
    /// Larger than the files of its kind may be.
    #[error("the file is {len} bytes; {kind}s larger than {max} bytes are refused")]
    TooLarge {
        /// Its size.
        len: u64,
        /// The most allowed.
        max: u64,
        /// The kind of file, for messages (`spec`, `snapshot`).
        kind: String,
    },
    /// It grew past the cap while it was read.
    #[error(
        "the file grew past {max} bytes while it was read; {kind}s larger than that are refused"
    )]
    Grew {
        /// The most allowed.
        max: u64,
        /// The kind of file, for messages.
        kind: String,
    },
    /// Text was wanted and the file is not UTF-8 (its bytes are not shown:
    /// they may hold a secret).
    #[error("the file is not valid UTF-8")]
    NotUtf8,
}

/// Something that is not a regular file, where one was needed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotARegularFile {
    /// A folder.
    #[error("this is a folder, not a {kind} file")]
    Folder {
        /// The kind of file needed (`spec`).
        kind: String,
    },
    /// A FIFO (which would wait for a writer), a device (`/dev/zero` never
    /// ends), a socket.
    #[error("this is not a regular file ({what}); a {kind} must be one")]
    Other {
        /// What it is (`a FIFO`).
        what: &'static str,
        /// The kind of file needed.
        kind: String,
    },
}

/// An I/O error that can be cloned and compared (by kind and message), so
/// that the errors holding it can be.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct IoError(#[source] pub Arc<std::io::Error>);

impl From<std::io::Error> for IoError {
    fn from(error: std::io::Error) -> Self {
        Self(Arc::new(error))
    }
}

impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoError {}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn duplicate_provider(id: &str, first_id: &str, first_file: &Path) -> String {
    if first_id == id {
        format!(
            "provider `{id}` is already defined by {}",
            first_file.display()
        )
    } else {
        format!(
            "provider `{id}` differs only in case from `{first_id}`, defined by {}: on a case-insensitive file system they would share a snapshot folder",
            first_file.display()
        )
    }
}

fn alias_bomb(counts: Option<(u64, u64)>, largest_alias: Option<u64>) -> String {
    let Some((nodes, expanded)) = counts else {
        return "the YAML expands aliases into too much data (an alias bomb?)".to_owned();
    };
    let message =
        format!("the YAML's aliases expand its {nodes} nodes to {expanded} (an alias bomb?)");
    match largest_alias {
        Some(size) => format!("{message}; this alias alone stands for {size} nodes"),
        None => message,
    }
}

fn for_key(key: Option<&str>) -> String {
    key.map(|key| format!(" for `{key}`")).unwrap_or_default()
}

fn expected_text(expected: Option<&str>) -> String {
    expected
        .map(|expected| format!(", expected {expected}"))
        .unwrap_or_default()
}

/// `a`, `b` as "`a`, `b`".
pub(crate) fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every problem found in one or more spec files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{error}")?;
        }
        let count = self.0.len();
        write!(f, "\n\n{count} error{}", if count == 1 { "" } else { "s" })
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(word.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of two adjacent characters (`grnat` is one edit from
/// `grant`) each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("scopes", ["scope", "audience"]), Some("scope"));
        assert_eq!(
            did_you_mean("client_secert", ["client_secret", "client_id"]),
            Some("client_secret")
        );
        assert_eq!(did_you_mean("zzz", ["scope", "audience"]), None);
        assert_eq!(
            did_you_mean("grnat", ["name", "grant", "with"]),
            Some("grant")
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    #[test]
    fn renders_message_and_hint_from_the_kind() {
        let kind = SpecErrorKind::UnknownKey {
            key: "grnat".to_owned(),
            container: Some("cases[0]".to_owned()),
            expected: vec!["grant".to_owned(), "with".to_owned()],
            suggestion: Some("grant".to_owned()),
        };
        let error = SpecError::at("specs/x.yaml", "cases:\n  - grnat: x\n", 2, 5, kind);
        assert_eq!(
            error.to_string(),
            "error: unknown key `grnat` in `cases[0]`\n  --> specs/x.yaml:2:5\n  |\n2 |   - grnat: x\n  |     ^\n  = help: did you mean `grant`?"
        );
        // A hint given at the place replaces the kind's own.
        let error = error.with_help("rename it");
        assert_eq!(error.hint().as_deref(), Some("rename it"));
        assert_eq!(error.message(), "unknown key `grnat` in `cases[0]`");
        let file = SpecError::file(
            "specs/x.yaml",
            ReadError::from(NotARegularFile::Folder {
                kind: "spec".to_owned(),
            }),
        );
        assert_eq!(
            file.to_string(),
            "error: this is a folder, not a spec file\n  --> specs/x.yaml"
        );
    }

    #[test]
    fn renders_location_source_and_caret() {
        let error = SpecError::at(
            "specs/x.yaml",
            "a: 1\n  bad: 2\n",
            2,
            3,
            SpecErrorKind::UnknownKey {
                key: "bad".to_owned(),
                container: Some("a".to_owned()),
                expected: vec!["bar".to_owned()],
                suggestion: Some("bar".to_owned()),
            },
        );
        assert_eq!(
            error.to_string(),
            "error: unknown key `bad` in `a`\n  --> specs/x.yaml:2:3\n  |\n2 |   bad: 2\n  |   ^\n  = help: did you mean `bar`?"
        );
    }
}
