#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `cargo xtask probe`'s engine against every spec'd provider's mock: the
//! spec it writes loads, passes when the specs binary runs it live against
//! the same server, and declares the deviations the hand-written spec
//! declares, but for those the token endpoint alone cannot show (named
//! below, each with its reason). And, against a loopback server that records
//! every request, the budget and the interval hold.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use grantspec_mock::MockServer;
use grantspec_runner::probe::{self, Area, Credentials, ProbeConfig, ProbeGrant, VarNames};
use grantspec_spec::{GrantKind, MockClient, Spec, load_dir};
use grantspec_test_support::{outcomes, specs_binary, temp_dir, text, workspace};
use grantspec_token::{ManualClock, SecretString, TransportConfig};
use url::Url;

/// Declared deviations of the hand-written specs that the probe cannot show,
/// and why. Every other declared deviation must be declared by the probe's
/// spec too, and the probe's spec declares nothing the hand-written one
/// does not.
fn not_shown_by_the_token_endpoint(provider: &str, deviation: &str) -> Option<&'static str> {
    Some(match (provider, deviation) {
        // Deviations a request shows by its own shape: the server accepts the
        // RFC 6749 shape as well, so the probe, which tries the conformant
        // shape first, never sends theirs. What the documentation asks a
        // client to send is not something a server's answers can show.
        // Not `renamed-scope-parameter`: the probe infers the scope's name
        // when the answer shows `scope` ignored, and sends that name.
        (_, id)
            if id != "renamed-scope-parameter"
                && grantspec_conformance::shown_by_requests_alone(id) =>
        {
            "shown by the requests alone, and the server also accepts the RFC 6749 request"
        }
        // The mock of these providers issues tokens only for the
        // authorization_code grant; a client id and secret alone get no
        // token, so no success answer shows the token response's shape.
        ("github" | "facebook", "non-json-token-response")
        | ("github" | "salesforce", "missing-expires-in")
        | ("facebook", "missing-token-type")
        | ("slack", "unregistered-token-type")
        | (
            "instagram" | "mailchimp" | "weibo",
            "missing-expires-in"
            | "missing-token-type"
            | "expires-in-out-of-range"
            | "response-scope-format"
            | "expires-in-as-string",
        ) => "only an authorization code gets a token, and the probe has none",
        // The probe's requests carry its profile's `Accept: application/json`,
        // which GitHub's mock answers in JSON (`mock.json_on_accept`); the
        // form is its answer to the `*/*` of GitHub's own profile.
        ("github", "non-json-error-response") => {
            "the probe asks for JSON, and GitHub answers JSON when asked"
        }
        // GitHub's own codes answer a bad client secret or code of a code
        // exchange; the probe's grants are refused `unsupported_grant_type`
        // before the client is judged.
        ("github", "unregistered-error-code") => {
            "the mock refuses the probe's grants before it judges the client or a code"
        }
        // Elastic Path's own `implicit` grant type (a public client's token
        // at the token endpoint) is what is not a URI: the probe sends the
        // baseline grant, and a URI for its unsupported grant type.
        ("elastic-path", "non-uri-grant-type") => {
            "only a request with the provider's own `implicit` grant type shows it"
        }
        _ => return None,
    })
}

/// A client to probe with, its grant, and its user for the password grant.
type Probed<'s> = (&'s MockClient, ProbeGrant, Option<(String, String)>);

/// The probes of a provider: one with client_credentials (the seed's first
/// client that may use it, else its first client), and one with the
/// password grant when a client may use it and the seed has a user.
fn clients(spec: &Spec) -> Vec<Probed<'_>> {
    let seed = spec.mock.as_ref().unwrap();
    let cc = seed
        .clients
        .iter()
        .find(|c| c.grants.contains(&GrantKind::ClientCredentials))
        .unwrap_or(&seed.clients[0]);
    let mut probes = vec![(cc, ProbeGrant::ClientCredentials, None)];
    let password = seed
        .clients
        .iter()
        .find(|c| c.grants.contains(&GrantKind::Password));
    if let (Some(client), Some(user)) = (password, seed.users.first()) {
        let user = (user.username.clone(), user.password.clone());
        probes.push((client, ProbeGrant::Password, Some(user)));
    }
    probes
}

