//! The report's data model: what `compatibility.json` holds, and what every
//! other format is rendered from.
//!
//! Every text in the model is already fit to show: the runner redacts
//! secrets and tokens before it builds the model, and the renderers show
//! nothing beyond what the model holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use grantspec_outcome::{CaseOutcome, CheckOutcome, Severity};

/// The version of this model's JSON form. Bump it on any change a reader of
/// `compatibility.json` would notice (a renamed, removed or retyped field).
pub const FORMAT_VERSION: u32 = 4;

/// What a fact's [`Fact::spec`] says when the spec does not declare it: a
/// live-only provider's spec (no `mock` section) declares none of the facts
/// only a mock seed holds. Such a fact never differs from a run.
pub const NOT_DECLARED: &str = "not declared";

/// What [`RfcReport::not_emulated`] means, in words, for every format.
pub const NOT_EMULATED: &str =
    "not emulated by the mock, so not judged on the mock target (a live run judges them)";

/// The request body encodings a provider is reported on, in column order.
pub const BODY_ENCODINGS: [&str; 2] = ["form", "json"];

/// The client authentication methods a provider is reported on, in column
/// order (RFC 6749 §2.3.1: `basic` is `client_secret_basic`, `post` is
/// `client_secret_post`, `none` a public client).
pub const CLIENT_AUTH: [&str; 5] = [
    "basic",
    "post",
    "none",
    "client_secret_jwt",
    "private_key_jwt",
];

/// A provider compatibility report: one run of every case, per provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compatibility {
    /// [`FORMAT_VERSION`] of the program that wrote it.
    pub format_version: u32,
    /// What wrote it, such as `grantspec 0.1.0`.
    pub generator: String,
    /// When the run ended, RFC 3339 in UTC, if known.
    #[serde(default)]
    pub generated_at: Option<String>,
    /// The target the cases ran against.
    pub target: Target,
    /// Counts over every trial, as libtest's `test result:` line counts
    /// them: every case, every provider's declared-deviations trial, and
    /// every spec file that did not load (failed).
    pub summary: Tally,
    /// Problems of spec files that did not load; their cases did not run.
    #[serde(default)]
    pub spec_errors: Vec<SpecFileError>,
    /// The grants every provider is reported on, in column order: every
    /// grant the spec format knows, as the runner lists them.
    #[serde(default)]
    pub grants: Vec<String>,
    /// One entry per provider spec, in spec order.
    pub providers: Vec<ProviderReport>,
    /// The earlier live report folded into this one
    /// ([`Compatibility::fold_live`]), if any.
    #[serde(default)]
    pub live_report: Option<LiveReportRef>,
}

/// The live report folded into a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveReportRef {
    /// When the live run ended: the date of everything observed live.
    pub generated_at: String,
    /// What wrote it.
    pub generator: String,
}

impl Compatibility {
    /// A report with no providers yet.
    pub fn new(generator: impl Into<String>, target: Target) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            generator: generator.into(),
            generated_at: None,
            target,
            summary: Tally::default(),
            spec_errors: Vec::new(),
            grants: Vec::new(),
            providers: Vec::new(),
            live_report: None,
        }
    }
}

/// A problem of a spec file that did not load: a failing trial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecFileError {
    /// The trial's name, `<file stem>::spec`, as libtest lists it.
    #[serde(default)]
    pub trial: String,
    /// The file, as the runner was given it (several, comma-separated, when
    /// files share a stem).
    pub file: String,
    /// The located message: file, line, column, the source line, a suggestion.
    pub message: String,
}

/// Where the cases ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The embedded mock.
    Mock,
    /// The live provider.
    Live,
}

impl Target {
    /// `mock` or `live`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mock => "mock",
            Self::Live => "live",
        }
    }
}

/// How many trials ran and how they ended, counted as libtest counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Every trial.
    pub cases: usize,
    /// Trials that passed.
    pub passed: usize,
    /// Trials that failed, pending snapshots included.
    pub failed: usize,
    /// Of the failed trials, those whose only fault is a snapshot not yet
    /// reviewed.
    #[serde(default)]
    pub pending: usize,
    /// Trials that did not run on this target (libtest's "ignored").
    pub skipped: usize,
}

