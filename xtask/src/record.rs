//! `cargo xtask record PROVIDER --live [--specs DIR] [--snapshots DIR]`: run
//! one provider's cases against the live provider and write their redacted
//! snapshots directly (not as pending `.snap.new` files), as the reference
//! its mock must match.
//!
//! Only cases that pass are recorded. A snapshot in which any configured
//! secret appears is refused: the value of every `${secret:NAME}` variable
//! the spec names (set in the environment or `.env`) and every secret the
//! run itself used is looked for in the snapshot text, in every encoding the
//! harness sends one in ([`grantspec_runner::redact::encodings`]), before
//! anything is written. Each case is judged as `cargo test` judges it.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use grantspec_runner::redact::{Redactor, encodings};
use grantspec_runner::render::snapshot_text;
use grantspec_runner::{FailureKind, Judgement, Suite, SuiteConfig, TrialId, snapshot_file};
use grantspec_spec::did_you_mean;
use grantspec_spec::template::TargetKind;
use grantspec_token::{ExposeSecret, SecretString};

/// What secret `text` would leak, named (never shown), if any: a configured
/// `${secret:NAME}` value of any length, or a secret the run used (those of
/// four characters or more, as the runner's scrubbing does; shorter ones are
/// literal values of negative cases), in any encoding the harness sends
/// ([`grantspec_runner::redact::encodings`]: raw, form- and
/// percent-encoded, JSON-escaped, inside base64).
pub fn find_leak(
    text: &str,
    configured: &[(String, SecretString)],
    run_secrets: &[SecretString],
) -> Option<String> {
    if let Some((name, _)) = configured.iter().find(|(_, value)| {
        let value = value.expose_secret();
        !value.is_empty()
            && (text.contains(value)
                || encodings(value)
                    .iter()
                    .any(|needle| text.contains(needle.as_str())))
    }) {
        return Some(format!("the value of secret variable {name}"));
    }
    Redactor::of_secrets(run_secrets)
        .leaks(text)
        .then(|| "a secret value the case sent".to_owned())
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// An insta snapshot file: its metadata header, then the body.
fn snapshot_document(name: &str, spec_path: &Path, body: &str) -> String {
    let root = grantspec_runner::workspace_root();
    let input = spec_path
        .strip_prefix(&root)
        .unwrap_or(spec_path)
        .to_string_lossy()
        .replace('\\', "/");
    format!(
        "---\nsource: xtask/src/record.rs\ndescription: {}\ninput_file: {}\n---\n{body}",
        quoted(name),
        quoted(&input)
    )
}

pub fn run(args: crate::flags::Record) -> anyhow::Result<ExitCode> {
    let provider = args.provider;
    if !args.live {
        anyhow::bail!(
            "record writes snapshots from the live provider: run `cargo xtask record {provider} --live` with its variables set. \
             Snapshots of the mock come from `cargo test`, then `cargo xtask review` and `cargo xtask accept`."
        );
    }

    let mut config = SuiteConfig::from_env()?;
    config.specs_dir = crate::specs_dir(args.specs.specs);
    if let Some(dir) = args.snapshots {
        config.snapshots_dir = dir;
    }
    config.target = TargetKind::Live;
    // Record writes the snapshots itself, never pending ones.
    config.write_pending_snapshots = false;
    let snapshots_dir = config.snapshots_dir.clone();
    let env = config.env.clone();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let suite = Arc::new(runtime.block_on(Suite::start(config))?);
    let Some(index) = suite
        .specs()
        .position(|loaded| loaded.spec.provider.id == provider)
    else {
        for error in suite.load_errors() {
            eprintln!("{error}\n");
        }
        let known: Vec<&str> = suite.specs().map(|s| s.spec.provider.id.as_str()).collect();
        let hint = did_you_mean(&provider, known.iter().copied())
            .map(|best| format!("; did you mean `{best}`?"))
            .unwrap_or_default();
        anyhow::bail!(
            "no provider `{provider}` in {}{hint} (known: {})",
            suite.config().specs_dir.display(),
            known.join(", ")
        );
    };
    let spec = &suite
        .specs()
        .nth(index)
        .ok_or_else(|| anyhow::anyhow!("provider `{provider}` vanished"))?
        .spec;
    let configured = grantspec_runner::redact::configured_secrets(spec, &env);

    let (mut recorded, mut failed, mut skipped, mut refused) = (0, 0, 0, 0);
    for id in suite.cases().into_iter().filter(|id| id.spec == index) {
        // One case at a time: a live provider may rate-limit. Judged as
        // `cargo test` judges it, snapshots included; a case whose only
        // fault is its snapshot is what record is for.
        let report = runtime.block_on(suite.run_unless_ignored(id));
        let verdict = match &report.judgement {
            Judgement::Ignored(reason) => {
                skipped += 1;
                println!("ignored  {}: {reason}", report.name);
                continue;
            }
            Judgement::Failed(failure) if failure.kind == FailureKind::Case => {
                failed += 1;
                println!(
                    "failed   {}: not recorded\n\n{}\n",
                    report.name, failure.message
                );
                continue;
            }
            Judgement::Passed if !report.snapshot => {
                println!("passed   {} (keeps no snapshot)", report.name);
                continue;
            }
            Judgement::Passed => "passed, snapshot unchanged",
            Judgement::Failed(failure) if failure.kind == FailureKind::SnapshotPending => {
                "passed, no snapshot yet"
            }
            Judgement::Failed(_) => "passed, snapshot changed",
        };
        let text = snapshot_text(&report.run);
        if let Some(leak) = find_leak(&text, &configured, &report.run.secrets) {
            refused += 1;
            eprintln!(
                "refused  {}: its snapshot would contain {leak}; nothing was written. \
                 The provider echoes a secret back: keep this case out of snapshots (`snapshot: false`) or report it.",
                report.name
            );
            continue;
        }
        let file = snapshot_file(
            &snapshots_dir,
            TargetKind::Live,
            &report.provider,
            &report.case,
        );
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(
            &file,
            snapshot_document(&report.name, &suite.spec_path(id), &text),
        )
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", file.display()))?;
        let _ = std::fs::remove_file(file.with_extension("snap.new"));
        recorded += 1;
        println!("recorded {} ({verdict}) -> {}", report.name, file.display());
    }
    let deviations = TrialId::DeclaredDeviations(index);
    let deviations_verdict = runtime.block_on(suite.judge_provider_trial(deviations));
    let deviations_failed = deviations_verdict.is_failure();
    match &deviations_verdict {
        Judgement::Failed(failure) => println!(
            "failed   {}\n\n{}\n",
            suite.trial_name(deviations),
            failure.message
        ),
        other => println!("{:<8} {}", other.as_str(), suite.trial_name(deviations)),
    }
    let throttled = suite.retry_notes();
    if !throttled.is_empty() {
        println!("\nthrottled by the provider:\n  {}", throttled.join("\n  "));
    }
    println!(
        "\n{provider}: {recorded} recorded, {failed} failed, {skipped} ignored, {refused} refused{}",
        if deviations_failed {
            "; its declared deviations disagree with the run"
        } else {
            ""
        }
    );
    if recorded == 0 && failed == 0 && refused == 0 {
        eprintln!("nothing was recorded: every case was ignored (see the reasons above)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(if failed == 0 && refused == 0 && !deviations_failed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_secret_in_the_snapshot_is_found_and_named_not_shown() {
        let configured = vec![(
            "ACME_CLIENT_SECRET".to_owned(),
            SecretString::from("canary-4b1d\"q"),
        )];
        let clean = "status: 200\n\n{\n  \"access_token\": \"[opaque token]\"\n}\n";
        assert_eq!(find_leak(clean, &configured, &[]), None);

        let raw = "error: bad secret canary-4b1d\"q\n";
        let leak = find_leak(raw, &configured, &[]).unwrap();
        assert_eq!(leak, "the value of secret variable ACME_CLIENT_SECRET");
        assert!(!leak.contains("canary"));

        let escaped = "{\n  \"echo\": \"canary-4b1d\\\"q\"\n}\n";
        assert!(find_leak(escaped, &configured, &[]).is_some());

        // Echoed as the server received it: form-encoded, or inside the
        // Basic header's base64 of `id:secret`.
        let form = "error_description: got client_secret=canary-4b1d%22q\n";
        assert!(find_leak(form, &configured, &[]).is_some());
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "client-id:canary-4b1d%22q",
        );
        let echoed = format!("www-authenticate: Basic realm=\"x\", got=\"{basic}\"\n");
        assert!(find_leak(&echoed, &configured, &[]).is_some(), "{echoed}");

        let used = [SecretString::from("sent-secret"), SecretString::from("ab")];
        assert_eq!(
            find_leak("{\"x\": \"sent-secret\"}", &[], &used).as_deref(),
            Some("a secret value the case sent")
        );
        assert_eq!(
            find_leak("Bad Request", &[], &used),
            None,
            "short literals are not secrets"
        );
    }

    #[test]
    fn snapshot_document_has_insta_metadata() {
        let doc = snapshot_document(
            "p::a",
            &grantspec_runner::workspace_root().join("specs/p.yaml"),
            "# step 1 of 1\n",
        );
        assert_eq!(
            doc,
            "---\nsource: xtask/src/record.rs\ndescription: \"p::a\"\ninput_file: \"specs/p.yaml\"\n---\n# step 1 of 1\n"
        );
        assert_eq!(grantspec_runner::snapshot_body(&doc), "# step 1 of 1\n");
    }
}
