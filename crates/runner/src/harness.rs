//! The libtest-mimic harness: one trial per case, named `<provider>::<case>`.
//!
//! Trials follow the libtest conventions (`--list`, filters, `--exact`,
//! `--ignored`, `--include-ignored`, `--test-threads`), so `cargo test` and
//! `cargo nextest run` drive them like any other test.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::{CaseId, Suite, SuiteConfig, Verdict, check_snapshot};

/// Runs every case of the configured spec folder as a trial.
pub fn main() -> ExitCode {
    let args = Arguments::from_args();
    let config = match SuiteConfig::from_env() {
        Ok(config) => config,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the tokio runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let suite = match runtime.block_on(Suite::start(config)) {
        Ok(suite) => Arc::new(suite),
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let trials = trials(&suite, runtime.handle());
    print_ignore_reasons(&suite, &args, &trials);
    let conclusion = libtest_mimic::run(&args, trials);
    drop(suite);
    conclusion.exit_code()
}

/// The trials of a suite: one failing trial per spec file that did not load,
/// so a broken spec can never pass silently; one per case; then one per
/// provider comparing its declared deviations with what its cases showed.
///
/// The declared-deviations trials come last so that, in a run of the whole
/// suite, they find the cases already run by their own trials and only read
/// what those runs showed; run alone, they run the cases themselves.
pub fn trials(suite: &Arc<Suite>, handle: &tokio::runtime::Handle) -> Vec<Trial> {
    let mut by_file: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for error in suite.load_errors() {
        let stem = error.file.file_stem().map_or_else(
            || error.file.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        by_file.entry(stem).or_default().push(error.to_string());
    }
    let mut trials: Vec<Trial> = by_file
        .into_iter()
        .map(|(stem, errors)| {
            let message = errors.join("\n\n");
            Trial::test(format!("{stem}::spec"), move || Err(Failed::from(message)))
        })
        .collect();

    for id in suite.cases() {
        let ignored = ignore_reason(suite, id).is_some();
        let suite = Arc::clone(suite);
        let handle = handle.clone();
        let trial = Trial::ignorable_test(suite.case_name(id), move || {
            let report = handle.block_on(suite.run(id));
            let snapshot = (report.snapshot && !matches!(report.run.verdict, Verdict::Skipped(_)))
                .then(|| {
                    check_snapshot(&suite.config().snapshots_dir, &suite.spec_path(id), &report)
                })
                .and_then(|check| check.failure(&report.name));
            match (&report.run.verdict, report.failure(), snapshot) {
                (Verdict::Skipped(reason), _, _) => Ok(Completion::ignored_with(reason)),
                (_, Some(failure), Some(snapshot)) => Err(format!("{failure}\n{snapshot}").into()),
                (_, Some(failure), None) | (_, None, Some(failure)) => Err(failure.into()),
                (_, None, None) => Ok(Completion::Completed),
            }
        });
        trials.push(trial.with_ignored_flag(ignored));
    }
    for (spec, loaded) in suite.specs().enumerate() {
        let suite = Arc::clone(suite);
        let handle = handle.clone();
        let name = format!("{}::declared_deviations", loaded.spec.provider.id);
        trials.push(Trial::test(name, move || {
            let report = {
                let suite = Arc::clone(&suite);
                on_runtime(&handle, async move { suite.check_deviations(spec).await })
            };
            if report.is_clean() {
                Ok(())
            } else {
                Err(report.messages().join("\n").into())
            }
        }));
    }
    trials
}

/// Runs `future` as a task of the runtime, next to the mock server and the
/// connection pool, and waits for it on this (libtest) thread. For a long
/// chain of requests (every case of a provider, one after the other) this is
/// about twice as fast as driving it here with `block_on`, which hands every
/// I/O wake-up from the runtime's threads to this one; for one case it makes
/// no measurable difference. A panic in the task is resumed here, so libtest
/// reports it as it would any other.
fn on_runtime<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    future: impl Future<Output = T> + Send + 'static,
) -> T {
    match handle.block_on(handle.spawn(future)) {
        Ok(value) => value,
        Err(error) => match error.try_into_panic() {
            Ok(payload) => std::panic::resume_unwind(payload),
            Err(error) => panic!("the trial's task did not finish: {error}"),
        },
    }
}

/// Why a case is an ignored trial: its `ignore` reason, or why it cannot run
/// on this target.
fn ignore_reason(suite: &Suite, id: CaseId) -> Option<String> {
    suite
        .case(id)
        .ignore
        .clone()
        .or_else(|| suite.skip_reason(id))
}

/// Prints, before the run, why each selected ignored trial is ignored:
/// libtest shows only "ignored" for them, and nextest only "skipped".
fn print_ignore_reasons(suite: &Suite, args: &Arguments, trials: &[Trial]) {
    if args.list {
        return;
    }
    let cases = suite.cases();
    // Case trials come after one trial per spec file that did not load, and
    // before one declared-deviations trial per loaded spec.
    let deviation_trials = suite.specs().count();
    let case_trials = &trials[..trials.len().saturating_sub(deviation_trials)];
    let case_trials = &case_trials[case_trials.len().saturating_sub(cases.len())..];
    let lines: Vec<String> = cases
        .into_iter()
        .zip(case_trials)
        .filter(|(_, trial)| !args.is_filtered_out(trial))
        .filter_map(|(id, _)| {
            ignore_reason(suite, id).map(|reason| format!("  {}: {reason}", suite.case_name(id)))
        })
        .collect();
    if !lines.is_empty() {
        eprintln!("ignored cases, and why:\n{}\n", lines.join("\n"));
    }
}
