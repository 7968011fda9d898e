//! serde_yaml's messages in the words of the spec format.
//!
//! serde says "unknown field `grnat`, expected one of …" at a line and
//! column. This module maps that to a [`SpecErrorKind`]: it says which
//! mapping the key is in, suggests the closest valid name, moves the
//! position to the part at fault where serde points at its container, and
//! rewords type names (`u16`) for people.
//!
//! serde_yaml reports its errors in English only, so its message is still
//! read as text; [`Doc::explain`] is the one place that does so.

use crate::error::{Depth, SpecError, SpecErrorKind, did_you_mean};

use super::Doc;
use super::tree::{Node, Seg};

/// One step of a path found in the tree, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathSeg {
    Key(String),
    Index(usize),
}

/// Where a serde position falls in the tree.
struct Found {
    /// Path to the node (or, when `at_key`, to the entry whose key it is).
    path: Vec<PathSeg>,
    /// The position is the key of the path's last entry.
    at_key: bool,
}

impl Found {
    /// The path as tree segments.
    fn segs(&self) -> Vec<Seg<'_>> {
        self.path
            .iter()
            .map(|seg| match seg {
                PathSeg::Key(key) => Seg::Key(key),
                PathSeg::Index(index) => Seg::Index(*index),
            })
            .collect()
    }

    /// The mapping a key position is in, named for messages: `token_endpoint`,
    /// `cases[2]`; `None` at the top level.
    fn container(&self) -> Option<String> {
        name_of(&self.path[..self.path.len().saturating_sub(1)])
    }

    /// The key a value sits under (for a list item, the list's key).
    fn key(&self) -> Option<&str> {
        self.path.iter().rev().find_map(|seg| match seg {
            PathSeg::Key(key) => Some(key.as_str()),
            PathSeg::Index(_) => None,
        })
    }
}

/// `[cases, 2]` as `cases[2]`, `[provider, token_endpoint]` as
/// `token_endpoint`.
fn name_of(path: &[PathSeg]) -> Option<String> {
    match path {
        [] => None,
        [.., PathSeg::Key(key)] => Some(key.clone()),
        [.., PathSeg::Key(key), PathSeg::Index(index)] => Some(format!("{key}[{index}]")),
        [.., PathSeg::Index(index)] => Some(format!("[{index}]")),
    }
}

/// A kind, the hint this place calls for (when not the kind's own), and a
/// better position when serde's is a container.
struct Explained {
    kind: SpecErrorKind,
    help: Option<String>,
    at: Option<(usize, usize)>,
}

impl Explained {
    fn new(kind: SpecErrorKind) -> Self {
        Self {
            kind,
            help: None,
            at: None,
        }
    }
}

