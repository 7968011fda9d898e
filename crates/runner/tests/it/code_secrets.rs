//! The codes, PKCE verifiers and cookies of `authorize` steps are made at
//! run time, so the canary test cannot plant them: here every authorization
//! code case of `specs/oidc-provider.yaml` runs on the mock with its last
//! step bent to fail (so its failure message dumps the request that carried
//! the code and the verifier), and no code or verifier the run used appears,
//! in any encoding, in a failure message, a snapshot or the report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use base64::Engine as _;
use grantspec_runner::{Env, Judgement, Suite, SuiteConfig, render::snapshot_text};
use grantspec_spec::template::TargetKind;
use grantspec_token::{Body, TransportConfig};

/// Every way a value may have been written: raw, form- and
/// percent-encoded, and base64 (standard and url-safe).
fn encodings(secret: &str) -> Vec<String> {
    let form: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    vec![
        secret.to_owned(),
        form,
        base64::engine::general_purpose::STANDARD.encode(secret),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
    ]
}

#[test]
fn codes_and_verifiers_never_appear_in_messages_snapshots_or_the_report() {
    let root = grantspec_runner::workspace_root();
    let source = std::fs::read_to_string(root.join("specs").join("oidc-provider.yaml")).unwrap();
    let mut spec: serde_yaml::Value = serde_yaml::from_str(&source).unwrap();
    // The quirks name cases this copy leaves out.
    spec["provider"]["quirks"] = serde_yaml::Value::Sequence(Vec::new());
    let cases = spec["cases"].as_sequence_mut().unwrap();
    cases.retain(|case| {
        case["steps"]
            .as_sequence()
            .is_some_and(|steps| steps.iter().any(|step| step.get("authorize").is_some()))
    });
    assert!(cases.len() >= 6, "the code cases are there");
    for case in cases.iter_mut() {
        let last = case["steps"].as_sequence_mut().unwrap().last_mut().unwrap();
        last["expect"]["status"] = serde_yaml::Value::from(599);
    }
    let specs = tempfile::tempdir().unwrap();
    std::fs::write(
        specs.path().join("oidc-provider.yaml"),
        serde_yaml::to_string(&spec).unwrap(),
    )
    .unwrap();
    let snapshots = tempfile::tempdir().unwrap();
    let config = SuiteConfig {
        specs_dir: specs.path().to_path_buf(),
        snapshots_dir: snapshots.path().to_path_buf(),
        target: TargetKind::Mock,
        env: Env::from_pairs(Vec::<(&str, &str)>::new()),
        transport: TransportConfig::default(),
        write_pending_snapshots: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    assert!(suite.load_errors().is_empty(), "the copy loads");
    let reports = runtime.block_on(suite.run_all());

    let mut secrets = Vec::new();
    let mut shown = Vec::new();
    for report in &reports {
        if report.case == "declared_deviations" {
            continue;
        }
        for exchange in &report.run.exchanges {
            if let Some(Body::Form(pairs)) = &exchange.request.body {
                for (name, value) in pairs {
                    if name == "code" || name == "code_verifier" {
                        assert!(value.is_secret(), "{name} is sent as a secret");
                        secrets.push(value.expose().to_owned());
                    }
                }
            }
        }
        match &report.judgement {
            Judgement::Failed(failure) => shown.push(failure.message.clone()),
            other => panic!("{} should fail on its bent step: {other:?}", report.name),
        }
        shown.push(snapshot_text(&report.run));
    }
    let compatibility = grantspec_runner::compat::build(&suite, &reports);
    shown.push(serde_json::to_string(&compatibility).unwrap());
    assert!(
        secrets.len() >= 12,
        "codes and verifiers were sent: {}\n{}",
        secrets.len(),
        shown[0]
    );
    for secret in &secrets {
        for encoded in encodings(secret) {
            for text in &shown {
                assert!(
                    !text.contains(&encoded),
                    "a code or verifier appears in:\n{text}"
                );
            }
        }
    }
}

#[test]
fn a_secret_is_never_put_in_an_authorization_url() {
    let specs = tempfile::tempdir().unwrap();
    std::fs::write(
        specs.path().join("az.yaml"),
        r#"
provider:
  id: az
  name: az
  token_endpoint: { path: /token }
mock:
  clients:
    - { id: app, secret: s3cret, grants: [authorization_code], redirect_uris: ["https://app.example/cb"] }
cases:
  - name: secret_state
    steps:
      - authorize: { client_id: app, redirect_uri: "https://app.example/cb", state: "${secret:AZ_STATE}" }
"#,
    )
    .unwrap();
    let snapshots = tempfile::tempdir().unwrap();
    let config = SuiteConfig {
        specs_dir: specs.path().to_path_buf(),
        snapshots_dir: snapshots.path().to_path_buf(),
        target: TargetKind::Mock,
        env: Env::from_pairs([("AZ_STATE", "SECRET-state-value")]),
        transport: TransportConfig::default(),
        write_pending_snapshots: false,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    let report = reports.iter().find(|r| r.case == "secret_state").unwrap();
    assert!(report.run.exchanges.is_empty(), "nothing was sent");
    let Judgement::Failed(failure) = &report.judgement else {
        panic!("{:?}", report.judgement);
    };
    assert!(
        failure
            .message
            .contains("refusing to put a secret in the authorization URL"),
        "{}",
        failure.message
    );
    assert!(!failure.message.contains("SECRET-state-value"));
}
