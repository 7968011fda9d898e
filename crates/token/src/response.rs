//! Parsing token responses, successful or not, in each provider's dialect.

use std::fmt;
use std::time::{Duration, SystemTime};

use secrecy::SecretString;
use serde_json::Value;

use crate::profile::{ExpiryStyle, MissingTokenType, ProviderProfile};
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
    /// the text itself when it is not JSON.
    pub fn redacted_body(&self) -> String {
        match self.json() {
            Some(mut json) => {
                redact_tokens(&mut json);
                json.to_string()
            }
            None => String::from_utf8_lossy(&self.body).into_owned(),
        }
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &self.redacted_body())
            .finish()
    }
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
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if TOKEN_MEMBERS.contains(&key.as_str()) && member.is_string() {
                    *member = Value::from(REDACTED);
                } else {
                    redact_tokens(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_tokens),
        _ => {}
    }
}

/// The type of an access token (RFC 6749 §7.1), compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenType {
    /// RFC 6750 bearer token, whatever its spelling on the wire.
    Bearer,
    /// Any other type, as received.
    Other(String),
}

impl TokenType {
    /// Interprets a `token_type` value.
    pub fn parse(value: &str) -> Self {
        if value.eq_ignore_ascii_case("bearer") {
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
    /// When it expires, by the clock that was current when it was received.
    pub expires_at: SystemTime,
    /// The refresh token, if one was issued.
    pub refresh_token: Option<SecretString>,
    /// The granted scope, if the response stated it.
    pub scope: Option<Vec<String>>,
}

impl Token {
    /// Whether the token expires within `skew` of `now`.
    pub fn expires_within(&self, now: SystemTime, skew: Duration) -> bool {
        now + skew >= self.expires_at
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

/// A token endpoint's refusal, with what is needed to understand it.
#[derive(Debug, Clone)]
pub struct ProviderError {
    /// HTTP status.
    pub status: u16,
    /// The error as the provider expressed it.
    pub body: ErrorBody,
    /// The `WWW-Authenticate` header, if any.
    pub www_authenticate: Option<String>,
}

impl ProviderError {
    /// The RFC 6749 error code, when the provider stated one.
    pub fn code(&self) -> Option<&str> {
        match &self.body {
            ErrorBody::Rfc6749 { error, .. } => Some(error),
            _ => None,
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
                        [&item.title, &item.detail]
                            .into_iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(": ")
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
#[derive(Debug, thiserror::Error)]
pub enum ResponseError {
    /// The provider refused.
    #[error("token endpoint refused: {0}")]
    Refused(ProviderError),
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
    },
}

/// Interprets a token endpoint's response per `profile`, with `now` as the
/// time of receipt.
pub fn parse_response(
    profile: &ProviderProfile,
    response: &HttpResponse,
    now: SystemTime,
) -> Result<Token, ResponseError> {
    let malformed = |reason: String| ResponseError::Malformed {
        status: response.status,
        reason,
        body: response.redacted_body(),
    };
    let json = response.json();
    let success = matches!(response.status, 200 | 201);

    if !success {
        return Err(ResponseError::Refused(parse_error(response, json.as_ref())));
    }
    let Some(json) = json else {
        return Err(malformed("the body is not JSON".into()));
    };
    if json.get("error").is_some() || json.get("errors").is_some() {
        return Err(ResponseError::Refused(parse_error(response, Some(&json))));
    }

    let shape = &profile.response;
    let object = match &shape.envelope {
        Some(pointer) => json
            .pointer(pointer)
            .ok_or_else(|| malformed(format!("no token object at envelope `{pointer}`")))?,
        None => &json,
    };
    let Some(object) = object.as_object() else {
        return Err(malformed("the token response is not a JSON object".into()));
    };

    let access_token = match object.get("access_token") {
        Some(Value::String(token)) if !token.is_empty() => SecretString::from(token.clone()),
        Some(_) => return Err(malformed("`access_token` is not a non-empty string".into())),
        None => return Err(malformed("`access_token` is missing".into())),
    };
    let token_type = match (object.get("token_type"), shape.missing_token_type) {
        (Some(Value::String(kind)), _) => TokenType::parse(kind),
        (None, MissingTokenType::AssumeBearer) => TokenType::Bearer,
        (None, MissingTokenType::Reject) => {
            return Err(malformed("`token_type` is missing".into()));
        }
        (Some(_), _) => return Err(malformed("`token_type` is not a string".into())),
    };

    let expires_in = seconds(object.get("expires_in"))
        .map_err(|kind| malformed(format!("`expires_in` is {kind}, not a number of seconds")))?;
    let expires = seconds(object.get("expires"))
        .map_err(|kind| malformed(format!("`expires` is {kind}, not epoch seconds")))?;
    let relative = expires_in.map(|s| now + Duration::from_secs(s));
    let absolute = expires.map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
    let fallback = now + Duration::from_secs(shape.default_lifetime);
    let expires_at = match shape.expiry {
        ExpiryStyle::ExpiresIn | ExpiryStyle::Both => relative.or(absolute),
        ExpiryStyle::Expires => absolute.or(relative),
        ExpiryStyle::None => None,
    }
    .unwrap_or(fallback);

    let refresh_token = match object.get("refresh_token") {
        Some(Value::String(token)) if !token.is_empty() => Some(SecretString::from(token.clone())),
        _ => None,
    };
    let scope = match object.get("scope") {
        Some(Value::String(s)) => Some(s.split_whitespace().map(str::to_owned).collect()),
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };

    Ok(Token {
        access_token,
        token_type,
        expires_at,
        refresh_token,
        scope,
    })
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
    let body = match json {
        Some(json) if json.get("error").is_some_and(Value::is_string) => ErrorBody::Rfc6749 {
            error: string_of(json.get("error")).unwrap_or_default(),
            description: string_of(json.get("error_description")),
            uri: string_of(json.get("error_uri")),
        },
        Some(json) if json.get("errors").is_some_and(Value::is_array) => ErrorBody::ErrorsArray(
            json.get("errors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|item| ErrorItem {
                    status: string_of(item.get("status")),
                    code: string_of(item.get("code")),
                    title: string_of(item.get("title")),
                    detail: string_of(item.get("detail")),
                })
                .collect(),
        ),
        Some(json)
            if response
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/problem+json"))
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
    }
}
