//! The JWTs a step signs (`client_assertion`, `assertion`): their key, from
//! a template or a file and always a secret, and their claims, with the
//! target's time (`iat` on the mock's clock, moved by the case's `advance`
//! steps). Every key and every signed JWT is added to the run's secrets, so
//! no rendering shows it.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use grantspec_spec::AssertionSpec;
use grantspec_spec::template::Resolver;
use grantspec_token::{AssertionClaims, SecretString, SigningKey, fresh_jti, sign_assertion};
use serde_json::Value;
use url::Url;

use super::{CaseContext, ParamSpec, StepError};

/// The largest key file read, in bytes: a 4096-bit RSA key in PEM is about
/// 3.3 KB.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// What signing needs of the step and its case.
pub(super) struct Signing<'a> {
    pub(super) cx: &'a CaseContext<'a>,
    pub(super) resolver: &'a Resolver<'a>,
    pub(super) captures: &'a HashMap<String, Value>,
    /// The target's time for this request.
    pub(super) now: SystemTime,
    /// The endpoint the request goes to: the default `aud`.
    pub(super) token_url: &'a Url,
    /// The `jti` each earlier step's assertion was signed with, by step id.
    pub(super) jtis: &'a HashMap<String, String>,
}

impl Signing<'_> {
    fn text(&self, template: &str) -> Result<String, StepError> {
        Ok(self
            .resolver
            .resolve(template, self.captures)?
            .expose()
            .to_owned())
    }

    fn key(
        &self,
        spec: &AssertionSpec,
        client_secret: Option<&SecretString>,
    ) -> Result<SecretString, StepError> {
        match (&spec.key, &spec.key_file, client_secret) {
            (Some(_), Some(_), _) => Err(StepError::Other(
                "an assertion takes `key` or `key_file`, not both".into(),
            )),
            (Some(template), None, _) => Ok(SecretString::from(self.text(template)?)),
            (None, Some(template), _) => {
                let name = self.text(template)?;
                let path = match self.cx.spec_path.and_then(std::path::Path::parent) {
                    Some(dir) => dir.join(&name),
                    None => name.clone().into(),
                };
                grantspec_spec::read_regular_text(&path, MAX_KEY_FILE, "key file")
                    .map(SecretString::from)
                    .map_err(|e| StepError::Other(format!("key file {name}: {e}")))
            }
            (None, None, Some(secret)) if spec.alg.is_symmetric() => Ok(secret.clone()),
            (None, None, _) => Err(StepError::Other(format!(
                "the {} assertion names no `key` or `key_file`",
                spec.alg.as_str()
            ))),
        }
    }

    /// Signs `spec` for `client_id`; the JWT, recorded as a secret with its
    /// key, and its `jti`.
    pub(super) fn sign(
        &self,
        param: &str,
        spec: &AssertionSpec,
        client_id: Option<&str>,
        client_secret: Option<&SecretString>,
        secrets: &mut Vec<SecretString>,
    ) -> Result<(SecretString, String), StepError> {
        let material = self.key(spec, client_secret)?;
        secrets.push(material.clone());
        let key =
            SigningKey::new(spec.alg, material).map_err(|e| StepError::Other(e.to_string()))?;
        let issuer = match &spec.iss {
            Some(template) => self.text(template)?,
            None => client_id.unwrap_or_default().to_owned(),
        };
        let subject = match &spec.sub {
            Some(template) => self.text(template)?,
            None => client_id.map_or_else(|| issuer.clone(), str::to_owned),
        };
        let audience = match &spec.aud {
            Some(ParamSpec::One(template)) => vec![self.text(template)?],
            Some(ParamSpec::List(templates)) => templates
                .iter()
                .map(|template| self.text(template))
                .collect::<Result<_, _>>()?,
            None => {
                let mut url = self.token_url.clone();
                url.set_query(None);
                vec![url.to_string()]
            }
        };
        let jti =
            match (&spec.same_jti_as, &spec.jti) {
                (Some(step), _) => self.jtis.get(&jti_key(step, param)).cloned().ok_or_else(
                    || {
                        StepError::Other(format!(
                            "`same_jti_as: {step}` names no earlier step that signed a `{param}`"
                        ))
                    },
                )?,
                (None, Some(template)) => self.text(template)?,
                (None, None) => fresh_jti(),
            };
        let claims = AssertionClaims {
            issuer,
            subject,
            audience,
            issued_at: self
                .now
                .checked_sub(Duration::from_secs(spec.issued_ago))
                .unwrap_or(SystemTime::UNIX_EPOCH),
            lifetime: Duration::from_secs(spec.lifetime),
            jti: Some(jti.clone()),
            extra: spec
                .claims
                .iter()
                .map(|(name, value)| (name.clone(), value.to_json(None)))
                .collect(),
        };
        let jwt = sign_assertion(&key, &claims).map_err(|e| StepError::Other(e.to_string()))?;
        secrets.push(jwt.clone());
        Ok((jwt, jti))
    }
}

/// The key of a step's `jti` for `param` (`client_assertion`, `assertion`)
/// in the case's record of them.
pub(super) fn jti_key(step: &str, param: &str) -> String {
    format!("{step}/{param}")
}
