//! How one provider's token endpoint differs from RFC 6749.
//!
//! A [`ProviderProfile`] is pure data: it is read from a spec (the `spec` crate
//! deserializes these very types) and consulted by request building
//! ([`crate::build_request`]), response parsing ([`crate::parse_response`]) and
//! the mock server. Every default is the RFC 6749 behaviour, so an empty
//! profile describes a conformant provider.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Everything that must be known to talk to one provider's token endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderProfile {
    /// Where the endpoint is and how requests to it are shaped.
    pub token_endpoint: TokenEndpoint,
    /// How a successful response is shaped.
    #[serde(default)]
    pub response: ResponseShape,
    /// How errors are reported.
    #[serde(default)]
    pub errors: ErrorFormat,
    /// How the provider's API takes an access token.
    #[serde(default, skip_serializing_if = "ResourceAccess::is_rfc6750")]
    pub resource: ResourceAccess,
}

/// How the provider's protected resources (its API) take an access token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceAccess {
    /// Where the access token goes in an API request.
    #[serde(default)]
    pub token: TokenPlacement,
}

impl ResourceAccess {
    /// Whether the token goes as RFC 6750 §2.1 says: `Authorization: Bearer`.
    pub fn is_rfc6750(&self) -> bool {
        self.token == TokenPlacement::default()
    }
}

/// Where an access token goes in a request to the provider's API
/// (RFC 6750 §2 lists the header, the form body and the query).
///
/// A token in a URL is something only a provider's profile can ask for
/// (Instagram's legacy API): RFC 6750 §2.3 says SHOULD NOT and RFC 9700 §2.4
/// forbids it, and the checks report it as `token-in-query`. Client
/// credentials never go in a URL whatever the profile says.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schemars", schemars(with = "PlacementRepr"))]
#[serde(from = "PlacementRepr", into = "PlacementRepr")]
pub enum TokenPlacement {
    /// `Authorization: <scheme> <token>` (RFC 6750 §2.1 with `Bearer`).
    Header(String),
    /// `Authorization: <token>`, with no scheme (the Advanced Store
    /// document's "(no bearer)").
    BareHeader,
    /// A query parameter of this name (`access_token`: Instagram's legacy
    /// API, Weibo).
    Query(String),
    /// A form body field of this name (Slack's legacy `token`; RFC 6750
    /// §2.2 names it `access_token`).
    Form(String),
}

/// How a [`TokenPlacement`] is written: `bare_header`, `{ header: Bearer }`,
/// `{ query: access_token }` or `{ form: token }` (YAML readers want a
/// one-key map here, not a tag).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(untagged)]
enum PlacementRepr {
    /// `bare_header`: `Authorization: <token>`, no scheme.
    Word(PlacementWord),
    /// `{ header: <scheme> }`: `Authorization: <scheme> <token>`.
    Header {
        /// The scheme (`Bearer`).
        header: String,
    },
    /// `{ query: <name> }`: a URL query parameter.
    Query {
        /// The parameter name (`access_token`).
        query: String,
    },
    /// `{ form: <name> }`: a form body field.
    Form {
        /// The field name (`token`).
        form: String,
    },
}

/// The placements written as one word.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
enum PlacementWord {
    /// `Authorization: <token>`, no scheme.
    BareHeader,
}

impl From<PlacementRepr> for TokenPlacement {
    fn from(repr: PlacementRepr) -> Self {
        match repr {
            PlacementRepr::Word(PlacementWord::BareHeader) => Self::BareHeader,
            PlacementRepr::Header { header } => Self::Header(header),
            PlacementRepr::Query { query } => Self::Query(query),
            PlacementRepr::Form { form } => Self::Form(form),
        }
    }
}

impl From<TokenPlacement> for PlacementRepr {
    fn from(placement: TokenPlacement) -> Self {
        match placement {
            TokenPlacement::BareHeader => Self::Word(PlacementWord::BareHeader),
            TokenPlacement::Header(header) => Self::Header { header },
            TokenPlacement::Query(query) => Self::Query { query },
            TokenPlacement::Form(form) => Self::Form { form },
        }
    }
}

impl Default for TokenPlacement {
    fn default() -> Self {
        Self::Header("Bearer".to_owned())
    }
}

