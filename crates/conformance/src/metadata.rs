//! Discovery metadata (RFC 8414, OpenID Connect Discovery 1.0) against what
//! the token endpoint did, and JWT access tokens against RFC 9068 and the
//! issuer's JWKS.
//!
//! A provider that publishes metadata makes claims a client relies on: where
//! the token endpoint is, which client authentication methods and grants it
//! takes, which keys sign its tokens. These checks hold the claims against
//! the exchanges of a case: a method or grant the endpoint accepted but the
//! metadata leaves out misleads every client that reads it. The caller
//! fetches the document (and the JWKS it names); everything here is pure.

use std::collections::BTreeSet;

use base64::Engine as _;
use grantspec_token::HttpResponse;
use serde_json::{Map, Value};
use url::Url;

use crate::ExchangeKind;
use crate::ctx::Ctx;
use crate::params::{is_json_media_type, media_type};
use crate::{Check, Details, Judged, Rule, Severity};

/// The metadata a case is judged against.
#[derive(Debug, Clone, Copy)]
pub struct MetadataFacts<'a> {
    /// Where the document was read.
    pub url: &'a Url,
    /// The answer.
    pub response: &'a HttpResponse,
    /// The answer's body as JSON.
    pub json: Option<&'a Value>,
    /// The JWK Set its `jwks_uri` names, when it was read.
    pub jwks: Option<&'a Value>,
}

/// The well-known path of RFC 8414 authorization server metadata.
pub const OAUTH_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// The well-known path of OpenID Connect Discovery 1.0.
pub const OIDC_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// What the metadata checks read: the document, and the case's exchanges.
pub(crate) struct MetaCtx<'a> {
    pub(crate) metadata: MetadataFacts<'a>,
    pub(crate) document: Option<&'a Map<String, Value>>,
    pub(crate) exchanges: &'a [Ctx<'a>],
}

impl<'a> MetaCtx<'a> {
    pub(crate) fn new(metadata: MetadataFacts<'a>, exchanges: &'a [Ctx<'a>]) -> Self {
        let document = match metadata.json {
            Some(Value::Object(object)) if metadata.response.status == 200 => Some(object),
            _ => None,
        };
        Self {
            metadata,
            document,
            exchanges,
        }
    }

    fn strings(&self, member: &str) -> Option<BTreeSet<&'a str>> {
        match self.document?.get(member)? {
            Value::Array(items) => Some(items.iter().filter_map(Value::as_str).collect()),
            _ => None,
        }
    }

    /// The token requests that were answered with a token.
    fn issued(&self) -> impl Iterator<Item = &Ctx<'a>> {
        self.exchanges
            .iter()
            .filter(|cx| cx.facts.kind == ExchangeKind::Token && cx.token.is_some())
    }
}

/// Why a cross-check has nothing to judge: no readable document.
fn unreadable() -> Judged {
    Judged::NotApplicable("the metadata document could not be read".into())
}

pub(crate) const METADATA_DOCUMENT: Check = Check {
    id: "RFC8414-3.2-metadata-document",
    clause: "RFC8414-3.2",
    severity: Severity::Failure,
    title: "The metadata is a JSON object answered with 200",
    looks_at: "the metadata answer: status 200, an application/json body holding a JSON object",
    deviation: "unreadable-metadata",
    rule: Rule::Metadata(metadata_document),
};

fn metadata_document(mx: &MetaCtx<'_>) -> Judged {
    let response = mx.metadata.response;
    let media = media_type(response.header("content-type"));
    if response.status != 200 {
        return Judged::Violated(format!("HTTP {}", response.status).into());
    }
    if !is_json_media_type(&media) {
        return Judged::Violated(format!("content type `{media}`").into());
    }
    match mx.document {
        Some(_) => Judged::Pass("a JSON object".into()),
        None => Judged::Violated("the body is not a JSON object".into()),
    }
}

