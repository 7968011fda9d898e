//! `cargo xtask`: maintainer tasks for grantspec.
//!
//! Thin by design: each task is a module that calls the workspace crates.
//! Arguments are parsed by hand to keep this binary quick to build.

mod bench;
mod mock;
mod new_provider;
mod record;
mod report;
mod schema;
mod snapshots;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  report [--live] [--out DIR]     run every case, print a summary per provider, and write the
                                  compatibility report (json, md, html, junit.xml) into DIR
                                  (default: target/grantspec-report/)
  report --with-live FILE [--out DIR]
                                  the same on the mock, with the compatibility.json of an earlier
                                  `report --live` folded in: per provider, what the spec says
                                  (documented or assumed), what the mock emulated and what the live
                                  run observed (dated by its generated_at), disagreements marked
  validate [PATH...]              check spec files (default: the spec folder); non-zero on any error
  record PROVIDER --live [--snapshots DIR]
                                  run one provider's cases live and write their snapshots,
                                  refusing any snapshot that would contain a secret
  new-provider ID                 scaffold specs/ID.yaml with cases that pass against the mock
  mock [PROVIDER...] [--port N] [--max-tokens N]
                                  serve the mock for these providers (default: all) until Ctrl-C
  bench [--cases N] [--skip-test-suite]
                                  build in release mode and measure the harness against its floor
  schema [--check]                write schema/spec.schema.json from the Rust types (--check: fail if stale)
  review [--snapshots DIR]        show pending snapshot changes; on a terminal, accept or reject each
  accept [--snapshots DIR]        accept every pending snapshot

options:
  --specs DIR       spec folder (default: $GRANTSPEC_SPECS, else specs/)
  --snapshots DIR   snapshot folder (default: $GRANTSPEC_SNAPSHOTS, else snapshots/)
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return if args.is_empty() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let task = args.remove(0);
    let result = match task.as_str() {
        "report" => report::run(args),
        "validate" => validate::run(args),
        "record" => record::run(args),
        "new-provider" => new_provider::run(args),
        "mock" => mock::run(args),
        "schema" => schema::run(args),
        "bench" => bench::run(args),
        "bench-measure" => bench::measure(args),
        "bench-engine" => bench::engine(args),
        "bench-load" => bench::load_generator(args),
        "bench-trials" => bench::trials_floor(args),
        "bench-serve" => bench::serve(args),
        "bench-load-spec" => bench::load_spec(args),
        "review" => snapshots::review(args),
        "accept" => snapshots::accept(args),
        other => Err(anyhow::anyhow!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Removes `--name VALUE` from `args` and returns the value.
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
        Some(extra) => anyhow::bail!("unexpected argument `{extra}`\n\n{USAGE}"),
        None => Ok(()),
    }
}

fn specs_dir(explicit: Option<String>) -> PathBuf {
    workspace_folder(explicit, "GRANTSPEC_SPECS", "specs")
}

/// `explicit` if given, else the environment variable `env` if set and not
/// empty, else `default` under the workspace root.
fn workspace_folder(explicit: Option<String>, env: &str, default: &str) -> PathBuf {
    explicit
        .or_else(|| std::env::var(env).ok().filter(|s| !s.is_empty()))
        .map_or_else(
            || grantspec_runner::workspace_root().join(default),
            PathBuf::from,
        )
}
