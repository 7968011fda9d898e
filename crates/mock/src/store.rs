//! Issued tokens: what each grants, when it expires, whether it was revoked.
//!
//! The store is bounded: it keeps at most `max_tokens` tokens (access and
//! refresh together) and forgets the oldest first, so a mock left running
//! under load holds a fixed amount of memory. A forgotten token is simply
//! unknown, as a token the provider never issued is.
//!
//! Tokens issued from one original grant (a password login, an
//! authorization code) and from every refresh since share a [`Family`], so
//! that detecting a replayed refresh token can revoke them all (RFC 9700
//! §4.14.2). A family is a flag the records of its tokens hold, not an
//! entry of its own: it is dropped with the last of them, so forgetting
//! tokens forgets their families too.

use std::collections::HashSet;
use std::hash::BuildHasher as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use base64::Engine as _;
use grantspec_spec::{RefreshPolicy, TokenFormat};
use grantspec_token::PkceMethod;
use hashbrown::HashTable;
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
    /// The client: shared with the emulator's seed, as every token of a
    /// client names the same one.
    pub client_id: Arc<str>,
    /// The resource owner, for user grants.
    pub user: Option<String>,
    /// Granted scopes.
    pub scope: Vec<String>,
    /// Audiences the token is for.
    pub audience: Vec<String>,
    /// Whether the token may only read (Elastic Path's implicit tokens).
    pub read_only: bool,
}

/// The tokens descended from one original grant: revoked together.
#[derive(Debug, Clone, Default)]
pub struct Family(Arc<AtomicBool>);

impl Family {
    fn revoke(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_revoked(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
struct AccessRecord {
    grantee: Grantee,
    /// Seconds since the Unix epoch (saturating: a token that outlives
    /// every clock expires at `Duration::MAX`).
    expires_at: Duration,
    /// The family of a token issued with a refresh token, or by a refresh.
    family: Option<Family>,
}

#[derive(Debug)]
struct RefreshRecord {
    grantee: Grantee,
    family: Family,
    /// Already redeemed, and kept to recognise a replay
    /// ([`RefreshPolicy::RotateRevokeFamily`]).
    used: bool,
}

/// What a refresh token redeems for: whom it was issued to, and the family
/// the tokens issued for it join.
#[derive(Debug, Clone)]
pub struct Redeemed {
    /// Whom the refresh token was issued to.
    pub grantee: Grantee,
    /// Its family.
    pub family: Family,
}

/// Why a refresh token redeems nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Never issued, revoked (alone or with its family), forgotten, or
    /// another client's.
    Unknown,
    /// Already used, under [`RefreshPolicy::RotateRevokeFamily`]: its
    /// family is revoked now.
    Replayed,
}

/// An authorization code the authorization endpoint issued, and what it is
/// bound to (RFC 6749 §4.1.2, §4.1.3; RFC 7636 §4.4).
#[derive(Debug, Clone)]
pub struct IssuedCode {
    /// Whom the tokens issued for it are for (client, user, scope).
    pub grantee: Grantee,
    /// The `redirect_uri` of the authorization request, when it had one.
    pub redirect_uri: Option<String>,
    /// The PKCE challenge and its method, when the request sent one.
    pub challenge: Option<(String, PkceMethod)>,
    /// Until when it may be exchanged, since the Unix epoch.
    pub expires_at: Duration,
    /// The family of every token issued for it: revoked when the code is
    /// presented again.
    pub family: Family,
}

#[derive(Debug)]
struct CodeRecord {
    code: IssuedCode,
    used: bool,
}

/// Why a code redeems nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefused {
    /// Never issued, forgotten, another client's, or expired.
    Unknown,
    /// Already exchanged: every token issued for it is revoked now.
    Replayed,
}

/// What a held token is: the kind a lookup asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Access,
    Refresh,
    Code,
}

/// The record of a held token.
#[derive(Debug)]
enum Held {
    Access(AccessRecord),
    Refresh(RefreshRecord),
    /// Boxed: codes are few, and every slot is as large as its largest
    /// record.
    Code(Box<CodeRecord>),
}

