//! The compatibility report built from a real run of the shipped specs
//! against the mock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use grantspec_report::{
    Acceptance, CaseOutcome, CheckOutcome, Compatibility, Provenance, ProviderReport,
    RefreshBehaviour, RefreshSeen, RunKind, Target, WayOutcome,
};
use grantspec_runner::{Suite, SuiteConfig, compat};
use grantspec_spec::template::TargetKind;
use grantspec_test_support::{copy_dir, temp_dir};

/// One run of the shipped specs on the mock, shared by the tests that read
/// its report (each gets its own copy).
fn mock_run() -> Compatibility {
    static RUN: std::sync::OnceLock<Compatibility> = std::sync::OnceLock::new();
    RUN.get_or_init(run_shipped_specs_on_the_mock).clone()
}

fn run_shipped_specs_on_the_mock() -> Compatibility {
    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Mock;
    config.specs_dir = grantspec_runner::workspace_root().join("specs");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    compat::build(&suite, &reports)
}

fn answered(list: &[grantspec_report::Capability], name: &str) -> Acceptance {
    ProviderReport::capability(list, name).unwrap().run
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
            "ebay",
            "elastic-path",
            "facebook",
            "fitbit",
            "github",
            "instagram",
            "json-token-api",
            "keycloak",
            "mailchimp",
            "oidc-provider",
            "plentymarkets",
            "salesforce",
            "shopware",
            "slack",
            "weibo"
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
    assert_eq!(answered(&shopware.grants, "password"), Acceptance::Accepted);
    assert_eq!(
        answered(&shopware.body_encodings, "form"),
        Acceptance::Accepted
    );
    assert_eq!(
        answered(&shopware.client_auth, "basic"),
        Acceptance::Accepted
    );
    let json = ProviderReport::capability(&shopware.body_encodings, "json").unwrap();
    assert!(json.profile && json.declared);
    // Shopware's cases rotate and refuse a replay, but never present the
    // newest token after it: not enough to tell rotate_revoke_family apart.
    assert_eq!(shopware.refresh.declared, Some(RefreshBehaviour::Rotate));
    assert_eq!(
        shopware.refresh.run,
        Some(RefreshSeen::OneOf(vec![
            RefreshBehaviour::Rotate,
            RefreshBehaviour::RotateRevokeFamily
        ]))
    );
    assert!(
        shopware.refresh.observations.iter().any(|o| o
            == "shopware::reused_refresh_token_rejected: a refresh answered a new refresh token, then a used refresh token was refused when presented again"),
        "{:?}",
        shopware.refresh.observations
    );
    let refresh = shopware.fact("refresh").unwrap();
    assert_eq!(
        refresh.run.as_deref(),
        Some("rotate or rotate_revoke_family")
    );
    assert!(!refresh.run_differs, "rotate is among those left");
    assert_eq!(shopware.token_type.run, ["Bearer"]);
    assert_eq!(shopware.expiry.run_lifetimes, [600]);
    assert_eq!(shopware.errors.run, ["errors_array"]);
    assert_eq!(shopware.endpoint.renamed["scope"], "scopes");
    assert_eq!(shopware.cases[0].name, "client_credentials");
    assert!(shopware.cases[0].description.is_some());

    let elastic = by_id("elastic-path");
    assert_eq!(answered(&elastic.grants, "implicit"), Acceptance::Accepted);
    assert_eq!(answered(&elastic.grants, "password"), Acceptance::Rejected);
    assert_eq!(
        answered(&elastic.body_encodings, "json"),
        Acceptance::Rejected
    );
    assert_eq!(elastic.expiry.envelope.as_deref(), Some("/data"));
    assert_eq!(elastic.expiry.run_members, ["expires_in", "expires"]);
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
    assert!(json_api.token_type.run_missing && json_api.token_type.assume_bearer_when_missing);
    assert_eq!(
        answered(&json_api.grants, "refresh_token"),
        Acceptance::Rejected
    );
    assert_eq!(
        answered(&json_api.body_encodings, "form"),
        Acceptance::Rejected
    );

    let advanced = by_id("advanced-store");
    assert_eq!(advanced.token_type.run, ["bearer"]);
    assert_eq!(
        answered(&advanced.client_auth, "basic"),
        Acceptance::Accepted
    );
    assert_eq!(
        answered(&advanced.grants, "authorization_code"),
        Acceptance::NotExercised
    );
}

