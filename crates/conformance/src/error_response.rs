//! The error response (RFC 6749 §5.2): status, media type, format, error codes,
//! the syntax of its texts, and the Basic challenge.

use std::sync::OnceLock;

use serde_json::Value;

use crate::challenge::{challenges, schemes};
use crate::ctx::{Ctx, content_type_is_json, error_json};
use crate::syntax::{first_outside, is_nqchar, is_nqschar};
use crate::token_view::{Class, json_kind};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

const REGISTERED_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    // RFC 8628 (device authorization grant).
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    // RFC 8707 (resource indicators).
    "invalid_target",
    // RFC 9396 (rich authorization requests).
    "invalid_authorization_details",
    // RFC 9449 (DPoP).
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

pub(crate) const ERROR_STATUS: Check = Check {
    id: "RFC6749-5.2-status",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response is HTTP 400, or 401 for invalid_client",
    looks_at: "token error responses: the status; 404 or 405 to a method other than POST, 413 and 429 pass as HTTP semantics, 5xx is a server failure (not applicable), a 2xx carrying an error fails",
    deviation: "error-status",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: error_status,
    },
};

fn error_status(cx: &Ctx<'_>) -> Judged {
    let status = cx.status();
    match cx.class {
        Class::Success => Judged::NotApplicable(cx.say(|| format!("a success (HTTP {status})"))),
        Class::ServerError => Judged::NotApplicable(
            cx.say(|| format!("HTTP {status} is a server failure, not a §5.2 error response")),
        ),
        Class::HttpSemantics => Judged::Pass(cx.say(|| {
            format!(
                "HTTP {status}: HTTP semantics ({}), not an OAuth error",
                match status {
                    404 | 405 => "a method other than POST",
                    413 => "content too large",
                    _ => "too many requests",
                }
            )
        })),
        Class::Error => match (status, cx.error_code()) {
            (400, _) => Judged::Pass("HTTP 400".into()),
            (401, Some(code)) if code != "invalid_client" => Judged::Violated(
                format!("HTTP 401 for `{code}`; 401 is for invalid_client only, the rest is 400")
                    .into(),
            ),
            (401, Some(_)) => Judged::Pass("HTTP 401 for invalid_client".into()),
            (401, None) => Judged::Pass("HTTP 401 (a client authentication failure)".into()),
            (200..=299, _) => {
                Judged::Violated(format!("an error answered with HTTP {status}").into())
            }
            _ => Judged::Violated(
                format!("HTTP {status}; §5.2 errors are 400, or 401 for invalid_client").into(),
            ),
        },
    }
}

pub(crate) const ERROR_CONTENT_TYPE: Check = Check {
    id: "RFC6749-5.2-content-type",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response is application/json",
    looks_at: "token error responses that are not problem details: the Content-Type media type",
    deviation: "non-json-error-response",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: error_content_type,
    },
};

fn error_content_type(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    if cx.is_problem() {
        return Judged::NotApplicable("problem details (their own check)".into());
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    content_type_is_json(cx)
}

pub(crate) const ERROR_MEMBER: Check = Check {
    id: "RFC6749-5.2-error-member",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response has a top-level string `error`",
    looks_at: "token error responses that are neither an `errors` array nor problem details: the error member (a form-encoded error that carries `error` is for RFC6749-5.2-content-type alone)",
    deviation: "missing-error-member",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: error_member,
    },
};

fn error_member(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    if cx.is_errors_array() {
        return Judged::NotApplicable("an `errors` array (its own check)".into());
    }
    if cx.is_problem() {
        return Judged::NotApplicable("problem details (their own check)".into());
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    match json {
        None if cx.form_carries("error") => Judged::NotApplicable(
            "the body is form-encoded, which RFC6749-5.2-content-type reports; it carries `error`"
                .into(),
        ),
        None => Judged::Violated("the body is not JSON".into()),
        Some(json) => match json.get("error") {
            Some(Value::String(_)) => Judged::Pass("a string `error`".into()),
            Some(other) => Judged::Violated(format!("`error` is {}", json_kind(other)).into()),
            None if json.is_object() => Judged::Violated("no `error` member".into()),
            None => Judged::Violated(format!("the body is {}", json_kind(json)).into()),
        },
    }
}

pub(crate) const NO_ERRORS_ARRAY: Check = Check {
    id: "RFC6749-5.2-no-errors-array",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "Errors are not a JSON:API-style `errors` array",
    looks_at: "token error responses: an `errors` array with no top-level string `error`",
    deviation: "errors-array",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: no_errors_array,
    },
};