impl Held {
    fn kind(&self) -> Kind {
        match self {
            Self::Access(_) => Kind::Access,
            Self::Refresh(_) => Kind::Refresh,
            Self::Code(_) => Kind::Code,
        }
    }
}

/// A token and its record, in the ring of issued tokens.
#[derive(Debug)]
struct Slot {
    /// The hash of the token and its kind, under which [`TokenStore::index`]
    /// files the slot: kept, so that forgetting the token need not read it.
    hash: u64,
    token: Arc<str>,
    /// `None` once the token is dropped (expired, rotated) before the ring
    /// comes round to its slot again.
    held: Option<Held>,
}

impl Slot {
    fn kind(&self) -> Option<Kind> {
        self.held.as_ref().map(Held::kind)
    }
}

/// The tokens one provider has issued.
///
/// They live in a ring of at most `max_tokens` slots, in the order issued:
/// once the ring is full, a new token takes the slot of the oldest, which
/// is forgotten. Tokens dropped earlier (expired, rotated) leave their slot
/// vacant until then. An index of slot numbers, by the hash of each held
/// token, finds a token: four bytes a token, so under load the index stays
/// in the cache, and the slots are written and forgotten in order. (A map
/// of the records themselves, by token, missed the cache twice per token
/// issued at the default cap: once to insert it, once to evict the oldest.)
#[derive(Debug)]
pub struct TokenStore {
    slots: Vec<Slot>,
    /// The slot the next token takes once the ring is full: the oldest's.
    oldest: usize,
    /// The slot of every held token, by [`Slot::hash`]. The tokens and
    /// codes are minted at random, never text a client chose, so a fast
    /// hash cannot be steered into collisions.
    index: HashTable<u32>,
    hasher: foldhash::fast::RandomState,
    max_tokens: usize,
    /// How many access tokens are held, for [`TokenStore::evict_expired`].
    access_held: usize,
    used_codes: HashSet<(String, String)>,
    /// Number of access tokens held at which the next sweep of expired
    /// ones runs.
    next_sweep: usize,
}

impl Default for TokenStore {
    fn default() -> Self {
        Self::with_max_tokens(DEFAULT_MAX_TOKENS)
    }
}

impl TokenStore {
    /// A store that keeps at most `max_tokens` tokens (at least one, and
    /// at most `u32::MAX`).
    pub fn with_max_tokens(max_tokens: usize) -> Self {
        let max_tokens = max_tokens.clamp(1, u32::MAX as usize);
        Self {
            slots: Vec::new(),
            oldest: 0,
            index: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            max_tokens,
            access_held: 0,
            used_codes: HashSet::new(),
            next_sweep: EVICT_ABOVE,
        }
    }

    /// Mints and records an access token for `grantee`, valid until
    /// `expires_at` (since the Unix epoch), of `family` when one is given;
    /// `now` is the time it is issued at.
    pub fn issue_access(
        &mut self,
        grantee: Grantee,
        expires_at: Duration,
        format: TokenFormat,
        now: Duration,
        family: Option<&Family>,
    ) -> Arc<str> {
        let token: Arc<str> = match format {
            TokenFormat::Opaque => with_random_hex::<20, _>(|hex| Arc::from(hex)),
            TokenFormat::Jwt => Arc::from(jwt(&grantee, now, expires_at)),
        };
        let record = AccessRecord {
            grantee,
            expires_at,
            family: family.cloned(),
        };
        self.hold(Arc::clone(&token), Held::Access(record));
        token
    }

    /// Mints and records a refresh token of `family`.
    pub fn issue_refresh(&mut self, grantee: &Grantee, family: &Family) -> String {
        let token = format!("def50200{}", random_hex::<32>());
        let record = RefreshRecord {
            grantee: grantee.clone(),
            family: family.clone(),
            used: false,
        };
        self.hold(Arc::from(token.as_str()), Held::Refresh(record));
        token
    }

