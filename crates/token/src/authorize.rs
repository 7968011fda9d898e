//! The authorization request of the authorization code grant (RFC 6749
//! §4.1.1), and reading the redirect that answers it (§4.1.2, §4.1.2.1).
//!
//! The front channel carries no credential: the URL holds the client id, the
//! redirect URI, the scope, `state` and the PKCE challenge, never the
//! verifier. The code that comes back in the redirect is a secret.

use secrecy::SecretString;
use url::Url;

use crate::pkce::{CodeVerifier, PkceMethod};

/// An authorization request: what goes in the authorization endpoint's
/// query.
#[derive(Debug, Clone, Default)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: String,
    /// `redirect_uri`, when the request names one.
    pub redirect_uri: Option<String>,
    /// `scope`, space-joined; left out when empty.
    pub scope: Vec<String>,
    /// `state`, echoed in the redirect (RFC 6749 §10.12).
    pub state: Option<String>,
    /// The PKCE challenge and its method (RFC 7636 §4.3).
    pub challenge: Option<(String, PkceMethod)>,
    /// Further parameters (`nonce`, `prompt`, `resource`, …), in order.
    pub extra: Vec<(String, String)>,
}

impl AuthorizationRequest {
    /// A request by `client_id`.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            ..Self::default()
        }
    }

    /// With a redirect URI.
    #[must_use]
    pub fn with_redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// With requested scopes.
    #[must_use]
    pub fn with_scope<I, S>(mut self, scope: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope.extend(scope.into_iter().map(Into::into));
        self
    }

    /// With `state`.
    #[must_use]
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// With the challenge `method` derives from `verifier`.
    #[must_use]
    pub fn with_pkce(mut self, verifier: &CodeVerifier, method: PkceMethod) -> Self {
        self.challenge = Some((verifier.challenge(method), method));
        self
    }

    /// With a further parameter.
    #[must_use]
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// The URL to open: `endpoint` with `response_type=code` and the
    /// request's parameters appended to any query it has.
    pub fn url(&self, endpoint: &Url) -> Url {
        let mut url = endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("response_type", "code");
            query.append_pair("client_id", &self.client_id);
            if let Some(redirect_uri) = &self.redirect_uri {
                query.append_pair("redirect_uri", redirect_uri);
            }
            if !self.scope.is_empty() {
                query.append_pair("scope", &self.scope.join(" "));
            }
            if let Some(state) = &self.state {
                query.append_pair("state", state);
            }
            if let Some((challenge, method)) = &self.challenge {
                query.append_pair("code_challenge", challenge);
                query.append_pair("code_challenge_method", method.as_str());
            }
            for (name, value) in &self.extra {
                query.append_pair(name, value);
            }
        }
        url
    }
}

/// What the redirect to the client said.
#[derive(Debug)]
pub enum AuthorizationResponse {
    /// A code (RFC 6749 §4.1.2), a secret.
    Code {
        /// The code.
        code: SecretString,
        /// `state`, as the server echoed it.
        state: Option<String>,
    },
    /// An error (RFC 6749 §4.1.2.1).
    Error {
        /// `error`.
        error: String,
        /// `error_description`.
        description: Option<String>,
        /// `state`.
        state: Option<String>,
    },
}

/// Why a redirect could not be read as an authorization response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    /// The redirect carries neither `code` nor `error`.
    #[error("the redirect carries neither `code` nor `error`")]
    Neither,
    /// `state` is not the one sent (RFC 6749 §10.12: a forged response).
    #[error("the redirect's `state` is not the one the request sent")]
    StateMismatch,
}

impl AuthorizationResponse {
    /// Reads the query of `redirect` (the `Location` of the answer, or the
    /// URL the browser landed on); `sent_state` is the request's `state`,
    /// which the answer must echo.
    ///
    /// # Errors
    ///
    /// A redirect without `code` or `error`, or with another `state`.
    pub fn from_redirect(redirect: &Url, sent_state: Option<&str>) -> Result<Self, RedirectError> {
        let mut code = None;
        let mut error = None;
        let mut description = None;
        let mut state = None;
        for (name, value) in redirect.query_pairs() {
            match name.as_ref() {
                "code" => code = Some(value.into_owned()),
                "error" => error = Some(value.into_owned()),
                "error_description" => description = Some(value.into_owned()),
                "state" => state = Some(value.into_owned()),
                _ => {}
            }
        }
        if let Some(error) = error {
            return Ok(Self::Error {
                error,
                description,
                state,
            });
        }
        let code = code.ok_or(RedirectError::Neither)?;
        if state.as_deref() != sent_state {
            return Err(RedirectError::StateMismatch);
        }
        Ok(Self::Code {
            code: SecretString::from(code),
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn the_url_carries_the_challenge_and_never_the_verifier() {
        let verifier = CodeVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let endpoint = Url::parse("https://idp.example/authorize?tenant=a").unwrap();
        let url = AuthorizationRequest::new("app 1")
            .with_redirect_uri("http://127.0.0.1:8400/cb")
            .with_scope(["openid", "api:read"])
            .with_state("xyz")
            .with_pkce(&verifier, PkceMethod::S256)
            .url(&endpoint);
        assert_eq!(
            url.as_str(),
            "https://idp.example/authorize?tenant=a&response_type=code&client_id=app+1\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8400%2Fcb&scope=openid+api%3Aread&state=xyz\
             &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        );
        assert!(!url.as_str().contains(verifier.secret().expose_secret()));
    }

    #[test]
    fn redirects_are_read_as_a_code_or_an_error() {
        let read = |url: &str, state: Option<&str>| {
            AuthorizationResponse::from_redirect(&Url::parse(url).unwrap(), state)
        };
        let Ok(AuthorizationResponse::Code { code, state }) =
            read("http://127.0.0.1/cb?code=c%2B1&state=s", Some("s"))
        else {
            panic!("a code");
        };
        assert_eq!(code.expose_secret(), "c+1");
        assert_eq!(state.as_deref(), Some("s"));
        assert!(matches!(
            read("http://127.0.0.1/cb?error=access_denied&state=s", Some("s")),
            Ok(AuthorizationResponse::Error { error, .. }) if error == "access_denied"
        ));
        assert_eq!(
            read("http://127.0.0.1/cb?code=c&state=forged", Some("s")).unwrap_err(),
            RedirectError::StateMismatch
        );
        assert_eq!(
            read("http://127.0.0.1/cb?state=s", Some("s")).unwrap_err(),
            RedirectError::Neither
        );
    }
}
