//! The authorization code grant through HTTP: the mock's authorization
//! endpoint, and what the token endpoint does with the codes it issues
//! (single use, bound to the redirect URI and the PKCE challenge, short-lived
//! on the injected clock).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use grantspec_mock::MockServer;
use grantspec_spec::load_str;
use grantspec_token::{
    AuthorizationRequest, AuthorizationResponse, CodeVerifier, ExposeSecret, ManualClock,
    PkceMethod,
};
use serde_json::Value;
use url::Url;

const SPEC: &str = r#"
provider:
  id: az
  name: authorization code provider
  token_endpoint: { path: /token, client_auth: post }
mock:
  code_lifetime: 60
  pkce: { required: true, methods: [S256] }
  clients:
    - id: app
      secret: app-secret
      grants: [authorization_code, refresh_token]
      scopes: [read, write]
      redirect_uris: ["http://127.0.0.1:9/cb", "http://127.0.0.1:9/other"]
    - { id: machine, secret: m-secret, grants: [client_credentials] , redirect_uris: ["http://127.0.0.1:9/m"] }
  users:
    - { username: alice, password: wonderland }
cases: []
"#;

const REDIRECT: &str = "http://127.0.0.1:9/cb";

async fn start(source: &str) -> (MockServer, ManualClock) {
    let spec = load_str(Path::new("az.yaml"), source).unwrap().spec;
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    (server, clock)
}

/// The mock's answer to an authorization request: status and `Location`.
async fn authorize(server: &MockServer, request: &AuthorizationRequest) -> (u16, Option<Url>) {
    let endpoint = Url::parse(&format!("{}/authorize", server.base_url("az"))).unwrap();
    let response = grantspec_test_support::loopback_client()
        .get(request.url(&endpoint))
        .send()
        .await
        .unwrap();
    let location = response
        .headers()
        .get("location")
        .map(|l| Url::parse(l.to_str().unwrap()).unwrap());
    (response.status().as_u16(), location)
}

/// A code for `app`, with a fresh S256 verifier.
async fn code(server: &MockServer) -> (String, CodeVerifier) {
    let verifier = CodeVerifier::generate().unwrap();
    let request = AuthorizationRequest::new("app")
        .with_redirect_uri(REDIRECT)
        .with_scope(["read"])
        .with_state("s-1")
        .with_pkce(&verifier, PkceMethod::S256);
    let (status, location) = authorize(server, &request).await;
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    match AuthorizationResponse::from_redirect(&location, Some("s-1")).unwrap() {
        AuthorizationResponse::Code { code, .. } => (code.expose_secret().to_owned(), verifier),
        other => panic!("{other:?}"),
    }
}

async fn post_form(server: &MockServer, pairs: &[(&str, &str)]) -> reqwest::Response {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    grantspec_test_support::loopback_client()
        .post(server.token_url("az").unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn exchange(server: &MockServer, pairs: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", "app"),
        ("client_secret", "app-secret"),
    ];
    form.extend_from_slice(pairs);
    let response = post_form(server, &form).await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().await.unwrap()).unwrap(),
    )
}

