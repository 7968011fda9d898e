//! Parsing token responses, successful or not, in each provider's dialect.

use std::fmt;
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::profile::{
    ExpiryStyle, MissingTokenType, ProviderProfile, ResponseEncoding, ZeroLifetime,
};
use crate::request::REDACTED;

/// A raw HTTP response from a token endpoint.
#[derive(Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, as received (possibly truncated by the transport's cap).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as it may be shown: JSON with every token value redacted, or
    /// the text itself when it is not JSON, with the value of any
    /// [`TOKEN_MEMBERS`] name that looks assigned (`access_token=…`,
    /// `"refresh_token": "…"` in broken JSON) redacted.
    pub fn redacted_body(&self) -> String {
        match self.json() {
            Some(mut json) => {
                redact_tokens(&mut json);
                json.to_string()
            }
            None => redact_text_members(&String::from_utf8_lossy(&self.body), TOKEN_MEMBERS),
        }
    }

    /// The headers as they may be shown: the values of headers that carry
    /// credentials (`set-cookie`, `authorization`, …) redacted.
    pub fn redacted_headers(&self) -> Vec<(String, String)> {
        redact_headers(&self.headers)
    }

    /// The body as a JSON document: JSON as it is, or a form-urlencoded body
    /// (as some providers answer unless asked for JSON, and as a profile with
    /// a form `encoding` says the provider always does, whatever the
    /// `Content-Type`) as an object of strings.
    fn document(&self, encoding: ResponseEncoding) -> Option<Value> {
        if let Some(json) = self.json() {
            return Some(json);
        }
        let form = encoding == ResponseEncoding::Form
            || self
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        form.then(|| {
            Value::Object(
                form_urlencoded::parse(&self.body)
                    .map(|(name, value)| (name.into_owned(), Value::from(value.into_owned())))
                    .collect(),
            )
        })
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.redacted_headers())
            .field("body", &self.redacted_body())
            .finish()
    }
}

/// Response headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &[
    "set-cookie",
    "cookie",
    "authorization",
    "proxy-authorization",
];

fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let secret = SECRET_HEADERS
                .iter()
                .any(|secret| name.eq_ignore_ascii_case(secret));
            let value = if secret { REDACTED } else { value.as_str() };
            (name.clone(), value.to_owned())
        })
        .collect()
}

/// Response members whose values are credentials wherever they appear.
pub const TOKEN_MEMBERS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "device_code",
];

/// Replaces the value of every [`TOKEN_MEMBERS`] member, at any depth, by
/// `[redacted]`.
pub fn redact_tokens(value: &mut Value) {
    redact_members(value, TOKEN_MEMBERS);
}

/// Whether member `key` is one of `names`, in any spelling providers use:
/// `access_token`, `accessToken`, `access-token`.
fn names_member(names: &[&str], key: &str) -> bool {
    let squashed = |name: &str| -> String {
        name.chars()
            .filter(|c| !matches!(c, '_' | '-'))
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let key = squashed(key);
    names.iter().any(|name| squashed(name) == key)
}

/// Replaces the string value of every member named in `names` (in any of
/// the spellings [`names_member`] knows), at any depth, by `[redacted]`.
pub(crate) fn redact_members(value: &mut Value, names: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if names_member(names, key) && member.is_string() {
                    *member = Value::from(REDACTED);
                } else {
                    redact_members(member, names);
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| redact_members(item, names)),
        _ => {}
    }
}