impl Doc<'_> {
    /// A located error from serde_yaml's.
    pub(super) fn yaml_error(&self, error: &serde_yaml::Error) -> SpecError {
        let text = strip_locations(&error.to_string());
        let text = strip_path(&text);
        let location = error.location().map(|l| (l.line(), l.column()));
        let explained = self.explain(text, location);
        // What serde_yaml's own limits find concerns the whole file (a
        // missing top-level key is located at the mapping that lacks it).
        let whole_file = matches!(
            explained.kind,
            SpecErrorKind::TooDeep { .. }
                | SpecErrorKind::AliasBomb { .. }
                | SpecErrorKind::SecondDocument { .. }
        );
        let mut spec_error = match explained.at.or(location) {
            Some((line, column)) if !whole_file => {
                SpecError::at(self.path, self.source, line, column, explained.kind)
            }
            _ => SpecError::file(self.path, explained.kind),
        };
        if let Some(help) = explained.help {
            spec_error = spec_error.with_help(help);
        }
        spec_error
    }

    /// serde_yaml's message (without its positions) as a [`SpecErrorKind`],
    /// with a fix where one fits: the one place where serde_yaml's English
    /// is interpreted. A message it does not recognise (a YAML syntax error,
    /// mostly) becomes [`SpecErrorKind::Syntax`], carrying serde's text
    /// verbatim.
    fn explain(&self, text: &str, location: Option<(usize, usize)>) -> Explained {
        let key_kind = text.starts_with("unknown field `") || text.starts_with("duplicate field `");
        let found = location.and_then(|at| self.find(at, key_kind));
        let key = found.as_ref().and_then(Found::key).map(str::to_owned);

        if let Some(rest) = text.strip_prefix("unknown field `") {
            let (word, expected) = split_expected(rest);
            let suggestion =
                did_you_mean(&word, expected.iter().map(String::as_str)).map(str::to_owned);
            return Explained::new(SpecErrorKind::UnknownKey {
                key: word,
                container: found.as_ref().and_then(Found::container),
                expected,
                suggestion,
            });
        }
        if let Some(rest) = text.strip_prefix("unknown variant `") {
            let (word, expected) = split_expected(rest);
            let suggestion =
                did_you_mean(&word, expected.iter().map(String::as_str)).map(str::to_owned);
            return Explained::new(SpecErrorKind::UnknownValue {
                value: word,
                key,
                expected,
                suggestion,
            });
        }
        if let Some(rest) = text.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default().to_owned();
            let top_level = location.is_some_and(|at| {
                self.root
                    .as_ref()
                    .is_some_and(|root| root.start.line_col() == at)
            });
            return Explained::new(SpecErrorKind::MissingKey {
                key: field,
                container: if top_level {
                    None
                } else {
                    found.as_ref().and_then(|f| name_of(&f.path))
                },
                top_level,
            });
        }
        if let Some(rest) = text.strip_prefix("duplicate field `") {
            let field = rest.split('`').next().unwrap_or_default();
            return Explained::new(SpecErrorKind::DuplicateKey {
                key: field.to_owned(),
                quoted: true,
            });
        }
        if let Some(rest) = text.strip_prefix("duplicate entry with key ") {
            let kind = match rest.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
                Some(name) if !name.contains('"') => SpecErrorKind::DuplicateKey {
                    key: name.to_owned(),
                    quoted: true,
                },
                _ => SpecErrorKind::DuplicateKey {
                    key: rest.replace('"', "`"),
                    quoted: false,
                },
            };
            return Explained::new(kind);
        }
        if text.starts_with("data did not match any variant of untagged enum Var") {
            return self.bad_variable(found.as_ref(), location);
        }
        if text.starts_with(crate::model::NOT_A_PARAM) {
            return self.bad_parameter(found.as_ref(), location);
        }
        if text.starts_with("invalid regex") {
            let at = found
                .as_ref()
                .and_then(|f| self.root.as_ref()?.get(&f.segs()))
                .and_then(|node| node.entry("regex"))
                .map(|entry| entry.value.start.line_col());
            return Explained {
                kind: SpecErrorKind::InvalidRegex {
                    message: text.to_owned(),
                },
                help: None,
                at,
            };
        }
        if text == "repetition limit exceeded" {
            return Explained::new(SpecErrorKind::AliasBomb {
                counts: None,
                largest_alias: None,
            });
        }
        if text.starts_with("recursion limit exceeded") {
            return Explained::new(SpecErrorKind::TooDeep {
                limit: super::tree::MAX_DEPTH,
                cause: Depth::Parser,
            });
        }
        if text.contains("more than one document") {
            return Explained::new(SpecErrorKind::SecondDocument { here: false });
        }
        if let Some(rest) = text.strip_prefix("invalid type: ") {
            let (found, expected) = found_expected(rest);
            return Explained::new(SpecErrorKind::WrongType {
                key,
                found,
                expected,
            });
        }
        if let Some(rest) = text.strip_prefix("invalid value: ") {
            let (found, expected) = found_expected(rest);
            return Explained::new(SpecErrorKind::InvalidValue {
                key,
                found,
                expected,
            });
        }
        if text.starts_with("unknown anchor") {
            return Explained::new(SpecErrorKind::UnknownAnchor);
        }
        // A YAML syntax error.
        let source_line = location
            .and_then(|(line, _)| self.source.lines().nth(line.saturating_sub(1)))
            .unwrap_or_default();
        let help = (text.contains("tab") || source_line.contains('\t'))
            .then(|| "YAML indents with spaces; tabs are not allowed for indentation".to_owned());
        Explained {
            kind: SpecErrorKind::Syntax {
                message: Some(text.to_owned()),
            },
            help,
            at: None,
        }
    }

    /// A variable that is neither a string nor `{ mock, live }`: points at
    /// the variable at fault, which serde may not.
    fn bad_variable(&self, found: Option<&Found>, location: Option<(usize, usize)>) -> Explained {
        let fault = self.fault(found, location, |node| {
            node.is_string()
                || node.is_map()
                    && node.entries().len() == 2
                    && ["mock", "live"]
                        .iter()
                        .all(|key| node.entry(key).is_some_and(|e| e.value.is_string()))
        });
        let Some((name, node)) = fault else {
            return Explained::new(SpecErrorKind::BadVariable { name: None });
        };
        let help = if node.is_map() {
            let keys: Vec<&str> = node
                .entries()
                .iter()
                .filter_map(|e| e.key.scalar())
                .collect();
            let missing: Vec<&str> = ["mock", "live"]
                .into_iter()
                .filter(|key| !keys.contains(key))
                .collect();
            let extra: Vec<&str> = keys
                .iter()
                .copied()
                .filter(|key| !["mock", "live"].contains(key))
                .collect();
            if let Some(key) = missing.first() {
                format!("add `{key}`: a per-target variable gives a value for both targets")
            } else if let Some(key) = extra.first() {
                format!("remove `{key}`: a per-target variable has only `mock` and `live`")
            } else {
                "quote numbers and booleans: `\"600\"`".to_owned()
            }
        } else {
            format!("quote it: `{name}: \"{}\"`", node.scalar().unwrap_or("…"))
        };
        Explained {
            kind: SpecErrorKind::BadVariable { name: Some(name) },
            help: Some(help),
            at: Some(node.start.line_col()),
        }
    }

    /// A parameter value that is neither a string nor a list of strings.
    fn bad_parameter(&self, found: Option<&Found>, location: Option<(usize, usize)>) -> Explained {
        let fault = self.fault(found, location, |node| {
            node.is_string() || node.is_seq() && node.items().iter().all(Node::is_string)
        });
        let Some((name, node)) = fault else {
            return Explained::new(SpecErrorKind::BadParameter { name: None });
        };
        let help = match node.scalar() {
            Some(text) => format!("quote it: `{name}: \"{text}\"`"),
            None => "quote numbers and booleans in the list: `[\"600\"]`".to_owned(),
        };
        Explained {
            kind: SpecErrorKind::BadParameter { name: Some(name) },
            help: Some(help),
            at: Some(node.start.line_col()),
        }
    }

    /// The entry at fault for an error serde reports at `location`: the
    /// entry whose key is there, or, when serde points at a whole mapping,
    /// its first entry from there on whose value is not `valid`.
    fn fault(
        &self,
        found: Option<&Found>,
        location: Option<(usize, usize)>,
        valid: impl Fn(&Node) -> bool,
    ) -> Option<(String, &Node)> {
        let found = found?;
        let root = self.root.as_ref()?;
        let node = root.get(&found.segs())?;
        if found.at_key || !node.is_map() {
            return Some((found.key()?.to_owned(), node));
        }
        let at = location?;
        node.entries()
            .iter()
            .filter(|entry| entry.key.start.line_col() >= at || entry.value.start.line_col() >= at)
            .chain(node.entries())
            .find(|entry| !valid(&entry.value))
            .and_then(|entry| Some((entry.key.scalar()?.to_owned(), &entry.value)))
    }

    /// Finds the node at `at`: preferring a key there when `prefer_key`,
    /// else the outermost node that starts there.
    fn find(&self, at: (usize, usize), prefer_key: bool) -> Option<Found> {
        fn walk(
            node: &Node,
            at: (usize, usize),
            prefer_key: bool,
            path: &mut Vec<PathSeg>,
            fallback: &mut Option<Found>,
        ) -> Option<Found> {
            let hit = |path: &[PathSeg], at_key: bool, fallback: &mut Option<Found>| {
                let found = Found {
                    path: path.to_vec(),
                    at_key,
                };
                if at_key == prefer_key {
                    Some(found)
                } else {
                    fallback.get_or_insert(found);
                    None
                }
            };
            for entry in node.entries() {
                path.push(PathSeg::Key(entry.key.scalar().unwrap_or("?").to_owned()));
                let mut result = None;
                if entry.key.start.line_col() == at {
                    result = hit(path, true, fallback);
                }
                if result.is_none() && entry.value.start.line_col() == at {
                    result = hit(path, false, fallback);
                }
                if result.is_none() {
                    result = walk(&entry.value, at, prefer_key, path, fallback);
                }
                path.pop();
                if result.is_some() {
                    return result;
                }
            }
            for (index, item) in node.items().iter().enumerate() {
                path.push(PathSeg::Index(index));
                let mut result = None;
                if item.start.line_col() == at {
                    result = hit(path, false, fallback);
                }
                if result.is_none() {
                    result = walk(item, at, prefer_key, path, fallback);
                }
                path.pop();
                if result.is_some() {
                    return result;
                }
            }
            None
        }
        let mut fallback = None;
        let found = walk(
            self.root.as_ref()?,
            at,
            prefer_key,
            &mut Vec::new(),
            &mut fallback,
        );
        found.or(fallback)
    }
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
/// the error's position says where, and in a pruned copy of the document
/// (see `recover`) the indices are not the file's.
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

