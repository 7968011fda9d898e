//! The conformance engine: every exchange of a case is checked against the
//! token-endpoint rules of RFC 6749 (§2.3, §3.2, §3.3, §4, §4.4.3, §4.5, §5.1,
//! §5.2, §6, §7.1, §10.10, Appendix A), RFC 6750 (§2.1, §3) and the OAuth 2.0
//! Security BCP (RFC 9700), beside the case's own expectations.
//!
//! Every rule is a [`Check`] in [`CHECKS`]: a stable id, the clause it comes
//! from, a [`Severity`] (failure for a MUST, warning for a SHOULD or a
//! heuristic)
//! and the deviation id a provider spec declares when it knowingly breaks the
//! rule. [`check_exchange`] judges one request and its response,
//! [`check_sequence`] the steps of one case together (refresh scope, bearer
//! use, refresh-token rotation). Both return one [`Finding`] per check they
//! own, whatever its [`Outcome`], so a report can count pass, warn, fail and
//! not applicable by clause.
//!
//! [`observed_deviations`] turns findings into the deviation ids a run shows,
//! and [`compare_deviations`] compares them with what a spec declares.
//!
//! Everything here is pure: no I/O, no async. Secrets and tokens are read in
//! memory where a rule needs them (to decode a Basic header, to follow a
//! refresh token from the step that issued it) and never appear in a
//! finding's detail. `docs/conformance.md` documents every check; its table is
//! [`markdown_table`].

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use base64::Engine as _;
use grantspec_token::{
    Body, CLOCK_OFFSET_HEADER, HttpRequest, HttpResponse, JsonField, SECRET_PARAMS,
};
use serde_json::{Map, Value};

/// How much a broken rule matters: it follows the RFC's word for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// A MUST, MUST NOT or REQUIRED of the RFC, or a normative definition
    /// that leaves no choice (ABNF, media type, parameter names): breaking
    /// it fails the check.
    Failure,
    /// A SHOULD, SHOULD NOT or RECOMMENDED, other advice, or a heuristic
    /// (even one approximating a MUST): breaking it warns.
    Warning,
}

impl Severity {
    /// `failure` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Failure => "failure",
            Self::Warning => "warning",
        }
    }
}

/// One conformance rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Check {
    /// Unique and stable, such as `RFC6749-5.1-content-type`.
    pub id: &'static str,
    /// The clause the rule comes from, such as `RFC6749-5.1`.
    pub clause: &'static str,
    /// Failure for a MUST, warning for a SHOULD or a heuristic.
    pub severity: Severity,
    /// The rule, in one line.
    pub title: &'static str,
    /// What the check reads in the exchange, and when it applies.
    pub looks_at: &'static str,
    /// The kebab-case deviation id a provider spec declares when the provider
    /// knowingly breaks this rule. Several checks may share one.
    pub deviation: &'static str,
}

/// How a check came out on an exchange or a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// The rule holds.
    Pass,
    /// The rule is broken and the check (or this way of breaking it) is a
    /// warning.
    Warn,
    /// The rule is broken and the check is a failure.
    Fail,
    /// The rule has nothing to judge here.
    NotApplicable,
}

impl Outcome {
    /// `pass`, `warn`, `fail` or `n/a`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::NotApplicable => "n/a",
        }
    }

    /// Whether the rule was broken (warned or failed).
    pub fn is_deviation(self) -> bool {
        matches!(self, Self::Warn | Self::Fail)
    }
}

/// A check's outcome, with what was seen. The detail never contains a secret
/// or a token value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check.
    pub check: &'static Check,
    /// How it came out.
    pub outcome: Outcome,
    /// What was seen, in words; names parameters and members, never secret
    /// values.
    pub detail: Cow<'static, str>,
    /// The check's position in [`CHECKS`].
    position: usize,
}

impl Finding {
    /// The check's position in [`CHECKS`]: a small dense index, for sets of
    /// checks.
    pub fn position(&self) -> usize {
        self.position
    }
}

/// Which findings say what was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Details {
    /// Every finding: what [`check_exchange`] and [`check_sequence`] give.
    All,
    /// Only deviations (warnings and failures); a pass or a not-applicable
    /// finding has an empty detail. What a case run keeps: failure messages
    /// and reports show only deviations' details, and formatting the others
    /// would cost a case run more than judging every rule does.
    Deviations,
}

/// What kind of call an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExchangeKind {
    /// A request to the token endpoint.
    Token,
    /// A protected-resource call presenting a token (a `resource` step).
    Resource,
}

/// One exchange to judge: the request as sent and the response received.
#[derive(Debug, Clone, Copy)]
pub struct ExchangeFacts<'a> {
    /// The request as sent; secrets stay marked.
    pub request: &'a HttpRequest,
    /// The response.
    pub response: &'a HttpResponse,
    /// The response body as JSON, as [`HttpResponse::json`] reads it. The
    /// caller parses it once and shares it with its own checks.
    pub json: Option<&'a Value>,
    /// The `grant_type` the step asked for, when it is a token request. When
    /// `None`, the request's own `grant_type` parameter is used.
    pub grant_type: Option<&'a str>,
    /// Whether the request is what the provider's profile builds. `false`
    /// when the case overrode the request to probe the provider (another
    /// method, body, client authentication, raw body, extra headers…): then
    /// the request-side checks are not applicable, since they would blame the
    /// provider for the tester's choice. Response-side checks still apply.
    pub request_is_profile_shaped: bool,
    /// Token endpoint or protected resource.
    pub kind: ExchangeKind,
}

// ---------------------------------------------------------------------------
// The checks.

const NO_CREDENTIALS_IN_URL: Check = Check {
    id: "RFC6749-2.3.1-no-credentials-in-url",
    clause: "RFC6749-2.3.1",
    severity: Severity::Failure,
    title: "Credentials never travel in the request URI",
    looks_at: "token requests: query parameters named client_secret, password, refresh_token, code, code_verifier, assertion, client_assertion, subject_token, actor_token or access_token, and a password in the URL's user info",
    deviation: "credentials-in-url",
};

const BASIC_FORM_ENCODED: Check = Check {
    id: "RFC6749-2.3.1-basic-form-encoded",
    clause: "RFC6749-2.3.1",
    severity: Severity::Failure,
    title: "Basic credentials are form-urlencoded before base64",
    looks_at: "token requests with `Authorization: Basic`: the decoded id and secret may hold only characters application/x-www-form-urlencoded leaves as they are (A-Z a-z 0-9 * - . _), `+` and %XX escapes",
    deviation: "unencoded-basic-credentials",
};

const ONE_AUTH_METHOD: Check = Check {
    id: "RFC6749-2.3-one-auth-method",
    clause: "RFC6749-2.3",
    severity: Severity::Failure,
    title: "At most one client authentication method per request",
    looks_at: "token requests: an `Authorization: Basic` header, a client_secret parameter and a client_assertion parameter; more than one of them fails",
    deviation: "multiple-client-authentication",
};

const POST_METHOD: Check = Check {
    id: "RFC6749-3.2-post-method",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "Token requests use POST",
    looks_at: "token requests: the HTTP method",
    deviation: "token-request-method",
};

const FORM_ENCODED_BODY: Check = Check {
    id: "RFC6749-3.2-form-encoded-body",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "Token request parameters are an application/x-www-form-urlencoded body (§4.1.3, §4.3.2, §4.4.2, §6)",
    looks_at: "token requests with a body: its encoding or Content-Type; JSON or any other encoding fails",
    deviation: "json-request-body",
};

const NO_REPEATED_PARAMETERS: Check = Check {
    id: "RFC6749-3.2-no-repeated-parameters",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "No request parameter is sent more than once",
    looks_at: "token requests: parameter names in the body (form pairs or JSON members) and the query; `audience` has its own check and a repeated `resource` is allowed by RFC 8707",
    deviation: "repeated-parameter",
};

const NO_REPEATED_AUDIENCE: Check = Check {
    id: "RFC6749-3.2-no-repeated-audience",
    clause: "RFC6749-3.2",
    severity: Severity::Failure,
    title: "`audience` is sent at most once (RFC 8693 allows repeats only for token exchange)",
    looks_at: "token requests that send `audience`: how many times it occurs, unless the grant is urn:ietf:params:oauth:grant-type:token-exchange",
    deviation: "repeated-audience-parameter",
};

const NO_EMPTY_PARAMETERS: Check = Check {
    id: "RFC6749-3.2-no-empty-parameters",
    clause: "RFC6749-3.2",
    severity: Severity::Warning,
    title: "No parameter is sent without a value (empty means omitted)",
    looks_at: "token requests: body and query parameters whose value is empty",
    deviation: "empty-parameter",
};

const SCOPE_PARAMETER_NAME: Check = Check {
    id: "RFC6749-3.3-scope-parameter-name",
    clause: "RFC6749-3.3",
    severity: Severity::Failure,
    title: "The requested scope travels as `scope`",
    looks_at: "token requests: parameter names that spell scope differently (`scopes`, `Scope`, `scope[]`)",
    deviation: "renamed-scope-parameter",
};

const PARAMETER_NAMES: Check = Check {
    id: "RFC6749-4-parameter-names",
    clause: "RFC6749-4",
    severity: Severity::Failure,
    title: "RFC 6749 parameters keep their names",
    looks_at: "token requests: parameter names that are another spelling (camelCase, dashes, capitals) of grant_type, client_id, client_secret, refresh_token, code, redirect_uri, code_verifier, username, password, client_assertion, client_assertion_type, audience or resource",
    deviation: "renamed-parameter",
};

const PASSWORD_GRANT: Check = Check {
    id: "RFC9700-2.4-password-grant",
    clause: "RFC9700-2.4",
    severity: Severity::Failure,
    title: "The resource owner password credentials grant is not offered",
    looks_at: "token exchanges with grant_type=password: whether the provider issued a token",
    deviation: "password-grant",
};

const EXTENSION_GRANT_URI: Check = Check {
    id: "RFC6749-4.5-extension-grant-uri",
    clause: "RFC6749-4.5",
    severity: Severity::Failure,
    title: "A grant type other than RFC 6749's own is an absolute URI",
    looks_at: "token requests as the profile builds them whose grant_type is not authorization_code, password, client_credentials or refresh_token: an absolute URI passes; another value (such as `implicit`) fails when the provider issued a token for it, and passes when it refused it",
    deviation: "non-uri-grant-type",
};

const STATUS_200: Check = Check {
    id: "RFC6749-5.1-status-200",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A successful token response is HTTP 200",
    looks_at: "successful token responses (2xx without an `error` or `errors` member): the status",
    deviation: "non-200-success",
};

const SUCCESS_CONTENT_TYPE: Check = Check {
    id: "RFC6749-5.1-content-type",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A successful token response is application/json",
    looks_at: "successful token responses: the Content-Type media type (parameters such as charset are fine)",
    deviation: "non-json-token-response",
};

const NO_ENVELOPE: Check = Check {
    id: "RFC6749-5.1-no-envelope",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "Token members are top-level members of the response",
    looks_at: "successful token responses: whether access_token is at the top level or only inside a member object such as `data`",
    deviation: "response-envelope",
};

const ACCESS_TOKEN: Check = Check {
    id: "RFC6749-5.1-access-token",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`access_token` is a non-empty string",
    looks_at: "successful token responses: the access_token member (at the top level, or in the envelope when there is one); a body that is not a JSON object (empty, an array, a string, not JSON) fails",
    deviation: "missing-access-token",
};

const TOKEN_TYPE: Check = Check {
    id: "RFC6749-5.1-token-type",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`token_type` is present (its value is case-insensitive)",
    looks_at: "successful token responses: the token_type member; any spelling of a type passes and the detail names the spelling; a body that is not a JSON object fails",
    deviation: "missing-token-type",
};

const TOKEN_TYPE_REGISTERED: Check = Check {
    id: "RFC6749-7.1-token-type-registered",
    clause: "RFC6749-7.1",
    severity: Severity::Warning,
    title: "`token_type` is a registered access token type, or an absolute URI (§8.1)",
    looks_at: "successful token responses with a token_type: whether it is Bearer, DPoP, N_A or PoP, compared case-insensitively, or an absolute URI (a vendor-specific type, §8.1)",
    deviation: "unregistered-token-type",
};

const EXPIRES_IN_PRESENT: Check = Check {
    id: "RFC6749-5.1-expires-in-present",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "`expires_in` is sent (RECOMMENDED)",
    looks_at: "successful token responses: whether expires_in is present",
    deviation: "missing-expires-in",
};

const EXPIRES_IN_NUMBER: Check = Check {
    id: "RFC6749-5.1-expires-in-number",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "`expires_in` is a JSON number of whole seconds (expires-in = 1*DIGIT)",
    looks_at: "successful token responses with expires_in: a JSON number (a string such as \"600\" fails), whole and not negative (Appendix A.14: 1*DIGIT)",
    deviation: "expires-in-as-string",
};

const EXPIRES_IN_RANGE: Check = Check {
    id: "RFC6749-5.1-expires-in-range",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "`expires_in` is a plausible lifetime in seconds (a heuristic)",
    looks_at: "successful token responses with a whole, non-negative expires_in (number or numeric string): not 0, at most a year (31536000), and not milliseconds (above a day, a multiple of 60000 and not a whole number of days)",
    deviation: "expires-in-out-of-range",
};

const RELATIVE_EXPIRY: Check = Check {
    id: "RFC6749-5.1-relative-expiry",
    clause: "RFC6749-5.1",
    severity: Severity::Warning,
    title: "Expiry is relative (`expires_in`), not an absolute time",
    looks_at: "successful token responses: members expires, expires_at, expires_on, expiry or expiration beside or instead of expires_in",
    deviation: "absolute-expires",
};

const SCOPE_FORMAT: Check = Check {
    id: "RFC6749-5.1-scope-format",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "A granted `scope` is a space-delimited string",
    looks_at: "successful token responses with a scope member: a JSON string of scope-tokens (%x21 / %x23-5B / %x5D-7E) separated by single spaces; an array fails, an empty string passes with a note",
    deviation: "response-scope-format",
};

const NO_STORE: Check = Check {
    id: "RFC6749-5.1-no-store",
    clause: "RFC6749-5.1",
    severity: Severity::Failure,
    title: "Token responses carry `Cache-Control: no-store` and `Pragma: no-cache`",
    looks_at: "successful token responses: the Cache-Control and Pragma headers",
    deviation: "missing-cache-headers",
};

const CLIENT_CREDENTIALS_NO_REFRESH: Check = Check {
    id: "RFC6749-4.4.3-no-refresh-token",
    clause: "RFC6749-4.4.3",
    severity: Severity::Warning,
    title: "A client_credentials token comes without a refresh token",
    looks_at: "successful client_credentials responses: whether refresh_token is present",
    deviation: "client-credentials-refresh-token",
};

const B64TOKEN: Check = Check {
    id: "RFC6750-2.1-b64token",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "A bearer access token can be sent in an Authorization header (b64token syntax)",
    looks_at: "successful token responses whose token_type is Bearer or absent: the access token's characters (A-Z a-z 0-9 - . _ ~ + / then trailing =)",
    deviation: "access-token-syntax",
};

const REFRESH_TOKEN_SYNTAX: Check = Check {
    id: "RFC6749-A.17-refresh-token-syntax",
    clause: "RFC6749-A.17",
    severity: Severity::Failure,
    title: "`refresh_token` is a non-empty string of visible ASCII (refresh-token = 1*VSCHAR)",
    looks_at: "successful token responses with a refresh_token member: a JSON string of at least one %x20-7E character; another JSON type, an empty string, control or non-ASCII characters fail",
    deviation: "refresh-token-syntax",
};

const TOKEN_ENTROPY: Check = Check {
    id: "RFC6749-10.10-token-entropy",
    clause: "RFC6749-10.10",
    severity: Severity::Warning,
    title: "Access and refresh tokens are long and random enough to resist guessing (2^-128)",
    looks_at: "successful token responses: access_token and refresh_token; at least 20 characters, an estimated 128 bits (length times log2 of the alphabet its characters come from), no heavy repetition; a JWT is judged by its signature",
    deviation: "low-entropy-token",
};

const ERROR_STATUS: Check = Check {
    id: "RFC6749-5.2-status",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response is HTTP 400, or 401 for invalid_client",
    looks_at: "token error responses: the status; 404 or 405 to a method other than POST, 413 and 429 pass as HTTP semantics, 5xx is a server failure (not applicable), a 2xx carrying an error fails",
    deviation: "error-status",
};

const ERROR_CONTENT_TYPE: Check = Check {
    id: "RFC6749-5.2-content-type",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response is application/json",
    looks_at: "token error responses that are not problem details: the Content-Type media type",
    deviation: "non-json-error-response",
};

const ERROR_MEMBER: Check = Check {
    id: "RFC6749-5.2-error-member",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "An error response has a top-level string `error`",
    looks_at: "token error responses that are neither an `errors` array nor problem details: the error member",
    deviation: "missing-error-member",
};

const NO_ERRORS_ARRAY: Check = Check {
    id: "RFC6749-5.2-no-errors-array",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "Errors are not a JSON:API-style `errors` array",
    looks_at: "token error responses: an `errors` array with no top-level string `error`",
    deviation: "errors-array",
};

const NO_PROBLEM_DETAILS: Check = Check {
    id: "RFC6749-5.2-no-problem-details",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "Errors are not RFC 9457 problem details",
    looks_at: "token error responses: Content-Type application/problem+json, or `type` and `title` members with no string `error`",
    deviation: "problem-details",
};

const ERROR_CODE: Check = Check {
    id: "RFC6749-5.2-error-code",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "`error` is a registered token-endpoint error code",
    looks_at: "token error responses with a string error: one of invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope, or an extension registered for the token endpoint (RFC 8628, 8707, 9396, 9449)",
    deviation: "unregistered-error-code",
};

const ERROR_TEXT_SYNTAX: Check = Check {
    id: "RFC6749-5.2-error-text-syntax",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "`error`, `error_description` and `error_uri` keep to their character sets",
    looks_at: "token error responses with a string error: error and error_description use %x20-21 / %x23-5B / %x5D-7E; error_uri is a URI-reference (relative ones included) of %x21 / %x23-5B / %x5D-7E",
    deviation: "error-member-syntax",
};

const BASIC_CHALLENGE: Check = Check {
    id: "RFC6749-5.2-basic-challenge",
    clause: "RFC6749-5.2",
    severity: Severity::Failure,
    title: "A client that failed Basic authentication gets 401 and a Basic challenge",
    looks_at: "token error responses (401, or error invalid_client) to requests with `Authorization: Basic`: the status and the WWW-Authenticate scheme",
    deviation: "missing-basic-challenge",
};

const AUTHORIZATION_HEADER: Check = Check {
    id: "RFC6750-2.1-authorization-header",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "The token is presented as `Authorization: Bearer <b64token>`",
    looks_at: "protected-resource calls: Bearer credentials that are not b64token fail; another scheme (clients SHOULD use Bearer, RFC 6750 §2.1) and access_token in the URL query (SHOULD NOT, §2.3) warn",
    deviation: "non-bearer-authorization",
};

const BEARER_CHALLENGE: Check = Check {
    id: "RFC6750-3-bearer-challenge",
    clause: "RFC6750-3",
    severity: Severity::Failure,
    title: "A 401 from the resource, or a 403 to a Bearer token, carries a `WWW-Authenticate: Bearer` challenge",
    looks_at: "protected-resource responses with status 401, or 403 to a request with a Bearer token (a token that does not enable access): the WWW-Authenticate challenges",
    deviation: "missing-bearer-challenge",
};

