//! The token crate's `TokenClient` against the project's embedded provider
//! mock: here, in the root package, so that the token crate never depends on
//! the mock (the mock depends on it).

use std::sync::Arc;

use grantspec_mock::MockServer;
use grantspec_token::{
    AcceptHeader, ClientCredentials, ExposeSecret as _, Grant, ManualClock, ProviderProfile,
    TokenClient, TokenPlacement, TokenRequest, TokenType, Transport, TransportConfig,
    build_request, endpoint_url, parse_response,
};

fn spec(name: &str) -> grantspec_spec::Spec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("specs")
        .join(format!("{name}.yaml"));
    grantspec_spec::load_file(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .spec
}

fn shopware() -> grantspec_spec::Spec {
    spec("shopware")
}

#[tokio::test]
async fn shopware_client_credentials_from_the_mock() {
    let spec = shopware();
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = TokenClient::new(spec.profile(), server.base_url("shopware"))
        .unwrap()
        .with_clock(Arc::new(clock));
    let request = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("SWIAINTEGRATION01", "mock-integration-secret"),
    );
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.token_type, TokenType::Bearer);
    assert!(token.access_token.expose_secret().len() >= 16);
    let again = client.get_token(&request).await.unwrap();
    assert_eq!(
        again.access_token.expose_secret(),
        token.access_token.expose_secret()
    );

    let wrong = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::new("SWIAINTEGRATION01", "wrong"),
    );
    let error = client.fetch(&wrong).await.unwrap_err();
    assert_eq!(error.provider_error().map(|e| e.status), Some(401));
}

#[tokio::test]
async fn every_seed_provider_gives_a_token_through_its_profile() {
    let specs = [
        spec("shopware"),
        spec("advanced-store"),
        spec("elastic-path"),
        spec("json-token-api"),
    ];
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs
            .iter()
            .map(|spec| spec.mock_provider().expect("a seeded spec")),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    let confidential = |id: &str, secret: &str| {
        TokenRequest::new(Grant::ClientCredentials, ClientCredentials::new(id, secret))
    };
    let cases = [
        (
            "shopware",
            TokenRequest::new(
                Grant::password("admin", "mock-admin-password"),
                ClientCredentials::public("administration"),
            )
            .with_scope(["write"]),
        ),
        (
            "advanced-store",
            confidential("adv-client-1", "mock-adv-secret")
                .with_audience(["api.ad4mat.net", "api.advanced-store.com"]),
        ),
        (
            "elastic-path",
            confidential("ep-client-1", "mock-ep-secret"),
        ),
        ("elastic-path", TokenRequest::implicit("ep-client-1")),
        (
            "json-token-api",
            confidential("json-client-1", "mock-json-secret"),
        ),
    ];
    for (id, request) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{id} {:?}: {e}", request.grant));
        assert_eq!(token.token_type, TokenType::Bearer, "{id}");
        assert!(!token.is_expired(clock_now(&clock)), "{id}");
    }
}

fn clock_now(clock: &ManualClock) -> std::time::SystemTime {
    use grantspec_token::Clock as _;
    clock.now()
}

#[tokio::test]
async fn shopware_renewal_through_the_mock() {
    let spec = shopware();
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = TokenClient::new(spec.profile(), server.base_url("shopware"))
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    let request = TokenRequest::new(
        Grant::password("admin", "mock-admin-password"),
        ClientCredentials::public("administration"),
    )
    .with_scope(["write"]);
    let mut seen = Vec::new();
    for _ in 0..3 {
        let token = client.get_token(&request).await.unwrap();
        assert!(token.refresh_token.is_some());
        seen.push(token.access_token.expose_secret().to_owned());
        // Past the renewal point (600 s lifetime, 30 s skew), not expired.
        clock.advance(std::time::Duration::from_secs(580));
    }
    seen.dedup();
    assert_eq!(seen.len(), 3, "each renewal gave a new access token");
}

