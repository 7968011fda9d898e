//! Sending token requests safely, and a client that turns grants into tokens.

use std::collections::HashMap;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderName, HeaderValue};
use url::{Host, Url};

use crate::clock::{Clock, SystemClock};
use crate::profile::{ClientAuth, ProviderProfile};
use crate::request::{
    BuildError, Grant, HttpRequest, ParamValue, Text, TokenRequest, build_request,
};
use crate::response::{HttpResponse, ResponseError, Token, parse_response};
use crate::retry::{Attempts, Pacer, RequestRate, Retries, RetryPolicy};

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
    /// How throttled answers (429, and 503 with `Retry-After`) are retried.
    pub retry: RetryPolicy,
}

impl Default for TransportConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_body: 1024 * 1024,
            allow_insecure_http: false,
            use_system_proxy: false,
            retry: RetryPolicy::default(),
        }
    }
}

/// Why an exchange with a token endpoint failed.
#[derive(Debug, Clone, thiserror::Error)]
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
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportErrorKind {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] Arc<reqwest::Error>),
    /// Credentials would have crossed the network in clear.
    #[error(
        "refusing to send credentials over plain http to a host other than loopback: use https, or allow insecure http explicitly"
    )]
    InsecureHttp,
    /// The method is not a valid HTTP method.
    #[error("invalid HTTP method")]
    InvalidMethod,
    /// A header's name, or its value, cannot be sent in HTTP (a control
    /// character, say). The value is not shown: it may be a secret.
    #[error("the header {name:?} cannot be sent: its name or its value is not valid HTTP")]
    InvalidHeader {
        /// The header's name, as the request gave it.
        name: String,
    },
    /// The exchange did not finish in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The connection failed or broke. The message is reqwest's error with
    /// its causes, joined by `: ` (what users see); the error itself stays
    /// the source, shared so that the error can be cloned.
    #[error("{message}")]
    Io {
        /// reqwest's error and each of its causes, joined by `: `.
        message: String,
        /// reqwest's error.
        #[source]
        source: Arc<reqwest::Error>,
    },
    /// The response body exceeded the cap.
    #[error("response body exceeds the {0}-byte limit")]
    TooLarge(usize),
    /// Every answer was throttled (429, or 503 with `Retry-After`) and the
    /// [`RetryPolicy`] gave up: the answers, the waits, and why it stopped.
    /// [`TokenClient`] reports this; [`Transport::send`] returns the last
    /// answer itself.
    #[error("{0}")]
    Throttled(Box<Retries>),
}

/// What sending a request came to: the final answer, or why there is none,
/// and the throttled answers retried before it.
#[derive(Debug)]
pub struct Sent {
    /// The final answer (throttled too, when the policy gave up on it), or
    /// why the last attempt failed.
    pub outcome: Result<HttpResponse, TransportError>,
    /// The throttled answers, and whether the policy gave up on the last.
    pub retries: Retries,
}

/// An HTTP client for token endpoints: TLS verified, timeouts, no redirects,
/// capped bodies, no proxy unless asked, credentials never over plain http
/// except to loopback; throttled answers retried as the
/// [`TransportConfig::retry`] policy says, and requests paced to a
/// [`RequestRate`] when given one ([`Transport::paced`]). Cheap to clone;
/// clones share one connection pool, and the pace.
#[derive(Debug, Clone)]
pub struct Transport {
    http: Arc<Clients>,
    config: Arc<TransportConfig>,
    pacer: Option<Pacer>,
}

/// A transport's HTTP clients, alike but for TLS.
///
/// Building a client that verifies TLS reads and parses the system's root
/// certificates (about 19 million instructions), which a run against the
/// embedded mock or a loopback server never needs: the client for
/// `https://` is built when a request first needs it. The client for plain
/// `http://` is given no root certificate at all, so a TLS handshake through
/// it can never succeed: used for anything but `http://`, it fails closed.
#[derive(Debug)]
struct Clients {
    /// For `http://` requests, without a proxy; `None` when the system's
    /// proxy settings are honoured (a proxy may itself be reached over TLS)
    /// and every request goes through `tls`.
    plain: Option<reqwest::Client>,
    tls: OnceLock<Result<reqwest::Client, Arc<reqwest::Error>>>,
    connect_timeout: Duration,
    use_system_proxy: bool,
}

