//! Reading spec files: YAML in, a checked [`Spec`] or every located problem out.
//!
//! This module is the only place that parses YAML. It runs in stages, each
//! reporting everything it finds:
//!
//! 1. the bytes: size cap, UTF-8;
//! 2. the YAML itself, parsed by serde into a plain value: syntax errors,
//!    alias bombs (serde_yaml's repetition limit), nesting depth, several
//!    documents, an empty file, a document that is not a mapping;
//! 3. the spec's structure, deserialized into [`Spec`]: unknown keys, wrong
//!    types, unknown grants and enum values, malformed matchers. serde stops
//!    at the first error, so when there is one, [`recover`] looks for the
//!    others in pruned copies of the document;
//! 4. what serde cannot see ([`check`]): duplicate case names, references
//!    to variables and steps, a case or step that does not say what it does,
//!    a provider id that differs from the file name.
//!
//! Positions come from a second parse with spans ([`tree`]).

mod check;
mod recover;
mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{SpecError, SpecErrors, did_you_mean};
use crate::model::{Case, Live, Provider, Spec, Var};

use check::Parts;
use tree::{Node, Pos, Seg};

/// Largest spec file accepted, in bytes.
pub const MAX_SPEC_BYTES: u64 = 16 * 1024 * 1024;

/// Most errors reported for one file.
const MAX_ERRORS: usize = 100;

/// A spec and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The file.
    pub path: PathBuf,
    /// The spec.
    pub spec: Spec,
}

/// Loads and checks one spec file.
///
/// # Errors
///
/// Every problem found, each located in the file: see [`load_str`].
pub fn load_file(path: &Path) -> Result<LoadedSpec, SpecErrors> {
    let error = |message: String| SpecErrors(vec![SpecError::file(path, message)]);
    let metadata =
        std::fs::metadata(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    if metadata.is_dir() {
        return Err(error("this is a folder, not a spec file".to_owned()));
    }
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(error(too_large(metadata.len())));
    }
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    load_bytes(path, &bytes)
}

/// Checks the contents of a spec file; `path` is used only in messages and
/// to compare the provider id with the file name.
///
/// # Errors
///
/// Bytes that are not UTF-8, and every problem [`load_str`] finds.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<LoadedSpec, SpecErrors> {
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(SpecErrors(vec![SpecError::file(
            path,
            too_large(bytes.len() as u64),
        )]));
    }
    match std::str::from_utf8(bytes) {
        Ok(source) => load_str(path, source),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let column = valid[line_start..].chars().count() + 1;
            let invalid = &bytes[e.valid_up_to()..];
            let shown: Vec<String> = invalid
                .iter()
                .take(e.error_len().unwrap_or(invalid.len()).min(4))
                .map(|b| format!("0x{b:02x}"))
                .collect();
            Err(SpecErrors(vec![
                SpecError::at(
                    path,
                    valid,
                    line,
                    column,
                    format!(
                        "the file is not valid UTF-8: byte {} cannot start a character here",
                        shown.join(" ")
                    ),
                )
                .with_help("save the spec as UTF-8"),
            ]))
        }
    }
}

/// Parses and checks spec text; `path` is used only in messages and to
/// compare the provider id with the file name.
///
/// # Errors
///
/// Every problem found (up to a hundred), in the order they appear in the
/// file, each with its line and column, the source line, and a suggestion
/// where one fits.
pub fn load_str(path: &Path, source: &str) -> Result<LoadedSpec, SpecErrors> {
    if source.len() as u64 > MAX_SPEC_BYTES {
        return Err(SpecErrors(vec![SpecError::file(
            path,
            too_large(source.len() as u64),
        )]));
    }
    let doc = Doc {
        path,
        source,
        root: None,
    };

    // Stage 2: is it YAML, one document, a mapping?
    let value: serde_yaml::Value = match serde_yaml::from_str(source) {
        Ok(value) => value,
        Err(e) => return Err(SpecErrors(vec![doc.yaml_error(&e)])),
    };
    let doc = Doc {
        root: tree::parse(source),
        ..doc
    };
    let serde_yaml::Value::Mapping(mapping) = &value else {
        return Err(SpecErrors(vec![doc.not_a_mapping(&value)]));
    };

    // Stage 3: the structure.
    let (spec, mut errors) = match serde_yaml::from_str::<Spec>(source) {
        Ok(spec) => (Some(spec), Vec::new()),
        Err(first) => {
            let found = match &doc.root {
                Some(root) => recover::all_errors::<Spec>(source, root, first),
                None => vec![first],
            };
            (None, found.iter().map(|e| doc.yaml_error(e)).collect())
        }
    };

    // Stage 4: the meaning, of whatever parts could be read.
    let errors = match spec {
        Some(spec) => {
            errors.extend(check::check(&doc, &Parts::of(&spec)));
            if errors.is_empty() {
                return Ok(LoadedSpec {
                    path: path.to_owned(),
                    spec,
                });
            }
            errors
        }
        None => {
            let parts = PartsOwned::read(mapping);
            errors.extend(check::check(&doc, &parts.borrow()));
            errors
        }
    };
    Err(SpecErrors(finish(errors)))
}