impl Tally {
    /// Counts one trial with this outcome.
    pub fn count(&mut self, outcome: CaseOutcome) {
        self.cases += 1;
        match outcome {
            CaseOutcome::Passed => self.passed += 1,
            CaseOutcome::Failed => self.failed += 1,
            CaseOutcome::Pending => {
                self.failed += 1;
                self.pending += 1;
            }
            CaseOutcome::Skipped => self.skipped += 1,
        }
    }

    /// Adds another tally to this one.
    pub fn add(&mut self, other: Tally) {
        self.cases += other.cases;
        self.passed += other.passed;
        self.failed += other.failed;
        self.pending += other.pending;
        self.skipped += other.skipped;
    }
}

/// One provider: what its spec declares and where that comes from, what
/// this run's target did (emulated by the mock, or observed live), and how
/// its cases ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderReport {
    /// Short identifier, the spec's `provider.id`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Where the documented behaviour comes from.
    #[serde(default)]
    pub docs: Option<String>,
    /// The target this provider's cases ran against.
    pub target: Target,
    /// The token endpoint as the profile describes it.
    pub endpoint: Endpoint,
    /// Every grant of [`Compatibility::grants`], in that order.
    pub grants: Vec<Capability>,
    /// Every body encoding of [`BODY_ENCODINGS`], in that order.
    pub body_encodings: Vec<Capability>,
    /// Every client authentication method of [`CLIENT_AUTH`], in that order.
    pub client_auth: Vec<Capability>,
    /// How `token_type` is spelled.
    pub token_type: TokenTypeReport,
    /// How expiry is expressed.
    pub expiry: ExpiryReport,
    /// What a refresh does to the refresh token.
    pub refresh: RefreshReport,
    /// How errors are reported.
    pub errors: ErrorFormatReport,
    /// The profile's dialect at a glance: the answer's encoding, renamed
    /// members, errors inside a success status, and where the API takes the
    /// token.
    #[serde(default)]
    pub dialect: Dialect,
    /// RFC 6749 / RFC 6750 check results by clause, and deviation drift.
    pub rfc: RfcReport,
    /// Known deviations from RFC 6749 the spec declares (`provider.deviations`).
    pub deviations: Vec<String>,
    /// The provider is live-only: its spec has no `mock` section, so the
    /// mock does not emulate it (on the mock target its trials are ignored)
    /// and the spec declares none of the facts a mock seed would
    /// ([`NOT_DECLARED`]; `token_type.declared` and `refresh.declared` are
    /// `None`, `expiry.declared_lifetime` is 0 and `expiry.declared_rules`
    /// empty).
    #[serde(default)]
    pub live_only: bool,
    /// The spec's `provider.notes`, each with what it rests on.
    pub notes: Vec<NoteReport>,
    /// The spec's `provider.quirks`: ways the provider departs from the RFC
    /// that no check reports.
    #[serde(default)]
    pub quirks: Vec<QuirkReport>,
    /// What the run's answers are: emulated by the mock, or observed live.
    pub run: RunSource,
    /// Every provider fact the report shows, with where it comes from: what
    /// the spec says (documented or assumed), what this run's target did,
    /// and, when a live report was folded in, what the live run observed.
    pub facts: Vec<Fact>,
    /// What the provider's documentation says in two or more ways, and which
    /// ways the run's target accepted.
    #[serde(default)]
    pub contradictions: Vec<ContradictionReport>,
    /// Where this run's target did something other than the spec says: on
    /// the mock target, a bug in the mock; on a live run, drift.
    pub differences: Vec<String>,
    /// Where the folded-in live report observed something other than the
    /// spec says: drift.
    #[serde(default)]
    pub live_differences: Vec<String>,
    /// How this provider's trials ended: its cases and its
    /// declared-deviations trial.
    pub outcome: Tally,
    /// Every case, in spec order, then the provider's declared-deviations
    /// trial (named `declared_deviations`), as libtest lists them.
    pub cases: Vec<CaseResult>,
}

