//! Building token requests: pure functions from a profile and a grant to the
//! exact HTTP request a provider expects. No I/O happens here.

use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::assertion::{AssertionClaims, SigningAlgorithm, SigningKey, sign_assertion};
use crate::profile::{BodyEncoding, ClientAuth, HttpMethod, ListStyle, ProviderProfile};

/// Text that is either safe to show or a secret that must never be shown.
#[derive(Clone)]
pub enum Text {
    /// A value that may appear in logs, snapshots and reports.
    Plain(String),
    /// A credential or token; shown as `[redacted]`.
    Secret(SecretString),
}

impl Text {
    /// The value as a secret: a plain one becomes one, without a copy.
    pub fn into_secret(self) -> SecretString {
        match self {
            Self::Plain(text) => SecretString::from(text),
            Self::Secret(secret) => secret,
        }
    }

    /// The value itself; a plain one without a copy. Only for the wire.
    pub fn into_exposed(self) -> String {
        match self {
            Self::Plain(text) => text,
            Self::Secret(secret) => secret.expose_secret().to_owned(),
        }
    }

    /// A secret value.
    pub fn secret(value: impl Into<String>) -> Self {
        Self::Secret(SecretString::from(value.into()))
    }

    /// The value as sent on the wire. Callers must not log it.
    pub fn expose(&self) -> &str {
        match self {
            Self::Plain(s) => s,
            Self::Secret(s) => s.expose_secret(),
        }
    }

    /// The value as it may be shown: secrets are replaced by `[redacted]`.
    pub fn shown(&self) -> &str {
        match self {
            Self::Plain(s) => s,
            Self::Secret(_) => REDACTED,
        }
    }

    /// Whether the value is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, Self::Secret(_))
    }
}

impl From<&str> for Text {
    fn from(value: &str) -> Self {
        Self::Plain(value.to_owned())
    }
}

impl From<String> for Text {
    fn from(value: String) -> Self {
        Self::Plain(value)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.shown())
    }
}

/// The placeholder shown instead of a secret.
pub const REDACTED: &str = "[redacted]";

/// The value of one request parameter.
#[derive(Debug, Clone)]
pub enum ParamValue {
    /// A single value.
    One(Text),
    /// A list (`scope`, `audience`, `resource`), encoded per [`ListStyle`].
    List(Vec<String>),
}

/// A client's credentials.
#[derive(Clone)]
pub struct ClientCredentials {
    /// The client identifier.
    pub id: String,
    /// The client secret; `None` for a public client.
    pub secret: Option<SecretString>,
    /// The JWT the client authenticates with when the profile says
    /// `client_secret_jwt` or `private_key_jwt`. Without one,
    /// `client_secret_jwt` signs a fresh assertion with [`Self::secret`].
    pub assertion: Option<ClientAssertion>,
}

/// How a client's JWT assertion (RFC 7523 §2.2) is had.
#[derive(Clone)]
pub enum ClientAssertion {
    /// Signed with this key each time a request is built: `iss` and `sub`
    /// the client id, `aud` the token endpoint URL, `iat` the system clock,
    /// a fresh `jti`, [`crate::DEFAULT_ASSERTION_LIFETIME`].
    Key(SigningKey),
    /// Sent as it is (signed by the caller, claims of its choosing).
    Signed(SecretString),
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(key) => f.debug_tuple("Key").field(key).finish(),
            Self::Signed(_) => f.debug_tuple("Signed").field(&REDACTED).finish(),
        }
    }
}

impl ClientCredentials {
    /// A confidential client.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: Some(SecretString::from(secret.into())),
            assertion: None,
        }
    }

    /// A client that authenticates with a JWT assertion
    /// (`private_key_jwt`, or `client_secret_jwt` with claims of the
    /// caller's choosing).
    pub fn with_assertion(id: impl Into<String>, assertion: ClientAssertion) -> Self {
        Self {
            id: id.into(),
            secret: None,
            assertion: Some(assertion),
        }
    }

    /// A public client, which sends only its id.
    pub fn public(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: None,
            assertion: None,
        }
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("assertion", &self.assertion)
            .finish()
    }
}