const INVALID_TOKEN_ERROR: Check = Check {
    id: "RFC6750-3.1-invalid-token-error",
    clause: "RFC6750-3.1",
    severity: Severity::Warning,
    title: "A rejected token gets error=\"invalid_token\"; a request without one gets no error code",
    looks_at: "protected-resource 401 responses with a Bearer challenge: its error attribute, against whether a Bearer token was presented",
    deviation: "bearer-challenge-error-code",
};

const INSUFFICIENT_SCOPE: Check = Check {
    id: "RFC6750-3.1-insufficient-scope",
    clause: "RFC6750-3.1",
    severity: Severity::Warning,
    title: "A 403 to a Bearer token says error=\"insufficient_scope\"",
    looks_at: "protected-resource 403 responses to a request with a Bearer token: the Bearer challenge's error attribute",
    deviation: "bearer-challenge-error-code",
};

const REFRESH_SCOPE_NOT_WIDER: Check = Check {
    id: "RFC6749-6-refresh-scope-not-wider",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A refresh never grants more scope than the original grant",
    looks_at: "case steps: the scope granted by each successful refresh (stated, or else the requested one) against the scope of the grant that issued the refresh token, followed through rotations",
    deviation: "refresh-widens-scope",
};

const WIDER_SCOPE_REFUSED: Check = Check {
    id: "RFC6749-6-wider-scope-refused",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A refresh asking for scope beyond the original grant is refused",
    looks_at: "case steps: refresh requests whose scope is not within the original grant's; success fails, success with the extra scope stated away warns",
    deviation: "refresh-widens-scope",
};

const ROTATION_KEEPS_SCOPE: Check = Check {
    id: "RFC6749-6-rotation-keeps-scope",
    clause: "RFC6749-6",
    severity: Severity::Failure,
    title: "A rotated refresh token keeps the original scope",
    looks_at: "case steps: a refresh with a refresh token issued by an earlier refresh, asking for no scope; the granted scope must equal the original grant's",
    deviation: "rotation-changes-scope",
};

const BEARER_ACCEPTED: Check = Check {
    id: "RFC6750-2.1-bearer-accepted",
    clause: "RFC6750-2.1",
    severity: Severity::Failure,
    title: "An issued access token works as `Authorization: Bearer`",
    looks_at: "case steps: protected-resource calls presenting, as Bearer, the latest access token issued in the case within its lifetime (mock clock moves counted); 2xx or 403 passes, 401 fails",
    deviation: "bearer-header-rejected",
};

const DISTINCT_ACCESS_TOKENS: Check = Check {
    id: "RFC6749-10.10-distinct-access-tokens",
    clause: "RFC6749-10.10",
    severity: Severity::Warning,
    title: "Two requests never get the same access token",
    looks_at: "case steps: the access_token of every successful token response (profile-shaped exchanges); the same value answered to two requests warns, a heuristic: a token issued twice was not freshly generated",
    deviation: "repeated-access-token",
};

const REFRESH_ROTATION: Check = Check {
    id: "RFC9700-2.2.2-refresh-rotation",
    clause: "RFC9700-2.2.2",
    severity: Severity::Warning,
    title: "Public clients' refresh tokens are rotated (or sender-constrained)",
    looks_at: "case steps: refresh requests without client authentication or DPoP; the same refresh token returned, or a used one accepted again, warns",
    deviation: "no-refresh-token-rotation",
};

/// Every check, in the order reports show them.
pub const CHECKS: &[Check] = &[
    NO_CREDENTIALS_IN_URL,
    BASIC_FORM_ENCODED,
    ONE_AUTH_METHOD,
    POST_METHOD,
    FORM_ENCODED_BODY,
    NO_REPEATED_PARAMETERS,
    NO_REPEATED_AUDIENCE,
    NO_EMPTY_PARAMETERS,
    SCOPE_PARAMETER_NAME,
    PARAMETER_NAMES,
    CLIENT_CREDENTIALS_NO_REFRESH,
    STATUS_200,
    SUCCESS_CONTENT_TYPE,
    NO_ENVELOPE,
    ACCESS_TOKEN,
    TOKEN_TYPE,
    EXPIRES_IN_PRESENT,
    EXPIRES_IN_NUMBER,
    EXPIRES_IN_RANGE,
    RELATIVE_EXPIRY,
    SCOPE_FORMAT,
    NO_STORE,
    ERROR_STATUS,
    ERROR_CONTENT_TYPE,
    ERROR_MEMBER,
    NO_ERRORS_ARRAY,
    NO_PROBLEM_DETAILS,
    ERROR_CODE,
    ERROR_TEXT_SYNTAX,
    BASIC_CHALLENGE,
    REFRESH_SCOPE_NOT_WIDER,
    WIDER_SCOPE_REFUSED,
    ROTATION_KEEPS_SCOPE,
    TOKEN_TYPE_REGISTERED,
    TOKEN_ENTROPY,
    DISTINCT_ACCESS_TOKENS,
    AUTHORIZATION_HEADER,
    B64TOKEN,
    REFRESH_TOKEN_SYNTAX,
    BEARER_ACCEPTED,
    BEARER_CHALLENGE,
    INVALID_TOKEN_ERROR,
    INSUFFICIENT_SCOPE,
    EXTENSION_GRANT_URI,
    REFRESH_ROTATION,
    PASSWORD_GRANT,
];

/// The check with this id.
pub fn find_check(id: &str) -> Option<&'static Check> {
    CHECKS.iter().find(|check| check.id == id)
}

/// Whether `id` is a deviation id some check can report.
pub fn known_deviation(id: &str) -> bool {
    CHECKS.iter().any(|check| check.deviation == id)
}

/// The checks that report deviation `id`.
pub fn checks_for_deviation(id: &str) -> impl Iterator<Item = &'static Check> + '_ {
    CHECKS.iter().filter(move |check| check.deviation == id)
}

// ---------------------------------------------------------------------------
// Rules: which checks judge single exchanges, and how.

/// Which part of an exchange a rule judges.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The request: not applicable when the case overrode the request.
    Request,
    /// The response (possibly read together with the request).
    Response,
}

/// What a rule found, before the check's severity is applied.
enum Judged {
    Pass(Detail),
    /// The rule is broken: fail or warn as the check's severity says.
    Violated(Detail),
    /// The rule is broken in a way that only warns, whatever the severity.
    Warned(Detail),
    NotApplicable(Detail),
}

/// A finding's detail: most are fixed texts, which need no allocation.
type Detail = Cow<'static, str>;

struct Rule {
    check: &'static Check,
    kind: ExchangeKind,
    side: Side,
    eval: fn(&Ctx<'_>) -> Judged,
}

const fn rule(
    check: &'static Check,
    kind: ExchangeKind,
    side: Side,
    eval: fn(&Ctx<'_>) -> Judged,
) -> Rule {
    Rule {
        check,
        kind,
        side,
        eval,
    }
}

use ExchangeKind::{Resource, Token};
use Side::{Request, Response};

const EXCHANGE_RULES: &[Rule] = &[
    rule(
        &NO_CREDENTIALS_IN_URL,
        Token,
        Request,
        no_credentials_in_url,
    ),
    rule(&BASIC_FORM_ENCODED, Token, Request, basic_form_encoded),
    rule(&ONE_AUTH_METHOD, Token, Request, one_auth_method),
    rule(&POST_METHOD, Token, Request, post_method),
    rule(&FORM_ENCODED_BODY, Token, Request, form_encoded_body),
    rule(
        &NO_REPEATED_PARAMETERS,
        Token,
        Request,
        no_repeated_parameters,
    ),
    rule(&NO_REPEATED_AUDIENCE, Token, Request, no_repeated_audience),
    rule(&NO_EMPTY_PARAMETERS, Token, Request, no_empty_parameters),
    rule(&SCOPE_PARAMETER_NAME, Token, Request, scope_parameter_name),
    rule(&PARAMETER_NAMES, Token, Request, parameter_names),
    rule(
        &CLIENT_CREDENTIALS_NO_REFRESH,
        Token,
        Response,
        client_credentials_no_refresh,
    ),
    rule(&STATUS_200, Token, Response, status_200),
    rule(&SUCCESS_CONTENT_TYPE, Token, Response, success_content_type),
    rule(&NO_ENVELOPE, Token, Response, no_envelope),
    rule(&ACCESS_TOKEN, Token, Response, access_token),
    rule(&TOKEN_TYPE, Token, Response, token_type),
    rule(&EXPIRES_IN_PRESENT, Token, Response, expires_in_present),
    rule(&EXPIRES_IN_NUMBER, Token, Response, expires_in_number),
    rule(&EXPIRES_IN_RANGE, Token, Response, expires_in_range),
    rule(&RELATIVE_EXPIRY, Token, Response, relative_expiry),
    rule(&SCOPE_FORMAT, Token, Response, scope_format),
    rule(&NO_STORE, Token, Response, no_store),
    rule(&ERROR_STATUS, Token, Response, error_status),
    rule(&ERROR_CONTENT_TYPE, Token, Response, error_content_type),
    rule(&ERROR_MEMBER, Token, Response, error_member),
    rule(&NO_ERRORS_ARRAY, Token, Response, no_errors_array),
    rule(&NO_PROBLEM_DETAILS, Token, Response, no_problem_details),
    rule(&ERROR_CODE, Token, Response, error_code),
    rule(&ERROR_TEXT_SYNTAX, Token, Response, error_text_syntax),
    rule(&BASIC_CHALLENGE, Token, Response, basic_challenge),
    rule(
        &TOKEN_TYPE_REGISTERED,
        Token,
        Response,
        token_type_registered,
    ),
    rule(&TOKEN_ENTROPY, Token, Response, token_entropy),
    rule(&B64TOKEN, Token, Response, b64token),
    rule(&REFRESH_TOKEN_SYNTAX, Token, Response, refresh_token_syntax),
    rule(
        &AUTHORIZATION_HEADER,
        Resource,
        Request,
        authorization_header,
    ),
    rule(&BEARER_CHALLENGE, Resource, Response, bearer_challenge),
    rule(
        &INVALID_TOKEN_ERROR,
        Resource,
        Response,
        invalid_token_error,
    ),
    rule(&INSUFFICIENT_SCOPE, Resource, Response, insufficient_scope),
    rule(&EXTENSION_GRANT_URI, Token, Request, extension_grant_uri),
    rule(&PASSWORD_GRANT, Token, Response, password_grant),
];

struct SequenceRule {
    check: &'static Check,
    eval: fn(&[Step<'_>]) -> Tally,
}

const SEQUENCE_RULES: &[SequenceRule] = &[
    SequenceRule {
        check: &REFRESH_SCOPE_NOT_WIDER,
        eval: refresh_scope_not_wider,
    },
    SequenceRule {
        check: &WIDER_SCOPE_REFUSED,
        eval: wider_scope_refused,
    },
    SequenceRule {
        check: &ROTATION_KEEPS_SCOPE,
        eval: rotation_keeps_scope,
    },
    SequenceRule {
        check: &BEARER_ACCEPTED,
        eval: bearer_accepted,
    },
    SequenceRule {
        check: &REFRESH_ROTATION,
        eval: refresh_rotation,
    },
    SequenceRule {
        check: &DISTINCT_ACCESS_TOKENS,
        eval: distinct_access_tokens,
    },
];

/// Judges one exchange: one [`Finding`] for every per-exchange check, in
/// [`CHECKS`] order, `NotApplicable` where the check has nothing to judge
/// (a token check on a resource call, a request check on an overridden
/// request, an error check on a success…).
pub fn check_exchange(facts: &ExchangeFacts<'_>) -> Vec<Finding> {
    exchange_findings(&Ctx::new(*facts, Details::All))
}

/// [`check_exchange`] of a context: every exchange rule, in catalogue order.
fn exchange_findings(cx: &Ctx<'_>) -> Vec<Finding> {
    static ORDER: OnceLock<Catalogue> = OnceLock::new();
    let catalogue = ORDER.get_or_init(|| Catalogue::of(EXCHANGE_RULES.iter().map(|r| r.check)));
    let facts = &cx.facts;
    catalogue
        .order
        .iter()
        .map(|&index| {
            let rule = &EXCHANGE_RULES[index];
            let judged = if rule.kind != facts.kind {
                Judged::NotApplicable(match rule.kind {
                    Token => "not a token-endpoint exchange".into(),
                    Resource => "not a protected-resource call".into(),
                })
            } else if rule.side == Request && !facts.request_is_profile_shaped {
                Judged::NotApplicable(
                    "the case overrode the request, so its shape is the tester's choice".into(),
                )
            } else {
                (rule.eval)(cx)
            };
            finding(rule.check, catalogue.positions[index], judged, cx.details)
        })
        .collect()
}

/// Judges the steps of one case together, in order: one [`Finding`] for
/// every sequence check (refresh scope, rotation, bearer use). Details name
/// exchanges by their 1-based position in `exchanges`.
pub fn check_sequence(exchanges: &[ExchangeFacts<'_>]) -> Vec<Finding> {
    let contexts: Vec<Ctx<'_>> = exchanges
        .iter()
        .map(|facts| Ctx::new(*facts, Details::All))
        .collect();
    sequence_findings(&contexts, Details::All)
}

/// Whether a sequence rule can judge anything in a case: a refresh, a
/// resource call, or two successful token responses.
fn sequence_relevant(contexts: &[Ctx<'_>]) -> bool {
    contexts.iter().any(Ctx::sequence_relevant)
        || contexts
            .iter()
            .filter(|cx| cx.facts.kind == Token && cx.token.is_some())
            .nth(1)
            .is_some()
}

/// [`check_sequence`] of contexts: every sequence rule, in catalogue order.
fn sequence_findings(contexts: &[Ctx<'_>], details: Details) -> Vec<Finding> {
    static ORDER: OnceLock<Catalogue> = OnceLock::new();
    let catalogue = ORDER.get_or_init(|| Catalogue::of(SEQUENCE_RULES.iter().map(|r| r.check)));
    // Every sequence rule judges a refresh, a resource call or a second
    // token; a case with none of them (most cases: one grant) gives them
    // nothing to judge, and its steps are not worth reading.
    let steps = if sequence_relevant(contexts) {
        analyse(contexts)
    } else {
        Vec::new()
    };
    catalogue
        .order
        .iter()
        .map(|&index| {
            let rule = &SEQUENCE_RULES[index];
            (rule.eval)(&steps).finding(rule.check, catalogue.positions[index], details)
        })
        .collect()
}

/// Every exchange of a case judged alone ([`check_exchange`], one list per
/// exchange) and the exchanges together ([`check_sequence`]), reading each
/// exchange once, with the `details` asked for.
pub fn check_case(
    exchanges: &[ExchangeFacts<'_>],
    details: Details,
) -> (Vec<Vec<Finding>>, Vec<Finding>) {
    let contexts: Vec<Ctx<'_>> = exchanges
        .iter()
        .map(|facts| Ctx::new(*facts, details))
        .collect();
    let each = contexts.iter().map(exchange_findings).collect();
    (each, sequence_findings(&contexts, details))
}

/// Every exchange judged alone, as [`check_exchange`] does, with the
/// `details` asked for: one list per exchange. What a case's bent requests
/// get, which are judged apart from the provider's dialect.
pub fn check_exchanges(exchanges: &[ExchangeFacts<'_>], details: Details) -> Vec<Vec<Finding>> {
    exchanges
        .iter()
        .map(|facts| exchange_findings(&Ctx::new(*facts, details)))
        .collect()
}

/// Where a list of rules' checks stand in [`CHECKS`], worked out once.
struct Catalogue {
    /// The order in which the rules report: the order of their checks in
    /// [`CHECKS`] (a check missing there last), ties in rule order.
    order: Vec<usize>,
    /// For each rule, its check's position in [`CHECKS`].
    positions: Vec<usize>,
}

impl Catalogue {
    fn of(checks: impl Iterator<Item = &'static Check>) -> Self {
        let positions: Vec<usize> = checks
            .map(|check| {
                CHECKS
                    .iter()
                    .position(|c| c.id == check.id)
                    .unwrap_or(usize::MAX)
            })
            .collect();
        let mut order: Vec<usize> = (0..positions.len()).collect();
        order.sort_by_key(|&index| positions[index]);
        Self { order, positions }
    }
}

fn finding(check: &'static Check, position: usize, judged: Judged, details: Details) -> Finding {
    let (outcome, detail) = match judged {
        Judged::Pass(detail) => (Outcome::Pass, detail),
        Judged::Violated(detail) => (violation(check), detail),
        Judged::Warned(detail) => (Outcome::Warn, detail),
        Judged::NotApplicable(detail) => (Outcome::NotApplicable, detail),
    };
    let detail = match details {
        Details::Deviations if !outcome.is_deviation() => Cow::Borrowed(""),
        _ => detail,
    };
    Finding {
        check,
        outcome,
        detail,
        position,
    }
}

fn violation(check: &Check) -> Outcome {
    match check.severity {
        Severity::Failure => Outcome::Fail,
        Severity::Warning => Outcome::Warn,
    }
}

// ---------------------------------------------------------------------------
// Deviations.

/// The deviation ids of checks that failed or warned.
pub fn observed_deviations(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings
        .iter()
        .filter(|f| f.outcome.is_deviation())
        .map(|f| f.check.deviation)
        .collect()
}

/// The deviation ids of checks that judged something (passed, warned or
/// failed) at least once. A declared deviation outside this set was not
/// exercised by the run, which is not the same as fixed.
pub fn exercised_deviations(findings: &[Finding]) -> BTreeSet<&'static str> {
    findings
        .iter()
        .filter(|f| f.outcome != Outcome::NotApplicable)
        .map(|f| f.check.deviation)
        .collect()
}

/// Declared deviations against observed ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviationReport {
    /// Observed but not declared: drift, the provider deviates in a new way.
    pub undeclared: Vec<&'static str>,
    /// Declared but not observed: the provider no longer deviates (or the id
    /// is unknown).
    pub unobserved: Vec<String>,
}

impl DeviationReport {
    /// Whether declarations and observations agree.
    pub fn is_clean(&self) -> bool {
        self.undeclared.is_empty() && self.unobserved.is_empty()
    }

    /// One message per disagreement, saying what to do.
    pub fn messages(&self) -> Vec<String> {
        self.messages_seen_in(None)
    }

    /// [`DeviationReport::messages`], saying where the undeclared deviations
    /// were seen when that is not the provider's own dialect (`a bent
    /// request's response`).
    pub fn messages_seen_in(&self, seen_in: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        let seen_in = seen_in.map(|what| format!(", shown by {what}"));
        for id in &self.undeclared {
            let checks: Vec<&str> = checks_for_deviation(id).map(|c| c.id).collect();
            out.push(format!(
                "undeclared deviation `{id}` ({}){}: the provider now deviates from the RFC; declare it under provider.deviations if that is known and accepted",
                checks.join(", "),
                seen_in.as_deref().unwrap_or_default()
            ));
        }
        for id in &self.unobserved {
            if known_deviation(id) {
                out.push(format!(
                    "declared deviation `{id}` was not observed: the provider no longer deviates; remove the declaration"
                ));
            } else {
                out.push(format!(
                    "declared deviation `{id}` is not a deviation id any check reports; see docs/conformance.md for the list"
                ));
            }
        }
        out
    }
}

/// Compares a spec's declared deviations with those observed in a run.
pub fn compare_deviations(
    declared: &[String],
    observed: &BTreeSet<&'static str>,
) -> DeviationReport {
    let declared_set: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
    DeviationReport {
        undeclared: observed
            .iter()
            .filter(|id| !declared_set.contains(**id))
            .copied()
            .collect(),
        unobserved: declared_set
            .iter()
            .filter(|id| !observed.contains(**id))
            .map(|id| (*id).to_owned())
            .collect(),
    }
}

// ---------------------------------------------------------------------------
// Documentation.

/// The Markdown table of every check, as `docs/conformance.md` carries it
/// between its `checks:begin` and `checks:end` markers.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Check | Clause | Severity | Deviation | Rule | Looks at |\n|---|---|---|---|---|---|\n",
    );
    for check in CHECKS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} | {} |",
            check.id,
            check.clause,
            check.severity.as_str(),
            check.deviation,
            check.title,
            check.looks_at
        );
    }
    out
}

// ---------------------------------------------------------------------------
// Reading requests.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Query,
    Body,
}

/// One parameter occurrence, borrowed from the request where it can be.
/// Values are read in memory only, never shown.
struct Param<'r> {
    name: Cow<'r, str>,
    values: Vec<Cow<'r, str>>,
    place: Place,
}

