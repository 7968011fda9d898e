//! The renderers, on a model holding every kind of awkward text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Cursor;

use grantspec_report::*;

const NASTY: &str = "<script>alert(\"x\")</script> & 'quotes' | pipes `code|span` *stars*";

/// The grant columns of the sample report, as the runner lists them.
const GRANT_COLUMNS: [&str; 5] = [
    "client_credentials",
    "password",
    "refresh_token",
    "authorization_code",
    "implicit",
];

fn caps(names: &[&str], profile: &str, declared: &[&str], accepted: &[&str]) -> Vec<Capability> {
    names
        .iter()
        .map(|name| {
            let mut c = Capability::new(*name, *name == profile, declared.contains(name));
            if accepted.contains(name) {
                c.run = Acceptance::Accepted;
                c.evidence.push(format!("p::{name}_case"));
            }
            c
        })
        .collect()
}

fn fact(key: &str, spec: &str, source: Provenance, run: Option<&str>) -> Fact {
    Fact {
        key: key.into(),
        about: format!("about {key}"),
        spec: spec.into(),
        source,
        run: run.map(Into::into),
        run_differs: run.is_some_and(|r| r != spec),
        live: None,
    }
}

fn provider(id: &str, name: &str) -> ProviderReport {
    ProviderReport {
        id: id.to_owned(),
        name: name.to_owned(),
        docs: Some("https://example.com/docs?a=1&b=2".to_owned()),
        target: Target::Mock,
        endpoint: Endpoint {
            method: "POST".into(),
            path: "/oauth/token".into(),
            renamed: BTreeMap::from([("scope".to_owned(), "scopes".to_owned())]),
            lists: "space_joined".into(),
        },
        grants: caps(
            &GRANT_COLUMNS,
            "",
            &["client_credentials"],
            &["client_credentials"],
        ),
        body_encodings: caps(&BODY_ENCODINGS, "json", &["json"], &["json"]),
        client_auth: caps(&CLIENT_AUTH, "post", &["post", "basic"], &["post"]),
        token_type: TokenTypeReport {
            declared: Some("Bearer".into()),
            assume_bearer_when_missing: false,
            run: vec!["Bearer".into()],
            run_missing: false,
        },
        expiry: ExpiryReport {
            style: "expires_in".into(),
            envelope: None,
            declared_lifetime: 600,
            declared_rules: Vec::new(),
            run_members: vec!["expires_in".into()],
            run_lifetimes: vec![600],
            run_by_grant: Vec::new(),
        },
        refresh: RefreshReport {
            declared: Some(RefreshBehaviour::Rotate),
            run: Some(RefreshSeen::Told(RefreshBehaviour::Rotate)),
            evidence: vec![format!("{id}::refresh")],
            observations: vec![format!(
                "{id}::refresh: a refresh answered a new refresh token"
            )],
        },
        errors: ErrorFormatReport {
            format: "rfc6749".into(),
            run: vec!["rfc6749".into()],
        },
        dialect: Dialect {
            encoding: "form".into(),
            renamed_members: vec!["access_token → accessToken".into()],
            errors_with_status: Some(200),
            token_placement: "query access_token".into(),
        },
        rfc: RfcReport::default(),
        deviations: vec!["json-request-body".into()],
        live_only: false,
        notes: vec![
            NoteReport {
                text: format!("The docs say `GET <<base>>/token`; {NASTY}"),
                basis: NoteBasis::Documented,
                on: None,
            },
            NoteReport {
                text: format!("GET is refused; {NASTY}"),
                basis: NoteBasis::Observed,
                on: Some("2026-11-20".into()),
            },
        ],
        quirks: vec![QuirkReport {
            id: "missing-grant-type-unsupported".into(),
            note: NoteReport {
                text: format!("No grant_type is `unsupported_grant_type`; {NASTY}"),
                basis: NoteBasis::Observed,
                on: None,
            },
            case: Some("get_rejected".into()),
        }],
        run: RunSource {
            kind: RunKind::Emulated,
            at: None,
        },
        facts: vec![
            fact(
                "grant.client_credentials",
                "accepted",
                Provenance::Documented {
                    citation: format!("\"grant_type=client_credentials\" (example); {NASTY}"),
                    docs: Some("https://example.com/docs?a=1&b=2".into()),
                },
                Some("accepted"),
            ),
            fact(
                "client_auth.basic",
                "accepted",
                Provenance::Assumed {
                    reason: format!("the page shows only post; {NASTY}"),
                },
                None,
            ),
            fact(
                "token_type",
                "Bearer",
                Provenance::Assumed {
                    reason: "the spec names no source".into(),
                },
                Some("Bearer"),
            ),
        ],
        contradictions: vec![ContradictionReport {
            id: "method".into(),
            about: format!("the method; {NASTY}"),
            ways: vec![
                WayReport {
                    says: "GET".into(),
                    quote: format!("GET <<base>>/token {NASTY}"),
                    location: "text".into(),
                    case: "get_rejected".into(),
                    run: WayOutcome::Refused,
                    live: None,
                },
                WayReport {
                    says: "POST".into(),
                    quote: "--request POST".into(),
                    location: "example".into(),
                    case: "client_credentials".into(),
                    run: WayOutcome::Accepted,
                    live: None,
                },
            ],
            live_at: None,
        }],
        differences: Vec::new(),
        live_differences: Vec::new(),
        outcome: Tally::default(),
        cases: Vec::new(),
    }
}

