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
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use grantspec_spec::Spec;
use grantspec_token::Clock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

pub use emulator::{CLOCK_OFFSET_HEADER, Emulator, MAX_REQUEST_BODY, MockRequest, MockResponse};
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
    pub fn handle(&self, mut request: MockRequest) -> MockResponse {
        match self.route(&request.path) {
            Some((emulator, rest)) => {
                request.path = rest;
                emulator.handle(&request)
            }
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

    fn route(&self, path: &str) -> Option<(&Emulator, String)> {
        let path = path.trim_start_matches('/');
        let (id, rest) = path.split_once('/').unwrap_or((path, ""));
        Some((self.providers.get(id)?, format!("/{rest}")))
    }
}

fn no_such_provider() -> MockResponse {
    MockResponse {
        status: 404,
        headers: vec![("content-type".into(), "application/json".into())],
        body: br#"{"error":"not_found","error_description":"no such provider"}"#.to_vec(),
    }
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
        let app = axum::Router::new()
            .fallback(serve)
            .with_state(Arc::clone(&mock));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
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
        Ok(body) => body.to_vec(),
        Err(_) => return into_response(mock.reject_oversized(parts.uri.path())),
    };
    let query = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            let value = match value.to_str() {
                Ok(visible_ascii) => visible_ascii.to_owned(),
                Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let answer = mock.handle(MockRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query,
        headers,
        body,
    });
    into_response(answer)
}

fn into_response(answer: MockResponse) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
