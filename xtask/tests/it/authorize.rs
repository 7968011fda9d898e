//! `cargo xtask authorize` against the mock's authorization endpoint, with
//! this test as the browser: the printed URL is opened, the redirect is
//! followed to the command's loopback callback, and the code and verifier it
//! prints get tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_token::ManualClock;

/// A free port on 127.0.0.1, for the redirect URI the seed registers.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_and_its_verifier_come_back_through_the_loopback_redirect() {
    let port = free_port();
    let spec = format!(
        r#"
provider:
  id: az
  name: authorization code provider
  token_endpoint: {{ path: /token, client_auth: post }}
mock:
  pkce: {{ required: true }}
  clients:
    - {{ id: app, secret: app-secret, grants: [authorization_code], redirect_uris: ["http://127.0.0.1:{port}/callback"] }}
cases: []
"#
    );
    let spec = grantspec_spec::load_str(Path::new("az.yaml"), &spec)
        .unwrap()
        .spec;
    let server = MockServer::start(
        [spec.mock_provider().unwrap()],
        Arc::new(ManualClock::default()),
        0,
    )
    .await
    .unwrap();
    let endpoint = format!("{}/authorize", server.base_url("az"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["authorize", "--endpoint", &endpoint, "--client-id", "app"])
        .args(["--redirect-port", &port.to_string(), "--env-prefix", "AZ"])
        .args(["--timeout-secs", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let url = loop {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if line.starts_with("http") {
            break line.trim().to_owned();
        }
    };
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(!url.contains("code_verifier"), "{url}");

    let browser = grantspec_test_support::loopback_client();
    let answer = browser.get(&url).send().await.unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let callback = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.starts_with(&format!("http://127.0.0.1:{port}/callback?code=")));
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status().as_u16(), 200);

    let status = child.wait().unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "{stdout}");
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("export {name}=")))
            .map(|quoted| quoted.trim_matches('\'').to_owned())
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
    };
    let (code, verifier) = (value("AZ_CODE"), value("AZ_CODE_VERIFIER"));
    assert_eq!(
        value("AZ_REDIRECT_URI"),
        format!("http://127.0.0.1:{port}/callback")
    );

    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let form: String = [
        ("grant_type", "authorization_code"),
        ("client_id", "app"),
        ("client_secret", "app-secret"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.as_str()),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", urlencode(value)))
    .collect::<Vec<_>>()
    .join("&");
    let tokens = grantspec_test_support::loopback_client()
        .post(server.token_url("az").unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(tokens.status().as_u16(), 200);
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
