//! The token crate's `TokenClient` against the project's embedded provider
//! mock: here, in the root package, so that the token crate never depends on
//! the mock (the mock depends on it).

use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_token::{
    ClientCredentials, ExposeSecret as _, Grant, ManualClock, TokenClient, TokenRequest, TokenType,
};

fn spec(name: &str) -> grantspec_spec::Spec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("specs")
        .join(format!("{name}.yaml"));
    grantspec_spec::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

fn shopware() -> grantspec_spec::Spec {
    spec("shopware")
}

#[tokio::test]
async fn shopware_client_credentials_from_the_mock() {
    let spec = shopware();
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = TokenClient::new(spec.profile(), server.base_url("shopware"))
        .unwrap()
        .with_clock(Arc::new(clock));
    let request = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("SWIAINTEGRATION01", "mock-integration-secret"),
    );
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.token_type, TokenType::Bearer);
    assert!(token.access_token.expose_secret().len() >= 16);
    let again = client.get_token(&request).await.unwrap();
    assert_eq!(
        again.access_token.expose_secret(),
        token.access_token.expose_secret()
    );

    let wrong = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("SWIAINTEGRATION01", "wrong"),
    );
    let error = client.fetch(&wrong).await.unwrap_err();
    assert_eq!(error.provider_error().map(|e| e.status), Some(401));
}

#[tokio::test]
async fn every_seed_provider_gives_a_token_through_its_profile() {
    let specs = [
        spec("shopware"),
        spec("advanced-store"),
        spec("elastic-path"),
        spec("json-token-api"),
    ];
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
    let confidential = |id: &str, secret: &str| {
        TokenRequest::new(Grant::ClientCredentials, ClientCredentials::new(id, secret))
    };
    let cases = [
        (
            "shopware",
            TokenRequest::new(
                Grant::password("admin", "mock-admin-password"),
                ClientCredentials::public("administration"),
            )
            .with_scope(["write"]),
        ),
        (
            "advanced-store",
            confidential("adv-client-1", "mock-adv-secret")
                .with_audience(["api.ad4mat.net", "api.advanced-store.com"]),
        ),
        (
            "elastic-path",
            confidential("ep-client-1", "mock-ep-secret"),
        ),
        ("elastic-path", TokenRequest::implicit("ep-client-1")),
        (
            "json-token-api",
            confidential("json-client-1", "mock-json-secret"),
        ),
    ];
    for (id, request) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{id} {:?}: {e}", request.grant));
        assert_eq!(token.token_type, TokenType::Bearer, "{id}");
        assert!(!token.is_expired(clock_now(&clock)), "{id}");
    }
}

fn clock_now(clock: &ManualClock) -> std::time::SystemTime {
    use grantspec_token::Clock as _;
    clock.now()
}

#[tokio::test]
async fn shopware_renewal_through_the_mock() {
    let spec = shopware();
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = TokenClient::new(spec.profile(), server.base_url("shopware"))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let request = TokenRequest::new(
        Grant::password("admin", "mock-admin-password"),
        ClientCredentials::public("administration"),
    )
    .with_scope(["write"]);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let token = client.get_token(&request).await.unwrap();
        assert!(token.refresh_token.is_some());
        seen.push(token.access_token.expose_secret().to_owned());
        // Past the renewal point (600 s lifetime, 30 s skew), not expired.
        clock.advance(std::time::Duration::from_secs(580));
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "each renewal gave a new access token");
}
