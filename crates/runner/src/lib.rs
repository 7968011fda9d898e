//! Runs grantspec cases against the embedded mock or the live provider.
//!
//! A [`Suite`] loads every spec of a folder, starts one mock server for all of
//! them (mock target) and one pooled HTTP client, and runs cases on request.
//! The `specs` test target turns each case into a libtest-mimic trial named
//! `<provider>::<case>`, so `cargo test` and `cargo nextest run` run specs as
//! ordinary tests; `cargo xtask report` runs the same cases for a summary.
//!
//! This is the only crate that knows libtest-mimic, insta and similar.
//!
//! [`SuiteConfig::from_env`] fails with a [`ConfigError`] (a [`DotenvError`]
//! as its source when the `.env` file is at fault).

pub mod compat;
mod config;
mod exec;
pub mod harness;
pub mod metadata;
pub mod probe;
pub mod redact;
pub mod render;
mod snapshot;
mod verdict;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use grantspec_conformance as rfc;
use grantspec_mock::MockServer;
use grantspec_spec::template::{ResolvedVars, Resolver, TargetKind};
use grantspec_spec::{LoadedSpec, SpecError, load_dir};
use grantspec_token::{
    Clock as _, ManualClock, ProviderProfile, RequestRate, RetryPolicy, Transport,
};
use url::Url;

pub use config::{ConfigError, DotenvError, Env, SuiteConfig, workspace_root};
pub use exec::{CaseRun, Exchange, PathMismatch, StepLabel, Verdict, check};
pub use snapshot::{SnapshotCheck, check_snapshot, read_snapshot, snapshot_body, snapshot_file};
pub use verdict::{Failure, FailureKind, Judgement};

/// Why a suite could not start.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// The mock server could not bind.
    #[error("cannot start the mock server: {0}")]
    Mock(#[source] std::io::Error),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Transport(#[from] grantspec_token::TransportError),
    /// The snapshot folder is a file, or lies below one.
    #[error("snapshot folder {}: {problem}", .dir.display())]
    Snapshots {
        /// The configured folder.
        dir: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}

/// Why the cases of a live-only provider (a spec without a `mock` section)
/// are ignored on the mock target.
pub const LIVE_ONLY: &str = "live-only: the spec has no `mock` section, so the mock does not emulate this provider; its cases run only live (GRANTSPEC_TARGET=live)";

/// One case of a loaded spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseId {
    /// Index of the spec.
    pub spec: usize,
    /// Index of the case in the spec.
    pub case: usize,
}

/// The suite of the specs in `specs_dir` on the mock target, started on
/// `runtime`: for the crate's own tests.
#[cfg(test)]
pub(crate) fn mock_suite(
    runtime: &tokio::runtime::Runtime,
    specs_dir: &std::path::Path,
    snapshots_dir: &std::path::Path,
) -> Suite {
    runtime
        .block_on(Suite::start(SuiteConfig {
            specs_dir: specs_dir.to_path_buf(),
            snapshots_dir: snapshots_dir.to_path_buf(),
            target: TargetKind::Mock,
            env: Env::default(),
            transport: grantspec_token::TransportConfig::default(),
            write_pending_snapshots: false,
        }))
        .unwrap()
}

/// A case [`Suite::perform`] ran, or why it could not run: what
/// [`Suite::judge`] judges.
#[derive(Debug)]
pub struct Performed {
    id: CaseId,
    ran: Result<exec::Performed, String>,
}

/// The outcome of one case, judged, ready to show or snapshot.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// `<provider>::<case>`.
    pub name: String,
    /// Provider id.
    pub provider: String,
    /// Case name.
    pub case: String,
    /// The run.
    pub run: CaseRun,
    /// Whether the case keeps a snapshot.
    pub snapshot: bool,
    /// The verdict every entry point gives: the run's own, then its snapshot.
    pub judgement: Judgement,
}

impl CaseReport {
    /// The failure message, if the case failed (its run or its snapshot).
    pub fn failure(&self) -> Option<String> {
        self.judgement.failure().map(|f| f.message.clone())
    }
}

