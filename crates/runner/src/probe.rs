//! Fingerprinting an unknown token endpoint: `cargo xtask probe`.
//!
//! A team onboarding a provider rarely knows how its token endpoint really
//! behaves; the documentation drifts. The probe finds out with a small,
//! bounded and polite set of requests, and writes what it saw as a starter
//! spec. Each request it sends is a spec case, built and sent by the same
//! code that runs a spec (the `exec` module) and judged by the same checks
//! (`grantspec-conformance`), so the spec it writes behaves on a re-run as it
//! did while probing: the cases' expectations are the answers seen, and the
//! declared deviations are those the checks found.
//!
//! Politeness is structural: every request (discovery included) goes through
//! one [`Transport`] paced to one request per `interval`, never retried, and
//! counted against a `budget` checked before each case; the first sign of
//! throttling (429, 503, `Retry-After`) ends the probe. Requests go only to
//! the token URL given and, for discovery, the well-known metadata URLs of
//! its origin (and the JWKS the metadata names, when an access token is a
//! JWT). Credentials come in as values, never as text to show; the spec
//! names them as `${env:…}` and `${secret:…}`.

mod discovery;
mod infer;
mod write;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;
use std::time::Duration;

use grantspec_spec::GrantKind;
use grantspec_spec::template::{ResolvedVars, TargetKind};
use grantspec_token::{
    BodyEncoding, ClientAuth, HttpResponse, ListStyle, RetryPolicy, Transport, TransportConfig,
};
use grantspec_token::{ExposeSecret as _, SecretString};
use url::Url;

use crate::Env;
use crate::exec::{self, CaseRun};
use crate::redact::{Audience, Redactor};
use infer::Dialect;

pub use discovery::{MetadataSeen, WELL_KNOWN};

/// What the probe may do, and with what.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// The token endpoint. Its origin is the written spec's base URL, its
    /// path the token path.
    pub token_url: Url,
    /// The id the written spec gets (its file stem).
    pub provider_id: String,
    /// The client (and, for the password grant, the user).
    pub credentials: Credentials,
    /// The names of the environment variables the written spec reads.
    pub vars: VarNames,
    /// The grant the baseline request uses.
    pub grant: ProbeGrant,
    /// The issuer whose metadata discovery reads; the token URL's origin
    /// when `None`.
    pub issuer: Option<Url>,
    /// Scopes the client may ask for; without them the probe asks for a
    /// made-up one, to see whether it is refused or dropped.
    pub scopes: Vec<String>,
    /// Most requests sent, discovery included.
    pub budget: u32,
    /// Least time between the starts of two requests.
    pub interval: Duration,
    /// What to probe beyond the baseline.
    pub areas: BTreeSet<Area>,
    /// The day the notes say the behaviour was observed (`YYYY-MM-DD`).
    pub today: String,
    /// Timeouts and caps; its retry policy is ignored (the probe never
    /// retries).
    pub transport: TransportConfig,
}

/// The default request budget.
pub const DEFAULT_BUDGET: u32 = 30;

/// The default interval between requests.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// The client, and the user for the password grant. Secrets stay secret:
/// `Debug` shows none.
#[derive(Clone)]
pub struct Credentials {
    /// The client id.
    pub client_id: String,
    /// The client secret; `None` for a public client.
    pub client_secret: Option<SecretString>,
    /// Username and password, for [`ProbeGrant::Password`].
    pub user: Option<(String, SecretString)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("user", &self.user.as_ref().map(|(name, _)| name))
            .finish()
    }
}

/// The environment variables the written spec names.
#[derive(Debug, Clone)]
pub struct VarNames {
    /// The base URL.
    pub base_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret (a `${secret:…}`).
    pub client_secret: String,
    /// The username.
    pub username: String,
    /// The password (a `${secret:…}`).
    pub password: String,
}

impl VarNames {
    /// `<PREFIX>_BASE_URL`, `<PREFIX>_CLIENT_ID`, … for a provider id
    /// (`my-api` gives `MY_API_…`).
    pub fn for_provider(id: &str) -> Self {
        let prefix: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            base_url: format!("{prefix}_BASE_URL"),
            client_id: format!("{prefix}_CLIENT_ID"),
            client_secret: format!("{prefix}_CLIENT_SECRET"),
            username: format!("{prefix}_USERNAME"),
            password: format!("{prefix}_PASSWORD"),
        }
    }
}

