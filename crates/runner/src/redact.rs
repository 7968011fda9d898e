//! What a run must never show, in every encoding the harness itself sent it
//! in, and what the provider issued, wherever it put it.
//!
//! A server may echo what it received: the Basic header inside an
//! `error_description` or a `WWW-Authenticate` challenge, the form body in
//! an error. So a secret is looked for raw, form- and percent-encoded (both
//! hex cases), JSON-escaped, and base64-encoded (standard and URL-safe, with
//! or without padding) at any alignment inside a longer base64 text, which
//! covers `base64(id:secret)` of a Basic header with and without RFC 6749
//! §2.3.1's form encoding. Tokens the provider issued (under any member
//! name that says token, in arrays, in a redirect's `Location`) are never
//! printed either: failure messages show a fingerprint (length, alphabet, a
//! short hash), snapshots a stable placeholder.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use grantspec_token::{ExposeSecret, HttpRequest, HttpResponse, SecretString};
use serde_json::Value;

use crate::config::Env;
use crate::exec::CaseRun;
use grantspec_spec::Spec;

/// Secrets shorter than this are literal values of negative cases (`ab`)
/// and are not looked for: replacing them would mangle ordinary text.
const MIN_SECRET_LEN: usize = 4;

/// Where redacted text goes, which decides how an issued token is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A snapshot: stable across runs, so a token becomes `[issued token]`.
    Snapshot,
    /// A failure message, a report or a log: a token becomes its
    /// fingerprint, so two tokens can be told apart without being shown.
    Message,
}

/// One value to hide, with every text it can appear as.
struct Hidden {
    /// The texts to look for, longest first.
    needles: Vec<Needle>,
    /// What an issued token is replaced by in messages; `None` for secrets.
    fingerprint: Option<String>,
}

/// Hides a run's secrets and issued tokens in any text shown.
pub struct Redactor {
    hidden: Vec<Hidden>,
}

impl Redactor {
    /// The secrets of `run` (what it sent that is secret, including Basic
    /// credentials) and the tokens its responses issued.
    pub fn for_run(run: &CaseRun) -> Self {
        let mut secrets: Vec<String> = run
            .secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        let mut tokens = Vec::new();
        for exchange in &run.exchanges {
            secrets.extend(basic_credentials(&exchange.request));
            if let Some(response) = &exchange.response {
                issued_tokens(response, &mut tokens);
            }
        }
        Self::new(&secrets, &tokens)
    }

    /// A redactor for these secret values and issued tokens. A run sends the
    /// same secret in many steps (and the seed lists it too): each value's
    /// encodings are worked out once, and longer values are hidden before
    /// any shorter one they contain.
    pub fn new(secrets: &[String], tokens: &[String]) -> Self {
        let (secrets, tokens) = (
            distinct_longest_first(secrets),
            distinct_longest_first(tokens),
        );
        let mut hidden: Vec<Hidden> = Vec::new();
        for secret in secrets {
            if secret.len() >= MIN_SECRET_LEN {
                hidden.push(Hidden {
                    needles: needles(secret),
                    fingerprint: None,
                });
            }
        }
        for token in tokens {
            if token.len() >= MIN_SECRET_LEN {
                hidden.push(Hidden {
                    needles: needles(token),
                    fingerprint: Some(fingerprint(token)),
                });
            }
        }
        Self { hidden }
    }

    /// A redactor for plain secret values (no tokens).
    pub fn of_secrets(secrets: &[SecretString]) -> Self {
        let values: Vec<String> = secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        Self::new(&values, &[])
    }

    /// `text` with every secret replaced by `[secret]` and every issued
    /// token by its placeholder for `audience`.
    pub fn scrub<'t>(&self, text: &'t str, audience: Audience) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for hidden in &self.hidden {
            let replacement = match (&hidden.fingerprint, audience) {
                (None, _) => "[secret]",
                (Some(_), Audience::Snapshot) => "[issued token]",
                (Some(fingerprint), Audience::Message) => fingerprint.as_str(),
            };
            for needle in &hidden.needles {
                if let Some(replaced) = needle.replace_in(&out, replacement) {
                    out = Cow::Owned(replaced);
                }
            }
        }
        out
    }

    /// Whether `text` still holds a secret or a token in any encoding.
    pub fn leaks(&self, text: &str) -> bool {
        self.hidden
            .iter()
            .flat_map(|h| &h.needles)
            .any(|needle| text.contains(needle.text.as_str()))
    }
}

/// `values` without repeats, longest first.
fn distinct_longest_first(values: &[String]) -> Vec<&String> {
    let mut values: Vec<&String> = values.iter().collect();
    values.sort_unstable_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    values.dedup();
    values
}

