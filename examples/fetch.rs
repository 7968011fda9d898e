//! Gets a token from the embedded Shopware mock, the way an application
//! would get one from the real provider.
//!
//! ```sh
//! cargo run --example fetch
//! ```

use std::error::Error;
use std::path::Path;
use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_token::{ClientCredentials, Grant, SystemClock, TokenClient, TokenRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // The provider's spec says how its token endpoint behaves: JSON body,
    // client_secret_post, `scopes` instead of `scope`, an `errors` array.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/shopware.yaml");
    let spec = grantspec_spec::load_file(&path)?.spec;

    // The embedded mock serves it on loopback; a live base URL works the same.
    let server = MockServer::start(
        [spec
            .mock_provider()
            .ok_or("the shopware spec seeds the mock")?],
        Arc::new(SystemClock),
        0,
    )
    .await?;
    let base_url = server.base_url("shopware");

    let client = TokenClient::new(spec.profile(), base_url.clone())?;
    let request = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("SWIAINTEGRATION01", "mock-integration-secret"),
    );
    let token = client.get_token(&request).await?;

    println!("token endpoint base: {base_url}");
    // Debug never shows the token itself.
    println!("{token:#?}");
    Ok(())
}