/// Redacts, in text that is not valid JSON, the value assigned to any name in
/// `names`: `name=value` (a form), `"name": "value"` (JSON-like text, such as
/// broken JSON), `name: value`.
pub(crate) fn redact_text_members(text: &str, names: &[&str]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    'scan: while i < text.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if boundary {
            for name in names {
                if !text[i..].starts_with(name) {
                    continue;
                }
                let mut j = i + name.len();
                let skip_space = |mut j: usize| {
                    while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    j
                };
                if bytes.get(j) == Some(&b'"') {
                    j += 1;
                }
                j = skip_space(j);
                if !matches!(bytes.get(j), Some(b':' | b'=')) {
                    continue;
                }
                j = skip_space(j + 1);
                let quoted = bytes.get(j) == Some(&b'"');
                if quoted {
                    j += 1;
                }
                let start = j;
                while j < bytes.len() {
                    let b = bytes[j];
                    let end = if quoted {
                        b == b'"'
                    } else {
                        matches!(b, b'&' | b',' | b'}' | b']' | b';' | b'"')
                            || b.is_ascii_whitespace()
                    };
                    if end {
                        break;
                    }
                    j += 1;
                }
                if j > start {
                    out.push_str(&text[i..start]);
                    out.push_str(REDACTED);
                    i = j;
                    continue 'scan;
                }
            }
        }
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The type of an access token (RFC 6749 §7.1), compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenType {
    /// RFC 6750 bearer token, whatever its spelling on the wire.
    Bearer,
    /// Any other type, as received.
    Other(String),
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer => f.write_str("Bearer"),
            Self::Other(other) => f.write_str(other),
        }
    }
}

impl TokenType {
    /// Interprets a `token_type` value.
    pub fn parse(value: &str) -> Self {
        Self::parse_with_aliases(value, &[])
    }

    /// Interprets a `token_type` value, taking `Bearer` and each of
    /// `bearer_aliases` (ignoring ASCII case) as a bearer token.
    pub fn parse_with_aliases(value: &str, bearer_aliases: &[String]) -> Self {
        let bearer = value.eq_ignore_ascii_case("bearer")
            || bearer_aliases
                .iter()
                .any(|alias| value.eq_ignore_ascii_case(alias.trim()));
        if bearer {
            Self::Bearer
        } else {
            Self::Other(value.to_owned())
        }
    }
}

/// An access token and what came with it.
#[derive(Clone)]
pub struct Token {
    /// The access token.
    pub access_token: SecretString,
    /// Its type.
    pub token_type: TokenType,
    /// When it expires, by the clock that was current when it was received;
    /// `None` when the provider said it does not expire.
    pub expires_at: Option<SystemTime>,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<SecretString>,
    /// The granted scope, if the response stated it.
    pub scope: Option<Vec<String>>,
    /// The type of the token a token exchange issued (RFC 8693 §2.2.1),
    /// when the response stated it.
    pub issued_token_type: Option<String>,
}

impl Token {
    /// Whether the token expires within `skew` of `now`.
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        self.expires_at.is_some_and(|at| now + skew >= at)
    }

    /// Whether the token has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expires_within(now, Duration::ZERO)
    }

    /// The `Authorization` header value that presents this token:
    /// `Bearer <token>` (RFC 6750 §2.1) whatever the spelling the provider
    /// used, or `<type> <token>` for another type.
    pub fn authorization_value(&self) -> SecretString {
        SecretString::from(format!(
            "{} {}",
            self.token_type,
            self.access_token.expose_secret()
        ))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| REDACTED),
            )
            .field("scope", &self.scope)
            .field("issued_token_type", &self.issued_token_type)
            .finish()
    }
}

/// The error a provider reported, in whichever format it used.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorBody {
    /// RFC 6749 §5.2.
    Rfc6749 {
        /// The `error` code.
        error: String,
        /// `error_description`, if present.
        description: Option<String>,
        /// `error_uri`, if present.
        uri: Option<String>,
    },
    /// A JSON:API-style `errors` array.
    ErrorsArray(Vec<ErrorItem>),
    /// RFC 9457 problem details.
    Problem {
        /// `type`.
        problem_type: Option<String>,
        /// `title`.
        title: Option<String>,
        /// `detail`.
        detail: Option<String>,
    },
    /// Anything else, kept as received (redacted).
    Raw(String),
}

/// One member of an `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorItem {
    /// `status`, whether it was sent as a string or as a number.
    pub status: Option<String>,
    /// `code`, whether it was sent as a string or as a number.
    pub code: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `detail`.
    pub detail: Option<String>,
}