/// One trial of a suite, as libtest lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialId {
    /// A spec file (by file stem) that did not load: `<stem>::spec`, an
    /// index into [`Suite::spec_file_errors`].
    SpecFile(usize),
    /// A case: `<provider>::<case>`.
    Case(CaseId),
    /// A provider's declared deviations against what its cases showed:
    /// `<provider>::declared_deviations`, by spec index.
    DeclaredDeviations(usize),
}

/// The problems of the spec files that share one file stem: one failing
/// `<stem>::spec` trial, so a broken spec can never pass silently.
#[derive(Debug, Clone)]
pub struct SpecFileErrors {
    /// The file stem, the trial's provider part.
    pub stem: String,
    /// The files, as given.
    pub files: Vec<PathBuf>,
    /// Every located error of those files.
    pub message: String,
}

struct LoadedProvider {
    loaded: LoadedSpec,
    profile: ProviderProfile,
    base_url: Option<Url>,
    /// The token endpoint's URL, joined once.
    token_url: Option<Url>,
    base_url_problem: Option<String>,
    /// On the live target, the environment variables each of the spec's
    /// variables lacks (empty on the mock).
    missing_env: exec::MissingEnv,
    /// The spec's variables that read no capture, resolved once for the
    /// suite's target and environment.
    resolved_vars: ResolvedVars,
    /// On the mock target, the deviations the mock emulates for this
    /// provider ([`grantspec_mock::emulated_deviations`]); `None` on a live
    /// run, where every declared deviation is judged, and for a live-only
    /// provider, whose declared deviations are not judged on the mock at all.
    emulated: Option<BTreeSet<&'static str>>,
    /// The HTTP client for this provider's cases: the suite's (one
    /// connection pool), paced to `live.rate` on the live target.
    transport: Transport,
    /// What the runs of this provider's cases showed of deviations.
    shown: Mutex<Shown>,
    /// Which cases have run.
    ran: Vec<AtomicBool>,
    /// Each case's [`Suite::skip_reason`], worked out when first asked:
    /// the harness asks when it lists the trials, when it prints why some
    /// are ignored, and when it runs the case.
    skip_reasons: Vec<OnceLock<Option<String>>>,
    /// On a live run, where the provider's discovery metadata is
    /// (`provider.metadata` joined to the base URL).
    metadata_url: Option<Url>,
    /// The metadata, read by the first case that needs it.
    metadata: tokio::sync::OnceCell<metadata::Metadata>,
}

/// The checks some runs showed deviating ([`rfc::observed_deviations`]) and
/// judging anything ([`rfc::exercised_deviations`]), as sets of positions in
/// [`rfc::CHECKS`]: all a provider's declared-deviations check needs of
/// them, kept small enough to add every case run to cheaply.
#[derive(Debug, Default, Clone, Copy)]
struct Shown {
    observed: u128,
    exercised: u128,
}

const _: () = assert!(rfc::CHECKS.len() <= 128, "Shown holds one bit per check");

impl Shown {
    /// What one run's findings show, as [`rfc::observed_deviations`] and
    /// [`rfc::exercised_deviations`] select them.
    fn of(findings: &[rfc::Finding]) -> Self {
        let mut shown = Self::default();
        for finding in findings {
            let bit = 1_u128 << finding.position();
            if finding.outcome.is_deviation() {
                shown.observed |= bit;
            }
            if finding.outcome != rfc::Outcome::NotApplicable {
                shown.exercised |= bit;
            }
        }
        shown
    }

    fn add(&mut self, other: Self) {
        self.observed |= other.observed;
        self.exercised |= other.exercised;
    }

    /// The deviation ids of the checks in `set`.
    fn deviations(set: u128) -> BTreeSet<&'static str> {
        rfc::CHECKS
            .iter()
            .enumerate()
            .filter(|(position, _)| set & (1 << position) != 0)
            .map(|(_, check)| check.deviation)
            .collect()
    }
}

