//! The types a spec file deserializes into.

use std::collections::BTreeMap;
use std::fmt;

use grantspec_token::{
    BodyEncoding, ClientAuth, ErrorFormat, ListStyle, PkceMethod, ProviderProfile, RequestRate,
    ResourceAccess, ResponseShape, SigningAlgorithm, TokenEndpoint, TokenPlacement,
};
use serde::Deserialize;

use crate::matcher::Matcher;
use crate::{SortedMap, StatusMatcher};

/// One provider's spec: its profile, the mock's seed, live settings and cases.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// How the provider's token endpoint behaves.
    pub provider: Provider,
    /// What the embedded emulator is seeded with. Without it the provider
    /// is live-only: the mock does not emulate it, and its cases run only
    /// live.
    #[serde(default)]
    pub mock: Option<MockSeed>,
    /// How to reach the live provider.
    #[serde(default)]
    pub live: Option<Live>,
    /// Variables, with separate values for the mock and live targets.
    #[serde(default)]
    pub vars: BTreeMap<String, Var>,
    /// The cases.
    pub cases: Vec<Case>,
}

impl Spec {
    /// The token crate's view of this provider.
    pub fn profile(&self) -> ProviderProfile {
        ProviderProfile {
            token_endpoint: self.provider.token_endpoint.clone(),
            response: self.provider.response.clone(),
            errors: self.provider.errors,
            resource: ResourceAccess {
                token: self
                    .provider
                    .resource
                    .as_ref()
                    .map(|resource| resource.token.clone())
                    .unwrap_or_default(),
            },
        }
    }

    /// What the mock may know of this provider: its id, profile and seed,
    /// and nothing of its cases. `None` for a live-only provider (a spec
    /// without a `mock` section), which the mock does not emulate.
    pub fn mock_provider(&self) -> Option<MockProvider<'_>> {
        Some(MockProvider {
            id: &self.provider.id,
            profile: self.profile(),
            seed: self.mock.as_ref()?,
        })
    }

    /// Whether the provider is live-only: the spec has no `mock` section, so
    /// the mock does not emulate it and its cases run only live.
    pub fn is_live_only(&self) -> bool {
        self.mock.is_none()
    }
}

/// Everything the mock is built from for one provider: its id, its
/// [`ProviderProfile`] and its [`MockSeed`].
///
/// This type holds the invariant "the mock never reads a case's
/// expectations" by type: the emulator is built from a `MockProvider`,
/// never from a whole [`Spec`], so it cannot see the cases (their
/// expectations, requests or variables) and a mock test cannot become a
/// tautology. Made by [`Spec::mock_provider`]; keep it free of anything a
/// case says.
#[derive(Debug, Clone)]
pub struct MockProvider<'a> {
    /// The provider id: the first path segment the mock serves it under.
    pub id: &'a str,
    /// How the provider's token endpoint behaves.
    pub profile: ProviderProfile,
    /// What the emulator is seeded with.
    pub seed: &'a MockSeed,
}

/// The provider: identity, documentation and token endpoint dialect.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// Short identifier: the spec's file stem and the prefix of trial names.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Where the documented behaviour comes from.
    #[serde(default)]
    pub docs: Option<String>,
    /// Where the token endpoint is and how requests to it are shaped.
    pub token_endpoint: TokenEndpoint,
    /// How a successful response is shaped.
    #[serde(default)]
    pub response: ResponseShape,
    /// How errors are reported.
    #[serde(default)]
    pub errors: ErrorFormat,
    /// Known deviations from RFC 6749 that a check reports, by the check's
    /// deviation id (docs/conformance.md lists them).
    #[serde(default)]
    pub deviations: Vec<String>,
    /// Ways the provider departs from RFC 6749 (or from its own
    /// documentation) that no check reports, each with an id of its own.
    #[serde(default)]
    pub quirks: Vec<Quirk>,
    /// Free-form notes, each saying whether the documentation says it or a
    /// run saw it.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// Where each provider fact comes from, by fact key
    /// ([`crate::facts::FACTS`]: `client_auth.basic`, `token_type`, …): the
    /// documentation (a short quote and where it is) or an assumption of
    /// the spec's author (and why). A fact with no entry is an assumption.
    #[serde(default)]
    pub sources: BTreeMap<String, Source>,
    /// Places where the provider's documentation says one thing in two (or
    /// more) ways; the run tells which ways the target accepts.
    #[serde(default)]
    pub contradictions: Vec<Contradiction>,
    /// A protected resource that accepts the provider's access tokens, for
    /// `resource` steps. The mock serves one at `/ping`.
    #[serde(default)]
    pub resource: Option<ResourceEndpoint>,
    /// The authorization endpoint (RFC 6749 §3.1), for `authorize` steps;
    /// `/authorize` when absent, where the mock serves one.
    #[serde(default)]
    pub authorization_endpoint: Option<AuthorizationEndpoint>,
    /// Path of the provider's discovery metadata (RFC 8414
    /// `/.well-known/oauth-authorization-server`, or OpenID Connect
    /// `/.well-known/openid-configuration`), joined to the base URL as the
    /// token path is. On a live run the metadata (and the JWKS its
    /// `jwks_uri` names) is read once, and every case's exchanges are also
    /// judged by the metadata checks; the mock serves no metadata.
    #[serde(default)]
    pub metadata: Option<String>,
}

/// Where the provider's authorization endpoint is.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationEndpoint {
    /// Path joined to the live base URL (node-oidc-provider: `/auth`).
    pub path: String,
}

/// The authorization endpoint's path when a spec names none.
pub const DEFAULT_AUTHORIZE_PATH: &str = "/authorize";

impl Provider {
    /// The authorization endpoint's path: the spec's, or
    /// [`DEFAULT_AUTHORIZE_PATH`].
    pub fn authorize_path(&self) -> &str {
        self.authorization_endpoint
            .as_ref()
            .map_or(DEFAULT_AUTHORIZE_PATH, |endpoint| endpoint.path.as_str())
    }
}

/// Where a provider fact comes from: `{ documented: "…" }` or
/// `{ assumed: "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// The provider's documentation says so: a short quote and where it is
    /// (a section, the text or an example). Facts known from the provider's
    /// open code or other public sources start `public source:`.
    Documented(String),
    /// An assumption of the spec's author, with the reason.
    Assumed(String),
}

// By hand: serde_yaml reads an externally tagged enum from a YAML tag
// (`!documented`), and a mapping with one key is what people write.
impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Either {
            #[serde(default)]
            documented: Option<String>,
            #[serde(default)]
            assumed: Option<String>,
        }
        match Either::deserialize(deserializer)? {
            Either {
                documented: Some(quote),
                assumed: None,
            } => Ok(Self::Documented(quote)),
            Either {
                documented: None,
                assumed: Some(reason),
            } => Ok(Self::Assumed(reason)),
            _ => Err(serde::de::Error::custom(
                "a source is either `documented: \"quote (where)\"` or `assumed: \"why\"`",
            )),
        }
    }
}

impl Source {
    /// `documented` or `assumed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Documented(_) => "documented",
            Self::Assumed(_) => "assumed",
        }
    }

    /// The citation or the reason.
    pub fn text(&self) -> &str {
        match self {
            Self::Documented(text) | Self::Assumed(text) => text,
        }
    }
}

/// A note on the provider, and what it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What the note says.
    pub text: String,
    /// What it rests on.
    pub basis: Basis,
}

/// What a note or a quirk rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The spec does not say (a note written as a plain string).
    Unstated,
    /// The provider's documentation says so.
    Documented,
    /// A run against the provider saw it, on a day (`YYYY-MM-DD`) when the
    /// spec gives one.
    Observed {
        /// The day it was seen.
        on: Option<String>,
    },
}

impl Basis {
    /// `documented`, `observed on 2026-11-20`, `observed`, or `note`.
    pub fn label(&self) -> String {
        match self {
            Self::Unstated => "note".to_owned(),
            Self::Documented => "documented".to_owned(),
            Self::Observed { on: Some(day) } => format!("observed on {day}"),
            Self::Observed { on: None } => "observed".to_owned(),
        }
    }
}