/// An OAuth 2.0 grant, with the parameters that grant needs.
#[derive(Clone)]
pub enum Grant {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.3 (discouraged by RFC 9700 §2.4).
    Password {
        /// The resource owner's username.
        username: String,
        /// The resource owner's password.
        password: SecretString,
    },
    /// RFC 6749 §6.
    RefreshToken {
        /// The refresh token to exchange.
        refresh_token: SecretString,
    },
    /// RFC 6749 §4.1.3: exchanging an authorization code, with the PKCE
    /// `code_verifier` of RFC 7636 when the authorization request used one.
    AuthorizationCode {
        /// The authorization code (single use).
        code: SecretString,
        /// The `redirect_uri` of the authorization request, when it had one.
        redirect_uri: Option<String>,
        /// The PKCE code verifier, when the authorization request sent a
        /// challenge.
        code_verifier: Option<SecretString>,
    },
    /// Elastic Path's token-endpoint `implicit` grant: `grant_type=implicit`
    /// and the `client_id` as a parameter, nothing else; the provider answers
    /// with a read-only token. Not an RFC 6749 token-endpoint grant. The
    /// client id always travels as a parameter, whatever the profile's client
    /// authentication, and no secret is ever sent.
    Implicit,
    /// RFC 7523 §2.1: a signed JWT as the authorization grant.
    JwtBearer {
        /// The signed JWT.
        assertion: SecretString,
    },
    /// RFC 8628 §3.4: polling with the device code the device
    /// authorization endpoint issued.
    DeviceCode {
        /// The device code.
        device_code: SecretString,
    },
    /// RFC 8693 §2.1: exchanging a subject token (and an actor token) for
    /// another token; `audience` and `resource` go through
    /// [`TokenRequest::with_audience`] and [`TokenRequest::with_resource`].
    TokenExchange(Box<TokenExchange>),
}

/// The parameters of a token exchange (RFC 8693 §2.1).
#[derive(Clone)]
pub struct TokenExchange {
    /// `subject_token`.
    pub subject_token: SecretString,
    /// `subject_token_type`, a token type URI (RFC 8693 §3).
    pub subject_token_type: String,
    /// `actor_token` and its `actor_token_type`, for delegation.
    pub actor: Option<(SecretString, String)>,
    /// `requested_token_type`.
    pub requested_token_type: Option<String>,
}

/// RFC 8693 §3's token type URI of an OAuth access token.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// RFC 8693 §3's token type URI of a JWT.
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

impl Grant {
    /// The `grant_type` value of this grant.
    pub fn grant_type(&self) -> &'static str {
        match self {
            Self::ClientCredentials => "client_credentials",
            Self::Password { .. } => "password",
            Self::RefreshToken { .. } => "refresh_token",
            Self::AuthorizationCode { .. } => "authorization_code",
            Self::Implicit => "implicit",
            Self::JwtBearer { .. } => crate::JWT_BEARER_GRANT_TYPE,
            Self::DeviceCode { .. } => crate::DEVICE_CODE_GRANT_TYPE,
            Self::TokenExchange(_) => crate::TOKEN_EXCHANGE_GRANT_TYPE,
        }
    }

    /// A token exchange of `subject_token` of type `subject_token_type`.
    pub fn token_exchange(
        subject_token: impl Into<String>,
        subject_token_type: impl Into<String>,
    ) -> Self {
        Self::TokenExchange(Box::new(TokenExchange {
            subject_token: SecretString::from(subject_token.into()),
            subject_token_type: subject_token_type.into(),
            actor: None,
            requested_token_type: None,
        }))
    }

    /// A password grant.
    pub fn password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self::Password {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// A refresh-token grant.
    pub fn refresh_token(refresh_token: impl Into<String>) -> Self {
        Self::RefreshToken {
            refresh_token: SecretString::from(refresh_token.into()),
        }
    }

    /// An authorization-code exchange; `code_verifier` is the PKCE verifier
    /// (RFC 7636), if the authorization request used PKCE.
    pub fn authorization_code(
        code: impl Into<String>,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    ) -> Self {
        Self::AuthorizationCode {
            code: SecretString::from(code.into()),
            redirect_uri,
            code_verifier: code_verifier.map(SecretString::from),
        }
    }

    /// An authorization-code exchange with the verifier whose challenge the
    /// authorization request sent ([`crate::AuthorizationRequest::with_pkce`]).
    pub fn authorization_code_with_pkce(
        code: impl Into<String>,
        redirect_uri: Option<String>,
        verifier: &crate::CodeVerifier,
    ) -> Self {
        Self::AuthorizationCode {
            code: SecretString::from(code.into()),
            redirect_uri,
            code_verifier: Some(verifier.secret().clone()),
        }
    }

    /// Whether the same grant can be sent again to get a fresh token:
    /// client credentials, password and implicit can; a code or a refresh
    /// token may be single use.
    pub fn is_repeatable(&self) -> bool {
        matches!(
            self,
            Self::ClientCredentials
                | Self::Password { .. }
                | Self::Implicit
                | Self::TokenExchange(_)
        )
    }
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientCredentials => f.write_str("ClientCredentials"),
            Self::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &REDACTED)
                .finish(),
            Self::RefreshToken { .. } => f
                .debug_struct("RefreshToken")
                .field("refresh_token", &REDACTED)
                .finish(),
            Self::AuthorizationCode {
                redirect_uri,
                code_verifier,
                ..
            } => f
                .debug_struct("AuthorizationCode")
                .field("code", &REDACTED)
                .field("redirect_uri", redirect_uri)
                .field("code_verifier", &code_verifier.as_ref().map(|_| REDACTED))
                .finish(),
            Self::Implicit => f.write_str("Implicit"),
            Self::JwtBearer { .. } => f
                .debug_struct("JwtBearer")
                .field("assertion", &REDACTED)
                .finish(),
            Self::DeviceCode { .. } => f
                .debug_struct("DeviceCode")
                .field("device_code", &REDACTED)
                .finish(),
            Self::TokenExchange(exchange) => f
                .debug_struct("TokenExchange")
                .field("subject_token", &REDACTED)
                .field("subject_token_type", &exchange.subject_token_type)
                .field(
                    "actor",
                    &exchange.actor.as_ref().map(|(_, kind)| (REDACTED, kind)),
                )
                .field("requested_token_type", &exchange.requested_token_type)
                .finish(),
        }
    }
}