impl TokenPlacement {
    /// The HTTP method a call presenting the token this way uses unless it
    /// says otherwise: `POST` for a form field (a `GET` has no body to carry
    /// one), `GET` otherwise.
    pub fn default_method(&self) -> &'static str {
        match self {
            Self::Form(_) => "POST",
            _ => "GET",
        }
    }

    /// The placement in a few words, for reports: `Authorization: Bearer`,
    /// `Authorization (bare)`, `query access_token`, `form token`.
    pub fn describe(&self) -> String {
        match self {
            Self::Header(scheme) if scheme.is_empty() => "Authorization (bare)".to_owned(),
            Self::Header(scheme) => format!("Authorization: {scheme}"),
            Self::BareHeader => "Authorization (bare)".to_owned(),
            Self::Query(name) => format!("query {name}"),
            Self::Form(name) => format!("form {name}"),
        }
    }
}

/// Location of the token endpoint and the shape of requests sent to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TokenEndpoint {
    /// Path of the endpoint, joined to the base URL of the target (mock or live).
    pub path: String,
    /// HTTP method; RFC 6749 §3.2 requires POST.
    #[serde(default)]
    pub method: HttpMethod,
    /// Encoding of the request body; RFC 6749 requires a form.
    #[serde(default)]
    pub body: BodyEncoding,
    /// How the client authenticates; RFC 6749 §2.3.1 prefers HTTP Basic.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Parameter names the provider uses instead of RFC 6749's, keyed by the
    /// RFC name (Shopware: `scope: scopes`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rename: BTreeMap<String, String>,
    /// How a list-valued parameter (`scope`, `audience`, `resource`) is sent.
    #[serde(default)]
    pub lists: ListStyle,
    /// Path of the device authorization endpoint (RFC 8628 §3.1), joined
    /// to the base URL like `path`; [`DEFAULT_DEVICE_AUTHORIZATION_PATH`]
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_path: Option<String>,
    /// The `Accept` header of requests to the token endpoint (and the device
    /// authorization endpoint): `application/json` unless a profile says
    /// otherwise (GitHub's default form answers `*/*`).
    #[serde(default, skip_serializing_if = "AcceptHeader::is_json")]
    #[cfg_attr(feature = "schemars", schemars(extend("default" = "application/json")))]
    pub accept: AcceptHeader,
}

/// Where the device authorization endpoint is when a profile does not say.
pub const DEFAULT_DEVICE_AUTHORIZATION_PATH: &str = "/device_authorization";

impl Default for TokenEndpoint {
    fn default() -> Self {
        Self {
            path: "/token".to_owned(),
            method: HttpMethod::default(),
            body: BodyEncoding::default(),
            client_auth: ClientAuth::default(),
            rename: BTreeMap::new(),
            lists: ListStyle::default(),
            device_authorization_path: None,
            accept: AcceptHeader::default(),
        }
    }
}

impl TokenEndpoint {
    /// The wire name of an RFC 6749 parameter for this provider.
    pub fn wire_name<'a>(&'a self, rfc_name: &'a str) -> &'a str {
        self.rename.get(rfc_name).map_or(rfc_name, String::as_str)
    }

    /// The device authorization endpoint's path.
    pub fn device_authorization_path(&self) -> &str {
        self.device_authorization_path
            .as_deref()
            .unwrap_or(DEFAULT_DEVICE_AUTHORIZATION_PATH)
    }
}

/// The `Accept` header a token request carries: a media range list
/// (RFC 9110 §12.5.1).
///
/// A provider that negotiates its answer's format answers what this asks
/// for: GitHub answers a form by default and JSON to
/// `Accept: application/json`. There is no "no header": the transport
/// (reqwest) sends `Accept: */*` with a request that names none, as curl and
/// Python's requests do, so a profile that wants a provider's default answer
/// says `*/*`, which is what goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AcceptHeader(String);

impl Default for AcceptHeader {
    fn default() -> Self {
        Self("application/json".to_owned())
    }
}

impl AcceptHeader {
    /// The header's value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the default, `Accept: application/json`.
    pub fn is_json(&self) -> bool {
        *self == Self::default()
    }

    /// Reads a media range list: a `type/subtype` first, then visible ASCII
    /// and spaces only, so that the value is a valid header value.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once('/')?;
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+.^_`|~-".contains(c);
        let visible = |c: char| c == ' ' || c.is_ascii_graphic();
        (!kind.is_empty()
            && kind.chars().all(token)
            && !rest.is_empty()
            && rest.chars().all(visible))
        .then(|| Self(text.to_owned()))
    }
}

impl fmt::Display for AcceptHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for AcceptHeader {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AcceptHeader {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AcceptHeader;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a media range list such as `application/json` or `*/*`")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<AcceptHeader, E> {
                AcceptHeader::parse(text)
                    .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(text), &self))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for AcceptHeader {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AcceptHeader".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::AcceptHeader").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The `Accept` header of token requests, a media range list: `application/json` (the default), or `*/*` for a provider's default answer (GitHub's form).",
            "type": "string",
            "pattern": "^[-!#$%&'*+.^_`|~0-9A-Za-z]+/[ -~]+$"
        })
    }
}