/// The configured values of the spec's secret variables, by name.
pub fn configured_secrets(spec: &Spec, env: &Env) -> Vec<(String, SecretString)> {
    grantspec_spec::template::secret_names(spec)
        .into_iter()
        .filter_map(|name| {
            env.get(&name)
                .map(|value| (name, SecretString::from(value)))
        })
        .collect()
}

/// Hides secrets and tokens in every string of `value`, and escapes control
/// characters in them: the last pass over a report before it is written.
pub fn scrub_strings(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(text) => {
            let scrubbed = redactor.scrub(text, Audience::Message);
            let escaped = escape_controls(&scrubbed);
            if escaped != text.as_str() {
                *text = escaped.into_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_strings(v, redactor)),
        Value::Object(map) => map.values_mut().for_each(|v| scrub_strings(v, redactor)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// One text a hidden value can appear as.
#[derive(Debug, PartialEq, Eq)]
struct Needle {
    text: String,
    /// Whether the base64 character just before (after) `text` encodes
    /// bits of the value too, mixed with bits of its neighbour: it goes with
    /// the value.
    partial_before: bool,
    partial_after: bool,
}

impl Needle {
    fn whole(text: String) -> Self {
        Self {
            text,
            partial_before: false,
            partial_after: false,
        }
    }

    /// `text` with each occurrence (and its partial base64 neighbours)
    /// replaced by `replacement`; `None` when there is none.
    fn replace_in(&self, text: &str, replacement: &str) -> Option<String> {
        if !text.contains(self.text.as_str()) {
            return None;
        }
        let is_base64 = |byte: u8| byte.is_ascii_alphanumeric() || b"+/-_".contains(&byte);
        let bytes = text.as_bytes();
        let mut out = String::new();
        let (mut copied, mut from) = (0, 0);
        while let Some(found) = text[from..].find(self.text.as_str()) {
            let mut start = from + found;
            let mut end = start + self.text.len();
            // Only ASCII is stepped over, so both ends stay char boundaries.
            if self.partial_before && start > copied && is_base64(bytes[start - 1]) {
                start -= 1;
            }
            if self.partial_after && end < bytes.len() && is_base64(bytes[end]) {
                end += 1;
            }
            out.push_str(&text[copied..start]);
            out.push_str(replacement);
            (copied, from) = (end, end);
        }
        out.push_str(&text[copied..]);
        Some(out)
    }
}

/// Every text `value` can appear as when the harness sent it, longest
/// first, so that a longer encoding is replaced before a part of it.
pub fn encodings(value: &str) -> Vec<String> {
    needles(value).into_iter().map(|n| n.text).collect()
}

fn needles(value: &str) -> Vec<Needle> {
    let form: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    let percent = percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let mut texts = vec![
        value.to_owned(),
        lower_hex_escapes(&form),
        form,
        lower_hex_escapes(&percent),
        percent,
    ];
    if let Ok(json) = serde_json::to_string(value) {
        texts.push(json[1..json.len() - 1].to_owned());
    }
    let mut needles: Vec<Needle> = texts.into_iter().map(Needle::whole).collect();
    for encoded in [value.to_owned(), form_urlencoded_string(value)] {
        needles.extend(base64_cores(encoded.as_bytes()));
    }
    needles.retain(|n| n.text.len() >= MIN_SECRET_LEN);
    needles.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
    needles.dedup_by(|a, b| a.text == b.text);
    needles
}

fn form_urlencoded_string(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `%2F` as `%2f`: some servers echo escapes in lower case.
fn lower_hex_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// The base64 characters that `bytes` always encode to inside a longer
/// base64 text, at each of the three alignments it can start at, in the
/// standard and URL-safe alphabets. At offset `k` (0, 1, 2) in a group of
/// three, the first character may also depend on the bytes before, and the
/// last on the bytes after: the needle is the characters that depend on
/// `bytes` alone, and says which neighbour holds some of its bits.
fn base64_cores(bytes: &[u8]) -> Vec<Needle> {
    let mut cores = Vec::new();
    for offset in 0..3 {
        let mut padded = vec![0_u8; offset];
        padded.extend_from_slice(bytes);
        // Characters wholly inside `bytes`: skip those touching the filler
        // before and the unknown bytes after.
        let first = (offset * 8).div_ceil(6);
        let last = (padded.len() * 8) / 6;
        if last <= first {
            continue;
        }
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&padded);
            if let Some(core) = encoded.get(first..last) {
                cores.push(Needle {
                    text: core.to_owned(),
                    partial_before: (offset * 8) % 6 != 0,
                    partial_after: (padded.len() * 8) % 6 != 0,
                });
            }
        }
    }
    cores
}

/// The decoded `id:secret` of a Basic header, and its parts (form-decoded,
/// as RFC 6749 §2.3.1 encodes them): what a server may echo back.
fn basic_credentials(request: &HttpRequest) -> Vec<String> {
    let mut found = Vec::new();
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        let value = value.expose();
        let Some(encoded) = value
            .get(..6)
            .filter(|scheme| scheme.eq_ignore_ascii_case("basic "))
            .map(|_| value[6..].trim())
        else {
            continue;
        };
        found.push(encoded.to_owned());
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
            continue;
        };
        let decoded = String::from_utf8_lossy(&decoded).into_owned();
        if let Some((_, secret)) = decoded.split_once(':') {
            let plain: String = form_urlencoded::parse(format!("s={secret}").as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
            found.push(secret.to_owned());
            found.push(plain);
        }
        found.push(decoded);
    }
    found
}

/// Whether a member name says it holds a token or credential (any case or
/// separator): `access_token`, `accessToken`, `refresh-token`, `id_token`,
/// `token`, `tokens`, `device_code`, `client_secret`…
fn names_a_token(name: &str) -> bool {
    let normalized: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let singular = normalized.strip_suffix('s').unwrap_or(&normalized);
    singular.ends_with("token")
        || singular.ends_with("secret")
        || matches!(
            normalized.as_str(),
            "devicecode" | "usercode" | "code" | "assertion" | "password"
        )
}

/// The tokens a response issued: string members whose name says token
/// (at any depth, in arrays too), and `access_token`-like parameters of a
/// redirect's `Location` (query or fragment).
fn issued_tokens(response: &HttpResponse, tokens: &mut Vec<String>) {
    fn walk(value: &Value, under_token_name: bool, tokens: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (name, member) in map {
                    walk(member, names_a_token(name), tokens);
                }
            }
            Value::Array(items) => {
                for item in items {
                    walk(item, under_token_name, tokens);
                }
            }
            Value::String(text) if under_token_name => tokens.push(text.clone()),
            _ => {}
        }
    }
    if let Some(json) = response.json() {
        walk(&json, false, tokens);
    }
    for (name, value) in &response.headers {
        if !name.eq_ignore_ascii_case("location") {
            continue;
        }
        let parameters = value
            .split(['?', '#'])
            .skip(1)
            .flat_map(|part| form_urlencoded::parse(part.as_bytes()));
        for (key, token) in parameters {
            if names_a_token(&key) {
                tokens.push(token.into_owned());
            }
        }
    }
}

