//! One provider's token endpoint and protected resource, emulated from its
//! profile and mock seed. Pure request-in, response-out; no sockets here.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::http::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, DATE, PRAGMA, WWW_AUTHENTICATE,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use base64::Engine as _;
use grantspec_spec::{
    DEFAULT_AUTHORIZE_PATH, DEFAULT_CONTENT_TYPE, ExtraMember, GrantKind, MockClient, MockProvider,
    MockSeed, ResponseScope,
};
use grantspec_token::{
    BodyEncoding, CLOCK_OFFSET_HEADER, ClientAuth, Clock, ExpiryStyle, HttpMethod, ListStyle,
    ProviderProfile, ResponseEncoding, TokenPlacement, ZeroLifetime,
};
use serde_json::{Value, json};

use crate::assertions::JtiCache;
use crate::device::DeviceCodes;
use crate::json;
use crate::render::{OAuthError, render_error};
use crate::scan;
use crate::store::{Family, Grantee, Refused, TokenStore};

mod grants;

pub use crate::store::DEFAULT_MAX_TOKENS;

/// Largest request body the emulator reads, in bytes.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;

/// Parameters that carry lists and may be repeated or space-joined.
const LIST_PARAMS: &[&str] = &["scope", "audience", "resource"];

/// The value of a token answer's `Date` until [`Emulator::with_date_at`]
/// sets it.
const DATE_PLACEHOLDER: &str = "(set when answered)";

const CLOCK_OFFSET: HeaderName = HeaderName::from_static(CLOCK_OFFSET_HEADER);

/// The largest [`CLOCK_OFFSET_HEADER`] the emulator accepts: 100 years of
/// 365.25 days, in seconds. A larger or unparsable offset is a `400`.
pub const MAX_CLOCK_OFFSET: u64 = 3_155_760_000;

/// An HTTP request as the emulator sees it.
#[derive(Debug, Clone, Default)]
pub struct MockRequest {
    /// Method.
    pub method: Method,
    /// Path and query. [`Mock::handle`](crate::Mock::handle) routes on the
    /// path's first segment, the provider id.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// The body (already capped by the server).
    pub body: Bytes,
}

impl MockRequest {
    /// The first value of a header, as text (invalid UTF-8 replaced).
    pub(crate) fn header(&self, name: &HeaderName) -> Option<Cow<'_, str>> {
        self.headers.get(name).map(|value| text(value.as_bytes()))
    }
}

/// An HTTP response from the emulator.
#[derive(Debug, Clone, PartialEq)]
pub struct MockResponse {
    /// Status code.
    pub status: u16,
    /// Headers, in the order they are sent.
    pub headers: HeaderMap,
    /// Body.
    pub body: Vec<u8>,
}

impl MockResponse {
    pub(crate) fn json(status: u16, content_type: &str, body: &Value) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            // The compact form `to_string` gives, without the formatter.
            body: serde_json::to_vec(body).unwrap_or_else(|_| body.to_string().into_bytes()),
        }
        .with_header(CONTENT_TYPE, content_type)
    }

    /// A form-encoded answer of `members` (strings as they are, other
    /// values as JSON text), as providers that answer forms write them.
    pub(crate) fn form(
        status: u16,
        content_type: &str,
        members: &serde_json::Map<String, Value>,
    ) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: form_body(
                members
                    .iter()
                    .map(|(name, value)| (name.as_str(), form_value(value))),
            ),
        }
        .with_header(CONTENT_TYPE, content_type)
    }

    /// Adds a header; a value that is not a valid header value is left out.
    pub(crate) fn with_header<V: TryInto<HeaderValue>>(
        mut self,
        name: HeaderName,
        value: V,
    ) -> Self {
        if let Ok(value) = value.try_into() {
            self.headers.append(name, value);
        }
        self
    }
}

/// What a token answer says, beyond the provider's profile and seed.
#[derive(Clone, Copy)]
struct TokenMembers<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    scope: &'a [String],
    grant: GrantKind,
    now: Duration,
    lifetime: Duration,
}

/// How a token answer is written and what it says of time.
struct Answer {
    /// JSON or the profile's encoding, as negotiated.
    encoding: ResponseEncoding,
    /// The emulator's time of issue.
    now: Duration,
    /// The access token's lifetime.
    lifetime: Duration,
}

/// Whether an `Accept` value names `application/json` with a weight above
/// zero. Only the exact media type counts: what GitHub answers `*/*` or
/// `application/*` with is not documented, and its default (a form) is
/// assumed.
fn names_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let refused = parts.any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("q")
                    && value.trim().parse::<f64>().is_ok_and(|q| q <= 0.0)
            })
        });
        media.eq_ignore_ascii_case("application/json") && !refused
    })
}

/// How the client authenticated, as far as the emulator could tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthUsed {
    Basic,
    Post,
    None,
}

/// One provider's emulator.
#[derive(Debug)]
pub struct Emulator {
    id: String,
    profile: ProviderProfile,
    pub(crate) seed: MockSeed,
    accepts: Vec<BodyEncoding>,
    auth_methods: Vec<ClientAuth>,
    /// The grants some seeded client may use, sorted.
    enabled_grants: Vec<GrantKind>,
    /// The headers of a token response, in their order: the seed's content
    /// type (unless it is no valid header value), the cache headers and
    /// `Date`, whose value [`Emulator::with_date_at`] sets. Built once and
    /// cloned for each answer, which costs less than filling a new map.
    token_headers: HeaderMap,
    /// Whether every member a token answer may have has a name of its own,
    /// so that none replaces another and the answer can be written as its
    /// members come ([`JsonObject`]).
    member_names_differ: bool,
    /// The names of the RFC 6749 members of a token answer, as this
    /// provider names them, each with its JSON key written once.
    member_keys: MemberKeys,
    /// The seed's client ids, in the seed's order, shared by the tokens
    /// issued to each.
    client_ids: Vec<Arc<str>>,
    clock: Arc<dyn Clock>,
    pub(crate) store: Mutex<TokenStore>,
    /// The `jti`s of accepted assertions, against replay.
    jtis: Mutex<JtiCache>,
    /// Device codes issued by the device authorization endpoint.
    devices: Mutex<DeviceCodes>,
}

impl Emulator {
    /// An emulator for `provider` (its profile and mock seed; never a
    /// case), keeping at most [`DEFAULT_MAX_TOKENS`] tokens.
    pub fn new(provider: MockProvider<'_>, clock: Arc<dyn Clock>) -> Self {
        Self::with_max_tokens(provider, clock, DEFAULT_MAX_TOKENS)
    }

    /// An emulator for `provider` (its profile and mock seed; never a
    /// case) that keeps at most `max_tokens` issued tokens (access and
    /// refresh together, at least one) and forgets the oldest first: a
    /// forgotten token is answered as an unknown one (`invalid_grant` for a
    /// refresh token, `invalid_token` at the protected resource).
    pub fn with_max_tokens(
        provider: MockProvider<'_>,
        clock: Arc<dyn Clock>,
        max_tokens: usize,
    ) -> Self {
        let MockProvider { id, profile, seed } = provider;
        let seed = seed.clone();
        let accepts = if seed.accepts.is_empty() {
            vec![profile.token_endpoint.body]
        } else {
            seed.accepts.clone()
        };
        let auth_methods = if seed.client_auth.is_empty() {
            vec![profile.token_endpoint.client_auth]
        } else {
            seed.client_auth.clone()
        };
        let mut enabled_grants: Vec<GrantKind> = seed
            .clients
            .iter()
            .flat_map(|client| client.grants.iter().copied())
            .collect();
        enabled_grants.sort();
        enabled_grants.dedup();
        let mut token_headers = HeaderMap::with_capacity(4);
        let content_type = answer_content_type(profile.response.encoding, &seed);
        if let Ok(content_type) = HeaderValue::from_str(content_type) {
            token_headers.append(CONTENT_TYPE, content_type);
        }
        token_headers.extend(cache_headers(&seed));
        token_headers.append(DATE, HeaderValue::from_static(DATE_PLACEHOLDER));
        let member_names_differ = member_names_differ(&profile, &seed);
        let member_keys = MemberKeys::new(&profile.response.members);
        let client_ids = seed
            .clients
            .iter()
            .map(|client| Arc::from(client.id.as_str()))
            .collect();
        Self {
            jtis: Mutex::new(JtiCache::new(seed.assertions.max_jtis)),
            devices: Mutex::new(DeviceCodes::new(seed.device_flow.max_codes)),
            token_headers,
            member_names_differ,
            member_keys,
            client_ids,
            id: id.to_owned(),
            profile,
            seed,
            accepts,
            auth_methods,
            enabled_grants,
            clock,
            store: Mutex::new(TokenStore::with_max_tokens(max_tokens)),
        }
    }