impl ProviderReport {
    /// The capability named `name` among `list`, if reported.
    pub fn capability<'a>(list: &'a [Capability], name: &str) -> Option<&'a Capability> {
        list.iter().find(|c| c.name == name)
    }

    /// The fact with this key (`client_auth.basic`, `token_type`), if shown.
    pub fn fact(&self, key: &str) -> Option<&Fact> {
        self.facts.iter().find(|f| f.key == key)
    }
}

/// How a run knows what its target did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSource {
    /// `emulated` on the mock target, `observed_live` on a live run.
    pub kind: RunKind,
    /// For a live run, when it ended (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
}

/// Whether a run's answers came from the mock or the live provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// The mock answered as the spec's seed tells it: not evidence about
    /// the provider.
    Emulated,
    /// The live provider answered.
    ObservedLive,
}

impl RunKind {
    /// `emulated` or `observed live`.
    pub fn label(self) -> &'static str {
        match self {
            Self::Emulated => "emulated",
            Self::ObservedLive => "observed live",
        }
    }
}

/// Where what a spec says about a provider comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// The provider's documentation says so.
    Documented {
        /// A short quote and where it is (`public source: …` for facts known
        /// from the provider's open code).
        citation: String,
        /// The spec's documentation link.
        #[serde(default)]
        docs: Option<String>,
    },
    /// An assumption of the spec's author (the mock seed where no document
    /// says so).
    Assumed {
        /// Why; "the spec names no source" when the spec gives none.
        reason: String,
    },
}

impl Provenance {
    /// `documented` or `assumed`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Documented { .. } => "documented",
            Self::Assumed { .. } => "assumed",
        }
    }

    /// The citation or the reason.
    pub fn text(&self) -> &str {
        match self {
            Self::Documented { citation, .. } => citation,
            Self::Assumed { reason } => reason,
        }
    }
}

/// One provider fact: what the spec says and where that comes from, what
/// this run's target did, and what a folded-in live run observed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    /// The fact key, as in the spec's `provider.sources`: `grant.password`,
    /// `client_auth.basic`, `token_type`, `cache_headers`, …
    pub key: String,
    /// What the fact is about, in words.
    pub about: String,
    /// What the spec says (the profile or the mock seed), as a short value:
    /// `accepted`, `refused`, `bearer`, `3600 s`, `rotate`, …
    pub spec: String,
    /// Where what the spec says comes from.
    pub source: Provenance,
    /// What this run's target did, in the same words as `spec`; `None` when
    /// no request of the run told. Emulated on the mock target, observed
    /// live on a live run (see [`ProviderReport::run`]).
    #[serde(default)]
    pub run: Option<String>,
    /// `run` differs from `spec`.
    #[serde(default)]
    pub run_differs: bool,
    /// What the folded-in live report observed.
    #[serde(default)]
    pub live: Option<LiveFact>,
}

/// A fact as an earlier live run observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFact {
    /// What the live run observed; `None` when no request of it told.
    #[serde(default)]
    pub value: Option<String>,
    /// When the live run ended.
    pub at: String,
    /// `value` differs from what the spec says.
    pub differs: bool,
}

/// A note of the spec, and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteReport {
    /// What the note says.
    pub text: String,
    /// What it rests on.
    pub basis: NoteBasis,
    /// For an observation, the day it was made (`YYYY-MM-DD`), when given.
    #[serde(default)]
    pub on: Option<String>,
}

impl NoteReport {
    /// `documented`, `observed on 2026-11-20`, `observed`, or `note`.
    pub fn label(&self) -> String {
        match (self.basis, &self.on) {
            (NoteBasis::Observed, Some(day)) => format!("observed on {day}"),
            (basis, _) => basis.as_str().to_owned(),
        }
    }
}

/// What a note rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteBasis {
    /// The spec does not say.
    Unstated,
    /// The provider's documentation says so.
    Documented,
    /// A run against the provider saw it.
    Observed,
}

impl NoteBasis {
    /// `note`, `documented` or `observed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unstated => "note",
            Self::Documented => "documented",
            Self::Observed => "observed",
        }
    }
}

/// A way the provider departs from the RFC that no check reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuirkReport {
    /// The quirk's id in the spec.
    pub id: String,
    /// What the provider does, and what that rests on.
    pub note: NoteReport,
    /// The case that shows it, when one does; its outcome is among the
    /// provider's cases.
    #[serde(default)]
    pub case: Option<String>,
}

