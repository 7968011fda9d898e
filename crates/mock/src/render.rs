//! Errors with an RFC 6749 §5.2 meaning, rendered in each provider's format.

use axum::http::header::{ALLOW, WWW_AUTHENTICATE};
use grantspec_spec::{ErrorItemShape, GrantKind, MockSeed};
use grantspec_token::{ErrorFormat, ProviderProfile, ResponseEncoding};
use serde_json::{Value, json};

use crate::emulator::{MockResponse, answer_content_type, with_cache_headers};

/// An OAuth error the emulator raises: its RFC 6749 code, the HTTP status it
/// implies, a description, and league/oauth2-server's numeric code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// RFC 6749 §5.2 error code.
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Human-readable description.
    pub description: String,
    /// league/oauth2-server's numeric code (Shopware shows it).
    pub league_code: u8,
    /// The method to advertise in `Allow`, for a wrong method.
    pub allow: Option<&'static str>,
}

impl OAuthError {
    pub(crate) fn new(code: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            status,
            description: description.into(),
            league_code: 0,
            allow: None,
        }
    }

    /// Sets league/oauth2-server's numeric code.
    pub fn league(mut self, code: u8) -> Self {
        self.league_code = code;
        self
    }

    /// `invalid_request`.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, description)
    }

    /// `invalid_client`.
    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new("invalid_client", 401, description)
    }

    /// `invalid_grant`.
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", 400, description)
    }

    /// `invalid_scope`.
    pub fn invalid_scope(scope: &str) -> Self {
        Self::new(
            "invalid_scope",
            400,
            format!("The requested scope `{scope}` is invalid, unknown, or not allowed."),
        )
    }

    /// `unauthorized_client`.
    pub fn unauthorized_client(client_id: &str, grant: GrantKind) -> Self {
        Self::new(
            "unauthorized_client",
            400,
            format!("Client `{client_id}` may not use the {grant} grant."),
        )
    }

    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        Self::new(
            "unsupported_grant_type",
            400,
            format!("The authorization grant type `{grant_type}` is not supported by this server."),
        )
    }

    /// A request body over the size limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            "invalid_request",
            413,
            format!("The request body exceeds {limit} bytes."),
        )
    }

    /// A request body that could not be read (malformed chunked encoding).
    pub fn unreadable_body() -> Self {
        Self::new(
            "invalid_request",
            400,
            "The request body could not be read: its chunked encoding is malformed or it is incomplete.",
        )
        .league(3)
    }

    /// A request body that did not arrive in time.
    pub fn request_timeout() -> Self {
        Self::new(
            "invalid_request",
            408,
            "The request body did not arrive in time.",
        )
    }

    /// A request with the wrong HTTP method.
    pub fn method_not_allowed(method: &str, allowed: &'static str) -> Self {
        let mut error = Self::new(
            "invalid_request",
            405,
            format!("Method {method} is not allowed; the token endpoint accepts {allowed}."),
        );
        error.allow = Some(allowed);
        error
    }
}

/// Renders `error` as the provider would, in `encoding` (the profile's, or
/// JSON where the provider negotiates it), with `WWW-Authenticate` when the
/// client used Basic and failed to authenticate (RFC 6749 §5.2).
pub fn render_error(
    provider_id: &str,
    profile: &ProviderProfile,
    seed: &MockSeed,
    error: &OAuthError,
    encoding: ResponseEncoding,
    basic_used: bool,
) -> MockResponse {
    let reason = reason_phrase(error.status);
    // Some providers answer errors with a success status (Slack, GitHub).
    let status = seed.error_status.unwrap_or(error.status);
    // The provider's own code for the RFC 6749 meaning, when it has one.
    let code = seed
        .error_codes
        .get(error.code)
        .map_or(error.code, String::as_str);
    let content_type = answer_content_type(encoding, seed);
    let with_members = |mut body: serde_json::Map<String, Value>| {
        for (name, value) in &seed.error_members {
            body.insert(name.clone(), value.to_json(None));
        }
        body
    };
    let mut response = match profile.errors {
        ErrorFormat::Rfc6749 => {
            let mut body = serde_json::Map::new();
            body.insert("error".into(), Value::from(code));
            body.insert(
                "error_description".into(),
                Value::from(error.description.as_str()),
            );
            let body = with_members(body);
            match encoding {
                ResponseEncoding::Json => {
                    MockResponse::json(status, content_type, &Value::Object(body))
                }
                ResponseEncoding::Form => MockResponse::form(status, content_type, &body),
            }
        }
        ErrorFormat::ErrorsArray => {
            let mut item = serde_json::Map::new();
            let mut body = serde_json::Map::new();
            match seed.error_items.shape {
                ErrorItemShape::JsonApi => {
                    let item_status = if seed.error_items.numeric_status {
                        Value::from(error.status)
                    } else {
                        Value::from(error.status.to_string())
                    };
                    if seed.error_items.league_codes && error.league_code != 0 {
                        item.insert("code".into(), Value::from(error.league_code.to_string()));
                    }
                    item.insert("status".into(), item_status);
                    item.insert("title".into(), Value::from(reason));
                    item.insert("detail".into(), Value::from(error.description.as_str()));
                    body.insert("errors".into(), Value::from(vec![Value::Object(item)]));
                }
                ErrorItemShape::ErrorType => {
                    item.insert("errorType".into(), Value::from(code));
                    item.insert("message".into(), Value::from(error.description.as_str()));
                    body.insert("errors".into(), Value::from(vec![Value::Object(item)]));
                    body.insert("success".into(), Value::from(false));
                }
            }
            MockResponse::json(status, content_type, &Value::Object(with_members(body)))
        }
        ErrorFormat::Problem => MockResponse::json(
            status,
            "application/problem+json",
            &json!({
                "type": format!("urn:ietf:params:oauth:error:{code}"),
                "title": reason,
                "status": error.status,
                "detail": error.description,
            }),
        ),
    };
    if let Some(allow) = error.allow {
        response = response.with_header(ALLOW, allow);
    }
    if error.code == "invalid_client" && basic_used {
        response = response.with_header(
            WWW_AUTHENTICATE,
            format!("Basic realm=\"{provider_id}\", charset=\"UTF-8\""),
        );
    }
    with_cache_headers(response, seed)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        _ => "Error",
    }
}
