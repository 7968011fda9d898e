//! What the probe sends, area by area, and what it reads from the answers.

use std::collections::{BTreeMap, BTreeSet};

use grantspec_conformance::{self as rfc, Details, ExchangeFacts, Finding};
use grantspec_spec::GrantKind;
use grantspec_token::{
    BodyEncoding, ClientAuth, ErrorFormat, ExpiryStyle, HttpResponse, ListStyle, MissingTokenType,
    ResponseEncoding, ResponseMembers, ResponseShape,
};
use serde_json::{Map, Value};

use super::discovery::MetadataSeen;
use super::{
    Area, MADE_UP, ProbeCase, ProbeError, ProbeGrant, ProbeStep, Session, Shape, WithValue, clean,
};

/// What the probe has inferred so far: the profile the written spec gets.
#[derive(Debug, Clone)]
pub(crate) struct Dialect {
    pub(crate) shape: Shape,
    pub(crate) lists: ListStyle,
    pub(crate) response: ResponseShape,
    pub(crate) errors: ErrorFormat,
    /// The run (index in [`Session::ran`]) whose answer issued a token with
    /// the dialect's shape, if one did.
    pub(crate) issued: Option<usize>,
    /// Parameter names inferred instead of RFC 6749's, keyed by the RFC
    /// name (the profile's `token_endpoint.rename`).
    pub(crate) rename: BTreeMap<String, String>,
    /// What the trials of other parameter names showed, for the table.
    pub(crate) name_trials: Vec<NameTrial>,
}

/// An RFC 6749 parameter the server ignored, and the other names tried.
#[derive(Debug, Clone)]
pub(crate) struct NameTrial {
    /// The RFC name.
    pub(crate) rfc_name: &'static str,
    /// How the answer to the RFC name showed it ignored.
    pub(crate) ignored: String,
    /// Each other name sent, and what its answer showed.
    pub(crate) tried: Vec<(&'static str, String)>,
    /// The name inferred, if one visibly did what the RFC name should have.
    pub(crate) inferred: Option<&'static str>,
}

impl Dialect {
    fn provisional(shape: Shape) -> Self {
        Self {
            shape,
            lists: ListStyle::SpaceJoined,
            response: ResponseShape::default(),
            errors: ErrorFormat::Rfc6749,
            issued: None,
            rename: BTreeMap::new(),
            name_trials: Vec::new(),
        }
    }

    /// This dialect with `rfc_name` sent as `wire_name`.
    fn renaming(&self, rfc_name: &str, wire_name: &str) -> Self {
        let mut dialect = self.clone();
        dialect
            .rename
            .insert(rfc_name.to_owned(), wire_name.to_owned());
        dialect
    }

    /// The baseline grant's `grant_type`.
    fn refresh_member(&self) -> &str {
        self.response.members.name("refresh_token")
    }
}

const ACCESS_TOKEN: &[&str] = &["access_token", "accessToken", "access-token", "AccessToken"];
const TOKEN_TYPE: &[&str] = &["token_type", "tokenType", "token-type", "TokenType"];
const EXPIRES_IN: &[&str] = &["expires_in", "expiresIn", "expires-in", "ExpiresIn"];
const EXPIRES: &[&str] = &["expires", "expires_at", "expiresAt"];
const REFRESH_TOKEN: &[&str] = &[
    "refresh_token",
    "refreshToken",
    "refresh-token",
    "RefreshToken",
];
const SCOPE: &[&str] = &["scope", "scopes"];

/// A token the answer issued, and where its members are.
pub(crate) struct TokenSeen {
    pub encoding: ResponseEncoding,
    pub envelope: Option<String>,
    /// The token object (a form answer's pairs as strings).
    pub object: Map<String, Value>,
}

impl TokenSeen {
    /// The token in a 2xx answer, if it holds one.
    pub fn read(response: &HttpResponse) -> Option<Self> {
        if !(200..300).contains(&response.status) {
            return None;
        }
        if let Some(Value::Object(object)) = response.json() {
            if has_any(&object, ACCESS_TOKEN) {
                return Some(Self {
                    encoding: ResponseEncoding::Json,
                    envelope: None,
                    object,
                });
            }
            return object.iter().find_map(|(name, inner)| match inner {
                Value::Object(inner) if has_any(inner, ACCESS_TOKEN) => Some(Self {
                    encoding: ResponseEncoding::Json,
                    envelope: Some(format!("/{}", name.replace('~', "~0").replace('/', "~1"))),
                    object: inner.clone(),
                }),
                _ => None,
            });
        }
        let object = form_object(&response.body)?;
        has_any(&object, ACCESS_TOKEN).then_some(Self {
            encoding: ResponseEncoding::Form,
            envelope: None,
            object,
        })
    }

    /// The access and refresh tokens it holds.
    pub fn token_values(&self) -> Vec<String> {
        [ACCESS_TOKEN, REFRESH_TOKEN]
            .iter()
            .filter_map(|names| self.member(names)?.1.as_str())
            .map(str::to_owned)
            .collect()
    }

