//! The authorization endpoint (RFC 6749 §4.1.1) and the checks a code gets
//! at the token endpoint (§4.1.3, RFC 7636 §4.6), emulated from the seed.
//!
//! No browser and no login page: the mock approves every valid request at
//! once, for the seed's first user (an assumption: a real provider asks its
//! user; the mock stands for one who always agrees), and answers `302` to the
//! redirect URI with `code` and `state`. A request the mock cannot trust to
//! redirect (no client, an unknown one, a redirect URI not registered for
//! it) is answered `400` on the spot and never redirected (§4.1.2.1). Codes
//! are bound to the client, the redirect URI, the scope and the PKCE
//! challenge, are single use and expire on the mock's clock after the seed's
//! `code_lifetime`; a code presented again revokes every token issued for it
//! (§4.1.2).

use std::sync::PoisonError;
use std::time::Duration;

use axum::http::header::LOCATION;
use axum::http::{Method, StatusCode};
use grantspec_spec::GrantKind;
use grantspec_token::{PkceMethod, is_valid_verifier};
use serde_json::json;
use url::Url;

use crate::emulator::{Emulator, MockRequest, MockResponse, Params, parse_form};
use crate::render::OAuthError;
use crate::store::{CodeRefused, Family, Grantee, IssuedCode, TokenStore};

/// An error the authorization endpoint redirects with (RFC 6749 §4.1.2.1).
struct Redirected {
    error: &'static str,
    description: String,
}

impl Redirected {
    fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            error,
            description: description.into(),
        }
    }
}

impl Emulator {
    /// `GET /authorize`: a code in a redirect, an error in a redirect, or a
    /// `400` page when the redirect URI cannot be trusted.
    pub(crate) fn authorization_endpoint(&self, request: &MockRequest) -> MockResponse {
        let page = |status: u16, error: &str, description: &str| {
            MockResponse::json(
                status,
                "application/json",
                &json!({ "error": error, "error_description": description }),
            )
        };
        if request.method != Method::GET {
            return page(
                StatusCode::METHOD_NOT_ALLOWED.as_u16(),
                "invalid_request",
                "The authorization endpoint takes GET.",
            );
        }
        let now = match self.now(request) {
            Ok(now) => now,
            Err(error) => return page(400, "invalid_request", &error.description),
        };
        let query = request.uri.query().unwrap_or_default();
        let Ok(mut params) = Params::from_pairs(parse_form(query.as_bytes()), false) else {
            return page(400, "invalid_request", "The query is not readable.");
        };
        let Some(client_id) = params.take_one("client_id") else {
            return page(400, "invalid_request", "`client_id` is missing.");
        };
        let Some(client) = self.seed.clients.iter().find(|c| c.id == client_id) else {
            return page(400, "invalid_client", "The client is not registered.");
        };
        let redirect_uri = params.take_one("redirect_uri");
        let target = match (&redirect_uri, client.redirect_uris.as_slice()) {
            (Some(uri), registered) if registered.iter().any(|r| r == uri) => uri.to_string(),
            (None, [only]) => only.clone(),
            (Some(_), _) => {
                return page(
                    400,
                    "invalid_request",
                    "`redirect_uri` is not registered for this client.",
                );
            }
            (None, _) => {
                return page(
                    400,
                    "invalid_request",
                    "`redirect_uri` is required: the client has no single registered one.",
                );
            }
        };
        let Ok(mut location) = Url::parse(&target) else {
            return page(
                400,
                "invalid_request",
                "The registered redirect URI is not a URL.",
            );
        };
        let state = params.take_one("state").map(|s| s.into_owned());
        let outcome = self.approve(
            client,
            &mut params,
            redirect_uri.map(|r| r.into_owned()),
            now,
        );
        {
            let mut query = location.query_pairs_mut();
            match &outcome {
                Ok(code) => {
                    query.append_pair("code", code);
                }
                Err(error) => {
                    query.append_pair("error", error.error);
                    query.append_pair("error_description", &error.description);
                }
            }
            if let Some(state) = &state {
                query.append_pair("state", state);
            }
        }
        MockResponse {
            status: 302,
            headers: Default::default(),
            body: Vec::new(),
        }
        .with_header(LOCATION, location.as_str())
    }