/// Everything needed to ask a token endpoint for a token.
///
/// `Debug` redacts secrets, including extra parameters named in
/// [`SECRET_PARAMS`] that were given as plain text.
#[derive(Clone)]
pub struct TokenRequest {
    /// The grant.
    pub grant: Grant,
    /// The client; `None` sends no client authentication at all.
    pub client: Option<ClientCredentials>,
    /// Requested scopes; sent only when not empty.
    pub scope: Vec<String>,
    /// Further parameters by RFC name (`audience`, `resource`, …), renamed per
    /// the profile.
    pub extra: Vec<(String, ParamValue)>,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<(&str, ParamValue)> = self
            .extra
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    ParamValue::One(Text::Plain(_)) if SECRET_PARAMS.contains(&name.as_str()) => {
                        ParamValue::One(Text::secret(String::new()))
                    }
                    other => other.clone(),
                };
                (name.as_str(), value)
            })
            .collect();
        f.debug_struct("TokenRequest")
            .field("grant", &self.grant)
            .field("client", &self.client)
            .field("scope", &self.scope)
            .field("extra", &extra)
            .finish()
    }
}

impl TokenRequest {
    /// A request for `grant` on behalf of `client`.
    pub fn new(grant: Grant, client: ClientCredentials) -> Self {
        Self {
            grant,
            client: Some(client),
            scope: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// Adds requested scopes.
    #[must_use]
    pub fn with_scope<I, S>(mut self, scope: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope.extend(scope.into_iter().map(Into::into));
        self
    }

    /// Adds a parameter.
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: ParamValue) -> Self {
        self.extra.push((name.into(), value));
        self
    }

    /// Adds `audience` values (RFC 8693; Auth0, Ory Hydra), sent as the
    /// profile's [`ListStyle`] says. Values add to any audience already set.
    #[must_use]
    pub fn with_audience<I, S>(self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_list("audience", audience)
    }

    /// Adds `resource` indicators (RFC 8707), sent as the profile's
    /// [`ListStyle`] says. Values add to any resource already set.
    #[must_use]
    pub fn with_resource<I, S>(self, resource: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_list("resource", resource)
    }

    /// A request without client authentication, for grants sent by a
    /// provider's own convention (the client, if any, goes in `extra`).
    #[must_use]
    pub fn without_client(mut self) -> Self {
        self.client = None;
        self
    }

    /// Elastic Path's `implicit` grant for the public client `client_id`.
    pub fn implicit(client_id: impl Into<String>) -> Self {
        Self::new(Grant::Implicit, ClientCredentials::public(client_id))
    }

    /// The values of the list parameter `name` (`audience`, `resource`),
    /// across every occurrence in [`TokenRequest::extra`].
    pub fn list_values(&self, name: &str) -> Vec<String> {
        let mut values = Vec::new();
        for (param, value) in &self.extra {
            if param == name {
                match value {
                    ParamValue::One(text) => values.push(text.expose().to_owned()),
                    ParamValue::List(items) => values.extend(items.iter().cloned()),
                }
            }
        }
        values
    }

    fn with_list<I, S>(mut self, name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into);
        match self
            .extra
            .iter_mut()
            .find(|(param, value)| param == name && matches!(value, ParamValue::List(_)))
        {
            Some((_, ParamValue::List(items))) => items.extend(values),
            _ => self
                .extra
                .push((name.to_owned(), ParamValue::List(values.collect()))),
        }
        self
    }
}