fn config(
    spec: &Spec,
    (client, grant, user): Probed<'_>,
    token_url: Url,
    budget: u32,
    interval: Duration,
) -> ProbeConfig {
    let suffix = match grant {
        ProbeGrant::ClientCredentials => "probed",
        ProbeGrant::Password => "password-probed",
    };
    let id = format!("{}-{suffix}", spec.provider.id);
    ProbeConfig {
        token_url,
        issuer: None,
        vars: VarNames::for_provider(&id),
        provider_id: id,
        credentials: Credentials {
            client_id: client.id.clone(),
            client_secret: client.secret.clone().map(SecretString::from),
            user: user.map(|(name, password)| (name, SecretString::from(password))),
        },
        grant,
        scopes: client.scopes.clone(),
        budget,
        interval,
        areas: Area::ALL.into_iter().collect(),
        today: "2026-12-01".to_owned(),
        transport: TransportConfig::default(),
    }
}

/// The variables the written spec reads, for `config`.
fn env_of(config: &ProbeConfig, base_url: &str) -> Vec<(String, String)> {
    use grantspec_token::ExposeSecret as _;
    let vars = &config.vars;
    let mut env = vec![
        (vars.base_url.clone(), base_url.to_owned()),
        (vars.client_id.clone(), config.credentials.client_id.clone()),
    ];
    if let Some(secret) = &config.credentials.client_secret {
        env.push((
            vars.client_secret.clone(),
            secret.expose_secret().to_owned(),
        ));
    }
    if let Some((name, password)) = &config.credentials.user {
        env.push((vars.username.clone(), name.clone()));
        env.push((vars.password.clone(), password.expose_secret().to_owned()));
    }
    env
}