    /// The id of `client`, one of the seed's, shared.
    pub(crate) fn client_id(&self, client: &MockClient) -> Arc<str> {
        self.seed
            .clients
            .iter()
            .position(|seeded| std::ptr::eq(seeded, client))
            .and_then(|index| self.client_ids.get(index))
            .map_or_else(|| Arc::from(client.id.as_str()), Arc::clone)
    }

    /// The provider id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The token endpoint path.
    pub fn token_path(&self) -> &str {
        &self.profile.token_endpoint.path
    }

    /// Answers a request to `path`, any path below this provider's prefix
    /// (`/api/oauth/token`).
    pub fn handle(&self, path: &str, request: &MockRequest) -> MockResponse {
        if path == self.profile.token_endpoint.path {
            self.token_endpoint(request)
        } else if path == self.profile.token_endpoint.device_authorization_path() {
            self.with_date(request, self.device_authorization(request))
        } else if path == "/ping" {
            self.protected_resource(request)
        } else if path == DEFAULT_AUTHORIZE_PATH {
            self.authorization_endpoint(request)
        } else {
            MockResponse::json(404, "application/json", &json!({ "error": "not_found" }))
        }
    }

    /// Answers with `error`, rendered in this provider's format and its
    /// default encoding (the request that brought it could not be read).
    pub fn reject(&self, error: &OAuthError) -> MockResponse {
        let encoding = self.profile.response.encoding;
        render_error(&self.id, &self.profile, &self.seed, error, encoding, false)
    }

    /// The encoding of a token or error answer to `request`: JSON when the
    /// seed says the provider negotiates (`json_on_accept`) and the request's
    /// `Accept` names `application/json`, the profile's otherwise.
    pub(crate) fn answer_encoding(&self, request: &MockRequest) -> ResponseEncoding {
        let names_json = || {
            request
                .headers
                .get_all(ACCEPT)
                .iter()
                .any(|value| names_json(&text(value.as_bytes())))
        };
        if self.seed.json_on_accept && names_json() {
            ResponseEncoding::Json
        } else {
            self.profile.response.encoding
        }
    }

    fn token_endpoint(&self, request: &MockRequest) -> MockResponse {
        let now = self.now(request);
        let response = self
            .token_flow(request, now.clone())
            .unwrap_or_else(|error| {
                let basic_used = request.header(&AUTHORIZATION).is_some_and(|value| {
                    value
                        .get(..6)
                        .is_some_and(|p| p.eq_ignore_ascii_case("basic "))
                });
                let encoding = self.answer_encoding(request);
                render_error(
                    &self.id,
                    &self.profile,
                    &self.seed,
                    &error,
                    encoding,
                    basic_used,
                )
            });
        self.with_date_at(now, response)
    }

    /// Adds `Date` (RFC 9110 §6.6.1) on the emulator's clock, moved by the
    /// request's clock offset: the time by which an assertion's `exp` and a
    /// device flow's `interval` were judged, so a checker reads the same.
    fn with_date(&self, request: &MockRequest, response: MockResponse) -> MockResponse {
        self.with_date_at(self.now(request), response)
    }

    /// [`Emulator::with_date`] for the request's time, [`Emulator::now`],
    /// already worked out; the clock's own when the request's offset was
    /// refused. A `Date` the response has ([`Emulator::token_headers`]'s
    /// placeholder) keeps its place and takes the value.
    fn with_date_at(
        &self,
        now: Result<Duration, OAuthError>,
        mut response: MockResponse,
    ) -> MockResponse {
        let now = now.unwrap_or_else(|_| since_epoch(self.clock.now()));
        match http_date(now.as_secs()) {
            Some(date) => {
                response.headers.insert(DATE, date);
            }
            None => {
                response.headers.remove(DATE);
            }
        }
        response
    }