/// Something the provider's documentation says in two or more ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContradictionReport {
    /// The spec's id for it.
    pub id: String,
    /// What the ways disagree about.
    pub about: String,
    /// The ways, in spec order.
    pub ways: Vec<WayReport>,
    /// When the folded-in live run that confirmed ways ended, if one was
    /// folded in.
    #[serde(default)]
    pub live_at: Option<String>,
}

impl ContradictionReport {
    /// The `says` of the ways accepted in `pick` (this run, or live).
    pub fn accepted(&self, pick: impl Fn(&WayReport) -> Option<WayOutcome>) -> Vec<&str> {
        self.ways
            .iter()
            .filter(|w| pick(w) == Some(WayOutcome::Accepted))
            .map(|w| w.says.as_str())
            .collect()
    }
}

/// One way the documentation says it, and what the targets did with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WayReport {
    /// The way, in a few words.
    pub says: String,
    /// The documentation's words.
    pub quote: String,
    /// `text`, `example` or `schema`.
    #[serde(rename = "where")]
    pub location: String,
    /// The case that tries it.
    pub case: String,
    /// What this run's target did with it (emulated on the mock target:
    /// what the mock follows).
    pub run: WayOutcome,
    /// What the folded-in live run did with it (what live confirmed).
    #[serde(default)]
    pub live: Option<WayOutcome>,
}

/// What a target did with one way of a contradiction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WayOutcome {
    /// The case's last request was answered 2xx.
    Accepted,
    /// The case's last request was answered 4xx or 5xx.
    Refused,
    /// The case did not run on that target, or got no answer.
    NotExercised,
}

impl WayOutcome {
    /// `accepted`, `refused` or `not exercised`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Refused => "refused",
            Self::NotExercised => "not exercised",
        }
    }

    /// `✔`, `✘` or `–`.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Accepted => "✔",
            Self::Refused => "✘",
            Self::NotExercised => "–",
        }
    }
}

/// A provider's dialect as the matrix shows it, from its profile and seed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    /// How the token answer is encoded: `json` or `form`.
    pub encoding: String,
    /// Response members renamed from RFC 6749's: `access_token → accessToken`.
    #[serde(default)]
    pub renamed_members: Vec<String>,
    /// The success status errors come with, when the provider answers them
    /// inside one (Slack, GitHub: 200); `None` for RFC 6749 §5.2's 4xx.
    #[serde(default)]
    pub errors_with_status: Option<u16>,
    /// Where the API takes the access token: `Authorization: Bearer`,
    /// `Authorization (bare)`, `query access_token`, `form token`.
    pub token_placement: String,
}

/// The token endpoint as the provider profile describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// HTTP method.
    pub method: String,
    /// Path, relative to the provider's base URL.
    pub path: String,
    /// Parameter names the provider uses instead of RFC 6749's, keyed by the
    /// RFC name.
    #[serde(default)]
    pub renamed: BTreeMap<String, String>,
    /// How list-valued parameters are sent: `space_joined` or `repeat`.
    pub lists: String,
}

/// Whether a provider accepts one grant, body encoding or client
/// authentication method: what the spec declares, and what this run's
/// target did (the mock's emulation on the mock target, never an
/// observation of the provider; observed live on a live run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capability {
    /// `client_credentials`, `form`, `basic`, …
    pub name: String,
    /// The provider profile's own choice: what the token crate sends by
    /// default. Always false for grants.
    pub profile: bool,
    /// The spec declares the provider accepts it (the profile's choice, the
    /// mock seed's `accepts` or `client_auth`, or a seeded client's grants).
    pub declared: bool,
    /// What this run's target did with it.
    pub run: Acceptance,
    /// The cases (`provider::case`) that showed it.
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl Capability {
    /// A capability no request has tried yet.
    pub fn new(name: impl Into<String>, profile: bool, declared: bool) -> Self {
        Self {
            name: name.into(),
            profile,
            declared,
            run: Acceptance::NotExercised,
            evidence: Vec::new(),
        }
    }
}

