//! `${…}` interpolation in parameter values and live settings.
//!
//! - `${name}`: a variable from `vars`, with the value for the current target;
//! - `${env:NAME}`: an environment variable;
//! - `${secret:NAME}`: an environment variable that is a secret;
//! - `${step.member}`: a member of an earlier step's response body
//!   (`${login.refresh_token}`; dots descend into objects).
//!
//! A value is a secret when any part of it is: a `${secret:…}`, a variable
//! whose value is one, or a captured token, code or verifier (a member
//! named as a token or a secret parameter: `${auth.code}`).

use std::collections::HashMap;

use grantspec_token::{SECRET_PARAMS, TOKEN_MEMBERS, Text};
use serde_json::Value;

use crate::model::{Spec, Var};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Literal(String),
    /// `${name}`.
    Var(String),
    /// `${env:NAME}`.
    Env(String),
    /// `${secret:NAME}`.
    Secret(String),
    /// `${step.member.member}`.
    Capture {
        /// The step id.
        step: String,
        /// The member path.
        path: Vec<String>,
    },
}

/// Whether `byte` may be part of a name: an ASCII letter or digit, `_` or
/// `-`. Bytes, not characters: a character beyond ASCII is refused either
/// way.
const fn is_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// [`is_name_byte`] of every byte, looked up: every case's templates are
/// checked at load and again for its skip reason, a name at a time.
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = is_name_byte(byte as u8);
        byte += 1;
    }
    table
};

/// Whether `name` may name a variable, an environment variable, a step or a
/// member.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| NAME_BYTES[usize::from(b)])
}

/// The variable's name when `template` is only `${name}`, which [`parse`]
/// would find as that one [`Piece::Var`], without parsing.
pub fn lone_var(template: &str) -> Option<&str> {
    template
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
        .filter(|name| valid_name(name))
}

/// Splits a template into pieces, or says what is wrong with it.
///
/// # Errors
///
/// A `${` without its `}`, or a reference that is none of the four forms.
pub fn parse(template: &str) -> Result<Vec<Piece>, TemplateError> {
    pieces(template)
        .map(|piece| piece.map(Part::to_piece))
        .collect()
}

/// One piece of a template, borrowed from it: what [`parse`] gives, without
/// a copy of each name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'t> {
    /// Literal text.
    Literal(&'t str),
    /// `${name}`.
    Var(&'t str),
    /// `${env:NAME}`.
    Env(&'t str),
    /// `${secret:NAME}`.
    Secret(&'t str),
    /// `${step.member.member}`.
    Capture {
        /// The step id.
        step: &'t str,
        /// The member path, its members joined by dots.
        path: &'t str,
    },
}

impl Part<'_> {
    /// The owned [`Piece`].
    pub fn to_piece(self) -> Piece {
        match self {
            Self::Literal(text) => Piece::Literal(text.to_owned()),
            Self::Var(name) => Piece::Var(name.to_owned()),
            Self::Env(name) => Piece::Env(name.to_owned()),
            Self::Secret(name) => Piece::Secret(name.to_owned()),
            Self::Capture { step, path } => Piece::Capture {
                step: step.to_owned(),
                path: path.split('.').map(str::to_owned).collect(),
            },
        }
    }
}

/// The pieces of a template, borrowed, in order; after an error, nothing.
/// [`parse`] is these, owned.
pub fn pieces(template: &str) -> Pieces<'_> {
    Pieces {
        template,
        rest: template,
        reference: None,
    }
}

/// The iterator of [`pieces`].
#[derive(Debug, Clone)]
pub struct Pieces<'t> {
    template: &'t str,
    rest: &'t str,
    /// A reference found after a literal, given next.
    reference: Option<Part<'t>>,
}

