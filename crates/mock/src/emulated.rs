//! Which deviations from the RFCs the mock's answers show for a provider,
//! found by asking the emulator itself.
//!
//! A spec declares its provider's deviations, and a run checks them both
//! ways: one the cases never show fails as "the provider no longer
//! deviates". Against the mock that is only fair for a deviation the mock
//! emulates; for another it would blame the provider for what the mock
//! does not do. So the mock says which ones it emulates, and it says so
//! from its profile and seed alone (never from a case): a fixed set of probe
//! requests, built from them as a client builds requests, is answered by a
//! fresh emulator of the provider and judged by the conformance checks
//! ([`grantspec_conformance::check_case`]), as the runner judges a case. What
//! they show is what the mock emulates.
//!
//! The probes, per seeded client and grant: each grant it may use, twice
//! for client credentials, with its scopes (or two made-up ones when it may
//! ask for any) and audiences; the refresh tokens that come back refreshed,
//! presented again once used, the newest one refreshed after that, and a
//! refresh asking for more scope; the access tokens presented to the protected
//! resource while valid, after they expire, and for a write with a
//! read-only token; and refusals: a wrong secret, an unknown grant type, an
//! unknown client, a password grant without a known user.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use grantspec_conformance::{self as rfc, Details, ExchangeFacts, ExchangeKind};
use grantspec_spec::{GrantKind, MockClient, MockProvider};
use grantspec_token::{
    AcceptHeader, CLOCK_OFFSET_HEADER, ClientCredentials, HttpRequest, HttpResponse, ManualClock,
    ParamValue, SecretString, Text, build_raw_at, present_token,
};
use serde_json::Value;
use url::Url;

use crate::emulator::{Emulator, MAX_CLOCK_OFFSET, MockRequest, MockResponse};

