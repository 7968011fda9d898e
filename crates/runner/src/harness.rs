//! The libtest-mimic harness: one trial per case, named `<provider>::<case>`.
//!
//! Trials follow the libtest conventions (`--list`, filters, `--exact`,
//! `--ignored`, `--include-ignored`, `--test-threads`), so `cargo test` and
//! `cargo nextest run` drive them like any other test.
//!
//! The selected cases are performed ([`Suite::perform`]: their requests
//! sent) ahead of their trials on the async runtime, `--test-threads` of
//! them at once (by default one per CPU), in trial order; each trial waits
//! for its case, judges it ([`Suite::judge`]: its last answer's
//! expectations, the RFC checks, the failure message, the snapshot) and
//! reports it, one after the other on the trials' thread.
//! A trial per thread blocking on its own request would instead hand every
//! I/O wake-up between the runtime's threads and the trial's: on a small
//! machine those hand-offs cost more than a loopback request. Judging on the
//! trials' thread, which wakes for many finished cases at once, runs the
//! checks' code for one case after another, where it stays in the CPU's
//! caches, rather than between two cases' network I/O, which evicts it.

use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicU8, AtomicUsize};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use libtest_mimic::{Arguments, Trial};
use tokio::runtime::Handle;

use crate::{CaseId, Performed, Suite, SuiteConfig, TrialId};

/// Runs every case of the configured spec folder as a trial.
pub fn main() -> ExitCode {
    let mut args = Arguments::from_args();
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
    let ahead = RunAhead::new(runtime.handle(), suite.cases().len());
    let trials = trials(&suite, runtime.handle(), &ahead);
    print_ignore_reasons(&suite, &args, &trials);
    print_not_emulated(&suite, &args, &trials);
    if !args.list {
        let in_flight = args
            .test_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
        let ids = suite.cases();
        let selected = case_trials(&suite, &trials)
            .iter()
            .enumerate()
            .filter(|(_, trial)| !args.is_filtered_out(trial) && !args.is_ignored(trial))
            .map(|(index, _)| index)
            .collect();
        let runner = Arc::clone(&suite);
        ahead.start(selected, in_flight, move |index| {
            let (suite, id) = (Arc::clone(&runner), ids[index]);
            async move { suite.perform(id).await }
        });
        // The cases are performed concurrently ahead of the trials; the
        // trials wait for them and judge them, in order, on this thread.
        args.test_threads = Some(1);
    }
    let conclusion = libtest_mimic::run(&args, trials);
    print_retry_notes(&suite);
    // The process ends here, with everything printed: freeing the suite
    // (every spec, case and report) and stopping the runtime's threads
    // would cost a 10,000-case run milliseconds for nothing.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    conclusion.exit()
}

/// Prints, after the run, every request a provider throttled and how it was
/// retried: libtest shows nothing of a trial that passed, and one that
/// passed only after waiting should say so.
fn print_retry_notes(suite: &Suite) {
    let notes = suite.retry_notes();
    if !notes.is_empty() {
        eprintln!("throttled by the provider:\n  {}\n", notes.join("\n  "));
    }
}

/// Work run ahead of the trials that wait for it, in the order the trials
/// come, a bounded number at once; a trial whose work was not selected to run
/// ahead does it itself.
///
/// The work runs on `in_flight` long-lived tasks of the runtime, each taking
/// the next index when it is done with one: spawning a task per piece, with
/// a semaphore to bound them, costs more scheduling than a loopback request.
///
/// Each piece's state is an atomic, and its output has a lock of its own, so
/// the tasks and the trials' thread never contend for one lock: on a small
/// machine a contended lock costs system calls and context switches per
/// case. The trials' thread takes the one lock only to sleep. Trials take
/// their work from one thread (libtest runs them with one test thread, see
/// [`main`]): a second thread waiting at the same time could miss its
/// wake-up, and would look at its work again only after `sleep_at_most`.
pub struct RunAhead<T> {
    states: Box<[AtomicSlot]>,
    outputs: Box<[Mutex<Option<std::thread::Result<T>>>]>,
    /// The index whose finishing wakes the waiting trial; [`NO_ONE`] when
    /// no trial waits.
    wake_on: AtomicUsize,
    /// Held by a trial from asking to be woken until it sleeps.
    sleeping: Mutex<()>,
    /// Signalled when the work a waiting trial asked about finishes.
    changed: Condvar,
    /// The longest a waiting trial sleeps before it looks at its work again.
    sleep_at_most: Duration,
    runtime: Handle,
}

