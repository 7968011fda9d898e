//! The token cache: single-flight, refresh before expiry by the injected
//! clock, refresh-token rotation, fallback to a fresh grant. No sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use grantspec_token::{
    ClientCredentials, ExposeSecret as _, Grant, ManualClock, TokenError, TokenRequest,
};
use serde_json::json;

use crate::server::{Canned, Recorded, TestServer};
use crate::{client, client_credentials, profile};

fn endpoint() -> serde_json::Value {
    json!({ "token_endpoint": { "path": "/token", "client_auth": "post" } })
}

/// A provider that numbers its tokens: `at-N`, and `rt-N` when it issues
/// refresh tokens. With `rotate`, only the newest refresh token is accepted.
#[derive(Default)]
struct Provider {
    issued: usize,
    newest_refresh: Option<String>,
    refresh_tokens: bool,
    rotate: bool,
    /// Every refresh token is rejected (as after a revocation).
    revoked: bool,
    /// Refresh requests fail with a 503.
    unavailable: bool,
    lifetime: u64,
}

impl Provider {
    fn answer(&mut self, seen: &Recorded) -> Canned {
        let grant = seen.param("grant_type").unwrap_or_default();
        if grant == "refresh_token" {
            if self.unavailable {
                return Canned::text(503, "text/plain", "try later");
            }
            let presented = seen.param("refresh_token");
            let valid = !self.revoked && presented.is_some() && presented == self.newest_refresh;
            if !valid {
                return Canned::json(
                    400,
                    json!({"error": "invalid_grant", "error_description": "refresh token is invalid"}),
                );
            }
            if !self.rotate {
                self.issued += 1;
                return Canned::json(
                    200,
                    json!({"access_token": format!("at-{}", self.issued), "token_type": "bearer",
                           "expires_in": self.lifetime}),
                );
            }
        }
        self.issued += 1;
        let mut body = json!({"access_token": format!("at-{}", self.issued), "token_type": "bearer",
                              "expires_in": self.lifetime});
        if self.refresh_tokens {
            let refresh = format!("rt-{}", self.issued);
            body["refresh_token"] = json!(refresh);
            self.newest_refresh = Some(refresh);
        }
        Canned::json(200, body)
    }
}

async fn provider(provider: Provider) -> (TestServer, Arc<Mutex<Provider>>) {
    let state = Arc::new(Mutex::new(provider));
    let shared = Arc::clone(&state);
    let server = TestServer::start(move |seen| shared.lock().unwrap().answer(seen)).await;
    (server, state)
}

fn grants(server: &TestServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| r.param("grant_type").unwrap_or_default())
        .collect()
}

