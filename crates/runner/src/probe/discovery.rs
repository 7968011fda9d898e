//! Discovery: the issuer's metadata (RFC 8414, then OpenID Connect
//! Discovery) at its origin's well-known URLs, and the JWKS it names, read
//! within the probe's budget and judged by the conformance crate's metadata
//! checks against the exchanges the probe made.

use grantspec_conformance::{self as rfc, Details, ExchangeFacts, Outcome};
use grantspec_token::{ClientAuth, HttpResponse};
use serde_json::Value;

use super::infer::{Dialect, profile_shaped};
use super::{Session, clean};

/// The well-known paths the probe reads, in order, formed from the issuer
/// ([`rfc::well_known_urls`]: inserted before its path, appended to it); the
/// issuer is the token URL's origin unless `--issuer` names another.
pub const WELL_KNOWN: [&str; 2] = [rfc::OAUTH_WELL_KNOWN, rfc::OIDC_WELL_KNOWN];

/// The metadata the probe read: the runner's own reading of it, so that
/// the probe judges cases as a run of the written spec will.
pub type MetadataSeen = crate::metadata::Metadata;

/// Whether the metadata is a document the written spec should name: a 200
/// with a JSON object that says it is metadata (an `issuer` or a
/// `token_endpoint`), not whatever a server answers every path with.
pub(crate) fn found(seen: &MetadataSeen) -> bool {
    seen.response.status == 200
        && matches!(&seen.json, Some(Value::Object(object))
            if object.contains_key("issuer") || object.contains_key("token_endpoint"))
}

/// `token_endpoint_auth_methods_supported`, as the token crate's methods,
/// when the document lists it.
pub(crate) fn auth_methods(seen: &MetadataSeen) -> Option<Vec<ClientAuth>> {
    let listed = seen
        .json
        .as_ref()?
        .get("token_endpoint_auth_methods_supported")?
        .as_array()?;
    Some(
        listed
            .iter()
            .filter_map(|method| match method.as_str()? {
                "client_secret_basic" => Some(ClientAuth::Basic),
                "client_secret_post" => Some(ClientAuth::Post),
                "none" => Some(ClientAuth::None),
                _ => None,
            })
            .collect(),
    )
}

/// Reads the first well-known URL that answers a JSON object, and then the
/// JWKS it names at the same origin (as a run of the written spec will);
/// `None` when neither answers (the last answer kept for the table, when
/// one came).
pub(crate) async fn read_metadata(session: &mut Session<'_>) -> Option<MetadataSeen> {
    let mut last = None;
    let issuer = session
        .config
        .issuer
        .clone()
        .unwrap_or_else(|| session.base_url.clone());
    for url in rfc::well_known_urls(&issuer) {
        let Some(Ok(response)) = session.get(&url).await else {
            continue;
        };
        let json = response.json();
        let seen = MetadataSeen {
            url,
            response,
            json,
            jwks: None,
        };
        let is_found = found(&seen);
        last = Some(seen);
        if is_found {
            break;
        }
    }
    let mut seen = last?;
    if found(&seen) {
        if let Some(url) = seen.jwks_url() {
            if let Some(Ok(answer)) = session.get(&url).await {
                if answer.status == 200 {
                    seen.jwks = answer.json();
                }
            }
        }
    }
    Some(seen)
}

/// The metadata checks' findings over every exchange the probe made.
pub(crate) fn findings(
    session: &Session<'_>,
    seen: &MetadataSeen,
    dialect: &Dialect,
) -> Vec<rfc::Finding> {
    let bodies: Vec<Vec<Option<Value>>> = session
        .ran
        .iter()
        .map(|ran| {
            ran.run
                .exchanges
                .iter()
                .map(|e| e.response.as_ref().and_then(HttpResponse::json))
                .collect()
        })
        .collect();
    let mut facts = Vec::new();
    for (ran, bodies) in session.ran.iter().zip(&bodies) {
        for ((exchange, json), step) in ran.run.exchanges.iter().zip(bodies).zip(&ran.case.steps) {
            if let Some(response) = &exchange.response {
                facts.push(ExchangeFacts {
                    request: &exchange.request,
                    response,
                    json: json.as_ref(),
                    grant_type: exchange.grant_type.as_deref(),
                    request_is_profile_shaped: profile_shaped(step, dialect),
                    kind: exchange.kind,
                });
            }
        }
    }
    rfc::check_metadata(&seen.facts(), &facts, Details::All)
}

/// The table rows of discovery.
pub(crate) fn table(
    session: &Session<'_>,
    seen: &MetadataSeen,
    dialect: &Dialect,
) -> Vec<[String; 3]> {
    let mut rows = vec![[
        "discovery".to_owned(),
        "metadata".to_owned(),
        format!(
            "{} → HTTP {}",
            clean(seen.url.as_str()),
            seen.response.status
        ),
    ]];
    if let Some(document) = seen.json.as_ref().filter(|_| found(seen)) {
        for member in [
            "issuer",
            "token_endpoint",
            "token_endpoint_auth_methods_supported",
            "grant_types_supported",
            "jwks_uri",
        ] {
            let value = document
                .get(member)
                .map_or_else(|| "(absent)".to_owned(), |v| clean(&v.to_string()));
            rows.push(["discovery".to_owned(), member.to_owned(), value]);
        }
    }
    rows.push([
        "discovery".to_owned(),
        "jwks".to_owned(),
        match (&seen.jwks, seen.jwks_url()) {
            (Some(_), _) => "read".to_owned(),
            (None, Some(url)) => format!("{} did not answer a JSON object", clean(url.as_str())),
            (None, None) => "not read: no jwks_uri at the metadata's origin".to_owned(),
        },
    ]);
    for finding in findings(session, seen, dialect) {
        if finding.outcome == Outcome::NotApplicable {
            continue;
        }
        rows.push([
            "discovery".to_owned(),
            finding.check.id.to_owned(),
            format!("{}: {}", finding.outcome.as_str(), clean(&finding.detail)),
        ]);
    }
    rows
}
