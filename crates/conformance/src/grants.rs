//! Whom and what a grant is for (RFC 6749 §4.4, §5.1, §6, §10.4): a
//! client_credentials token only for a client that authenticated, a refresh
//! token only for the client it was issued to, and the granted scope stated
//! when it is not the one requested.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::ctx::Ctx;
use crate::params::names_scope;
use crate::steps::{Step, Tally, scope_set};
use crate::token_view::Class;
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

pub(crate) const CLIENT_CREDENTIALS_AUTHENTICATED: Check = Check {
    id: "RFC6749-4.4-client-authenticated",
    clause: "RFC6749-4.4",
    severity: Severity::Failure,
    title: "A client_credentials token is issued only to a client that authenticated",
    looks_at: "client_credentials token requests with no client authentication (no Basic credentials, no client_secret, no client_assertion): a token issued fails, a refusal passes",
    deviation: "unauthenticated-client-credentials",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: client_credentials_authenticated,
    },
};

fn client_credentials_authenticated(cx: &Ctx<'_>) -> Judged {
    if !cx.grant_is("client_credentials") {
        return Judged::NotApplicable("not a client_credentials request".into());
    }
    let param = |name: &str| cx.params.iter().any(|p| p.name == name && !p.is_empty());
    if cx.basic.is_some() || param("client_secret") || param("client_assertion") {
        return Judged::NotApplicable("the client authenticated".into());
    }
    match cx.class {
        Class::Success => {
            Judged::Violated("a token was issued to a request without client authentication".into())
        }
        Class::Error => Judged::Pass(cx.say(|| {
            format!(
                "a request without client authentication was refused (HTTP {})",
                cx.status()
            )
        })),
        _ => Judged::NotApplicable(
            cx.say(|| format!("neither a token nor a refusal (HTTP {})", cx.status())),
        ),
    }
}

pub(crate) const SCOPE_STATED_WHEN_CHANGED: Check = Check {
    id: "RFC6749-5.1-scope-stated-when-changed",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`scope` is in the answer when the granted scope is not the requested one",
    looks_at: "successful token responses to a request naming a scope: `scope` present passes; absent, while the access token is a JWT whose `scope`, `scp` or `scopes` claim differs from the request, fails; absent with no such claim is not applicable (what was granted cannot be told)",
    deviation: "changed-scope-not-stated",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: scope_stated_when_changed,
    },
};

fn scope_stated_when_changed(cx: &Ctx<'_>) -> Judged {
    let Some(view) = &cx.token else {
        return cx.not_success();
    };
    // Every occurrence: a provider that wants lists repeated gets `scope`
    // once per value.
    let requested: BTreeSet<String> = cx
        .params
        .iter()
        .filter(|p| names_scope(&p.name))
        .flat_map(|p| scope_set(&p.values))
        .collect();
    if requested.is_empty() {
        return Judged::NotApplicable("the request names no scope".into());
    }
    if view.object.get("scope").is_some_and(|s| !s.is_null()) {
        return Judged::Pass("`scope` is stated".into());
    }
    let granted = view
        .object
        .get("access_token")
        .and_then(Value::as_str)
        .and_then(jwt_scope)
        .map(|(_, scope)| scope);
    match granted {
        Some(granted) if granted != requested => Judged::Violated(
            format!(
                "no `scope`, while the access token's claim grants `{}` for the requested `{}`",
                join(&granted),
                join(&requested)
            )
            .into(),
        ),
        Some(_) => Judged::Pass(
            "no `scope`, and the access token's claim grants the requested scope".into(),
        ),
        None => Judged::NotApplicable(
            "no `scope`, and nothing in the answer says what was granted".into(),
        ),
    }
}

fn join(scope: &BTreeSet<String>) -> String {
    scope.iter().cloned().collect::<Vec<_>>().join(" ")
}