impl Clients {
    fn new(config: &TransportConfig) -> Result<Self, Arc<reqwest::Error>> {
        let mut clients = Self {
            plain: None,
            tls: OnceLock::new(),
            connect_timeout: config.connect_timeout,
            use_system_proxy: config.use_system_proxy,
        };
        if config.use_system_proxy {
            clients.tls.get_or_init(|| clients.build_tls()).clone()?;
        } else {
            let no_roots: [reqwest::Certificate; 0] = [];
            let plain = clients.builder().tls_certs_only(no_roots).build();
            clients.plain = Some(plain.map_err(Arc::new)?);
        }
        Ok(clients)
    }

    /// What both clients are: no redirects followed, no retries of reqwest's
    /// own, a connect timeout, no proxy unless asked.
    fn builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            // What to retry is the transport's `RetryPolicy`. reqwest's
            // default retries HTTP/2 and HTTP/3 refusals, which this
            // HTTP/1.1 client never gets, and copies every request's
            // headers to be ready to; with no retries allowed it copies
            // nothing.
            .retry(reqwest::retry::never().max_retries_per_request(0))
            .https_only(false)
            .user_agent(concat!("grantspec/", env!("CARGO_PKG_VERSION")));
        if self.use_system_proxy {
            builder
        } else {
            builder.no_proxy()
        }
    }

    fn build_tls(&self) -> Result<reqwest::Client, Arc<reqwest::Error>> {
        self.builder().build().map_err(Arc::new)
    }

    /// The client for `url`: the plain one for `http://`, else the one that
    /// verifies TLS, built now if this is the first request to need it.
    fn for_url(&self, url: &Url) -> Result<&reqwest::Client, Arc<reqwest::Error>> {
        match &self.plain {
            Some(plain) if url.scheme() == "http" => Ok(plain),
            _ => self
                .tls
                .get_or_init(|| self.build_tls())
                .as_ref()
                .map_err(Arc::clone),
        }
    }
}

impl Transport {
    /// A transport with `config`.
    pub fn new(config: TransportConfig) -> Result<Self, TransportError> {
        let http = Clients::new(&config).map_err(|e| TransportError {
            method: String::new(),
            url: String::new(),
            kind: TransportErrorKind::Client(e),
        })?;
        Ok(Self {
            http: Arc::new(http),
            config: Arc::new(config),
            pacer: None,
        })
    }

    /// This transport (sharing its connection pool), sending requests no
    /// faster than `rate`: each attempt, retries included, waits for its
    /// turn, one [`RequestRate::interval`] after the one before, before its
    /// own deadline starts. The clones of the returned transport share the
    /// pace, so whatever sends through them, concurrently or not, keeps to
    /// `rate` together; a transport paced separately has a pace of its own.
    #[must_use]
    pub fn paced(mut self, rate: RequestRate) -> Self {
        self.pacer = Some(Pacer::new(rate));
        self
    }

    /// This transport (sharing its connection pool), each attempt starting
    /// at least `interval` after the one before started and after its answer
    /// came back: for a sender that sends one request at a time (`cargo xtask
    /// probe`), every two requests then arrive at the server at least
    /// `interval` apart. `None` for a zero interval.
    #[must_use]
    pub fn spaced(mut self, interval: Duration) -> Option<Self> {
        if interval.is_zero() {
            return None;
        }
        self.pacer = Some(Pacer::spaced(RequestRate::new(1, interval)?));
        Some(self)
    }

    /// The rate this transport keeps to, if it was [`paced`](Self::paced).
    pub fn rate(&self) -> Option<RequestRate> {
        self.pacer.as_ref().map(Pacer::rate)
    }

    /// The limits this transport applies.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Sends `request` as [`Transport::send_retrying`] does, and returns
    /// the final answer (the last throttled one, when the policy gave up).
    pub async fn send(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.send_retrying(request).await.outcome
    }

    /// Sends `request`, and sends it again after a throttled answer (429,
    /// or 503 with `Retry-After`) as the [`RetryPolicy`] allows: after the
    /// wait `Retry-After` asks for, or the backoff, within the policy's
    /// attempts and total wait. Each attempt has its own deadline (the
    /// config's `timeout`) and, on a [`paced`](Self::paced) transport, waits
    /// for its turn first. Returns the final answer and what was retried.
    pub async fn send_retrying(&self, request: &HttpRequest) -> Sent {
        let mut attempts = Attempts::default();
        loop {
            attempts.start();
            let outcome = self.send_once(request).await;
            let wait = match &outcome {
                Ok(response) => attempts.after(&self.config.retry, response, SystemTime::now()),
                Err(_) => None,
            };
            match wait {
                Some(wait) => tokio::time::sleep(wait).await,
                None => {
                    return Sent {
                        outcome,
                        retries: attempts.finish(),
                    };
                }
            }
        }
    }