/// Two providers: one all green, one with a failure, a skip and RFC results,
/// with hostile text in every free-text field.
fn sample() -> Compatibility {
    let mut report = Compatibility::new("grantspec 0.1.0", Target::Mock);
    report.grants = GRANT_COLUMNS.iter().map(|g| (*g).to_owned()).collect();
    report.generated_at = Some("2026-01-02T03:04:05Z".into());

    let mut good = provider("alpha", "Alpha API");
    for name in ["client_credentials", "wrong_secret_rejected"] {
        good.cases.push(CaseResult {
            name: name.into(),
            description: Some(format!("{name} works")),
            outcome: CaseOutcome::Passed,
            failure_kind: None,
            message: None,
            skip_reason: None,
            mock_vs_live: (name == "client_credentials").then(String::new),
        });
    }

    let mut bad = provider("zeta-shop", &format!("Zeta {NASTY}"));
    bad.docs = Some("javascript:alert(1)".into());
    bad.cases.push(CaseResult {
        name: "client_credentials".into(),
        description: Some(NASTY.into()),
        outcome: CaseOutcome::Failed,
        failure_kind: Some("case".into()),
        message: Some(format!(
            "case zeta-shop::client_credentials failed at step 1 of 1 (client_credentials)\n\nmismatches:\n  /note: expected <absent>, got \"a&b\"\n\n--- expected\n+++ actual\n@@ -1,3 +1,3 @@\n status: 200\n-  \"note\": \"<absent>\"\n+  \"note\": \"{NASTY}\"\n"
        )),
        skip_reason: None,
        mock_vs_live: None,
    });
    bad.cases.push(CaseResult {
        name: "live_only".into(),
        description: None,
        outcome: CaseOutcome::Skipped,
        failure_kind: None,
        message: None,
        skip_reason: Some("needs environment variable ZETA_<ID> & \"more\"".into()),
        mock_vs_live: None,
    });
    bad.cases.push(CaseResult {
        name: "wrong_secret_rejected".into(),
        description: None,
        outcome: CaseOutcome::Passed,
        failure_kind: None,
        message: None,
        skip_reason: None,
        mock_vs_live: Some(format!(
            "--- mock\n+++ live\n@@ -2,3 +2,3 @@\n status: 401\n-  \"error_description\": \"Client authentication failed.\"\n+  \"error_description\": \"{NASTY}\"\n"
        )),
    });
    bad.rfc.record(
        "RFC6749-5.1-token-type",
        "RFC6749-5.1",
        Severity::Failure,
        "token_type is present",
        CheckOutcome::Fail,
        "zeta-shop::client_credentials",
        "no <token_type> member",
    );
    bad.rfc
        .drift
        .push("undeclared deviation `missing-token-type` & more".into());
    bad.client_auth[0].run = Acceptance::Rejected;
    bad.facts[1].run = Some("refused".into());
    bad.facts[1].run_differs = true;
    bad.differences
        .push("client auth `basic`: declared, but <refused> in this run".into());

    for p in [&mut good, &mut bad] {
        for c in &p.cases {
            p.outcome.count(c.outcome);
        }
        report.summary.add(p.outcome);
    }
    report.providers = vec![good, bad];
    report.summary.count(CaseOutcome::Failed);
    report.spec_errors.push(SpecFileError {
        trial: "broken::spec".into(),
        file: "specs/broken.yaml".into(),
        message: "specs/broken.yaml:3:5: unknown field `<x>`".into(),
    });
    report
}

