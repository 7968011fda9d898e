//! `cargo xtask report`: run every case and summarise per provider.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_runner::{Suite, SuiteConfig, Verdict};
use grantspec_spec::template::TargetKind;

pub fn run(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let specs = crate::take_value(&mut args, "--specs")?;
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
    let reports = runtime.block_on(suite.run_all());

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

    let target = if live { "live" } else { "mock" };
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
    for report in &reports {
        if let Verdict::Skipped(reason) = &report.run.verdict {
            println!("skipped {}: {reason}", report.name);
        }
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
