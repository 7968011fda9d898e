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
mod scan;
mod store;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::header::{CONNECTION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use grantspec_spec::MockProvider;
use grantspec_token::Clock;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
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
    /// The ids come from specs and no request adds one, so a request's path
    /// cannot steer the fast hash into collisions.
    providers: HashMap<String, Emulator, foldhash::fast::RandomState>,
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
/// once, and serves each with hyper's HTTP/1.1 server. One handler answers
/// every path (the mock routes by provider id itself), so there is no
/// router. When stopped, every open connection finishes the request it is
/// serving and closes.
///
/// The header read timeout is the connection task's, not hyper's: hyper's
/// makes, arms and drops a timer for every request, a sixth of the cost of
/// a token request under load; here each connection has one timer, which
/// is re-armed only when it fires (see [`Activity`]).
async fn accept_loop(
    listener: TcpListener,
    mock: Arc<Mock>,
    limits: MockLimits,
    mut stopped: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    // The timeout is added to an Instant, which must not overflow.
    let read_timeout = limits.read_timeout.min(MAX_READ_TIMEOUT);
    let (stop_all, stop) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(None);
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
        let context = Arc::new(ConnectionContext {
            mock: Arc::clone(&mock),
            activity: Activity::new(),
        });
        let service = {
            let context = Arc::clone(&context);
            hyper::service::service_fn(move |request: Request<Incoming>| {
                let context = Arc::clone(&context);
                async move {
                    context.activity.request_started();
                    let response = serve(&context.mock, request, read_timeout).await;
                    context.activity.request_finished();
                    Ok::<_, Infallible>(response)
                }
            })
        };
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let deadline = tokio::time::sleep_until(context.activity.head_deadline(read_timeout));
            let mut deadline = std::pin::pin!(deadline);
            let mut stopping = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = stop.changed(), if !stopping => {
                        stopping = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = deadline.as_mut() => {
                        let head_due = context.activity.head_deadline(read_timeout);
                        if head_due <= tokio::time::Instant::now() {
                            // Dropping the connection closes it, as hyper's
                            // own timeout did: no answer to a late head.
                            break;
                        }
                        deadline.as_mut().reset(head_due);
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_all.send(());
}

/// What a connection's requests share with the task that serves it.
struct ConnectionContext {
    mock: Arc<Mock>,
    activity: Activity,
}

/// Whether a connection is serving a request, and since when it has been
/// waiting for the next one's head: its header read timeout runs from then
/// (from the accept for the first request), as hyper's does. While a
/// request is served, its body has a timeout of its own ([`serve`]).
struct Activity {
    accepted: tokio::time::Instant,
    /// Nanoseconds from `accepted` to the end of the last request, or
    /// [`Activity::SERVING`].
    idle_since: AtomicU64,
}

impl Activity {
    const SERVING: u64 = u64::MAX;

    fn new() -> Self {
        Self {
            accepted: tokio::time::Instant::now(),
            idle_since: AtomicU64::new(0),
        }
    }

    fn request_started(&self) {
        self.idle_since.store(Self::SERVING, Ordering::Relaxed);
    }

    fn request_finished(&self) {
        let since_accept = self.accepted.elapsed().as_nanos();
        let nanos = u64::try_from(since_accept).unwrap_or(Self::SERVING - 1);
        self.idle_since.store(nanos, Ordering::Relaxed);
    }

    /// When the next request's head is due: `read_timeout` after the
    /// connection became idle, or, while a request is served, no earlier
    /// than `read_timeout` from now.
    fn head_deadline(&self, read_timeout: Duration) -> tokio::time::Instant {
        match self.idle_since.load(Ordering::Relaxed) {
            Self::SERVING => tokio::time::Instant::now() + read_timeout,
            nanos => self.accepted + Duration::from_nanos(nanos) + read_timeout,
        }
    }
}

/// The body of every answer: one buffer, known length.
type AnswerBody = Full<Bytes>;

async fn serve(
    mock: &Mock,
    request: Request<Incoming>,
    read_timeout: Duration,
) -> Response<AnswerBody> {
    let (parts, body) = request.into_parts();
    let read = read_body(body);
    let mut read = std::pin::pin!(read);
    // A body that came with the head is read without arming a timer.
    let read = match std::future::poll_fn(|cx| Poll::Ready(read.as_mut().poll(cx))).await {
        Poll::Ready(read) => read,
        Poll::Pending => match tokio::time::timeout(read_timeout, read).await {
            Ok(read) => read,
            Err(_) => {
                let mut response = into_response(mock.reject_slow_body(parts.uri.path()));
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
                return response;
            }
        },
    };
    let body = match read {
        Ok(body) => body,
        Err(Unread::Oversized) => return into_response(mock.reject_oversized(parts.uri.path())),
        Err(Unread::Broken) => return into_response(mock.reject_unreadable(parts.uri.path())),
    };
    into_response(mock.handle(&MockRequest {
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    }))
}

/// Why a request's body could not be read.
enum Unread {
    /// More than [`MAX_REQUEST_BODY`] bytes.
    Oversized,
    /// A malformed chunk, or a connection closed before the body was
    /// complete.
    Broken,
}

/// A request's body, up to [`MAX_REQUEST_BODY`] bytes; trailers are
/// ignored. A body that arrives in one piece, as most do, is not copied.
async fn read_body(mut body: Incoming) -> Result<Bytes, Unread> {
    let mut first = Bytes::new();
    let mut joined: Vec<u8> = Vec::new();
    let mut length = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Unread::Broken)?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        length += data.len();
        if length > MAX_REQUEST_BODY {
            return Err(Unread::Oversized);
        }
        if joined.is_empty() && first.is_empty() {
            first = data;
        } else {
            if joined.is_empty() {
                joined.extend_from_slice(&first);
            }
            joined.extend_from_slice(&data);
        }
    }
    Ok(if joined.is_empty() {
        first
    } else {
        Bytes::from(joined)
    })
}

fn into_response(answer: MockResponse) -> Response<AnswerBody> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = answer.headers;
    response
}