/// HTTP method of the token request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// `POST` with the parameters in the body (RFC 6749).
    #[default]
    Post,
    /// `GET` with the parameters in the query string. Credentials are never
    /// put in a URL: with this method the client must authenticate with Basic.
    Get,
}

impl HttpMethod {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Get => "GET",
        }
    }
}

/// Encoding of the token request body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749).
    #[default]
    Form,
    /// `application/json`.
    Json,
}

impl BodyEncoding {
    /// The `Content-Type` this encoding is sent with.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Form => "application/x-www-form-urlencoded",
            Self::Json => "application/json",
        }
    }
}

/// Client authentication method (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `Authorization: Basic` with the id and secret form-urlencoded first.
    #[default]
    Basic,
    /// `client_id` and `client_secret` as request parameters.
    Post,
    /// A public client: only `client_id` is sent, as a parameter.
    None,
    /// `client_secret_jwt`: `client_id` and a JWT signed with the client
    /// secret (HS256) as `client_assertion` (RFC 7523 §2.2, OpenID Connect
    /// Core §9).
    ClientSecretJwt,
    /// `private_key_jwt`: `client_id` and a JWT signed with the client's
    /// private key (RS256, ES256) as `client_assertion`.
    PrivateKeyJwt,
}

impl ClientAuth {
    /// Whether the client authenticates with a signed JWT.
    pub fn is_jwt(self) -> bool {
        matches!(self, Self::ClientSecretJwt | Self::PrivateKeyJwt)
    }
}

/// How list-valued parameters are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListStyle {
    /// One space-delimited value (RFC 6749 §3.3).
    #[default]
    SpaceJoined,
    /// The parameter repeated once per value (RFC 8693's `audience`); a JSON
    /// body carries an array.
    Repeat,
}

/// Shape of a successful token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseShape {
    /// How the body is encoded: JSON (RFC 6749 §5.1), or a form, as GitHub
    /// answers unless asked for JSON and Facebook's legacy endpoint answers
    /// as `text/plain`.
    #[serde(default)]
    pub encoding: ResponseEncoding,
    /// JSON pointer to the token object when it is wrapped (Elastic Path: `/data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    /// Member names the provider uses instead of RFC 6749's
    /// (Plentymarkets: `accessToken`, `tokenType`, `expiresIn`,
    /// `refreshToken`).
    #[serde(default, skip_serializing_if = "ResponseMembers::is_rfc6749")]
    pub members: ResponseMembers,
    /// Which members carry the expiry.
    #[serde(default)]
    pub expiry: ExpiryStyle,
    /// What a lifetime of zero seconds means.
    #[serde(default)]
    pub zero_lifetime: ZeroLifetime,
    /// Lifetime assumed, in seconds, when the response carries no expiry.
    #[serde(default = "default_lifetime")]
    pub default_lifetime: u64,
    /// What to assume when `token_type` is missing.
    #[serde(default)]
    pub missing_token_type: MissingTokenType,
    /// `token_type` values that mean a bearer token (eBay:
    /// `Application Access Token`, `User Access Token`); compared ignoring
    /// ASCII case, as `Bearer` is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bearer_aliases: Vec<String>,
}

fn default_lifetime() -> u64 {
    3600
}

impl Default for ResponseShape {
    fn default() -> Self {
        Self {
            encoding: ResponseEncoding::default(),
            envelope: None,
            members: ResponseMembers::default(),
            expiry: ExpiryStyle::default(),
            zero_lifetime: ZeroLifetime::default(),
            default_lifetime: default_lifetime(),
            missing_token_type: MissingTokenType::default(),
            bearer_aliases: Vec::new(),
        }
    }
}

/// How a token response's body is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponseEncoding {
    /// `application/json` (RFC 6749 §5.1).
    #[default]
    Json,
    /// `name=value&…`, whatever the `Content-Type` says (GitHub sends
    /// `application/x-www-form-urlencoded`, Facebook's legacy endpoint
    /// `text/plain`). Every value is a string.
    Form,
}

