//! The mock as a long-running server: memory stays flat under sustained load.
//! Its own test binary, so that no other test shares the process it measures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use grantspec_mock::{MockLimits, MockServer};
use grantspec_spec::load_str;
use grantspec_token::ManualClock;

const SPEC: &str = r#"
provider:
  id: soak
  name: Soak
  token_endpoint: { path: /oauth/token }
mock:
  client_auth: [basic, post]
  clients:
    - { id: c, secret: s, grants: [password, refresh_token] }
  users:
    - { username: alice, password: wonderland }
cases: []
"#;

/// This process's resident set size in KiB, from `/proc/self/status`.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// The issue's "must show" (64 clients for 15 s, RSS after 15 s within 20 %
/// of RSS after 5 s), shown in 6 s: with the cap set small the store is full
/// within a fraction of a second, so the RSS after 2 s is already the steady
/// state, and every token issued after that evicts one. Each request asks
/// for 64 scopes, which every kept token holds, so a store that kept
/// everything would grow by several KiB per request (before the cap, this
/// test saw 77 MB after 2 s and 185 MB after 6 s; with it, 31 MB and 32 MB).
/// The RSS is the whole test process's, load clients included; nothing else
/// runs in it, since this is the only test of its binary.
#[cfg(target_os = "linux")]
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: loads the mock for 6 s by design; runs with `cargo test --all-features`"
)]
fn memory_stays_flat_under_sustained_load() {
    const CLIENTS: usize = 64;
    const MAX_TOKENS: usize = 1_000;
    const WARM: Duration = Duration::from_secs(2);
    const TOTAL: Duration = Duration::from_secs(6);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let spec = load_str(Path::new("soak.yaml"), SPEC).unwrap().spec;
        let limits = MockLimits {
            max_tokens: MAX_TOKENS,
            ..MockLimits::default()
        };
        let server = MockServer::start_with(
            [spec.mock_provider().unwrap()],
            Arc::new(ManualClock::default()),
            0,
            &limits,
        )
        .await
        .unwrap();
        let url = server.token_url("soak").unwrap().to_string();
        // 64 scopes: every token the store keeps holds them, which makes
        // each kept token weigh a few KiB, so growth shows within seconds.
        let scopes: Vec<String> = (0..64).map(|i| format!("scope-{i:02}")).collect();
        let body = format!(
            "grant_type=password&username=alice&password=wonderland&scope={}",
            scopes.join("+")
        );
        // One client (one connection pool) per simulated application.
        let http: Vec<reqwest::Client> = (0..CLIENTS)
            .map(|_| grantspec_test_support::loopback_client())
            .collect();
        let start = tokio::time::Instant::now();
        let mut clients = tokio::task::JoinSet::new();
        for client in http {
            let url = url.clone();
            let body = body.clone();
            clients.spawn(async move {
                let mut sent = 0u64;
                while start.elapsed() < TOTAL {
                    let response = client
                        .post(&url)
                        .basic_auth("c", Some("s"))
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status(), 200);
                    let _ = response.bytes().await.unwrap();
                    sent += 1;
                }
                sent
            });
        }
        tokio::time::sleep_until(start + WARM).await;
        let warm = rss_kib();
        let mut sent = 0;
        while let Some(count) = clients.join_next().await {
            sent += count.unwrap();
        }
        let end = rss_kib();
        eprintln!("{sent} requests; RSS {warm} KiB after {WARM:?}, {end} KiB after {TOTAL:?}");
        assert!(
            end * 100 <= warm * 120,
            "RSS grew from {warm} KiB to {end} KiB over {sent} requests"
        );
    });
}
