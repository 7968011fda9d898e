//! The renderers, on a model holding every kind of awkward text.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Cursor;

use grantspec_report::*;

const NASTY: &str = "<script>alert(\"x\")</script> & 'quotes' | pipes `code|span` *stars*";

fn caps(names: &[&str], profile: &str, declared: &[&str], accepted: &[&str]) -> Vec<Capability> {
    names
        .iter()
        .map(|name| {
            let mut c = Capability::new(*name, *name == profile, declared.contains(name));
            if accepted.contains(name) {
                c.observed = Observed::Accepted;
                c.evidence.push(format!("p::{name}_case"));
            }
            c
        })
        .collect()
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
            &GRANTS,
            "",
            &["client_credentials"],
            &["client_credentials"],
        ),
        body_encodings: caps(&BODY_ENCODINGS, "json", &["json"], &["json"]),
        client_auth: caps(&CLIENT_AUTH, "post", &["post", "basic"], &["post"]),
        token_type: TokenTypeReport {
            declared: Some("Bearer".into()),
            assume_bearer_when_missing: false,
            observed: vec!["Bearer".into()],
            observed_missing: false,
        },
        expiry: ExpiryReport {
            style: "expires_in".into(),
            envelope: None,
            declared_lifetime: 600,
            observed_members: vec!["expires_in".into()],
            observed_lifetimes: vec![600],
        },
        refresh: RefreshReport {
            declared: Some("rotate".into()),
            observed: Some("rotate".into()),
            evidence: vec![format!("{id}::refresh")],
        },
        errors: ErrorFormatReport {
            format: "rfc6749".into(),
            observed: vec!["rfc6749".into()],
        },
        rfc: RfcReport::default(),
        deviations: vec!["json-request-body".into()],
        notes: vec![format!("The docs say `GET <<base>>/token`; {NASTY}")],
        differences: Vec::new(),
        outcome: Tally::default(),
        cases: Vec::new(),
    }
}

/// Two providers: one all green, one with a failure, a skip and RFC results,
/// with hostile text in every free-text field.
fn sample() -> Compatibility {
    let mut report = Compatibility::new("grantspec 0.1.0", Target::Mock);
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
    });
    bad.cases.push(CaseResult {
        name: "live_only".into(),
        description: None,
        outcome: CaseOutcome::Skipped,
        failure_kind: None,
        message: None,
        skip_reason: Some("needs environment variable ZETA_<ID> & \"more\"".into()),
    });
    bad.cases.push(CaseResult {
        name: "wrong_secret_rejected".into(),
        description: None,
        outcome: CaseOutcome::Passed,
        failure_kind: None,
        message: None,
        skip_reason: None,
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
    bad.client_auth[0].observed = Observed::Rejected;
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
    assert!(json.contains("\"format_version\": 1"), "{json}");
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
    ] {
        assert!(
            page.contains(&format!("data-key=\"{key}\" title=")),
            "sortable column {key}"
        );
    }
    assert_eq!(page.matches("<th scope=\"col\" data-key=").count(), 20);
    assert_eq!(page.matches("<button type=\"button\">").count(), 20);
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
            "| [Alpha API](#provider-alpha) `alpha` | ✔ | – | – | – | – | – | ✔★ | ○ | ✔★ | – |"
        ),
        "{md}"
    );
    // Refused though declared: ✘ with the contradiction mark.
    assert!(
        md.contains("`zeta-shop` | ✔ | – | – | – | – | – | ✔★ | ✘! | ✔★ | – |"),
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
    assert!(md.contains("- The docs say `GET <<base>>/token`;"), "{md}");
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
    let dir = std::env::temp_dir().join(format!("grantspec-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
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
    std::fs::remove_dir_all(&dir).unwrap();
}