impl Param<'_> {
    fn is_empty(&self) -> bool {
        self.values.iter().all(|value| value.is_empty())
    }

    fn first_value(&self) -> Option<&str> {
        self.values.first().map(AsRef::as_ref)
    }
}

fn request_params(request: &HttpRequest) -> Vec<Param<'_>> {
    let mut params: Vec<Param<'_>> = request
        .url
        .query_pairs()
        .map(|(name, value)| Param {
            name,
            values: vec![value],
            place: Place::Query,
        })
        .collect();
    fn body<'r>(name: Cow<'r, str>, values: Vec<Cow<'r, str>>) -> Param<'r> {
        Param {
            name,
            values,
            place: Place::Body,
        }
    }
    match &request.body {
        Some(Body::Form(pairs)) => {
            params.extend(pairs.iter().map(|(name, value)| {
                body(Cow::Borrowed(name), vec![Cow::Borrowed(value.expose())])
            }));
        }
        Some(Body::Json(fields)) => {
            params.extend(fields.iter().map(|(name, field)| {
                match field {
                    JsonField::Text(text) => {
                        body(Cow::Borrowed(name), vec![Cow::Borrowed(text.expose())])
                    }
                    JsonField::Array(items) => body(
                        Cow::Borrowed(name),
                        items
                            .iter()
                            .map(|item| Cow::Borrowed(item.as_str()))
                            .collect(),
                    ),
                }
            }));
        }
        Some(Body::Raw {
            content_type,
            bytes,
        }) => match &*media_type(content_type.as_deref()) {
            "application/x-www-form-urlencoded" => params.extend(
                url::form_urlencoded::parse(bytes).map(|(name, value)| body(name, vec![value])),
            ),
            ct if is_json_media_type(ct) => {
                if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) {
                    params.extend(map.iter().map(|(name, value)| {
                        let values = match value {
                            Value::Array(items) => {
                                items.iter().map(|item| json_text(item).into()).collect()
                            }
                            other => vec![json_text(other).into()],
                        };
                        body(Cow::Owned(name.clone()), values)
                    }));
                }
            }
            _ => {}
        },
        None => {}
    }
    params
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The media type of a Content-Type value, lower case, without parameters;
/// borrowed unless it has to be lowered.
fn media_type(content_type: Option<&str>) -> Cow<'_, str> {
    let media = content_type
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if media.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(media.to_ascii_lowercase())
    } else {
        Cow::Borrowed(media)
    }
}

fn is_json_media_type(media_type: &str) -> bool {
    media_type == "application/json" || media_type.ends_with("+json")
}

/// The values of request headers named `name`, exposed in memory only.
fn request_headers<'r>(request: &'r HttpRequest, name: &'r str) -> impl Iterator<Item = &'r str> {
    request
        .headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.expose())
}

/// Whether the request's Accept header leaves out application/json: no media
/// range of it (`application/json`, `application/*`, `*/*`) has a weight
/// above zero. No Accept header accepts anything.
fn refuses_json(request: &HttpRequest) -> bool {
    let mut headers = request_headers(request, "accept").peekable();
    if headers.peek().is_none() {
        return false;
    }
    !headers.flat_map(|value| value.split(',')).any(|range| {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim();
        let zero = parts.any(|param| {
            param.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("q")
                    && value.trim().parse::<f64>().is_ok_and(|q| q <= 0.0)
            })
        });
        !zero
            && ["application/json", "application/*", "*/*"]
                .iter()
                .any(|m| m.eq_ignore_ascii_case(media))
    })
}

/// Splits `Scheme rest`; the scheme is whatever comes before the first space.
fn split_scheme(value: &str) -> (&str, &str) {
    let value = value.trim();
    match value.split_once(' ') {
        Some((scheme, rest)) => (scheme, rest.trim()),
        None => (value, ""),
    }
}

/// Schemes that may be named in a detail; anything else may be a token sent
/// without a scheme and is never shown.
const SHOWABLE_SCHEMES: &[&str] = &[
    "basic",
    "bearer",
    "dpop",
    "token",
    "mac",
    "jwt",
    "oauth",
    "digest",
    "negotiate",
];

fn shown_scheme(scheme: &str) -> String {
    if SHOWABLE_SCHEMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        format!("`{scheme}`")
    } else {
        "no recognised scheme".to_owned()
    }
}

/// Decoded `Authorization: Basic` credentials: `id:secret`, split at `colon`.
struct BasicCredentials {
    decoded: String,
    colon: usize,
}

impl BasicCredentials {
    fn id(&self) -> &str {
        &self.decoded[..self.colon]
    }

    fn secret(&self) -> &str {
        &self.decoded[self.colon + 1..]
    }
}

/// The decoded `Authorization: Basic` credentials: `None` without such a
/// header, `Err` with why the header cannot be read.
fn basic_credentials(request: &HttpRequest) -> Option<Result<BasicCredentials, &'static str>> {
    let value = request_headers(request, "authorization")
        .find(|value| split_scheme(value).0.eq_ignore_ascii_case("basic"))?;
    let encoded = split_scheme(value).1;
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return Some(Err("the Basic credentials are not valid base64"));
    };
    let Ok(decoded) = String::from_utf8(decoded) else {
        return Some(Err(
            "the Basic credentials are not UTF-8, so they were not form-encoded",
        ));
    };
    match decoded.find(':') {
        Some(colon) => Some(Ok(BasicCredentials { decoded, colon })),
        None => Some(Err(
            "the Basic credentials have no `:` between id and secret",
        )),
    }
}

/// Whether `text` could be the output of application/x-www-form-urlencoded:
/// only unreserved bytes, `+`, and `%` followed by two hex digits.
fn looks_form_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' | b'+' => i += 1,
            b'%' if bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                i += 3;
            }
            _ => return false,
        }
    }
    true
}

/// Parameters whose values are credentials and must never be in a URL.
fn is_credential_name(name: &str) -> bool {
    name == "access_token" || SECRET_PARAMS.contains(&name)
}

/// Lower case, without `_`, `-` and a trailing `[]`: how a renamed parameter
/// is recognised.
fn normalized_name(name: &str) -> impl Iterator<Item = char> + Clone + '_ {
    name.trim_end_matches("[]")
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
}

/// Whether `name`, normalized, is `normalized` (itself already normalized).
fn normalizes_to(name: &str, normalized: &str) -> bool {
    if name.is_ascii() {
        // What `normalized_name` does, byte by byte.
        name.trim_end_matches("[]")
            .bytes()
            .filter(|b| *b != b'_' && *b != b'-')
            .map(|b| b.to_ascii_lowercase())
            .eq(normalized.bytes())
    } else {
        normalized_name(name).eq(normalized.chars())
    }
}

/// Whether `name` is a way of spelling the scope parameter.
fn names_scope(name: &str) -> bool {
    normalizes_to(name, "scope") || normalizes_to(name, "scopes")
}

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

// ---------------------------------------------------------------------------
// Reading responses.

/// What a token-endpoint response is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// 2xx without an error member.
    Success,
    /// An OAuth error: 4xx (other than HTTP-semantics statuses), 1xx/3xx, or
    /// a 2xx carrying `error` or `errors`.
    Error,
    /// 404 or 405 to a method other than POST (the endpoint is not routed
    /// for it), 413 or 429: HTTP speaking, not OAuth.
    HttpSemantics,
    /// 5xx: a server failure, not a §5.2 error response.
    ServerError,
}

/// The token object of a success: the top level, or the member object that
/// holds `access_token` (an envelope such as `data`).
/// The members most rules read are looked up once.
#[derive(Clone, Copy)]
struct TokenView<'v> {
    object: &'v Map<String, Value>,
    envelope: Option<&'v str>,
    access_token: Option<&'v Value>,
    token_type: Option<&'v Value>,
    expires_in: Option<&'v Value>,
    refresh_token: Option<&'v Value>,
    scope: Option<&'v Value>,
}

impl<'v> TokenView<'v> {
    /// The view of `object`, its members found in one pass: a token object
    /// has a handful of members, fewer than it takes to hash five names.
    fn of(object: &'v Map<String, Value>, envelope: Option<&'v str>) -> Self {
        let mut view = Self {
            object,
            envelope,
            access_token: None,
            token_type: None,
            expires_in: None,
            refresh_token: None,
            scope: None,
        };
        for (name, value) in object {
            let slot = match name.as_str() {
                "access_token" => &mut view.access_token,
                "token_type" => &mut view.token_type,
                "expires_in" => &mut view.expires_in,
                "refresh_token" => &mut view.refresh_token,
                "scope" => &mut view.scope,
                _ => continue,
            };
            *slot = Some(value);
        }
        view
    }

    /// Whether the object has a non-null member named as one of `names`.
    fn has_any(&self, names: &[&str]) -> bool {
        self.object
            .iter()
            .any(|(name, value)| !value.is_null() && names.contains(&name.as_str()))
    }
}

fn token_view(json: &Value) -> Option<TokenView<'_>> {
    let top = json.as_object()?;
    let view = TokenView::of(top, None);
    if view.access_token.is_some() {
        return Some(view);
    }
    for (key, member) in top {
        if let Some(inner) = member.as_object() {
            if inner.contains_key("access_token") {
                return Some(TokenView::of(inner, Some(key)));
            }
        }
    }
    Some(view)
}

fn carries_error(json: Option<&Value>) -> bool {
    let Some(json) = json else {
        return false;
    };
    json.get("error").is_some_and(|e| !e.is_null())
        || json
            .get("errors")
            .and_then(Value::as_array)
            .is_some_and(|items| !items.is_empty())
}

/// One WWW-Authenticate challenge.
struct Challenge {
    scheme: String,
    params: Vec<(String, String)>,
}

impl Challenge {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits on commas outside quoted strings.
fn split_commas(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' if quoted => {
                current.push(c);
                escaped = true;
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.into_iter().map(|p| p.trim().to_owned()).collect()
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    match value
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
    {
        Some(inner) => {
            let mut out = String::new();
            let mut escaped = false;
            for c in inner.chars() {
                if c == '\\' && !escaped {
                    escaped = true;
                } else {
                    out.push(c);
                    escaped = false;
                }
            }
            out
        }
        None => value.to_owned(),
    }
}

/// Parses WWW-Authenticate values (RFC 9110 §11.6.1) into challenges;
/// token68 credentials are skipped.
fn parse_challenges<'h>(values: impl Iterator<Item = &'h str>) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    for value in values {
        for element in split_commas(value) {
            if element.is_empty() {
                continue;
            }
            let (first, rest) = match element.find(char::is_whitespace) {
                Some(i) => (&element[..i], element[i..].trim_start()),
                None => (element.as_str(), ""),
            };
            let is_param = first.contains('=') || rest.starts_with('=');
            let param = |text: &str| {
                text.split_once('=')
                    .map(|(name, value)| (name.trim().to_owned(), unquote(value)))
            };
            if is_param {
                if let (Some(challenge), Some(param)) = (challenges.last_mut(), param(&element)) {
                    challenge.params.push(param);
                }
                continue;
            }
            let mut challenge = Challenge {
                scheme: first.to_owned(),
                params: Vec::new(),
            };
            // What follows the scheme is a first parameter, or a token68
            // (which may end in `=` padding) that is skipped.
            if rest.trim_end_matches('=').contains('=') {
                if let Some(param) = param(rest) {
                    challenge.params.push(param);
                }
            }
            challenges.push(challenge);
        }
    }
    challenges
}

fn is_token68_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/')
}

fn challenges(response: &HttpResponse) -> Vec<Challenge> {
    parse_challenges(
        response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.as_str()),
    )
}

fn schemes(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(|c| format!("`{}`", c.scheme))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a string is b64token (RFC 6750 §2.1).
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty() && body.chars().all(is_token68_char)
}

/// What kind of character broke b64token syntax, without showing it.
fn b64token_problem(token: &str) -> &'static str {
    let body = token.trim_end_matches('=');
    match body.chars().find(|c| !is_token68_char(*c)) {
        None if body.is_empty() => "is empty",
        None => "is fine",
        Some(' ') => "contains a space",
        Some('"') => "contains a double quote",
        Some('=') => "contains `=` before its end",
        Some(c) if !c.is_ascii() => "contains a non-ASCII character",
        Some(c) if c.is_ascii_control() => "contains a control character",
        Some(_) => "contains punctuation outside - . _ ~ + /",
    }
}

/// The first character of `text` outside the allowed set, as `U+XXXX`.
fn first_outside(text: &str, allowed: fn(char) -> bool) -> Option<String> {
    text.chars()
        .find(|c| !allowed(*c))
        .map(|c| format!("U+{:04X}", u32::from(c)))
}

/// NQSCHAR: %x20-21 / %x23-5B / %x5D-7E.
fn is_nqschar(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// NQCHAR: %x21 / %x23-5B / %x5D-7E.
fn is_nqchar(c: char) -> bool {
    c != ' ' && is_nqschar(c)
}

const REGISTERED_ERRORS: &[&str] = &[
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    // RFC 8628 (device authorization grant).
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
    // RFC 8707 (resource indicators).
    "invalid_target",
    // RFC 9396 (rich authorization requests).
    "invalid_authorization_details",
    // RFC 9449 (DPoP).
    "invalid_dpop_proof",
    "use_dpop_nonce",
];

const REGISTERED_TOKEN_TYPES: &[&str] = &["bearer", "dpop", "n_a", "pop"];

const ABSOLUTE_EXPIRY_MEMBERS: &[&str] = &[
    "expires",
    "expires_at",
    "expires_on",
    "expiry",
    "expiration",
];

const ONE_DAY: f64 = 86_400.0;
const ONE_YEAR: f64 = 31_536_000.0;

// ---------------------------------------------------------------------------
// The context of one exchange.

struct Ctx<'a> {
    facts: ExchangeFacts<'a>,
    params: Vec<Param<'a>>,
    grant_type: Option<Cow<'a, str>>,
    json: Option<&'a Value>,
    /// The request's `Authorization: Basic` credentials, decoded once.
    basic: Option<Result<BasicCredentials, &'static str>>,
    class: Class,
    /// Whether the request's Accept header leaves out application/json: then
    /// a response in another media type is content negotiation (RFC 9110
    /// §12.5.1), the tester's choice, and the JSON format rules do not apply.
    json_refused: bool,
    /// The token object of a success, found once.
    token: Option<TokenView<'a>>,
    details: Details,
    /// [`Ctx::not_success`] and [`Ctx::not_error`], once formatted.
    not_success: OnceCell<Detail>,
    not_error: OnceCell<Detail>,
}

impl<'a> Ctx<'a> {
    fn new(facts: ExchangeFacts<'a>, details: Details) -> Self {
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

    fn status(&self) -> u16 {
        self.facts.response.status
    }

    /// Why a JSON format rule does not apply to a response that is not JSON,
    /// when the request's Accept header asked for something else.
    fn negotiated_away(&self) -> Option<Judged> {
        let media = media_type(self.facts.response.header("content-type"));
        (self.json_refused && !is_json_media_type(&media)).then(|| {
            Judged::NotApplicable(
                "the request's Accept header leaves out application/json, so a response in another media type is content negotiation".into(),
            )
        })
    }

    /// A detail that has to be formatted, for an outcome that is not a
    /// deviation: formatted only when every detail is wanted.
    fn say(&self, detail: impl FnOnce() -> String) -> Detail {
        match self.details {
            Details::All => detail().into(),
            Details::Deviations => Cow::Borrowed(""),
        }
    }

    /// Whether a sequence rule can judge this exchange: a refresh or a
    /// resource call.
    fn sequence_relevant(&self) -> bool {
        self.facts.kind == Resource || self.grant_is("refresh_token")
    }

    fn grant_is(&self, grant: &str) -> bool {
        self.grant_type.as_deref() == Some(grant)
    }

    /// Why a success rule does not apply: the same text for every rule of
    /// the exchange, formatted once.
    fn not_success(&self) -> Judged {
        Judged::NotApplicable(
            self.not_success
                .get_or_init(|| {
                    self.say(|| format!("not a successful token response (HTTP {})", self.status()))
                })
                .clone(),
        )
    }

    /// Why an error rule does not apply, formatted once per exchange.
    fn not_error(&self) -> Judged {
        Judged::NotApplicable(
            self.not_error
                .get_or_init(|| {
                    self.say(|| format!("not an OAuth error response (HTTP {})", self.status()))
                })
                .clone(),
        )
    }

    fn success_token(&self) -> Result<TokenView<'a>, Judged> {
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
    fn required_member_token(&self, member: &str) -> Result<TokenView<'a>, Judged> {
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
        let what = match self.json {
            _ if body.iter().all(u8::is_ascii_whitespace) => "empty",
            None => "not JSON",
            Some(value) => json_kind(value),
        };
        Err(Judged::Violated(
            format!("the body is {what}, not a JSON object, so it has no `{member}`").into(),
        ))
    }

    fn error_json(&self) -> Result<Option<&Value>, Judged> {
        if self.class != Class::Error {
            return Err(self.not_error());
        }
        Ok(self.json)
    }

    fn error_code(&self) -> Option<&str> {
        self.json
            .and_then(|json| json.get("error"))
            .and_then(Value::as_str)
    }

    fn is_errors_array(&self) -> bool {
        self.json.is_some_and(|json| {
            json.get("errors").is_some_and(Value::is_array) && self.error_code().is_none()
        })
    }

    fn is_problem(&self) -> bool {
        let content_type = media_type(self.facts.response.header("content-type"));
        content_type == "application/problem+json"
            || self.json.is_some_and(|json| {
                json.get("type").is_some()
                    && json.get("title").is_some()
                    && self.error_code().is_none()
            })
    }

    fn bearer_presented(&self) -> bool {
        request_headers(self.facts.request, "authorization")
            .any(|value| split_scheme(value).0.eq_ignore_ascii_case("bearer"))
    }
}

// ---------------------------------------------------------------------------
// Request rules.

fn no_credentials_in_url(cx: &Ctx<'_>) -> Judged {
    let names: BTreeSet<&str> = cx
        .params
        .iter()
        .filter(|p| p.place == Place::Query && is_credential_name(&p.name))
        .map(|p| &*p.name)
        .collect();
    let userinfo = cx.facts.request.url.password().is_some();
    if names.is_empty() && !userinfo {
        return Judged::Pass("no credential in the URL".into());
    }
    let mut what: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if userinfo {
        what.push("a password in the user info".into());
    }
    Judged::Violated(format!("the URL carries {}", what.join(", ")).into())
}

fn basic_form_encoded(cx: &Ctx<'_>) -> Judged {
    match &cx.basic {
        None => Judged::NotApplicable("no `Authorization: Basic` header".into()),
        Some(Err(why)) => Judged::Violated((*why).into()),
        Some(Ok(basic)) => {
            let raw: Vec<&str> = [("client id", basic.id()), ("client secret", basic.secret())]
                .into_iter()
                .filter(|(_, value)| !looks_form_encoded(value))
                .map(|(what, _)| what)
                .collect();
            if raw.is_empty() {
                Judged::Pass("the id and secret hold only what form-encoding produces".into())
            } else {
                Judged::Violated(format!(
                    "the {} holds characters form-encoding would have escaped: it was not form-urlencoded before base64",
                    raw.join(" and the ")
                ).into())
            }
        }
    }
}

