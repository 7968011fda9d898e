//! The four refresh behaviours and lifetimes by grant and by client, end to
//! end: the fixture specs under `tests/refresh-behaviours/` (one per
//! behaviour) pass on the mock, whose run the report calls emulated, and a
//! live run against stand-ins (the mock, served on loopback, seeded with
//! each behaviour in turn) tells each stand-in's behaviour and flags the
//! ones that differ from the spec as drift.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use grantspec_report::{
    CaseOutcome, Compatibility, ProviderReport, RefreshBehaviour, RefreshSeen, RunKind, Target,
};
use grantspec_runner::{Suite, SuiteConfig, compat};
use grantspec_spec::template::TargetKind;
use grantspec_test_support::temp_dir;

/// The fixture specs, with the behaviour each declares.
const FIXTURES: [(&str, RefreshBehaviour); 4] = [
    ("refresh-rotate", RefreshBehaviour::Rotate),
    ("refresh-reuse", RefreshBehaviour::Reuse),
    ("refresh-rotate-keep-old", RefreshBehaviour::RotateKeepOld),
    (
        "refresh-rotate-revoke-family",
        RefreshBehaviour::RotateRevokeFamily,
    ),
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/refresh-behaviours")
}

fn source(id: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("{id}.yaml"))).unwrap()
}

fn run(config: SuiteConfig) -> Compatibility {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    let reports = runtime.block_on(suite.run_all());
    compat::build(&suite, &reports)
}

fn provider<'r>(report: &'r Compatibility, id: &str) -> &'r ProviderReport {
    report.providers.iter().find(|p| p.id == id).unwrap()
}

/// The lifetimes the fixtures declare, as the report words them.
const DECLARED_LIFETIMES: &str = "3600 s; refresh_token 600 s; client `app` password 900 s";

#[test]
fn each_refresh_behaviour_is_emulated_and_told_apart_on_the_mock() {
    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Mock;
    config.specs_dir = fixtures();
    let report = run(config);
    assert_eq!(report.summary.failed, 0, "{:#?}", report.providers);
    for (id, behaviour) in FIXTURES {
        let p = provider(&report, id);
        assert!(
            p.cases.iter().all(|c| c.outcome == CaseOutcome::Passed),
            "{id}: {:?}",
            p.cases
        );
        assert_eq!(p.run.kind, RunKind::Emulated);
        assert_eq!(p.refresh.declared, Some(behaviour), "{id}");
        assert_eq!(
            p.refresh.run,
            Some(RefreshSeen::Told(behaviour)),
            "{id}: {:?}",
            p.refresh.observations
        );
        assert!(p.differences.is_empty(), "{id}: {:?}", p.differences);
        let refresh = p.fact("refresh").unwrap();
        assert_eq!(refresh.run.as_deref(), Some(behaviour.as_str()));
        assert!(!refresh.run_differs);
        // Lifetimes by grant and by client: each seen against its own.
        let lifetime = p.fact("token_lifetime").unwrap();
        assert_eq!(lifetime.spec, DECLARED_LIFETIMES);
        assert_eq!(
            lifetime.run.as_deref(),
            Some("client `app` password 900 s; client `app` refresh_token 600 s"),
            "{id}"
        );
        assert!(!lifetime.run_differs);
    }
    // What the cases showed is said, case by case.
    let revoke = provider(&report, "refresh-rotate-revoke-family");
    assert!(
        revoke.refresh.observations.contains(&"refresh-rotate-revoke-family::a_used_refresh_token_presented_again: a refresh answered a new refresh token, then a used refresh token was refused when presented again, then after that, the newest refresh token was refused, then after that, the newest access token was refused at the protected resource".to_owned()),
        "{:?}",
        revoke.refresh.observations
    );
    let md = grantspec_report::to_markdown(&report);
    assert!(md.contains("| rotate\\_revoke\\_family (seen) A |"), "{md}");
    let json = grantspec_report::to_json(&report);
    assert!(!json.contains("\"observed"), "the mock observes nothing");
}

/// A live run of the four fixtures against four stand-ins, each stand-in
/// seeded with the behaviour `shift` places after its spec's in `FIXTURES`
/// (0: the spec's own). The stand-ins know the client as `live-app`, which
/// the live run names through `${env:…}`, so a client's lifetime is found
/// by the step that names it, not by the id the server knows it by.
fn live_run(shift: usize, edit: impl Fn(&str, String) -> String) -> Compatibility {
    let dir = temp_dir("refresh-live");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut stand_ins = Vec::new();
    for (index, (id, _)) in FIXTURES.iter().enumerate() {
        let source = source(id);
        std::fs::write(dir.join(format!("{id}.yaml")), &source).unwrap();
        let (_, stand_in) = FIXTURES[(index + shift) % FIXTURES.len()];
        let seeded = source
            .replacen(
                &format!("  refresh: {}\n", FIXTURES[index].1.as_str()),
                &format!("  refresh: {}\n", stand_in.as_str()),
                1,
            )
            .replacen("    - id: app\n", "    - id: live-app\n", 1);
        let seeded = edit(id, seeded);
        let spec = grantspec_spec::load_str(&dir.join(format!("{id}.yaml")), &seeded)
            .unwrap()
            .spec;
        assert_eq!(
            spec.mock.as_ref().unwrap().refresh.as_str(),
            stand_in.as_str(),
            "the edit applied"
        );
        stand_ins.push(spec);
    }
    let server = runtime
        .block_on(grantspec_mock::MockServer::start(
            stand_ins
                .iter()
                .map(|spec| spec.mock_provider().expect("a seeded spec")),
            Arc::new(grantspec_token::SystemClock),
            0,
        ))
        .unwrap();
    let mut env = Vec::new();
    for (id, _) in FIXTURES {
        let name = id.to_ascii_uppercase().replace('-', "_");
        env.push((format!("{name}_BASE_URL"), server.base_url(id).to_string()));
        env.push((format!("{name}_CLIENT_ID"), "live-app".to_owned()));
    }
    let mut config = SuiteConfig::from_env().unwrap();
    config.target = TargetKind::Live;
    config.specs_dir = dir.to_path_buf();
    config.snapshots_dir = dir.join("snapshots");
    config.env = grantspec_runner::Env::from_pairs(env);
    let report = run(config);
    drop(server);
    report
}