#[test]
fn json_round_trips_with_its_format_version() {
    let report = sample();
    let json = to_json(&report);
    assert!(
        json.contains(&format!("\"format_version\": {FORMAT_VERSION}")),
        "{json}"
    );
    assert_eq!(from_json(&json).unwrap(), report);
}

#[test]
fn html_escapes_every_text_and_links_only_http() {
    let page = to_html(&sample());
    // Exactly the page's own two scripts; the hostile text never becomes markup.
    assert_eq!(page.matches("<script>").count(), 2, "{page}");
    assert!(!page.contains("<script>alert"));
    assert!(
        page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;")
    );
    assert!(page.contains("expected &lt;absent&gt;, got &quot;a&amp;b&quot;"));
    assert!(page.contains("ZETA_&lt;ID&gt; &amp; &quot;more&quot;"));
    assert!(page.contains("href=\"https://example.com/docs?a=1&amp;b=2\""));
    assert!(!page.contains("href=\"javascript:"), "only http(s) links");
    assert!(page.contains("javascript:alert(1)"), "shown as text");
}

#[test]
fn html_is_self_contained() {
    let page = to_html(&sample());
    for external in ["<link", " src=", "@import", "url(", "<iframe", "<img"] {
        assert!(!page.contains(external), "{external} in the page");
    }
    // The only links go to the page itself or to the docs.
    for (at, _) in page.match_indices("href=\"") {
        let target = &page[at + 6..];
        assert!(
            target.starts_with('#') || target.starts_with("https://example.com/docs"),
            "{}",
            &target[..40.min(target.len())]
        );
    }
}

#[test]
fn html_has_sort_filter_and_expandable_failures() {
    let page = to_html(&sample());
    assert!(page.contains("<input type=\"search\" id=\"filter\""));
    assert!(page.contains("<table id=\"matrix\">"));
    for key in [
        "provider",
        "grant-client_credentials",
        "body-json",
        "auth-basic",
        "rfc",
        "failed",
        "encoding",
        "members",
        "errors_status",
        "placement",
    ] {
        assert!(
            page.contains(&format!("data-key=\"{key}\" title=")),
            "sortable column {key}"
        );
    }
    assert_eq!(page.matches("<th scope=\"col\" data-key=").count(), 28);
    assert_eq!(page.matches("<button type=\"button\">").count(), 28);
    // The dialect columns of the sample provider.
    for cell in [
        ">form</td>",
        ">access_token → accessToken</td>",
        ">yes, HTTP 200</td>",
        ">query access_token</td>",
    ] {
        assert!(page.contains(cell), "dialect cell {cell}");
    }
    assert!(page.contains("<tr data-provider=\"alpha\">"));
    assert!(page.contains("<tr data-provider=\"zeta-shop\">"));
    assert!(page.contains("id=\"provider-zeta-shop\""));
    assert_eq!(page.matches("<details>").count(), 1);
    assert!(
        page.contains("<span class=\"del\">-  &quot;note&quot;: &quot;&lt;absent&gt;&quot;</span>")
    );
    assert!(page.contains("dataset.consoleErrors"));
    assert!(
        page.find("dataset.consoleErrors") < page.find("<style>"),
        "the error hook runs first"
    );
    assert!(page.contains("params.filter") && page.contains("params.sort"));
    // RFC results and drift are shown; an unevaluated provider says so.
    assert!(page.contains("RFC6749-5.1-token-type"));
    assert!(page.contains("no &lt;token_type&gt; member"));
    assert!(page.contains("RFC checks were not evaluated in this run"));
}