fn one_auth_method(cx: &Ctx<'_>) -> Judged {
    const BASIC: &str = "client_secret_basic (Authorization: Basic)";
    const POST: &str = "client_secret_post (client_secret parameter)";
    const ASSERTION: &str = "a client assertion (client_assertion parameter)";
    let used = [
        (cx.basic.is_some(), BASIC),
        (cx.params.iter().any(|p| p.name == "client_secret"), POST),
        (
            cx.params.iter().any(|p| p.name == "client_assertion"),
            ASSERTION,
        ),
    ];
    let methods: Vec<&str> = used
        .iter()
        .filter(|(used, _)| *used)
        .map(|(_, method)| *method)
        .collect();
    match methods.len() {
        0 => Judged::Pass("no client authentication".into()),
        1 => Judged::Pass(match methods[0] {
            BASIC => concat!("one method: ", "client_secret_basic (Authorization: Basic)").into(),
            POST => concat!(
                "one method: ",
                "client_secret_post (client_secret parameter)"
            )
            .into(),
            _ => concat!(
                "one method: ",
                "a client assertion (client_assertion parameter)"
            )
            .into(),
        }),
        _ => Judged::Violated(
            format!("{} methods at once: {}", methods.len(), methods.join(", ")).into(),
        ),
    }
}

fn post_method(cx: &Ctx<'_>) -> Judged {
    let method = &cx.facts.request.method;
    if method.eq_ignore_ascii_case("POST") {
        Judged::Pass("POST".into())
    } else {
        Judged::Violated(format!("the request uses {method}").into())
    }
}

fn form_encoded_body(cx: &Ctx<'_>) -> Judged {
    match &cx.facts.request.body {
        None => Judged::NotApplicable(
            "no request body (parameters in the URL are the method check's concern)".into(),
        ),
        Some(Body::Form(_)) => Judged::Pass("application/x-www-form-urlencoded".into()),
        Some(Body::Json(_)) => Judged::Violated("a JSON body".into()),
        Some(Body::Raw { content_type, .. }) => {
            let media = media_type(content_type.as_deref());
            match &*media {
                "application/x-www-form-urlencoded" => {
                    Judged::Pass("application/x-www-form-urlencoded".into())
                }
                "" => Judged::Violated("a body without a Content-Type".into()),
                other if is_json_media_type(other) => {
                    Judged::Violated(format!("a JSON body ({other})").into())
                }
                other => Judged::Violated(format!("a body of type {other}").into()),
            }
        }
    }
}

/// How many times a parameter named `name` is sent.
fn occurrences(params: &[Param<'_>], name: &str) -> usize {
    params.iter().filter(|p| p.name == name).count()
}

fn no_repeated_parameters(cx: &Ctx<'_>) -> Judged {
    let params = &cx.params;
    let repeats = |index: usize, name: &str| {
        !matches!(name, "audience" | "resource")
            && params[index + 1..].iter().any(|later| later.name == name)
    };
    let any_repeated = params
        .iter()
        .enumerate()
        .any(|(index, p)| repeats(index, &p.name));
    let resource = occurrences(params, "resource") > 1;
    let note = if resource {
        " (`resource` repeats, as RFC 8707 allows)"
    } else {
        ""
    };
    if !any_repeated && note.is_empty() {
        Judged::Pass("every parameter is sent once".into())
    } else if !any_repeated {
        Judged::Pass(cx.say(|| format!("every parameter is sent once{note}")))
    } else {
        let repeated: BTreeSet<&str> = params
            .iter()
            .enumerate()
            .filter(|(index, p)| repeats(*index, &p.name))
            .map(|(_, p)| &*p.name)
            .collect();
        let repeated: Vec<String> = repeated
            .into_iter()
            .map(|name| format!("`{name}` ×{}", occurrences(params, name)))
            .collect();
        Judged::Violated(format!("repeated: {}{note}", repeated.join(", ")).into())
    }
}

fn no_repeated_audience(cx: &Ctx<'_>) -> Judged {
    let count = occurrences(&cx.params, "audience");
    match count {
        0 => Judged::NotApplicable("no `audience` parameter".into()),
        1 => Judged::Pass("`audience` is sent once".into()),
        _ if cx.grant_is(TOKEN_EXCHANGE) => {
            Judged::Pass(cx.say(|| {
                format!("`audience` ×{count} in a token exchange, as RFC 8693 §2.1 allows")
            }))
        }
        _ => Judged::Violated(
            format!("`audience` is sent {count} times; send one space-delimited value").into(),
        ),
    }
}

fn no_empty_parameters(cx: &Ctx<'_>) -> Judged {
    let empty: BTreeSet<&str> = cx
        .params
        .iter()
        .filter(|p| p.is_empty())
        .map(|p| &*p.name)
        .collect();
    if empty.is_empty() {
        Judged::Pass("every parameter has a value".into())
    } else {
        Judged::Violated(
            format!(
                "sent without a value: {}",
                empty
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into(),
        )
    }
}

fn scope_parameter_name(cx: &Ctx<'_>) -> Judged {
    let renamed: BTreeSet<&str> = cx
        .params
        .iter()
        .map(|p| &*p.name)
        .filter(|name| *name != "scope" && names_scope(name))
        .collect();
    let has_scope = cx.params.iter().any(|p| p.name == "scope");
    match (renamed.is_empty(), has_scope) {
        (true, true) => Judged::Pass("the scope is sent as `scope`".into()),
        (true, false) => Judged::NotApplicable("no scope is requested".into()),
        (false, _) => Judged::Violated(
            format!(
                "the scope is sent as {} instead of `scope`",
                renamed
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .into(),
        ),
    }
}

const RFC_PARAMETERS: &[&str] = &[
    "grant_type",
    "client_id",
    "client_secret",
    "refresh_token",
    "code",
    "redirect_uri",
    "code_verifier",
    "username",
    "password",
    "client_assertion",
    "client_assertion_type",
    "audience",
    "resource",
];

fn parameter_names(cx: &Ctx<'_>) -> Judged {
    static NORMALIZED: OnceLock<Vec<String>> = OnceLock::new();
    let normalized_rfc = NORMALIZED.get_or_init(|| {
        RFC_PARAMETERS
            .iter()
            .map(|rfc| normalized_name(rfc).collect())
            .collect()
    });
    // Normalized RFC names are distinct, so a name spelled as the RFC spells
    // one is no other's renaming.
    let renamed: BTreeSet<String> = cx
        .params
        .iter()
        .filter(|p| !RFC_PARAMETERS.contains(&&*p.name))
        .filter_map(|p| {
            RFC_PARAMETERS
                .iter()
                .zip(normalized_rfc)
                .find(|(_, normal)| normalizes_to(&p.name, normal))
                .map(|(rfc, _)| format!("`{}` for `{rfc}`", p.name))
        })
        .collect();
    if renamed.is_empty() {
        Judged::Pass("RFC parameters keep their names".into())
    } else {
        Judged::Violated(
            format!(
                "renamed: {}",
                renamed.into_iter().collect::<Vec<_>>().join(", ")
            )
            .into(),
        )
    }
}

// ---------------------------------------------------------------------------
// Grant rules.

/// `not_this` is the text for another grant: `not a {grant} grant`.
fn discouraged_grant(cx: &Ctx<'_>, grant: &str, not_this: &'static str) -> Judged {
    if !cx.grant_is(grant) {
        return Judged::NotApplicable(not_this.into());
    }
    let issued = cx.token.is_some_and(|view| {
        view.object
            .get("access_token")
            .is_some_and(Value::is_string)
    });
    if issued {
        Judged::Violated(format!("the provider issued a token for the {grant} grant").into())
    } else {
        Judged::Pass(cx.say(|| {
            format!(
                "the provider did not issue a token for the {grant} grant (HTTP {})",
                cx.status()
            )
        }))
    }
}

fn password_grant(cx: &Ctx<'_>) -> Judged {
    discouraged_grant(cx, "password", "not a password grant")
}

/// The grant types RFC 6749 defines for the token endpoint (§4.1.3,
/// §4.3.2, §4.4.2, §6); any other is an extension grant (§4.5).
const RFC6749_GRANT_TYPES: &[&str] = &[
    "authorization_code",
    "password",
    "client_credentials",
    "refresh_token",
];

fn extension_grant_uri(cx: &Ctx<'_>) -> Judged {
    let Some(grant) = cx.grant_type.as_deref() else {
        return Judged::NotApplicable("no grant_type".into());
    };
    if RFC6749_GRANT_TYPES.contains(&grant) {
        return Judged::NotApplicable(cx.say(|| format!("`{grant}` is an RFC 6749 grant type")));
    }
    if url::Url::parse(grant).is_ok() {
        return Judged::Pass(cx.say(|| {
            format!(
                "the extension grant `{}` is an absolute URI",
                grant.escape_debug()
            )
        }));
    }
    let issued = cx.token.is_some_and(|view| {
        view.object
            .get("access_token")
            .is_some_and(Value::is_string)
    });
    if issued {
        Judged::Violated(
            format!(
                "the provider issued a token for grant_type `{}`, which is neither an RFC 6749 grant type nor an absolute URI",
                grant.escape_debug()
            )
            .into(),
        )
    } else {
        Judged::Pass(cx.say(|| {
            format!(
                "the provider refused grant_type `{}`, which is not an absolute URI (HTTP {})",
                grant.escape_debug(),
                cx.status()
            )
        }))
    }
}

// ---------------------------------------------------------------------------
// Success rules.

macro_rules! success_token {
    ($cx:expr) => {
        match $cx.success_token() {
            Ok(view) => view,
            Err(judged) => return judged,
        }
    };
}

fn client_credentials_no_refresh(cx: &Ctx<'_>) -> Judged {
    if !cx.grant_is("client_credentials") {
        return Judged::NotApplicable("not a client_credentials grant".into());
    }
    let view = success_token!(cx);
    match view.refresh_token {
        None | Some(Value::Null) => Judged::Pass("no refresh token".into()),
        Some(_) => Judged::Violated("a refresh token came with a client_credentials token".into()),
    }
}

fn status_200(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    match cx.status() {
        200 => Judged::Pass("HTTP 200".into()),
        other => Judged::Violated(format!("HTTP {other}").into()),
    }
}

fn success_content_type(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    content_type_is_json(cx)
}

fn content_type_is_json(cx: &Ctx<'_>) -> Judged {
    match cx.facts.response.header("content-type") {
        None => Judged::Violated("no Content-Type".into()),
        Some(value) if media_type(Some(value)) == "application/json" => {
            Judged::Pass(cx.say(|| format!("Content-Type {value}")))
        }
        Some(value) => Judged::Violated(format!("Content-Type {value}").into()),
    }
}

fn no_envelope(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.envelope {
        Some(key) => Judged::Violated(
            format!("the token members are wrapped in `{key}`, not at the top level").into(),
        ),
        None if view.access_token.is_some() => {
            Judged::Pass("access_token is a top-level member".into())
        }
        None => Judged::NotApplicable("no access_token anywhere".into()),
    }
}

fn access_token(cx: &Ctx<'_>) -> Judged {
    let view = match cx.required_member_token("access_token") {
        Ok(view) => view,
        Err(judged) => return judged,
    };
    match view.access_token {
        Some(Value::String(token)) if !token.is_empty() => {
            Judged::Pass("a non-empty string (value not shown)".into())
        }
        Some(Value::String(_)) => Judged::Violated("`access_token` is empty".into()),
        Some(other) => Judged::Violated(format!("`access_token` is {}", json_kind(other)).into()),
        None => Judged::Violated("`access_token` is missing".into()),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn token_type(cx: &Ctx<'_>) -> Judged {
    let view = match cx.required_member_token("token_type") {
        Ok(view) => view,
        Err(judged) => return judged,
    };
    match view.token_type {
        Some(Value::String(kind)) if !kind.trim().is_empty() => {
            Judged::Pass(cx.say(|| {
                if kind == "Bearer" || !kind.eq_ignore_ascii_case("bearer") {
                    format!("`{kind}`")
                } else {
                    format!(
                        "`{kind}`; spelled `{kind}`, which is conformant (case-insensitive) but breaks clients that compare with `Bearer` exactly"
                    )
                }
            }))
        }
        Some(Value::String(_)) => Judged::Violated("`token_type` is empty".into()),
        Some(Value::Null) | None => Judged::Violated("`token_type` is missing (REQUIRED)".into()),
        Some(other) => Judged::Violated(format!("`token_type` is {}", json_kind(other)).into()),
    }
}

fn token_type_registered(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.token_type.and_then(Value::as_str) {
        Some(kind) if !kind.trim().is_empty() => {
            if REGISTERED_TOKEN_TYPES
                .iter()
                .any(|t| t.eq_ignore_ascii_case(kind.trim()))
            {
                Judged::Pass(cx.say(|| format!("`{kind}` is registered")))
            } else if kind.contains(':') && url::Url::parse(kind.trim()).is_ok() {
                Judged::Pass(cx.say(|| format!("`{kind}` is an absolute URI (§8.1)")))
            } else {
                Judged::Violated(format!(
                    "`{kind}` is not a registered access token type (clients MUST NOT use a type they do not understand)"
                ).into())
            }
        }
        _ => Judged::NotApplicable("no token_type".into()),
    }
}

fn expires_in_present(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.expires_in {
        None | Some(Value::Null) => Judged::Violated("no `expires_in`".into()),
        Some(_) => Judged::Pass("`expires_in` is present".into()),
    }
}

fn expires_in_number(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.expires_in {
        None | Some(Value::Null) => Judged::NotApplicable("no `expires_in`".into()),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(seconds) if seconds < 0.0 => Judged::Violated(
                format!("{n} is negative; expires-in = 1*DIGIT (Appendix A.14)").into(),
            ),
            Some(seconds) if seconds.fract() != 0.0 => Judged::Violated(
                format!(
                    "{n} is not a whole number of seconds; expires-in = 1*DIGIT (Appendix A.14)"
                )
                .into(),
            ),
            _ => Judged::Pass(cx.say(|| format!("the number {n}"))),
        },
        Some(Value::String(s)) => {
            Judged::Violated(format!("the string {s:?}, not a JSON number").into())
        }
        Some(other) => Judged::Violated(format!("{}, not a JSON number", json_kind(other)).into()),
    }
}

fn expires_in_range(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let seconds = match view.expires_in {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    };
    let Some(seconds) = seconds else {
        return Judged::NotApplicable("no numeric `expires_in`".into());
    };
    if seconds.fract() != 0.0 || seconds < 0.0 {
        Judged::NotApplicable(
            "not whole seconds (RFC6749-5.1-expires-in-number judges the syntax)".into(),
        )
    } else if seconds == 0.0 {
        Judged::Violated("a lifetime of 0 seconds: the token is expired when issued".into())
    } else if seconds > ONE_YEAR {
        Judged::Violated(format!("{seconds} seconds is more than a year; milliseconds?").into())
    } else if seconds > ONE_DAY && seconds % 60_000.0 == 0.0 && seconds % ONE_DAY != 0.0 {
        Judged::Violated(format!(
            "{seconds} looks like milliseconds: as seconds it is over a day, as milliseconds exactly {} minutes",
            seconds / 60_000.0
        ).into())
    } else {
        Judged::Pass(cx.say(|| format!("{seconds} seconds")))
    }
}

fn relative_expiry(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    if !view.has_any(ABSOLUTE_EXPIRY_MEMBERS) {
        return Judged::Pass("no absolute expiry member".into());
    }
    let absolute: Vec<String> = ABSOLUTE_EXPIRY_MEMBERS
        .iter()
        .filter(|name| view.object.get(**name).is_some_and(|v| !v.is_null()))
        .map(|name| format!("`{name}`"))
        .collect();
    if absolute.is_empty() {
        Judged::Pass("no absolute expiry member".into())
    } else {
        let beside = if view.expires_in.is_some() {
            "beside `expires_in`"
        } else {
            "instead of `expires_in`"
        };
        Judged::Violated(
            format!(
                "absolute expiry {} {beside}; an absolute time depends on the client's clock",
                absolute.join(", ")
            )
            .into(),
        )
    }
}

fn scope_format(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.scope {
        None | Some(Value::Null) => Judged::NotApplicable("no `scope` member".into()),
        Some(Value::String(scope)) if scope.is_empty() => Judged::Pass(
            "an empty string (no scope granted; the scope ABNF has no empty form, so this is noted, not failed)"
                .into(),
        ),
        Some(Value::String(scope)) => {
            if let Some(bad) = first_outside(scope, |c| c == ' ' || is_nqchar(c)) {
                Judged::Violated(format!("`scope` contains {bad}, outside scope-token characters").into())
            } else if scope.split(' ').any(str::is_empty) {
                Judged::Violated(format!(
                    "`scope` {scope:?} is not separated by single spaces"
                ).into())
            } else {
                Judged::Pass(cx.say(|| format!("`scope` {scope:?}")))
            }
        }
        Some(Value::Array(_)) => {
            Judged::Violated("`scope` is an array, not a space-delimited string".into())
        }
        Some(other) => Judged::Violated(format!("`scope` is {}", json_kind(other)).into()),
    }
}

fn header_has_directive(response: &HttpResponse, header: &str, directive: &str) -> bool {
    response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(header))
        .flat_map(|(_, value)| value.split(','))
        .any(|d| {
            d.trim()
                .split('=')
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case(directive))
        })
}

fn no_store(cx: &Ctx<'_>) -> Judged {
    if cx.class != Class::Success {
        return cx.not_success();
    }
    let response = cx.facts.response;
    let mut missing = Vec::new();
    if !header_has_directive(response, "cache-control", "no-store") {
        missing.push("`Cache-Control: no-store`");
    }
    if !header_has_directive(response, "pragma", "no-cache") {
        missing.push("`Pragma: no-cache`");
    }
    if missing.is_empty() {
        Judged::Pass("Cache-Control: no-store and Pragma: no-cache".into())
    } else {
        Judged::Violated(format!("missing {}", missing.join(" and ")).into())
    }
}

fn b64token(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let bearer = match view.token_type {
        Some(Value::String(kind)) => {
            kind.trim().eq_ignore_ascii_case("bearer") || kind.trim().is_empty()
        }
        _ => true,
    };
    if !bearer {
        return Judged::NotApplicable("not a bearer token".into());
    }
    match view.access_token.and_then(Value::as_str) {
        None => Judged::NotApplicable("no string access_token".into()),
        Some(token) if is_b64token(token) => Judged::Pass("the access token is a b64token".into()),
        Some(token) => Judged::Violated(
            format!(
                "the access token {}, so it cannot be sent as `Authorization: Bearer` as it is",
                b64token_problem(token)
            )
            .into(),
        ),
    }
}

/// VSCHAR (RFC 6749 Appendix A): %x20-7E.
fn is_vschar(c: char) -> bool {
    matches!(c, '\x20'..='\x7E')
}

fn refresh_token_syntax(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    match view.refresh_token {
        None | Some(Value::Null) => Judged::NotApplicable("no refresh_token".into()),
        Some(Value::String(token)) if token.is_empty() => {
            Judged::Violated("`refresh_token` is empty; refresh-token = 1*VSCHAR".into())
        }
        Some(Value::String(token)) => match token.chars().find(|c| !is_vschar(*c)) {
            None => Judged::Pass("`refresh_token` is 1*VSCHAR (value not shown)".into()),
            Some(c) => Judged::Violated(
                format!(
                    "`refresh_token` contains {}, outside VSCHAR (%x20-7E)",
                    if c.is_ascii() {
                        "a control character"
                    } else {
                        "a non-ASCII character"
                    }
                )
                .into(),
            ),
        },
        Some(other) => Judged::Violated(
            format!("`refresh_token` is {}, not a string", json_kind(other)).into(),
        ),
    }
}

/// How guessable a token looks; never holds the token itself.
struct Strength {
    length: usize,
    bits: f64,
    problem: Option<String>,
    kind: &'static str,
}

const MIN_TOKEN_LENGTH: usize = 20;
const MIN_TOKEN_BITS: f64 = 128.0;

fn token_strength(token: &str) -> Strength {
    if let Some(strength) = jwt_strength(token) {
        return strength;
    }
    let characters = |text: &str| {
        if text.is_ascii() {
            text.len()
        } else {
            text.chars().count()
        }
    };
    let length = characters(token);
    let body = token.trim_end_matches('=');
    let body_length = characters(body);
    let alphabet = alphabet_size(body);
    let uuid = is_uuid(token);
    let bits = if uuid {
        122.0
    } else {
        body_length as f64 * alphabet.log2()
    };
    let shannon = shannon_bits_per_char(body);
    let ceiling = alphabet.log2().min((body_length.max(2) as f64).log2());
    let problem = if length < MIN_TOKEN_LENGTH {
        Some(format!("shorter than {MIN_TOKEN_LENGTH} characters"))
    } else if bits < MIN_TOKEN_BITS {
        Some(format!(
            "about {bits:.0} bits estimated, under {MIN_TOKEN_BITS:.0}"
        ))
    } else if shannon < 0.6 * ceiling {
        Some(format!(
            "repetitive: {shannon:.1} bits per character where random text of that alphabet and length has about {ceiling:.1}"
        ))
    } else {
        None
    };
    Strength {
        length,
        bits,
        problem,
        kind: if uuid { "a UUID" } else { "opaque" },
    }
}

/// A JWS is judged by its signature: unsigned (`alg: none` or an empty
/// signature) or a signature under 128 bits is weak.
fn jwt_strength(token: &str) -> Option<Strength> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header.trim_end_matches('='))
        .ok()?;
    let header: Value = serde_json::from_slice(&header).ok()?;
    let alg = header.get("alg")?.as_str()?;
    let signature = signature.trim_end_matches('=');
    let bits = signature.len() as f64 * 6.0;
    let problem = if alg.eq_ignore_ascii_case("none") || signature.is_empty() {
        Some("an unsigned JWT (alg none or no signature)".to_owned())
    } else if bits < MIN_TOKEN_BITS {
        Some(format!("a JWT whose signature has only {bits:.0} bits"))
    } else {
        None
    };
    Some(Strength {
        length: token.len(),
        bits,
        problem,
        kind: "a JWT",
    })
}