/// Runs the specs binary live on `dir` with `env`; every trial's outcome.
fn run_live(dir: &std::path::Path, env: &[(String, String)]) -> (BTreeMap<String, String>, String) {
    let snapshots = temp_dir("probe-snapshots");
    let mut command = Command::new(specs_binary());
    command
        .current_dir(dir)
        .env("GRANTSPEC_SPECS", dir)
        .env("GRANTSPEC_SNAPSHOTS", &*snapshots)
        .env("GRANTSPEC_TARGET", "live")
        .env("CI", "true");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    (outcomes(&output), text(&output))
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn probe_of_every_mock_writes_a_spec_that_passes_live_and_declares_the_providers_deviations() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (specs, errors) = load_dir(&workspace().join("specs"));
    assert!(errors.is_empty(), "{errors:?}");
    let mock = runtime
        .block_on(MockServer::start(
            specs.iter().filter_map(|s| s.spec.mock_provider()),
            Arc::new(ManualClock::default()),
            0,
        ))
        .unwrap();
    let out = temp_dir("probe-out");
    let mut env = Vec::new();
    let mut problems = Vec::new();
    let mut probed = 0;
    for loaded in &specs {
        let spec = &loaded.spec;
        if spec.mock.is_none() {
            continue;
        }
        let id = &spec.provider.id;
        let base = mock.base_url(id);
        let token_url =
            grantspec_token::endpoint_url(&base, &spec.provider.token_endpoint.path).unwrap();
        let mut probed_set: BTreeSet<&str> = BTreeSet::new();
        let mut tables = String::new();
        for client in clients(spec) {
            let config = config(
                spec,
                client,
                token_url.clone(),
                probe::DEFAULT_BUDGET,
                Duration::from_millis(1),
            );
            let report = runtime.block_on(probe::probe(&config)).unwrap();
            assert!(report.stopped.is_none(), "{id}: {:?}", report.stopped);
            assert!(report.sent <= config.budget, "{id}: {} sent", report.sent);
            let path = out.join(format!("{}.yaml", config.provider_id));
            std::fs::write(&path, &report.spec).unwrap();
            let written = grantspec_spec::load_file(&path).unwrap_or_else(|e| {
                panic!(
                    "{id}: the probe's spec does not load:\n{e}\n{}",
                    report.spec
                )
            });
            assert!(written.spec.is_live_only(), "{id}");
            // The names the probe inferred are the hand-written spec's.
            assert_eq!(
                written.spec.provider.token_endpoint.rename,
                spec.provider.token_endpoint.rename,
                "{id}\n{}",
                report.table_text()
            );
            let origin = base.origin().ascii_serialization();
            env.extend(env_of(&config, &origin));
            probed_set.extend(report.deviations.iter().copied());
            tables.push_str(&report.table_text());
            probed += 1;
        }
        let declared: BTreeSet<&str> = spec
            .provider
            .deviations
            .iter()
            .map(String::as_str)
            .collect();
        for extra in probed_set.difference(&declared) {
            problems.push(format!(
                "{id}: the probe declares `{extra}`, the hand-written spec does not"
            ));
        }
        for missing in declared.difference(&probed_set) {
            if not_shown_by_the_token_endpoint(id, missing).is_none() {
                problems.push(format!(
                    "{id}: the hand-written spec declares `{missing}`, the probe does not\n{tables}"
                ));
            }
        }
    }
    assert!(probed >= 11, "only {probed} probes of the mock providers");
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    let (outcomes, output) = runtime.block_on(async {
        let dir = out.to_path_buf();
        tokio::task::spawn_blocking(move || run_live(&dir, &env))
            .await
            .unwrap()
    });
    let failed: Vec<&String> = outcomes
        .iter()
        .filter(|(_, o)| *o != "ok")
        .map(|(n, _)| n)
        .collect();
    assert!(failed.is_empty(), "{failed:?}\n{output}");
    let deviation_trials = outcomes
        .keys()
        .filter(|n| n.ends_with("::declared_deviations"))
        .count();
    assert_eq!(deviation_trials, probed, "{output}");
    assert!(outcomes.len() > probed * 5, "{output}");
}

/// A loopback token endpoint that records when each request arrived and
/// answers every one with a token.
struct Recorder {
    arrivals: Arc<Mutex<Vec<Instant>>>,
    /// Each request's method and target, in order.
    requests: Arc<Mutex<Vec<String>>>,
    url: Url,
}

/// A token answer.
const TOKEN: &str =
    "200 OK\r\ncontent-type: application/json\r\ncache-control: no-store\r\npragma: no-cache";
const TOKEN_BODY: &str =
    r#"{"access_token":"recorded-token-0123456789abcdef","token_type":"Bearer","expires_in":60}"#;

/// A token answer that says it grants no scope, whatever was asked.
const TOKEN_BODY_GRANTING_NO_SCOPE: &str = r#"{"access_token":"recorded-token-0123456789abcdef","token_type":"Bearer","expires_in":60,"scope":""}"#;

async fn start_recorder() -> Recorder {
    start_answering(TOKEN, TOKEN_BODY).await
}

/// A loopback endpoint answering every request with `answer_head` (status line
/// without `HTTP/1.1`, and headers) and `body`.
async fn start_answering(answer_head: &'static str, body: &'static str) -> Recorder {
    start_throttling_after(answer_head, body, usize::MAX).await
}