/// How an issued token is shown: its length, its alphabet and a short hash,
/// enough to tell two tokens apart, never enough to use one.
pub fn fingerprint(token: &str) -> String {
    let alphabet = if token.split('.').count() == 3 {
        "jwt"
    } else if token.bytes().all(|b| b.is_ascii_hexdigit()) {
        "hex"
    } else if token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        "base64url"
    } else {
        "text"
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    token.hash(&mut hasher);
    let hash = hasher.finish() & 0xff_ffff;
    format!(
        "[token {alphabet} len={} #{hash:06x}]",
        token.chars().count()
    )
}

/// `text` with control characters (ESC, CR, BEL, C1 controls, DEL…) shown
/// as `\u{1b}`, so that bytes from a server can neither drive a terminal nor
/// forge a line of test output; line feeds and tabs stay.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    let is_hostile = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(is_hostile) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_hostile(c) {
                    format!("\\u{{{:x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A canary with every character that encodes differently somewhere.
    const CANARY: &str = "c4n+ry/ s=cr&t:%q\"";

    #[test]
    fn a_secret_is_found_in_every_encoding_the_harness_sends() {
        let redactor = Redactor::new(&[CANARY.to_owned()], &[]);
        let form: String = form_urlencoded::byte_serialize(CANARY.as_bytes()).collect();
        let json = serde_json::to_string(CANARY).unwrap();
        let basic = |id: &str, secret: &str| {
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        };
        let shown = [
            format!("raw {CANARY} raw"),
            format!("error_description=bad+{form}"),
            format!("{{\"echo\":{json}}}"),
            format!("Basic realm=\"x\", got {}", basic("client", CANARY)),
            format!("got {}", basic("client", &form)),
            format!("got {}", basic("cl", CANARY)),
            format!("got {}", basic("c", &form)),
            format!(
                "url-safe {}",
                URL_SAFE_NO_PAD.encode(format!("xx:{CANARY}:yy"))
            ),
            lower_hex_escapes(&form),
        ];
        for text in shown {
            assert!(redactor.leaks(&text), "not recognised: {text}");
            let scrubbed = redactor.scrub(&text, Audience::Message);
            assert!(!redactor.leaks(&scrubbed), "still leaks: {scrubbed}");
            assert!(scrubbed.contains("[secret]"), "{scrubbed}");
        }
    }

    /// Inside a longer base64 text, the characters that mix bits of the
    /// secret with bits of its neighbours go too: what is left encodes only
    /// the neighbours.
    #[test]
    fn no_bit_of_a_secret_is_left_beside_it_in_base64() {
        let redactor = Redactor::new(&[CANARY.to_owned()], &[]);
        for before in ["", "c", "cl", "client:", "client_id:"] {
            for after in ["", ":", ":x", ":xy"] {
                let plain = format!("{before}{CANARY}{after}");
                for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                    let encoded = engine.encode(&plain);
                    // Characters wholly made of the neighbours' bits.
                    let kept_before = before.len() * 8 / 6;
                    let kept_after_from = ((before.len() + CANARY.len()) * 8).div_ceil(6);
                    let expected = format!(
                        "got {}[secret]{} end",
                        &encoded[..kept_before],
                        &encoded[kept_after_from..]
                    );
                    let shown = format!("got {encoded} end");
                    let scrubbed = redactor.scrub(&shown, Audience::Message);
                    assert_eq!(scrubbed, expected, "{before:?} + canary + {after:?}");
                }
            }
        }
    }

    #[test]
    fn issued_tokens_become_fingerprints_in_messages_and_placeholders_in_snapshots() {
        let token = "tok_4f9a8b7c6d5e4f3a2b1c";
        let redactor = Redactor::new(&[], &[token.to_owned()]);
        let text = format!("got \"{token}\"");
        let message = redactor.scrub(&text, Audience::Message);
        assert_eq!(message, format!("got \"{}\"", fingerprint(token)));
        assert!(message.contains("len=24"), "{message}");
        let snapshot = redactor.scrub(token, Audience::Snapshot);
        assert_eq!(snapshot, "[issued token]");
        assert_ne!(fingerprint(token), fingerprint("tok_other_token_value_"));
    }

    #[test]
    fn tokens_are_found_under_any_name_in_arrays_and_in_a_location() {
        let response = HttpResponse {
            status: 302,
            headers: vec![(
                "location".into(),
                "https://app.example/cb?state=s1#access_token=loc-tok-123&token_type=bearer".into(),
            )],
            body: br#"{"accessToken":"camel-tok-1","tokens":["arr-tok-1"],"data":{"refresh-token":"dash-tok-1"},"expires_in":60}"#.to_vec(),
        };
        let mut tokens = Vec::new();
        issued_tokens(&response, &mut tokens);
        tokens.sort();
        assert_eq!(
            tokens,
            ["arr-tok-1", "camel-tok-1", "dash-tok-1", "loc-tok-123"]
        );
    }

    #[test]
    fn configured_secrets_are_the_set_values_of_the_spec_secret_variables() {
        let spec = grantspec_spec::load_str(
            "p.yaml".as_ref(),
            r#"
provider: { id: p, name: P, token_endpoint: { path: /token } }
vars:
  secret: { mock: s, live: "${secret:P_SECRET}" }
  other: { mock: o, live: "${secret:P_UNSET}" }
  plain: "${env:P_ID}"
cases:
  - { name: a, grant: client_credentials, with: { client_secret: "${secret}" } }
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
        let env = Env::from_pairs([("P_SECRET", "v1"), ("P_ID", "id")]);
        let configured = configured_secrets(&spec, &env);
        assert_eq!(configured.len(), 1);
        assert_eq!(configured[0].0, "P_SECRET");
    }

    #[test]
    fn every_string_of_a_report_is_scrubbed_and_escaped() {
        let redactor = Redactor::new(&["hunter2-canary".to_owned()], &[]);
        let mut report = serde_json::json!({
            "notes": ["the secret is hunter2-canary", "bell\u{7}"],
            "nested": {"description": "hunter2%2Dcanary? no: hunter2-canary"},
            "count": 3
        });
        scrub_strings(&mut report, &redactor);
        let text = report.to_string();
        assert!(!redactor.leaks(&text), "{text}");
        assert!(text.contains("[secret]"), "{text}");
        assert!(!text.contains('\u{7}'), "{text}");
    }

    #[test]
    fn control_characters_are_escaped_but_lines_stay() {
        let hostile = "ok\u{1b}]0;title\u{7}\r\ntest result: ok\u{9b}";
        assert_eq!(
            escape_controls(hostile),
            "ok\\u{1b}]0;title\\u{7}\\u{d}\ntest result: ok\\u{9b}"
        );
        assert!(matches!(escape_controls("plain\n"), Cow::Borrowed(_)));
    }
}