/// A scope a JSON answer or claim states, as a set: space-separated text,
/// or an array of strings.
pub fn scope_from_json(value: &Value) -> Option<BTreeSet<String>> {
    match value {
        Value::String(text) => Some(text.split_whitespace().map(str::to_owned).collect()),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// The scope claim of a JWT access token's payload, read without verifying
/// it, and the claim's name: `scope` (RFC 9068 §2.2.3), or `scp` or
/// `scopes` as some providers write it, as a string or an array.
pub fn jwt_scope(token: &str) -> Option<(&'static str, BTreeSet<String>)> {
    let claims = grantspec_token::unverified_claims(token)?;
    ["scope", "scp", "scopes"]
        .into_iter()
        .find_map(|name| Some((name, scope_from_json(claims.get(name)?)?)))
}

pub(crate) const REFRESH_BOUND_TO_CLIENT: Check = Check {
    id: "RFC6749-10.4-refresh-bound-to-client",
    clause: "RFC6749-10.4",
    severity: Severity::Failure,
    title: "A refresh token is refused when another client presents it",
    looks_at: "case steps: a refresh presenting a refresh token issued earlier in the case to another client (by Basic id or client_id); success fails, a refusal passes",
    deviation: "refresh-token-not-bound-to-client",
    rule: Rule::Sequence(refresh_bound_to_client),
};

fn refresh_bound_to_client(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no refresh token was presented by a client other than its own"),
        ..Tally::default()
    };
    for (index, step) in steps.iter().enumerate() {
        let (true, Some(sent), Some(presenter)) =
            (step.is_refresh(), step.sent_refresh, &step.client_id)
        else {
            continue;
        };
        let issuer = steps[..index]
            .iter()
            .rev()
            .find(|earlier| earlier.success && earlier.issued_refresh == Some(sent));
        let Some(owner) = issuer.and_then(|issuer| issuer.client_id.as_ref()) else {
            continue;
        };
        if owner == presenter {
            continue;
        }
        let issued_at = issuer.map_or(0, |issuer| issuer.number);
        if step.success {
            tally.violations.push(format!(
                "exchange #{}: another client redeemed the refresh token issued at exchange #{issued_at}",
                step.number
            ));
        } else {
            tally.passes.push(format!(
                "exchange #{}: another client's refresh token (issued at exchange #{issued_at}) was refused (HTTP {})",
                step.number, step.status
            ));
        }
    }
    tally
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    fn cc_without_auth(answer: HttpResponse) -> Fx {
        token(
            post(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("scope", "read"),
            ])),
            answer,
            "client_credentials",
        )
    }

    fn login(client: &str, refresh: &str) -> Fx {
        token(
            post(form(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("client_secret", "SECRET-c"),
                ("username", "admin"),
                ("password", "SECRET-pw"),
            ])),
            ok(token_with(json!({ "refresh_token": refresh }))),
            "password",
        )
    }

    fn refresh_by(client: &str, sent: &str, answer: HttpResponse) -> Fx {
        token(
            request(
                "POST",
                ENDPOINT,
                vec![basic(client, "SECRET-c")],
                Some(form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", sent),
                ])),
            ),
            answer,
            "refresh_token",
        )
    }

    fn scoped_cc(scope: &str, answer: HttpResponse) -> Fx {
        token(
            post(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "client-1"),
                ("client_secret", "SECRET-1"),
                ("scope", scope),
            ])),
            answer,
            "client_credentials",
        )
    }

    fn jwt_with(claims: Value) -> String {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.TKNsig", b64(json!({ "alg": "RS256" })), b64(claims))
    }

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        let (r1, r2) = (strong(51), strong(52));
        vec![
            fx(
                "a token for a client that did not authenticate",
                vec![cc_without_auth(ok(token_with(json!({}))))],
                &[("RFC6749-4.4-client-authenticated", Fail)],
            ),
            fx(
                "an unauthenticated client_credentials request refused",
                vec![cc_without_auth(error(
                    401,
                    json!({ "error": "invalid_client" }),
                ))],
                &[("RFC6749-4.4-client-authenticated", Pass)],
            ),
            fx(
                "an authenticated client_credentials request",
                vec![cc(ok(token_with(json!({}))))],
                &[("RFC6749-4.4-client-authenticated", NA)],
            ),
            fx(
                "another client redeems a refresh token",
                vec![
                    login("app-a", &r1),
                    refresh_by("app-b", &r1, ok(token_with(json!({ "refresh_token": r2 })))),
                ],
                &[("RFC6749-10.4-refresh-bound-to-client", Fail)],
            ),
            fx(
                "another client's refresh token refused, its own accepted",
                vec![
                    login("app-a", &r1),
                    refresh_by(
                        "app-b",
                        &r1,
                        error(400, json!({ "error": "invalid_grant" })),
                    ),
                    refresh_by("app-a", &r1, ok(token_with(json!({ "refresh_token": r2 })))),
                ],
                &[("RFC6749-10.4-refresh-bound-to-client", Pass)],
            ),
            fx(
                "a narrowed scope left unstated, the JWT says so",
                vec![scoped_cc(
                    "read write",
                    ok(token_with(json!({
                        "access_token": jwt_with(json!({ "scp": ["read"] }))
                    }))),
                )],
                &[("RFC6749-5.1-scope-stated-when-changed", Fail)],
            ),
            fx(
                "a narrowed scope stated",
                vec![scoped_cc(
                    "read write",
                    ok(token_with(json!({
                        "access_token": jwt_with(json!({ "scope": "read" })),
                        "scope": "read"
                    }))),
                )],
                &[("RFC6749-5.1-scope-stated-when-changed", Pass)],
            ),
            fx(
                "the requested scope granted and left unstated",
                vec![scoped_cc(
                    "read write",
                    ok(token_with(json!({
                        "access_token": jwt_with(json!({ "scopes": ["write", "read"] }))
                    }))),
                )],
                &[("RFC6749-5.1-scope-stated-when-changed", Pass)],
            ),
            fx(
                "a scope sent once per value, granted and left unstated",
                vec![token(
                    post(form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", "client-1"),
                        ("client_secret", "SECRET-1"),
                        ("scope", "read"),
                        ("scope", "write"),
                    ])),
                    ok(token_with(json!({
                        "access_token": jwt_with(json!({ "scopes": ["read", "write"] }))
                    }))),
                    "client_credentials",
                )],
                &[("RFC6749-5.1-scope-stated-when-changed", Pass)],
            ),
            fx(
                "an opaque token without scope says nothing",
                vec![scoped_cc("read", ok(token_with(json!({}))))],
                &[("RFC6749-5.1-scope-stated-when-changed", NA)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
