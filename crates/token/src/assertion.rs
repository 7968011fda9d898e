//! Signed JWT assertions (RFC 7523): a client authenticating with one
//! (`client_secret_jwt`, `private_key_jwt`, RFC 7523 §2.2 and OpenID
//! Connect Core §9) or a JWT presented as an authorization grant (§2.1).
//!
//! Signing uses the maintained `jsonwebtoken` crate over aws-lc-rs (the
//! crypto rustls already brings). The key and every signed assertion are
//! secrets from the moment they exist: [`SigningKey`] keeps its material in
//! a [`SecretString`] and shows nothing of it, and [`sign_assertion`]
//! returns a [`SecretString`].

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// `grant_type` of the device authorization grant (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// `grant_type` of token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The lifetime of an assertion when nothing says otherwise: a minute, long
/// enough for one request and short enough to be useless to a thief.
pub const DEFAULT_ASSERTION_LIFETIME: Duration = Duration::from_secs(60);

/// A JWS algorithm an assertion can be signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum SigningAlgorithm {
    /// HMAC SHA-256 with a shared secret (`client_secret_jwt`).
    HS256,
    /// RSASSA-PKCS1-v1_5 SHA-256 with an RSA private key.
    RS256,
    /// ECDSA P-256 SHA-256 with an EC private key.
    ES256,
}

impl SigningAlgorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }

    /// Whether the key is a shared secret rather than a private key.
    pub fn is_symmetric(self) -> bool {
        self == Self::HS256
    }

    fn jsonwebtoken(self) -> Algorithm {
        match self {
            Self::HS256 => Algorithm::HS256,
            Self::RS256 => Algorithm::RS256,
            Self::ES256 => Algorithm::ES256,
        }
    }
}

/// Why an assertion could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    /// The key is not a PEM private key of the algorithm's kind.
    #[error("the {alg} signing key is not a PEM private key of that kind")]
    BadKey {
        /// The algorithm the key was meant for.
        alg: &'static str,
    },
    /// Signing failed.
    #[error("signing the {alg} assertion failed")]
    Signing {
        /// The algorithm.
        alg: &'static str,
    },
    /// The `extra` claims overwrite a registered claim the assertion sets.
    #[error("extra claim `{0}` would overwrite the assertion's own claim")]
    ReservedClaim(String),
}

/// A key that signs assertions: a shared secret (HS256) or a PEM private
/// key (RS256, ES256). Always a secret; `Debug` shows only the algorithm.
#[derive(Clone)]
pub struct SigningKey {
    alg: SigningAlgorithm,
    material: SecretString,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("material", &crate::REDACTED)
            .finish()
    }
}

impl SigningKey {
    /// A key for `alg`: the shared secret for HS256, a PEM private key
    /// (PKCS#8, or PKCS#1 for RSA) otherwise. Checked here, so that a bad
    /// key is an error before any request is built.
    pub fn new(alg: SigningAlgorithm, material: SecretString) -> Result<Self, AssertionError> {
        let key = Self { alg, material };
        key.encoding_key()?;
        Ok(key)
    }

    /// The algorithm this key signs with.
    pub fn alg(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The key material, for redaction: callers must not show it.
    pub fn expose_material(&self) -> &str {
        self.material.expose_secret()
    }

    fn encoding_key(&self) -> Result<EncodingKey, AssertionError> {
        let bytes = self.material.expose_secret().as_bytes();
        let bad = || AssertionError::BadKey {
            alg: self.alg.as_str(),
        };
        match self.alg {
            SigningAlgorithm::HS256 => EncodingKey::from_secret(bytes).map_err(|_| bad()),
            SigningAlgorithm::RS256 => EncodingKey::from_rsa_pem(bytes).map_err(|_| bad()),
            SigningAlgorithm::ES256 => EncodingKey::from_ec_pem(bytes).map_err(|_| bad()),
        }
    }
}

/// The claims of one assertion (RFC 7523 §3). A client assertion has the
/// client id as `iss` and `sub` and the token endpoint URL as `aud`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssertionClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`: one value is sent as a string, several as an array.
    pub audience: Vec<String>,
    /// `iat`; `exp` is `iat` plus the lifetime.
    pub issued_at: SystemTime,
    /// From `iat` to `exp`.
    pub lifetime: Duration,
    /// `jti`; a fresh random one when `None`.
    pub jti: Option<String>,
    /// Further claims; none may be `iss`, `sub`, `aud`, `iat`, `exp` or `jti`.
    pub extra: Map<String, Value>,
}

impl AssertionClaims {
    /// A client assertion for `client_id` to the token endpoint `token_url`,
    /// issued at `now`, living [`DEFAULT_ASSERTION_LIFETIME`], with a fresh
    /// `jti`.
    pub fn client(client_id: &str, token_url: &str, now: SystemTime) -> Self {
        Self {
            issuer: client_id.to_owned(),
            subject: client_id.to_owned(),
            audience: vec![token_url.to_owned()],
            issued_at: now,
            lifetime: DEFAULT_ASSERTION_LIFETIME,
            jti: None,
            extra: Map::new(),
        }
    }
}

