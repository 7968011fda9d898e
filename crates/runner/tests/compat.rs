//! The compatibility report built from a real run of the shipped specs
//! against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use grantspec_report::{
    CaseOutcome, CheckOutcome, Compatibility, Observed, ProviderReport, Target,
};
use grantspec_runner::{Suite, SuiteConfig, compat};
use grantspec_spec::template::TargetKind;

fn mock_run() -> Compatibility {
    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Mock;
    config.specs_dir = grantspec_runner::workspace_root().join("specs");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    compat::build(&suite, &reports)
}

fn observed(list: &[grantspec_report::Capability], name: &str) -> Observed {
    ProviderReport::capability(list, name).unwrap().observed
}

#[test]
fn the_mock_run_fills_every_provider_as_its_spec_declares() {
    let report = mock_run();
    assert_eq!(report.target, Target::Mock);
    assert_eq!(report.format_version, grantspec_report::FORMAT_VERSION);
    let ids: Vec<&str> = report.providers.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "advanced-store",
            "elastic-path",
            "json-token-api",
            "oidc-provider",
            "shopware"
        ]
    );
    assert!(report.summary.cases > 40);
    assert_eq!(report.summary.failed, 0);
    assert_eq!(
        report.summary.passed + report.summary.skipped,
        report.summary.cases
    );

    for p in &report.providers {
        // The mock emulates the spec, so nothing contradicts it.
        assert!(p.differences.is_empty(), "{}: {:?}", p.id, p.differences);
        // Every provider's dialect was checked, and matches its declarations.
        assert!(
            p.rfc.evaluated && !p.rfc.checks.is_empty() && p.rfc.drift.is_empty(),
            "{}",
            p.id
        );
        assert_eq!(p.cases.len(), p.outcome.cases);
        assert!(
            p.cases
                .iter()
                .all(|c| matches!(c.outcome, CaseOutcome::Passed | CaseOutcome::Skipped))
        );
        assert!(!p.notes.is_empty() && !p.deviations.is_empty());
    }
    let by_id = |id: &str| report.providers.iter().find(|p| p.id == id).unwrap();

    let shopware = by_id("shopware");
    assert_eq!(observed(&shopware.grants, "password"), Observed::Accepted);
    assert_eq!(
        observed(&shopware.body_encodings, "form"),
        Observed::Accepted
    );
    assert_eq!(observed(&shopware.client_auth, "basic"), Observed::Accepted);
    let json = ProviderReport::capability(&shopware.body_encodings, "json").unwrap();
    assert!(json.profile && json.declared);
    assert_eq!(shopware.refresh.declared.as_deref(), Some("rotate"));
    assert_eq!(shopware.refresh.observed.as_deref(), Some("rotate"));
    assert_eq!(shopware.token_type.observed, ["Bearer"]);
    assert_eq!(shopware.expiry.observed_lifetimes, [600]);
    assert_eq!(shopware.errors.observed, ["errors_array"]);
    assert_eq!(shopware.endpoint.renamed["scope"], "scopes");
    assert_eq!(shopware.cases[0].name, "client_credentials");
    assert!(shopware.cases[0].description.is_some());

    let elastic = by_id("elastic-path");
    assert_eq!(observed(&elastic.grants, "implicit"), Observed::Accepted);
    assert_eq!(observed(&elastic.grants, "password"), Observed::Rejected);
    assert_eq!(
        observed(&elastic.body_encodings, "json"),
        Observed::Rejected
    );
    assert_eq!(elastic.expiry.envelope.as_deref(), Some("/data"));
    assert_eq!(elastic.expiry.observed_members, ["expires_in", "expires"]);
    // Bent requests get the response-side checks, marked as such; their
    // request-side checks are not applicable.
    let check = |id: &str| {
        elastic
            .rfc
            .checks
            .iter()
            .find(|c| c.check_id == id)
            .unwrap()
    };
    let errors_array = check("RFC6749-5.2-no-errors-array");
    assert_eq!(errors_array.bent_outcome, CheckOutcome::Fail);
    assert!(
        errors_array
            .details
            .iter()
            .any(|d| d.starts_with("elastic-path::json_body_rejected (bent request): ")),
        "{:?}",
        errors_array.details
    );
    assert_eq!(
        check("RFC6749-3.2-form-encoded-body").bent_outcome,
        CheckOutcome::NotApplicable
    );

    let json_api = by_id("json-token-api");
    assert!(json_api.token_type.declared.is_none());
    assert!(json_api.token_type.observed_missing && json_api.token_type.assume_bearer_when_missing);
    assert_eq!(
        observed(&json_api.grants, "refresh_token"),
        Observed::Rejected
    );
    assert_eq!(
        observed(&json_api.body_encodings, "form"),
        Observed::Rejected
    );

    let advanced = by_id("advanced-store");
    assert_eq!(advanced.token_type.observed, ["bearer"]);
    assert_eq!(observed(&advanced.client_auth, "basic"), Observed::Accepted);
    assert_eq!(
        observed(&advanced.grants, "authorization_code"),
        Observed::NotExercised
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn failures_carry_the_redacted_message_and_skips_their_reason() {
    let dir = std::env::temp_dir().join(format!("grantspec-compat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let source =
        std::fs::read_to_string(grantspec_runner::workspace_root().join("specs/shopware.yaml"))
            .unwrap();
    std::fs::write(
        dir.join("shopware.yaml"),
        source.replacen("        expires_in: 600\n", "        expires_in: 601\n", 1),
    )
    .unwrap();
    std::fs::write(dir.join("broken.yaml"), "provider: {}\n").unwrap();

    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Live;
    config.specs_dir = dir.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    let live = compat::build(&suite, &reports);
    assert_eq!(live.target, Target::Live);
    assert_eq!(live.spec_errors.len(), 1);
    assert!(live.spec_errors[0].file.ends_with("broken.yaml"));
    let shopware = &live.providers[0];
    // Every case is ignored; its declared-deviations trial, with nothing
    // exercised, passes, as it does in `cargo test`.
    assert_eq!(shopware.outcome.skipped, shopware.outcome.cases - 1);
    let deviations = shopware.cases.last().unwrap();
    assert_eq!(deviations.name, "declared_deviations");
    assert_eq!(deviations.outcome, CaseOutcome::Passed);
    assert!(
        shopware.cases[0]
            .skip_reason
            .as_deref()
            .unwrap()
            .contains("SHOPWARE_BASE_URL")
    );

    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Mock;
    config.specs_dir = dir.clone();
    // The failing case's pending snapshot goes to a copy, not the repository.
    config.snapshots_dir = dir.join("snapshots");
    copy_dir(
        &grantspec_runner::workspace_root().join("snapshots/shopware"),
        &config.snapshots_dir.join("shopware"),
    );
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    let mock = compat::build(&suite, &reports);
    let shopware = &mock.providers[0];
    assert_eq!(shopware.outcome.failed, 1);
    let failed = &shopware.cases[0];
    assert_eq!(failed.outcome, CaseOutcome::Failed);
    let message = failed.message.as_deref().unwrap();
    assert!(
        message.contains("/expires_in: expected 601, got 600"),
        "{message}"
    );
    assert!(message.contains("+  \"expires_in\": 600,"), "{message}");
    let json = grantspec_report::to_json(&mock);
    assert!(!json.contains("mock-integration-secret"), "a secret leaked");
    std::fs::remove_dir_all(&dir).unwrap();
}
