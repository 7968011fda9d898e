//! Proof Key for Code Exchange (RFC 7636): the code verifier a client keeps,
//! and the challenge it sends in the authorization request instead.
//!
//! PKCE binds an authorization code to the client that asked for it: the
//! token endpoint issues tokens for the code only to whoever shows the
//! verifier whose challenge the authorization request carried. A verifier is
//! therefore a secret, kept in a [`SecretString`] and never shown.

use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::request::REDACTED;

/// The shortest code verifier RFC 7636 §4.1 allows.
pub const MIN_VERIFIER_LEN: usize = 43;
/// The longest code verifier RFC 7636 §4.1 allows.
pub const MAX_VERIFIER_LEN: usize = 128;

/// How a challenge is derived from its verifier (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
pub enum PkceMethod {
    /// `BASE64URL(SHA256(verifier))`, without padding: the method clients
    /// capable of it must use (RFC 7636 §4.2).
    #[default]
    S256,
    /// The verifier itself; RFC 9700 §2.1.1 asks servers not to accept it
    /// where S256 is possible.
    #[serde(rename = "plain")]
    Plain,
}

impl PkceMethod {
    /// The `code_challenge_method` value: `S256` or `plain`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
        }
    }

    /// The method a `code_challenge_method` value names; RFC 7636 §4.3
    /// makes an absent one `plain`.
    pub fn parse(value: Option<&str>) -> Option<Self> {
        match value {
            None | Some("plain") => Some(Self::Plain),
            Some("S256") => Some(Self::S256),
            Some(_) => None,
        }
    }

    /// The challenge this method derives from `verifier`.
    pub fn challenge(self, verifier: &str) -> String {
        match self {
            Self::S256 => base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(verifier.as_bytes())),
            Self::Plain => verifier.to_owned(),
        }
    }
}

impl fmt::Display for PkceMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `value` is a code verifier RFC 7636 §4.1 allows: 43 to 128
/// characters from `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"`.
pub fn is_valid_verifier(value: &str) -> bool {
    (MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// A PKCE code verifier: a secret, shown as `[redacted]`.
#[derive(Clone)]
pub struct CodeVerifier(SecretString);

/// Why a code verifier could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    /// The operating system's random source failed.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    /// The text is not a verifier RFC 7636 §4.1 allows (its value is not
    /// shown: it is a secret).
    #[error(
        "a code verifier is {MIN_VERIFIER_LEN} to {MAX_VERIFIER_LEN} characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1); this one has {len} characters"
    )]
    Invalid {
        /// Its length.
        len: usize,
    },
}

impl CodeVerifier {
    /// A fresh verifier: 32 bytes from the operating system's random source,
    /// base64url-encoded without padding, 43 characters (RFC 7636 §4.1's
    /// recommendation).
    ///
    /// # Errors
    ///
    /// [`PkceError::Random`] when the random source fails.
    pub fn generate() -> Result<Self, PkceError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| PkceError::Random(e.to_string()))?;
        Ok(Self(SecretString::from(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        )))
    }

    /// A verifier the caller chose.
    ///
    /// # Errors
    ///
    /// [`PkceError::Invalid`] when it is not one RFC 7636 §4.1 allows.
    pub fn new(value: impl Into<String>) -> Result<Self, PkceError> {
        let value = value.into();
        if is_valid_verifier(&value) {
            Ok(Self(SecretString::from(value)))
        } else {
            Err(PkceError::Invalid { len: value.len() })
        }
    }

    /// The challenge `method` derives from this verifier.
    pub fn challenge(&self, method: PkceMethod) -> String {
        method.challenge(self.0.expose_secret())
    }

    /// The verifier, to send as `code_verifier`. Callers must not log it.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CodeVerifier").field(&REDACTED).finish()
    }
}

/// A random `state` value (RFC 6749 §10.12): 16 bytes, base64url.
///
/// # Errors
///
/// [`PkceError::Random`] when the random source fails.
pub fn random_state() -> Result<String, PkceError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| PkceError::Random(e.to_string()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            PkceMethod::S256.challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(PkceMethod::Plain.challenge(verifier), verifier);
    }

    #[test]
    fn generated_verifiers_are_valid_distinct_and_redacted() {
        let a = CodeVerifier::generate().unwrap();
        let b = CodeVerifier::generate().unwrap();
        let (a_text, b_text) = (a.secret().expose_secret(), b.secret().expose_secret());
        assert!(is_valid_verifier(a_text), "{}", a_text.len());
        assert_eq!(a_text.len(), 43);
        assert_ne!(a_text, b_text);
        let shown = format!("{a:?}");
        assert!(!shown.contains(a_text), "{shown}");
        assert!(shown.contains(REDACTED));
    }

    #[test]
    fn verifiers_outside_rfc_7636_are_refused_without_showing_them() {
        assert!(CodeVerifier::new("a".repeat(43)).is_ok());
        assert!(CodeVerifier::new("a~._-".repeat(25) + "abc").is_ok());
        let short = CodeVerifier::new("short-secret").unwrap_err();
        assert_eq!(short, PkceError::Invalid { len: 12 });
        assert!(!short.to_string().contains("short-secret"));
        assert!(CodeVerifier::new("a".repeat(129)).is_err());
        assert!(CodeVerifier::new(format!("{}+", "a".repeat(43))).is_err());
        assert!(CodeVerifier::new(format!("{}é", "a".repeat(43))).is_err());
    }

    #[test]
    fn methods_parse_as_rfc_7636_names_them() {
        assert_eq!(PkceMethod::parse(None), Some(PkceMethod::Plain));
        assert_eq!(PkceMethod::parse(Some("S256")), Some(PkceMethod::S256));
        assert_eq!(PkceMethod::parse(Some("plain")), Some(PkceMethod::Plain));
        assert_eq!(PkceMethod::parse(Some("s256")), None);
        let read: Vec<PkceMethod> = serde_json::from_str(r#"["S256","plain"]"#).unwrap();
        assert_eq!(read, [PkceMethod::S256, PkceMethod::Plain]);
    }

    #[test]
    fn states_are_random() {
        assert_ne!(random_state().unwrap(), random_state().unwrap());
    }
}