/// Runs `work(item)` for each of `items`, in order, on `in_flight` tasks of
/// `runtime`, each taking the next item when it is done with one: how the
/// runner bounds how many cases run at once. (A task spawned per item, with
/// a semaphore to bound them, costs more scheduling than a loopback
/// request.) A panic ends the task it happens in, whose handle then says so;
/// the other tasks take the items left.
pub(crate) fn run_in_turn<I, F>(
    runtime: &tokio::runtime::Handle,
    items: Vec<I>,
    in_flight: usize,
    work: impl Fn(I) -> F + Send + Sync + 'static,
) -> Vec<tokio::task::JoinHandle<()>>
where
    I: Copy + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let items: Arc<[I]> = items.into();
    let next = Arc::new(AtomicUsize::new(0));
    let work = Arc::new(work);
    (0..in_flight.clamp(1, items.len().max(1)))
        .map(|_| {
            let (items, next, work) = (Arc::clone(&items), Arc::clone(&next), Arc::clone(&work));
            runtime.spawn(async move {
                while let Some(&item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    work(item).await;
                }
            })
        })
        .collect()
}

/// Loaded specs, a target, and what is needed to run their cases.
pub struct Suite {
    config: SuiteConfig,
    providers: Vec<LoadedProvider>,
    load_errors: Vec<SpecError>,
    spec_file_errors: Vec<SpecFileErrors>,
    mock: Option<MockServer>,
    clock: ManualClock,
    /// What [`Suite::retry_notes`] shows: by spec and case index, each
    /// retried exchange of the case's latest run.
    retried: Mutex<BTreeMap<(usize, usize), Vec<String>>>,
}