    fn member(&self, names: &[&'static str]) -> Option<(&'static str, &Value)> {
        names
            .iter()
            .find_map(|name| self.object.get(*name).map(|value| (*name, value)))
    }

    /// The response shape this token shows.
    pub fn shape(&self) -> ResponseShape {
        let renamed = |names: &[&'static str]| {
            self.member(names)
                .map(|(name, _)| name)
                .filter(|name| *name != names[0])
                .map(str::to_owned)
        };
        let members = ResponseMembers {
            access_token: renamed(ACCESS_TOKEN),
            token_type: renamed(TOKEN_TYPE),
            expires_in: renamed(EXPIRES_IN),
            expires: renamed(EXPIRES),
            refresh_token: renamed(REFRESH_TOKEN),
            scope: renamed(SCOPE),
        };
        let expires_in = self.member(EXPIRES_IN).is_some();
        let expiry = match (expires_in, self.member(EXPIRES)) {
            (true, Some(_)) => ExpiryStyle::Both,
            (true, None) => ExpiryStyle::ExpiresIn,
            (false, Some((_, value))) if seconds(value).is_some_and(|s| s > 1_000_000_000) => {
                ExpiryStyle::Expires
            }
            (false, Some(_)) => ExpiryStyle::ExpiresRelative,
            (false, None) => ExpiryStyle::None,
        };
        let token_type = self.member(TOKEN_TYPE).and_then(|(_, v)| v.as_str());
        ResponseShape {
            encoding: self.encoding,
            envelope: self.envelope.clone(),
            members,
            expiry,
            missing_token_type: if token_type.is_none() {
                MissingTokenType::AssumeBearer
            } else {
                MissingTokenType::Reject
            },
            bearer_aliases: token_type
                .filter(|t| !t.eq_ignore_ascii_case("bearer"))
                .map(|t| vec![t.to_owned()])
                .unwrap_or_default(),
            ..ResponseShape::default()
        }
    }
}

fn has_any(object: &Map<String, Value>, names: &[&str]) -> bool {
    names.iter().any(|name| object.contains_key(*name))
}

/// A number, or a string holding one.
fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A form-encoded body as an object of strings, when it is one.
pub(crate) fn form_object(body: &[u8]) -> Option<Map<String, Value>> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains('=') || text.trim_start().starts_with(['{', '[', '<']) {
        return None;
    }
    Some(
        form_urlencoded::parse(text.trim().as_bytes())
            .map(|(name, value)| (name.into_owned(), Value::from(value.into_owned())))
            .collect(),
    )
}

/// The error code an answer carries, in whichever format: `error`, the
/// first item of an `errors` array, or a problem's `title`.
pub(crate) fn error_code(response: &HttpResponse) -> Option<String> {
    let object = match response.json() {
        Some(Value::Object(object)) => object,
        _ => form_object(&response.body)?,
    };
    if let Some(code) = object.get("error").and_then(Value::as_str) {
        return Some(code.to_owned());
    }
    if let Some(Value::Array(items)) = object.get("errors") {
        let item = items.first()?;
        for member in ["code", "errorType", "title", "status"] {
            match item.get(member) {
                Some(Value::String(text)) => return Some(format!("{member} {text}")),
                Some(Value::Number(number)) => return Some(format!("{member} {number}")),
                _ => {}
            }
        }
    }
    object
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The error format an error answer shows.
fn error_format(response: &HttpResponse) -> Option<ErrorFormat> {
    if response.header("content-type").is_some_and(|t| {
        t.to_ascii_lowercase()
            .starts_with("application/problem+json")
    }) {
        return Some(ErrorFormat::Problem);
    }
    match response.json() {
        Some(Value::Object(object)) if matches!(object.get("errors"), Some(Value::Array(_))) => {
            Some(ErrorFormat::ErrorsArray)
        }
        Some(Value::Object(object)) if object.contains_key("error") => Some(ErrorFormat::Rfc6749),
        _ => form_object(&response.body)
            .filter(|object| object.contains_key("error"))
            .map(|_| ErrorFormat::Rfc6749),
    }
}

/// Whether an answer refuses the client itself (as opposed to the grant or
/// the request): 401, or `invalid_client`.
fn refuses_client(response: &HttpResponse) -> bool {
    response.status == 401
        || error_code(response).is_some_and(|code| {
            code == "invalid_client" || code.ends_with(" 401") || code.contains("invalid_client")
        })
}

/// One word on an answer: `200 token`, `400 invalid_request`, `404`.
pub(crate) fn answer_label(response: &HttpResponse) -> String {
    if TokenSeen::read(response).is_some() {
        return format!("{} token", response.status);
    }
    match error_code(response) {
        Some(code) => format!("{} {}", response.status, clean(&code)),
        None => {
            let media = response
                .header("content-type")
                .map(|t| format!(" ({})", clean(t.split(';').next().unwrap_or(t).trim())))
                .unwrap_or_default();
            format!("{}{media}", response.status)
        }
    }
}

/// Other names a provider may read the scope under, tried in this order
/// when the answer to `scope` shows it ignored. Short on purpose: each one
/// costs a request. `scopes`: Shopware 6 (`"scopes": "write"`).
pub(crate) const SCOPE_ALTERNATIVES: &[&str] = &["scopes"];

/// The scope a token answer says was granted, and where it says so: its
/// scope member, else the access token's `scope`, `scp` or `scopes` claim
/// when it is a JWT (read, not verified). `None` when the answer does not
/// say: then nothing can be told from it.
fn granted_scope(response: &HttpResponse) -> Option<(BTreeSet<String>, String)> {
    let token = TokenSeen::read(response)?;
    if let Some((name, value)) = token.member(SCOPE) {
        return Some((
            grantspec_conformance::scope_from_json(value)?,
            format!("its `{name}` member"),
        ));
    }
    let access = token.member(ACCESS_TOKEN)?.1.as_str()?;
    let (claim, granted) = grantspec_conformance::jwt_scope(access)?;
    Some((granted, format!("the access token's `{claim}` claim")))
}

fn scope_text(scope: &BTreeSet<String>) -> String {
    if scope.is_empty() {
        return "nothing".to_owned();
    }
    let names: Vec<&str> = scope.iter().map(String::as_str).collect();
    format!("`{}`", names.join(" "))
}

/// Rule 1, the trigger: the answer to a request for `requested` issued a
/// token and says it granted none of it. Then the server may read the
/// scope under another name. A refusal, a token that does not say what it
/// grants, or one that grants any of the scope asked for is no sign.
pub(crate) fn scope_ignored(
    requested: &BTreeSet<String>,
    response: &HttpResponse,
) -> Option<String> {
    let (granted, said) = granted_scope(response)?;
    granted.is_disjoint(requested).then(|| {
        format!(
            "asked for {}, granted {} ({said})",
            scope_text(requested),
            scope_text(&granted)
        )
    })
}

/// Rule 2, the trigger: the request with `scope` was refused, not for its
/// client or scope (no `invalid_client`, no `invalid_scope`), by an answer
/// whose body names one of [`SCOPE_ALTERNATIVES`] as a word (`"scopes" is
/// required`): the names it names, to try first. The names are only tried:
/// what infers one is its answer ([`scope_honoured`]).
pub(crate) fn scope_names_named(response: &HttpResponse) -> Vec<&'static str> {
    if TokenSeen::read(response).is_some() || refuses_client(response) {
        return Vec::new();
    }
    if error_code(response).is_some_and(|code| code.contains("invalid_scope")) {
        return Vec::new();
    }
    let body = String::from_utf8_lossy(&response.body);
    let words: BTreeSet<&str> = body
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .collect();
    SCOPE_ALTERNATIVES
        .iter()
        .copied()
        .filter(|name| words.contains(name))
        .collect()
}

/// The evidence, for both rules: the answer to the request that sent the
/// scope under another name issued a token that says it granted all of it,
/// as the RFC name should have; or, when `scope` was refused by an answer
/// naming this name (rule 2), a token that does not say what it granted:
/// the refusal is gone. Anything else (a refusal, part of the scope,
/// silence after a token that ignored the scope) infers nothing.
pub(crate) fn scope_honoured(
    requested: &BTreeSet<String>,
    response: &HttpResponse,
    refused_naming_it: bool,
) -> Result<String, String> {
    match granted_scope(response) {
        Some((granted, said)) if granted.is_superset(requested) && !requested.is_empty() => {
            Ok(format!("granted {} ({said})", scope_text(&granted)))
        }
        Some((granted, said)) => Err(format!("granted {} ({said})", scope_text(&granted))),
        None if TokenSeen::read(response).is_some() && refused_naming_it => Ok(format!(
            "{}, where `scope` was refused",
            answer_label(response)
        )),
        None if TokenSeen::read(response).is_some() => Err(format!(
            "{}, which does not say what it granted",
            answer_label(response)
        )),
        None => Err(answer_label(response)),
    }
}

fn auth_name(auth: ClientAuth) -> &'static str {
    match auth {
        ClientAuth::Basic => "basic",
        ClientAuth::Post => "post",
        ClientAuth::None => "none",
        ClientAuth::ClientSecretJwt => "client_secret_jwt",
        ClientAuth::PrivateKeyJwt => "private_key_jwt",
    }
}

