//! The authorization code grant across a case's steps (RFC 6749 §4.1.2,
//! §4.1.3; RFC 7636 §4.6; RFC 9700 §2.1.1): a code is single use, bound to
//! its redirect URI and to its PKCE challenge, and a replay revokes what it
//! issued.
//!
//! An `authorize` step is an exchange of kind
//! [`Authorization`](crate::ExchangeKind::Authorization): its request holds
//! the redirect URI and the challenge, its redirect the code. A later token
//! request that sends that code is judged against them; the verifier is read
//! in memory to compare with the challenge and never shown.

use std::collections::HashSet;

use grantspec_token::PkceMethod;

use crate::ExchangeKind::{Authorization, Resource};
use crate::steps::{Step, Tally};
use crate::{Check, Rule, Severity};

/// The authorization step that issued `code`, if the case has one before
/// `before`.
fn issued_by<'a, 's>(steps: &'a [Step<'s>], code: &str, before: usize) -> Option<&'a Step<'s>> {
    steps[..before]
        .iter()
        .rev()
        .find(|step| step.kind == Authorization && step.issued_code.as_deref() == Some(code))
}

/// Each code exchange of the case that sends a code no earlier exchange
/// redeemed, with its position and the authorization step that issued the
/// code: the exchanges whose refusal can only be for what they sent.
fn first_uses<'a, 's>(steps: &'a [Step<'s>]) -> Vec<(&'a Step<'s>, &'a Step<'s>)> {
    let mut redeemed: HashSet<&str> = HashSet::new();
    let mut uses = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let (true, Some(code)) = (step.is_code_exchange(), step.sent_code) else {
            continue;
        };
        if redeemed.contains(code) {
            continue;
        }
        if let Some(authorization) = issued_by(steps, code, index) {
            uses.push((step, authorization));
        }
        if step.success {
            redeemed.insert(code);
        }
    }
    uses
}

/// How an exchange that should have been refused came out.
fn judge(tally: &mut Tally, step: &Step<'_>, what: &str) {
    if step.success {
        tally.violations.push(format!(
            "exchange #{}: {what}, and tokens were issued",
            step.number
        ));
    } else {
        tally.passes.push(format!(
            "exchange #{}: {what}, and it was refused (HTTP {})",
            step.number, step.status
        ));
    }
}

pub(crate) const CODE_SINGLE_USE: Check = Check {
    id: "RFC6749-4.1.2-code-single-use",
    clause: "RFC6749-4.1.2",
    severity: Severity::Failure,
    title: "An authorization code is exchanged once: a second exchange is refused",
    looks_at: "case steps: an authorization_code token request sending a code an earlier exchange of the case redeemed; success fails, a refusal passes",
    deviation: "authorization-code-reused",
    rule: Rule::Sequence(code_single_use),
};

/// For each exchange that sends a code an earlier one redeemed: the replay
/// and the exchange that redeemed it.
fn replays<'a, 's>(steps: &'a [Step<'s>]) -> Vec<(&'a Step<'s>, &'a Step<'s>)> {
    let mut redeemed: Vec<&Step<'s>> = Vec::new();
    let mut found = Vec::new();
    for step in steps.iter().filter(|s| s.is_code_exchange()) {
        let Some(code) = step.sent_code else { continue };
        match redeemed.iter().find(|first| first.sent_code == Some(code)) {
            Some(first) => found.push((step, *first)),
            None if step.success => redeemed.push(step),
            None => {}
        }
    }
    found
}

fn code_single_use(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no code was sent again after it was redeemed"),
        ..Tally::default()
    };
    for (replay, first) in replays(steps) {
        judge(
            &mut tally,
            replay,
            &format!(
                "the code redeemed at exchange #{} was sent again",
                first.number
            ),
        );
    }
    tally
}

