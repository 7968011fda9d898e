//! The command line of `cargo xtask`, declared once: clap gives each task
//! its own `--help`, refuses unknown flags, understands `--flag=value`, and
//! suggests the nearest task or flag for a typo.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Maintainer tasks for grantspec.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about)]
pub struct Xtask {
    /// The task to run.
    #[command(subcommand)]
    pub task: Task,
}

/// One task.
#[derive(Debug, Subcommand)]
pub enum Task {
    /// Run every trial as `cargo test` judges it, print a summary per provider, and write the
    /// compatibility report (json, md, html, junit.xml)
    Report(Report),
    /// Check spec files; every problem is located (file, line, column); non-zero on any
    Validate(Validate),
    /// Run one provider's cases live and write their snapshots, refusing any that would
    /// contain a secret
    Record(Record),
    /// Scaffold specs/ID.yaml with cases that pass against the mock
    NewProvider(NewProvider),
    /// Serve the mock for these providers (default: all) until Ctrl-C
    Mock(Mock),
    /// Build in release mode and measure the harness against its floor
    Bench(Bench),
    /// Write schema/spec.schema.json from the Rust types
    Schema(Schema),
    /// Show pending snapshot changes; on a terminal, accept or reject each
    Review(Snapshots),
    /// Accept every pending snapshot
    Accept(Snapshots),
    /// Get an authorization code (with a PKCE verifier) from a live provider whose login needs
    /// a person: print the URL to open, serve the loopback redirect, print `export` lines
    Authorize(Authorize),
    /// Fingerprint an unknown token endpoint with a small, paced set of requests and write a
    /// starter spec (credentials from the environment; see docs/probe.md)
    Probe(Box<Probe>),
    /// The measurements `bench` runs in release mode (internal).
    #[command(hide = true)]
    BenchMeasure(Raw),
    /// The engine and its bare loop alone, for a profiler (internal).
    #[command(hide = true)]
    BenchEngine(Raw),
    /// A load generator process (internal).
    #[command(hide = true)]
    BenchLoad(Raw),
    /// The bare loop as a process of its own (internal).
    #[command(hide = true)]
    BenchBare(Raw),
    /// A mock server process (internal).
    #[command(hide = true)]
    BenchServe(Raw),
    /// Loads a spec, for timing (internal).
    #[command(hide = true)]
    BenchLoadSpec(Raw),
}

/// The spec folder, for tasks that read specs.
#[derive(Debug, Args)]
pub struct SpecsDir {
    /// Spec folder [default: $GRANTSPEC_SPECS, else specs/]
    #[arg(long, value_name = "DIR")]
    pub specs: Option<PathBuf>,
}

/// `cargo xtask report`.
#[derive(Debug, Args)]
pub struct Report {
    /// Run against the live providers (their variables from the environment or .env)
    #[arg(long)]
    pub live: bool,
    /// Fold in the compatibility.json of an earlier `report --live`
    #[arg(long, value_name = "FILE")]
    pub with_live: Option<PathBuf>,
    /// Where the four report files go [default: target/grantspec-report/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub specs: SpecsDir,
}

/// `cargo xtask validate`.
#[derive(Debug, Args)]
pub struct Validate {
    /// Spec files or folders [default: the spec folder]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub specs: SpecsDir,
}

/// `cargo xtask record`.
#[derive(Debug, Args)]
pub struct Record {
    /// The provider id
    pub provider: String,
    /// Required: record writes what the live provider answers
    #[arg(long)]
    pub live: bool,
    /// Snapshot folder [default: $GRANTSPEC_SNAPSHOTS, else snapshots/]
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
    #[command(flatten)]
    pub specs: SpecsDir,
}

/// `cargo xtask new-provider`.
#[derive(Debug, Args)]
pub struct NewProvider {
    /// The new provider's id (the spec's file name)
    pub id: String,
    #[command(flatten)]
    pub specs: SpecsDir,
}

