//! `cargo xtask report [--live] [--with-live FILE] [--specs DIR] [--out DIR]`:
//! run every case, print a summary per provider, and write the compatibility
//! report (`compatibility.json`, `.md`, `.html` and `junit.xml`) into `--out`
//! (default `target/grantspec-report/`). `--with-live FILE` folds in the
//! `compatibility.json` of an earlier live run (see [`live_report`]).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_runner::{CaseReport, Judgement, Suite, SuiteConfig};
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

pub fn run(args: crate::flags::Report) -> anyhow::Result<ExitCode> {
    let out_dir = args.out.unwrap_or_else(default_out_dir);
    let live = args.live;
    let earlier_live = live_report(args.with_live.as_deref(), live)?;

    let mut config = SuiteConfig::from_env()?;
    config.specs_dir = crate::specs_dir(args.specs.specs);
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
    let mut compatibility = grantspec_runner::compat::build(&suite, &reports);
    if let Some(earlier) = &earlier_live {
        compatibility.fold_live(earlier)?;
    }

    let target = compatibility.target.as_str();
    println!("grantspec compatibility summary ({target} target)\n");
    println!("| provider | trials | passed | failed | ignored |");
    println!("|---|---:|---:|---:|---:|");
    for provider in &compatibility.providers {
        let t = &provider.outcome;
        println!(
            "| {} | {} | {} | {} | {} |",
            provider.id, t.cases, t.passed, t.failed, t.skipped
        );
    }
    for error in &compatibility.spec_errors {
        println!("\n{} failed: the spec file did not load", error.trial);
    }
    for provider in &compatibility.providers {
        for case in provider.cases.iter().filter(|c| c.outcome.is_failure()) {
            if let Some(message) = &case.message {
                println!("\n{}::{} failed:\n{message}", provider.id, case.name);
            }
        }
    }
    for provider in &compatibility.providers {
        if !provider.rfc.not_emulated.is_empty() {
            println!(
                "\n{}::declared_deviations: declared deviations {}: {}",
                provider.id,
                grantspec_report::NOT_EMULATED,
                provider
                    .rfc
                    .not_emulated
                    .iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let throttled = suite.retry_notes();
    if !throttled.is_empty() {
        println!("\nthrottled by the provider:\n  {}", throttled.join("\n  "));
    }
    let mut first_ignored = true;
    for provider in &compatibility.providers {
        for case in &provider.cases {
            if let Some(reason) = &case.skip_reason {
                if std::mem::take(&mut first_ignored) {
                    println!();
                }
                println!("ignored {}::{}: {reason}", provider.id, case.name);
            }
        }
    }

    let paths = grantspec_report::write_all(&compatibility, &out_dir)
        .map_err(|e| anyhow::anyhow!("cannot write the report into {}: {e}", out_dir.display()))?;
    println!("\nreport written:");
    for path in &paths {
        println!("  {}", path.display());
    }

    // The same totals as libtest's `test result:` line for these trials.
    let s = &compatibility.summary;
    let pending = match s.pending {
        0 => String::new(),
        n => format!(" ({n} of them pending snapshot review)"),
    };
    println!(
        "\nreport result: {}. {} passed; {} failed{pending}; {} ignored",
        if s.failed == 0 { "ok" } else { "FAILED" },
        s.passed,
        s.failed,
        s.skipped
    );
    Ok(if s.failed == 0 {
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
    path: Option<&std::path::Path>,
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
    let text = grantspec_spec::read_regular_text(path, MAX_LIVE_REPORT_BYTES, "live report")
        .map_err(|e| anyhow::anyhow!("cannot read the live report {}: {e}", path.display()))?;
    let report = grantspec_report::read_live_report(&text)
        .map_err(|e| anyhow::anyhow!("{} cannot be folded in: {e}", path.display()))?;
    Ok(Some(report))
}

/// Largest live report `--with-live` reads, in bytes.
const MAX_LIVE_REPORT_BYTES: u64 = 64 * 1024 * 1024;

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
                let outcome = match report.judgement {
                    Judgement::Passed => "passed",
                    Judgement::Failed(_) => "FAILED",
                    Judgement::Ignored(_) => "ignored",
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
