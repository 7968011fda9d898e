//! The mock through HTTP: a third-party OAuth client against it, expiry and
//! rotation on an injected clock, robustness, and a bounded load test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use grantspec_mock::{MockLimits, MockServer};
use grantspec_spec::{Spec, load_str};
use grantspec_token::ManualClock;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use serde_json::Value;

/// An RFC 6749-conformant provider: form bodies, Basic or post client
/// authentication, RFC 6749 errors, refresh rotation.
const RFC_SPEC: &str = r#"
provider:
  id: rfc
  name: RFC 6749 provider
  token_endpoint: { path: /oauth/token, client_auth: basic }
mock:
  client_auth: [basic, post]
  token_lifetime: 300
  response_scope: always
  clients:
    - { id: "sp client", secret: "p@ss:w/rd+%", grants: [client_credentials, password, refresh_token], scopes: [read, write] }
  users:
    - { username: alice, password: wonderland }
cases: []
"#;

fn spec(source: &str, id: &str) -> Spec {
    load_str(Path::new(&format!("{id}.yaml")), source)
        .unwrap()
        .spec
}

fn shipped(id: &str) -> Spec {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../specs/{id}.yaml"));
    grantspec_spec::load_file(&path).unwrap().spec
}

async fn start(specs: &[Spec]) -> (MockServer, ManualClock) {
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs
            .iter()
            .map(|spec| spec.mock_provider().expect("a seeded spec")),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    (server, clock)
}

/// oauth2's HTTP client, backed by reqwest without redirects.
async fn http_client(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let client = grantspec_test_support::loopback_client();
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).expect("a valid response"))
}

#[tokio::test]
async fn oauth2_crate_gets_tokens_with_basic_and_post_and_sees_invalid_client() {
    let (server, _clock) = start(&[spec(RFC_SPEC, "rfc")]).await;
    let token_url = TokenUrl::new(server.token_url("rfc").unwrap().to_string()).unwrap();
    for auth_type in [AuthType::BasicAuth, AuthType::RequestBody] {
        let client = BasicClient::new(ClientId::new("sp client".into()))
            .set_client_secret(ClientSecret::new("p@ss:w/rd+%".into()))
            .set_token_uri(token_url.clone())
            .set_auth_type(auth_type.clone());
        let token = client
            .exchange_client_credentials()
            .add_scope(Scope::new("read".into()))
            .request_async(&http_client)
            .await
            .unwrap_or_else(|e| panic!("{auth_type:?}: {e:?}"));
        assert!(token.access_token().secret().len() >= 32);
        assert_eq!(token.expires_in(), Some(Duration::from_secs(300)));
        assert_eq!(
            token.scopes().map(|s| s[0].to_string()),
            Some("read".to_owned())
        );

        let wrong = BasicClient::new(ClientId::new("sp client".into()))
            .set_client_secret(ClientSecret::new("wrong".into()))
            .set_token_uri(token_url.clone())
            .set_auth_type(auth_type.clone());
        match wrong
            .exchange_client_credentials()
            .request_async(&http_client)
            .await
        {
            Err(RequestTokenError::ServerResponse(error)) => {
                assert_eq!(
                    error.error(),
                    &oauth2::basic::BasicErrorResponseType::InvalidClient
                );
            }
            other => panic!("{auth_type:?}: expected invalid_client, got {other:?}"),
        }
    }
}

async fn post_form(
    url: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = grantspec_test_support::loopback_client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = serde_json::from_str(&response.text().await.unwrap()).unwrap_or(Value::Null);
    (status, headers, body)
}

async fn ping(server: &MockServer, provider: &str, token: &str) -> (u16, String) {
    let response = grantspec_test_support::loopback_client()
        .get(format!("{}/ping", server.base_url(provider)))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), challenge)
}

const BASIC: &str = "Basic c3ArY2xpZW50OnAlNDBzcyUzQXclMkZyZCUyQiUyNQ==";