/// The deviation ids (as [`grantspec_conformance::CHECKS`] names them) that
/// the mock's answers show for `provider`, from its profile and seed.
///
/// Deviations shown by the requests alone
/// ([`grantspec_conformance::shown_by_requests_alone`]) are not among them:
/// no target can change what a request shows, so whoever sends the request
/// shows them, against the mock as against a live provider.
///
/// A provider that negotiates (`mock.json_on_accept`) is probed twice: with
/// the profile's `Accept`, and asking for JSON as a case may, whose answers
/// show what its default answer hides from the checks (GitHub's missing
/// `expires_in`, its own error codes).
pub fn emulated_deviations(provider: &MockProvider<'_>) -> BTreeSet<&'static str> {
    let mut shown = probed(provider);
    let json = AcceptHeader::default();
    if provider.seed.json_on_accept && provider.profile.token_endpoint.accept != json {
        let mut asks_for_json = provider.clone();
        asks_for_json.profile.token_endpoint.accept = json;
        shown.extend(probed(&asks_for_json));
    }
    shown
        .into_iter()
        .filter(|id| !rfc::shown_by_requests_alone(id))
        .collect()
}

/// What one probe session of `provider` shows.
fn probed(provider: &MockProvider<'_>) -> BTreeSet<&'static str> {
    // The probes' URLs are the mock's own with a made-up host; a token path
    // that makes no URL leaves nothing to probe.
    let Some(mut probe) = Probe::new(provider) else {
        return BTreeSet::new();
    };
    probe.run_all();
    probe.shown
}

/// A made-up identifier the probes use where the seed has none.
const MADE_UP: &str = "grantspec-probe";

/// One probe session: a fresh emulator of the provider, and what its
/// answers have shown so far.
struct Probe<'p> {
    provider: &'p MockProvider<'p>,
    emulator: Emulator,
    token_url: Url,
    resource_url: Url,
    shown: BTreeSet<&'static str>,
}

/// One request of a probe sequence and its answer.
struct Exchange {
    request: HttpRequest,
    response: HttpResponse,
    json: Option<Value>,
    grant_type: Option<String>,
    kind: ExchangeKind,
}

impl<'p> Probe<'p> {
    fn new(provider: &'p MockProvider<'p>) -> Option<Self> {
        let base = format!("http://mock.invalid/{}", provider.id);
        let join = |path: &str| Url::parse(&format!("{base}{path}")).ok();
        Some(Self {
            token_url: join(&provider.profile.token_endpoint.path)?,
            resource_url: join("/ping")?,
            emulator: Emulator::new(provider.clone(), Arc::new(ManualClock::default())),
            provider,
            shown: BTreeSet::new(),
        })
    }

    fn run_all(&mut self) {
        let seed = self.provider.seed;
        for client in &seed.clients {
            for grant in &client.grants {
                self.grant(client, *grant);
            }
            self.refusals(client);
        }
        // Read as a seed's client is, so every other field takes its default.
        let unknown = serde_json::from_value::<MockClient>(serde_json::json!({
            "id": format!("{MADE_UP}-unknown-client"),
            "secret": format!("{MADE_UP}-secret"),
            "grants": ["client_credentials"],
        }));
        if let Ok(unknown) = unknown {
            let sequence = self.token(&unknown, "client_credentials", Vec::new());
            self.judge(sequence.into_iter().collect());
        }
    }

    /// The probe sequence of one grant a client may use.
    fn grant(&mut self, client: &MockClient, grant: GrantKind) {
        let seed = self.provider.seed;
        let lifetime = seed.token_lifetime_for(Some(client), grant);
        let mut sequence = Vec::new();
        match grant {
            GrantKind::ClientCredentials => {
                for _ in 0..2 {
                    sequence.extend(self.token(client, grant.grant_type(), Vec::new()));
                }
                let token = access_token(sequence.last());
                sequence.extend(self.resource(token.as_deref(), Method::GET, 0));
                let expired = lifetime.saturating_add(1);
                sequence.extend(self.resource(token.as_deref(), Method::GET, expired));
                sequence.extend(self.resource(Some(MADE_UP), Method::GET, 0));
                sequence.extend(self.resource(None, Method::GET, 0));
            }
            GrantKind::Implicit => {
                sequence.extend(self.token(client, grant.grant_type(), Vec::new()));
                let token = access_token(sequence.last());
                sequence.extend(self.resource(token.as_deref(), Method::GET, 0));
                sequence.extend(self.resource(token.as_deref(), Method::POST, 0));
            }
            GrantKind::Password => {
                let (username, password) = seed.users.first().map_or_else(
                    || (MADE_UP.to_owned(), MADE_UP.to_owned()),
                    |user| (user.username.clone(), user.password.clone()),
                );
                let params = vec![
                    ("username".to_owned(), ParamValue::One(username.into())),
                    (
                        "password".to_owned(),
                        ParamValue::One(Text::secret(password)),
                    ),
                ];
                sequence.extend(self.token(client, grant.grant_type(), params));
                self.refreshes(client, &mut sequence);
            }
            GrantKind::AuthorizationCode => {
                let (code, redirect_uri) = client.codes.first().map_or_else(
                    || (MADE_UP.to_owned(), format!("https://{MADE_UP}.invalid/cb")),
                    |code| (code.code.clone(), code.redirect_uri.clone()),
                );
                let params = vec![
                    ("code".to_owned(), ParamValue::One(Text::secret(code))),
                    (
                        "redirect_uri".to_owned(),
                        ParamValue::One(redirect_uri.into()),
                    ),
                ];
                sequence.extend(self.token(client, grant.grant_type(), params));
                self.refreshes(client, &mut sequence);
            }
            GrantKind::RefreshToken => {
                // Refresh tokens come from the other grants' sequences; alone,
                // one the provider never issued.
                sequence.extend(self.refresh(client, MADE_UP, None));
            }
            GrantKind::TokenExchange => self.exchange(client, &mut sequence),
            // Their requests need JWTs signed with keys the seed holds only
            // the public half of, or a user's decision: no probe shows a
            // deviation through them.
            GrantKind::JwtBearer | GrantKind::DeviceCode => {}
        }
        self.judge(sequence);
    }

    /// A token exchange (RFC 8693) of an access token the mock issued to a
    /// client with the client_credentials grant, for the policy's first
    /// audience, when the policy accepts access tokens as subjects.
    fn exchange(&self, client: &MockClient, sequence: &mut Vec<Exchange>) {
        let seed = self.provider.seed;
        let Some(policy) = &seed.token_exchange else {
            return;
        };
        if !policy
            .subject_token_types
            .iter()
            .any(|kind| kind == grantspec_token::ACCESS_TOKEN_TYPE)
        {
            return;
        }
        let Some(subject_client) = seed
            .clients
            .iter()
            .find(|c| c.grants.contains(&GrantKind::ClientCredentials))
        else {
            return;
        };
        sequence.extend(self.token(
            subject_client,
            GrantKind::ClientCredentials.grant_type(),
            Vec::new(),
        ));
        let Some(subject) = access_token(sequence.last()) else {
            return;
        };
        let mut params = vec![
            (
                "subject_token".to_owned(),
                ParamValue::One(Text::secret(subject)),
            ),
            (
                "subject_token_type".to_owned(),
                ParamValue::One(grantspec_token::ACCESS_TOKEN_TYPE.into()),
            ),
        ];
        if let Some(audience) = policy.audiences.first() {
            params.push((
                "audience".to_owned(),
                ParamValue::List(vec![audience.clone()]),
            ));
        }
        sequence.extend(self.token(client, GrantKind::TokenExchange.grant_type(), params));
    }

    /// After a grant that may have issued a refresh token: refresh with it,
    /// use it again, refresh the newest one asking for no scope, then ask
    /// for more scope; then present the last access token.
    fn refreshes(&mut self, client: &MockClient, sequence: &mut Vec<Exchange>) {
        let Some(first) = refresh_token(sequence.last()) else {
            return;
        };
        sequence.extend(self.refresh(client, &first, None));
        let second = refresh_token(sequence.last());
        sequence.extend(self.refresh(client, &first, None));
        let latest = second.unwrap_or(first);
        sequence.extend(self.refresh(client, &latest, Some(Vec::new())));
        let latest = refresh_token(sequence.last()).unwrap_or(latest);
        let mut wider = scopes(client);
        wider.push(format!("{MADE_UP}-wider"));
        sequence.extend(self.refresh(client, &latest, Some(wider)));
        let token = sequence
            .iter()
            .rev()
            .find_map(|exchange| access_token(Some(exchange)));
        sequence.extend(self.resource(token.as_deref(), Method::GET, 0));
    }

    /// A refresh with `token`, asking for `scope` (the client's scopes when
    /// `None`, no scope parameter when empty).
    fn refresh(
        &self,
        client: &MockClient,
        token: &str,
        scope: Option<Vec<String>>,
    ) -> Option<Exchange> {
        let params = vec![(
            "refresh_token".to_owned(),
            ParamValue::One(Text::secret(token)),
        )];
        let request = self.token_request(client, "refresh_token", params, scope)?;
        Some(self.send(request, Some("refresh_token"), ExchangeKind::Token, 0))
    }

    /// Refusals: a wrong secret, and a grant type the provider does not know.
    fn refusals(&mut self, client: &MockClient) {
        let Some(grant) = client.grants.first() else {
            return;
        };
        if client.secret.is_some() {
            let wrong = MockClient {
                secret: Some(format!("{MADE_UP}-wrong-secret")),
                ..client.clone()
            };
            let sequence = self.token(&wrong, grant.grant_type(), Vec::new());
            self.judge(sequence.into_iter().collect());
        }
        let unknown_grant = format!("{MADE_UP}_grant");
        let sequence = self.token(client, &unknown_grant, Vec::new());
        self.judge(sequence.into_iter().collect());
    }

    /// A token request of `client` for `grant_type`, with its scopes and
    /// audiences besides `params`.
    fn token(
        &self,
        client: &MockClient,
        grant_type: &str,
        params: Vec<(String, ParamValue)>,
    ) -> Option<Exchange> {
        let request = self.token_request(client, grant_type, params, None)?;
        Some(self.send(request, Some(grant_type), ExchangeKind::Token, 0))
    }

    /// The request the profile builds; `None` when it builds none (a `GET`
    /// profile refuses to put a credential in the URL).
    fn token_request(
        &self,
        client: &MockClient,
        grant_type: &str,
        mut params: Vec<(String, ParamValue)>,
        scope: Option<Vec<String>>,
    ) -> Option<HttpRequest> {
        let scope = scope.unwrap_or_else(|| scopes(client));
        if !scope.is_empty() {
            params.push(("scope".to_owned(), ParamValue::List(scope)));
        }
        let audiences = if client.audiences.is_empty() && self.provider.seed.require_audience {
            vec![format!("{MADE_UP}-audience")]
        } else {
            client.audiences.clone()
        };
        if !audiences.is_empty() {
            params.push(("audience".to_owned(), ParamValue::List(audiences)));
        }
        let credentials = ClientCredentials {
            id: client.id.clone(),
            secret: client.secret.clone().map(SecretString::from),
            assertion: None,
        };
        build_raw_at(
            &self.provider.profile,
            self.token_url.clone(),
            grant_type,
            Some(&credentials),
            params,
        )
        .ok()
    }

    /// A call to the protected resource with `token` presented the
    /// profile's way (none when `None`), `clock_offset` seconds after now.
    fn resource(&self, token: Option<&str>, method: Method, clock_offset: u64) -> Option<Exchange> {
        let mut request = HttpRequest {
            method: method.as_str().to_owned(),
            url: self.resource_url.clone(),
            query: Vec::new(),
            headers: vec![("accept".to_owned(), Text::from("application/json"))],
            body: None,
        };
        if let Some(token) = token {
            let placement = &self.provider.profile.resource.token;
            present_token(
                placement,
                &SecretString::from(token.to_owned()),
                &mut request,
            )
            .ok()?;
        }
        Some(self.send(request, None, ExchangeKind::Resource, clock_offset))
    }

    /// Has the emulator answer `request`.
    fn send(
        &self,
        request: HttpRequest,
        grant_type: Option<&str>,
        kind: ExchangeKind,
        clock_offset: u64,
    ) -> Exchange {
        let mut request = request;
        let clock_offset = clock_offset.min(MAX_CLOCK_OFFSET);
        if clock_offset > 0 {
            // As the runner sends it after an `advance`: the checks read it.
            request.headers.push((
                CLOCK_OFFSET_HEADER.to_owned(),
                Text::Plain(clock_offset.to_string()),
            ));
        }
        let mock_request = mock_request(&request);
        let path = match kind {
            ExchangeKind::Token => self.provider.profile.token_endpoint.path.as_str(),
            ExchangeKind::Resource => "/ping",
            ExchangeKind::DeviceAuthorization => self
                .provider
                .profile
                .token_endpoint
                .device_authorization_path(),
            ExchangeKind::Authorization => grantspec_spec::DEFAULT_AUTHORIZE_PATH,
        };
        let response = http_response(self.emulator.handle(path, &mock_request));
        Exchange {
            json: response.json(),
            request,
            response,
            grant_type: grant_type.map(str::to_owned),
            kind,
        }
    }

    /// Judges a sequence as the runner judges a case's profile-shaped
    /// exchanges, and keeps the deviations it shows.
    fn judge(&mut self, sequence: Vec<Exchange>) {
        if sequence.is_empty() {
            return;
        }
        let facts: Vec<ExchangeFacts<'_>> = sequence
            .iter()
            .map(|exchange| ExchangeFacts {
                request: &exchange.request,
                response: &exchange.response,
                json: exchange.json.as_ref(),
                grant_type: exchange.grant_type.as_deref(),
                request_is_profile_shaped: true,
                kind: exchange.kind,
            })
            .collect();
        let (each, together) = rfc::check_case(&facts, Details::Deviations);
        let findings: Vec<rfc::Finding> = each.into_iter().flatten().chain(together).collect();
        self.shown.extend(rfc::observed_deviations(&findings));
    }
}

/// The scopes a client asks for: its own, or two made-up ones when it may
/// ask for any.
fn scopes(client: &MockClient) -> Vec<String> {
    if client.scopes.is_empty() {
        vec![format!("{MADE_UP}-read"), format!("{MADE_UP}-write")]
    } else {
        client.scopes.clone()
    }
}

/// The token object of a successful answer: the body, or the member object
/// holding `access_token`.
fn token_object(exchange: Option<&Exchange>) -> Option<&Value> {
    let exchange = exchange?;
    if !(200..300).contains(&exchange.response.status) {
        return None;
    }
    let json = exchange.json.as_ref()?;
    if json.get("access_token").is_some() {
        return Some(json);
    }
    let mut inner = json;
    while let Some(member) = inner
        .as_object()?
        .values()
        .find(|member| member.is_object())
    {
        if member.get("access_token").is_some() {
            return Some(member);
        }
        inner = member;
    }
    None
}

fn access_token(exchange: Option<&Exchange>) -> Option<String> {
    token_object(exchange)?
        .get("access_token")?
        .as_str()
        .map(str::to_owned)
}

fn refresh_token(exchange: Option<&Exchange>) -> Option<String> {
    token_object(exchange)?
        .get("refresh_token")?
        .as_str()
        .map(str::to_owned)
}

/// The request as the emulator receives it, with the `Content-Type` of its
/// body.
fn mock_request(request: &HttpRequest) -> MockRequest {
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.expose()),
        ) {
            headers.append(name, value);
        }
    }
    let content_type = request.body.as_ref().and_then(|body| body.content_type());
    if let Some(Ok(value)) = content_type.map(HeaderValue::try_from) {
        headers.insert(axum::http::header::CONTENT_TYPE, value);
    }
    let url = request.wire_url();
    let uri = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    MockRequest {
        method: Method::from_bytes(request.method.as_bytes()).unwrap_or(Method::POST),
        uri: uri.parse::<Uri>().unwrap_or_default(),
        headers,
        body: request
            .body
            .as_ref()
            .map(|body| body.to_bytes().into())
            .unwrap_or_default(),
    }
}

