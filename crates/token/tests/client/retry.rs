//! Throttled answers: 429, and 503 with `Retry-After`, retried within the
//! policy's attempts and budget; the rate a paced transport keeps to.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use grantspec_token::{
    ClientCredentials, GiveUp, Grant, ManualClock, RequestRate, RetryAfter, RetryPolicy,
    TokenClient, TokenError, TokenRequest, TokenType, Transport, TransportConfig,
    TransportErrorKind, build_request,
};
use serde_json::json;

use crate::server::{Canned, Recorded, TestServer};
use crate::{client_credentials, profile};

fn endpoint() -> serde_json::Value {
    json!({ "token_endpoint": { "path": "/token" } })
}

fn token() -> Canned {
    Canned::json(
        200,
        json!({"access_token": "at-1", "token_type": "Bearer", "expires_in": 600}),
    )
}

fn too_many(retry_after: &str) -> Canned {
    Canned::json(429, json!({"error": "slow_down"})).with_header("retry-after", retry_after)
}

/// A server that answers `throttled(n)` to request `n` (0-based) while it
/// returns `Some`, and a token after that.
async fn server(throttled: impl Fn(usize) -> Option<Canned> + Send + Sync + 'static) -> TestServer {
    let seen = AtomicUsize::new(0);
    TestServer::start(move |_: &Recorded| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        throttled(n).unwrap_or_else(token)
    })
    .await
}

fn transport(retry: RetryPolicy) -> Transport {
    Transport::new(TransportConfig {
        retry,
        ..TransportConfig::default()
    })
    .unwrap()
}

fn client(server: &TestServer, retry: RetryPolicy) -> TokenClient {
    TokenClient::new(profile(endpoint()), server.base.clone())
        .unwrap()
        .with_clock(Arc::new(ManualClock::default()))
        .with_transport(transport(retry))
}

fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_total_wait: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
    }
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_and_the_token_returned() {
    let server = server(|n| (n == 0).then(|| too_many("0"))).await;
    let token = client(&server, RetryPolicy::default())
        .fetch(&client_credentials())
        .await
        .unwrap();
    assert_eq!(token.token_type, TokenType::Bearer);
    assert_eq!(server.count(), 2);
    // The same request both times.
    let [first, second] = <[Recorded; 2]>::try_from(server.requests()).unwrap();
    assert_eq!(first.body, second.body);
    assert_eq!(
        first.header("authorization"),
        second.header("authorization")
    );
}

#[tokio::test]
async fn a_provider_that_keeps_throttling_is_given_up_on_after_the_attempts() {
    let server = server(|_| Some(too_many("0"))).await;
    let error = client(&server, quick(3))
        .fetch(&client_credentials())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 3, "three attempts");
    let retries = error.retries().unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(retries.retried.len(), 2);
    let gave_up = retries.gave_up.as_ref().unwrap();
    assert_eq!(gave_up.answer.status, 429);
    assert_eq!(gave_up.reason, GiveUp::Attempts { max_attempts: 3 });
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("POST {}token: retried 2 times: ", server.base)),
        "{message}"
    );
    assert!(
        message.ends_with(
            "then gave up on HTTP 429 with Retry-After: 0: 3 attempts made, the most the retry policy allows"
        ),
        "{message}"
    );
    assert!(!message.contains("secret-1"), "{message}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let server = server(|_| Some(too_many("3600"))).await;
    let error = client(&server, RetryPolicy::default())
        .fetch(&client_credentials())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 1, "nothing was sent again");
    let message = error.to_string();
    assert!(
        message.ends_with(
            "gave up on HTTP 429 with Retry-After: 3600: waiting 3600s is beyond the 30s left of the 30s retry budget"
        ),
        "{message}"
    );
}

#[tokio::test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: waits out a real Retry-After second; runs with `cargo test --all-features`"
)]
async fn retry_after_as_an_http_date_is_read_by_the_servers_own_clock() {
    // The server's clock is 25 years behind; by its own `Date` the wait is
    // one second, which is all the transport waits.
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let server = server(move |n| {
        (n == 0).then(|| {
            Canned::text(503, "text/plain", "maintenance")
                .with_header("date", &httpdate::fmt_http_date(date))
                .with_header(
                    "retry-after",
                    &httpdate::fmt_http_date(date + Duration::from_secs(1)),
                )
        })
    })
    .await;
    let request = build_request(&profile(endpoint()), &server.base, &client_credentials()).unwrap();
    let sent = transport(quick(3)).send_retrying(&request).await;
    assert_eq!(sent.outcome.unwrap().status, 200);
    assert_eq!(sent.retries.retried.len(), 1, "{}", sent.retries);
    let retry = &sent.retries.retried[0];
    assert_eq!(retry.waited, Duration::from_secs(1));
    assert_eq!(
        retry.answer.retry_after,
        RetryAfter::Date {
            at: date + Duration::from_secs(1),
            wait: Duration::from_secs(1)
        }
    );
    assert_eq!(
        sent.retries.to_string(),
        "retried 1 time: HTTP 503 with Retry-After: Sun, 09 Sep 2001 01:46:41 GMT (in 1s), waited 1s"
    );
    let [first, second] = <[Recorded; 2]>::try_from(server.requests()).unwrap();
    assert!(
        second.at.duration_since(first.at) >= Duration::from_secs(1),
        "the second request came {:?} after the first",
        second.at.duration_since(first.at)
    );
}