/// An error answered with HTTP 200 is a refusal to the report, read through
/// the provider's profile (the token crate's `parse_response`), never an
/// acceptance by status: Slack's `ok: false` to a replayed refresh token,
/// GitHub's form-encoded `error=` to HTTP Basic client authentication.
#[test]
fn an_error_answered_with_200_is_a_refusal_in_the_report() {
    let report = mock_run();
    let provider = |id: &str| report.providers.iter().find(|p| p.id == id).unwrap();

    let slack = provider("slack");
    assert_eq!(slack.refresh.declared, Some(RefreshBehaviour::Rotate));
    assert!(
        slack.refresh.observations.iter().any(|o| o
            == "slack::refresh_rotates_and_revokes: a refresh answered a new refresh token, then a used refresh token was refused when presented again"),
        "{:?}",
        slack.refresh.observations
    );
    assert_eq!(
        slack.refresh.run,
        Some(RefreshSeen::OneOf(vec![
            RefreshBehaviour::Rotate,
            RefreshBehaviour::RotateRevokeFamily
        ]))
    );

    let github = provider("github");
    assert_eq!(answered(&github.client_auth, "basic"), Acceptance::Rejected);
    assert_eq!(answered(&github.client_auth, "post"), Acceptance::Accepted);
}

/// The dialect columns of the matrix (issue #18), from each profile.
#[test]
fn the_matrix_shows_each_providers_dialect() {
    let report = mock_run();
    let dialect = |id: &str| {
        let p = report.providers.iter().find(|p| p.id == id).unwrap();
        (
            p.dialect.encoding.as_str(),
            p.dialect.renamed_members.len(),
            p.dialect.errors_with_status,
            p.dialect.token_placement.as_str(),
        )
    };
    assert_eq!(
        dialect("github"),
        ("form", 0, Some(200), "Authorization: Bearer")
    );
    assert_eq!(dialect("slack"), ("json", 0, Some(200), "form token"));
    assert_eq!(
        dialect("plentymarkets"),
        ("json", 4, None, "Authorization: Bearer")
    );
    assert_eq!(dialect("weibo"), ("json", 0, None, "query access_token"));
    assert_eq!(
        dialect("shopware"),
        ("json", 0, None, "Authorization: Bearer")
    );
}

#[test]
fn failures_carry_the_redacted_message_and_skips_their_reason() {
    let dir = temp_dir("compat");
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
    config.specs_dir = dir.to_path_buf();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    let live = compat::build(&suite, &reports);
    assert_eq!(live.target, Target::Live);
    assert_eq!(live.spec_errors.len(), 1);
    assert!(live.spec_errors[0].file.ends_with("broken.yaml"));
    let shopware = &live.providers[0];
    // Without its base URL every case is ignored, and so is its
    // declared-deviations trial, with the same reason, as in `cargo test`.
    assert_eq!(shopware.outcome.skipped, shopware.outcome.cases);
    let deviations = shopware.cases.last().unwrap();
    assert_eq!(deviations.name, "declared_deviations");
    assert_eq!(deviations.outcome, CaseOutcome::Skipped);
    assert_eq!(deviations.skip_reason, shopware.cases[0].skip_reason);
    assert!(
        shopware.cases[0]
            .skip_reason
            .as_deref()
            .unwrap()
            .contains("SHOPWARE_BASE_URL")
    );

    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Mock;
    config.specs_dir = dir.to_path_buf();
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
}