    /// A token request's answer; `now` is the request's time
    /// ([`Emulator::now`]), refused after the method is.
    fn token_flow(
        &self,
        request: &MockRequest,
        now: Result<Duration, OAuthError>,
    ) -> Result<MockResponse, OAuthError> {
        let expected_method = self.profile.token_endpoint.method.as_str();
        let method = request.method.as_str();
        if !method.eq_ignore_ascii_case(expected_method) {
            return Err(OAuthError::method_not_allowed(method, expected_method));
        }
        let now = now?;
        let mut params = self.read_params(request)?;

        let grant_type = params.take_one("grant_type").ok_or_else(|| {
            OAuthError::invalid_request(
                "The request is missing the required parameter `grant_type`.",
            )
            .league(3)
        })?;
        let Some(grant) = self
            .enabled_grants
            .iter()
            .copied()
            .find(|g| g.grant_type() == grant_type)
        else {
            return Err(OAuthError::unsupported_grant_type(&grant_type).league(2));
        };

        let client = self.authenticate(request, &mut params, grant, now)?;
        if !client.grants.contains(&grant) {
            return Err(OAuthError::unauthorized_client(&client.id, grant).league(4));
        }

        let scope_name = self.profile.token_endpoint.wire_name("scope");
        let requested_scope = params.take_list(scope_name);
        if let Some(denied) = requested_scope
            .iter()
            .find(|scope| !client.scopes.is_empty() && !client.scopes.contains(scope))
        {
            return Err(OAuthError::invalid_scope(denied).league(5));
        }
        let audience_name = self.profile.token_endpoint.wire_name("audience");
        let audience = params.take_list(audience_name);
        if self.seed.require_audience && audience.is_empty() {
            return Err(OAuthError::invalid_request(
                "The request must name at least one `audience`.",
            ));
        }
        if let Some(denied) = audience
            .iter()
            .find(|a| !client.audiences.is_empty() && !client.audiences.contains(a))
        {
            return Err(OAuthError::invalid_request(format!(
                "Requested audience `{denied}` has not been whitelisted for this client."
            )));
        }

        let lifetime = Duration::from_secs(self.seed.token_lifetime_for(Some(client), grant));
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        store.evict_expired(now);
        let fresh = |user: Option<String>| Grantee {
            client_id: self.client_id(client),
            user,
            scope: requested_scope.clone(),
            audience: audience.clone(),
            read_only: false,
        };
        // Whether the answer to this grant carries a refresh token.
        let issues_refresh = !self.seed.without_refresh_token.contains(&grant);
        // The family of a refresh token and of the tokens issued with it.
        let (grantee, refresh_token, family) = match grant {
            GrantKind::ClientCredentials => (fresh(None), None, None),
            GrantKind::Implicit => (
                Grantee {
                    read_only: true,
                    ..fresh(None)
                },
                None,
                None,
            ),
            GrantKind::Password => {
                let (Some(username), Some(password)) =
                    (params.take_one("username"), params.take_one("password"))
                else {
                    return Err(OAuthError::invalid_request(
                        "The password grant requires `username` and `password`.",
                    )
                    .league(3));
                };
                let known = self
                    .seed
                    .users
                    .iter()
                    .any(|user| user.username == username && user.password == password);
                if !known {
                    return Err(
                        OAuthError::invalid_grant("The user credentials were incorrect.").league(6),
                    );
                }
                let grantee = fresh(Some(username.into_owned()));
                let family = Family::default();
                let refresh = issues_refresh.then(|| store.issue_refresh(&grantee, &family));
                (grantee, refresh, Some(family))
            }
            GrantKind::AuthorizationCode => {
                let Some(code) = params.take_one("code") else {
                    return Err(OAuthError::invalid_request(
                        "The authorization_code grant requires `code`.",
                    )
                    .league(3));
                };
                let redirect_uri = params.take_one("redirect_uri");
                let verifier = params.take_one("code_verifier");
                // A code the seed pre-issued, bound to its redirect URI only.
                if let Some(seeded) = client.codes.iter().find(|c| c.code == code) {
                    let Some(redirect_uri) = redirect_uri else {
                        return Err(OAuthError::invalid_request(
                            "The authorization_code grant requires `code` and `redirect_uri`.",
                        )
                        .league(3));
                    };
                    if redirect_uri != seeded.redirect_uri || !store.consume_code(&client.id, &code)
                    {
                        return Err(OAuthError::invalid_grant(
                            "The authorization code is invalid, was already used, or was issued for another redirect URI.",
                        )
                        .league(10));
                    }
                    let grantee = fresh(seeded.user.clone());
                    let family = Family::default();
                    let refresh = issues_refresh.then(|| store.issue_refresh(&grantee, &family));
                    (grantee, refresh, Some(family))
                } else {
                    let issued = crate::authorize::redeem_code(
                        &mut store,
                        &client.id,
                        &code,
                        redirect_uri.as_deref(),
                        verifier.as_deref(),
                        now,
                    )?;
                    // The scope is the authorization request's (RFC 6749
                    // §4.1.3 has no `scope` at the token endpoint).
                    let grantee = Grantee {
                        audience: audience.clone(),
                        ..issued.grantee
                    };
                    let refresh = (issues_refresh
                        && client.grants.contains(&GrantKind::RefreshToken))
                    .then(|| store.issue_refresh(&grantee, &issued.family));
                    (grantee, refresh, Some(issued.family))
                }
            }
            GrantKind::RefreshToken => {
                let Some(presented) = params.take_one("refresh_token") else {
                    return Err(OAuthError::invalid_request(
                        "The request is missing the required parameter `refresh_token`.",
                    )
                    .league(3));
                };
                let invalid =
                    || OAuthError::invalid_grant("The refresh token is invalid.").league(8);
                // A refused refresh leaves the token as it was: the scope is
                // checked before the token is used.
                let granted = store
                    .refresh_grantee(&presented, &client.id)
                    .ok_or_else(invalid)?;
                if let Some(wider) = requested_scope.iter().find(|s| !granted.scope.contains(s)) {
                    return Err(OAuthError::invalid_scope(wider).league(5));
                }
                let policy = self.seed.refresh;
                let redeemed = store
                    .redeem_refresh(&presented, &client.id, policy)
                    .map_err(|refused| match refused {
                        Refused::Unknown => invalid(),
                        Refused::Replayed => OAuthError::invalid_grant(
                            "The refresh token was already used; every token issued from its grant is revoked.",
                        )
                        .league(8),
                    })?;
                let mut grantee = redeemed.grantee;
                if !requested_scope.is_empty() {
                    grantee.scope = requested_scope.clone();
                }
                let refresh = if policy.issues_new_token() {
                    store.issue_refresh(&grantee, &redeemed.family)
                } else {
                    presented.into_owned()
                };
                (grantee, Some(refresh), Some(redeemed.family))
            }
            GrantKind::JwtBearer => {
                let user = self.jwt_bearer(request, &mut params, now)?;
                (fresh(Some(user)), None, None)
            }
            GrantKind::DeviceCode => {
                let scope = self.device_poll(&mut params, &client.id, now)?;
                let grantee = Grantee {
                    scope,
                    ..fresh(None)
                };
                let family = Family::default();
                let refresh = store.issue_refresh(&grantee, &family);
                (grantee, Some(refresh), Some(family))
            }
            GrantKind::TokenExchange => {
                let user = self.token_exchange(&mut params, &audience, &store, now)?;
                (fresh(user), None, None)
            }
        };
        // A provider whose zero lifetime means "does not expire".
        let never =
            lifetime.is_zero() && self.profile.response.zero_lifetime == ZeroLifetime::Never;
        let expires_at = if never {
            Duration::MAX
        } else {
            now.saturating_add(lifetime)
        };
        // The answer says the scope; the store keeps the grantee.
        let scope = grantee.scope.clone();
        let access = store.issue_access(
            grantee,
            expires_at,
            self.seed.token_format,
            now,
            family.as_ref(),
        );
        drop(store);
        let answer = Answer {
            encoding: self.answer_encoding(request),
            now,
            lifetime,
        };
        Ok(self.success(&access, refresh_token, &scope, grant, answer))
    }