pub(crate) const METADATA_ISSUER: Check = Check {
    id: "RFC8414-3.3-issuer",
    clause: "RFC8414-3.3",
    severity: Severity::Failure,
    title: "The metadata's issuer is the one its URL was formed from",
    looks_at: "`issuer`: the metadata URL must be the issuer with `/.well-known/oauth-authorization-server` inserted (RFC 8414 §3.1) or `/.well-known/openid-configuration` appended (OpenID Connect Discovery §4)",
    deviation: "metadata-issuer-mismatch",
    rule: Rule::Metadata(metadata_issuer),
};

/// The metadata URLs an issuer forms.
pub fn well_known_urls(issuer: &Url) -> [Url; 2] {
    let path = issuer.path().trim_end_matches('/');
    let mut oauth = issuer.clone();
    oauth.set_path(&format!("{OAUTH_WELL_KNOWN}{path}"));
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}{OIDC_WELL_KNOWN}"));
    [oauth, oidc]
}

fn metadata_issuer(mx: &MetaCtx<'_>) -> Judged {
    let Some(document) = mx.document else {
        return unreadable();
    };
    let Some(issuer) = document.get("issuer").and_then(Value::as_str) else {
        return Judged::Violated("no `issuer` member".into());
    };
    let Ok(parsed) = Url::parse(issuer) else {
        return Judged::Violated("`issuer` is not a URL".into());
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Judged::Violated("`issuer` has a query or fragment".into());
    }
    if well_known_urls(&parsed).contains(mx.metadata.url) {
        Judged::Pass("the metadata URL is formed from `issuer`".into())
    } else {
        Judged::Violated("the metadata URL is not formed from `issuer`".into())
    }
}

pub(crate) const METADATA_TOKEN_ENDPOINT: Check = Check {
    id: "RFC8414-2-token-endpoint",
    clause: "RFC8414-2",
    severity: Severity::Failure,
    title: "The metadata's token_endpoint is the endpoint that answered",
    looks_at: "`token_endpoint` against the URL (without query) of the case's token requests",
    deviation: "metadata-token-endpoint-mismatch",
    rule: Rule::Metadata(metadata_token_endpoint),
};

fn metadata_token_endpoint(mx: &MetaCtx<'_>) -> Judged {
    let Some(document) = mx.document else {
        return unreadable();
    };
    let used: BTreeSet<String> = mx
        .exchanges
        .iter()
        .filter(|cx| cx.facts.kind == ExchangeKind::Token)
        .map(|cx| {
            let mut url = cx.facts.request.url.clone();
            url.set_query(None);
            url.to_string()
        })
        .collect();
    if used.is_empty() {
        return Judged::NotApplicable("no token request".into());
    }
    let Some(listed) = document.get("token_endpoint").and_then(Value::as_str) else {
        return Judged::Violated("no `token_endpoint` member".into());
    };
    let listed = Url::parse(listed).map(|url| url.to_string());
    match listed {
        Ok(listed) if used.iter().all(|url| *url == listed) => {
            Judged::Pass("`token_endpoint` is the URL used".into())
        }
        Ok(_) => Judged::Violated("`token_endpoint` is not the URL the token requests used".into()),
        Err(_) => Judged::Violated("`token_endpoint` is not a URL".into()),
    }
}

pub(crate) const METADATA_AUTH_METHODS: Check = Check {
    id: "RFC8414-2-token-endpoint-auth-methods",
    clause: "RFC8414-2",
    severity: Severity::Warning,
    title: "Every client authentication method the endpoint accepted is listed",
    looks_at: "token requests answered with a token: their method (client_secret_basic, client_secret_post, none) against `token_endpoint_auth_methods_supported` (default client_secret_basic)",
    deviation: "metadata-auth-methods-incomplete",
    rule: Rule::Metadata(metadata_auth_methods),
};