/// What a run's target did with a capability (emulated on the mock
/// target, observed live on a live run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acceptance {
    /// A request using it succeeded.
    Accepted,
    /// A request using it was refused, and none succeeded.
    Rejected,
    /// No request of this run told.
    NotExercised,
}

/// How `token_type` is spelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenTypeReport {
    /// The spelling the spec declares (the mock seed's `token_type`); `None`
    /// when the spec says the member is left out.
    pub declared: Option<String>,
    /// Whether the profile assumes `Bearer` when the member is missing.
    pub assume_bearer_when_missing: bool,
    /// Spellings in successful token responses of this run.
    #[serde(default)]
    pub run: Vec<String>,
    /// Whether a successful token response of this run had no `token_type`.
    #[serde(default)]
    pub run_missing: bool,
}

/// How a token response expresses its expiry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryReport {
    /// The profile's `response.expiry`: `expires_in`, `expires`, `both` or `none`.
    pub style: String,
    /// The profile's `response.envelope`: a JSON pointer to the token object
    /// when it is wrapped.
    #[serde(default)]
    pub envelope: Option<String>,
    /// Lifetime of access tokens the spec declares (the mock seed's one
    /// number, or its `default`), in seconds: for every grant and client
    /// that `declared_rules` does not name; 0 for a live-only provider,
    /// whose spec declares none.
    pub declared_lifetime: u64,
    /// The lifetimes the spec declares by grant and by client (the mock
    /// seed's `token_lifetime` mapping, each client's own), in the order
    /// they are written; empty when one number holds for every token.
    #[serde(default)]
    pub declared_rules: Vec<LifetimeRule>,
    /// Expiry members in successful token responses of this run
    /// (`expires_in`, `expires`).
    #[serde(default)]
    pub run_members: Vec<String>,
    /// Distinct `expires_in` values of this run, in seconds.
    #[serde(default)]
    pub run_lifetimes: Vec<u64>,
    /// Distinct `expires_in` values of this run by the grant that issued the
    /// token (and the client, for a client with a lifetime of its own),
    /// each with the lifetime the spec declares for it. Tokens whose grant
    /// the run cannot tell (a case that replaced `grant_type`) are left out.
    #[serde(default)]
    pub run_by_grant: Vec<LifetimeSeen>,
}

/// A lifetime the spec declares for a grant, a client, or a client's grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeRule {
    /// The client it is for; `None` for every client.
    #[serde(default)]
    pub client: Option<String>,
    /// The grant it is for; `None` for the grants the rule's client (or the
    /// spec) names no lifetime for.
    #[serde(default)]
    pub grant: Option<String>,
    /// The lifetime, in seconds.
    pub seconds: u64,
}

/// A lifetime a successful token response of the run carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeSeen {
    /// The grant that issued the token.
    pub grant: String,
    /// The client, when the spec gives it a lifetime of its own.
    #[serde(default)]
    pub client: Option<String>,
    /// `expires_in`, in seconds.
    pub seconds: u64,
    /// The lifetime the spec declares for this grant and client.
    pub declared: u64,
}

impl LifetimeSeen {
    /// What was seen, in the words of [`LifetimeRule::words`]:
    /// `client_credentials 600 s`, ``client `app` password 300 s``.
    pub fn words(&self) -> String {
        LifetimeRule {
            client: self.client.clone(),
            grant: Some(self.grant.clone()),
            seconds: self.seconds,
        }
        .words()
    }

    /// Whether the lifetime seen is not the one the spec declares.
    pub fn differs(&self) -> bool {
        self.seconds != self.declared
    }
}

impl LifetimeRule {
    /// The rule in words: `3600 s`, `client_credentials 600 s`,
    /// ``client `app` 300 s``, ``client `app` refresh_token 60 s``.
    pub fn words(&self) -> String {
        let mut words = String::new();
        if let Some(client) = &self.client {
            words.push_str(&format!("client `{client}` "));
        }
        if let Some(grant) = &self.grant {
            words.push_str(grant);
            words.push(' ');
        }
        words.push_str(&format!("{} s", self.seconds));
        words
    }
}