    /// The emulator's time for this request, since the Unix epoch: the
    /// clock, moved forward by the request's `x-grantspec-clock-offset`
    /// seconds. Cases run in parallel on one server; the offset gives each
    /// its own timeline. An offset that is no whole number of seconds, or
    /// more than [`MAX_CLOCK_OFFSET`], is an `invalid_request`.
    pub(crate) fn now(&self, request: &MockRequest) -> Result<Duration, OAuthError> {
        let offset = match request.header(&CLOCK_OFFSET) {
            None => 0,
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|offset| *offset <= MAX_CLOCK_OFFSET)
                .ok_or_else(|| {
                    let shown: String = value.chars().take(40).collect();
                    OAuthError::invalid_request(format!(
                        "`{CLOCK_OFFSET_HEADER}` must be a whole number of seconds from 0 to \
                         {MAX_CLOCK_OFFSET} (100 years); got `{shown}`."
                    ))
                    .league(3)
                })?,
        };
        Ok(since_epoch(self.clock.now()).saturating_add(Duration::from_secs(offset)))
    }

    fn success(
        &self,
        access_token: &str,
        refresh_token: Option<String>,
        scope: &[String],
        grant: GrantKind,
        Answer {
            encoding,
            now,
            lifetime,
        }: Answer,
    ) -> MockResponse {
        let shape = &self.profile.response;
        let members = TokenMembers {
            access_token,
            refresh_token: refresh_token.as_deref(),
            scope,
            grant,
            now,
            lifetime,
        };
        let body = match encoding {
            ResponseEncoding::Json if self.member_names_differ => {
                let capacity =
                    96 + access_token.len() + refresh_token.as_ref().map_or(0, String::len);
                let mut object = JsonObject::open(shape.envelope.as_deref(), capacity);
                self.token_members(&mut object, &members);
                object.close()
            }
            ResponseEncoding::Json => {
                let mut token = Members::default();
                self.token_members(&mut token, &members);
                token.into_json(shape.envelope.as_deref())
            }
            ResponseEncoding::Form => {
                let mut token = Members::default();
                self.token_members(&mut token, &members);
                token.to_form()
            }
        };
        let negotiated = (encoding != shape.encoding)
            .then(|| HeaderValue::from_str(answer_content_type(encoding, &self.seed)).ok())
            .flatten();
        MockResponse {
            status: self.seed.success_status,
            headers: self.token_headers(negotiated),
            body,
        }
    }

    /// Sets the members of a token answer in `sink`, in their order.
    fn token_members<'a>(&'a self, sink: &mut impl MemberSink<'a>, token: &TokenMembers<'a>) {
        let shape = &self.profile.response;
        let keys = &self.member_keys;
        let TokenMembers {
            access_token,
            refresh_token,
            scope,
            grant,
            now,
            lifetime,
        } = *token;
        sink.set_known(&keys.access_token, Member::Text(access_token.into()));
        let token_type = self.seed.token_type_for(grant);
        if !token_type.is_empty() {
            sink.set_known(&keys.token_type, Member::Text(token_type.into()));
        }
        if matches!(shape.expiry, ExpiryStyle::ExpiresIn | ExpiryStyle::Both) {
            let seconds = lifetime.as_secs();
            let value = if self.seed.expires_in_as_string {
                Member::NumberText(seconds)
            } else {
                Member::Number(seconds)
            };
            sink.set_known(&keys.expires_in, value);
        }
        if matches!(shape.expiry, ExpiryStyle::Expires | ExpiryStyle::Both) {
            let epoch = now.saturating_add(lifetime);
            sink.set_known(&keys.expires, Member::Number(epoch.as_secs()));
        }
        if shape.expiry == ExpiryStyle::ExpiresRelative {
            sink.set_known(&keys.expires, Member::Number(lifetime.as_secs()));
        }
        if let Some(refresh_token) = refresh_token {
            sink.set_known(&keys.refresh_token, Member::Text(refresh_token.into()));
        }
        match self.seed.response_scope {
            ResponseScope::Omit => {}
            ResponseScope::Always => sink.set_known(&keys.scope, Member::SpaceJoined(scope)),
            ResponseScope::Array => sink.set_known(&keys.scope, Member::Texts(scope)),
            ResponseScope::Null => sink.set_known(&keys.scope, Member::Json(Value::Null)),
        }
        if grant == GrantKind::TokenExchange
            && self
                .seed
                .token_exchange
                .as_ref()
                .is_some_and(|policy| policy.issued_token_type)
        {
            sink.set(
                "issued_token_type",
                Member::Text(grantspec_token::ACCESS_TOKEN_TYPE.into()),
            );
        }
        for (member, value) in &self.seed.extra_members {
            sink.set(member, Member::Json(issued_member(value, grant, now)));
        }
    }

    /// The headers of a token answer: the seed's content type, or
    /// `negotiated` in its place, the cache headers and a placeholder `Date`
    /// for [`Emulator::with_date_at`] to set.
    pub(crate) fn token_headers(&self, negotiated: Option<HeaderValue>) -> HeaderMap {
        let mut headers = self.token_headers.clone();
        if let Some(content_type) = negotiated {
            headers.insert(CONTENT_TYPE, content_type);
        }
        headers
    }

    /// The content types of the body encodings this provider accepts:
    /// `application/json or application/x-www-form-urlencoded`.
    fn accepted_content_types(&self) -> String {
        self.accepts
            .iter()
            .map(|e| e.content_type())
            .collect::<Vec<_>>()
            .join(" or ")
    }

    fn read_params<'r>(&self, request: &'r MockRequest) -> Result<Params<'r>, OAuthError> {
        let repeat_lists = self.profile.token_endpoint.lists == ListStyle::Repeat;
        if self.profile.token_endpoint.method == HttpMethod::Get {
            let query = request.uri.query().unwrap_or_default();
            return Params::from_pairs(parse_form(query.as_bytes()), repeat_lists);
        }
        let content_type = request.header(&CONTENT_TYPE).unwrap_or_default();
        let media_type = content_type.split(';').next().unwrap_or_default().trim();
        let encoding = if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            BodyEncoding::Form
        } else if media_type.eq_ignore_ascii_case("application/json") {
            BodyEncoding::Json
        } else {
            return Err(OAuthError::invalid_request(format!(
                "Unsupported content type `{content_type}`; expected {}.",
                self.accepted_content_types()
            ))
            .league(3));
        };
        if !self.accepts.contains(&encoding) {
            return Err(OAuthError::invalid_request(format!(
                "Request bodies must be {}.",
                self.accepted_content_types()
            ))
            .league(3));
        }
        match encoding {
            BodyEncoding::Form => Params::from_pairs(parse_form(&request.body), repeat_lists),
            BodyEncoding::Json => {
                let json: Value = serde_json::from_slice(&request.body).map_err(|_| {
                    OAuthError::invalid_request("The request body is not valid JSON.").league(3)
                })?;
                let Value::Object(object) = json else {
                    return Err(
                        OAuthError::invalid_request("The JSON body must be an object.").league(3),
                    );
                };
                let mut pairs = Vec::new();
                for (name, value) in object {
                    match value {
                        Value::String(s) => pairs.push((name.into(), s.into())),
                        Value::Number(n) => pairs.push((name.into(), n.to_string().into())),
                        Value::Bool(b) => pairs.push((name.into(), b.to_string().into())),
                        Value::Array(items) if LIST_PARAMS.contains(&name.as_str()) => {
                            for item in items {
                                let Value::String(s) = item else {
                                    return Err(OAuthError::invalid_request(format!(
                                        "`{name}` must be a list of strings."
                                    ))
                                    .league(3));
                                };
                                pairs.push((name.clone().into(), s.into()));
                            }
                        }
                        Value::Null => {}
                        _ => {
                            return Err(OAuthError::invalid_request(format!(
                                "`{name}` must be a string."
                            ))
                            .league(3));
                        }
                    }
                }
                Params::from_pairs(pairs, true)
            }
        }
    }

    fn authenticate(
        &self,
        request: &MockRequest,
        params: &mut Params<'_>,
        grant: GrantKind,
        now: Duration,
    ) -> Result<&MockClient, OAuthError> {
        if let Some(client) = self.assertion_client(request, params, now)? {
            return Ok(client);
        }
        let invalid = || {
            OAuthError::invalid_client("The Authorization header is not valid Basic credentials.")
                .league(4)
        };
        let authorization = request.header(&AUTHORIZATION);
        let mut decoded_on_stack = [0; BASIC_ON_STACK];
        let credentials = match &authorization {
            Some(value)
                if value
                    .get(..6)
                    .is_some_and(|p| p.eq_ignore_ascii_case("basic ")) =>
            {
                let encoded = value.get(6..).unwrap_or_default();
                Some(decode_basic(encoded, &mut decoded_on_stack).ok_or_else(invalid)?)
            }
            _ => None,
        };
        let basic = credentials
            .as_deref()
            .map(|decoded| split_basic(decoded).ok_or_else(invalid))
            .transpose()?;
        let body_id = params.take_one("client_id");
        let body_secret = params.take_one("client_secret");

        let (client_id, secret, used) = match (basic, body_id, body_secret) {
            (Some(_), _, Some(_)) => {
                return Err(OAuthError::invalid_request(
                    "The client authenticated with more than one method.",
                )
                .league(3));
            }
            (Some((id, secret)), body_id, None) => {
                if body_id.as_ref().is_some_and(|body_id| *body_id != id) {
                    return Err(OAuthError::invalid_request(
                        "`client_id` in the body differs from the Basic credentials.",
                    )
                    .league(3));
                }
                (id, Some(secret), AuthUsed::Basic)
            }
            (None, Some(id), Some(secret)) => (id, Some(secret), AuthUsed::Post),
            (None, Some(id), None) => (id, None, AuthUsed::None),
            (None, None, _) => {
                return Err(OAuthError::invalid_client(
                    "Client authentication failed: no client identified.",
                )
                .league(4));
            }
        };
        let accepted = match used {
            AuthUsed::Basic => self.auth_methods.contains(&ClientAuth::Basic),
            AuthUsed::Post => self.auth_methods.contains(&ClientAuth::Post),
            AuthUsed::None => true,
        };
        if !accepted {
            return Err(OAuthError::invalid_client(
                "Client authentication failed: this authentication method is not accepted.",
            )
            .league(4));
        }
        let client = self
            .seed
            .clients
            .iter()
            .find(|client| client.id == client_id)
            .ok_or_else(|| OAuthError::invalid_client("Client authentication failed.").league(4))?;
        // Elastic Path's implicit grant identifies the client by id alone.
        let secret_required = grant != GrantKind::Implicit;
        match (&client.secret, secret) {
            (Some(_), None) if !secret_required => {}
            (Some(expected), Some(given))
                if constant_time_eq(expected.as_bytes(), given.as_bytes()) => {}
            (None, _) => {}
            _ => return Err(OAuthError::invalid_client("Client authentication failed.").league(4)),
        }
        Ok(client)
    }

    /// The access token where the profile says the API takes it
    /// ([`TokenPlacement`]); a token anywhere else is not looked for, so a
    /// request that puts it elsewhere presents none.
    fn presented_token<'r>(&self, request: &'r MockRequest) -> Option<Cow<'r, str>> {
        let authorization = || request.header(&AUTHORIZATION);
        match &self.profile.resource.token {
            TokenPlacement::Header(scheme) if !scheme.is_empty() => {
                let value = authorization()?;
                let prefix = value.get(..scheme.len())?;
                let rest = value.get(scheme.len()..)?;
                if !prefix.eq_ignore_ascii_case(scheme) || !rest.starts_with(' ') {
                    return None;
                }
                Some(Cow::Owned(rest.trim().to_owned()))
            }
            // A bare token is one word; a value with a scheme is not it.
            TokenPlacement::Header(_) | TokenPlacement::BareHeader => authorization()
                .map(|value| Cow::<str>::Owned(value.trim().to_owned()))
                .filter(|value| !value.is_empty() && !value.contains(' ')),
            TokenPlacement::Query(name) => {
                let query = request.uri.query()?;
                form_field(query.as_bytes(), name)
            }
            TokenPlacement::Form(name) => {
                let form = request.header(&CONTENT_TYPE).is_some_and(|value| {
                    value.split(';').next().is_some_and(|media| {
                        media
                            .trim()
                            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                    })
                });
                if !form {
                    return None;
                }
                form_field(&request.body, name)
            }
        }
    }

    fn protected_resource(&self, request: &MockRequest) -> MockResponse {
        let realm = &self.id;
        let challenge = |error: Option<&str>| match error {
            Some(error) => format!("Bearer realm=\"{realm}\", error=\"{error}\""),
            None => format!("Bearer realm=\"{realm}\""),
        };
        let token = self.presented_token(request);
        let Some(token) = token.as_deref() else {
            // RFC 6750 §3.1: no credentials, so no error code in the challenge.
            return MockResponse::json(
                401,
                "application/json",
                &json!({ "error": "unauthorized" }),
            )
            .with_header(WWW_AUTHENTICATE, challenge(None));
        };
        let now = match self.now(request) {
            Ok(now) => now,
            Err(error) => {
                return MockResponse::json(
                    400,
                    "application/json",
                    &json!({ "error": error.code, "error_description": error.description }),
                )
                .with_header(WWW_AUTHENTICATE, challenge(Some("invalid_request")));
            }
        };
        let store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(grantee) = store.check_access(token, now) else {
            return MockResponse::json(
                401,
                "application/json",
                &json!({ "error": "invalid_token" }),
            )
            .with_header(WWW_AUTHENTICATE, challenge(Some("invalid_token")));
        };
        if grantee.read_only && !request.method.as_str().eq_ignore_ascii_case("GET") {
            return MockResponse::json(
                403,
                "application/json",
                &json!({ "error": "insufficient_scope", "error_description": "This token is read-only." }),
            )
            .with_header(WWW_AUTHENTICATE, challenge(Some("insufficient_scope")));
        }
        MockResponse::json(
            200,
            "application/json",
            &json!({
                "ok": true,
                "client_id": &*grantee.client_id,
                "scope": grantee.scope.join(" "),
                "read_only": grantee.read_only,
            }),
        )
    }
}