/// `cargo xtask mock`.
#[derive(Debug, Args)]
pub struct Mock {
    /// Providers to serve [default: all]
    #[arg(value_name = "PROVIDER")]
    pub providers: Vec<String>,
    /// Port on 127.0.0.1 [default: any free one]
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Issued tokens kept per provider, oldest forgotten first
    #[arg(long, value_name = "N", value_parser = positive)]
    pub max_tokens: Option<usize>,
    #[command(flatten)]
    pub specs: SpecsDir,
}

/// `cargo xtask authorize`.
#[derive(Debug, Args)]
pub struct Authorize {
    /// The provider's authorization endpoint
    #[arg(long, value_name = "URL")]
    pub endpoint: String,
    /// The client's id
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// A scope to ask for (repeatable)
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
    /// Port of the loopback redirect URI http://127.0.0.1:PORT/callback [default: any free one]
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub redirect_port: u16,
    /// PKCE method: S256, plain or none
    #[arg(long, value_name = "METHOD", default_value = "S256")]
    pub pkce: String,
    /// Prefix of the printed variables: PREFIX_CODE, PREFIX_CODE_VERIFIER, PREFIX_REDIRECT_URI
    #[arg(long, value_name = "NAME", default_value = "GRANTSPEC")]
    pub env_prefix: String,
    /// How long to wait for the browser to come back, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub timeout_secs: u64,
}

/// A whole number of at least 1.
pub(crate) fn positive(text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text:?} is not a positive whole number")),
    }
}

/// `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct Bench {
    /// Cases in the generated spec [default: 10000]
    #[arg(long, value_name = "N", value_parser = positive)]
    pub cases: Option<usize>,
    /// Rounds of each comparison, its sides alternating; each result is the median of its
    /// rounds, so more rounds steady the figures on a shared machine [default: 5]
    #[arg(long, value_name = "N", value_parser = positive)]
    pub rounds: Option<usize>,
    /// Leave out the whole test suite's timing
    #[arg(long)]
    pub skip_test_suite: bool,
}

/// `cargo xtask schema`.
#[derive(Debug, Args)]
pub struct Schema {
    /// Write nothing; fail if the committed schema is stale
    #[arg(long)]
    pub check: bool,
}

/// `cargo xtask review` and `accept`.
#[derive(Debug, Args)]
pub struct Snapshots {
    /// Snapshot folder [default: $GRANTSPEC_SNAPSHOTS, else snapshots/]
    #[arg(long, value_name = "DIR")]
    pub snapshots: Option<PathBuf>,
}

/// `cargo xtask probe`.
#[derive(Debug, Args)]
pub struct Probe {
    /// The token endpoint URL
    #[arg(value_name = "URL")]
    pub url: String,
    /// The written spec's provider id [default: the --out file's stem, else the URL's host]
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Where the spec is written [default: SPEC_FOLDER/ID.yaml]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,
    /// The variable holding the client id
    #[arg(long, value_name = "NAME", default_value = "GRANTSPEC_PROBE_CLIENT_ID")]
    pub client_id_env: String,
    /// The variable holding the client secret (unset: a public client)
    #[arg(
        long,
        value_name = "NAME",
        default_value = "GRANTSPEC_PROBE_CLIENT_SECRET"
    )]
    pub client_secret_env: String,
    /// The variable holding the username, for --grant password
    #[arg(long, value_name = "NAME", default_value = "GRANTSPEC_PROBE_USERNAME")]
    pub username_env: String,
    /// The variable holding the password, for --grant password
    #[arg(long, value_name = "NAME", default_value = "GRANTSPEC_PROBE_PASSWORD")]
    pub password_env: String,
    /// The grant of the baseline request: client_credentials or password
    #[arg(long, value_name = "GRANT", default_value = "client_credentials")]
    pub grant: String,
    /// A scope the client may ask for (repeat the flag, or separate with commas)
    #[arg(long, value_name = "SCOPE", value_delimiter = ',')]
    pub scope: Vec<String>,
    /// Most requests sent, discovery included
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=200))]
    pub budget: u32,
    /// Least time between two requests: `500ms`, `2s`, or milliseconds
    #[arg(long, value_name = "TIME", default_value = "1s", value_parser = duration)]
    pub interval: std::time::Duration,
    /// Probe only these areas: discovery, client-auth, encoding, scope, errors, refresh
    #[arg(long, value_name = "AREAS", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Do not read the issuer's well-known metadata (nor its JWKS)
    #[arg(long)]
    pub no_discovery: bool,
    /// The issuer whose well-known metadata is read [default: the URL's origin]
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
}