/// `wake_on` when no trial waits.
const NO_ONE: usize = usize::MAX;

/// A piece of work's state, in `RunAhead::states`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Slot {
    /// Not selected to run ahead.
    NotSelected,
    /// Selected, waiting for a task to take it.
    Queued,
    /// Being worked on by a task.
    Running,
    /// Done; its output (a panic is kept to be resumed in the trial) waits.
    Finished,
    /// Its trial has it, or is doing it.
    Claimed,
}

impl Slot {
    const ALL: [Slot; 5] = [
        Slot::NotSelected,
        Slot::Queued,
        Slot::Running,
        Slot::Finished,
        Slot::Claimed,
    ];

    /// Selected and not finished: its trial waits for it.
    fn unfinished(self) -> bool {
        matches!(self, Slot::Queued | Slot::Running)
    }
}

/// A [`Slot`] shared between the runtime's tasks and the trials' thread:
/// it only ever holds a `Slot`'s value, as it is only ever given one.
struct AtomicSlot(AtomicU8);

impl AtomicSlot {
    fn new(slot: Slot) -> Self {
        Self(AtomicU8::new(slot as u8))
    }

    fn load(&self) -> Slot {
        let value = self.0.load(SeqCst);
        Slot::ALL[usize::from(value)]
    }

    fn store(&self, slot: Slot) {
        self.0.store(slot as u8, SeqCst);
    }

    /// Moves from `from` to `to`; `false` if it was not in `from`.
    fn transition(&self, from: Slot, to: Slot) -> bool {
        self.0
            .compare_exchange(from as u8, to as u8, SeqCst, SeqCst)
            .is_ok()
    }
}