    /// Sends `request` once, whatever the answer, and reads the whole
    /// (capped) response; on a [`paced`](Self::paced) transport, after
    /// waiting for its turn.
    pub async fn send_once(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        // Refused before it takes a turn it would not use.
        self.check_cleartext(request)?;
        if let Some(pacer) = &self.pacer {
            pacer.turn().await;
        }
        // reqwest's own timeout does not bound everything: an endless
        // stream of `103 Early Hints` keeps it reading interim responses. One
        // deadline over the whole exchange does. Dropping the exchange at it
        // cancels the request; hyper's connection task notices when it next
        // yields (under a flood, once tokio's cooperative budget of reads is
        // spent, a few seconds at most) and closes the connection.
        let answer = match tokio::time::timeout(self.config.timeout, self.exchange(request)).await {
            Ok(result) => result,
            Err(_) => Err(failure(
                request,
                TransportErrorKind::Timeout(self.config.timeout),
            )),
        };
        if let Some(pacer) = &self.pacer {
            pacer.answered();
        }
        answer
    }

    async fn exchange(&self, request: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| failure(request, TransportErrorKind::InvalidMethod))?;
        let url = request.wire_url();
        let client = self
            .http
            .for_url(&url)
            .map_err(|e| failure(request, TransportErrorKind::Client(e)))?;
        // The request's headers as they are, each checked once. reqwest's
        // builder copies itself for every header, and would add an
        // `Authorization` of its own for a user name in the URL.
        let mut wire = reqwest::Request::new(method, url);
        let headers = wire.headers_mut();
        headers.reserve(request.headers.len() + 1);
        let mut append = |name: &str, value: &str, secret: bool| {
            let invalid = || {
                failure(
                    request,
                    TransportErrorKind::InvalidHeader {
                        name: name.to_owned(),
                    },
                )
            };
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            value.set_sensitive(secret);
            headers.append(header, value);
            Ok::<_, TransportError>(())
        };
        for (name, value) in &request.headers {
            append(name, value.expose(), value.is_secret())?;
        }
        if let Some(body) = &request.body {
            if let Some(content_type) = body.content_type() {
                append("content-type", content_type, false)?;
            }
            *wire.body_mut() = Some(body.to_bytes().into());
        }
        let failed = |error: reqwest::Error| self.describe(request, error);
        let mut response = client.execute(wire).await.map_err(failed)?;
        let status = response.status().as_u16();
        let mut headers = Vec::with_capacity(response.headers().len());
        headers.extend(response.headers().iter().map(|(name, value)| {
            // Visible ASCII, as nearly every value is, is checked in one
            // quick pass; anything else is read as UTF-8, lossily.
            let value = match value.to_str() {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_owned(), value)
        }));
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
        // reqwest names the URL it was sending to, which may carry a query
        // token; the failure's own `url` is the shown one.
        let error = error.without_url();
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        failure(
            request,
            TransportErrorKind::Io {
                message,
                source: Arc::new(error),
            },
        )
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
        url: shown_url(&request.shown_url()),
        kind,
    }
}

/// A URL as it may be shown: without a password in its user info.
fn shown_url(url: &Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some(crate::request::REDACTED));
    }
    shown.to_string()
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
///
/// Cheap to clone: concurrent callers waiting on the same request all get
/// the same error.
#[derive(Debug, Clone, thiserror::Error)]
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
    /// The token endpoint answered with a redirect, which is never followed:
    /// following it could send credentials somewhere else.
    #[error(
        "token endpoint answered HTTP {status} redirecting to {}; redirects are never followed, so check the token endpoint URL",
        location.as_deref().unwrap_or("nowhere")
    )]
    Redirect {
        /// The 3xx status.
        status: u16,
        /// The `Location` header, without its query or fragment.
        location: Option<String>,
    },
    /// The cached token can no longer be renewed: its refresh token is gone
    /// or was rejected, and the original grant (an authorization code or a
    /// refresh token) cannot be sent twice.
    #[error(
        "the token from the `{grant_type}` grant can no longer be renewed: a new authorization is needed"
    )]
    ReauthorizationRequired {
        /// The `grant_type` of the original request.
        grant_type: &'static str,
    },
}