    /// Files `token` in the ring's next slot, forgetting the oldest token
    /// when the ring is full: O(1).
    fn hold(&mut self, token: Arc<str>, held: Held) {
        let kind = held.kind();
        let hash = self.hash(kind, &token);
        // A token minted twice (160 random bits and more) replaces itself,
        // as a map would have it.
        if let Some(again) = self.find_hashed(hash, kind, &token) {
            self.forget(again);
        }
        let slot = Slot {
            hash,
            token,
            held: Some(held),
        };
        let at = if self.slots.len() < self.max_tokens {
            self.slots.push(slot);
            self.slots.len() - 1
        } else {
            let at = self.oldest;
            self.oldest = (at + 1) % self.max_tokens;
            self.forget(at);
            self.slots[at] = slot;
            at
        };
        if kind == Kind::Access {
            self.access_held += 1;
        }
        let slots = &self.slots;
        // `at` is below `max_tokens`, which is at most `u32::MAX`.
        self.index
            .insert_unique(hash, at as u32, |&i| slots[i as usize].hash);
    }

    /// Drops the token of slot `at` from the index and its record, leaving
    /// the slot vacant.
    fn forget(&mut self, at: usize) {
        let slot = &mut self.slots[at];
        let Some(kind) = slot.kind() else { return };
        if let Ok(entry) = self.index.find_entry(slot.hash, |&i| i as usize == at) {
            entry.remove();
        }
        if kind == Kind::Access {
            self.access_held -= 1;
        }
        slot.held = None;
    }

    fn hash(&self, kind: Kind, token: &str) -> u64 {
        self.hasher.hash_one((kind as u8, token))
    }

    /// The slot number of a held token of `kind`.
    fn find(&self, kind: Kind, token: &str) -> Option<usize> {
        self.find_hashed(self.hash(kind, token), kind, token)
    }

    /// [`TokenStore::find`], `hash` being [`TokenStore::hash`] of the token.
    fn find_hashed(&self, hash: u64, kind: Kind, token: &str) -> Option<usize> {
        let slots = &self.slots;
        let &at = self.index.find(hash, |&i| {
            let slot = &slots[i as usize];
            slot.kind() == Some(kind) && *slot.token == *token
        })?;
        Some(at as usize)
    }

    /// The record of a held token of `kind`.
    fn held(&self, kind: Kind, token: &str) -> Option<&Held> {
        self.slots[self.find(kind, token)?].held.as_ref()
    }

    /// [`TokenStore::held`], to change.
    fn held_mut(&mut self, kind: Kind, token: &str) -> Option<&mut Held> {
        let at = self.find(kind, token)?;
        self.slots[at].held.as_mut()
    }

    fn access(&self, token: &str) -> Option<&AccessRecord> {
        match self.held(Kind::Access, token)? {
            Held::Access(record) => Some(record),
            _ => None,
        }
    }

    fn refresh(&self, token: &str) -> Option<&RefreshRecord> {
        match self.held(Kind::Refresh, token)? {
            Held::Refresh(record) => Some(record),
            _ => None,
        }
    }

    fn code(&self, value: &str) -> Option<&CodeRecord> {
        match self.held(Kind::Code, value)? {
            Held::Code(record) => Some(record),
            _ => None,
        }
    }

    /// Whom a refresh token presented by `client_id` was issued to, if it
    /// is known, `client_id`'s, and its family is not revoked; a used one
    /// kept to recognise a replay included. Nothing changes.
    pub fn refresh_grantee(&self, token: &str, client_id: &str) -> Option<&Grantee> {
        self.refresh(token)
            .filter(|record| *record.grantee.client_id == *client_id && !record.family.is_revoked())
            .map(|record| &record.grantee)
    }

    /// Redeems a refresh token presented by `client_id`, as `policy` says:
    /// `rotate` revokes it; `reuse` and `rotate_keep_old` leave it valid;
    /// `rotate_revoke_family` marks it used, and revokes its family when a
    /// used one comes back.
    pub fn redeem_refresh(
        &mut self,
        token: &str,
        client_id: &str,
        policy: RefreshPolicy,
    ) -> Result<Redeemed, Refused> {
        let at = self.find(Kind::Refresh, token).ok_or(Refused::Unknown)?;
        let Some(Held::Refresh(record)) = &mut self.slots[at].held else {
            return Err(Refused::Unknown);
        };
        if *record.grantee.client_id != *client_id || record.family.is_revoked() {
            return Err(Refused::Unknown);
        }
        let redeemed = Redeemed {
            grantee: record.grantee.clone(),
            family: record.family.clone(),
        };
        match policy {
            RefreshPolicy::Reuse | RefreshPolicy::RotateKeepOld => {}
            RefreshPolicy::Rotate => self.forget(at),
            RefreshPolicy::RotateRevokeFamily if record.used => {
                record.family.revoke();
                return Err(Refused::Replayed);
            }
            RefreshPolicy::RotateRevokeFamily => record.used = true,
        }
        Ok(redeemed)
    }