impl<T: Send + 'static> RunAhead<T> {
    /// Room for `count` pieces of work, run on `runtime`.
    pub fn new(runtime: &Handle, count: usize) -> Arc<Self> {
        Self::sleeping_at_most(runtime, count, SLEEP_AT_MOST)
    }

    /// [`RunAhead::new`], whose waiting trials look at their work again
    /// after `sleep_at_most`.
    fn sleeping_at_most(runtime: &Handle, count: usize, sleep_at_most: Duration) -> Arc<Self> {
        Arc::new(Self {
            states: (0..count)
                .map(|_| AtomicSlot::new(Slot::NotSelected))
                .collect(),
            outputs: (0..count).map(|_| Mutex::new(None)).collect(),
            wake_on: AtomicUsize::new(NO_ONE),
            sleeping: Mutex::new(()),
            changed: Condvar::new(),
            sleep_at_most,
            runtime: runtime.clone(),
        })
    }

    fn state(&self, index: usize) -> Option<Slot> {
        self.states.get(index).map(AtomicSlot::load)
    }

    /// Moves work `index` from state `from` to `to`; `false` if it was not
    /// in `from`.
    fn transition(&self, index: usize, from: Slot, to: Slot) -> bool {
        self.states
            .get(index)
            .is_some_and(|state| state.transition(from, to))
    }

    /// Runs `work(index)` for each of `indices` in order, at most `in_flight`
    /// at once. Work a trial has already claimed is left to it.
    pub fn start<F>(
        self: &Arc<Self>,
        indices: Vec<usize>,
        in_flight: usize,
        work: impl Fn(usize) -> F + Send + Sync + 'static,
    ) where
        F: Future<Output = T> + Send + 'static,
    {
        for &index in &indices {
            self.transition(index, Slot::NotSelected, Slot::Queued);
        }
        let this = Arc::clone(self);
        // The tasks run on by themselves; their handles are not needed, as
        // a panic in the work is caught and kept for its trial.
        drop(crate::run_in_turn(
            &self.runtime,
            indices,
            in_flight,
            move |index| {
                // Boxed where it is made: a case's future is kilobytes, and
                // every move of it unboxed is a copy.
                let started = this
                    .start_running(index)
                    .then(|| (Box::pin(work(index)), Arc::clone(&this)));
                async move {
                    if let Some((work, this)) = started {
                        let output = CatchUnwind(work).await;
                        this.finish(index, output);
                    }
                }
            },
        ));
    }

    /// Marks queued work `index` running; `false` if it is not queued (its
    /// trial claimed it first).
    fn start_running(&self, index: usize) -> bool {
        self.transition(index, Slot::Queued, Slot::Running)
    }

    fn output(&self, index: usize) -> MutexGuard<'_, Option<std::thread::Result<T>>> {
        self.outputs[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps the output of work `index`, and wakes the trial waiting for it.
    fn finish(&self, index: usize, output: std::thread::Result<T>) {
        *self.output(index) = Some(output);
        self.states[index].store(Slot::Finished);
        // A trial that asked for this index after the store above sees the
        // state and does not sleep; one that asked before is seen here, and
        // holds `sleeping` until it waits: once the lock is had, it waits,
        // and the notification (outside the lock, so that the woken trial
        // does not block on it at once) reaches it.
        if self.wake_on.load(SeqCst) == index {
            drop(self.sleeping.lock().unwrap_or_else(PoisonError::into_inner));
            self.changed.notify_all();
        }
    }

    /// The output of work `index`: waited for if it was selected to run
    /// ahead, else what `run_here` returns. A panic in work run ahead is
    /// resumed here, so the trial reports it.
    ///
    /// While its work is unfinished, the trial asks to be woken when work
    /// well after it finishes (or looks again after a while), which is usually
    /// after this one and every piece between: one wake-up of the trials'
    /// thread then serves many trials, where waking it for each would cost a
    /// wake-up (and on a small machine context switches) per trial.
    pub fn take(&self, index: usize, run_here: impl FnOnce() -> T) -> T {
        loop {
            match self.state(index) {
                Some(slot) if slot.unfinished() => self.sleep_on(index),
                Some(Slot::Finished) => break,
                _ => {
                    // Not selected: the trial claims it, so no task starts it.
                    self.transition(index, Slot::NotSelected, Slot::Claimed);
                    return run_here();
                }
            }
        }
        self.states[index].store(Slot::Claimed);
        match self.output(index).take() {
            Some(Ok(output)) => output,
            Some(Err(payload)) => std::panic::resume_unwind(payload),
            None => run_here(),
        }
    }

    /// Sleeps until the work [`WAKE_AHEAD`] pieces on from `index` finishes
    /// (the last selected piece before it, or `index` itself, when that one
    /// is not), unless it already has, or `sleep_at_most` has passed: then
    /// one wake-up serves that many trials, and a slow case delays the
    /// report of the finished ones behind it no longer than that.
    fn sleep_on(&self, index: usize) {
        let unfinished = |at| self.state(at).is_some_and(Slot::unfinished);
        let furthest = index.saturating_add(WAKE_AHEAD).min(self.states.len() - 1);
        let wake_on = (index..=furthest)
            .rev()
            .find(|&at| unfinished(at))
            .unwrap_or(index);
        let sleeping = self.sleeping.lock().unwrap_or_else(PoisonError::into_inner);
        self.wake_on.store(wake_on, SeqCst);
        if unfinished(wake_on) && unfinished(index) {
            drop(
                self.changed
                    .wait_timeout(sleeping, self.sleep_at_most)
                    .unwrap_or_else(PoisonError::into_inner),
            );
        } else {
            drop(sleeping);
        }
        // Cleared only if it still names this trial's wait.
        let _ = self
            .wake_on
            .compare_exchange(wake_on, NO_ONE, SeqCst, SeqCst);
    }
}

/// How far past its own work a waiting trial asks to be woken.
const WAKE_AHEAD: usize = 64;

/// The longest a waiting trial sleeps before it looks at its work again.
const SLEEP_AT_MOST: Duration = Duration::from_millis(100);

/// A future that turns a panic while polling into an `Err` with its payload.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// The trials of a suite, as [`Suite::trials`] lists them: one failing
/// trial per spec file that did not load, one per case, then one per
/// provider comparing its declared deviations with what its cases showed.
/// Each is judged by the suite ([`crate::Judgement`]), as every other entry
/// point judges it.
pub fn trials(suite: &Arc<Suite>, handle: &Handle, ahead: &Arc<RunAhead<Performed>>) -> Vec<Trial> {
    let mut case_index = 0;
    suite
        .trials()
        .into_iter()
        .map(|trial| {
            let name = suite.trial_name(trial);
            let (suite, handle) = (Arc::clone(suite), handle.clone());
            match trial {
                TrialId::Case(id) => {
                    let index = case_index;
                    case_index += 1;
                    let ignored = ignore_reason(&suite, id).is_some();
                    let ahead = Arc::clone(ahead);
                    Trial::ignorable_test(name, move || {
                        let performed = ahead.take(index, || handle.block_on(suite.perform(id)));
                        suite.judge(performed).judgement.to_libtest()
                    })
                    .with_ignored_flag(ignored)
                }
                other => {
                    let ignored = trial_ignore_reason(&suite, other).is_some();
                    Trial::ignorable_test(name, move || {
                        let suite = Arc::clone(&suite);
                        on_runtime(
                            &handle,
                            async move { suite.judge_provider_trial(other).await },
                        )
                        .to_libtest()
                    })
                    .with_ignored_flag(ignored)
                }
            }
        })
        .collect()
}