/// [`start_answering`], answering `429` with `Retry-After` once `after`
/// requests have been answered.
async fn start_throttling_after(
    answer_head: &'static str,
    body: &'static str,
    after: usize,
) -> Recorder {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&arrivals);
    let targets = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen);
            let targets = Arc::clone(&targets);
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    // One request per connection is read up to its blank
                    // line, then its body by Content-Length.
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buffer.extend_from_slice(&chunk[..n]);
                    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buffer.len() < end + 4 + length {
                        continue;
                    }
                    buffer.drain(..end + 4 + length);
                    let line = head.lines().next().unwrap_or_default();
                    let target: Vec<&str> = line.split_whitespace().take(2).collect();
                    targets.lock().unwrap().push(target.join(" "));
                    let count = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(Instant::now());
                        seen.len()
                    };
                    let (answer_head, body) = if count > after {
                        ("429 Too Many Requests\r\nretry-after: 5", "")
                    } else {
                        (answer_head, body)
                    };
                    let answer = format!(
                        "HTTP/1.1 {answer_head}\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Recorder {
        arrivals,
        requests,
        url: Url::parse(&format!("http://{addr}/oauth/token")).unwrap(),
    }
}

#[test]
fn the_budget_and_the_interval_hold_at_the_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (budget, interval) in [
        (5, Duration::from_millis(40)),
        (30, Duration::from_millis(15)),
    ] {
        // Its tokens say they grant no scope: the probe also tries the
        // scope under another name, and those requests count too.
        let recorder = runtime.block_on(start_answering(TOKEN, TOKEN_BODY_GRANTING_NO_SCOPE));
        let config = ProbeConfig {
            token_url: recorder.url.clone(),
            issuer: None,
            provider_id: "recorded".to_owned(),
            credentials: Credentials {
                client_id: "recorded-client".to_owned(),
                client_secret: Some(SecretString::from("recorded-secret")),
                user: None,
            },
            vars: VarNames::for_provider("recorded"),
            grant: ProbeGrant::ClientCredentials,
            scopes: vec!["read".to_owned(), "write".to_owned()],
            budget,
            interval,
            areas: Area::ALL.into_iter().collect(),
            today: "2026-12-01".to_owned(),
            transport: TransportConfig::default(),
        };
        let report = runtime.block_on(probe::probe(&config)).unwrap();
        let arrivals = recorder.arrivals.lock().unwrap().clone();
        // Discovery's two requests are answered too (with a token, which is
        // no metadata): every request counts.
        assert_eq!(arrivals.len() as u32, report.sent, "budget {budget}");
        assert!(
            report.sent <= budget,
            "{} sent, budget {budget}",
            report.sent
        );
        if budget == 5 {
            assert_eq!(report.sent, 5, "a small budget is spent, not exceeded");
            assert!(
                report.table_text().contains("the budget (5 requests) has"),
                "{}",
                report.table_text()
            );
        }
        if budget == 30 {
            let table = report.table_text();
            assert!(
                table.lines().any(|line| line.split_whitespace().eq([
                    "request",
                    "scope_requested_as_scopes",
                    "200",
                    "token"
                ])),
                "{table}"
            );
            assert!(
                table.contains("kept as `scope`: no other name tried was honoured"),
                "{table}"
            );
        }
        for pair in arrivals.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(
                gap >= interval,
                "two requests {gap:?} apart, interval {interval:?}"
            );
        }
    }
}

/// node-oidc-provider's throwaway loopback clients (`.ci/oidc-provider/server.mjs`):
/// one with reserved characters in its id and secret (RFC 6749 §2.3.1's
/// form encoding shows), and one whose tokens are RFC 9068 JWTs.
const OIDC_CLIENTS: &[(&str, &str, &str)] = &[
    ("oidc-reserved", "sp client", "p@ss:w/rd+%"),
    ("oidc-jwt", "grantspec-jwt", "jwt-secret-5d7a"),
];

/// Whether the table has `check` passing.
fn passed(table: &str, check: &str) -> bool {
    table
        .lines()
        .any(|line| line.split_whitespace().nth(1) == Some(check) && line.contains(" pass: "))
}