    /// Checks what a trusted redirect URI may be told, and issues the code.
    fn approve(
        &self,
        client: &grantspec_spec::MockClient,
        params: &mut Params<'_>,
        redirect_uri: Option<String>,
        now: Duration,
    ) -> Result<String, Redirected> {
        match params.take_one("response_type").as_deref() {
            Some("code") => {}
            None => {
                return Err(Redirected::new(
                    "invalid_request",
                    "`response_type` is missing.",
                ));
            }
            Some(_) => {
                return Err(Redirected::new(
                    "unsupported_response_type",
                    "Only `response_type=code` is supported.",
                ));
            }
        }
        if !client.grants.contains(&GrantKind::AuthorizationCode) {
            return Err(Redirected::new(
                "unauthorized_client",
                "The client may not use the authorization code grant.",
            ));
        }
        let scope: Vec<String> = params
            .take_list("scope")
            .iter()
            .flat_map(|s| s.split(' '))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(denied) = scope
            .iter()
            .find(|s| !client.scopes.is_empty() && !client.scopes.contains(s))
        {
            return Err(Redirected::new(
                "invalid_scope",
                format!("The client may not ask for `{denied}`."),
            ));
        }
        let policy = &self.seed.pkce;
        let challenge = params.take_one("code_challenge");
        let method = params.take_one("code_challenge_method");
        let challenge = match challenge {
            None if policy.required => {
                return Err(Redirected::new(
                    "invalid_request",
                    "A PKCE `code_challenge` is required.",
                ));
            }
            None => None,
            Some(challenge) => {
                // RFC 7636 §4.2: a challenge has a verifier's alphabet and length.
                if !is_valid_verifier(&challenge) {
                    return Err(Redirected::new(
                        "invalid_request",
                        "`code_challenge` is not 43 to 128 unreserved characters.",
                    ));
                }
                let method = PkceMethod::parse(method.as_deref())
                    .filter(|m| policy.methods.contains(m))
                    .ok_or_else(|| {
                        Redirected::new(
                            "invalid_request",
                            "transform algorithm not supported (`code_challenge_method`).",
                        )
                    })?;
                Some((challenge.into_owned(), method))
            }
        };
        let grantee = Grantee {
            client_id: self.client_id(client),
            user: self.seed.users.first().map(|user| user.username.clone()),
            scope,
            audience: Vec::new(),
            read_only: false,
        };
        let lifetime = Duration::from_secs(self.seed.code_lifetime);
        let mut store = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(store.issue_code(IssuedCode {
            grantee,
            redirect_uri,
            challenge,
            expires_at: now.saturating_add(lifetime),
            family: Family::default(),
        }))
    }
}

/// Redeems a code the authorization endpoint issued, presented by
/// `client_id` with `redirect_uri` and `verifier`: unknown, expired, another
/// client's, replayed (which revokes its tokens), another redirect URI
/// (§4.1.3) or a verifier that does not match (RFC 7636 §4.6) is
/// `invalid_grant`, as is a verifier for a code issued without a challenge
/// (RFC 9700 §2.1.1). Only a code that passes every check is used up.
pub(crate) fn redeem_code(
    store: &mut TokenStore,
    client_id: &str,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
    now: Duration,
) -> Result<IssuedCode, OAuthError> {
    let refuse = |why: &str| OAuthError::invalid_grant(why.to_owned()).league(10);
    let issued = store
        .find_code(code, client_id, now)
        .map_err(|refused| match refused {
            CodeRefused::Unknown => {
                refuse("The authorization code is invalid, expired, or another client's.")
            }
            CodeRefused::Replayed => refuse(
                "The authorization code was already used; the tokens issued for it are revoked.",
            ),
        })?;
    if issued.redirect_uri.as_deref() != redirect_uri {
        return Err(refuse(
            "`redirect_uri` is not the one of the authorization request.",
        ));
    }
    match (&issued.challenge, verifier) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(refuse(
                "A `code_verifier` was sent for a code issued without a challenge.",
            ));
        }
        (Some(_), None) => return Err(refuse("`code_verifier` is required.")),
        (Some((challenge, method)), Some(verifier)) => {
            if !is_valid_verifier(verifier) || method.challenge(verifier) != *challenge {
                return Err(refuse("The `code_verifier` does not match the challenge."));
            }
        }
    }
    store.use_code(code);
    Ok(issued)
}
