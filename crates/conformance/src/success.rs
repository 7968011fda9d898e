//! The successful token response (RFC 6749 §4.4.3, §5.1, §7.1): status, media
//! type, members, expiry, scope and cache headers.

use grantspec_token::HttpResponse;
use serde_json::Value;

use crate::ctx::{Ctx, content_type_is_json, success_token};
use crate::syntax::{first_outside, is_nqchar};
use crate::token_view::{Class, json_kind};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

const REGISTERED_TOKEN_TYPES: &[&str] = &["bearer", "dpop", "n_a", "pop"];

const ABSOLUTE_EXPIRY_MEMBERS: &[&str] = &[
    "expires",
    "expires_at",
    "expires_on",
    "expiry",
    "expiration",
];

const ONE_DAY: f64 = 86_400.0;
const ONE_YEAR: f64 = 31_536_000.0;

pub(crate) const CLIENT_CREDENTIALS_NO_REFRESH: Check = Check {
    id: "RFC6749-4.4.3-no-refresh-token",
    clause: "RFC6749-4.4.3",
    severity: Severity::Warning,
    title: "A client_credentials token comes without a refresh token",
    looks_at: "successful client_credentials responses: whether refresh_token is present",
    deviation: "client-credentials-refresh-token",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: client_credentials_no_refresh,
    },
};

fn client_credentials_no_refresh(cx: &Ctx<'_>) -> Judged {
    if !cx.grant_is("client_credentials") {
        return Judged::NotApplicable("not a client_credentials grant".into());
    }
    let view = success_token!(cx);
    match view.refresh_token {
        None | Some(Value::Null) => Judged::Pass("no refresh token".into()),
        Some(_) => Judged::Violated("a refresh token came with a client_credentials token".into()),
    }
}

pub(crate) const STATUS_200: Check = Check {
    id: "RFC6749-5.1-status-200",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A successful token response is HTTP 200",
    looks_at: "successful token responses (2xx without an `error` or `errors` member): the status",
    deviation: "non-200-success",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: status_200,
    },
};

fn status_200(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    match cx.status() {
        200 => Judged::Pass("HTTP 200".into()),
        other => Judged::Violated(format!("HTTP {other}").into()),
    }
}

pub(crate) const SUCCESS_CONTENT_TYPE: Check = Check {
    id: "RFC6749-5.1-content-type",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A successful token response is application/json",
    looks_at: "successful token responses: the Content-Type media type (parameters such as charset are fine)",
    deviation: "non-json-token-response",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: success_content_type,
    },
};

fn success_content_type(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    content_type_is_json(cx)
}

pub(crate) const NO_ENVELOPE: Check = Check {
    id: "RFC6749-5.1-no-envelope",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "Token members are top-level members of the response",
    looks_at: "successful token responses: whether access_token is at the top level or only inside a member object such as `data`",
    deviation: "response-envelope",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: no_envelope,
    },
};

fn no_envelope(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.envelope {
        Some(key) => Judged::Violated(
            format!("the token members are wrapped in `{key}`, not at the top level").into(),
        ),
        None if view.access_token.is_some() => {
            Judged::Pass("access_token is a top-level member".into())
        }
        None => Judged::NotApplicable("no access_token anywhere".into()),
    }
}

pub(crate) const ACCESS_TOKEN: Check = Check {
    id: "RFC6749-5.1-access-token",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`access_token` is a non-empty string",
    looks_at: "successful token responses: the access_token member (at the top level, or in the envelope when there is one); a body that is not a JSON object (empty, an array, a string, not JSON) fails, except a form that carries the member (RFC6749-5.1-content-type reports that one)",
    deviation: "missing-access-token",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: access_token,
    },
};

fn access_token(cx: &Ctx<'_>) -> Judged {
    let view = match cx.required_member_token("access_token") {
        Ok(view) => view,
        Err(judged) => return judged,
    };
    match view.access_token {
        Some(Value::String(token)) if !token.is_empty() => {
            Judged::Pass("a non-empty string (value not shown)".into())
        }
        Some(Value::String(_)) => Judged::Violated("`access_token` is empty".into()),
        Some(other) => Judged::Violated(format!("`access_token` is {}", json_kind(other)).into()),
        None => Judged::Violated("`access_token` is missing".into()),
    }
}

