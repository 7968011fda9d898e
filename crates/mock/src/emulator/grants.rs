//! The emulator's JWT client authentication (RFC 7523 §2.2), JWT bearer
//! grant (§2.1), device authorization grant (RFC 8628) and token exchange
//! (RFC 8693), each judged from the seed alone.

use std::time::Duration;

use axum::http::header::HOST;
use grantspec_spec::{GrantKind, MockClient};
use grantspec_token::{ACCESS_TOKEN_TYPE, CLIENT_ASSERTION_TYPE, ClientAuth, JWT_TOKEN_TYPE};
use serde_json::{Map, Value, json};

use super::{Emulator, MockRequest, MockResponse, Params};
use crate::assertions::{ClaimRules, VerifyingKey, peek, verify};
use crate::device::{Issue, Poll};
use crate::render::{OAuthError, render_error};
use crate::store::TokenStore;

/// Letters of a user code: no vowels (no words), no look-alikes.
const USER_CODE_LETTERS: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

impl Emulator {
    /// The `aud` values that name this server: the token endpoint's URL as
    /// the request reached it (`http://<Host>/<provider><path>`), the URL of
    /// the endpoint the request was sent to (the device authorization
    /// endpoint, say; node-oidc-provider accepts it too), and the seed's
    /// `assertions.audiences`.
    fn own_audiences(&self, request: &MockRequest) -> Vec<String> {
        let host = request
            .header(&HOST)
            .map(|host| host.into_owned())
            .or_else(|| request.uri.authority().map(ToString::to_string));
        let mut audiences = self.seed.assertions.audiences.clone();
        if let Some(host) = host {
            audiences.push(format!(
                "http://{host}/{}{}",
                self.id, self.profile.token_endpoint.path
            ));
            audiences.push(format!("http://{host}{}", request.uri.path()));
        }
        audiences
    }