pub(crate) const CODE_REPLAY_REVOKES_TOKENS: Check = Check {
    id: "RFC6749-4.1.2-code-replay-revokes-tokens",
    clause: "RFC6749-4.1.2",
    severity: Severity::Warning,
    title: "A replayed authorization code revokes the tokens issued for it",
    looks_at: "case steps: after a code is sent again and refused, the access token (at the protected resource) or refresh token (in a refresh) issued for its first exchange; accepted warns (the RFC says SHOULD), refused passes",
    deviation: "code-replay-keeps-tokens",
    rule: Rule::Sequence(code_replay_revokes_tokens),
};

fn code_replay_revokes_tokens(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no token issued for a code was used after the code's refused replay"),
        ..Tally::default()
    };
    for (replay, first) in replays(steps) {
        if replay.success {
            continue;
        }
        for later in steps.iter().filter(|s| s.number > replay.number) {
            let used = if later.kind == Resource
                && later.bearer_sent.is_some()
                && later.bearer_sent == first.issued_access
            {
                "the access token"
            } else if later.is_refresh()
                && later.sent_refresh.is_some()
                && later.sent_refresh == first.issued_refresh
            {
                "the refresh token"
            } else {
                continue;
            };
            let accepted = if later.kind == Resource {
                (200..300).contains(&later.status)
            } else {
                later.success
            };
            let what = format!(
                "exchange #{}: {used} issued at exchange #{} after the code's replay at exchange #{}",
                later.number, first.number, replay.number
            );
            if accepted {
                tally.violations.push(format!("{what} was still accepted"));
            } else {
                tally
                    .passes
                    .push(format!("{what} was refused (HTTP {})", later.status));
            }
        }
    }
    tally
}

pub(crate) const REDIRECT_URI_MATCH: Check = Check {
    id: "RFC6749-4.1.3-redirect-uri-match",
    clause: "RFC6749-4.1.3",
    severity: Severity::Failure,
    title: "A code is exchanged only with the redirect_uri of its authorization request",
    looks_at: "case steps: the first exchange of a code an authorize step obtained with a redirect_uri, sending another redirect_uri or none; success fails, a refusal passes",
    deviation: "redirect-uri-not-checked",
    rule: Rule::Sequence(redirect_uri_match),
};

fn redirect_uri_match(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no code exchanged with a redirect_uri other than its authorization request's",
        ),
        ..Tally::default()
    };
    for (step, authorization) in first_uses(steps) {
        let Some(registered) = authorization.sent_redirect_uri else {
            continue;
        };
        let what = match step.sent_redirect_uri {
            Some(sent) if sent == registered => continue,
            Some(_) => "the redirect_uri differs from the authorization request's",
            None => "no redirect_uri, where the authorization request had one",
        };
        judge(
            &mut tally,
            step,
            &format!("{what} (exchange #{})", authorization.number),
        );
    }
    tally
}

pub(crate) const WRONG_VERIFIER_REFUSED: Check = Check {
    id: "RFC7636-4.6-wrong-verifier-refused",
    clause: "RFC7636-4.6",
    severity: Severity::Failure,
    title: "A code issued with a PKCE challenge is refused with a verifier that does not match it",
    looks_at: "case steps: the first exchange of a code an authorize step obtained with a code_challenge, sending a code_verifier whose S256 or plain transform is not the challenge; success fails, a refusal passes",
    deviation: "pkce-not-enforced",
    rule: Rule::Sequence(wrong_verifier_refused),
};

fn wrong_verifier_refused(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no code issued with a challenge was exchanged with a wrong verifier"),
        ..Tally::default()
    };
    for (step, authorization) in first_uses(steps) {
        let (Some((challenge, method)), Some(verifier)) =
            (authorization.challenge, step.sent_verifier)
        else {
            continue;
        };
        if method.challenge(verifier) == challenge {
            continue;
        }
        judge(
            &mut tally,
            step,
            &format!(
                "the code_verifier does not match the {method} challenge of exchange #{}",
                authorization.number
            ),
        );
    }
    tally
}

