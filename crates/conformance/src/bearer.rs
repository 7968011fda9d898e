//! Bearer tokens at the protected resource (RFC 6750 §2.1, §3): how the token
//! is presented, the challenges a refusal carries, and whether a fresh token is
//! accepted.

use crate::ExchangeKind::{Resource, Token};
use crate::challenge::{Challenge, challenges, schemes};
use crate::ctx::Ctx;
use crate::params::{Place, request_headers, shown_scheme, split_scheme};
use crate::placement::is_bare_token;
use crate::steps::{Step, Tally};
use crate::syntax::{b64token_problem, is_b64token};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

pub(crate) const AUTHORIZATION_HEADER: Check = Check {
    id: "RFC6750-2.1-authorization-header",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "The token is presented as `Authorization: Bearer <b64token>`",
    looks_at: "protected-resource calls: Bearer credentials that are not b64token fail; another scheme warns (clients SHOULD use Bearer, RFC 6750 §2.1). A token with no scheme, in the query or in a form field is judged by the token-placement checks",
    deviation: "non-bearer-authorization",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Request,
        eval: authorization_header,
    },
};

fn authorization_header(cx: &Ctx<'_>) -> Judged {
    // Malformed Bearer credentials break the header's syntax; another scheme
    // or a token in the query goes against a SHOULD.
    let mut broken = Vec::new();
    let mut discouraged = Vec::new();
    let mut fine = false;
    for value in request_headers(cx.facts.request, "authorization") {
        let (scheme, rest) = split_scheme(value);
        if is_bare_token(value) {
            continue;
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            discouraged.push(format!(
                "the Authorization header has {}, not `Bearer`",
                shown_scheme(scheme)
            ));
        } else if !is_b64token(rest) {
            broken.push(format!("the Bearer credentials {}", b64token_problem(rest)));
        } else {
            fine = true;
        }
    }
    let in_body = cx
        .params
        .iter()
        .any(|p| p.place == Place::Body && p.name == "access_token");
    if !broken.is_empty() {
        broken.extend(discouraged);
        return Judged::Violated(broken.join("; ").into());
    }
    if !discouraged.is_empty() {
        return Judged::Warned(discouraged.join("; ").into());
    }
    match (fine, in_body) {
        (true, _) => Judged::Pass("`Authorization: Bearer` with a b64token".into()),
        (false, true) => Judged::Pass("the token is a form body parameter (RFC 6750 §2.2)".into()),
        (false, false) => Judged::NotApplicable("no token presented".into()),
    }
}

pub(crate) const BEARER_CHALLENGE: Check = Check {
    id: "RFC6750-3-bearer-challenge",
    clause: "RFC6750-3",
    severity: Severity::Failure,
    title: "A 401 from the resource, or a 403 to a Bearer token, carries a `WWW-Authenticate: Bearer` challenge",
    looks_at: "protected-resource responses with status 401, or 403 to a request with a Bearer token (a token that does not enable access): the WWW-Authenticate challenges",
    deviation: "missing-bearer-challenge",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Response,
        eval: bearer_challenge,
    },
};

fn bearer_challenge(cx: &Ctx<'_>) -> Judged {
    let status = cx.status();
    if status != 401 && !(status == 403 && cx.bearer_presented()) {
        return Judged::NotApplicable(cx.say(|| format!("HTTP {status}")));
    }
    let challenges = challenges(cx.facts.response);
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    {
        Judged::Pass(cx.say(|| format!("HTTP {status} with a Bearer challenge")))
    } else if challenges.is_empty() {
        Judged::Violated(format!("HTTP {status} without WWW-Authenticate").into())
    } else {
        Judged::Violated(
            format!(
                "HTTP {status}: WWW-Authenticate offers {}",
                schemes(&challenges)
            )
            .into(),
        )
    }
}

fn bearer_challenge_of(cx: &Ctx<'_>) -> Option<Challenge> {
    challenges(cx.facts.response)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

pub(crate) const INVALID_TOKEN_ERROR: Check = Check {
    id: "RFC6750-3.1-invalid-token-error",
    clause: "RFC6750-3.1",
    severity: Severity::Warning,
    title: "A rejected token gets error=\"invalid_token\"; a request without one gets no error code",
    looks_at: "protected-resource 401 responses with a Bearer challenge: its error attribute, against whether a Bearer token was presented",
    deviation: "bearer-challenge-error-code",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Response,
        eval: invalid_token_error,
    },
};