impl<'t> Iterator for Pieces<'t> {
    type Item = Result<Part<'t>, TemplateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(reference) = self.reference.take() {
            return Some(Ok(reference));
        }
        if self.rest.is_empty() {
            return None;
        }
        let Some(start) = find_open(self.rest) else {
            let literal = std::mem::take(&mut self.rest);
            return Some(Ok(Part::Literal(literal)));
        };
        let literal = &self.rest[..start];
        let after = &self.rest[start + 2..];
        let Some(end) = after.find('}') else {
            self.rest = "";
            return Some(Err(TemplateError::Unclosed {
                template: self.template.to_owned(),
            }));
        };
        self.rest = &after[end + 1..];
        let reference = match reference(after[..end].trim()) {
            Ok(reference) => reference,
            Err(error) => {
                self.rest = "";
                return Some(Err(error));
            }
        };
        if literal.is_empty() {
            Some(Ok(reference))
        } else {
            self.reference = Some(reference);
            Some(Ok(Part::Literal(literal)))
        }
    }
}

/// Where the first `${` of `text` starts.
fn find_open(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == b'$') {
        let at = from + at;
        if bytes.get(at + 1) == Some(&b'{') {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// The reference `inner` (what is between `${` and `}`, trimmed) is.
fn reference(inner: &str) -> Result<Part<'_>, TemplateError> {
    let (part, names_ok) = if let Some(name) = inner.strip_prefix("env:") {
        (Part::Env(name), valid_name(name))
    } else if let Some(name) = inner.strip_prefix("secret:") {
        (Part::Secret(name), valid_name(name))
    } else if let Some((step, path)) = inner.split_once('.') {
        let valid = valid_name(step) && path.split('.').all(valid_name);
        (Part::Capture { step, path }, valid)
    } else {
        (Part::Var(inner), valid_name(inner))
    };
    if names_ok {
        Ok(part)
    } else {
        Err(TemplateError::InvalidReference {
            inner: inner.to_owned(),
        })
    }
}

/// Why a template does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `${` without its `}`.
    #[error("unclosed `${{` in {template:?}")]
    Unclosed {
        /// The whole template.
        template: String,
    },
    /// A `${…}` that is none of `${name}`, `${env:NAME}`, `${secret:NAME}`,
    /// `${step.member}`.
    #[error(
        "`${{{inner}}}` is not a valid reference: expected ${{name}}, ${{env:NAME}}, ${{secret:NAME}} or ${{step.member}}"
    )]
    InvalidReference {
        /// What is between `${` and `}`, trimmed.
        inner: String,
    },
}

/// Which target values are resolved for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// The embedded emulator.
    Mock,
    /// The live provider.
    Live,
}

/// Why a template could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unresolved {
    /// An environment variable the live target needs is not set.
    #[error("environment variable {0} is not set")]
    MissingEnv(String),
    /// A `${name}` that `vars` does not define.
    #[error("variable `{0}` is not defined in `vars`")]
    UnknownVar(String),
    /// A capture from a step that has not run or has no such member.
    #[error("`${{{step}.{path}}}`: {reason}")]
    Capture {
        /// The step id.
        step: String,
        /// The dotted path.
        path: String,
        /// What is missing.
        reason: String,
    },
    /// The template itself is malformed.
    #[error(transparent)]
    Malformed(#[from] TemplateError),
    /// Variables that use variables, more than 8 deep.
    #[error("variables nest more than 8 deep while resolving {template:?}")]
    TooDeep {
        /// The template being resolved.
        template: String,
    },
}

/// Resolves templates for one target.
pub struct Resolver<'a> {
    spec: &'a Spec,
    target: TargetKind,
    env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    resolved: Option<&'a ResolvedVars>,
}

impl<'a> Resolver<'a> {
    /// A resolver reading the environment through `env`.
    pub fn new(
        spec: &'a Spec,
        target: TargetKind,
        env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    ) -> Self {
        Self {
            spec,
            target,
            env,
            resolved: None,
        }
    }

    /// The same resolver, taking a variable a template names directly
    /// (`${name}`) from `resolved` when it is there: `resolved` must come
    /// from [`ResolvedVars::new`] for this spec, target and environment.
    #[must_use]
    pub fn with_resolved(self, resolved: &'a ResolvedVars) -> Self {
        Self {
            resolved: Some(resolved),
            ..self
        }
    }

    /// Resolves `template`, with `captures` holding earlier steps' bodies.
    pub fn resolve(
        &self,
        template: &str,
        captures: &HashMap<String, Value>,
    ) -> Result<Text, Unresolved> {
        self.resolve_depth(template, captures, 0)
    }

