//! Transport safety: no redirects, capped bodies, a total timeout, no
//! credentials over plain http to other hosts, the request's headers as
//! they are.

use std::time::Duration;

use grantspec_token::{
    Body, HttpResponse, ManualClock, Text, TokenClient, TokenError, Transport, TransportConfig,
    TransportError, TransportErrorKind,
};
use serde_json::json;
use url::Url;

use crate::server::{Canned, RawServer, TestServer};
use crate::{client, client_credentials, profile};

fn endpoint() -> serde_json::Value {
    json!({ "token_endpoint": { "path": "/token" } })
}

fn transport_kind(error: TokenError) -> TransportErrorKind {
    match error {
        TokenError::Transport(error) => error.kind,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let target = TestServer::canned(Canned::json(
        200,
        json!({"access_token": "stolen", "token_type": "Bearer"}),
    ))
    .await;
    let location = format!("{}token?code=abc", target.base);
    let redirecting = TestServer::canned(
        Canned::text(302, "text/plain", "moved").with_header("location", &location),
    )
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &redirecting.base, &clock);
    let error = client.fetch(&client_credentials()).await.unwrap_err();
    match &error {
        TokenError::Redirect { status, location } => {
            assert_eq!(*status, 302);
            assert_eq!(
                location.as_deref(),
                Some(format!("{}token", target.base).as_str())
            );
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
    assert!(error.to_string().contains("redirects are never followed"));
    assert_eq!(redirecting.count(), 1);
    assert_eq!(target.count(), 0);
}

#[tokio::test]
async fn a_large_body_is_refused() {
    let limited = Transport::new(TransportConfig {
        max_body: 1024,
        ..TransportConfig::default()
    })
    .unwrap();
    let big = "x".repeat(64 * 1024);
    // With a Content-Length, and streamed in chunks without one.
    let sized = TestServer::canned(Canned::json(200, json!({ "access_token": big }))).await;
    let mut chunked =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    for _ in 0..8 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 512, "y".repeat(512)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let streamed = RawServer::start(Some(chunked)).await;

    for base in [&sized.base, &streamed.base] {
        let client = TokenClient::new(profile(endpoint()), base.clone())
            .unwrap()
            .with_transport(limited.clone());
        let error = client.fetch(&client_credentials()).await.unwrap_err();
        assert!(
            matches!(transport_kind(error), TransportErrorKind::TooLarge(1024)),
            "{base}"
        );
    }
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let silent = RawServer::start(None).await;
    let transport = Transport::new(TransportConfig {
        timeout: Duration::from_millis(300),
        ..TransportConfig::default()
    })
    .unwrap();
    let client = TokenClient::new(profile(endpoint()), silent.base.clone())
        .unwrap()
        .with_transport(transport);
    let error = client.fetch(&client_credentials()).await.unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(transport_kind(error), TransportErrorKind::Timeout(t) if t == Duration::from_millis(300)),
        "{message}"
    );
}

#[tokio::test]
async fn credentials_over_plain_http_to_another_host_are_refused_before_connecting() {
    // example.invalid never resolves: the refusal must come first.
    for auth in ["basic", "post"] {
        let client = TokenClient::new(
            profile(json!({ "token_endpoint": { "path": "/token", "client_auth": auth } })),
            Url::parse("http://example.invalid/").unwrap(),
        )
        .unwrap();
        let error = client.fetch(&client_credentials()).await.unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(transport_kind(error), TransportErrorKind::InsecureHttp),
            "{message}"
        );
        assert!(message.contains("http://example.invalid/token"));
        assert!(!message.contains("secret-1"));
    }
}

#[tokio::test]
async fn a_certificate_no_trusted_authority_signed_is_refused() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let completed = Arc::clone(&handshakes);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if acceptor.accept(tcp).await.is_ok() {
                completed.fetch_add(1, Ordering::SeqCst);
            }
        }
    });

    let base = Url::parse(&format!("https://localhost:{port}/")).unwrap();
    let clock = ManualClock::default();
    let error = client(profile(endpoint()), &base, &clock)
        .fetch(&client_credentials())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(transport_kind(error), TransportErrorKind::Io { .. }),
        "{text}"
    );
    assert!(text.to_ascii_lowercase().contains("certificate"), "{text}");
    assert!(!text.contains("secret-1"), "{text}");
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        0,
        "no TLS session was established, so no request (and no credential) was sent"
    );
}

