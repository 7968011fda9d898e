//! The device authorization grant (RFC 8628): starting a device flow at the
//! device authorization endpoint (§3.1, §3.2), then polling the token
//! endpoint (§3.4, §3.5) at the `interval` the server gave, five seconds
//! longer after each `slow_down`.
//!
//! Waiting goes through a [`Sleeper`], so that a test moves a manual clock
//! instead of sleeping in real time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::client::{TokenClient, TokenError};
use crate::profile::ProviderProfile;
use crate::request::{
    Body, BuildError, ClientCredentials, Grant, HttpRequest, ParamValue, TokenRequest,
    build_raw_at, endpoint_url,
};
use crate::response::Token;

/// How much longer the polling interval gets after each `slow_down`
/// (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The polling interval when the server names none (RFC 8628 §3.2).
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// Waits. [`TokioSleeper`] waits in real time; a test's sleeper moves a
/// manual clock.
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Waits `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Waits in real time, with tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A device authorization response (RFC 8628 §3.2).
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// `device_code`, a secret.
    pub device_code: SecretString,
    /// `user_code`, shown to the user.
    pub user_code: String,
    /// `verification_uri`.
    pub verification_uri: String,
    /// `verification_uri_complete`, when given.
    pub verification_uri_complete: Option<String>,
    /// `expires_in`: how long the codes live.
    pub expires_in: Duration,
    /// `interval`: the least time between two polls; five seconds when the
    /// server names none.
    pub interval: Duration,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("device_code", &crate::REDACTED)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// Why a device flow did not give a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DeviceFlowError {
    /// Building, sending or reading a request failed, or the server refused
    /// with an error that ends the flow (`access_denied`, `expired_token`,
    /// any other).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The device authorization response is not RFC 8628 §3.2's.
    #[error("the device authorization response is unusable: {0}")]
    Malformed(String),
    /// The codes expired (by the client's clock) before the user decided.
    #[error("the device code expired after {polls} polls without a decision")]
    Expired {
        /// How many polls were sent.
        polls: u32,
    },
}

/// Builds a device authorization request (RFC 8628 §3.1) to `url`: the
/// client authenticated as the profile says (a public client sends its
/// `client_id`), and `scope` when not empty. No `grant_type`.
pub fn build_device_authorization(
    profile: &ProviderProfile,
    url: Url,
    client: Option<&ClientCredentials>,
    params: Vec<(String, ParamValue)>,
) -> Result<HttpRequest, BuildError> {
    let grant_type = profile.token_endpoint.wire_name("grant_type").to_owned();
    let mut request = build_raw_at(profile, url, "", client, params)?;
    match &mut request.body {
        Some(Body::Form(pairs)) => pairs.retain(|(name, _)| *name != grant_type),
        Some(Body::Json(fields)) => fields.retain(|(name, _)| *name != grant_type),
        Some(Body::Raw { .. }) | None => {
            let kept: Vec<(String, String)> = request
                .url
                .query_pairs()
                .filter(|(name, _)| *name != grant_type)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            request.url.set_query(None);
            if !kept.is_empty() {
                request.url.query_pairs_mut().extend_pairs(kept);
            }
        }
    }
    Ok(request)
}

impl TokenClient {
    /// Starts a device flow (RFC 8628 §3.1): asks the profile's device
    /// authorization endpoint for codes for `client` and `scope`.
    pub async fn start_device_flow(
        &self,
        client: &ClientCredentials,
        scope: &[String],
    ) -> Result<DeviceAuthorization, DeviceFlowError> {
        let endpoint = &self.profile().token_endpoint;
        let url = endpoint_url(self.base_url(), endpoint.device_authorization_path())
            .map_err(TokenError::from)?;
        let params = if scope.is_empty() {
            Vec::new()
        } else {
            vec![("scope".to_owned(), ParamValue::List(scope.to_vec()))]
        };
        let request = build_device_authorization(self.profile(), url, Some(client), params)
            .map_err(TokenError::from)?;
        let response = self
            .transport()
            .send(&request)
            .await
            .map_err(TokenError::from)?;
        let json = response.json().filter(|_| response.status == 200);
        let Some(Value::Object(body)) = json else {
            return Err(DeviceFlowError::Malformed(format!(
                "HTTP {} with body {}",
                response.status,
                response.redacted_body()
            )));
        };
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let seconds = |name: &str| body.get(name).and_then(Value::as_u64);
        let missing = |name: &str| DeviceFlowError::Malformed(format!("no `{name}`"));
        Ok(DeviceAuthorization {
            device_code: SecretString::from(
                text("device_code").ok_or_else(|| missing("device_code"))?,
            ),
            user_code: text("user_code").ok_or_else(|| missing("user_code"))?,
            verification_uri: text("verification_uri")
                .ok_or_else(|| missing("verification_uri"))?,
            verification_uri_complete: text("verification_uri_complete"),
            expires_in: Duration::from_secs(
                seconds("expires_in").ok_or_else(|| missing("expires_in"))?,
            ),
            interval: seconds("interval").map_or(DEFAULT_INTERVAL, Duration::from_secs),
        })
    }

    /// Polls the token endpoint for the device flow `authorization` until
    /// the user decides (RFC 8628 §3.4, §3.5): waits `interval` with
    /// `sleeper` before each poll, keeps polling on
    /// `authorization_pending`, waits five seconds longer for this and
    /// every later poll on `slow_down`, and stops on any other answer, or
    /// once the codes have expired by this client's clock.
    pub async fn poll_device_flow(
        &self,
        client: &ClientCredentials,
        authorization: &DeviceAuthorization,
        sleeper: &dyn Sleeper,
    ) -> Result<Token, DeviceFlowError> {
        let started = self.clock().now();
        let mut interval = authorization.interval;
        let request = TokenRequest::new(
            Grant::DeviceCode {
                device_code: authorization.device_code.clone(),
            },
            client.clone(),
        );
        let mut polls = 0;
        loop {
            sleeper.sleep(interval).await;
            let waited = self
                .clock()
                .now()
                .duration_since(started)
                .unwrap_or_default();
            if waited >= authorization.expires_in {
                return Err(DeviceFlowError::Expired { polls });
            }
            polls += 1;
            let error = match self.fetch(&request).await {
                Ok(token) => return Ok(token),
                Err(error) => error,
            };
            match error.provider_error().and_then(|refusal| refusal.code()) {
                Some("authorization_pending") => {}
                Some("slow_down") => interval += SLOW_DOWN_STEP,
                _ => return Err(error.into()),
            }
        }
    }
}
