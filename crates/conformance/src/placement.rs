//! Where a protected-resource call puts its access token when not in
//! `Authorization: Bearer` (RFC 6750 §2): a header with no scheme, the URL
//! query (RFC 6750 §2.3 SHOULD NOT, RFC 9700 §2.4 forbids it), or a form
//! body field (RFC 6750 §2.2 allows `access_token` under conditions). Each
//! is a deviation of its own, declared by a provider whose API asks for it
//! (`provider.resource.token` in its spec).

use grantspec_token::{Body, Text};

use crate::ctx::Ctx;
use crate::params::{Place, SHOWABLE_SCHEMES, media_type, request_headers};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

/// Whether an `Authorization` value is a token with no scheme: one word
/// that is not a scheme name.
pub(crate) fn is_bare_token(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty()
        && !value.contains(' ')
        && !SHOWABLE_SCHEMES
            .iter()
            .any(|scheme| scheme.eq_ignore_ascii_case(value))
}

pub(crate) const SCHEME_PRESENT: Check = Check {
    id: "RFC6750-2.1-scheme-present",
    clause: "RFC6750-2.1",
    severity: Severity::Warning,
    title: "An `Authorization` header names its scheme before the token",
    looks_at: "protected-resource calls: an Authorization value that is one word and no scheme name is a token sent bare (RFC 7235 §2.1 credentials start with the scheme; RFC 6750 §2.1 names `Bearer`)",
    deviation: "bare-token-authorization",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Request,
        eval: scheme_present,
    },
};

fn scheme_present(cx: &Ctx<'_>) -> Judged {
    let mut values = request_headers(cx.facts.request, "authorization").peekable();
    if values.peek().is_none() {
        return Judged::NotApplicable("no Authorization header".into());
    }
    if values.any(is_bare_token) {
        Judged::Warned("the Authorization header carries a token with no scheme".into())
    } else {
        Judged::Pass(cx.say(|| "the Authorization header names a scheme".into()))
    }
}

pub(crate) const TOKEN_NOT_IN_QUERY: Check = Check {
    id: "RFC9700-2.4-token-not-in-query",
    clause: "RFC9700-2.4",
    severity: Severity::Failure,
    title: "The access token is not sent in the URL query",
    looks_at: "protected-resource calls: a query parameter that holds the token (RFC 6750 §2.3: SHOULD NOT; RFC 9700 §2.4: MUST NOT), by the harness's secret marking or the name `access_token`",
    deviation: "token-in-query",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Request,
        eval: token_not_in_query,
    },
};

fn token_not_in_query(cx: &Ctx<'_>) -> Judged {
    let request = cx.facts.request;
    let marked = request
        .query
        .iter()
        .find(|(_, value)| value.is_secret())
        .map(|(name, _)| name.as_str());
    let named = cx
        .params
        .iter()
        .any(|p| p.place == Place::Query && p.name == "access_token");
    match (marked, named) {
        (Some(name), _) => {
            Judged::Violated(format!("the token is in the URL query (`{name}`)").into())
        }
        (None, true) => Judged::Violated("the token is in the URL query (`access_token`)".into()),
        (None, false) => Judged::Pass(cx.say(|| "no token in the URL query".into())),
    }
}

pub(crate) const FORM_FIELD_TOKEN: Check = Check {
    id: "RFC6750-2.2-form-body-token",
    clause: "RFC6750-2.2",
    severity: Severity::Warning,
    title: "A token in the body is the form field `access_token` of a form-encoded, non-GET request",
    looks_at: "protected-resource calls whose form body holds the token (by the harness's secret marking, or a field `access_token`): another field name, a GET, or a body that is not application/x-www-form-urlencoded is not RFC 6750 §2.2",
    deviation: "token-in-form-field",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Request,
        eval: form_field_token,
    },
};