impl ExpiryReport {
    /// The lifetimes the spec declares, in words: `600 s`, or
    /// ``3600 s; client_credentials 600 s; client `app` 300 s``.
    pub fn declared_words(&self) -> String {
        std::iter::once(format!("{} s", self.declared_lifetime))
            .chain(self.declared_rules.iter().map(LifetimeRule::words))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What a refresh does to the refresh token it used, and what presenting a
/// used one again does: the mock seed's `refresh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshBehaviour {
    /// A new refresh token; the used one is revoked.
    Rotate,
    /// The same refresh token back; it stays valid.
    Reuse,
    /// A new refresh token; the used one stays valid too.
    RotateKeepOld,
    /// A new refresh token; the used one is revoked, and presenting it again
    /// revokes every token of its family (RFC 9700 §4.14.2).
    RotateRevokeFamily,
}

impl RefreshBehaviour {
    /// Every behaviour, in the spec format's order.
    pub const ALL: [Self; 4] = [
        Self::Rotate,
        Self::Reuse,
        Self::RotateKeepOld,
        Self::RotateRevokeFamily,
    ];

    /// The spec format's name: `rotate`, `reuse`, `rotate_keep_old`,
    /// `rotate_revoke_family`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::Reuse => "reuse",
            Self::RotateKeepOld => "rotate_keep_old",
            Self::RotateRevokeFamily => "rotate_revoke_family",
        }
    }
}

/// What a run's refreshes showed of the refresh behaviour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshSeen {
    /// The run's cases show this behaviour and rule out every other.
    Told(RefreshBehaviour),
    /// Not enough evidence: the run's cases leave these two or more
    /// behaviours possible, in [`RefreshBehaviour::ALL`] order.
    OneOf(Vec<RefreshBehaviour>),
    /// The run's cases contradict each other: no one behaviour explains
    /// them all.
    Mixed,
}

impl RefreshSeen {
    /// What the behaviours the evidence leaves possible say: none is
    /// [`RefreshSeen::Mixed`], one is [`RefreshSeen::Told`].
    pub fn from_possible(mut possible: Vec<RefreshBehaviour>) -> Self {
        possible.sort_unstable();
        possible.dedup();
        match possible.as_slice() {
            [] => Self::Mixed,
            [one] => Self::Told(*one),
            _ => Self::OneOf(possible),
        }
    }

    /// Whether the run agrees with `behaviour`: it is the one told, or one
    /// of those left possible.
    pub fn allows(&self, behaviour: RefreshBehaviour) -> bool {
        match self {
            Self::Told(told) => *told == behaviour,
            Self::OneOf(possible) => possible.contains(&behaviour),
            Self::Mixed => false,
        }
    }

    /// `rotate`, `rotate or rotate_revoke_family`, or `mixed`.
    pub fn words(&self) -> String {
        match self {
            Self::Told(told) => told.as_str().to_owned(),
            Self::OneOf(possible) => possible
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            Self::Mixed => "mixed".to_owned(),
        }
    }
}

/// What a refresh does to the refresh token it used: declared, and what the
/// run's cases showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshReport {
    /// What the spec declares (the mock seed's `refresh`), when a seeded
    /// client may use the refresh_token grant.
    #[serde(default)]
    pub declared: Option<RefreshBehaviour>,
    /// What this run's target showed; `None` when no case told anything:
    /// a refresh answering the same refresh token (or none) is `reuse`, a
    /// new one any of the three others; a used token presented again and
    /// accepted is `rotate_keep_old`, refused `rotate` or
    /// `rotate_revoke_family`; after that refused replay, the newest refresh
    /// token (or the newest access token at the protected resource)
    /// accepted is `rotate`, refused `rotate_revoke_family`.
    #[serde(default)]
    pub run: Option<RefreshSeen>,
    /// The cases that showed it.
    #[serde(default)]
    pub evidence: Vec<String>,
    /// What the cases showed, one line each: `<case>: <what was seen>`.
    #[serde(default)]
    pub observations: Vec<String>,
}

/// How errors are reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorFormatReport {
    /// The profile's `errors`: `rfc6749`, `errors_array` or `problem`.
    pub format: String,
    /// Formats of the token endpoint's error responses in this run.
    #[serde(default)]
    pub run: Vec<String>,
}

