//! A provider's discovery metadata, read once per live run for a spec that
//! names it (`provider.metadata`), with the JWKS its `jwks_uri` names: what
//! the conformance crate's metadata checks judge each case against.

use grantspec_conformance as rfc;
use grantspec_token::{HttpRequest, HttpResponse, Transport};
use serde_json::Value;
use url::Url;

/// The metadata as read: the answer, and the JWKS when one was read.
#[derive(Debug, Clone)]
pub struct Metadata {
    /// Where it was read.
    pub url: Url,
    /// The answer, or why there is none (shown as a 599 answer's body-less
    /// failure, which the document check reports).
    pub response: HttpResponse,
    /// The answer's body as JSON.
    pub json: Option<Value>,
    /// The JWK Set, when the document names a `jwks_uri` at its own origin
    /// and it answered 200 with JSON.
    pub jwks: Option<Value>,
}

impl Metadata {
    /// The checks' view of it.
    pub fn facts(&self) -> rfc::MetadataFacts<'_> {
        rfc::MetadataFacts {
            url: &self.url,
            response: &self.response,
            json: self.json.as_ref(),
            jwks: self.jwks.as_ref(),
        }
    }

    /// The `jwks_uri` to read: one at the metadata's own origin (a run sends
    /// requests to the provider's host only).
    pub fn jwks_url(&self) -> Option<Url> {
        let uri = self.json.as_ref()?.get("jwks_uri")?.as_str()?;
        let url = Url::parse(uri).ok()?;
        (url.origin() == self.url.origin()).then_some(url)
    }
}

/// A GET for JSON, without credentials.
pub(crate) fn get_json(url: &Url) -> HttpRequest {
    HttpRequest {
        method: "GET".to_owned(),
        url: url.clone(),
        query: Vec::new(),
        headers: vec![("accept".to_owned(), "application/json".into())],
        body: None,
    }
}

/// Reads the metadata at `url`, and the JWKS it names, with `transport`.
pub async fn read(transport: &Transport, url: Url) -> Metadata {
    let response = transport
        .send(&get_json(&url))
        .await
        .unwrap_or_else(|error| HttpResponse {
            status: 599,
            headers: Vec::new(),
            body: crate::redact::escape_controls(&error.to_string())
                .into_owned()
                .into_bytes(),
        });
    let json = response.json();
    let mut metadata = Metadata {
        url,
        response,
        json,
        jwks: None,
    };
    if let Some(jwks_url) = metadata.jwks_url() {
        if let Ok(answer) = transport.send(&get_json(&jwks_url)).await {
            if answer.status == 200 {
                metadata.jwks = answer.json();
            }
        }
    }
    metadata
}