impl TokenError {
    /// The provider's refusal, when that is what this error is.
    pub fn provider_error(&self) -> Option<&crate::ProviderError> {
        match self {
            Self::Response(ResponseError::Refused(error)) => Some(error),
            _ => None,
        }
    }

    /// The throttled answers and waits, when the provider kept throttling
    /// and the retry policy gave up.
    pub fn retries(&self) -> Option<&Retries> {
        match self {
            Self::Transport(TransportError {
                kind: TransportErrorKind::Throttled(retries),
                ..
            }) => Some(retries),
            _ => None,
        }
    }
}

/// How long before its expiry a cached token is renewed, by default.
pub const DEFAULT_REFRESH_SKEW: Duration = Duration::from_secs(30);

/// Gets tokens from one provider, speaking its dialect, and keeps them.
///
/// - [`TokenClient::fetch`] asks the token endpoint once, without caching.
/// - [`TokenClient::get_token`] returns a cached token while it is fresh and
///   renews it shortly before it expires (see
///   [`TokenClient::with_refresh_skew`]): with the refresh token when there
///   is one, keeping the newest one when the provider rotates them, and with
///   the original grant again when the refresh is rejected (or there is no
///   refresh token) and that grant can be repeated (client credentials,
///   password, implicit). Tokens are cached per grant type, client,
///   resource owner, scope, audience, resource and other parameters.
///   Concurrent callers asking for the same key share one request, and its
///   outcome, success or error.
///
/// Expiry is judged by the injected [`Clock`]. Clones share the cache and
/// the connection pool.
#[derive(Clone)]
pub struct TokenClient {
    profile: Arc<ProviderProfile>,
    base_url: Url,
    transport: Transport,
    clock: Arc<dyn Clock>,
    refresh_skew: Duration,
    cache: Arc<Mutex<HashMap<CacheKey, Arc<Slot>>>>,
    /// Client authentication found to work, by client id, when detecting.
    detected: Option<Arc<Mutex<HashMap<String, ClientAuth>>>>,
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("TokenClient")
            .field("profile", &self.profile)
            .field("base_url", &shown_url(&self.base_url))
            .field("transport", &self.transport)
            .field("clock", &self.clock)
            .field("refresh_skew", &self.refresh_skew)
            .field("cached_keys", &cached)
            .finish()
    }
}

