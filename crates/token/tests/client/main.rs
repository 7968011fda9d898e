//! Integration tests of the token client against in-process HTTP servers.
//!
//! One binary, several modules, to keep link time down. Every server binds
//! 127.0.0.1:0; nothing touches the network. Nothing sleeps but the retry
//! tests, which wait as long as a server's `Retry-After` asks (a second at
//! most) because that wait is what they test.

#![allow(clippy::unwrap_used)]

mod cache;
mod client_auth;
mod quirks;
mod redaction;
mod requests;
mod retry;
mod server;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use grantspec_token::{
    ClientCredentials, Clock as _, Grant, ManualClock, ProviderProfile, TokenClient, TokenRequest,
};
use url::Url;

/// A profile from its JSON form (the same shape as in a spec).
pub fn profile(value: serde_json::Value) -> ProviderProfile {
    serde_json::from_value(value).unwrap()
}

/// A client for `base` whose expiry is judged by `clock`.
pub fn client(profile: ProviderProfile, base: &Url, clock: &ManualClock) -> TokenClient {
    TokenClient::new(profile, base.clone())
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

/// A client_credentials request for a confidential client.
pub fn client_credentials() -> TokenRequest {
    TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("client-1", "secret-1"),
    )
}

/// Seconds from `clock`'s now to `at`.
pub fn seconds_until(clock: &ManualClock, at: Option<std::time::SystemTime>) -> u64 {
    at.expect("the token expires")
        .duration_since(clock.now())
        .unwrap_or(Duration::ZERO)
        .as_secs()
}