fn body_name(body: BodyEncoding) -> &'static str {
    match body {
        BodyEncoding::Form => "form",
        BodyEncoding::Json => "json",
    }
}

/// The `with` of the baseline grant: the client, and the user for the
/// password grant; `secret` replaces the client secret.
fn credentials_with(
    session: &Session<'_>,
    client_id: &str,
    secret: Option<&str>,
) -> Vec<(String, WithValue)> {
    let mut with = vec![("client_id".to_owned(), WithValue::One(client_id.to_owned()))];
    if session.config.credentials.client_secret.is_some() {
        let secret = secret.unwrap_or("${client_secret}");
        with.push((
            "client_secret".to_owned(),
            WithValue::One(secret.to_owned()),
        ));
    }
    if session.config.grant == ProbeGrant::Password {
        with.push((
            "username".to_owned(),
            WithValue::One("${username}".to_owned()),
        ));
        with.push((
            "password".to_owned(),
            WithValue::One("${password}".to_owned()),
        ));
    }
    with
}

/// A one-step case of the baseline grant with this shape.
fn grant_case(
    session: &Session<'_>,
    name: String,
    description: String,
    area: Option<Area>,
    shape: Shape,
) -> ProbeCase {
    ProbeCase {
        name,
        description,
        area,
        rename: BTreeMap::new(),
        steps: vec![ProbeStep {
            id: None,
            grant: session.config.grant.kind(),
            with: credentials_with(session, "${client_id}", None),
            shape,
            lists: None,
            method: None,
            omit: Vec::new(),
        }],
    }
}

fn shape_case_name(shape: Shape) -> String {
    format!(
        "token_{}_{}",
        body_name(shape.body),
        auth_name(shape.client_auth)
    )
}

fn shape_description(session: &Session<'_>, shape: Shape) -> String {
    let auth = match shape.client_auth {
        ClientAuth::Basic => "HTTP Basic client authentication (RFC 6749 §2.3.1)",
        ClientAuth::Post => "client_id and client_secret in the body",
        ClientAuth::None => "only client_id, no client authentication",
        ClientAuth::ClientSecretJwt => "a client assertion signed with the client secret",
        ClientAuth::PrivateKeyJwt => "a client assertion signed with the client's private key",
    };
    format!(
        "{}, {} body, {auth}.",
        session.config.grant.kind().as_str(),
        body_name(shape.body)
    )
}

fn ran_named(session: &Session<'_>, name: &str) -> bool {
    session.ran.iter().any(|ran| ran.case.name == name)
        || session.skipped.iter().any(|(skipped, _)| skipped == name)
}

/// The answer to the baseline request of the dialect's shape.
fn baseline_answer<'s>(session: &'s Session<'_>, dialect: &Dialect) -> Option<&'s HttpResponse> {
    let name = shape_case_name(dialect.shape);
    let index = session.ran.iter().position(|ran| ran.case.name == name)?;
    first_response(session, index)
}

fn first_response<'s>(session: &'s Session<'_>, index: usize) -> Option<&'s HttpResponse> {
    session.ran[index].run.exchanges.first()?.response.as_ref()
}

/// The baseline: the first shape, most conformant first, that gets a token;
/// else the first whose refusal is not about the client. Its answer gives
/// the response shape.
pub(crate) async fn baseline(
    session: &mut Session<'_>,
    metadata: Option<&MetadataSeen>,
) -> Result<Dialect, ProbeError> {
    let has_secret = session.config.credentials.client_secret.is_some();
    let mut candidates: Vec<Shape> = if has_secret {
        vec![
            Shape {
                body: BodyEncoding::Form,
                client_auth: ClientAuth::Basic,
            },
            Shape {
                body: BodyEncoding::Form,
                client_auth: ClientAuth::Post,
            },
            Shape {
                body: BodyEncoding::Json,
                client_auth: ClientAuth::Post,
            },
            Shape {
                body: BodyEncoding::Json,
                client_auth: ClientAuth::Basic,
            },
        ]
    } else {
        vec![
            Shape {
                body: BodyEncoding::Form,
                client_auth: ClientAuth::None,
            },
            Shape {
                body: BodyEncoding::Json,
                client_auth: ClientAuth::None,
            },
        ]
    };
    // Metadata that lists client authentication methods puts them first.
    if let Some(listed) = metadata.and_then(super::discovery::auth_methods) {
        candidates.sort_by_key(|shape| !listed.contains(&shape.client_auth));
    }
    let mut fallback: Option<(usize, Shape)> = None;
    let mut first: Option<(usize, Shape)> = None;
    for shape in candidates {
        let case = grant_case(
            session,
            shape_case_name(shape),
            format!("Probe baseline: {}", shape_description(session, shape)),
            None,
            shape,
        );
        let Some(index) = session.run(case, &Dialect::provisional(shape)).await? else {
            if session.stopped.is_some() {
                break;
            }
            continue;
        };
        let Some(response) = first_response(session, index) else {
            continue;
        };
        if let Some(token) = TokenSeen::read(response) {
            let mut dialect = Dialect::provisional(shape);
            dialect.response = token.shape();
            dialect.issued = Some(index);
            dialect.errors = errors_seen(session).unwrap_or_default();
            return Ok(dialect);
        }
        first.get_or_insert((index, shape));
        if fallback.is_none() && !refuses_client(response) && response.status < 500 {
            fallback = Some((index, shape));
        }
    }
    if let (None, Some(why)) = (&first, &session.stopped) {
        return Err(ProbeError::Throttled(clean(why)));
    }
    let Some((_, shape)) = fallback.or(first) else {
        let why: Vec<String> = session
            .skipped
            .iter()
            .map(|(what, why)| format!("{what}: {why}"))
            .collect();
        return Err(ProbeError::Unreachable(clean(&why.join("; "))));
    };
    let mut dialect = Dialect::provisional(shape);
    dialect.errors = errors_seen(session).unwrap_or_default();
    Ok(dialect)
}

/// The error format of the first error answer seen.
fn errors_seen(session: &Session<'_>) -> Option<ErrorFormat> {
    session
        .ran
        .iter()
        .flat_map(|ran| &ran.run.exchanges)
        .filter_map(|exchange| exchange.response.as_ref())
        .filter(|response| TokenSeen::read(response).is_none())
        .find_map(error_format)
}