#[tokio::test]
async fn an_unreadable_retry_after_is_waited_out_with_the_backoff() {
    let server = server(|n| (n < 2).then(|| too_many("in a minute or two"))).await;
    let request = build_request(&profile(endpoint()), &server.base, &client_credentials()).unwrap();
    let sent = transport(quick(3)).send_retrying(&request).await;
    assert_eq!(sent.outcome.unwrap().status, 200);
    let waits: Vec<Duration> = sent.retries.retried.iter().map(|r| r.waited).collect();
    assert_eq!(waits, [10, 20].map(Duration::from_millis));
    assert_eq!(
        sent.retries.retried[0].answer.retry_after,
        RetryAfter::Unreadable("in a minute or two".into())
    );
    assert!(
        sent.retries.to_string().contains(
            r#"with an unreadable Retry-After: "in a minute or two", waited 10ms (backoff)"#
        ),
        "{}",
        sent.retries
    );
}

#[tokio::test]
async fn a_503_without_retry_after_is_the_answer() {
    let server = server(|_| {
        Some(Canned::json(
            503,
            json!({"error": "temporarily_unavailable"}),
        ))
    })
    .await;
    let error = client(&server, RetryPolicy::default())
        .fetch(&client_credentials())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 1);
    assert!(error.retries().is_none(), "{error:?}");
    let refusal = error
        .provider_error()
        .unwrap_or_else(|| panic!("{error:?}"));
    assert_eq!(refusal.status, 503);
}

#[tokio::test]
async fn other_statuses_are_never_retried() {
    for status in [500, 502, 504, 400] {
        let server = server(move |_| {
            Some(
                Canned::json(status, json!({"error": "server_error"}))
                    .with_header("retry-after", "0"),
            )
        })
        .await;
        let _ = client(&server, RetryPolicy::default())
            .fetch(&client_credentials())
            .await
            .unwrap_err();
        assert_eq!(server.count(), 1, "HTTP {status}");
    }
}

#[tokio::test]
async fn a_throttled_authorization_code_is_not_used_up() {
    // A 429 means the server did not act on the request: the code can be
    // sent again, even by a client that does not retry by itself.
    let server = server(|n| (n == 0).then(|| too_many("60"))).await;
    let client = client(&server, RetryPolicy::none());
    let request = TokenRequest::new(
        Grant::authorization_code("code-1", Some("https://app.example/cb".into()), None),
        ClientCredentials::new("client-1", "secret-1"),
    );
    let error = client.get_token(&request).await.unwrap_err();
    assert!(
        matches!(
            &error,
            TokenError::Transport(e) if matches!(e.kind, TransportErrorKind::Throttled(_))
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .ends_with("the retry policy allows 1 attempt, so it is never retried"),
        "{error}"
    );
    let token = client.get_token(&request).await.unwrap();
    assert_eq!(token.token_type, TokenType::Bearer);
    assert_eq!(server.count(), 2);
}

#[tokio::test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: paces requests at a real rate of four a second; runs with `cargo test --all-features`"
)]
async fn a_paced_transport_spaces_requests_across_clones_and_retries() {
    // 4 per second: one every 250 ms, whatever sends them at once.
    let interval = Duration::from_millis(250);
    let server = server(|n| (n == 1).then(|| too_many("0"))).await;
    let rate = RequestRate::new(4, Duration::from_secs(1)).unwrap();
    let paced = transport(quick(3)).paced(rate);
    assert_eq!(paced.rate(), Some(rate));
    let fetches: Vec<_> = (0..4)
        .map(|_| {
            let client = TokenClient::new(profile(endpoint()), server.base.clone())
                .unwrap()
                .with_transport(paced.clone());
            tokio::spawn(async move { client.fetch(&client_credentials()).await })
        })
        .collect();
    for fetch in fetches {
        fetch.await.unwrap().unwrap();
    }
    // Four fetches, one of them retried: five requests, each in its turn.
    let mut arrivals: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    assert_eq!(arrivals.len(), 5);
    arrivals.sort();
    // A request can only arrive later than its turn, never earlier; the
    // slack covers one arriving late on a busy machine, which shortens the
    // gap after it.
    let slack = interval / 2;
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= interval - slack, "requests {gap:?} apart");
    }
    let span = arrivals[4].duration_since(arrivals[0]);
    assert!(
        span >= interval * 4 - slack,
        "five requests within {span:?}"
    );
}
