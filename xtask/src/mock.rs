//! `cargo xtask mock [PROVIDER…] [--port N] [--max-tokens N] [--specs DIR]`:
//! serve the mock standalone, for developing against a provider offline.
//! A live-only provider (a spec without a `mock` section) is not served:
//! asked for by name, it is refused; otherwise it is listed as not served.

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
    let (selected, live_only): (Vec<_>, Vec<_>) = specs
        .iter()
        .map(|s| &s.spec)
        .filter(|spec| args.is_empty() || args.contains(&spec.provider.id))
        .partition(|spec| spec.mock_provider().is_some());
    if let Some(spec) = live_only
        .iter()
        .find(|spec| args.contains(&spec.provider.id))
    {
        anyhow::bail!(
            "provider `{}` is live-only: its spec has no `mock` section, so the mock does not emulate it",
            spec.provider.id
        );
    }
    if selected.is_empty() {
        match live_only.is_empty() {
            true => anyhow::bail!("no provider specs found in {}", specs_dir.display()),
            false => anyhow::bail!(
                "every provider spec in {} is live-only (no `mock` section): the mock has nothing to serve",
                specs_dir.display()
            ),
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = MockServer::start_with(
            selected.iter().filter_map(|spec| spec.mock_provider()),
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
        for spec in &live_only {
            println!(
                "{:<20} not served: live-only (its spec has no `mock` section)",
                spec.provider.id
            );
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
