//! `cargo xtask report [--live] [--with-live FILE] [--specs DIR] [--out DIR]`:
//! run every case, print a summary per provider, and write the compatibility
//! report (`compatibility.json`, `.md`, `.html` and `junit.xml`) into `--out`
//! (default `target/grantspec-report/`). `--with-live FILE` folds in the
//! `compatibility.json` of an earlier live run (see [`live_report`]).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_runner::{CaseReport, Suite, SuiteConfig, Verdict};
use grantspec_spec::template::TargetKind;

/// `$CARGO_TARGET_DIR/grantspec-report`, else `target/grantspec-report` in
/// the workspace.
fn default_out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map_or_else(
            || grantspec_runner::workspace_root().join("target"),
            PathBuf::from,
        )
        .join("grantspec-report")
}

pub fn run(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let specs = crate::take_value(&mut args, "--specs")?;
    let out_dir =
        crate::take_value(&mut args, "--out")?.map_or_else(default_out_dir, PathBuf::from);
    let live = crate::take_flag(&mut args, "--live");
    let with_live = crate::take_value(&mut args, "--with-live")?;
    crate::no_more(&args)?;
    let earlier_live = live_report(with_live.as_deref(), live)?;

    let mut config = SuiteConfig::from_env().map_err(anyhow::Error::msg)?;
    config.specs_dir = crate::specs_dir(specs);
    if live {
        config.target = TargetKind::Live;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let suite = Arc::new(runtime.block_on(Suite::start(config))?);
    for error in suite.load_errors() {
        eprintln!("{error}\n");
    }
    let reports = runtime.block_on(run_with_progress(&suite));

    #[derive(Default)]
    struct Tally {
        cases: usize,
        passed: usize,
        failed: usize,
        skipped: usize,
    }
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for report in &reports {
        let tally = tallies.entry(&report.provider).or_default();
        tally.cases += 1;
        match report.run.verdict {
            Verdict::Passed => tally.passed += 1,
            Verdict::Failed => tally.failed += 1,
            Verdict::Skipped(_) => tally.skipped += 1,
        }
    }

    let target = if suite.config().target == TargetKind::Live {
        "live"
    } else {
        "mock"
    };
    println!("grantspec compatibility summary ({target} target)\n");
    println!("| provider | cases | passed | failed | skipped |");
    println!("|---|---:|---:|---:|---:|");
    for (provider, t) in &tallies {
        println!(
            "| {provider} | {} | {} | {} | {} |",
            t.cases, t.passed, t.failed, t.skipped
        );
    }
    let failed: Vec<_> = reports.iter().filter_map(|r| r.failure()).collect();
    for failure in &failed {
        println!("\n{failure}");
    }
    let mut skipped = reports
        .iter()
        .filter_map(|report| match &report.run.verdict {
            Verdict::Skipped(reason) => Some((&report.name, reason)),
            _ => None,
        });
    if let Some(first) = skipped.next() {
        println!();
        for (name, reason) in std::iter::once(first).chain(skipped) {
            println!("skipped {name}: {reason}");
        }
    }

    let mut compatibility = grantspec_runner::compat::build(&suite, &reports);
    if let Some(earlier) = &earlier_live {
        compatibility.fold_live(earlier)?;
    }
    let paths = grantspec_report::write_all(&compatibility, &out_dir)
        .map_err(|e| anyhow::anyhow!("cannot write the report into {}: {e}", out_dir.display()))?;
    println!("\nreport written:");
    for path in &paths {
        println!("  {}", path.display());
    }

    let broken = suite.load_errors().len();
    println!(
        "\n{} case(s): {} passed, {} failed, {} skipped; {broken} spec error(s)",
        reports.len(),
        reports
            .iter()
            .filter(|r| r.run.verdict == Verdict::Passed)
            .count(),
        failed.len(),
        reports
            .iter()
            .filter(|r| matches!(r.run.verdict, Verdict::Skipped(_)))
            .count(),
    );
    Ok(if failed.is_empty() && broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The earlier live report of `--with-live FILE`, read and checked before
/// anything runs: it must be the `compatibility.json` of a live run
/// (`cargo xtask report --live`), dated, and of this format version. Its
/// observations are folded into this run's report beside what the spec says
/// (documented or assumed) and what the mock emulated, dated by the live
/// report's `generated_at`. Folding a live report into a live run is
/// refused.
fn live_report(
    path: Option<&str>,
    live_run: bool,
) -> anyhow::Result<Option<grantspec_report::Compatibility>> {
    let Some(path) = path else {
        return Ok(None);
    };
    if live_run {
        anyhow::bail!(
            "--with-live folds a live report into a mock run's report; drop --live, or drop --with-live to write a live report"
        );
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the live report {path}: {e}"))?;
    let report = grantspec_report::read_live_report(&text)
        .map_err(|e| anyhow::anyhow!("{path} cannot be folded in: {e}"))?;
    Ok(Some(report))
}

/// Runs every case concurrently, showing progress on stderr as cases end: one
/// updating `[n/total] provider::case` line on a terminal, plain lines
/// otherwise. Reports come back in case order.
async fn run_with_progress(suite: &Arc<Suite>) -> Vec<CaseReport> {
    let terminal = std::io::stderr().is_terminal();
    let mut stderr = std::io::stderr();
    let reports = suite
        .run_all_with(|done, total, report| {
            if terminal {
                let mut line = format!("[{done}/{total}] {}", report.name);
                let mut end = line.len().min(110);
                while !line.is_char_boundary(end) {
                    end -= 1;
                }
                line.truncate(end);
                let _ = write!(stderr, "\r\x1b[2K{line}");
            } else {
                let outcome = match report.run.verdict {
                    Verdict::Passed => "passed",
                    Verdict::Failed => "FAILED",
                    Verdict::Skipped(_) => "skipped",
                };
                let _ = writeln!(stderr, "[{done}/{total}] {} {outcome}", report.name);
            }
            let _ = stderr.flush();
        })
        .await;
    if terminal {
        let _ = write!(stderr, "\r\x1b[2K");
        let _ = stderr.flush();
    }
    reports
}