/// A request body, kept structured so it can be shown redacted and checked
/// parameter by parameter.
///
/// `Debug` shows secrets as `[redacted]`; a [`Body::Raw`] body is shown with
/// the values of [`SECRET_PARAMS`] and [`crate::TOKEN_MEMBERS`] redacted.
#[derive(Clone)]
pub enum Body {
    /// `application/x-www-form-urlencoded` pairs, in order; a name may repeat.
    Form(Vec<(String, Text)>),
    /// A JSON object; list parameters become arrays or joined strings.
    Json(Vec<(String, JsonField)>),
    /// Bytes sent as they are, for negative cases.
    Raw {
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// The body.
        bytes: Vec<u8>,
    },
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Form(pairs) => f.debug_tuple("Form").field(pairs).finish(),
            Self::Json(fields) => f.debug_tuple("Json").field(fields).finish(),
            Self::Raw { content_type, .. } => f
                .debug_struct("Raw")
                .field("content_type", content_type)
                .field("bytes", &self.to_redacted_string())
                .finish(),
        }
    }
}

/// One member of a JSON request body.
#[derive(Debug, Clone)]
pub enum JsonField {
    /// A string member.
    Text(Text),
    /// An array of strings.
    Array(Vec<String>),
}

impl Body {
    /// The `Content-Type` this body is sent with.
    pub fn content_type(&self) -> Option<&str> {
        match self {
            Self::Form(_) => Some(BodyEncoding::Form.content_type()),
            Self::Json(_) => Some(BodyEncoding::Json.content_type()),
            Self::Raw { content_type, .. } => content_type.as_deref(),
        }
    }

    /// The bytes on the wire, secrets included.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.render(Text::expose)
    }

    /// The body as it may be shown, secrets redacted. A raw body is shown
    /// with the values of [`SECRET_PARAMS`] and [`crate::TOKEN_MEMBERS`]
    /// redacted, whether it is JSON, a form or other text.
    pub fn to_redacted_string(&self) -> String {
        match self {
            Self::Raw { bytes, .. } => redact_request_text(&String::from_utf8_lossy(bytes)),
            _ => String::from_utf8_lossy(&self.render(Text::shown)).into_owned(),
        }
    }

    fn render(&self, show: fn(&Text) -> &str) -> Vec<u8> {
        match self {
            Self::Form(pairs) => {
                // Room for the pairs as they are, and a little for escapes.
                let length: usize = pairs
                    .iter()
                    .map(|(name, value)| name.len() + show(value).len() + 2)
                    .sum();
                let mut out =
                    form_urlencoded::Serializer::new(String::with_capacity(length + length / 4));
                for (name, value) in pairs {
                    out.append_pair(name, show(value));
                }
                out.finish().into_bytes()
            }
            Self::Json(fields) => {
                let object: serde_json::Map<String, serde_json::Value> = fields
                    .iter()
                    .map(|(name, field)| {
                        let value = match field {
                            JsonField::Text(text) => serde_json::Value::from(show(text)),
                            JsonField::Array(items) => serde_json::Value::from(items.clone()),
                        };
                        (name.clone(), value)
                    })
                    .collect();
                serde_json::Value::Object(object).to_string().into_bytes()
            }
            Self::Raw { bytes, .. } => bytes.clone(),
        }
    }
}

/// A fully built HTTP request for a token endpoint.
///
/// The URL never carries a credential; header values and body parameters that
/// are secrets stay marked as such, so `Debug` and [`HttpRequest::redacted`]
/// never show them.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The HTTP method, as sent (overrides may send any method).
    pub method: String,
    /// The URL, with the query parameters that are not secrets.
    pub url: Url,
    /// Query parameters appended to [`HttpRequest::url`] when sent, kept
    /// apart so that a secret among them stays marked: only an access token
    /// whose profile puts it in the query ([`crate::TokenPlacement::Query`])
    /// is ever here; never a client credential.
    pub query: Vec<(String, Text)>,
    /// Headers other than `Content-Type`, which comes from the body.
    pub headers: Vec<(String, Text)>,
    /// The body, if any.
    pub body: Option<Body>,
}