#[test]
fn markdown_matrix_has_a_row_per_provider_and_escapes_cells() {
    let md = to_markdown(&sample());
    assert!(md.contains(
        "| provider | `client_credentials` | `password` | `refresh_token` | `authorization_code` | `implicit` | body `form` | body `json` | auth `basic` | auth `post` | auth `none` |"
    ), "{md}");
    assert!(
        md.contains("|---|:-:|:-:|:-:|:-:|:-:|:-:|:-:|:-:|:-:|:-:|"),
        "{md}"
    );
    assert!(
        md.contains(
            "| [Alpha API](#provider-alpha) `alpha` | ✔ D | – | – | – | – | – | ✔★ | ○ A | ✔★ | – |"
        ),
        "{md}"
    );
    // Refused though declared: ✘ with the contradiction mark.
    assert!(
        md.contains("`zeta-shop` | ✔ D | – | – | – | – | – | ✔★ | ✘! A | ✔★ | – |"),
        "{md}"
    );
    // The hostile name: no raw HTML, pipes escaped, code spans kept.
    assert!(md.contains("[Zeta &lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; 'quotes' \\| pipes `code\\|span` \\*stars\\*](#provider-zeta-shop)"), "{md}");
    // Raw text shows only inside fenced code blocks, where it is literal.
    let outside_fences: String = md.split("\n```").step_by(2).collect::<Vec<_>>().join("\n");
    assert!(!outside_fences.contains("<script>"), "{outside_fences}");
    assert!(md.contains("<a id=\"provider-zeta-shop\"></a>"));
    // The failure is a fenced diff, verbatim.
    assert!(
        md.contains("```diff\ncase zeta-shop::client_credentials failed"),
        "{md}"
    );
    assert!(md.contains("-  \"note\": \"<absent>\""), "{md}");
    assert!(md.contains("RFC checks were not evaluated in this run"));
    assert!(
        md.contains(
            "| RFC6749-5.1 | `RFC6749-5.1-token-type` token\\_type is present | failure | fail |"
        ),
        "{md}"
    );
    assert!(
        md.contains("- undeclared deviation `missing-token-type` &amp; more"),
        "{md}"
    );
    assert!(
        md.contains("(needs environment variable ZETA\\_&lt;ID&gt; &amp; \"more\")"),
        "{md}"
    );
    assert!(
        md.contains("- [documented] The docs say `GET <<base>>/token`;"),
        "{md}"
    );
}

#[test]
fn mock_vs_live_snapshots_are_shown_labelled_and_never_as_failures() {
    let report = sample();
    let page = to_html(&report);
    assert!(
        page.contains("<details class=\"mock-vs-live\"><summary>mock vs live snapshot: 2 lines differ</summary><p class=\"muted\">The case&#39;s stored snapshots on the two targets, compared (--- mock, +++ live). Not a failure:"),
        "{page}"
    );
    assert!(
        page.contains(
            "<span class=\"add\">+  &quot;error_description&quot;: &quot;&lt;script&gt;alert"
        ),
        "the diff is escaped: {page}"
    );
    assert!(
        page.contains("<div class=\"mock-vs-live muted\">mock vs live snapshot: the same</div>")
    );
    // The case it belongs to still passed, and is the only one of its provider
    // with a diff; no failure summary shows it.
    let zeta = &page[page.find("id=\"provider-zeta-shop\"").unwrap()..];
    let row = &zeta[zeta
        .find("<tr data-case=\"wrong_secret_rejected\"><td class=\"outcome passed\">")
        .unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("mock-vs-live"), "{row}");
    assert_eq!(page.matches("<details class=\"mock-vs-live\">").count(), 1);

    let md = to_markdown(&report);
    assert!(md.contains("### Mock vs live snapshots\n"), "{md}");
    assert!(
        md.contains("The same on both targets: `client_credentials`."),
        "{md}"
    );
    assert!(
        md.contains("#### `wrong_secret_rejected`: mock vs live snapshot, 2 lines differ\n\n```diff\n--- mock\n+++ live\n"),
        "{md}"
    );
    assert!(!md.contains("`wrong_secret_rejected` failed"), "{md}");
    let json = to_json(&report);
    assert!(
        json.contains("\"mock_vs_live\": \"--- mock\\n+++ live"),
        "{json}"
    );
}

#[test]
fn declared_deviations_the_mock_does_not_emulate_are_noted_not_failed() {
    let mut report = sample();
    report.providers[0].rfc.evaluated = true;
    report.providers[0].rfc.not_emulated = vec!["expires-in-as-string".into()];
    let md = to_markdown(&report);
    assert!(
        md.contains("| 1 declared (1 not emulated by the mock) |"),
        "{md}"
    );
    assert!(
        md.contains("Declared deviations not emulated by the mock, so not judged on the mock target (a live run judges them): `expires-in-as-string`"),
        "{md}"
    );
    assert!(md.contains("Deviation drift: none."), "{md}");
    let page = to_html(&report);
    assert!(
        page.contains("<p class=\"not-emulated\">Declared deviations not emulated by the mock, so not judged on the mock target (a live run judges them): <code>expires-in-as-string</code></p>"),
        "{page}"
    );
    assert_eq!(from_json(&to_json(&report)).unwrap(), report);
}