fn no_errors_array(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    if cx.is_errors_array() {
        let count = json
            .and_then(|j| j.get("errors"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        Judged::Violated(
            format!(
                "an `errors` array ({count} item{}) instead of `error`",
                if count == 1 { "" } else { "s" }
            )
            .into(),
        )
    } else {
        Judged::Pass("no `errors` array in place of `error`".into())
    }
}

pub(crate) const NO_PROBLEM_DETAILS: Check = Check {
    id: "RFC6749-5.2-no-problem-details",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "Errors are not RFC 9457 problem details",
    looks_at: "token error responses: Content-Type application/problem+json, or `type` and `title` members with no string `error`",
    deviation: "problem-details",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: no_problem_details,
    },
};

fn no_problem_details(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    if cx.is_problem() {
        Judged::Violated(
            format!(
                "problem details (Content-Type {}) instead of an `error` member",
                cx.facts.response.header("content-type").unwrap_or("absent")
            )
            .into(),
        )
    } else {
        Judged::Pass("not problem details".into())
    }
}

pub(crate) const ERROR_CODE: Check = Check {
    id: "RFC6749-5.2-error-code",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "`error` is a registered token-endpoint error code",
    looks_at: "token error responses with a string error: one of invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, or an extension registered for the token endpoint (RFC 8628, 8707, 9396, 9449)",
    deviation: "unregistered-error-code",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: error_code,
    },
};

fn error_code(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    match cx.error_code() {
        None => Judged::NotApplicable("no string `error`".into()),
        Some(code) if REGISTERED_ERRORS.contains(&code) => {
            Judged::Pass(cx.say(|| format!("`{code}`")))
        }
        Some(code) => Judged::Violated(
            format!(
                "`{}` is not a registered token-endpoint error code",
                code.escape_debug()
            )
            .into(),
        ),
    }
}

pub(crate) const ERROR_TEXT_SYNTAX: Check = Check {
    id: "RFC6749-5.2-error-text-syntax",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "`error`, `error_description` and `error_uri` keep to their character sets",
    looks_at: "token error responses with a string error: error and error_description use %x20-21 / %x23-5B / %x5D-7E; error_uri is a URI-reference (relative ones included) of %x21 / %x23-5B / %x5D-7E",
    deviation: "error-member-syntax",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: error_text_syntax,
    },
};

fn error_text_syntax(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    let Some(code) = cx.error_code() else {
        return Judged::NotApplicable("no string `error`".into());
    };
    let mut problems = Vec::new();
    if code.is_empty() {
        problems.push("`error` is empty".to_owned());
    } else if let Some(bad) = first_outside(code, is_nqschar) {
        problems.push(format!("`error` contains {bad}"));
    }
    let json = json.unwrap_or(&Value::Null);
    match json.get("error_description") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            if let Some(bad) = first_outside(text, is_nqschar) {
                problems.push(format!("`error_description` contains {bad}"));
            }
        }
        Some(other) => problems.push(format!("`error_description` is {}", json_kind(other))),
    }
    match json.get("error_uri") {
        None | Some(Value::Null) => {}
        Some(Value::String(uri)) => {
            if let Some(bad) = first_outside(uri, is_nqchar) {
                problems.push(format!("`error_uri` contains {bad}"));
            } else if !is_uri_reference(uri) {
                problems.push("`error_uri` is not a URI-reference".to_owned());
            }
        }
        Some(other) => problems.push(format!("`error_uri` is {}", json_kind(other))),
    }
    if problems.is_empty() {
        Judged::Pass("error, error_description and error_uri keep to their character sets".into())
    } else {
        Judged::Violated(
            format!(
                "{} (allowed: %x20-21 / %x23-5B / %x5D-7E)",
                problems.join("; ")
            )
            .into(),
        )
    }
}