/// `Date`'s value for `seconds` since the Unix epoch (an HTTP date has no
/// finer unit). Every answer carries one, and most seconds bring thousands
/// of them under load: each thread formats a second's once.
fn http_date(seconds: u64) -> Option<HeaderValue> {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(u64, HeaderValue)>> = const { RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| {
        if let Some((at, value)) = last
            && *at == seconds
        {
            return Some(value.clone());
        }
        let text = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds));
        let value = HeaderValue::from_str(&text).ok()?;
        *last = Some((seconds, value.clone()));
        Some(value)
    })
}

/// Whether every member a token answer of this provider may have has a
/// name of its own ([`Emulator::token_members`] sets each at most once).
fn member_names_differ(profile: &ProviderProfile, seed: &MockSeed) -> bool {
    let members = &profile.response.members;
    let mut names: Vec<&str> = grantspec_token::ResponseMembers::RFC_NAMES
        .into_iter()
        .map(|rfc_name| members.name(rfc_name))
        .chain(["issued_token_type"])
        .chain(seed.extra_members.keys().map(String::as_str))
        .collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    names.len() == all
}

/// A time as the store keeps it: since the Unix epoch (zero before it).
fn since_epoch(time: SystemTime) -> Duration {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Request parameters in the order they came, with list parameters split
/// into one entry per item; values borrow from the request where they
/// needed no decoding. A request has a handful, so a list searched by name
/// does without a map's allocations.
pub(crate) struct Params<'a>(Vec<(Cow<'a, str>, Cow<'a, str>)>);

/// How many parameters [`Params::from_pairs`] searches one by one for a
/// repeated name; beyond that it keeps a set of the names, so that a body
/// of thousands of parameters is not quadratic.
const PARAMS_SEARCHED_IN_ORDER: usize = 16;

impl<'a> Params<'a> {
    pub(crate) fn from_pairs(
        pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
        repeat_lists: bool,
    ) -> Result<Self, OAuthError> {
        // A token request has a handful of parameters.
        let mut params: Vec<(Cow<'a, str>, Cow<'a, str>)> = Vec::with_capacity(4);
        let mut many_names: Option<HashSet<Cow<'a, str>>> = None;
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let is_list = LIST_PARAMS.contains(&&*name);
            let may_repeat = is_list && repeat_lists;
            let seen = match &many_names {
                Some(names) => names.contains(&name),
                None => params.iter().any(|(existing, _)| *existing == name),
            };
            if !may_repeat && seen {
                return Err(OAuthError::invalid_request(format!(
                    "Parameter `{name}` is included more than once."
                ))
                .league(3));
            }
            let before = params.len();
            match value {
                Cow::Borrowed(value) if is_list => params.extend(
                    value
                        .split_whitespace()
                        .map(|item| (name.clone(), Cow::Borrowed(item))),
                ),
                Cow::Owned(value) if is_list => params.extend(
                    value
                        .split_whitespace()
                        .map(|item| (name.clone(), Cow::Owned(item.to_owned()))),
                ),
                value => params.push((name.clone(), value)),
            }
            // A list of blanks adds no item, and counts as absent.
            if params.len() == before {
                continue;
            }
            match &mut many_names {
                Some(names) => {
                    names.insert(name);
                }
                None if params.len() > PARAMS_SEARCHED_IN_ORDER => {
                    many_names = Some(params.iter().map(|(name, _)| name.clone()).collect());
                }
                None => {}
            }
        }
        Ok(Self(params))
    }

    /// The last value of `name`, which is no longer a parameter.
    pub(crate) fn take_one(&mut self, name: &str) -> Option<Cow<'a, str>> {
        let mut last = None;
        self.0.retain_mut(|(existing, value)| {
            let taken = existing == name;
            if taken {
                last = Some(std::mem::take(value));
            }
            !taken
        });
        last
    }

    /// Every value of `name`, in order; it is no longer a parameter.
    pub(crate) fn take_list(&mut self, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        self.0.retain_mut(|(existing, value)| {
            let taken = existing == name;
            if taken {
                values.push(std::mem::take(value).into_owned());
            }
            !taken
        });
        values
    }
}

/// Bytes as text: borrowed when they are UTF-8, else with replacement
/// characters. The same as `String::from_utf8_lossy`, which is slower on
/// valid input.
fn text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The name-value pairs of an `application/x-www-form-urlencoded` body or
/// query, as `form_urlencoded::parse` yields them, borrowing every part that
/// needs no decoding.
/// An extra member of a token answer as issued: `{grant_type}` in a string
/// is the grant, and `{issued_at_ms}` the issuing time in milliseconds
/// since the Unix epoch, by the mock's clock (Salesforce's `issued_at`).
fn issued_member(value: &ExtraMember, grant: GrantKind, now: Duration) -> Value {
    match value.to_json(Some(grant)) {
        Value::String(text) if text.contains(ISSUED_AT_MS) => {
            Value::from(text.replace(ISSUED_AT_MS, &now.as_millis().to_string()))
        }
        other => other,
    }
}

/// The placeholder an extra member's string uses for the issuing time.
const ISSUED_AT_MS: &str = "{issued_at_ms}";

/// The first value of the form field `name` in `input`.
fn form_field<'a>(input: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    parse_form(input)
        .find(|(n, _)| n == name)
        .map(|(_, value)| value)
}

pub(crate) fn parse_form(input: &[u8]) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    input
        .split(|&byte| byte == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&byte| byte == b'=') {
                Some(equals) => (&pair[..equals], &pair[equals + 1..]),
                None => (pair, &[][..]),
            };
            (decode_form_part(name), decode_form_part(value))
        })
}

/// One name or value of a form: `+` is a space, then percent-decoding, then
/// UTF-8 with replacement characters.
fn decode_form_part(part: &[u8]) -> Cow<'_, str> {
    if position_of_escape(part).is_none() {
        return text(part);
    }
    let spaced: Vec<u8> = part
        .iter()
        .map(|&byte| if byte == b'+' { b' ' } else { byte })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    Cow::Owned(text(&decoded).into_owned())
}

/// The longest decoded Basic credentials [`decode_basic`] decodes on the
/// stack; longer ones are decoded into a new string.
const BASIC_ON_STACK: usize = 256;

