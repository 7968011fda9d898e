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
//!   verified, timeouts, no redirects, capped bodies, no system proxy unless
//!   asked, no credentials over plain http except to loopback. The client
//!   caches tokens, renews them before they expire, shares one request
//!   between concurrent callers, keeps rotated refresh tokens and falls back
//!   to the original grant when a refresh is rejected.
//!
//! A provider that throttles is waited for, within bounds: a `429`, or a
//! `503` that says when to come back, is sent again after the wait its
//! `Retry-After` asks for (seconds or an HTTP-date; a doubling backoff
//! without one), for at most [`RetryPolicy::max_attempts`] attempts and
//! [`RetryPolicy::max_total_wait`] of waiting in all (30 seconds and three
//! attempts by default, set in [`TransportConfig::retry`]). A wait beyond
//! what is left of that budget is never started: the client gives up at
//! once, with a [`TransportErrorKind::Throttled`] error that lists every
//! answer and wait ([`Retries`]). A bare 503 is not retried: nothing says
//! it will pass soon. [`Transport::paced`] keeps every request, retries
//! included, to the [`RequestRate`] a provider allows, across every clone of
//! the transport, so that it does not throttle in the first place.
//!
//! Errors are typed: a [`TokenError`] is a [`BuildError`], a
//! [`TransportError`] (whose [`TransportErrorKind`] keeps reqwest's error as
//! its `source`, or the throttled attempts), a [`ResponseError`] (the provider's refusal, boxed, or an
//! unusable answer), a redirect, or a grant that cannot be repeated.
//!
//! What a profile can say, beside the endpoint's path (joined to the base URL
//! the client is given):
//!
//! | aspect | RFC 6749 | variations |
//! |---|---|---|
//! | method | `POST` | `GET` with parameters in the query (credentials only in Basic) |
//! | body | form | JSON |
//! | client authentication | `client_secret_basic` (form-encoded before base64) | `client_secret_post`, none |
//! | parameter names | RFC names | renames (`scope` → `scopes`) |
//! | lists (`scope`, `audience`, `resource`) | space-joined | repeated (arrays in JSON) |
//! | token object | top level | behind a JSON pointer (`/data`) |
//! | expiry | `expires_in` | numeric string, absolute `expires`, both, neither (default lifetime) |
//! | `token_type` | required | case-insensitive; a policy for a missing one |
//! | errors | `error` | `errors` array (`status` string or number), problem+json, raw |
//! | token at the API | `Authorization: Bearer` | another scheme, no scheme, a query parameter, a form field ([`present_token`]) |
//!
//! Grants: client credentials, password, refresh token, authorization code
//! (with PKCE), and Elastic Path's token-endpoint `implicit`; extra
//! parameters such as `audience` and `resource` ride on the [`TokenRequest`].
//! For the authorization code grant, [`AuthorizationRequest`] builds the URL
//! a user opens (`response_type=code`, `state`, the PKCE challenge of a
//! [`CodeVerifier`]), [`AuthorizationResponse`] reads the redirect that
//! answers it, and [`Grant::authorization_code`] exchanges the code with its
//! verifier.
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
//! assert_eq!(token.expires_at, Some(now + Duration::from_secs(600)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A [`TokenClient`] does the same over the network. It refuses to send a
//! credential in clear to anything but loopback, before connecting:
//!
//! ```
//! use std::sync::Arc;
//! use grantspec_token::*;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let profile: ProviderProfile = serde_json::from_value(serde_json::json!({
//!     "token_endpoint": { "path": "/oauth2/token", "lists": "repeat" }
//! }))?;
//! let client = TokenClient::new(profile, url::Url::parse("http://example.invalid")?)?
//!     .with_clock(Arc::new(ManualClock::default()));
//! let request = TokenRequest::new(
//!     Grant::ClientCredentials,
//!     ClientCredentials::new("client-1", "s3cret"),
//! )
//! .with_audience(["https://api-a.example", "https://api-b.example"]);
//!
//! let error = client.get_token(&request).await.unwrap_err();
//! assert!(matches!(
//!     error,
//!     TokenError::Transport(TransportError { kind: TransportErrorKind::InsecureHttp, .. })
//! ));
//! assert!(!error.to_string().contains("s3cret"));
//! # Ok(())
//! # }
//! ```
//!
//! Against a real provider, [`TokenClient::get_token`] is all an application
//! calls, as often as it likes:
//!
//! ```no_run
//! use std::time::Duration;
//! use grantspec_token::*;
//!
//! # async fn run(profile: ProviderProfile) -> Result<(), TokenError> {
//! let base = url::Url::parse("https://shop.example").expect("a valid URL");
//! let client = TokenClient::new(profile, base)?.with_refresh_skew(Duration::from_secs(60));
//! let request = TokenRequest::new(
//!     Grant::password("admin", "shopware"),
//!     ClientCredentials::public("administration"),
//! )
//! .with_scope(["write"]);
//!
//! // Cached until 60 s before expiry, then refreshed (or granted again).
//! let token = client.get_token(&request).await?;
//! let header = token.authorization_value(); // `Bearer …`, a SecretString
//! # let _ = header;
//! # Ok(())
//! # }
//! ```
//!
//! For a provider that allows 10 requests a second and whose throttling
//! should be waited out for up to a minute:
//!
//! ```no_run
//! use std::time::Duration;
//! use grantspec_token::*;
//!
//! # fn run(profile: ProviderProfile) -> Result<(), TokenError> {
//! let transport = Transport::new(TransportConfig {
//!     retry: RetryPolicy {
//!         max_attempts: 5,
//!         max_total_wait: Duration::from_secs(60),
//!         ..RetryPolicy::default()
//!     },
//!     ..TransportConfig::default()
//! })?
//! .paced(RequestRate::new(10, Duration::from_secs(1)).expect("a non-zero rate"));
//! let base = url::Url::parse("https://shop.example").expect("a valid URL");
//! let client = TokenClient::new(profile, base)?.with_transport(transport);
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