    fn resolve_depth(
        &self,
        template: &str,
        captures: &HashMap<String, Value>,
        depth: u8,
    ) -> Result<Text, Unresolved> {
        if depth > MAX_VAR_DEPTH {
            return Err(Unresolved::TooDeep {
                template: template.to_owned(),
            });
        }
        if !template.contains("${") {
            // Only a literal, as `parse` would find.
            return Ok(Text::Plain(template.to_owned()));
        }
        if let Some(name) = lone_var(template) {
            // Only `${name}`, as `parse` would find: the variable's value.
            return self.var(name, captures, depth);
        }
        let mut out = String::new();
        let mut secret = false;
        for piece in parse(template)? {
            match piece {
                Piece::Literal(text) => out.push_str(&text),
                Piece::Env(name) => {
                    out.push_str(&(self.env)(&name).ok_or(Unresolved::MissingEnv(name))?);
                }
                Piece::Secret(name) => {
                    out.push_str(&(self.env)(&name).ok_or(Unresolved::MissingEnv(name))?);
                    secret = true;
                }
                Piece::Var(name) => {
                    let value = self.var(&name, captures, depth)?;
                    secret |= value.is_secret();
                    out.push_str(value.expose());
                }
                Piece::Capture { step, path } => {
                    let unresolved = |reason: &str| Unresolved::Capture {
                        step: step.clone(),
                        path: path.join("."),
                        reason: reason.to_owned(),
                    };
                    let body = captures
                        .get(&step)
                        .ok_or_else(|| unresolved("that step has not run in this case"))?;
                    let value = path
                        .iter()
                        .try_fold(body, |value, member| value.get(member))
                        .ok_or_else(|| unresolved("the step's response has no such member"))?;
                    match value {
                        Value::String(s) => out.push_str(s),
                        other => out.push_str(&other.to_string()),
                    }
                    secret |= path.last().is_some_and(|member| {
                        TOKEN_MEMBERS.contains(&member.as_str())
                            || SECRET_PARAMS.contains(&member.as_str())
                    });
                }
            }
        }
        Ok(if secret {
            Text::secret(out)
        } else {
            Text::Plain(out)
        })
    }

    /// The value of variable `name` on this target, itself resolved.
    fn var(
        &self,
        name: &str,
        captures: &HashMap<String, Value>,
        depth: u8,
    ) -> Result<Text, Unresolved> {
        // Resolved once at the top level; deeper, how deep it nests decides
        // whether it is too deep, so it is resolved again.
        if depth == 0
            && let Some(result) = self.resolved.and_then(|resolved| resolved.0.get(name))
        {
            return result.clone();
        }
        let var = self
            .spec
            .vars
            .get(name)
            .ok_or_else(|| Unresolved::UnknownVar(name.to_owned()))?;
        let (raw, other) = match (var, self.target) {
            (Var::Same(value), _) => (value, None),
            (Var::PerTarget { mock, live }, TargetKind::Mock) => (mock, Some(live)),
            (Var::PerTarget { mock, live }, TargetKind::Live) => (live, Some(mock)),
        };
        let value = self.resolve_depth(raw, captures, depth + 1)?;
        // A variable that is a secret on one target is one on both: the
        // mock's stand-in for a live secret is shown no more than the secret.
        let secret_elsewhere = other.is_some_and(|other| other.contains("${secret:"));
        Ok(match value {
            Text::Plain(text) if secret_elsewhere => Text::secret(text),
            value => value,
        })
    }
}

/// A spec's variables resolved once for one target and environment, for
/// the cases that name them: the variables whose values read no earlier
/// step's response (no `${step.member}`, directly or through another
/// variable), so that every case would resolve them alike, successfully or
/// not. A case then clones the value rather than parsing and looking up
/// the environment again.
#[derive(Debug, Default)]
pub struct ResolvedVars(HashMap<String, Result<Text, Unresolved>>);