/// Sorts errors into file order, drops repeats, caps their number.
fn finish(mut errors: Vec<SpecError>) -> Vec<SpecError> {
    errors.sort_by_key(|e| (e.line, e.column));
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.line, e.column, e.message.clone())));
    if errors.len() > MAX_ERRORS {
        let file = errors[0].file.clone();
        errors.truncate(MAX_ERRORS);
        errors.push(SpecError::file(
            file,
            format!("stopped after {MAX_ERRORS} errors"),
        ));
    }
    errors
}

fn too_large(len: u64) -> String {
    format!("the file is {len} bytes; specs larger than {MAX_SPEC_BYTES} bytes are refused")
}

/// Loads every `*.yaml` and `*.yml` file of `dir`, in file-name order.
///
/// Returns the specs that loaded, and the errors of those that did not.
pub fn load_dir(dir: &Path) -> (Vec<LoadedSpec>, Vec<SpecError>) {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    match spec_files(dir) {
        Ok(files) => {
            for file in files {
                match load_file(&file) {
                    Ok(spec) => specs.push(spec),
                    Err(SpecErrors(mut more)) => errors.append(&mut more),
                }
            }
        }
        Err(e) => errors.push(SpecError::file(
            dir,
            format!("cannot list spec folder: {e}"),
        )),
    }
    (specs, errors)
}

/// The spec files of `dir`, sorted.
///
/// # Errors
///
/// When the folder cannot be read.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The parts of a spec that deserialize on their own, when the whole does
/// not: their meaning is still checked.
struct PartsOwned {
    provider: Option<Provider>,
    vars: Option<BTreeMap<String, Var>>,
    live: Option<Live>,
    cases: Vec<(usize, Case)>,
}

impl PartsOwned {
    fn read(mapping: &serde_yaml::Mapping) -> Self {
        fn part<T: serde::de::DeserializeOwned>(
            mapping: &serde_yaml::Mapping,
            key: &str,
        ) -> Option<T> {
            serde_yaml::from_value(mapping.get(key)?.clone()).ok()
        }
        let cases = match mapping.get("cases") {
            Some(serde_yaml::Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    serde_yaml::from_value(item.clone())
                        .ok()
                        .map(|case| (index, case))
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            provider: part(mapping, "provider"),
            vars: match mapping.get("vars") {
                None => Some(BTreeMap::new()),
                Some(_) => part(mapping, "vars"),
            },
            live: part(mapping, "live"),
            cases,
        }
    }

    fn borrow(&self) -> Parts<'_> {
        Parts {
            provider: self.provider.as_ref(),
            vars: self.vars.as_ref(),
            live: self.live.as_ref(),
            cases: self
                .cases
                .iter()
                .map(|(index, case)| (*index, case))
                .collect(),
        }
    }
}

/// The file being loaded: what error messages need to point into it.
pub(crate) struct Doc<'a> {
    path: &'a Path,
    source: &'a str,
    root: Option<Node>,
}

