//! Reading requests: parameters wherever they travel (query, form, JSON),
//! headers, media types, `Authorization: Basic` credentials and parameter
//! names.

use std::borrow::Cow;

use base64::Engine as _;
use grantspec_token::{Body, HttpRequest, JsonField, SECRET_PARAMS};
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Query,
    Body,
}

/// One parameter occurrence, borrowed from the request where it can be.
/// Values are read in memory only, never shown.
pub(crate) struct Param<'r> {
    pub(crate) name: Cow<'r, str>,
    pub(crate) values: Vec<Cow<'r, str>>,
    pub(crate) place: Place,
}

impl Param<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.values.iter().all(|value| value.is_empty())
    }

    pub(crate) fn first_value(&self) -> Option<&str> {
        self.values.first().map(AsRef::as_ref)
    }
}

pub(crate) fn request_params(request: &HttpRequest) -> Vec<Param<'_>> {
    let mut params: Vec<Param<'_>> = request
        .url
        .query_pairs()
        .map(|(name, value)| Param {
            name,
            values: vec![value],
            place: Place::Query,
        })
        .chain(request.query.iter().map(|(name, value)| Param {
            name: Cow::Borrowed(name),
            values: vec![Cow::Borrowed(value.expose())],
            place: Place::Query,
        }))
        .collect();
    pub(crate) fn body<'r>(name: Cow<'r, str>, values: Vec<Cow<'r, str>>) -> Param<'r> {
        Param {
            name,
            values,
            place: Place::Body,
        }
    }
    match &request.body {
        Some(Body::Form(pairs)) => {
            params.extend(pairs.iter().map(|(name, value)| {
                body(Cow::Borrowed(name), vec![Cow::Borrowed(value.expose())])
            }));
        }
        Some(Body::Json(fields)) => {
            params.extend(fields.iter().map(|(name, field)| {
                match field {
                    JsonField::Text(text) => {
                        body(Cow::Borrowed(name), vec![Cow::Borrowed(text.expose())])
                    }
                    JsonField::Array(items) => body(
                        Cow::Borrowed(name),
                        items
                            .iter()
                            .map(|item| Cow::Borrowed(item.as_str()))
                            .collect(),
                    ),
                }
            }));
        }
        Some(Body::Raw {
            content_type,
            bytes,
        }) => match &*media_type(content_type.as_deref()) {
            "application/x-www-form-urlencoded" => params.extend(
                url::form_urlencoded::parse(bytes).map(|(name, value)| body(name, vec![value])),
            ),
            ct if is_json_media_type(ct) => {
                if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) {
                    params.extend(map.iter().map(|(name, value)| {
                        let values = match value {
                            Value::Array(items) => {
                                items.iter().map(|item| json_text(item).into()).collect()
                            }
                            other => vec![json_text(other).into()],
                        };
                        body(Cow::Owned(name.clone()), values)
                    }));
                }
            }
            _ => {}
        },
        None => {}
    }
    params
}

pub(crate) fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The media type of a Content-Type value, lower case, without parameters;
/// borrowed unless it has to be lowered.
pub(crate) fn media_type(content_type: Option<&str>) -> Cow<'_, str> {
    let media = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if media.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(media.to_ascii_lowercase())
    } else {
        Cow::Borrowed(media)
    }
}

pub(crate) fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The values of request headers named `name`, exposed in memory only.
pub(crate) fn request_headers<'r>(
    request: &'r HttpRequest,
    name: &'r str,
) -> impl Iterator<Item = &'r str> {
    request
        .headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.expose())
}

/// Whether the request's Accept header leaves out application/json: no media
/// range of it (`application/json`, `application/*`, `*/*`) has a weight
/// above zero. No Accept header accepts anything.
pub(crate) fn refuses_json(request: &HttpRequest) -> bool {
    let mut headers = request_headers(request, "accept").peekable();
    if headers.peek().is_none() {
        return false;
    }
    !headers.flat_map(|value| value.split(',')).any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let zero = parts.any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("q")
                    && value.trim().parse::<f64>().is_ok_and(|q| q <= 0.0)
            })
        });
        !zero
            && ["application/json", "application/*", "*/*"]
                .iter()
                .any(|m| m.eq_ignore_ascii_case(media))
    })
}