/// How a note or a quirk says what it rests on: `documented: "…"`, or
/// `observed: "…"` with an optional `on: YYYY-MM-DD`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Said {
    /// What the documentation says.
    #[serde(default)]
    documented: Option<String>,
    /// What a run saw.
    #[serde(default)]
    observed: Option<String>,
    /// The day it was seen (`YYYY-MM-DD`), with `observed`.
    #[serde(default)]
    on: Option<String>,
}

impl Said {
    fn into_note<E: serde::de::Error>(self) -> Result<Note, E> {
        let refuse = |expected: &str| Err(E::invalid_value(serde::de::Unexpected::Map, &expected));
        match self {
            Self {
                documented: Some(text),
                observed: None,
                on: None,
            } => Ok(Note {
                text,
                basis: Basis::Documented,
            }),
            Self {
                documented: None,
                observed: Some(text),
                on,
            } => Ok(Note {
                text,
                basis: Basis::Observed { on },
            }),
            Self {
                documented: Some(_),
                on: Some(_),
                observed: None,
            } => refuse("`on:` only with `observed:` (the day a run saw it)"),
            _ => refuse("either `documented: \"…\"` or `observed: \"…\"` (with `on: YYYY-MM-DD`)"),
        }
    }
}

// By hand: a plain string, or a mapping saying what the note rests on.
impl<'de> Deserialize<'de> for Note {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NoteVisitor;

        impl<'de> serde::de::Visitor<'de> for NoteVisitor {
            type Value = Note;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or a mapping with `documented` or `observed` (and `on`)")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Note, E> {
                Ok(Note {
                    text: value.to_owned(),
                    basis: Basis::Unstated,
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Note, A::Error> {
                Said::deserialize(serde::de::value::MapAccessDeserializer::new(map))?.into_note()
            }
        }

        deserializer.deserialize_any(NoteVisitor)
    }
}

impl schemars::JsonSchema for Note {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Note".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Note").into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let said = generator.subschema_for::<Said>();
        schemars::json_schema!({
            "description": "A note: a plain string (its basis unstated), or a mapping with `documented: \"…\"` or `observed: \"…\"` and an optional `on: YYYY-MM-DD`.",
            "anyOf": [{ "type": "string" }, said]
        })
    }
}

/// A way the provider departs from RFC 6749 (or from its documentation)
/// that no check reports: it gets an id of its own, so the report lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quirk {
    /// Short kebab-case identifier, unique within the spec and not a
    /// check's deviation id.
    pub id: String,
    /// What the provider does, and what it rests on.
    pub note: Note,
    /// The case that shows it, when one does.
    pub case: Option<String>,
}

/// A quirk as the file writes it.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename = "Quirk", deny_unknown_fields)]
struct QuirkFile {
    /// Short kebab-case identifier, unique within the spec and not a
    /// check's deviation id.
    id: String,
    /// What the documentation says the provider does.
    #[serde(default)]
    documented: Option<String>,
    /// What a run saw the provider do.
    #[serde(default)]
    observed: Option<String>,
    /// The day it was seen (`YYYY-MM-DD`), with `observed`.
    #[serde(default)]
    on: Option<String>,
    /// The case of this spec that shows it.
    #[serde(default)]
    case: Option<String>,
}

// Through a visitor, so that an error is placed at the quirk that has it.
impl<'de> Deserialize<'de> for Quirk {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QuirkVisitor;

        impl<'de> serde::de::Visitor<'de> for QuirkVisitor {
            type Value = Quirk;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping with `id` and `documented` or `observed`")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Quirk, A::Error> {
                let file =
                    QuirkFile::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                let note = Said {
                    documented: file.documented,
                    observed: file.observed,
                    on: file.on,
                }
                .into_note()?;
                Ok(Quirk {
                    id: file.id,
                    note,
                    case: file.case,
                })
            }
        }

        deserializer.deserialize_map(QuirkVisitor)
    }
}

impl schemars::JsonSchema for Quirk {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        QuirkFile::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        QuirkFile::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        QuirkFile::json_schema(generator)
    }
}

/// One thing the documentation says in two (or more) ways.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contradiction {
    /// Short kebab-case identifier, unique within the spec.
    pub id: String,
    /// What the ways disagree about.
    pub about: String,
    /// The ways the documentation says it, each with the case that tries it.
    pub ways: Vec<Way>,
}

/// One way the documentation says something.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Way {
    /// What this way says, in a few words.
    pub says: String,
    /// The documentation's own words.
    pub quote: String,
    /// Where the documentation says it.
    #[serde(rename = "where")]
    pub location: DocPlace,
    /// The case that tries this way: the way is accepted when the case's
    /// last request is answered 2xx, refused when it is answered 4xx or 5xx.
    pub case: String,
}

/// Where in the documentation something is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocPlace {
    /// The prose.
    Text,
    /// An example request or response.
    Example,
    /// A schema (field list, type table).
    Schema,
}

impl DocPlace {
    /// `text`, `example` or `schema`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Example => "example",
            Self::Schema => "schema",
        }
    }
}

/// A protected resource of the provider (its API), and how it takes an
/// access token.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceEndpoint {
    /// Path joined to the base URL on the live target (the mock serves its
    /// resource at `/ping`); a live run of a `resource` step needs it.
    #[serde(default)]
    pub path: Option<String>,
    /// Where the access token goes: `{ header: Bearer }` (the default,
    /// RFC 6750 §2.1), `bare_header`, `{ query: access_token }` or
    /// `{ form: token }`.
    #[serde(default)]
    pub token: TokenPlacement,
}

/// A grant the mock enables and a case can use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.3.
    Password,
    /// RFC 6749 §6.
    RefreshToken,
    /// RFC 6749 §4.1.3: exchanging an authorization code.
    AuthorizationCode,
    /// Elastic Path's token-endpoint `implicit` grant: a public client id
    /// gets a read-only token. Not an RFC 6749 token-endpoint grant.
    Implicit,
    /// RFC 7523 §2.1: a signed JWT as the grant
    /// (`urn:ietf:params:oauth:grant-type:jwt-bearer`).
    JwtBearer,
    /// RFC 8628 §3.4: polling with a device code
    /// (`urn:ietf:params:oauth:grant-type:device_code`).
    DeviceCode,
    /// RFC 8693: token exchange
    /// (`urn:ietf:params:oauth:grant-type:token-exchange`).
    TokenExchange,
}

impl GrantKind {
    /// Every grant, in documentation order.
    pub const ALL: [Self; 8] = [
        Self::ClientCredentials,
        Self::Password,
        Self::RefreshToken,
        Self::AuthorizationCode,
        Self::Implicit,
        Self::JwtBearer,
        Self::DeviceCode,
        Self::TokenExchange,
    ];