async fn ping(server: &MockServer, token: &str) -> u16 {
    grantspec_test_support::loopback_client()
        .get(format!("{}/ping", server.base_url("az")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_code_with_its_verifier_gets_tokens_for_the_requested_scope() {
    let (server, _clock) = start(SPEC).await;
    let (code, verifier) = code(&server).await;
    let (status, body) = exchange(
        &server,
        &[
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    assert_eq!(
        ping(&server, body["access_token"].as_str().unwrap()).await,
        200
    );
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_the_tokens_issued_for_it() {
    let (server, _clock) = start(SPEC).await;
    let (code, verifier) = code(&server).await;
    let pairs = [
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.secret().expose_secret()),
    ];
    let (status, first) = exchange(&server, &pairs).await;
    assert_eq!(status, 200);
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(ping(&server, access).await, 200);

    let (status, replay) = exchange(&server, &pairs).await;
    assert_eq!(status, 400);
    assert_eq!(replay["error"], "invalid_grant");
    assert_eq!(
        ping(&server, access).await,
        401,
        "the access token is revoked"
    );
    let refresh = post_form(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "app"),
            ("client_secret", "app-secret"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(
        refresh.status().as_u16(),
        400,
        "the refresh token is revoked"
    );
}

#[tokio::test]
async fn a_wrong_or_missing_verifier_and_another_redirect_uri_are_invalid_grant() {
    let (server, _clock) = start(SPEC).await;
    let (code, verifier) = code(&server).await;
    let other = CodeVerifier::generate().unwrap();
    let attempts: [&[(&str, &str)]; 4] = [
        &[
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", other.secret().expose_secret()),
        ],
        &[("code", &code), ("redirect_uri", REDIRECT)],
        &[
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
        &[
            ("code", &code),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
    ];
    for pairs in attempts {
        let (status, body) = exchange(&server, pairs).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{pairs:?}"
        );
    }
    // None of them used the code up.
    let (status, _) = exchange(
        &server,
        &[
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_code_expires_on_the_mock_clock() {
    let (server, clock) = start(SPEC).await;
    let (code, verifier) = code(&server).await;
    clock.advance(Duration::from_secs(61));
    let (status, body) = exchange(
        &server,
        &[
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn an_unregistered_redirect_uri_is_not_redirected_to() {
    let (server, _clock) = start(SPEC).await;
    let verifier = CodeVerifier::generate().unwrap();
    for request in [
        AuthorizationRequest::new("app").with_redirect_uri("http://evil.example/cb"),
        AuthorizationRequest::new("app").with_redirect_uri("http://127.0.0.1:9/cb/"),
        AuthorizationRequest::new("app"),
        AuthorizationRequest::new("nobody").with_redirect_uri(REDIRECT),
    ] {
        let request = request.with_pkce(&verifier, PkceMethod::S256);
        let (status, location) = authorize(&server, &request).await;
        assert_eq!((status, location), (400, None), "{request:?}");
    }
}

#[tokio::test]
async fn errors_the_client_may_see_are_redirected_with_state() {
    let (server, _clock) = start(SPEC).await;
    let verifier = CodeVerifier::generate().unwrap();
    let base = || {
        AuthorizationRequest::new("app")
            .with_redirect_uri(REDIRECT)
            .with_state("st")
    };
    let cases = [
        (base(), "invalid_request"),
        (
            base().with_pkce(&verifier, PkceMethod::Plain),
            "invalid_request",
        ),
        (
            base()
                .with_pkce(&verifier, PkceMethod::S256)
                .with_scope(["admin"]),
            "invalid_scope",
        ),
    ];
    for (request, expected) in cases {
        let (status, location) = authorize(&server, &request).await;
        assert_eq!(status, 302);
        match AuthorizationResponse::from_redirect(&location.unwrap(), Some("st")).unwrap() {
            AuthorizationResponse::Error { error, state, .. } => {
                assert_eq!((error.as_str(), state.as_deref()), (expected, Some("st")));
            }
            other => panic!("{other:?}"),
        }
    }
    let machine = AuthorizationRequest::new("machine")
        .with_redirect_uri("http://127.0.0.1:9/m")
        .with_pkce(&verifier, PkceMethod::S256);
    let (status, location) = authorize(&server, &machine).await;
    assert_eq!(status, 302);
    assert!(
        location
            .unwrap()
            .as_str()
            .contains("error=unauthorized_client"),
        "a client not registered for the grant"
    );
}

#[tokio::test]
async fn plain_is_accepted_only_where_the_seed_allows_it() {
    let (server, _clock) = start(&SPEC.replace("methods: [S256]", "methods: [S256, plain]")).await;
    let verifier = CodeVerifier::generate().unwrap();
    let request = AuthorizationRequest::new("app")
        .with_redirect_uri(REDIRECT)
        .with_pkce(&verifier, PkceMethod::Plain);
    let (status, location) = authorize(&server, &request).await;
    assert_eq!(status, 302);
    let Ok(AuthorizationResponse::Code { code, .. }) =
        AuthorizationResponse::from_redirect(&location.unwrap(), None)
    else {
        panic!("a code");
    };
    let (status, _) = exchange(
        &server,
        &[
            ("code", code.expose_secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.secret().expose_secret()),
        ],
    )
    .await;
    assert_eq!(status, 200);
}
