//! Request quirks: each row sends a real request to a local server, which
//! checks what it received (raw body, query, decoded Basic credentials).

use grantspec_token::{
    BuildError, ClientCredentials, Grant, ManualClock, TokenError, TokenRequest,
};
use serde_json::json;

use crate::server::{Canned, Recorded, TestServer};
use crate::{client, profile};

struct Row {
    quirk: &'static str,
    profile: serde_json::Value,
    request: TokenRequest,
    /// Checks the request as the server received it.
    check: fn(&Recorded),
}

fn token() -> Canned {
    Canned::json(
        200,
        json!({"access_token": "at", "token_type": "Bearer", "expires_in": 60}),
    )
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            quirk: "accept: */* asks for a provider's default answer (GitHub's form)",
            profile: json!({ "token_endpoint": { "path": "/token", "accept": "*/*" } }),
            request: TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("client-1", "secret-1"),
            ),
            check: |seen| assert_eq!(seen.header("accept"), Some("*/*")),
        },
        Row {
            quirk: "accept: a media range list is sent as written",
            profile: json!({ "token_endpoint": {
                "path": "/token",
                "accept": "application/xml, application/json;q=0.5"
            } }),
            request: TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("client-1", "secret-1"),
            ),
            check: |seen| {
                assert_eq!(
                    seen.header("accept"),
                    Some("application/xml, application/json;q=0.5")
                );
            },
        },
        Row {
            quirk: "Basic credentials with reserved characters are form-encoded before base64",
            profile: json!({ "token_endpoint": { "path": "/token", "client_auth": "basic" } }),
            request: TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("sp client", "p@ss:w/rd+%"),
            ),
            check: |seen| {
                assert_eq!(
                    seen.basic_credentials(),
                    Some(("sp client".to_owned(), "p@ss:w/rd+%".to_owned()))
                );
                assert_eq!(
                    seen.form(),
                    [("grant_type".to_owned(), "client_credentials".to_owned())]
                );
                assert_eq!(
                    seen.header("content-type"),
                    Some("application/x-www-form-urlencoded")
                );
            },
        },
        Row {
            quirk: "client_secret_post",
            profile: json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } }),
            request: TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("sp client", "p@ss:w/rd+%"),
            ),
            check: |seen| {
                assert_eq!(seen.header("authorization"), None);
                assert_eq!(seen.param("client_id").as_deref(), Some("sp client"));
                assert_eq!(seen.param("client_secret").as_deref(), Some("p@ss:w/rd+%"));
            },
        },
        Row {
            quirk: "a public client under Basic sends client_id",
            profile: json!({ "token_endpoint": { "path": "/token" } }),
            request: TokenRequest::new(
                Grant::authorization_code(
                    "the-code",
                    Some("https://app.test/cb".into()),
                    Some("verifier-43".into()),
                ),
                ClientCredentials::public("spa"),
            ),
            check: |seen| {
                assert_eq!(seen.header("authorization"), None);
                assert_eq!(
                    seen.form(),
                    [
                        ("grant_type", "authorization_code"),
                        ("client_id", "spa"),
                        ("code", "the-code"),
                        ("redirect_uri", "https://app.test/cb"),
                        ("code_verifier", "verifier-43"),
                    ]
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                );
            },
        },
        Row {
            quirk: "repeated audience (raw body)",
            profile: json!({ "token_endpoint": { "path": "/token", "lists": "repeat" } }),
            request: crate::client_credentials()
                .with_audience(["https://a.test", "https://b.test"]),
            check: |seen| {
                assert_eq!(
                    seen.body,
                    "grant_type=client_credentials&audience=https%3A%2F%2Fa.test&audience=https%3A%2F%2Fb.test"
                );
            },
        },
        Row {
            quirk: "space-joined audience (raw body)",
            profile: json!({ "token_endpoint": { "path": "/token", "lists": "space_joined" } }),
            request: crate::client_credentials()
                .with_audience(["https://a.test", "https://b.test"]),
            check: |seen| {
                assert_eq!(
                    seen.body,
                    "grant_type=client_credentials&audience=https%3A%2F%2Fa.test+https%3A%2F%2Fb.test"
                );
            },
        },
        Row {
            quirk: "repeated scope and resource in a JSON body become arrays",
            profile: json!({ "token_endpoint": { "path": "/token", "body": "json", "lists": "repeat" } }),
            request: crate::client_credentials()
                .with_scope(["read", "write"])
                .with_resource(["https://api.test"]),
            check: |seen| {
                assert_eq!(seen.header("content-type"), Some("application/json"));
                assert_eq!(
                    seen.json(),
                    json!({"grant_type": "client_credentials", "scope": ["read", "write"], "resource": ["https://api.test"]})
                );
            },
        },
        Row {
            quirk: "Shopware: JSON body, client_secret_post, scope renamed to scopes",
            profile: json!({ "token_endpoint": {
                "path": "/api/oauth/token", "body": "json", "client_auth": "post",
                "rename": { "scope": "scopes" }
            } }),
            request: TokenRequest::new(
                Grant::password("admin", "shopware"),
                ClientCredentials::public("administration"),
            )
            .with_scope(["write"]),
            check: |seen| {
                assert_eq!(seen.path, "/api/oauth/token");
                assert_eq!(
                    seen.json(),
                    json!({"grant_type": "password", "client_id": "administration",
                           "username": "admin", "password": "shopware", "scopes": "write"})
                );
            },
        },
        Row {
            quirk: "Elastic Path implicit: grant_type and client_id only",
            profile: json!({ "token_endpoint": { "path": "/oauth/access_token", "client_auth": "post" } }),
            request: TokenRequest::implicit("ep-client"),
            check: |seen| {
                assert_eq!(seen.header("authorization"), None);
                assert_eq!(seen.body, "grant_type=implicit&client_id=ep-client");
            },
        },
        Row {
            quirk: "refresh_token grant",
            profile: json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } }),
            request: TokenRequest::new(
                Grant::refresh_token("rt-1"),
                ClientCredentials::new("c", "s"),
            ),
            check: |seen| {
                assert_eq!(
                    seen.body,
                    "grant_type=refresh_token&client_id=c&client_secret=s&refresh_token=rt-1"
                );
            },
        },
        Row {
            quirk: "GET with the parameters in the query, credentials in Basic",
            profile: json!({ "token_endpoint": { "path": "/oauth/token", "method": "GET", "client_auth": "basic" } }),
            request: crate::client_credentials().with_scope(["read", "write"]),
            check: |seen| {
                assert_eq!(seen.method, "GET");
                assert_eq!(seen.body, "");
                assert_eq!(
                    seen.query.as_deref(),
                    Some("grant_type=client_credentials&scope=read+write")
                );
                assert_eq!(
                    seen.basic_credentials(),
                    Some(("client-1".to_owned(), "secret-1".to_owned()))
                );
            },
        },
    ]
}