    /// The spec's name of the grant (`client_credentials`, `jwt_bearer`):
    /// the `grant_type` value of RFC 6749's grants, not of the extension
    /// grants, whose `grant_type` is a URI ([`GrantKind::grant_type`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
            Self::AuthorizationCode => "authorization_code",
            Self::Implicit => "implicit",
            Self::JwtBearer => "jwt_bearer",
            Self::DeviceCode => "device_code",
            Self::TokenExchange => "token_exchange",
        }
    }

    /// The `grant_type` value sent on the wire.
    pub fn grant_type(self) -> &'static str {
        match self {
            Self::JwtBearer => grantspec_token::JWT_BEARER_GRANT_TYPE,
            Self::DeviceCode => grantspec_token::DEVICE_CODE_GRANT_TYPE,
            Self::TokenExchange => grantspec_token::TOKEN_EXCHANGE_GRANT_TYPE,
            other => other.as_str(),
        }
    }
}

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the embedded emulator knows and how it answers beyond the profile.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockSeed {
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<MockClient>,
    /// Resource owners, for the password grant.
    #[serde(default)]
    pub users: Vec<MockUser>,
    /// Lifetime of issued access tokens, in seconds: one number for every
    /// grant, or a mapping by grant with a `default`. A client's own
    /// `token_lifetime` overrides it.
    #[serde(default)]
    #[schemars(extend("default" = DEFAULT_TOKEN_LIFETIME))]
    pub token_lifetime: TokenLifetime,
    /// What a refresh does to the refresh token it used, and what
    /// presenting a used one again does.
    #[serde(default)]
    pub refresh: RefreshPolicy,
    /// Body encodings the server accepts; defaults to the profile's.
    #[serde(default)]
    pub accepts: Vec<BodyEncoding>,
    /// Client authentication methods the server accepts; defaults to the profile's.
    #[serde(default)]
    pub client_auth: Vec<ClientAuth>,
    /// Spelling of `token_type` in responses.
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// Shape of issued access tokens.
    #[serde(default)]
    pub token_format: TokenFormat,
    /// How errors in an `errors` array are filled in.
    #[serde(default)]
    pub error_items: ErrorItemStyle,
    /// Status of a successful token response (200, or 201 for some APIs).
    #[serde(default = "default_success_status")]
    pub success_status: u16,
    /// Whether `scope` appears in token responses.
    #[serde(default)]
    pub response_scope: ResponseScope,
    /// Send `expires_in` as a JSON string of digits (`"600"`: Weibo's
    /// table types it string; PayPal, by golang.org/x/oauth2's comment).
    #[serde(default)]
    pub expires_in_as_string: bool,
    /// Grants whose answer carries no refresh token, where the mock would
    /// otherwise issue one (GitHub's and Facebook's code exchanges,
    /// Mailchimp's "We don't expire tokens").
    #[serde(default)]
    pub without_refresh_token: Vec<GrantKind>,
    /// The provider's own error codes, by the RFC 6749 §5.2 code whose
    /// meaning they carry (GitHub: `invalid_grant: bad_verification_code`;
    /// Slack: `invalid_client: invalid_client_id`).
    #[serde(default)]
    pub error_codes: BTreeMap<String, String>,
    /// `token_type` spellings by grant, where they differ from
    /// [`MockSeed::token_type`] (eBay: `authorization_code: User Access Token`).
    #[serde(default)]
    pub token_type_by_grant: GrantTokenTypes,
    /// Extra members of token responses: a string (where `{grant_type}` is
    /// replaced by the grant used: Elastic Path's `identifier`; and
    /// `{issued_at_ms}` by the issuing time in milliseconds by the mock's
    /// clock: Salesforce's `issued_at`), a number or a boolean (Slack's
    /// `ok: true`).
    #[serde(default)]
    pub extra_members: BTreeMap<String, ExtraMember>,
    /// The status of every error answer, when the provider does not use
    /// RFC 6749 §5.2's (Slack and GitHub answer errors with 200).
    #[serde(default)]
    pub error_status: Option<u16>,
    /// Extra members of error answers (Slack's `ok: false`).
    #[serde(default)]
    pub error_members: BTreeMap<String, ExtraMember>,
    /// Reject token requests that name no `audience`.
    #[serde(default)]
    pub require_audience: bool,
    /// Send `Cache-Control: no-store` (and, unless `pragma` is false,
    /// `Pragma: no-cache`) with token and error responses.
    #[serde(default = "yes")]
    pub cache_headers: bool,
    /// Send `Pragma: no-cache` along with `Cache-Control` (OAuth 2.1 drops it).
    #[serde(default = "yes")]
    pub pragma: bool,
    /// The `Content-Type` of JSON responses (some servers add a charset).
    #[serde(default = "default_json_content_type")]
    pub content_type: String,
    /// Answer tokens and errors in JSON when the request's `Accept` names
    /// `application/json`, and in `response.encoding` otherwise (GitHub:
    /// a form by default, JSON when asked). A media range that only
    /// includes JSON (`*/*`, `application/*`) does not ask for it.
    #[serde(default)]
    pub json_on_accept: bool,
    /// How client assertions and JWT bearer grants are judged.
    #[serde(default)]
    pub assertions: AssertionPolicy,
    /// Issuers whose JWTs are accepted as JWT bearer grants and exchanged
    /// tokens.
    #[serde(default)]
    pub trusted_issuers: Vec<TrustedIssuer>,
    /// The device authorization endpoint.
    #[serde(default)]
    pub device_flow: DeviceFlowSeed,
    /// What token exchange accepts; without it every exchange is refused.
    #[serde(default)]
    pub token_exchange: Option<ExchangePolicy>,
    /// What the authorization endpoint asks of PKCE (RFC 7636).
    #[serde(default)]
    pub pkce: PkcePolicy,
    /// How long an authorization code from the authorization endpoint may
    /// be exchanged, in seconds (RFC 6749 §4.1.2 recommends at most 600).
    #[serde(default = "default_code_lifetime")]
    #[schemars(extend("default" = DEFAULT_CODE_LIFETIME))]
    pub code_lifetime: u64,
}

/// The lifetime of authorization codes when a seed names none: a minute.
pub const DEFAULT_CODE_LIFETIME: u64 = 60;

fn default_code_lifetime() -> u64 {
    DEFAULT_CODE_LIFETIME
}

/// What the mock's authorization endpoint asks of PKCE.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PkcePolicy {
    /// Refuse an authorization request without a challenge.
    #[serde(default)]
    pub required: bool,
    /// The challenge methods accepted; `[S256]` by default (RFC 9700
    /// §2.1.1: `plain` only where S256 cannot be used).
    #[serde(default = "default_pkce_methods")]
    pub methods: Vec<PkceMethod>,
}

fn default_pkce_methods() -> Vec<PkceMethod> {
    vec![PkceMethod::S256]
}

impl Default for PkcePolicy {
    fn default() -> Self {
        Self {
            required: false,
            methods: default_pkce_methods(),
        }
    }
}

/// The `Content-Type` of a seed's answers when it names none.
pub const DEFAULT_CONTENT_TYPE: &str = "application/json";

fn default_json_content_type() -> String {
    DEFAULT_CONTENT_TYPE.to_owned()
}

fn default_success_status() -> u16 {
    200
}

/// Whether token responses carry `scope`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseScope {
    /// Never.
    #[default]
    Omit,
    /// The granted scopes, space-delimited, always (an empty string when none).
    Always,
    /// The granted scopes as a JSON array.
    Array,
    /// `"scope": null` (Mailchimp, by requests-oauthlib's mailchimp fix).
    Null,
}

impl Default for MockSeed {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            users: Vec::new(),
            token_lifetime: TokenLifetime::default(),
            refresh: RefreshPolicy::default(),
            accepts: Vec::new(),
            client_auth: Vec::new(),
            token_type: default_token_type(),
            token_format: TokenFormat::default(),
            error_items: ErrorItemStyle::default(),
            success_status: default_success_status(),
            response_scope: ResponseScope::default(),
            expires_in_as_string: false,
            without_refresh_token: Vec::new(),
            error_codes: BTreeMap::new(),
            token_type_by_grant: GrantTokenTypes::default(),
            extra_members: BTreeMap::new(),
            error_status: None,
            error_members: BTreeMap::new(),
            require_audience: false,
            cache_headers: true,
            pragma: true,
            content_type: default_json_content_type(),
            json_on_accept: false,
            assertions: AssertionPolicy::default(),
            trusted_issuers: Vec::new(),
            device_flow: DeviceFlowSeed::default(),
            token_exchange: None,
            pkce: PkcePolicy::default(),
            code_lifetime: DEFAULT_CODE_LIFETIME,
        }
    }
}

/// The lifetime of access tokens when a spec names none: an hour.
pub const DEFAULT_TOKEN_LIFETIME: u64 = 3600;

impl MockSeed {
    /// The `token_type` spelling of a token `grant` issues: its own, else
    /// the seed's ([`MockSeed::token_type`]; empty means none is sent).
    pub fn token_type_for(&self, grant: GrantKind) -> &str {
        self.token_type_by_grant
            .get(grant)
            .unwrap_or(self.token_type.as_str())
    }