/// The dialect atlas's providers (issue #18): each spec's profile alone lets
/// `TokenClient` read its mock's answer, whatever the dialect: GitHub's and
/// Facebook's form-encoded answers, Slack's `bot` and eBay's
/// `Application Access Token` as bearer types, Salesforce's answer without
/// an expiry, Fitbit's Basic-only client authentication.
#[tokio::test]
async fn every_atlas_provider_gives_a_token_through_its_profile() {
    let ids = [
        "github",
        "slack",
        "salesforce",
        "facebook",
        "fitbit",
        "ebay",
    ];
    let specs: Vec<_> = ids.iter().map(|id| spec(id)).collect();
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs
            .iter()
            .map(|spec| spec.mock_provider().expect("a seeded spec")),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    let code = |client: &str, secret: &str, code: &str, redirect_uri: &str| {
        TokenRequest::new(
            Grant::authorization_code(code, Some(redirect_uri.to_owned()), None),
            ClientCredentials::new(client, secret),
        )
    };
    let confidential = |id: &str, secret: &str| {
        TokenRequest::new(Grant::ClientCredentials, ClientCredentials::new(id, secret))
    };
    // (provider, request, lifetime the client must take, in seconds)
    let cases = [
        (
            "github",
            code(
                "mock-github-client-id",
                "mock-github-client-secret",
                "mock-github-code-1",
                "http://127.0.0.1/callback",
            ),
            28800,
        ),
        (
            "slack",
            code(
                "mock-slack-client-id",
                "mock-slack-client-secret",
                "mock-slack-code-1",
                "http://127.0.0.1/slack/callback",
            ),
            43200,
        ),
        (
            "salesforce",
            code(
                "mock-salesforce-consumer-key",
                "mock-salesforce-consumer-secret",
                "mock-salesforce-code-1",
                "https://127.0.0.1/sf/callback",
            ),
            7200,
        ),
        (
            "facebook",
            code(
                "000000000000001",
                "mock-facebook-app-secret",
                "mock-facebook-code-1",
                "https://127.0.0.1/fb/callback",
            ),
            5_184_000,
        ),
        (
            "fitbit",
            confidential("MOCK23", "mock-fitbit-client-secret"),
            28800,
        ),
        (
            "ebay",
            confidential("Mock-App-PRD-000000000-00000000", "PRD-mock0ebay0secret")
                .with_scope(["https://api.ebay.com/oauth/api_scope"]),
            7200,
        ),
    ];
    for (id, request, lifetime) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{id} {:?}: {e}", request.grant));
        assert_eq!(token.token_type, TokenType::Bearer, "{id}");
        assert!(token.access_token.expose_secret().len() >= 16, "{id}");
        let now = clock_now(&clock);
        let just_before = now + std::time::Duration::from_secs(lifetime - 1);
        let at_expiry = now + std::time::Duration::from_secs(lifetime);
        assert!(!token.is_expired(just_before), "{id}: expired early");
        assert!(
            token.is_expired(at_expiry),
            "{id}: lifetime beyond {lifetime} s"
        );
    }
}

/// GitHub's content negotiation through the profile alone: with the
/// shipped profile (`accept: */*`) the mock answers its default form, with
/// `accept: application/json` it answers JSON, and the client reads a token
/// from either; the wire shows which answer came.
#[tokio::test]
async fn github_gives_a_token_as_a_form_by_default_and_as_json_when_the_profile_asks() {
    let spec = spec("github");
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let base = server.base_url("github");
    let mut asks_for_json = spec.profile();
    asks_for_json.token_endpoint.accept = AcceptHeader::parse("application/json").unwrap();
    let ways = [
        (
            spec.profile(),
            "*/*",
            "application/x-www-form-urlencoded",
            "mock-github-code-1",
        ),
        (
            asks_for_json,
            "application/json",
            "application/json",
            "mock-github-code-2",
        ),
    ];
    for (profile, accept, content_type, code) in ways {
        let request = TokenRequest::new(
            Grant::authorization_code(code, Some("http://127.0.0.1/callback".to_owned()), None),
            ClientCredentials::new("mock-github-client-id", "mock-github-client-secret"),
        );
        let wire = build_request(&profile, &base, &request).unwrap();
        let sent_accept: Vec<&str> = wire
            .headers
            .iter()
            .filter(|(name, _)| name == "accept")
            .map(|(_, value)| value.expose())
            .collect();
        assert_eq!(sent_accept, [accept]);
        let answer = Transport::new(TransportConfig::default())
            .unwrap()
            .send_once(&wire)
            .await
            .unwrap();
        assert_eq!(
            answer.header("content-type"),
            Some(content_type),
            "{accept}"
        );
        let token = parse_response(&profile, &answer, clock_now(&clock))
            .unwrap_or_else(|e| panic!("{accept}: {e}"));
        assert_eq!(token.token_type, TokenType::Bearer, "{accept}");

        // The client itself, on a fresh code, sends the same and reads it.
        let fresh = if accept == "*/*" {
            "mock-github-code-5"
        } else {
            "mock-github-code-6"
        };
        let client = TokenClient::new(profile, base.clone())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let request = TokenRequest::new(
            Grant::authorization_code(fresh, Some("http://127.0.0.1/callback".to_owned()), None),
            ClientCredentials::new("mock-github-client-id", "mock-github-client-secret"),
        );
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{accept}: {e}"));
        assert!(token.access_token.expose_secret().len() >= 16, "{accept}");
    }
}