fn form_field_token(cx: &Ctx<'_>) -> Judged {
    let request = cx.facts.request;
    let field = match &request.body {
        Some(Body::Form(pairs)) => pairs
            .iter()
            .find(|(name, value)| value.is_secret() || name == "access_token")
            .map(|(name, _)| name.as_str()),
        Some(Body::Json(fields)) => fields
            .iter()
            .find(|(name, field)| {
                name == "access_token"
                    || matches!(field, grantspec_token::JsonField::Text(Text::Secret(_)))
            })
            .map(|(name, _)| name.as_str()),
        Some(Body::Raw { .. }) => cx
            .params
            .iter()
            .find(|p| p.place == Place::Body && p.name == "access_token")
            .map(|p| p.name.as_ref()),
        None => None,
    };
    let Some(field) = field else {
        return Judged::NotApplicable("no token in the body".into());
    };
    let mut problems = Vec::new();
    if field != "access_token" {
        problems.push(format!(
            "the token is in form field `{field}`, not `access_token`"
        ));
    }
    if request.method.eq_ignore_ascii_case("GET") {
        problems.push("the body token rides on a GET".to_owned());
    }
    let content_type = request.body.as_ref().and_then(Body::content_type);
    if media_type(content_type) != "application/x-www-form-urlencoded" {
        problems.push("the body is not application/x-www-form-urlencoded".to_owned());
    }
    if problems.is_empty() {
        Judged::Pass(cx.say(|| "the token is the form field `access_token` (RFC 6750 §2.2)".into()))
    } else {
        Judged::Warned(problems.join("; ").into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    fn resource_with(method: &str, query: Vec<(&str, Text)>, body: Option<Body>) -> Fx {
        let mut fx = resource(Vec::new(), ok(json!({ "ok": true })));
        fx.request.method = method.to_owned();
        fx.request.query = query.into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        fx.request.body = body;
        fx
    }

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            fx(
                "bearer header: every placement check holds",
                vec![resource(
                    vec![bearer(&strong(31))],
                    ok(json!({ "ok": true })),
                )],
                &[
                    ("RFC6750-2.1-scheme-present", Pass),
                    ("RFC9700-2.4-token-not-in-query", Pass),
                    ("RFC6750-2.2-form-body-token", NA),
                ],
            ),
            fx(
                "bare token in the Authorization header",
                vec![resource(
                    vec![("authorization", Text::secret(strong(32)))],
                    ok(json!({ "ok": true })),
                )],
                &[
                    ("RFC6750-2.1-scheme-present", Warn),
                    ("RFC6750-2.1-authorization-header", NA),
                ],
            ),
            fx(
                "token in a marked query parameter of any name",
                vec![resource_with(
                    "GET",
                    vec![("oauth2_access_token", Text::secret(strong(33)))],
                    None,
                )],
                &[("RFC9700-2.4-token-not-in-query", Fail)],
            ),
            fx(
                "access_token written into the URL",
                vec![resource_at(
                    &format!("{RESOURCE}?access_token={}", strong(34)),
                    Vec::new(),
                    ok(json!({ "ok": true })),
                )],
                &[
                    ("RFC9700-2.4-token-not-in-query", Fail),
                    ("RFC6750-2.1-authorization-header", NA),
                ],
            ),
            fx(
                "Slack's form field `token`",
                vec![resource_with(
                    "POST",
                    Vec::new(),
                    Some(Body::Form(vec![("token".into(), Text::secret(strong(35)))])),
                )],
                &[
                    ("RFC6750-2.2-form-body-token", Warn),
                    ("RFC9700-2.4-token-not-in-query", Pass),
                ],
            ),
            fx(
                "RFC 6750 §2.2 form field",
                vec![resource_with(
                    "POST",
                    Vec::new(),
                    Some(Body::Form(vec![(
                        "access_token".into(),
                        Text::secret(strong(36)),
                    )])),
                )],
                &[("RFC6750-2.2-form-body-token", Pass)],
            ),
            fx(
                "a rejected query token gets invalid_token, as a Bearer header would",
                vec![{
                    let mut fx = resource_with(
                        "GET",
                        vec![("access_token", Text::secret(strong(38)))],
                        None,
                    );
                    fx.response = response(
                        401,
                        &[(
                            "www-authenticate",
                            "Bearer realm=\"p\", error=\"invalid_token\"",
                        )],
                        "",
                    );
                    fx
                }],
                &[("RFC6750-3.1-invalid-token-error", Pass)],
            ),
            fx(
                "access_token field on a GET",
                vec![resource_with(
                    "GET",
                    Vec::new(),
                    Some(Body::Form(vec![(
                        "access_token".into(),
                        Text::secret(strong(37)),
                    )])),
                )],
                &[("RFC6750-2.2-form-body-token", Warn)],
            ),
        ]
    }
}