/// Splits `Scheme rest`; the scheme is whatever comes before the first space.
pub(crate) fn split_scheme(value: &str) -> (&str, &str) {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) => (scheme, rest.trim()),
        None => (value, ""),
    }
}

/// Schemes that may be named in a detail; anything else may be a token sent
/// without a scheme and is never shown.
pub(crate) const SHOWABLE_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "dpop",
    "token",
    "mac",
    "jwt",
    "oauth",
    "digest",
    "negotiate",
];

pub(crate) fn shown_scheme(scheme: &str) -> String {
    if SHOWABLE_SCHEMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        format!("`{scheme}`")
    } else {
        "no recognised scheme".to_owned()
    }
}

/// Decoded `Authorization: Basic` credentials: `id:secret`, split at `colon`.
pub(crate) struct BasicCredentials {
    pub(crate) decoded: String,
    pub(crate) colon: usize,
}

impl BasicCredentials {
    pub(crate) fn id(&self) -> &str {
        &self.decoded[..self.colon]
    }

    pub(crate) fn secret(&self) -> &str {
        &self.decoded[self.colon + 1..]
    }
}

/// The decoded `Authorization: Basic` credentials: `None` without such a
/// header, `Err` with why the header cannot be read.
pub(crate) fn basic_credentials(
    request: &HttpRequest,
) -> Option<Result<BasicCredentials, &'static str>> {
    let value = request_headers(request, "authorization")
        .find(|value| split_scheme(value).0.eq_ignore_ascii_case("basic"))?;
    let encoded = split_scheme(value).1;
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Some(Err("the Basic credentials are not valid base64"));
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Some(Err(
            "the Basic credentials are not UTF-8, so they were not form-encoded",
        ));
    };
    match decoded.find(':') {
        Some(colon) => Some(Ok(BasicCredentials { decoded, colon })),
        None => Some(Err(
            "the Basic credentials have no `:` between id and secret",
        )),
    }
}

/// Whether `text` could be the output of application/x-www-form-urlencoded:
/// only unreserved bytes, `+`, and `%` followed by two hex digits.
pub(crate) fn looks_form_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' | b'+' => i += 1,
            b'%' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                i += 3;
            }
            _ => return false,
        }
    }
    true
}

/// Parameters whose values are credentials and must never be in a URL.
pub(crate) fn is_credential_name(name: &str) -> bool {
    name == "access_token" || SECRET_PARAMS.contains(&name)
}

/// Lower case, without `_`, `-` and a trailing `[]`: how a renamed parameter
/// is recognised.
pub(crate) fn normalized_name(name: &str) -> impl Iterator<Item = char> + Clone + '_ {
    name.trim_end_matches("[]")
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
}

/// Whether `name`, normalized, is `normalized` (itself already normalized).
pub(crate) fn normalizes_to(name: &str, normalized: &str) -> bool {
    if name.is_ascii() {
        // What `normalized_name` does, byte by byte.
        name.trim_end_matches("[]")
            .bytes()
            .filter(|b| *b != b'_' && *b != b'-')
            .map(|b| b.to_ascii_lowercase())
            .eq(normalized.bytes())
    } else {
        normalized_name(name).eq(normalized.chars())
    }
}

/// Whether `name` is a way of spelling the scope parameter.
pub(crate) fn names_scope(name: &str) -> bool {
    normalizes_to(name, "scope") || normalizes_to(name, "scopes")
}

pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

#[cfg(test)]
mod tests {
    use grantspec_token::{ExposeSecret, basic_authorization};

    use super::*;

    #[test]
    fn basic_authorization_of_the_token_crate_is_judged_form_encoded() {
        let header = basic_authorization("sp client", "SECRET p@ss:w/rd+%");
        let encoded = header.expose_secret().trim_start_matches("Basic ");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let decoded = String::from_utf8(decoded).unwrap();
        let (id, secret) = decoded.split_once(':').unwrap();
        assert!(looks_form_encoded(id) && looks_form_encoded(secret));
        assert!(!looks_form_encoded("p@ss") && !looks_form_encoded("100%"));
    }
}
