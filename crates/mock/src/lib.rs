//! An embedded emulator of OAuth 2.0 token endpoints.
//!
//! One server hosts every provider: provider `shopware` lives under
//! `http://127.0.0.1:PORT/shopware`, so its token endpoint is
//! `…/shopware/api/oauth/token` and its protected resource `…/shopware/ping`.
//!
//! Behaviour comes from each spec's provider profile and `mock` seed (clients,
//! users, lifetimes, refresh policy, accepted encodings), never from a case's
//! expected response: a test against the mock is a test of the provider's
//! described behaviour, not a tautology. This is held by type: the mock is
//! built from [`MockProvider`]s ([`grantspec_spec::Spec::mock_provider`]),
//! which carry the id, profile and seed and nothing of the cases; a spec
//! without a seed (a live-only provider) has none, and is not served.
//!
//! [`emulated_deviations`] says which deviations from the RFCs the mock's
//! answers show for a provider, so that a run against the mock judges only
//! the declared deviations it can show.

mod assertions;
mod authorize;
mod device;
mod emulated;
mod emulator;
mod json;
mod render;
mod store;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CONNECTION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use grantspec_spec::MockProvider;
use grantspec_token::Clock;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot, watch};
use url::Url;

pub use emulated::emulated_deviations;
pub use emulator::{
    DEFAULT_MAX_TOKENS, Emulator, MAX_CLOCK_OFFSET, MAX_REQUEST_BODY, MockRequest, MockResponse,
};
pub use render::OAuthError;

/// Every provider's emulator, by id.
#[derive(Debug)]
pub struct Mock {
    providers: HashMap<String, Emulator>,
}

/// How long a client may take to send a request's headers, and then its
/// body, by default.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest read timeout a mock server uses; a longer one is cut to it.
pub const MAX_READ_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// How many connections a mock server serves at once by default.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// What a mock keeps and how long it waits, so that one left running under
/// any load holds bounded memory and connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MockLimits {
    /// Tokens each provider keeps, access and refresh together (at least
    /// one). Once more have been issued the oldest is forgotten, and is then
    /// answered as an unknown token. Default [`DEFAULT_MAX_TOKENS`].
    pub max_tokens: usize,
    /// How long a connection may take to send a request's headers; the
    /// connection is closed when they are not all there by then. A
    /// connection kept alive is closed once it has waited this long for its
    /// next request. The body then has as long again; a body still
    /// incomplete is answered `408`. Default [`DEFAULT_READ_TIMEOUT`], at
    /// most [`MAX_READ_TIMEOUT`].
    pub read_timeout: Duration,
    /// Connections served at once (at least one); further ones wait in the
    /// listen backlog until one closes. Default [`DEFAULT_MAX_CONNECTIONS`].
    pub max_connections: usize,
}

impl Default for MockLimits {
    fn default() -> Self {
        Self {
            max_tokens: DEFAULT_MAX_TOKENS,
            read_timeout: DEFAULT_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

impl Mock {
    /// Emulators for `providers` (see [`Spec::mock_provider`]), all on
    /// `clock`, with the default limits.
    ///
    /// [`Spec::mock_provider`]: grantspec_spec::Spec::mock_provider
    pub fn new<'a>(
        providers: impl IntoIterator<Item = MockProvider<'a>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_limits(providers, clock, &MockLimits::default())
    }

    /// Emulators for `providers` (see [`Spec::mock_provider`]), all on
    /// `clock`, within `limits`.
    ///
    /// [`Spec::mock_provider`]: grantspec_spec::Spec::mock_provider
    pub fn with_limits<'a>(
        providers: impl IntoIterator<Item = MockProvider<'a>>,
        clock: Arc<dyn Clock>,
        limits: &MockLimits,
    ) -> Self {
        let providers = providers
            .into_iter()
            .map(|provider| {
                (
                    provider.id.to_owned(),
                    Emulator::with_max_tokens(provider, Arc::clone(&clock), limits.max_tokens),
                )
            })
            .collect();
        Self { providers }
    }

    /// The emulator of one provider.
    pub fn provider(&self, id: &str) -> Option<&Emulator> {
        self.providers.get(id)
    }

    /// Answers a request whose path starts with a provider id.
    pub fn handle(&self, request: &MockRequest) -> MockResponse {
        match self.route(request.uri.path()) {
            Some((emulator, rest)) => emulator.handle(rest, request),
            None => no_such_provider(),
        }
    }

    /// Answers a request whose body exceeded [`MAX_REQUEST_BODY`].
    pub fn reject_oversized(&self, path: &str) -> MockResponse {
        match self.route(path) {
            Some((emulator, _)) => emulator.reject(&OAuthError::too_large(MAX_REQUEST_BODY)),
            None => no_such_provider(),
        }
    }

    /// Answers a request whose body could not be read: a malformed chunk,
    /// or a connection closed before the body was complete.
    pub fn reject_unreadable(&self, path: &str) -> MockResponse {
        match self.route(path) {
            Some((emulator, _)) => emulator.reject(&OAuthError::unreadable_body()),
            None => no_such_provider(),
        }
    }

    /// Answers a request whose body did not arrive within the read timeout.
    pub fn reject_slow_body(&self, path: &str) -> MockResponse {
        match self.route(path) {
            Some((emulator, _)) => emulator.reject(&OAuthError::request_timeout()),
            None => no_such_provider(),
        }
    }

    /// The emulator a path's first segment names, and the rest of the path
    /// from its slash (`/` when there is none).
    fn route<'p>(&self, path: &'p str) -> Option<(&Emulator, &'p str)> {
        let path = path.trim_start_matches('/');
        let (id, rest) = match path.find('/') {
            Some(slash) => path.split_at(slash),
            None => (path, "/"),
        };
        Some((self.providers.get(id)?, rest))
    }
}

