//! Fixture exchanges for the checks' tests: builders for requests and
//! responses, and what running a fixture through every entry point means.
//! Secrets in fixtures contain `SECRET` and tokens start with `TKN`, so a
//! test can prove no detail shows them.

pub(crate) use base64::Engine as _;
pub(crate) use grantspec_token::{
    Body, CLOCK_OFFSET_HEADER, HttpRequest, HttpResponse, JsonField, SECRET_PARAMS, Text,
    basic_authorization,
};
pub(crate) use serde_json::{Value, json};
pub(crate) use std::borrow::Cow;

pub(crate) use crate::ExchangeKind::{Resource, Token};
pub(crate) use crate::Outcome::{Fail, NotApplicable as NA, Pass, Warn};
pub(crate) use crate::{
    Details, ExchangeFacts, ExchangeKind, Finding, Outcome, check_case, check_exchange,
    check_exchanges, check_sequence, find_check,
};

pub(crate) const ENDPOINT: &str = "https://provider.test/oauth/token";
pub(crate) const RESOURCE: &str = "https://provider.test/api/ping";

/// A deterministic high-entropy token: `TKN` and 40 base62 characters.
pub(crate) fn strong(seed: u64) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut out = String::from("TKN");
    for _ in 0..40 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        out.push(char::from(ALPHABET[((state >> 33) % 62) as usize]));
    }
    out
}

pub(crate) fn text(name: &str, value: &str) -> Text {
    if SECRET_PARAMS.contains(&name) {
        Text::secret(value)
    } else {
        Text::from(value)
    }
}

pub(crate) fn form(pairs: &[(&str, &str)]) -> Body {
    Body::Form(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), text(n, v)))
            .collect(),
    )
}

pub(crate) fn json_body(pairs: &[(&str, &str)]) -> Body {
    Body::Json(
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), JsonField::Text(text(n, v))))
            .collect(),
    )
}

pub(crate) fn request(
    method: &str,
    url: &str,
    headers: Vec<(&str, Text)>,
    body: Option<Body>,
) -> HttpRequest {
    let mut all = vec![("accept".to_owned(), Text::from("application/json"))];
    all.extend(headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
    HttpRequest {
        method: method.to_owned(),
        url: url::Url::parse(url).unwrap(),
        query: Vec::new(),
        headers: all,
        body,
    }
}

pub(crate) fn post(body: Body) -> HttpRequest {
    request("POST", ENDPOINT, Vec::new(), Some(body))
}

pub(crate) fn cc_request() -> HttpRequest {
    post(form(&[
        ("grant_type", "client_credentials"),
        ("client_id", "client-1"),
        ("client_secret", "SECRET-1"),
    ]))
}

pub(crate) fn basic(id: &str, secret: &str) -> (&'static str, Text) {
    (
        "authorization",
        Text::Secret(basic_authorization(id, secret)),
    )
}

pub(crate) fn raw_basic(pair: &str) -> (&'static str, Text) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
    ("authorization", Text::secret(format!("Basic {encoded}")))
}

pub(crate) fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

pub(crate) const JSON_NO_STORE: &[(&str, &str)] = &[
    ("content-type", "application/json;charset=UTF-8"),
    ("cache-control", "no-store"),
    ("pragma", "no-cache"),
];
pub(crate) const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

pub(crate) fn ok(body: Value) -> HttpResponse {
    response(200, JSON_NO_STORE, &body.to_string())
}

pub(crate) fn error(status: u16, body: Value) -> HttpResponse {
    response(status, JSON, &body.to_string())
}

/// A conformant token response, with `changes` merged in (null removes).
pub(crate) fn token_with(changes: Value) -> Value {
    let mut token = json!({
        "access_token": strong(1),
        "token_type": "Bearer",
        "expires_in": 3600,
    });
    if let (Some(map), Some(changes)) = (token.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            if value.is_null() {
                map.remove(key);
            } else {
                map.insert(key.clone(), value.clone());
            }
        }
    }
    token
}

pub(crate) struct Fx {
    pub(crate) request: HttpRequest,
    pub(crate) response: HttpResponse,
    pub(crate) grant: Option<&'static str>,
    pub(crate) shaped: bool,
    pub(crate) kind: ExchangeKind,
}

pub(crate) fn token(request: HttpRequest, response: HttpResponse, grant: &'static str) -> Fx {
    Fx {
        request,
        response,
        grant: Some(grant),
        shaped: true,
        kind: Token,
    }
}

pub(crate) fn cc(response: HttpResponse) -> Fx {
    token(cc_request(), response, "client_credentials")
}

/// [`cc`] with the profile's `Accept` header set to `accept`.
pub(crate) fn cc_accepting(accept: &str, response: HttpResponse) -> Fx {
    let mut request = cc_request();
    request.headers.retain(|(name, _)| name != "accept");
    request
        .headers
        .push(("accept".to_owned(), Text::from(accept)));
    token(request, response, "client_credentials")
}

pub(crate) fn overridden(mut fx: Fx) -> Fx {
    fx.shaped = false;
    fx
}

pub(crate) fn resource(headers: Vec<(&str, Text)>, response: HttpResponse) -> Fx {
    resource_at(RESOURCE, headers, response)
}

pub(crate) fn resource_at(url: &str, headers: Vec<(&str, Text)>, response: HttpResponse) -> Fx {
    Fx {
        request: request("GET", url, headers, None),
        response,
        grant: None,
        shaped: true,
        kind: Resource,
    }
}

pub(crate) fn bearer(token: &str) -> (&'static str, Text) {
    ("authorization", Text::secret(format!("Bearer {token}")))
}

