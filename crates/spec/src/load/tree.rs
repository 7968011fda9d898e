//! The shape of a YAML document with the position of every node.
//!
//! serde gives values without positions; this tree, built from the events of
//! a YAML parser with spans, says where each mapping entry and sequence item
//! is, so that the loader can point at any part of a spec and cut a document
//! down to one part of it (see `recover`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 0-based column, in characters.
    pub col: usize,
    /// Index in characters.
    pub index: usize,
}

impl Pos {
    fn from_marker(marker: saphyr_parser::Marker) -> Self {
        Self {
            line: marker.line(),
            col: marker.col(),
            index: marker.index(),
        }
    }

    /// Line and 1-based column, as the error messages show them.
    pub fn line_col(self) -> (usize, usize) {
        (self.line, self.col + 1)
    }
}

/// A node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Where the node starts, anchor and tag included.
    pub start: Pos,
    /// Character index just after the opening event (`[`, `{`, a tag…).
    pub open_end: usize,
    /// Character index where the closing event starts (`]`, `}`), or the
    /// node's end.
    pub close_start: usize,
    /// Character index just after the node.
    pub end: usize,
    /// What the node is.
    pub kind: Kind,
}

/// What a node is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A scalar and its value.
    Scalar {
        /// The value.
        text: String,
        /// Written without quotes (so `600` is a number, `true` a boolean).
        plain: bool,
    },
    /// `*alias`.
    Alias,
    /// A sequence.
    Seq {
        /// `[a, b]` rather than `- a`.
        flow: bool,
        /// Items.
        items: Vec<Node>,
    },
    /// A mapping.
    Map {
        /// Entries.
        entries: Vec<Entry>,
    },
}

/// One entry of a mapping.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The key.
    pub key: Node,
    /// The value.
    pub value: Node,
}

/// One step of a path through the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// The value under a key.
    Key(&'a str),
    /// An item of a sequence.
    Index(usize),
}

impl Node {
    /// Text of a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries of a mapping.
    pub fn entries(&self) -> &[Entry] {
        match &self.kind {
            Kind::Map { entries, .. } => entries,
            _ => &[],
        }
    }