/// A token endpoint's refusal, with what is needed to understand it: the
/// status, the headers and the body as received, token values redacted.
#[derive(Debug, Clone)]
pub struct ProviderError {
    /// HTTP status (200 or 201 when the provider put an error in a success).
    pub status: u16,
    /// The error as the provider expressed it.
    pub body: ErrorBody,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
    /// Every response header, values of credential-bearing ones (such as
    /// `set-cookie`) redacted.
    pub headers: Vec<(String, String)>,
    /// The whole body as received, token values redacted.
    pub redacted_body: String,
}

impl ProviderError {
    /// The RFC 6749 error code, when the provider stated one.
    pub fn code(&self) -> Option<&str> {
        match &self.body {
            ErrorBody::Rfc6749 { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the provider said the grant itself is invalid: RFC 6749's
    /// `invalid_grant`, or an `errors` array or problem that names it.
    pub fn is_invalid_grant(&self) -> bool {
        let names = |text: &Option<String>| {
            text.as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("invalid_grant"))
        };
        match &self.body {
            ErrorBody::Rfc6749 { error, .. } => error == "invalid_grant",
            ErrorBody::ErrorsArray(items) => items
                .iter()
                .any(|item| names(&item.code) || names(&item.title) || names(&item.detail)),
            ErrorBody::Problem {
                problem_type,
                title,
                detail,
            } => names(problem_type) || names(title) || names(detail),
            ErrorBody::Raw(raw) => raw.contains("invalid_grant"),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}: ", self.status)?;
        match &self.body {
            ErrorBody::Rfc6749 {
                error, description, ..
            } => {
                write!(f, "{error}")?;
                if let Some(description) = description {
                    write!(f, " ({description})")?;
                }
                Ok(())
            }
            ErrorBody::ErrorsArray(items) => {
                let shown: Vec<String> = items
                    .iter()
                    .map(|item| {
                        let text = [&item.title, &item.detail]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(": ");
                        let ids = [
                            item.status.as_ref().map(|s| format!("status {s}")),
                            item.code.as_ref().map(|c| format!("code {c}")),
                        ]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(", ");
                        match (text.is_empty(), ids.is_empty()) {
                            (false, false) => format!("{text} ({ids})"),
                            (false, true) => text,
                            (true, _) => ids,
                        }
                    })
                    .collect();
                write!(f, "{}", shown.join("; "))
            }
            ErrorBody::Problem { title, detail, .. } => write!(
                f,
                "{}",
                [title, detail]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(": ")
            ),
            ErrorBody::Raw(raw) => write!(f, "{raw}"),
        }
    }
}

/// Why a response did not yield a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResponseError {
    /// The provider refused (boxed: the refusal carries its headers and
    /// body, and would make every `Result` carrying this error large).
    #[error("token endpoint refused: {0}")]
    Refused(Box<ProviderError>),
    /// The provider answered something that is not a usable token response.
    #[error(
        "token endpoint answered HTTP {status} that is not a usable token response: {reason}; body: {body}"
    )]
    Malformed {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
        /// The body, redacted.
        body: String,
        /// The response headers, credential-bearing values redacted.
        headers: Vec<(String, String)>,
    },
}