    /// The lifetime, in seconds, of an access token that `grant` issues to
    /// `client` (a seeded client; `None` for a client the seed does not
    /// know). The most specific rule wins:
    ///
    /// 1. the client's lifetime for the grant (`clients[].token_lifetime.<grant>`);
    /// 2. the client's own lifetime (its number, or its `default`);
    /// 3. the seed's lifetime for the grant (`token_lifetime.<grant>`);
    /// 4. the seed's lifetime (its number, or its `default`);
    /// 5. [`DEFAULT_TOKEN_LIFETIME`].
    ///
    /// A client's setting comes before the seed's per-grant one because it
    /// is what the server was told about that one client, as a client
    /// registration overrides the server's configuration.
    pub fn token_lifetime_for(&self, client: Option<&MockClient>, grant: GrantKind) -> u64 {
        let own = client.and_then(|client| client.token_lifetime.as_ref());
        own.and_then(|lifetime| lifetime.for_grant_only(grant))
            .or_else(|| own.and_then(TokenLifetime::default_seconds))
            .or_else(|| self.token_lifetime.for_grant_only(grant))
            .or_else(|| self.token_lifetime.default_seconds())
            .unwrap_or(DEFAULT_TOKEN_LIFETIME)
    }

    /// Whether any lifetime depends on the grant or the client: the seed's
    /// is a mapping, or a client has its own.
    pub fn lifetimes_vary(&self) -> bool {
        matches!(self.token_lifetime, TokenLifetime::PerGrant(_))
            || self.clients.iter().any(|c| c.token_lifetime.is_some())
    }
}

/// A lifetime of access tokens, in seconds: one number for every grant
/// (`600`), or a mapping by grant (`{ default: 3600, client_credentials: 600 }`).
#[derive(Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TokenLifetime {
    /// The same number of seconds for every grant.
    Same(u64),
    /// Seconds by grant; `default` for the grants not named.
    PerGrant(GrantLifetimes),
}

impl Default for TokenLifetime {
    fn default() -> Self {
        Self::Same(DEFAULT_TOKEN_LIFETIME)
    }
}

impl TokenLifetime {
    /// The seconds this names for `grant` itself, not through a default.
    pub fn for_grant_only(&self, grant: GrantKind) -> Option<u64> {
        match self {
            Self::Same(_) => None,
            Self::PerGrant(grants) => grants.get(grant),
        }
    }

    /// The seconds for grants it does not name: the number, or `default`.
    pub fn default_seconds(&self) -> Option<u64> {
        match self {
            Self::Same(seconds) => Some(*seconds),
            Self::PerGrant(grants) => grants.default,
        }
    }

    /// Every number it holds, with the key it is under (`None` for a
    /// single number): what the loader bounds, and the report lists.
    pub fn entries(&self) -> Vec<(Option<&'static str>, u64)> {
        match self {
            Self::Same(seconds) => vec![(None, *seconds)],
            Self::PerGrant(grants) => grants.entries(),
        }
    }
}

// By hand rather than `untagged`, so that a misspelt grant (`pasword:`) is
// an error located at that key, with a suggestion.
impl<'de> Deserialize<'de> for TokenLifetime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LifetimeVisitor;

        impl<'de> serde::de::Visitor<'de> for LifetimeVisitor {
            type Value = TokenLifetime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a number of seconds, or seconds by grant: `{ default: 3600, client_credentials: 600 }`",
                )
            }

            fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<TokenLifetime, E> {
                Ok(TokenLifetime::Same(seconds))
            }

            fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<TokenLifetime, E> {
                u64::try_from(seconds)
                    .map(TokenLifetime::Same)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(seconds), &self))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<TokenLifetime, A::Error> {
                GrantLifetimes::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(TokenLifetime::PerGrant)
            }
        }

        deserializer.deserialize_any(LifetimeVisitor)
    }
}

/// Lifetimes of access tokens by the grant that issues them, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantLifetimes {
    /// For every grant not named here.
    #[serde(default)]
    pub default: Option<u64>,
    /// For the client_credentials grant.
    #[serde(default)]
    pub client_credentials: Option<u64>,
    /// For the password grant.
    #[serde(default)]
    pub password: Option<u64>,
    /// For a refresh (the refresh_token grant).
    #[serde(default)]
    pub refresh_token: Option<u64>,
    /// For the authorization_code grant.
    #[serde(default)]
    pub authorization_code: Option<u64>,
    /// For the token-endpoint implicit grant.
    #[serde(default)]
    pub implicit: Option<u64>,
    /// For the JWT bearer grant.
    #[serde(default)]
    pub jwt_bearer: Option<u64>,
    /// For the device authorization grant.
    #[serde(default)]
    pub device_code: Option<u64>,
    /// For token exchange.
    #[serde(default)]
    pub token_exchange: Option<u64>,
}

/// `token_type` spellings by the grant that issues the token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantTokenTypes {
    /// For the client_credentials grant.
    #[serde(default)]
    pub client_credentials: Option<String>,
    /// For the password grant.
    #[serde(default)]
    pub password: Option<String>,
    /// For a refresh (the refresh_token grant).
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// For the authorization_code grant.
    #[serde(default)]
    pub authorization_code: Option<String>,
    /// For the token-endpoint implicit grant.
    #[serde(default)]
    pub implicit: Option<String>,
    /// For the JWT bearer grant.
    #[serde(default)]
    pub jwt_bearer: Option<String>,
    /// For the device authorization grant.
    #[serde(default)]
    pub device_code: Option<String>,
    /// For token exchange.
    #[serde(default)]
    pub token_exchange: Option<String>,
}

impl GrantTokenTypes {
    /// The spelling named for `grant`.
    pub fn get(&self, grant: GrantKind) -> Option<&str> {
        match grant {
            GrantKind::ClientCredentials => self.client_credentials.as_deref(),
            GrantKind::Password => self.password.as_deref(),
            GrantKind::RefreshToken => self.refresh_token.as_deref(),
            GrantKind::AuthorizationCode => self.authorization_code.as_deref(),
            GrantKind::Implicit => self.implicit.as_deref(),
            GrantKind::JwtBearer => self.jwt_bearer.as_deref(),
            GrantKind::DeviceCode => self.device_code.as_deref(),
            GrantKind::TokenExchange => self.token_exchange.as_deref(),
        }
    }

    /// The spellings named, in [`GrantKind::ALL`] order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        GrantKind::ALL.iter().filter_map(|grant| self.get(*grant))
    }
}

impl GrantLifetimes {
    /// The seconds named for `grant`.
    pub fn get(&self, grant: GrantKind) -> Option<u64> {
        match grant {
            GrantKind::ClientCredentials => self.client_credentials,
            GrantKind::Password => self.password,
            GrantKind::RefreshToken => self.refresh_token,
            GrantKind::AuthorizationCode => self.authorization_code,
            GrantKind::Implicit => self.implicit,
            GrantKind::JwtBearer => self.jwt_bearer,
            GrantKind::DeviceCode => self.device_code,
            GrantKind::TokenExchange => self.token_exchange,
        }
    }

    /// The numbers given, by key: `default` first, then the grants in
    /// [`GrantKind::ALL`] order.
    pub fn entries(&self) -> Vec<(Option<&'static str>, u64)> {
        let default = self.default.map(|seconds| (Some("default"), seconds));
        let grants = GrantKind::ALL
            .into_iter()
            .filter_map(|grant| Some((Some(grant.as_str()), self.get(grant)?)));
        default.into_iter().chain(grants).collect()
    }
}

fn default_token_type() -> String {
    "Bearer".to_owned()
}

