#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The mock's claim of which deviations it emulates
//! ([`grantspec_mock::emulated_deviations`], from a provider's profile and
//! seed) against what it does: spec variants that between them make the
//! mock show every deviation it can, each run through the runner on the
//! mock as any spec is, with cases written here (not the mock's probes).
//! In every variant the deviations the runs show are exactly the claimed
//! ones, and every deviation id of the catalogue is accounted for: claimed
//! (and shown) in some variant, shown by the requests alone (and then the
//! same whatever the answer), or exercised by the variants' cases and shown
//! by none.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use grantspec_conformance::{self as rfc, CHECKS, ExchangeFacts};
use grantspec_runner::{CaseReport, Env, Suite, SuiteConfig};
use grantspec_spec::template::TargetKind;
use grantspec_test_support::temp_dir;
use grantspec_token::{HttpResponse, TransportConfig};

/// What a variant changes.
struct Variant {
    id: &'static str,
    /// Extra keys of `provider.token_endpoint`, in flow style.
    endpoint: &'static str,
    /// Extra keys of `provider` (`errors`, `response`).
    provider: &'static str,
    /// Extra keys of `mock`.
    seed: &'static str,
    /// Clients beside the client-credentials one.
    clients: Clients,
}

#[derive(Clone, Copy, Default)]
struct Clients {
    /// `owner`, a confidential client with the password and refresh grants,
    /// and a user.
    password: bool,
    /// `pub-owner`, a public client with the password and refresh grants.
    public_refresh: bool,
    /// `coder`, with an authorization code to exchange.
    code: bool,
    /// `imp`, with Elastic Path's implicit grant.
    implicit: bool,
    /// Signed client assertions (with a `client_secret_jwt` profile), a
    /// device flow (`tv`) and a token exchange (`xchg`).
    extension: bool,
}

const ALL: Clients = Clients {
    password: true,
    public_refresh: true,
    code: true,
    implicit: true,
    extension: false,
};

const NONE: Clients = Clients {
    password: false,
    public_refresh: false,
    code: false,
    implicit: false,
    extension: false,
};

const EXTENSION: Clients = Clients {
    extension: true,
    ..NONE
};

/// The token exchange policy of the extension variants.
const EXCHANGE: &str = "subject_token_types: [urn:ietf:params:oauth:token-type:access_token]";

fn variants() -> Vec<Variant> {
    let v = |id, endpoint, provider, seed, clients| Variant {
        id,
        endpoint,
        provider,
        seed,
        clients,
    };
    vec![
        v("baseline", "", "", "", NONE),
        v("every-grant", "", "", "", ALL),
        v("reuse", "", "", "  refresh: reuse\n", ALL),
        v("keep-old", "", "", "  refresh: rotate_keep_old\n", ALL),
        v(
            "revoke-family",
            "",
            "",
            "  refresh: rotate_revoke_family\n",
            ALL,
        ),
        v(
            "json-post-errors-array",
            "body: json, client_auth: post, rename: { scope: scopes }",
            "  errors: errors_array\n",
            "  error_items: { numeric_status: true, league_codes: true }\n",
            ALL,
        ),
        v("problem", "", "  errors: problem\n", "", NONE),
        v(
            "envelope-both",
            "",
            "  response: { envelope: /data, expiry: both }\n",
            "",
            ALL,
        ),
        v(
            "nested-envelope",
            "",
            "  response: { envelope: /data/inner }\n",
            "",
            NONE,
        ),
        v(
            "no-token-type-no-expiry",
            "",
            "  response: { expiry: none, missing_token_type: assume_bearer }\n",
            "  token_type: \"\"\n",
            NONE,
        ),
        v(
            "absolute-expiry-only",
            "",
            "  response: { expiry: expires }\n",
            "",
            NONE,
        ),
        v(
            "odd-success",
            "",
            "",
            "  token_type: mac\n  success_status: 201\n  response_scope: array\n  content_type: text/plain\n",
            ALL,
        ),
        v("scope-always", "", "", "  response_scope: always\n", ALL),
        v("no-cache-headers", "", "", "  cache_headers: false\n", NONE),
        v("no-pragma", "", "", "  pragma: false\n", NONE),
        v("zero-lifetime", "", "", "  token_lifetime: 0\n", NONE),
        v("milliseconds", "", "", "  token_lifetime: 120000\n", NONE),
        v(
            "string-members",
            "",
            "",
            "  extra_members: { expires_in: \"600\", refresh_token: \"rt-é\" }\n",
            ALL,
        ),
        v(
            "fixed-access-token",
            "",
            "",
            "  extra_members: { access_token: \"not a b64token\" }\n",
            NONE,
        ),
        v("success-401", "", "", "  success_status: 401\n", NONE),
        v("success-403", "", "", "  success_status: 403\n", NONE),
        v(
            "error-in-success",
            "",
            "",
            "  extra_members: { error: \"weird \\\"code\\\"\" }\n",
            NONE,
        ),
        v("get", "method: GET", "", "", ALL),
        v(
            "extension-grants",
            "client_auth: client_secret_jwt",
            "",
            "  client_auth: [client_secret_jwt]\n",
            EXTENSION,
        ),
        v(
            "no-issued-token-type",
            "client_auth: client_secret_jwt",
            "",
            "  client_auth: [client_secret_jwt]\n  token_exchange: { subject_token_types: [urn:ietf:params:oauth:token-type:access_token], issued_token_type: false }\n",
            EXTENSION,
        ),
        v("jwt", "lists: repeat", "", "  token_format: jwt\n", ALL),
    ]
}