/// The case trials of `trials`, in case order: they come after one trial per
/// spec file that did not load, and before one declared-deviations trial per
/// loaded spec.
fn case_trials<'t>(suite: &Suite, trials: &'t [Trial]) -> &'t [Trial] {
    let first = suite.spec_file_errors().len();
    &trials[first..first + suite.cases().len()]
}

/// Runs `future` as a task of the runtime, next to the mock server and the
/// connection pool, and waits for it on this (libtest) thread. For a long
/// chain of requests (every case of a provider, one after the other) this is
/// about twice as fast as driving it here with `block_on`, which hands every
/// I/O wake-up from the runtime's threads to this one; for one case it makes
/// no measurable difference. A panic in the task is resumed here, so libtest
/// reports it as it would any other.
fn on_runtime<T: Send + 'static>(
    handle: &Handle,
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

/// Why a trial is known to be ignored before it runs: a case's (see
/// [`ignore_reason`]), or a provider's declared deviations when none of its
/// cases can run on this target.
fn trial_ignore_reason(suite: &Suite, trial: TrialId) -> Option<String> {
    match trial {
        TrialId::Case(id) => ignore_reason(suite, id),
        TrialId::DeclaredDeviations(spec) => suite.provider_skip_reason(spec),
        TrialId::SpecFile(_) => None,
    }
}

/// Prints, before the run, why each selected ignored trial is ignored:
/// libtest shows only "ignored" for them, and nextest only "skipped".
fn print_ignore_reasons(suite: &Suite, args: &Arguments, trials: &[Trial]) {
    if args.list {
        return;
    }
    let lines: Vec<String> = suite
        .trials()
        .into_iter()
        .zip(trials)
        // The flag was set from the reason: only a flagged trial has one.
        .filter(|(_, trial)| trial.has_ignored_flag() && !args.is_filtered_out(trial))
        .filter_map(|(id, _)| {
            trial_ignore_reason(suite, id)
                .map(|reason| format!("  {}: {reason}", suite.trial_name(id)))
        })
        .collect();
    if !lines.is_empty() {
        eprintln!("ignored trials, and why:\n{}\n", lines.join("\n"));
    }
}