    /// Mints and records an authorization code.
    pub fn issue_code(&mut self, code: IssuedCode) -> String {
        let value = random_hex::<20>();
        let record = CodeRecord { code, used: false };
        self.hold(Arc::from(value.as_str()), Held::Code(Box::new(record)));
        value
    }

    /// The code `value` presented by `client_id` at `now`, unused and
    /// unexpired; nothing changes, so a request refused for another reason
    /// (a redirect URI, a verifier) leaves the code as it was. A used code
    /// revokes the tokens issued for it and is refused as
    /// [`CodeRefused::Replayed`].
    pub fn find_code(
        &mut self,
        value: &str,
        client_id: &str,
        now: Duration,
    ) -> Result<IssuedCode, CodeRefused> {
        let record = self
            .code(value)
            .filter(|record| *record.code.grantee.client_id == *client_id)
            .ok_or(CodeRefused::Unknown)?;
        if record.used {
            record.code.family.revoke();
            return Err(CodeRefused::Replayed);
        }
        if record.code.expires_at <= now {
            return Err(CodeRefused::Unknown);
        }
        Ok(record.code.clone())
    }

    /// Marks an issued code used.
    pub fn use_code(&mut self, value: &str) {
        if let Some(Held::Code(record)) = self.held_mut(Kind::Code, value) {
            record.used = true;
        }
    }

    /// Marks an authorization code used; `false` if it already was.
    pub fn consume_code(&mut self, client_id: &str, code: &str) -> bool {
        self.used_codes
            .insert((client_id.to_owned(), code.to_owned()))
    }

    /// Whom an access token was issued to, if it is known, unexpired at
    /// `now` (since the Unix epoch) and its family is not revoked.
    pub fn check_access(&self, token: &str, now: Duration) -> Option<&Grantee> {
        self.access(token)
            .filter(|record| record.expires_at > now)
            .filter(|record| !record.family.as_ref().is_some_and(Family::is_revoked))
            .map(|record| &record.grantee)
    }

    /// Drops expired access tokens once there are many, so the records
    /// held are bounded by the tokens still valid when that is below the
    /// cap. A sweep runs when the access tokens held have doubled since the
    /// last one, so its cost is amortised over the tokens issued in
    /// between.
    pub fn evict_expired(&mut self, now: Duration) {
        if self.access_held > self.next_sweep {
            for at in 0..self.slots.len() {
                if let Some(Held::Access(record)) = &self.slots[at].held
                    && record.expires_at <= now
                {
                    self.forget(at);
                }
            }
            self.next_sweep = (self.access_held * 2).max(EVICT_ABOVE);
        }
    }

    /// How many access and refresh tokens are held.
    #[cfg(test)]
    pub fn len(&self) -> (usize, usize) {
        let held = |kind| {
            self.slots
                .iter()
                .filter(|slot| slot.kind() == Some(kind))
                .count()
        };
        (held(Kind::Access), held(Kind::Refresh))
    }
}

/// `N` bytes from the operating system's random source, handed out from a
/// per-thread buffer filled [`RANDOM_BUFFER`] bytes at a time: one system
/// call per hundreds of tokens rather than one per token. Should the source
/// ever fail, the bytes come from std's randomly keyed hasher over a
/// counter: unique and unpredictable enough for a mock, and no panic
/// mid-request.
fn random_bytes<const N: usize>() -> [u8; N] {
    use std::cell::RefCell;
    thread_local! {
        /// Unused random bytes, and where the unused ones start.
        static BUFFER: RefCell<([u8; RANDOM_BUFFER], usize)> =
            const { RefCell::new(([0; RANDOM_BUFFER], RANDOM_BUFFER)) };
    }
    let mut bytes = [0u8; N];
    if N > RANDOM_BUFFER {
        fill_random(&mut bytes);
        return bytes;
    }
    BUFFER.with_borrow_mut(|(buffer, next)| {
        if RANDOM_BUFFER - *next < N {
            fill_random(buffer);
            *next = 0;
        }
        bytes.copy_from_slice(&buffer[*next..*next + N]);
        // Handed out once: the bytes are not kept where a later call or a
        // memory dump of the buffer would find them again.
        buffer[*next..*next + N].fill(0);
        *next += N;
    });
    bytes
}