/// A client registered with the mock.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockClient {
    /// Client identifier.
    pub id: String,
    /// Client secret; absent for a public client.
    #[serde(default)]
    pub secret: Option<String>,
    /// Grants this client may use.
    pub grants: Vec<GrantKind>,
    /// Scopes this client may ask for; empty allows any.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Audiences this client may ask for; empty allows any.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Authorization codes this client can exchange, with their redirect URI.
    #[serde(default)]
    pub codes: Vec<MockCode>,
    /// Redirect URIs registered for the authorization endpoint, compared
    /// exactly (RFC 9700 §2.1); a client without any is not redirected to.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// This client's own lifetime of access tokens, in seconds (one number,
    /// or by grant with a `default`); it overrides the seed's
    /// `token_lifetime`.
    #[serde(default)]
    pub token_lifetime: Option<TokenLifetime>,
    /// The client's registered public key (PEM, SPKI): an RSA key verifies
    /// RS256 `private_key_jwt` assertions, a P-256 key ES256 ones. A client
    /// with a `secret` may use `client_secret_jwt` (HS256) as well.
    #[serde(default)]
    pub public_key: Option<String>,
    /// What the user decides on this client's device flows, and when.
    #[serde(default)]
    pub device: DeviceDecision,
}

/// What the user does with a device flow (RFC 8628 §3.3), on the mock's
/// clock: the decision is made after `after_polls` polls or `after_seconds`
/// seconds from the device authorization, whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceDecision {
    /// Approve or deny.
    #[serde(default)]
    pub outcome: DeviceOutcome,
    /// The decision is made once this many polls were answered pending.
    #[serde(default)]
    pub after_polls: Option<u32>,
    /// The decision is made this many seconds after the codes were issued.
    #[serde(default)]
    pub after_seconds: Option<u64>,
}

impl Default for DeviceDecision {
    fn default() -> Self {
        Self {
            outcome: DeviceOutcome::default(),
            after_polls: Some(1),
            after_seconds: None,
        }
    }
}

/// The user's decision on a device flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceOutcome {
    /// The user approves: the next poll gets a token.
    #[default]
    Approved,
    /// The user denies: the next poll gets `access_denied`.
    Denied,
}

/// The mock's device authorization endpoint (RFC 8628 §3.1, §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceFlowSeed {
    /// `interval`: the least seconds between polls; a poll sooner is
    /// answered `slow_down`, and the code's interval grows by five seconds.
    #[serde(default = "five")]
    pub interval: u64,
    /// `expires_in`: seconds the codes live; a poll after is
    /// `expired_token`.
    #[serde(default = "six_hundred")]
    pub expires_in: u64,
    /// `verification_uri`.
    #[serde(default = "default_verification_uri")]
    pub verification_uri: String,
    /// Device codes remembered at once; the oldest is forgotten first.
    #[serde(default = "default_remembered")]
    pub max_codes: usize,
}

impl Default for DeviceFlowSeed {
    fn default() -> Self {
        Self {
            interval: five(),
            expires_in: six_hundred(),
            verification_uri: default_verification_uri(),
            max_codes: default_remembered(),
        }
    }
}

fn five() -> u64 {
    5
}

fn six_hundred() -> u64 {
    600
}

fn default_verification_uri() -> String {
    "https://mock.invalid/device".to_owned()
}

fn default_remembered() -> usize {
    1024
}

/// How the mock judges JWT assertions: client assertions (RFC 7523 §2.2)
/// and JWT bearer grants (§2.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionPolicy {
    /// `aud` values accepted besides the token endpoint URL (an issuer
    /// identifier, say).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Seconds of clock skew allowed on `exp`.
    #[serde(default)]
    pub leeway: u64,
    /// `jti`s remembered against replay at once; the oldest is forgotten
    /// first (an expired assertion is refused on its `exp` anyway).
    #[serde(default = "default_remembered")]
    pub max_jtis: usize,
}

impl Default for AssertionPolicy {
    fn default() -> Self {
        Self {
            audiences: Vec::new(),
            leeway: 0,
            max_jtis: default_remembered(),
        }
    }
}

/// An issuer whose JWTs the mock accepts as JWT bearer grants (RFC 7523
/// §2.1) and as subject or actor tokens of a token exchange.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrustedIssuer {
    /// `iss`.
    pub issuer: String,
    /// Its public key (PEM, SPKI; RSA for RS256, P-256 for ES256).
    pub public_key: String,
    /// The subjects it may assert; empty allows any.
    #[serde(default)]
    pub subjects: Vec<String>,
}

/// What the mock's token exchange (RFC 8693) accepts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangePolicy {
    /// Subject token types accepted: `urn:ietf:params:oauth:token-type:access_token`
    /// (a token this mock issued) and `urn:ietf:params:oauth:token-type:jwt`
    /// (a JWT of a trusted issuer).
    pub subject_token_types: Vec<String>,
    /// Audiences a token may be exchanged for; empty allows any.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Whether an `actor_token` (delegation) is accepted.
    #[serde(default)]
    pub actors: bool,
    /// Whether the answer carries `issued_token_type` (RFC 8693 §2.2.1
    /// requires it; `false` emulates a provider that leaves it out).
    #[serde(default = "yes")]
    pub issued_token_type: bool,
}

/// An authorization code the mock will exchange once.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockCode {
    /// The code.
    pub code: String,
    /// The redirect URI it was issued for.
    pub redirect_uri: String,
    /// The user it was issued for.
    #[serde(default)]
    pub user: Option<String>,
}

/// A resource owner registered with the mock.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockUser {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// What a refresh does to the refresh token it used, and what presenting a
/// used one again does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefreshPolicy {
    /// A new refresh token is issued and the old one is revoked.
    #[default]
    Rotate,
    /// The same refresh token comes back and stays valid.
    Reuse,
    /// A new refresh token is issued and the old one stays valid too.
    RotateKeepOld,
    /// A new refresh token is issued and the old one is revoked; presenting
    /// a used one again revokes its whole token family, every access and
    /// refresh token issued from the same original grant (refresh token
    /// rotation with replay detection, RFC 9700 §4.14.2).
    RotateRevokeFamily,
}

impl RefreshPolicy {
    /// Every behaviour, in documentation order.
    pub const ALL: [Self; 4] = [
        Self::Rotate,
        Self::Reuse,
        Self::RotateKeepOld,
        Self::RotateRevokeFamily,
    ];

    /// The spec's name: `rotate`, `reuse`, `rotate_keep_old`,
    /// `rotate_revoke_family`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rotate => "rotate",
            Self::Reuse => "reuse",
            Self::RotateKeepOld => "rotate_keep_old",
            Self::RotateRevokeFamily => "rotate_revoke_family",
        }
    }

    /// Whether a refresh answers a new refresh token.
    pub fn issues_new_token(self) -> bool {
        self != Self::Reuse
    }
}

/// The shape of access tokens the mock issues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// Random hexadecimal characters.
    #[default]
    Opaque,
    /// A JWT-shaped token (unsigned content, random signature).
    Jwt,
}

/// How the mock fills members of an `errors` array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorItemStyle {
    /// The members of each item.
    #[serde(default)]
    pub shape: ErrorItemShape,
    /// Send `status` as a JSON number instead of a string.
    #[serde(default)]
    pub numeric_status: bool,
    /// Add league/oauth2-server's numeric error `code` (as a string).
    #[serde(default)]
    pub league_codes: bool,
}

/// The members of an item of an `errors` array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorItemShape {
    /// JSON:API's `status`, `title`, `detail` (and `code`).
    #[default]
    JsonApi,
    /// Fitbit's `errorType` (the RFC 6749 code) and `message`, beside a
    /// top-level `success: false`.
    ErrorType,
}

/// An extra member's value: a string, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ExtraMember {
    // Tried in this order: YAML reads an unquoted `true` or `7` as a
    // string too.
    /// `true` or `false`.
    Flag(bool),
    /// A whole number.
    Number(i64),
    /// A string; in token responses `{grant_type}` is replaced by the grant.
    Text(String),
}

