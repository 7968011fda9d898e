//! The client against the project's embedded provider mock.

use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_token::{
    ClientCredentials, ExposeSecret as _, Grant, ManualClock, TokenClient, TokenRequest, TokenType,
};

fn shopware() -> grantspec_spec::Spec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/shopware.yaml");
    grantspec_spec::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

#[tokio::test]
async fn shopware_client_credentials_from_the_mock() {
    let spec = shopware();
    let clock = ManualClock::default();
    let server = MockServer::start(std::iter::once(&spec), Arc::new(clock.clone()), 0)
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