impl Doc<'_> {
    /// An error at `pos`.
    fn at(&self, pos: Pos, message: impl Into<String>) -> SpecError {
        let (line, column) = pos.line_col();
        SpecError::at(self.path, self.source, line, column, message)
    }

    /// An error at `node`, or about the whole file when there is no node.
    fn at_node(&self, node: Option<&Node>, message: impl Into<String>) -> SpecError {
        match node {
            Some(node) => self.at(node.start, message),
            None => SpecError::file(self.path, message),
        }
    }

    /// The node at `path`, when the tree has it.
    fn node(&self, path: &[Seg<'_>]) -> Option<&Node> {
        self.root.as_ref()?.get(path)
    }

    /// The node at `path` or its closest ancestor.
    fn closest(&self, path: &[Seg<'_>]) -> Option<&Node> {
        Some(self.root.as_ref()?.closest(path))
    }

    /// The key node of the entry `key` of the mapping at `path`.
    fn key(&self, path: &[Seg<'_>], key: &str) -> Option<&Node> {
        self.node(path)?.entry(key).map(|entry| &entry.key)
    }

    /// The source text of `node`.
    fn text(&self, node: &Node) -> &str {
        let start = char_to_byte(self.source, node.start.index);
        let end = char_to_byte(self.source, node.end.max(node.start.index));
        &self.source[start..end]
    }

    /// The file name without extension.
    fn stem(&self) -> Option<&str> {
        self.path.file_stem().and_then(|s| s.to_str())
    }

    fn not_a_mapping(&self, value: &serde_yaml::Value) -> SpecError {
        let help = "a spec is a mapping with `provider`, `cases` and optionally `mock`, `live` and `vars`; see docs/spec-format.md";
        if value.is_null() {
            return SpecError::file(self.path, "the file is empty: it holds no YAML document")
                .with_help(help);
        }
        let found = self.root.as_ref().map_or("not a mapping", Node::describe);
        self.at_node(
            self.root.as_ref(),
            format!("a spec must be a mapping, but this file holds {found}"),
        )
        .with_help(help)
    }

    /// A located error from serde_yaml's message.
    fn yaml_error(&self, error: &serde_yaml::Error) -> SpecError {
        let text = strip_locations(&error.to_string());
        let text = strip_path(&text);
        let location = error.location().map(|l| (l.line(), l.column()));
        let (message, help) = self.explain(text, location);
        let mut spec_error = match location {
            Some((line, column))
                if !message.starts_with("missing top-level key")
                    && !message.starts_with("the YAML") =>
            {
                SpecError::at(self.path, self.source, line, column, message)
            }
            _ => SpecError::file(self.path, message),
        };
        if let Some(help) = help {
            spec_error = spec_error.with_help(help);
        }
        spec_error
    }

    /// Rewords serde's message, and suggests a fix where one fits.
    fn explain(&self, text: &str, location: Option<(usize, usize)>) -> (String, Option<String>) {
        let context = location.and_then(|at| self.key_at(at));
        let context_text = context
            .as_deref()
            .map(|key| format!(" for `{key}`"))
            .unwrap_or_default();
        if let Some(rest) = text.strip_prefix("unknown field `") {
            let (word, expected) = split_expected(rest);
            let help = match did_you_mean(&word, expected.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None if expected.is_empty() => "this mapping takes no keys".to_owned(),
                None => format!("expected one of {}", quoted_list(&expected)),
            };
            let message = match context.as_deref() {
                Some(parent) => format!("unknown key `{word}` in `{parent}`"),
                None => format!("unknown key `{word}`"),
            };
            return (message, Some(help));
        }
        if let Some(rest) = text.strip_prefix("unknown variant `") {
            let (word, expected) = split_expected(rest);
            let what = match context.as_deref() {
                Some("grant" | "grants") => "grant",
                _ => "value",
            };
            let help = match did_you_mean(&word, expected.iter().map(String::as_str)) {
                Some(best) => format!("did you mean `{best}`?"),
                None => format!("expected one of {}", quoted_list(&expected)),
            };
            return (format!("unknown {what} `{word}`{context_text}"), Some(help));
        }
        if let Some(rest) = text.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let at_root = location.is_some_and(|at| {
                self.root
                    .as_ref()
                    .is_some_and(|root| root.start.line_col() == at)
            });
            if at_root {
                return (
                    format!("missing top-level key `{field}`"),
                    Some("a spec needs `provider` and `cases`; see docs/spec-format.md".to_owned()),
                );
            }
            return (format!("missing key `{field}`"), None);
        }
        if let Some(rest) = text.strip_prefix("duplicate field `") {
            let field = rest.split('`').next().unwrap_or_default();
            return (
                format!("duplicate key `{field}`"),
                Some("each key may appear once in a mapping".to_owned()),
            );
        }
        if text.contains("duplicate entry with key") {
            return (
                text.replace("duplicate entry with key", "duplicate key"),
                Some("each key may appear once in a mapping".to_owned()),
            );
        }
        if text.starts_with("data did not match any variant of untagged enum Var") {
            return (
                "a variable is a string, or a mapping with `mock` and `live` strings".to_owned(),
                Some("quote numbers and booleans: `\"600\"`".to_owned()),
            );
        }
        if text.starts_with("data did not match any variant of untagged enum ParamSpec") {
            return (
                format!("a parameter value{context_text} is a string or a list of strings"),
                Some("quote numbers and booleans: `\"600\"`".to_owned()),
            );
        }
        if text == "repetition limit exceeded" {
            return (
                "the YAML expands aliases into too much data (an alias bomb?)".to_owned(),
                Some("a spec may use anchors and aliases, but not to multiply content".to_owned()),
            );
        }
        if text.starts_with("recursion limit exceeded") {
            return (
                "the YAML nests too deeply".to_owned(),
                Some("a spec needs a few levels of nesting, not more than a hundred".to_owned()),
            );
        }
        if text.contains("more than one document") {
            return (
                "the YAML holds more than one document".to_owned(),
                Some("a spec file is one document: remove every `---` after the first".to_owned()),
            );
        }
        if let Some(rest) = text.strip_prefix("invalid type: ") {
            let rest = readable_types(rest);
            return (format!("wrong type{context_text}: {rest}"), None);
        }
        if let Some(rest) = text.strip_prefix("invalid value: ") {
            let rest = readable_types(rest);
            return (format!("invalid value{context_text}: {rest}"), None);
        }
        if text.starts_with("invalid regex") || text.starts_with("unknown anchor") {
            return (text.to_owned(), None);
        }
        // A YAML syntax error.
        let source_line = location
            .and_then(|(line, _)| self.source.lines().nth(line.saturating_sub(1)))
            .unwrap_or_default();
        let help = if text.contains("tab") || source_line.contains('\t') {
            Some("YAML indents with spaces; tabs are not allowed for indentation".to_owned())
        } else {
            None
        };
        (format!("invalid YAML: {text}"), help)
    }

    /// The key under which the node at `at` sits: the entry whose value (or
    /// one of whose list items) starts there, or whose key is there.
    fn key_at(&self, at: (usize, usize)) -> Option<String> {
        fn walk(node: &Node, at: (usize, usize), parent: Option<&str>) -> Option<String> {
            for entry in node.entries() {
                let key = entry.key.scalar();
                if entry.key.start.line_col() == at {
                    return parent.map(str::to_owned);
                }
                if entry.value.start.line_col() == at {
                    return key.map(str::to_owned);
                }
                if let Some(found) = walk(&entry.value, at, key) {
                    return Some(found);
                }
            }
            for item in node.items() {
                if item.start.line_col() == at && !item.is_map() {
                    return parent.map(str::to_owned);
                }
                if let Some(found) = walk(item, at, parent) {
                    return Some(found);
                }
            }
            None
        }
        walk(self.root.as_ref()?, at, None)
    }
}

/// The byte offset of the character at `index` (the end when past it).
fn char_to_byte(source: &str, index: usize) -> usize {
    source
        .char_indices()
        .nth(index)
        .map_or(source.len(), |(byte, _)| byte)
}

/// Removes serde_yaml's ` at line L column C` (and ` at position N`).
fn strip_locations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find(" at ") {
        out.push_str(&rest[..index]);
        let after = &rest[index + 4..];
        let skipped = skip_location(after);
        if skipped == 0 {
            out.push_str(" at ");
        }
        rest = &after[skipped..];
    }
    out.push_str(rest);
    out
}