#[test]
fn a_live_only_provider_is_marked_and_declares_nothing_beyond_its_profile() {
    let mut report = sample();
    let p = &mut report.providers[0];
    p.live_only = true;
    p.token_type.declared = None;
    p.token_type.run.clear();
    p.expiry.declared_lifetime = 0;
    p.refresh.declared = None;
    p.refresh.run = Some(RefreshSeen::Told(RefreshBehaviour::Rotate));
    // Accepted by the run, though the spec declares no seed.
    p.grants[1].run = Acceptance::Accepted;
    let md = to_markdown(&report);
    assert!(
        md.contains("[Alpha API](#provider-alpha) `alpha` · live-only |"),
        "{md}"
    );
    assert!(
        md.contains("**Live-only.** live-only: the spec has no `mock` section"),
        "{md}"
    );
    assert!(
        md.contains("- `token_type`: the spec says nothing (live-only);"),
        "{md}"
    );
    assert!(md.contains("the spec says no lifetime (live-only)"), "{md}");
    assert!(
        md.contains("| ✔ D | ✔ | – |"),
        "accepted without a declaration is no contradiction for a live-only provider: {md}"
    );
    assert!(md.contains("| rotate (seen) | rfc6749 |"), "{md}");
    let page = to_html(&report);
    assert!(
        page.contains(
            "<span class=\"live-only\" title=\"live-only: the spec has no `mock` section"
        ),
        "{page}"
    );
    assert!(
        page.contains("<p class=\"live-only\"><b>Live-only.</b>"),
        "{page}"
    );
    assert!(
        page.contains("<td class=\"text\"><code>not declared (live-only)</code>"),
        "{page}"
    );
}

#[test]
fn junit_is_read_by_a_junit_parser_with_counts_failures_and_skips() {
    let report = sample();
    let xml = to_junit(&report);
    let parsed = junit_parser::from_reader(Cursor::new(xml.as_bytes())).unwrap();
    assert_eq!(parsed.tests, 6, "5 cases and 1 broken spec file");
    assert_eq!(parsed.failures, 2);
    assert_eq!(parsed.skipped, 1);
    assert_eq!(parsed.suites.len(), 3);

    let alpha = &parsed.suites[0];
    assert_eq!(alpha.name, "alpha");
    assert_eq!((alpha.tests, alpha.failures, alpha.skipped), (2, 0, 0));
    assert_eq!(alpha.cases.len(), 2);
    assert!(alpha.cases.iter().all(|c| c.status.is_success()));
    assert_eq!(alpha.cases[0].classname.as_deref(), Some("alpha"));
    assert_eq!(alpha.cases[0].original_name, "client_credentials");
    assert_eq!(alpha.properties.hashmap["target"], "mock");

    let zeta = &parsed.suites[1];
    assert_eq!((zeta.tests, zeta.failures, zeta.skipped), (3, 1, 1));
    assert_eq!(zeta.properties.hashmap["provider"], format!("Zeta {NASTY}"));
    let failed = &zeta.cases[0];
    assert_eq!(failed.name, "zeta-shop::client_credentials");
    assert!(failed.status.is_failure());
    let failure = failed.status.failure_as_ref();
    assert_eq!(
        failure.message,
        "case zeta-shop::client_credentials failed at step 1 of 1 (client_credentials)"
    );
    // The whole message comes back byte for byte through the escaping.
    assert_eq!(
        failure.text,
        report.providers[1].cases[0].message.clone().unwrap()
    );
    let skipped = &zeta.cases[1];
    assert!(skipped.status.is_skipped());
    assert_eq!(
        skipped.status.skipped_as_ref().message,
        "needs environment variable ZETA_<ID> & \"more\""
    );
    assert!(zeta.cases[2].status.is_success());

    let specs = &parsed.suites[2];
    // Named as libtest names the trial: `broken::spec`.
    assert_eq!(specs.cases[0].classname.as_deref(), Some("broken"));
    assert_eq!(specs.cases[0].original_name, "spec");
    assert!(specs.cases[0].status.is_failure());
}

#[test]
fn write_all_writes_the_four_files() {
    let dir = grantspec_test_support::temp_dir("report");
    let paths = write_all(&sample(), &dir).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, FILES);
    for path in &paths {
        assert!(
            std::fs::metadata(path).unwrap().len() > 100,
            "{}",
            path.display()
        );
    }
}

/// The sample as a live run dated 2026-02-03 would report it: Basic refused
/// and the documented GET accepted.
fn live_sample() -> Compatibility {
    let mut live = sample();
    live.target = Target::Live;
    live.generated_at = Some("2026-02-03T04:05:06Z".into());
    for p in &mut live.providers {
        p.target = Target::Live;
        p.run = RunSource {
            kind: RunKind::ObservedLive,
            at: live.generated_at.clone(),
        };
        p.facts[1].run = Some("refused".into());
        p.facts[1].run_differs = true;
        p.contradictions[0].ways[0].run = WayOutcome::Accepted;
    }
    live
}