/// Prints, before the run, the declared deviations each selected
/// declared-deviations trial leaves unjudged because the mock does not
/// emulate them: a trial that passes says nothing more.
fn print_not_emulated(suite: &Suite, args: &Arguments, trials: &[Trial]) {
    if args.list {
        return;
    }
    let lines: Vec<String> = suite
        .trials()
        .into_iter()
        .zip(trials)
        // The kind first: matching every case's name against a filter
        // would cost a 10,000-case run with a filter milliseconds.
        .filter_map(|(id, trial)| match id {
            TrialId::DeclaredDeviations(spec) if !args.is_filtered_out(trial) => {
                let ids = suite.not_emulated(spec);
                (!ids.is_empty()).then(|| {
                    let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
                    format!("  {}: {}", suite.trial_name(id), ids.join(", "))
                })
            }
            _ => None,
        })
        .collect();
    if !lines.is_empty() {
        eprintln!(
            "declared deviations {}:\n{}\n",
            grantspec_report::NOT_EMULATED,
            lines.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn a_slot_reads_back_as_stored_and_moves_only_from_the_state_it_is_in() {
        for (at, slot) in Slot::ALL.into_iter().enumerate() {
            assert_eq!(slot as usize, at, "ALL is in discriminant order");
            let state = AtomicSlot::new(Slot::NotSelected);
            state.store(slot);
            assert_eq!(state.load(), slot);
            let other = Slot::ALL[(at + 1) % Slot::ALL.len()];
            for to in Slot::ALL {
                assert!(!state.transition(other, to), "{slot:?} is not {other:?}");
                assert_eq!(state.load(), slot);
            }
            assert!(state.transition(slot, Slot::Claimed));
            assert_eq!(state.load(), Slot::Claimed);
        }
    }

    #[test]
    fn started_work_reaches_its_trial_and_the_rest_runs_in_the_trial() {
        let runtime = runtime();
        let ahead = RunAhead::new(runtime.handle(), 4);
        ahead.start(vec![0, 2], 2, |index| async move { index * 10 });
        assert_eq!(ahead.take(0, || 99), 0);
        assert_eq!(ahead.take(1, || 99), 99, "index 1 was not selected");
        assert_eq!(ahead.take(2, || 99), 20);
        assert_eq!(ahead.take(3, || 99), 99);
    }

    #[test]
    fn work_a_trial_claimed_first_is_never_started() {
        let runtime = runtime();
        let ahead = RunAhead::new(runtime.handle(), 2);
        let started = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            ahead.take(0, || 7),
            7,
            "not selected yet: the trial runs it"
        );
        let counter = Arc::clone(&started);
        ahead.start(vec![0, 1], 1, move |index| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move { index }
        });
        assert_eq!(ahead.take(1, || 99), 1);
        assert_eq!(started.load(Ordering::SeqCst), 1, "only index 1 started");
    }

    #[test]
    fn no_more_than_in_flight_run_at_once() {
        let runtime = runtime();
        let count = 24;
        let ahead = RunAhead::new(runtime.handle(), count);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (now, peak) = (Arc::clone(&running), Arc::clone(&most));
        ahead.start((0..count).collect(), 3, move |index| {
            let (now, peak) = (Arc::clone(&now), Arc::clone(&peak));
            async move {
                let current = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(current, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                index
            }
        });
        let outputs: Vec<usize> = (0..count).map(|i| ahead.take(i, || usize::MAX)).collect();
        assert_eq!(outputs, (0..count).collect::<Vec<_>>());
        let peak = most.load(Ordering::SeqCst);
        assert!(peak <= 3, "{peak} ran at once with a bound of 3");
    }

    #[test]
    fn a_trial_waiting_on_newer_work_leaves_its_outcome_to_that_trial() {
        let runtime = runtime();
        let ahead = RunAhead::new(runtime.handle(), 3);
        ahead.start(vec![0, 1, 2], 3, |index| async move {
            // The first finishes last, so its trial waits on newer work.
            tokio::time::sleep(Duration::from_millis(if index == 0 { 30 } else { 1 })).await;
            assert!(index != 2, "work 2 blew up");
            index
        });
        assert_eq!(ahead.take(0, || 99), 0);
        assert_eq!(ahead.take(1, || 99), 1);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ahead.take(2, || 99);
        }));
        assert!(caught.is_err(), "work 2's panic reaches trial 2");
    }

    #[test]
    fn every_finish_reaches_the_waiting_trial_without_a_lost_wake_up() {
        // Short pieces, all running at once, finishing while the trial
        // decides to sleep on the last of them, thousands of times: a
        // wake-up lost between the two would leave the trial asleep (for an
        // hour here, not the harness's 100 ms), so the takes run on a thread
        // of their own, given a minute.
        let runtime = runtime();
        let handle = runtime.handle().clone();
        let (sender, outputs) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let hour = Duration::from_secs(3600);
            let all_taken = (0..2_000).all(|_| {
                let ahead = RunAhead::sleeping_at_most(&handle, 4, hour);
                ahead.start((0..4).collect(), 4, |index| async move {
                    for _ in 0..index {
                        tokio::task::yield_now().await;
                    }
                    index
                });
                (0..4).all(|i| ahead.take(i, || usize::MAX) == i)
            });
            let _ = sender.send(all_taken);
        });
        let all_taken = outputs
            .recv_timeout(Duration::from_secs(60))
            .expect("the trials' thread is still asleep after a minute");
        assert!(all_taken, "a trial took another's output");
    }

    #[test]
    fn a_finished_trial_is_not_held_back_by_unfinished_work_after_it() {
        // Trial 0 sleeps until work WAKE_AHEAD finishes, which waits for
        // trial 0 to be taken: only the trial's timed look at its own work
        // (finished early) gets it out. The take runs on a thread of its
        // own, given a minute, so that a failure is not a hang.
        let runtime = runtime();
        let ahead = RunAhead::new(runtime.handle(), WAKE_AHEAD + 1);
        let release = Arc::new(tokio::sync::Notify::new());
        let released = Arc::clone(&release);
        ahead.start((0..=WAKE_AHEAD).collect(), 2, move |index| {
            let released = Arc::clone(&released);
            async move {
                match index {
                    0 => tokio::time::sleep(Duration::from_millis(20)).await,
                    WAKE_AHEAD => released.notified().await,
                    _ => {}
                }
                index
            }
        });
        let (sender, first) = std::sync::mpsc::channel();
        let taker = Arc::clone(&ahead);
        std::thread::spawn(move || {
            let _ = sender.send(taker.take(0, || usize::MAX));
        });
        let first = first
            .recv_timeout(Duration::from_secs(60))
            .expect("trial 0 still waits for work after it, though its own is done");
        assert_eq!(first, 0);
        release.notify_one();
        let rest: Vec<usize> = (1..=WAKE_AHEAD)
            .map(|i| ahead.take(i, || usize::MAX))
            .collect();
        assert_eq!(rest, (1..=WAKE_AHEAD).collect::<Vec<_>>());
    }

    #[test]
    fn each_case_trial_takes_its_own_cases_work_run_ahead() {
        // Six cases, the fifth failing its expectation, behind a spec file
        // that does not load (its trial comes first), and a case of another
        // provider that meets its expectation but whose answer breaks an RFC
        // rule its spec does not declare: each case trial, run alone after
        // every case ran ahead, must judge and report its own case.
        let specs = tempfile::tempdir().unwrap();
        let mut spec = String::from(
            "provider: { id: p, name: P, token_endpoint: { path: /oauth/token } }\n\
             mock:\n  clients:\n    - { id: c, secret: s, grants: [client_credentials] }\n\
             cases:\n",
        );
        for case in 0..6 {
            let status = if case == 4 { 401 } else { 200 };
            spec.push_str(&format!(
                "  - {{ name: case_{case}, snapshot: false, grant: client_credentials, \
                 with: {{ client_id: c, client_secret: s }}, expect: {{ status: {status} }} }}\n"
            ));
        }
        std::fs::write(specs.path().join("p.yaml"), spec).unwrap();
        std::fs::write(specs.path().join("broken.yaml"), "provider: [").unwrap();
        std::fs::write(
            specs.path().join("q.yaml"),
            "provider: { id: q, name: Q, token_endpoint: { path: /oauth/token } }\n\
             mock:\n  cache_headers: false\n  clients:\n    - { id: c, secret: s, grants: [client_credentials] }\n\
             cases:\n  - { name: drift, snapshot: false, grant: client_credentials, \
             with: { client_id: c, client_secret: s }, expect: { status: 200 } }\n",
        )
        .unwrap();
        let snapshots = tempfile::tempdir().unwrap();
        let runtime = runtime();
        let suite = Arc::new(crate::mock_suite(&runtime, specs.path(), snapshots.path()));
        let ids = suite.cases();
        assert_eq!((ids.len(), suite.spec_file_errors().len()), (7, 1));
        let drift = runtime.block_on(suite.run(ids[6])).failure().unwrap();
        assert!(
            drift.contains("undeclared deviation") && !drift.contains("mismatches"),
            "{drift}"
        );
        let ahead = RunAhead::new(runtime.handle(), ids.len());
        let trials = trials(&suite, runtime.handle(), &ahead);
        let names: Vec<&str> = trials.iter().map(Trial::name).collect();
        let expected: Vec<String> = suite
            .trials()
            .into_iter()
            .map(|id| suite.trial_name(id))
            .collect();
        assert_eq!(names, expected);
        let runner = Arc::clone(&suite);
        ahead.start((0..ids.len()).collect(), 2, move |index| {
            let (suite, id) = (Arc::clone(&runner), ids[index]);
            async move { suite.perform(id).await }
        });
        let log = tempfile::NamedTempFile::new().unwrap();
        let failed: Vec<String> = trials
            .into_iter()
            .filter(|trial| trial.name().starts_with("p::case_") || trial.name() == "q::drift")
            .filter_map(|trial| {
                let name = trial.name().to_owned();
                let alone = Arguments {
                    filter: Some(name.clone()),
                    exact: true,
                    quiet: true,
                    test_threads: Some(1),
                    logfile: Some(log.path().display().to_string()),
                    ..Arguments::default()
                };
                libtest_mimic::run(&alone, vec![trial])
                    .has_failed()
                    .then_some(name)
            })
            .collect();
        assert_eq!(failed, ["p::case_4", "q::drift"]);
    }

    #[test]
    fn a_panic_in_work_started_ahead_is_resumed_in_its_trial() {
        let runtime = runtime();
        let ahead = RunAhead::new(runtime.handle(), 1);
        ahead.start(vec![0], 1, |_| async { panic!("case blew up") });
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ahead.take(0, || ());
        }));
        let payload = caught.expect_err("the panic reaches the trial");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"case blew up"));
    }
}
