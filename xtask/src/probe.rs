//! `cargo xtask probe URL`: fingerprint an unknown token endpoint and write
//! a starter spec. The engine is `grantspec_runner::probe`; this module
//! reads the credentials from the environment (never from the command line),
//! refuses to overwrite a file without `--force`, checks that the spec it
//! writes loads, and prints the table. docs/probe.md says what is sent.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context as _;
use grantspec_runner::probe::{self, Area, Credentials, ProbeConfig, ProbeGrant, VarNames};
use grantspec_token::{SecretString, TransportConfig};
use url::Url;

pub fn run(flags: crate::flags::Probe) -> anyhow::Result<ExitCode> {
    let token_url = Url::parse(&flags.url).with_context(|| "the token URL is not a URL")?;
    let out_stem = flags
        .out
        .as_ref()
        .and_then(|out| out.file_stem())
        .map(|stem| stem.to_string_lossy().into_owned());
    let id = match (&flags.id, &out_stem) {
        (Some(id), Some(stem)) if id != stem => anyhow::bail!(
            "--id {id:?} and --out {stem}.yaml differ: a spec's id is its file name (nothing was sent)"
        ),
        (Some(id), _) => id.clone(),
        (None, Some(stem)) => stem.clone(),
        (None, None) => provider_id(&token_url),
    };
    if let Some(problem) = grantspec_spec::limits::name_problem(&id) {
        anyhow::bail!(
            "--id {id:?} {problem}: a provider id holds {} (nothing was sent)",
            grantspec_spec::limits::NAME_CHARACTERS
        );
    }
    let out = flags
        .out
        .clone()
        .unwrap_or_else(|| crate::specs_dir(None).join(format!("{id}.yaml")));
    if out.exists() && !flags.force {
        anyhow::bail!(
            "{} exists; pass --force to overwrite it (nothing was sent)",
            out.display()
        );
    }
    let grant = match flags.grant.as_str() {
        "client_credentials" => ProbeGrant::ClientCredentials,
        "password" => ProbeGrant::Password,
        other => anyhow::bail!("--grant {other:?}: expected client_credentials or password"),
    };
    let areas = areas(&flags)?;
    let credentials = credentials(&flags, grant)?;
    let issuer = match &flags.issuer {
        Some(issuer) => Some(Url::parse(issuer).with_context(|| "--issuer is not a URL")?),
        None => None,
    };
    let config = ProbeConfig {
        token_url,
        issuer,
        provider_id: id.clone(),
        credentials,
        vars: VarNames::for_provider(&id),
        grant,
        scopes: flags
            .scope
            .iter()
            .flat_map(|s| s.split_whitespace())
            .map(str::to_owned)
            .collect(),
        budget: flags.budget,
        interval: flags.interval,
        areas,
        today: grantspec_runner::compat::utc_date(SystemTime::now()),
        transport: TransportConfig::default(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let report = runtime.block_on(probe::probe(&config))?;
    print!("{}", report.table_text());
    if let Err(errors) = grantspec_spec::load_str(&out, &report.spec) {
        anyhow::bail!("the probe wrote a spec that does not load (a bug in the probe):\n{errors}");
    }
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    write_new(&out, &report.spec, flags.force)?;
    println!(
        "\nwrote {} ({} requests sent; declares {})",
        out.display(),
        report.sent,
        if report.deviations.is_empty() {
            "no deviation".to_owned()
        } else {
            report.deviations.join(", ")
        }
    );
    println!(
        "run it: {}=… {}=… {}=… GRANTSPEC_TARGET=live GRANTSPEC_SPECS={} cargo test --test specs",
        config.vars.base_url,
        config.vars.client_id,
        config.vars.client_secret,
        out.parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
            .display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes `text` to `path`; without `force`, only if no file is there (the
/// check is the open itself, so nothing that appeared meanwhile is lost).
fn write_new(path: &std::path::Path, text: &str, force: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot write {} (pass --force to overwrite)",
            path.display()
        )
    })?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The areas to probe: `--only`'s, else all; `--no-discovery` takes
/// discovery out.
fn areas(flags: &crate::flags::Probe) -> anyhow::Result<BTreeSet<Area>> {
    let mut areas: BTreeSet<Area> = if flags.only.is_empty() {
        Area::ALL.into_iter().collect()
    } else {
        flags
            .only
            .iter()
            .map(|name| {
                Area::parse(name.trim()).with_context(|| {
                    let known: Vec<&str> = Area::ALL.iter().map(|a| a.as_str()).collect();
                    format!("--only {name:?}: expected some of {}", known.join(", "))
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    if flags.no_discovery {
        areas.remove(&Area::Discovery);
    }
    Ok(areas)
}

/// The client (and user) from the environment variables the flags name.
fn credentials(flags: &crate::flags::Probe, grant: ProbeGrant) -> anyhow::Result<Credentials> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let client_id = var(&flags.client_id_env).with_context(|| {
        format!(
            "set {} to the client id (credentials come from the environment only)",
            flags.client_id_env
        )
    })?;
    let client_secret = var(&flags.client_secret_env).map(SecretString::from);
    if client_secret.is_none() {
        eprintln!(
            "{} is not set: probing as a public client (client_id only)",
            flags.client_secret_env
        );
    }
    let user = match grant {
        ProbeGrant::Password => {
            let username = var(&flags.username_env)
                .with_context(|| format!("--grant password: set {}", flags.username_env))?;
            let password = var(&flags.password_env)
                .with_context(|| format!("--grant password: set {}", flags.password_env))?;
            Some((username, SecretString::from(password)))
        }
        ProbeGrant::ClientCredentials => None,
    };
    Ok(Credentials {
        client_id,
        client_secret,
        user,
    })
}

/// A provider id from a URL's host: `auth.example.com` gives
/// `auth-example-com`.
fn provider_id(url: &Url) -> String {
    let host = url.host_str().unwrap_or("provider");
    let id: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let id = id.trim_matches('-').to_owned();
    if id.is_empty() {
        "provider".to_owned()
    } else {
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_ids_from_hosts() {
        let url = |text| Url::parse(text).unwrap();
        assert_eq!(
            provider_id(&url("https://Auth.Example.com/oauth/token")),
            "auth-example-com"
        );
        assert_eq!(
            provider_id(&url("http://127.0.0.1:8080/token")),
            "127-0-0-1"
        );
    }
}