    /// The items of a sequence.
    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq { items, .. } => items,
            _ => &[],
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.kind, Kind::Map { .. })
    }

    /// Whether this is a sequence.
    pub fn is_seq(&self) -> bool {
        matches!(self.kind, Kind::Seq { .. })
    }

    /// Whether this is a scalar YAML reads as a string: quoted, or plain
    /// text that is not a number, a boolean or null.
    pub fn is_string(&self) -> bool {
        match &self.kind {
            Kind::Scalar { text, plain } => !plain || !reads_as_non_string(text),
            _ => false,
        }
    }

    /// What kind of node this is, in words.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } => "a scalar",
            Kind::Alias => "an alias",
            Kind::Seq { .. } => "a list",
            Kind::Map { .. } => "a mapping",
        }
    }

    /// The entry under `key`, when this is a mapping that has it.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries()
            .iter()
            .find(|entry| entry.key.scalar() == Some(key))
    }

    /// The node at `path` below this one.
    pub fn get(&self, path: &[Seg<'_>]) -> Option<&Node> {
        path.iter().try_fold(self, |node, seg| match *seg {
            Seg::Key(key) => node.entry(key).map(|entry| &entry.value),
            Seg::Index(index) => node.items().get(index),
        })
    }

    /// The deepest node along `path` that exists: the node itself, or its
    /// closest existing ancestor.
    pub fn closest(&self, path: &[Seg<'_>]) -> &Node {
        let mut node = self;
        for seg in path {
            let next = match *seg {
                Seg::Key(key) => node.entry(key).map(|entry| &entry.value),
                Seg::Index(index) => node.items().get(index),
            };
            match next {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }
}

/// Whether a plain scalar is a number, a boolean or null to YAML.
fn reads_as_non_string(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "" | "~" | "null" | "true" | "false" | ".inf" | "-.inf" | "+.inf" | ".nan"
    ) || lower.starts_with("0x")
        || lower.starts_with("0o")
        || text.parse::<f64>().is_ok() && !lower.contains("inf") && !lower.contains("nan")
}

/// Deepest nesting a spec may have, aliases expanded: serde_yaml's own
/// recursion limit, so that what the loader's fast path accepts (serde
/// alone reads it) the tree accepts too. Deeper documents are refused as
/// soon as the parser reaches the limit, before anything else reads them:
/// serde_yaml checks its limit only after its parser has read the whole
/// file, in time that grows with the square of the flow nesting depth; and a
/// tree that deep could not even be dropped safely.
pub(crate) const MAX_DEPTH: usize = 128;

/// A parsed document.
pub(crate) struct Parsed {
    /// The root node.
    pub root: Node,
    /// Nodes as written.
    pub nodes: u64,
    /// Nodes once every alias is replaced by what its anchor holds.
    pub expanded: u64,
    /// Whether any node carries a tag (`!!str`, `!custom`).
    pub tagged: bool,
    /// Where a second document starts, when there is one.
    pub second_document: Option<Pos>,
    /// The alias that stands for the most nodes, and how many: where an
    /// alias bomb is shown.
    pub largest_alias: Option<(Pos, u64)>,
}

/// Why there is no tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The parser rejects the text (serde_yaml says why).
    Syntax,
    /// A collection opens deeper than [`MAX_DEPTH`] here (or, for flow
    /// collections, the scanner gave up on their depth here).
    TooDeep(Pos),
    /// An alias, here, that sits inside the node its anchor names.
    RecursiveAlias(Pos),
    /// An alias, here, puts its anchor's content deeper than [`MAX_DEPTH`].
    AliasTooDeep(Pos),
}

/// Parses `source` into a tree. Aliases are not expanded, only counted.
/// Stops at the first event that makes the document too deep, so that
/// refusing a deep file takes time in proportion to the limit, not the file.
pub(crate) fn parse(source: &str) -> Result<Parsed, Refused> {
    let mut builder = Builder::default();
    let mut events = Parser::new_from_str(source);
    for event in events.by_ref() {
        // The scanner reads ahead of the events, and refuses a flow
        // nesting deeper than it counts (255) before they reach the limit.
        let (event, span) = event.map_err(|e| {
            if e.info() == "recursion limit exceeded" {
                Refused::TooDeep(Pos::from_marker(*e.marker()))
            } else {
                Refused::Syntax
            }
        })?;
        if builder.on_event(event, span)? {
            break;
        }
    }
    let (root, expanded) = builder.root.ok_or(Refused::Syntax)?;
    // The event after the first document: the start of a second one, or
    // the end of the stream.
    let second_document = match events.next() {
        Some(Ok((Event::DocumentStart(_), span))) => Some(Pos::from_marker(span.start)),
        _ => None,
    };
    Ok(Parsed {
        root,
        nodes: builder.nodes,
        expanded,
        tagged: builder.tagged,
        second_document,
        largest_alias: builder.largest_alias,
    })
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    root: Option<(Node, u64)>,
    nodes: u64,
    /// Expanded size and depth of each anchored node, by anchor id.
    anchors: HashMap<usize, (u64, usize)>,
    /// Whether a tag was seen.
    tagged: bool,
    /// The first alias that stands for the most nodes, and how many.
    largest_alias: Option<(Pos, u64)>,
}

struct Frame {
    start: Pos,
    open_end: usize,
    map: bool,
    anchor: usize,
    items: Vec<Node>,
    expanded: u64,
    /// Levels of nesting below this collection, aliases expanded.
    depth: usize,
}

impl Builder {
    /// Takes one event; `Ok(true)` once the first document is complete.
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<bool, Refused> {
        let start = Pos::from_marker(span.start);
        let leaf = |kind| Node {
            start,
            open_end: span.end.index(),
            close_start: span.end.index(),
            end: span.end.index(),
            kind,
        };
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.tagged |= tag.is_some();
                let node = leaf(Kind::Scalar {
                    text: text.into_owned(),
                    plain: style == ScalarStyle::Plain,
                });
                self.push(node, anchor, 1, 0);
            }
            Event::Alias(id) => {
                if self.stack.iter().any(|frame| frame.anchor == id) {
                    return Err(Refused::RecursiveAlias(start));
                }
                let (size, depth) = self.anchors.get(&id).copied().unwrap_or((1, 0));
                if self.stack.len() + depth > MAX_DEPTH {
                    return Err(Refused::AliasTooDeep(start));
                }
                if self.largest_alias.is_none_or(|(_, largest)| size > largest) {
                    self.largest_alias = Some((start, size));
                }
                self.push(leaf(Kind::Alias), 0, size, depth);
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                self.tagged |= tag.is_some();
                if self.stack.len() >= MAX_DEPTH {
                    return Err(Refused::TooDeep(start));
                }
                self.stack.push(Frame {
                    start,
                    open_end: span.end.index(),
                    map: matches!(event, Event::MappingStart(..)),
                    anchor,
                    items: Vec::new(),
                    expanded: 1,
                    depth: 1,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.stack.pop().ok_or(Refused::Syntax)?;
                // A flow collection ends with a bracket, a block one with an
                // empty span.
                let flow = span.end.index() > span.start.index();
                let kind = if frame.map {
                    let mut entries = Vec::with_capacity(frame.items.len() / 2);
                    let mut items = frame.items.into_iter();
                    while let (Some(key), Some(value)) = (items.next(), items.next()) {
                        entries.push(Entry { key, value });
                    }
                    Kind::Map { entries }
                } else {
                    Kind::Seq {
                        flow,
                        items: frame.items,
                    }
                };
                let node = Node {
                    start: frame.start,
                    open_end: frame.open_end,
                    close_start: span.start.index(),
                    end: span.end.index(),
                    kind,
                };
                self.push(node, frame.anchor, frame.expanded, frame.depth);
            }
            Event::DocumentEnd => return Ok(self.root.is_some()),
            _ => {}
        }
        Ok(false)
    }

    /// Adds a node of `depth` levels (0 for a scalar) that expands to
    /// `expanded` nodes.
    fn push(&mut self, node: Node, anchor: usize, expanded: u64, depth: usize) {
        self.nodes += 1;
        if anchor != 0 {
            self.anchors.insert(anchor, (expanded, depth));
        }
        match self.stack.last_mut() {
            Some(frame) => {
                frame.items.push(node);
                frame.expanded = frame.expanded.saturating_add(expanded);
                frame.depth = frame.depth.max(depth + 1);
            }
            None => self.root = Some((node, expanded)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nodes_by_path() {
        let source = "a: 1\ncases:\n  - name: x\n    n: [1, 2]\n  - { name: y }\n";
        let root = parse(source).expect("parses").root;
        let name = root
            .get(&[Seg::Key("cases"), Seg::Index(1), Seg::Key("name")])
            .expect("found");
        assert_eq!(name.scalar(), Some("y"));
        assert_eq!(name.start.line_col(), (5, 13));
        let list = root
            .get(&[Seg::Key("cases"), Seg::Index(0), Seg::Key("n")])
            .expect("found");
        assert!(matches!(list.kind, Kind::Seq { flow: true, .. }));
        assert_eq!(list.items().len(), 2);
        let missing = root.closest(&[Seg::Key("cases"), Seg::Index(0), Seg::Key("zz")]);
        assert!(missing.is_map());
    }

    #[test]
    fn counts_what_aliases_expand_to() {
        let parsed = parse("a: &a [x, y, z]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n").expect("parses");
        // a: 4 nodes; b: 1 + 3 * 4 = 13; c: 1 + 2 * 13 = 27; keys 3, root 1.
        assert_eq!(parsed.expanded, 1 + 3 + 4 + 13 + 27);
        assert_eq!(parsed.nodes, 1 + 3 + 4 + 4 + 3);
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(parse(&deep), Err(Refused::TooDeep(pos)) if pos.index == MAX_DEPTH));
        let just = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&just).is_ok());
    }

    #[test]
    fn refuses_recursive_and_deepening_aliases() {
        assert!(matches!(
            parse("a: &a [x, *a]\n"),
            Err(Refused::RecursiveAlias(pos)) if pos.line_col() == (1, 11)
        ));
        let half = MAX_DEPTH / 2 + 1;
        let deep = format!(
            "a: &a {}{}\nb: {}*a{}\n",
            "[".repeat(half),
            "]".repeat(half),
            "[".repeat(half),
            "]".repeat(half)
        );
        assert!(matches!(parse(&deep), Err(Refused::AliasTooDeep(_))));
    }

    #[test]
    fn finds_a_second_document() {
        let parsed = parse("a: 1\n---\nb: 2\n").expect("parses");
        assert_eq!(parsed.second_document.map(Pos::line_col), Some((2, 1)));
        assert!(parse("a: 1\n").expect("parses").second_document.is_none());
    }
}