mod assertion;
mod authorize;
mod client;
mod clock;
mod device;
mod pkce;
mod present;
mod profile;
mod request;
mod response;
mod retry;

pub use assertion::{
    AssertionClaims, AssertionError, CLIENT_ASSERTION_TYPE, DEFAULT_ASSERTION_LIFETIME,
    DEVICE_CODE_GRANT_TYPE, JWT_BEARER_GRANT_TYPE, SigningAlgorithm, SigningKey,
    TOKEN_EXCHANGE_GRANT_TYPE, fresh_jti, sign_assertion, unverified_claims,
};
pub use authorize::{AuthorizationRequest, AuthorizationResponse, RedirectError};
pub use client::{
    DEFAULT_REFRESH_SKEW, Sent, TokenClient, TokenError, Transport, TransportConfig,
    TransportError, TransportErrorKind, is_loopback,
};
pub use clock::{CLOCK_OFFSET_HEADER, Clock, ManualClock, SystemClock};
pub use device::{
    DeviceAuthorization, DeviceFlowError, SLOW_DOWN_STEP, Sleeper, TokioSleeper,
    build_device_authorization,
};
pub use pkce::{
    CodeVerifier, MAX_VERIFIER_LEN, MIN_VERIFIER_LEN, PkceError, PkceMethod, is_valid_verifier,
    random_state,
};
pub use present::{present_token, resource_request};
pub use profile::{
    AcceptHeader, BodyEncoding, ClientAuth, DEFAULT_DEVICE_AUTHORIZATION_PATH, ErrorFormat,
    ExpiryStyle, HttpMethod, ListStyle, MissingTokenType, ProviderProfile, ResourceAccess,
    ResponseEncoding, ResponseMembers, ResponseShape, TokenEndpoint, TokenPlacement, ZeroLifetime,
};
pub use request::{
    ACCESS_TOKEN_TYPE, Body, BuildError, ClientAssertion, ClientCredentials, Grant, HttpRequest,
    JWT_TOKEN_TYPE, JsonField, ParamValue, REDACTED, SECRET_PARAMS, Text, TokenExchange,
    TokenRequest, basic_authorization, build_raw, build_raw_at, build_request, endpoint_url,
};
pub use response::{
    ErrorBody, ErrorItem, HttpResponse, ProviderError, ResponseError, TOKEN_MEMBERS, Token,
    TokenType, parse_response, redact_tokens, scope_values,
};
pub use retry::{GaveUp, GiveUp, RequestRate, Retries, Retry, RetryAfter, RetryPolicy, Throttled};
pub use secrecy::{ExposeSecret, SecretString};
