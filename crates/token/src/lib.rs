//! An OAuth 2.0 token-endpoint client for providers that do not quite follow
//! RFC 6749.
//!
//! Every provider documents its token endpoint a little differently: a JSON
//! body instead of a form, `scopes` instead of `scope`, a `data` envelope, an
//! `errors` array. This crate captures those differences as data, a
//! [`ProviderProfile`], and applies them in three layers:
//!
//! - [`build_request`] turns a [`TokenRequest`] into the exact [`HttpRequest`]
//!   the provider expects (pure, no I/O);
//! - [`parse_response`] turns an [`HttpResponse`] into a [`Token`] or a typed
//!   [`ProviderError`] (pure, no I/O);
//! - [`Transport`] and [`TokenClient`] do the network part safely: TLS
//!   verified, timeouts, no redirects, capped bodies.
//!
//! Secrets (client secrets, passwords, tokens) live in [`secrecy`] types or in
//! [`Text::Secret`], and no `Debug` or `Display` output of this crate shows
//! them.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use grantspec_token::*;
//!
//! // Shopware: JSON body, client_secret_post, `scopes` instead of `scope`.
//! let profile: ProviderProfile = serde_json::from_value(serde_json::json!({
//!     "token_endpoint": {
//!         "path": "/api/oauth/token", "body": "json", "client_auth": "post",
//!         "rename": { "scope": "scopes" }
//!     },
//!     "errors": "errors_array"
//! }))?;
//! let base = url::Url::parse("https://shop.example")?;
//! let request = TokenRequest::new(
//!     Grant::ClientCredentials,
//!     ClientCredentials::new("integration-1", "s3cret"),
//! )
//! .with_scope(["write"]);
//!
//! let http = build_request(&profile, &base, &request)?;
//! assert_eq!(http.url.as_str(), "https://shop.example/api/oauth/token");
//! assert!(http.redacted().contains(r#""scopes":"write""#));
//! assert!(!http.redacted().contains("s3cret"));
//!
//! let now = SystemTime::now();
//! let response = HttpResponse {
//!     status: 200,
//!     headers: vec![("content-type".into(), "application/json".into())],
//!     body: br#"{"token_type":"bearer","expires_in":"600","access_token":"abc"}"#.to_vec(),
//! };
//! let token = parse_response(&profile, &response, now)?;
//! assert_eq!(token.token_type, TokenType::Bearer);
//! assert_eq!(token.expires_at, now + Duration::from_secs(600));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod clock;
mod profile;
mod request;
mod response;

pub use client::{
    DEFAULT_REFRESH_SKEW, TokenClient, TokenError, Transport, TransportConfig, TransportError,
    TransportErrorKind, is_loopback,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use profile::{
    BodyEncoding, ClientAuth, ErrorFormat, ExpiryStyle, HttpMethod, ListStyle, MissingTokenType,
    ProviderProfile, ResponseShape, TokenEndpoint,
};
pub use request::{
    Body, BuildError, ClientCredentials, Grant, HttpRequest, JsonField, ParamValue, REDACTED,
    SECRET_PARAMS, Text, TokenRequest, basic_authorization, build_raw, build_request, endpoint_url,
};
pub use response::{
    ErrorBody, ErrorItem, HttpResponse, ProviderError, ResponseError, TOKEN_MEMBERS, Token,
    TokenType, parse_response, redact_tokens,
};
pub use secrecy::{ExposeSecret, SecretString};