/// The RFC 8414 name of the client authentication a request used.
fn auth_method(cx: &Ctx<'_>) -> Option<&'static str> {
    if cx.basic.is_some() {
        return Some("client_secret_basic");
    }
    let has = |name: &str| cx.params.iter().any(|p| p.name == name);
    if has("client_assertion") {
        None
    } else if has("client_secret") {
        Some("client_secret_post")
    } else {
        has("client_id").then_some("none")
    }
}

fn metadata_auth_methods(mx: &MetaCtx<'_>) -> Judged {
    if mx.document.is_none() {
        return unreadable();
    }
    let used: BTreeSet<&str> = mx.issued().filter_map(auth_method).collect();
    if used.is_empty() {
        return Judged::NotApplicable("no token issued to a request with a known method".into());
    }
    let listed = mx
        .strings("token_endpoint_auth_methods_supported")
        .unwrap_or_else(|| BTreeSet::from(["client_secret_basic"]));
    let missing: Vec<&str> = used.difference(&listed).copied().collect();
    if missing.is_empty() {
        Judged::Pass(
            format!(
                "listed: {}",
                used.into_iter().collect::<Vec<_>>().join(", ")
            )
            .into(),
        )
    } else {
        Judged::Violated(format!("accepted but not listed: {}", missing.join(", ")).into())
    }
}

pub(crate) const METADATA_GRANT_TYPES: Check = Check {
    id: "RFC8414-2-grant-types",
    clause: "RFC8414-2",
    severity: Severity::Warning,
    title: "Every grant type the endpoint issued a token for is listed",
    looks_at: "token requests answered with a token: their grant_type against `grant_types_supported` (default authorization_code and implicit)",
    deviation: "metadata-grant-types-incomplete",
    rule: Rule::Metadata(metadata_grant_types),
};

fn metadata_grant_types(mx: &MetaCtx<'_>) -> Judged {
    if mx.document.is_none() {
        return unreadable();
    }
    let used: BTreeSet<&str> = mx
        .issued()
        .filter_map(|cx| cx.grant_type.as_deref())
        .collect();
    if used.is_empty() {
        return Judged::NotApplicable("no token issued".into());
    }
    let listed = mx
        .strings("grant_types_supported")
        .unwrap_or_else(|| BTreeSet::from(["authorization_code", "implicit"]));
    let missing: Vec<&str> = used.difference(&listed).copied().collect();
    if missing.is_empty() {
        Judged::Pass(
            format!(
                "listed: {}",
                used.into_iter().collect::<Vec<_>>().join(", ")
            )
            .into(),
        )
    } else {
        Judged::Violated(format!("issued but not listed: {}", missing.join(", ")).into())
    }
}

/// A JWT's header and claims, when a token is one.
struct Jwt<'t> {
    text: &'t str,
    header: Map<String, Value>,
    claims: Map<String, Value>,
}

fn jwt(token: &str) -> Option<Jwt<'_>> {
    let mut parts = token.split('.');
    let (header, claims, _signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let object = |part: &str| {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(object) => Some(object),
            _ => None,
        }
    };
    let header = object(header)?;
    header.get("alg")?;
    Some(Jwt {
        text: token,
        header,
        claims: object(claims)?,
    })
}

/// The issued access tokens that are JWTs.
fn jwts<'m>(mx: &'m MetaCtx<'_>) -> Vec<Jwt<'m>> {
    mx.issued()
        .filter_map(|cx| cx.token.as_ref()?.access_token?.as_str())
        .filter_map(jwt)
        .collect()
}

pub(crate) const JWT_TYP: Check = Check {
    id: "RFC9068-2.1-typ",
    clause: "RFC9068-2.1",
    severity: Severity::Warning,
    title: "A JWT access token is typed at+jwt",
    looks_at: "issued access tokens that are JWTs, when the provider publishes metadata: the header's `typ` is `at+jwt` (or `application/at+jwt`)",
    deviation: "jwt-access-token-profile",
    rule: Rule::Metadata(jwt_typ),
};

