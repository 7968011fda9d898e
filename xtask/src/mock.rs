//! `cargo xtask mock [PROVIDER…] [--port N] [--max-tokens N] [--specs DIR]`:
//! serve the mock standalone, for developing against a provider offline.

use std::process::ExitCode;
use std::sync::Arc;

use grantspec_mock::{MockLimits, MockServer};
use grantspec_spec::{did_you_mean, load_dir};
use grantspec_token::SystemClock;

pub fn run(flags: crate::flags::Mock) -> anyhow::Result<ExitCode> {
    let specs_dir = crate::specs_dir(flags.specs.specs);
    let port = flags.port;
    let mut limits = MockLimits::default();
    if let Some(max) = flags.max_tokens {
        limits.max_tokens = max;
    }
    let args = flags.providers;
    let (specs, errors) = load_dir(&specs_dir);
    for error in &errors {
        eprintln!("{error}\n");
    }
    let known: Vec<&str> = specs.iter().map(|s| s.spec.provider.id.as_str()).collect();
    for wanted in &args {
        if !known.contains(&wanted.as_str()) {
            let hint = did_you_mean(wanted, known.iter().copied())
                .map(|best| format!("; did you mean `{best}`?"))
                .unwrap_or_default();
            anyhow::bail!(
                "no provider `{wanted}` in {}{hint} (known: {})",
                specs_dir.display(),
                known.join(", ")
            );
        }
    }
    let selected: Vec<_> = specs
        .iter()
        .map(|s| &s.spec)
        .filter(|spec| args.is_empty() || args.contains(&spec.provider.id))
        .collect();
    if selected.is_empty() {
        anyhow::bail!("no provider specs found in {}", specs_dir.display());
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = MockServer::start_with(
            selected.iter().map(|spec| spec.mock_provider()),
            Arc::new(SystemClock),
            port,
            &limits,
        )
        .await?;
        for spec in &selected {
            let id = &spec.provider.id;
            if let Some(url) = server.token_url(id) {
                println!(
                    "{id:<20} token endpoint {url}   protected resource {}/ping",
                    server.base_url(id)
                );
            }
        }
        println!(
            "mock listening on {}; each provider keeps its newest {} tokens; press Ctrl-C to stop",
            server.addr(),
            limits.max_tokens
        );
        tokio::signal::ctrl_c().await?;
        println!("stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