impl HttpRequest {
    /// Whether any header or body parameter is a secret.
    pub fn carries_secret(&self) -> bool {
        self.headers.iter().any(|(_, value)| value.is_secret())
            || self.query.iter().any(|(_, value)| value.is_secret())
            || match &self.body {
                Some(Body::Form(pairs)) => pairs.iter().any(|(_, value)| value.is_secret()),
                Some(Body::Json(fields)) => fields
                    .iter()
                    .any(|(_, field)| matches!(field, JsonField::Text(text) if text.is_secret())),
                Some(Body::Raw { .. }) | None => false,
            }
    }

    /// The URL as sent: [`HttpRequest::url`] with [`HttpRequest::query`]
    /// appended, secrets exposed. Only for the wire.
    pub fn wire_url(&self) -> Url {
        self.url_with(Text::expose)
    }

    /// The URL as it may be shown: a secret query value is `[redacted]`.
    pub fn shown_url(&self) -> Url {
        self.url_with(Text::shown)
    }

    fn url_with(&self, show: fn(&Text) -> &str) -> Url {
        let mut url = self.url.clone();
        if !self.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(self.query.iter().map(|(name, value)| (name, show(value))));
        }
        url
    }

    /// The request as text, as it may appear in logs and failure messages.
    pub fn redacted(&self) -> String {
        let mut out = format!("{} {}\n", self.method, self.shown_url());
        if let Some(content_type) = self.body.as_ref().and_then(Body::content_type) {
            out.push_str(&format!("content-type: {content_type}\n"));
        }
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {}\n", value.shown()));
        }
        if let Some(body) = &self.body {
            out.push('\n');
            out.push_str(&body.to_redacted_string());
            out.push('\n');
        }
        out
    }
}

/// Redacts a request body given as text: JSON members and form parameters
/// named in [`SECRET_PARAMS`] or [`crate::TOKEN_MEMBERS`].
fn redact_request_text(text: &str) -> String {
    let names: Vec<&str> = SECRET_PARAMS
        .iter()
        .chain(crate::response::TOKEN_MEMBERS)
        .copied()
        .collect();
    if let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) {
        crate::response::redact_members(&mut json, &names);
        return json.to_string();
    }
    crate::response::redact_text_members(text, &names)
}

/// Why a request could not be built.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BuildError {
    /// The endpoint path cannot be joined to the base URL.
    #[error("token endpoint path {path:?} cannot be joined to base URL {base}")]
    BadPath {
        /// The profile's path.
        path: String,
        /// The base URL.
        base: String,
    },
    /// A `GET` endpoint would need a credential in its query string.
    #[error(
        "refusing to send parameter `{param}` in a URL: the profile uses GET, so credentials can only travel in a Basic Authorization header"
    )]
    CredentialInUrl {
        /// The parameter that would have leaked.
        param: String,
    },
    /// The client's JWT assertion could not be had or signed.
    #[error("client assertion: {0}")]
    Assertion(String),
    /// The base URL carries a password in its user info, which would be
    /// sent, logged and shown with the URL.
    #[error(
        "refusing a token endpoint URL with a password in it: give client credentials through ClientCredentials instead"
    )]
    PasswordInUrl,
    /// The profile puts the access token in a form field, but the request's
    /// body is raw bytes or JSON to which no form field can be added.
    #[error(
        "the profile puts the access token in form field `{field}`, but the request's body is not a form"
    )]
    TokenFieldInNonFormBody {
        /// The profile's field name.
        field: String,
    },
}

/// The `Authorization: Basic` value for a client, with the id and the secret
/// each form-urlencoded before base64 as RFC 6749 §2.3.1 requires.
pub fn basic_authorization(client_id: &str, client_secret: &str) -> SecretString {
    let mut pair = String::with_capacity(client_id.len() + client_secret.len() + 1);
    pair.extend(form_urlencoded::byte_serialize(client_id.as_bytes()));
    pair.push(':');
    pair.extend(form_urlencoded::byte_serialize(client_secret.as_bytes()));
    let mut header = String::with_capacity("Basic ".len() + pair.len().div_ceil(3) * 4);
    header.push_str("Basic ");
    base64::engine::general_purpose::STANDARD.encode_string(pair, &mut header);
    SecretString::from(header)
}

/// Joins a base URL and an endpoint path, keeping any path prefix of the base.
pub fn endpoint_url(base: &Url, path: &str) -> Result<Url, BuildError> {
    let mut joined = base.clone();
    let prefix = base.path().trim_end_matches('/');
    let suffix = path.trim_start_matches('/');
    joined.set_path(&format!("{prefix}/{suffix}"));
    if joined.cannot_be_a_base() {
        return Err(BuildError::BadPath {
            path: path.to_owned(),
            base: base.to_string(),
        });
    }
    Ok(joined)
}