fn jwt_typ(mx: &MetaCtx<'_>) -> Judged {
    let tokens = jwts(mx);
    if tokens.is_empty() {
        return Judged::NotApplicable("no access token is a JWT".into());
    }
    let wrong: BTreeSet<String> = tokens
        .iter()
        .filter_map(|token| {
            let typ = token.header.get("typ").and_then(Value::as_str);
            match typ {
                Some(typ)
                    if typ.eq_ignore_ascii_case("at+jwt")
                        || typ.eq_ignore_ascii_case("application/at+jwt") =>
                {
                    None
                }
                Some(typ) => Some(format!(
                    "`typ` {}",
                    crate::params::json_text(&Value::from(typ))
                )),
                None => Some("no `typ`".to_owned()),
            }
        })
        .collect();
    if wrong.is_empty() {
        Judged::Pass("`typ` at+jwt".into())
    } else {
        Judged::Violated(wrong.into_iter().collect::<Vec<_>>().join(", ").into())
    }
}

pub(crate) const JWT_CLAIMS: Check = Check {
    id: "RFC9068-2.2-claims",
    clause: "RFC9068-2.2",
    severity: Severity::Warning,
    title: "A JWT access token carries the required claims, its iss the metadata's issuer",
    looks_at: "issued access tokens that are JWTs, when the provider publishes metadata: claims iss, exp, aud, sub, client_id, iat and jti, and `iss` equal to the metadata's `issuer` (RFC 9068 §4)",
    deviation: "jwt-access-token-profile",
    rule: Rule::Metadata(jwt_claims),
};

/// The claims RFC 9068 §2.2 requires.
pub const RFC9068_CLAIMS: [&str; 7] = ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"];

fn jwt_claims(mx: &MetaCtx<'_>) -> Judged {
    let tokens = jwts(mx);
    if tokens.is_empty() {
        return Judged::NotApplicable("no access token is a JWT".into());
    }
    let issuer = mx.document.and_then(|d| d.get("issuer"));
    let mut problems = BTreeSet::new();
    for token in &tokens {
        for claim in RFC9068_CLAIMS {
            if !token.claims.contains_key(claim) {
                problems.insert(format!("no `{claim}`"));
            }
        }
        if let (Some(iss), Some(issuer)) = (token.claims.get("iss"), issuer) {
            if iss != issuer {
                problems.insert("`iss` is not the metadata's `issuer`".to_owned());
            }
        }
    }
    if problems.is_empty() {
        Judged::Pass("every required claim, `iss` the issuer".into())
    } else {
        Judged::Violated(problems.into_iter().collect::<Vec<_>>().join(", ").into())
    }
}

pub(crate) const JWT_SIGNATURE: Check = Check {
    id: "RFC9068-4-signature",
    clause: "RFC9068-4",
    severity: Severity::Failure,
    title: "A JWT access token's signature verifies with a key of the issuer's JWKS",
    looks_at: "issued access tokens that are JWTs, when the metadata's `jwks_uri` was read: the header's `kid` (or the only key) in the JWK Set, and the signature under the header's `alg`",
    deviation: "jwt-access-token-signature",
    rule: Rule::Metadata(jwt_signature),
};

fn jwt_signature(mx: &MetaCtx<'_>) -> Judged {
    let tokens = jwts(mx);
    if tokens.is_empty() {
        return Judged::NotApplicable("no access token is a JWT".into());
    }
    let Some(jwks) = mx.metadata.jwks else {
        return Judged::NotApplicable("no JWK Set was read".into());
    };
    let Ok(set) = serde_json::from_value::<jsonwebtoken::jwk::JwkSet>(jwks.clone()) else {
        return Judged::Violated("the JWK Set does not parse".into());
    };
    let mut problems = BTreeSet::new();
    for token in &tokens {
        if let Err(problem) = verify(token, &set) {
            problems.insert(problem);
        }
    }
    if problems.is_empty() {
        Judged::Pass("verified".into())
    } else {
        Judged::Violated(problems.into_iter().collect::<Vec<_>>().join(", ").into())
    }
}

