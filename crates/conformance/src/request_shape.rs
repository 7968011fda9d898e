//! The shape of a token request (RFC 6749 §3.2, §3.3, §4, §4.5; RFC 9700 §2.4):
//! method, body encoding, parameters and grant types.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use grantspec_token::Body;
use serde_json::Value;

use crate::ctx::Ctx;
use crate::params::{
    Param, TOKEN_EXCHANGE, is_json_media_type, media_type, names_scope, normalized_name,
    normalizes_to,
};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

pub(crate) const POST_METHOD: Check = Check {
    id: "RFC6749-3.2-post-method",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "Token requests use POST",
    looks_at: "token requests: the HTTP method",
    deviation: "token-request-method",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: post_method,
    },
};

fn post_method(cx: &Ctx<'_>) -> Judged {
    let method = &cx.facts.request.method;
    if method.eq_ignore_ascii_case("POST") {
        Judged::Pass("POST".into())
    } else {
        Judged::Violated(format!("the request uses {method}").into())
    }
}

pub(crate) const FORM_ENCODED_BODY: Check = Check {
    id: "RFC6749-3.2-form-encoded-body",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "Token request parameters are an application/x-www-form-urlencoded body (§4.1.3, §4.3.2, §4.4.2, §6)",
    looks_at: "token requests with a body: its encoding or Content-Type; JSON or any other encoding fails",
    deviation: "json-request-body",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: form_encoded_body,
    },
};

fn form_encoded_body(cx: &Ctx<'_>) -> Judged {
    match &cx.facts.request.body {
        None => Judged::NotApplicable(
            "no request body (parameters in the URL are the method check's concern)".into(),
        ),
        Some(Body::Form(_)) => Judged::Pass("application/x-www-form-urlencoded".into()),
        Some(Body::Json(_)) => Judged::Violated("a JSON body".into()),
        Some(Body::Raw { content_type, .. }) => {
            let media = media_type(content_type.as_deref());
            match &*media {
                "application/x-www-form-urlencoded" => {
                    Judged::Pass("application/x-www-form-urlencoded".into())
                }
                "" => Judged::Violated("a body without a Content-Type".into()),
                other if is_json_media_type(other) => {
                    Judged::Violated(format!("a JSON body ({other})").into())
                }
                other => Judged::Violated(format!("a body of type {other}").into()),
            }
        }
    }
}

/// How many times a parameter named `name` is sent.
fn occurrences(params: &[Param<'_>], name: &str) -> usize {
    params.iter().filter(|p| p.name == name).count()
}

pub(crate) const NO_REPEATED_PARAMETERS: Check = Check {
    id: "RFC6749-3.2-no-repeated-parameters",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "No request parameter is sent more than once",
    looks_at: "token requests: parameter names in the body (form pairs or JSON members) and the query; `audience` has its own check and a repeated `resource` is allowed by RFC 8707",
    deviation: "repeated-parameter",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: no_repeated_parameters,
    },
};

fn no_repeated_parameters(cx: &Ctx<'_>) -> Judged {
    let params = &cx.params;
    let repeats = |index: usize, name: &str| {
        !matches!(name, "audience" | "resource")
            && params[index + 1..].iter().any(|later| later.name == name)
    };
    let any_repeated = params
        .iter()
        .enumerate()
        .any(|(index, p)| repeats(index, &p.name));
    let resource = occurrences(params, "resource") > 1;
    let note = if resource {
        " (`resource` repeats, as RFC 8707 allows)"
    } else {
        ""
    };
    if !any_repeated && note.is_empty() {
        Judged::Pass("every parameter is sent once".into())
    } else if !any_repeated {
        Judged::Pass(cx.say(|| format!("every parameter is sent once{note}")))
    } else {
        let repeated: BTreeSet<&str> = params
            .iter()
            .enumerate()
            .filter(|(index, p)| repeats(*index, &p.name))
            .map(|(_, p)| &*p.name)
            .collect();
        let repeated: Vec<String> = repeated
            .into_iter()
            .map(|name| format!("`{name}` ×{}", occurrences(params, name)))
            .collect();
        Judged::Violated(format!("repeated: {}{note}", repeated.join(", ")).into())
    }
}

pub(crate) const NO_REPEATED_AUDIENCE: Check = Check {
    id: "RFC6749-3.2-no-repeated-audience",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "`audience` is sent at most once (RFC 8693 allows repeats only for token exchange)",
    looks_at: "token requests that send `audience`: how many times it occurs, unless the grant is urn:ietf:params:oauth:grant-type:token-exchange",
    deviation: "repeated-audience-parameter",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: no_repeated_audience,
    },
};

