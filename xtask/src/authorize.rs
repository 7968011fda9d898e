//! `cargo xtask authorize --endpoint URL --client-id ID [--scope S…]
//! [--redirect-port N] [--pkce S256|plain|none] [--env-prefix NAME]`: get an
//! authorization code from a live provider whose login needs a person.
//!
//! It prints the authorization URL (with a fresh PKCE verifier's challenge
//! and a random `state`) for the user to open, serves the loopback redirect
//! URI `http://127.0.0.1:N/callback` (RFC 8252 §7.3) until the browser comes
//! back or the time runs out, checks `state`, and prints `export` lines with
//! the code and its verifier for a spec's `${secret:…}` variables. Messages
//! go to stderr; only the `export` lines go to stdout, so that
//! `eval "$(cargo xtask authorize …)"` sets them.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use grantspec_token::{
    AuthorizationRequest, AuthorizationResponse, CodeVerifier, ExposeSecret as _, PkceMethod,
    random_state,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// The most of a request the callback server reads.
const MAX_REQUEST: usize = 8 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(flags: crate::flags::Authorize) -> anyhow::Result<ExitCode> {
    let endpoint = Url::parse(&flags.endpoint).context("--endpoint is not a URL")?;
    if endpoint.scheme() != "https" && !grantspec_token::is_loopback(&endpoint) {
        bail!("--endpoint must be https (or loopback http): {endpoint}");
    }
    let method = match flags.pkce.as_str() {
        "S256" => Some(PkceMethod::S256),
        "plain" => Some(PkceMethod::Plain),
        "none" => None,
        other => bail!("--pkce is S256, plain or none, not `{other}`"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(("127.0.0.1", flags.redirect_port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", flags.redirect_port))?;
        let port = listener.local_addr()?.port();
        let redirect_uri = format!("http://127.0.0.1:{port}/callback");
        let state = random_state()?;
        let verifier = CodeVerifier::generate()?;
        let mut request = AuthorizationRequest::new(&flags.client_id)
            .with_redirect_uri(&redirect_uri)
            .with_scope(flags.scope.iter().cloned())
            .with_state(&state);
        if let Some(method) = method {
            request = request.with_pkce(&verifier, method);
        }
        eprintln!("Register {redirect_uri} as a redirect URI of the client, then open:\n");
        eprintln!("{}\n", request.url(&endpoint));
        eprintln!(
            "Waiting up to {} s for the browser to come back…",
            flags.timeout_secs
        );
        let wait = Duration::from_secs(flags.timeout_secs);
        let answer = tokio::time::timeout(wait, callback(&listener, port))
            .await
            .map_err(|_| {
                anyhow::anyhow!("no redirect came back within {} s", flags.timeout_secs)
            })??;
        match AuthorizationResponse::from_redirect(&answer, Some(&state))? {
            AuthorizationResponse::Code { code, .. } => {
                let prefix = &flags.env_prefix;
                println!("export {prefix}_CODE={}", shell_quote(code.expose_secret()));
                if method.is_some() {
                    println!(
                        "export {prefix}_CODE_VERIFIER={}",
                        shell_quote(verifier.secret().expose_secret())
                    );
                }
                println!(
                    "export {prefix}_REDIRECT_URI={}",
                    shell_quote(&redirect_uri)
                );
                eprintln!("Got a code; it is single use and short-lived: run the cases now.");
                Ok(ExitCode::SUCCESS)
            }
            AuthorizationResponse::Error {
                error, description, ..
            } => {
                let description = description.unwrap_or_default();
                eprintln!("The provider refused: {error} {description}");
                Ok(ExitCode::FAILURE)
            }
        }
    })
}

/// Serves the loopback redirect URI until a request for `/callback` comes,
/// and returns its URL; anything else is answered 404.
async fn callback(listener: &TcpListener, port: u16) -> anyhow::Result<Url> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let Ok(Ok(target)) = tokio::time::timeout(READ_TIMEOUT, request_target(&mut stream)).await
        else {
            continue;
        };
        let Ok(url) = Url::parse(&format!("http://127.0.0.1:{port}"))?.join(&target) else {
            respond(&mut stream, "400 Bad Request", "Not a request target.").await;
            continue;
        };
        if url.path() != "/callback" {
            respond(&mut stream, "404 Not Found", "Not the callback.").await;
            continue;
        }
        respond(
            &mut stream,
            "200 OK",
            "grantspec got the answer; you can close this tab.",
        )
        .await;
        return Ok(url);
    }
}

/// The target of a request's first line (`GET /callback?code=… HTTP/1.1`),
/// reading at most [`MAX_REQUEST`] bytes.
async fn request_target(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(2).any(|w| w == b"\r\n") {
        let read = stream.read(&mut chunk).await?;
        if read == 0 || buffer.len() + read > MAX_REQUEST {
            bail!("no request line");
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
    let line = String::from_utf8_lossy(&buffer);
    let mut parts = line.lines().next().unwrap_or_default().split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok(target.to_owned()),
        _ => bail!("not a GET"),
    }
}

async fn respond(stream: &mut TcpStream, status: &str, text: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// `value` in single quotes for a POSIX shell.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
