//! Issued tokens: what each grants, when it expires, whether it was revoked.
//!
//! The store is bounded: it keeps at most `max_tokens` tokens (access and
//! refresh together) and forgets the oldest first, so a mock left running
//! under load holds a fixed amount of memory. A forgotten token is simply
//! unknown, as a token the provider never issued is.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use grantspec_spec::TokenFormat;
use serde_json::json;

/// How many tokens one provider's store keeps by default: a few MB (a JWT
/// and its record take about 650 bytes), reached within seconds under load
/// even in a debug build, so a loaded mock's memory is flat from then on.
pub const DEFAULT_MAX_TOKENS: usize = 10_000;

/// Expired access tokens are first swept once this many are held.
const EVICT_ABOVE: usize = 4096;

/// Who a token was issued to and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grantee {
    /// The client.
    pub client_id: String,
    /// The resource owner, for user grants.
    pub user: Option<String>,
    /// Granted scopes.
    pub scope: Vec<String>,
    /// Audiences the token is for.
    pub audience: Vec<String>,
    /// Whether the token may only read (Elastic Path's implicit tokens).
    pub read_only: bool,
}

#[derive(Debug)]
struct AccessRecord {
    grantee: Grantee,
    /// Seconds since the Unix epoch (saturating: a token that outlives
    /// every clock expires at `Duration::MAX`).
    expires_at: Duration,
}

/// Which map a token in the issue order lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
}

/// The tokens one provider has issued.
#[derive(Debug)]
pub struct TokenStore {
    access: HashMap<Arc<str>, AccessRecord>,
    /// Refresh tokens still redeemable; a rotated one is removed.
    refresh: HashMap<Arc<str>, Grantee>,
    /// Every token issued, oldest first, until it is evicted from the
    /// front. Tokens dropped earlier (expired, rotated) stay here until
    /// they reach the front, so its length bounds both maps.
    order: VecDeque<(Kind, Arc<str>)>,
    max_tokens: usize,
    used_codes: HashSet<(String, String)>,
    /// Size of the access map at which the next sweep of expired tokens runs.
    next_sweep: usize,
}

impl Default for TokenStore {
    fn default() -> Self {
        Self::with_max_tokens(DEFAULT_MAX_TOKENS)
    }
}

impl TokenStore {
    /// A store that keeps at most `max_tokens` tokens (at least one).
    pub fn with_max_tokens(max_tokens: usize) -> Self {
        Self {
            access: HashMap::new(),
            refresh: HashMap::new(),
            order: VecDeque::new(),
            max_tokens: max_tokens.max(1),
            used_codes: HashSet::new(),
            next_sweep: EVICT_ABOVE,
        }
    }

    /// Mints and records an access token valid until `expires_at` (since
    /// the Unix epoch); `now` is the time it is issued at.
    pub fn issue_access(
        &mut self,
        grantee: &Grantee,
        expires_at: Duration,
        format: TokenFormat,
        now: Duration,
    ) -> String {
        let token = match format {
            TokenFormat::Opaque => random_hex::<20>(),
            TokenFormat::Jwt => jwt(grantee, now, expires_at),
        };
        let key: Arc<str> = Arc::from(token.as_str());
        self.access.insert(
            Arc::clone(&key),
            AccessRecord {
                grantee: grantee.clone(),
                expires_at,
            },
        );
        self.remember(Kind::Access, key);
        token
    }

    /// Mints and records a refresh token.
    pub fn issue_refresh(&mut self, grantee: &Grantee) -> String {
        let token = format!("def50200{}", random_hex::<32>());
        let key: Arc<str> = Arc::from(token.as_str());
        self.refresh.insert(Arc::clone(&key), grantee.clone());
        self.remember(Kind::Refresh, key);
        token
    }

    /// Appends a token to the issue order and forgets the oldest while more
    /// than `max_tokens` are held: one eviction per issue at most, so O(1).
    fn remember(&mut self, kind: Kind, key: Arc<str>) {
        self.order.push_back((kind, key));
        while self.order.len() > self.max_tokens {
            let Some((kind, oldest)) = self.order.pop_front() else {
                break;
            };
            match kind {
                Kind::Access => {
                    self.access.remove(&oldest);
                }
                Kind::Refresh => {
                    self.refresh.remove(&oldest);
                }
            }
        }
    }

    /// Redeems a refresh token presented by `client_id`; with `rotate` it is
    /// revoked. `None` when it is unknown (never issued, revoked, or
    /// evicted) or another client's.
    pub fn redeem_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        rotate: bool,
    ) -> Option<Grantee> {
        let grantee = self.refresh.get(token)?;
        if grantee.client_id != client_id {
            return None;
        }
        if rotate {
            self.refresh.remove(token)
        } else {
            Some(grantee.clone())
        }
    }

    /// Marks an authorization code used; `false` if it already was.
    pub fn consume_code(&mut self, client_id: &str, code: &str) -> bool {
        self.used_codes
            .insert((client_id.to_owned(), code.to_owned()))
    }

    /// Whom an access token was issued to, if it is known and unexpired at
    /// `now` (since the Unix epoch).
    pub fn check_access(&self, token: &str, now: Duration) -> Option<&Grantee> {
        self.access
            .get(token)
            .filter(|record| record.expires_at > now)
            .map(|record| &record.grantee)
    }

    /// Drops expired access tokens once there are many, so memory stays
    /// bounded by the tokens still valid when that is below the cap. A sweep
    /// runs when the map has doubled since the last one, so its cost is
    /// amortised over the tokens issued in between.
    pub fn evict_expired(&mut self, now: Duration) {
        if self.access.len() > self.next_sweep {
            self.access.retain(|_, record| record.expires_at > now);
            self.next_sweep = (self.access.len() * 2).max(EVICT_ABOVE);
        }
    }

    /// How many access and refresh tokens are held.
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        (self.access.len(), self.refresh.len())
    }
}