fn no_repeated_audience(cx: &Ctx<'_>) -> Judged {
    let count = occurrences(&cx.params, "audience");
    match count {
        0 => Judged::NotApplicable("no `audience` parameter".into()),
        1 => Judged::Pass("`audience` is sent once".into()),
        _ if cx.grant_is(TOKEN_EXCHANGE) => {
            Judged::Pass(cx.say(|| {
                format!("`audience` ×{count} in a token exchange, as RFC 8693 §2.1 allows")
            }))
        }
        _ => Judged::Violated(
            format!("`audience` is sent {count} times; send one space-delimited value").into(),
        ),
    }
}

pub(crate) const NO_EMPTY_PARAMETERS: Check = Check {
    id: "RFC6749-3.2-no-empty-parameters",
    clause: "RFC6749-3.2",
    severity: Severity::Warning,
    title: "No parameter is sent without a value (empty means omitted)",
    looks_at: "token requests: body and query parameters whose value is empty",
    deviation: "empty-parameter",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: no_empty_parameters,
    },
};

fn no_empty_parameters(cx: &Ctx<'_>) -> Judged {
    let empty: BTreeSet<&str> = cx
        .params
        .iter()
        .filter(|p| p.is_empty())
        .map(|p| &*p.name)
        .collect();
    if empty.is_empty() {
        Judged::Pass("every parameter has a value".into())
    } else {
        Judged::Violated(
            format!(
                "sent without a value: {}",
                empty
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into(),
        )
    }
}

pub(crate) const SCOPE_PARAMETER_NAME: Check = Check {
    id: "RFC6749-3.3-scope-parameter-name",
    clause: "RFC6749-3.3",
    severity: Severity::Failure,
    title: "The requested scope travels as `scope`",
    looks_at: "token requests: parameter names that spell scope differently (`scopes`, `Scope`, `scope[]`)",
    deviation: "renamed-scope-parameter",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: scope_parameter_name,
    },
};

fn scope_parameter_name(cx: &Ctx<'_>) -> Judged {
    let renamed: BTreeSet<&str> = cx
        .params
        .iter()
        .map(|p| &*p.name)
        .filter(|name| *name != "scope" && names_scope(name))
        .collect();
    let has_scope = cx.params.iter().any(|p| p.name == "scope");
    match (renamed.is_empty(), has_scope) {
        (true, true) => Judged::Pass("the scope is sent as `scope`".into()),
        (true, false) => Judged::NotApplicable("no scope is requested".into()),
        (false, _) => Judged::Violated(
            format!(
                "the scope is sent as {} instead of `scope`",
                renamed
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into(),
        ),
    }
}

const RFC_PARAMETERS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "refresh_token",
    "code",
    "redirect_uri",
    "code_verifier",
    "username",
    "password",
    "client_assertion",
    "client_assertion_type",
    "audience",
    "resource",
];

pub(crate) const PARAMETER_NAMES: Check = Check {
    id: "RFC6749-4-parameter-names",
    clause: "RFC6749-4",
    severity: Severity::Failure,
    title: "RFC 6749 parameters keep their names",
    looks_at: "token requests: parameter names that are another spelling (camelCase, dashes, capitals) of grant_type, client_id, client_secret, refresh_token, code, redirect_uri, code_verifier, username, password, client_assertion, client_assertion_type, audience or resource",
    deviation: "renamed-parameter",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: parameter_names,
    },
};

fn parameter_names(cx: &Ctx<'_>) -> Judged {
    static NORMALIZED: OnceLock<Vec<String>> = OnceLock::new();
    let normalized_rfc = NORMALIZED.get_or_init(|| {
        RFC_PARAMETERS
            .iter()
            .map(|rfc| normalized_name(rfc).collect())
            .collect()
    });
    // Normalized RFC names are distinct, so a name spelled as the RFC spells
    // one is no other's renaming.
    let renamed: BTreeSet<String> = cx
        .params
        .iter()
        .filter(|p| !RFC_PARAMETERS.contains(&&*p.name))
        .filter_map(|p| {
            RFC_PARAMETERS
                .iter()
                .zip(normalized_rfc)
                .find(|(_, normal)| normalizes_to(&p.name, normal))
                .map(|(rfc, _)| format!("`{}` for `{rfc}`", p.name))
        })
        .collect();
    if renamed.is_empty() {
        Judged::Pass("RFC parameters keep their names".into())
    } else {
        Judged::Violated(
            format!(
                "renamed: {}",
                renamed.into_iter().collect::<Vec<_>>().join(", ")
            )
            .into(),
        )
    }
}

