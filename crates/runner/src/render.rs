//! Turning runs into text people read: redacted snapshots and failure
//! messages with JSON paths and unified diffs. Nothing here shows a secret.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use grantspec_token::{HttpResponse, TOKEN_MEMBERS};
use serde_json::Value;

use crate::exec::CaseRun;
use crate::redact::{Audience, Redactor, escape_controls};

/// How much of a body that is not JSON a message shows.
const SHOWN_BODY_BYTES: usize = 2048;

/// Members holding absolute times, replaced by `[timestamp]`.
const TIMESTAMP_MEMBERS: &[&str] = &["expires", "expires_at", "iat", "exp", "nbf", "auth_time"];

/// Response headers kept in snapshots; the rest vary between runs or servers.
const SNAPSHOT_HEADERS: &[&str] = &[
    "content-type",
    "cache-control",
    "pragma",
    "www-authenticate",
    "allow",
];

/// What text from a run may show: secrets and issued tokens hidden in
/// every encoding ([`Redactor`]), for a snapshot or a message.
#[derive(Clone, Copy)]
pub struct Shown<'r> {
    redactor: &'r Redactor,
    audience: Audience,
}

impl<'r> Shown<'r> {
    /// Text for `audience`, hidden by `redactor`.
    pub fn new(redactor: &'r Redactor, audience: Audience) -> Self {
        Self { redactor, audience }
    }

    /// `text` with secrets and tokens replaced.
    pub fn scrub(&self, text: &str) -> String {
        self.redactor.scrub(text, self.audience).into_owned()
    }
}

/// A placeholder that keeps a token's shape: opaque, or a JWT with its header
/// and claim names (never the values).
pub fn token_placeholder(token: &str) -> String {
    let decode = |segment: &str| -> Option<serde_json::Map<String, Value>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(segment.trim_end_matches('='))
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() == 3 {
        if let (Some(header), Some(claims)) = (decode(parts[0]), decode(parts[1])) {
            let mut header_fields: Vec<String> = header
                .iter()
                .map(|(name, value)| match (name.as_str(), value) {
                    ("alg" | "typ", Value::String(v)) => format!("{name}={v}"),
                    _ => name.clone(),
                })
                .collect();
            header_fields.sort();
            let mut claim_names: Vec<&String> = claims.keys().collect();
            claim_names.sort();
            let claim_names: Vec<&str> = claim_names.iter().map(|s| s.as_str()).collect();
            return format!(
                "[jwt {}; claims {}]",
                header_fields.join(" "),
                claim_names.join(" ")
            );
        }
    }
    "[opaque token]".to_owned()
}

/// The JSON with tokens, timestamps and secrets replaced and keys sorted.
pub fn redact_json(value: &Value, shown: Shown<'_>) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> = map
                .iter()
                .map(|(key, member)| {
                    let redacted = match member {
                        Value::String(token) if TOKEN_MEMBERS.contains(&key.as_str()) => {
                            Value::from(token_placeholder(token))
                        }
                        Value::Number(_) | Value::String(_)
                            if TIMESTAMP_MEMBERS.contains(&key.as_str()) =>
                        {
                            Value::from("[timestamp]")
                        }
                        other => redact_json(other, shown),
                    };
                    (key, redacted)
                })
                .collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|item| redact_json(item, shown)).collect())
        }
        Value::String(text) => Value::from(shown.scrub(text)),
        other => other.clone(),
    }
}