#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: drives node-oidc-provider, and starts cargo for the specs binary; runs with `cargo test --all-features`"
)]
fn probe_of_node_oidc_provider_reads_its_metadata_and_writes_a_spec_that_passes_live() {
    let fixture = super::live_oidc::fixture_dir();
    super::live_oidc::npm_ci(&fixture);
    let server = super::live_oidc::Server::start(&fixture);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hand_written =
        grantspec_spec::load_file(&workspace().join("specs").join("oidc-provider.yaml")).unwrap();
    let declared: Vec<&str> = hand_written
        .spec
        .provider
        .deviations
        .iter()
        .map(String::as_str)
        .collect();
    let out = temp_dir("probe-oidc");
    let mut env = Vec::new();
    let mut specs = Vec::new();
    for (id, client_id, secret) in OIDC_CLIENTS {
        let config = ProbeConfig {
            token_url: Url::parse(&format!("{}/token", server.url)).unwrap(),
            issuer: None,
            provider_id: (*id).to_owned(),
            credentials: Credentials {
                client_id: (*client_id).to_owned(),
                client_secret: Some(SecretString::from(*secret)),
                user: None,
            },
            vars: VarNames::for_provider(id),
            grant: ProbeGrant::ClientCredentials,
            scopes: vec!["api:read".to_owned()],
            budget: probe::DEFAULT_BUDGET,
            interval: Duration::from_millis(5),
            areas: Area::ALL.into_iter().collect(),
            today: "2026-12-01".to_owned(),
            transport: TransportConfig::default(),
        };
        let report = runtime.block_on(probe::probe(&config)).unwrap();
        let table = report.table_text();
        assert_eq!(report.deviations, declared, "{id}\n{table}");
        assert!(report.stopped.is_none(), "{table}");
        // Discovery: the metadata is read and every metadata check that
        // applies passes; the JWT client's tokens verify against the JWKS.
        assert!(table.contains("RFC8414-3.3-issuer"), "{table}");
        assert!(
            table.contains("RFC8414-2-token-endpoint-auth-methods  pass"),
            "{table}"
        );
        assert!(
            !table.contains(": fail") && !table.contains(": warn"),
            "{table}"
        );
        if *id == "oidc-jwt" {
            for check in [
                "RFC9068-2.1-typ",
                "RFC9068-2.2-claims",
                "RFC9068-4-signature",
            ] {
                assert!(passed(&table, check), "{table}");
            }
            assert!(table.contains("pass: verified"), "{table}");
        } else {
            assert!(
                table.contains("form-encoded before base64 (RFC 6749 §2.3.1): accepted"),
                "{table}"
            );
        }
        assert!(
            report
                .spec
                .contains("  metadata: \"/.well-known/oauth-authorization-server\"\n"),
            "{}",
            report.spec
        );
        for shown in [*secret, "jwt-secret", "p@ss"] {
            assert!(
                !report.spec.contains(shown) && !table.contains(shown),
                "{id}: secret shown"
            );
        }
        env.extend(env_of(&config, &server.url));
        specs.push((config.provider_id.clone(), report.spec));
    }
    let write = |specs: &[(String, String)]| {
        for (id, text) in specs {
            std::fs::write(out.join(format!("{id}.yaml")), text).unwrap();
        }
    };
    write(&specs);
    let (outcomes, output) = run_live(&out, &env);
    assert!(outcomes.len() > 10, "{output}");
    assert!(outcomes.values().all(|o| o == "ok"), "{output}");

    // The runner judges a spec's metadata on a live run: a metadata URL that
    // answers no document is an undeclared deviation of every case until the
    // spec declares it.
    let broken: Vec<(String, String)> = specs
        .iter()
        .map(|(id, text)| {
            let text = text.replace(
                "  metadata: \"/.well-known/oauth-authorization-server\"\n",
                "  metadata: \"/no-such-metadata\"\n",
            );
            (id.clone(), text)
        })
        .collect();
    write(&broken);
    let (outcomes, output) = run_live(&out, &env);
    assert_eq!(
        outcomes
            .get("oidc-jwt::token_form_basic")
            .map(String::as_str),
        Some("FAILED"),
        "{output}"
    );
    assert!(
        output.contains("undeclared deviation `unreadable-metadata`"),
        "{output}"
    );
    let declared: Vec<(String, String)> = broken
        .iter()
        .map(|(id, text)| {
            let text = text.replace(
                "  deviations: [missing-cache-headers]\n",
                "  deviations: [missing-cache-headers, unreadable-metadata]\n",
            );
            (id.clone(), text)
        })
        .collect();
    write(&declared);
    let (outcomes, output) = run_live(&out, &env);
    assert!(outcomes.values().all(|o| o == "ok"), "{output}");
    drop(server);
}