impl ExtraMember {
    /// The value as JSON, `{grant_type}` in a string replaced by `grant`.
    pub fn to_json(&self, grant: Option<GrantKind>) -> serde_json::Value {
        match self {
            Self::Text(text) => serde_json::Value::from(match grant {
                Some(grant) => text.replace("{grant_type}", grant.as_str()),
                None => text.clone(),
            }),
            Self::Number(number) => serde_json::Value::from(*number),
            Self::Flag(flag) => serde_json::Value::from(*flag),
        }
    }
}

/// How to reach the live provider.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Live {
    /// Base URL the token path is joined to, usually `${env:…}`.
    pub base_url: String,
    /// The request rate the provider allows, which a live run keeps to
    /// across all the provider's cases; no limit when absent.
    #[serde(default)]
    pub rate: Option<Rate>,
}

/// A request rate: at most `requests` every `per_seconds` seconds. A live
/// run sends the provider's requests evenly spaced, one every
/// `per_seconds / requests`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// How many requests the period allows: at least 1.
    #[schemars(range(min = 1))]
    pub requests: u32,
    /// The period, in seconds: 1 to 86400 (a day).
    #[schemars(range(min = 1, max = 86400))]
    pub per_seconds: u32,
}

impl Rate {
    /// The token crate's view of this rate, to pace a
    /// [`Transport`](grantspec_token::Transport) with; `None` for zero
    /// requests, which the loader refuses.
    pub fn request_rate(&self) -> Option<RequestRate> {
        RequestRate::new(
            self.requests,
            std::time::Duration::from_secs(self.per_seconds.into()),
        )
    }
}

/// A variable: one value, or one per target.
#[derive(Debug, Clone, schemars::JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Var {
    /// The same value for every target.
    Same(String),
    /// A value per target.
    PerTarget {
        /// Value against the mock.
        mock: String,
        /// Value against the live provider.
        live: String,
    },
}

impl Var {
    /// The value on `target`.
    pub fn on(&self, target: crate::template::TargetKind) -> &str {
        match (self, target) {
            (Self::Same(value), _)
            | (Self::PerTarget { mock: value, .. }, crate::template::TargetKind::Mock)
            | (Self::PerTarget { live: value, .. }, crate::template::TargetKind::Live) => value,
        }
    }
}

// By hand rather than `untagged`, so that a misspelt key (`lvie:`) is an
// error located at that key instead of a variant that silently ignores it.
impl<'de> Deserialize<'de> for Var {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct PerTarget {
            mock: String,
            live: String,
        }

        struct VarVisitor;

        impl<'de> serde::de::Visitor<'de> for VarVisitor {
            type Value = Var;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or a mapping with `mock` and `live` values")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Var, E> {
                Ok(Var::Same(value.to_owned()))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Var, A::Error> {
                let PerTarget { mock, live } =
                    PerTarget::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(Var::PerTarget { mock, live })
            }
        }

        deserializer.deserialize_any(VarVisitor)
    }
}

/// Labels that select where a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    /// Only against the mock (it relies on seeded state or the mock clock).
    MockOnly,
    /// Only against the live provider.
    LiveOnly,
}

/// A parameter value in `with`: one string, or a list.
#[derive(Debug, Clone, PartialEq, Eq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ParamSpec {
    /// One value (may contain `${…}`).
    One(String),
    /// A list value (`audience`, `scope`).
    List(Vec<String>),
}

/// What `#[serde(untagged)]` says of a value no variant of [`ParamSpec`]
/// takes; the loader explains it from this text.
pub(crate) const NOT_A_PARAM: &str = "data did not match any variant of untagged enum ParamSpec";

// By hand rather than `untagged`, which first copies every value into a
// buffer to try each variant on (most of reading a case's `with`). It takes
// and refuses what `untagged` does: a string, or a list of strings, each
// as written (a plain `600` is a number, not the string "600"), anything
// else refused with `untagged`'s messages.
impl<'de> Deserialize<'de> for ParamSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, SeqAccess, Visitor};

        /// A list's item: a string, as written.
        struct Item(String);

        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                // `Param` refuses a list within a list, so an item is one text.
                match deserializer.deserialize_any(Param { in_list: true })? {
                    ParamSpec::One(text) => Ok(Item(text)),
                    ParamSpec::List(_) => Err(D::Error::custom(NOT_A_PARAM)),
                }
            }
        }

        /// Reads a parameter, or, `in_list`, one of a list's items.
        struct Param {
            in_list: bool,
        }

        /// Refuses anything but a string, or at the top a list.
        macro_rules! refuse {
            ($($method:ident($($ty:ty)?)),* $(,)?) => {$(
                fn $method<E: Error>(self $(, _: $ty)?) -> Result<ParamSpec, E> {
                    Err(E::custom(NOT_A_PARAM))
                }
            )*};
        }

        impl<'de> Visitor<'de> for Param {
            type Value = ParamSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: Error>(self, text: &str) -> Result<ParamSpec, E> {
                Ok(ParamSpec::One(text.to_owned()))
            }

            fn visit_string<E: Error>(self, text: String) -> Result<ParamSpec, E> {
                Ok(ParamSpec::One(text))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ParamSpec, A::Error> {
                if self.in_list {
                    return Err(A::Error::custom(NOT_A_PARAM));
                }
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(Item(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ParamSpec::List(items))
            }

            refuse!(
                visit_bool(bool),
                visit_i64(i64),
                visit_u64(u64),
                visit_i128(i128),
                visit_u128(u128),
                visit_f64(f64),
                visit_bytes(&[u8]),
                visit_unit(),
                visit_none(),
            );

            fn visit_some<D: serde::Deserializer<'de>>(self, _: D) -> Result<ParamSpec, D::Error> {
                Err(D::Error::custom(NOT_A_PARAM))
            }

            fn visit_newtype_struct<D: serde::Deserializer<'de>>(
                self,
                _: D,
            ) -> Result<ParamSpec, D::Error> {
                Err(D::Error::custom(NOT_A_PARAM))
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, _: A) -> Result<ParamSpec, A::Error> {
                Err(A::Error::custom(NOT_A_PARAM))
            }

            // A tagged value (`!custom x`), refused as `untagged` refuses it.
            fn visit_enum<A: serde::de::EnumAccess<'de>>(
                self,
                _: A,
            ) -> Result<ParamSpec, A::Error> {
                Err(A::Error::custom(
                    "untagged and internally tagged enums do not support enum input",
                ))
            }
        }

        deserializer.deserialize_any(Param { in_list: false })
    }
}

/// A case: its steps, after loading always at least one.
///
/// A file may write a case as one request (`grant`, `with`, `request`,
/// `expect` on the case itself) or as a list of `steps`; loading makes the
/// one request the case's one step, so every reader sees one shape.
/// [`Case::form`] says which way the file wrote it, which is where its
/// fields are in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "CaseFile")]
pub struct Case {
    /// Name, unique within the spec; the trial is `<provider>::<name>`.
    pub name: String,
    /// What the case shows.
    pub description: Option<String>,
    /// Where the case runs.
    pub tags: Vec<Tag>,
    /// Keep a redacted snapshot of the responses.
    pub snapshot: bool,
    /// Mark the trial ignored (run it with `--ignored`), with the reason.
    pub ignore: Option<String>,
    /// The steps: the written ones, or a single-request case's request.
    pub steps: Vec<Step>,
    /// How the file wrote the case.
    pub form: CaseForm,
    /// A single request's fields written beside `steps`, which a spec that
    /// loads never has: kept for the loader to report.
    pub(crate) stray: Option<Box<SingleRequest>>,
}

/// How a spec file wrote a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseForm {
    /// One request: `grant`, `with`, `request` and `expect` on the case,
    /// which is its one step.
    Single,
    /// A list of `steps`.
    Steps,
}

