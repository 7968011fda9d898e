//! An embedded emulator of OAuth 2.0 token endpoints.
//!
//! One server hosts every provider: provider `shopware` lives under
//! `http://127.0.0.1:PORT/shopware`, so its token endpoint is
//! `…/shopware/api/oauth/token` and its protected resource `…/shopware/ping`.
//!
//! Behaviour comes from each spec's provider profile and `mock` seed (clients,
//! users, lifetimes, refresh policy, accepted encodings), never from a case's
//! expected response: a test against the mock is a test of the provider's
//! described behaviour, not a tautology.

mod emulator;
mod render;
mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use grantspec_spec::Spec;
use grantspec_token::Clock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

pub use emulator::{Emulator, MAX_REQUEST_BODY, MockRequest, MockResponse};
pub use render::OAuthError;

/// Every provider's emulator, by id.
#[derive(Debug)]
pub struct Mock {
    providers: HashMap<String, Emulator>,
}

impl Mock {
    /// Emulators for `specs`, all on `clock`.
    pub fn new<'a>(specs: impl IntoIterator<Item = &'a Spec>, clock: Arc<dyn Clock>) -> Self {
        let providers = specs
            .into_iter()
            .map(|spec| {
                (
                    spec.provider.id.clone(),
                    Emulator::new(spec, Arc::clone(&clock)),
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
    /// Starts a server for `specs` on `127.0.0.1:port` (0 picks a free port).
    pub async fn start<'a>(
        specs: impl IntoIterator<Item = &'a Spec>,
        clock: Arc<dyn Clock>,
        port: u16,
    ) -> std::io::Result<Self> {
        let mock = Arc::new(Mock::new(specs, clock));
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        // One handler answers every path (the mock routes by provider id
        // itself), so it is served without a router.
        let app = axum::handler::Handler::with_state(serve, Arc::clone(&mock));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app.into_make_service())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
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

async fn serve(State(mock): State<Arc<Mock>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_REQUEST_BODY).await {
        Ok(body) => body,
        Err(_) => return into_response(mock.reject_oversized(parts.uri.path())),
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