fn is_uuid(token: &str) -> bool {
    token.len() == 36
        && token.split('-').count() == 5
        && token
            .split('-')
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The size of the alphabet a token's characters seem drawn from.
fn alphabet_size(token: &str) -> f64 {
    let (mut letters_hex, mut digit, mut lower, mut upper, mut safe, mut other) =
        (true, false, false, false, false, false);
    for c in token.bytes() {
        letters_hex &= !c.is_ascii_alphabetic() || c.is_ascii_hexdigit();
        digit |= c.is_ascii_digit();
        lower |= c.is_ascii_lowercase();
        upper |= c.is_ascii_uppercase();
        let url_safe = matches!(c, b'-' | b'_' | b'+' | b'/' | b'.' | b'~');
        safe |= url_safe;
        other |= c.is_ascii_punctuation() && !url_safe;
    }
    let mut size = 0.0;
    if digit {
        size += 10.0;
    }
    for present in [lower, upper] {
        if present {
            size += if letters_hex { 6.0 } else { 26.0 };
        }
    }
    if safe {
        size += 2.0;
    }
    if other {
        size += 32.0;
    }
    if !token.is_ascii() {
        size += 64.0;
    }
    f64::max(size, 1.0)
}

fn shannon_bits_per_char(text: &str) -> f64 {
    // H = -Σ p·log2(p) with p = c/n, computed as log2(n) - Σ c·log2(c) / n:
    // a character seen once (most, in a random token) adds nothing to the
    // sum, so needs no logarithm.
    let mut ascii = [0u32; 128];
    let mut others: BTreeMap<char, u32> = BTreeMap::new();
    let total = if text.is_ascii() {
        for byte in text.bytes() {
            ascii[usize::from(byte)] += 1;
        }
        text.len()
    } else {
        let mut total = 0;
        for c in text.chars() {
            match usize::try_from(u32::from(c)) {
                Ok(code) if code < 128 => ascii[code] += 1,
                _ => *others.entry(c).or_default() += 1,
            }
            total += 1;
        }
        total
    };
    if total == 0 {
        return 0.0;
    }
    let repeated: f64 = ascii
        .iter()
        .chain(others.values())
        .filter(|count| **count > 1)
        .map(|&count| f64::from(count) * f64::from(count).log2())
        .sum();
    (total as f64).log2() - repeated / total as f64
}

fn token_entropy(cx: &Ctx<'_>) -> Judged {
    let view = success_token!(cx);
    let judged = [
        ("access_token", view.access_token),
        ("refresh_token", view.refresh_token),
    ]
    .map(|(member, value)| {
        let token = value.and_then(Value::as_str)?;
        Some((member, token_strength(token)))
    });
    let judged = judged.iter().flatten();
    if judged
        .clone()
        .any(|(_, strength)| strength.problem.is_some())
    {
        let weak: Vec<String> = judged
            .filter_map(|(member, strength)| {
                let problem = strength.problem.as_ref()?;
                Some(format!(
                    "`{member}` ({}, {} characters): {problem}",
                    strength.kind, strength.length
                ))
            })
            .collect();
        return Judged::Violated(weak.join("; ").into());
    }
    if judged.clone().next().is_none() {
        return Judged::NotApplicable("no string token members".into());
    }
    Judged::Pass(cx.say(|| {
        let seen: Vec<String> = judged
            .map(|(member, strength)| {
                format!(
                    "`{member}` ({}, {} characters, about {:.0} bits)",
                    strength.kind, strength.length, strength.bits
                )
            })
            .collect();
        seen.join("; ")
    }))
}

// ---------------------------------------------------------------------------
// Error rules.

macro_rules! error_json {
    ($cx:expr) => {
        match $cx.error_json() {
            Ok(json) => json,
            Err(judged) => return judged,
        }
    };
}

fn error_status(cx: &Ctx<'_>) -> Judged {
    let status = cx.status();
    match cx.class {
        Class::Success => Judged::NotApplicable(cx.say(|| format!("a success (HTTP {status})"))),
        Class::ServerError => Judged::NotApplicable(
            cx.say(|| format!("HTTP {status} is a server failure, not a §5.2 error response")),
        ),
        Class::HttpSemantics => Judged::Pass(cx.say(|| {
            format!(
                "HTTP {status}: HTTP semantics ({}), not an OAuth error",
                match status {
                    404 | 405 => "a method other than POST",
                    413 => "content too large",
                    _ => "too many requests",
                }
            )
        })),
        Class::Error => match (status, cx.error_code()) {
            (400, _) => Judged::Pass("HTTP 400".into()),
            (401, Some(code)) if code != "invalid_client" => Judged::Violated(
                format!("HTTP 401 for `{code}`; 401 is for invalid_client only, the rest is 400")
                    .into(),
            ),
            (401, Some(_)) => Judged::Pass("HTTP 401 for invalid_client".into()),
            (401, None) => Judged::Pass("HTTP 401 (a client authentication failure)".into()),
            (200..=299, _) => {
                Judged::Violated(format!("an error answered with HTTP {status}").into())
            }
            _ => Judged::Violated(
                format!("HTTP {status}; §5.2 errors are 400, or 401 for invalid_client").into(),
            ),
        },
    }
}

fn error_content_type(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    if cx.is_problem() {
        return Judged::NotApplicable("problem details (their own check)".into());
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    content_type_is_json(cx)
}

fn error_member(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    if cx.is_errors_array() {
        return Judged::NotApplicable("an `errors` array (its own check)".into());
    }
    if cx.is_problem() {
        return Judged::NotApplicable("problem details (their own check)".into());
    }
    if let Some(judged) = cx.negotiated_away() {
        return judged;
    }
    match json {
        None => Judged::Violated("the body is not JSON".into()),
        Some(json) => match json.get("error") {
            Some(Value::String(_)) => Judged::Pass("a string `error`".into()),
            Some(other) => Judged::Violated(format!("`error` is {}", json_kind(other)).into()),
            None if json.is_object() => Judged::Violated("no `error` member".into()),
            None => Judged::Violated(format!("the body is {}", json_kind(json)).into()),
        },
    }
}

fn no_errors_array(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    if cx.is_errors_array() {
        let count = json
            .and_then(|j| j.get("errors"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        Judged::Violated(
            format!(
                "an `errors` array ({count} item{}) instead of `error`",
                if count == 1 { "" } else { "s" }
            )
            .into(),
        )
    } else {
        Judged::Pass("no `errors` array in place of `error`".into())
    }
}

fn no_problem_details(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    if cx.is_problem() {
        Judged::Violated(
            format!(
                "problem details (Content-Type {}) instead of an `error` member",
                cx.facts.response.header("content-type").unwrap_or("absent")
            )
            .into(),
        )
    } else {
        Judged::Pass("not problem details".into())
    }
}

fn error_code(cx: &Ctx<'_>) -> Judged {
    error_json!(cx);
    match cx.error_code() {
        None => Judged::NotApplicable("no string `error`".into()),
        Some(code) if REGISTERED_ERRORS.contains(&code) => {
            Judged::Pass(cx.say(|| format!("`{code}`")))
        }
        Some(code) => Judged::Violated(
            format!(
                "`{}` is not a registered token-endpoint error code",
                code.escape_debug()
            )
            .into(),
        ),
    }
}

fn error_text_syntax(cx: &Ctx<'_>) -> Judged {
    let json = error_json!(cx);
    let Some(code) = cx.error_code() else {
        return Judged::NotApplicable("no string `error`".into());
    };
    let mut problems = Vec::new();
    if code.is_empty() {
        problems.push("`error` is empty".to_owned());
    } else if let Some(bad) = first_outside(code, is_nqschar) {
        problems.push(format!("`error` contains {bad}"));
    }
    let json = json.unwrap_or(&Value::Null);
    match json.get("error_description") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => {
            if let Some(bad) = first_outside(text, is_nqschar) {
                problems.push(format!("`error_description` contains {bad}"));
            }
        }
        Some(other) => problems.push(format!("`error_description` is {}", json_kind(other))),
    }
    match json.get("error_uri") {
        None | Some(Value::Null) => {}
        Some(Value::String(uri)) => {
            if let Some(bad) = first_outside(uri, is_nqchar) {
                problems.push(format!("`error_uri` contains {bad}"));
            } else if !is_uri_reference(uri) {
                problems.push("`error_uri` is not a URI-reference".to_owned());
            }
        }
        Some(other) => problems.push(format!("`error_uri` is {}", json_kind(other))),
    }
    if problems.is_empty() {
        Judged::Pass("error, error_description and error_uri keep to their character sets".into())
    } else {
        Judged::Violated(
            format!(
                "{} (allowed: %x20-21 / %x23-5B / %x5D-7E)",
                problems.join("; ")
            )
            .into(),
        )
    }
}

/// Whether `text` is a URI-reference (RFC 3986 §4.1): an absolute URI, or a
/// relative reference that resolves against a base.
fn is_uri_reference(text: &str) -> bool {
    static BASE: OnceLock<Option<url::Url>> = OnceLock::new();
    url::Url::parse(text).is_ok()
        || BASE
            .get_or_init(|| url::Url::parse("https://base.invalid/").ok())
            .as_ref()
            .is_some_and(|base| base.join(text).is_ok())
}

fn basic_challenge(cx: &Ctx<'_>) -> Judged {
    if cx.basic.is_none() {
        return Judged::NotApplicable("the client did not use Basic".into());
    }
    error_json!(cx);
    let status = cx.status();
    if status != 401 && cx.error_code() != Some("invalid_client") {
        return Judged::NotApplicable(
            cx.say(|| format!("HTTP {status} is not a client authentication failure")),
        );
    }
    if status != 401 {
        return Judged::Violated(format!(
            "invalid_client with HTTP {status} to a client that used Basic; it must be 401 with a Basic challenge"
        ).into());
    }
    let challenges = challenges(cx.facts.response);
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("basic"))
    {
        Judged::Pass("HTTP 401 with a Basic challenge".into())
    } else if challenges.is_empty() {
        Judged::Violated("HTTP 401 without WWW-Authenticate to a client that used Basic".into())
    } else {
        Judged::Violated(
            format!(
                "WWW-Authenticate offers {} to a client that used Basic",
                schemes(&challenges)
            )
            .into(),
        )
    }
}

// ---------------------------------------------------------------------------
// Resource rules.

fn authorization_header(cx: &Ctx<'_>) -> Judged {
    // Malformed Bearer credentials break the header's syntax; another scheme
    // or a token in the query goes against a SHOULD.
    let mut broken = Vec::new();
    let mut discouraged = Vec::new();
    let mut fine = false;
    for value in request_headers(cx.facts.request, "authorization") {
        let (scheme, rest) = split_scheme(value);
        if !scheme.eq_ignore_ascii_case("bearer") {
            discouraged.push(format!(
                "the Authorization header has {}, not `Bearer`",
                shown_scheme(scheme)
            ));
        } else if !is_b64token(rest) {
            broken.push(format!("the Bearer credentials {}", b64token_problem(rest)));
        } else {
            fine = true;
        }
    }
    if cx
        .params
        .iter()
        .any(|p| p.place == Place::Query && p.name == "access_token")
    {
        discouraged.push("the token is in the URL query (`access_token`)".into());
    }
    let in_body = cx
        .params
        .iter()
        .any(|p| p.place == Place::Body && p.name == "access_token");
    if !broken.is_empty() {
        broken.extend(discouraged);
        return Judged::Violated(broken.join("; ").into());
    }
    if !discouraged.is_empty() {
        return Judged::Warned(discouraged.join("; ").into());
    }
    match (fine, in_body) {
        (true, _) => Judged::Pass("`Authorization: Bearer` with a b64token".into()),
        (false, true) => Judged::Pass("the token is a form body parameter (RFC 6750 §2.2)".into()),
        (false, false) => Judged::NotApplicable("no token presented".into()),
    }
}

fn bearer_challenge(cx: &Ctx<'_>) -> Judged {
    let status = cx.status();
    if status != 401 && !(status == 403 && cx.bearer_presented()) {
        return Judged::NotApplicable(cx.say(|| format!("HTTP {status}")));
    }
    let challenges = challenges(cx.facts.response);
    if challenges
        .iter()
        .any(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    {
        Judged::Pass(cx.say(|| format!("HTTP {status} with a Bearer challenge")))
    } else if challenges.is_empty() {
        Judged::Violated(format!("HTTP {status} without WWW-Authenticate").into())
    } else {
        Judged::Violated(
            format!(
                "HTTP {status}: WWW-Authenticate offers {}",
                schemes(&challenges)
            )
            .into(),
        )
    }
}

fn bearer_challenge_of(cx: &Ctx<'_>) -> Option<Challenge> {
    challenges(cx.facts.response)
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

fn invalid_token_error(cx: &Ctx<'_>) -> Judged {
    if cx.status() != 401 {
        return Judged::NotApplicable(cx.say(|| format!("HTTP {}", cx.status())));
    }
    let Some(challenge) = bearer_challenge_of(cx) else {
        return Judged::NotApplicable("no Bearer challenge (its own check)".into());
    };
    let error = challenge.param("error");
    match (cx.bearer_presented(), error) {
        (true, Some("invalid_token" | "invalid_request")) => Judged::Pass(cx.say(|| {
            format!(
                "error=\"{}\" for the presented token",
                error.unwrap_or_default()
            )
        })),
        (true, Some(other)) => Judged::Violated(
            format!(
                "error=\"{}\" for a rejected token; expected invalid_token",
                other.escape_debug()
            )
            .into(),
        ),
        (true, None) => Judged::Violated("no error attribute for a rejected token".into()),
        (false, None) => Judged::Pass("no error code for a request without a Bearer token".into()),
        (false, Some(other)) => Judged::Violated(
            format!(
                "error=\"{}\" for a request without a Bearer token, which should get no error code",
                other.escape_debug()
            )
            .into(),
        ),
    }
}

fn insufficient_scope(cx: &Ctx<'_>) -> Judged {
    if cx.status() != 403 || !cx.bearer_presented() {
        return Judged::NotApplicable(
            cx.say(|| format!("not a 403 to a Bearer token (HTTP {})", cx.status())),
        );
    }
    match bearer_challenge_of(cx) {
        Some(challenge) if challenge.param("error") == Some("insufficient_scope") => {
            Judged::Pass("HTTP 403 with error=\"insufficient_scope\"".into())
        }
        Some(challenge) => Judged::Violated(
            format!(
                "HTTP 403 with a Bearer challenge whose error is {}",
                challenge.param("error").map_or_else(
                    || "absent".to_owned(),
                    |e| format!("\"{}\"", e.escape_debug())
                )
            )
            .into(),
        ),
        None => Judged::NotApplicable("no Bearer challenge (RFC6750-3-bearer-challenge)".into()),
    }
}

// ---------------------------------------------------------------------------
// Sequences.

/// What one exchange of a case contributes to sequence checks. Token values
/// are held in memory to link steps, and never shown.
struct Step<'c> {
    number: usize,
    kind: ExchangeKind,
    success: bool,
    grant: Option<&'c str>,
    sent_refresh: Option<&'c str>,
    requested_scope: Option<BTreeSet<String>>,
    stated_scope: Option<BTreeSet<String>>,
    issued_access: Option<&'c str>,
    issued_refresh: Option<&'c str>,
    lifetime: Option<u64>,
    clock_offset: u64,
    public_client: bool,
    sender_constrained: bool,
    bearer_sent: Option<&'c str>,
    status: u16,
}

impl Step<'_> {
    fn is_refresh(&self) -> bool {
        self.kind == Token && self.grant == Some("refresh_token")
    }
}

fn scope_set(values: &[Cow<'_, str>]) -> BTreeSet<String> {
    values
        .iter()
        .flat_map(|v| v.split_whitespace())
        .map(str::to_owned)
        .collect()
}

fn analyse<'c>(contexts: &'c [Ctx<'_>]) -> Vec<Step<'c>> {
    contexts
        .iter()
        .enumerate()
        .map(|(index, cx)| {
            let facts = &cx.facts;
            let param = |name: &str| cx.params.iter().find(|p| p.name == name);
            let requested_scope = cx
                .params
                .iter()
                .find(|p| names_scope(&p.name))
                .map(|p| scope_set(&p.values))
                .filter(|s| !s.is_empty());
            let view = cx.token;
            let member = |name: &str| {
                view.as_ref()
                    .and_then(|v| v.object.get(name))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            };
            let stated_scope = view
                .as_ref()
                .and_then(|v| v.object.get("scope"))
                .and_then(grantspec_token::scope_values)
                .map(|scopes| scopes.into_iter().collect());
            let lifetime = view
                .as_ref()
                .and_then(|v| v.object.get("expires_in"))
                .and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                });
            let clock_offset = request_headers(facts.request, CLOCK_OFFSET_HEADER)
                .find_map(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let public_client = cx.basic.is_none()
                && param("client_secret").is_none()
                && param("client_assertion").is_none();
            let sender_constrained = request_headers(facts.request, "dpop").next().is_some();
            let bearer_sent = request_headers(facts.request, "authorization")
                .map(split_scheme)
                .find(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token);
            Step {
                number: index + 1,
                kind: facts.kind,
                success: cx.class == Class::Success,
                grant: cx.grant_type.as_deref(),
                sent_refresh: param("refresh_token").and_then(Param::first_value),
                requested_scope,
                stated_scope,
                issued_access: member("access_token"),
                issued_refresh: member("refresh_token"),
                lifetime,
                clock_offset,
                public_client,
                sender_constrained,
                bearer_sent,
                status: facts.response.status,
            }
        })
        .collect()
}

/// Where a refresh token came from: the scope of the original grant, and
/// whether it was issued by a refresh (rotated).
struct Origin {
    scope: Option<BTreeSet<String>>,
    rotated: bool,
}

/// For each step that sends a refresh token issued earlier in the case, the
/// origin of that token.
fn refresh_origins(steps: &[Step<'_>]) -> Vec<Option<Origin>> {
    let mut known: Vec<(&str, Origin)> = Vec::new();
    let mut origins = Vec::new();
    for step in steps {
        let origin = step.sent_refresh.as_ref().and_then(|sent| {
            known
                .iter()
                .rev()
                .find(|(token, _)| token == sent)
                .map(|(_, o)| Origin {
                    scope: o.scope.clone(),
                    rotated: o.rotated,
                })
        });
        if let (true, Some(issued)) = (step.success, &step.issued_refresh) {
            let issued_origin = if step.is_refresh() {
                Origin {
                    scope: origin.as_ref().and_then(|o| o.scope.clone()),
                    rotated: true,
                }
            } else {
                Origin {
                    scope: step
                        .stated_scope
                        .clone()
                        .or_else(|| step.requested_scope.clone()),
                    rotated: false,
                }
            };
            known.push((issued, issued_origin));
        }
        origins.push(origin);
    }
    origins
}

fn show_scope(scope: &BTreeSet<String>) -> String {
    if scope.is_empty() {
        "(none)".to_owned()
    } else {
        format!("`{}`", scope.iter().cloned().collect::<Vec<_>>().join(" "))
    }
}

/// Instances of a sequence check across a case.
#[derive(Default)]
struct Tally {
    violations: Vec<String>,
    warnings: Vec<String>,
    passes: Vec<String>,
    not_applicable: Option<&'static str>,
}

impl Tally {
    fn finding(self, check: &'static Check, position: usize, details: Details) -> Finding {
        let judged = if !self.violations.is_empty() {
            Judged::Violated(self.violations.join("; ").into())
        } else if !self.warnings.is_empty() {
            Judged::Warned(self.warnings.join("; ").into())
        } else if !self.passes.is_empty() {
            Judged::Pass(self.passes.join("; ").into())
        } else {
            Judged::NotApplicable(
                self.not_applicable
                    .unwrap_or("nothing in the case to judge")
                    .into(),
            )
        };
        finding(check, position, judged, details)
    }
}

fn refresh_scope_not_wider(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no successful refresh of a token with a known scope"),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            true,
            Some(Origin {
                scope: Some(original),
                ..
            }),
        ) = (step.is_refresh(), step.success, origin)
        else {
            continue;
        };
        let granted = step
            .stated_scope
            .clone()
            .or_else(|| step.requested_scope.clone())
            .unwrap_or_else(|| original.clone());
        if granted.is_subset(&original) {
            tally.passes.push(format!(
                "exchange #{}: granted {} within the original {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        } else {
            tally.violations.push(format!(
                "exchange #{}: granted {}, wider than the original {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        }
    }
    tally
}

fn wider_scope_refused(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no refresh asked for more than the original scope"),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            Some(requested),
            Some(Origin {
                scope: Some(original),
                ..
            }),
        ) = (step.is_refresh(), &step.requested_scope, origin)
        else {
            continue;
        };
        if requested.is_subset(&original) {
            continue;
        }
        let asked = format!(
            "exchange #{} asked for {} beyond the original {}",
            step.number,
            show_scope(requested),
            show_scope(&original)
        );
        match (&step.stated_scope, step.success) {
            (_, false) => tally
                .passes
                .push(format!("{asked} and was refused (HTTP {})", step.status)),
            (Some(stated), true) if stated.is_subset(&original) => tally.warnings.push(format!(
                "{asked} and was granted {} instead of refused",
                show_scope(stated)
            )),
            (_, true) => tally.violations.push(format!("{asked} and got it")),
        }
    }
    tally
}

fn rotation_keeps_scope(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no refresh with a rotated refresh token of known scope, asking for no scope",
        ),
        ..Tally::default()
    };
    for (step, origin) in steps.iter().zip(refresh_origins(steps)) {
        let (
            true,
            true,
            None,
            Some(Origin {
                scope: Some(original),
                rotated: true,
            }),
        ) = (
            step.is_refresh(),
            step.success,
            &step.requested_scope,
            origin,
        )
        else {
            continue;
        };
        let granted = step
            .stated_scope
            .clone()
            .unwrap_or_else(|| original.clone());
        if granted == original {
            tally.passes.push(format!(
                "exchange #{}: the rotated refresh token still grants {}",
                step.number,
                show_scope(&original)
            ));
        } else {
            tally.violations.push(format!(
                "exchange #{}: the rotated refresh token granted {}, the original grant was {}",
                step.number,
                show_scope(&granted),
                show_scope(&original)
            ));
        }
    }
    tally
}

fn bearer_accepted(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some(
            "no resource call presented the latest access token within its lifetime",
        ),
        ..Tally::default()
    };
    let mut latest: Option<&Step<'_>> = None;
    for step in steps {
        if step.kind == Token && step.success && step.issued_access.is_some() {
            latest = Some(step);
            continue;
        }
        let (Resource, Some(sent), Some(issuer)) = (step.kind, &step.bearer_sent, latest) else {
            continue;
        };
        if issuer.issued_access.as_ref() != Some(sent) {
            continue;
        }
        let Some(lifetime) = issuer.lifetime else {
            continue;
        };
        if step.clock_offset.saturating_sub(issuer.clock_offset) >= lifetime {
            continue;
        }
        let what = format!(
            "exchange #{}: the access token from exchange #{}",
            step.number, issuer.number
        );
        match step.status {
            200..=299 | 403 => tally
                .passes
                .push(format!("{what} was accepted (HTTP {})", step.status)),
            401 => tally.violations.push(format!(
                "{what}, within its lifetime, was refused with HTTP 401"
            )),
            _ => {}
        }
    }
    tally
}

fn refresh_rotation(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("no refresh by a public client whose rotation could be seen"),
        ..Tally::default()
    };
    for (index, step) in steps.iter().enumerate() {
        let (true, true, true, Some(sent)) = (
            step.is_refresh(),
            step.success,
            step.public_client,
            &step.sent_refresh,
        ) else {
            continue;
        };
        if step.sender_constrained {
            tally.passes.push(format!(
                "exchange #{}: the refresh is sender-constrained (DPoP)",
                step.number
            ));
            continue;
        }
        if step.issued_refresh.as_ref() == Some(sent) {
            tally.violations.push(format!(
                "exchange #{}: a public client's refresh returned the same refresh token",
                step.number
            ));
            continue;
        }
        let reuse = steps[index + 1..]
            .iter()
            .find(|later| later.is_refresh() && later.sent_refresh.as_ref() == Some(sent));
        match (reuse, &step.issued_refresh) {
            (Some(later), _) if later.success => tally.violations.push(format!(
                "exchange #{}: the refresh token used at exchange #{} was accepted again",
                later.number, step.number
            )),
            (Some(later), _) => tally.passes.push(format!(
                "exchange #{}: the refresh token used at exchange #{} was refused on reuse (HTTP {})",
                later.number, step.number, later.status
            )),
            (None, Some(_)) => tally.passes.push(format!(
                "exchange #{}: the refresh token was rotated",
                step.number
            )),
            (None, None) => {}
        }
    }
    tally
}

fn distinct_access_tokens(steps: &[Step<'_>]) -> Tally {
    let mut tally = Tally {
        not_applicable: Some("fewer than two successful token responses with an access token"),
        ..Tally::default()
    };
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for step in steps {
        let (Token, true, Some(access)) = (step.kind, step.success, step.issued_access) else {
            continue;
        };
        match seen.iter().find(|(token, _)| *token == access) {
            Some((_, first)) => tally.violations.push(format!(
                "exchanges #{first} and #{} were answered the same access token",
                step.number
            )),
            None => seen.push((access, step.number)),
        }
    }
    if tally.violations.is_empty() && seen.len() > 1 {
        tally.passes.push(format!(
            "{} successful token responses, each with its own access token",
            seen.len()
        ));
    }
    tally
}

#[cfg(test)]
mod tests {
    //! Every check has a fixture exchange on which it breaks and one on
    //! which it holds. Secrets in fixtures contain `SECRET` and tokens start
    //! with `TKN`, so a test can prove no detail shows them.

    use super::*;
    use grantspec_token::{ExposeSecret, Text, basic_authorization};
    use serde_json::json;

    const ENDPOINT: &str = "https://provider.test/oauth/token";
    const RESOURCE: &str = "https://provider.test/api/ping";

    /// A deterministic high-entropy token: `TKN` and 40 base62 characters.
    fn strong(seed: u64) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut out = String::from("TKN");
        for _ in 0..40 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            out.push(char::from(ALPHABET[((state >> 33) % 62) as usize]));
        }
        out
    }

    fn text(name: &str, value: &str) -> Text {
        if SECRET_PARAMS.contains(&name) {
            Text::secret(value)
        } else {
            Text::from(value)
        }
    }

    fn form(pairs: &[(&str, &str)]) -> Body {
        Body::Form(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), text(n, v)))
                .collect(),
        )
    }

    fn json_body(pairs: &[(&str, &str)]) -> Body {
        Body::Json(
            pairs
                .iter()
                .map(|(n, v)| ((*n).to_owned(), JsonField::Text(text(n, v))))
                .collect(),
        )
    }

    fn request(
        method: &str,
        url: &str,
        headers: Vec<(&str, Text)>,
        body: Option<Body>,
    ) -> HttpRequest {
        let mut all = vec![("accept".to_owned(), Text::from("application/json"))];
        all.extend(headers.into_iter().map(|(n, v)| (n.to_owned(), v)));
        HttpRequest {
            method: method.to_owned(),
            url: url::Url::parse(url).unwrap(),
            headers: all,
            body,
        }
    }

    fn post(body: Body) -> HttpRequest {
        request("POST", ENDPOINT, Vec::new(), Some(body))
    }

    fn cc_request() -> HttpRequest {
        post(form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "client-1"),
            ("client_secret", "SECRET-1"),
        ]))
    }

    fn basic(id: &str, secret: &str) -> (&'static str, Text) {
        (
            "authorization",
            Text::Secret(basic_authorization(id, secret)),
        )
    }

    fn raw_basic(pair: &str) -> (&'static str, Text) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        ("authorization", Text::secret(format!("Basic {encoded}")))
    }

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    const JSON_NO_STORE: &[(&str, &str)] = &[
        ("content-type", "application/json;charset=UTF-8"),
        ("cache-control", "no-store"),
        ("pragma", "no-cache"),
    ];
    const JSON: &[(&str, &str)] = &[("content-type", "application/json")];

    fn ok(body: Value) -> HttpResponse {
        response(200, JSON_NO_STORE, &body.to_string())
    }

    fn error(status: u16, body: Value) -> HttpResponse {
        response(status, JSON, &body.to_string())
    }

    /// A conformant token response, with `changes` merged in (null removes).
    fn token_with(changes: Value) -> Value {
        let mut token = json!({
            "access_token": strong(1),
            "token_type": "Bearer",
            "expires_in": 3600,
        });
        if let (Some(map), Some(changes)) = (token.as_object_mut(), changes.as_object()) {
            for (key, value) in changes {
                if value.is_null() {
                    map.remove(key);
                } else {
                    map.insert(key.clone(), value.clone());
                }
            }
        }
        token
    }

    struct Fx {
        request: HttpRequest,
        response: HttpResponse,
        grant: Option<&'static str>,
        shaped: bool,
        kind: ExchangeKind,
    }

    fn token(request: HttpRequest, response: HttpResponse, grant: &'static str) -> Fx {
        Fx {
            request,
            response,
            grant: Some(grant),
            shaped: true,
            kind: Token,
        }
    }

    fn cc(response: HttpResponse) -> Fx {
        token(cc_request(), response, "client_credentials")
    }

    fn overridden(mut fx: Fx) -> Fx {
        fx.shaped = false;
        fx
    }

    fn resource(headers: Vec<(&str, Text)>, response: HttpResponse) -> Fx {
        resource_at(RESOURCE, headers, response)
    }

    fn resource_at(url: &str, headers: Vec<(&str, Text)>, response: HttpResponse) -> Fx {
        Fx {
            request: request("GET", url, headers, None),
            response,
            grant: None,
            shaped: true,
            kind: Resource,
        }
    }

    fn bearer(token: &str) -> (&'static str, Text) {
        ("authorization", Text::secret(format!("Bearer {token}")))
    }

    fn password_login(scope: &str, refresh: &str) -> Fx {
        token(
            post(form(&[
                ("grant_type", "password"),
                ("client_id", "public-app"),
                ("username", "admin"),
                ("password", "SECRET-pw"),
                ("scope", scope),
            ])),
            ok(token_with(
                json!({ "refresh_token": refresh, "scope": scope }),
            )),
            "password",
        )
    }

    fn refresh(sent: &str, scope: Option<&str>, response: HttpResponse) -> Fx {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("client_id", "public-app"),
            ("refresh_token", sent),
        ];
        if let Some(scope) = scope {
            pairs.push(("scope", scope));
        }
        token(post(form(&pairs)), response, "refresh_token")
    }

    fn refreshed(access: &str, refresh: Option<&str>, scope: Option<&str>) -> HttpResponse {
        let mut changes = json!({ "access_token": access });
        if let Some(refresh) = refresh {
            changes["refresh_token"] = Value::from(refresh);
        }
        if let Some(scope) = scope {
            changes["scope"] = Value::from(scope);
        }
        ok(token_with(changes))
    }

    fn jwt(alg: &str, signature: &str) -> String {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.{signature}",
            b64(json!({ "alg": alg, "typ": "JWT" })),
            b64(json!({ "sub": "TKN-subject", "exp": 1 }))
        )
    }

    struct Fixture {
        name: &'static str,
        exchanges: Vec<Fx>,
        expect: Vec<(&'static str, Outcome)>,
    }

    fn fx(name: &'static str, exchanges: Vec<Fx>, expect: &[(&'static str, Outcome)]) -> Fixture {
        Fixture {
            name,
            exchanges,
            expect: expect.to_vec(),
        }
    }

    use Outcome::{Fail, NotApplicable as NA, Pass, Warn};

    fn fixtures() -> Vec<Fixture> {
        let (r1, r2, r3) = (strong(11), strong(12), strong(13));
        let (a1, a2, a3) = (strong(21), strong(22), strong(23));
        vec![
            // A conformant client_credentials exchange: nearly everything passes.
            fx(
                "conformant client_credentials",
                vec![cc(ok(token_with(json!({ "scope": "read write" }))))],
                &[
                    ("RFC6749-2.3.1-no-credentials-in-url", Pass),
                    ("RFC6749-2.3-one-auth-method", Pass),
                    ("RFC6749-3.2-post-method", Pass),
                    ("RFC6749-3.2-form-encoded-body", Pass),
                    ("RFC6749-3.2-no-repeated-parameters", Pass),
                    ("RFC6749-3.2-no-empty-parameters", Pass),
                    ("RFC6749-3.3-scope-parameter-name", NA),
                    ("RFC6749-4-parameter-names", Pass),
                    ("RFC6749-4.4.3-no-refresh-token", Pass),
                    ("RFC6749-5.1-status-200", Pass),
                    ("RFC6749-5.1-content-type", Pass),
                    ("RFC6749-5.1-no-envelope", Pass),
                    ("RFC6749-5.1-access-token", Pass),
                    ("RFC6749-5.1-token-type", Pass),
                    ("RFC6749-7.1-token-type-registered", Pass),
                    ("RFC6749-5.1-expires-in-present", Pass),
                    ("RFC6749-5.1-expires-in-number", Pass),
                    ("RFC6749-5.1-expires-in-range", Pass),
                    ("RFC6749-5.1-relative-expiry", Pass),
                    ("RFC6749-5.1-scope-format", Pass),
                    ("RFC6749-5.1-no-store", Pass),
                    ("RFC6750-2.1-b64token", Pass),
                    ("RFC6749-10.10-token-entropy", Pass),
                    ("RFC6749-2.3.1-basic-form-encoded", NA),
                    ("RFC6749-3.2-no-repeated-audience", NA),
                    ("RFC6749-5.2-status", NA),
                    ("RFC6749-5.2-error-member", NA),
                    ("RFC6750-2.1-authorization-header", NA),
                    ("RFC9700-2.4-password-grant", NA),
                    ("RFC6749-6-refresh-scope-not-wider", NA),
                    ("RFC6750-2.1-bearer-accepted", NA),
                ],
            ),
            // §2.3.1 and §2.3: client authentication.
            fx(
                "basic credentials form-encoded",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![basic("client 1", "SECRET:p@ss/w+rd%")],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-2.3.1-basic-form-encoded", Pass),
                    ("RFC6749-2.3-one-auth-method", Pass),
                ],
            ),
            fx(
                "basic credentials not form-encoded",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![raw_basic("client 1:SECRET:p@ss/w")],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3.1-basic-form-encoded", Fail)],
            ),
            fx(
                "basic header that is not base64",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![("authorization", Text::secret("Basic SECRET!!"))],
                        Some(form(&[("grant_type", "client_credentials")])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3.1-basic-form-encoded", Fail)],
            ),
            fx(
                "basic and client_secret at once",
                vec![token(
                    request(
                        "POST",
                        ENDPOINT,
                        vec![basic("client-1", "SECRET-1")],
                        Some(form(&[
                            ("grant_type", "client_credentials"),
                            ("client_id", "client-1"),
                            ("client_secret", "SECRET-1"),
                        ])),
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-2.3-one-auth-method", Fail)],
            ),
            // §3.2: method and encoding.
            fx(
                "GET with credentials in the query",
                vec![token(
                    request(
                        "GET",
                        "https://provider.test/oauth/token?grant_type=client_credentials&client_id=c&client_secret=SECRET-1",
                        Vec::new(),
                        None,
                    ),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-2.3.1-no-credentials-in-url", Fail),
                    ("RFC6749-3.2-post-method", Fail),
                    ("RFC6749-3.2-form-encoded-body", NA),
                ],
            ),
            fx(
                "JSON body with a renamed scope",
                vec![token(
                    post(json_body(&[
                        ("grant_type", "password"),
                        ("client_id", "administration"),
                        ("scopes", "write"),
                        ("username", "admin"),
                        ("password", "SECRET-pw"),
                    ])),
                    ok(token_with(json!({ "refresh_token": strong(2) }))),
                    "password",
                )],
                &[
                    ("RFC6749-3.2-form-encoded-body", Fail),
                    ("RFC6749-3.3-scope-parameter-name", Fail),
                    ("RFC9700-2.4-password-grant", Fail),
                ],
            ),
            fx(
                "raw JSON body by content type",
                vec![token(
                    post(Body::Raw {
                        content_type: Some("application/json".into()),
                        bytes: br#"{"grant_type":"client_credentials","client_id":"c","client_id":"d"}"#.to_vec(),
                    }),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-3.2-form-encoded-body", Fail)],
            ),
            fx(
                "raw form body by content type",
                vec![token(
                    post(Body::Raw {
                        content_type: Some("application/x-www-form-urlencoded".into()),
                        bytes: b"grant_type=client_credentials&client_id=c".to_vec(),
                    }),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[("RFC6749-3.2-form-encoded-body", Pass)],
            ),
            fx(
                "an overridden request is not judged on its shape",
                vec![overridden(token(
                    post(json_body(&[("grant_type", "client_credentials")])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-3.2-form-encoded-body", NA),
                    ("RFC6749-3.2-post-method", NA),
                    ("RFC6749-5.1-status-200", Pass),
                ],
            ),
            fx(
                "repeated parameters and audience",
                vec![token(
                    post(form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", "c"),
                        ("client_secret", "SECRET-1"),
                        ("scope", "read"),
                        ("scope", "write"),
                        ("audience", "api.one"),
                        ("audience", "api.two"),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-repeated-parameters", Fail),
                    ("RFC6749-3.2-no-repeated-audience", Fail),
                ],
            ),
            fx(
                "audience once, resource repeated",
                vec![token(
                    post(form(&[
                        ("grant_type", "client_credentials"),
                        ("audience", "api.one api.two"),
                        ("resource", "https://a.test"),
                        ("resource", "https://b.test"),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-repeated-audience", Pass),
                    ("RFC6749-3.2-no-repeated-parameters", Pass),
                ],
            ),
            fx(
                "audience repeated in a token exchange",
                vec![token(
                    post(form(&[
                        ("grant_type", TOKEN_EXCHANGE),
                        ("subject_token", "SECRET-subject"),
                        ("audience", "api.one"),
                        ("audience", "api.two"),
                    ])),
                    ok(token_with(json!({}))),
                    TOKEN_EXCHANGE,
                )],
                &[("RFC6749-3.2-no-repeated-audience", Pass)],
            ),
            fx(
                "empty parameter and renamed grant_type",
                vec![token(
                    post(form(&[
                        ("grantType", "client_credentials"),
                        ("client_id", "c"),
                        ("scope", ""),
                    ])),
                    ok(token_with(json!({}))),
                    "client_credentials",
                )],
                &[
                    ("RFC6749-3.2-no-empty-parameters", Warn),
                    ("RFC6749-4-parameter-names", Fail),
                ],
            ),
            // §4.4.3.
            fx(
                "client_credentials with a refresh token",
                vec![cc(ok(token_with(json!({ "refresh_token": strong(3) }))))],
                &[("RFC6749-4.4.3-no-refresh-token", Warn)],
            ),
            // §5.1: the success response.
            fx(
                "201 success without JSON content type or cache headers",
                vec![cc(response(
                    201,
                    &[("content-type", "text/plain")],
                    &token_with(json!({})).to_string(),
                ))],
                &[
                    ("RFC6749-5.1-status-200", Fail),
                    ("RFC6749-5.1-content-type", Fail),
                    ("RFC6749-5.1-no-store", Fail),
                ],
            ),
            fx(
                "no-store without pragma",
                vec![cc(response(
                    200,
                    &[("content-type", "application/json"), ("cache-control", "private, no-store")],
                    &token_with(json!({})).to_string(),
                ))],
                &[("RFC6749-5.1-no-store", Fail)],
            ),
            fx(
                "data envelope with absolute expiry",
                vec![cc(ok(json!({ "data": token_with(json!({ "expires": 1_900_000_000 })) })))],
                &[
                    ("RFC6749-5.1-no-envelope", Fail),
                    ("RFC6749-5.1-access-token", Pass),
                    ("RFC6749-5.1-relative-expiry", Warn),
                ],
            ),
            fx(
                "no access token",
                vec![cc(ok(json!({ "token_type": "Bearer", "expires_in": 60 })))],
                &[("RFC6749-5.1-access-token", Fail)],
            ),
            fx(
                "a success whose body is an empty array",
                vec![cc(response(200, JSON_NO_STORE, "[]"))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-5.1-content-type", Pass),
                    ("RFC6749-5.1-expires-in-present", NA),
                ],
            ),
            fx(
                "a success with an empty body",
                vec![cc(response(200, JSON_NO_STORE, ""))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "a success whose body is a JSON string",
                vec![cc(response(200, JSON_NO_STORE, &json!(strong(15)).to_string()))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "a success whose body is not JSON",
                vec![cc(response(
                    200,
                    &[("content-type", "application/x-www-form-urlencoded")],
                    &format!("access_token={}&token_type=bearer", strong(16)),
                ))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-5.1-content-type", Fail),
                ],
            ),
            fx(
                "an empty JSON object",
                vec![cc(ok(json!({})))],
                &[
                    ("RFC6749-5.1-access-token", Fail),
                    ("RFC6749-5.1-token-type", Fail),
                ],
            ),
            fx(
                "missing token_type",
                vec![cc(ok(token_with(json!({ "token_type": null }))))],
                &[
                    ("RFC6749-5.1-token-type", Fail),
                    ("RFC6749-7.1-token-type-registered", NA),
                ],
            ),
            fx(
                "lower-case bearer",
                vec![cc(ok(token_with(json!({ "token_type": "bearer" }))))],
                &[
                    ("RFC6749-5.1-token-type", Pass),
                    ("RFC6749-7.1-token-type-registered", Pass),
                ],
            ),
            fx(
                "unregistered token type",
                vec![cc(ok(token_with(json!({ "token_type": "JWT" }))))],
                &[("RFC6749-7.1-token-type-registered", Warn)],
            ),
            fx(
                "token type named by an absolute URI",
                vec![cc(ok(token_with(
                    json!({ "token_type": "https://provider.test/token-types/signed" }),
                )))],
                &[("RFC6749-7.1-token-type-registered", Pass)],
            ),
            fx(
                "no expires_in",
                vec![cc(ok(token_with(json!({ "expires_in": null }))))],
                &[
                    ("RFC6749-5.1-expires-in-present", Warn),
                    ("RFC6749-5.1-expires-in-number", NA),
                ],
            ),
            fx(
                "expires_in as a string",
                vec![cc(ok(token_with(json!({ "expires_in": "600" }))))],
                &[
                    ("RFC6749-5.1-expires-in-number", Fail),
                    ("RFC6749-5.1-expires-in-range", Pass),
                ],
            ),
            fx(
                "expires_in in milliseconds",
                vec![cc(ok(token_with(json!({ "expires_in": 3_600_000 }))))],
                &[
                    ("RFC6749-5.1-expires-in-range", Warn),
                    ("RFC6749-5.1-expires-in-number", Pass),
                ],
            ),
            fx(
                "expires_in over a year",
                vec![cc(ok(token_with(json!({ "expires_in": 63_072_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Warn)],
            ),
            fx(
                "expires_in zero",
                vec![cc(ok(token_with(json!({ "expires_in": 0 }))))],
                &[
                    ("RFC6749-5.1-expires-in-range", Warn),
                    ("RFC6749-5.1-expires-in-number", Pass),
                ],
            ),
            fx(
                "expires_in of twenty-five days is seconds, not milliseconds",
                vec![cc(ok(token_with(json!({ "expires_in": 2_160_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Pass)],
            ),
            fx(
                "expires_in negative",
                vec![cc(ok(token_with(json!({ "expires_in": -60 }))))],
                &[
                    ("RFC6749-5.1-expires-in-number", Fail),
                    ("RFC6749-5.1-expires-in-range", NA),
                ],
            ),
            fx(
                "expires_in fractional",
                vec![cc(ok(token_with(json!({ "expires_in": 59.5 }))))],
                &[("RFC6749-5.1-expires-in-number", Fail)],
            ),
            fx(
                "expires_in of thirty days",
                vec![cc(ok(token_with(json!({ "expires_in": 2_592_000 }))))],
                &[("RFC6749-5.1-expires-in-range", Pass)],
            ),
            fx(
                "scope as an array",
                vec![cc(ok(token_with(json!({ "scope": ["read", "write"] }))))],
                &[("RFC6749-5.1-scope-format", Fail)],
            ),
            fx(
                "scope with double spaces",
                vec![cc(ok(token_with(json!({ "scope": "read  write" }))))],
                &[("RFC6749-5.1-scope-format", Fail)],
            ),
            fx(
                "empty scope string",
                vec![cc(ok(token_with(json!({ "scope": "" }))))],
                &[("RFC6749-5.1-scope-format", Pass)],
            ),
            fx(
                "access token with a space",
                vec![cc(ok(token_with(
                    json!({ "access_token": format!("{} {}", strong(4), strong(5)) }),
                )))],
                &[("RFC6750-2.1-b64token", Fail)],
            ),
            fx(
                "short access token",
                vec![cc(ok(token_with(json!({ "access_token": "TKN12345" }))))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "repetitive refresh token",
                vec![token(
                    post(form(&[("grant_type", "password"), ("username", "u"), ("password", "SECRET-pw")])),
                    ok(token_with(json!({ "refresh_token": format!("TKN{}", "ab".repeat(30)) }))),
                    "password",
                )],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "refresh token of visible ASCII",
                vec![password_login("read", &format!("{}~!{}", strong(17), strong(18)))],
                &[("RFC6749-A.17-refresh-token-syntax", Pass)],
            ),
            fx(
                "refresh token with a non-ASCII character",
                vec![password_login("read", &format!("{}é{}", strong(17), strong(18)))],
                &[
                    ("RFC6749-A.17-refresh-token-syntax", Fail),
                    ("RFC6749-10.10-token-entropy", Pass),
                ],
            ),
            fx(
                "refresh token with a control character",
                vec![password_login("read", &format!("{}\n{}", strong(17), strong(18)))],
                &[("RFC6749-A.17-refresh-token-syntax", Fail)],
            ),
            fx(
                "empty and numeric refresh tokens",
                vec![
                    cc(ok(token_with(json!({ "refresh_token": "" })))),
                    cc(ok(token_with(json!({ "refresh_token": 12345 })))),
                ],
                &[("RFC6749-A.17-refresh-token-syntax", Fail)],
            ),
            fx(
                "weak refresh token beside a strong access token",
                vec![password_login("read", "TKN-refresh-1")],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "UUID access token",
                vec![cc(ok(token_with(
                    json!({ "access_token": "3f2b8c1e-9d4a-4e7b-8a6c-5d1e2f3a4b5c" }),
                )))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "unsigned JWT",
                vec![cc(ok(token_with(json!({ "access_token": jwt("none", "") }))))],
                &[("RFC6749-10.10-token-entropy", Warn)],
            ),
            fx(
                "signed JWT",
                vec![cc(ok(token_with(
                    json!({ "access_token": jwt("RS256", &strong(6)) }),
                )))],
                &[
                    ("RFC6749-10.10-token-entropy", Pass),
                    ("RFC6750-2.1-b64token", Pass),
                ],
            ),
            // §5.2: errors.
            fx(
                "conformant invalid_grant",
                vec![cc(error(
                    400,
                    json!({
                        "error": "invalid_grant",
                        "error_description": "The grant is invalid.",
                        "error_uri": "https://provider.test/docs/errors#invalid_grant",
                    }),
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", Pass),
                    ("RFC6749-5.2-error-member", Pass),
                    ("RFC6749-5.2-no-errors-array", Pass),
                    ("RFC6749-5.2-no-problem-details", Pass),
                    ("RFC6749-5.2-error-code", Pass),
                    ("RFC6749-5.2-error-text-syntax", Pass),
                    ("RFC6749-5.2-basic-challenge", NA),
                    ("RFC6749-5.1-status-200", NA),
                    ("RFC6749-5.1-no-store", NA),
                ],
            ),
            fx(
                "401 for invalid_request",
                vec![cc(error(401, json!({ "error": "invalid_request" })))],
                &[("RFC6749-5.2-status", Fail)],
            ),
            fx(
                "401 for invalid_client",
                vec![cc(error(401, json!({ "error": "invalid_client" })))],
                &[("RFC6749-5.2-status", Pass)],
            ),
            fx(
                "404 for an error",
                vec![cc(error(404, json!({ "error": "invalid_request" })))],
                &[("RFC6749-5.2-status", Fail)],
            ),
            fx(
                "an error in a 200",
                vec![cc(error(200, json!({ "error": "invalid_grant" })))],
                &[
                    ("RFC6749-5.2-status", Fail),
                    ("RFC6749-5.1-status-200", NA),
                ],
            ),
            fx(
                "405 to a GET",
                vec![overridden(token(
                    request("GET", ENDPOINT, Vec::new(), Some(form(&[("grant_type", "client_credentials")]))),
                    response(405, &[("allow", "POST")], ""),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "404 to a GET is HTTP speaking",
                vec![overridden(token(
                    request("GET", ENDPOINT, Vec::new(), None),
                    response(404, &[("content-type", "text/plain; charset=utf-8")], "Not Found"),
                    "client_credentials",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "404 to a POST is an error status",
                vec![cc(response(404, &[("content-type", "text/plain")], "Not Found"))],
                &[
                    ("RFC6749-5.2-status", Fail),
                    ("RFC6749-5.2-content-type", Fail),
                ],
            ),
            fx(
                "an HTML error to a request that asked for HTML",
                vec![overridden(token(
                    {
                        let mut asks_html = post(form(&[("grant_type", "password")]));
                        asks_html.headers =
                            vec![("accept".to_owned(), Text::from("text/html, application/json;q=0"))];
                        asks_html
                    },
                    response(400, &[("content-type", "text/html; charset=utf-8")], "<h1>invalid_request</h1>"),
                    "password",
                ))],
                &[
                    ("RFC6749-5.2-status", Pass),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "500 is a server failure",
                vec![cc(response(500, &[("content-type", "text/html")], "<h1>oops</h1>"))],
                &[
                    ("RFC6749-5.2-status", NA),
                    ("RFC6749-5.2-content-type", NA),
                ],
            ),
            fx(
                "HTML error page",
                vec![cc(response(400, &[("content-type", "text/html")], "<h1>Bad Request</h1>"))],
                &[
                    ("RFC6749-5.2-content-type", Fail),
                    ("RFC6749-5.2-error-member", Fail),
                ],
            ),
            fx(
                "error as an object",
                vec![cc(error(400, json!({ "error": { "code": "invalid_grant" } })))],
                &[("RFC6749-5.2-error-member", Fail)],
            ),
            fx(
                "errors array",
                vec![cc(error(
                    401,
                    json!({ "errors": [{ "status": "401", "title": "Unauthorized", "detail": "bad client" }] }),
                ))],
                &[
                    ("RFC6749-5.2-no-errors-array", Fail),
                    ("RFC6749-5.2-error-member", NA),
                    ("RFC6749-5.2-status", Pass),
                ],
            ),
            fx(
                "problem details",
                vec![cc(response(
                    400,
                    &[("content-type", "application/problem+json")],
                    &json!({ "type": "urn:ietf:params:oauth:error:invalid_request", "title": "Bad Request", "status": 400 }).to_string(),
                ))],
                &[
                    ("RFC6749-5.2-no-problem-details", Fail),
                    ("RFC6749-5.2-content-type", NA),
                    ("RFC6749-5.2-error-member", NA),
                ],
            ),
            fx(
                "unregistered error code",
                vec![cc(error(400, json!({ "error": "bad_secret" })))],
                &[("RFC6749-5.2-error-code", Fail)],
            ),
            fx(
                "error description and uri outside their character sets",
                vec![cc(error(
                    400,
                    json!({
                        "error": "invalid_request",
                        "error_description": "Paramètre \"scope\" invalide",
                        "error_uri": "not a uri",
                    }),
                ))],
                &[("RFC6749-5.2-error-text-syntax", Fail)],
            ),
            fx(
                "relative error_uri",
                vec![cc(error(
                    400,
                    json!({ "error": "invalid_request", "error_uri": "/docs/errors#invalid_request" }),
                ))],
                &[("RFC6749-5.2-error-text-syntax", Pass)],
            ),
            fx(
                "failed Basic gets a Basic challenge",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    response(
                        401,
                        &[("content-type", "application/json"), ("www-authenticate", "Basic realm=\"provider\", charset=\"UTF-8\"")],
                        &json!({ "error": "invalid_client" }).to_string(),
                    ),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Pass)],
            ),
            fx(
                "failed Basic without a challenge",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    error(401, json!({ "error": "invalid_client" })),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Fail)],
            ),
            fx(
                "failed Basic answered 400",
                vec![token(
                    request("POST", ENDPOINT, vec![basic("client-1", "SECRET-wrong")], Some(form(&[("grant_type", "client_credentials")]))),
                    error(400, json!({ "error": "invalid_client" })),
                    "client_credentials",
                )],
                &[("RFC6749-5.2-basic-challenge", Fail)],
            ),
            // RFC 6750: resource calls.
            fx(
                "bearer resource call accepted",
                vec![resource(vec![bearer(&strong(7))], ok(json!({ "ok": true })))],
                &[
                    ("RFC6750-2.1-authorization-header", Pass),
                    ("RFC6750-3-bearer-challenge", NA),
                    ("RFC6749-5.1-status-200", NA),
                ],
            ),
            fx(
                "token sent without a scheme",
                vec![resource(
                    vec![("authorization", Text::secret(strong(8)))],
                    response(401, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[
                    ("RFC6750-2.1-authorization-header", Warn),
                    ("RFC6750-3-bearer-challenge", Pass),
                    ("RFC6750-3.1-invalid-token-error", Pass),
                ],
            ),
            fx(
                "Bearer credentials that are not a b64token",
                vec![resource(
                    vec![("authorization", Text::secret(format!("Bearer {} {}", strong(8), strong(9))))],
                    ok(json!({ "ok": true })),
                )],
                &[("RFC6750-2.1-authorization-header", Fail)],
            ),
            fx(
                "token in the query",
                vec![resource_at(
                    &format!("{RESOURCE}?access_token={}", strong(9)),
                    Vec::new(),
                    ok(json!({ "ok": true })),
                )],
                &[("RFC6750-2.1-authorization-header", Warn)],
            ),
            fx(
                "rejected token with invalid_token",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, &[("www-authenticate", "Bearer realm=\"p\", error=\"invalid_token\", error_description=\"expired, sorry\"")], ""),
                )],
                &[
                    ("RFC6750-3-bearer-challenge", Pass),
                    ("RFC6750-3.1-invalid-token-error", Pass),
                ],
            ),
            fx(
                "rejected token without a challenge",
                vec![resource(vec![bearer(&strong(10))], response(401, JSON, "{}"))],
                &[("RFC6750-3-bearer-challenge", Fail)],
            ),
            fx(
                "rejected token with a Basic challenge only",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, &[("www-authenticate", "Basic realm=\"p\"")], ""),
                )],
                &[("RFC6750-3-bearer-challenge", Fail)],
            ),
            fx(
                "rejected token without an error code",
                vec![resource(
                    vec![bearer(&strong(10))],
                    response(401, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[("RFC6750-3.1-invalid-token-error", Warn)],
            ),
            fx(
                "no token but an error code",
                vec![resource(
                    Vec::new(),
                    response(401, &[("www-authenticate", "Bearer error=\"invalid_token\"")], ""),
                )],
                &[
                    ("RFC6750-3.1-invalid-token-error", Warn),
                    ("RFC6750-2.1-authorization-header", NA),
                ],
            ),
            fx(
                "403 with insufficient_scope",
                vec![resource(
                    vec![bearer(&strong(14))],
                    response(403, &[("www-authenticate", "Bearer realm=\"p\", error=\"insufficient_scope\", scope=\"write\"")], ""),
                )],
                &[("RFC6750-3.1-insufficient-scope", Pass)],
            ),
            fx(
                "403 without a challenge",
                vec![resource(vec![bearer(&strong(14))], response(403, JSON, "{}"))],
                &[
                    ("RFC6750-3-bearer-challenge", Fail),
                    ("RFC6750-3.1-insufficient-scope", NA),
                ],
            ),
            fx(
                "403 without insufficient_scope",
                vec![resource(
                    vec![bearer(&strong(14))],
                    response(403, &[("www-authenticate", "Bearer realm=\"p\"")], ""),
                )],
                &[
                    ("RFC6750-3.1-insufficient-scope", Warn),
                    ("RFC6750-3-bearer-challenge", Pass),
                ],
            ),
            fx(
                "403 to a request without a Bearer token",
                vec![resource(Vec::new(), response(403, JSON, "{}"))],
                &[("RFC6750-3-bearer-challenge", NA)],
            ),
            // RFC 9700: discouraged grants.
            fx(
                "password grant refused",
                vec![token(
                    post(form(&[("grant_type", "password"), ("username", "u"), ("password", "SECRET-pw")])),
                    error(400, json!({ "error": "unsupported_grant_type" })),
                    "password",
                )],
                &[("RFC9700-2.4-password-grant", Pass)],
            ),
            // RFC 6749 §4.5: extension grants.
            fx(
                "implicit grant at the token endpoint",
                vec![token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    ok(token_with(json!({}))),
                    "implicit",
                )],
                &[("RFC6749-4.5-extension-grant-uri", Fail)],
            ),
            fx(
                "implicit grant refused",
                vec![token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    error(400, json!({ "error": "unsupported_grant_type" })),
                    "implicit",
                )],
                &[("RFC6749-4.5-extension-grant-uri", Pass)],
            ),
            fx(
                "an extension grant named by a URI",
                vec![token(
                    post(form(&[
                        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                        ("assertion", "SECRET-assertion"),
                    ])),
                    ok(token_with(json!({}))),
                    "urn:ietf:params:oauth:grant-type:jwt-bearer",
                )],
                &[
                    ("RFC6749-4.5-extension-grant-uri", Pass),
                    ("RFC9700-2.4-password-grant", NA),
                ],
            ),
            fx(
                "a bent request's grant type is the tester's choice",
                vec![overridden(token(
                    post(form(&[("grant_type", "implicit"), ("client_id", "c")])),
                    ok(token_with(json!({}))),
                    "implicit",
                ))],
                &[("RFC6749-4.5-extension-grant-uri", NA)],
            ),
            // §6 and RFC 9700 §2.2.2: sequences.
            fx(
                "refresh narrows, rotates, keeps scope and refuses reuse",
                vec![
                    password_login("read write", &r1),
                    refresh(&r1, Some("read"), refreshed(&a2, Some(&r2), Some("read"))),
                    refresh(&r2, None, refreshed(&a3, Some(&r3), Some("read write"))),
                    refresh(&r1, None, error(400, json!({ "error": "invalid_grant" }))),
                ],
                &[
                    ("RFC6749-3.3-scope-parameter-name", Pass),
                    ("RFC6749-6-refresh-scope-not-wider", Pass),
                    ("RFC6749-6-wider-scope-refused", NA),
                    ("RFC6749-6-rotation-keeps-scope", Pass),
                    ("RFC9700-2.2.2-refresh-rotation", Pass),
                ],
            ),
            fx(
                "refresh widens scope",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, Some("read admin"), refreshed(&a2, Some(&r2), Some("read admin"))),
                ],
                &[
                    ("RFC6749-6-refresh-scope-not-wider", Fail),
                    ("RFC6749-6-wider-scope-refused", Fail),
                ],
            ),
            fx(
                "refresh asking for more is refused",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, Some("read admin"), error(400, json!({ "error": "invalid_scope" }))),
                ],
                &[("RFC6749-6-wider-scope-refused", Pass)],
            ),
            fx(
                "refresh asking for more is narrowed instead of refused",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, Some("read admin"), refreshed(&a2, Some(&r2), Some("read"))),
                ],
                &[
                    ("RFC6749-6-wider-scope-refused", Warn),
                    ("RFC6749-6-refresh-scope-not-wider", Pass),
                ],
            ),
            fx(
                "rotated refresh token loses scope",
                vec![
                    password_login("read write", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r2), None)),
                    refresh(&r2, None, refreshed(&a3, Some(&r3), Some("read"))),
                ],
                &[("RFC6749-6-rotation-keeps-scope", Fail)],
            ),
            fx(
                "public client gets the same refresh token back",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, Some(&r1), None)),
                ],
                &[("RFC9700-2.2.2-refresh-rotation", Warn)],
            ),
            fx(
                "used refresh token accepted again",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&a2, None, None)),
                    refresh(&r1, None, refreshed(&a3, None, None)),
                ],
                &[("RFC9700-2.2.2-refresh-rotation", Warn)],
            ),
            fx(
                "two grants answered the same access token",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Warn)],
            ),
            fx(
                "a refresh answered the access token it replaces",
                vec![
                    password_login("read", &r1),
                    refresh(&r1, None, refreshed(&strong(1), Some(&r2), None)),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Warn)],
            ),
            fx(
                "two grants get two access tokens",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    cc(ok(token_with(json!({ "access_token": a2 })))),
                    cc(error(400, json!({ "error": "invalid_request" }))),
                ],
                &[("RFC6749-10.10-distinct-access-tokens", Pass)],
            ),
            fx(
                "issued token works as Bearer",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(vec![bearer(&a1)], ok(json!({ "ok": true }))),
                ],
                &[("RFC6750-2.1-bearer-accepted", Pass)],
            ),
            fx(
                "issued token refused as Bearer",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(
                        vec![bearer(&a1)],
                        response(401, &[("www-authenticate", "Bearer error=\"invalid_token\"")], ""),
                    ),
                ],
                &[("RFC6750-2.1-bearer-accepted", Fail)],
            ),
            fx(
                "expired token refused after the mock clock moved",
                vec![
                    cc(ok(token_with(json!({ "access_token": a1 })))),
                    resource(
                        vec![bearer(&a1), (CLOCK_OFFSET_HEADER, Text::from("3600"))],
                        response(401, &[("www-authenticate", "Bearer error=\"invalid_token\"")], ""),
                    ),
                ],
                &[("RFC6750-2.1-bearer-accepted", NA)],
            ),
        ]
    }

    /// The response bodies of a fixture's exchanges, as JSON.
    fn bodies(fixture: &Fixture) -> Vec<Option<Value>> {
        fixture
            .exchanges
            .iter()
            .map(|fx| fx.response.json())
            .collect()
    }

    /// A fixture's exchanges as the checks see them; `bodies` is
    /// [`bodies`] of the fixture.
    fn facts<'f>(fixture: &'f Fixture, bodies: &'f [Option<Value>]) -> Vec<ExchangeFacts<'f>> {
        fixture
            .exchanges
            .iter()
            .zip(bodies)
            .map(|(fx, json)| ExchangeFacts {
                request: &fx.request,
                response: &fx.response,
                json: json.as_ref(),
                grant_type: fx.grant,
                request_is_profile_shaped: fx.shaped,
                kind: fx.kind,
            })
            .collect()
    }

    fn run(fixture: &Fixture) -> Vec<Finding> {
        let bodies = bodies(fixture);
        let facts = facts(fixture, &bodies);
        let mut findings: Vec<Finding> = facts.iter().flat_map(check_exchange).collect();
        findings.extend(check_sequence(&facts));
        // The case-level entry point reads each exchange once and must say
        // the same.
        let (each, sequence) = check_case(&facts, Details::All);
        let together: Vec<Finding> = each.into_iter().flatten().chain(sequence).collect();
        assert_eq!(together, findings, "{}", fixture.name);
        // So does the entry point for bent requests, judged one by one.
        let alone: Vec<Finding> = check_exchanges(&facts, Details::All)
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(alone, findings[..alone.len()], "{}", fixture.name);
        // A case run keeps the same outcomes, and only deviations' details.
        let (each, sequence) = check_case(&facts, Details::Deviations);
        let kept: Vec<Finding> = each.into_iter().flatten().chain(sequence).collect();
        let expected: Vec<Finding> = findings
            .iter()
            .cloned()
            .map(|mut finding| {
                if !finding.outcome.is_deviation() {
                    finding.detail = Cow::Borrowed("");
                }
                finding
            })
            .collect();
        assert_eq!(kept, expected, "{}", fixture.name);
        findings
    }

    #[test]
    fn fixture_expectations_hold() {
        let mut problems = Vec::new();
        for fixture in fixtures() {
            let findings = run(&fixture);
            for (id, outcome) in &fixture.expect {
                assert!(
                    find_check(id).is_some(),
                    "fixture {:?} names unknown check {id}",
                    fixture.name
                );
                if !findings
                    .iter()
                    .any(|f| f.check.id == *id && f.outcome == *outcome)
                {
                    let seen: Vec<String> = findings
                        .iter()
                        .filter(|f| f.check.id == *id)
                        .map(|f| format!("{:?}: {}", f.outcome, f.detail))
                        .collect();
                    problems.push(format!(
                        "{:?}: expected {id} {outcome:?}, saw {seen:?}",
                        fixture.name
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_check_has_a_failing_and_a_passing_fixture() {
        let mut broken = BTreeSet::new();
        let mut held = BTreeSet::new();
        for fixture in fixtures() {
            for (id, outcome) in fixture.expect {
                match outcome {
                    Pass => held.insert(id),
                    Fail | Warn => broken.insert(id),
                    NA => false,
                };
            }
        }
        let missing: Vec<String> = CHECKS
            .iter()
            .filter_map(|check| {
                let what: Vec<&str> = [
                    (!broken.contains(check.id)).then_some("a failing"),
                    (!held.contains(check.id)).then_some("a passing"),
                ]
                .into_iter()
                .flatten()
                .collect();
                (!what.is_empty()).then(|| format!("{} lacks {}", check.id, what.join(" and ")))
            })
            .collect();
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn a_broken_rule_fails_or_warns_by_its_severity() {
        for fixture in fixtures() {
            for finding in run(&fixture) {
                if finding.check.severity == Severity::Warning {
                    assert_ne!(
                        finding.outcome, Fail,
                        "{}: {}",
                        fixture.name, finding.check.id
                    );
                }
            }
        }
    }

    #[test]
    fn details_never_show_secrets_or_tokens() {
        for fixture in fixtures() {
            for finding in run(&fixture) {
                for marker in ["SECRET", "TKN"] {
                    assert!(
                        !finding.detail.contains(marker),
                        "{}: {} shows a secret: {}",
                        fixture.name,
                        finding.check.id,
                        finding.detail
                    );
                }
            }
        }
    }

    #[test]
    fn checks_are_unique_well_formed_and_each_judged_by_one_rule() {
        let mut ids = BTreeSet::new();
        for check in CHECKS {
            assert!(ids.insert(check.id), "duplicate check id {}", check.id);
            assert!(
                check.id.starts_with(&format!("{}-", check.clause)),
                "{} does not start with its clause {}",
                check.id,
                check.clause
            );
            assert!(
                !check.deviation.is_empty()
                    && check
                        .deviation
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}: deviation {:?} is not kebab-case",
                check.id,
                check.deviation
            );
            for text in [check.title, check.looks_at] {
                assert!(
                    !text.contains('|') && !text.contains('\n'),
                    "{}: table-breaking text",
                    check.id
                );
            }
            let rules = EXCHANGE_RULES
                .iter()
                .filter(|r| r.check.id == check.id)
                .count()
                + SEQUENCE_RULES
                    .iter()
                    .filter(|r| r.check.id == check.id)
                    .count();
            assert_eq!(rules, 1, "{} is judged by {rules} rules", check.id);
        }
        assert!(
            EXCHANGE_RULES
                .iter()
                .map(|r| r.check.id)
                .chain(SEQUENCE_RULES.iter().map(|r| r.check.id))
                .all(|id| ids.contains(id)),
            "a rule judges a check that is not in CHECKS"
        );
    }

    #[test]
    fn sequence_rules_judge_nothing_without_a_refresh_or_resource_call() {
        // `sequence_findings` skips reading the steps of such a case: every
        // rule must come out the same on them as on no steps at all.
        for fixture in fixtures() {
            let bodies = bodies(&fixture);
            let contexts: Vec<Ctx<'_>> = facts(&fixture, &bodies)
                .into_iter()
                .map(|facts| Ctx::new(facts, Details::All))
                .collect();
            if sequence_relevant(&contexts) {
                continue;
            }
            let steps = analyse(&contexts);
            for rule in SEQUENCE_RULES {
                let read = (rule.eval)(&steps).finding(rule.check, 0, Details::All);
                let skipped = (rule.eval)(&[]).finding(rule.check, 0, Details::All);
                assert_eq!(read, skipped, "{}: {}", fixture.name, rule.check.id);
            }
        }
    }

    #[test]
    fn shannon_entropy_matches_its_definition() {
        fn by_definition(text: &str) -> f64 {
            let mut counts: BTreeMap<char, usize> = BTreeMap::new();
            for c in text.chars() {
                *counts.entry(c).or_default() += 1;
            }
            let total = text.chars().count() as f64;
            counts
                .values()
                .map(|&count| {
                    let p = count as f64 / total;
                    -p * p.log2()
                })
                .sum()
        }
        for text in [
            "",
            "a",
            "aaaa",
            "abab",
            "abcdefgh",
            &strong(7),
            "0123456789abcdef0123456789abcdef",
            "éé-ßß-日本日本-aa",
        ] {
            let (fast, slow) = (shannon_bits_per_char(text), by_definition(text));
            assert!((fast - slow).abs() < 1e-9, "{text:?}: {fast} vs {slow}");
        }
    }

    #[test]
    fn findings_cover_every_check_once_in_catalogue_order() {
        let fixture = &fixtures()[0];
        let findings = run(fixture);
        let ids: Vec<&str> = findings.iter().map(|f| f.check.id).collect();
        let mut expected: Vec<&str> = CHECKS
            .iter()
            .filter(|c| EXCHANGE_RULES.iter().any(|r| r.check.id == c.id))
            .map(|c| c.id)
            .collect();
        expected.extend(
            CHECKS
                .iter()
                .filter(|c| SEQUENCE_RULES.iter().any(|r| r.check.id == c.id))
                .map(|c| c.id),
        );
        assert_eq!(ids, expected);
    }

    #[test]
    fn token_type_detail_names_the_spelling() {
        let fixture = fx(
            "lower-case bearer",
            vec![cc(ok(token_with(json!({ "token_type": "bearer" }))))],
            &[],
        );
        let findings = run(&fixture);
        let detail = findings
            .iter()
            .find(|f| f.check.id == "RFC6749-5.1-token-type")
            .map(|f| f.detail.clone())
            .unwrap();
        assert!(
            detail.contains("`bearer`") && detail.contains("case-insensitive"),
            "{detail}"
        );
    }

    #[test]
    fn deviations_are_observed_and_compared_both_ways() {
        let fixture = fx(
            "envelope and errors",
            vec![
                cc(ok(json!({ "data": token_with(json!({})) }))),
                cc(error(400, json!({ "errors": [{ "status": 400 }] }))),
            ],
            &[],
        );
        let findings = run(&fixture);
        let observed = observed_deviations(&findings);
        assert_eq!(
            observed.iter().copied().collect::<Vec<_>>(),
            vec!["errors-array", "response-envelope"]
        );
        assert!(exercised_deviations(&findings).contains("missing-cache-headers"));
        assert!(!exercised_deviations(&findings).contains("password-grant"));

        let declared = vec![
            "response-envelope".to_owned(),
            "password-grant".to_owned(),
            "no-such-deviation".to_owned(),
        ];
        let report = compare_deviations(&declared, &observed);
        assert_eq!(report.undeclared, vec!["errors-array"]);
        assert_eq!(
            report.unobserved,
            vec!["no-such-deviation", "password-grant"]
        );
        assert!(!report.is_clean());
        let messages = report.messages().join("\n");
        assert!(
            messages.contains("undeclared deviation `errors-array` (RFC6749-5.2-no-errors-array)"),
            "{messages}"
        );
        assert!(messages.contains("`password-grant` was not observed: the provider no longer deviates; remove the declaration"), "{messages}");
        assert!(
            messages.contains("`no-such-deviation` is not a deviation id"),
            "{messages}"
        );

        let clean = compare_deviations(
            &["errors-array".to_owned(), "response-envelope".to_owned()],
            &observed,
        );
        assert!(clean.is_clean() && clean.messages().is_empty());
    }

    #[test]
    fn known_deviations_include_those_the_seed_specs_declare() {
        for id in [
            "repeated-audience-parameter",
            "json-request-body",
            "missing-token-type",
            "renamed-scope-parameter",
            "password-grant",
            "response-envelope",
            "errors-array",
            "non-uri-grant-type",
            "absolute-expires",
            "missing-cache-headers",
            "expires-in-as-string",
            "refresh-token-syntax",
        ] {
            assert!(known_deviation(id), "{id}");
        }
        assert!(!known_deviation("lower-case-token-type"));
    }

    #[test]
    fn every_deviation_a_spec_declares_is_known() {
        let specs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let mut unknown = Vec::new();
        for entry in std::fs::read_dir(&specs).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let Some(list) = line.trim().strip_prefix("deviations:") else {
                    continue;
                };
                for id in list
                    .trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                {
                    let id = id.trim();
                    if !id.is_empty() && !known_deviation(id) {
                        unknown.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
        assert!(unknown.is_empty(), "unknown deviation ids: {unknown:?}");
    }

    #[test]
    fn challenges_are_parsed_with_quoted_commas_and_several_schemes() {
        let parsed = parse_challenges(
            [
                "Basic realm=\"a, b\", charset=\"UTF-8\", Bearer realm=\"x\", error=\"invalid_token\"",
                "Negotiate abc==",
            ]
            .into_iter(),
        );
        let schemes: Vec<&str> = parsed.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, vec!["Basic", "Bearer", "Negotiate"]);
        assert_eq!(parsed[0].param("realm"), Some("a, b"));
        assert_eq!(parsed[1].param("error"), Some("invalid_token"));
        assert!(parsed[2].params.is_empty());
    }

    #[test]
    fn basic_authorization_of_the_token_crate_is_judged_form_encoded() {
        let header = basic_authorization("sp client", "SECRET p@ss:w/rd+%");
        let encoded = header.expose_secret().trim_start_matches("Basic ");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let decoded = String::from_utf8(decoded).unwrap();
        let (id, secret) = decoded.split_once(':').unwrap();
        assert!(looks_form_encoded(id) && looks_form_encoded(secret));
        assert!(!looks_form_encoded("p@ss") && !looks_form_encoded("100%"));
    }

    const DOCS_BEGIN: &str = "<!-- checks:begin -->";
    const DOCS_END: &str = "<!-- checks:end -->";

    fn docs_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md")
    }

    /// The docs with the table section replaced by `markdown_table()`.
    fn regenerated_docs(docs: &str) -> Option<String> {
        let start = docs.find(DOCS_BEGIN)? + DOCS_BEGIN.len();
        let end = docs.find(DOCS_END)?;
        Some(format!(
            "{}\n{}{}",
            &docs[..start],
            markdown_table(),
            &docs[end..]
        ))
    }

    #[test]
    fn docs_table_matches_the_checks() {
        let docs = std::fs::read_to_string(docs_path()).unwrap();
        let expected = regenerated_docs(&docs).unwrap_or_else(|| {
            panic!("docs/conformance.md lacks the {DOCS_BEGIN} … {DOCS_END} markers")
        });
        assert!(
            docs == expected,
            "docs/conformance.md's check table is out of date; regenerate it with\n  cargo test -p grantspec-runner --lib rfc::tests::regenerate_docs_table -- --ignored"
        );
        for check in CHECKS {
            let row = format!(
                "| `{}` | {} | {} | `{}` |",
                check.id,
                check.clause,
                check.severity.as_str(),
                check.deviation
            );
            assert!(docs.contains(&row), "no table row for {}", check.id);
        }
    }

    #[test]
    #[ignore = "rewrites docs/conformance.md; run to regenerate the check table"]
    fn regenerate_docs_table() {
        let path = docs_path();
        let docs = std::fs::read_to_string(&path).unwrap();
        let regenerated = regenerated_docs(&docs).unwrap();
        std::fs::write(&path, regenerated).unwrap();
    }
}
