//! Reading responses: what class a token-endpoint response is (success, error,
//! server failure, HTTP semantics) and the token object of a success, envelope
//! or not.

use serde_json::{Map, Value};

/// What a token-endpoint response is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// 2xx without an error member.
    Success,
    /// An OAuth error: 4xx (other than HTTP-semantics statuses), 1xx/3xx, or
    /// a 2xx carrying `error` or `errors`.
    Error,
    /// 404 or 405 to a method other than POST (the endpoint is not routed
    /// for it), 413 or 429: HTTP speaking, not OAuth.
    HttpSemantics,
    /// 5xx: a server failure, not a §5.2 error response.
    ServerError,
}

/// The token object of a success: the top level, or the member object that
/// holds `access_token` (an envelope such as `data`).
/// The members most rules read are looked up once.
#[derive(Clone, Copy)]
pub(crate) struct TokenView<'v> {
    pub(crate) object: &'v Map<String, Value>,
    pub(crate) envelope: Option<&'v str>,
    pub(crate) access_token: Option<&'v Value>,
    pub(crate) token_type: Option<&'v Value>,
    pub(crate) expires_in: Option<&'v Value>,
    pub(crate) refresh_token: Option<&'v Value>,
    pub(crate) scope: Option<&'v Value>,
}

impl<'v> TokenView<'v> {
    /// The view of `object`, its members found in one pass: a token object
    /// has a handful of members, fewer than it takes to hash five names.
    pub(crate) fn of(object: &'v Map<String, Value>, envelope: Option<&'v str>) -> Self {
        let mut view = Self {
            object,
            envelope,
            access_token: None,
            token_type: None,
            expires_in: None,
            refresh_token: None,
            scope: None,
        };
        for (name, value) in object {
            let slot = match name.as_str() {
                "access_token" => &mut view.access_token,
                "token_type" => &mut view.token_type,
                "expires_in" => &mut view.expires_in,
                "refresh_token" => &mut view.refresh_token,
                "scope" => &mut view.scope,
                _ => continue,
            };
            *slot = Some(value);
        }
        view
    }

    /// Whether the object has a non-null member named as one of `names`.
    pub(crate) fn has_any(&self, names: &[&str]) -> bool {
        self.object
            .iter()
            .any(|(name, value)| !value.is_null() && names.contains(&name.as_str()))
    }
}

pub(crate) fn token_view(json: &Value) -> Option<TokenView<'_>> {
    let top = json.as_object()?;
    let view = TokenView::of(top, None);
    if view.access_token.is_some() {
        return Some(view);
    }
    for (key, member) in top {
        if let Some(inner) = member.as_object() {
            if inner.contains_key("access_token") {
                return Some(TokenView::of(inner, Some(key)));
            }
        }
    }
    Some(view)
}

pub(crate) fn carries_error(json: Option<&Value>) -> bool {
    let Some(json) = json else {
        return false;
    };
    json.get("error").is_some_and(|e| !e.is_null())
        || json
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty())
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