pub(crate) fn password_login(scope: &str, refresh: &str) -> Fx {
    token(
        post(form(&[
            ("grant_type", "password"),
            ("client_id", "public-app"),
            ("username", "admin"),
            ("password", "SECRET-pw"),
            ("scope", scope),
        ])),
        ok(token_with(
            json!({ "refresh_token": refresh, "scope": scope }),
        )),
        "password",
    )
}

pub(crate) fn refresh(sent: &str, scope: Option<&str>, response: HttpResponse) -> Fx {
    let mut pairs = vec![
        ("grant_type", "refresh_token"),
        ("client_id", "public-app"),
        ("refresh_token", sent),
    ];
    if let Some(scope) = scope {
        pairs.push(("scope", scope));
    }
    token(post(form(&pairs)), response, "refresh_token")
}

pub(crate) fn refreshed(access: &str, refresh: Option<&str>, scope: Option<&str>) -> HttpResponse {
    let mut changes = json!({ "access_token": access });
    if let Some(refresh) = refresh {
        changes["refresh_token"] = Value::from(refresh);
    }
    if let Some(scope) = scope {
        changes["scope"] = Value::from(scope);
    }
    ok(token_with(changes))
}

pub(crate) fn jwt(alg: &str, signature: &str) -> String {
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{signature}",
        b64(json!({ "alg": alg, "typ": "JWT" })),
        b64(json!({ "sub": "TKN-subject", "exp": 1 }))
    )
}

pub(crate) struct Fixture {
    pub(crate) name: &'static str,
    pub(crate) exchanges: Vec<Fx>,
    pub(crate) expect: Vec<(&'static str, Outcome)>,
}

pub(crate) fn fx(
    name: &'static str,
    exchanges: Vec<Fx>,
    expect: &[(&'static str, Outcome)],
) -> Fixture {
    Fixture {
        name,
        exchanges,
        expect: expect.to_vec(),
    }
}

pub(crate) fn bodies(fixture: &Fixture) -> Vec<Option<Value>> {
    fixture
        .exchanges
        .iter()
        .map(|fx| fx.response.json())
        .collect()
}

/// A fixture's exchanges as the checks see them; `bodies` is
/// [`bodies`] of the fixture.
pub(crate) fn facts<'f>(
    fixture: &'f Fixture,
    bodies: &'f [Option<Value>],
) -> Vec<ExchangeFacts<'f>> {
    fixture
        .exchanges
        .iter()
        .zip(bodies)
        .map(|(fx, json)| ExchangeFacts {
            request: &fx.request,
            response: &fx.response,
            json: json.as_ref(),
            grant_type: fx.grant,
            request_is_profile_shaped: fx.shaped,
            kind: fx.kind,
        })
        .collect()
}

pub(crate) fn run(fixture: &Fixture) -> Vec<Finding> {
    let bodies = bodies(fixture);
    let facts = facts(fixture, &bodies);
    let mut findings: Vec<Finding> = facts.iter().flat_map(check_exchange).collect();
    findings.extend(check_sequence(&facts));
    // The case-level entry point reads each exchange once and must say
    // the same.
    let (each, sequence) = check_case(&facts, Details::All);
    for list in &each {
        assert!(
            list.capacity() >= list.len() + sequence.len(),
            "{}: an exchange's findings have room for the sequence findings, so that the runner appends them in place",
            fixture.name
        );
    }
    let together: Vec<Finding> = each.into_iter().flatten().chain(sequence).collect();
    assert_eq!(together, findings, "{}", fixture.name);
    // So does the entry point for bent requests, judged one by one.
    let alone: Vec<Finding> = check_exchanges(&facts, Details::All)
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(alone, findings[..alone.len()], "{}", fixture.name);
    // A case run keeps the same outcomes, and only deviations' details.
    let (each, sequence) = check_case(&facts, Details::Deviations);
    let kept: Vec<Finding> = each.into_iter().flatten().chain(sequence).collect();
    let expected: Vec<Finding> = findings
        .iter()
        .cloned()
        .map(|mut finding| {
            if !finding.outcome.is_deviation() {
                finding.detail = Cow::Borrowed("");
            }
            finding
        })
        .collect();
    assert_eq!(kept, expected, "{}", fixture.name);
    findings
}

/// Every fixture of every area.
pub(crate) fn all_fixtures() -> Vec<Fixture> {
    [
        crate::client_auth::tests::fixtures(),
        crate::request_shape::tests::fixtures(),
        crate::success::tests::fixtures(),
        crate::strength::tests::fixtures(),
        crate::error_response::tests::fixtures(),
        crate::bearer::tests::fixtures(),
        crate::placement::tests::fixtures(),
        crate::refresh::tests::fixtures(),
        crate::code::tests::fixtures(),
        crate::grants::tests::fixtures(),
        crate::extension_grants::tests::fixtures(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Runs every fixture and checks each expected outcome.
pub(crate) fn assert_expectations(fixtures: &[Fixture]) {
    let mut problems = Vec::new();
    for fixture in fixtures {
        let findings = run(fixture);
        for (id, outcome) in &fixture.expect {
            assert!(
                find_check(id).is_some(),
                "fixture {:?} names unknown check {id}",
                fixture.name
            );
            if !findings
                .iter()
                .any(|f| f.check.id == *id && f.outcome == *outcome)
            {
                let seen: Vec<String> = findings
                    .iter()
                    .filter(|f| f.check.id == *id)
                    .map(|f| format!("{:?}: {}", f.outcome, f.detail))
                    .collect();
                problems.push(format!(
                    "{:?}: expected {id} {outcome:?}, saw {seen:?}",
                    fixture.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