/// Whether `text` is a URI-reference (RFC 3986 §4.1): an absolute URI, or a
/// relative reference that resolves against a base.
fn is_uri_reference(text: &str) -> bool {
    static BASE: OnceLock<Option<url::Url>> = OnceLock::new();
    url::Url::parse(text).is_ok()
        || BASE
            .get_or_init(|| url::Url::parse("https://base.invalid/").ok())
            .as_ref()
            .is_some_and(|base| base.join(text).is_ok())
}

pub(crate) const BASIC_CHALLENGE: Check = Check {
    id: "RFC6749-5.2-basic-challenge",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "A client that failed Basic authentication gets 401 and a Basic challenge",
    looks_at: "token error responses (401, or error invalid_client) to requests with `Authorization: Basic`: the status and the WWW-Authenticate scheme",
    deviation: "missing-basic-challenge",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: basic_challenge,
    },
};

fn basic_challenge(cx: &Ctx<'_>) -> Judged {
    if cx.basic.is_none() {
        return Judged::NotApplicable("the client did not use Basic".into());
    }
    error_json!(cx);
    let status = cx.status();
    if status != 401 && cx.error_code() != Some("invalid_client") {
        return Judged::NotApplicable(
            cx.say(|| format!("HTTP {status} is not a client authentication failure")),
        );
    }
    if status != 401 {
        return Judged::Violated(format!(
            "invalid_client with HTTP {status} to a client that used Basic; it must be 401 with a Basic challenge"
        ).into());
    }
    let challenges = challenges(cx.facts.response);
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("basic"))
    {
        Judged::Pass("HTTP 401 with a Basic challenge".into())
    } else if challenges.is_empty() {
        Judged::Violated("HTTP 401 without WWW-Authenticate to a client that used Basic".into())
    } else {
        Judged::Violated(
            format!(
                "WWW-Authenticate offers {} to a client that used Basic",
                schemes(&challenges)
            )
            .into(),
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            // §5.2: errors.
            fx(
                "conformant invalid_grant",
                vec![cc(error(
                    400,
                    json!({
                        "error": "invalid_grant",
                        "error_description": "The grant is invalid.",
                        "error_uri": "https://provider.test/docs/errors#invalid_grant",
                    }),
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", Pass),
                    ("RFC6749-5.2-error-member", Pass),
                    ("RFC6749-5.2-no-errors-array", Pass),
                    ("RFC6749-5.2-no-problem-details", Pass),
                    ("RFC6749-5.2-error-code", Pass),
                    ("RFC6749-5.2-error-text-syntax", Pass),
                    ("RFC6749-5.2-basic-challenge", NA),
                    ("RFC6749-5.1-status-200", NA),
                    ("RFC6749-5.1-no-store", NA),
                ],
            ),
            fx(
                "a form-encoded error with 200 (GitHub): the status and the media type, not every member",
                vec![cc(response(
                    200,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
                ))],
                &[
                    ("RFC6749-5.2-status", Fail),
                    ("RFC6749-5.2-content-type", Fail),
                    ("RFC6749-5.2-error-member", NA),
                    ("RFC6749-5.1-access-token", NA),
                    ("RFC6749-5.1-token-type", NA),
                    ("RFC6749-5.1-content-type", NA),
                ],
            ),
            fx(
                "401 for invalid_request",
                vec![cc(error(401, json!({ "error": "invalid_request" })))],
                &[("RFC6749-5.2-status", Fail)],
            ),
            fx(
                "401 for invalid_client",
                vec![cc(error(401, json!({ "error": "invalid_client" })))],
                &[("RFC6749-5.2-status", Pass)],
            ),
            fx(
                "404 for an error",
                vec![cc(error(404, json!({ "error": "invalid_request" })))],
                &[("RFC6749-5.2-status", Fail)],
            ),
            fx(
                "an error in a 200",
                vec![cc(error(200, json!({ "error": "invalid_grant" })))],
                &[
                    ("RFC6749-5.2-status", Fail),
                    ("RFC6749-5.1-status-200", NA),
                ],
            ),
            fx(
                "405 to a GET",
                vec![overridden(token(
                    request("GET", ENDPOINT, Vec::new(), Some(form(&[("grant_type", "client_credentials")]))),
                    response(405, &[("allow", "POST")], ""),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "404 to a GET is HTTP speaking",
                vec![overridden(token(
                    request("GET", ENDPOINT, Vec::new(), None),
                    response(404, &[("content-type", "text/plain; charset=utf-8")], "Not Found"),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "404 to a POST is an error status",
                vec![cc(response(404, &[("content-type", "text/plain")], "Not Found"))],
                &[
                    ("RFC6749-5.2-status", Fail),
                    ("RFC6749-5.2-content-type", Fail),
                ],
            ),
            fx(
                "an HTML error to a request that asked for HTML",
                vec![overridden(token(
                    {
                        let mut asks_html = post(form(&[("grant_type", "password")]));
                        asks_html.headers =
                            vec![("accept".to_owned(), Text::from("text/html, application/json;q=0"))];
                        asks_html
                    },
                    response(400, &[("content-type", "text/html; charset=utf-8")], "<h1>invalid_request</h1>"),
                    "password",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "500 is a server failure",
                vec![cc(response(500, &[("content-type", "text/html")], "<h1>oops</h1>"))],
                &[
                    ("RFC6749-5.2-status", NA),
                    ("RFC6749-5.2-content-type", NA),
                ],
            ),
            fx(
                "HTML error page",
                vec![cc(response(400, &[("content-type", "text/html")], "<h1>Bad Request</h1>"))],
                &[
                    ("RFC6749-5.2-content-type", Fail),
                    ("RFC6749-5.2-error-member", Fail),
                ],
            ),
            fx(
                "error as an object",
                vec![cc(error(400, json!({ "error": { "code": "invalid_grant" } })))],
                &[("RFC6749-5.2-error-member", Fail)],
            ),
            fx(
                "errors array",
                vec![cc(error(
                    401,
                    json!({ "errors": [{ "status": "401", "title": "Unauthorized", "detail": "bad client" }] }),
                ))],
                &[
                    ("RFC6749-5.2-no-errors-array", Fail),
                    ("RFC6749-5.2-error-member", NA),
                    ("RFC6749-5.2-status", Pass),
                ],
            ),
            fx(
                "problem details",
                vec![cc(response(
                    400,
                    &[("content-type", "application/problem+json")],
                    &json!({ "type": "urn:ietf:params:oauth:error:invalid_request", "title": "Bad Request", "status": 400 }).to_string(),
                ))],
                &[
                    ("RFC6749-5.2-no-problem-details", Fail),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "unregistered error code",
                vec![cc(error(400, json!({ "error": "bad_secret" })))],
                &[("RFC6749-5.2-error-code", Fail)],
            ),
            fx(
                "error description and uri outside their character sets",
                vec![cc(error(
                    400,
                    json!({
                        "error": "invalid_request",
                        "error_description": "Paramètre \"scope\" invalide",
                        "error_uri": "not a uri",
                    }),
                ))],
                &[("RFC6749-5.2-error-text-syntax", Fail)],
            ),
            fx(
                "relative error_uri",
                vec![cc(error(
                    400,
                    json!({ "error": "invalid_request", "error_uri": "/docs/errors#invalid_request" }),
                ))],
                &[("RFC6749-5.2-error-text-syntax", Pass)],
            ),
            fx(
                "failed Basic gets a Basic challenge",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    response(
                        401,
                        &[("content-type", "application/json"), ("www-authenticate", "Basic realm=\"provider\", charset=\"UTF-8\"")],
                        &json!({ "error": "invalid_client" }).to_string(),
                    ),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Pass)],
            ),
            fx(
                "failed Basic without a challenge",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    error(401, json!({ "error": "invalid_client" })),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Fail)],
            ),
            fx(
                "failed Basic answered 400",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    error(400, json!({ "error": "invalid_client" })),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Fail)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