pub(crate) const VERIFIER_REQUIRED: Check = Check {
    id: "RFC7636-4.6-verifier-required",
    clause: "RFC7636-4.6",
    severity: Severity::Failure,
    title: "A code issued with a PKCE challenge is refused without a verifier",
    looks_at: "case steps: the first exchange of a code an authorize step obtained with a code_challenge, sending no code_verifier; success fails, a refusal passes",
    deviation: "pkce-not-enforced",
    rule: Rule::Sequence(verifier_required),
};

fn verifier_required(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no code issued with a challenge was exchanged without a verifier"),
        ..Tally::default()
    };
    for (step, authorization) in first_uses(steps) {
        if authorization.challenge.is_none() || step.sent_verifier.is_some() {
            continue;
        }
        judge(
            &mut tally,
            step,
            &format!(
                "no code_verifier for a code issued with a challenge (exchange #{})",
                authorization.number
            ),
        );
    }
    tally
}

pub(crate) const VERIFIER_WITHOUT_CHALLENGE_REFUSED: Check = Check {
    id: "RFC9700-2.1.1-verifier-without-challenge-refused",
    clause: "RFC9700-2.1.1",
    severity: Severity::Failure,
    title: "A code_verifier is accepted only for a code whose authorization request had a challenge (PKCE downgrade)",
    looks_at: "case steps: the first exchange of a code an authorize step obtained without a code_challenge, sending a code_verifier; success fails, a refusal passes",
    deviation: "pkce-downgrade-accepted",
    rule: Rule::Sequence(verifier_without_challenge_refused),
};

fn verifier_without_challenge_refused(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no code issued without a challenge was exchanged with a verifier"),
        ..Tally::default()
    };
    for (step, authorization) in first_uses(steps) {
        if authorization.challenge.is_some() || step.sent_verifier.is_none() {
            continue;
        }
        judge(
            &mut tally,
            step,
            &format!(
                "a code_verifier for a code issued without a challenge (exchange #{})",
                authorization.number
            ),
        );
    }
    tally
}

pub(crate) const PLAIN_WHERE_S256: Check = Check {
    id: "RFC9700-2.1.1-plain-pkce-downgrade",
    clause: "RFC9700-2.1.1",
    severity: Severity::Warning,
    title: "The `plain` PKCE method is not accepted where S256 is",
    looks_at: "case steps: an authorization request with code_challenge_method plain (or none named, which means plain), in a case where an S256 request got a code; a code for it warns, an error passes",
    deviation: "plain-pkce-accepted",
    rule: Rule::Sequence(plain_where_s256),
};

fn plain_where_s256(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no plain challenge in a case where S256 got a code"),
        ..Tally::default()
    };
    let s256 = steps.iter().find(|step| {
        matches!(step.challenge, Some((_, PkceMethod::S256))) && step.issued_code.is_some()
    });
    let Some(s256) = s256 else {
        return tally;
    };
    for step in steps.iter().filter(|step| step.kind == Authorization) {
        let Some((_, PkceMethod::Plain)) = step.challenge else {
            continue;
        };
        let what = format!(
            "exchange #{}: a plain challenge, where S256 got a code at exchange #{}",
            step.number, s256.number
        );
        if step.issued_code.is_some() {
            tally.violations.push(format!("{what}, got a code"));
        } else {
            tally
                .passes
                .push(format!("{what}, was refused (HTTP {})", step.status));
        }
    }
    tally
}

#[cfg(test)]
pub(crate) mod tests {
    use grantspec_token::PkceMethod;

    use crate::ExchangeKind::Authorization;
    use crate::testkit::*;

    const REDIRECT: &str = "https://app.test/cb";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const OTHER_VERIFIER: &str = "SECRET-other-verifier-0123456789abcdefghijklmn";