/// How many random bytes a thread fetches from the operating system at once.
const RANDOM_BUFFER: usize = 4096;

/// Fills `bytes` from the operating system's random source, or, should it
/// fail, from std's randomly keyed hasher over a counter.
fn fill_random(bytes: &mut [u8]) {
    if getrandom::fill(bytes).is_err() {
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
}

/// `BYTES` random bytes in lower-case hex.
fn random_hex<const BYTES: usize>() -> String {
    with_random_hex::<BYTES, _>(str::to_owned)
}

/// `use_hex` applied to `BYTES` (at most 32) random bytes in lower-case
/// hex, written on the stack: an access token is copied once, into its key.
fn with_random_hex<const BYTES: usize, R>(use_hex: impl FnOnce(&str) -> R) -> R {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    const { assert!(BYTES <= 32) };
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(random_bytes::<BYTES>()) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    // Hex digits are ASCII, so this never falls back to the empty string.
    use_hex(std::str::from_utf8(&hex[..2 * BYTES]).unwrap_or_default())
}

fn jwt(grantee: &Grantee, now: Duration, expires_at: Duration) -> String {
    let seconds = |t: Duration| t.as_secs();
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
    };
    let header = encode(json!({ "alg": "RS256", "typ": "JWT" }));
    let claims = encode(json!({
        "aud": &*grantee.client_id,
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
    fn random_bytes_are_fresh_across_buffer_refills() {
        // 1,000 draws of 20 bytes empty the per-thread buffer five times.
        let draws: Vec<[u8; 20]> = (0..1000).map(|_| random_bytes::<20>()).collect();
        let distinct: HashSet<&[u8; 20]> = draws.iter().collect();
        assert_eq!(distinct.len(), draws.len(), "every draw is new");
        assert!(
            draws.iter().all(|draw| draw.iter().any(|&byte| byte != 0)),
            "no draw is a handed-out, zeroed part of the buffer"
        );
        let larger_than_the_buffer = random_bytes::<{ RANDOM_BUFFER + 1 }>();
        let zeros = larger_than_the_buffer.iter().filter(|&&b| b == 0).count();
        assert!(
            zeros < 100,
            "{zeros} zero bytes in {} random ones",
            RANDOM_BUFFER + 1
        );
    }

    #[test]
    fn expired_tokens_are_swept_and_rotated_ones_dropped_under_load() {
        let mut store = TokenStore::default();
        let start = Duration::from_secs(1_000_000);
        let grantee = grantee();
        let family = Family::default();
        for _ in 0..EVICT_ABOVE + 10 {
            store.issue_access(
                grantee.clone(),
                start + Duration::from_secs(60),
                TokenFormat::Opaque,
                start,
                None,
            );
            let refresh = store.issue_refresh(&grantee, &family);
            assert!(
                store
                    .redeem_refresh(&refresh, "c", RefreshPolicy::Rotate)
                    .is_ok()
            );
        }
        let live = store.issue_access(
            grantee.clone(),
            start + Duration::from_secs(600),
            TokenFormat::Jwt,
            start,
            Some(&family),
        );
        let kept_refresh = store.issue_refresh(&grantee, &family);
        assert_eq!(store.len(), (EVICT_ABOVE + 11, 1));

        store.evict_expired(start + Duration::from_secs(61));
        assert_eq!(store.len(), (1, 1));
        assert!(
            store
                .check_access(&live, start + Duration::from_secs(61))
                .is_some()
        );
        assert!(
            store
                .redeem_refresh(&kept_refresh, "c", RefreshPolicy::Rotate)
                .is_ok()
        );
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
            let family = Family::default();
            let access = store.issue_access(
                grantee.clone(),
                expires,
                TokenFormat::Opaque,
                now,
                Some(&family),
            );
            let refresh = store.issue_refresh(&grantee, &family);
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
            assert_eq!(
                store
                    .redeem_refresh(refresh, "c", RefreshPolicy::Reuse)
                    .err(),
                Some(Refused::Unknown)
            );
        }
        for (access, refresh) in new {
            assert!(store.check_access(access, now).is_some());
            assert!(
                store
                    .redeem_refresh(refresh, "c", RefreshPolicy::Reuse)
                    .is_ok()
            );
        }
        // Tokens dropped before their turn (rotated), and used ones kept to
        // recognise a replay, do not let the store hold more than the cap
        // either.
        for policy in [RefreshPolicy::Rotate, RefreshPolicy::RotateRevokeFamily] {
            for _ in 0..10 * CAP {
                let family = Family::default();
                let refresh = store.issue_refresh(&grantee, &family);
                assert!(store.redeem_refresh(&refresh, "c", policy).is_ok());
                store.issue_access(
                    grantee.clone(),
                    expires,
                    TokenFormat::Opaque,
                    now,
                    Some(&family),
                );
                let (access_held, refresh_held) = store.len();
                assert!(access_held + refresh_held <= CAP);
                assert!(store.slots.len() <= CAP);
            }
        }
    }

    /// Every held token is found in its own slot, and the index holds
    /// nothing else.
    fn assert_index_matches_the_slots(store: &TokenStore) {
        let held: Vec<usize> = (0..store.slots.len())
            .filter(|&at| store.slots[at].held.is_some())
            .collect();
        assert_eq!(store.index.len(), held.len());
        for at in held {
            let slot = &store.slots[at];
            let kind = slot.kind().unwrap();
            assert_eq!(store.find(kind, &slot.token), Some(at));
        }
    }

    #[test]
    fn the_index_follows_the_ring_through_issues_rotations_sweeps_and_wraps() {
        const CAP: usize = 64;
        let mut store = TokenStore::with_max_tokens(CAP);
        let mut now = Duration::from_secs(1_000);
        let family = Family::default();
        let mut codes = Vec::new();
        for round in 0..20 * CAP {
            let lifetime = Duration::from_secs(if round % 3 == 0 { 1 } else { 3600 });
            let access = store.issue_access(
                grantee(),
                now + lifetime,
                TokenFormat::Opaque,
                now,
                Some(&family),
            );
            let refresh = store.issue_refresh(&grantee(), &family);
            if round % 2 == 0 {
                assert!(
                    store
                        .redeem_refresh(&refresh, "c", RefreshPolicy::Rotate)
                        .is_ok()
                );
            }
            if round % 5 == 0 {
                codes.push(store.issue_code(IssuedCode {
                    grantee: grantee(),
                    redirect_uri: None,
                    challenge: None,
                    expires_at: Duration::MAX,
                    family: Family::default(),
                }));
            }
            now += Duration::from_secs(2);
            // A sweep drops the short-lived ones; force one now and then.
            store.next_sweep = if round % 7 == 0 { 0 } else { EVICT_ABOVE };
            store.evict_expired(now);
            assert!(store.slots.len() <= CAP);
            assert!(store.check_access(&access, now).is_some() || round % 3 == 0);
            assert_index_matches_the_slots(&store);
        }
        // The newest code is still held; the first was forgotten long ago.
        let newest = codes.last().unwrap();
        assert!(store.find_code(newest, "c", now).is_ok());
        assert_eq!(
            store.find_code(&codes[0], "c", now).err(),
            Some(CodeRefused::Unknown)
        );
    }

    #[test]
    fn a_cap_of_zero_still_keeps_the_newest_token() {
        let mut store = TokenStore::with_max_tokens(0);
        let access = store.issue_access(
            grantee(),
            Duration::MAX,
            TokenFormat::Opaque,
            Duration::ZERO,
            None,
        );
        assert!(store.check_access(&access, Duration::ZERO).is_some());
    }

    #[test]
    fn a_refresh_token_is_bound_to_its_client_and_redeemed_as_the_policy_says() {
        let mut store = TokenStore::default();
        let family = Family::default();
        let redeem = |store: &mut TokenStore, token: &str, client: &str, policy| {
            store.redeem_refresh(token, client, policy).map(|_| ())
        };
        let refresh = store.issue_refresh(&grantee(), &family);
        for policy in RefreshPolicy::ALL {
            assert_eq!(
                redeem(&mut store, &refresh, "other", policy),
                Err(Refused::Unknown),
                "{policy:?}"
            );
        }
        // rotate: single use.
        assert_eq!(
            redeem(&mut store, &refresh, "c", RefreshPolicy::Rotate),
            Ok(())
        );
        assert_eq!(
            redeem(&mut store, &refresh, "c", RefreshPolicy::Rotate),
            Err(Refused::Unknown)
        );
        // reuse and rotate_keep_old: valid however often it is used.
        for policy in [RefreshPolicy::Reuse, RefreshPolicy::RotateKeepOld] {
            let reusable = store.issue_refresh(&grantee(), &family);
            for _ in 0..3 {
                assert_eq!(redeem(&mut store, &reusable, "c", policy), Ok(()));
            }
        }
        // rotate_revoke_family: single use, and a replay is recognised as
        // one, every time.
        let once = store.issue_refresh(&grantee(), &Family::default());
        let policy = RefreshPolicy::RotateRevokeFamily;
        assert_eq!(redeem(&mut store, &once, "c", policy), Ok(()));
        assert_eq!(
            redeem(&mut store, &once, "c", policy),
            Err(Refused::Replayed)
        );
        assert_eq!(
            redeem(&mut store, &once, "c", policy),
            Err(Refused::Unknown)
        );
    }

    #[test]
    fn a_replay_revokes_its_family_and_nothing_else() {
        let mut store = TokenStore::default();
        let now = Duration::from_secs(1_000);
        let policy = RefreshPolicy::RotateRevokeFamily;
        let (family, other) = (Family::default(), Family::default());
        let issue = |store: &mut TokenStore, family: &Family| {
            let access = store.issue_access(
                grantee(),
                Duration::MAX,
                TokenFormat::Opaque,
                now,
                Some(family),
            );
            (access, store.issue_refresh(&grantee(), family))
        };
        let (first_access, first) = issue(&mut store, &family);
        assert!(store.redeem_refresh(&first, "c", policy).is_ok());
        let (second_access, second) = issue(&mut store, &family);
        let (other_access, other_refresh) = issue(&mut store, &other);
        let unfamilied =
            store.issue_access(grantee(), Duration::MAX, TokenFormat::Opaque, now, None);

        assert_eq!(
            store.redeem_refresh(&first, "c", policy).err(),
            Some(Refused::Replayed)
        );
        // Every token of the family is revoked, the newest included.
        assert_eq!(
            store.redeem_refresh(&second, "c", policy).err(),
            Some(Refused::Unknown)
        );
        assert!(store.check_access(&first_access, now).is_none());
        assert!(store.check_access(&second_access, now).is_none());
        // Another family, and a token of none, are untouched.
        assert!(store.check_access(&other_access, now).is_some());
        assert!(store.check_access(&unfamilied, now).is_some());
        assert!(store.redeem_refresh(&other_refresh, "c", policy).is_ok());
    }

    #[test]
    fn a_family_is_forgotten_with_its_last_token() {
        const CAP: usize = 10;
        let mut store = TokenStore::with_max_tokens(CAP);
        let now = Duration::from_secs(1_000);
        let family = Family::default();
        store.issue_access(
            grantee(),
            Duration::MAX,
            TokenFormat::Opaque,
            now,
            Some(&family),
        );
        let refresh = store.issue_refresh(&grantee(), &family);
        store
            .redeem_refresh(&refresh, "c", RefreshPolicy::RotateRevokeFamily)
            .unwrap();
        assert_eq!(
            Arc::strong_count(&family.0),
            3,
            "this handle and two records"
        );
        for _ in 0..CAP {
            store.issue_access(grantee(), Duration::MAX, TokenFormat::Opaque, now, None);
        }
        assert_eq!(
            Arc::strong_count(&family.0),
            1,
            "only this handle: the store holds nothing of the family"
        );
    }
}
