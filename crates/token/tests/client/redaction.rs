//! No `Debug` or `Display` output of a public type shows a secret or token.

use grantspec_token::{
    Body, ClientCredentials, Grant, HttpResponse, ManualClock, ParamValue, ProviderProfile,
    SecretString, Text, TokenClient, TokenRequest, build_request, parse_response,
};
use serde_json::json;
use url::Url;

use crate::server::{Canned, TestServer};
use crate::{client, profile};

const CLIENT_SECRET: &str = "CANARY-client-secret-7f3a";
const PASSWORD: &str = "CANARY-password-91bd";
const ACCESS_TOKEN: &str = "CANARY-access-token-c0de";
const REFRESH_TOKEN: &str = "CANARY-refresh-token-5eed";
const CODE: &str = "CANARY-code-ab12";
const VERIFIER: &str = "CANARY-verifier-0f0f";
const CANARIES: [&str; 6] = [
    CLIENT_SECRET,
    PASSWORD,
    ACCESS_TOKEN,
    REFRESH_TOKEN,
    CODE,
    VERIFIER,
];

/// Collects every text that was shown, and checks none has a canary.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn debug(&mut self, what: &str, value: &impl std::fmt::Debug) {
        self.0
            .push((format!("{what} (Debug)"), format!("{value:?}")));
        self.0
            .push((format!("{what} (Debug, alternate)"), format!("{value:#?}")));
    }

    fn display(&mut self, what: &str, value: &impl std::fmt::Display) {
        self.0
            .push((format!("{what} (Display)"), value.to_string()));
    }

    fn text(&mut self, what: &str, text: String) {
        self.0.push((what.to_owned(), text));
    }

    fn check(&self) {
        assert!(self.0.len() > 40, "too few outputs checked");
        for (what, text) in &self.0 {
            for canary in CANARIES {
                assert!(!text.contains(canary), "{what} shows {canary}:\n{text}");
            }
        }
    }
}

fn client_credentials() -> ClientCredentials {
    ClientCredentials::new("client-1", CLIENT_SECRET)
}

fn requests() -> Vec<TokenRequest> {
    vec![
        TokenRequest::new(Grant::ClientCredentials, client_credentials())
            .with_audience(["https://api.test"]),
        TokenRequest::new(Grant::password("admin", PASSWORD), client_credentials()),
        TokenRequest::new(Grant::refresh_token(REFRESH_TOKEN), client_credentials()),
        TokenRequest::new(
            Grant::authorization_code(
                CODE,
                Some("https://app.test/cb".into()),
                Some(VERIFIER.into()),
            ),
            client_credentials(),
        ),
        TokenRequest::implicit("public-client"),
        TokenRequest::new(Grant::ClientCredentials, client_credentials())
            .with_param("client_assertion", ParamValue::One(CODE.into())),
    ]
}

fn token_body() -> serde_json::Value {
    json!({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN, "token_type": "bearer",
           "expires_in": 600, "scope": "read"})
}