/// Parameters that carry credentials or tokens, and are always secrets.
pub const SECRET_PARAMS: &[&str] = &[
    "client_secret",
    "password",
    "refresh_token",
    "code",
    "code_verifier",
    "assertion",
    "client_assertion",
    "subject_token",
    "actor_token",
    "device_code",
];

/// Builds the HTTP request `request` becomes for a provider with `profile`,
/// whose base URL is `base`.
pub fn build_request(
    profile: &ProviderProfile,
    base: &Url,
    request: &TokenRequest,
) -> Result<HttpRequest, BuildError> {
    let mut params: Vec<(String, ParamValue)> = Vec::new();
    match &request.grant {
        Grant::ClientCredentials => {}
        Grant::Password { username, password } => {
            params.push(("username".into(), ParamValue::One(username.as_str().into())));
            params.push((
                "password".into(),
                ParamValue::One(Text::Secret(password.clone())),
            ));
        }
        Grant::RefreshToken { refresh_token } => params.push((
            "refresh_token".into(),
            ParamValue::One(Text::Secret(refresh_token.clone())),
        )),
        Grant::AuthorizationCode {
            code,
            redirect_uri,
            code_verifier,
        } => {
            params.push(("code".into(), ParamValue::One(Text::Secret(code.clone()))));
            if let Some(redirect_uri) = redirect_uri {
                params.push((
                    "redirect_uri".into(),
                    ParamValue::One(redirect_uri.as_str().into()),
                ));
            }
            if let Some(verifier) = code_verifier {
                params.push((
                    "code_verifier".into(),
                    ParamValue::One(Text::Secret(verifier.clone())),
                ));
            }
        }
        Grant::JwtBearer { assertion } => params.push((
            "assertion".into(),
            ParamValue::One(Text::Secret(assertion.clone())),
        )),
        Grant::DeviceCode { device_code } => params.push((
            "device_code".into(),
            ParamValue::One(Text::Secret(device_code.clone())),
        )),
        Grant::TokenExchange(exchange) => {
            params.push((
                "subject_token".into(),
                ParamValue::One(Text::Secret(exchange.subject_token.clone())),
            ));
            params.push((
                "subject_token_type".into(),
                ParamValue::One(exchange.subject_token_type.as_str().into()),
            ));
            if let Some((token, kind)) = &exchange.actor {
                params.push((
                    "actor_token".into(),
                    ParamValue::One(Text::Secret(token.clone())),
                ));
                params.push((
                    "actor_token_type".into(),
                    ParamValue::One(kind.as_str().into()),
                ));
            }
            if let Some(kind) = &exchange.requested_token_type {
                params.push((
                    "requested_token_type".into(),
                    ParamValue::One(kind.as_str().into()),
                ));
            }
        }
        Grant::Implicit => {
            if let Some(client) = &request.client {
                params.push((
                    "client_id".into(),
                    ParamValue::One(client.id.as_str().into()),
                ));
            }
        }
    }
    if !request.scope.is_empty() {
        params.push(("scope".into(), ParamValue::List(request.scope.clone())));
    }
    params.extend(request.extra.iter().cloned());
    // The implicit grant sends its client id as a parameter and never a
    // secret, whatever the profile's client authentication.
    let client = match request.grant {
        Grant::Implicit => None,
        _ => request.client.as_ref(),
    };
    build_raw(profile, base, request.grant.grant_type(), client, params)
}

/// Builds a request for any `grant_type` from parameters given by RFC 6749
/// name (renamed per the profile on the way out). The client is placed as
/// the profile's client authentication says, and the `Accept` header is the
/// profile's `token_endpoint.accept`. Parameters named in [`SECRET_PARAMS`]
/// are always treated as secrets.
///
/// This is the layer under [`build_request`]; a conformance harness uses it
/// to send requests a typed [`Grant`] cannot express, such as one that lacks
/// a required parameter.
pub fn build_raw(
    profile: &ProviderProfile,
    base: &Url,
    grant_type: &str,
    client: Option<&ClientCredentials>,
    grant_params: Vec<(String, ParamValue)>,
) -> Result<HttpRequest, BuildError> {
    let url = endpoint_url(base, &profile.token_endpoint.path)?;
    build_raw_at(profile, url, grant_type, client, grant_params)
}