/// The grant of the baseline request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeGrant {
    /// RFC 6749 §4.4.
    ClientCredentials,
    /// RFC 6749 §4.3, with [`Credentials::user`].
    Password,
}

impl ProbeGrant {
    fn kind(self) -> GrantKind {
        match self {
            Self::ClientCredentials => GrantKind::ClientCredentials,
            Self::Password => GrantKind::Password,
        }
    }
}

/// What the probe looks at beyond the baseline, each narrowable with
/// `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// The issuer's RFC 8414 / OpenID Connect metadata, and the JWKS.
    Discovery,
    /// Client authentication: Basic, post, none.
    ClientAuth,
    /// Methods and body encodings.
    Encoding,
    /// Scope: granted against requested, list style.
    Scope,
    /// Error answers: wrong secret, unknown client, unsupported grant,
    /// missing grant_type.
    Errors,
    /// Refresh-token rotation, when a refresh token is issued.
    Refresh,
}

impl Area {
    /// Every area, in the order the probe visits them.
    pub const ALL: [Self; 6] = [
        Self::Discovery,
        Self::ClientAuth,
        Self::Encoding,
        Self::Scope,
        Self::Errors,
        Self::Refresh,
    ];

    /// Its name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::ClientAuth => "client-auth",
            Self::Encoding => "encoding",
            Self::Scope => "scope",
            Self::Errors => "errors",
            Self::Refresh => "refresh",
        }
    }

    /// The area named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|area| area.as_str() == name)
    }
}

/// Why the probe could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The token URL cannot be a spec's base URL and path.
    #[error("the token URL {0}")]
    BadUrl(&'static str),
    /// The budget does not even cover the baseline request.
    #[error("a budget of {0} requests leaves none for the baseline request")]
    NoBudget(u32),
    /// The password grant needs a user.
    #[error("the password grant needs a username and a password")]
    NoUser,
    /// The HTTP client could not be built.
    #[error(transparent)]
    Transport(#[from] grantspec_token::TransportError),
    /// The endpoint throttled before the baseline could be read.
    #[error("throttled before any answer could be read, and stopped: {0}")]
    Throttled(String),
    /// No request reached the endpoint.
    #[error("no answer from the token endpoint: {0}")]
    Unreachable(String),
    /// The spec would show a secret or an issued token (a server echoed
    /// one where the spec keeps a literal); nothing is written.
    #[error(
        "line {0} of the spec would show a secret or an issued token the server echoed; nothing is written"
    )]
    Leak(usize),
    /// The probe built a spec the loader refused: a bug in the probe.
    #[error("the probe built a spec that does not load (a bug): {0}")]
    Internal(String),
}

/// A probe's shape of a token request, absolute (not relative to a profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    pub body: BodyEncoding,
    pub client_auth: ClientAuth,
}

/// A made-up value the probe sends where a wrong or unknown one is wanted.
pub(crate) const MADE_UP: &str = "grantspec-probe";

/// One request of a probe case.
#[derive(Debug, Clone)]
pub(crate) struct ProbeStep {
    /// Its id, when a later step captures from it.
    pub id: Option<&'static str>,
    pub grant: GrantKind,
    /// `with`, in order: values are spec text (`${client_id}`, literals).
    pub with: Vec<(String, WithValue)>,
    pub shape: Shape,
    /// A list style of its own, when it sends a list it must style.
    pub lists: Option<ListStyle>,
    /// A method other than the profile's.
    pub method: Option<&'static str>,
    /// Parameters left out.
    pub omit: Vec<&'static str>,
}

/// A `with` value.
#[derive(Debug, Clone)]
pub(crate) enum WithValue {
    One(String),
    List(Vec<String>),
}

/// One case the probe runs, and writes when it ran cleanly.
#[derive(Debug, Clone)]
pub(crate) struct ProbeCase {
    pub name: String,
    pub description: String,
    pub area: Option<Area>,
    pub steps: Vec<ProbeStep>,
    /// The parameter names it was sent with: the `rename` of the dialect it
    /// ran under (set by [`Session::run`]).
    pub rename: BTreeMap<String, String>,
}

/// A case that ran: its exchanges, and what became of it.
#[derive(Debug)]
pub(crate) struct Ran {
    pub case: ProbeCase,
    pub run: CaseRun,
}