impl ResolvedVars {
    /// Resolves every variable of `spec` that reads no capture, as
    /// [`Resolver::resolve`] of `${name}` would.
    pub fn new(
        spec: &Spec,
        target: TargetKind,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
    ) -> Self {
        let resolver = Resolver::new(spec, target, env);
        let no_captures = HashMap::new();
        Self(
            spec.vars
                .iter()
                .filter(|(_, var)| !reads_captures(spec, target, var.on(target)))
                .map(|(name, _)| (name.clone(), resolver.var(name, &no_captures, 0)))
                .collect(),
        )
    }
}

/// Whether resolving a variable whose value on `target` is `value` may read
/// an earlier step's response: a `${step.member}` in it or in a variable it
/// names (nesting deeper than resolving goes counts as reading one, as
/// nothing is known there).
fn reads_captures(spec: &Spec, target: TargetKind, value: &str) -> bool {
    let mut captures = false;
    let followed = walk_through_vars(spec, target, value, 1, &mut |part| {
        captures |= matches!(part, Part::Capture { .. });
    });
    captures || !followed
}

/// How deep variables may name variables: a template names one at depth 1,
/// that one's value names one at depth 2, and so on.
const MAX_VAR_DEPTH: u8 = 8;

/// Calls `visit` with each part of `template`, found at `depth`, and with
/// each part of the value on `target` of every variable it names, found at
/// one more, down to the deepest nesting allowed (`MAX_VAR_DEPTH`): what
/// resolving it reads. A template that does not parse adds nothing, nor does
/// a variable `vars` lacks.
/// Returns false when some variable nests deeper, so was not followed.
pub fn walk_through_vars<'s>(
    spec: &'s Spec,
    target: TargetKind,
    template: &'s str,
    depth: u8,
    visit: &mut impl FnMut(Part<'s>),
) -> bool {
    let Ok(parts) = pieces(template).collect::<Result<Vec<_>, _>>() else {
        return true;
    };
    let mut followed = true;
    for part in parts {
        visit(part);
        if let Part::Var(name) = part
            && let Some(var) = spec.vars.get(name)
        {
            followed &= depth < MAX_VAR_DEPTH
                && walk_through_vars(spec, target, var.on(target), depth + 1, visit);
        }
    }
    followed
}