fn invalid_token_error(cx: &Ctx<'_>) -> Judged {
    if cx.status() != 401 {
        return Judged::NotApplicable(cx.say(|| format!("HTTP {}", cx.status())));
    }
    let Some(challenge) = bearer_challenge_of(cx) else {
        return Judged::NotApplicable("no Bearer challenge (its own check)".into());
    };
    let error = challenge.param("error");
    match (cx.bearer_presented(), error) {
        (true, Some("invalid_token" | "invalid_request")) => Judged::Pass(cx.say(|| {
            format!(
                "error=\"{}\" for the presented token",
                error.unwrap_or_default()
            )
        })),
        (true, Some(other)) => Judged::Violated(
            format!(
                "error=\"{}\" for a rejected token; expected invalid_token",
                other.escape_debug()
            )
            .into(),
        ),
        (true, None) => Judged::Violated("no error attribute for a rejected token".into()),
        (false, None) => Judged::Pass("no error code for a request without a Bearer token".into()),
        (false, Some(other)) => Judged::Violated(
            format!(
                "error=\"{}\" for a request without a Bearer token, which should get no error code",
                other.escape_debug()
            )
            .into(),
        ),
    }
}

pub(crate) const INSUFFICIENT_SCOPE: Check = Check {
    id: "RFC6750-3.1-insufficient-scope",
    clause: "RFC6750-3.1",
    severity: Severity::Warning,
    title: "A 403 to a Bearer token says error=\"insufficient_scope\"",
    looks_at: "protected-resource 403 responses to a request with a Bearer token: the Bearer challenge's error attribute",
    deviation: "bearer-challenge-error-code",
    rule: Rule::Exchange {
        kind: ExchangeKind::Resource,
        side: Side::Response,
        eval: insufficient_scope,
    },
};

fn insufficient_scope(cx: &Ctx<'_>) -> Judged {
    if cx.status() != 403 || !cx.bearer_presented() {
        return Judged::NotApplicable(
            cx.say(|| format!("not a 403 to a Bearer token (HTTP {})", cx.status())),
        );
    }
    match bearer_challenge_of(cx) {
        Some(challenge) if challenge.param("error") == Some("insufficient_scope") => {
            Judged::Pass("HTTP 403 with error=\"insufficient_scope\"".into())
        }
        Some(challenge) => Judged::Violated(
            format!(
                "HTTP 403 with a Bearer challenge whose error is {}",
                challenge.param("error").map_or_else(
                    || "absent".to_owned(),
                    |e| format!("\"{}\"", e.escape_debug())
                )
            )
            .into(),
        ),
        None => Judged::NotApplicable("no Bearer challenge (RFC6750-3-bearer-challenge)".into()),
    }
}

pub(crate) const BEARER_ACCEPTED: Check = Check {
    id: "RFC6750-2.1-bearer-accepted",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "An issued access token works as `Authorization: Bearer`",
    looks_at: "case steps: protected-resource calls presenting, as Bearer, the latest access token issued in the case within its lifetime (mock clock moves counted) and before any refused refresh or code exchange, which may revoke it; 2xx or 403 passes, 401 fails",
    deviation: "bearer-header-rejected",
    rule: Rule::Sequence(bearer_accepted),
};