#[test]
fn hostile_answers_are_escaped_in_the_table_and_quoted_in_the_spec() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hostile = runtime.block_on(start_answering(
        "401 Unauthorized\r\ncontent-type: application/json\r\nwww-authenticate: Basic realm=\"x\"",
        "{\"error\":\"bad\\u001b[2J\\r\\ntest result: ok. 9 passed\",\"error_description\":\"${env:HOME}\\u0007\"}",
    ));
    let config = ProbeConfig {
        token_url: hostile.url.clone(),
        issuer: None,
        provider_id: "hostile".to_owned(),
        credentials: Credentials {
            client_id: "hostile-client".to_owned(),
            client_secret: Some(SecretString::from("hostile-secret")),
            user: None,
        },
        vars: VarNames::for_provider("hostile"),
        grant: ProbeGrant::ClientCredentials,
        scopes: Vec::new(),
        budget: 12,
        interval: Duration::from_millis(1),
        areas: Area::ALL.into_iter().collect(),
        today: "2026-12-01".to_owned(),
        transport: TransportConfig::default(),
    };
    let report = runtime.block_on(probe::probe(&config)).unwrap();
    let table = report.table_text();
    assert!(table.contains("\\u{1b}[2J"), "{table}");
    assert!(
        !table.contains('\u{1b}') && !table.contains('\r'),
        "{table}"
    );
    assert!(
        !table.lines().any(|l| l.starts_with("test result")),
        "{table}"
    );
    let dir = temp_dir("probe-hostile");
    let path = dir.join("hostile.yaml");
    std::fs::write(&path, &report.spec).unwrap();
    let loaded =
        grantspec_spec::load_file(&path).unwrap_or_else(|e| panic!("{e}\n{}", report.spec));
    // The server's bytes come back as the very expectation, not as syntax.
    let expect = &loaded.spec.cases[0].steps[0].expect;
    assert_eq!(
        expect.body.get("error").map(|m| format!("{m:?}")),
        Some(format!(
            "{:?}",
            grantspec_spec::Matcher::Literal(Box::new(
                "bad\u{1b}[2J\r\ntest result: ok. 9 passed".into(),
            ))
        ))
    );
}

#[test]
fn a_secret_the_server_echoes_is_shown_nowhere() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let echo = runtime.block_on(start_answering(
        "401 Unauthorized\r\ncontent-type: application/json",
        r#"{"error":"wrong secret echo-secret-0123456","error_description":"echo-secret-0123456"}"#,
    ));
    let config = ProbeConfig {
        token_url: echo.url.clone(),
        issuer: None,
        provider_id: "echo".to_owned(),
        credentials: Credentials {
            client_id: "echo-client".to_owned(),
            client_secret: Some(SecretString::from("echo-secret-0123456")),
            user: None,
        },
        vars: VarNames::for_provider("echo"),
        grant: ProbeGrant::ClientCredentials,
        scopes: Vec::new(),
        budget: 10,
        interval: Duration::from_millis(1),
        areas: Area::ALL.into_iter().collect(),
        today: "2026-12-01".to_owned(),
        transport: TransportConfig::default(),
    };
    let report = runtime.block_on(probe::probe(&config)).unwrap();
    let table = report.table_text();
    assert!(!table.contains("echo-secret"), "{table}");
    assert!(table.contains("[secret]"), "{table}");
    assert!(!report.spec.contains("echo-secret"), "{}", report.spec);
    assert!(
        report.spec.contains("error: { present: true }"),
        "{}",
        report.spec
    );
    let dir = temp_dir("probe-echo");
    let path = dir.join("echo.yaml");
    std::fs::write(&path, &report.spec).unwrap();
    grantspec_spec::load_file(&path).unwrap();
}