impl TokenClient {
    /// A client for the provider described by `profile`, served at `base_url`
    /// (the token endpoint is the profile's path joined to it), with the
    /// default [`TransportConfig`] and the system clock.
    pub fn new(profile: ProviderProfile, base_url: Url) -> Result<Self, TokenError> {
        Ok(Self {
            profile: Arc::new(profile),
            base_url,
            transport: Transport::new(TransportConfig::default())?,
            clock: Arc::new(SystemClock),
            refresh_skew: DEFAULT_REFRESH_SKEW,
            cache: Arc::default(),
            detected: None,
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

    /// Renews a cached token `skew` before it expires (default
    /// [`DEFAULT_REFRESH_SKEW`]). For a token whose lifetime is shorter than
    /// twice the skew, renewal happens at half its lifetime instead, so a
    /// short-lived token is still reused.
    #[must_use]
    pub fn with_refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// Detects how the provider wants a confidential client to
    /// authenticate, instead of following the profile's `client_auth`, as
    /// golang.org/x/oauth2's `AuthStyleAutoDetect` does: HTTP Basic first
    /// (RFC 6749 §2.3.1's preference), then the credentials in the body, and
    /// the way that worked is kept for the client's later requests.
    ///
    /// The second way is tried only when the first was refused as a client
    /// authentication failure (401, or `invalid_client`), or with
    /// `invalid_request` for a grant that can be sent again: an
    /// authorization code or a refresh token is not sent twice on a guess.
    #[must_use]
    pub fn detecting_client_auth(mut self) -> Self {
        self.detected = Some(Arc::default());
        self
    }

    /// The client authentication detection found to work for `client_id`,
    /// once a request has succeeded with it.
    pub fn detected_client_auth(&self, client_id: &str) -> Option<ClientAuth> {
        let detected = self.detected.as_ref()?;
        detected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .copied()
    }

    /// The provider's profile.
    pub fn profile(&self) -> &ProviderProfile {
        &self.profile
    }

    /// The base URL the profile's token endpoint path is joined to.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The transport every request goes through.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The clock expiry is judged by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// How long before expiry a cached token is renewed.
    pub fn refresh_skew(&self) -> Duration {
        self.refresh_skew
    }

    /// Asks the token endpoint for a token, without caching. A throttled
    /// answer is retried as the transport's [`RetryPolicy`] allows; when it
    /// gives up, the error is a [`TransportErrorKind::Throttled`] that shows
    /// every attempt ([`TokenError::retries`]).
    pub async fn fetch(&self, request: &TokenRequest) -> Result<Token, TokenError> {
        let confidential = request
            .client
            .as_ref()
            .filter(|client| client.secret.is_some());
        let (Some(detected), Some(client)) = (&self.detected, confidential) else {
            return self.fetch_as(&self.profile, request).await;
        };
        let known = detected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&client.id)
            .copied();
        let (first, fallback) = match known {
            Some(way) => (way, None),
            None => (ClientAuth::Basic, Some(ClientAuth::Post)),
        };
        let token = match (self.fetch_authenticating(first, request).await, fallback) {
            (Ok(token), _) => Ok((first, token)),
            (Err(error), Some(second)) if refuses_client_auth(&error, request) => self
                .fetch_authenticating(second, request)
                .await
                .map(|token| (second, token)),
            (Err(error), _) => Err(error),
        };
        let (way, token) = token?;
        detected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(client.id.clone(), way);
        Ok(token)
    }

    /// [`TokenClient::fetch`] authenticating the client `way`.
    async fn fetch_authenticating(
        &self,
        way: ClientAuth,
        request: &TokenRequest,
    ) -> Result<Token, TokenError> {
        let mut profile = ProviderProfile::clone(&self.profile);
        profile.token_endpoint.client_auth = way;
        self.fetch_as(&profile, request).await
    }

    /// [`TokenClient::fetch`] with `profile`'s client authentication.
    async fn fetch_as(
        &self,
        profile: &ProviderProfile,
        request: &TokenRequest,
    ) -> Result<Token, TokenError> {
        let http = build_request(profile, &self.base_url, request)?;
        let sent = self.transport.send_retrying(&http).await;
        let response = sent.outcome?;
        if sent.retries.gave_up.is_some() {
            return Err(
                failure(&http, TransportErrorKind::Throttled(Box::new(sent.retries))).into(),
            );
        }
        if (300..400).contains(&response.status) {
            return Err(TokenError::Redirect {
                status: response.status,
                location: response.header("location").map(shown_location),
            });
        }
        Ok(parse_response(&self.profile, &response, self.clock.now())?)
    }

    /// A token for `request`: the cached one while it is fresh, otherwise a
    /// renewed one (see [`TokenClient`]). Concurrent calls for the same key
    /// send one request between them.
    pub async fn get_token(&self, request: &TokenRequest) -> Result<Token, TokenError> {
        let slot = self.slot(request);
        let seen = slot.completed.load(Ordering::Acquire);
        let mut state = slot.state.lock().await;
        if slot.completed.load(Ordering::Acquire) != seen {
            // An exchange finished while this caller waited: share its outcome.
            match (&state.last_error, &state.cached) {
                (Some(error), _) => return Err(error.clone()),
                (None, Some(cached)) => return Ok(cached.token.clone()),
                (None, None) => {}
            }
        }
        let now = self.clock.now();
        if let Some(cached) = &state.cached {
            if cached.renew_at.is_none_or(|at| now < at) {
                return Ok(cached.token.clone());
            }
        }
        let outcome = self.renew(request, &mut state).await;
        state.last_error = outcome.as_ref().err().cloned();
        slot.completed.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    /// Forgets the cached token for `request`, for instance after a resource
    /// server rejected it; the next [`TokenClient::get_token`] renews it.
    /// The refresh token, if any, is kept for that renewal.
    pub async fn invalidate(&self, request: &TokenRequest) {
        let slot = self.slot(request);
        let mut state = slot.state.lock().await;
        if let Some(cached) = &mut state.cached {
            cached.renew_at = Some(SystemTime::UNIX_EPOCH);
        }
        state.last_error = None;
    }

    /// Forgets every cached token and refresh token.
    pub fn clear_cache(&self) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn slot(&self, request: &TokenRequest) -> Arc<Slot> {
        let key = CacheKey::of(request);
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(cache.entry(key).or_default())
    }

    /// Gets a new token for a slot whose token is missing or due for renewal.
    async fn renew(
        &self,
        request: &TokenRequest,
        state: &mut SlotState,
    ) -> Result<Token, TokenError> {
        let now = self.clock.now();
        let previous = state.cached.take();
        let refresh_token = previous
            .as_ref()
            .and_then(|cached| cached.token.refresh_token.clone());

        if let Some(refresh_token) = refresh_token {
            let refresh = TokenRequest {
                grant: Grant::RefreshToken {
                    refresh_token: refresh_token.clone(),
                },
                client: request.client.clone(),
                scope: Vec::new(),
                extra: Vec::new(),
            };
            match self.fetch(&refresh).await {
                Ok(mut token) => {
                    // A provider that does not rotate keeps the old one valid.
                    if token.refresh_token.is_none() {
                        token.refresh_token = Some(refresh_token);
                    }
                    return Ok(self.store(state, token, now));
                }
                Err(error) if is_rejection(&error) => {
                    // The refresh token is dead: fall through to a fresh grant.
                }
                Err(error) => {
                    // A transient failure: keep what we have, and use it while
                    // it has not expired.
                    if let Some(previous) = previous {
                        let usable = !previous.token.is_expired(now);
                        let token = previous.token.clone();
                        state.cached = Some(previous);
                        if usable {
                            return Ok(token);
                        }
                    }
                    return Err(error);
                }
            }
        } else if let Some(previous) = previous {
            if !request.grant.is_repeatable() && !previous.token.is_expired(now) {
                // Nothing to renew with; the token is still valid.
                let token = previous.token.clone();
                state.cached = Some(previous);
                return Ok(token);
            }
        }

        if state.original_used && !request.grant.is_repeatable() {
            return Err(TokenError::ReauthorizationRequired {
                grant_type: request.grant.grant_type(),
            });
        }
        let outcome = self.fetch(request).await;
        // A grant that never reached the provider was not used up.
        state.original_used |= !matches!(
            outcome,
            Err(TokenError::Build(_) | TokenError::Transport(_))
        );
        Ok(self.store(state, outcome?, now))
    }

    fn store(&self, state: &mut SlotState, token: Token, sent_at: SystemTime) -> Token {
        let received = self.clock.now().max(sent_at);
        // A token that does not expire is renewed only when invalidated.
        let renew_at = token.expires_at.map(|expires_at| {
            let lifetime = expires_at
                .duration_since(received)
                .unwrap_or(Duration::ZERO);
            expires_at - self.refresh_skew.min(lifetime / 2)
        });
        state.cached = Some(Cached {
            token: token.clone(),
            renew_at,
        });
        token
    }
}

/// Whether `error` may be the provider refusing how the client
/// authenticated, so that another way is worth a try: 401 or
/// `invalid_client`, or `invalid_request` for a grant that may be sent
/// again.
fn refuses_client_auth(error: &TokenError, request: &TokenRequest) -> bool {
    error.provider_error().is_some_and(|refusal| {
        refusal.status == 401
            || refusal.code() == Some("invalid_client")
            || refusal.code() == Some("invalid_request") && request.grant.is_repeatable()
    })
}

/// Whether a renewal failed because the provider rejected the refresh token
/// (as opposed to a network failure or a server error).
fn is_rejection(error: &TokenError) -> bool {
    error
        .provider_error()
        .is_some_and(|e| e.is_invalid_grant() || matches!(e.status, 400 | 401))
}

/// A `Location` as it may be shown: no user info, query or fragment.
fn shown_location(location: &str) -> String {
    match Url::parse(location) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        }
        Err(_) => location
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// One cache entry: its token, and the lock that makes renewal single-flight.
#[derive(Default)]
struct Slot {
    /// How many exchanges have completed for this key.
    completed: AtomicU64,
    state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    cached: Option<Cached>,
    /// The outcome of the last exchange, when it failed.
    last_error: Option<TokenError>,
    /// Whether the request's own grant was sent already (a code or a refresh
    /// token given by the caller can be sent only once).
    original_used: bool,
}

struct Cached {
    token: Token,
    /// When to renew; `None` for a token that does not expire.
    renew_at: Option<SystemTime>,
}

/// What makes two token requests ask for the same token. Secret values are
/// kept only as hashes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    grant_type: &'static str,
    client_id: Option<String>,
    subject: Option<String>,
    scope: Vec<String>,
    params: Vec<(String, Vec<String>)>,
}

impl CacheKey {
    fn of(request: &TokenRequest) -> Self {
        let subject = match &request.grant {
            Grant::ClientCredentials | Grant::Implicit => None,
            Grant::JwtBearer { assertion } => Some(format!("jwt:{}", fingerprint(assertion))),
            Grant::DeviceCode { device_code } => {
                Some(format!("device:{}", fingerprint(device_code)))
            }
            Grant::TokenExchange(exchange) => Some(format!(
                "exchange:{}:{}",
                fingerprint(&exchange.subject_token),
                exchange
                    .actor
                    .as_ref()
                    .map(|(actor, _)| fingerprint(actor))
                    .unwrap_or_default()
            )),
            Grant::Password { username, .. } => Some(format!("user:{username}")),
            Grant::RefreshToken { refresh_token } => {
                Some(format!("refresh:{}", fingerprint(refresh_token)))
            }
            Grant::AuthorizationCode { code, .. } => Some(format!("code:{}", fingerprint(code))),
        };
        let mut scope = request.scope.clone();
        scope.sort();
        scope.dedup();
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (name, value) in &request.extra {
            let values = match value {
                ParamValue::One(Text::Plain(text)) => vec![text.clone()],
                ParamValue::One(Text::Secret(secret)) => vec![fingerprint(secret)],
                ParamValue::List(items) => items.clone(),
            };
            match params.iter_mut().find(|(param, _)| param == name) {
                Some((_, existing)) => existing.extend(values),
                None => params.push((name.clone(), values)),
            }
        }
        for (_, values) in &mut params {
            values.sort();
            values.dedup();
        }
        params.sort();
        Self {
            grant_type: request.grant.grant_type(),
            client_id: request.client.as_ref().map(|c| c.id.clone()),
            subject,
            scope,
            params,
        }
    }
}

/// A hash of a secret, to tell secrets apart without keeping them.
fn fingerprint(secret: &secrecy::SecretString) -> String {
    use secrecy::ExposeSecret as _;
    let mut hasher = DefaultHasher::new();
    secret.expose_secret().hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    /// The client that reads the system's root certificates is built only
    /// when a request first needs TLS, and then shared by every clone.
    #[test]
    fn the_tls_client_is_built_when_first_needed() {
        let transport = Transport::new(TransportConfig::default()).unwrap();
        let clients = &transport.http;
        assert!(clients.tls.get().is_none(), "built at construction");
        let plain = clients.for_url(&url("http://127.0.0.1:1/token")).unwrap();
        assert!(std::ptr::eq(plain, clients.plain.as_ref().unwrap()));
        assert!(clients.tls.get().is_none(), "built for plain http");

        let clone = transport.clone();
        let tls = clone
            .http
            .for_url(&url("https://example.com/token"))
            .unwrap();
        let built = transport.http.tls.get().unwrap().as_ref().unwrap();
        assert!(std::ptr::eq(tls, built), "the clones share it");
        assert!(!std::ptr::eq(tls, plain));
    }

    /// Anything but `http://` goes through the client that verifies TLS,
    /// and with the system's proxies honoured (a proxy may be reached over
    /// TLS) everything does.
    #[test]
    fn only_plain_http_goes_through_the_client_without_roots() {
        let transport = Transport::new(TransportConfig::default()).unwrap();
        let plain: *const reqwest::Client = transport.http.plain.as_ref().unwrap();
        for other in [
            "https://127.0.0.1/",
            "HTTPS://example.com/",
            "ftp://example.com/",
        ] {
            let client = transport.http.for_url(&url(other)).unwrap();
            assert!(!std::ptr::eq(client, plain), "{other}");
        }

        let proxied = Transport::new(TransportConfig {
            use_system_proxy: true,
            ..TransportConfig::default()
        })
        .unwrap();
        assert!(proxied.http.plain.is_none());
        let built = proxied.http.tls.get().unwrap().as_ref().unwrap();
        let client = proxied.http.for_url(&url("http://127.0.0.1:1/")).unwrap();
        assert!(std::ptr::eq(client, built));
    }
}