#[tokio::test]
async fn no_public_type_shows_a_secret() {
    let mut shown = Shown::default();
    let base = Url::parse("https://provider.test/").unwrap();

    shown.debug("ClientCredentials", &client_credentials());
    shown.debug("SecretString", &SecretString::from(CLIENT_SECRET));
    shown.debug("Text", &Text::secret(PASSWORD));
    shown.text("Text::shown", Text::secret(PASSWORD).shown().to_owned());

    // Requests in every dialect.
    let dialects: Vec<ProviderProfile> = [
        json!({ "token_endpoint": { "path": "/token", "client_auth": "basic" } }),
        json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } }),
        json!({ "token_endpoint": { "path": "/token", "client_auth": "post", "body": "json", "lists": "repeat" } }),
    ]
    .into_iter()
    .map(profile)
    .collect();
    for request in requests() {
        shown.debug("Grant", &request.grant);
        shown.debug("TokenRequest", &request);
        for dialect in &dialects {
            let http = build_request(dialect, &base, &request).unwrap();
            shown.debug("HttpRequest", &http);
            shown.text("HttpRequest::redacted", http.redacted());
            if let Some(body) = &http.body {
                shown.debug("Body", body);
                shown.text("Body::to_redacted_string", body.to_redacted_string());
            }
        }
    }
    // GET refuses the secret; the error does not show it.
    let get = profile(
        json!({ "token_endpoint": { "path": "/token", "method": "GET", "client_auth": "post" } }),
    );
    let error = build_request(&get, &base, &requests()[1]).unwrap_err();
    shown.debug("BuildError", &error);
    shown.display("BuildError", &error);

    // Raw bodies, as a harness sends them for negative cases.
    for (content_type, bytes) in [
        (
            "application/json",
            json!({"client_secret": CLIENT_SECRET, "password": PASSWORD, "code": CODE}).to_string(),
        ),
        (
            "application/x-www-form-urlencoded",
            format!(
                "client_secret={CLIENT_SECRET}&refresh_token={REFRESH_TOKEN}&code_verifier={VERIFIER}"
            ),
        ),
        (
            "text/plain",
            format!("{{\"password\": \"{PASSWORD}\", broken"),
        ),
    ] {
        let body = Body::Raw {
            content_type: Some(content_type.into()),
            bytes: bytes.into_bytes(),
        };
        shown.debug("Body::Raw", &body);
        shown.text("Body::Raw::to_redacted_string", body.to_redacted_string());
    }

    // Responses: JSON, form, broken JSON, error echoing a token.
    let clock = ManualClock::default();
    let rfc = ProviderProfile::default();
    let responses = [
        (200, "application/json", token_body().to_string()),
        (200, "application/x-www-form-urlencoded", format!("access_token={ACCESS_TOKEN}&token_type=bearer&refresh_token={REFRESH_TOKEN}")),
        (200, "application/json", format!("{{\"access_token\": \"{ACCESS_TOKEN}\",, }}")),
        (200, "application/json", json!({"access_token": ACCESS_TOKEN}).to_string()),
        (400, "application/json", json!({"error": "invalid_grant", "refresh_token": REFRESH_TOKEN}).to_string()),
        (401, "application/json", json!({"errors": [{"status": 401, "title": "bad", "meta": {"access_token": ACCESS_TOKEN}}]}).to_string()),
        (500, "text/plain", format!("oops access_token={ACCESS_TOKEN} refresh_token: {REFRESH_TOKEN}")),
    ];
    for (status, content_type, body) in responses {
        let response = HttpResponse {
            status,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("set-cookie".into(), format!("sid={ACCESS_TOKEN}")),
            ],
            body: body.into_bytes(),
        };
        shown.debug("HttpResponse", &response);
        shown.text("HttpResponse::redacted_body", response.redacted_body());
        match parse_response(&rfc, &response, std::time::SystemTime::UNIX_EPOCH) {
            Ok(token) => {
                shown.debug("Token", &token);
                shown.display("TokenType", &token.token_type);
            }
            Err(error) => {
                shown.debug("ResponseError", &error);
                shown.display("ResponseError", &error);
                if let grantspec_token::ResponseError::Refused(provider) = &error {
                    shown.debug("ProviderError", provider);
                    shown.display("ProviderError", provider);
                    shown.debug("ErrorBody", &provider.body);
                }
            }
        }
    }

    // A client with cached tokens, and the errors it returns.
    let server = TestServer::start(|seen| {
        if seen.param("grant_type").as_deref() == Some("refresh_token") {
            Canned::json(
                400,
                json!({"error": "invalid_grant", "refresh_token": REFRESH_TOKEN}),
            )
        } else if seen.path.ends_with("/redirect") {
            Canned::text(307, "text/plain", "").with_header(
                "location",
                &format!("https://evil.test/x?code={CODE}#{ACCESS_TOKEN}"),
            )
        } else {
            Canned::json(200, token_body())
        }
    })
    .await;
    let client = client(
        profile(json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } })),
        &server.base,
        &clock,
    );
    let password = &requests()[1];
    shown.debug(
        "Token from get_token",
        &client.get_token(password).await.unwrap(),
    );
    shown.debug("TokenClient", &client);

    let mut errors = Vec::new();
    let code = &requests()[3];
    client.get_token(code).await.unwrap();
    client.invalidate(code).await;
    errors.push(client.get_token(code).await.unwrap_err()); // ReauthorizationRequired
    errors.push(client.fetch(&requests()[2]).await.unwrap_err()); // refused refresh
    let redirecting = TokenClient::new(
        profile(json!({ "token_endpoint": { "path": "/redirect", "client_auth": "post" } })),
        server.base.clone(),
    )
    .unwrap();
    errors.push(redirecting.fetch(password).await.unwrap_err());
    let insecure = TokenClient::new(
        profile(json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } })),
        Url::parse("http://example.invalid/").unwrap(),
    )
    .unwrap();
    errors.push(insecure.fetch(password).await.unwrap_err());
    let get = TokenClient::new(get.clone(), server.base.clone()).unwrap();
    errors.push(get.fetch(password).await.unwrap_err());
    for error in &errors {
        shown.debug("TokenError", error);
        shown.display("TokenError", error);
        if let grantspec_token::TokenError::Transport(transport) = error {
            shown.debug("TransportError", transport);
            shown.display("TransportError", transport);
            shown.display("TransportErrorKind", &transport.kind);
        }
    }
    assert_eq!(errors.len(), 5);
    shown.check();
}