pub(crate) const TOKEN_TYPE: Check = Check {
    id: "RFC6749-5.1-token-type",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`token_type` is present (its value is case-insensitive)",
    looks_at: "successful token responses: the token_type member; any spelling of a type passes and the detail names the spelling; a body that is not a JSON object fails",
    deviation: "missing-token-type",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: token_type,
    },
};

fn token_type(cx: &Ctx<'_>) -> Judged {
    let view = match cx.required_member_token("token_type") {
        Ok(view) => view,
        Err(judged) => return judged,
    };
    match view.token_type {
        Some(Value::String(kind)) if !kind.trim().is_empty() => {
            Judged::Pass(cx.say(|| {
                if kind == "Bearer" || !kind.eq_ignore_ascii_case("bearer") {
                    format!("`{kind}`")
                } else {
                    format!(
                        "`{kind}`; spelled `{kind}`, which is conformant (case-insensitive) but breaks clients that compare with `Bearer` exactly"
                    )
                }
            }))
        }
        Some(Value::String(_)) => Judged::Violated("`token_type` is empty".into()),
        Some(Value::Null) | None => Judged::Violated("`token_type` is missing (REQUIRED)".into()),
        Some(other) => Judged::Violated(format!("`token_type` is {}", json_kind(other)).into()),
    }
}

pub(crate) const TOKEN_TYPE_REGISTERED: Check = Check {
    id: "RFC6749-7.1-token-type-registered",
    clause: "RFC6749-7.1",
    severity: Severity::Warning,
    title: "`token_type` is a registered access token type, or an absolute URI (§8.1)",
    looks_at: "successful token responses with a token_type: whether it is Bearer, DPoP, N_A or PoP, compared case-insensitively, or an absolute URI (a vendor-specific type, §8.1)",
    deviation: "unregistered-token-type",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: token_type_registered,
    },
};

fn token_type_registered(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.token_type.and_then(Value::as_str) {
        Some(kind) if !kind.trim().is_empty() => {
            if REGISTERED_TOKEN_TYPES
                .iter()
                .any(|t| t.eq_ignore_ascii_case(kind.trim()))
            {
                Judged::Pass(cx.say(|| format!("`{kind}` is registered")))
            } else if kind.contains(':') && url::Url::parse(kind.trim()).is_ok() {
                Judged::Pass(cx.say(|| format!("`{kind}` is an absolute URI (§8.1)")))
            } else {
                Judged::Violated(format!(
                    "`{kind}` is not a registered access token type (clients MUST NOT use a type they do not understand)"
                ).into())
            }
        }
        _ => Judged::NotApplicable("no token_type".into()),
    }
}

pub(crate) const EXPIRES_IN_PRESENT: Check = Check {
    id: "RFC6749-5.1-expires-in-present",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "`expires_in` is sent (RECOMMENDED)",
    looks_at: "successful token responses: whether expires_in is present",
    deviation: "missing-expires-in",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: expires_in_present,
    },
};

fn expires_in_present(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.expires_in {
        None | Some(Value::Null) => Judged::Violated("no `expires_in`".into()),
        Some(_) => Judged::Pass("`expires_in` is present".into()),
    }
}

pub(crate) const EXPIRES_IN_NUMBER: Check = Check {
    id: "RFC6749-5.1-expires-in-number",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`expires_in` is a JSON number of whole seconds (expires-in = 1*DIGIT)",
    looks_at: "successful token responses with expires_in: a JSON number (a string such as \"600\" fails), whole and not negative (Appendix A.14: 1*DIGIT)",
    deviation: "expires-in-as-string",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: expires_in_number,
    },
};

fn expires_in_number(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.expires_in {
        None | Some(Value::Null) => Judged::NotApplicable("no `expires_in`".into()),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(seconds) if seconds < 0.0 => Judged::Violated(
                format!("{n} is negative; expires-in = 1*DIGIT (Appendix A.14)").into(),
            ),
            Some(seconds) if seconds.fract() != 0.0 => Judged::Violated(
                format!(
                    "{n} is not a whole number of seconds; expires-in = 1*DIGIT (Appendix A.14)"
                )
                .into(),
            ),
            _ => Judged::Pass(cx.say(|| format!("the number {n}"))),
        },
        Some(Value::String(s)) => {
            Judged::Violated(format!("the string {s:?}, not a JSON number").into())
        }
        Some(other) => Judged::Violated(format!("{}, not a JSON number", json_kind(other)).into()),
    }
}