/// `not_this` is the text for another grant: `not a {grant} grant`.
fn discouraged_grant(cx: &Ctx<'_>, grant: &str, not_this: &'static str) -> Judged {
    if !cx.grant_is(grant) {
        return Judged::NotApplicable(not_this.into());
    }
    let issued = cx.token.is_some_and(|view| {
        view.object
            .get("access_token")
            .is_some_and(Value::is_string)
    });
    if issued {
        Judged::Violated(format!("the provider issued a token for the {grant} grant").into())
    } else {
        Judged::Pass(cx.say(|| {
            format!(
                "the provider did not issue a token for the {grant} grant (HTTP {})",
                cx.status()
            )
        }))
    }
}

pub(crate) const PASSWORD_GRANT: Check = Check {
    id: "RFC9700-2.4-password-grant",
    clause: "RFC9700-2.4",
    severity: Severity::Failure,
    title: "The resource owner password credentials grant is not offered",
    looks_at: "token exchanges with grant_type=password: whether the provider issued a token",
    deviation: "password-grant",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: password_grant,
    },
};

fn password_grant(cx: &Ctx<'_>) -> Judged {
    discouraged_grant(cx, "password", "not a password grant")
}

/// The grant types RFC 6749 defines for the token endpoint (§4.1.3,
/// §4.3.2, §4.4.2, §6); any other is an extension grant (§4.5).
const RFC6749_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "password",
    "client_credentials",
    "refresh_token",
];

pub(crate) const EXTENSION_GRANT_URI: Check = Check {
    id: "RFC6749-4.5-extension-grant-uri",
    clause: "RFC6749-4.5",
    severity: Severity::Failure,
    title: "A grant type other than RFC 6749's own is an absolute URI",
    looks_at: "token requests as the profile builds them whose grant_type is not authorization_code, password, client_credentials or refresh_token: an absolute URI passes; another value (such as `implicit`) fails when the provider issued a token for it, and passes when it refused it",
    deviation: "non-uri-grant-type",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::RequestAndOutcome,
        eval: extension_grant_uri,
    },
};