/// Interprets a token endpoint's response per `profile`, with `now` as the
/// time of receipt.
///
/// - Success is 200 or 201, with a JSON body (or a form-urlencoded one, as
///   some providers answer by default); any other status is a refusal.
/// - A success whose body carries an `error` member or a non-empty `errors`
///   array is a refusal too.
/// - The token object is found at the profile's envelope (a JSON pointer
///   such as `/data`); when the pointer finds nothing but the top level is
///   itself a token object, the top level is used, since providers document
///   envelopes they do not always send.
/// - `token_type` is compared case-insensitively; a missing one follows the
///   profile's [`MissingTokenType`] policy.
/// - Expiry comes from `expires_in` (a number or a numeric string), the
///   absolute `expires` (epoch seconds), either per the profile's
///   [`ExpiryStyle`], or else the profile's default lifetime.
/// - `scope` may be a space-delimited string or an array.
/// - Errors are read as RFC 6749 `error`, an `errors` array (`status` as a
///   string or a number), `application/problem+json`, or kept raw, redacted.
pub fn parse_response(
    profile: &ProviderProfile,
    response: &HttpResponse,
    now: SystemTime,
) -> Result<Token, ResponseError> {
    let malformed = |reason: String| ResponseError::Malformed {
        status: response.status,
        reason,
        body: response.redacted_body(),
        headers: response.redacted_headers(),
    };
    let shape = &profile.response;
    let document = response.document(shape.encoding);
    let success = matches!(response.status, 200 | 201);

    if !success {
        return Err(ResponseError::Refused(Box::new(parse_error(
            response,
            document.as_ref(),
        ))));
    }
    let Some(json) = document else {
        return Err(malformed("the body is not JSON".into()));
    };
    if carries_error(&json) {
        return Err(ResponseError::Refused(Box::new(parse_error(
            response,
            Some(&json),
        ))));
    }

    let member = |rfc_name| shape.members.name(rfc_name);
    let object = match &shape.envelope {
        Some(pointer) => match json.pointer(pointer) {
            Some(object) => object,
            None if json.get(member("access_token")).is_some() => &json,
            None => {
                return Err(malformed(format!(
                    "no token object at envelope `{pointer}`"
                )));
            }
        },
        None => &json,
    };
    if carries_error(object) {
        return Err(ResponseError::Refused(Box::new(parse_error(
            response,
            Some(object),
        ))));
    }
    let Some(object) = object.as_object() else {
        return Err(malformed("the token response is not a JSON object".into()));
    };

    let (access_name, type_name) = (member("access_token"), member("token_type"));
    let access_token = match object.get(access_name) {
        Some(Value::String(token)) if !token.is_empty() => SecretString::from(token.clone()),
        Some(_) => {
            return Err(malformed(format!(
                "`{access_name}` is not a non-empty string"
            )));
        }
        None => return Err(malformed(format!("`{access_name}` is missing"))),
    };
    let token_type = match (object.get(type_name), shape.missing_token_type) {
        (Some(Value::String(kind)), _) if !kind.trim().is_empty() => {
            TokenType::parse_with_aliases(kind.trim(), &shape.bearer_aliases)
        }
        (None | Some(Value::Null), MissingTokenType::AssumeBearer) => TokenType::Bearer,
        (Some(Value::String(_)), MissingTokenType::AssumeBearer) => TokenType::Bearer,
        (None | Some(Value::Null), MissingTokenType::Reject) => {
            return Err(malformed(format!("`{type_name}` is missing")));
        }
        (Some(Value::String(_)), MissingTokenType::Reject) => {
            return Err(malformed(format!("`{type_name}` is empty")));
        }
        (Some(_), _) => return Err(malformed(format!("`{type_name}` is not a string"))),
    };

    let (in_name, expires_name) = (member("expires_in"), member("expires"));
    let expires_in = seconds(object.get(in_name))
        .map_err(|kind| malformed(format!("`{in_name}` is {kind}, not a number of seconds")))?;
    let expires = seconds(object.get(expires_name))
        .map_err(|kind| malformed(format!("`{expires_name}` is {kind}, not a number")))?;
    let from_now = |seconds: u64| match (seconds, shape.zero_lifetime) {
        (0, ZeroLifetime::Never) => None,
        _ => Some(now + Duration::from_secs(seconds)),
    };
    let since_epoch = |seconds: u64| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(seconds));
    let relative = expires_in.map(from_now);
    let expires_at = match shape.expiry {
        ExpiryStyle::ExpiresIn | ExpiryStyle::Both => relative.or(expires.map(since_epoch)),
        ExpiryStyle::Expires => expires.map(since_epoch).or(relative),
        ExpiryStyle::ExpiresRelative => expires.map(from_now).or(relative),
        ExpiryStyle::None => None,
    }
    .unwrap_or_else(|| Some(now + Duration::from_secs(shape.default_lifetime)));

    let refresh_token = match object.get(member("refresh_token")) {
        Some(Value::String(token)) if !token.is_empty() => Some(SecretString::from(token.clone())),
        _ => None,
    };
    let scope = object.get(member("scope")).and_then(scope_values);
    let issued_token_type = object
        .get("issued_token_type")
        .and_then(Value::as_str)
        .map(str::to_owned);

    Ok(Token {
        access_token,
        token_type,
        expires_at,
        refresh_token,
        scope,
        issued_token_type,
    })
}