// A case as the file writes it: serde reads a `Case` through it, and its
// schema (named `Case`, described by the doc comment) is the case's.
/// A case: one request, or a chain of steps.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename = "Case", deny_unknown_fields)]
struct CaseFile {
    /// Name, unique within the spec; the trial is `<provider>::<name>`.
    name: String,
    /// What the case shows.
    #[serde(default)]
    description: Option<String>,
    /// Where the case runs.
    #[serde(default)]
    tags: Vec<Tag>,
    /// Keep a redacted snapshot of the responses.
    #[serde(default = "yes")]
    snapshot: bool,
    /// Mark the trial ignored (run it with `--ignored`), with the reason.
    #[serde(default)]
    ignore: Option<String>,
    /// The grant of a single-request case.
    #[serde(default)]
    grant: Option<GrantKind>,
    /// Parameters of a single-request case.
    #[serde(default)]
    with: SortedMap<String, ParamSpec>,
    /// How a single-request case departs from the profile.
    #[serde(default)]
    request: Option<Box<RequestOverride>>,
    /// Expectations of a single-request case.
    #[serde(default)]
    expect: Option<Expect>,
    /// The client assertion of a single-request case.
    #[serde(default)]
    client_assertion: Option<Box<AssertionSpec>>,
    /// The JWT bearer assertion of a single-request case.
    #[serde(default)]
    assertion: Option<Box<AssertionSpec>>,
    /// The steps of a multi-request case.
    #[serde(default)]
    steps: Vec<Step>,
}

/// The fields of a single-request case, as written.
#[derive(Debug, Clone)]
pub(crate) struct SingleRequest {
    pub grant: Option<GrantKind>,
    pub with: SortedMap<String, ParamSpec>,
    pub request: Option<Box<RequestOverride>>,
    pub expect: Option<Expect>,
    pub client_assertion: Option<Box<AssertionSpec>>,
    pub assertion: Option<Box<AssertionSpec>>,
}

impl SingleRequest {
    /// Whether the case wrote any of the fields.
    fn written(&self) -> bool {
        self.grant.is_some()
            || !self.with.is_empty()
            || self.request.is_some()
            || self.expect.is_some()
            || self.client_assertion.is_some()
            || self.assertion.is_some()
    }
}

impl From<CaseFile> for Case {
    fn from(file: CaseFile) -> Self {
        let single = SingleRequest {
            grant: file.grant,
            with: file.with,
            request: file.request,
            expect: file.expect,
            client_assertion: file.client_assertion,
            assertion: file.assertion,
        };
        let (form, steps, stray) = if file.steps.is_empty() {
            let step = Step {
                id: None,
                grant: single.grant,
                with: single.with,
                request: single.request,
                resource: None,
                authorize: None,
                advance: None,
                device_authorization: false,
                client_assertion: single.client_assertion,
                assertion: single.assertion,
                expect: single.expect.unwrap_or_default(),
            };
            (CaseForm::Single, vec![step], None)
        } else {
            let stray = single.written().then(|| Box::new(single));
            (CaseForm::Steps, file.steps, stray)
        };
        Self {
            name: file.name,
            description: file.description,
            tags: file.tags,
            snapshot: file.snapshot,
            ignore: file.ignore,
            steps,
            form,
            stray,
        }
    }
}

// The schema of what the file writes.
impl schemars::JsonSchema for Case {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        CaseFile::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        CaseFile::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        CaseFile::json_schema(generator)
    }
}

fn yes() -> bool {
    true
}

impl Case {
    /// Whether the case runs against the given target.
    pub fn runs_on(&self, live: bool) -> bool {
        let excluded = if live { Tag::MockOnly } else { Tag::LiveOnly };
        !self.tags.contains(&excluded)
    }
}

/// One step of a case: a token request (`grant`), a call to the protected
/// resource (`resource`), or moving the mock's clock (`advance`).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name later steps use to capture from this one (`${login.refresh_token}`).
    #[serde(default)]
    pub id: Option<String>,
    /// A token request with this grant.
    #[serde(default)]
    pub grant: Option<GrantKind>,
    /// Parameters by RFC 6749 name (renamed per the profile) or wire name;
    /// `client_id` and `client_secret` are placed per the profile's client
    /// authentication, and `grant_type` overrides the grant's value.
    #[serde(default)]
    pub with: SortedMap<String, ParamSpec>,
    /// How this request departs from the profile (negative cases).
    #[serde(default)]
    pub request: Option<Box<RequestOverride>>,
    /// A call to the provider's protected resource.
    #[serde(default)]
    pub resource: Option<Box<ResourceCall>>,
    /// An authorization request (RFC 6749 §4.1.1) made without a browser;
    /// the step captures the redirect's parameters and the PKCE verifier.
    #[serde(default)]
    pub authorize: Option<Box<AuthorizeCall>>,
    /// Seconds to move the mock's clock forward (mock-only cases).
    #[serde(default)]
    pub advance: Option<u64>,
    /// Start a device flow (RFC 8628 §3.1): a request to the device
    /// authorization endpoint with the step's `with` (`client_id`, `scope`).
    #[serde(default)]
    pub device_authorization: bool,
    /// Authenticate the client with a JWT the runner signs (RFC 7523 §2.2):
    /// `client_secret_jwt` for HS256, `private_key_jwt` otherwise, unless
    /// the profile or `request.client_auth` names one.
    #[serde(default)]
    pub client_assertion: Option<Box<AssertionSpec>>,
    /// The JWT the runner signs as a `jwt_bearer` grant's `assertion`
    /// (RFC 7523 §2.1).
    #[serde(default)]
    pub assertion: Option<Box<AssertionSpec>>,
    /// Expectations.
    #[serde(default)]
    pub expect: Expect,
}

/// A JWT the runner signs for one request, fresh each time: a client
/// assertion or a JWT bearer grant's assertion (RFC 7523 §3).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertionSpec {
    /// `HS256` (a shared secret), `RS256` or `ES256` (a PEM private key).
    pub alg: SigningAlgorithm,
    /// The signing key: `${secret:NAME}` or a variable; always treated as a
    /// secret. A client assertion signed with HS256 uses the step's
    /// `client_secret` when neither `key` nor `key_file` is given.
    #[serde(default)]
    pub key: Option<String>,
    /// A file that holds the key, relative to the spec's folder (`${…}` is
    /// interpolated); its content is a secret.
    #[serde(default)]
    pub key_file: Option<String>,
    /// `iss`; the client id for a client assertion.
    #[serde(default)]
    pub iss: Option<String>,
    /// `sub`; the client id for a client assertion.
    #[serde(default)]
    pub sub: Option<String>,
    /// `aud`: one value or several; the token endpoint URL when absent.
    #[serde(default)]
    pub aud: Option<ParamSpec>,
    /// Seconds from `iat` to `exp`.
    #[serde(default = "sixty")]
    pub lifetime: u64,
    /// Seconds before the request the assertion says it was issued: with
    /// more than `lifetime`, the assertion has expired when it is sent.
    #[serde(default)]
    pub issued_ago: u64,
    /// A fixed `jti` (two steps with the same one replay it); a fresh
    /// random one when absent.
    #[serde(default)]
    pub jti: Option<String>,
    /// The id of an earlier step of the case whose assertion's `jti` this
    /// one sends again: a replay, with a `jti` fresh for each run.
    #[serde(default)]
    pub same_jti_as: Option<String>,
    /// Further claims.
    #[serde(default)]
    pub claims: BTreeMap<String, ExtraMember>,
}

fn sixty() -> u64 {
    60
}

impl AssertionSpec {
    /// A `client_secret_jwt` assertion with every default: HS256 with the
    /// client secret, for the client id, to the token endpoint, a minute,
    /// a fresh `jti`.
    pub fn client_secret_jwt() -> Self {
        Self {
            alg: SigningAlgorithm::HS256,
            key: None,
            key_file: None,
            iss: None,
            sub: None,
            aud: None,
            lifetime: sixty(),
            issued_ago: 0,
            jti: None,
            same_jti_as: None,
            claims: BTreeMap::new(),
        }
    }

    /// Its texts that may hold `${…}` references.
    pub fn templates(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = [&self.key, &self.key_file, &self.iss, &self.sub, &self.jti]
            .into_iter()
            .filter_map(|text| text.as_deref())
            .collect();
        match &self.aud {
            Some(ParamSpec::One(text)) => texts.push(text),
            Some(ParamSpec::List(items)) => texts.extend(items.iter().map(String::as_str)),
            None => {}
        }
        texts
    }
}