/// The member names of a token response, where they differ from RFC 6749's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseMembers {
    /// Instead of `access_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Instead of `token_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Instead of `expires_in`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    /// Instead of `expires`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// Instead of `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Instead of `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl ResponseMembers {
    /// The provider's name for an RFC 6749 response member (`access_token`,
    /// `token_type`, `expires_in`, `expires`, `refresh_token`, `scope`);
    /// other names are returned as they are.
    pub fn name<'a>(&'a self, rfc_name: &'a str) -> &'a str {
        let renamed = match rfc_name {
            "access_token" => &self.access_token,
            "token_type" => &self.token_type,
            "expires_in" => &self.expires_in,
            "expires" => &self.expires,
            "refresh_token" => &self.refresh_token,
            "scope" => &self.scope,
            _ => &None,
        };
        renamed.as_deref().unwrap_or(rfc_name)
    }

    /// The RFC 6749 response members a profile can rename.
    pub const RFC_NAMES: [&'static str; 6] = [
        "access_token",
        "token_type",
        "expires_in",
        "expires",
        "refresh_token",
        "scope",
    ];

    /// Each renamed member, as its RFC 6749 name and the provider's.
    pub fn renamed(&self) -> impl Iterator<Item = (&'static str, &str)> {
        Self::RFC_NAMES
            .into_iter()
            .map(|rfc| (rfc, self.name(rfc)))
            .filter(|(rfc, name)| rfc != name)
    }

    /// Whether every member has its RFC 6749 name.
    pub fn is_rfc6749(&self) -> bool {
        *self == Self::default()
    }
}

/// What a lifetime of zero seconds means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ZeroLifetime {
    /// The token has already expired: RFC 6749's plain reading.
    #[default]
    Expired,
    /// The token does not expire (Mailchimp's `expires_in: 0`).
    Never,
}

/// Which members of a token response carry its expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExpiryStyle {
    /// Relative `expires_in` seconds (RFC 6749 §5.1).
    #[default]
    ExpiresIn,
    /// Absolute `expires`, in seconds since the Unix epoch.
    Expires,
    /// `expires` carrying seconds from now, as `expires_in` would (Facebook's
    /// legacy answer).
    ExpiresRelative,
    /// Both; `expires_in` wins when they disagree.
    Both,
    /// Neither; [`ResponseShape::default_lifetime`] applies.
    None,
}

/// Policy for a success response without `token_type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MissingTokenType {
    /// Reject the response (RFC 6749 §5.1 makes `token_type` REQUIRED).
    #[default]
    Reject,
    /// Assume `Bearer`.
    AssumeBearer,
}

/// How the provider reports an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorFormat {
    /// RFC 6749 §5.2: `{"error": "...", "error_description": "..."}`.
    #[default]
    Rfc6749,
    /// A JSON:API-style `{"errors": [{"status", "title", "detail", "code"}]}`.
    ErrorsArray,
    /// RFC 9457 `application/problem+json`.
    Problem,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(yaml: &str) -> Result<TokenEndpoint, serde_json::Error> {
        serde_json::from_str(yaml)
    }

    #[test]
    fn accept_is_json_unless_the_profile_names_another_media_range() {
        let default = endpoint(r#"{"path": "/token"}"#).unwrap();
        assert_eq!(default.accept.as_str(), "application/json");
        let any = endpoint(r#"{"path": "/token", "accept": "*/*"}"#).unwrap();
        assert_eq!(any.accept.as_str(), "*/*");
        let xml = endpoint(r#"{"path": "/token", "accept": "application/xml, */*;q=0.1"}"#);
        assert_eq!(xml.unwrap().accept.as_str(), "application/xml, */*;q=0.1");
    }

    #[test]
    fn accept_refuses_what_is_no_media_range_or_no_header_value() {
        for bad in [
            "",
            "none",
            "json",
            "/json",
            "application/",
            "application/json\r\nx: y",
        ] {
            let error = serde_json::from_value::<TokenEndpoint>(
                serde_json::json!({"path": "/token", "accept": bad}),
            )
            .expect_err(bad)
            .to_string();
            assert!(
                error.starts_with("invalid value: string") && error.contains("a media range list"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn accept_is_written_only_when_it_is_not_the_default() {
        let mut endpoint = TokenEndpoint::default();
        let written = serde_json::to_value(&endpoint).unwrap();
        assert!(written.get("accept").is_none(), "{written}");
        endpoint.accept = AcceptHeader::parse("*/*").unwrap();
        assert_eq!(serde_json::to_value(&endpoint).unwrap()["accept"], "*/*");
        let read: TokenEndpoint =
            serde_json::from_value(serde_json::to_value(&endpoint).unwrap()).unwrap();
        assert_eq!(read, endpoint);
    }
}