    /// An authorization request of `app`, answered with a code or an error.
    pub(crate) fn authorization(
        method: Option<PkceMethod>,
        redirect_uri: Option<&str>,
        answer: Result<&str, &str>,
    ) -> Fx {
        let mut url = url::Url::parse("https://provider.test/authorize").unwrap();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("response_type", "code");
            query.append_pair("client_id", "app");
            if let Some(redirect_uri) = redirect_uri {
                query.append_pair("redirect_uri", redirect_uri);
            }
            if let Some(method) = method {
                query.append_pair("code_challenge", &method.challenge(VERIFIER));
                query.append_pair("code_challenge_method", method.as_str());
            }
        }
        let location = match answer {
            Ok(code) => format!("{REDIRECT}?code={code}&state=s"),
            Err(error) => format!("{REDIRECT}?error={error}&state=s"),
        };
        Fx {
            request: request("GET", url.as_str(), Vec::new(), None),
            response: response(302, &[("location", &location)], ""),
            grant: None,
            shaped: true,
            kind: Authorization,
        }
    }

    /// A code exchange by `client`, with a verifier and a redirect URI when
    /// given.
    pub(crate) fn exchange(
        client: &str,
        code: &str,
        verifier: Option<&str>,
        redirect_uri: Option<&str>,
        answer: HttpResponse,
    ) -> Fx {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", client),
            ("client_secret", "SECRET-app"),
        ];
        if let Some(redirect_uri) = redirect_uri {
            pairs.push(("redirect_uri", redirect_uri));
        }
        if let Some(verifier) = verifier {
            pairs.push(("code_verifier", verifier));
        }
        token(post(form(&pairs)), answer, "authorization_code")
    }

    fn issued(access: &str, refresh: &str) -> HttpResponse {
        ok(token_with(
            json!({ "access_token": access, "refresh_token": refresh }),
        ))
    }

    fn invalid_grant() -> HttpResponse {
        error(400, json!({ "error": "invalid_grant" }))
    }

    /// Each check of the module breaks on one fixture and holds on another.
    pub(crate) fn fixtures() -> Vec<Fixture> {
        let (code, code2) = (strong(31), strong(32));
        let (a1, r1, a2, r2) = (strong(41), strong(42), strong(43), strong(44));
        let s256 = Some(PkceMethod::S256);
        vec![
            fx(
                "a conformant server: one use, redirect and verifier checked, replay revokes",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    exchange(
                        "app",
                        &code,
                        Some(OTHER_VERIFIER),
                        Some(REDIRECT),
                        invalid_grant(),
                    ),
                    exchange("app", &code, None, Some(REDIRECT), invalid_grant()),
                    exchange(
                        "app",
                        &code,
                        Some(VERIFIER),
                        Some("https://evil.test/cb"),
                        invalid_grant(),
                    ),
                    exchange(
                        "app",
                        &code,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        issued(&a1, &r1),
                    ),
                    exchange(
                        "app",
                        &code,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        invalid_grant(),
                    ),
                    resource(
                        vec![bearer(&a1)],
                        error(401, json!({ "error": "invalid_token" })),
                    ),
                    refresh(&r1, None, invalid_grant()),
                ],
                &[
                    ("RFC6749-4.1.2-code-single-use", Pass),
                    ("RFC6749-4.1.2-code-replay-revokes-tokens", Pass),
                    ("RFC6749-4.1.3-redirect-uri-match", Pass),
                    ("RFC7636-4.6-wrong-verifier-refused", Pass),
                    ("RFC7636-4.6-verifier-required", Pass),
                    ("RFC9700-2.1.1-verifier-without-challenge-refused", NA),
                    ("RFC9700-2.1.1-plain-pkce-downgrade", NA),
                ],
            ),
            fx(
                "a server that checks nothing",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    exchange(
                        "app",
                        &code,
                        Some(OTHER_VERIFIER),
                        Some("https://evil.test/cb"),
                        issued(&a1, &r1),
                    ),
                    exchange(
                        "app",
                        &code,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        issued(&a2, &r2),
                    ),
                    resource(vec![bearer(&a1)], ok(json!({ "ok": true }))),
                ],
                &[
                    ("RFC6749-4.1.2-code-single-use", Fail),
                    ("RFC6749-4.1.2-code-replay-revokes-tokens", NA),
                    ("RFC6749-4.1.3-redirect-uri-match", Fail),
                    ("RFC7636-4.6-wrong-verifier-refused", Fail),
                ],
            ),
            fx(
                "a replay refused, the tokens of the code still accepted",
                vec![
                    authorization(None, Some(REDIRECT), Ok(&code)),
                    exchange("app", &code, None, Some(REDIRECT), issued(&a1, &r1)),
                    exchange("app", &code, None, Some(REDIRECT), invalid_grant()),
                    resource(vec![bearer(&a1)], ok(json!({ "ok": true }))),
                ],
                &[
                    ("RFC6749-4.1.2-code-single-use", Pass),
                    ("RFC6749-4.1.2-code-replay-revokes-tokens", Warn),
                ],
            ),
            fx(
                "a code issued with a challenge, redeemed without a verifier",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    exchange("app", &code, None, Some(REDIRECT), issued(&a1, &r1)),
                ],
                &[
                    ("RFC7636-4.6-verifier-required", Fail),
                    ("RFC6749-4.1.3-redirect-uri-match", NA),
                ],
            ),
            fx(
                "a redirect_uri left out where the authorization request had one",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    exchange("app", &code, Some(VERIFIER), None, issued(&a1, &r1)),
                ],
                &[("RFC6749-4.1.3-redirect-uri-match", Fail)],
            ),
            fx(
                "a verifier for a code issued without a challenge",
                vec![
                    authorization(None, Some(REDIRECT), Ok(&code)),
                    exchange(
                        "app",
                        &code,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        issued(&a1, &r1),
                    ),
                    authorization(None, Some(REDIRECT), Ok(&code2)),
                    exchange(
                        "app",
                        &code2,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        invalid_grant(),
                    ),
                ],
                &[("RFC9700-2.1.1-verifier-without-challenge-refused", Fail)],
            ),
            fx(
                "a verifier for a code issued without a challenge, refused",
                vec![
                    authorization(None, Some(REDIRECT), Ok(&code2)),
                    exchange(
                        "app",
                        &code2,
                        Some(VERIFIER),
                        Some(REDIRECT),
                        invalid_grant(),
                    ),
                ],
                &[("RFC9700-2.1.1-verifier-without-challenge-refused", Pass)],
            ),
            fx(
                "plain accepted where S256 is",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    authorization(Some(PkceMethod::Plain), Some(REDIRECT), Ok(&code2)),
                ],
                &[("RFC9700-2.1.1-plain-pkce-downgrade", Warn)],
            ),
            fx(
                "plain refused where S256 is accepted",
                vec![
                    authorization(s256, Some(REDIRECT), Ok(&code)),
                    authorization(
                        Some(PkceMethod::Plain),
                        Some(REDIRECT),
                        Err("invalid_request"),
                    ),
                ],
                &[("RFC9700-2.1.1-plain-pkce-downgrade", Pass)],
            ),
            fx(
                "plain alone says nothing of S256",
                vec![authorization(
                    Some(PkceMethod::Plain),
                    Some(REDIRECT),
                    Ok(&code2),
                )],
                &[("RFC9700-2.1.1-plain-pkce-downgrade", NA)],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }

    #[test]
    fn details_never_show_codes_or_verifiers() {
        for fixture in fixtures() {
            for finding in run(&fixture) {
                for secret in [VERIFIER, OTHER_VERIFIER, "TKN"] {
                    assert!(
                        !finding.detail.contains(secret),
                        "{}: {}",
                        fixture.name,
                        finding.detail
                    );
                }
            }
        }
    }
}
