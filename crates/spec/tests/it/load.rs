//! Loading specs: the shipped ones, and every way a spec can be broken.

#![allow(clippy::unwrap_used)]

use std::path::Path;

#[test]
fn shipped_specs_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
    let (specs, errors) = grantspec_spec::load_dir(&dir);
    assert!(errors.is_empty(), "{}", grantspec_spec::SpecErrors(errors));
    assert!(specs.iter().any(|s| s.spec.provider.id == "shopware"));
}

#[test]
fn unknown_key_is_located_with_suggestion() {
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/shopware.yaml"),
    )
    .unwrap();
    let broken = source.replacen("    client_auth: post", "    client_auht: post", 1);
    let error = grantspec_spec::load_str(Path::new("shopware.yaml"), &broken).unwrap_err();
    let text = error.to_string();
    println!("{text}");
    assert!(text.contains("shopware.yaml:12:5"), "{text}");
    assert!(text.contains("did you mean `client_auth`?"), "{text}");
}

#[test]
fn a_live_rate_loads_within_its_bounds_and_is_refused_beyond_them() {
    let with_rate = |rate: &str| {
        shopware_source().replacen(
            "  base_url: ${env:SHOPWARE_BASE_URL}\n",
            &format!("  base_url: ${{env:SHOPWARE_BASE_URL}}\n  rate: {rate}\n"),
            1,
        )
    };
    let loaded =
        |rate: &str| grantspec_spec::load_str(Path::new("shopware.yaml"), &with_rate(rate));
    let spec = loaded("{ requests: 10, per_seconds: 1 }").unwrap().spec;
    assert_eq!(
        spec.live.as_ref().unwrap().rate,
        Some(grantspec_spec::Rate {
            requests: 10,
            per_seconds: 1
        })
    );
    let rate = spec
        .live
        .as_ref()
        .unwrap()
        .rate
        .unwrap()
        .request_rate()
        .unwrap();
    assert_eq!(rate.interval(), std::time::Duration::from_millis(100));
    let slowest = loaded("{ requests: 1, per_seconds: 86400 }").unwrap().spec;
    assert_eq!(slowest.live.unwrap().rate.unwrap().per_seconds, 86_400);
    let without = grantspec_spec::load_str(Path::new("shopware.yaml"), &shopware_source());
    assert_eq!(without.unwrap().spec.live.unwrap().rate, None);

    for (rate, message) in [
        (
            "{ requests: 1, per_seconds: 86401 }",
            "`per_seconds` is 86401; a rate's period is 1 to 86400 seconds (a day)",
        ),
        (
            "{ requests: 0, per_seconds: 1 }",
            "`requests` is 0; a rate allows at least 1 request",
        ),
        (
            "{ requests: 4294967296, per_seconds: 1 }",
            "invalid value for `requests`: integer `4294967296`, expected a whole number from 0 to 4294967295",
        ),
        ("{ requests: 1 }", "missing key `per_seconds`"),
        ("10", "wrong type for `rate`"),
    ] {
        let text = loaded(rate).unwrap_err().to_string();
        assert!(text.contains(message), "{rate}: {text}");
        // The line the rate was written on, wherever shopware.yaml puts it.
        let line = with_rate(rate)
            .lines()
            .position(|l| l.trim_start().starts_with("rate:"))
            .unwrap()
            + 1;
        assert!(
            text.contains(&format!("shopware.yaml:{line}:")),
            "{rate}: located at the rate (line {line}): {text}"
        );
    }
}

fn shopware_source() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/shopware.yaml"))
        .unwrap()
}

