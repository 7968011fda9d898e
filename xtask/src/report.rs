//! `cargo xtask report [--live] [--specs DIR] [--out DIR]`: run every case,
//! print a summary per provider, and write the compatibility report
//! (`compatibility.json`, `.md`, `.html` and `junit.xml`) into `--out`
//! (default `target/grantspec-report/`).

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

pub fn run(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let specs = crate::take_value(&mut args, "--specs")?;
    let out_dir =
        crate::take_value(&mut args, "--out")?.map_or_else(default_out_dir, PathBuf::from);
    let live = crate::take_flag(&mut args, "--live");
    crate::no_more(&args)?;

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
    let compatibility = grantspec_runner::compat::build(&suite, &reports);

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