fn password_request() -> TokenRequest {
    TokenRequest::new(
        Grant::password("admin", "shopware"),
        ClientCredentials::public("administration"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_callers_share_one_request() {
    let (server, _) = provider(Provider {
        lifetime: 600,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let client = client.clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            client.get_token(&client_credentials()).await
        }));
    }
    for task in tasks {
        let token = task.await.unwrap().unwrap();
        assert_eq!(token.access_token.expose_secret(), "at-1");
    }
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn tokens_are_cached_per_grant_scope_and_audience() {
    let (server, _) = provider(Provider {
        lifetime: 600,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let plain = client_credentials();
    let scoped = client_credentials().with_scope(["write", "read"]);
    let same_scope_other_order = client_credentials().with_scope(["read", "write"]);
    let audience = client_credentials().with_audience(["https://api.test"]);

    let a = client.get_token(&plain).await.unwrap();
    let b = client.get_token(&scoped).await.unwrap();
    let c = client.get_token(&same_scope_other_order).await.unwrap();
    let d = client.get_token(&audience).await.unwrap();
    let e = client.get_token(&plain).await.unwrap();
    let shown = |t: &grantspec_token::Token| t.access_token.expose_secret().to_owned();
    assert_eq!(
        [shown(&a), shown(&b), shown(&c), shown(&d), shown(&e)],
        ["at-1", "at-2", "at-2", "at-3", "at-1"]
    );
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_token_is_renewed_before_it_expires_by_the_injected_clock() {
    let (server, _) = provider(Provider {
        lifetime: 600,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock)
        .with_refresh_skew(Duration::from_secs(60));
    let request = client_credentials();
    let token = |t: grantspec_token::Token| t.access_token.expose_secret().to_owned();

    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-1");
    clock.advance(Duration::from_secs(539));
    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-1");
    assert_eq!(server.count(), 1);
    // 540 s: within the 60 s skew of expiry; no refresh token, so the grant
    // is sent again.
    clock.advance(Duration::from_secs(1));
    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-2");
    assert_eq!(
        grants(&server),
        ["client_credentials", "client_credentials"]
    );
}

#[tokio::test]
async fn a_short_lived_token_is_reused_until_half_its_lifetime() {
    let (server, _) = provider(Provider {
        lifetime: 20,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    // The skew (30 s) is longer than the lifetime: renew at half-life.
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = client_credentials();
    client.get_token(&request).await.unwrap();
    clock.advance(Duration::from_secs(9));
    client.get_token(&request).await.unwrap();
    assert_eq!(server.count(), 1);
    clock.advance(Duration::from_secs(1));
    client.get_token(&request).await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn refresh_rotation_is_kept_and_a_rejected_refresh_falls_back_to_the_grant() {
    let (server, state) = provider(Provider {
        lifetime: 600,
        refresh_tokens: true,
        rotate: true,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = password_request();
    let token = |t: grantspec_token::Token| t.access_token.expose_secret().to_owned();

    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-1");
    clock.advance(Duration::from_secs(580));
    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-2");
    clock.advance(Duration::from_secs(580));
    // Only rt-2 is valid now: the rotated token was kept.
    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-3");
    let presented: Vec<_> = server
        .requests()
        .iter()
        .filter_map(|r| r.param("refresh_token"))
        .collect();
    assert_eq!(presented, ["rt-1", "rt-2"]);

    state.lock().unwrap().revoked = true;
    clock.advance(Duration::from_secs(580));
    // The refresh is rejected with invalid_grant: the password grant is sent
    // again, with the credentials it was first sent with.
    assert_eq!(token(client.get_token(&request).await.unwrap()), "at-4");
    assert_eq!(
        grants(&server),
        [
            "password",
            "refresh_token",
            "refresh_token",
            "refresh_token",
            "password"
        ]
    );
    let last = server.requests().pop().unwrap();
    assert_eq!(last.param("username").as_deref(), Some("admin"));
    assert_eq!(last.param("password").as_deref(), Some("shopware"));
}

#[tokio::test]
async fn a_refresh_token_is_kept_when_the_provider_does_not_rotate() {
    let (server, _) = provider(Provider {
        lifetime: 600,
        refresh_tokens: true,
        rotate: false,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = password_request();
    for _ in 0..3 {
        client.get_token(&request).await.unwrap();
        clock.advance(Duration::from_secs(580));
    }
    let presented: Vec<_> = server
        .requests()
        .iter()
        .filter_map(|r| r.param("refresh_token"))
        .collect();
    assert_eq!(presented, ["rt-1", "rt-1"]);
}

#[tokio::test]
async fn a_transient_refresh_failure_keeps_the_still_valid_token() {
    let (server, state) = provider(Provider {
        lifetime: 600,
        refresh_tokens: true,
        rotate: true,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = password_request();
    client.get_token(&request).await.unwrap();
    state.lock().unwrap().unavailable = true;
    clock.advance(Duration::from_secs(580));
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.access_token.expose_secret(), "at-1");
    // Once expired, the failure is reported.
    clock.advance(Duration::from_secs(20));
    let error = client.get_token(&request).await.unwrap_err();
    assert_eq!(error.provider_error().map(|e| e.status), Some(503));
    // And once the provider is back, the kept refresh token still works.
    state.lock().unwrap().unavailable = false;
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.access_token.expose_secret(), "at-2");
    assert_eq!(
        grants(&server),
        [
            "password",
            "refresh_token",
            "refresh_token",
            "refresh_token"
        ]
    );
}

#[tokio::test]
async fn an_authorization_code_is_never_sent_twice() {
    let (server, state) = provider(Provider {
        lifetime: 600,
        refresh_tokens: true,
        rotate: true,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = TokenRequest::new(
        Grant::authorization_code(
            "code-1",
            Some("https://app.test/cb".into()),
            Some("v".repeat(43)),
        ),
        ClientCredentials::public("spa"),
    );
    client.get_token(&request).await.unwrap();
    clock.advance(Duration::from_secs(580));
    client.get_token(&request).await.unwrap();
    state.lock().unwrap().revoked = true;
    clock.advance(Duration::from_secs(700));
    let error = client.get_token(&request).await.unwrap_err();
    assert!(
        matches!(
            error,
            TokenError::ReauthorizationRequired {
                grant_type: "authorization_code"
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        grants(&server),
        ["authorization_code", "refresh_token", "refresh_token"]
    );
}

#[tokio::test]
async fn invalidate_forces_a_renewal() {
    let (server, _) = provider(Provider {
        lifetime: 600,
        ..Provider::default()
    })
    .await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    let request = client_credentials();
    client.get_token(&request).await.unwrap();
    client.get_token(&request).await.unwrap();
    assert_eq!(server.count(), 1);
    client.invalidate(&request).await;
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.access_token.expose_secret(), "at-2");
    client.clear_cache();
    client.get_token(&request).await.unwrap();
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_failure_is_not_cached() {
    let server = TestServer::canned(Canned::json(401, json!({"error": "invalid_client"}))).await;
    let clock = ManualClock::default();
    let client = client(profile(endpoint()), &server.base, &clock);
    for _ in 0..2 {
        let error = client.get_token(&client_credentials()).await.unwrap_err();
        assert_eq!(
            error.provider_error().and_then(|e| e.code()),
            Some("invalid_client")
        );
    }
    assert_eq!(server.count(), 2);
}
