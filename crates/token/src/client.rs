//! Sending token requests safely, and a client that turns grants into tokens.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::{Host, Url};

use crate::clock::{Clock, SystemClock};
use crate::profile::ProviderProfile;
use crate::request::{BuildError, HttpRequest, TokenRequest, build_request};
use crate::response::{HttpResponse, ResponseError, Token, parse_response};

/// Limits and policies of a [`Transport`].
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole exchange, body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body: usize,
    /// Send credentials over plain `http://` to hosts other than loopback.
    pub allow_insecure_http: bool,
    /// Honour the system's proxy settings (`HTTPS_PROXY`, …).
    pub use_system_proxy: bool,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_body: 1024 * 1024,
            allow_insecure_http: false,
            use_system_proxy: false,
        }
    }
}

/// Why an exchange with a token endpoint failed.
#[derive(Debug, thiserror::Error)]
#[error("{method} {url}: {kind}")]
pub struct TransportError {
    /// Method of the request (empty when no request was made).
    pub method: String,
    /// URL of the request; never carries credentials.
    pub url: String,
    /// What went wrong.
    pub kind: TransportErrorKind,
}

/// The kinds of [`TransportError`].
#[derive(Debug, thiserror::Error)]
pub enum TransportErrorKind {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// Credentials would have crossed the network in clear.
    #[error(
        "refusing to send credentials over plain http to a host other than loopback: use https, or allow insecure http explicitly"
    )]
    InsecureHttp,
    /// The method is not a valid HTTP method.
    #[error("invalid HTTP method")]
    InvalidMethod,
    /// The exchange did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The connection failed or broke.
    #[error("{0}")]
    Io(String),
    /// The response body exceeded the cap.
    #[error("response body exceeds the {0}-byte limit")]
    TooLarge(usize),
}

/// An HTTP client for token endpoints: TLS verified, timeouts, no redirects,
/// capped bodies, no proxy unless asked, credentials never over plain http
/// except to loopback. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Transport {
    http: reqwest::Client,
    config: Arc<TransportConfig>,
}

impl Transport {
    /// A transport with `config`.
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false)
            .user_agent(concat!("grantspec/", env!("CARGO_PKG_VERSION")));
        if !config.use_system_proxy {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| TransportError {
            method: String::new(),
            url: String::new(),
            kind: TransportErrorKind::Client(e.to_string()),
        })?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// The limits this transport applies.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Sends `request` and reads the whole (capped) response.
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.check_cleartext(request)?;
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| failure(request, TransportErrorKind::InvalidMethod))?;
        let mut builder = self.http.request(method, request.url.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.expose());
        }
        if let Some(body) = &request.body {
            if let Some(content_type) = body.content_type() {
                builder = builder.header("content-type", content_type);
            }
            builder = builder.body(body.to_bytes());
        }
        let failed = |error: reqwest::Error| self.describe(request, error);
        let mut response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let limit = self.config.max_body;
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(failure(request, TransportErrorKind::TooLarge(limit)));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            if body.len() + chunk.len() > limit {
                return Err(failure(request, TransportErrorKind::TooLarge(limit)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }

    fn describe(&self, request: &HttpRequest, error: reqwest::Error) -> TransportError {
        if error.is_timeout() {
            return failure(request, TransportErrorKind::Timeout(self.config.timeout));
        }
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        failure(request, TransportErrorKind::Io(message))
    }

    fn check_cleartext(&self, request: &HttpRequest) -> Result<(), TransportError> {
        if request.url.scheme() != "http" || self.config.allow_insecure_http {
            return Ok(());
        }
        let carries_secret = request.carries_secret();
        if !carries_secret || is_loopback(&request.url) {
            return Ok(());
        }
        Err(failure(request, TransportErrorKind::InsecureHttp))
    }
}

fn failure(request: &HttpRequest, kind: TransportErrorKind) -> TransportError {
    TransportError {
        method: request.method.clone(),
        url: request.url.to_string(),
        kind,
    }
}

/// Whether `url` points at this machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why a token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The request could not be built from the profile.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The exchange failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The response was a refusal or unusable.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

/// Gets tokens from one provider, speaking its dialect.
#[derive(Debug, Clone)]
pub struct TokenClient {
    profile: Arc<ProviderProfile>,
    base_url: Url,
    transport: Transport,
    clock: Arc<dyn Clock>,
}

impl TokenClient {
    /// A client for the provider described by `profile`, served at `base_url`.
    pub fn new(profile: ProviderProfile, base_url: Url) -> Result<Self, TokenError> {
        Ok(Self {
            profile: Arc::new(profile),
            base_url,
            transport: Transport::new(TransportConfig::default())?,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `transport` (and its connection pool) for every request.
    #[must_use]
    pub fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Uses `clock` to compute expiry.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The provider's profile.
    pub fn profile(&self) -> &ProviderProfile {
        &self.profile
    }

    /// Asks the token endpoint for a token, without caching.
    pub async fn fetch(&self, request: &TokenRequest) -> Result<Token, TokenError> {
        let http = build_request(&self.profile, &self.base_url, request)?;
        let response = self.transport.send(&http).await?;
        Ok(parse_response(&self.profile, &response, self.clock.now())?)
    }
}