/// The seed providers: the four specs written from provider documents.
const SEEDS: [&str; 4] = [
    "advanced-store",
    "elastic-path",
    "json-token-api",
    "shopware",
];

#[test]
fn a_mock_report_labels_every_fact_with_its_source_and_observes_nothing_live() {
    let report = mock_run();
    let keys: Vec<&str> = grantspec_spec::facts::FACTS
        .iter()
        .map(|(k, _)| *k)
        .collect();
    for p in &report.providers {
        assert_eq!(p.run.kind, RunKind::Emulated, "{}", p.id);
        assert_eq!(p.run.at, None);
        let shown: Vec<&str> = p.facts.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(shown, keys, "{}: every fact is shown, once", p.id);
        for f in &p.facts {
            assert!(f.live.is_none(), "{}: {} has a live value", p.id, f.key);
            assert!(!f.source.text().is_empty(), "{}: {}", p.id, f.key);
            if SEEDS.contains(&p.id.as_str()) || p.id == "oidc-provider" {
                // The reviewed specs give every fact a source of its own.
                assert_ne!(
                    f.source.text(),
                    "the spec names no source",
                    "{}: {} has no source",
                    p.id,
                    f.key
                );
            }
            if let Provenance::Documented { docs, .. } = &f.source {
                assert_eq!(docs, &p.docs, "{}: {}", p.id, f.key);
            }
        }
        // Every matrix cell has the fact it shows.
        for (kind, list) in [
            ("grant", &p.grants),
            ("body", &p.body_encodings),
            ("client_auth", &p.client_auth),
        ] {
            for c in list {
                assert!(p.fact(&format!("{kind}.{}", c.name)).is_some());
            }
        }
    }
    // Elastic Path's cache headers rest on no document: an assumption.
    let elastic = report
        .providers
        .iter()
        .find(|p| p.id == "elastic-path")
        .unwrap();
    let cache = elastic.fact("cache_headers").unwrap();
    assert_eq!(cache.source.label(), "assumed");
    assert_eq!(cache.run.as_deref(), Some("no-store, no-cache"));
    let advanced = report
        .providers
        .iter()
        .find(|p| p.id == "advanced-store")
        .unwrap();
    assert_eq!(
        advanced.fact("client_auth.basic").unwrap().source.label(),
        "assumed"
    );
    assert_eq!(
        advanced.fact("token_type").unwrap().source.label(),
        "documented"
    );

    let md = grantspec_report::to_markdown(&report);
    let html = grantspec_report::to_html(&report);
    let json = grantspec_report::to_json(&report);
    for text in [&md, &html] {
        assert!(!text.contains("observed live"), "the mock observes nothing");
        assert!(!text.contains("observed nothing"));
        assert!(text.contains("emulated by the mock"));
    }
    assert!(!json.contains("observed_live"));
    // A note may rest on what a run against the provider saw (the spec's
    // claim, shown as such); nothing else may say observed.
    assert!(
        !json
            .replace("\"basis\": \"observed\"", "")
            .contains("\"observed"),
        "no member of a mock report calls the mock's behaviour observed"
    );
    assert!(
        md.contains("| `client_auth.basic` | `accepted` | A assumed: the page shows only client\\_id and client\\_secret in the body;"),
        "{md}"
    );
}

