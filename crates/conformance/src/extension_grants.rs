//! The extension grants and JWT client authentication: JWT assertions
//! (RFC 7523 §3, OpenID Connect Core §9), the device authorization grant
//! (RFC 8628 §3.5) and token exchange (RFC 8693 §2.2.1).
//!
//! Times come from the response's `Date` header (RFC 9110 §6.6.1): the
//! server's own clock, which judged the request. Without one, a rule that
//! needs the time is not applicable.

use std::borrow::Cow;
use std::time::SystemTime;

use grantspec_token::{DEVICE_CODE_GRANT_TYPE, TOKEN_EXCHANGE_GRANT_TYPE, unverified_claims};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::steps::{Step, Tally};
use crate::token_view::Class;
use crate::{Check, ExchangeKind, Judged, Rule, Severity, Side};

/// Seconds of clock skew a server may allow on `exp` before an expired
/// assertion counts as accepted (RFC 7523 §3 leaves "reasonable" skew to
/// the server).
pub(crate) const EXP_SKEW: u64 = 120;

/// The parameters that carry an assertion: a client assertion (RFC 7523
/// §2.2) and a JWT bearer grant (§2.1).
const ASSERTION_PARAMS: [&str; 2] = ["client_assertion", "assertion"];

/// A JWT assertion a request carries, its claims read without verifying
/// its signature.
pub(crate) struct Assertion {
    /// `client_assertion` or `assertion`.
    pub(crate) param: &'static str,
    pub(crate) claims: serde_json::Map<String, Value>,
}

impl Assertion {
    fn text(&self, claim: &str) -> Option<&str> {
        self.claims.get(claim).and_then(Value::as_str)
    }

    fn audiences(&self) -> Vec<&str> {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => vec![aud.as_str()],
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// `(iss, jti)`, when it has a `jti`.
    pub(crate) fn id(&self) -> Option<(String, String)> {
        Some((
            self.text("iss").unwrap_or_default().to_owned(),
            self.text("jti")?.to_owned(),
        ))
    }
}

/// The assertions a request carries.
pub(crate) fn assertions(cx: &Ctx<'_>) -> Vec<Assertion> {
    ASSERTION_PARAMS
        .into_iter()
        .filter_map(|param| {
            let value = cx.params.iter().find(|p| p.name == param)?.first_value()?;
            Some(Assertion {
                param,
                claims: unverified_claims(value)?,
            })
        })
        .collect()
}

/// The response's `Date`, in seconds since the Unix epoch.
pub(crate) fn response_date(cx: &Ctx<'_>) -> Option<u64> {
    let date = httpdate::parse_http_date(cx.facts.response.header("date")?.trim()).ok()?;
    date.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|since| since.as_secs())
}

fn refused_or_accepted(cx: &Ctx<'_>, what: String) -> Judged {
    match cx.class {
        Class::Success => Judged::Violated(format!("{what} was accepted").into()),
        Class::Error => {
            Judged::Pass(cx.say(|| format!("{what} was refused (HTTP {})", cx.status())))
        }
        _ => Judged::NotApplicable(cx.say(|| format!("{what}: HTTP {}, no verdict", cx.status()))),
    }
}

pub(crate) const ASSERTION_AUDIENCE: Check = Check {
    id: "RFC7523-3-wrong-audience-refused",
    clause: "RFC7523-3",
    severity: Severity::Failure,
    title: "An assertion whose `aud` names another server is refused",
    looks_at: "token requests with a `client_assertion` or an `assertion` whose `aud` names neither the token endpoint URL nor any URL of its origin (an issuer identifier may be one): a token issued fails, a refusal passes",
    deviation: "assertion-audience-not-checked",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: assertion_audience,
    },
};

