//! JWT assertions as the mock judges them (RFC 7523 §3): client assertions
//! (`client_secret_jwt`, `private_key_jwt`) and JWT bearer grants, and the
//! subject and actor JWTs of a token exchange.
//!
//! The signature is verified with the seed's key (a client's `public_key`
//! or `secret`, a trusted issuer's `public_key`) by `jsonwebtoken`; the
//! claims are judged here on the emulator's clock, which `jsonwebtoken`'s
//! own checks (on the system clock) cannot be: `aud` must name this token
//! endpoint, `exp` must not have passed, and a `jti` is accepted once,
//! remembered in a bounded cache.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// The key an assertion must verify with.
pub(crate) enum VerifyingKey<'a> {
    /// A PEM public key: RSA for RS256, P-256 for ES256.
    Public(&'a str),
    /// A shared secret, for HS256.
    Shared(&'a str),
}

/// What the claims must say.
pub(crate) struct ClaimRules<'a> {
    /// `aud` must contain one of these; none checks nothing.
    pub audiences: &'a [String],
    /// The emulator's time, since the Unix epoch.
    pub now: Duration,
    /// Seconds of skew allowed on `exp`.
    pub leeway: u64,
}

/// Why an assertion was refused, in words for `error_description`.
pub(crate) type Refusal = String;

/// Verifies `jwt`'s signature with `key` and judges its claims; the claims
/// when it passes. The `jti` is not looked at here (see [`JtiCache`]).
pub(crate) fn verify(
    jwt: &str,
    key: &VerifyingKey<'_>,
    rules: &ClaimRules<'_>,
) -> Result<Map<String, Value>, Refusal> {
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| "The JWT is malformed.")?;
    let decoding = match (key, header.alg) {
        (VerifyingKey::Shared(secret), Algorithm::HS256) => {
            DecodingKey::from_secret(secret.as_bytes())
        }
        (VerifyingKey::Public(pem), Algorithm::RS256) => DecodingKey::from_rsa_pem(pem.as_bytes()),
        (VerifyingKey::Public(pem), Algorithm::ES256) => DecodingKey::from_ec_pem(pem.as_bytes()),
        (_, alg) => {
            return Err(format!(
                "The JWT is signed with {alg:?}, which the registered key does not verify."
            ));
        }
    }
    .map_err(|_| "The registered key cannot verify this JWT.")?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::new();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(jwt, &decoding, &validation)
        .map_err(|_| "The JWT signature is invalid.")?
        .claims;
    judge_claims(&claims, rules)?;
    Ok(claims)
}

/// Reads the claims of `jwt` without verifying it, to find who signed it.
pub(crate) fn peek(jwt: &str) -> Option<Map<String, Value>> {
    grantspec_token::unverified_claims(jwt)
}

fn judge_claims(claims: &Map<String, Value>, rules: &ClaimRules<'_>) -> Result<(), Refusal> {
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .ok_or("The JWT has no `exp`.")?;
    if exp.saturating_add(rules.leeway) <= rules.now.as_secs() {
        return Err("The JWT has expired.".into());
    }
    if !rules.audiences.is_empty() {
        let named = |aud: &str| rules.audiences.iter().any(|own| own == aud);
        let fits = match claims.get("aud") {
            Some(Value::String(aud)) => named(aud),
            Some(Value::Array(auds)) => auds.iter().filter_map(Value::as_str).any(named),
            _ => false,
        };
        if !fits {
            return Err("The JWT's `aud` does not name this token endpoint.".into());
        }
    }
    Ok(())
}

/// The `jti`s seen, per issuer, at most `max` of them: the oldest is
/// forgotten first.
#[derive(Debug)]
pub(crate) struct JtiCache {
    seen: HashSet<(String, String)>,
    order: VecDeque<(String, String)>,
    max: usize,
}