/// What a probe found, and the spec it wrote.
#[derive(Debug)]
pub struct ProbeReport {
    /// The spec, as YAML text.
    pub spec: String,
    /// What was found, row by row: area, what, what was seen. Server bytes
    /// in it are escaped.
    pub table: Vec<[String; 3]>,
    /// Requests sent, discovery included.
    pub sent: u32,
    /// The deviation ids the spec declares.
    pub deviations: Vec<&'static str>,
    /// Why the probe stopped early, if it did (throttling, the budget).
    pub stopped: Option<String>,
}

impl ProbeReport {
    /// The table as aligned text, one row a line.
    pub fn table_text(&self) -> String {
        let width = |column: usize| {
            self.table
                .iter()
                .map(|row| row[column].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (first, second) = (width(0), width(1));
        let mut out = String::new();
        for [area, what, seen] in &self.table {
            let line = format!("{area:<first$}  {what:<second$}  {seen}");
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The session: the transport, the budget, and what ran.
pub(crate) struct Session<'c> {
    pub config: &'c ProbeConfig,
    pub transport: Transport,
    pub base_url: Url,
    pub path: String,
    pub env: Env,
    pub sent: u32,
    pub stopped: Option<String>,
    pub ran: Vec<Ran>,
    /// Cases left out, and why.
    pub skipped: Vec<(String, String)>,
}

impl<'c> Session<'c> {
    fn new(config: &'c ProbeConfig) -> Result<Self, ProbeError> {
        let url = &config.token_url;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProbeError::BadUrl("must be http or https"));
        }
        if url.password().is_some() || !url.username().is_empty() {
            return Err(ProbeError::BadUrl(
                "must not carry credentials: they come from the environment",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ProbeError::BadUrl("must have no query or fragment"));
        }
        if config.budget == 0 {
            return Err(ProbeError::NoBudget(config.budget));
        }
        if config.grant == ProbeGrant::Password && config.credentials.user.is_none() {
            return Err(ProbeError::NoUser);
        }
        let mut base_url = url.clone();
        base_url.set_path("");
        let transport = Transport::new(TransportConfig {
            retry: RetryPolicy::none(),
            ..config.transport.clone()
        })?;
        let transport = match transport.clone().spaced(config.interval) {
            Some(spaced) => spaced,
            None => transport,
        };
        let vars = &config.vars;
        let mut env = vec![
            (
                vars.base_url.clone(),
                base_url.as_str().trim_end_matches('/').to_owned(),
            ),
            (vars.client_id.clone(), config.credentials.client_id.clone()),
        ];
        if let Some(secret) = &config.credentials.client_secret {
            env.push((
                vars.client_secret.clone(),
                secret.expose_secret().to_owned(),
            ));
        }
        if let Some((username, password)) = &config.credentials.user {
            env.push((vars.username.clone(), username.clone()));
            env.push((vars.password.clone(), password.expose_secret().to_owned()));
        }
        Ok(Self {
            config,
            transport,
            base_url,
            path: url.path().to_owned(),
            env: Env::from_pairs(env),
            sent: 0,
            stopped: None,
            ran: Vec::new(),
            skipped: Vec::new(),
        })
    }

    fn left(&self) -> u32 {
        self.config.budget.saturating_sub(self.sent)
    }

    /// Whether a request of `requests` more fits: false (and the reason
    /// recorded) when the probe has stopped or the budget is spent.
    fn may_send(&mut self, what: &str, requests: u32) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if requests > self.left() {
            self.skipped.push((
                what.to_owned(),
                format!(
                    "the budget ({} requests) has {} left, and it takes {requests}",
                    self.config.budget,
                    self.left()
                ),
            ));
            return false;
        }
        true
    }

    /// Runs `case` under `dialect`, unless the budget or a stop forbids;
    /// the index of its run in [`Session::ran`].
    async fn run(
        &mut self,
        case: ProbeCase,
        dialect: &Dialect,
    ) -> Result<Option<usize>, ProbeError> {
        let steps = u32::try_from(case.steps.len()).unwrap_or(u32::MAX);
        if !self.may_send(&case.name, steps) {
            return Ok(None);
        }
        let mut case = case;
        case.rename = dialect.rename.clone();
        let text = write::single_case_spec(self, dialect, &case);
        let file = format!("{}.yaml", self.config.provider_id);
        let loaded = grantspec_spec::load_str(Path::new(&file), &text)
            .map_err(|errors| ProbeError::Internal(errors.to_string()))?;
        let spec = &loaded.spec;
        let profile = spec.profile();
        let token_url = grantspec_token::endpoint_url(&self.base_url, &profile.token_endpoint.path)
            .map_err(|e| ProbeError::Internal(e.to_string()))?;
        let cx = exec::CaseContext {
            spec,
            profile: &profile,
            base_url: &self.base_url,
            token_url: Some(&token_url),
            target: TargetKind::Live,
            env: &self.env,
            resolved_vars: &ResolvedVars::default(),
            transport: &self.transport,
            metadata: None,
            now: std::time::SystemTime::now(),
            spec_path: None,
        };
        let run = exec::run_case(&cx, &spec.cases[0]).await;
        self.sent += u32::try_from(run.exchanges.len()).unwrap_or(u32::MAX);
        if let Some(sign) = run
            .exchanges
            .iter()
            .filter_map(|exchange| exchange.response.as_ref())
            .find_map(throttled)
        {
            self.stopped = Some(format!("{}: {sign}; stopped there", case.name));
            self.skipped
                .push((case.name.clone(), format!("throttled: {sign}")));
            return Ok(None);
        }
        if let Some(error) = run
            .exchanges
            .iter()
            .find_map(|exchange| exchange.transport_error.clone())
            .or_else(|| {
                run.error
                    .clone()
                    .filter(|_| run.exchanges.len() < case.steps.len())
            })
        {
            self.skipped.push((case.name.clone(), error));
            return Ok(None);
        }
        self.ran.push(Ran { case, run });
        Ok(Some(self.ran.len() - 1))
    }

    /// Sends a GET for discovery (counted, paced), unless the budget or a
    /// stop forbids; the answer, or why there is none.
    async fn get(&mut self, url: &Url) -> Option<Result<HttpResponse, String>> {
        if !self.may_send(url.as_str(), 1) {
            return None;
        }
        let request = grantspec_token::HttpRequest {
            method: "GET".to_owned(),
            url: url.clone(),
            query: Vec::new(),
            headers: vec![("accept".to_owned(), "application/json".into())],
            body: None,
        };
        self.sent += 1;
        let answer = self.transport.send_once(&request).await;
        if let Ok(response) = &answer {
            if let Some(sign) = throttled(response) {
                self.stopped = Some(format!("{url}: {sign}; stopped there"));
                return None;
            }
        }
        Some(answer.map_err(|e| e.to_string()))
    }
}

/// What the probe must never show: the configured secrets (in every
/// encoding the runner's [`Redactor`] knows) and the tokens it was issued.
pub(crate) struct Hide(Vec<Redactor>);

impl Hide {
    fn new(session: &Session<'_>) -> Self {
        let credentials = &session.config.credentials;
        let configured: Vec<SecretString> = credentials
            .client_secret
            .iter()
            .chain(credentials.user.as_ref().map(|(_, password)| password))
            .cloned()
            .collect();
        // The made-up wrong secrets and refresh tokens the probe sends are
        // not secrets: the spec names them as literals.
        let configured: Vec<String> = configured
            .iter()
            .map(|secret| secret.expose_secret().to_owned())
            .collect();
        let tokens: Vec<String> = session
            .ran
            .iter()
            .flat_map(|ran| &ran.run.exchanges)
            .filter_map(|exchange| exchange.response.as_ref())
            .filter_map(infer::TokenSeen::read)
            .flat_map(|token| token.token_values())
            .collect();
        Self(vec![Redactor::new(&configured, &tokens)])
    }

    /// Whether `text` holds a secret or an issued token in any encoding.
    pub(crate) fn leaks(&self, text: &str) -> bool {
        self.0.iter().any(|redactor| redactor.leaks(text))
    }

    /// `text` with secrets and tokens replaced, for the table.
    pub(crate) fn scrub(&self, text: &str) -> String {
        self.0.iter().fold(text.to_owned(), |text, redactor| {
            redactor.scrub(&text, Audience::Message).into_owned()
        })
    }
}

/// The first sign of throttling an answer shows.
fn throttled(response: &HttpResponse) -> Option<String> {
    if response.status == 429 || response.status == 503 {
        return Some(format!("HTTP {}", response.status));
    }
    response
        .header("retry-after")
        .map(|value| format!("Retry-After: {}", crate::redact::escape_controls(value)))
}

/// Probes the endpoint as `config` allows and returns the spec and table.
pub async fn probe(config: &ProbeConfig) -> Result<ProbeReport, ProbeError> {
    let mut session = Session::new(config)?;
    let mut table: Vec<[String; 3]> = Vec::new();
    let metadata = if config.areas.contains(&Area::Discovery) {
        discovery::read_metadata(&mut session).await
    } else {
        None
    };
    let dialect = infer::baseline(&mut session, metadata.as_ref()).await?;
    let mut dialect = dialect;
    for area in Area::ALL {
        if !config.areas.contains(&area) {
            continue;
        }
        match area {
            Area::Discovery => {}
            Area::ClientAuth => infer::client_auth(&mut session, &dialect).await?,
            Area::Encoding => infer::encodings(&mut session, &dialect).await?,
            Area::Scope => infer::scope(&mut session, &mut dialect).await?,
            Area::Errors => infer::errors(&mut session, &mut dialect).await?,
            Area::Refresh => infer::refresh(&mut session, &dialect).await?,
        }
    }
    // The spec names its metadata by a path joined to its base URL, so only
    // metadata at the token URL's origin can be named.
    let written_metadata = metadata
        .as_ref()
        .filter(|seen| discovery::found(seen) && seen.url.origin() == session.base_url.origin());
    let judged = infer::judge(&session, &dialect, written_metadata);
    table.extend(infer::table(&session, &dialect, &judged));
    match &metadata {
        Some(seen) if discovery::found(seen) => {
            table.extend(discovery::table(&session, seen, &dialect));
        }
        Some(seen) => table.push([
            "discovery".into(),
            "metadata".into(),
            format!(
                "none: the last well-known URL, {}, answered HTTP {}",
                clean(seen.url.as_str()),
                seen.response.status
            ),
        ]),
        None if config.areas.contains(&Area::Discovery) => {
            table.push(["discovery".into(), "metadata".into(), "not read".into()]);
        }
        None => {}
    }
    let hide = Hide::new(&session);
    let spec = write::spec(&session, &dialect, &judged, written_metadata, &hide);
    if let Some(line) = spec.lines().position(|line| hide.leaks(line)) {
        return Err(ProbeError::Leak(line + 1));
    }
    for (what, why) in &session.skipped {
        table.push(["skipped".into(), clean(what), clean(why)]);
    }
    if let Some(why) = &session.stopped {
        table.push(["stopped".into(), String::new(), clean(why)]);
    }
    table.push([
        "requests".into(),
        "sent".into(),
        format!(
            "{} of a budget of {}, at least {:?} apart",
            session.sent, config.budget, config.interval
        ),
    ]);
    let table = table
        .into_iter()
        .map(|row| row.map(|cell| hide.scrub(&cell)))
        .collect();
    Ok(ProbeReport {
        spec,
        table,
        sent: session.sent,
        deviations: judged.declared.iter().copied().collect(),
        stopped: session.stopped.clone(),
    })
}

/// Server bytes as they may be shown: control characters escaped, line
/// breaks too (a table row is one line).
pub(crate) fn clean(text: &str) -> String {
    crate::redact::escape_controls(text)
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn var_names_are_shouted_snake_case() {
        let names = VarNames::for_provider("my-api.v2");
        assert_eq!(names.base_url, "MY_API_V2_BASE_URL");
        assert_eq!(names.client_secret, "MY_API_V2_CLIENT_SECRET");
    }

    #[test]
    fn credentials_debug_shows_no_secret() {
        let credentials = Credentials {
            client_id: "id".into(),
            client_secret: Some(SecretString::from("s3cr3t-value")),
            user: Some(("alice".into(), SecretString::from("pa55word"))),
        };
        let shown = format!("{credentials:?}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("pa55word"),
            "{shown}"
        );
    }

    #[test]
    fn throttling_signs() {
        let answer = |status, headers: Vec<(&str, &str)>| HttpResponse {
            status,
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect(),
            body: Vec::new(),
        };
        assert!(throttled(&answer(429, vec![])).is_some());
        assert!(throttled(&answer(503, vec![])).is_some());
        assert!(throttled(&answer(400, vec![("retry-after", "5")])).is_some());
        assert!(throttled(&answer(200, vec![])).is_none());
        let shown = throttled(&answer(200, vec![("retry-after", "\u{1b}[2J")])).unwrap();
        assert!(!shown.contains('\u{1b}'), "{shown}");
    }

    #[test]
    fn areas_round_trip_their_names() {
        for area in Area::ALL {
            assert_eq!(Area::parse(area.as_str()), Some(area));
        }
        assert_eq!(Area::parse("everything"), None);
    }
}