pub(crate) const EXPIRES_IN_RANGE: Check = Check {
    id: "RFC6749-5.1-expires-in-range",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "`expires_in` is a plausible lifetime in seconds (a heuristic)",
    looks_at: "successful token responses with a whole, non-negative expires_in (number or numeric string): not 0, at most a year (31536000), and not milliseconds (above a day, a multiple of 60000 and not a whole number of days)",
    deviation: "expires-in-out-of-range",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: expires_in_range,
    },
};

fn expires_in_range(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let seconds = match view.expires_in {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    let Some(seconds) = seconds else {
        return Judged::NotApplicable("no numeric `expires_in`".into());
    };
    if seconds.fract() != 0.0 || seconds < 0.0 {
        Judged::NotApplicable(
            "not whole seconds (RFC6749-5.1-expires-in-number judges the syntax)".into(),
        )
    } else if seconds == 0.0 {
        Judged::Violated("a lifetime of 0 seconds: the token is expired when issued".into())
    } else if seconds > ONE_YEAR {
        Judged::Violated(format!("{seconds} seconds is more than a year; milliseconds?").into())
    } else if seconds > ONE_DAY && seconds % 60_000.0 == 0.0 && seconds % ONE_DAY != 0.0 {
        Judged::Violated(format!(
            "{seconds} looks like milliseconds: as seconds it is over a day, as milliseconds exactly {} minutes",
            seconds / 60_000.0
        ).into())
    } else {
        Judged::Pass(cx.say(|| format!("{seconds} seconds")))
    }
}

pub(crate) const RELATIVE_EXPIRY: Check = Check {
    id: "RFC6749-5.1-relative-expiry",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "Expiry is relative (`expires_in`), not an absolute time",
    looks_at: "successful token responses: members expires, expires_at, expires_on, expiry or expiration beside or instead of expires_in",
    deviation: "absolute-expires",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: relative_expiry,
    },
};

fn relative_expiry(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    if !view.has_any(ABSOLUTE_EXPIRY_MEMBERS) {
        return Judged::Pass("no absolute expiry member".into());
    }
    let absolute: Vec<String> = ABSOLUTE_EXPIRY_MEMBERS
        .iter()
        .filter(|name| view.object.get(**name).is_some_and(|v| !v.is_null()))
        .map(|name| format!("`{name}`"))
        .collect();
    if absolute.is_empty() {
        Judged::Pass("no absolute expiry member".into())
    } else {
        let beside = if view.expires_in.is_some() {
            "beside `expires_in`"
        } else {
            "instead of `expires_in`"
        };
        Judged::Violated(
            format!(
                "absolute expiry {} {beside}; an absolute time depends on the client's clock",
                absolute.join(", ")
            )
            .into(),
        )
    }
}

pub(crate) const SCOPE_FORMAT: Check = Check {
    id: "RFC6749-5.1-scope-format",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A granted `scope` is a space-delimited string",
    looks_at: "successful token responses with a scope member: a JSON string of scope-tokens (%x21 / %x23-5B / %x5D-7E) separated by single spaces; an array fails, an empty string passes with a note",
    deviation: "response-scope-format",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: scope_format,
    },
};

fn scope_format(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.scope {
        None => Judged::NotApplicable("no `scope` member".into()),
        // Mailchimp's `"scope": null`: RFC 6749 §5.1 leaves `scope` out
        // when it is the requested one; a null is neither.
        Some(Value::Null) => Judged::Violated("`scope` is null".into()),
        Some(Value::String(scope)) if scope.is_empty() => Judged::Pass(
            "an empty string (no scope granted; the scope ABNF has no empty form, so this is noted, not failed)"
                .into(),
        ),
        Some(Value::String(scope)) => {
            if let Some(bad) = first_outside(scope, |c| c == ' ' || is_nqchar(c)) {
                Judged::Violated(format!("`scope` contains {bad}, outside scope-token characters").into())
            } else if scope.split(' ').any(str::is_empty) {
                Judged::Violated(format!(
                    "`scope` {scope:?} is not separated by single spaces"
                ).into())
            } else {
                Judged::Pass(cx.say(|| format!("`scope` {scope:?}")))
            }
        }
        Some(Value::Array(_)) => {
            Judged::Violated("`scope` is an array, not a space-delimited string".into())
        }
        Some(other) => Judged::Violated(format!("`scope` is {}", json_kind(other)).into()),
    }
}