/// A wrong secret is an error from each atlas provider's mock, also where
/// the provider answers errors with HTTP 200 (GitHub, Slack): the client
/// never mistakes such an answer for a token.
#[tokio::test]
async fn atlas_providers_refuse_a_wrong_secret_even_with_200() {
    let ids = ["github", "slack", "fitbit", "ebay"];
    let specs: Vec<_> = ids.iter().map(|id| spec(id)).collect();
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs.iter().map(|s| s.mock_provider().unwrap()),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    let cases = [
        (
            "github",
            TokenRequest::new(
                Grant::authorization_code(
                    "mock-github-code-2",
                    Some("http://127.0.0.1/callback".to_owned()),
                    None,
                ),
                ClientCredentials::new("mock-github-client-id", "wrong"),
            ),
        ),
        (
            "slack",
            TokenRequest::new(
                Grant::authorization_code(
                    "mock-slack-code-2",
                    Some("http://127.0.0.1/slack/callback".to_owned()),
                    None,
                ),
                ClientCredentials::new("mock-slack-client-id", "wrong"),
            ),
        ),
        (
            "fitbit",
            TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("MOCK23", "wrong"),
            ),
        ),
        (
            "ebay",
            TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("Mock-App-PRD-000000000-00000000", "wrong"),
            ),
        ),
    ];
    for (id, request) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let error = client.fetch(&request).await.expect_err(id);
        assert!(error.provider_error().is_some(), "{id}: {error}");
    }
}