/// serde's "found, expected what" in readable words, split in two.
fn found_expected(rest: &str) -> (String, Option<String>) {
    let text = readable(rest);
    match text.split_once(", expected ") {
        Some((found, expected)) => (found.to_owned(), Some(expected.to_owned())),
        None => (text, None),
    }
}

/// serde's type names in words a spec author knows.
fn readable(text: &str) -> String {
    let mut text = text.to_owned();
    // An integer refused where a whole number goes is negative or too
    // large: say how large one may be.
    if text.starts_with("integer `") {
        for (from, to) in [
            ("expected u16", "expected a whole number from 0 to 65535"),
            (
                "expected u32",
                "expected a whole number from 0 to 4294967295",
            ),
            (
                "expected u64",
                "expected a whole number from 0 to 18446744073709551615",
            ),
        ] {
            text = text.replace(from, to);
        }
    }
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
        text.replace_range(
            index..,
            "expected one of the names listed in docs/spec-format.md",
        );
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

    #[test]
    fn names_paths_for_messages() {
        let path = |segs: &[PathSeg]| name_of(segs);
        assert_eq!(
            path(&[PathSeg::Key("cases".into()), PathSeg::Index(2)]),
            Some("cases[2]".to_owned())
        );
        assert_eq!(path(&[]), None);
    }
}