fn verify(token: &Jwt<'_>, set: &jsonwebtoken::jwk::JwkSet) -> Result<(), String> {
    let header = jsonwebtoken::decode_header(token.text)
        .map_err(|e| format!("the header does not decode: {e}"))?;
    let key = match &header.kid {
        Some(kid) => set
            .find(kid)
            .ok_or("no key of the JWK Set has the header's `kid`")?,
        None if set.keys.len() == 1 => &set.keys[0],
        None => return Err("no `kid`, and the JWK Set has several keys".to_owned()),
    };
    let key = jsonwebtoken::DecodingKey::from_jwk(key)
        .map_err(|e| format!("the key does not load: {e}"))?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token.text, &key, &validation)
        .map(|_| ())
        .map_err(|e| format!("the signature does not verify: {e}"))
}

/// Judges `metadata` against a case's exchanges: one [`crate::Finding`] for
/// every metadata check, in catalogue order.
pub fn check_metadata(
    metadata: &MetadataFacts<'_>,
    exchanges: &[crate::ExchangeFacts<'_>],
    details: Details,
) -> Vec<crate::Finding> {
    let contexts: Vec<Ctx<'_>> = exchanges
        .iter()
        .map(|facts| Ctx::new(*facts, details))
        .collect();
    let mx = MetaCtx::new(*metadata, &contexts);
    crate::metadata_findings(&mx, details)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use grantspec_token::{Body, HttpRequest, Text};

    use super::*;
    use crate::{CHECKS, ExchangeFacts, Outcome, Rule};

    const ISSUER: &str = "https://as.example";

    fn response(status: u16, content_type: &str, body: &Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_string().into_bytes(),
        }
    }

    fn token_request(basic: bool) -> HttpRequest {
        let mut headers = vec![("accept".to_owned(), Text::from("application/json"))];
        let mut pairs = vec![("grant_type".to_owned(), Text::from("client_credentials"))];
        if basic {
            // base64("id:SECRET")
            headers.push(("authorization".into(), Text::secret("Basic aWQ6U0VDUkVU")));
        } else {
            pairs.push(("client_id".into(), Text::from("id")));
            pairs.push(("client_secret".into(), Text::secret("SECRET")));
        }
        HttpRequest {
            method: "POST".into(),
            url: Url::parse(&format!("{ISSUER}/token")).unwrap(),
            query: Vec::new(),
            headers,
            body: Some(Body::Form(pairs)),
        }
    }

    fn b64(value: &Value) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn fake_jwt(header: &Value, claims: &Value) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    fn rfc9068_claims() -> Value {
        serde_json::json!({
            "iss": ISSUER, "exp": 2, "aud": "api", "sub": "id",
            "client_id": "id", "iat": 1, "jti": "j"
        })
    }

    struct Fixture {
        name: &'static str,
        url: &'static str,
        document: Value,
        status: u16,
        basic: bool,
        access_token: String,
        jwks: Option<Value>,
        expect: Vec<(&'static str, Outcome)>,
    }

    fn document() -> Value {
        serde_json::json!({
            "issuer": ISSUER,
            "token_endpoint": format!("{ISSUER}/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "grant_types_supported": ["client_credentials"]
        })
    }

    fn fixture(name: &'static str) -> Fixture {
        Fixture {
            name,
            url: "https://as.example/.well-known/oauth-authorization-server",
            document: document(),
            status: 200,
            basic: true,
            access_token: "opaque-TKN-value-0123456789".into(),
            jwks: None,
            expect: Vec::new(),
        }
    }

    fn fixtures() -> Vec<Fixture> {
        use Outcome::{Fail, NotApplicable as NA, Pass, Warn};
        let mut out = Vec::new();
        let mut f = fixture("consistent metadata, opaque token");
        f.expect = vec![
            ("RFC8414-3.2-metadata-document", Pass),
            ("RFC8414-3.3-issuer", Pass),
            ("RFC8414-2-token-endpoint", Pass),
            ("RFC8414-2-token-endpoint-auth-methods", Pass),
            ("RFC8414-2-grant-types", Pass),
            ("RFC9068-2.1-typ", NA),
            ("RFC9068-2.2-claims", NA),
            ("RFC9068-4-signature", NA),
        ];
        out.push(f);
        let mut f = fixture("OpenID Connect discovery URL");
        f.url = "https://as.example/.well-known/openid-configuration";
        f.expect = vec![("RFC8414-3.3-issuer", Pass)];
        out.push(f);
        let mut f = fixture("metadata not found");
        f.status = 404;
        f.expect = vec![
            ("RFC8414-3.2-metadata-document", Fail),
            ("RFC8414-3.3-issuer", NA),
            ("RFC8414-2-token-endpoint", NA),
        ];
        out.push(f);
        let mut f = fixture("another issuer, another endpoint, methods and grants left out");
        f.document = serde_json::json!({
            "issuer": "https://other.example",
            "token_endpoint": "https://other.example/oauth/token"
        });
        f.expect = vec![
            ("RFC8414-3.3-issuer", Fail),
            ("RFC8414-2-token-endpoint", Fail),
            ("RFC8414-2-token-endpoint-auth-methods", Pass),
            ("RFC8414-2-grant-types", Warn),
        ];
        out.push(f);
        let mut f = fixture("post accepted, only basic listed by default");
        f.basic = false;
        f.document = serde_json::json!({
            "issuer": ISSUER,
            "token_endpoint": format!("{ISSUER}/token"),
            "grant_types_supported": ["client_credentials"]
        });
        f.expect = vec![("RFC8414-2-token-endpoint-auth-methods", Warn)];
        out.push(f);
        let mut f = fixture("RFC 9068 JWT");
        f.access_token = fake_jwt(
            &serde_json::json!({"alg": "RS256", "typ": "at+jwt"}),
            &rfc9068_claims(),
        );
        f.expect = vec![
            ("RFC9068-2.1-typ", Pass),
            ("RFC9068-2.2-claims", Pass),
            ("RFC9068-4-signature", NA),
        ];
        out.push(f);
        let mut f = fixture("plain JWT with a foreign issuer, JWKS without its key");
        f.access_token = fake_jwt(
            &serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "k1"}),
            &serde_json::json!({"iss": "https://other.example", "sub": "x"}),
        );
        f.jwks = Some(serde_json::json!({"keys": []}));
        f.expect = vec![
            ("RFC9068-2.1-typ", Warn),
            ("RFC9068-2.2-claims", Warn),
            ("RFC9068-4-signature", Fail),
        ];
        out.push(f);
        out
    }

    fn run(fixture: &Fixture) -> Vec<crate::Finding> {
        let metadata_response = response(fixture.status, "application/json", &fixture.document);
        let metadata_json = metadata_response.json();
        let url = Url::parse(fixture.url).unwrap();
        let request = token_request(fixture.basic);
        let token = response(
            200,
            "application/json",
            &serde_json::json!({"access_token": fixture.access_token, "token_type": "Bearer", "expires_in": 60}),
        );
        let token_json = token.json();
        let exchange = ExchangeFacts {
            request: &request,
            response: &token,
            json: token_json.as_ref(),
            grant_type: Some("client_credentials"),
            request_is_profile_shaped: true,
            kind: ExchangeKind::Token,
        };
        let metadata = MetadataFacts {
            url: &url,
            response: &metadata_response,
            json: metadata_json.as_ref(),
            jwks: fixture.jwks.as_ref(),
        };
        check_metadata(&metadata, &[exchange], Details::All)
    }

    #[test]
    fn fixture_expectations_hold() {
        for fixture in fixtures() {
            let findings = run(&fixture);
            let by_id: BTreeMap<&str, Outcome> =
                findings.iter().map(|f| (f.check.id, f.outcome)).collect();
            for (id, expected) in &fixture.expect {
                assert_eq!(by_id.get(id), Some(expected), "{}: {id}", fixture.name);
            }
            for finding in &findings {
                assert!(!finding.detail.contains("SECRET") && !finding.detail.contains("TKN"));
            }
        }
    }

    #[test]
    fn every_metadata_check_has_a_failing_and_a_passing_fixture() {
        let (mut broken, mut held) = (BTreeSet::new(), BTreeSet::new());
        for fixture in fixtures() {
            for (id, outcome) in fixture.expect {
                match outcome {
                    Outcome::Pass => held.insert(id),
                    Outcome::Fail | Outcome::Warn => broken.insert(id),
                    Outcome::NotApplicable => false,
                };
            }
        }
        for check in CHECKS
            .iter()
            .filter(|c| matches!(c.rule, Rule::Metadata(_)))
        {
            let missing_pass = !held.contains(check.id);
            let missing_fail = !broken.contains(check.id);
            // The signature's passing fixture needs a real key: see
            // `a_signature_made_with_a_jwks_key_verifies`.
            let missing_pass = missing_pass && check.id != JWT_SIGNATURE.id;
            assert!(!missing_pass && !missing_fail, "{}", check.id);
        }
    }

    /// A throwaway P-256 key made for this test alone (public: it signs
    /// nothing but the fixture below), and its public half as a JWK.
    const TEST_KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgqmxNAoMp41Lw/FMC
3gq9gE5cOZJyeGWZCsKEiYegELShRANCAASb2T+kfv0mPht6YyXPkkCsV6O4gAe3
SK6AALgVdmVkPprTKL3lHhaFcRWsVUxt38VryiQIQJrsWQXyhpUm7Ijh
-----END PRIVATE KEY-----
";

    fn test_jwks(kid: &str) -> Value {
        serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": "m9k_pH79Jj4bemMlz5JArFejuIAHt0iugAC4FXZlZD4",
            "y": "mtMoveUeFoVxFaxVTG3fxWvKJAhAmuxZBfKGlSbsiOE"
        }]})
    }

    fn signed_jwt(kid: &str) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.typ = Some("at+jwt".to_owned());
        header.kid = Some(kid.to_owned());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(TEST_KEY_PEM.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &rfc9068_claims(), &key).unwrap()
    }

    #[test]
    fn a_signature_made_with_a_jwks_key_verifies() {
        let outcome = |token: String, jwks: Value| {
            let mut f = fixture("signed JWT");
            f.access_token = token;
            f.jwks = Some(jwks);
            run(&f)
                .into_iter()
                .find(|finding| finding.check.id == JWT_SIGNATURE.id)
                .map(|finding| (finding.outcome, finding.detail.into_owned()))
                .unwrap()
        };
        assert_eq!(outcome(signed_jwt("k1"), test_jwks("k1")).0, Outcome::Pass);
        // Another key id, and a payload changed after signing, do not.
        let (unknown, detail) = outcome(signed_jwt("k1"), test_jwks("k2"));
        assert_eq!(unknown, Outcome::Fail, "{detail}");
        let token = signed_jwt("k1");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(&serde_json::json!({"iss": ISSUER, "sub": "admin"}));
        parts[1] = &forged;
        let (forged, detail) = outcome(parts.join("."), test_jwks("k1"));
        assert_eq!(forged, Outcome::Fail, "{detail}");
    }

    #[test]
    fn well_known_urls_insert_or_append() {
        let issuer = Url::parse("https://as.example/tenant/1").unwrap();
        let [oauth, oidc] = well_known_urls(&issuer);
        assert_eq!(
            oauth.as_str(),
            "https://as.example/.well-known/oauth-authorization-server/tenant/1"
        );
        assert_eq!(
            oidc.as_str(),
            "https://as.example/tenant/1/.well-known/openid-configuration"
        );
    }

    #[test]
    fn hostile_tokens_are_not_jwts_and_never_panic() {
        for token in [
            "",
            "a.b",
            "a.b.c.d",
            "!!!.???.x",
            "e30.e30.",
            "eyJhbGciOiJub25lIn0.e30.",
        ] {
            let parsed = jwt(token);
            if let Some(parsed) = parsed {
                let set = jsonwebtoken::jwk::JwkSet { keys: Vec::new() };
                assert!(verify(&parsed, &set).is_err());
            }
        }
    }
}