#[test]
fn unreadable_files_are_reported_not_panicked() {
    let missing = Path::new("no/such/spec.yaml");
    let text = grantspec_spec::load_file(missing).unwrap_err().to_string();
    assert!(text.starts_with("error: cannot read the file: "), "{text}");
    assert!(text.contains("--> no/such/spec.yaml"), "{text}");

    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let text = grantspec_spec::load_file(&folder).unwrap_err().to_string();
    assert!(text.contains("is a folder"), "{text}");
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let cap = usize::try_from(grantspec_spec::MAX_SPEC_BYTES).unwrap();
    let big = vec![b'#'; cap + 1];
    let text = grantspec_spec::load_bytes(Path::new("big.yaml"), &big)
        .unwrap_err()
        .to_string();
    assert!(text.contains("are refused"), "{text}");

    // A sparse file: refused from its size alone, without reading it.
    let dir = grantspec_test_support::temp_dir("spec-big");
    let path = dir.join("big.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(grantspec_spec::MAX_SPEC_BYTES + 1).unwrap();
    let result = grantspec_spec::load_file(&path);
    let text = result.unwrap_err().to_string();
    assert!(text.contains("are refused"), "{text}");
}

#[test]
fn alias_bombs_are_refused_quickly() {
    // Nine levels of nine-fold aliases: 9^9 (387 million) strings if expanded.
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..9 {
        let prev = format!("*a{}", level - 1);
        let items = [prev.as_str(); 9].join(", ");
        bomb.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    // Also after an otherwise valid spec.
    let hidden = format!("{}{bomb}", shopware_source());
    for source in [bomb.as_str(), hidden.as_str()] {
        let started = std::time::Instant::now();
        let text = grantspec_spec::load_str(Path::new("shopware.yaml"), source)
            .unwrap_err()
            .to_string();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "took {:?}",
            started.elapsed()
        );
        assert!(text.contains("alias bomb"), "{text}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let source = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let text = grantspec_spec::load_str(Path::new("deep.yaml"), &source)
        .unwrap_err()
        .to_string();
    assert!(text.contains("nests too deeply"), "{text}");
}

#[test]
fn every_error_of_a_file_is_reported() {
    let broken = shopware_source()
        .replacen("    body: json", "    body: jsn", 1)
        .replacen("grant: password\n", "grant: passwrd\n", 1)
        .replacen("\"${login.refresh_token}\"", "\"${logn.refresh_token}\"", 1)
        .replacen(
            "  - name: wrong_secret_rejected",
            "  - name: password_grant",
            1,
        );
    let errors = grantspec_spec::load_str(Path::new("shopware.yaml"), &broken).unwrap_err();
    let text = errors.to_string();
    for expected in [
        "unknown value `jsn` for `body`",
        "did you mean `json`?",
        "unknown grant `passwrd`",
        "did you mean `password`?",
        "`${logn.refresh_token}` captures from step `logn`",
        "did you mean `${login.refresh_token}`?",
        "duplicate case name `password_grant`",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert_eq!(errors.0.len(), 4, "{text}");
    // In file order, each with a line and column.
    let lines: Vec<usize> = errors.0.iter().map(|e| e.line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    assert!(errors.0.iter().all(|e| e.line > 0 && e.column > 0));
}

#[test]
fn flow_style_and_crlf_specs_are_located_too() {
    let flow = "{ provider: { id: flow, name: F, token_endpoint: { path: /t, body: jsn } },\n  cases: [ { name: a, grant: client_credential }, { name: b, grnat: password } ] }\n";
    let text = grantspec_spec::load_str(Path::new("flow.yaml"), flow)
        .unwrap_err()
        .to_string();
    assert!(text.contains("flow.yaml:1:68"), "{text}");
    assert!(text.contains("flow.yaml:2:30"), "{text}");
    assert!(text.contains("flow.yaml:2:62"), "{text}");
    assert!(text.contains("3 errors"), "{text}");

    let crlf = shopware_source()
        .replacen("    body: json", "    body: jsn", 1)
        .replace('\n', "\r\n");
    let errors = grantspec_spec::load_str(Path::new("shopware.yaml"), &crlf).unwrap_err();
    assert_eq!((errors.0[0].line, errors.0[0].column), (11, 11), "{errors}");
    assert_eq!(errors.0[0].source_line.as_deref(), Some("    body: jsn"));
}

#[test]
fn anchors_and_aliases_still_work() {
    let source = shopware_source().replacen(
        "    with: { client_id: \"${client_id}\", client_secret: not-the-secret }",
        "    with: &wrong { client_id: \"${client_id}\", client_secret: not-the-secret }",
        1,
    );
    let source = source.replacen(
        "    with: { client_id: administration, scope: write, username: \"${username}\", password: wrong-password }",
        "    with: *wrong",
        1,
    );
    grantspec_spec::load_str(Path::new("shopware.yaml"), &source).unwrap();
    // An error next to an alias is still found.
    let broken = source.replacen("    body: json", "    body: jsn", 1);
    let text = grantspec_spec::load_str(Path::new("shopware.yaml"), &broken)
        .unwrap_err()
        .to_string();
    assert!(text.contains("unknown value `jsn`"), "{text}");
}

/// A small deterministic generator, to mutate specs the same way every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(self.0 >> 33).unwrap() % below
    }
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: parses hundreds of truncated and mangled copies of a spec; runs with `cargo test --all-features`"
)]
fn never_panics_on_truncated_or_mangled_specs() {
    let source = shopware_source();
    // Every prefix, at a stride, cut on a character boundary.
    for end in (0..source.len()).step_by(37) {
        if source.is_char_boundary(end) {
            let _ = grantspec_spec::load_str(Path::new("shopware.yaml"), &source[..end]);
        }
    }
    // Random edits: replace a byte by YAML punctuation or a letter.
    let alphabet = b"{}[]:-,#&*!|>'\"\t\n ?%@`xyz0";
    let mut rng = Lcg(42);
    for _ in 0..150 {
        let mut bytes = source.clone().into_bytes();
        for _ in 0..1 + rng.next(3) {
            let at = rng.next(bytes.len());
            bytes[at] = alphabet[rng.next(alphabet.len())];
        }
        let _ = grantspec_spec::load_bytes(Path::new("shopware.yaml"), &bytes);
    }
}

/// Both errors of a 400-case spec are found, each once. That the search
/// costs a few parses per halving rather than one per case is counted, not
/// timed, by the unit test
/// `load::recover::tests::a_long_list_with_two_bad_items_costs_a_few_parses_per_halving`.
#[test]
fn a_long_spec_with_a_few_errors_has_each_of_them_found() {
    let source = shopware_source();
    let (head, cases) = source.split_at(source.find("cases:\n").unwrap() + "cases:\n".len());
    let one = &cases[..cases.find("\n  - name: password_grant").unwrap()];
    let mut long = head.to_owned();
    for index in 0..400 {
        let case = one.replacen(
            "name: client_credentials",
            &format!("name: case_{index}"),
            1,
        );
        let case = match index {
            140 => case.replacen("status: 200", "status: ok", 1),
            380 => case.replacen("grant: client_credentials", "grant: client_credential", 1),
            _ => case,
        };
        long.push_str(&case);
        long.push('\n');
    }
    let valid = long
        .replace("status: ok", "status: 200")
        .replace("grant: client_credential\n", "grant: client_credentials\n");
    let loaded = grantspec_spec::load_str(Path::new("shopware.yaml"), &valid).unwrap();
    assert_eq!(loaded.spec.cases.len(), 400);
    let errors = grantspec_spec::load_str(Path::new("shopware.yaml"), &long).unwrap_err();
    let text = errors.to_string();
    assert_eq!(errors.0.len(), 2, "{text}");
    assert!(text.contains("wrong type for `status`"), "{text}");
    assert!(text.contains("unknown grant `client_credential`"), "{text}");
}

const SHAPES_BASE: &str =
    "provider:\n  id: t\n  name: T\n  token_endpoint: { path: /token }\ncases:\n";

#[test]
fn a_single_request_case_is_its_one_step_and_a_steps_case_keeps_its_steps() {
    let source = format!(
        "{SHAPES_BASE}  - name: one\n    grant: client_credentials\n    with: {{ client_id: a }}\n    expect: {{ status: 200 }}\n  - name: two\n    steps:\n      - {{ id: first, grant: client_credentials }}\n      - {{ advance: 5 }}\n"
    );
    let spec = grantspec_spec::load_str(Path::new("t.yaml"), &source)
        .unwrap()
        .spec;
    let one = &spec.cases[0];
    assert_eq!(one.form, grantspec_spec::CaseForm::Single);
    assert_eq!(one.steps.len(), 1);
    let step = &one.steps[0];
    assert_eq!(step.id, None);
    assert_eq!(
        step.grant,
        Some(grantspec_spec::GrantKind::ClientCredentials)
    );
    assert_eq!(
        step.with.get("client_id"),
        Some(&grantspec_spec::ParamSpec::One("a".into()))
    );
    assert_eq!(
        step.expect.status,
        Some(grantspec_spec::StatusMatcher::Is(200))
    );
    let two = &spec.cases[1];
    assert_eq!(two.form, grantspec_spec::CaseForm::Steps);
    assert_eq!(two.steps.len(), 2);
    assert_eq!(two.steps[0].id.as_deref(), Some("first"));
    assert_eq!(two.steps[1].advance, Some(5));
}

#[test]
fn a_single_request_case_is_located_at_its_own_fields() {
    // Line 6 is the first case's `name`.
    let source = format!(
        "{SHAPES_BASE}  - name: one\n    grant: client_credentials\n    with: {{ client_id: \"${{nope}}\", scope: [\"${{x.y}}\"] }}\n    expect: {{ status: 42 }}\n  - name: both\n    expect: {{ status: 1000 }}\n    steps:\n      - {{ grant: client_credentials, expect: {{ status: 7 }} }}\n"
    );
    let text = grantspec_spec::load_str(Path::new("t.yaml"), &source)
        .unwrap_err()
        .to_string();
    for expected in [
        "undefined variable `nope`\n  --> t.yaml:8:25",
        "captures from step `x`, but this case is a single request\n  --> t.yaml:8:44",
        "`status` 42 is not an HTTP status (100–599)\n  --> t.yaml:9:23",
        "case `both` has `steps`, so its `expect` would be ignored\n  --> t.yaml:11:5",
        "`status` 1000 is not an HTTP status (100–599)\n  --> t.yaml:11:23",
        "`status` 7 is not an HTTP status (100–599)\n  --> t.yaml:13:56",
    ] {
        assert!(text.contains(expected), "{expected}\n\nnot in:\n{text}");
    }
}

/// `token_lifetime` is one number or seconds by grant, on the seed and on a
/// client, and the most specific rule wins.
#[test]
fn lifetimes_by_grant_and_client_resolve_most_specific_first() {
    use grantspec_spec::{GrantKind, TokenLifetime};
    let source = r#"
provider: { id: lifetimes, name: L, token_endpoint: { path: /token } }
mock:
  token_lifetime: { default: 7200, client_credentials: 600, password: 864000 }
  clients:
    - { id: plain, grants: [client_credentials, password, refresh_token] }
    - { id: one_number, grants: [client_credentials, password], token_lifetime: 300 }
    - { id: by_grant, grants: [password, refresh_token], token_lifetime: { refresh_token: 60 } }
    - { id: own_default, grants: [password], token_lifetime: { default: 30, password: 90 } }
cases: []
"#;
    let seed = grantspec_spec::load_str(Path::new("lifetimes.yaml"), source)
        .unwrap()
        .spec
        .mock
        .expect("a seeded spec");
    let client = |id: &str| seed.clients.iter().find(|c| c.id == id);
    let lifetime = |id: &str, grant| seed.token_lifetime_for(client(id), grant);
    use GrantKind::*;
    assert_eq!(lifetime("plain", ClientCredentials), 600);
    assert_eq!(lifetime("plain", Password), 864_000);
    assert_eq!(lifetime("plain", RefreshToken), 7200, "the seed's default");
    assert_eq!(lifetime("one_number", ClientCredentials), 300);
    assert_eq!(lifetime("one_number", Password), 300);
    assert_eq!(lifetime("by_grant", RefreshToken), 60);
    assert_eq!(
        lifetime("by_grant", Password),
        864_000,
        "the seed's, by grant"
    );
    assert_eq!(lifetime("own_default", Password), 90);
    assert_eq!(
        lifetime("own_default", Implicit),
        30,
        "the client's default"
    );
    assert_eq!(
        seed.token_lifetime_for(None, ClientCredentials),
        600,
        "a client the seed does not know"
    );
    assert!(seed.lifetimes_vary());

    // One number, and none at all.
    let one = "provider: { id: one, name: O, token_endpoint: { path: /token } }\nmock: { token_lifetime: 600 }\ncases: []\n";
    let seed = grantspec_spec::load_str(Path::new("one.yaml"), one)
        .unwrap()
        .spec
        .mock
        .expect("a seeded spec");
    assert_eq!(seed.token_lifetime, TokenLifetime::Same(600));
    assert_eq!(seed.token_lifetime_for(None, Password), 600);
    assert!(!seed.lifetimes_vary());
    let none = "provider: { id: none, name: N, token_endpoint: { path: /token } }\nmock: { token_lifetime: { client_credentials: 60 } }\ncases: []\n";
    let seed = grantspec_spec::load_str(Path::new("none.yaml"), none)
        .unwrap()
        .spec
        .mock
        .expect("a seeded spec");
    assert_eq!(
        seed.token_lifetime_for(None, Password),
        grantspec_spec::DEFAULT_TOKEN_LIFETIME
    );
}