fn bearer_accepted(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no resource call presented the latest access token within its lifetime",
        ),
        ..Tally::default()
    };
    let mut latest: Option<&Step<'_>> = None;
    for step in steps {
        if step.kind == Token && step.success && step.issued_access.is_some() {
            latest = Some(step);
            continue;
        }
        // A refused refresh or code exchange may be a replay, which a server
        // may answer by revoking the tokens of its grant (RFC 9700 §4.14.2,
        // RFC 6749 §4.1.2): the latest token is no longer owed acceptance.
        if step.kind == Token
            && !step.success
            && matches!(step.grant, Some("refresh_token" | "authorization_code"))
        {
            latest = None;
            continue;
        }
        let (Resource, Some(sent), Some(issuer)) = (step.kind, &step.bearer_sent, latest) else {
            continue;
        };
        if issuer.issued_access.as_ref() != Some(sent) {
            continue;
        }
        let Some(lifetime) = issuer.lifetime else {
            continue;
        };
        if step.clock_offset.saturating_sub(issuer.clock_offset) >= lifetime {
            continue;
        }
        let what = format!(
            "exchange #{}: the access token from exchange #{}",
            step.number, issuer.number
        );
        match step.status {
            200..=299 | 403 => tally
                .passes
                .push(format!("{what} was accepted (HTTP {})", step.status)),
            401 => tally.violations.push(format!(
                "{what}, within its lifetime, was refused with HTTP 401"
            )),
            _ => {}
        }
    }
    tally
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        let a1 = strong(21);
        vec![
            // RFC 6750: resource calls.
            fx(
                "bearer resource call accepted",
                vec![resource(
                    vec![bearer(&strong(7))],
                    ok(json!({ "ok": true })),
                )],
                &[
                    ("RFC6750-2.1-authorization-header", Pass),
                    ("RFC6750-3-bearer-challenge", NA),
                    ("RFC6749-5.1-status-200", NA),
                ],
            ),
            fx(
                "token sent without a scheme",
                vec![resource(
                    vec![("authorization", Text::secret(strong(8)))],
                    response(401, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[
                    ("RFC6750-2.1-authorization-header", NA),
                    ("RFC6750-2.1-scheme-present", Warn),
                    ("RFC6750-3-bearer-challenge", Pass),
                    ("RFC6750-3.1-invalid-token-error", Pass),
                ],
            ),
            fx(
                "Bearer credentials that are not a b64token",
                vec![resource(
                    vec![(
                        "authorization",
                        Text::secret(format!("Bearer {} {}", strong(8), strong(9))),
                    )],
                    ok(json!({ "ok": true })),
                )],
                &[("RFC6750-2.1-authorization-header", Fail)],
            ),
            fx(
                "token in the query",
                vec![resource_at(
                    &format!("{RESOURCE}?access_token={}", strong(9)),
                    Vec::new(),
                    ok(json!({ "ok": true })),
                )],
                &[
                    ("RFC6750-2.1-authorization-header", NA),
                    ("RFC9700-2.4-token-not-in-query", Fail),
                ],
            ),
            fx(
                "rejected token with invalid_token",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(
                        401,
                        &[(
                            "www-authenticate",
                            "Bearer realm=\"p\", error=\"invalid_token\", error_description=\"expired, sorry\"",
                        )],
                        "",
                    ),
                )],
                &[
                    ("RFC6750-3-bearer-challenge", Pass),
                    ("RFC6750-3.1-invalid-token-error", Pass),
                ],
            ),
            fx(
                "rejected token without a challenge",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, JSON, "{}"),
                )],
                &[("RFC6750-3-bearer-challenge", Fail)],
            ),
            fx(
                "rejected token with a Basic challenge only",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, &[("www-authenticate", "Basic realm=\"p\"")], ""),
                )],
                &[("RFC6750-3-bearer-challenge", Fail)],
            ),
            fx(
                "rejected token without an error code",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[("RFC6750-3.1-invalid-token-error", Warn)],
            ),
            fx(
                "no token but an error code",
                vec![resource(
                    Vec::new(),
                    response(
                        401,
                        &[("www-authenticate", "Bearer error=\"invalid_token\"")],
                        "",
                    ),
                )],
                &[
                    ("RFC6750-3.1-invalid-token-error", Warn),
                    ("RFC6750-2.1-authorization-header", NA),
                ],
            ),
            fx(
                "403 with insufficient_scope",
                vec![resource(
                    vec![bearer(&strong(14))],
                    response(
                        403,
                        &[(
                            "www-authenticate",
                            "Bearer realm=\"p\", error=\"insufficient_scope\", scope=\"write\"",
                        )],
                        "",
                    ),
                )],
                &[("RFC6750-3.1-insufficient-scope", Pass)],
            ),
            fx(
                "403 without a challenge",
                vec![resource(
                    vec![bearer(&strong(14))],
                    response(403, JSON, "{}"),
                )],
                &[
                    ("RFC6750-3-bearer-challenge", Fail),
                    ("RFC6750-3.1-insufficient-scope", NA),
                ],
            ),
            fx(
                "403 without insufficient_scope",
                vec![resource(
                    vec![bearer(&strong(14))],
                    response(403, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[
                    ("RFC6750-3.1-insufficient-scope", Warn),
                    ("RFC6750-3-bearer-challenge", Pass),
                ],
            ),
            fx(
                "403 to a request without a Bearer token",
                vec![resource(Vec::new(), response(403, JSON, "{}"))],
                &[("RFC6750-3-bearer-challenge", NA)],
            ),
            fx(
                "issued token works as Bearer",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(vec![bearer(&a1)], ok(json!({ "ok": true }))),
                ],
                &[("RFC6750-2.1-bearer-accepted", Pass)],
            ),
            fx(
                "issued token refused as Bearer",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(
                        vec![bearer(&a1)],
                        response(
                            401,
                            &[("www-authenticate", "Bearer error=\"invalid_token\"")],
                            "",
                        ),
                    ),
                ],
                &[("RFC6750-2.1-bearer-accepted", Fail)],
            ),
            fx(
                "expired token refused after the mock clock moved",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(
                        vec![bearer(&a1), (CLOCK_OFFSET_HEADER, Text::from("3600"))],
                        response(
                            401,
                            &[("www-authenticate", "Bearer error=\"invalid_token\"")],
                            "",
                        ),
                    ),
                ],
                &[("RFC6750-2.1-bearer-accepted", NA)],
            ),
            fx(
                "token refused after a refused refresh, which may have revoked it",
                vec![
                    password_login("read", &strong(11)),
                    refresh(&strong(11), None, refreshed(&a1, Some(&strong(12)), None)),
                    refresh(
                        &strong(11),
                        None,
                        error(400, json!({ "error": "invalid_grant" })),
                    ),
                    resource(
                        vec![bearer(&a1)],
                        response(
                            401,
                            &[("www-authenticate", "Bearer error=\"invalid_token\"")],
                            "",
                        ),
                    ),
                ],
                &[("RFC6750-2.1-bearer-accepted", NA)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