fn assertion_audience(cx: &Ctx<'_>) -> Judged {
    let found = assertions(cx);
    if found.is_empty() {
        return Judged::NotApplicable("no JWT assertion in the request".into());
    }
    let url = &cx.facts.request.url;
    let origin = url.origin().ascii_serialization();
    let ours = |aud: &str| {
        url::Url::parse(aud).is_ok_and(|aud| aud.origin().ascii_serialization() == origin)
    };
    match found
        .iter()
        .find(|assertion| !assertion.audiences().into_iter().any(ours))
    {
        Some(foreign) => refused_or_accepted(
            cx,
            format!(
                "a `{}` whose `aud` names no URL of this server",
                foreign.param
            ),
        ),
        None => Judged::NotApplicable("every assertion's `aud` names this server".into()),
    }
}

pub(crate) const ASSERTION_EXPIRY: Check = Check {
    id: "RFC7523-3-expired-assertion-refused",
    clause: "RFC7523-3",
    severity: Severity::Failure,
    title: "An expired assertion is refused",
    looks_at: "token requests with a `client_assertion` or an `assertion` whose `exp` is more than 120 s of skew before the response's `Date`: a token issued fails, a refusal passes; without `Date`, not applicable",
    deviation: "expired-assertion-accepted",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: assertion_expiry,
    },
};

fn assertion_expiry(cx: &Ctx<'_>) -> Judged {
    let found = assertions(cx);
    if found.is_empty() {
        return Judged::NotApplicable("no JWT assertion in the request".into());
    }
    let Some(now) = response_date(cx) else {
        return Judged::NotApplicable("the response has no readable `Date`".into());
    };
    let expired = found.iter().find(|assertion| {
        assertion
            .claims
            .get("exp")
            .and_then(Value::as_u64)
            .is_some_and(|exp| exp.saturating_add(EXP_SKEW) < now)
    });
    match expired {
        Some(expired) => refused_or_accepted(
            cx,
            format!(
                "a `{}` expired more than {EXP_SKEW} s before the response's `Date`",
                expired.param
            ),
        ),
        None => Judged::NotApplicable("no assertion had expired".into()),
    }
}

pub(crate) const ASSERTION_REPLAY: Check = Check {
    id: "RFC7523-3-replayed-jti-refused",
    clause: "RFC7523-3",
    severity: Severity::Failure,
    title: "An assertion's `jti` is accepted once",
    looks_at: "case steps: an assertion whose `iss` and `jti` an earlier, accepted request of the case already carried; a client assertion accepted again fails (OpenID Connect Core §9: used once), a JWT bearer grant accepted again warns (RFC 7523 §3 makes the replay check a MAY); refused passes",
    deviation: "assertion-replay-accepted",
    rule: Rule::Sequence(assertion_replay),
};

fn assertion_replay(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no assertion's `jti` was sent again after being accepted"),
        ..Tally::default()
    };
    for (at, step) in steps.iter().enumerate() {
        for (param, id) in &step.jtis {
            let earlier = steps[..at]
                .iter()
                .find(|earlier| earlier.success && earlier.jtis.iter().any(|(_, e)| e == id));
            let Some(earlier) = earlier else {
                continue;
            };
            let what = format!(
                "exchange #{}: the `{param}` `jti` accepted at exchange #{}",
                step.number, earlier.number
            );
            match (step.success, *param) {
                (true, "client_assertion") => {
                    tally.violations.push(format!("{what} was accepted again"))
                }
                (true, _) => tally.warnings.push(format!("{what} was accepted again")),
                (false, _) => tally
                    .passes
                    .push(format!("{what} was refused (HTTP {})", step.status)),
            }
        }
    }
    tally
}

/// RFC 8628 §3.5's error codes, and RFC 6749 §5.2's, which a device-code
/// poll may also get.
const DEVICE_ERRORS: &[&str] = &[
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
];

pub(crate) const DEVICE_ERROR_CODES: Check = Check {
    id: "RFC8628-3.5-polling-error-codes",
    clause: "RFC8628-3.5",
    severity: Severity::Failure,
    title: "A device-code poll is refused with RFC 8628 §3.5's codes",
    looks_at: "error responses to the device_code grant: `error` is authorization_pending, slow_down, access_denied, expired_token or an RFC 6749 §5.2 code",
    deviation: "device-polling-error-code",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: device_error_codes,
    },
};