    fn rules<'a>(&self, audiences: &'a [String], now: Duration) -> ClaimRules<'a> {
        ClaimRules {
            audiences,
            now,
            leeway: self.seed.assertions.leeway,
        }
    }

    /// Records a verified assertion's `jti`; a replay is refused, and an
    /// assertion without one when `required`.
    fn spend_jti(
        &self,
        claims: &Map<String, Value>,
        required: bool,
        refuse: fn(String) -> OAuthError,
    ) -> Result<(), OAuthError> {
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(jti) = claims.get("jti").and_then(Value::as_str) else {
            return if required {
                Err(refuse("The assertion has no `jti`.".into()))
            } else {
                Ok(())
            };
        };
        let mut jtis = self
            .jtis
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if jtis.first_use(issuer, jti) {
            Ok(())
        } else {
            Err(refuse(
                "The assertion's `jti` was already used: an assertion is accepted once.".into(),
            ))
        }
    }

    /// The client a JWT client assertion authenticates (RFC 7523 §2.2,
    /// §3), or `None` when the request carries no assertion.
    pub(super) fn assertion_client(
        &self,
        request: &MockRequest,
        params: &mut Params<'_>,
        now: Duration,
    ) -> Result<Option<&MockClient>, OAuthError> {
        let Some(kind) = params.take_one("client_assertion_type") else {
            return Ok(None);
        };
        let refuse = |description: String| OAuthError::invalid_client(description).league(4);
        if kind != CLIENT_ASSERTION_TYPE {
            return Err(refuse(format!(
                "Unsupported client_assertion_type; expected `{CLIENT_ASSERTION_TYPE}`."
            )));
        }
        let assertion = params.take_one("client_assertion").ok_or_else(|| {
            OAuthError::invalid_request("`client_assertion_type` without `client_assertion`.")
        })?;
        if request.header(&axum::http::header::AUTHORIZATION).is_some()
            || params.take_one("client_secret").is_some()
        {
            return Err(OAuthError::invalid_request(
                "The client authenticated with more than one method.",
            ));
        }
        let claims =
            peek(&assertion).ok_or_else(|| refuse("The client assertion is no JWT.".into()))?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if subject != issuer {
            return Err(refuse(
                "A client assertion's `iss` and `sub` must both be the client id.".into(),
            ));
        }
        if params.take_one("client_id").is_some_and(|id| id != subject) {
            return Err(OAuthError::invalid_request(
                "`client_id` differs from the client assertion's `sub`.",
            ));
        }
        let client = self
            .seed
            .clients
            .iter()
            .find(|client| client.id == subject)
            .ok_or_else(|| refuse("Client authentication failed.".into()))?;
        let symmetric = jsonwebtoken::decode_header(&*assertion)
            .is_ok_and(|header| header.alg == jsonwebtoken::Algorithm::HS256);
        let (method, key) = match (symmetric, &client.secret, &client.public_key) {
            (true, Some(secret), _) => (ClientAuth::ClientSecretJwt, VerifyingKey::Shared(secret)),
            (false, _, Some(pem)) => (ClientAuth::PrivateKeyJwt, VerifyingKey::Public(pem)),
            _ => {
                return Err(refuse(
                    "The client has no key registered for this kind of assertion.".into(),
                ));
            }
        };
        if !self.auth_methods.contains(&method) {
            return Err(refuse(
                "Client authentication failed: this authentication method is not accepted.".into(),
            ));
        }
        let audiences = self.own_audiences(request);
        let claims = verify(&assertion, &key, &self.rules(&audiences, now)).map_err(refuse)?;
        self.spend_jti(&claims, true, |d| OAuthError::invalid_client(d).league(4))?;
        Ok(Some(client))
    }

    /// A JWT bearer grant (RFC 7523 §2.1): the assertion of a trusted
    /// issuer, for this token endpoint, not expired, not replayed; its
    /// subject, whom the token is issued for.
    pub(super) fn jwt_bearer(
        &self,
        request: &MockRequest,
        params: &mut Params<'_>,
        now: Duration,
    ) -> Result<String, OAuthError> {
        let assertion = params.take_one("assertion").ok_or_else(|| {
            OAuthError::invalid_request("The jwt-bearer grant requires `assertion`.").league(3)
        })?;
        let audiences = self.own_audiences(request);
        let claims = self.trusted_jwt(&assertion, &audiences, now)?;
        self.spend_jti(&claims, false, OAuthError::invalid_grant)?;
        Ok(claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned())
    }

    /// A JWT signed by a trusted issuer, for one of `audiences` (any when
    /// empty), not expired, with a subject the issuer may assert.
    fn trusted_jwt(
        &self,
        jwt: &str,
        audiences: &[String],
        now: Duration,
    ) -> Result<Map<String, Value>, OAuthError> {
        let claims =
            peek(jwt).ok_or_else(|| OAuthError::invalid_grant("The assertion is no JWT."))?;
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let trusted = self
            .seed
            .trusted_issuers
            .iter()
            .find(|trusted| trusted.issuer == issuer)
            .ok_or_else(|| OAuthError::invalid_grant("The JWT's issuer is not trusted."))?;
        let claims = verify(
            jwt,
            &VerifyingKey::Public(&trusted.public_key),
            &self.rules(audiences, now),
        )
        .map_err(OAuthError::invalid_grant)?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if subject.is_empty()
            || (!trusted.subjects.is_empty() && !trusted.subjects.iter().any(|s| s == subject))
        {
            return Err(OAuthError::invalid_grant(
                "The JWT's subject is missing or not one its issuer may assert.",
            ));
        }
        Ok(claims)
    }

    /// A device-code poll (RFC 8628 §3.4, §3.5): the scope to issue for,
    /// or the §3.5 error.
    pub(super) fn device_poll(
        &self,
        params: &mut Params<'_>,
        client_id: &str,
        now: Duration,
    ) -> Result<Vec<String>, OAuthError> {
        let device_code = params.take_one("device_code").ok_or_else(|| {
            OAuthError::invalid_request("The device_code grant requires `device_code`.").league(3)
        })?;
        let mut devices = self
            .devices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match devices.poll(&device_code, client_id, now) {
            Poll::Approved(scope) => Ok(scope),
            Poll::Refused(code, description) => Err(OAuthError::new(code, 400, description)),
        }
    }

    /// A token exchange (RFC 8693 §2.1) under the seed's policy: the user
    /// of the subject token, when it names one.
    pub(super) fn token_exchange(
        &self,
        params: &mut Params<'_>,
        audience: &[String],
        store: &TokenStore,
        now: Duration,
    ) -> Result<Option<String>, OAuthError> {
        let policy = self
            .seed
            .token_exchange
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_request("This server exchanges no tokens."))?;
        let (Some(subject_token), Some(subject_type)) = (
            params.take_one("subject_token"),
            params.take_one("subject_token_type"),
        ) else {
            return Err(OAuthError::invalid_request(
                "Token exchange requires `subject_token` and `subject_token_type`.",
            ));
        };
        if !policy
            .subject_token_types
            .iter()
            .any(|t| *t == subject_type)
        {
            return Err(OAuthError::invalid_request(format!(
                "Subject token type `{subject_type}` is not accepted."
            )));
        }
        let user = self.exchanged_subject(&subject_token, &subject_type, store, now)?;
        match (
            params.take_one("actor_token"),
            params.take_one("actor_token_type"),
        ) {
            (None, None) => {}
            (Some(_), _) if !policy.actors => {
                return Err(OAuthError::invalid_request(
                    "Delegation is not allowed: no `actor_token` is accepted.",
                ));
            }
            (Some(actor), Some(actor_type)) => {
                self.exchanged_subject(&actor, &actor_type, store, now)?;
            }
            _ => {
                return Err(OAuthError::invalid_request(
                    "`actor_token` and `actor_token_type` go together.",
                ));
            }
        }
        if let Some(requested) = params.take_one("requested_token_type") {
            if requested != ACCESS_TOKEN_TYPE {
                return Err(OAuthError::invalid_request(format!(
                    "Requested token type `{requested}` cannot be issued; only `{ACCESS_TOKEN_TYPE}`."
                )));
            }
        }
        if let Some(denied) = audience
            .iter()
            .find(|a| !policy.audiences.is_empty() && !policy.audiences.contains(a))
        {
            return Err(OAuthError::new(
                "invalid_target",
                400,
                format!("No token is issued for audience `{denied}`."),
            ));
        }
        params.take_list("resource");
        Ok(user)
    }

    /// Judges a subject (or actor) token of `token_type`: an access token
    /// this mock issued and that is still valid, or a JWT of a trusted
    /// issuer. Its user or subject.
    fn exchanged_subject(
        &self,
        token: &str,
        token_type: &str,
        store: &TokenStore,
        now: Duration,
    ) -> Result<Option<String>, OAuthError> {
        match token_type {
            ACCESS_TOKEN_TYPE => store
                .check_access(token, now)
                .map(|grantee| grantee.user.clone())
                .ok_or_else(|| {
                    OAuthError::invalid_grant("The access token is invalid or expired.")
                }),
            JWT_TOKEN_TYPE => {
                let claims = self.trusted_jwt(token, &[], now)?;
                Ok(claims.get("sub").and_then(Value::as_str).map(str::to_owned))
            }
            other => Err(OAuthError::invalid_request(format!(
                "Token type `{other}` is not accepted."
            ))),
        }
    }

    /// The device authorization endpoint (RFC 8628 §3.1, §3.2).
    pub(super) fn device_authorization(&self, request: &MockRequest) -> MockResponse {
        self.device_flow_start(request).unwrap_or_else(|error| {
            let encoding = self.answer_encoding(request);
            render_error(&self.id, &self.profile, &self.seed, &error, encoding, false)
        })
    }

    fn device_flow_start(&self, request: &MockRequest) -> Result<MockResponse, OAuthError> {
        let method = request.method.as_str();
        if !method.eq_ignore_ascii_case("POST") {
            return Err(OAuthError::method_not_allowed(method, "POST"));
        }
        let now = self.now(request)?;
        let mut params = self.read_params(request)?;
        let client = self.authenticate(request, &mut params, GrantKind::DeviceCode, now)?;
        if !client.grants.contains(&GrantKind::DeviceCode) {
            return Err(OAuthError::unauthorized_client(
                &client.id,
                GrantKind::DeviceCode,
            ));
        }
        let scope_name = self.profile.token_endpoint.wire_name("scope");
        let scope = params.take_list(scope_name);
        if let Some(denied) = scope
            .iter()
            .find(|s| !client.scopes.is_empty() && !client.scopes.contains(s))
        {
            return Err(OAuthError::invalid_scope(denied));
        }
        let flow = &self.seed.device_flow;
        let device_code = random_text(40, b"0123456789abcdef");
        let user_code = random_text(8, USER_CODE_LETTERS);
        let user_code = format!("{}-{}", &user_code[..4], &user_code[4..]);
        self.devices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .issue(
                device_code.clone(),
                Issue {
                    client_id: &client.id,
                    scope,
                    now,
                    expires_in: flow.expires_in,
                    interval: flow.interval,
                    decision: client.device.clone(),
                },
            );
        let body = json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": flow.verification_uri,
            "verification_uri_complete": format!("{}?user_code={user_code}", flow.verification_uri),
            "expires_in": flow.expires_in,
            "interval": flow.interval,
        });
        let mut response = MockResponse::json(200, "application/json", &body);
        response.headers = self.token_headers(None);
        Ok(response)
    }
}

/// `length` characters drawn from `alphabet` (at most 256 letters).
fn random_text(length: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; length];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = (nanos >> ((index % 16) * 8)) as u8;
        }
    }
    bytes
        .iter()
        .map(|byte| char::from(alphabet[usize::from(*byte) % alphabet.len()]))
        .collect()
}