#[tokio::test]
async fn request_quirks_reach_the_server_as_the_provider_expects() {
    let clock = ManualClock::default();
    for row in rows() {
        println!("quirk: {}", row.quirk);
        let server = TestServer::canned(token()).await;
        let accept_default = row.profile["token_endpoint"].get("accept").is_none();
        let client = client(profile(row.profile), &server.base, &clock);
        client
            .fetch(&row.request)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", row.quirk));
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{}", row.quirk);
        if accept_default {
            assert_eq!(seen[0].header("accept"), Some("application/json"));
        }
        (row.check)(&seen[0]);
    }
}

#[tokio::test]
async fn the_server_checks_decoded_basic_credentials() {
    // The server accepts only when the form-decoded Basic credentials match.
    let server = TestServer::start(|seen| {
        if seen.basic_credentials() == Some(("sp client".into(), "p@ss:w/rd+%".into())) {
            token()
        } else {
            Canned::json(401, json!({"error": "invalid_client"}))
        }
    })
    .await;
    let clock = ManualClock::default();
    let client = client(
        profile(json!({ "token_endpoint": { "path": "/token" } })),
        &server.base,
        &clock,
    );
    let good = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("sp client", "p@ss:w/rd+%"),
    );
    client.fetch(&good).await.unwrap();
    let bad = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("sp client", "p@ss:w/rd+"),
    );
    let error = client.fetch(&bad).await.unwrap_err();
    assert_eq!(
        error.provider_error().and_then(|e| e.code()),
        Some("invalid_client")
    );
}

#[tokio::test]
async fn get_refuses_credentials_in_the_url_without_sending_anything() {
    let server = TestServer::canned(token()).await;
    let clock = ManualClock::default();
    let cases = [
        // client_secret_post would put the secret in the query.
        ("post", crate::client_credentials(), "client_secret"),
        // So would a password grant, even with Basic client authentication.
        (
            "basic",
            TokenRequest::new(Grant::password("u", "pw"), ClientCredentials::new("c", "s")),
            "password",
        ),
    ];
    for (auth, request, param) in cases {
        let client = client(
            profile(
                json!({ "token_endpoint": { "path": "/token", "method": "GET", "client_auth": auth } }),
            ),
            &server.base,
            &clock,
        );
        let error = client.fetch(&request).await.unwrap_err();
        assert!(
            matches!(&error, TokenError::Build(BuildError::CredentialInUrl { param: p }) if p == param),
            "{error:?}"
        );
        assert!(!error.to_string().contains("secret-1"));
    }
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn a_password_in_the_base_url_is_refused() {
    let server = TestServer::canned(token()).await;
    let mut base = server.base.clone();
    base.set_username("user").unwrap();
    base.set_password(Some("hunter2")).unwrap();
    let clock = ManualClock::default();
    let client = client(
        profile(json!({ "token_endpoint": { "path": "/token" } })),
        &base,
        &clock,
    );
    let error = client
        .fetch(&crate::client_credentials())
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        TokenError::Build(BuildError::PasswordInUrl)
    ));
    assert!(!format!("{client:?}").contains("hunter2"));
    assert_eq!(server.count(), 0);
}