/// `500ms`, `2s` or a number of milliseconds, at most a minute.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.strip_suffix("ms") {
        Some(number) => (number, 1),
        None => match text.strip_suffix('s') {
            Some(number) => (number, 1000),
            None => (text, 1),
        },
    };
    match number.trim().parse::<u64>() {
        Ok(n) if n.saturating_mul(unit) <= 60_000 => Ok(std::time::Duration::from_millis(n * unit)),
        _ => Err(format!(
            "{text:?} is not a time of at most a minute (`500ms`, `2s`, or milliseconds)"
        )),
    }
}

/// The arguments of an internal task, passed on as they are.
#[derive(Debug, Args)]
pub struct Raw {
    /// Arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Xtask, clap::Error> {
        Xtask::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn the_declaration_is_consistent() {
        Xtask::command().debug_assert();
    }

    #[test]
    fn flags_take_a_value_after_an_equals_sign_or_a_space() {
        for args in [
            &["report", "--specs=some/dir"][..],
            &["report", "--specs", "some/dir"],
        ] {
            let Task::Report(report) = parse(args).unwrap().task else {
                panic!("not report");
            };
            assert_eq!(report.specs.specs, Some(PathBuf::from("some/dir")));
        }
    }

    #[test]
    fn an_unknown_flag_is_refused_not_read_as_a_file() {
        let error = parse(&["validate", "--bogus"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnknownArgument);
    }

    #[test]
    fn a_misspelt_task_or_flag_gets_a_suggestion() {
        let error = parse(&["reprot"]).unwrap_err().to_string();
        assert!(error.contains("report"), "{error}");
        let error = parse(&["report", "--liv"]).unwrap_err().to_string();
        assert!(error.contains("--live"), "{error}");
        let error = parse(&["mock", "--prot", "8080"]).unwrap_err().to_string();
        assert!(error.contains("--port"), "{error}");
    }

    #[test]
    fn each_task_has_its_own_help() {
        let error = parse(&["report", "--help"]).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::DisplayHelp);
        let help = error.to_string();
        assert!(help.contains("--with-live"), "{help}");
        assert!(
            !help.contains("--max-tokens"),
            "only report's flags: {help}"
        );
    }

    #[test]
    fn probe_reads_its_budget_interval_and_areas() {
        let Task::Probe(probe) = parse(&[
            "probe",
            "https://as.example/token",
            "--budget=5",
            "--interval",
            "250ms",
            "--only",
            "client-auth,errors",
            "--scope",
            "a,b",
        ])
        .unwrap()
        .task
        else {
            panic!("not probe");
        };
        assert_eq!(probe.budget, 5);
        assert_eq!(probe.interval, std::time::Duration::from_millis(250));
        assert_eq!(probe.only, ["client-auth", "errors"]);
        assert_eq!(probe.scope, ["a", "b"]);
        for bad in [
            &["probe", "u", "--budget", "0"][..],
            &["probe", "u", "--interval", "2h"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        // No flag takes a secret: credentials come from the environment.
        let help = parse(&["probe", "--help"]).unwrap_err().to_string();
        assert!(!help.contains("--client-secret "), "{help}");
        assert!(help.contains("--client-secret-env"), "{help}");
    }

    #[test]
    fn bench_takes_its_rounds_and_cases_and_refuses_zero() {
        let Task::Bench(bench) = parse(&["bench", "--rounds", "9", "--cases", "200"])
            .unwrap()
            .task
        else {
            panic!("not the bench task");
        };
        assert_eq!((bench.rounds, bench.cases), (Some(9), Some(200)));
        for flag in ["--rounds", "--cases"] {
            let error = parse(&["bench", flag, "0"]).unwrap_err().to_string();
            assert!(error.contains("not a positive whole number"), "{error}");
        }
    }

    #[test]
    fn mock_refuses_zero_tokens() {
        let error = parse(&["mock", "--max-tokens", "0"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a positive whole number"), "{error}");
    }
}
