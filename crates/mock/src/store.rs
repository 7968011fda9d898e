//! Issued tokens: what each grants, when it expires, whether it was revoked.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use grantspec_spec::TokenFormat;
use rand::Rng as _;
use serde_json::json;

/// Eviction first runs once this many tokens are held.
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
    expires_at: SystemTime,
}

#[derive(Debug)]
struct RefreshRecord {
    grantee: Grantee,
    revoked: bool,
}

/// The tokens one provider has issued.
#[derive(Debug, Default)]
pub struct TokenStore {
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    used_codes: HashSet<(String, String)>,
    /// Sizes at which the next sweep of each map runs.
    next_sweep: (usize, usize),
}

impl TokenStore {
    /// Mints and records an access token.
    pub fn issue_access(
        &mut self,
        grantee: &Grantee,
        expires_at: SystemTime,
        format: TokenFormat,
        now: SystemTime,
    ) -> String {
        let token = match format {
            TokenFormat::Opaque => random_hex::<20>(),
            TokenFormat::Jwt => jwt(grantee, now, expires_at),
        };
        self.access.insert(
            token.clone(),
            AccessRecord {
                grantee: grantee.clone(),
                expires_at,
            },
        );
        token
    }

    /// Mints and records a refresh token.
    pub fn issue_refresh(&mut self, grantee: &Grantee) -> String {
        let token = format!("def50200{}", random_hex::<32>());
        self.refresh.insert(
            token.clone(),
            RefreshRecord {
                grantee: grantee.clone(),
                revoked: false,
            },
        );
        token
    }

    /// Redeems a refresh token presented by `client_id`; with `rotate` it is
    /// revoked. `None` when it is unknown, revoked or another client's.
    pub fn redeem_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        rotate: bool,
    ) -> Option<Grantee> {
        let record = self.refresh.get_mut(token)?;
        if record.revoked || record.grantee.client_id != client_id {
            return None;
        }
        record.revoked = rotate;
        Some(record.grantee.clone())
    }

    /// Marks an authorization code used; `false` if it already was.
    pub fn consume_code(&mut self, client_id: &str, code: &str) -> bool {
        self.used_codes
            .insert((client_id.to_owned(), code.to_owned()))
    }

    /// Whom an access token was issued to, if it is known and unexpired.
    pub fn check_access(&self, token: &str, now: SystemTime) -> Option<&Grantee> {
        self.access
            .get(token)
            .filter(|record| record.expires_at > now)
            .map(|record| &record.grantee)
    }

    /// Drops expired access tokens and revoked refresh tokens once there are
    /// many, so memory stays bounded by the tokens still valid. A sweep runs
    /// when a map has doubled since the last one, so its cost is amortised
    /// over the tokens issued in between.
    pub fn evict_expired(&mut self, now: SystemTime) {
        let (access_at, refresh_at) = self.next_sweep;
        if self.access.len() > access_at.max(EVICT_ABOVE) {
            self.access.retain(|_, record| record.expires_at > now);
            self.next_sweep.0 = (self.access.len() * 2).max(EVICT_ABOVE);
        }
        if self.refresh.len() > refresh_at.max(EVICT_ABOVE) {
            self.refresh.retain(|_, record| !record.revoked);
            self.next_sweep.1 = (self.refresh.len() * 2).max(EVICT_ABOVE);
        }
    }

    /// How many access and refresh tokens are held.
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        (self.access.len(), self.refresh.len())
    }
}

/// `BYTES` random bytes in lower-case hex.
fn random_hex<const BYTES: usize>() -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut bytes = [0u8; BYTES];
    rand::rng().fill(&mut bytes);
    let mut out = String::with_capacity(BYTES * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn jwt(grantee: &Grantee, now: SystemTime, expires_at: SystemTime) -> String {
    let seconds = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
    };
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
    let mut signature = [0u8; 64];
    rand::rng().fill(&mut signature);
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
    fn expired_and_revoked_tokens_are_evicted_under_load() {
        let mut store = TokenStore::default();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
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
        assert_eq!(store.len(), (EVICT_ABOVE + 11, EVICT_ABOVE + 11));

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