#[test]
fn the_documentations_contradictions_are_in_the_matrix() {
    let report = mock_run();
    let md = grantspec_report::to_markdown(&report);
    let matrix = &md[md.find("## Matrix").unwrap()..md.find("<a id=\"provider-").unwrap()];
    for line in [
        "⚑ audience-separator: mock follows text + example",
        "⚑ resource-scheme: mock follows example",
        "⚑ method: mock follows example",
    ] {
        assert!(matrix.contains(line), "{line}\n{matrix}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&grantspec_report::to_json(&report)).unwrap();
    let contradictions = |id: &str| {
        json["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()["contradictions"]
            .clone()
    };
    let method = &contradictions("json-token-api")[0];
    assert_eq!(method["id"], "method");
    assert_eq!(method["ways"][0]["where"], "text");
    assert_eq!(method["ways"][0]["run"], "refused");
    assert_eq!(method["ways"][1]["where"], "example");
    assert_eq!(method["ways"][1]["run"], "accepted");
    let advanced = contradictions("advanced-store");
    assert_eq!(advanced[0]["ways"][0]["run"], "accepted");
    assert_eq!(advanced[0]["ways"][1]["run"], "accepted");
    assert_eq!(advanced[1]["id"], "resource-scheme");
    assert_eq!(advanced[1]["ways"][0]["run"], "refused");
    assert_eq!(advanced[1]["ways"][1]["run"], "accepted");
}

/// The shipped specs run with the live target against stand-ins for the
/// live providers: the mock, served on loopback from the shipped specs,
/// except that the stand-in for Advanced Store refuses HTTP Basic (as a
/// fosite server holds a client registered for client_secret_post to that
/// method), which its spec only assumes it accepts.
fn live_run_against_stand_ins() -> Compatibility {
    let root = grantspec_runner::workspace_root();
    let dir = temp_dir("live");
    copy_dir(&root.join("snapshots"), &dir.join("snapshots"));
    let load = |id: &str, edit: &dyn Fn(String) -> String| {
        let path = root.join(format!("specs/{id}.yaml"));
        let text = edit(std::fs::read_to_string(&path).unwrap());
        grantspec_spec::load_str(&path, &text).unwrap().spec
    };
    let same = |text: String| text;
    let stand_ins = [
        load("advanced-store", &|text: String| {
            text.replacen(
                "  client_auth: [post, basic]\n",
                "  client_auth: [post]\n",
                1,
            )
        }),
        load("elastic-path", &same),
        load("json-token-api", &same),
        load("shopware", &same),
    ];
    assert!(
        stand_ins[0].mock.as_ref().unwrap().client_auth.len() == 1,
        "the edit applied"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let clock = Arc::new(grantspec_token::SystemClock);
    let server = runtime
        .block_on(grantspec_mock::MockServer::start(
            stand_ins
                .iter()
                .map(|spec| spec.mock_provider().expect("a seeded spec")),
            clock,
            0,
        ))
        .unwrap();
    let url = |id: &str| server.base_url(id).to_string();
    let env = grantspec_runner::Env::from_pairs([
        ("ADVANCED_STORE_BASE_URL", url("advanced-store")),
        ("ADVANCED_STORE_CLIENT_ID", "adv-client-1".to_owned()),
        ("ADVANCED_STORE_CLIENT_SECRET", "mock-adv-secret".to_owned()),
        ("ELASTIC_PATH_BASE_URL", url("elastic-path")),
        ("ELASTIC_PATH_CLIENT_ID", "ep-client-1".to_owned()),
        ("ELASTIC_PATH_CLIENT_SECRET", "mock-ep-secret".to_owned()),
        ("JSON_TOKEN_API_BASE_URL", url("json-token-api")),
        ("JSON_TOKEN_API_CLIENT_ID", "json-client-1".to_owned()),
        (
            "JSON_TOKEN_API_CLIENT_SECRET",
            "mock-json-secret".to_owned(),
        ),
        ("SHOPWARE_BASE_URL", url("shopware")),
        ("SHOPWARE_CLIENT_ID", "SWIAINTEGRATION01".to_owned()),
        (
            "SHOPWARE_CLIENT_SECRET",
            "mock-integration-secret".to_owned(),
        ),
        ("SHOPWARE_ADMIN_USER", "admin".to_owned()),
        ("SHOPWARE_ADMIN_PASSWORD", "mock-admin-password".to_owned()),
    ]);
    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Live;
    config.specs_dir = root.join("specs");
    config.snapshots_dir = dir.join("snapshots");
    config.env = env;
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    let live = compat::build(&suite, &reports);
    drop(server);
    live
}

#[test]
fn a_live_report_folds_in_beside_the_spec_and_its_drift_is_highlighted() {
    let live = live_run_against_stand_ins();
    assert_eq!(live.target, Target::Live);
    let at = live.generated_at.clone().unwrap();
    let by_id = |report: &Compatibility, id: &str| {
        report
            .providers
            .iter()
            .find(|p| p.id == id)
            .unwrap()
            .clone()
    };
    let advanced = by_id(&live, "advanced-store");
    assert_eq!(advanced.run.kind, RunKind::ObservedLive);
    assert_eq!(advanced.run.at.as_deref(), Some(at.as_str()));
    let basic = advanced.fact("client_auth.basic").unwrap();
    assert_eq!(basic.spec, "accepted");
    assert_eq!(basic.run.as_deref(), Some("refused"));
    assert!(basic.run_differs);
    assert!(
        advanced
            .differences
            .iter()
            .any(|d| d.contains("`client_auth.basic`") && d.ends_with("drift")),
        "{:?}",
        advanced.differences
    );
    // The other stand-ins behave as their specs say.
    for id in ["elastic-path", "json-token-api", "shopware"] {
        assert!(by_id(&live, id).differences.is_empty(), "{id}");
    }

    // Through compatibility.json, as `cargo xtask report --with-live` reads it.
    let earlier = grantspec_report::read_live_report(&grantspec_report::to_json(&live)).unwrap();
    let mut report = mock_run();
    report.fold_live(&earlier).unwrap();
    assert_eq!(report.live_report.as_ref().unwrap().generated_at, at);
    let advanced = by_id(&report, "advanced-store");
    let basic = advanced.fact("client_auth.basic").unwrap();
    assert_eq!(
        basic.run.as_deref(),
        Some("accepted"),
        "what the mock emulated"
    );
    let seen = basic.live.as_ref().unwrap();
    assert_eq!(
        (seen.value.as_deref(), seen.differs),
        (Some("refused"), true)
    );
    assert_eq!(seen.at, at);
    assert_eq!(
        advanced.live_differences.len(),
        1,
        "{:?}",
        advanced.live_differences
    );
    let token_type = advanced.fact("token_type").unwrap();
    assert_eq!(
        token_type.live.as_ref().unwrap().value.as_deref(),
        Some("bearer")
    );
    // Both audience forms were tried live; the resource cases are mock-only.
    let audience = &advanced.contradictions[0];
    assert_eq!(audience.live_at.as_deref(), Some(at.as_str()));
    assert!(
        audience
            .ways
            .iter()
            .all(|w| w.live == Some(WayOutcome::Accepted))
    );
    assert!(
        advanced.contradictions[1]
            .ways
            .iter()
            .all(|w| w.live == Some(WayOutcome::NotExercised))
    );
    let oidc = by_id(&report, "oidc-provider");
    assert!(
        oidc.facts
            .iter()
            .all(|f| f.live.as_ref().unwrap().value.is_none()),
        "the live report ran no oidc-provider case with credentials"
    );

    let md = grantspec_report::to_markdown(&report);
    assert!(md.contains(&format!("L observed live on {at}")), "{md}");
    assert!(md.contains("| ✔ A · L✘! | ✔★ D · L✔ |"), "{md}");
    assert!(
        md.contains(&format!("; live confirmed text + example ({at})")),
        "{md}"
    );
    assert!(md.contains("`refused` ! drift"), "{md}");
    let html = grantspec_report::to_html(&report);
    assert!(html.contains(&format!(
        "<span class=\"live differs\" title=\"observed live {at}: refused; the spec says otherwise\">L✘!</span>"
    )));
    let json = grantspec_report::to_json(&report);
    assert!(json.contains("\"differs\": true"));
    assert!(!json.contains("mock-adv-secret"), "a secret leaked");
}