/// A response body as shown: redacted pretty JSON, or scrubbed text of at
/// most `SHOWN_BODY_BYTES` (2 KiB), naming its `Content-Encoding` when it has one.
pub fn redacted_body(response: &HttpResponse, shown: Shown<'_>) -> String {
    if let Some(json) = response.json() {
        return pretty(&redact_json(&json, shown));
    }
    let mut text = shown.scrub(&response.redacted_body());
    let mut notes = Vec::new();
    if let Some(encoding) = response.header("content-encoding") {
        notes.push(format!("Content-Encoding: {encoding}"));
    }
    if text.len() > SHOWN_BODY_BYTES {
        let mut end = SHOWN_BODY_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        notes.push(format!(
            "{} of {} bytes shown",
            end,
            response.body.len().max(text.len())
        ));
        text.truncate(end);
    }
    if !notes.is_empty() {
        text.push_str(&format!("\n[{}]", notes.join("; ")));
    }
    text
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The snapshot of a run: for every exchange, the request line, status, the
/// stable headers and the redacted body. Identical across runs, and between
/// mock and live where the provider behaves the same.
pub fn snapshot_text(run: &CaseRun) -> String {
    let redactor = Redactor::for_run(run);
    let shown = Shown::new(&redactor, Audience::Snapshot);
    let mut out = String::new();
    for exchange in &run.exchanges {
        let _ = writeln!(out, "# {}", exchange.label);
        let _ = writeln!(out, "{} {}", exchange.request.method, exchange.endpoint);
        match (&exchange.response, &exchange.transport_error) {
            (Some(response), _) => {
                let _ = writeln!(out, "status: {}", response.status);
                let mut headers: Vec<(&str, &str)> = response
                    .headers
                    .iter()
                    .filter(|(name, _)| SNAPSHOT_HEADERS.contains(&name.as_str()))
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                headers.sort();
                for (name, value) in headers {
                    let _ = writeln!(out, "{name}: {}", shown.scrub(value));
                }
                let _ = writeln!(out, "\n{}\n", redacted_body(response, shown));
            }
            (None, Some(error)) => {
                let _ = writeln!(out, "error: {}\n", shown.scrub(error));
            }
            (None, None) => {}
        }
    }
    escape_controls(out.trim_end()).into_owned() + "\n"
}

/// A failure message: what was sent, the throttled answers retried on the
/// way, each mismatch by path, and a unified diff of the expected against
/// the actual (redacted) response. Secrets and issued tokens are hidden in
/// every encoding, and control characters from the server are escaped.
pub fn failure_message(case_name: &str, run: &CaseRun) -> String {
    let redactor = Redactor::for_run(run);
    let shown = Shown::new(&redactor, Audience::Message);
    escape_controls(&message(case_name, run, shown)).into_owned()
}

/// For each exchange of `run` that the provider throttled, one line: its
/// step, and the answers retried, the waits, and whether the transport gave
/// up (`step 1 of 1 (client_credentials): retried 1 time: HTTP 429 with
/// Retry-After: 1, waited 1s`). Redacted and escaped like a message.
pub fn retry_notes(run: &CaseRun) -> Vec<String> {
    if run.exchanges.iter().all(|e| e.retries.is_empty()) {
        return Vec::new();
    }
    let redactor = Redactor::for_run(run);
    let shown = Shown::new(&redactor, Audience::Message);
    notes(run, shown)
        .map(|note| escape_controls(&note).into_owned())
        .collect()
}

fn notes<'r>(run: &'r CaseRun, shown: Shown<'r>) -> impl Iterator<Item = String> + 'r {
    run.exchanges
        .iter()
        .filter(|e| !e.retries.is_empty())
        .map(move |e| format!("{}: {}", e.label, shown.scrub(&e.retries.to_string())))
}

fn message(case_name: &str, run: &CaseRun, shown: Shown<'_>) -> String {
    let mut out = format!("case {case_name} failed");
    // The exchange that did not meet its expectations, if one did not.
    let failed = run
        .exchanges
        .last()
        .filter(|e| e.transport_error.is_some() || !e.mismatches.is_empty());
    match failed {
        Some(exchange) => {
            let _ = writeln!(out, " at {}", exchange.label);
        }
        None => out.push('\n'),
    }
    if let Some(error) = &run.error {
        let _ = writeln!(out, "{}", shown.scrub(error));
    }
    let throttled: Vec<String> = notes(run, shown).collect();
    let retries = |out: &mut String| {
        if !throttled.is_empty() {
            let _ = writeln!(out, "\nthrottled by the provider:");
            for note in &throttled {
                let _ = writeln!(out, "  {note}");
            }
        }
    };
    let Some(exchange) = failed else {
        retries(&mut out);
        return out;
    };
    out.push('\n');
    let _ = writeln!(out, "request (redacted):");
    for line in shown.scrub(&exchange.request.redacted()).lines() {
        let _ = writeln!(out, "{}", format!("  {line}").trim_end());
    }
    retries(&mut out);
    if let Some(error) = &exchange.transport_error {
        let _ = writeln!(out, "\nerror: {}", shown.scrub(error));
        return out;
    }
    if !exchange.mismatches.is_empty() {
        let _ = writeln!(out, "\nmismatches:");
        for m in &exchange.mismatches {
            let _ = writeln!(
                out,
                "  {}: expected {}, got {}",
                m.path,
                shown.scrub(&m.mismatch.expected),
                shown.scrub(&m.mismatch.actual)
            );
        }
    }
    if let Some(response) = &exchange.response {
        let actual = document(response, shown, &exchange.mismatches, false);
        let expected = document(response, shown, &exchange.mismatches, true);
        let _ = writeln!(out, "\nresponse (redacted), expected vs actual:");
        out.push_str(&unified_diff(&expected, &actual, "expected", "actual"));
    }
    out
}

/// The response as a document to diff: status, the headers that had
/// expectations, and the redacted body. The expected version writes the
/// expected values in at each mismatching place.
fn document(
    response: &HttpResponse,
    shown: Shown<'_>,
    mismatches: &[crate::exec::PathMismatch],
    expected: bool,
) -> String {
    let mut out = String::new();
    let status = mismatches
        .iter()
        .find(|m| m.path == "status")
        .filter(|_| expected)
        .map_or_else(
            || response.status.to_string(),
            |m| m.mismatch.expected.clone(),
        );
    let _ = writeln!(out, "status: {status}");
    for m in mismatches {
        if let Some(name) = m.path.strip_prefix("header ") {
            let shown = if expected {
                format!("<{}>", m.mismatch.expected)
            } else {
                response
                    .header(name)
                    .map_or_else(|| "<absent>".to_owned(), |v| shown.scrub(v))
            };
            let _ = writeln!(out, "{name}: {shown}");
        }
    }
    if !expected && (300..400).contains(&response.status) {
        if let Some(location) = response.header("location") {
            let _ = writeln!(out, "location: {} (not followed)", shown.scrub(location));
        }
    }
    let Some(json) = response.json() else {
        // Not JSON: the expected side says so, the actual side shows the text.
        let shown = if expected && mismatches.iter().any(|m| m.path == "body") {
            "<a JSON body>".to_owned()
        } else {
            redacted_body(response, shown)
        };
        let _ = writeln!(out, "{shown}");
        return out;
    };
    let mut body = redact_json(&json, shown);
    if expected {
        for m in mismatches.iter().filter(|m| m.path.starts_with('/')) {
            let shown = match &m.expected_value {
                Some(value) => value.clone(),
                None => Value::from(format!("<{}>", m.mismatch.expected)),
            };
            set_pointer(&mut body, &m.path, shown);
        }
    }
    let _ = writeln!(out, "{}", pretty(&body));
    out
}

fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    if let Some(slot) = root.pointer_mut(pointer) {
        *slot = value;
        return;
    }
    let Some((parent, member)) = pointer.rsplit_once('/') else {
        return;
    };
    let parent = if parent.is_empty() {
        Some(&mut *root)
    } else {
        root.pointer_mut(parent)
    };
    if let Some(Value::Object(map)) = parent {
        map.insert(member.replace("~1", "/").replace("~0", "~"), value);
    }
}

/// A unified diff of two texts, with three lines of context.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwt_placeholder_keeps_header_and_claim_names_only() {
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.sig",
            b64(json!({"alg":"RS256","typ":"JWT","kid":"k1"})),
            b64(json!({"sub":"admin","exp":1}))
        );
        assert_eq!(
            token_placeholder(&token),
            "[jwt alg=RS256 kid typ=JWT; claims exp sub]"
        );
        assert_eq!(token_placeholder("abc.def"), "[opaque token]");
    }

    #[test]
    fn redaction_hides_tokens_timestamps_and_secrets() {
        let redactor = Redactor::new(&["canary-7f3a".to_owned()], &[]);
        let redacted = redact_json(
            &json!({"data": {"access_token": "x", "expires": 17, "note": "has canary-7f3a inside"}}),
            Shown::new(&redactor, Audience::Snapshot),
        );
        assert_eq!(
            redacted,
            json!({"data": {"access_token": "[opaque token]", "expires": "[timestamp]", "note": "has [secret] inside"}})
        );
    }
}
