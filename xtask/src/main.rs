//! `cargo xtask`: maintainer tasks for grantspec.
//!
//! Thin by design: each task is a module that calls the workspace crates;
//! the command line is declared once, in [`flags`].

mod authorize;
mod bench;
mod flags;
mod mock;
mod new_provider;
mod probe;
mod record;
mod report;
mod schema;
mod snapshots;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use flags::Task;

/// The allocator the specs binary uses (see `tests/specs.rs`): the mock
/// `cargo xtask mock` serves and the reports are built on it, and the
/// bench's baselines (the bare loop, the minimal handler) run in this
/// binary, so every comparison the bench makes is on one allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let xtask = flags::Xtask::parse();
    let result = match xtask.task {
        Task::Report(args) => report::run(args),
        Task::Validate(args) => validate::run(args),
        Task::Record(args) => record::run(args),
        Task::NewProvider(args) => new_provider::run(args),
        Task::Mock(args) => mock::run(args),
        Task::Schema(args) => schema::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::BenchMeasure(raw) => bench::measure(raw.args),
        Task::BenchEngine(raw) => bench::engine(raw.args),
        Task::BenchLoad(raw) => bench::load_generator(raw.args),
        Task::BenchBare(raw) => bench::bare_process(raw.args),
        Task::BenchServe(raw) => bench::serve(raw.args),
        Task::BenchLoadSpec(raw) => bench::load_spec(raw.args),
        Task::Review(args) => snapshots::review(args),
        Task::Accept(args) => snapshots::accept(args),
        Task::Authorize(args) => authorize::run(args),
        Task::Probe(args) => probe::run(*args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Removes `--name VALUE` from `args` and returns the value: for the
/// internal bench tasks, whose arguments come from `bench` itself.
fn take_value(args: &mut Vec<String>, name: &str) -> anyhow::Result<Option<String>> {
    let Some(index) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    if index + 1 >= args.len() {
        anyhow::bail!("{name} needs a value");
    }
    let value = args.remove(index + 1);
    args.remove(index);
    Ok(Some(value))
}

/// Removes `--name` from `args` and says whether it was there.
fn take_flag(args: &mut Vec<String>, name: &str) -> bool {
    let before = args.len();
    args.retain(|a| a != name);
    args.len() != before
}

/// Fails on arguments nobody consumed.
fn no_more(args: &[String]) -> anyhow::Result<()> {
    match args.first() {
        Some(extra) => anyhow::bail!("unexpected argument `{extra}`"),
        None => Ok(()),
    }
}

fn specs_dir(explicit: Option<PathBuf>) -> PathBuf {
    workspace_folder(explicit, "GRANTSPEC_SPECS", "specs")
}

/// `explicit` if given, else the environment variable `env` if set and not
/// empty, else `default` under the workspace root.
fn workspace_folder(explicit: Option<PathBuf>, env: &str, default: &str) -> PathBuf {
    explicit
        .or_else(|| {
            std::env::var_os(env)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| grantspec_runner::workspace_root().join(default))
}