#[tokio::test]
async fn tokens_expire_on_the_injected_clock() {
    let (server, clock) = start(&[spec(RFC_SPEC, "rfc")]).await;
    let url = server.token_url("rfc").unwrap().to_string();
    let (status, headers, body) =
        post_form(&url, Some(BASIC), "grant_type=client_credentials").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    let token = body["access_token"].as_str().unwrap().to_owned();

    assert_eq!(ping(&server, "rfc", &token).await.0, 200);
    clock.advance(Duration::from_secs(299));
    assert_eq!(ping(&server, "rfc", &token).await.0, 200);
    clock.advance(Duration::from_secs(1));
    let (status, challenge) = ping(&server, "rfc", &token).await;
    assert_eq!(status, 401);
    assert_eq!(challenge, r#"Bearer realm="rfc", error="invalid_token""#);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reused_one_is_rejected() {
    let (server, clock) = start(&[spec(RFC_SPEC, "rfc")]).await;
    let url = server.token_url("rfc").unwrap().to_string();
    let (status, _, login) = post_form(
        &url,
        Some(BASIC),
        "grant_type=password&username=alice&password=wonderland&scope=read+write",
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let first = login["refresh_token"].as_str().unwrap().to_owned();

    clock.advance(Duration::from_secs(3600));
    let (status, _, refreshed) = post_form(
        &url,
        Some(BASIC),
        &format!("grant_type=refresh_token&refresh_token={first}"),
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(refreshed["scope"], "read write", "rotation keeps the scope");
    assert_eq!(
        ping(&server, "rfc", refreshed["access_token"].as_str().unwrap())
            .await
            .0,
        200
    );

    let (status, _, reused) = post_form(
        &url,
        Some(BASIC),
        &format!("grant_type=refresh_token&refresh_token={first}"),
    )
    .await;
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let (status, _, wider) = post_form(
        &url,
        Some(BASIC),
        &format!("grant_type=refresh_token&refresh_token={second}&scope=read+admin"),
    )
    .await;
    assert_eq!(
        (status, wider["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

/// A provider with public clients, the password grant and refreshes, whose
/// refresh policy each test sets.
fn refresh_spec(policy: &str) -> Spec {
    let source = format!(
        r#"
provider:
  id: refresh-{policy}
  name: Refresh behaviour {policy}
  token_endpoint: {{ path: /token, client_auth: none }}
mock:
  refresh: {policy}
  response_scope: always
  clients:
    - {{ id: app, grants: [password, refresh_token], scopes: [read, write] }}
  users:
    - {{ username: alice, password: wonderland }}
cases: []
"#
    );
    spec(&source, &format!("refresh-{policy}"))
}

/// A token request of the public client `app`: its status and body.
async fn app_token(url: &str, body: &str) -> (u16, Value) {
    let (status, _, body) = post_form(url, None, &format!("client_id=app&{body}")).await;
    (status, body)
}

async fn login(url: &str) -> (String, String) {
    let (status, body) = app_token(
        url,
        "grant_type=password&username=alice&password=wonderland&scope=read+write",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn refresh(url: &str, token: &str) -> (u16, Value) {
    app_token(
        url,
        &format!("grant_type=refresh_token&refresh_token={token}"),
    )
    .await
}

/// What each refresh behaviour does, step by step: a login, a refresh, the
/// used refresh token again, then the newest one, and the access tokens at
/// the protected resource.
#[tokio::test]
async fn each_refresh_behaviour_is_emulated_as_the_seed_says() {
    let policies = ["rotate", "reuse", "rotate_keep_old", "rotate_revoke_family"];
    let specs: Vec<Spec> = policies.iter().map(|p| refresh_spec(p)).collect();
    let (server, _clock) = start(&specs).await;
    for policy in policies {
        let id = format!("refresh-{policy}");
        let url = server.token_url(&id).unwrap().to_string();
        let (first_access, first) = login(&url).await;
        let (status, refreshed) = refresh(&url, &first).await;
        assert_eq!(status, 200, "{policy}: {refreshed}");
        let second = refreshed["refresh_token"].as_str().unwrap().to_owned();
        let second_access = refreshed["access_token"].as_str().unwrap().to_owned();
        assert_eq!(refreshed["scope"], "read write", "{policy}");
        let (replay_status, replayed) = refresh(&url, &first).await;
        let newest = match policy {
            // A replay under reuse presents the one token there is.
            "rotate_keep_old" => replayed["refresh_token"].as_str().unwrap().to_owned(),
            _ => second.clone(),
        };
        let (newest_status, _) = refresh(&url, &newest).await;
        let pings = (
            ping(&server, &id, &first_access).await,
            ping(&server, &id, &second_access).await,
        );
        let ok = (200, String::new());
        let revoked = (
            401,
            format!(r#"Bearer realm="{id}", error="invalid_token""#),
        );
        match policy {
            "rotate" => {
                assert_ne!(first, second);
                assert_eq!(
                    (replay_status, replayed["error"].as_str()),
                    (400, Some("invalid_grant"))
                );
                assert_eq!(newest_status, 200, "the newest token survives a replay");
                assert_eq!(pings, (ok.clone(), ok.clone()));
            }
            "reuse" => {
                assert_eq!(first, second);
                assert_eq!(replay_status, 200);
                assert_eq!(replayed["refresh_token"].as_str(), Some(first.as_str()));
                assert_eq!(newest_status, 200);
                assert_eq!(pings, (ok.clone(), ok.clone()));
            }
            "rotate_keep_old" => {
                assert_ne!(first, second);
                assert_eq!(replay_status, 200, "the used token stays valid");
                assert_ne!(newest, first, "and a replay gets a new one too");
                assert_ne!(newest, second);
                assert_eq!(newest_status, 200);
                assert_eq!(
                    refresh(&url, &second).await.0,
                    200,
                    "so does the one it replaced"
                );
                assert_eq!(pings, (ok.clone(), ok.clone()));
            }
            "rotate_revoke_family" => {
                assert_ne!(first, second);
                assert_eq!(
                    (replay_status, replayed["error"].as_str()),
                    (400, Some("invalid_grant"))
                );
                assert!(
                    replayed["error_description"]
                        .as_str()
                        .unwrap()
                        .contains("already used"),
                    "{replayed}"
                );
                assert_eq!(newest_status, 400, "the replay revoked the newest token");
                assert_eq!(pings, (revoked.clone(), revoked.clone()));
                // Another login's family is untouched.
                let (other_access, other) = login(&url).await;
                assert_eq!(refresh(&url, &other).await.0, 200);
                assert_eq!(ping(&server, &id, &other_access).await, ok);
            }
            _ => unreachable!(),
        }
    }
}

/// A refresh that is refused (asking for more scope) leaves the token as
/// it was: under rotate_revoke_family it is not used, so presenting it
/// again is no replay.
#[tokio::test]
async fn a_refused_refresh_does_not_use_the_refresh_token() {
    for policy in ["rotate", "rotate_revoke_family"] {
        let spec = refresh_spec(policy);
        let (server, _clock) = start(std::slice::from_ref(&spec)).await;
        let url = server.token_url(&spec.provider.id).unwrap().to_string();
        let (access, first) = login(&url).await;
        let (status, wider) = app_token(
            &url,
            &format!("grant_type=refresh_token&refresh_token={first}&scope=read+admin"),
        )
        .await;
        assert_eq!(
            (status, wider["error"].as_str()),
            (400, Some("invalid_scope")),
            "{policy}"
        );
        let (status, body) = refresh(&url, &first).await;
        assert_eq!(status, 200, "{policy}: {body}");
        assert_eq!(ping(&server, &spec.provider.id, &access).await.0, 200);
    }
}

/// Lifetimes by grant and by client, the most specific winning: `expires_in`
/// says them, and the protected resource holds to them.
#[tokio::test]
async fn lifetimes_by_grant_and_by_client_are_served_and_kept() {
    let source = r#"
provider:
  id: lifetimes
  name: Lifetimes by grant and client
  token_endpoint: { path: /token, client_auth: post }
mock:
  token_lifetime: { default: 3600, client_credentials: 600, password: 864000 }
  clients:
    - { id: plain, secret: s, grants: [client_credentials, password, refresh_token] }
    - id: short
      secret: s
      grants: [client_credentials, password]
      token_lifetime: 300
    - id: refreshing
      secret: s
      grants: [client_credentials, password, refresh_token]
      token_lifetime: { refresh_token: 60 }
  users:
    - { username: alice, password: wonderland }
cases: []
"#;
    let (server, clock) = start(&[spec(source, "lifetimes")]).await;
    let url = server.token_url("lifetimes").unwrap().to_string();
    let grant = |client: &str, body: &str| {
        let url = url.clone();
        let body = format!("client_id={client}&client_secret=s&{body}");
        async move {
            let (status, _, answer) = post_form(&url, None, &body).await;
            assert_eq!(status, 200, "{answer}");
            answer
        }
    };
    let password = "grant_type=password&username=alice&password=wonderland";
    let expires_in = |answer: &Value| answer["expires_in"].as_u64().unwrap();
    // The seed's lifetimes by grant, and its default for a refresh.
    let plain_cc = grant("plain", "grant_type=client_credentials").await;
    assert_eq!(expires_in(&plain_cc), 600);
    let plain_login = grant("plain", password).await;
    assert_eq!(expires_in(&plain_login), 864_000);
    let refresh_body = |answer: &Value| {
        format!(
            "grant_type=refresh_token&refresh_token={}",
            answer["refresh_token"].as_str().unwrap()
        )
    };
    assert_eq!(
        expires_in(&grant("plain", &refresh_body(&plain_login)).await),
        3600
    );
    // A client's one number beats the seed's lifetimes by grant.
    assert_eq!(
        expires_in(&grant("short", "grant_type=client_credentials").await),
        300
    );
    assert_eq!(expires_in(&grant("short", password).await), 300);
    // A client's lifetime for a grant beats the seed's; its other grants
    // fall back to the seed's.
    let login = grant("refreshing", password).await;
    assert_eq!(expires_in(&login), 864_000);
    assert_eq!(
        expires_in(&grant("refreshing", &refresh_body(&login)).await),
        60
    );
    assert_eq!(
        expires_in(&grant("refreshing", "grant_type=client_credentials").await),
        600
    );
    // The protected resource holds tokens to the lifetime they were given.
    let token = |answer: &Value| answer["access_token"].as_str().unwrap().to_owned();
    let (cc, long) = (token(&plain_cc), token(&plain_login));
    clock.advance(Duration::from_secs(599));
    assert_eq!(ping(&server, "lifetimes", &cc).await.0, 200);
    clock.advance(Duration::from_secs(1));
    assert_eq!(ping(&server, "lifetimes", &cc).await.0, 401);
    assert_eq!(ping(&server, "lifetimes", &long).await.0, 200);
    clock.advance(Duration::from_secs(864_000 - 600));
    assert_eq!(ping(&server, "lifetimes", &long).await.0, 401);
}

#[tokio::test]
async fn wrong_secret_with_basic_gets_a_challenge_and_provider_format() {
    let (server, _) = start(&[spec(RFC_SPEC, "rfc"), shipped("shopware")]).await;
    let url = server.token_url("rfc").unwrap().to_string();
    let wrong = "Basic c3ArY2xpZW50Ondyb25n"; // "sp+client:wrong"
    let (status, headers, body) =
        post_form(&url, Some(wrong), "grant_type=client_credentials").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic realm=\"rfc\"")
    );

    let shopware = server.token_url("shopware").unwrap().to_string();
    let response = grantspec_test_support::loopback_client()
        .post(&shopware)
        .header("content-type", "application/json")
        .body(
            serde_json::json!({"grant_type": "client_credentials", "client_id": "SWIAINTEGRATION01", "client_secret": "nope"})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers().get("www-authenticate").is_none(),
        "post auth gets no Basic challenge"
    );
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["errors"][0]["status"], "401");
    assert_eq!(body["errors"][0]["code"], "4");
}

#[tokio::test]
async fn bad_requests_get_provider_errors_never_a_server_error() {
    let (server, _) = start(&[
        spec(RFC_SPEC, "rfc"),
        shipped("shopware"),
        shipped("elastic-path"),
    ])
    .await;
    let client = grantspec_test_support::loopback_client();
    let big = "a".repeat(grantspec_mock::MAX_REQUEST_BODY + 1);
    let cases: Vec<(&str, &str, &str, String, u16)> = vec![
        (
            "rfc",
            "POST",
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials&grant_type=password".into(),
            400,
        ),
        (
            "rfc",
            "POST",
            "application/x-www-form-urlencoded",
            "%%%&&&===".into(),
            400,
        ),
        (
            "rfc",
            "POST",
            "application/x-www-form-urlencoded",
            big.clone(),
            413,
        ),
        (
            "rfc",
            "POST",
            "application/json",
            "{\"grant_type\":\"client_credentials\"}".into(),
            400,
        ),
        (
            "rfc",
            "PUT",
            "application/x-www-form-urlencoded",
            "grant_type=client_credentials".into(),
            405,
        ),
        ("rfc", "POST", "text/plain", "\u{0}\u{1}binary".into(), 400),
        (
            "shopware",
            "POST",
            "application/json",
            "[1,2,3]".into(),
            400,
        ),
        (
            "shopware",
            "POST",
            "application/json",
            "{\"grant_type\": {\"nested\": true}}".into(),
            400,
        ),
        (
            "shopware",
            "POST",
            "application/json",
            "{\"grant_type\": \"client_credentials\", \"client_id\": 12345}".into(),
            401,
        ),
        (
            "shopware",
            "POST",
            "application/json",
            "{\"scope\": [1, 2]}".into(),
            400,
        ),
        (
            "shopware",
            "POST",
            "application/json",
            "{not json".into(),
            400,
        ),
        ("shopware", "POST", "application/json", big, 413),
        (
            "elastic-path",
            "POST",
            "application/x-www-form-urlencoded",
            "grant_type=implicit".into(),
            401,
        ),
    ];
    for (provider, method, content_type, body, expected) in cases {
        let url = server.token_url(provider).unwrap();
        let response = client
            .request(method.parse().unwrap(), url)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let shown: String = body.chars().take(60).collect();
        assert_eq!(
            status, expected,
            "{provider} {method} {content_type} {shown:?}: {text}"
        );
        assert!(
            serde_json::from_str::<Value>(&text).is_ok(),
            "error bodies are JSON: {text}"
        );
    }
    let unknown = client
        .get(format!("http://{}/no-such-provider/token", server.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: sends 1,280 requests from 64 clients; runs with `cargo test --all-features`"
)]
async fn sixty_four_concurrent_clients_all_succeed() {
    let (server, _) = start(&[spec(RFC_SPEC, "rfc")]).await;
    let url = server.token_url("rfc").unwrap().to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let url = url.clone();
        tasks.spawn(async move {
            let client = grantspec_test_support::loopback_client();
            let mut tokens = Vec::new();
            for _ in 0..20 {
                let response = client
                    .post(&url)
                    .header("authorization", BASIC)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("grant_type=client_credentials")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
                tokens.push(body["access_token"].as_str().unwrap().to_owned());
            }
            tokens
        });
    }
    let mut all = std::collections::HashSet::new();
    while let Some(tokens) = tasks.join_next().await {
        all.extend(tokens.unwrap());
    }
    assert_eq!(all.len(), 64 * 20, "every request got its own token");
}

#[tokio::test]
async fn startup_serves_every_provider_under_its_id() {
    let specs = [
        "advanced-store",
        "shopware",
        "elastic-path",
        "json-token-api",
    ]
    .map(shipped);
    let (server, _) = start(&specs).await;
    for spec in &specs {
        let url = server.token_url(&spec.provider.id).unwrap();
        assert!(
            url.path().starts_with(&format!("/{}/", spec.provider.id)),
            "{url}"
        );
        assert!(
            url.path().ends_with(&spec.provider.token_endpoint.path),
            "{url}"
        );
    }
}

/// How many slowloris connections a test opens: 500, or fewer when this
/// process may open fewer than 2,000 files (each connection takes two, its
/// client end and the server's).
fn slow_connections() -> usize {
    let soft_limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<usize>().ok()
        })
        .unwrap_or(1024);
    (soft_limit / 4).min(500)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out the real 1 s read timeout; runs with `cargo test --all-features`"
)]
async fn slowloris_connections_are_closed_and_valid_clients_still_served() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let slow_count = slow_connections();
    let limits = MockLimits {
        read_timeout: Duration::from_secs(1),
        ..MockLimits::default()
    };
    let server = MockServer::start_with(
        [spec(RFC_SPEC, "rfc").mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
        &limits,
    )
    .await
    .unwrap();
    let mut slow = Vec::with_capacity(slow_count);
    for _ in 0..slow_count {
        let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        stream
            .write_all(b"POST /rfc/oauth/token HTTP/1.1\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Every slow client drips one header byte every 100 ms, for at most 5 s
    // (the server's read timeout is 1 s), and reports whether the server
    // closed its connection by then.
    let mut drips = tokio::task::JoinSet::new();
    for mut stream in slow {
        drips.spawn(async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            let mut byte = [0u8; 1];
            while tokio::time::Instant::now() < deadline {
                if stream.write_all(b"x").await.is_err() {
                    return true;
                }
                let read =
                    tokio::time::timeout(Duration::from_millis(100), stream.read(&mut byte)).await;
                if let Ok(Ok(0) | Err(_)) = read {
                    return true;
                }
            }
            false
        });
    }
    // Meanwhile a valid client gets its token (the guard only stops a hang).
    let url = server.token_url("rfc").unwrap().to_string();
    let served = tokio::time::timeout(
        Duration::from_secs(5),
        post_form(&url, Some(BASIC), "grant_type=client_credentials"),
    )
    .await
    .expect("a valid client is served while slow ones are connected");
    assert_eq!(served.0, 200, "{}", served.2);
    let mut closed = 0;
    while let Some(result) = drips.join_next().await {
        closed += usize::from(result.unwrap());
    }
    assert_eq!(
        closed, slow_count,
        "every slow connection is closed after the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out the real 1 s read timeout; runs with `cargo test --all-features`"
)]
async fn connections_beyond_the_cap_wait_for_a_slot_and_are_then_served() {
    let limits = MockLimits {
        read_timeout: Duration::from_secs(1),
        max_connections: 4,
        ..MockLimits::default()
    };
    let server = MockServer::start_with(
        [spec(RFC_SPEC, "rfc").mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
        &limits,
    )
    .await
    .unwrap();
    // Four idle connections fill every slot until the read timeout closes
    // them; the fifth client waits for a slot instead of failing.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(server.addr()).await.unwrap());
    }
    let url = server.token_url("rfc").unwrap().to_string();
    let served = tokio::time::timeout(
        Duration::from_secs(10),
        post_form(&url, Some(BASIC), "grant_type=client_credentials"),
    )
    .await
    .expect("served once a slot is free");
    assert_eq!(served.0, 200, "{}", served.2);
}

/// A server for the RFC provider whose read timeout is 1 s.
async fn start_with_one_second_timeout() -> MockServer {
    let limits = MockLimits {
        read_timeout: Duration::from_secs(1),
        ..MockLimits::default()
    };
    MockServer::start_with(
        [spec(RFC_SPEC, "rfc").mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
        &limits,
    )
    .await
    .unwrap()
}

/// Sends one token request on a kept-alive connection and reads its answer;
/// the status, or `None` when the server closed the connection.
async fn kept_alive_token(stream: &mut tokio::net::TcpStream) -> Option<u16> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let body = "grant_type=client_credentials";
    let request = format!(
        "POST /rfc/oauth/token HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: {BASIC}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        answer.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&answer);
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let length: usize = text[..head_end]
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|length| length.parse().ok())
            .unwrap_or(0);
        if answer.len() >= head_end + 4 + length {
            return text.get(9..12)?.parse().ok();
        }
    }
}

#[tokio::test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out the real 1 s read timeout; runs with `cargo test --all-features`"
)]
async fn a_kept_alive_connection_waiting_past_the_read_timeout_is_closed() {
    use tokio::io::AsyncReadExt as _;
    let server = start_with_one_second_timeout().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    assert_eq!(kept_alive_token(&mut stream).await, Some(200));
    let waiting = tokio::time::Instant::now();
    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte))
        .await
        .expect("closed within 5 s");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(
        waiting.elapsed() >= Duration::from_millis(900),
        "closed after {:?}, before its timeout",
        waiting.elapsed()
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out the real 1 s read timeout; runs with `cargo test --all-features`"
)]
async fn the_read_timeout_runs_from_the_last_answer_not_from_the_connection() {
    let server = start_with_one_second_timeout().await;
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    // Nine requests 250 ms apart keep one connection busy for twice the
    // timeout; each comes well within the timeout of the answer before.
    for request in 0..9 {
        assert_eq!(
            kept_alive_token(&mut stream).await,
            Some(200),
            "request {request}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Sends `request` as raw bytes and reads the answer until the server closes
/// the connection (or 5 s pass).
async fn raw_exchange(server: &MockServer, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out the real 1 s read timeout; runs with `cargo test --all-features`"
)]
async fn a_body_that_does_not_arrive_in_time_is_answered_408_and_closed() {
    let limits = MockLimits {
        read_timeout: Duration::from_secs(1),
        ..MockLimits::default()
    };
    let server = MockServer::start_with(
        [spec(RFC_SPEC, "rfc").mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
        &limits,
    )
    .await
    .unwrap();
    let answer = raw_exchange(
        &server,
        b"POST /rfc/oauth/token HTTP/1.1\r\nhost: 127.0.0.1\r\n\
        content-type: application/x-www-form-urlencoded\r\n\
        content-length: 100\r\n\r\ngrant_type=",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(answer.contains("invalid_request"), "{answer}");
}

#[tokio::test]
async fn a_malformed_chunked_body_is_a_bad_request_not_too_large() {
    let (server, _) = start(&[spec(RFC_SPEC, "rfc")]).await;
    for body in [
        &b"zz\r\ngrant_type=client_credentials\r\n0\r\n\r\n"[..],
        b"5\r\ngrant_type\r\n0\r\n\r\n",
        b"ffffffffffffffffff\r\nx\r\n0\r\n\r\n",
    ] {
        let mut request = b"POST /rfc/oauth/token HTTP/1.1\r\nhost: 127.0.0.1\r\n\
            content-type: application/x-www-form-urlencoded\r\n\
            transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            .to_vec();
        request.extend_from_slice(body);
        let answer = raw_exchange(&server, &request).await;
        assert!(
            answer.starts_with("HTTP/1.1 400 "),
            "{}: {answer}",
            String::from_utf8_lossy(body)
        );
        assert!(answer.contains("invalid_request"), "{answer}");
    }
}

/// A spec whose tokens live for `u64::MAX` seconds.
const FOREVER_SPEC: &str = r#"
provider:
  id: forever
  name: Tokens that never expire
  token_endpoint: { path: /oauth/token }
  response: { expiry: both }
mock:
  client_auth: [basic, post]
  clients:
    - { id: c, secret: s, grants: [client_credentials] }
cases: []
"#;

/// The loader refuses a lifetime past 100 years; the mock, built from any
/// `MockSeed` a library user makes, must still hold u64::MAX.
fn forever() -> Spec {
    let mut spec = spec(FOREVER_SPEC, "forever");
    spec.mock.as_mut().unwrap().token_lifetime = grantspec_spec::TokenLifetime::Same(u64::MAX);
    spec
}

#[tokio::test]
async fn absurd_lifetimes_and_clock_offsets_never_panic() {
    let (server, _) = start(&[forever(), spec(RFC_SPEC, "rfc")]).await;
    let client = grantspec_test_support::loopback_client();
    let token = |provider: &str, offset: Option<&str>| {
        let (id, secret) = match provider {
            "rfc" => ("sp client", "p@ss:w/rd+%"),
            _ => ("c", "s"),
        };
        let mut request = client
            .post(server.token_url(provider).unwrap())
            .basic_auth(id, Some(secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials");
        if let Some(offset) = offset {
            request = request.header("x-grantspec-clock-offset", offset);
        }
        request.send()
    };
    // A lifetime of u64::MAX seconds, at offsets up to the largest accepted.
    let max = grantspec_mock::MAX_CLOCK_OFFSET.to_string();
    let beyond = (grantspec_mock::MAX_CLOCK_OFFSET + 1).to_string();
    for offset in [None, Some("0"), Some(max.as_str())] {
        let response = token("forever", offset).await.unwrap();
        assert_eq!(response.status(), 200, "offset {offset:?}");
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert_eq!(body["expires_in"], u64::MAX, "{body}");
        assert!(body["expires"].as_u64().is_some(), "{body}");
        let access = body["access_token"].as_str().unwrap();
        let mut ping = client
            .get(format!("{}/ping", server.base_url("forever")))
            .bearer_auth(access);
        if let Some(offset) = offset {
            ping = ping.header("x-grantspec-clock-offset", offset);
        }
        assert_eq!(
            ping.send().await.unwrap().status(),
            200,
            "offset {offset:?}"
        );
    }
    // Offsets no clock can reach, or that are no number of seconds.
    for provider in ["forever", "rfc"] {
        for offset in [
            "18446744073709551615",
            "18446744073709551616",
            &beyond,
            "-1",
            "1.5",
            "ten",
            "",
        ] {
            let response = token(provider, Some(offset)).await.unwrap();
            assert_eq!(response.status(), 400, "{provider} offset {offset:?}");
            let text = response.text().await.unwrap();
            assert!(text.contains("x-grantspec-clock-offset"), "{text}");
            let ping = client
                .get(format!("{}/ping", server.base_url(provider)))
                .bearer_auth("whatever")
                .header("x-grantspec-clock-offset", offset)
                .send()
                .await
                .unwrap();
            assert_eq!(ping.status(), 400, "{provider} ping offset {offset:?}");
        }
    }
}

#[tokio::test]
async fn absurd_limits_are_clamped_and_the_server_still_serves() {
    let limits = MockLimits {
        max_tokens: usize::MAX,
        read_timeout: Duration::MAX,
        max_connections: usize::MAX,
    };
    let server = MockServer::start_with(
        [spec(RFC_SPEC, "rfc").mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
        &limits,
    )
    .await
    .unwrap();
    let url = server.token_url("rfc").unwrap().to_string();
    let (status, _, body) = post_form(&url, Some(BASIC), "grant_type=client_credentials").await;
    assert_eq!(status, 200, "{body}");
}

/// One provider per dialect family that client libraries carry fixes for,
/// each served by the mock from its profile and seed, each read by the
/// token client through the same profile.
const DIALECTS: &str = r#"
provider:
  id: PROVIDER
  name: a dialect
  token_endpoint: { path: /token, client_auth: post }
  PROFILE
mock:
  clients:
    - { id: app, secret: s3cret, grants: [client_credentials] }
  SEED
cases: []
"#;

fn dialect(id: &str, profile: &str, seed: &str) -> Spec {
    let source = DIALECTS
        .replace("PROVIDER", id)
        .replace("  PROFILE\n", &format!("  {profile}\n"))
        .replace("  SEED\n", &format!("  {seed}\n"));
    spec(&source, id)
}

/// The raw answer to a client_credentials request with `secret`.
async fn raw_token(server: &MockServer, id: &str, secret: &str) -> (u16, String, String) {
    raw_token_accepting(server, id, secret, "*/*").await
}

/// [`raw_token`] with `Accept: <accept>`.
async fn raw_token_accepting(
    server: &MockServer,
    id: &str,
    secret: &str,
    accept: &str,
) -> (u16, String, String) {
    let response = grantspec_test_support::loopback_client()
        .post(server.token_url(id).unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", accept)
        .body(format!(
            "grant_type=client_credentials&client_id=app&client_secret={secret}"
        ))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn each_answer_dialect_is_served_from_the_profile_and_read_back_through_it() {
    use grantspec_token::{ClientCredentials, Grant, TokenClient, TokenRequest, TokenType};

    let specs = [
        // GitHub: a form answer unless asked for JSON, errors with 200.
        dialect(
            "form",
            "response: { encoding: form }",
            "token_type: bearer\n  error_status: 200",
        ),
        // Facebook's legacy answer: text/plain form, `expires` from now, no token_type.
        dialect(
            "legacy",
            "response: { encoding: form, expiry: expires_relative, missing_token_type: assume_bearer }",
            "content_type: text/plain; charset=UTF-8\n  token_type: \"\"\n  token_lifetime: 5183999",
        ),
        // Plentymarkets' camelCase members.
        dialect(
            "camel",
            "response: { members: { access_token: accessToken, token_type: tokenType, expires_in: expiresIn } }",
            "token_lifetime: 86400",
        ),
        // Slack: `ok`, token_type `bot`, errors with 200 and `ok: false`.
        dialect(
            "okay",
            "response: { bearer_aliases: [bot] }",
            "token_type: bot\n  extra_members: { ok: true }\n  error_status: 200\n  error_members: { ok: false }",
        ),
        // Fitbit: an errors array of errorType and message.
        dialect(
            "typed",
            "errors: errors_array",
            "error_items: { shape: error_type }",
        ),
        // Mailchimp: expires_in 0, a token that does not expire.
        dialect(
            "forever",
            "response: { zero_lifetime: never }",
            "token_lifetime: 0",
        ),
        // eBay: a token_type that means Bearer.
        dialect(
            "aliased",
            "response: { bearer_aliases: [Application Access Token] }",
            "token_type: Application Access Token\n  token_lifetime: 7200",
        ),
    ];
    let (server, clock) = start(&specs).await;
    let wire = |id: &'static str| {
        let server = &server;
        async move { raw_token(server, id, "s3cret").await }
    };
    let refused = |id: &'static str| {
        let server = &server;
        async move { raw_token(server, id, "wrong").await }
    };

    let (status, content_type, body) = wire("form").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-www-form-urlencoded")
    );
    assert!(body.starts_with("access_token="), "{body}");
    assert!(
        body.contains("&token_type=bearer&expires_in=3600"),
        "{body}"
    );
    let (status, _, body) = refused("form").await;
    assert_eq!(status, 200, "GitHub answers errors with 200");
    assert!(
        body.starts_with("error=invalid_client&error_description="),
        "{body}"
    );

    let (_, content_type, body) = wire("legacy").await;
    assert_eq!(content_type, "text/plain; charset=UTF-8");
    assert!(body.ends_with("&expires=5183999"), "{body}");
    assert!(!body.contains("token_type"), "{body}");

    let (_, _, body) = wire("camel").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert!(
        json["accessToken"].is_string() && json.get("access_token").is_none(),
        "{body}"
    );
    assert_eq!(json["expiresIn"], 86400);

    let (_, _, body) = wire("okay").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (json["ok"].clone(), json["token_type"].clone()),
        (Value::Bool(true), Value::from("bot"))
    );
    let (status, _, body) = refused("okay").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        (json["ok"].clone(), json["error"].clone()),
        (Value::Bool(false), Value::from("invalid_client"))
    );

    let (status, _, body) = refused("typed").await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 401);
    assert_eq!(json["errors"][0]["errorType"], "invalid_client");
    assert!(json["errors"][0]["message"].is_string());
    assert_eq!(json["success"], false);

    let (_, _, body) = wire("forever").await;
    assert!(body.contains(r#""expires_in":0"#), "{body}");

    // The token client reads each through the profile alone.
    let request = |secret: &str| {
        TokenRequest::new(
            Grant::ClientCredentials,
            ClientCredentials::new("app", secret),
        )
    };
    for spec in &specs {
        let id = spec.provider.id.as_str();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .fetch(&request("s3cret"))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(token.token_type, TokenType::Bearer, "{id}");
        let refusal = client.fetch(&request("wrong")).await.unwrap_err();
        let provider_error = refusal
            .provider_error()
            .unwrap_or_else(|| panic!("{id}: {refusal}"));
        assert!(
            provider_error.code() == Some("invalid_client")
                || matches!(&provider_error.body, grantspec_token::ErrorBody::ErrorsArray(items) if items[0].code.as_deref() == Some("invalid_client")),
            "{id}: {provider_error:?}"
        );
        if id == "forever" {
            assert_eq!(token.expires_at, None);
            clock.advance(Duration::from_secs(365 * 86_400));
            let (status, _) = ping(
                &server,
                id,
                grantspec_token::ExposeSecret::expose_secret(&token.access_token),
            )
            .await;
            assert_eq!(
                status, 200,
                "a token that does not expire is still good a year on"
            );
        }
    }
}

/// The rest of the atlas (issue #18), each from the profile and seed alone:
/// `scope: null`, `expires_in` as a string, no `token_type`, the provider's
/// own error codes, a `token_type` by grant, and the three
/// places other than `Authorization: Bearer` where an API takes the token,
/// where `/ping` accepts it and nowhere else.
/// GitHub's content negotiation, from the seed's `json_on_accept` alone:
/// tokens and errors in JSON when the request's `Accept` names
/// `application/json`, in the profile's form otherwise; without the flag,
/// the form whatever is asked.
#[tokio::test]
async fn a_negotiating_provider_answers_json_only_when_accept_names_it() {
    let specs = [
        dialect(
            "negotiates",
            "response: { encoding: form }",
            "token_type: bearer\n  error_status: 200\n  json_on_accept: true",
        ),
        dialect(
            "insists",
            "response: { encoding: form }",
            "token_type: bearer\n  error_status: 200",
        ),
    ];
    let (server, _) = start(&specs).await;
    let json = [
        "application/json",
        "APPLICATION/JSON; charset=utf-8",
        "text/html, application/json;q=0.9",
    ];
    let form = [
        "*/*",
        "application/*",
        "application/xml",
        "application/json;q=0",
    ];
    for accept in json {
        let (status, content_type, body) =
            raw_token_accepting(&server, "negotiates", "s3cret", accept).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/json"),
            "{accept}"
        );
        let token: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{accept}: {e}: {body}"));
        assert!(token["access_token"].is_string(), "{accept}: {body}");
        assert_eq!(token["token_type"], "bearer", "{accept}: {body}");

        let (status, content_type, body) =
            raw_token_accepting(&server, "negotiates", "wrong", accept).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/json"),
            "{accept}"
        );
        let error: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{accept}: {e}: {body}"));
        assert_eq!(error["error"], "invalid_client", "{accept}: {body}");

        let (_, content_type, body) =
            raw_token_accepting(&server, "insists", "s3cret", accept).await;
        assert_eq!(
            content_type, "application/x-www-form-urlencoded",
            "{accept}"
        );
        assert!(body.starts_with("access_token="), "{accept}: {body}");
    }
    for accept in form {
        let (status, content_type, body) =
            raw_token_accepting(&server, "negotiates", "s3cret", accept).await;
        assert_eq!(
            (status, content_type.as_str()),
            (200, "application/x-www-form-urlencoded"),
            "{accept}"
        );
        assert!(body.starts_with("access_token="), "{accept}: {body}");

        let (_, content_type, body) =
            raw_token_accepting(&server, "negotiates", "wrong", accept).await;
        assert_eq!(
            content_type, "application/x-www-form-urlencoded",
            "{accept}"
        );
        assert!(
            body.starts_with("error=invalid_client&"),
            "{accept}: {body}"
        );
    }
}

#[tokio::test]
async fn scope_null_string_lifetimes_and_token_placements_are_served_from_the_profile() {
    let specs = [
        // Mailchimp: `scope: null`, `expires_in: 0`, no token_type.
        dialect(
            "nullscope",
            "response: { zero_lifetime: never, missing_token_type: assume_bearer }",
            "token_type: \"\"\n  token_lifetime: 0\n  response_scope: \"null\"",
        ),
        // Weibo: `expires_in` as a string, no token_type.
        dialect(
            "stringly",
            "response: { missing_token_type: assume_bearer }",
            "token_type: \"\"\n  token_lifetime: 600\n  expires_in_as_string: true",
        ),
        dialect(
            "query",
            "resource: { token: { query: access_token } }",
            "token_lifetime: 600",
        ),
        dialect(
            "field",
            "resource: { token: { form: token } }",
            "token_lifetime: 600",
        ),
        dialect(
            "bare",
            "resource: { token: bare_header }",
            "token_lifetime: 600",
        ),
        dialect(
            "scheme",
            "resource: { token: { header: OAuth } }",
            "token_lifetime: 600",
        ),
        // Slack's own codes for RFC 6749's meanings; eBay's spelling by grant.
        dialect(
            "coded",
            "response: { bearer_aliases: [Application Access Token] }",
            "error_codes: { invalid_client: invalid_client_id }\n  token_type_by_grant: { client_credentials: Application Access Token }",
        ),
    ];
    let (server, _) = start(&specs).await;
    let json = |body: &str| -> Value { serde_json::from_str(body).unwrap() };

    let (_, _, body) = raw_token(&server, "nullscope", "s3cret").await;
    let answer = json(&body);
    assert_eq!(answer["scope"], Value::Null, "{body}");
    assert!(answer.get("scope").is_some(), "{body}");
    assert_eq!(answer["expires_in"], 0, "{body}");
    assert!(answer.get("token_type").is_none(), "{body}");

    let (_, _, body) = raw_token(&server, "stringly", "s3cret").await;
    assert_eq!(json(&body)["expires_in"], "600", "{body}");

    let (_, _, body) = raw_token(&server, "coded", "s3cret").await;
    assert_eq!(
        json(&body)["token_type"],
        "Application Access Token",
        "{body}"
    );
    let (status, _, body) = raw_token(&server, "coded", "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(json(&body)["error"], "invalid_client_id", "{body}");

    let http = grantspec_test_support::loopback_client();
    // The mock's tokens are hexadecimal: nothing to escape.
    let form = |request: reqwest::RequestBuilder, body: &str| {
        request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_owned())
    };
    for id in ["query", "field", "bare", "scheme"] {
        let (_, _, body) = raw_token(&server, id, "s3cret").await;
        let token = json(&body)["access_token"].as_str().unwrap().to_owned();
        let url = format!("{}/ping", server.base_url(id));
        let the_profiles_way = match id {
            "query" => http.get(format!("{url}?access_token={token}")),
            "field" => form(http.post(&url), &format!("token={token}")),
            "bare" => http.get(&url).header("authorization", &token),
            _ => http
                .get(&url)
                .header("authorization", format!("OAuth {token}")),
        };
        let status = the_profiles_way.send().await.unwrap().status().as_u16();
        assert_eq!(status, 200, "{id}: the profile's placement");
        let (status, challenge) = ping(&server, id, &token).await;
        assert_eq!(status, 401, "{id}: a Bearer header is not where it looks");
        assert!(challenge.starts_with("Bearer realm="), "{id}: {challenge}");
        let elsewhere = match id {
            "query" => form(http.post(&url), &format!("access_token={token}")),
            "field" => http.get(format!("{url}?token={token}")),
            "bare" => http.get(format!("{url}?access_token={token}")),
            _ => http.get(&url).header("authorization", &token),
        };
        let status = elsewhere.send().await.unwrap().status().as_u16();
        assert_eq!(status, 401, "{id}: another placement");
    }
}

/// `request` to `path` below `provider`, answered without a server.
fn answer(
    mock: &grantspec_mock::Mock,
    provider: &str,
    path: &str,
    headers: &[(&'static str, &str)],
    body: &str,
) -> grantspec_mock::MockResponse {
    let mut request = grantspec_mock::MockRequest {
        method: http::Method::POST,
        uri: format!("/{provider}{path}").parse().unwrap(),
        body: body.to_owned().into(),
        ..Default::default()
    };
    for (name, value) in headers {
        request
            .headers
            .append(*name, http::HeaderValue::from_str(value).unwrap());
    }
    mock.handle(&request)
}

/// The names and values of `response`'s headers, in their order.
fn header_list(response: &grantspec_mock::MockResponse) -> Vec<(String, String)> {
    response
        .headers
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn token_device_and_error_answers_carry_their_headers_in_order_with_the_date() {
    let specs = [
        spec(RFC_SPEC, "rfc"),
        shipped("keycloak"),
        dialect(
            "negotiates",
            "response: { encoding: form }",
            "token_type: bearer\n  json_on_accept: true",
        ),
    ];
    let clock =
        ManualClock::new(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777));
    let mock = grantspec_mock::Mock::new(
        specs.iter().map(|spec| spec.mock_provider().unwrap()),
        Arc::new(clock),
    );
    let form = ("content-type", "application/x-www-form-urlencoded");
    let date = "Sun, 06 Nov 1994 08:49:37 GMT";
    let cached = |content_type: &str| {
        [
            ("content-type", content_type),
            ("cache-control", "no-store"),
            ("pragma", "no-cache"),
            ("date", date),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .to_vec()
    };

    let token = answer(
        &mock,
        "rfc",
        "/oauth/token",
        &[form, ("authorization", BASIC)],
        "grant_type=client_credentials",
    );
    assert_eq!(token.status, 200);
    assert_eq!(header_list(&token), cached("application/json"));

    let offset = answer(
        &mock,
        "rfc",
        "/oauth/token",
        &[
            form,
            ("authorization", BASIC),
            ("x-grantspec-clock-offset", "60"),
        ],
        "grant_type=client_credentials",
    );
    assert_eq!(offset.status, 200);
    assert_eq!(offset.headers["date"], "Sun, 06 Nov 1994 08:50:37 GMT");

    let wrong = answer(
        &mock,
        "rfc",
        "/oauth/token",
        &[form, ("authorization", "Basic c3ArY2xpZW50Ondyb25n")],
        "grant_type=client_credentials",
    );
    assert_eq!(wrong.status, 401);
    let names: Vec<String> = header_list(&wrong).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.last().map(String::as_str), Some("date"), "{names:?}");
    assert_eq!(wrong.headers["date"], date);

    let device = answer(
        &mock,
        "keycloak",
        "/realms/grantspec/protocol/openid-connect/auth/device",
        &[form],
        "client_id=tv-app&client_secret=mock-tv-secret",
    );
    assert_eq!(
        device.status,
        200,
        "{}",
        String::from_utf8_lossy(&device.body)
    );
    assert_eq!(header_list(&device), cached("application/json"));

    let credentials = "client_id=app&client_secret=s3cret";
    for (accept, content_type) in [
        ("application/json", "application/json"),
        ("*/*", "application/x-www-form-urlencoded"),
    ] {
        let negotiated = answer(
            &mock,
            "negotiates",
            "/token",
            &[form, ("accept", accept)],
            &format!("grant_type=client_credentials&{credentials}"),
        );
        assert_eq!(
            negotiated.status,
            200,
            "{}",
            String::from_utf8_lossy(&negotiated.body)
        );
        assert_eq!(header_list(&negotiated), cached(content_type), "{accept}");
    }
}