fn device_error_codes(cx: &Ctx<'_>) -> Judged {
    if !cx.grant_is(DEVICE_CODE_GRANT_TYPE) {
        return Judged::NotApplicable("not a device_code poll".into());
    }
    if cx.class != Class::Error {
        return Judged::NotApplicable(cx.say(|| format!("not an error (HTTP {})", cx.status())));
    }
    match cx.error_code() {
        Some(code) if DEVICE_ERRORS.contains(&code) => Judged::Pass(cx.say(|| format!("`{code}`"))),
        Some(code) => Judged::Violated(
            format!(
                "`{}` is not a device-flow polling error",
                code.escape_debug()
            )
            .into(),
        ),
        // An error format without `error` is the error-format checks' to judge.
        None => Judged::NotApplicable("no string `error`".into()),
    }
}

pub(crate) const DEVICE_SLOW_DOWN: Check = Check {
    id: "RFC8628-3.5-fast-poll-slowed-down",
    clause: "RFC8628-3.5",
    severity: Severity::Warning,
    title: "A poll sooner than `interval` gets `slow_down`",
    looks_at: "case steps: a device_code poll whose response `Date` is less than the code's interval (the device authorization's `interval`, 5 s when absent, plus 5 s per `slow_down` since) after the previous poll's or the authorization's: `slow_down` passes, any other answer warns (§3.5 lets the server enforce the interval this way; it need not)",
    deviation: "device-interval-not-enforced",
    rule: Rule::Sequence(device_slow_down),
};

fn device_slow_down(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no device_code poll came sooner than the interval"),
        ..Tally::default()
    };
    for (at, poll) in steps.iter().enumerate() {
        let (Some(code), Some(date)) = (poll.device_code, poll.date) else {
            continue;
        };
        let issued = steps[..at]
            .iter()
            .rposition(|step| step.issued_device_code == Some(code));
        let mut interval = issued.and_then(|i| steps[i].interval).unwrap_or(5);
        let mut previous = issued.and_then(|i| steps[i].date);
        for earlier in &steps[issued.map_or(0, |i| i + 1)..at] {
            if earlier.device_code == Some(code) {
                previous = earlier.date.or(previous);
                if earlier.error == Some("slow_down") {
                    interval += 5;
                }
            }
        }
        let Some(previous) = previous else {
            continue;
        };
        let waited = date.saturating_sub(previous);
        if waited >= interval {
            continue;
        }
        let what = format!(
            "exchange #{}: polled {waited} s after the last, within the {interval} s interval,",
            poll.number
        );
        if poll.error == Some("slow_down") {
            tally.passes.push(format!("{what} got slow_down"));
        } else {
            tally
                .warnings
                .push(format!("{what} got HTTP {} without slow_down", poll.status));
        }
    }
    tally
}

pub(crate) const ISSUED_TOKEN_TYPE: Check = Check {
    id: "RFC8693-2.2.1-issued-token-type",
    clause: "RFC8693-2.2.1",
    severity: Severity::Failure,
    title: "A token exchange answer carries `issued_token_type`",
    looks_at: "successful token-exchange responses: `issued_token_type` is a non-empty string (REQUIRED)",
    deviation: "missing-issued-token-type",
    rule: Rule::Exchange {
        kind: ExchangeKind::Token,
        side: Side::Response,
        eval: issued_token_type,
    },
};

