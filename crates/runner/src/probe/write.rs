//! The spec the probe writes, as YAML text: every scalar from outside (a
//! server's bytes, a name) is written as a JSON string, which YAML reads as
//! a double-quoted scalar, so nothing a server sends can break the file.

use std::fmt::Write as _;

use grantspec_token::{HttpResponse, ListStyle, ResponseEncoding};
use serde::Serialize;
use serde_json::Value;

use super::discovery::MetadataSeen;
use super::infer::{Dialect, Judged, TokenSeen, form_object, profile_shaped};
use super::{Hide, ProbeCase, ProbeStep, Session, WithValue};

/// A string as a YAML scalar (a JSON string).
fn q(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// An enum's serde name (`form`, `client_auth`'s `basic`, …).
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The provider section, without deviations and notes.
fn provider(out: &mut String, session: &Session<'_>, dialect: &Dialect) {
    let id = &session.config.provider_id;
    let _ = writeln!(out, "provider:");
    let _ = writeln!(out, "  id: {}", q(id));
    let _ = writeln!(out, "  name: {}", q(&format!("{id} (probed)")));
    let _ = writeln!(out, "  token_endpoint:");
    let _ = writeln!(out, "    path: {}", q(&session.path));
    let _ = writeln!(out, "    method: POST");
    let _ = writeln!(out, "    body: {}", name_of(&dialect.shape.body));
    let _ = writeln!(
        out,
        "    client_auth: {}",
        name_of(&dialect.shape.client_auth)
    );
    let _ = writeln!(out, "    lists: {}", name_of(&dialect.lists));
    if !dialect.rename.is_empty() {
        let renamed: Vec<String> = dialect
            .rename
            .iter()
            .map(|(rfc_name, name)| format!("{}: {}", q(rfc_name), q(name)))
            .collect();
        let _ = writeln!(out, "    rename: {{ {} }}", renamed.join(", "));
    }
    let response = &dialect.response;
    let _ = writeln!(out, "  response:");
    let _ = writeln!(out, "    encoding: {}", name_of(&response.encoding));
    if let Some(envelope) = &response.envelope {
        let _ = writeln!(out, "    envelope: {}", q(envelope));
    }
    if !response.members.is_rfc6749() {
        let _ = writeln!(out, "    members:");
        for (rfc_name, name) in response.members.renamed() {
            let _ = writeln!(out, "      {rfc_name}: {}", q(name));
        }
    }
    let _ = writeln!(out, "    expiry: {}", name_of(&response.expiry));
    let _ = writeln!(
        out,
        "    missing_token_type: {}",
        name_of(&response.missing_token_type)
    );
    if !response.bearer_aliases.is_empty() {
        let aliases: Vec<String> = response.bearer_aliases.iter().map(|a| q(a)).collect();
        let _ = writeln!(out, "    bearer_aliases: [{}]", aliases.join(", "));
    }
    let _ = writeln!(out, "  errors: {}", name_of(&dialect.errors));
}

/// The live section and the variables.
fn live_and_vars(out: &mut String, session: &Session<'_>) {
    let vars = &session.config.vars;
    let _ = writeln!(out, "live:");
    let _ = writeln!(
        out,
        "  base_url: {}",
        q(&format!("${{env:{}}}", vars.base_url))
    );
    let _ = writeln!(out, "vars:");
    let _ = writeln!(
        out,
        "  client_id: {}",
        q(&format!("${{env:{}}}", vars.client_id))
    );
    if session.config.credentials.client_secret.is_some() {
        let _ = writeln!(
            out,
            "  client_secret: {}",
            q(&format!("${{secret:{}}}", vars.client_secret))
        );
    }
    if session.config.credentials.user.is_some() {
        let _ = writeln!(
            out,
            "  username: {}",
            q(&format!("${{env:{}}}", vars.username))
        );
        let _ = writeln!(
            out,
            "  password: {}",
            q(&format!("${{secret:{}}}", vars.password))
        );
    }
}

/// One case; with the responses, their expectations.
fn case(
    out: &mut String,
    case: &ProbeCase,
    dialect: &Dialect,
    responses: Option<&[Option<HttpResponse>]>,
    hide: Option<&Hide>,
) {
    let _ = writeln!(out, "  - name: {}", q(&case.name));
    let _ = writeln!(out, "    description: {}", q(&case.description));
    let _ = writeln!(out, "    snapshot: false");
    let _ = writeln!(out, "    steps:");
    for (index, step) in case.steps.iter().enumerate() {
        step_yaml(out, step, dialect);
        if let Some(Some(response)) = responses.and_then(|r| r.get(index)) {
            expect(out, response, dialect, hide);
        }
    }
}

fn step_yaml(out: &mut String, step: &ProbeStep, dialect: &Dialect) {
    let mut first = true;
    let mut line = |out: &mut String, text: String| {
        let lead = if first { "      - " } else { "        " };
        first = false;
        let _ = writeln!(out, "{lead}{text}");
    };
    if let Some(id) = step.id {
        line(out, format!("id: {id}"));
    }
    line(out, format!("grant: {}", step.grant.as_str()));
    let with: Vec<String> = step
        .with
        .iter()
        .map(|(name, value)| match value {
            WithValue::One(text) => format!("{name}: {}", q(text)),
            WithValue::List(items) => {
                let items: Vec<String> = items.iter().map(|i| q(i)).collect();
                format!("{name}: [{}]", items.join(", "))
            }
        })
        .collect();
    line(out, format!("with: {{ {} }}", with.join(", ")));
    if !profile_shaped(step, dialect) {
        let mut overrides = Vec::new();
        if let Some(method) = step.method {
            overrides.push(format!("method: {method}"));
        }
        if step.shape.body != dialect.shape.body {
            overrides.push(format!("body: {}", name_of(&step.shape.body)));
        }
        if step.shape.client_auth != dialect.shape.client_auth {
            overrides.push(format!("client_auth: {}", name_of(&step.shape.client_auth)));
        }
        if let Some(lists) = step.lists.filter(|lists| *lists != dialect.lists) {
            overrides.push(format!("lists: {}", name_of::<ListStyle>(&lists)));
        }
        if !step.omit.is_empty() {
            overrides.push(format!("omit: [{}]", step.omit.join(", ")));
        }
        line(out, format!("request: {{ {} }}", overrides.join(", ")));
    }
}

/// Escapes what a regex reads as syntax.
fn regex_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A literal a matcher may compare with, unless it looks like a reference
/// or holds a secret or token (then only its presence is expected).
fn literal(text: &str, hide: Option<&Hide>) -> String {
    if text.contains("${") || hide.is_some_and(|hide| hide.leaks(text)) {
        "{ present: true }".to_owned()
    } else {
        q(text)
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON pointer to a member, under the envelope if there is one.
fn pointer(envelope: Option<&str>, member: &str) -> String {
    let escaped = member.replace('~', "~0").replace('/', "~1");
    format!("{}/{escaped}", envelope.unwrap_or(""))
}

/// The expectations an answer sets: what holds on a re-run.
fn expect(out: &mut String, response: &HttpResponse, dialect: &Dialect, hide: Option<&Hide>) {
    let _ = writeln!(out, "        expect:");
    let _ = writeln!(out, "          status: {}", response.status);
    let mut headers = Vec::new();
    match response.header("content-type") {
        Some(value) => {
            let media = value.split(';').next().unwrap_or(value).trim();
            headers.push(format!(
                "content-type: {{ regex: {} }}",
                q(&format!("^{}", regex_literal(media)))
            ));
        }
        None => headers.push("content-type: { absent: true }".to_owned()),
    }
    for name in ["cache-control", "pragma"] {
        match response.header(name) {
            Some(value) => headers.push(format!("{name}: {}", literal(value, hide))),
            None => headers.push(format!("{name}: {{ absent: true }}")),
        }
    }
    let token = TokenSeen::read(response);
    if token.is_none() {
        match response.header("www-authenticate") {
            Some(value) => {
                let scheme = value.split_whitespace().next().unwrap_or_default();
                headers.push(format!(
                    "www-authenticate: {{ regex: {} }}",
                    q(&format!("(?i)^{}", regex_literal(scheme)))
                ));
            }
            None => headers.push("www-authenticate: { absent: true }".to_owned()),
        }
    }
    let _ = writeln!(out, "          headers:");
    for header in headers {
        let _ = writeln!(out, "            {header}");
    }
    let mut body = Vec::new();
    let json = response.json();
    match (&token, &json) {
        (Some(token), Some(_)) if token.encoding == ResponseEncoding::Json => {
            let envelope = token.envelope.as_deref();
            let members = &dialect.response.members;
            let secret_members = [members.name("access_token"), members.name("refresh_token")];
            for (name, value) in &token.object {
                let key = q(&pointer(envelope, name));
                let matcher = if secret_members.contains(&name.as_str()) {
                    format!("{{ type: {} }}", json_type(value))
                } else {
                    match value {
                        Value::String(text)
                            if [members.name("token_type"), members.name("scope")]
                                .contains(&name.as_str()) =>
                        {
                            literal(text, hide)
                        }
                        other => format!("{{ type: {} }}", json_type(other)),
                    }
                };
                body.push(format!("{key}: {matcher}"));
            }
            for rfc_name in ["token_type", "refresh_token", "expires_in"] {
                let name = members.name(rfc_name);
                if !token.object.contains_key(name) {
                    body.push(format!(
                        "{}: {{ absent: true }}",
                        q(&pointer(envelope, name))
                    ));
                }
            }
        }
        (None, Some(Value::Object(object))) => {
            if let Some(Value::String(code)) = object.get("error") {
                body.push(format!("error: {}", literal(code, hide)));
            }
            if let Some(errors) = object.get("errors") {
                body.push(format!("errors: {{ type: {} }}", json_type(errors)));
            }
            if let Some(title) = object.get("title") {
                body.push(format!("title: {{ type: {} }}", json_type(title)));
            }
        }
        _ => {}
    }
    if !body.is_empty() {
        let _ = writeln!(out, "          body:");
        for line in body {
            let _ = writeln!(out, "            {line}");
        }
    }
    // A form answer carries no JSON to match; its error code is still shown.
    if json.is_none() && token.is_none() {
        if let Some(code) = form_object(&response.body).and_then(|o| o.get("error").cloned()) {
            let _ = writeln!(
                out,
                "          # form-encoded error: {}",
                q(&code.to_string())
            );
        }
    }
}

/// A spec holding one case without expectations, to run it.
pub(crate) fn single_case_spec(
    session: &Session<'_>,
    dialect: &Dialect,
    probe: &ProbeCase,
) -> String {
    let mut out = String::new();
    provider(&mut out, session, dialect);
    live_and_vars(&mut out, session);
    let _ = writeln!(out, "cases:");
    case(&mut out, probe, dialect, None, None);
    out
}

/// The spec the probe writes.
pub(crate) fn spec(
    session: &Session<'_>,
    dialect: &Dialect,
    judged: &Judged,
    metadata: Option<&MetadataSeen>,
    hide: &Hide,
) -> String {
    let config = session.config;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=../schema/spec.schema.json"
    );
    let _ = writeln!(out, "#");
    let _ = writeln!(
        out,
        "# Written by `cargo xtask probe` on {} from {} requests to {}",
        config.today,
        session.sent,
        super::clean(config.token_url.as_str())
    );
    let _ = writeln!(
        out,
        "# (budget {}, at least {:?} apart). Every case is a request the probe sent, and its",
        config.budget, config.interval
    );
    let _ = writeln!(
        out,
        "# expectations are the answer it got; the deviations are those the checks found."
    );
    let mut needed = vec![
        config.vars.base_url.as_str(),
        config.vars.client_id.as_str(),
    ];
    if config.credentials.client_secret.is_some() {
        needed.push(&config.vars.client_secret);
    }
    if config.credentials.user.is_some() {
        needed.extend([config.vars.username.as_str(), config.vars.password.as_str()]);
    }
    let _ = writeln!(
        out,
        "# Live only: set {} (see docs/probe.md).",
        needed.join(", ")
    );
    let mut body = String::new();
    provider(&mut body, session, dialect);
    out.push_str(&body);
    if let Some(seen) = metadata {
        let _ = writeln!(out, "  metadata: {}", q(seen.url.path()));
    }
    let declared: Vec<&str> = judged.declared.iter().copied().collect();
    let _ = writeln!(out, "  deviations: [{}]", declared.join(", "));
    let notes = notes(session, dialect, judged);
    if !notes.is_empty() {
        let _ = writeln!(out, "  notes:");
        for note in notes {
            let note = hide.scrub(&note);
            let _ = writeln!(
                out,
                "    - {{ observed: {}, on: {} }}",
                q(&note),
                q(&config.today)
            );
        }
    }
    live_and_vars(&mut out, session);
    let _ = writeln!(out, "cases:");
    for (ran, dropped) in session.ran.iter().zip(&judged.dropped) {
        if dropped.is_some() {
            continue;
        }
        let responses: Vec<Option<HttpResponse>> = ran
            .run
            .exchanges
            .iter()
            .map(|e| e.response.clone())
            .collect();
        case(&mut out, &ran.case, dialect, Some(&responses), Some(hide));
    }
    out
}

/// The table's findings, as notes: what the probe saw, beyond the cases.
fn notes(session: &Session<'_>, dialect: &Dialect, judged: &Judged) -> Vec<String> {
    super::infer::table(session, dialect, judged)
        .into_iter()
        .filter(|[area, _, _]| {
            [
                "client-auth",
                "encoding",
                "response",
                "scope",
                "errors",
                "refresh",
                "parameters",
            ]
            .contains(&area.as_str())
        })
        .map(|[area, what, seen]| format!("{area}, {what}: {seen}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals_match_only_themselves() {
        let text = "application/vnd.api+json (v1) [x] $";
        let pattern = regex::Regex::new(&format!("^{}$", regex_literal(text))).unwrap();
        assert!(pattern.is_match(text));
        assert!(!pattern.is_match("application/vndXapi+json (v1) [x] $"));
    }

    #[test]
    fn hostile_scalars_stay_one_quoted_scalar() {
        let hostile = "a\"b\n- c: ${env:HOME}\u{1b}[2J";
        let yaml = format!("key: {}\n", q(hostile));
        let parsed: serde_json::Value = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(parsed["key"], hostile);
        assert_eq!(literal("${env:HOME}", None), "{ present: true }");
    }
}