const REGISTERED: [&str; 6] = ["iss", "sub", "aud", "iat", "exp", "jti"];

/// Signs `claims` with `key`; the compact JWS, a secret.
pub fn sign_assertion(
    key: &SigningKey,
    claims: &AssertionClaims,
) -> Result<SecretString, AssertionError> {
    let iat = claims
        .issued_at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let mut body = Map::new();
    body.insert("iss".into(), Value::from(claims.issuer.as_str()));
    body.insert("sub".into(), Value::from(claims.subject.as_str()));
    body.insert(
        "aud".into(),
        match claims.audience.as_slice() {
            [one] => Value::from(one.as_str()),
            many => Value::from(many.to_vec()),
        },
    );
    body.insert("iat".into(), Value::from(iat));
    body.insert(
        "exp".into(),
        Value::from(iat.saturating_add(claims.lifetime.as_secs())),
    );
    let jti = claims.jti.clone().unwrap_or_else(fresh_jti);
    body.insert("jti".into(), Value::from(jti));
    for (name, value) in &claims.extra {
        if REGISTERED.contains(&name.as_str()) {
            return Err(AssertionError::ReservedClaim(name.clone()));
        }
        body.insert(name.clone(), value.clone());
    }
    let mut header = Header::new(key.alg.jsonwebtoken());
    header.typ = Some("JWT".into());
    jsonwebtoken::encode(&header, &Value::Object(body), &key.encoding_key()?)
        .map(SecretString::from)
        .map_err(|_| AssertionError::Signing {
            alg: key.alg.as_str(),
        })
}

/// A random `jti`: 128 bits as 32 hexadecimal characters.
pub fn fresh_jti() -> String {
    let mut bytes = [0u8; 16];
    // Without the system's randomness, a jti from the time still differs
    // from one request to the next.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        bytes = nanos.to_le_bytes();
    }
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The claims of a compact JWS, read without verifying its signature: what
/// a checker or a test inspects of an assertion it sent. `None` when it is
/// no JWS with a JSON object payload.
pub fn unverified_claims(jwt: &str) -> Option<Map<String, Value>> {
    let mut parts = jwt.split('.');
    let (_, payload, _, None) = (parts.next()?, parts.next()?, parts.next()?, parts.next()) else {
        return None;
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const EC_KEY: &str = include_str!("../../test-support/keys/ec-private.pem");
    const RSA_KEY: &str = include_str!("../../test-support/keys/rsa-private.pem");

    fn claims() -> AssertionClaims {
        AssertionClaims::client(
            "app",
            "https://as.example/token",
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000),
        )
    }

    #[test]
    fn every_algorithm_signs_the_claims_it_was_given() {
        for (alg, key) in [
            (SigningAlgorithm::HS256, "a shared secret of some length"),
            (SigningAlgorithm::RS256, RSA_KEY),
            (SigningAlgorithm::ES256, EC_KEY),
        ] {
            let key = SigningKey::new(alg, SecretString::from(key)).unwrap();
            let jwt = sign_assertion(&key, &claims()).unwrap();
            // What the canary test looks for to find a leaked assertion.
            let header = format!(r#"{{"typ":"JWT","alg":"{}"}}"#, alg.as_str());
            let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header);
            assert!(jwt.expose_secret().starts_with(&header), "{alg:?}");
            let claims = unverified_claims(jwt.expose_secret()).unwrap();
            assert_eq!(claims["iss"], "app");
            assert_eq!(claims["aud"], "https://as.example/token");
            assert_eq!(claims["exp"], 1_060);
            assert_eq!(claims["jti"].as_str().map(str::len), Some(32));
        }
    }

    #[test]
    fn each_assertion_gets_its_own_jti_unless_one_is_given() {
        let key = SigningKey::new(SigningAlgorithm::HS256, "s".into()).unwrap();
        let jti = |claims: &AssertionClaims| {
            let jwt = sign_assertion(&key, claims).unwrap();
            unverified_claims(jwt.expose_secret()).unwrap()["jti"].clone()
        };
        assert_ne!(jti(&claims()), jti(&claims()));
        let fixed = AssertionClaims {
            jti: Some("once".into()),
            ..claims()
        };
        assert_eq!(jti(&fixed), "once");
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_refused_and_never_shown() {
        let error = SigningKey::new(SigningAlgorithm::ES256, RSA_KEY.into()).unwrap_err();
        assert_eq!(error, AssertionError::BadKey { alg: "ES256" });
        let key = SigningKey::new(SigningAlgorithm::ES256, EC_KEY.into()).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("PRIVATE"), "{shown}");
    }

    #[test]
    fn extra_claims_may_not_replace_registered_ones() {
        let key = SigningKey::new(SigningAlgorithm::HS256, "s".into()).unwrap();
        let mut claims = claims();
        claims.extra.insert("aud".into(), Value::from("elsewhere"));
        assert_eq!(
            sign_assertion(&key, &claims).unwrap_err(),
            AssertionError::ReservedClaim("aud".into())
        );
    }
}