/// What a live run of a spec declaring `declared` tells of a stand-in
/// with `stand_in`. A case stops at the first step whose expectations fail
/// (that step's exchange is made and read): a spec that expects a used
/// token to be accepted again stops where a rotating stand-in refuses it,
/// before presenting the newest token, so the run cannot tell which of the
/// two rotations refused it, and says so.
fn told(declared: RefreshBehaviour, stand_in: RefreshBehaviour) -> RefreshSeen {
    use RefreshBehaviour::*;
    match (declared, stand_in) {
        (Reuse | RotateKeepOld, Rotate | RotateRevokeFamily) => {
            RefreshSeen::OneOf(vec![Rotate, RotateRevokeFamily])
        }
        (_, stand_in) => RefreshSeen::Told(stand_in),
    }
}

#[test]
fn a_live_run_tells_each_stand_ins_behaviour_and_flags_drift() {
    for shift in 0..FIXTURES.len() {
        let report = live_run(shift, |_, source| source);
        assert_eq!(report.target, Target::Live);
        for (index, (id, declared)) in FIXTURES.iter().enumerate() {
            let (_, stand_in) = FIXTURES[(index + shift) % FIXTURES.len()];
            let p = provider(&report, id);
            assert_eq!(p.run.kind, RunKind::ObservedLive);
            let seen = told(*declared, stand_in);
            assert_eq!(
                p.refresh.run.as_ref(),
                Some(&seen),
                "{id} against a {} stand-in: {:?}",
                stand_in.as_str(),
                p.refresh.observations
            );
            assert!(seen.allows(stand_in));
            let fact = p.fact("refresh").unwrap();
            assert_eq!(fact.run, Some(seen.words()));
            assert_eq!(fact.run_differs, stand_in != *declared, "{id}");
            let drift = p
                .differences
                .iter()
                .find(|d| d.starts_with("`refresh`"))
                .cloned();
            if stand_in == *declared {
                assert_eq!(drift, None, "{id}");
                assert!(p.differences.is_empty(), "{id}: {:?}", p.differences);
            } else {
                assert_eq!(
                    drift,
                    Some(format!(
                        "`refresh`: the spec says `{}` (assumed), the live provider answered `{}` ({}): drift",
                        declared.as_str(),
                        seen.words(),
                        p.refresh.evidence.join(", ")
                    )),
                    "{id}"
                );
            }
            // The client is `live-app` on the wire; its lifetime is the
            // seed's `app`'s, found through the step's `${client_id}`.
            let lifetime = p.fact("token_lifetime").unwrap();
            assert_eq!(
                lifetime.run.as_deref(),
                Some("client `app` password 900 s; client `app` refresh_token 600 s"),
                "{id}"
            );
            assert!(!lifetime.run_differs, "{id}");
        }
    }
}

#[test]
fn a_live_lifetime_other_than_declared_for_its_grant_is_drift() {
    let report = live_run(0, |id, source| {
        if id == "refresh-rotate" {
            source.replacen("refresh_token: 600 }", "refresh_token: 601 }", 1)
        } else {
            source
        }
    });
    let p = provider(&report, "refresh-rotate");
    let lifetime = p.fact("token_lifetime").unwrap();
    assert_eq!(lifetime.spec, DECLARED_LIFETIMES);
    assert_eq!(
        lifetime.run.as_deref(),
        Some("client `app` password 900 s; client `app` refresh_token 601 s")
    );
    assert!(lifetime.run_differs);
    assert!(
        p.differences
            .iter()
            .any(|d| d.starts_with("`token_lifetime`") && d.ends_with("drift")),
        "{:?}",
        p.differences
    );
    let md = grantspec_report::to_markdown(&report);
    assert!(
        md.contains("client `app` refresh\\_token 601 s (declared 600 s)"),
        "{md}"
    );
    // The other fixtures' stand-ins kept their lifetimes.
    assert!(
        !provider(&report, "refresh-reuse")
            .fact("token_lifetime")
            .unwrap()
            .run_differs
    );
}