fn extension_grant_uri(cx: &Ctx<'_>) -> Judged {
    let Some(grant) = cx.grant_type.as_deref() else {
        return Judged::NotApplicable("no grant_type".into());
    };
    if RFC6749_GRANT_TYPES.contains(&grant) {
        return Judged::NotApplicable(cx.say(|| format!("`{grant}` is an RFC 6749 grant type")));
    }
    if url::Url::parse(grant).is_ok() {
        return Judged::Pass(cx.say(|| {
            format!(
                "the extension grant `{}` is an absolute URI",
                grant.escape_debug()
            )
        }));
    }
    let issued = cx.token.is_some_and(|view| {
        view.object
            .get("access_token")
            .is_some_and(Value::is_string)
    });
    if issued {
        Judged::Violated(
            format!(
                "the provider issued a token for grant_type `{}`, which is neither an RFC 6749 grant type nor an absolute URI",
                grant.escape_debug()
            )
            .into(),
        )
    } else {
        Judged::Pass(cx.say(|| {
            format!(
                "the provider refused grant_type `{}`, which is not an absolute URI (HTTP {})",
                grant.escape_debug(),
                cx.status()
            )
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::params::TOKEN_EXCHANGE;
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            // §3.2: method and encoding.
            fx(
                "GET with credentials in the query",
                vec![token(
                    request(
                        "GET",
                        "https://provider.test/oauth/token?grant_type=client_credentials&client_id=c&client_secret=SECRET-1",
                        Vec::new(),
                        None,
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-2.3.1-no-credentials-in-url", Fail),
                    ("RFC6749-3.2-post-method", Fail),
                    ("RFC6749-3.2-form-encoded-body", NA),
                ],
            ),
            fx(
                "JSON body with a renamed scope",
                vec![token(
                    post(json_body(&[
                        ("grant_type", "password"),
                        ("client_id", "administration"),
                        ("scopes", "write"),
                        ("username", "admin"),
                        ("password", "SECRET-pw"),
                    ])),
                    ok(token_with(json!({ "refresh_token": strong(2) }))),
                    "password",
                )],
                &[
                    ("RFC6749-3.2-form-encoded-body", Fail),
                    ("RFC6749-3.3-scope-parameter-name", Fail),
                    ("RFC9700-2.4-password-grant", Fail),
                ],
            ),
            fx(
                "raw JSON body by content type",
                vec![token(
                    post(Body::Raw {
                        content_type: Some("application/json".into()),
                        bytes: br#"{"grant_type":"client_credentials","client_id":"c","client_id":"d"}"#.to_vec(),
                    }),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-3.2-form-encoded-body", Fail)],
            ),
            fx(
                "raw form body by content type",
                vec![token(
                    post(Body::Raw {
                        content_type: Some("application/x-www-form-urlencoded".into()),
                        bytes: b"grant_type=client_credentials&client_id=c".to_vec(),
                    }),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-3.2-form-encoded-body", Pass)],
            ),
            fx(
                "an overridden request is not judged on its shape",
                vec![overridden(token(
                    post(json_body(&[("grant_type", "client_credentials")])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-3.2-form-encoded-body", NA),
                    ("RFC6749-3.2-post-method", NA),
                    ("RFC6749-5.1-status-200", Pass),
                ],
            ),
            fx(
                "repeated parameters and audience",
                vec![token(
                    post(form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", "c"),
                        ("client_secret", "SECRET-1"),
                        ("scope", "read"),
                        ("scope", "write"),
                        ("audience", "api.one"),
                        ("audience", "api.two"),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-repeated-parameters", Fail),
                    ("RFC6749-3.2-no-repeated-audience", Fail),
                ],
            ),
            fx(
                "audience once, resource repeated",
                vec![token(
                    post(form(&[
                        ("grant_type", "client_credentials"),
                        ("audience", "api.one api.two"),
                        ("resource", "https://a.test"),
                        ("resource", "https://b.test"),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-repeated-audience", Pass),
                    ("RFC6749-3.2-no-repeated-parameters", Pass),
                ],
            ),
            fx(
                "audience repeated in a token exchange",
                vec![token(
                    post(form(&[
                        ("grant_type", TOKEN_EXCHANGE),
                        ("subject_token", "SECRET-subject"),
                        ("audience", "api.one"),
                        ("audience", "api.two"),
                    ])),
                    ok(token_with(json!({}))),
                    TOKEN_EXCHANGE,
                )],
                &[("RFC6749-3.2-no-repeated-audience", Pass)],
            ),
            fx(
                "empty parameter and renamed grant_type",
                vec![token(
                    post(form(&[
                        ("grantType", "client_credentials"),
                        ("client_id", "c"),
                        ("scope", ""),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-empty-parameters", Warn),
                    ("RFC6749-4-parameter-names", Fail),
                ],
            ),
            // RFC 9700: discouraged grants.
            fx(
                "password grant refused",
                vec![token(
                    post(form(&[("grant_type", "password"), ("username", "u"), ("password", "SECRET-pw")])),
                    error(400, json!({ "error": "unsupported_grant_type" })),
                    "password",
                )],
                &[("RFC9700-2.4-password-grant", Pass)],
            ),
            // RFC 6749 §4.5: extension grants.
            fx(
                "implicit grant at the token endpoint",
                vec![token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    ok(token_with(json!({}))),
                    "implicit",
                )],
                &[("RFC6749-4.5-extension-grant-uri", Fail)],
            ),
            fx(
                "implicit grant refused",
                vec![token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    error(400, json!({ "error": "unsupported_grant_type" })),
                    "implicit",
                )],
                &[("RFC6749-4.5-extension-grant-uri", Pass)],
            ),
            fx(
                "an extension grant named by a URI",
                vec![token(
                    post(form(&[
                        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                        ("assertion", "SECRET-assertion"),
                    ])),
                    ok(token_with(json!({}))),
                    "urn:ietf:params:oauth:grant-type:jwt-bearer",
                )],
                &[
                    ("RFC6749-4.5-extension-grant-uri", Pass),
                    ("RFC9700-2.4-password-grant", NA),
                ],
            ),
            fx(
                "a bent request's grant type is the tester's choice",
                vec![overridden(token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    ok(token_with(json!({}))),
                    "implicit",
                ))],
                &[("RFC6749-4.5-extension-grant-uri", NA)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