/// Whether a success body is really an error: an `error` member that is not
/// null, or a non-empty `errors` array.
fn carries_error(json: &Value) -> bool {
    let error = json.get("error").is_some_and(|e| !e.is_null());
    let errors = json
        .get("errors")
        .and_then(Value::as_array)
        .is_some_and(|items| !items.is_empty());
    error || errors
}

/// The scopes a response's `scope` member states: a space-delimited string
/// (RFC 6749 §3.3) or, as some providers send it, an array of strings.
/// `None` when the member is neither.
pub fn scope_values(scope: &Value) -> Option<Vec<String>> {
    match scope {
        Value::String(s) => Some(s.split_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    }
}

/// Reads a number of seconds sent as a JSON number or a numeric string.
fn seconds(value: Option<&Value>) -> Result<Option<u64>, &'static str> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or("a negative number"),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| "a non-numeric string"),
        Some(_) => Err("neither a number nor a string"),
    }
}

fn string_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Interprets an error response in whichever format it came.
fn parse_error(response: &HttpResponse, json: Option<&Value>) -> ProviderError {
    let problem_content_type = response
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    let body = match json {
        Some(json) if json.get("error").is_some_and(Value::is_string) => ErrorBody::Rfc6749 {
            error: string_of(json.get("error")).unwrap_or_default(),
            description: string_of(json.get("error_description"))
                .or_else(|| string_of(json.get("message"))),
            uri: string_of(json.get("error_uri")),
        },
        // `{"error": {"code"|"type": …, "message": …}}`, as some APIs answer.
        Some(json) if json.get("error").is_some_and(Value::is_object) => {
            let inner = json.get("error");
            let field = |name: &str| string_of(inner.and_then(|e| e.get(name)));
            match field("code").or_else(|| field("type")) {
                Some(error) => ErrorBody::Rfc6749 {
                    error,
                    description: field("message").or_else(|| field("description")),
                    uri: None,
                },
                None => ErrorBody::Raw(response.redacted_body()),
            }
        }
        Some(json) if json.get("errors").is_some_and(Value::is_array) => ErrorBody::ErrorsArray(
            json.get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                // Fitbit names the code `errorType` and the detail `message`.
                .map(|item| ErrorItem {
                    status: string_of(item.get("status")),
                    code: string_of(item.get("code")).or_else(|| string_of(item.get("errorType"))),
                    title: string_of(item.get("title")),
                    detail: string_of(item.get("detail"))
                        .or_else(|| string_of(item.get("message"))),
                })
                .collect(),
        ),
        Some(json)
            if json.is_object() && problem_content_type
                || json.get("title").is_some() && json.get("type").is_some() =>
        {
            ErrorBody::Problem {
                problem_type: string_of(json.get("type")),
                title: string_of(json.get("title")),
                detail: string_of(json.get("detail")),
            }
        }
        _ => ErrorBody::Raw(response.redacted_body()),
    };
    ProviderError {
        status: response.status,
        body,
        www_authenticate: response.header("www-authenticate").map(str::to_owned),
        headers: response.redacted_headers(),
        redacted_body: response.redacted_body(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_members_are_redacted_in_every_spelling_providers_use() {
        let response = HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: br#"{"accessToken":"a-canary","refresh-token":"r-canary","data":{"ACCESS_TOKEN":"b-canary"},"expiresIn":60}"#
                .to_vec(),
        };
        let shown = response.redacted_body();
        assert!(!shown.contains("canary"), "{shown}");
        assert!(shown.contains(r#""expiresIn":60"#), "{shown}");
    }
}