fn no_such_provider() -> MockResponse {
    MockResponse {
        status: 404,
        headers: HeaderMap::new(),
        body: br#"{"error":"not_found","error_description":"no such provider"}"#.to_vec(),
    }
    .with_header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
}

/// A running mock server on loopback. Stops when dropped.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    mock: Arc<Mock>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl MockServer {
    /// Starts a server for `providers` (see [`Spec::mock_provider`]) on
    /// `127.0.0.1:port` (0 picks a free port), with the default limits.
    ///
    /// [`Spec::mock_provider`]: grantspec_spec::Spec::mock_provider
    pub async fn start<'a>(
        providers: impl IntoIterator<Item = MockProvider<'a>>,
        clock: Arc<dyn Clock>,
        port: u16,
    ) -> std::io::Result<Self> {
        Self::start_with(providers, clock, port, &MockLimits::default()).await
    }

    /// Starts a server for `providers` (see [`Spec::mock_provider`]) on
    /// `127.0.0.1:port` (0 picks a free port), within `limits`.
    ///
    /// [`Spec::mock_provider`]: grantspec_spec::Spec::mock_provider
    pub async fn start_with<'a>(
        providers: impl IntoIterator<Item = MockProvider<'a>>,
        clock: Arc<dyn Clock>,
        port: u16,
        limits: &MockLimits,
    ) -> std::io::Result<Self> {
        let mock = Arc::new(Mock::with_limits(providers, clock, limits));
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(accept_loop(
            listener,
            Arc::clone(&mock),
            limits.clone(),
            stopped,
        ));
        Ok(Self {
            addr,
            mock,
            shutdown: Some(shutdown),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The emulators behind the server.
    pub fn mock(&self) -> &Mock {
        &self.mock
    }

    /// The base URL of one provider, to which its token path is joined.
    pub fn base_url(&self, provider: &str) -> Url {
        let mut url = Url::parse("http://127.0.0.1/").expect("static URL parses");
        // A SocketAddr always has a valid IP and port.
        let _ = url.set_ip_host(self.addr.ip());
        let _ = url.set_port(Some(self.addr.port()));
        url.set_path(&format!("/{provider}"));
        url
    }

    /// The token endpoint URL of one provider.
    pub fn token_url(&self, provider: &str) -> Option<Url> {
        let emulator = self.mock.provider(provider)?;
        grantspec_token::endpoint_url(&self.base_url(provider), emulator.token_path()).ok()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// Accepts connections until `stopped`, at most `limits.max_connections` at
/// once, and serves each with hyper's HTTP/1.1 server and a header read
/// timeout. One handler answers every path (the mock routes by provider id
/// itself), so there is no router. When stopped, every open connection
/// finishes the request it is serving and closes.
async fn accept_loop(
    listener: TcpListener,
    mock: Arc<Mock>,
    limits: MockLimits,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    // hyper adds the timeout to an Instant, which must not overflow.
    let read_timeout = limits.read_timeout.min(MAX_READ_TIMEOUT);
    let (stop_all, stop) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot,
            _ = &mut stopped => break,
        };
        // The semaphore is never closed.
        let Ok(slot) = slot else { break };
        let stream = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stopped => break,
        };
        let stream = match stream {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait a little rather than spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mock = Arc::clone(&mock);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mock = Arc::clone(&mock);
            async move { Ok::<_, Infallible>(serve(&mock, request, read_timeout).await) }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_all.send(());
}

async fn serve(mock: &Mock, request: Request<Incoming>, read_timeout: Duration) -> Response {
    let (parts, body) = request.into_parts();
    let read =
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_REQUEST_BODY));
    let body = match tokio::time::timeout(read_timeout, read).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(error)) => {
            let oversized = error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return into_response(if oversized {
                mock.reject_oversized(parts.uri.path())
            } else {
                mock.reject_unreadable(parts.uri.path())
            });
        }
        Err(_) => {
            let mut response = into_response(mock.reject_slow_body(parts.uri.path()));
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    into_response(mock.handle(&MockRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    }))
}

fn into_response(answer: MockResponse) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answer.headers;
    response
}