/// Client authentication: the methods the baseline did not try, with the
/// dialect's body.
pub(crate) async fn client_auth(
    session: &mut Session<'_>,
    dialect: &Dialect,
) -> Result<(), ProbeError> {
    let has_secret = session.config.credentials.client_secret.is_some();
    for auth in [ClientAuth::Basic, ClientAuth::Post, ClientAuth::None] {
        if !has_secret && auth != ClientAuth::None {
            continue;
        }
        let shape = Shape {
            body: dialect.shape.body,
            client_auth: auth,
        };
        let name = shape_case_name(shape);
        if ran_named(session, &name) {
            continue;
        }
        let description = format!(
            "Client authentication: {}",
            shape_description(session, shape)
        );
        let case = grant_case(
            session,
            name,
            description,
            Some(super::Area::ClientAuth),
            shape,
        );
        session.run(case, dialect).await?;
    }
    Ok(())
}

/// Methods and body encodings: the other body encoding with the dialect's
/// client authentication, and GET instead of POST.
pub(crate) async fn encodings(
    session: &mut Session<'_>,
    dialect: &Dialect,
) -> Result<(), ProbeError> {
    let other = match dialect.shape.body {
        BodyEncoding::Form => BodyEncoding::Json,
        BodyEncoding::Json => BodyEncoding::Form,
    };
    let shape = Shape {
        body: other,
        client_auth: dialect.shape.client_auth,
    };
    let name = shape_case_name(shape);
    if !ran_named(session, &name) {
        let description = format!("Body encoding: {}", shape_description(session, shape));
        let case = grant_case(session, name, description, Some(Area::Encoding), shape);
        session.run(case, dialect).await?;
    }
    let mut case = grant_case(
        session,
        "method_get".to_owned(),
        "Method: the baseline request sent with GET instead of POST (RFC 6749 §3.2 requires POST)."
            .to_owned(),
        Some(Area::Encoding),
        dialect.shape,
    );
    case.steps[0].method = Some("GET");
    session.run(case, dialect).await?;
    Ok(())
}

/// Scope: the scopes given, space-joined and repeated; without any, a
/// made-up scope, to see whether it is refused or dropped. When the answer
/// to the first shows the scope ignored ([`scope_ignored`]), the same
/// request is sent with each of [`SCOPE_ALTERNATIVES`] in turn, until one
/// is honoured ([`scope_honoured`]): that name is the dialect's.
pub(crate) async fn scope(
    session: &mut Session<'_>,
    dialect: &mut Dialect,
) -> Result<(), ProbeError> {
    let scopes = session.config.scopes.clone();
    let shape = dialect.shape;
    let case = |session: &Session<'_>, name: &str, description: String, style, scope: &[String]| {
        let mut case = grant_case(
            session,
            name.to_owned(),
            description,
            Some(Area::Scope),
            shape,
        );
        case.steps[0]
            .with
            .push(("scope".to_owned(), WithValue::List(scope.to_vec())));
        case.steps[0].lists = Some(style);
        case
    };
    let (name, description, asked) = if scopes.is_empty() {
        (
            "unknown_scope",
            "Scope: a made-up scope; refused (invalid_scope) or dropped from the grant.".to_owned(),
            vec![format!("{MADE_UP}-unknown-scope")],
        )
    } else {
        (
            "scope_requested",
            "Scope: the scopes given, space-joined (RFC 6749 §3.3); what is granted against what was asked.".to_owned(),
            scopes.clone(),
        )
    };
    let requested: BTreeSet<String> = asked.iter().cloned().collect();
    let first = case(session, name, description.clone(), dialect.lists, &asked);
    let Some(index) = session.run(first, dialect).await? else {
        return Ok(());
    };
    let mut joined_accepted = first_response(session, index)
        .and_then(TokenSeen::read)
        .is_some();
    let answer = first_response(session, index);
    let named = answer.map(scope_names_named).unwrap_or_default();
    let ignored = match (answer, named.is_empty()) {
        (Some(answer), false) => Some(format!(
            "{name}: refused ({}), naming {}",
            answer_label(answer),
            named
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (Some(answer), true) => {
            scope_ignored(&requested, answer).map(|seen| format!("{name}: {seen}"))
        }
        (None, _) => None,
    };
    if let Some(ignored) = ignored {
        let mut trial = NameTrial {
            rfc_name: "scope",
            ignored,
            tried: Vec::new(),
            inferred: None,
        };
        // The names the refusal named, else every alternative, in order.
        let alternatives: &[&'static str] = if named.is_empty() {
            SCOPE_ALTERNATIVES
        } else {
            &named
        };
        for alternative in alternatives {
            let renamed = dialect.renaming("scope", alternative);
            let description = format!(
                "{description} The scope sent as `{alternative}`: the answer to `scope` showed it ignored."
            );
            let probe = case(
                session,
                &format!("{name}_as_{alternative}"),
                description,
                dialect.lists,
                &asked,
            );
            let Some(index) = session.run(probe, &renamed).await? else {
                break;
            };
            let Some(response) = first_response(session, index) else {
                continue;
            };
            match scope_honoured(&requested, response, !named.is_empty()) {
                Ok(seen) => {
                    trial.tried.push((alternative, seen));
                    trial.inferred = Some(alternative);
                    *dialect = renamed;
                    joined_accepted = true;
                    break;
                }
                Err(seen) => trial.tried.push((alternative, seen)),
            }
        }
        dialect.name_trials.push(trial);
    }
    if scopes.len() > 1 {
        let repeated = case(
            session,
            "scope_repeated",
            "Scope: the scopes given, as a repeated parameter; what is granted against what was asked.".to_owned(),
            ListStyle::Repeat,
            &scopes,
        );
        if let Some(index) = session.run(repeated, dialect).await? {
            let repeat_accepted = first_response(session, index)
                .and_then(TokenSeen::read)
                .is_some();
            if repeat_accepted && !joined_accepted {
                dialect.lists = ListStyle::Repeat;
            }
        }
    }
    Ok(())
}

/// Errors: a wrong secret, an unknown client, an unsupported grant type and
/// a missing `grant_type`.
pub(crate) async fn errors(
    session: &mut Session<'_>,
    dialect: &mut Dialect,
) -> Result<(), ProbeError> {
    let wrong = format!("{MADE_UP}-wrong-secret");
    let has_secret = session.config.credentials.client_secret.is_some();
    // When the server refused the baseline grant itself, a bad client sent
    // with it may never be judged as one: a refresh (with a made-up token),
    // a grant most servers take, gets the client judged first.
    let grant_refused = dialect.issued.is_none()
        && baseline_answer(session, dialect)
            .and_then(error_code)
            .is_some_and(|code| code == "unsupported_grant_type" || code == "unauthorized_client");
    let bad_client = |session: &Session<'_>, name: &str, what: &str, client_id: &str| {
        let mut case = grant_case(
            session,
            name.to_owned(),
            String::new(),
            Some(Area::Errors),
            dialect.shape,
        );
        let step = &mut case.steps[0];
        step.with = credentials_with(session, client_id, Some(&wrong));
        if grant_refused {
            step.grant = GrantKind::RefreshToken;
            step.with
                .retain(|(name, _)| name == "client_id" || name == "client_secret");
            step.with.push((
                "refresh_token".to_owned(),
                WithValue::One(format!("{MADE_UP}-unknown-refresh-token")),
            ));
            case.description = format!(
                "Error: {what}, with a refresh (the server refused the baseline grant itself)."
            );
        } else {
            case.description = format!("Error: {what}, with the baseline grant.");
        }
        case
    };
    if has_secret {
        let case = bad_client(
            session,
            "wrong_client_secret",
            "a wrong client secret",
            "${client_id}",
        );
        session.run(case, dialect).await?;
    }
    let unknown = format!("{MADE_UP}-unknown-client");
    let case = bad_client(
        session,
        "unknown_client",
        "a client id the server does not know",
        &unknown,
    );
    session.run(case, dialect).await?;
    let mut case = grant_case(
        session,
        "unsupported_grant_type".to_owned(),
        "Error: a grant type no server supports.".to_owned(),
        Some(Area::Errors),
        dialect.shape,
    );
    case.steps[0].with.push((
        "grant_type".to_owned(),
        WithValue::One("urn:grantspec:probe:unsupported".to_owned()),
    ));
    session.run(case, dialect).await?;
    let mut case = grant_case(
        session,
        "missing_grant_type".to_owned(),
        "Error: the baseline request without grant_type.".to_owned(),
        Some(Area::Errors),
        dialect.shape,
    );
    case.steps[0].omit.push("grant_type");
    session.run(case, dialect).await?;
    if let Some(format) = errors_seen(session) {
        dialect.errors = format;
    }
    Ok(())
}