/// The text of Basic credentials (`id:secret`), if it is valid base64 and
/// UTF-8, decoded into `stack` where it fits.
fn decode_basic<'s>(encoded: &str, stack: &'s mut [u8; BASIC_ON_STACK]) -> Option<Cow<'s, str>> {
    let encoded = encoded.trim();
    let engine = &base64::engine::general_purpose::STANDARD;
    if base64::decoded_len_estimate(encoded.len()) <= stack.len() {
        let len = engine.decode_slice(encoded, stack).ok()?;
        return std::str::from_utf8(&stack[..len]).ok().map(Cow::Borrowed);
    }
    // `decode_vec` into a new vector allocates without zeroing first,
    // which `decode` does through the slower `calloc`.
    let mut decoded = Vec::new();
    engine.decode_vec(encoded, &mut decoded).ok()?;
    String::from_utf8(decoded).ok().map(Cow::Owned)
}

/// The client id and secret of decoded Basic credentials, each form-decoded;
/// `None` without a colon.
fn split_basic(decoded: &str) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    fn unescape(s: &str) -> Cow<'_, str> {
        if !s.bytes().any(|byte| byte == b'+' || byte == b'%') {
            return Cow::Borrowed(s);
        }
        Cow::Owned(
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned(),
        )
    }
    let colon = scan::position(
        decoded.as_bytes(),
        |word| scan::has_byte(word, b':'),
        |byte| byte == b':',
    )?;
    let (id, secret) = (&decoded[..colon], &decoded[colon + 1..]);
    if position_of_escape(decoded.as_bytes()).is_none() {
        return Some((Cow::Borrowed(id), Cow::Borrowed(secret)));
    }
    Some((unescape(id), unescape(secret)))
}

/// The index of the first `+` or `%` in form-encoded `bytes`.
fn position_of_escape(bytes: &[u8]) -> Option<usize> {
    scan::position(
        bytes,
        |word| scan::has_byte(word, b'+') || scan::has_byte(word, b'%'),
        |byte| byte == b'+' || byte == b'%',
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Adds the cache headers the provider sends with token and error responses.
pub(crate) fn with_cache_headers(mut response: MockResponse, seed: &MockSeed) -> MockResponse {
    response.headers.extend(cache_headers(seed));
    response
}

/// The cache headers the provider sends with token and error responses.
fn cache_headers(seed: &MockSeed) -> impl Iterator<Item = (HeaderName, HeaderValue)> {
    let cache_control = seed
        .cache_headers
        .then(|| (CACHE_CONTROL, HeaderValue::from_static("no-store")));
    let pragma =
        (seed.cache_headers && seed.pragma).then(|| (PRAGMA, HeaderValue::from_static("no-cache")));
    cache_control.into_iter().chain(pragma)
}

/// The `Content-Type` of the provider's answers in `encoding`: the seed's,
/// except that a form answer whose seed keeps the JSON default says so.
pub(crate) fn answer_content_type(encoding: ResponseEncoding, seed: &MockSeed) -> &str {
    match encoding {
        ResponseEncoding::Form if seed.content_type == DEFAULT_CONTENT_TYPE => {
            "application/x-www-form-urlencoded"
        }
        _ => &seed.content_type,
    }
}

/// Where a token answer's members go, in the order they are set.
trait MemberSink<'a> {
    fn set(&mut self, name: &'a str, value: Member<'a>);

    /// [`MemberSink::set`] of a member whose key is written already.
    fn set_known(&mut self, key: &'a MemberKey, value: Member<'a>) {
        self.set(&key.name, value);
    }
}

/// A token answer member's name and its JSON key: the name as a JSON
/// string, then `:`.
#[derive(Debug)]
struct MemberKey {
    name: String,
    json: Vec<u8>,
}

impl MemberKey {
    fn new(name: &str) -> Self {
        let mut json = Vec::with_capacity(name.len() + 3);
        json::write_str(&mut json, name);
        json.push(b':');
        Self {
            name: name.to_owned(),
            json,
        }
    }
}

/// The keys of the RFC 6749 members of a provider's token answers.
#[derive(Debug)]
struct MemberKeys {
    access_token: MemberKey,
    token_type: MemberKey,
    expires_in: MemberKey,
    expires: MemberKey,
    refresh_token: MemberKey,
    scope: MemberKey,
}

impl MemberKeys {
    fn new(members: &grantspec_token::ResponseMembers) -> Self {
        let key = |rfc_name| MemberKey::new(members.name(rfc_name));
        Self {
            access_token: key("access_token"),
            token_type: key("token_type"),
            expires_in: key("expires_in"),
            expires: key("expires"),
            refresh_token: key("refresh_token"),
            scope: key("scope"),
        }
    }
}

/// The members of a token response, in order. A member set twice keeps its
/// first place and takes the later value, as a JSON object does.
#[derive(Default)]
struct Members<'a>(Vec<(&'a str, Member<'a>)>);

/// A member's value.
enum Member<'a> {
    Text(Cow<'a, str>),
    Number(u64),
    /// A number written as a string.
    NumberText(u64),
    Texts(&'a [String]),
    /// Texts joined by spaces into one string.
    SpaceJoined(&'a [String]),
    Json(Value),
}

impl<'a> MemberSink<'a> for Members<'a> {
    fn set(&mut self, name: &'a str, value: Member<'a>) {
        match self.0.iter_mut().find(|(existing, _)| *existing == name) {
            Some(member) => member.1 = value,
            None => self.0.push((name, value)),
        }
    }
}

impl Members<'_> {
    /// The object as compact JSON, wrapped in one object per segment of
    /// `envelope` (`/data` gives `{"data":{…}}`).
    fn into_json(self, envelope: Option<&str>) -> Vec<u8> {
        let mut object = JsonObject::open(envelope, 128);
        for (name, value) in self.0 {
            object.set(name, value);
        }
        object.close()
    }

    /// The members as a form body (`name=value&…`), as providers that
    /// answer form-encoded write them: a list space-delimited.
    fn to_form(&self) -> Vec<u8> {
        form_body(self.0.iter().map(|(name, value)| {
            let text = match value {
                Member::Text(text) => Cow::Borrowed(text.as_ref()),
                Member::Number(number) | Member::NumberText(number) => {
                    Cow::Owned(number.to_string())
                }
                Member::Texts(texts) | Member::SpaceJoined(texts) => Cow::Owned(texts.join(" ")),
                Member::Json(value) => form_value(value),
            };
            (*name, text)
        }))
    }
}

/// A JSON object written as its members are set, wrapped in an envelope:
/// the bytes serde_json writes for the same object, without building one.
/// It writes a member set twice twice, so it takes a token answer's
/// members only where their names all differ
/// ([`Emulator::member_names_differ`]); [`Members`] otherwise.
struct JsonObject {
    out: Vec<u8>,
    /// The envelope's objects, closed after the token's.
    depth: usize,
    empty: bool,
}

impl JsonObject {
    fn open(envelope: Option<&str>, capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        let mut depth = 0;
        for segment in envelope
            .into_iter()
            .flat_map(|pointer| pointer.split('/'))
            .filter(|segment| !segment.is_empty())
        {
            out.push(b'{');
            json::write_str(&mut out, segment);
            out.push(b':');
            depth += 1;
        }
        out.push(b'{');
        Self {
            out,
            depth,
            empty: true,
        }
    }

    fn close(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out.extend(std::iter::repeat_n(b'}', self.depth));
        self.out
    }

    /// Starts a member: a comma after the first.
    fn start_member(&mut self) {
        if !std::mem::replace(&mut self.empty, false) {
            self.out.push(b',');
        }
    }

    fn write_value(&mut self, value: Member<'_>) {
        let out = &mut self.out;
        match value {
            Member::Text(text) => json::write_str(out, &text),
            Member::Number(number) => json::write_u64(out, number),
            Member::NumberText(number) => {
                out.push(b'"');
                json::write_u64(out, number);
                out.push(b'"');
            }
            Member::Texts(texts) => json::write_str_array(out, texts),
            Member::SpaceJoined(texts) => json::write_space_joined(out, texts),
            Member::Json(Value::String(text)) => json::write_str(out, &text),
            // Writing to a Vec cannot fail.
            Member::Json(value) => {
                let _ = serde_json::to_writer(out, &value);
            }
        }
    }
}

impl<'a> MemberSink<'a> for JsonObject {
    fn set(&mut self, name: &'a str, value: Member<'a>) {
        self.start_member();
        json::write_str(&mut self.out, name);
        self.out.push(b':');
        self.write_value(value);
    }

    fn set_known(&mut self, key: &'a MemberKey, value: Member<'a>) {
        self.start_member();
        self.out.extend_from_slice(&key.json);
        self.write_value(value);
    }
}

/// A form body of `pairs`, in order.
fn form_body<'a>(pairs: impl Iterator<Item = (&'a str, Cow<'a, str>)>) -> Vec<u8> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        form.append_pair(name, &value);
    }
    form.finish().into_bytes()
}