/// [`build_raw`] to the token endpoint's URL already joined to the base
/// ([`endpoint_url`]), for a caller that sends many requests to it.
pub fn build_raw_at(
    profile: &ProviderProfile,
    mut url: Url,
    grant_type: &str,
    client: Option<&ClientCredentials>,
    grant_params: Vec<(String, ParamValue)>,
) -> Result<HttpRequest, BuildError> {
    let endpoint = &profile.token_endpoint;
    if url.password().is_some() {
        return Err(BuildError::PasswordInUrl);
    }
    // Accept, and the client's authentication.
    let mut headers = Vec::with_capacity(2);
    headers.push(("accept".to_owned(), Text::from(endpoint.accept.as_str())));
    // grant_type, at most three for the client's authentication, and the
    // grant's own.
    let mut params: Vec<(String, ParamValue)> = Vec::with_capacity(4 + grant_params.len());
    params.push(("grant_type".to_owned(), ParamValue::One(grant_type.into())));

    match (client, endpoint.client_auth) {
        (
            Some(ClientCredentials {
                id,
                secret: Some(secret),
                ..
            }),
            ClientAuth::Basic,
        ) => {
            headers.push((
                "authorization".to_owned(),
                Text::Secret(basic_authorization(id, secret.expose_secret())),
            ));
        }
        // A public client has no password for Basic: it identifies itself
        // with `client_id` (RFC 6749 §3.2.1, §4.1.3).
        (Some(client), ClientAuth::Basic) => {
            params.push((
                "client_id".into(),
                ParamValue::One(client.id.as_str().into()),
            ));
        }
        (Some(client), ClientAuth::Post) => {
            params.push((
                "client_id".into(),
                ParamValue::One(client.id.as_str().into()),
            ));
            if let Some(secret) = &client.secret {
                params.push((
                    "client_secret".into(),
                    ParamValue::One(Text::Secret(secret.clone())),
                ));
            }
        }
        (Some(client), ClientAuth::None) => {
            params.push((
                "client_id".into(),
                ParamValue::One(client.id.as_str().into()),
            ));
        }
        (Some(client), way @ (ClientAuth::ClientSecretJwt | ClientAuth::PrivateKeyJwt)) => {
            let assertion = client_assertion(client, way, &url)?;
            params.push((
                "client_id".into(),
                ParamValue::One(client.id.as_str().into()),
            ));
            params.push((
                "client_assertion_type".into(),
                ParamValue::One(crate::CLIENT_ASSERTION_TYPE.into()),
            ));
            params.push((
                "client_assertion".into(),
                ParamValue::One(Text::Secret(assertion)),
            ));
        }
        (None, _) => {}
    }
    params.extend(grant_params.into_iter().map(|(name, value)| {
        let value = match value {
            ParamValue::One(Text::Plain(text)) if SECRET_PARAMS.contains(&name.as_str()) => {
                ParamValue::One(Text::secret(text))
            }
            other => other,
        };
        (name, value)
    }));

    let params = params.into_iter().map(|(name, value)| {
        let wire = endpoint.wire_name(&name);
        if wire == name {
            (name, value)
        } else {
            (wire.to_owned(), value)
        }
    });

    let body = match endpoint.method {
        HttpMethod::Get => {
            let pairs = flatten_pairs(params, endpoint.lists);
            if let Some((name, _)) = pairs.iter().find(|(_, value)| value.is_secret()) {
                return Err(BuildError::CredentialInUrl {
                    param: name.clone(),
                });
            }
            url.query_pairs_mut()
                .extend_pairs(pairs.iter().map(|(name, value)| (name, value.expose())));
            None
        }
        HttpMethod::Post => Some(match endpoint.body {
            BodyEncoding::Form => Body::Form(flatten_pairs(params, endpoint.lists)),
            BodyEncoding::Json => Body::Json(
                params
                    .map(|(name, value)| {
                        let field = match value {
                            ParamValue::One(text) => JsonField::Text(text),
                            ParamValue::List(items) => match endpoint.lists {
                                ListStyle::Repeat => JsonField::Array(items),
                                ListStyle::SpaceJoined => JsonField::Text(items.join(" ").into()),
                            },
                        };
                        (name, field)
                    })
                    .collect(),
            ),
        }),
    };

    Ok(HttpRequest {
        query: Vec::new(),
        method: endpoint.method.as_str().to_owned(),
        url,
        headers,
        body,
    })
}