#[test]
fn provenance_and_contradictions_are_rendered_in_every_format() {
    let mut report = sample();
    // Two values in one run, joined: the pipe stays inside its code span.
    report.providers[0].facts[2].run = Some("Bearer | (absent)".into());
    report.providers[0].facts[2].run_differs = true;
    let md = to_markdown(&report);
    assert!(md.contains("### Where each fact comes from"), "{md}");
    assert!(
        md.contains("| fact | the spec says | source | emulated by the mock |"),
        "{md}"
    );
    assert!(
        md.contains("| `client_auth.basic` | `accepted` | A assumed: the page shows only post;"),
        "{md}"
    );
    assert!(md.contains("⚑ method: mock follows example"), "{md}");
    assert!(
        md.contains("| GET | text | GET &lt;&lt;base&gt;&gt;/token"),
        "{md}"
    );
    assert!(md.contains("bugs in the mock"), "{md}");
    assert!(md.contains("| `Bearer \\| (absent)` ! |"), "{md}");
    assert!(!md.contains("observed nothing"), "{md}");
    let page = to_html(&report);
    assert!(page.contains("<abbr class=\"src documented\" title=\"documented: &quot;grant_type=client_credentials&quot; (example); &lt;script&gt;"), "{page}");
    assert!(page.contains("<abbr class=\"src assumed\""));
    assert!(page.contains("data-contradiction=\"method\""));
    assert!(page.contains("<tr data-fact=\"token_type\" data-source=\"assumed\">"));
    assert!(
        !page.contains("observed live"),
        "a mock report observes nothing live"
    );
    let json = to_json(&report);
    assert!(json.contains("\"kind\": \"emulated\""), "{json}");
    assert!(json.contains("\"kind\": \"assumed\""), "{json}");
}

#[test]
fn a_folded_live_report_stands_beside_the_spec_and_its_drift_is_highlighted() {
    let live_json = to_json(&live_sample());
    let live = read_live_report(&live_json).unwrap();
    let mut report = sample();
    report.fold_live(&live).unwrap();
    let alpha = &report.providers[0];
    let basic = alpha.fact("client_auth.basic").unwrap();
    let seen = basic.live.as_ref().unwrap();
    assert_eq!(seen.value.as_deref(), Some("refused"));
    assert_eq!(seen.at, "2026-02-03T04:05:06Z");
    assert!(seen.differs);
    assert!(
        !alpha
            .fact("token_type")
            .unwrap()
            .live
            .as_ref()
            .unwrap()
            .differs
    );
    assert_eq!(
        alpha.live_differences.len(),
        1,
        "{:?}",
        alpha.live_differences
    );
    assert_eq!(
        alpha.contradictions[0].ways[0].live,
        Some(WayOutcome::Accepted)
    );

    let md = to_markdown(&report);
    assert!(md.contains("| ✔ D · L✔ | – |"), "{md}");
    assert!(md.contains("○ A · L✘!"), "{md}");
    assert!(
        md.contains("live confirmed text + example (2026-02-03T04:05:06Z)"),
        "{md}"
    );
    assert!(md.contains("observed live 2026-02-03T04:05:06Z |"), "{md}");
    assert!(md.contains("`refused` ! drift"), "{md}");
    assert!(
        md.contains("[Alpha API](#provider-alpha) `alpha` · L! 1 live disagreement(s) |"),
        "{md}"
    );
    let page = to_html(&report);
    assert!(page.contains("<span class=\"live differs\" title=\"observed live 2026-02-03T04:05:06Z: refused; the spec says otherwise\">L✘!</span>"), "{page}");
    let json = to_json(&report);
    assert!(json.contains("\"live_report\": {"), "{json}");
    assert!(json.contains("\"differs\": true"), "{json}");
    assert_eq!(from_json(&json).unwrap(), report);
}