/// Length of a `line L column C` or `position N` at the start of `text`.
fn skip_location(text: &str) -> usize {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    if let Some(rest) = text.strip_prefix("line ") {
        let line = digits(rest);
        if let Some(rest) = rest[line..].strip_prefix(" column ") {
            let column = digits(rest);
            if line > 0 && column > 0 {
                return "line ".len() + line + " column ".len() + column;
            }
        }
    } else if let Some(rest) = text.strip_prefix("position ") {
        let n = digits(rest);
        if n > 0 {
            return "position ".len() + n;
        }
    }
    0
}

/// Removes the `cases[0].steps[1]: ` path serde_yaml puts before a message:
/// the error's location says where, and in a pruned copy of the document
/// (see [`recover`]) the indices are not the file's.
fn strip_path(text: &str) -> &str {
    match text.split_once(": ") {
        Some((path, rest))
            if !path.is_empty() && !path.contains(char::is_whitespace) && !path.contains('`') =>
        {
            rest
        }
        _ => text,
    }
}

/// Splits "x`, expected one of `a`, `b`" into `x` and `[a, b]`.
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let (word, tail) = rest.split_once('`').unwrap_or((rest, ""));
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    (word.to_owned(), expected)
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// serde's type names in words a spec author knows.
fn readable_types(text: &str) -> String {
    let mut text = text.to_owned();
    for (from, to) in [
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a boolean", "expected `true` or `false`"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a mapping"),
        ("unit value", "nothing (null)"),
        ("sequence", "list"),
    ] {
        text = text.replace(from, to);
    }
    if let Some(index) = text.find("expected struct ") {
        text.replace_range(index.., "expected a mapping");
    }
    if let Some(index) = text.find("expected enum ") {
        text.replace_range(index.., "expected one of the listed names");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_serde_locations_and_paths() {
        assert_eq!(
            strip_locations("found a tab at line 2 column 1, while scanning at line 1 column 4"),
            "found a tab, while scanning"
        );
        assert_eq!(strip_locations("look at that"), "look at that");
        assert_eq!(
            strip_path("cases[0].steps[1]: missing field `x`"),
            "missing field `x`"
        );
        assert_eq!(
            strip_path("invalid type: string, expected u16"),
            "invalid type: string, expected u16"
        );
    }

    #[test]
    fn splits_expected_names() {
        assert_eq!(
            split_expected("grnat`, expected one of `grant`, `with`"),
            (
                "grnat".to_owned(),
                vec!["grant".to_owned(), "with".to_owned()]
            )
        );
    }
}