/// An authorization request sent to the provider's authorization endpoint
/// without a browser. The answer is a redirect: the runner follows the
/// provider's own redirects (same origin, at most
/// [`MAX_AUTHORIZE_REDIRECTS`], with the cookies they set) and stops at the
/// first one that leaves the provider, whose query parameters (`code`,
/// `state`, or `error`) become the step's body, with `code_verifier` added:
/// `${auth.code}`, `${auth.code_verifier}`. Body expectations match those
/// parameters.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeCall {
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`; left out when absent.
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// Requested scopes, space-joined.
    #[serde(default)]
    pub scope: Vec<String>,
    /// `state`; a random one when absent.
    #[serde(default)]
    pub state: Option<String>,
    /// The PKCE method (`S256`, `plain`), or `none` to send no challenge.
    #[serde(default)]
    pub pkce: PkceChoice,
    /// Further query parameters (`nonce`, `prompt`, …).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

/// The most redirects an `authorize` step follows within the provider.
pub const MAX_AUTHORIZE_REDIRECTS: usize = 8;

/// Whether an authorization request sends a PKCE challenge, and how made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
pub enum PkceChoice {
    /// `code_challenge_method=S256`.
    #[default]
    S256,
    /// `code_challenge_method=plain`.
    #[serde(rename = "plain")]
    Plain,
    /// No challenge.
    #[serde(rename = "none")]
    None,
}

impl PkceChoice {
    /// The method, or `None` for no challenge.
    pub fn method(self) -> Option<PkceMethod> {
        match self {
            Self::S256 => Some(PkceMethod::S256),
            Self::Plain => Some(PkceMethod::Plain),
            Self::None => None,
        }
    }
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// A token request.
    Grant(GrantKind),
    /// A protected-resource call.
    Resource,
    /// A clock move.
    Advance(u64),
    /// A device authorization request (RFC 8628 §3.1).
    DeviceAuthorization,
    /// An authorization request.
    Authorize,
}

impl Step {
    /// Every text of the step that may hold `${…}` references: parameter
    /// values, added parameters, extra headers, a raw body, a resource token.
    pub fn templates(&self) -> Vec<&str> {
        let mut texts = Vec::new();
        let params = self
            .with
            .values()
            .chain(self.request.iter().flat_map(|r| r.add.values()));
        for value in params {
            match value {
                ParamSpec::One(text) => texts.push(text.as_str()),
                ParamSpec::List(items) => texts.extend(items.iter().map(String::as_str)),
            }
        }
        if let Some(request) = &self.request {
            texts.extend(request.headers.values().map(String::as_str));
            texts.extend(request.raw_body.as_deref());
        }
        if let Some(resource) = &self.resource {
            texts.extend(resource.token.as_deref());
        }
        for assertion in [&self.client_assertion, &self.assertion]
            .into_iter()
            .flatten()
        {
            texts.extend(assertion.templates());
        }
        if let Some(authorize) = &self.authorize {
            texts.push(authorize.client_id.as_str());
            texts.extend(authorize.redirect_uri.as_deref());
            texts.extend(authorize.scope.iter().map(String::as_str));
            texts.extend(authorize.state.as_deref());
            texts.extend(authorize.params.values().map(String::as_str));
        }
        texts
    }

    /// What the step does, or `None` when it names no action or several.
    pub fn kind(&self) -> Option<StepKind> {
        match (
            self.grant,
            &self.resource,
            self.advance,
            &self.authorize,
            self.device_authorization,
        ) {
            (Some(grant), None, None, None, false) => Some(StepKind::Grant(grant)),
            (None, Some(_), None, None, false) => Some(StepKind::Resource),
            (None, None, Some(seconds), None, false) => Some(StepKind::Advance(seconds)),
            (None, None, None, Some(_), false) => Some(StepKind::Authorize),
            (None, None, None, None, true) => Some(StepKind::DeviceAuthorization),
            _ => None,
        }
    }
}

/// Ways a token request may depart from the provider's profile, to show what
/// the provider does with requests its documentation does not describe.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestOverride {
    /// HTTP method to use instead of the profile's.
    #[serde(default)]
    pub method: Option<String>,
    /// Body encoding to use instead of the profile's.
    #[serde(default)]
    pub body: Option<BodyEncoding>,
    /// Client authentication to use instead of the profile's.
    #[serde(default)]
    pub client_auth: Option<ClientAuth>,
    /// List style to use instead of the profile's.
    #[serde(default)]
    pub lists: Option<ListStyle>,
    /// `Content-Type` to send instead of the body's own.
    #[serde(default)]
    pub content_type: Option<String>,
    /// A body to send exactly as written (`${…}` is interpolated).
    #[serde(default)]
    pub raw_body: Option<String>,
    /// Parameters to leave out (`grant_type`, `client_id`, …).
    #[serde(default)]
    pub omit: Vec<String>,
    /// Parameters appended after the others, even when already present.
    #[serde(default)]
    pub add: BTreeMap<String, ParamSpec>,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl ResourceCall {
    /// Where this call puts the token: the case's own placement or scheme,
    /// else the profile's.
    pub fn placement(&self, profile: &TokenPlacement) -> TokenPlacement {
        match (&self.placement, &self.scheme) {
            (Some(placement), _) => placement.clone(),
            (None, Some(scheme)) if scheme.is_empty() => TokenPlacement::BareHeader,
            (None, Some(scheme)) => TokenPlacement::Header(scheme.clone()),
            (None, None) => profile.clone(),
        }
    }

    /// The HTTP method, upper case: the call's own, else the placement's
    /// ([`TokenPlacement::default_method`]).
    pub fn method(&self, placement: &TokenPlacement) -> String {
        self.method.as_ref().map_or_else(
            || placement.default_method().to_owned(),
            |method| method.to_ascii_uppercase(),
        )
    }
}

/// A call to the provider's protected resource with a token.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceCall {
    /// The access token (`${login.access_token}`); omit to send none.
    #[serde(default)]
    pub token: Option<String>,
    /// Authorization scheme to send the token with instead of the profile's
    /// placement (`provider.resource.token`): a probe. An empty string sends
    /// the bare token.
    #[serde(default)]
    pub scheme: Option<String>,
    /// Where to put the token instead of the profile's placement: a probe.
    #[serde(default)]
    pub placement: Option<TokenPlacement>,
    /// HTTP method: `GET`, or `POST` when the token goes in a form field.
    #[serde(default)]
    pub method: Option<String>,
}

/// What a response must look like.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status: one, one of several, or a range.
    #[serde(default)]
    pub status: Option<StatusMatcher>,
    /// Header matchers by case-insensitive name.
    #[serde(default)]
    pub headers: SortedMap<String, Matcher>,
    /// Body matchers, keyed by top-level member name or by JSON pointer
    /// (`/data/token_type`).
    #[serde(default)]
    pub body: SortedMap<String, Matcher>,
}

#[cfg(test)]
mod tests {
    /// A spec can hold thousands of cases, all loaded before the first one
    /// runs, and each page of memory first touched costs a fault: what a
    /// case is made of stays as small as it was measured to be, its rarely
    /// written parts boxed (`cargo xtask bench`, (c)).
    #[test]
    fn the_parts_of_a_case_stay_small() {
        use std::mem::size_of;
        let sizes = [
            ("Case", size_of::<super::Case>(), 136),
            ("Step", size_of::<super::Step>(), 184),
            ("Expect", size_of::<super::Expect>(), 72),
            ("ParamSpec", size_of::<super::ParamSpec>(), 32),
            ("Matcher", size_of::<crate::Matcher>(), 16),
            ("Rules", size_of::<crate::matcher::Rules>(), 160),
        ];
        for (name, size, most) in sizes {
            assert!(size <= most, "a {name} is {size} bytes, more than {most}");
        }
    }
}