#[test]
fn only_a_dated_live_report_of_this_format_is_folded_in() {
    let mock = to_json(&sample());
    assert_eq!(read_live_report(&mock), Err(LiveReportError::NotLive));
    // Version 2 held the refresh behaviour as free text and one lifetime.
    let old = to_json(&live_sample()).replacen(
        &format!("\"format_version\": {FORMAT_VERSION}"),
        "\"format_version\": 2",
        1,
    );
    assert_eq!(
        read_live_report(&old),
        Err(LiveReportError::FormatVersion { found: 2 })
    );
    let mut undated = live_sample();
    undated.generated_at = None;
    assert_eq!(
        read_live_report(&to_json(&undated)),
        Err(LiveReportError::Undated)
    );
    assert!(matches!(
        read_live_report("{\"hello\": 1}"),
        Err(LiveReportError::NotAReport(_))
    ));
    let mut live = live_sample();
    assert_eq!(
        live.fold_live(&live_sample()),
        Err(LiveReportError::IntoLive)
    );
}

#[test]
fn notes_say_what_they_rest_on_and_quirks_are_listed_with_their_case() {
    let mut report = sample();
    report.providers[0].cases.push(CaseResult {
        name: "get_rejected".into(),
        description: None,
        outcome: CaseOutcome::Passed,
        failure_kind: None,
        message: None,
        skip_reason: None,
        mock_vs_live: None,
    });
    let md = to_markdown(&report);
    assert!(md.contains("- [documented] The docs say"), "{md}");
    assert!(
        md.contains("- [observed on 2026-11-20] GET is refused;"),
        "{md}"
    );
    assert!(md.contains("### Quirks no check reports"), "{md}");
    assert!(
        md.contains(
            "| `missing-grant-type-unsupported` | No grant\\_type is `unsupported_grant_type`;"
        ),
        "{md}"
    );
    assert!(
        md.contains("| observed | case `get_rejected` passed: shown by the mock |"),
        "{md}"
    );
    let page = to_html(&report);
    assert!(page.contains("<h3>Quirks no check reports</h3>"), "{page}");
    assert!(
        page.contains("[observed on 2026-11-20] GET is refused;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert"), "escaped");

    report.providers[0].cases.last_mut().unwrap().outcome = CaseOutcome::Failed;
    let md = to_markdown(&report);
    assert!(
        md.contains("case `get_rejected` failed: the mock may no longer do this"),
        "{md}"
    );
    let json = to_json(&report);
    assert!(json.contains("\"basis\": \"observed\""), "{json}");
    assert_eq!(from_json(&json).unwrap(), report);
}

/// A provider whose spec declares lifetimes by grant and client and the
/// `rotate` refresh behaviour, run with `run` as what its refreshes showed.
fn refreshing(run: RefreshSeen) -> Compatibility {
    let mut report = sample();
    let p = &mut report.providers[0];
    p.expiry.declared_lifetime = 3600;
    p.expiry.declared_rules = vec![
        LifetimeRule {
            client: None,
            grant: Some("client_credentials".into()),
            seconds: 600,
        },
        LifetimeRule {
            client: Some("app".into()),
            grant: Some("refresh_token".into()),
            seconds: 60,
        },
    ];
    p.expiry.run_by_grant = vec![
        LifetimeSeen {
            grant: "client_credentials".into(),
            client: None,
            seconds: 600,
            declared: 600,
        },
        LifetimeSeen {
            grant: "refresh_token".into(),
            client: Some("app".into()),
            seconds: 3600,
            declared: 60,
        },
    ];
    p.refresh.run = Some(run);
    p.refresh.observations = vec![
        "alpha::refresh: a refresh answered a new refresh token".into(),
        "alpha::replay: a used refresh token was refused when presented again".into(),
    ];
    report
}

