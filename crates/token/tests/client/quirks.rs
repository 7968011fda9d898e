//! Response quirks, one table row each, each row against its own server.

use std::time::SystemTime;

use grantspec_token::{
    Clock as _, ErrorBody, ManualClock, ResponseError, Token, TokenError, TokenType,
};
use serde_json::json;

use crate::server::{Canned, TestServer};
use crate::{client, client_credentials, profile, seconds_until};

type Check = fn(&ManualClock, Result<Token, TokenError>);

struct Row {
    quirk: &'static str,
    profile: serde_json::Value,
    answer: Canned,
    check: Check,
}

fn endpoint() -> serde_json::Value {
    json!({ "path": "/oauth/token" })
}

fn ok(result: Result<Token, TokenError>) -> Token {
    result.unwrap_or_else(|e| panic!("expected a token, got {e}"))
}

fn refused(result: Result<Token, TokenError>) -> grantspec_token::ProviderError {
    match result {
        Err(TokenError::Response(ResponseError::Refused(error))) => *error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn epoch(clock: &ManualClock) -> u64 {
    clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn rows(clock: &ManualClock) -> Vec<Row> {
    let now = epoch(clock);
    vec![
        Row {
            quirk: "lower-case bearer",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "bearer", "expires_in": 3600, "scope": ""}),
            ),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(token.token_type, TokenType::Bearer);
                assert_eq!(seconds_until(clock, token.expires_at), 3600);
                assert_eq!(token.scope, Some(vec![]));
            },
        },
        Row {
            quirk: "expires_in as a string",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": "600"}),
            ),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 600),
        },
        Row {
            quirk: "absolute expires",
            profile: json!({ "token_endpoint": endpoint(), "response": { "expiry": "expires" } }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires": now + 900}),
            ),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 900),
        },
        Row {
            quirk: "both expires_in and expires, expires_in wins",
            profile: json!({ "token_endpoint": endpoint(), "response": { "expiry": "both" } }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "expires": now + 900}),
            ),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 300),
        },
        Row {
            quirk: "no expiry at all, the documented default lifetime applies",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "expiry": "none", "default_lifetime": 120 }
            }),
            answer: Canned::json(200, json!({"access_token": "at", "token_type": "Bearer"})),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 120),
        },
        Row {
            quirk: "data envelope",
            profile: json!({ "token_endpoint": endpoint(), "response": { "envelope": "/data", "expiry": "both" } }),
            answer: Canned::json(
                200,
                json!({"data": {"access_token": "at", "token_type": "Bearer", "identifier": "client_credentials",
                                "expires_in": 3600, "expires": now + 3600}}),
            ),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(token.token_type, TokenType::Bearer);
                assert_eq!(seconds_until(clock, token.expires_at), 3600);
            },
        },
        Row {
            quirk: "documented envelope absent, token at the top level",
            profile: json!({ "token_endpoint": endpoint(), "response": { "envelope": "/data" } }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60}),
            ),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 60),
        },
        Row {
            quirk: "scope as an array",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60, "scope": ["read", "write"]}),
            ),
            check: |_, result| {
                assert_eq!(
                    ok(result).scope,
                    Some(vec!["read".to_owned(), "write".to_owned()])
                );
            },
        },
        Row {
            quirk: "scope as a space-delimited string",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60, "scope": "read write"}),
            ),
            check: |_, result| {
                assert_eq!(
                    ok(result).scope,
                    Some(vec!["read".to_owned(), "write".to_owned()])
                );
            },
        },
        Row {
            quirk: "errors array with a string status",
            profile: json!({ "token_endpoint": endpoint(), "errors": "errors_array" }),
            answer: Canned::json(
                401,
                json!({"errors": [{"code": "4", "status": "401", "title": "Unauthorized", "detail": "Client authentication failed"}]}),
            ),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(error.status, 401);
                let ErrorBody::ErrorsArray(items) = &error.body else {
                    panic!("{error:?}")
                };
                assert_eq!(items[0].status.as_deref(), Some("401"));
                assert_eq!(items[0].code.as_deref(), Some("4"));
                assert_eq!(items[0].title.as_deref(), Some("Unauthorized"));
                assert!(error.to_string().contains("Client authentication failed"));
            },
        },
        Row {
            quirk: "errors array with a numeric status",
            profile: json!({ "token_endpoint": endpoint(), "errors": "errors_array" }),
            answer: Canned::json(
                400,
                json!({"errors": [{"status": 400, "title": "Bad Request", "detail": "grant_type is required"}]}),
            ),
            check: |_, result| {
                let error = refused(result);
                let ErrorBody::ErrorsArray(items) = &error.body else {
                    panic!("{error:?}")
                };
                assert_eq!(items[0].status.as_deref(), Some("400"));
                assert_eq!(items[0].detail.as_deref(), Some("grant_type is required"));
            },
        },
        Row {
            quirk: "application/problem+json",
            profile: json!({ "token_endpoint": endpoint(), "errors": "problem" }),
            answer: Canned::text(
                400,
                "application/problem+json",
                json!({"type": "https://example.test/probs/bad-grant", "title": "Bad grant", "status": 400, "detail": "unknown grant"}).to_string(),
            ),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(
                    error.body,
                    ErrorBody::Problem {
                        problem_type: Some("https://example.test/probs/bad-grant".into()),
                        title: Some("Bad grant".into()),
                        detail: Some("unknown grant".into()),
                    }
                );
            },
        },
        Row {
            quirk: "RFC 6749 error keeps status, headers and body",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                401,
                json!({"error": "invalid_client", "error_description": "bad secret"}),
            )
            .with_header("www-authenticate", "Basic realm=\"token\"")
            .with_header("set-cookie", "session=s3ss10n"),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(error.status, 401);
                assert_eq!(error.code(), Some("invalid_client"));
                assert_eq!(
                    error.www_authenticate.as_deref(),
                    Some("Basic realm=\"token\"")
                );
                assert!(error.headers.iter().any(|(n, v)| n == "set-cookie" && v == "[redacted]"));
                assert!(error.redacted_body.contains("bad secret"));
            },
        },
        Row {
            quirk: "anything else is kept raw, tokens redacted",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::text(
                502,
                "text/plain",
                "upstream said access_token=leaky-value and gave up",
            ),
            check: |_, result| {
                let error = refused(result);
                let ErrorBody::Raw(raw) = &error.body else {
                    panic!("{error:?}")
                };
                assert!(raw.contains("gave up"));
                assert!(!raw.contains("leaky-value"));
            },
        },
        Row {
            quirk: "an error inside a 200",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"error": "invalid_grant", "error_description": "expired"}),
            ),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(error.status, 200);
                assert_eq!(error.code(), Some("invalid_grant"));
            },
        },
        Row {
            quirk: "an errors array inside a 200",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(200, json!({"errors": [{"status": "401", "title": "nope"}]})),
            check: |_, result| {
                let error = refused(result);
                assert!(matches!(error.body, ErrorBody::ErrorsArray(_)));
            },
        },
        Row {
            quirk: "success as 201",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                201,
                json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60}),
            ),
            check: |_, result| assert_eq!(ok(result).token_type, TokenType::Bearer),
        },
        Row {
            quirk: "missing token_type rejected (the default policy)",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(200, json!({"access_token": "at", "expires_in": 60})),
            check: |_, result| match result {
                Err(TokenError::Response(ResponseError::Malformed { reason, status, .. })) => {
                    assert_eq!(status, 200);
                    assert!(reason.contains("token_type"), "{reason}");
                }
                other => panic!("{other:?}"),
            },
        },
        Row {
            quirk: "missing token_type assumed Bearer",
            profile: json!({ "token_endpoint": endpoint(), "response": { "missing_token_type": "assume_bearer" } }),
            answer: Canned::json(200, json!({"access_token": "at", "expires_in": 60})),
            check: |_, result| assert_eq!(ok(result).token_type, TokenType::Bearer),
        },
        Row {
            quirk: "another token type kept as received",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "DPoP", "expires_in": 60}),
            ),
            check: |_, result| assert_eq!(ok(result).token_type, TokenType::Other("DPoP".into())),
        },
        Row {
            quirk: "a form-urlencoded success body",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::text(
                200,
                "application/x-www-form-urlencoded",
                "access_token=at&token_type=bearer&expires_in=90&scope=repo+gist",
            ),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(seconds_until(clock, token.expires_at), 90);
                assert_eq!(token.scope, Some(vec!["repo".into(), "gist".into()]));
            },
        },
        Row {
            quirk: "a form answer sent as text/plain, expires in seconds from now (Facebook's legacy answer)",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "encoding": "form", "expiry": "expires_relative", "missing_token_type": "assume_bearer" }
            }),
            answer: Canned::text(200, "text/plain; charset=UTF-8", "access_token=at&expires=5183999"),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(token.token_type, TokenType::Bearer);
                assert_eq!(seconds_until(clock, token.expires_at), 5_183_999);
            },
        },
        Row {
            quirk: "camelCase members (Plentymarkets)",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "members": {
                    "access_token": "accessToken", "token_type": "tokenType",
                    "expires_in": "expiresIn", "refresh_token": "refreshToken"
                } }
            }),
            answer: Canned::json(
                200,
                json!({"accessToken": "at", "tokenType": "Bearer", "expiresIn": 86400, "refreshToken": "rt"}),
            ),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(token.token_type, TokenType::Bearer);
                assert_eq!(seconds_until(clock, token.expires_at), 86_400);
                assert!(token.refresh_token.is_some());
            },
        },
        Row {
            quirk: "token_type aliases of Bearer (eBay)",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "bearer_aliases": ["Application Access Token", "User Access Token"] }
            }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Application Access Token", "expires_in": 7200}),
            ),
            check: |_, result| assert_eq!(ok(result).token_type, TokenType::Bearer),
        },
        Row {
            quirk: "expires_in 0 means it does not expire, scope null (Mailchimp)",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "zero_lifetime": "never" }
            }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "bearer", "expires_in": 0, "scope": null}),
            ),
            check: |clock, result| {
                let token = ok(result);
                assert_eq!(token.expires_at, None);
                assert!(!token.is_expired(clock.now()));
                assert_eq!(token.scope, None);
            },
        },
        Row {
            quirk: "expires_in 0 is already expired by default",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "bearer", "expires_in": 0}),
            ),
            check: |clock, result| assert!(ok(result).is_expired(clock.now())),
        },
        Row {
            quirk: "an errors array with errorType and message (Fitbit)",
            profile: json!({ "token_endpoint": endpoint(), "errors": "errors_array" }),
            answer: Canned::json(
                400,
                json!({"errors": [{"errorType": "invalid_grant", "message": "Authorization code invalid"}], "success": false}),
            ),
            check: |_, result| {
                let error = refused(result);
                assert!(error.is_invalid_grant());
                assert_eq!(
                    error.body,
                    ErrorBody::ErrorsArray(vec![grantspec_token::ErrorItem {
                        status: None,
                        code: Some("invalid_grant".into()),
                        title: None,
                        detail: Some("Authorization code invalid".into()),
                    }])
                );
            },
        },
        Row {
            quirk: "ok false with an error and status 200 (Slack)",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::json(200, json!({"ok": false, "error": "invalid_code"})),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(error.status, 200);
                assert_eq!(error.code(), Some("invalid_code"));
            },
        },
        Row {
            quirk: "a form-encoded error with status 200 (GitHub)",
            profile: json!({ "token_endpoint": endpoint(), "response": { "encoding": "form" } }),
            answer: Canned::text(
                200,
                "application/x-www-form-urlencoded",
                "error=bad_verification_code&error_description=The+code+passed+is+incorrect+or+expired.",
            ),
            check: |_, result| {
                let error = refused(result);
                assert_eq!(error.code(), Some("bad_verification_code"));
            },
        },
        Row {
            quirk: "issued_at in milliseconds and no expiry: the default lifetime (Salesforce)",
            profile: json!({
                "token_endpoint": endpoint(),
                "response": { "expiry": "none", "default_lifetime": 7200 }
            }),
            answer: Canned::json(
                200,
                json!({"access_token": "at", "token_type": "Bearer", "issued_at": "1278448832702", "instance_url": "https://yourInstance.salesforce.com/"}),
            ),
            check: |clock, result| assert_eq!(seconds_until(clock, ok(result).expires_at), 7200),
        },
        Row {
            quirk: "a success that is not JSON",
            profile: json!({ "token_endpoint": endpoint() }),
            answer: Canned::text(200, "text/html", "<html>login</html>"),
            check: |_, result| {
                assert!(matches!(
                    result,
                    Err(TokenError::Response(ResponseError::Malformed { .. }))
                ));
            },
        },
    ]
}

#[tokio::test]
async fn response_quirks_against_a_local_server() {
    let clock = ManualClock::default();
    for row in rows(&clock) {
        let server = TestServer::canned(row.answer).await;
        let client = client(profile(row.profile), &server.base, &clock);
        let result = client.fetch(&client_credentials()).await;
        assert_eq!(server.count(), 1, "{}", row.quirk);
        assert_eq!(server.requests()[0].path, "/oauth/token", "{}", row.quirk);
        println!("quirk: {}", row.quirk);
        (row.check)(&clock, result);
    }
}

#[test]
fn token_type_compares_case_insensitively() {
    for spelling in ["bearer", "Bearer", "BEARER", "bEaReR"] {
        assert_eq!(TokenType::parse(spelling), TokenType::Bearer);
    }
}