/// RFC 6749 / RFC 6750 conformance of one provider.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfcReport {
    /// Whether the checks ran in this run. When false, `checks` and `drift`
    /// are empty because nothing was checked, not because all is well.
    pub evaluated: bool,
    /// One result per check, aggregated over every case: the worst outcome
    /// wins. Sorted by clause, then check id.
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// Deviation drift: observed deviations the spec does not declare, and
    /// declared ones this run did not observe.
    #[serde(default)]
    pub drift: Vec<String>,
    /// On the mock target, the declared deviations the mock does not emulate
    /// for this provider, which this run therefore did not judge (a live run
    /// does): information, never drift.
    #[serde(default)]
    pub not_emulated: Vec<String>,
}

impl RfcReport {
    /// Records one finding of one case: the check's outcome becomes the
    /// worse of what it was and `outcome`, and the detail of a warning or a
    /// failure is kept (prefixed with the case name), once.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        check_id: &str,
        clause: &str,
        severity: Severity,
        title: &str,
        outcome: CheckOutcome,
        case: &str,
        detail: &str,
    ) {
        self.record_from(
            check_id, clause, severity, title, outcome, case, detail, false,
        );
    }

    /// [`RfcReport::record`] for a finding on a bent request (a request the
    /// case bent on purpose): it counts toward the check's `outcome` and its
    /// `bent_outcome`, and its detail is prefixed `<case> (bent request): `.
    #[allow(clippy::too_many_arguments)]
    pub fn record_bent(
        &mut self,
        check_id: &str,
        clause: &str,
        severity: Severity,
        title: &str,
        outcome: CheckOutcome,
        case: &str,
        detail: &str,
    ) {
        self.record_from(
            check_id, clause, severity, title, outcome, case, detail, true,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn record_from(
        &mut self,
        check_id: &str,
        clause: &str,
        severity: Severity,
        title: &str,
        outcome: CheckOutcome,
        case: &str,
        detail: &str,
        bent: bool,
    ) {
        self.evaluated = true;
        let key = (clause, check_id);
        let index = match self
            .checks
            .binary_search_by(|c| (c.clause.as_str(), c.check_id.as_str()).cmp(&key))
        {
            Ok(index) => index,
            Err(index) => {
                self.checks.insert(
                    index,
                    CheckResult {
                        check_id: check_id.to_owned(),
                        clause: clause.to_owned(),
                        severity,
                        title: title.to_owned(),
                        outcome,
                        bent_outcome: CheckOutcome::NotApplicable,
                        details: Vec::new(),
                    },
                );
                index
            }
        };
        let result = &mut self.checks[index];
        result.outcome = result.outcome.worst(outcome);
        if bent {
            result.bent_outcome = result.bent_outcome.worst(outcome);
        }
        if matches!(outcome, CheckOutcome::Warn | CheckOutcome::Fail) && !detail.is_empty() {
            let marked = if bent { " (bent request)" } else { "" };
            let line = format!("{case}{marked}: {detail}");
            if !result.details.contains(&line) {
                result.details.push(line);
            }
        }
    }

    /// How many checks ended with each outcome.
    pub fn counts(&self) -> OutcomeCounts {
        let mut counts = OutcomeCounts::default();
        for check in &self.checks {
            match check.outcome {
                CheckOutcome::Pass => counts.pass += 1,
                CheckOutcome::Warn => counts.warn += 1,
                CheckOutcome::Fail => counts.fail += 1,
                CheckOutcome::NotApplicable => counts.not_applicable += 1,
            }
        }
        counts
    }
}

/// Checks counted by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    /// Passed.
    pub pass: usize,
    /// Warned.
    pub warn: usize,
    /// Failed.
    pub fail: usize,
    /// Not applicable.
    pub not_applicable: usize,
}