/// The names of every `${secret:NAME}` the spec uses anywhere: variables,
/// the live base URL, and every step of every case.
pub fn secret_names(spec: &Spec) -> Vec<String> {
    let mut texts: Vec<&str> = Vec::new();
    for var in spec.vars.values() {
        match var {
            Var::Same(value) => texts.push(value),
            Var::PerTarget { mock, live } => texts.extend([mock.as_str(), live.as_str()]),
        }
    }
    if let Some(live) = &spec.live {
        texts.push(&live.base_url);
    }
    let steps = spec.cases.iter().flat_map(|case| &case.steps);
    texts.extend(steps.flat_map(|step| step.templates()));
    let mut names = Vec::new();
    for text in texts {
        for piece in parse(text).unwrap_or_default() {
            if let Piece::Secret(name) = piece {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_table_is_its_rule_byte_by_byte() {
        for byte in 0..=u8::MAX {
            assert_eq!(
                NAME_BYTES[usize::from(byte)],
                is_name_byte(byte),
                "{byte:#04x}"
            );
        }
        assert!(valid_name("client_secret-2"));
        for refused in ["", "a b", "a.b", "é", "a$", "a}"] {
            assert!(!valid_name(refused), "{refused:?}");
        }
    }

    #[test]
    fn parses_every_reference_kind() {
        assert_eq!(
            parse("a${x}b${env:E}${secret:S}${login.refresh_token}"),
            Ok(vec![
                Piece::Literal("a".into()),
                Piece::Var("x".into()),
                Piece::Literal("b".into()),
                Piece::Env("E".into()),
                Piece::Secret("S".into()),
                Piece::Capture {
                    step: "login".into(),
                    path: vec!["refresh_token".into()]
                },
            ])
        );
    }

    #[test]
    fn a_lone_variable_resolves_as_inside_a_longer_template() {
        let source = "provider: { id: p, name: P, token_endpoint: { path: /token } }\n\
                      vars:\n  id: plain\n  pass: { mock: \"m-${secret:PASS}\", live: \"${secret:PASS}\" }\n  \
                      alias: \"${id}\"\ncases:\n  - { name: c, grant: client_credentials }\n";
        let spec = crate::load_str(std::path::Path::new("p.yaml"), source)
            .expect("the spec loads")
            .spec;
        let env = |name: &str| (name == "PASS").then(|| "hunter2".to_owned());
        let captures = HashMap::new();
        for target in [TargetKind::Mock, TargetKind::Live] {
            let resolver = Resolver::new(&spec, target, &env);
            for name in ["id", "pass", "alias", "missing"] {
                let alone = resolver.resolve(&format!("${{{name}}}"), &captures);
                let within = resolver
                    .resolve(&format!("<${{{name}}}>"), &captures)
                    .map(|text| {
                        let inner = text.expose().trim_matches(['<', '>']).to_owned();
                        if text.is_secret() {
                            Text::secret(inner)
                        } else {
                            Text::Plain(inner)
                        }
                    });
                assert_eq!(
                    alone.as_ref().map(|t| (t.expose(), t.is_secret())),
                    within.as_ref().map(|t| (t.expose(), t.is_secret())),
                    "{name} on {target:?}"
                );
            }
            let pass = resolver.resolve("${pass}", &captures).expect("resolves");
            assert!(pass.is_secret(), "a secret stays one through a variable");
        }
    }

    #[test]
    fn variables_resolved_once_resolve_as_each_time_and_capture_readers_are_left_out() {
        let source = "provider: { id: p, name: P, token_endpoint: { path: /token } }\n\
                      vars:\n  id: plain\n  pass: { mock: \"m-${secret:PASS}\", live: \"${secret:PASS}\" }\n  \
                      alias: \"${id}\"\n  unset: \"${env:UNSET}\"\n  token: \"${login.access_token}\"\n  \
                      bearer: \"Bearer ${token}\"\n  a: \"${b}\"\n  b: \"${c}\"\n  c: \"${d}\"\n  \
                      d: \"${e}\"\n  e: \"${f}\"\n  f: \"${g}\"\n  g: \"${h}\"\n  h: \"${i}\"\n  \
                      i: \"${id}\"\ncases:\n  - { name: c, grant: client_credentials }\n";
        let spec = crate::load_str(std::path::Path::new("p.yaml"), source)
            .expect("the spec loads")
            .spec;
        let env = |name: &str| (name == "PASS").then(|| "hunter2".to_owned());
        let login = HashMap::from([(
            "login".to_owned(),
            serde_json::json!({ "access_token": "tkn" }),
        )]);
        let shown = |result: Result<Text, Unresolved>| {
            result.map(|text| (text.expose().to_owned(), text.is_secret()))
        };
        for target in [TargetKind::Mock, TargetKind::Live] {
            let resolved = ResolvedVars::new(&spec, target, &env);
            let mut kept: Vec<&str> = resolved.0.keys().map(String::as_str).collect();
            kept.sort_unstable();
            assert_eq!(
                kept,
                [
                    "alias", "c", "d", "e", "f", "g", "h", "i", "id", "pass", "unset"
                ],
                "every variable but those reading a capture and those nesting beyond \
                 where resolving stops (`a`, `b`), on {target:?}"
            );
            let each_time = Resolver::new(&spec, target, &env);
            let once = Resolver::new(&spec, target, &env).with_resolved(&resolved);
            for captures in [HashMap::new(), login.clone()] {
                for name in spec.vars.keys().map(String::as_str).chain(["missing"]) {
                    for template in [format!("${{{name}}}"), format!("<${{{name}}}>")] {
                        assert_eq!(
                            shown(once.resolve(&template, &captures)),
                            shown(each_time.resolve(&template, &captures)),
                            "{template} on {target:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_mock_stand_in_for_a_live_secret_is_a_secret_too() {
        let source = "provider: { id: p, name: P, token_endpoint: { path: /token } }\n\
                      vars:\n  client_secret: { mock: mock-secret, live: \"${secret:S}\" }\n  \
                      client_id: { mock: mock-id, live: \"${env:ID}\" }\n\
                      cases:\n  - { name: c, grant: client_credentials }\n";
        let spec = crate::load_str(std::path::Path::new("p.yaml"), source)
            .expect("the spec loads")
            .spec;
        let env = |_: &str| None;
        let resolver = Resolver::new(&spec, TargetKind::Mock, &env);
        let captures = HashMap::new();
        let secret = resolver.resolve("${client_secret}", &captures).unwrap();
        assert!(secret.is_secret());
        let header = resolver
            .resolve("Basic ${client_secret}", &captures)
            .unwrap();
        assert!(header.is_secret(), "and so is a header built from it");
        let id = resolver.resolve("${client_id}", &captures).unwrap();
        assert!(!id.is_secret(), "an env variable is no secret");
    }

    #[test]
    fn secret_names_come_from_vars_base_url_and_steps() {
        let spec = crate::load_str(
            "p.yaml".as_ref(),
            r#"
provider: { id: p, name: P, token_endpoint: { path: /token } }
live: { base_url: "https://${secret:P_HOST}" }
vars:
  secret: { mock: s, live: "${secret:P_SECRET}" }
  plain: "${env:P_ID}"
cases:
  - name: a
    steps:
      - grant: client_credentials
        with: { client_id: x, client_secret: "${secret}" }
        request: { headers: { x-key: "${secret:P_HEADER}" } }
"#,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .spec;
        assert_eq!(secret_names(&spec), ["P_SECRET", "P_HOST", "P_HEADER"]);
    }

    /// `parse` as it was written before [`pieces`]: each piece found and
    /// copied in one loop.
    fn parse_in_one_loop(template: &str) -> Result<Vec<Piece>, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            if start > 0 {
                pieces.push(Piece::Literal(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(TemplateError::Unclosed {
                    template: template.to_owned(),
                });
            };
            let inner = after[..end].trim();
            let piece = if let Some(name) = inner.strip_prefix("env:") {
                Piece::Env(name.to_owned())
            } else if let Some(name) = inner.strip_prefix("secret:") {
                Piece::Secret(name.to_owned())
            } else if let Some((step, path)) = inner.split_once('.') {
                Piece::Capture {
                    step: step.to_owned(),
                    path: path.split('.').map(str::to_owned).collect(),
                }
            } else {
                Piece::Var(inner.to_owned())
            };
            let names_ok = match &piece {
                Piece::Env(n) | Piece::Secret(n) | Piece::Var(n) => valid_name(n),
                Piece::Capture { step, path } => {
                    valid_name(step) && path.iter().all(|p| valid_name(p))
                }
                Piece::Literal(_) => true,
            };
            if !names_ok {
                return Err(TemplateError::InvalidReference {
                    inner: inner.to_owned(),
                });
            }
            pieces.push(piece);
            rest = &after[end + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(pieces)
    }

    #[test]
    fn borrowed_pieces_are_what_one_loop_finds() {
        let fragments = [
            "",
            "a",
            "$",
            "{",
            "}",
            "$$",
            "${",
            "${x}",
            "${ x }",
            "${env:E}",
            "${secret:S}",
            "${a.b.c}",
            "${a..b}",
            "${.a}",
            "${a.}",
            "${env:a.b}",
            "${}",
            "${a b}",
            "é",
            "${é}",
            "$${x}",
            "${x}}",
            " ",
            "\n",
            ".",
            ":",
        ];
        let mut templates = Vec::new();
        for first in fragments {
            for second in fragments {
                for third in ["", "${y}", "-", "${"] {
                    templates.push(format!("{first}{second}{third}"));
                }
            }
        }
        for template in &templates {
            assert_eq!(parse(template), parse_in_one_loop(template), "{template:?}");
            let borrowed: Vec<_> = pieces(template).collect();
            assert!(
                borrowed.iter().filter(|piece| piece.is_err()).count() <= 1
                    && borrowed.iter().take_while(|piece| piece.is_ok()).count()
                        >= borrowed.len().saturating_sub(1),
                "nothing follows an error: {template:?}"
            );
        }
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(parse("${unclosed").is_err());
        assert!(parse("${}").is_err());
        assert!(parse("${a b}").is_err());
    }
}