fn issued_token_type(cx: &Ctx<'_>) -> Judged {
    if !cx.grant_is(TOKEN_EXCHANGE_GRANT_TYPE) {
        return Judged::NotApplicable("not a token exchange".into());
    }
    let Some(token) = &cx.token else {
        return cx.not_success();
    };
    match token.object.get("issued_token_type") {
        Some(Value::String(kind)) if !kind.is_empty() => {
            Judged::Pass(cx.say(|| format!("`{}`", kind.escape_debug())))
        }
        Some(_) => Judged::Violated("`issued_token_type` is not a non-empty string".into()),
        None => Judged::Violated(Cow::Borrowed("no `issued_token_type`")),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::testkit::*;

    const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    const NOW: u64 = 1_767_225_600;

    fn assertion(aud: &str, exp: u64, jti: &str) -> String {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.SECRET-signature",
            b64(json!({ "alg": "ES256", "typ": "JWT" })),
            b64(json!({ "iss": "app", "sub": "app", "aud": aud, "exp": exp, "jti": jti }))
        )
    }

    fn date(seconds: u64) -> String {
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
    }

    fn dated(status: u16, body: Value, at: u64) -> HttpResponse {
        let date = date(at);
        let headers: Vec<(&str, &str)> = JSON_NO_STORE
            .iter()
            .copied()
            .chain([("date", date.as_str())])
            .collect();
        response(status, &headers, &body.to_string())
    }

    fn with_assertion(jwt: &str, response: HttpResponse) -> Fx {
        overridden(token(
            post(form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", jwt),
            ])),
            response,
            "client_credentials",
        ))
    }

    fn bearer_grant(jwt: &str, response: HttpResponse) -> Fx {
        token(
            post(form(&[
                ("grant_type", JWT_BEARER),
                ("client_id", "app"),
                ("assertion", jwt),
            ])),
            response,
            JWT_BEARER,
        )
    }

    fn refused(at: u64, code: &str) -> HttpResponse {
        dated(400, json!({ "error": code }), at)
    }

    fn device_start(code: &str, interval: u64, at: u64) -> Fx {
        Fx {
            request: post(form(&[("client_id", "tv"), ("scope", "read")])),
            response: dated(
                200,
                json!({ "device_code": code, "user_code": "BCDF-GHJK", "verification_uri": "https://provider.test/device", "expires_in": 600, "interval": interval }),
                at,
            ),
            grant: None,
            shaped: true,
            kind: ExchangeKind::DeviceAuthorization,
        }
    }

    fn poll(code: &str, response: HttpResponse) -> Fx {
        token(
            post(form(&[
                ("grant_type", DEVICE),
                ("client_id", "tv"),
                ("device_code", code),
            ])),
            response,
            DEVICE,
        )
    }

    fn exchange(response: HttpResponse) -> Fx {
        token(
            post(form(&[
                ("grant_type", EXCHANGE),
                ("client_id", "app"),
                ("client_secret", "SECRET-1"),
                ("subject_token", &strong(7)),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
            ])),
            response,
            EXCHANGE,
        )
    }

    pub(crate) fn fixtures() -> Vec<Fixture> {
        let good = assertion(ENDPOINT, NOW + 60, "jti-1");
        let issued = || dated(200, token_with(json!({})), NOW);
        vec![
            fx(
                "an assertion for another server, accepted",
                vec![with_assertion(
                    &assertion("https://elsewhere.test/token", NOW + 60, "j"),
                    issued(),
                )],
                &[("RFC7523-3-wrong-audience-refused", Fail)],
            ),
            fx(
                "an assertion for another server, refused",
                vec![with_assertion(
                    &assertion("https://elsewhere.test/token", NOW + 60, "j"),
                    refused(NOW, "invalid_client"),
                )],
                &[("RFC7523-3-wrong-audience-refused", Pass)],
            ),
            fx(
                "an assertion naming this server's issuer is no wrong audience",
                vec![with_assertion(
                    &assertion("https://provider.test/", NOW + 60, "j"),
                    issued(),
                )],
                &[
                    ("RFC7523-3-wrong-audience-refused", NA),
                    ("RFC7523-3-expired-assertion-refused", NA),
                ],
            ),
            fx(
                "an expired assertion, accepted",
                vec![with_assertion(
                    &assertion(ENDPOINT, NOW - 600, "j"),
                    issued(),
                )],
                &[("RFC7523-3-expired-assertion-refused", Fail)],
            ),
            fx(
                "an expired assertion, refused",
                vec![with_assertion(
                    &assertion(ENDPOINT, NOW - 600, "j"),
                    refused(NOW, "invalid_client"),
                )],
                &[("RFC7523-3-expired-assertion-refused", Pass)],
            ),
            fx(
                "an expired assertion, without a Date to judge by",
                vec![with_assertion(
                    &assertion(ENDPOINT, NOW - 600, "j"),
                    ok(token_with(json!({}))),
                )],
                &[("RFC7523-3-expired-assertion-refused", NA)],
            ),
            fx(
                "a client assertion replayed and accepted",
                vec![
                    with_assertion(&good, issued()),
                    with_assertion(&good, issued()),
                ],
                &[("RFC7523-3-replayed-jti-refused", Fail)],
            ),
            fx(
                "a client assertion replayed and refused",
                vec![
                    with_assertion(&good, issued()),
                    with_assertion(&good, refused(NOW, "invalid_client")),
                ],
                &[("RFC7523-3-replayed-jti-refused", Pass)],
            ),
            fx(
                "a JWT bearer grant replayed and accepted only warns",
                vec![bearer_grant(&good, issued()), bearer_grant(&good, issued())],
                &[("RFC7523-3-replayed-jti-refused", Warn)],
            ),
            fx(
                "two assertions with their own jti",
                vec![
                    with_assertion(&good, issued()),
                    with_assertion(&assertion(ENDPOINT, NOW + 60, "jti-2"), issued()),
                ],
                &[("RFC7523-3-replayed-jti-refused", NA)],
            ),
            fx(
                "a device flow: pending, a fast poll slowed down, approved",
                vec![
                    device_start("DC-SECRET-1", 5, NOW),
                    poll("DC-SECRET-1", refused(NOW + 5, "authorization_pending")),
                    poll("DC-SECRET-1", refused(NOW + 7, "slow_down")),
                    poll("DC-SECRET-1", dated(200, token_with(json!({})), NOW + 20)),
                ],
                &[
                    ("RFC8628-3.5-polling-error-codes", Pass),
                    ("RFC8628-3.5-fast-poll-slowed-down", Pass),
                    ("RFC6749-5.1-access-token", Pass),
                ],
            ),
            fx(
                "a device flow whose fast poll is answered pending",
                vec![
                    device_start("DC-SECRET-1", 5, NOW),
                    poll("DC-SECRET-1", refused(NOW + 1, "authorization_pending")),
                ],
                &[("RFC8628-3.5-fast-poll-slowed-down", Warn)],
            ),
            fx(
                "after a slow_down the interval is five seconds longer",
                vec![
                    device_start("DC-SECRET-1", 5, NOW),
                    poll("DC-SECRET-1", refused(NOW + 1, "slow_down")),
                    poll("DC-SECRET-1", refused(NOW + 7, "authorization_pending")),
                ],
                &[("RFC8628-3.5-fast-poll-slowed-down", Warn)],
            ),
            fx(
                "a device flow polled patiently",
                vec![
                    device_start("DC-SECRET-1", 5, NOW),
                    poll("DC-SECRET-1", refused(NOW + 5, "authorization_pending")),
                    poll("DC-SECRET-1", refused(NOW + 10, "access_denied")),
                ],
                &[
                    ("RFC8628-3.5-fast-poll-slowed-down", NA),
                    ("RFC8628-3.5-polling-error-codes", Pass),
                ],
            ),
            fx(
                "a device-code poll refused in an errors array",
                vec![poll(
                    "DC-SECRET-1",
                    dated(
                        400,
                        json!({ "errors": [{ "status": "400", "title": "Bad Request" }] }),
                        NOW,
                    ),
                )],
                &[("RFC8628-3.5-polling-error-codes", NA)],
            ),
            fx(
                "a device-code poll refused with a made-up code",
                vec![poll("DC-SECRET-1", refused(NOW, "still_waiting"))],
                &[("RFC8628-3.5-polling-error-codes", Fail)],
            ),
            fx(
                "a token exchange answer with issued_token_type",
                vec![exchange(ok(token_with(json!({
                    "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"
                }))))],
                &[("RFC8693-2.2.1-issued-token-type", Pass)],
            ),
            fx(
                "a token exchange answer without issued_token_type",
                vec![exchange(ok(token_with(json!({}))))],
                &[
                    ("RFC8693-2.2.1-issued-token-type", Fail),
                    ("RFC7523-3-wrong-audience-refused", NA),
                ],
            ),
        ]
    }

    #[test]
    fn fixture_expectations_hold() {
        assert_expectations(&fixtures());
    }
}