/// One RFC check, aggregated over a provider's cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Stable id, such as `RFC6749-5.1-content-type`.
    pub check_id: String,
    /// The clause, such as `RFC6749-5.1`.
    pub clause: String,
    /// Failure for a MUST, warning for a SHOULD.
    pub severity: Severity,
    /// The rule, in one line.
    pub title: String,
    /// The worst outcome over every case, bent requests included.
    pub outcome: CheckOutcome,
    /// The worst outcome over bent requests only: requests a case bent on
    /// purpose (`request:` overrides, a resource call with another scheme
    /// than Bearer), on which only response-side checks apply. `n/a` when
    /// no bent request was judged by this check; absent in reports written
    /// before it existed.
    #[serde(default = "not_applicable")]
    pub bent_outcome: CheckOutcome,
    /// What was seen where the rule was broken, one line per case:
    /// `<case>: <detail>`, or `<case> (bent request): <detail>` when a bent
    /// request broke it.
    #[serde(default)]
    pub details: Vec<String>,
}

fn not_applicable() -> CheckOutcome {
    CheckOutcome::NotApplicable
}

/// One trial (a case, or the provider's declared-deviations trial) and how
/// it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseResult {
    /// Case name, unique within the provider; the trial is
    /// `<provider>::<name>`.
    pub name: String,
    /// What the case shows.
    #[serde(default)]
    pub description: Option<String>,
    /// How it ended.
    pub outcome: CaseOutcome,
    /// For a failure, what failed: `case` (an expectation, a request or an
    /// undeclared deviation), `snapshot-changed`, `snapshot-pending`,
    /// `deviations` or `spec`.
    #[serde(default)]
    pub failure_kind: Option<String>,
    /// For a failure: the redacted failure message, with a unified diff.
    #[serde(default)]
    pub message: Option<String>,
    /// For a skipped case: why it could not run.
    #[serde(default)]
    pub skip_reason: Option<String>,
    /// For a case that keeps a snapshot on both targets: its stored mock
    /// snapshot against its stored live snapshot, as a unified diff (`---
    /// mock`, `+++ live`; redacted, as both files are), empty when the two
    /// are the same. The mock and a live provider legitimately answer
    /// differently, so this informs and never fails anything.
    #[serde(default)]
    pub mock_vs_live: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_aggregates_by_check_sorted_by_clause() {
        let mut rfc = RfcReport::default();
        assert!(!rfc.evaluated);
        let s = Severity::Failure;
        rfc.record(
            "RFC6749-5.1-b",
            "RFC6749-5.1",
            s,
            "B",
            CheckOutcome::Pass,
            "p::a",
            "fine",
        );
        rfc.record(
            "RFC6749-3.2-a",
            "RFC6749-3.2",
            s,
            "A",
            CheckOutcome::NotApplicable,
            "p::a",
            "",
        );
        rfc.record(
            "RFC6749-5.1-b",
            "RFC6749-5.1",
            s,
            "B",
            CheckOutcome::Fail,
            "p::b",
            "bad",
        );
        rfc.record(
            "RFC6749-5.1-b",
            "RFC6749-5.1",
            s,
            "B",
            CheckOutcome::Pass,
            "p::c",
            "fine",
        );
        rfc.record(
            "RFC6749-5.1-b",
            "RFC6749-5.1",
            s,
            "B",
            CheckOutcome::Fail,
            "p::b",
            "bad",
        );
        rfc.record_bent(
            "RFC6749-5.1-b",
            "RFC6749-5.1",
            s,
            "B",
            CheckOutcome::Warn,
            "p::d",
            "odd",
        );
        assert!(rfc.evaluated);
        let ids: Vec<&str> = rfc.checks.iter().map(|c| c.check_id.as_str()).collect();
        assert_eq!(ids, ["RFC6749-3.2-a", "RFC6749-5.1-b"]);
        assert_eq!(rfc.checks[1].outcome, CheckOutcome::Fail);
        assert_eq!(
            rfc.checks[1].details,
            ["p::b: bad", "p::d (bent request): odd"]
        );
        assert_eq!(rfc.checks[1].bent_outcome, CheckOutcome::Warn);
        assert_eq!(rfc.checks[0].bent_outcome, CheckOutcome::NotApplicable);
        assert_eq!(rfc.checks[0].outcome, CheckOutcome::NotApplicable);
        let counts = rfc.counts();
        assert_eq!((counts.fail, counts.not_applicable, counts.pass), (1, 1, 0));
    }
}