/// Why a profile cannot ask for "no Accept header": a request that names
/// none still carries reqwest's `Accept: */*`, so `token_endpoint.accept`
/// says `*/*` for a provider's default answer, which is what is sent.
#[tokio::test]
async fn a_request_naming_no_accept_arrives_with_accept_any() {
    let server = TestServer::canned(Canned::json(200, json!({}))).await;
    get(server.base.join("anything").unwrap()).await.unwrap();
    assert_eq!(server.requests()[0].header("accept"), Some("*/*"));
}

/// The request's headers go out as they are, in order, with the body's
/// `Content-Type` after them, and nothing is added for a user name in the
/// URL: reqwest's request builder would add an `Authorization` of its own.
#[tokio::test]
async fn a_request_carries_exactly_its_headers() {
    let server = TestServer::canned(Canned::json(200, json!({}))).await;
    let mut url = server.base.join("token").unwrap();
    url.set_username("someone").unwrap();
    let headers = vec![
        (
            "authorization".to_owned(),
            Text::secret("Basic Y2FuYXJ5OnM="),
        ),
        ("x-twice".to_owned(), Text::from("1")),
        ("x-twice".to_owned(), Text::from("2")),
    ];
    let form = vec![("grant_type".to_owned(), Text::from("client_credentials"))];
    send_once("POST", url, headers, Some(Body::Form(form)))
        .await
        .unwrap();
    let seen = &server.requests()[0];
    let named = |name: &str| -> Vec<&str> {
        seen.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(named("authorization"), ["Basic Y2FuYXJ5OnM="]);
    assert_eq!(named("x-twice"), ["1", "2"]);
    assert_eq!(named("content-type"), ["application/x-www-form-urlencoded"]);
    assert_eq!(seen.body, "grant_type=client_credentials");
}

/// A header HTTP cannot carry is refused before anything is sent, naming
/// the header and never showing its value, which may be a secret.
#[tokio::test]
async fn a_header_http_cannot_carry_is_refused_by_name_before_sending() {
    let server = TestServer::canned(Canned::json(200, json!({}))).await;
    let canary = "canary\r\nX-Injected: 1%2F+&=\"";
    for (name, value) in [
        ("x-secret", Text::secret(canary)),
        ("bad name", Text::from("1")),
        ("x-plain", Text::from("line\nbreak")),
    ] {
        let url = server.base.join("token").unwrap();
        let error = send_once("POST", url, vec![(name.to_owned(), value)], None)
            .await
            .unwrap_err();
        let shown = format!("{error} {error:?}");
        assert!(
            matches!(&error.kind, TransportErrorKind::InvalidHeader { name: named } if named == name),
            "{shown}"
        );
        assert!(!shown.contains("canary"), "{shown}");
    }
    assert!(server.requests().is_empty(), "nothing was sent");
}

/// A response's header values are kept as text: visible ASCII as it is,
/// UTF-8 as UTF-8, and other bytes replaced rather than refused.
#[tokio::test]
async fn response_header_values_are_read_as_text_whatever_their_bytes() {
    let mut reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-ascii: a b\tc\r\nx-utf8: ".to_vec();
    reply.extend_from_slice("caf\u{e9}".as_bytes());
    reply.extend_from_slice(b"\r\nx-latin1: caf\xe9\r\n\r\n{}");
    let server = RawServer::start(Some(reply)).await;
    let response = get(server.base.join("anything").unwrap()).await.unwrap();
    assert_eq!(response.header("x-ascii"), Some("a b\tc"));
    assert_eq!(response.header("x-utf8"), Some("caf\u{e9}"));
    assert_eq!(response.header("x-latin1"), Some("caf\u{fffd}"));
    assert_eq!(response.body, b"{}");
}

/// A plain `GET` of `url`, sent once on a default transport.
async fn get(url: Url) -> Result<HttpResponse, TransportError> {
    send_once("GET", url, Vec::new(), None).await
}

/// A request of `method` to `url`, with these headers and this body, sent
/// once on a default transport.
async fn send_once(
    method: &str,
    url: Url,
    headers: Vec<(String, Text)>,
    body: Option<Body>,
) -> Result<HttpResponse, TransportError> {
    let request = grantspec_token::HttpRequest {
        method: method.to_owned(),
        url,
        query: Vec::new(),
        headers,
        body,
    };
    Transport::new(TransportConfig::default())
        .unwrap()
        .send_once(&request)
        .await
}