/// A JSON value as a form writes it: a string without its quotes, anything
/// else as JSON text.
fn form_value(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use grantspec_token::ManualClock;
    use serde_json::Map;

    fn basic(decoded: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(decoded)
    }

    #[test]
    fn basic_credentials_short_and_long_decode_alike() {
        for len in [
            0,
            1,
            100,
            BASIC_ON_STACK - 1,
            BASIC_ON_STACK,
            BASIC_ON_STACK + 1,
            4000,
        ] {
            let text = format!("id:{}", "s".repeat(len));
            let mut stack = [0; BASIC_ON_STACK];
            let encoded = format!("  {}\t", basic(text.as_bytes()));
            let decoded = decode_basic(&encoded, &mut stack).unwrap();
            assert_eq!(decoded, text);
            // Credentials that fit are not copied to the heap.
            if text.len() < BASIC_ON_STACK - 3 {
                assert!(matches!(decoded, Cow::Borrowed(_)), "{len}");
            }
            if text.len() > BASIC_ON_STACK {
                assert!(matches!(decoded, Cow::Owned(_)), "{len}");
            }
        }
    }

    #[test]
    fn basic_credentials_that_are_no_base64_or_no_utf8_are_refused() {
        let mut stack = [0; BASIC_ON_STACK];
        assert_eq!(decode_basic("not base64!", &mut stack), None);
        assert_eq!(decode_basic(&basic(b"id:\xff"), &mut stack), None);
        let long = [b"id:".as_slice(), &[0xff; 400]].concat();
        assert_eq!(decode_basic(&basic(&long), &mut stack), None);
    }

    #[test]
    fn basic_credentials_are_form_decoded_only_where_escaped() {
        let split = |decoded| {
            let (id, secret) = split_basic(decoded).unwrap();
            (id.into_owned(), secret.into_owned())
        };
        let plain = "a-long-client-id:a-long-secret-with:colon";
        assert!(matches!(
            split_basic(plain),
            Some((Cow::Borrowed(_), Cow::Borrowed(_)))
        ));
        assert_eq!(
            split(plain),
            (
                "a-long-client-id".to_owned(),
                "a-long-secret-with:colon".to_owned()
            )
        );
        assert_eq!(
            split("sp+client:p%40ss%3Aw%2Frd%2B%25"),
            ("sp client".to_owned(), "p@ss:w/rd+%".to_owned())
        );
        assert_eq!(
            split("a-long-client-id:a-long-secret-then+"),
            (
                "a-long-client-id".to_owned(),
                "a-long-secret-then ".to_owned()
            )
        );
        assert_eq!(split_basic("no colon"), None);
    }

    #[test]
    fn member_keys_are_the_names_as_serde_json_writes_them_and_a_colon() {
        for name in ["access_token", "", "a\"b\\c", "é\n\u{1}", "expires_in"] {
            let key = MemberKey::new(name);
            assert_eq!(key.name, name);
            assert_eq!(
                String::from_utf8(key.json).unwrap(),
                format!("{}:", serde_json::to_string(name).unwrap())
            );
        }
    }

    #[test]
    fn a_seeded_clients_id_is_shared_by_its_tokens() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/keycloak.yaml");
        let spec = grantspec_spec::load_file(&path).unwrap().spec;
        let emulator = Emulator::new(
            spec.mock_provider().unwrap(),
            Arc::new(ManualClock::default()),
        );
        assert!(emulator.seed.clients.len() > 1);
        for client in &emulator.seed.clients {
            let first = emulator.client_id(client);
            assert_eq!(*first, *client.id);
            assert!(Arc::ptr_eq(&first, &emulator.client_id(client)));
        }
        // A client that is not the seed's own still gets its id.
        let stranger = emulator.seed.clients[1].clone();
        assert_eq!(*emulator.client_id(&stranger), *stranger.id);
    }

    #[test]
    fn the_date_follows_the_clock_second_by_second() {
        let clock =
            ManualClock::new(SystemTime::UNIX_EPOCH + Duration::from_millis(784_111_777_400));
        let date = || {
            let seconds = since_epoch(clock.now()).as_secs();
            http_date(seconds).unwrap().to_str().unwrap().to_owned()
        };
        assert_eq!(date(), "Sun, 06 Nov 1994 08:49:37 GMT");
        clock.advance(Duration::from_millis(500));
        assert_eq!(date(), "Sun, 06 Nov 1994 08:49:37 GMT");
        clock.advance(Duration::from_millis(100));
        assert_eq!(date(), "Sun, 06 Nov 1994 08:49:38 GMT");
        clock.advance(Duration::from_secs(86_400));
        assert_eq!(date(), "Mon, 07 Nov 1994 08:49:38 GMT");
        // Earlier seconds too: the cache holds one second, not the latest.
        assert_eq!(
            http_date(784_111_777).unwrap().to_str().unwrap(),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
    }

    #[test]
    fn forms_parse_as_form_urlencoded_parses_them() {
        let inputs: [&[u8]; 16] = [
            b"",
            b"&",
            b"&&a=1&&",
            b"grant_type=client_credentials",
            b"a",
            b"a=",
            b"=b",
            b"a=b=c&d==",
            b"a+b=c+d%20e",
            b"%2B+=+%2b%",
            b"%zz=%4&%=%%41",
            b"x=%C3%A9&y=\xc3\xa9",
            b"x=%FF&y=\xff\xfe&z=%C3",
            b"scope=read+write&scope=admin",
            b"client_id=a%3Ab&client_secret=p%40ss%3Aw%2Frd%2B%25",
            b"\xe2\x98\x83=\xe2\x98",
        ];
        for input in inputs {
            let ours: Vec<_> = parse_form(input).collect();
            let theirs: Vec<_> = form_urlencoded::parse(input).collect();
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(input));
        }
    }

    /// How `Params` kept parameters before it was a list: a map of names to
    /// values, with the answers the emulator reads from it.
    fn reference_params<'a>(
        pairs: impl IntoIterator<Item = (Cow<'a, str>, Cow<'a, str>)>,
        repeat_lists: bool,
    ) -> Result<std::collections::BTreeMap<Cow<'a, str>, Vec<Cow<'a, str>>>, String> {
        let mut map: std::collections::BTreeMap<Cow<'a, str>, Vec<Cow<'a, str>>> =
            std::collections::BTreeMap::new();
        for (name, value) in pairs {
            if value.is_empty() {
                continue;
            }
            let is_list = LIST_PARAMS.contains(&&*name);
            let may_repeat = is_list && repeat_lists;
            if !may_repeat && map.get(&name).is_some_and(|values| !values.is_empty()) {
                return Err(format!("Parameter `{name}` is included more than once."));
            }
            let values = map.entry(name).or_default();
            if is_list {
                values.extend(
                    value
                        .split_whitespace()
                        .map(|item| Cow::Owned(item.to_owned())),
                );
            } else {
                values.push(value);
            }
        }
        Ok(map)
    }

    #[test]
    fn params_answer_as_the_map_they_replaced_did() {
        let mut inputs: Vec<String> = [
            "",
            "grant_type=client_credentials",
            "grant_type=a&grant_type=b",
            "grant_type=a&grant_type=",
            "grant_type=&grant_type=b",
            "scope=read+write&scope=admin",
            "scope=read%20write&scope=+&scope=x",
            "scope=+&scope=a",
            "scope=a&scope=+",
            "scope=%20&scope=%20",
            "audience=a b c&audience=d&resource=r&resource=r",
            "client_id=a%3Ab&client_secret=p%40ss&client_id=c",
            "=b&=c",
            "sc%6Fpe=a&scope=b",
            "a=1&b=2&a=3",
            "x=%FF&x=%FE",
        ]
        .map(str::to_owned)
        .to_vec();
        // Past the names searched one by one: 40 names, then a repeat of
        // the first, of a late one, of a list, and of none.
        let many: String = (0..40).map(|i| format!("p{i}=v{i}&")).collect();
        for tail in [
            "p0=again",
            "p39=again",
            "scope=a&scope=b",
            "q=fine",
            "scope=+&scope=c",
        ] {
            inputs.push(format!("{many}{tail}"));
        }
        let names = [
            "grant_type",
            "scope",
            "audience",
            "resource",
            "client_id",
            "client_secret",
            "",
            "a",
            "b",
            "x",
            "p0",
            "p39",
            "q",
            "sc%6Fpe",
        ];
        for input in &inputs {
            for repeat_lists in [false, true] {
                let ours = Params::from_pairs(parse_form(input.as_bytes()), repeat_lists);
                let theirs = reference_params(parse_form(input.as_bytes()), repeat_lists);
                let (mut ours, mut theirs) = match (ours, theirs) {
                    (Ok(ours), Ok(theirs)) => (ours, theirs),
                    (Err(ours), Err(theirs)) => {
                        assert_eq!(ours.description, theirs, "{input}");
                        continue;
                    }
                    (ours, theirs) => panic!(
                        "{input} ({repeat_lists}): ours {:?}, theirs {theirs:?}",
                        ours.err().map(|e| e.description)
                    ),
                };
                for (round, name) in names.iter().enumerate() {
                    let values = theirs.remove(*name).unwrap_or_default();
                    if round % 2 == 0 {
                        let theirs: Vec<String> = values.into_iter().map(Cow::into_owned).collect();
                        assert_eq!(ours.take_list(name), theirs, "{input}: {name}");
                    } else {
                        let theirs = values.last().map(|value| value.to_string());
                        let ours = ours.take_one(name).map(Cow::into_owned);
                        assert_eq!(ours, theirs, "{input}: {name}");
                    }
                    assert_eq!(ours.take_list(name), Vec::<String>::new(), "taken");
                }
            }
        }
    }

    /// How `success` built the body before it wrote JSON directly: a
    /// serde_json object, wrapped, serialized.
    fn reference(
        emulator: &Emulator,
        access_token: &str,
        refresh_token: Option<String>,
        scope: &[String],
        grant: GrantKind,
        now: Duration,
        lifetime: Duration,
    ) -> Vec<u8> {
        let shape = &emulator.profile.response;
        let name = |rfc_name: &str| shape.members.name(rfc_name).to_owned();
        let mut token = Map::new();
        token.insert(name("access_token"), Value::from(access_token));
        let token_type = emulator.seed.token_type_for(grant);
        if !token_type.is_empty() {
            token.insert(name("token_type"), Value::from(token_type));
        }
        if matches!(shape.expiry, ExpiryStyle::ExpiresIn | ExpiryStyle::Both) {
            let seconds = lifetime.as_secs();
            let value = if emulator.seed.expires_in_as_string {
                Value::from(seconds.to_string())
            } else {
                Value::from(seconds)
            };
            token.insert(name("expires_in"), value);
        }
        if matches!(shape.expiry, ExpiryStyle::Expires | ExpiryStyle::Both) {
            let epoch = now + lifetime;
            token.insert(name("expires"), Value::from(epoch.as_secs()));
        }
        if shape.expiry == ExpiryStyle::ExpiresRelative {
            token.insert(name("expires"), Value::from(lifetime.as_secs()));
        }
        if let Some(refresh_token) = refresh_token {
            token.insert(name("refresh_token"), Value::from(refresh_token));
        }
        match emulator.seed.response_scope {
            ResponseScope::Omit => {}
            ResponseScope::Always => {
                token.insert(name("scope"), Value::from(scope.join(" ")));
            }
            ResponseScope::Array => {
                token.insert(name("scope"), Value::from(scope.to_vec()));
            }
            ResponseScope::Null => {
                token.insert(name("scope"), Value::Null);
            }
        }
        let exchange = emulator.seed.token_exchange.as_ref();
        if grant == GrantKind::TokenExchange && exchange.is_some_and(|p| p.issued_token_type) {
            token.insert(
                "issued_token_type".into(),
                Value::from(grantspec_token::ACCESS_TOKEN_TYPE),
            );
        }
        for (name, value) in &emulator.seed.extra_members {
            token.insert(name.clone(), issued_member(value, grant, now));
        }
        let mut body = Value::Object(token);
        if let Some(pointer) = shape.envelope.as_deref() {
            body = pointer
                .split('/')
                .filter(|segment| !segment.is_empty())
                .rev()
                .fold(body, |inner, segment| json!({ segment: inner }));
        }
        body.to_string().into_bytes()
    }

    fn seed(spec: &mut grantspec_spec::Spec) -> &mut MockSeed {
        spec.mock.as_mut().unwrap()
    }

    #[test]
    #[cfg_attr(
        not(feature = "slow-tests"),
        ignore = "slow tier: compares the answers of every shipped spec in every response variant; runs with `cargo test --all-features`"
    )]
    fn token_responses_are_the_bytes_serde_json_wrote() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let (specs, errors) = grantspec_spec::load_dir(&dir);
        assert!(errors.is_empty());
        let mut variants = Vec::new();
        for loaded in specs {
            let spec = loaded.spec;
            if spec.is_live_only() {
                continue;
            }
            // The reference is serde_json's bytes: form-encoded answers
            // (GitHub, Facebook) are compared as the JSON they would be.
            let mut spec = spec;
            spec.provider.response.encoding = ResponseEncoding::Json;
            for scope in [
                ResponseScope::Omit,
                ResponseScope::Always,
                ResponseScope::Array,
                ResponseScope::Null,
            ] {
                for expiry in [
                    ExpiryStyle::ExpiresIn,
                    ExpiryStyle::Expires,
                    ExpiryStyle::ExpiresRelative,
                    ExpiryStyle::Both,
                ] {
                    let mut spec = spec.clone();
                    seed(&mut spec).response_scope = scope;
                    spec.provider.response.expiry = expiry;
                    variants.push(spec.clone());
                    seed(&mut spec).token_type = String::new();
                    seed(&mut spec).expires_in_as_string = true;
                    spec.provider.response.envelope = Some("/data/in \"ner\"/".into());
                    spec.provider.response.members.access_token = Some("the \"token\"\n".into());
                    spec.provider.response.members.scope = Some("scopé\\".into());
                    seed(&mut spec).extra_members.insert(
                        "token_type".into(),
                        ExtraMember::Text("x{grant_type}".into()),
                    );
                    seed(&mut spec)
                        .extra_members
                        .insert("é\n\"\\".into(), ExtraMember::Text("\u{1}☃".into()));
                    seed(&mut spec)
                        .extra_members
                        .insert("ok".into(), ExtraMember::Flag(true));
                    variants.push(spec.clone());
                    spec.provider.response.members = serde_json::from_value(json!({
                        "access_token": "accessToken", "expires_in": "expiresIn", "expires": "expiry \"at\""
                    }))
                    .unwrap();
                    variants.push(spec);
                }
            }
        }
        let now = Duration::from_secs(1_700_000_000);
        for spec in &variants {
            let emulator = Emulator::new(
                spec.mock_provider().unwrap(),
                Arc::new(ManualClock::default()),
            );
            for scope in [vec![], vec!["read".to_owned(), "write \"all\"".to_owned()]] {
                let grantee = Grantee {
                    client_id: "c".into(),
                    user: None,
                    scope,
                    audience: Vec::new(),
                    read_only: false,
                };
                for refresh in [None, Some("def50200ab".to_owned())] {
                    for grant in GrantKind::ALL {
                        let lifetime = Duration::from_secs(3600);
                        let answer = Answer {
                            encoding: spec.provider.response.encoding,
                            now,
                            lifetime,
                        };
                        let ours = emulator
                            .success("tok\"en", refresh.clone(), &grantee.scope, grant, answer)
                            .body;
                        let theirs = reference(
                            &emulator,
                            "tok\"en",
                            refresh.clone(),
                            &grantee.scope,
                            grant,
                            now,
                            lifetime,
                        );
                        assert_eq!(
                            String::from_utf8(ours).unwrap(),
                            String::from_utf8(theirs).unwrap()
                        );
                    }
                }
            }
        }
    }
}