/// Refresh: when the baseline issued a refresh token, refresh with it, then
/// present it again: a new refresh token means rotation, and the second
/// answer says whether the used one stays valid.
pub(crate) async fn refresh(
    session: &mut Session<'_>,
    dialect: &Dialect,
) -> Result<(), ProbeError> {
    let Some(issued) = dialect.issued else {
        return Ok(());
    };
    let Some(token) = first_response(session, issued).and_then(TokenSeen::read) else {
        return Ok(());
    };
    if token.member(REFRESH_TOKEN).is_none() {
        return Ok(());
    }
    if token.encoding != ResponseEncoding::Json {
        session.skipped.push((
            "refresh_rotation".to_owned(),
            "the refresh token came in a form-encoded answer, which a later step cannot capture"
                .to_owned(),
        ));
        return Ok(());
    }
    let member = dialect.refresh_member().to_owned();
    let first = format!("${{first.{member}}}");
    let refresh = |id: Option<&'static str>| ProbeStep {
        id,
        grant: GrantKind::RefreshToken,
        with: {
            let mut with = credentials_with(session, "${client_id}", None);
            with.retain(|(name, _)| name == "client_id" || name == "client_secret");
            with.push(("refresh_token".to_owned(), WithValue::One(first.clone())));
            with
        },
        shape: dialect.shape,
        lists: None,
        method: None,
        omit: Vec::new(),
    };
    let mut login = grant_case(session, String::new(), String::new(), None, dialect.shape).steps;
    login[0].id = Some("first");
    let case = ProbeCase {
        name: "refresh_rotation".to_owned(),
        description: "Refresh: the baseline grant, a refresh with its refresh token, then the same refresh token again.".to_owned(),
        area: Some(Area::Refresh),
        rename: BTreeMap::new(),
        steps: vec![login.remove(0), refresh(Some("second")), refresh(None)],
    };
    session.run(case, dialect).await?;
    Ok(())
}