#[test]
fn the_first_sign_of_throttling_ends_the_probe() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = |url: &Url| ProbeConfig {
        token_url: url.clone(),
        issuer: None,
        provider_id: "throttled".to_owned(),
        credentials: Credentials {
            client_id: "throttled-client".to_owned(),
            client_secret: Some(SecretString::from("throttled-secret")),
            user: None,
        },
        vars: VarNames::for_provider("throttled"),
        grant: ProbeGrant::ClientCredentials,
        scopes: Vec::new(),
        budget: 30,
        interval: Duration::from_millis(1),
        areas: Area::ALL.into_iter().collect(),
        today: "2026-12-01".to_owned(),
        transport: TransportConfig::default(),
    };
    // Throttled after the two discovery requests and the baseline: the
    // next request is the last, and is neither retried nor written.
    let server = runtime.block_on(start_throttling_after(TOKEN, TOKEN_BODY, 3));
    let report = runtime
        .block_on(probe::probe(&config(&server.url)))
        .unwrap();
    assert_eq!(server.arrivals.lock().unwrap().len(), 4);
    assert_eq!(report.sent, 4);
    let stopped = report.stopped.clone().unwrap();
    assert!(stopped.contains("HTTP 429"), "{stopped}");
    let dir = temp_dir("probe-throttled");
    let path = dir.join("throttled.yaml");
    std::fs::write(&path, &report.spec).unwrap();
    let loaded = grantspec_spec::load_file(&path).unwrap();
    let names: Vec<&str> = loaded.spec.cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["token_form_basic"]);

    // Throttled from the first request: nothing to write.
    let server = runtime.block_on(start_throttling_after(TOKEN, TOKEN_BODY, 0));
    let mut narrow = config(&server.url);
    narrow.areas.remove(&Area::Discovery);
    let error = runtime.block_on(probe::probe(&narrow)).unwrap_err();
    assert!(error.to_string().contains("throttl"), "{error}");
    assert_eq!(server.arrivals.lock().unwrap().len(), 1);
}

#[test]
fn discovery_forms_the_well_known_urls_from_the_issuer_and_sends_nothing_elsewhere() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(start_recorder());
    let mut issuer = server.url.clone();
    issuer.set_path("/tenant/one");
    let config = ProbeConfig {
        token_url: server.url.clone(),
        issuer: Some(issuer),
        provider_id: "tenant".to_owned(),
        credentials: Credentials {
            client_id: "tenant-client".to_owned(),
            client_secret: Some(SecretString::from("tenant-secret")),
            user: None,
        },
        vars: VarNames::for_provider("tenant"),
        grant: ProbeGrant::ClientCredentials,
        scopes: Vec::new(),
        budget: 30,
        interval: Duration::from_millis(1),
        areas: Area::ALL.into_iter().collect(),
        today: "2026-12-01".to_owned(),
        transport: TransportConfig::default(),
    };
    let report = runtime.block_on(probe::probe(&config)).unwrap();
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests[..2],
        [
            "get /.well-known/oauth-authorization-server/tenant/one",
            "get /tenant/one/.well-known/openid-configuration"
        ]
    );
    // A token answer is no metadata: the spec names none.
    assert!(!report.spec.contains("  metadata:"), "{}", report.spec);
    for request in &requests[2..] {
        assert!(request.ends_with(" /oauth/token"), "{requests:?}");
    }
    assert_eq!(requests.len() as u32, report.sent);
}
