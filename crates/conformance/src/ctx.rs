//! The context of one exchange: its request and response read once, shared by
//! every check that judges it.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;

use crate::params::{
    BasicCredentials, Param, basic_credentials, is_json_media_type, media_type, refuses_json,
    request_headers, request_params, split_scheme,
};
use crate::token_view::{Class, TokenView, carries_error, json_kind, token_view};
use crate::{Detail, Details, ExchangeFacts, Judged};

pub(crate) struct Ctx<'a> {
    pub(crate) facts: ExchangeFacts<'a>,
    pub(crate) params: Vec<Param<'a>>,
    pub(crate) grant_type: Option<Cow<'a, str>>,
    pub(crate) json: Option<&'a Value>,
    /// The request's `Authorization: Basic` credentials, decoded once.
    pub(crate) basic: Option<Result<BasicCredentials, &'static str>>,
    pub(crate) class: Class,
    /// Whether the request's Accept header leaves out application/json: then
    /// a response in another media type is content negotiation (RFC 9110
    /// §12.5.1), the tester's choice, and the JSON format rules do not apply.
    pub(crate) json_refused: bool,
    /// The token object of a success, found once.
    pub(crate) token: Option<TokenView<'a>>,
    pub(crate) details: Details,
    /// [`Ctx::not_success`] and [`Ctx::not_error`], once formatted.
    pub(crate) not_success: OnceCell<Detail>,
    pub(crate) not_error: OnceCell<Detail>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(facts: ExchangeFacts<'a>, details: Details) -> Self {
        let params = request_params(facts.request);
        let grant_type = facts.grant_type.map(Cow::Borrowed).or_else(|| {
            params
                .iter()
                .find(|p| p.name == "grant_type")
                .and_then(|p| p.values.first().cloned())
        });
        let json = facts.json;
        let status = facts.response.status;
        let class = match status {
            200..=299 if carries_error(json) => Class::Error,
            200..=299 if json.is_none() && form_carries(&facts.response.body, "error") => {
                Class::Error
            }
            200..=299 => Class::Success,
            404 | 405 if !facts.request.method.eq_ignore_ascii_case("POST") => Class::HttpSemantics,
            413 | 429 => Class::HttpSemantics,
            500..=599 => Class::ServerError,
            _ => Class::Error,
        };
        Self {
            facts,
            params,
            grant_type,
            json,
            basic: basic_credentials(facts.request),
            class,
            json_refused: refuses_json(facts.request),
            token: (class == Class::Success)
                .then(|| json.and_then(token_view))
                .flatten(),
            details,
            not_success: OnceCell::new(),
            not_error: OnceCell::new(),
        }
    }

    pub(crate) fn status(&self) -> u16 {
        self.facts.response.status
    }

    /// Why a JSON format rule does not apply to a response that is not JSON,
    /// when the request's Accept header asked for something else.
    pub(crate) fn negotiated_away(&self) -> Option<Judged> {
        let media = media_type(self.facts.response.header("content-type"));
        (self.json_refused && !is_json_media_type(&media)).then(|| {
            Judged::NotApplicable(
                "the request's Accept header leaves out application/json, so a response in another media type is content negotiation".into(),
            )
        })
    }

    /// A detail that has to be formatted, for an outcome that is not a
    /// deviation: formatted only when every detail is wanted.
    pub(crate) fn say(&self, detail: impl FnOnce() -> String) -> Detail {
        match self.details {
            Details::All => detail().into(),
            Details::Deviations => Cow::Borrowed(""),
        }
    }

    /// Whether a sequence rule can judge this exchange: a refresh or a
    /// resource call.
    pub(crate) fn sequence_relevant(&self) -> bool {
        self.facts.kind != crate::ExchangeKind::Token
            || self.grant_is("refresh_token")
            || self.grant_is("authorization_code")
            || self.grant_is(grantspec_token::DEVICE_CODE_GRANT_TYPE)
            || self
                .params
                .iter()
                .any(|p| p.name == "client_assertion" || p.name == "assertion")
    }

    pub(crate) fn grant_is(&self, grant: &str) -> bool {
        self.grant_type.as_deref() == Some(grant)
    }

    /// Why a success rule does not apply: the same text for every rule of
    /// the exchange, formatted once.
    pub(crate) fn not_success(&self) -> Judged {
        Judged::NotApplicable(
            self.not_success
                .get_or_init(|| {
                    self.say(|| format!("not a successful token response (HTTP {})", self.status()))
                })
                .clone(),
        )
    }

    /// Why an error rule does not apply, formatted once per exchange.
    pub(crate) fn not_error(&self) -> Judged {
        Judged::NotApplicable(
            self.not_error
                .get_or_init(|| {
                    self.say(|| format!("not an OAuth error response (HTTP {})", self.status()))
                })
                .clone(),
        )
    }

    pub(crate) fn success_token(&self) -> Result<TokenView<'a>, Judged> {
        if self.class != Class::Success {
            return Err(self.not_success());
        }
        match self.token {
            Some(view) => Ok(view),
            None => Err(Judged::NotApplicable(
                "the body is not a JSON object".into(),
            )),
        }
    }

    /// The token object of a success, for a rule on a REQUIRED member
    /// (`access_token`, `token_type`): a body that is no JSON object has no
    /// members, so it breaks the rule rather than escaping it (unless the
    /// request's Accept header asked for something else).
    pub(crate) fn required_member_token(&self, member: &str) -> Result<TokenView<'a>, Judged> {
        if self.class != Class::Success {
            return Err(self.not_success());
        }
        if let Some(view) = self.token {
            return Ok(view);
        }
        if let Some(judged) = self.negotiated_away() {
            return Err(judged);
        }
        let body = &self.facts.response.body;
        // A form answer that carries the member breaks one rule, the media
        // type's (`RFC6749-5.1-content-type`), not every member's too.
        if self.json.is_none() && form_carries(body, member) {
            return Err(Judged::NotApplicable(
                format!(
                    "the body is form-encoded, which RFC6749-5.1-content-type reports; it carries `{member}`"
                )
                .into(),
            ));
        }
        let what = match self.json {
            _ if body.iter().all(u8::is_ascii_whitespace) => "empty",
            None => "not JSON",
            Some(value) => json_kind(value),
        };
        Err(Judged::Violated(
            format!("the body is {what}, not a JSON object, so it has no `{member}`").into(),
        ))
    }

    /// Whether the body is a form (not JSON) that carries `member`: a
    /// form-encoded answer, whose media type its own rule reports.
    pub(crate) fn form_carries(&self, member: &str) -> bool {
        self.json.is_none() && form_carries(&self.facts.response.body, member)
    }

    pub(crate) fn error_json(&self) -> Result<Option<&Value>, Judged> {
        if self.class != Class::Error {
            return Err(self.not_error());
        }
        Ok(self.json)
    }

    pub(crate) fn error_code(&self) -> Option<&str> {
        self.json
            .and_then(|json| json.get("error"))
            .and_then(Value::as_str)
    }

    pub(crate) fn is_errors_array(&self) -> bool {
        self.json.is_some_and(|json| {
            json.get("errors").is_some_and(Value::is_array) && self.error_code().is_none()
        })
    }

    pub(crate) fn is_problem(&self) -> bool {
        let content_type = media_type(self.facts.response.header("content-type"));
        content_type == "application/problem+json"
            || self.json.is_some_and(|json| {
                json.get("type").is_some()
                    && json.get("title").is_some()
                    && self.error_code().is_none()
            })
    }

    /// Whether the request presents a bearer token (RFC 6750 §2): in an
    /// `Authorization: Bearer` header, or, as a profile may place it, in
    /// the query or a form field (a value the harness marks as a secret, or
    /// one named `access_token`).
    pub(crate) fn bearer_presented(&self) -> bool {
        let request = self.facts.request;
        let in_header = request_headers(request, "authorization")
            .any(|value| split_scheme(value).0.eq_ignore_ascii_case("bearer"));
        let marked = request.query.iter().any(|(_, value)| value.is_secret())
            || matches!(&request.body, Some(grantspec_token::Body::Form(pairs))
                if pairs.iter().any(|(_, value)| value.is_secret()));
        in_header
            || (self.facts.kind == crate::ExchangeKind::Resource
                && (marked || self.params.iter().any(|p| p.name == "access_token")))
    }
}

macro_rules! success_token {
    ($cx:expr) => {
        match $cx.success_token() {
            Ok(view) => view,
            Err(judged) => return judged,
        }
    };
}

macro_rules! error_json {
    ($cx:expr) => {
        match $cx.error_json() {
            Ok(json) => json,
            Err(judged) => return judged,
        }
    };
}

/// Whether `body`, read as a form, has a non-empty `member`.
fn form_carries(body: &[u8], member: &str) -> bool {
    url::form_urlencoded::parse(body).any(|(name, value)| name == member && !value.is_empty())
}

/// Whether the response says it is JSON: the media type of success and
/// error responses alike (RFC 6749 §5.1, §5.2).
pub(crate) fn content_type_is_json(cx: &Ctx<'_>) -> Judged {
    match cx.facts.response.header("content-type") {
        None => Judged::Violated("no Content-Type".into()),
        Some(value) if media_type(Some(value)) == "application/json" => {
            Judged::Pass(cx.say(|| format!("Content-Type {value}")))
        }
        Some(value) => Judged::Violated(format!("Content-Type {value}").into()),
    }
}

pub(crate) use error_json;
pub(crate) use success_token;