/// What the checks found, and what the spec declares.
#[derive(Debug, Default)]
pub(crate) struct Judged {
    /// The deviation ids the spec declares.
    pub declared: BTreeSet<&'static str>,
    /// By run: whether the written spec keeps it, or why not.
    pub dropped: Vec<Option<String>>,
    /// Per deviation, the checks that showed it and where.
    pub evidence: Vec<(&'static str, String)>,
}

/// Why a case's request is not what the dialect sends, when it named a
/// parameter other than the dialect does: an RFC name the server turned out
/// to ignore, or another name it did not honour. `None` when it names every
/// parameter as the dialect does.
fn sent_under_other_names(case: &ProbeCase, dialect: &Dialect) -> Option<String> {
    let wire = |rename: &BTreeMap<String, String>, name: &str| {
        rename.get(name).cloned().unwrap_or_else(|| name.to_owned())
    };
    case.steps
        .iter()
        .flat_map(|step| &step.with)
        .map(|(name, _)| name)
        .find_map(|name| {
            let sent = wire(&case.rename, name);
            let dialect_name = wire(&dialect.rename, name);
            (sent != dialect_name).then(|| {
                format!("it sent `{name}` as `{sent}`; the spec sends it as `{dialect_name}`")
            })
        })
}

/// Whether a step is what the dialect builds (no `request:` override).
pub(crate) fn profile_shaped(step: &ProbeStep, dialect: &Dialect) -> bool {
    step.shape == dialect.shape
        && step.lists.is_none_or(|lists| lists == dialect.lists)
        && step.method.is_none()
        && step.omit.is_empty()
}

/// Judges every run as the runner will judge the written spec: the
/// exchanges the dialect shapes together (`check_case`), the bent ones
/// alone (`check_exchanges`, their request side not applicable). The spec
/// declares what the shaped ones show; a deviation only a bent request
/// shows is declared too when no shaped exchange exercised its checks, and
/// otherwise that case is left out (the run would fail it as drift, and
/// declaring it would fail the provider as "no longer deviates").
pub(crate) fn judge(
    session: &Session<'_>,
    dialect: &Dialect,
    metadata: Option<&MetadataSeen>,
) -> Judged {
    let mut shaped_all: Vec<Finding> = Vec::new();
    let mut bent_by_run: Vec<Vec<Finding>> = Vec::new();
    let stale: Vec<Option<String>> = session
        .ran
        .iter()
        .map(|ran| sent_under_other_names(&ran.case, dialect))
        .collect();
    for (ran, stale) in session.ran.iter().zip(&stale) {
        // A request sent under names the dialect does not use is not what
        // the written spec sends: neither judged nor written.
        if stale.is_some() {
            bent_by_run.push(Vec::new());
            continue;
        }
        let bodies: Vec<Option<Value>> = ran
            .run
            .exchanges
            .iter()
            .map(|e| e.response.as_ref().and_then(HttpResponse::json))
            .collect();
        let mut shaped = Vec::new();
        let mut bent = Vec::new();
        for ((exchange, json), step) in ran.run.exchanges.iter().zip(&bodies).zip(&ran.case.steps) {
            let Some(response) = &exchange.response else {
                continue;
            };
            let is_shaped = profile_shaped(step, dialect);
            let facts = ExchangeFacts {
                request: &exchange.request,
                response,
                json: json.as_ref(),
                grant_type: exchange.grant_type.as_deref(),
                request_is_profile_shaped: is_shaped,
                kind: exchange.kind,
            };
            if is_shaped {
                shaped.push(facts)
            } else {
                bent.push(facts)
            }
        }
        let (each, together) = rfc::check_case(&shaped, Details::All);
        let mut findings: Vec<Finding> = each.into_iter().flatten().collect();
        findings.extend(together);
        // A spec that names its metadata has every case judged against it,
        // over all of the case's exchanges (as the runner does).
        if let Some(metadata) = metadata {
            let every: Vec<ExchangeFacts<'_>> = shaped.iter().chain(&bent).copied().collect();
            findings.extend(rfc::check_metadata(&metadata.facts(), &every, Details::All));
        }
        shaped_all.extend(findings);
        bent_by_run.push(
            rfc::check_exchanges(&bent, Details::All)
                .into_iter()
                .flatten()
                .collect(),
        );
    }
    let mut declared = rfc::observed_deviations(&shaped_all);
    let exercised = rfc::exercised_deviations(&shaped_all);
    let mut evidence: Vec<(&'static str, String)> = shaped_all
        .iter()
        .filter(|f| f.outcome.is_deviation())
        .map(|f| (f.check.deviation, format!("{}: {}", f.check.id, f.detail)))
        .collect();
    let mut dropped = Vec::new();
    for ((ran, bent), stale) in session.ran.iter().zip(&bent_by_run).zip(stale) {
        if stale.is_some() {
            dropped.push(stale);
            continue;
        }
        let extra: BTreeSet<&'static str> = rfc::observed_deviations(bent)
            .difference(&declared)
            .copied()
            .collect();
        let conflicting: Vec<&str> = extra
            .iter()
            .copied()
            .filter(|id| exercised.contains(id))
            .collect();
        if conflicting.is_empty() {
            declared.extend(extra.iter().copied());
            evidence.extend(
                bent.iter()
                    .filter(|f| f.outcome.is_deviation() && extra.contains(f.check.deviation))
                    .map(|f| {
                        (
                            f.check.deviation,
                            format!("{} ({}, bent): {}", f.check.id, ran.case.name, f.detail),
                        )
                    }),
            );
            dropped.push(None);
        } else {
            dropped.push(Some(format!(
                "its bent request shows {}, which the dialect's own requests do not",
                conflicting.join(", ")
            )));
        }
    }
    evidence.sort();
    evidence.dedup();
    Judged {
        declared,
        dropped,
        evidence,
    }
}

/// The table rows of what the probe saw.
pub(crate) fn table(session: &Session<'_>, dialect: &Dialect, judged: &Judged) -> Vec<[String; 3]> {
    let mut rows: Vec<[String; 3]> = Vec::new();
    let mut row =
        |area: &str, what: &str, seen: String| rows.push([area.to_owned(), what.to_owned(), seen]);
    row(
        "endpoint",
        "token URL",
        clean(session.config.token_url.as_str()),
    );
    for ran in &session.ran {
        let answers: Vec<String> = ran
            .run
            .exchanges
            .iter()
            .map(|e| {
                e.response
                    .as_ref()
                    .map_or_else(|| "no answer".to_owned(), answer_label)
            })
            .collect();
        row("request", &ran.case.name, answers.join(" → "));
    }
    let shape = dialect.shape;
    row(
        "dialect",
        "request",
        format!(
            "POST, {} body, client authentication {}, lists {}",
            body_name(shape.body),
            auth_name(shape.client_auth),
            match dialect.lists {
                ListStyle::SpaceJoined => "space-joined",
                ListStyle::Repeat => "repeated",
            }
        ),
    );
    let accepted = |name: &str| {
        session
            .ran
            .iter()
            .find(|ran| ran.case.name == name)
            .and_then(|ran| ran.run.exchanges.first()?.response.as_ref())
            .map(|response| {
                if TokenSeen::read(response).is_some() {
                    "accepted".to_owned()
                } else if refuses_client(response) {
                    format!("refused ({})", answer_label(response))
                } else {
                    format!(
                        "no token ({}), and no sign the client was refused",
                        answer_label(response)
                    )
                }
            })
    };
    for auth in [ClientAuth::Basic, ClientAuth::Post, ClientAuth::None] {
        let name = shape_case_name(Shape {
            body: shape.body,
            client_auth: auth,
        });
        row(
            "client-auth",
            auth_name(auth),
            accepted(&name).unwrap_or_else(|| "not probed".to_owned()),
        );
    }
    let credentials = &session.config.credentials;
    let reserved = |text: &str| {
        !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"*-._".contains(&b))
    };
    let basic_encoding = if !reserved(&credentials.client_id)
        && !credentials
            .client_secret
            .as_ref()
            .is_some_and(|s| reserved(grantspec_token::ExposeSecret::expose_secret(s)))
    {
        "not shown: the id and secret have no character that form-encoding changes".to_owned()
    } else {
        match accepted(&shape_case_name(Shape {
            body: shape.body,
            client_auth: ClientAuth::Basic,
        })) {
            Some(seen) if seen == "accepted" => {
                "form-encoded before base64 (RFC 6749 §2.3.1): accepted".to_owned()
            }
            Some(seen) => format!("form-encoded before base64 (RFC 6749 §2.3.1): {seen}"),
            None => "not probed".to_owned(),
        }
    };
    row("client-auth", "basic encoding", basic_encoding);
    for body in [BodyEncoding::Form, BodyEncoding::Json] {
        let name = shape_case_name(Shape {
            body,
            client_auth: shape.client_auth,
        });
        row(
            "encoding",
            &format!("{} body", body_name(body)),
            accepted(&name).unwrap_or_else(|| "not probed".to_owned()),
        );
    }
    row(
        "encoding",
        "GET",
        accepted("method_get").unwrap_or_else(|| "not probed".to_owned()),
    );
    match dialect
        .issued
        .and_then(|index| first_response(session, index))
    {
        Some(response) => {
            let token = TokenSeen::read(response);
            row(
                "response",
                "content-type",
                response
                    .header("content-type")
                    .map_or_else(|| "(none)".to_owned(), clean),
            );
            row(
                "response",
                "encoding",
                match dialect.response.encoding {
                    ResponseEncoding::Json => "json".to_owned(),
                    ResponseEncoding::Form => "form".to_owned(),
                },
            );
            row(
                "response",
                "envelope",
                dialect
                    .response
                    .envelope
                    .as_deref()
                    .map_or_else(|| "none".to_owned(), clean),
            );
            if let Some(token) = &token {
                let names: Vec<String> = token.object.keys().map(|k| clean(k)).collect();
                row("response", "members", names.join(", "));
                row(
                    "response",
                    "token_type",
                    token
                        .member(TOKEN_TYPE)
                        .map_or_else(|| "absent".to_owned(), |(_, v)| clean(&v.to_string())),
                );
                let expiry = [EXPIRES_IN, EXPIRES]
                    .iter()
                    .filter_map(|names| token.member(names))
                    .map(|(name, value)| {
                        let kind = if value.is_number() {
                            "number"
                        } else {
                            "string"
                        };
                        format!("{name} ({kind})")
                    })
                    .collect::<Vec<_>>();
                row(
                    "response",
                    "expiry",
                    if expiry.is_empty() {
                        "none".to_owned()
                    } else {
                        expiry.join(", ")
                    },
                );
                row(
                    "response",
                    "refresh token",
                    if token.member(REFRESH_TOKEN).is_some() {
                        "issued"
                    } else {
                        "none"
                    }
                    .to_owned(),
                );
                row(
                    "scope",
                    "baseline (none asked)",
                    token.member(SCOPE).map_or_else(
                        || "no scope member".to_owned(),
                        |(_, v)| clean(&v.to_string()),
                    ),
                );
            }
            for header in ["cache-control", "pragma"] {
                row(
                    "response",
                    header,
                    response
                        .header(header)
                        .map_or_else(|| "(none)".to_owned(), clean),
                );
            }
        }
        None => row(
            "response",
            "token",
            "none issued: no success answer to read".to_owned(),
        ),
    }
    for name in ["scope_requested", "scope_repeated", "unknown_scope"] {
        if let Some(ran) = session.ran.iter().find(|ran| ran.case.name == name) {
            let seen = ran
                .run
                .exchanges
                .first()
                .and_then(|e| e.response.as_ref())
                .map(|response| match granted_scope(response) {
                    Some((granted, said)) => format!(
                        "{}; scope granted: {} ({said})",
                        answer_label(response),
                        clean(&scope_text(&granted))
                    ),
                    None if TokenSeen::read(response).is_some() => {
                        format!("{}; scope granted: not said", answer_label(response))
                    }
                    None => answer_label(response),
                });
            row("scope", name, seen.unwrap_or_default());
        }
    }
    row(
        "errors",
        "format",
        match dialect.errors {
            ErrorFormat::Rfc6749 => "rfc6749",
            ErrorFormat::ErrorsArray => "errors_array",
            ErrorFormat::Problem => "problem",
        }
        .to_owned(),
    );
    for ran in session
        .ran
        .iter()
        .filter(|ran| ran.case.area == Some(Area::Errors))
    {
        if let Some(response) = ran.run.exchanges.first().and_then(|e| e.response.as_ref()) {
            let challenge = response.header("www-authenticate").map_or_else(
                || "no challenge".to_owned(),
                |c| format!("WWW-Authenticate: {}", clean(c)),
            );
            row(
                "errors",
                &ran.case.name,
                format!("{}; {challenge}", answer_label(response)),
            );
        }
    }
    if let Some(ran) = session
        .ran
        .iter()
        .find(|ran| ran.case.name == "refresh_rotation")
    {
        row("refresh", "rotation", refresh_behaviour(ran, dialect));
    }
    for trial in &dialect.name_trials {
        let tried: Vec<String> = trial
            .tried
            .iter()
            .map(|(name, seen)| format!("as `{name}`, {seen}"))
            .collect();
        let tried = if tried.is_empty() {
            "no other name could be sent".to_owned()
        } else {
            tried.join("; ")
        };
        let verdict = match trial.inferred {
            Some(name) => format!("sent as `{name}` (inferred)"),
            None => format!(
                "kept as `{}`: no other name tried was honoured",
                trial.rfc_name
            ),
        };
        row(
            "parameters",
            trial.rfc_name,
            format!(
                "{verdict}. As `{}`, {}; {tried}",
                trial.rfc_name,
                clean(&trial.ignored)
            ),
        );
    }
    let kept: Vec<&str> = ["grant_type", "client_id", "client_secret", "scope"]
        .into_iter()
        .filter(|name| !dialect.name_trials.iter().any(|t| t.rfc_name == *name))
        .collect();
    row(
        "parameters",
        "names",
        format!(
            "{}: sent under RFC 6749's names; another name is tried only for the scope, when an answer shows it ignored",
            kept.join(", ")
        ),
    );
    let declared: Vec<&str> = judged.declared.iter().copied().collect();
    row(
        "deviations",
        "declared",
        if declared.is_empty() {
            "none".to_owned()
        } else {
            declared.join(", ")
        },
    );
    for (id, evidence) in &judged.evidence {
        row("deviations", id, clean(evidence));
    }
    for (ran, dropped) in session.ran.iter().zip(&judged.dropped) {
        if let Some(why) = dropped {
            row("not written", &ran.case.name, why.clone());
        }
    }
    rows
}

/// What the refresh case showed.
fn refresh_behaviour(ran: &super::Ran, dialect: &Dialect) -> String {
    let member = dialect.refresh_member();
    let token = |at: usize| {
        ran.run
            .exchanges
            .get(at)
            .and_then(|e| e.response.as_ref())
            .and_then(TokenSeen::read)
    };
    let refresh = |at: usize| {
        token(at).and_then(|t| {
            t.object
                .get(member)
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
    };
    let (Some(first), Some(_)) = (refresh(0), token(1)) else {
        return "the refresh was refused".to_owned();
    };
    let rotated = match refresh(1) {
        Some(second) if second != first => "rotates (a new refresh token)",
        Some(_) => "reuses (the same refresh token back)",
        None => "no refresh token in the refresh answer",
    };
    let reuse = match token(2) {
        Some(_) => "the used one still works",
        None => "the used one is refused",
    };
    format!("{rotated}; {reuse}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        }
    }

    fn shape(body: &str) -> ResponseShape {
        TokenSeen::read(&answer(200, body)).unwrap().shape()
    }

    #[test]
    fn camel_case_members_are_renamed_and_a_missing_token_type_assumed_bearer() {
        let shape = shape(r#"{"accessToken":"a","expiresIn":"3600","refreshToken":"r"}"#);
        assert_eq!(shape.members.access_token.as_deref(), Some("accessToken"));
        assert_eq!(shape.members.expires_in.as_deref(), Some("expiresIn"));
        assert_eq!(shape.members.refresh_token.as_deref(), Some("refreshToken"));
        assert_eq!(shape.members.token_type, None);
        assert_eq!(shape.expiry, ExpiryStyle::ExpiresIn);
        assert_eq!(shape.missing_token_type, MissingTokenType::AssumeBearer);
    }

    #[test]
    fn an_envelope_and_absolute_or_relative_expires_are_read() {
        let shape =
            shape(r#"{"data":{"access_token":"a","token_type":"Bearer","expires":1924992000}}"#);
        assert_eq!(shape.envelope.as_deref(), Some("/data"));
        assert_eq!(shape.expiry, ExpiryStyle::Expires);
        assert!(shape.members.is_rfc6749());
        let relative = self::shape("access_token=a&expires=5183999");
        assert_eq!(relative.encoding, ResponseEncoding::Form);
        assert_eq!(relative.expiry, ExpiryStyle::ExpiresRelative);
        let both = self::shape(r#"{"access_token":"a","expires_in":60,"expires":1924992000}"#);
        assert_eq!(both.expiry, ExpiryStyle::Both);
        let none = self::shape(r#"{"access_token":"a","token_type":"bot"}"#);
        assert_eq!(none.expiry, ExpiryStyle::None);
        assert_eq!(none.bearer_aliases, ["bot"]);
    }

    /// A token answer whose access token is an unsigned JWT with `claims`.
    fn jwt_answer(claims: &str, extra: &str) -> HttpResponse {
        use base64::Engine as _;
        let encode = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        let jwt = format!("{}.{}.c2ln", encode(r#"{"alg":"none"}"#), encode(claims));
        answer(
            200,
            &format!(r#"{{"access_token":"{jwt}","token_type":"Bearer"{extra}}}"#),
        )
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn a_scope_is_ignored_only_when_the_answer_says_none_of_it_was_granted() {
        let asked = set(&["write"]);
        // Said by the JWT's claim, or by the scope member.
        let seen = scope_ignored(&asked, &jwt_answer(r#"{"scopes":[]}"#, "")).unwrap();
        assert!(seen.contains("the access token's `scopes` claim"), "{seen}");
        assert!(
            scope_ignored(
                &asked,
                &answer(200, r#"{"access_token":"a","scope":"read"}"#)
            )
            .is_some()
        );
        // Granted, in part or in full: the name was read.
        let partly = answer(200, r#"{"access_token":"a","scope":"read write"}"#);
        assert!(scope_ignored(&set(&["write", "admin"]), &partly).is_none());
        assert!(scope_ignored(&asked, &jwt_answer(r#"{"scp":"write"}"#, "")).is_none());
        // Silence is no sign: a token that does not say what it grants, or
        // a refusal.
        assert!(scope_ignored(&asked, &answer(200, r#"{"access_token":"opaque"}"#)).is_none());
        assert!(scope_ignored(&asked, &jwt_answer(r#"{"sub":"x"}"#, "")).is_none());
        assert!(scope_ignored(&asked, &answer(400, r#"{"error":"invalid_scope"}"#)).is_none());
    }

    #[test]
    fn another_name_is_inferred_only_when_its_answer_grants_the_whole_scope() {
        let asked = set(&["read", "write"]);
        let granted = jwt_answer(r#"{"scopes":["read","write"]}"#, "");
        assert!(
            scope_honoured(&asked, &granted, false)
                .unwrap()
                .contains("`read write`")
        );
        let stated = answer(200, r#"{"access_token":"a","scope":"read write admin"}"#);
        assert!(scope_honoured(&asked, &stated, false).is_ok());
        // Part of it, nothing, silence or a refusal: not inferred.
        let part = answer(200, r#"{"access_token":"a","scope":"read"}"#);
        assert!(scope_honoured(&asked, &part, false).is_err());
        assert!(scope_honoured(&asked, &jwt_answer(r#"{"scopes":[]}"#, ""), false).is_err());
        let silent = scope_honoured(&asked, &answer(200, r#"{"access_token":"opaque"}"#), false);
        assert!(silent.unwrap_err().contains("does not say"));
        let refused = answer(400, r#"{"error":"invalid_request"}"#);
        assert_eq!(
            scope_honoured(&asked, &refused, true).unwrap_err(),
            "400 invalid_request"
        );
        assert!(scope_honoured(&BTreeSet::new(), &stated, false).is_err());
        // After a refusal that named this name, a token is the change, as
        // long as it does not say it granted less.
        let opaque = answer(200, r#"{"access_token":"opaque"}"#);
        assert!(scope_honoured(&asked, &opaque, true).is_ok());
        assert!(scope_honoured(&asked, &part, true).is_err());
    }

    #[test]
    fn a_refusal_naming_another_scope_name_is_a_reason_to_try_it() {
        let missing = answer(
            400,
            r#"{"error":"invalid_request","error_description":"\"scopes\" is required"}"#,
        );
        assert_eq!(scope_names_named(&missing), ["scopes"]);
        let array = answer(
            400,
            r#"{"errors":[{"code":"3","detail":"Check the `scopes` parameter"}]}"#,
        );
        assert_eq!(scope_names_named(&array), ["scopes"]);
        // Not a word of it, a scope or client refusal, or a token: no reason.
        let scoped = answer(
            400,
            r#"{"error":"invalid_request","error_description":"bad scopes_list"}"#,
        );
        assert!(scope_names_named(&scoped).is_empty());
        let invalid_scope = answer(
            400,
            r#"{"error":"invalid_scope","error_description":"unknown scopes"}"#,
        );
        assert!(scope_names_named(&invalid_scope).is_empty());
        let client = answer(
            401,
            r#"{"error":"invalid_client","error_description":"scopes"}"#,
        );
        assert!(scope_names_named(&client).is_empty());
        let token = answer(200, r#"{"access_token":"a","scopes":"read"}"#);
        assert!(scope_names_named(&token).is_empty());
    }

    #[test]
    fn a_case_sent_under_other_names_than_the_dialects_is_not_written() {
        let shape = Shape {
            body: BodyEncoding::Form,
            client_auth: ClientAuth::Basic,
        };
        let dialect = Dialect::provisional(shape);
        let step = ProbeStep {
            id: None,
            grant: GrantKind::ClientCredentials,
            with: vec![("scope".to_owned(), WithValue::One("write".to_owned()))],
            shape,
            lists: None,
            method: None,
            omit: Vec::new(),
        };
        let case = ProbeCase {
            name: "scope_requested".to_owned(),
            description: String::new(),
            area: Some(Area::Scope),
            steps: vec![step],
            rename: BTreeMap::new(),
        };
        assert_eq!(sent_under_other_names(&case, &dialect), None);
        let renamed = dialect.renaming("scope", "scopes");
        assert_eq!(
            sent_under_other_names(&case, &renamed).as_deref(),
            Some("it sent `scope` as `scope`; the spec sends it as `scopes`")
        );
        let trial = ProbeCase {
            rename: renamed.rename.clone(),
            ..case.clone()
        };
        assert_eq!(sent_under_other_names(&trial, &renamed), None);
        assert!(sent_under_other_names(&trial, &dialect).is_some());
        // A case that sends no scope is the same under either name.
        let baseline = ProbeCase {
            steps: vec![ProbeStep {
                with: Vec::new(),
                ..case.steps[0].clone()
            }],
            ..case
        };
        assert_eq!(sent_under_other_names(&baseline, &renamed), None);
    }

    #[test]
    fn errors_and_refusals_are_no_token() {
        assert!(
            TokenSeen::read(&answer(200, r#"{"ok":false,"error":"invalid_client"}"#)).is_none()
        );
        assert!(TokenSeen::read(&answer(400, r#"{"access_token":"a"}"#)).is_none());
        assert!(TokenSeen::read(&answer(200, "error=bad_verification_code")).is_none());
        assert!(TokenSeen::read(&answer(200, "<html>access_token=a</html>")).is_none());
        let refusal = answer(
            200,
            "error=incorrect_client_credentials&error_description=x",
        );
        assert_eq!(
            error_code(&refusal).as_deref(),
            Some("incorrect_client_credentials")
        );
        let array = answer(401, r#"{"errors":[{"status":"401","code":"4"}]}"#);
        assert_eq!(error_code(&array).as_deref(), Some("code 4"));
        assert!(refuses_client(&array));
        assert_eq!(error_format(&array), Some(ErrorFormat::ErrorsArray));
    }
}