fn header_has_directive(response: &HttpResponse, header: &str, directive: &str) -> bool {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(header))
        .any(|(_, value)| {
            // The directive alone, as most token endpoints send it, is
            // found without taking the list apart.
            value.eq_ignore_ascii_case(directive)
                || value.split(',').any(|item| {
                    let name = item.split_once('=').map_or(item, |(name, _)| name);
                    name.trim().eq_ignore_ascii_case(directive)
                })
        })
}

pub(crate) const NO_STORE: Check = Check {
    id: "RFC6749-5.1-no-store",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "Token responses carry `Cache-Control: no-store` and `Pragma: no-cache`",
    looks_at: "successful token responses: the Cache-Control and Pragma headers",
    deviation: "missing-cache-headers",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: no_store,
    },
};

fn no_store(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    let response = cx.facts.response;
    let mut missing = Vec::new();
    if !header_has_directive(response, "cache-control", "no-store") {
        missing.push("`Cache-Control: no-store`");
    }
    if !header_has_directive(response, "pragma", "no-cache") {
        missing.push("`Pragma: no-cache`");
    }
    if missing.is_empty() {
        Judged::Pass("Cache-Control: no-store and Pragma: no-cache".into())
    } else {
        Judged::Violated(format!("missing {}", missing.join(" and ")).into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            // A conformant client_credentials exchange: nearly everything passes.
            fx(
                "conformant client_credentials",
                vec![cc(ok(token_with(json!({ "scope": "read write" }))))],
                &[
                    ("RFC6749-2.3.1-no-credentials-in-url", Pass),
                    ("RFC6749-2.3-one-auth-method", Pass),
                    ("RFC6749-3.2-post-method", Pass),
                    ("RFC6749-3.2-form-encoded-body", Pass),
                    ("RFC6749-3.2-no-repeated-parameters", Pass),
                    ("RFC6749-3.2-no-empty-parameters", Pass),
                    ("RFC6749-3.3-scope-parameter-name", NA),
                    ("RFC6749-4-parameter-names", Pass),
                    ("RFC6749-4.4.3-no-refresh-token", Pass),
                    ("RFC6749-5.1-status-200", Pass),
                    ("RFC6749-5.1-content-type", Pass),
                    ("RFC6749-5.1-no-envelope", Pass),
                    ("RFC6749-5.1-access-token", Pass),
                    ("RFC6749-5.1-token-type", Pass),
                    ("RFC6749-7.1-token-type-registered", Pass),
                    ("RFC6749-5.1-expires-in-present", Pass),
                    ("RFC6749-5.1-expires-in-number", Pass),
                    ("RFC6749-5.1-expires-in-range", Pass),
                    ("RFC6749-5.1-relative-expiry", Pass),
                    ("RFC6749-5.1-scope-format", Pass),
                    ("RFC6749-5.1-no-store", Pass),
                    ("RFC6750-2.1-b64token", Pass),
                    ("RFC6749-10.10-token-entropy", Pass),
                    ("RFC6749-2.3.1-basic-form-encoded", NA),
                    ("RFC6749-3.2-no-repeated-audience", NA),
                    ("RFC6749-5.2-status", NA),
                    ("RFC6749-5.2-error-member", NA),
                    ("RFC6750-2.1-authorization-header", NA),
                    ("RFC9700-2.4-password-grant", NA),
                    ("RFC6749-6-refresh-scope-not-wider", NA),
                    ("RFC6750-2.1-bearer-accepted", NA),
                ],
            ),
            // §4.4.3.
            fx(
                "client_credentials with a refresh token",
                vec![cc(ok(token_with(json!({ "refresh_token": strong(3) }))))],
                &[("RFC6749-4.4.3-no-refresh-token", Warn)],
            ),
            // §5.1: the success response.
            fx(
                "201 success without JSON content type or cache headers",
                vec![cc(response(
                    201,
                    &[("content-type", "text/plain")],
                    &token_with(json!({})).to_string(),
                ))],
                &[
                    ("RFC6749-5.1-status-200", Fail),
                    ("RFC6749-5.1-content-type", Fail),
                    ("RFC6749-5.1-no-store", Fail),
                ],
            ),
            fx(
                "no-store without pragma",
                vec![cc(response(
                    200,
                    &[
                        ("content-type", "application/json"),
                        ("cache-control", "private, no-store"),
                    ],
                    &token_with(json!({})).to_string(),
                ))],
                &[("RFC6749-5.1-no-store", Fail)],
            ),
            fx(
                "data envelope with absolute expiry",
                vec![cc(ok(
                    json!({ "data": token_with(json!({ "expires": 1_900_000_000 })) }),
                ))],
                &[
                    ("RFC6749-5.1-no-envelope", Fail),
                    ("RFC6749-5.1-access-token", Pass),
                    ("RFC6749-5.1-relative-expiry", Warn),
                ],
            ),
            fx(
                "no access token",
                vec![cc(ok(json!({ "token_type": "Bearer", "expires_in": 60 })))],
                &[("RFC6749-5.1-access-token", Fail)],
            ),
            fx(
                "a success whose body is an empty array",
                vec![cc(response(200, JSON_NO_STORE, "[]"))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-5.1-content-type", Pass),
                    ("RFC6749-5.1-expires-in-present", NA),
                ],
            ),
            fx(
                "a success with an empty body",
                vec![cc(response(200, JSON_NO_STORE, ""))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "a success whose body is a JSON string",
                vec![cc(response(
                    200,
                    JSON_NO_STORE,
                    &json!(strong(15)).to_string(),
                ))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "a form answer: one deviation, the media type, not every member's",
                vec![cc(response(
                    200,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    &format!("access_token={}&token_type=bearer", strong(16)),
                ))],
                &[
                    ("RFC6749-5.1-access-token", NA),
                    ("RFC6749-5.1-token-type", NA),
                    ("RFC6749-5.1-content-type", Fail),
                ],
            ),
            fx(
                "a form answer to `Accept: */*` (GitHub's default): JSON was acceptable, so still the deviation",
                vec![cc_accepting(
                    "*/*",
                    response(
                        200,
                        &[("content-type", "application/x-www-form-urlencoded")],
                        &format!("access_token={}&token_type=bearer", strong(16)),
                    ),
                )],
                &[("RFC6749-5.1-content-type", Fail)],
            ),
            fx(
                "a form answer to a request whose Accept leaves JSON out: content negotiation",
                vec![cc_accepting(
                    "application/x-www-form-urlencoded",
                    response(
                        200,
                        &[("content-type", "application/x-www-form-urlencoded")],
                        &format!("access_token={}&token_type=bearer", strong(16)),
                    ),
                )],
                &[("RFC6749-5.1-content-type", NA)],
            ),
            fx(
                "a form answer without token_type (Facebook's legacy text/plain answer)",
                vec![cc(response(
                    200,
                    &[("content-type", "text/plain; charset=UTF-8")],
                    &format!("access_token={}&expires=5183999", strong(16)),
                ))],
                &[
                    ("RFC6749-5.1-access-token", NA),
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-5.1-content-type", Fail),
                ],
            ),
            fx(
                "a success whose body is neither JSON nor a form",
                vec![cc(response(
                    200,
                    &[("content-type", "text/html")],
                    "<html><body>signed in</body></html>",
                ))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-5.1-content-type", Fail),
                ],
            ),
            fx(
                "an empty JSON object",
                vec![cc(ok(json!({})))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "missing token_type",
                vec![cc(ok(token_with(json!({ "token_type": null }))))],
                &[
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-7.1-token-type-registered", NA),
                ],
            ),
            fx(
                "lower-case bearer",
                vec![cc(ok(token_with(json!({ "token_type": "bearer" }))))],
                &[
                    ("RFC6749-5.1-token-type", Pass),
                    ("RFC6749-7.1-token-type-registered", Pass),
                ],
            ),
            fx(
                "unregistered token type",
                vec![cc(ok(token_with(json!({ "token_type": "JWT" }))))],
                &[("RFC6749-7.1-token-type-registered", Warn)],
            ),
            fx(
                "token type named by an absolute URI",
                vec![cc(ok(token_with(
                    json!({ "token_type": "https://provider.test/token-types/signed" }),
                )))],
                &[("RFC6749-7.1-token-type-registered", Pass)],
            ),
            fx(
                "no expires_in",
                vec![cc(ok(token_with(json!({ "expires_in": null }))))],
                &[
                    ("RFC6749-5.1-expires-in-present", Warn),
                    ("RFC6749-5.1-expires-in-number", NA),
                ],
            ),
            fx(
                "expires_in as a string",
                vec![cc(ok(token_with(json!({ "expires_in": "600" }))))],
                &[
                    ("RFC6749-5.1-expires-in-number", Fail),
                    ("RFC6749-5.1-expires-in-range", Pass),
                ],
            ),
            fx(
                "expires_in in milliseconds",
                vec![cc(ok(token_with(json!({ "expires_in": 3_600_000 }))))],
                &[
                    ("RFC6749-5.1-expires-in-range", Warn),
                    ("RFC6749-5.1-expires-in-number", Pass),
                ],
            ),
            fx(
                "expires_in over a year",
                vec![cc(ok(token_with(json!({ "expires_in": 63_072_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Warn)],
            ),
            fx(
                "expires_in zero",
                vec![cc(ok(token_with(json!({ "expires_in": 0 }))))],
                &[
                    ("RFC6749-5.1-expires-in-range", Warn),
                    ("RFC6749-5.1-expires-in-number", Pass),
                ],
            ),
            fx(
                "expires_in of twenty-five days is seconds, not milliseconds",
                vec![cc(ok(token_with(json!({ "expires_in": 2_160_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Pass)],
            ),
            fx(
                "expires_in negative",
                vec![cc(ok(token_with(json!({ "expires_in": -60 }))))],
                &[
                    ("RFC6749-5.1-expires-in-number", Fail),
                    ("RFC6749-5.1-expires-in-range", NA),
                ],
            ),
            fx(
                "expires_in fractional",
                vec![cc(ok(token_with(json!({ "expires_in": 59.5 }))))],
                &[("RFC6749-5.1-expires-in-number", Fail)],
            ),
            fx(
                "expires_in of thirty days",
                vec![cc(ok(token_with(json!({ "expires_in": 2_592_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Pass)],
            ),
            fx(
                "scope as an array",
                vec![cc(ok(token_with(json!({ "scope": ["read", "write"] }))))],
                &[("RFC6749-5.1-scope-format", Fail)],
            ),
            fx(
                "scope with double spaces",
                vec![cc(ok(token_with(json!({ "scope": "read  write" }))))],
                &[("RFC6749-5.1-scope-format", Fail)],
            ),
            fx(
                "empty scope string",
                vec![cc(ok(token_with(json!({ "scope": "" }))))],
                &[("RFC6749-5.1-scope-format", Pass)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }

    #[test]
    fn a_cache_directive_is_found_alone_in_a_list_with_a_value_in_any_case() {
        let has = |values: &[&str]| {
            let response = grantspec_token::HttpResponse {
                status: 200,
                headers: values
                    .iter()
                    .map(|value| ("Cache-Control".to_owned(), (*value).to_owned()))
                    .collect(),
                body: Vec::new(),
            };
            super::header_has_directive(&response, "cache-control", "no-store")
        };
        for holds in [
            &["no-store"][..],
            &["No-Store"],
            &[" no-store "],
            &["private, no-store"],
            &["max-age=0 ,NO-STORE, private"],
            &["no-store=\"x\""],
            &["private", "no-store"],
        ] {
            assert!(has(holds), "{holds:?}");
        }
        for fails in [
            &[][..],
            &[""],
            &["no-storex"],
            &["private, no-cache"],
            &["x-no-store"],
            &["max-age=no-store"],
        ] {
            assert!(!has(fails), "{fails:?}");
        }
    }

    #[test]
    fn token_type_detail_names_the_spelling() {
        let fixture = fx(
            "lower-case bearer",
            vec![cc(ok(token_with(json!({ "token_type": "bearer" }))))],
            &[],
        );
        let findings = run(&fixture);
        let detail = findings
            .iter()
            .find(|f| f.check.id == "RFC6749-5.1-token-type")
            .map(|f| f.detail.clone())
            .unwrap();
        assert!(
            detail.contains("`bearer`") && detail.contains("case-insensitive"),
            "{detail}"
        );
    }
}
