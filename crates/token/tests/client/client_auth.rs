//! Client authentication detected rather than taken from the profile: a
//! server that accepts only HTTP Basic and one that accepts only the
//! credentials in the body.

use grantspec_token::{ClientAuth, ClientCredentials, Grant, ManualClock, TokenRequest};
use serde_json::json;

use crate::server::{Canned, Recorded, TestServer};
use crate::{client, client_credentials, profile};

fn token() -> Canned {
    Canned::json(
        200,
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60}),
    )
}

fn invalid_client() -> Canned {
    Canned::json(401, json!({"error": "invalid_client"}))
        .with_header("www-authenticate", "Basic realm=\"token\"")
}

/// Accepts the client's secret only by HTTP Basic.
fn basic_only(request: &Recorded) -> Canned {
    match request.basic_credentials() {
        Some((id, secret)) if id == "client-1" && secret == "secret-1" => token(),
        _ => invalid_client(),
    }
}

/// Accepts the client's secret only in the body.
fn post_only(request: &Recorded) -> Canned {
    let posted = request.param("client_id").as_deref() == Some("client-1")
        && request.param("client_secret").as_deref() == Some("secret-1");
    if posted && request.header("authorization").is_none() {
        token()
    } else {
        invalid_client()
    }
}

fn detecting(server: &TestServer, clock: &ManualClock) -> grantspec_token::TokenClient {
    // The profile says post; detection does not follow it.
    let profile = profile(json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } }));
    client(profile, &server.base, clock).detecting_client_auth()
}

#[tokio::test]
async fn a_basic_only_server_is_found_on_the_first_try_and_remembered() {
    let clock = ManualClock::default();
    let server = TestServer::start(basic_only).await;
    let client = detecting(&server, &clock);
    client.fetch(&client_credentials()).await.unwrap();
    assert_eq!(server.count(), 1);
    assert_eq!(
        client.detected_client_auth("client-1"),
        Some(ClientAuth::Basic)
    );
    client.fetch(&client_credentials()).await.unwrap();
    assert_eq!(server.count(), 2, "no second way was needed");
}

#[tokio::test]
async fn a_post_only_server_is_found_after_a_refused_basic_and_remembered() {
    let clock = ManualClock::default();
    let server = TestServer::start(post_only).await;
    let client = detecting(&server, &clock);
    client.fetch(&client_credentials()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "Basic, then the body");
    assert!(requests[0].basic_credentials().is_some());
    assert_eq!(
        requests[1].param("client_secret").as_deref(),
        Some("secret-1")
    );
    assert_eq!(
        client.detected_client_auth("client-1"),
        Some(ClientAuth::Post)
    );

    client.fetch(&client_credentials()).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "the way that worked is used at once");
    assert!(requests[2].header("authorization").is_none());
}

#[tokio::test]
async fn a_single_use_code_is_not_sent_twice_on_a_guess() {
    let clock = ManualClock::default();
    let server = TestServer::canned(Canned::json(400, json!({"error": "invalid_request"}))).await;
    let client = detecting(&server, &clock);
    let request = TokenRequest::new(
        Grant::AuthorizationCode {
            code: "code-1".into(),
            redirect_uri: Some("https://client.example/cb".into()),
            code_verifier: None,
        },
        ClientCredentials::new("client-1", "secret-1"),
    );
    let error = client.fetch(&request).await.unwrap_err();
    assert_eq!(
        error.provider_error().and_then(|e| e.code()),
        Some("invalid_request")
    );
    assert_eq!(server.count(), 1, "the code went out once");
    assert_eq!(client.detected_client_auth("client-1"), None);

    // The same refusal of a grant that may be repeated tries the body too.
    client.fetch(&client_credentials()).await.unwrap_err();
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn without_detection_the_profile_decides() {
    let clock = ManualClock::default();
    let server = TestServer::start(basic_only).await;
    let profile = profile(json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } }));
    let client = client(profile, &server.base, &clock);
    assert!(client.fetch(&client_credentials()).await.is_err());
    assert_eq!(server.count(), 1);
}