#[test]
fn refresh_behaviours_and_lifetimes_by_grant_are_shown_in_every_format() {
    use RefreshBehaviour::*;
    let undecided = refreshing(RefreshSeen::from_possible(vec![RotateRevokeFamily, Rotate]));
    assert_eq!(
        undecided.providers[0].refresh.run,
        Some(RefreshSeen::OneOf(vec![Rotate, RotateRevokeFamily]))
    );
    let md = to_markdown(&undecided);
    assert!(
        md.contains("| rotate (seen: rotate or rotate\\_revoke\\_family) |"),
        "the declared behaviour is among those left: no contradiction\n{md}"
    );
    assert!(
        md.contains("not enough evidence to tell rotate from rotate\\_revoke\\_family: no case presents the newest refresh token"),
        "{md}"
    );
    assert!(
        md.contains("after a used refresh token was refused); seen: refresh: a refresh answered a new refresh token; replay: a used refresh token was refused when presented again"),
        "{md}"
    );
    assert!(
        md.contains("the spec says lifetimes 3600 s; client\\_credentials 600 s; client `app` refresh\\_token 60 s;"),
        "{md}"
    );
    assert!(
        md.contains("lifetimes client\\_credentials 600 s, client `app` refresh\\_token 3600 s (declared 60 s)"),
        "{md}"
    );
    let page = to_html(&undecided);
    assert!(
        page.contains("not enough evidence to tell rotate from rotate_revoke_family"),
        "{page}"
    );
    assert!(
        page.contains("client `app` refresh_token 3600 s (declared 60 s)"),
        "{page}"
    );
    let json = to_json(&undecided);
    assert!(json.contains("\"one_of\": [\n"), "{json}");
    assert!(json.contains("\"rotate_revoke_family\""), "{json}");
    assert_eq!(from_json(&json).unwrap(), undecided);

    // Three left: what would tell them apart is a replay.
    let three = to_markdown(&refreshing(RefreshSeen::from_possible(vec![
        Rotate,
        RotateKeepOld,
        RotateRevokeFamily,
    ])));
    assert!(
        three.contains("not enough evidence to tell rotate, rotate\\_keep\\_old and rotate\\_revoke\\_family apart: no case presents a used refresh token again"),
        "{three}"
    );

    // Told another behaviour than declared, or contradicting cases: a
    // difference in the matrix.
    let other = to_markdown(&refreshing(RefreshSeen::Told(RotateRevokeFamily)));
    assert!(
        other.contains("| rotate, seen rotate\\_revoke\\_family ! |"),
        "{other}"
    );
    let mixed = to_markdown(&refreshing(RefreshSeen::from_possible(Vec::new())));
    assert!(mixed.contains("| rotate, seen mixed ! |"), "{mixed}");
    assert!(mixed.contains("the cases contradict each other"), "{mixed}");
    let same = to_markdown(&refreshing(RefreshSeen::Told(Rotate)));
    assert!(same.contains("| rotate (seen) |"), "{same}");
}

#[test]
fn refresh_seen_says_what_the_possible_behaviours_leave() {
    use RefreshBehaviour::*;
    assert_eq!(RefreshSeen::from_possible(vec![]), RefreshSeen::Mixed);
    assert_eq!(
        RefreshSeen::from_possible(vec![Reuse, Reuse]),
        RefreshSeen::Told(Reuse)
    );
    let two = RefreshSeen::from_possible(vec![RotateRevokeFamily, Rotate]);
    assert!(two.allows(Rotate) && two.allows(RotateRevokeFamily));
    assert!(!two.allows(RotateKeepOld) && !two.allows(Reuse));
    assert_eq!(two.words(), "rotate or rotate_revoke_family");
    assert!(!RefreshSeen::Mixed.allows(Rotate));
    assert!(RefreshSeen::Told(Reuse).allows(Reuse));
    assert!(!RefreshSeen::Told(Reuse).allows(Rotate));
}

/// A live run judges a fact against its spec by more than the texts (a
/// lifetime by grant, a behaviour among several); folded in beside the
/// same spec, that judgement stands.
#[test]
fn a_folded_live_fact_keeps_the_live_runs_judgement_of_the_same_spec() {
    let lifetimes = |run: &str, differs: bool| {
        let mut live = live_sample();
        let fact = &mut live.providers[0].facts[2];
        fact.key = "token_lifetime".into();
        fact.spec = "3600 s; client_credentials 600 s".into();
        fact.run = Some(run.into());
        fact.run_differs = differs;
        live
    };
    let mut report = sample();
    report.providers[0].facts[2].key = "token_lifetime".into();
    report.providers[0].facts[2].spec = "3600 s; client_credentials 600 s".into();
    report
        .fold_live(&lifetimes("client_credentials 600 s", false))
        .unwrap();
    let seen = report.providers[0]
        .fact("token_lifetime")
        .unwrap()
        .live
        .clone()
        .unwrap();
    assert_eq!(seen.value.as_deref(), Some("client_credentials 600 s"));
    assert!(
        !seen.differs,
        "the run saw what the spec declares for that grant"
    );
    report
        .fold_live(&lifetimes("client_credentials 601 s", true))
        .unwrap();
    assert!(
        report.providers[0]
            .fact("token_lifetime")
            .unwrap()
            .live
            .as_ref()
            .unwrap()
            .differs
    );
    // The spec changed since the live run: only the texts can be compared.
    report.providers[0].facts[2].spec = "600 s".into();
    report
        .fold_live(&lifetimes("client_credentials 600 s", false))
        .unwrap();
    assert!(
        report.providers[0]
            .fact("token_lifetime")
            .unwrap()
            .live
            .as_ref()
            .unwrap()
            .differs
    );
}