/// The deviations no variant makes the mock show, though the variants'
/// cases exercise their checks: the mock's resource always answers with
/// the right challenge, a refresh never widens or changes the scope, an
/// assertion's `aud`, `exp` and `jti` are always checked, and device-code
/// polls always get RFC 8628's codes, `slow_down` within the interval.
const SHOWN_BY_NO_VARIANT: [&str; 18] = [
    "missing-bearer-challenge",
    "bearer-challenge-error-code",
    "refresh-widens-scope",
    "rotation-changes-scope",
    // The mock's authorization endpoint and token endpoint hold every rule
    // of the code grant and PKCE, and whom a grant is for, whatever the seed.
    "authorization-code-reused",
    "code-replay-keeps-tokens",
    "redirect-uri-not-checked",
    "pkce-not-enforced",
    "pkce-downgrade-accepted",
    "plain-pkce-accepted",
    "unauthenticated-client-credentials",
    "refresh-token-not-bound-to-client",
    "changed-scope-not-stated",
    "assertion-audience-not-checked",
    "expired-assertion-accepted",
    "assertion-replay-accepted",
    "device-polling-error-code",
    "device-interval-not-enforced",
];

const CC: &str = r#"client_id: cc-client, client_secret: cc-secret"#;

/// The spec of one variant, with cases for the clients it has.
fn spec(variant: &Variant) -> String {
    let Clients {
        password,
        public_refresh,
        code,
        implicit,
        extension,
    } = variant.clients;
    let endpoint = match variant.endpoint {
        "" => String::new(),
        extra => format!(", {extra}"),
    };
    let mut clients =
        vec!["    - { id: cc-client, secret: cc-secret, grants: [client_credentials] }"];
    if password {
        clients.push(
            "    - { id: owner, secret: owner-secret, grants: [password, refresh_token], scopes: [read, write] }",
        );
    }
    if public_refresh {
        clients.push(
            "    - { id: pub-owner, grants: [password, refresh_token], scopes: [read, write] }",
        );
    }
    if code {
        clients.push(
            "    - { id: coder, secret: coder-secret, grants: [authorization_code, refresh_token], scopes: [read, write], codes: [{ code: code-1, redirect_uri: \"https://app.invalid/cb\" }], redirect_uris: [\"https://app.invalid/cb\", \"https://app.invalid/other\"] }",
        );
    }
    if implicit {
        clients.push("    - { id: imp, grants: [implicit] }");
    }
    if extension {
        clients.push("    - { id: tv, secret: tv-secret, grants: [device_code] }");
        clients.push(
            "    - { id: xchg, secret: xchg-secret, grants: [client_credentials, token_exchange] }",
        );
    }
    let exchange_policy = if extension && !variant.seed.contains("token_exchange") {
        format!("  token_exchange: {{ {EXCHANGE} }}\n")
    } else {
        String::new()
    };
    let lifetime = if variant.seed.contains("token_lifetime: 0") {
        1
    } else {
        3601
    };
    let mut cases = format!(
        r#"  - name: client_credentials
    steps:
      - grant: client_credentials
        with: {{ {CC}, scope: [read, write] }}
      - id: second
        grant: client_credentials
        with: {{ {CC} }}
      - resource: {{ token: "${{second.access_token}}" }}
      - resource: {{ token: not-a-token-anyone-issued }}
      - resource: {{}}
  - name: expired
    steps:
      - id: issue
        grant: client_credentials
        with: {{ {CC} }}
      - advance: {lifetime}
      - resource: {{ token: "${{issue.access_token}}" }}
  - name: wrong_secret
    grant: client_credentials
    with: {{ client_id: cc-client, client_secret: wrong }}
  - name: unknown_client
    grant: client_credentials
    with: {{ client_id: nobody, client_secret: whatever }}
  - name: unsupported_grant
    grant: client_credentials
    with: {{ {CC}, grant_type: grantspec_unsupported }}
  - name: unauthenticated_client_credentials
    grant: client_credentials
    with: {{ client_id: cc-client }}
"#
    );
    let chain = |name: &str, first: &str, credentials: &str| {
        format!(
            r#"  - name: {name}
    steps:
      - id: first
{first}
      - id: refreshed
        grant: refresh_token
        with: {{ {credentials}, refresh_token: "${{first.refresh_token}}" }}
      - grant: refresh_token
        with: {{ {credentials}, refresh_token: "${{first.refresh_token}}" }}
      - id: rotated
        grant: refresh_token
        with: {{ {credentials}, refresh_token: "${{refreshed.refresh_token}}" }}
      - grant: refresh_token
        with: {{ {credentials}, refresh_token: "${{rotated.refresh_token}}", scope: [read, write, admin] }}
      - resource: {{ token: "${{rotated.access_token}}" }}
"#
        )
    };
    if password {
        let credentials = "client_id: owner, client_secret: owner-secret";
        let first = format!(
            "        grant: password\n        with: {{ {credentials}, username: alice, password: wonderland, scope: [read, write] }}"
        );
        cases.push_str(&chain("password", &first, credentials));
    }
    if public_refresh {
        let credentials = "client_id: pub-owner";
        let first = format!(
            "        grant: password\n        with: {{ {credentials}, username: alice, password: wonderland, scope: [read, write] }}"
        );
        cases.push_str(&chain("public_refresh", &first, credentials));
    }
    if code {
        let credentials = "client_id: coder, client_secret: coder-secret";
        let first = format!(
            "        grant: authorization_code\n        with: {{ {credentials}, code: code-1, redirect_uri: \"https://app.invalid/cb\", scope: [read, write] }}"
        );
        cases.push_str(&chain("authorization_code", &first, credentials));
        let exchange = |id: &str, code: &str, redirect: &str, verifier: &str| {
            format!(
                "      - id: {id}\n        grant: authorization_code\n        with: {{ {credentials}, code: \"${{{code}.code}}\", redirect_uri: \"https://app.invalid/{redirect}\"{verifier} }}\n"
            )
        };
        let wrong = ", code_verifier: not-the-verifier-0123456789abcdefghijklmnopqrstuvwxyz";
        let right = ", code_verifier: \"${auth.code_verifier}\"";
        cases.push_str(&format!(
            r#"  - name: pkce
    steps:
      - id: auth
        authorize: {{ client_id: coder, redirect_uri: "https://app.invalid/cb", scope: [read] }}
{}{}{}{}{}      - resource: {{ token: "${{first.access_token}}" }}
      - grant: refresh_token
        with: {{ {credentials}, refresh_token: "${{first.refresh_token}}" }}
      - authorize: {{ client_id: coder, redirect_uri: "https://app.invalid/cb", pkce: plain }}
      - id: bare
        authorize: {{ client_id: coder, redirect_uri: "https://app.invalid/cb", pkce: none }}
{}"#,
            exchange("wrong", "auth", "cb", wrong),
            exchange("missing", "auth", "cb", ""),
            exchange("elsewhere", "auth", "other", right),
            exchange("first", "auth", "cb", right),
            exchange("replay", "auth", "cb", right),
            exchange("downgrade", "bare", "cb", wrong),
        ));
    }
    if code && password {
        cases.push_str(
            r#"  - name: refresh_by_another_client
    steps:
      - id: auth
        authorize: { client_id: coder, redirect_uri: "https://app.invalid/cb" }
      - id: login
        grant: authorization_code
        with: { client_id: coder, client_secret: coder-secret, code: "${auth.code}", redirect_uri: "https://app.invalid/cb", code_verifier: "${auth.code_verifier}" }
      - grant: refresh_token
        with: { client_id: owner, client_secret: owner-secret, refresh_token: "${login.refresh_token}" }
"#,
        );
    }
    if implicit {
        cases.push_str(
            r#"  - name: implicit
    steps:
      - id: issue
        grant: implicit
        with: { client_id: imp }
      - resource: { token: "${issue.access_token}" }
      - resource: { token: "${issue.access_token}", method: POST }
"#,
        );
    }
    if extension {
        cases.push_str(&format!(
            r#"  - name: signed_assertions
    steps:
      - id: first
        grant: client_credentials
        with: {{ {CC} }}
        client_assertion: {{ alg: HS256 }}
      - grant: client_credentials
        with: {{ {CC} }}
        client_assertion: {{ alg: HS256, same_jti_as: first }}
      - grant: client_credentials
        with: {{ {CC} }}
        client_assertion: {{ alg: HS256, aud: https://elsewhere.invalid/token }}
      - grant: client_credentials
        with: {{ {CC} }}
        client_assertion: {{ alg: HS256, issued_ago: 600 }}
  - name: device_flow
    steps:
      - id: start
        device_authorization: true
        with: {{ client_id: tv, client_secret: tv-secret }}
      - grant: device_code
        with: {{ client_id: tv, client_secret: tv-secret, device_code: "${{start.device_code}}" }}
      - advance: 10
      - grant: device_code
        with: {{ client_id: tv, client_secret: tv-secret, device_code: "${{start.device_code}}" }}
      - advance: 10
      - grant: device_code
        with: {{ client_id: tv, client_secret: tv-secret, device_code: "${{start.device_code}}" }}
  - name: token_exchange
    steps:
      - id: subject
        grant: client_credentials
        with: {{ client_id: xchg, client_secret: xchg-secret }}
      - grant: token_exchange
        with: {{ client_id: xchg, client_secret: xchg-secret, subject_token: "${{subject.access_token}}", subject_token_type: urn:ietf:params:oauth:token-type:access_token }}
"#
        ));
    }
    let cases = cases.replace("\n    steps:", "\n    snapshot: false\n    steps:");
    let cases = cases.replace("\n    grant:", "\n    snapshot: false\n    grant:");
    format!(
        "provider:\n  id: {id}\n  name: {id}\n  token_endpoint: {{ path: /token{endpoint} }}\n{provider}mock:\n{seed}{exchange_policy}  users:\n    - {{ username: alice, password: wonderland }}\n  clients:\n{clients}\ncases:\n{cases}",
        id = variant.id,
        provider = variant.provider,
        seed = variant.seed,
        clients = clients.join("\n"),
    )
}

/// The suite that ran every variant, and each provider's case reports.
type VariantRuns = (Arc<Suite>, BTreeMap<String, Vec<CaseReport>>);

/// Every variant run on the mock once, shared by the tests that read it.
fn run_variants() -> &'static VariantRuns {
    static RUNS: OnceLock<VariantRuns> = OnceLock::new();
    RUNS.get_or_init(run_every_variant)
}

fn run_every_variant() -> VariantRuns {
    let specs = temp_dir("emulated-specs");
    for variant in variants() {
        std::fs::write(specs.join(format!("{}.yaml", variant.id)), spec(&variant)).unwrap();
    }
    let config = SuiteConfig {
        specs_dir: specs.to_path_buf(),
        snapshots_dir: specs.join("snapshots"),
        target: TargetKind::Mock,
        env: Env::default(),
        transport: TransportConfig::default(),
        write_pending_snapshots: false,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let suite = Arc::new(runtime.block_on(Suite::start(config)).unwrap());
    assert!(
        suite.load_errors().is_empty(),
        "{}",
        suite
            .load_errors()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let mut by_provider: BTreeMap<String, Vec<CaseReport>> = BTreeMap::new();
    for report in runtime.block_on(suite.run_all()) {
        by_provider
            .entry(report.provider.clone())
            .or_default()
            .push(report);
    }
    (suite, by_provider)
}

/// Every deviation id of the catalogue.
fn catalogue() -> BTreeSet<&'static str> {
    CHECKS.iter().map(|check| check.deviation).collect()
}

#[test]
fn the_mock_emulates_exactly_the_deviations_it_claims_for_every_deviation_in_the_catalogue() {
    let (suite, runs) = run_variants();
    assert_eq!(runs.len(), variants().len());
    let mut claimed_somewhere = BTreeSet::new();
    let mut exercised_somewhere = BTreeSet::new();
    let mut mismatches = Vec::new();
    for loaded in suite.specs() {
        let spec = &loaded.spec;
        let reports = &runs[&spec.provider.id];
        let findings: Vec<rfc::Finding> = reports
            .iter()
            .flat_map(|report| report.run.findings.iter().cloned())
            .collect();
        let shown: BTreeSet<&str> = rfc::observed_deviations(&findings)
            .into_iter()
            .filter(|id| !rfc::shown_by_requests_alone(id))
            .collect();
        let claimed = grantspec_mock::emulated_deviations(&spec.mock_provider().unwrap());
        if shown != claimed {
            mismatches.push(format!(
                "{}: the runs showed {shown:?}, the mock claims {claimed:?}",
                spec.provider.id
            ));
        }
        claimed_somewhere.extend(claimed);
        exercised_somewhere.extend(rfc::exercised_deviations(&findings));
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // Every id accounted for, one way only.
    let by_requests: BTreeSet<&str> = catalogue()
        .into_iter()
        .filter(|id| rfc::shown_by_requests_alone(id))
        .collect();
    let never: BTreeSet<&str> = SHOWN_BY_NO_VARIANT.into_iter().collect();
    for id in catalogue() {
        // The metadata checks judge a spec's discovery metadata, which the
        // mock does not serve: they are judged live only.
        let ways = [
            claimed_somewhere.contains(id),
            by_requests.contains(id),
            never.contains(id),
            rfc::shown_by_metadata_only(id),
        ];
        assert_eq!(
            ways.iter().filter(|way| **way).count(),
            1,
            "`{id}`: claimed by a variant, shown by requests alone, never shown, metadata only: {ways:?}"
        );
    }
    for id in never {
        assert!(
            exercised_somewhere.contains(id),
            "`{id}` is shown by no variant, but no variant's cases exercise it"
        );
    }
}

/// A success and an error, to swap in for a response.
fn other_responses() -> [HttpResponse; 2] {
    let json = |status: u16, body: &str| HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.as_bytes().to_vec(),
    };
    [
        json(
            200,
            r#"{"access_token":"9f3c1a7e5b2d4c6a8e0f1b3d5c7a9e2f","token_type":"Bearer","expires_in":3600}"#,
        ),
        json(400, r#"{"error":"invalid_request"}"#),
    ]
}

#[test]
fn deviations_shown_by_requests_alone_do_not_depend_on_the_answer() {
    let (_suite, runs) = run_variants();
    let swapped = other_responses();
    let mut judged = 0;
    let mut depends = BTreeSet::new();
    for report in runs.values().flatten() {
        for exchange in report.run.exchanges.iter().filter(|e| e.profile_shaped) {
            let Some(response) = &exchange.response else {
                continue;
            };
            let facts = |response: &HttpResponse| {
                rfc::check_exchange(&ExchangeFacts {
                    request: &exchange.request,
                    response,
                    json: response.json().as_ref(),
                    grant_type: exchange.grant_type.as_deref(),
                    request_is_profile_shaped: true,
                    kind: exchange.kind,
                })
            };
            let as_answered = facts(response);
            for other in &swapped {
                for (answered, instead) in as_answered.iter().zip(facts(other)) {
                    assert_eq!(answered.check.id, instead.check.id);
                    if answered.outcome == instead.outcome {
                        continue;
                    }
                    assert!(
                        !rfc::shown_by_requests_alone(answered.check.deviation),
                        "{}: `{}` changed with the answer ({:?} against {:?})",
                        report.name,
                        answered.check.id,
                        answered.outcome,
                        instead.outcome
                    );
                    depends.insert(answered.check.deviation);
                }
                judged += 1;
            }
        }
    }
    assert!(judged > 100, "{judged} exchanges compared");
    // The comparison can tell: the issued-for-`implicit` check reads the
    // request, and the answer too.
    assert!(depends.contains("non-uri-grant-type"), "{depends:?}");
}
