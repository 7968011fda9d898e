//! The types a spec file deserializes into.

use std::collections::BTreeMap;
use std::fmt;

use grantspec_token::{
    BodyEncoding, ClientAuth, ErrorFormat, ProviderProfile, ResponseShape, TokenEndpoint,
};
use serde::Deserialize;

use crate::matcher::Matcher;

/// One provider's spec: its profile, the mock's seed, live settings and cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// How the provider's token endpoint behaves.
    pub provider: Provider,
    /// What the embedded emulator is seeded with.
    #[serde(default)]
    pub mock: MockSeed,
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
        }
    }
}

/// The provider: identity, documentation and token endpoint dialect.
#[derive(Debug, Clone, Deserialize)]
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
    /// Known deviations from RFC 6749.
    #[serde(default)]
    pub deviations: Vec<String>,
    /// Free-form notes: documentation versus observed behaviour.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A grant the mock enables and a case can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.3.
    Password,
    /// RFC 6749 §6.
    RefreshToken,
}

impl GrantKind {
    /// The `grant_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password => "password",
            Self::RefreshToken => "refresh_token",
        }
    }
}

impl fmt::Display for GrantKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the embedded emulator knows and how it answers beyond the profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSeed {
    /// Registered clients.
    #[serde(default)]
    pub clients: Vec<MockClient>,
    /// Resource owners, for the password grant.
    #[serde(default)]
    pub users: Vec<MockUser>,
    /// Lifetime of issued access tokens, in seconds.
    #[serde(default = "default_token_lifetime")]
    pub token_lifetime: u64,
    /// What happens to a refresh token when it is used.
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
}

impl Default for MockSeed {
    fn default() -> Self {
        Self {
            clients: Vec::new(),
            users: Vec::new(),
            token_lifetime: default_token_lifetime(),
            refresh: RefreshPolicy::default(),
            accepts: Vec::new(),
            client_auth: Vec::new(),
            token_type: default_token_type(),
            token_format: TokenFormat::default(),
            error_items: ErrorItemStyle::default(),
        }
    }
}

fn default_token_lifetime() -> u64 {
    3600
}

fn default_token_type() -> String {
    "Bearer".to_owned()
}

/// A client registered with the mock.
#[derive(Debug, Clone, Deserialize)]
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
}

/// A resource owner registered with the mock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockUser {
    /// Username.
    pub username: String,
    /// Password.
    pub password: String,
}

/// What a refresh does to the refresh token it consumed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshPolicy {
    /// A new refresh token is issued and the old one is revoked.
    #[default]
    Rotate,
    /// The same refresh token stays valid.
    Reuse,
}

/// The shape of access tokens the mock issues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenFormat {
    /// Random hexadecimal characters.
    #[default]
    Opaque,
    /// A JWT-shaped token (unsigned content, random signature).
    Jwt,
}

/// How the mock fills members of an `errors` array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorItemStyle {
    /// Send `status` as a JSON number instead of a string.
    #[serde(default)]
    pub numeric_status: bool,
    /// Add league/oauth2-server's numeric error `code` (as a string).
    #[serde(default)]
    pub league_codes: bool,
}

/// How to reach the live provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Live {
    /// Base URL the token path is joined to, usually `${env:…}`.
    pub base_url: String,
}

/// A variable: one value, or one per target.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
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

/// Labels that select where a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    /// Only against the mock (it relies on seeded state or the mock clock).
    MockOnly,
    /// Only against the live provider.
    LiveOnly,
}

/// A parameter value in `with`: one string, or a list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ParamSpec {
    /// One value (may contain `${…}`).
    One(String),
    /// A list value (`audience`, `scope`).
    List(Vec<String>),
}

/// A case: one request, or a chain of steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Name, unique within the spec; the trial is `<provider>::<name>`.
    pub name: String,
    /// What the case shows.
    #[serde(default)]
    pub description: Option<String>,
    /// Where the case runs.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// Keep a redacted snapshot of the responses.
    #[serde(default = "yes")]
    pub snapshot: bool,
    /// The grant of a single-request case.
    #[serde(default)]
    pub grant: Option<GrantKind>,
    /// Parameters of a single-request case.
    #[serde(default)]
    pub with: BTreeMap<String, ParamSpec>,
    /// Expectations of a single-request case.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// The steps of a multi-request case.
    #[serde(default)]
    pub steps: Vec<Step>,
}

fn yes() -> bool {
    true
}

impl Case {
    /// The case as steps: a single-request case is one step.
    pub fn steps(&self) -> Vec<Step> {
        if !self.steps.is_empty() {
            return self.steps.clone();
        }
        self.grant
            .map(|grant| Step {
                id: None,
                grant,
                with: self.with.clone(),
                expect: self.expect.clone().unwrap_or_default(),
            })
            .into_iter()
            .collect()
    }

    /// Whether the case runs against the given target.
    pub fn runs_on(&self, live: bool) -> bool {
        let excluded = if live { Tag::MockOnly } else { Tag::LiveOnly };
        !self.tags.contains(&excluded)
    }
}

/// One request of a case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Name later steps use to capture from this one (`${login.refresh_token}`).
    #[serde(default)]
    pub id: Option<String>,
    /// The grant.
    pub grant: GrantKind,
    /// Parameters by RFC 6749 name (renamed per the profile) or wire name.
    #[serde(default)]
    pub with: BTreeMap<String, ParamSpec>,
    /// Expectations.
    #[serde(default)]
    pub expect: Expect,
}

/// What a response must look like.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Header matchers by case-insensitive name.
    #[serde(default)]
    pub headers: BTreeMap<String, Matcher>,
    /// Body matchers, keyed by top-level member name or by JSON pointer
    /// (`/data/token_type`).
    #[serde(default)]
    pub body: BTreeMap<String, Matcher>,
}