/// The client's assertion for a request to `url`: the one it carries, or
/// one signed now.
fn client_assertion(
    client: &ClientCredentials,
    way: ClientAuth,
    url: &Url,
) -> Result<SecretString, BuildError> {
    let key = match (&client.assertion, &client.secret) {
        (Some(ClientAssertion::Signed(jwt)), _) => return Ok(jwt.clone()),
        (Some(ClientAssertion::Key(key)), _) => key.clone(),
        (None, Some(secret)) if way == ClientAuth::ClientSecretJwt => {
            SigningKey::new(SigningAlgorithm::HS256, secret.clone())
                .map_err(|e| BuildError::Assertion(e.to_string()))?
        }
        (None, _) => {
            return Err(BuildError::Assertion(format!(
                "client `{}` has no assertion and no key to sign one with",
                client.id
            )));
        }
    };
    let mut audience = url.clone();
    audience.set_query(None);
    let claims = AssertionClaims::client(&client.id, audience.as_str(), SystemTime::now());
    sign_assertion(&key, &claims).map_err(|e| BuildError::Assertion(e.to_string()))
}

fn flatten_pairs(
    params: impl Iterator<Item = (String, ParamValue)>,
    lists: ListStyle,
) -> Vec<(String, Text)> {
    let mut pairs = Vec::with_capacity(params.size_hint().0);
    for (name, value) in params {
        match value {
            ParamValue::One(text) => pairs.push((name, text)),
            ParamValue::List(items) => match lists {
                ListStyle::SpaceJoined => pairs.push((name, items.join(" ").into())),
                ListStyle::Repeat => {
                    pairs.extend(items.into_iter().map(|item| (name.clone(), item.into())));
                }
            },
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_moved_out_keeps_its_value_and_a_secret_stays_redacted() {
        let canary = "c@n:ary/+%&=\"";
        let secret = Text::Plain(canary.to_owned()).into_secret();
        assert_eq!(secret.expose_secret(), canary);
        assert!(!format!("{secret:?}").contains("c@n"));
        assert_eq!(Text::secret(canary).into_exposed(), canary);
        assert_eq!(Text::Plain(canary.to_owned()).into_exposed(), canary);
    }

    #[test]
    fn basic_credentials_are_form_encoded_before_base64() {
        let header = basic_authorization("sp client", "p@ss:w/rd+%");
        let encoded = header
            .expose_secret()
            .strip_prefix("Basic ")
            .unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&decoded),
            "sp+client:p%40ss%3Aw%2Frd%2B%25"
        );
    }

    #[test]
    fn a_jwt_client_sends_a_signed_assertion_for_the_endpoint_and_never_shows_it() {
        let mut profile = ProviderProfile::default();
        profile.token_endpoint.client_auth = ClientAuth::ClientSecretJwt;
        let base = Url::parse("https://as.example/tenant/").unwrap_or_else(|e| panic!("{e}"));
        let request = TokenRequest::new(
            Grant::ClientCredentials,
            ClientCredentials::new("app", "a shared secret"),
        );
        let built = build_request(&profile, &base, &request).unwrap_or_else(|e| panic!("{e}"));
        let Some(Body::Form(pairs)) = &built.body else {
            panic!("a form body: {built:?}");
        };
        let value = |name: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            value("client_id").map(|v| v.expose().to_owned()),
            Some("app".into())
        );
        assert_eq!(
            value("client_assertion_type").map(|v| v.expose().to_owned()),
            Some(crate::CLIENT_ASSERTION_TYPE.into())
        );
        assert!(value("client_secret").is_none());
        assert!(
            built
                .headers
                .iter()
                .all(|(name, _)| name != "authorization")
        );
        let assertion = value("client_assertion").unwrap_or_else(|| panic!("{built:?}"));
        assert!(assertion.is_secret());
        let claims = crate::unverified_claims(assertion.expose()).unwrap_or_default();
        assert_eq!(claims["aud"], "https://as.example/tenant/token");
        assert_eq!(claims["iss"], "app");
        assert!(!built.redacted().contains(assertion.expose()));
        assert!(!format!("{built:?}").contains(assertion.expose()));

        profile.token_endpoint.client_auth = ClientAuth::PrivateKeyJwt;
        let error = build_request(&profile, &base, &request).unwrap_err();
        assert!(matches!(error, BuildError::Assertion(_)), "{error}");
    }

    #[test]
    fn endpoint_url_keeps_base_path_prefix() {
        let base = Url::parse("https://example.test/api/").unwrap_or_else(|e| panic!("{e}"));
        let url = endpoint_url(&base, "/oauth/token").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.as_str(), "https://example.test/api/oauth/token");
    }
}
