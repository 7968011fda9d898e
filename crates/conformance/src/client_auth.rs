//! Client authentication (RFC 6749 §2.3, §2.3.1): where credentials travel, how
//! Basic credentials are encoded, one method per request.

use std::collections::BTreeSet;

use crate::ctx::Ctx;
use crate::params::{Place, is_credential_name, looks_form_encoded};
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

pub(crate) const NO_CREDENTIALS_IN_URL: Check = Check {
    id: "RFC6749-2.3.1-no-credentials-in-url",
    clause: "RFC6749-2.3.1",
    severity: Severity::Failure,
    title: "Credentials never travel in the request URI",
    looks_at: "token requests: query parameters named client_secret, password, refresh_token, code, code_verifier, assertion, client_assertion, subject_token, actor_token or access_token, and a password in the URL's user info",
    deviation: "credentials-in-url",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: no_credentials_in_url,
    },
};

fn no_credentials_in_url(cx: &Ctx<'_>) -> Judged {
    let names: BTreeSet<&str> = cx
        .params
        .iter()
        .filter(|p| p.place == Place::Query && is_credential_name(&p.name))
        .map(|p| &*p.name)
        .collect();
    let userinfo = cx.facts.request.url.password().is_some();
    if names.is_empty() && !userinfo {
        return Judged::Pass("no credential in the URL".into());
    }
    let mut what: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if userinfo {
        what.push("a password in the user info".into());
    }
    Judged::Violated(format!("the URL carries {}", what.join(", ")).into())
}

pub(crate) const BASIC_FORM_ENCODED: Check = Check {
    id: "RFC6749-2.3.1-basic-form-encoded",
    clause: "RFC6749-2.3.1",
    severity: Severity::Failure,
    title: "Basic credentials are form-urlencoded before base64",
    looks_at: "token requests with `Authorization: Basic`: the decoded id and secret may hold only characters application/x-www-form-urlencoded leaves as they are (A-Z a-z 0-9 * - . _), `+` and %XX escapes",
    deviation: "unencoded-basic-credentials",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: basic_form_encoded,
    },
};

fn basic_form_encoded(cx: &Ctx<'_>) -> Judged {
    match &cx.basic {
        None => Judged::NotApplicable("no `Authorization: Basic` header".into()),
        Some(Err(why)) => Judged::Violated((*why).into()),
        Some(Ok(basic)) => {
            let raw: Vec<&str> = [("client id", basic.id()), ("client secret", basic.secret())]
                .into_iter()
                .filter(|(_, value)| !looks_form_encoded(value))
                .map(|(what, _)| what)
                .collect();
            if raw.is_empty() {
                Judged::Pass("the id and secret hold only what form-encoding produces".into())
            } else {
                Judged::Violated(format!(
                    "the {} holds characters form-encoding would have escaped: it was not form-urlencoded before base64",
                    raw.join(" and the ")
                ).into())
            }
        }
    }
}

pub(crate) const ONE_AUTH_METHOD: Check = Check {
    id: "RFC6749-2.3-one-auth-method",
    clause: "RFC6749-2.3",
    severity: Severity::Failure,
    title: "At most one client authentication method per request",
    looks_at: "token requests: an `Authorization: Basic` header, a client_secret parameter and a client_assertion parameter; more than one of them fails",
    deviation: "multiple-client-authentication",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Request,
        eval: one_auth_method,
    },
};

fn one_auth_method(cx: &Ctx<'_>) -> Judged {
    const BASIC: &str = "client_secret_basic (Authorization: Basic)";
    const POST: &str = "client_secret_post (client_secret parameter)";
    const ASSERTION: &str = "a client assertion (client_assertion parameter)";
    let used = [
        (cx.basic.is_some(), BASIC),
        (cx.params.iter().any(|p| p.name == "client_secret"), POST),
        (
            cx.params.iter().any(|p| p.name == "client_assertion"),
            ASSERTION,
        ),
    ];
    let methods: Vec<&str> = used
        .iter()
        .filter(|(used, _)| *used)
        .map(|(_, method)| *method)
        .collect();
    match methods.len() {
        0 => Judged::Pass("no client authentication".into()),
        1 => Judged::Pass(match methods[0] {
            BASIC => concat!("one method: ", "client_secret_basic (Authorization: Basic)").into(),
            POST => concat!(
                "one method: ",
                "client_secret_post (client_secret parameter)"
            )
            .into(),
            _ => concat!(
                "one method: ",
                "a client assertion (client_assertion parameter)"
            )
            .into(),
        }),
        _ => Judged::Violated(
            format!("{} methods at once: {}", methods.len(), methods.join(", ")).into(),
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        vec![
            // §2.3.1 and §2.3: client authentication.
            fx(
                "basic credentials form-encoded",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![basic("client 1", "SECRET:p@ss/w+rd%")],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-2.3.1-basic-form-encoded", Pass),
                    ("RFC6749-2.3-one-auth-method", Pass),
                ],
            ),
            fx(
                "basic credentials not form-encoded",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![raw_basic("client 1:SECRET:p@ss/w")],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3.1-basic-form-encoded", Fail)],
            ),
            fx(
                "basic header that is not base64",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![("authorization", Text::secret("Basic SECRET!!"))],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3.1-basic-form-encoded", Fail)],
            ),
            fx(
                "basic and client_secret at once",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![basic("client-1", "SECRET-1")],
                        Some(form(&[
                            ("grant_type", "client_credentials"),
                            ("client_id", "client-1"),
                            ("client_secret", "SECRET-1"),
                        ])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3-one-auth-method", Fail)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