/// The answer as a client receives it: header names in lower case.
fn http_response(response: MockResponse) -> HttpResponse {
    HttpResponse {
        status: response.status,
        headers: response
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: response.body,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Every deviation a shipped spec declares, which its cases show on the
    /// mock today, is one the mock says it emulates, or one shown by the
    /// request alone.
    #[test]
    fn the_shipped_specs_declared_deviations_are_emulated() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let (specs, errors) = grantspec_spec::load_dir(&dir);
        assert!(errors.is_empty());
        for loaded in &specs {
            let spec = &loaded.spec;
            let Some(provider) = spec.mock_provider() else {
                continue;
            };
            let emulated = emulated_deviations(&provider);
            for declared in &spec.provider.deviations {
                assert!(
                    emulated.contains(declared.as_str()) || rfc::shown_by_requests_alone(declared),
                    "{}: `{declared}` is not among {emulated:?}",
                    spec.provider.id
                );
            }
        }
    }

    /// GitHub's default form hides its missing `expires_in` and its own
    /// error codes from the checks; its answers to a request asking for
    /// JSON show them, and only a negotiating seed gives those answers.
    #[test]
    fn a_negotiating_provider_is_probed_asking_for_json_too() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/github.yaml");
        let spec = grantspec_spec::load_file(&path).unwrap().spec;
        let shown_by_json = ["missing-expires-in", "unregistered-error-code"];
        let negotiating = emulated_deviations(&spec.mock_provider().unwrap());
        for id in shown_by_json
            .iter()
            .chain(&["non-json-token-response", "non-json-error-response"])
        {
            assert!(negotiating.contains(id), "{id} not in {negotiating:?}");
        }
        let mut insisting = spec.mock.clone().unwrap();
        insisting.json_on_accept = false;
        let provider = MockProvider {
            seed: &insisting,
            ..spec.mock_provider().unwrap()
        };
        let form_only = emulated_deviations(&provider);
        for id in shown_by_json {
            assert!(!form_only.contains(id), "{id} in {form_only:?}");
        }
        assert!(
            form_only.contains("non-json-token-response"),
            "{form_only:?}"
        );
    }
}