impl JtiCache {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    /// Records `jti` of `issuer`; `false` when it was already seen.
    pub(crate) fn first_use(&mut self, issuer: &str, jti: &str) -> bool {
        let key = (issuer.to_owned(), jti.to_owned());
        if self.seen.contains(&key) {
            return false;
        }
        if self.order.len() >= self.max {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.seen.insert(key.clone());
        self.order.push_back(key);
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::SystemTime;

    use grantspec_token::{
        AssertionClaims, ExposeSecret, SigningAlgorithm, SigningKey, sign_assertion,
    };

    use super::*;

    const EC_PRIVATE: &str = include_str!("../../test-support/keys/ec-private.pem");
    const EC_PUBLIC: &str = include_str!("../../test-support/keys/ec-public.pem");
    const OTHER_PUBLIC: &str = include_str!("../../test-support/keys/ec-other-public.pem");
    const RSA_PRIVATE: &str = include_str!("../../test-support/keys/rsa-private.pem");
    const RSA_PUBLIC: &str = include_str!("../../test-support/keys/rsa-public.pem");

    const NOW: u64 = 1_767_225_600;

    fn signed(alg: SigningAlgorithm, key: &str, aud: &str, iat: u64) -> String {
        let key = SigningKey::new(alg, key.into()).unwrap();
        let claims = AssertionClaims::client(
            "app",
            aud,
            SystemTime::UNIX_EPOCH + Duration::from_secs(iat),
        );
        sign_assertion(&key, &claims)
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    fn rules(audiences: &[String]) -> ClaimRules<'_> {
        ClaimRules {
            audiences,
            now: Duration::from_secs(NOW),
            leeway: 0,
        }
    }

    #[test]
    fn a_good_assertion_verifies_with_each_kind_of_key() {
        let aud = vec!["http://mock/p/token".to_owned()];
        for (alg, private, key) in [
            (
                SigningAlgorithm::ES256,
                EC_PRIVATE,
                VerifyingKey::Public(EC_PUBLIC),
            ),
            (
                SigningAlgorithm::RS256,
                RSA_PRIVATE,
                VerifyingKey::Public(RSA_PUBLIC),
            ),
            (
                SigningAlgorithm::HS256,
                "shared",
                VerifyingKey::Shared("shared"),
            ),
        ] {
            let jwt = signed(alg, private, &aud[0], NOW);
            assert!(verify(&jwt, &key, &rules(&aud)).is_ok(), "{alg:?}");
        }
    }

    #[test]
    fn another_key_a_wrong_aud_and_an_expired_assertion_are_refused() {
        let aud = vec!["http://mock/p/token".to_owned()];
        let good = signed(SigningAlgorithm::ES256, EC_PRIVATE, &aud[0], NOW);
        let other = verify(&good, &VerifyingKey::Public(OTHER_PUBLIC), &rules(&aud));
        assert!(other.unwrap_err().contains("signature"));
        let elsewhere = signed(
            SigningAlgorithm::ES256,
            EC_PRIVATE,
            "http://elsewhere/",
            NOW,
        );
        let refused = verify(&elsewhere, &VerifyingKey::Public(EC_PUBLIC), &rules(&aud));
        assert!(refused.unwrap_err().contains("aud"));
        let old = signed(SigningAlgorithm::ES256, EC_PRIVATE, &aud[0], NOW - 600);
        let refused = verify(&old, &VerifyingKey::Public(EC_PUBLIC), &rules(&aud));
        assert!(refused.unwrap_err().contains("expired"));
        let hs = signed(SigningAlgorithm::HS256, "shared", &aud[0], NOW);
        let refused = verify(&hs, &VerifyingKey::Public(EC_PUBLIC), &rules(&aud));
        assert!(refused.unwrap_err().contains("HS256"));
    }

    #[test]
    fn a_jti_is_accepted_once_and_the_cache_stays_bounded() {
        let mut cache = JtiCache::new(2);
        assert!(cache.first_use("app", "a"));
        assert!(!cache.first_use("app", "a"));
        assert!(cache.first_use("other", "a"));
        assert!(cache.first_use("app", "b"));
        assert_eq!(cache.order.len(), 2);
        assert!(cache.first_use("app", "a"), "the oldest was forgotten");
    }
}