impl Suite {
    /// Loads the specs of `config.specs_dir` and, for the mock target, starts
    /// the mock server. Must be called inside a tokio runtime.
    pub async fn start(config: SuiteConfig) -> Result<Self, SuiteError> {
        if let Some(problem) = config::snapshot_folder_problem(&config.snapshots_dir) {
            return Err(SuiteError::Snapshots {
                dir: config.snapshots_dir,
                problem,
            });
        }
        // The mock never throttles: an answer it gives is behaviour under
        // test, judged as it comes, never retried; and it keeps no pace.
        let transport_config = match config.target {
            TargetKind::Mock => grantspec_token::TransportConfig {
                retry: RetryPolicy::none(),
                ..config.transport.clone()
            },
            TargetKind::Live => config.transport.clone(),
        };
        // Cheap: the client that reads the system's root certificates is
        // built when a request first needs TLS.
        let transport = Transport::new(transport_config)?;
        let (specs, load_errors) = load_dir(&config.specs_dir);
        let clock = ManualClock::default();
        let mock = match config.target {
            TargetKind::Mock => Some(
                MockServer::start(
                    specs.iter().filter_map(|s| s.spec.mock_provider()),
                    Arc::new(clock.clone()),
                    0,
                )
                .await
                .map_err(SuiteError::Mock)?,
            ),
            TargetKind::Live => None,
        };
        let providers = specs
            .into_iter()
            .map(|loaded| {
                let profile = loaded.spec.profile();
                let (base_url, base_url_problem) = match (&mock, &loaded.spec.live) {
                    (Some(_), _) if loaded.spec.is_live_only() => (None, Some(LIVE_ONLY.to_owned())),
                    (Some(mock), _) => (Some(mock.base_url(&loaded.spec.provider.id)), None),
                    (None, None) => (None, Some("the spec has no `live` section".to_owned())),
                    (None, Some(live)) => {
                        let env = |name: &str| config.env.get(name);
                        let resolver = Resolver::new(&loaded.spec, TargetKind::Live, &env);
                        match resolver.resolve(&live.base_url, &Default::default()) {
                            Ok(text) => match Url::parse(text.expose()) {
                                Ok(url) => (Some(url), None),
                                Err(e) => (None, Some(format!("live base_url is not a URL: {e}"))),
                            },
                            Err(grantspec_spec::template::Unresolved::MissingEnv(name)) => (
                                None,
                                Some(format!(
                                    "needs environment variable {name}, which is not set (live base_url)"
                                )),
                            ),
                            Err(e) => (None, Some(format!("live base_url: {e}"))),
                        }
                    }
                };
                let token_url = base_url.as_ref().and_then(|base| {
                    grantspec_token::endpoint_url(base, &profile.token_endpoint.path).ok()
                });
                let emulated = mock
                    .as_ref()
                    .and_then(|_| loaded.spec.mock_provider())
                    .map(|provider| grantspec_mock::emulated_deviations(&provider));
                let rate = match (&mock, &loaded.spec.live) {
                    (None, Some(live)) => live.rate.and_then(|rate| rate.request_rate()),
                    _ => None,
                };
                let metadata_url = match (&mock, &loaded.spec.provider.metadata, &base_url) {
                    (None, Some(path), Some(base)) => grantspec_token::endpoint_url(base, path).ok(),
                    _ => None,
                };
                let missing_env = match config.target {
                    TargetKind::Live => exec::MissingEnv::new(&loaded.spec, &config.env),
                    TargetKind::Mock => exec::MissingEnv::default(),
                };
                let resolved_vars = ResolvedVars::new(&loaded.spec, config.target, &|name| {
                    config.env.get(name)
                });
                LoadedProvider {
                    missing_env,
                    resolved_vars,
                    metadata_url,
                    metadata: tokio::sync::OnceCell::new(),
                    token_url,
                    emulated,
                    transport: match rate {
                        Some(rate) => transport.clone().paced(rate),
                        None => transport.clone(),
                    },
                    shown: Mutex::new(Shown::default()),
                    ran: (0..loaded.spec.cases.len())
                        .map(|_| AtomicBool::new(false))
                        .collect(),
                    skip_reasons: (0..loaded.spec.cases.len())
                        .map(|_| OnceLock::new())
                        .collect(),
                    loaded,
                    profile,
                    base_url,
                    base_url_problem,
                }
            })
            .collect();
        let spec_file_errors = group_by_stem(&load_errors);
        Ok(Self {
            config,
            providers,
            load_errors,
            spec_file_errors,
            mock,
            clock,
            retried: Mutex::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SuiteConfig {
        &self.config
    }

    /// Problems of spec files that did not load.
    pub fn load_errors(&self) -> &[SpecError] {
        &self.load_errors
    }

    /// The loaded specs.
    pub fn specs(&self) -> impl Iterator<Item = &LoadedSpec> {
        self.providers.iter().map(|p| &p.loaded)
    }

    /// The mock server, for the mock target.
    pub fn mock(&self) -> Option<&MockServer> {
        self.mock.as_ref()
    }

    /// The mock's clock.
    pub fn clock(&self) -> &ManualClock {
        &self.clock
    }

    /// The rate a provider's requests keep to: its `live.rate` on the live
    /// target, none on the mock.
    pub fn rate(&self, spec: usize) -> Option<RequestRate> {
        self.providers[spec].transport.rate()
    }

    /// The requests the provider throttled in the cases run so far, and how
    /// they were retried, in case order: `<provider>::<case> step 1 of 2
    /// (password): retried 1 time: HTTP 429 …`. Whatever the cases' verdicts
    /// (a failure message shows them too), so that a run that passed only
    /// after waiting says so.
    pub fn retry_notes(&self) -> Vec<String> {
        let retried = self.retried.lock().unwrap_or_else(PoisonError::into_inner);
        retried
            .iter()
            .flat_map(|(&(spec, case), notes)| {
                let name = self.case_name(CaseId { spec, case });
                notes.iter().map(move |note| format!("{name} {note}"))
            })
            .collect()
    }

    /// Every case, in spec order.
    pub fn cases(&self) -> Vec<CaseId> {
        self.providers
            .iter()
            .enumerate()
            .flat_map(|(spec, provider)| {
                (0..provider.loaded.spec.cases.len()).map(move |case| CaseId { spec, case })
            })
            .collect()
    }

    /// A case's definition.
    pub fn case(&self, id: CaseId) -> &grantspec_spec::Case {
        &self.providers[id.spec].loaded.spec.cases[id.case]
    }

    /// `<provider>::<case>`.
    pub fn case_name(&self, id: CaseId) -> String {
        let spec = &self.providers[id.spec].loaded.spec;
        [spec.provider.id.as_str(), "::", &spec.cases[id.case].name].concat()
    }

    /// The spec file a case comes from.
    pub fn spec_path(&self, id: CaseId) -> PathBuf {
        self.providers[id.spec].loaded.path.clone()
    }

    /// Why a case cannot run on this target, known before running it: its
    /// tags exclude the target, or (live) the base URL or a variable it uses
    /// is not set. Such cases are ignored trials, with this reason.
    pub fn skip_reason(&self, id: CaseId) -> Option<String> {
        self.providers[id.spec].skip_reasons[id.case]
            .get_or_init(|| self.work_out_skip_reason(id))
            .clone()
    }

    fn work_out_skip_reason(&self, id: CaseId) -> Option<String> {
        let provider = &self.providers[id.spec];
        let case = self.case(id);
        let live = self.config.target == TargetKind::Live;
        if !live && provider.loaded.spec.is_live_only() {
            return Some(LIVE_ONLY.to_owned());
        }
        if !case.runs_on(live) {
            return Some(format!(
                "tagged {}",
                if live { "mock-only" } else { "live-only" }
            ));
        }
        if let Some(problem) = &provider.base_url_problem {
            return Some(problem.clone());
        }
        if live {
            let missing =
                provider
                    .missing_env
                    .of_case(&provider.loaded.spec, case, &self.config.env);
            match missing.as_slice() {
                [] => {}
                [name] => {
                    return Some(format!(
                        "needs environment variable {name}, which is {}",
                        self.config.env.why_missing(name)
                    ));
                }
                names
                    if names
                        .iter()
                        .all(|name| self.config.env.why_missing(name) == "not set") =>
                {
                    return Some(format!(
                        "needs environment variables {}, which are not set",
                        names.join(", ")
                    ));
                }
                names => {
                    let each: Vec<String> = names
                        .iter()
                        .map(|name| format!("{name} ({})", self.config.env.why_missing(name)))
                        .collect();
                    return Some(format!("needs environment variables {}", each.join(", ")));
                }
            }
        }
        None
    }

    /// Why none of a provider's cases can run on this target, known before
    /// running any: on the mock target, a live-only provider ([`LIVE_ONLY`]);
    /// on a live run, a spec without a `live` section or whose base URL is
    /// not set or not a URL. Its `declared_deviations` trial is then
    /// ignored with this reason, as its cases are.
    pub fn provider_skip_reason(&self, spec: usize) -> Option<String> {
        self.providers[spec].base_url_problem.clone()
    }

    /// A provider's declared deviations against those its cases showed: an
    /// undeclared one is drift, and a declared one whose checks ran but never
    /// failed means the provider no longer deviates (or the id is unknown).
    /// Declared deviations no case exercised are not reported.
    pub fn deviations<'r>(
        &self,
        spec: usize,
        reports: impl IntoIterator<Item = &'r CaseReport>,
    ) -> rfc::DeviationReport {
        let mut shown = Shown::default();
        for report in reports {
            shown.add(Shown::of(&report.run.findings));
        }
        self.compare_shown(spec, shown)
    }

    /// [`Suite::deviations`] from what the cases showed, together. On the
    /// mock target, a declared deviation the mock does not emulate is not
    /// judged: it is [`rfc::DeviationReport::not_emulated`] unless a case
    /// showed it after all.
    fn compare_shown(&self, spec: usize, shown: Shown) -> rfc::DeviationReport {
        let provider = &self.providers[spec];
        let declared = &provider.loaded.spec.provider.deviations;
        let mut report = rfc::compare_deviations(declared, &Shown::deviations(shown.observed));
        let exercised = Shown::deviations(shown.exercised);
        report
            .unobserved
            .retain(|id| !rfc::known_deviation(id) || exercised.contains(id.as_str()));
        if let Some(emulated) = &provider.emulated {
            let unjudged = not_emulated(declared, emulated);
            report.unobserved.retain(|id| !unjudged.contains(id));
            let observed = Shown::deviations(shown.observed);
            report.not_emulated = unjudged
                .into_iter()
                .filter(|id| !observed.contains(id.as_str()))
                .collect();
        }
        report
    }

    /// On the mock target, the deviations `spec` declares that the mock does
    /// not emulate for it, known before any case runs; empty on a live run.
    pub fn not_emulated(&self, spec: usize) -> Vec<String> {
        let provider = &self.providers[spec];
        provider
            .emulated
            .as_ref()
            .map_or_else(Vec::new, |emulated| {
                not_emulated(&provider.loaded.spec.provider.deviations, emulated)
            })
    }

    /// Runs every case of one provider and compares its declared deviations
    /// with what they showed (see [`Suite::deviations`]). A case this suite
    /// has already run (as its own trial) is not run again: every run adds
    /// what it showed to what the provider's runs have shown.
    pub async fn check_deviations(&self, spec: usize) -> rfc::DeviationReport {
        let provider = &self.providers[spec];
        for (case, ran) in provider.ran.iter().enumerate() {
            if !ran.load(Ordering::Acquire) {
                self.run(CaseId { spec, case }).await;
            }
        }
        let shown = *provider
            .shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.compare_shown(spec, shown)
    }

    /// The verdict of a provider's `declared_deviations` trial, given what
    /// its cases showed ([`Suite::deviations`], [`Suite::check_deviations`]):
    /// ignored when none of its cases can run here
    /// ([`Suite::provider_skip_reason`]), else passed when declarations and
    /// observations agree.
    pub fn judge_deviations(&self, spec: usize, report: &rfc::DeviationReport) -> Judgement {
        match self.provider_skip_reason(spec) {
            Some(reason) => Judgement::Ignored(reason),
            None => Judgement::of_deviations(report),
        }
    }

    /// The spec files that did not load, one entry per file stem (one
    /// `<stem>::spec` trial each).
    pub fn spec_file_errors(&self) -> &[SpecFileErrors] {
        &self.spec_file_errors
    }

    /// Every trial, in the order libtest lists them: one per spec file that
    /// did not load, one per case, then one declared-deviations trial per
    /// provider. The declared-deviations trials come last so that, in a run
    /// of the whole suite, they find the cases already run and only read
    /// what those runs showed; run alone, they run the cases themselves.
    pub fn trials(&self) -> Vec<TrialId> {
        (0..self.spec_file_errors.len())
            .map(TrialId::SpecFile)
            .chain(self.cases().into_iter().map(TrialId::Case))
            .chain((0..self.providers.len()).map(TrialId::DeclaredDeviations))
            .collect()
    }

    /// A trial's name: `<stem>::spec`, `<provider>::<case>` or
    /// `<provider>::declared_deviations`.
    pub fn trial_name(&self, trial: TrialId) -> String {
        match trial {
            TrialId::SpecFile(index) => format!("{}::spec", self.spec_file_errors[index].stem),
            TrialId::Case(id) => self.case_name(id),
            TrialId::DeclaredDeviations(spec) => format!(
                "{}::declared_deviations",
                self.providers[spec].loaded.spec.provider.id
            ),
        }
    }

    /// Judges a trial that is not a case: a spec file that did not load
    /// fails with its located errors; a provider's declared deviations are
    /// compared with what its cases showed, running those that have not run
    /// yet. A case is judged by [`Suite::run`].
    pub async fn judge_provider_trial(&self, trial: TrialId) -> Judgement {
        match trial {
            TrialId::SpecFile(index) => Judgement::failed(
                FailureKind::Spec,
                self.spec_file_errors[index].message.clone(),
            ),
            TrialId::Case(id) => self.run_unless_ignored(id).await.judgement,
            TrialId::DeclaredDeviations(spec) => match self.provider_skip_reason(spec) {
                Some(reason) => Judgement::Ignored(reason),
                None => self.judge_deviations(spec, &self.check_deviations(spec).await),
            },
        }
    }

    /// Runs every case concurrently; reports come back in case order.
    pub async fn run_all(self: &Arc<Self>) -> Vec<CaseReport> {
        self.run_all_with(|_, _, _| {}).await
    }

    /// [`Suite::run_all`], calling `on_done(done, total, report)` as each
    /// case ends (in the order they end), for progress display. One case per
    /// CPU runs at a time, as the test harness runs them by default, so a
    /// live provider never sees the whole suite at once. A case that panicked
    /// resumes its panic here, once the others are done, rather than
    /// vanishing from the run.
    pub async fn run_all_with(
        self: &Arc<Self>,
        mut on_done: impl FnMut(usize, usize, &CaseReport),
    ) -> Vec<CaseReport> {
        let cases: Vec<(usize, CaseId)> = self.cases().into_iter().enumerate().collect();
        let total = cases.len();
        let in_flight = std::thread::available_parallelism().map_or(1, usize::from);
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        let suite = Arc::clone(self);
        // The channel closes when the last task, and its sender, is gone.
        let workers = run_in_turn(
            &tokio::runtime::Handle::current(),
            cases,
            in_flight,
            move |(index, id)| {
                let (suite, done) = (Arc::clone(&suite), done.clone());
                async move {
                    let report = suite.run_unless_ignored(id).await;
                    let _ = done.send((index, report));
                }
            },
        );
        let mut reports = Vec::with_capacity(total);
        while let Some((index, report)) = finished.recv().await {
            on_done(reports.len() + 1, total, &report);
            reports.push((index, report));
        }
        for worker in workers {
            if let Err(error) = worker.await {
                std::panic::resume_unwind(error.into_panic());
            }
        }
        reports.sort_by_key(|(index, _)| *index);
        reports.into_iter().map(|(_, report)| report).collect()
    }

    /// Runs one case unless the spec marks it `ignore:` (then it is ignored
    /// with that reason, as libtest ignores its trial): what a full run such
    /// as the report does, where no `--include-ignored` asks for more.
    pub async fn run_unless_ignored(&self, id: CaseId) -> CaseReport {
        match &self.case(id).ignore {
            Some(reason) => self.not_run(id, reason.clone()),
            None => self.run(id).await,
        }
    }

    /// The report of a case that did not run, for this reason.
    fn not_run(&self, id: CaseId, reason: String) -> CaseReport {
        CaseReport {
            name: self.case_name(id),
            provider: self.providers[id.spec].loaded.spec.provider.id.clone(),
            case: self.case(id).name.clone(),
            run: CaseRun {
                verdict: Verdict::Skipped(reason.clone()),
                exchanges: Vec::new(),
                error: None,
                secrets: Vec::new(),
                findings: Vec::new(),
                probe_findings: Vec::new(),
            },
            snapshot: self.case(id).snapshot,
            judgement: Judgement::Ignored(reason),
        }
    }

    /// Runs one case and judges it: its expectations, the RFC checks of its
    /// exchanges, then, when it keeps one, its snapshot. Marks the case run,
    /// so its provider's declared-deviations trial does not run it again.
    pub async fn run(&self, id: CaseId) -> CaseReport {
        let performed = self.perform(id).await;
        self.judge(performed)
    }

    /// The first half of [`Suite::run`]: runs the case's requests, matching
    /// each answer a later step follows against its expectations, or finds
    /// why the case cannot run. All of its I/O but the snapshot's.
    pub async fn perform(&self, id: CaseId) -> Performed {
        let provider = &self.providers[id.spec];
        let spec = &provider.loaded.spec;
        let not_run = |reason| Performed {
            id,
            ran: Err(reason),
        };
        if let Some(reason) = self.skip_reason(id) {
            return not_run(reason);
        }
        let Some(base_url) = &provider.base_url else {
            return not_run(provider.base_url_problem.clone().unwrap_or_default());
        };
        let metadata = match &provider.metadata_url {
            Some(url) => Some(
                provider
                    .metadata
                    .get_or_init(|| metadata::read(&provider.transport, url.clone()))
                    .await,
            ),
            None => None,
        };
        let cx = exec::CaseContext {
            spec,
            profile: &provider.profile,
            base_url,
            token_url: provider.token_url.as_ref(),
            target: self.config.target,
            env: &self.config.env,
            resolved_vars: &provider.resolved_vars,
            transport: &provider.transport,
            metadata,
            now: match self.config.target {
                TargetKind::Mock => self.clock.now(),
                TargetKind::Live => std::time::SystemTime::now(),
            },
            spec_path: Some(&provider.loaded.path),
        };
        let ran = exec::perform(&cx, &spec.cases[id.case]).await;
        Performed { id, ran: Ok(ran) }
    }

    /// The second half of [`Suite::run`]: judges a case [`Suite::perform`]
    /// ran (its last answer against its expectations, the RFC checks of its
    /// exchanges, its snapshot) and marks it run. Its only I/O is the
    /// snapshot's.
    pub fn judge(&self, performed: Performed) -> CaseReport {
        let id = performed.id;
        let report = match performed.ran {
            Ok(ran) => self.judge_performed(id, ran),
            Err(reason) => self.not_run(id, reason),
        };
        self.providers[id.spec].ran[id.case].store(true, Ordering::Release);
        report
    }

    fn judge_performed(&self, id: CaseId, performed: exec::Performed) -> CaseReport {
        let provider = &self.providers[id.spec];
        let spec = &provider.loaded.spec;
        let case = &spec.cases[id.case];
        // `perform` read the metadata, when the provider names it.
        let run = exec::check_conformance(
            performed,
            case,
            provider.metadata.get(),
            &spec.provider.deviations,
        );
        let shown = Shown::of(&run.findings);
        provider
            .shown
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(shown);
        let notes = render::retry_notes(&run);
        let mut retried = self.retried.lock().unwrap_or_else(PoisonError::into_inner);
        if notes.is_empty() {
            retried.remove(&(id.spec, id.case));
        } else {
            retried.insert((id.spec, id.case), notes);
        }
        drop(retried);
        let name = self.case_name(id);
        let judgement = match &run.verdict {
            Verdict::Skipped(reason) => Judgement::Ignored(reason.clone()),
            verdict => {
                let failure =
                    (*verdict == Verdict::Failed).then(|| render::failure_message(&name, &run));
                let snapshot = case.snapshot.then(|| {
                    let spec_path = &provider.loaded.path;
                    let (provider_id, case_name) = (&spec.provider.id, &case.name);
                    let check = || {
                        check_snapshot(
                            &self.config.snapshots_dir,
                            self.config.target,
                            spec_path,
                            &name,
                            provider_id,
                            case_name,
                            &run,
                            self.config.write_pending_snapshots,
                        )
                    };
                    // Reads the stored snapshot, and may write a pending one.
                    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
                        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => {
                            tokio::task::block_in_place(check)
                        }
                        _ => check(),
                    }
                });
                Judgement::of_case(&name, failure, snapshot.as_ref())
            }
        };
        CaseReport {
            name,
            provider: spec.provider.id.clone(),
            case: case.name.clone(),
            run,
            snapshot: case.snapshot,
            judgement,
        }
    }
}

/// The deviations of `declared` that the mock, emulating `emulated`, cannot
/// show: known ids, neither shown by the requests alone nor emulated.
fn not_emulated(declared: &[String], emulated: &BTreeSet<&'static str>) -> Vec<String> {
    declared
        .iter()
        .filter(|id| {
            rfc::known_deviation(id)
                && !rfc::shown_by_requests_alone(id)
                && !emulated.contains(id.as_str())
        })
        .cloned()
        .collect()
}

/// The load errors grouped by file stem, in stem order: one trial each.
fn group_by_stem(errors: &[SpecError]) -> Vec<SpecFileErrors> {
    let mut groups: Vec<SpecFileErrors> = Vec::new();
    for error in errors {
        let stem = error.file.file_stem().map_or_else(
            || error.file.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        match groups.iter_mut().find(|g| g.stem == stem) {
            Some(group) => {
                group.message.push_str("\n\n");
                group.message.push_str(&error.to_string());
                if !group.files.contains(&error.file) {
                    group.files.push(error.file.clone());
                }
            }
            None => groups.push(SpecFileErrors {
                stem,
                files: vec![error.file.clone()],
                message: error.to_string(),
            }),
        }
    }
    groups.sort_by(|a, b| a.stem.cmp(&b.stem));
    groups
}