/// `N` bytes from the operating system's random source. Should it ever
/// fail, the bytes come from std's randomly keyed hasher over a counter:
/// unique and unpredictable enough for a mock, and no panic mid-request.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if getrandom::fill(&mut bytes).is_err() {
        use std::hash::{BuildHasher as _, Hasher as _};
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let keys = std::collections::hash_map::RandomState::new();
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = keys.build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            let word = hasher.finish().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
    bytes
}

/// `BYTES` random bytes in lower-case hex.
fn random_hex<const BYTES: usize>() -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let bytes = random_bytes::<BYTES>();
    let mut out = String::with_capacity(BYTES * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn jwt(grantee: &Grantee, now: Duration, expires_at: Duration) -> String {
    let seconds = |t: Duration| t.as_secs();
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let header = encode(json!({ "alg": "RS256", "typ": "JWT" }));
    let claims = encode(json!({
        "aud": grantee.client_id,
        "jti": random_hex::<16>(),
        "iat": seconds(now),
        "nbf": seconds(now),
        "exp": seconds(expires_at),
        "sub": grantee.user.clone().unwrap_or_default(),
        "scopes": grantee.scope,
    }));
    let signature = random_bytes::<64>();
    format!(
        "{header}.{claims}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grantee() -> Grantee {
        Grantee {
            client_id: "c".into(),
            user: None,
            scope: Vec::new(),
            audience: Vec::new(),
            read_only: false,
        }
    }

    #[test]
    fn expired_tokens_are_swept_and_rotated_ones_dropped_under_load() {
        let mut store = TokenStore::default();
        let start = Duration::from_secs(1_000_000);
        let grantee = grantee();
        for _ in 0..EVICT_ABOVE + 10 {
            store.issue_access(
                &grantee,
                start + Duration::from_secs(60),
                TokenFormat::Opaque,
                start,
            );
            let refresh = store.issue_refresh(&grantee);
            assert!(store.redeem_refresh(&refresh, "c", true).is_some());
        }
        let live = store.issue_access(
            &grantee,
            start + Duration::from_secs(600),
            TokenFormat::Jwt,
            start,
        );
        let kept_refresh = store.issue_refresh(&grantee);
        assert_eq!(store.len(), (EVICT_ABOVE + 11, 1));

        store.evict_expired(start + Duration::from_secs(61));
        assert_eq!(store.len(), (1, 1));
        assert!(
            store
                .check_access(&live, start + Duration::from_secs(61))
                .is_some()
        );
        assert!(store.redeem_refresh(&kept_refresh, "c", true).is_some());
    }

    #[test]
    fn the_store_never_holds_more_than_its_cap_and_forgets_the_oldest_first() {
        const CAP: usize = 100;
        let mut store = TokenStore::with_max_tokens(CAP);
        let now = Duration::from_secs(1_000);
        let expires = Duration::MAX;
        let grantee = grantee();
        let mut issued = Vec::new();
        for round in 0..10 * CAP {
            let access = store.issue_access(&grantee, expires, TokenFormat::Opaque, now);
            let refresh = store.issue_refresh(&grantee);
            issued.push((access, refresh));
            let (access_held, refresh_held) = store.len();
            assert!(access_held + refresh_held <= CAP, "round {round}");
        }
        assert_eq!(store.len(), (CAP / 2, CAP / 2));
        // The newest CAP tokens are the ones kept; every older one is
        // unknown, as a token never issued is.
        let (old, new) = issued.split_at(issued.len() - CAP / 2);
        for (access, refresh) in old {
            assert!(store.check_access(access, now).is_none());
            assert!(store.redeem_refresh(refresh, "c", false).is_none());
        }
        for (access, refresh) in new {
            assert!(store.check_access(access, now).is_some());
            assert!(store.redeem_refresh(refresh, "c", false).is_some());
        }
        // Tokens dropped before their turn (rotated) do not let the store
        // hold more than the cap either.
        for _ in 0..10 * CAP {
            let refresh = store.issue_refresh(&grantee);
            store.redeem_refresh(&refresh, "c", true);
            store.issue_access(&grantee, expires, TokenFormat::Opaque, now);
            let (access_held, refresh_held) = store.len();
            assert!(access_held + refresh_held <= CAP);
            assert!(store.order.len() <= CAP);
        }
    }

    #[test]
    fn a_cap_of_zero_still_keeps_the_newest_token() {
        let mut store = TokenStore::with_max_tokens(0);
        let access = store.issue_access(
            &grantee(),
            Duration::MAX,
            TokenFormat::Opaque,
            Duration::ZERO,
        );
        assert!(store.check_access(&access, Duration::ZERO).is_some());
    }

    #[test]
    fn a_refresh_token_is_bound_to_its_client_and_single_use_when_rotated() {
        let mut store = TokenStore::default();
        let refresh = store.issue_refresh(&grantee());
        assert!(store.redeem_refresh(&refresh, "other", true).is_none());
        assert!(store.redeem_refresh(&refresh, "c", true).is_some());
        assert!(store.redeem_refresh(&refresh, "c", true).is_none());
        let reusable = store.issue_refresh(&grantee());
        assert!(store.redeem_refresh(&reusable, "c", false).is_some());
        assert!(store.redeem_refresh(&reusable, "c", false).is_some());
    }
}