/// A code from the mock's authorization endpoint, for the oidc-provider
/// spec's `grantspec-code` client, with the verifier of its S256 challenge.
#[allow(clippy::unwrap_used)]
async fn pkce_code(
    server: &MockServer,
    transport: &grantspec_token::Transport,
) -> (String, grantspec_token::CodeVerifier) {
    use grantspec_token::{
        AuthorizationRequest, AuthorizationResponse, CodeVerifier, HttpRequest, PkceMethod,
    };
    let verifier = CodeVerifier::generate().unwrap();
    let endpoint =
        url::Url::parse(&format!("{}/authorize", server.base_url("oidc-provider"))).unwrap();
    let url = AuthorizationRequest::new("grantspec-code")
        .with_redirect_uri("http://127.0.0.1:9/cb")
        .with_scope(["openid"])
        .with_state("st")
        .with_pkce(&verifier, PkceMethod::S256)
        .url(&endpoint);
    let answer = transport
        .send(&HttpRequest {
            method: "GET".into(),
            url,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        })
        .await
        .unwrap();
    assert_eq!(answer.status, 302);
    let location = url::Url::parse(answer.header("location").unwrap()).unwrap();
    match AuthorizationResponse::from_redirect(&location, Some("st")).unwrap() {
        AuthorizationResponse::Code { code, .. } => (code.expose_secret().to_owned(), verifier),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn token_client_exchanges_a_pkce_code_and_the_mock_refuses_a_replay_and_a_wrong_verifier() {
    let spec = spec("oidc-provider");
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = TokenClient::new(spec.profile(), server.base_url("oidc-provider"))
        .unwrap()
        .with_clock(Arc::new(clock));
    let credentials = ClientCredentials::new("grantspec-code", "mock-code-secret");
    let redirect = Some("http://127.0.0.1:9/cb".to_owned());

    let (code, verifier) = pkce_code(&server, client.transport()).await;
    let exchange = TokenRequest::new(
        Grant::authorization_code_with_pkce(&code, redirect.clone(), &verifier),
        credentials.clone(),
    );
    assert!(!format!("{exchange:?}").contains(&code));
    let token = client.fetch(&exchange).await.unwrap();
    assert_eq!(token.token_type, TokenType::Bearer);
    assert!(token.refresh_token.is_some());
    let replay = client.fetch(&exchange).await.unwrap_err();
    assert_eq!(
        replay.provider_error().and_then(|e| e.code()),
        Some("invalid_grant")
    );

    let (code, _) = pkce_code(&server, client.transport()).await;
    let other = grantspec_token::CodeVerifier::generate().unwrap();
    let wrong = TokenRequest::new(
        Grant::authorization_code_with_pkce(&code, redirect, &other),
        credentials,
    );
    let refused = client.fetch(&wrong).await.unwrap_err();
    assert_eq!(refused.provider_error().map(|e| e.status), Some(400));
}

/// The atlas providers added for the rest of issue #18's dialects: Mailchimp
/// (`expires_in: 0` = never, `scope: null`, no `token_type`), Weibo (no
/// `token_type`, `expires_in` as a string), Instagram (neither `token_type`
/// nor `expires_in`), Plentymarkets (camelCase members). `TokenClient` reads
/// each through its profile alone; `None` is a token that never expires.
#[tokio::test]
async fn every_added_atlas_provider_gives_a_token_through_its_profile() {
    let ids = ["mailchimp", "weibo", "instagram", "plentymarkets"];
    let specs: Vec<_> = ids.iter().map(|id| spec(id)).collect();
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs.iter().map(|s| s.mock_provider().unwrap()),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    let code = |client: &str, secret: &str, code: &str, redirect_uri: &str| {
        TokenRequest::new(
            Grant::authorization_code(code, Some(redirect_uri.to_owned()), None),
            ClientCredentials::new(client, secret),
        )
    };
    // (provider, request, lifetime in seconds or None for never, refresh token?)
    let cases = [
        (
            "mailchimp",
            code(
                "mock-mailchimp-client-id",
                "mock-mailchimp-client-secret",
                "mock-mailchimp-code-1",
                "http://127.0.0.1/mailchimp/callback",
            ),
            None,
            false,
        ),
        (
            "weibo",
            code(
                "mock-weibo-app-key",
                "mock-weibo-app-secret",
                "mock-weibo-code-1",
                "http://127.0.0.1/weibo/callback",
            ),
            Some(2_592_000),
            false,
        ),
        (
            "instagram",
            code(
                "mock-instagram-client-id",
                "mock-instagram-client-secret",
                "mock-instagram-code-1",
                "http://127.0.0.1/instagram/callback",
            ),
            Some(5_184_000),
            false,
        ),
        (
            "plentymarkets",
            TokenRequest::new(
                Grant::password("mock-plenty-user", "mock-plenty-password"),
                ClientCredentials::public("plentymarkets-rest"),
            ),
            Some(86400),
            true,
        ),
    ];
    for (id, request, lifetime, refresh) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let client = TokenClient::new(spec.profile(), server.base_url(id))
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(token.token_type, TokenType::Bearer, "{id}");
        assert!(token.access_token.expose_secret().len() >= 16, "{id}");
        assert_eq!(token.refresh_token.is_some(), refresh, "{id}");
        let now = clock_now(&clock);
        match lifetime {
            None => assert_eq!(token.expires_at, None, "{id}: never expires"),
            Some(seconds) => assert_eq!(
                token.expires_at,
                Some(now + std::time::Duration::from_secs(seconds)),
                "{id}"
            ),
        }
    }
}

/// Where the API takes the token (issue #18): each placement a profile can
/// say, presented by the token crate (`Token::present`) to the mock's
/// `/ping`, which accepts it there, and refuses the same token presented
/// the RFC 6750 way instead. Weibo: `?access_token=`; Slack: the form field
/// `token`; Advanced Store's text, "(no bearer)": a bare header.
#[tokio::test]
async fn each_token_placement_reaches_the_mocks_resource_only_where_the_profile_says() {
    let mut advanced = spec("advanced-store");
    advanced.provider.resource = Some(grantspec_spec::ResourceEndpoint {
        path: None,
        token: TokenPlacement::BareHeader,
    });
    let specs = [spec("weibo"), spec("slack"), advanced];
    let clock = ManualClock::default();
    let server = MockServer::start(
        specs.iter().map(|s| s.mock_provider().unwrap()),
        Arc::new(clock.clone()),
        0,
    )
    .await
    .unwrap();
    let code = |client: &str, secret: &str, code: &str, redirect_uri: &str| {
        TokenRequest::new(
            Grant::authorization_code(code, Some(redirect_uri.to_owned()), None),
            ClientCredentials::new(client, secret),
        )
    };
    let cases = [
        (
            "weibo",
            code(
                "mock-weibo-app-key",
                "mock-weibo-app-secret",
                "mock-weibo-code-2",
                "http://127.0.0.1/weibo/callback",
            ),
        ),
        (
            "slack",
            code(
                "mock-slack-client-id",
                "mock-slack-client-secret",
                "mock-slack-code-2",
                "http://127.0.0.1/slack/callback",
            ),
        ),
        (
            "advanced-store",
            TokenRequest::new(
                Grant::ClientCredentials,
                ClientCredentials::new("adv-client-1", "mock-adv-secret"),
            )
            .with_audience(["api.ad4mat.net"]),
        ),
    ];
    let transport = Transport::new(TransportConfig::default()).unwrap();
    for (id, request) in cases {
        let spec = specs.iter().find(|s| s.provider.id == id).unwrap();
        let profile = spec.profile();
        let base = server.base_url(id);
        let client = TokenClient::new(profile.clone(), base.clone())
            .unwrap()
            .with_clock(Arc::new(clock.clone()));
        let token = client
            .get_token(&request)
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let ping = endpoint_url(&base, "/ping").unwrap();

        let presented = token.present(&profile, ping.clone());
        let shown = format!("{}{presented:?}", presented.redacted());
        assert!(
            !shown.contains(token.access_token.expose_secret()),
            "{id}: {shown}"
        );
        let answer = transport.send(&presented).await.unwrap();
        assert_eq!(answer.status, 200, "{id}: {}", presented.redacted());

        let mut bearer_only = ProviderProfile::default();
        bearer_only.resource.token = TokenPlacement::default();
        assert_ne!(bearer_only.resource, profile.resource, "{id}");
        let elsewhere = token.present(&bearer_only, ping);
        let answer = transport.send(&elsewhere).await.unwrap();
        assert_eq!(answer.status, 401, "{id}: a Bearer header is not looked at");
    }
}

/// A sleeper that moves the mock's clock instead of waiting, and can wake
/// early: each entry of `early` is how much short of the asked time one
/// sleep falls (a device woken early), in order.
#[derive(Debug)]
struct ClockSleeper {
    clock: ManualClock,
    early: std::sync::Mutex<std::collections::VecDeque<std::time::Duration>>,
    asked: std::sync::Mutex<Vec<u64>>,
}

impl grantspec_token::Sleeper for ClockSleeper {
    fn sleep(
        &self,
        duration: std::time::Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(duration.as_secs());
        let early = self
            .early
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop_front()
            .unwrap_or_default();
        self.clock.advance(duration.saturating_sub(early));
        Box::pin(std::future::ready(()))
    }
}

fn keycloak_client(clock: &ManualClock, server: &MockServer) -> TokenClient {
    TokenClient::new(spec("keycloak").profile(), server.base_url("keycloak"))
        .expect("the keycloak profile builds a client")
        .with_clock(Arc::new(clock.clone()))
}

/// RFC 8628 against the mock: the client waits the interval, keeps polling
/// on `authorization_pending`, and when it polls too soon (the second sleep
/// wakes three seconds early) the mock answers `slow_down` and the client
/// waits five seconds longer from then on; the mock's clock only moves
/// through the sleeper, so nothing sleeps in real time.
#[tokio::test]
async fn token_client_completes_a_device_flow_with_a_slow_down_in_the_middle() {
    let spec = spec("keycloak");
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = keycloak_client(&clock, &server);
    let tv = ClientCredentials::new("tv-app", "mock-tv-secret");
    let authorization = client
        .start_device_flow(&tv, &["read".to_owned()])
        .await
        .unwrap();
    assert_eq!(authorization.interval, std::time::Duration::from_secs(5));
    assert!(!format!("{authorization:?}").contains(authorization.device_code.expose_secret()));
    let sleeper = ClockSleeper {
        clock: clock.clone(),
        early: std::sync::Mutex::new([0, 3].map(std::time::Duration::from_secs).into()),
        asked: std::sync::Mutex::default(),
    };
    let token = client
        .poll_device_flow(&tv, &authorization, &sleeper)
        .await
        .unwrap();
    assert_eq!(token.scope.as_deref(), Some(&["read".to_owned()][..]));
    assert!(token.refresh_token.is_some());
    // pending after 5 s; polled 2 s later (slow_down); 10 s, then approved.
    assert_eq!(*sleeper.asked.lock().unwrap(), [5, 5, 10]);
}

/// The user denies: the poll after the decision ends the flow with the
/// provider's `access_denied`.
#[tokio::test]
async fn token_client_stops_polling_when_the_user_denies() {
    let spec = spec("keycloak");
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let client = keycloak_client(&clock, &server);
    let tv = ClientCredentials::new("tv-denied", "mock-tv-secret");
    let authorization = client.start_device_flow(&tv, &[]).await.unwrap();
    let sleeper = ClockSleeper {
        clock: clock.clone(),
        early: std::sync::Mutex::default(),
        asked: std::sync::Mutex::default(),
    };
    let error = client
        .poll_device_flow(&tv, &authorization, &sleeper)
        .await
        .unwrap_err();
    let grantspec_token::DeviceFlowError::Token(error) = error else {
        panic!("{error}");
    };
    assert_eq!(
        error.provider_error().and_then(|e| e.code()),
        Some("access_denied")
    );
    assert_eq!(*sleeper.asked.lock().unwrap(), [5, 5]);
}

/// JWT client authentication from `TokenClient`: `private_key_jwt` signs a
/// fresh assertion for every request (so a second request is no replay), a
/// ready assertion sent twice is refused the second time, and token
/// exchange answers the exchanged token.
#[tokio::test]
async fn token_client_signs_fresh_assertions_and_exchanges_tokens() {
    let spec = spec("keycloak");
    let clock = ManualClock::default();
    let server = MockServer::start([spec.mock_provider().unwrap()], Arc::new(clock.clone()), 0)
        .await
        .unwrap();
    let mut profile = spec.profile();
    profile.token_endpoint.client_auth = grantspec_token::ClientAuth::PrivateKeyJwt;
    let base = server.base_url("keycloak");
    // `ClientAssertion::Key` signs with the system clock; the mock's clock
    // stands at 2026-01-01, earlier, so those assertions have not expired.
    let client = TokenClient::new(profile.clone(), base.clone()).unwrap();
    let key = grantspec_token::SigningKey::new(
        grantspec_token::SigningAlgorithm::ES256,
        include_str!("../crates/test-support/keys/ec-private.pem").into(),
    )
    .unwrap();
    let signed = ClientCredentials::with_assertion(
        "signed-app",
        grantspec_token::ClientAssertion::Key(key.clone()),
    );
    let request = TokenRequest::new(Grant::ClientCredentials, signed);
    for _ in 0..2 {
        let token = client.fetch(&request).await.unwrap();
        assert_eq!(token.token_type, TokenType::Bearer);
    }

    let mut token_url = base.clone();
    token_url.set_path(&format!("{}{}", base.path(), profile.token_endpoint.path));
    let claims = grantspec_token::AssertionClaims::client(
        "signed-app",
        token_url.as_str(),
        clock_now(&clock),
    );
    let once = grantspec_token::sign_assertion(&key, &claims).unwrap();
    let replayed = TokenRequest::new(
        Grant::ClientCredentials,
        ClientCredentials::with_assertion(
            "signed-app",
            grantspec_token::ClientAssertion::Signed(once),
        ),
    );
    client.fetch(&replayed).await.unwrap();
    let error = client.fetch(&replayed).await.unwrap_err();
    assert_eq!(
        error.provider_error().and_then(|e| e.code()),
        Some("invalid_client")
    );

    let service = TokenClient::new(spec.profile(), base).unwrap();
    let credentials = ClientCredentials::new("service-app", "mock-service-secret");
    let subject = service
        .fetch(&TokenRequest::new(
            Grant::ClientCredentials,
            credentials.clone(),
        ))
        .await
        .unwrap();
    let exchange = TokenRequest::new(
        Grant::token_exchange(
            subject.access_token.expose_secret(),
            grantspec_token::ACCESS_TOKEN_TYPE,
        ),
        credentials,
    )
    .with_audience(["reports-api"]);
    let exchanged = service.fetch(&exchange).await.unwrap();
    assert_eq!(
        exchanged.issued_token_type.as_deref(),
        Some(grantspec_token::ACCESS_TOKEN_TYPE)
    );
    assert_ne!(
        exchanged.access_token.expose_secret(),
        subject.access_token.expose_secret()
    );
}
