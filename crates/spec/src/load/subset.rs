//! The YAML that specs are written in, read in one linear pass.
//!
//! The general parsers cost about 300 instructions per byte, and a spec of
//! ten thousand cases is megabytes. Specs use a small part of YAML: block
//! mappings and sequences, one-line flow collections, one-line scalars,
//! comments, and now and then a block scalar. [`from_str`] reads exactly
//! that part, into the same events libyaml would give, and deserializes
//! them through a [`Deserializer`] that does, method by method, what
//! serde_yaml's does with such events. Whatever is outside the part, or
//! might be read differently, is refused: `None`, and the loader goes the
//! way it went before, which reports any problem exactly as it always did.
//!
//! Refused, among others: tabs, carriage returns and other control
//! characters (libyaml refuses most of them, or reads them as line breaks);
//! anchors, aliases, tags, directives, `?` keys, a second document; plain
//! or quoted scalars and flow collections over several lines; a block
//! scalar with an indentation indicator, `+` chomping, or lines that only
//! hold spaces; a mapping key seen twice in one mapping, or one that might
//! be a number, a boolean or null ([`maybe_not_a_string`]); a key
//! longer than [`MAX_KEY_BYTES`]; nesting deeper than [`MAX_NESTING`].
//! Refusing costs time only, never a different answer, so where it is not
//! certain what libyaml reads, this refuses.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

use super::watch::{Seen, fnv1a, maybe_not_a_string};

/// Deepest nesting of collections read here; the full path reports deeper
/// ones (the tree's limit is far above any spec's nesting).
const MAX_NESTING: usize = 32;

/// Longest mapping key read here, in bytes: libyaml refuses a key whose `:`
/// is more than 1024 characters after its start.
const MAX_KEY_BYTES: usize = 512;

/// serde_yaml's recursion budget, spent on the same nodes: its
/// collections and newtype structs.
const SERDE_YAML_DEPTH: usize = 128;

/// `source` deserialized as `T`, when the whole document is inside the
/// subset and deserializes without error; `None` otherwise.
pub(crate) fn from_str<T: DeserializeOwned>(source: &str) -> Option<T> {
    if !printable(source) {
        return None;
    }
    let mut reader = Reader::new(Parser::new(true), source, SERDE_YAML_DEPTH);
    let value = T::deserialize(&mut reader).ok()?;
    reader.read_the_rest()?;
    Some(value)
}

/// A document cut around the block sequence of one of its top-level keys,
/// so that the sequence's entries can be read in parts, each on a thread of
/// its own ([`entries_from_str`]), and the rest on its own.
#[derive(Debug)]
pub(crate) struct Cut<'a> {
    /// The document with the sequence left out: `key: []`.
    pub(crate) head: String,
    /// Runs of whole entries, in order, which together are the sequence.
    pub(crate) parts: Vec<&'a str>,
    /// The column of the entries' dashes.
    pub(crate) indent: usize,
}

/// `source` cut around the block sequence of its top-level `key` into at
/// most `parts` runs of entries of about equal size, when the key is
/// written at the start of a line as `key:` with nothing after it but a
/// comment, and the lines below are its block sequence. `None` when the
/// document is not written so, and when what follows the cut would need
/// more than each line's indentation to tell where an entry starts.
///
/// Reading the head and the parts gives what reading the whole gives, or a
/// refusal. An entry starts at a line whose dash is at the sequence's
/// column, and at such a line the whole document's parser is always in the
/// same state: in the root mapping's sequence, every deeper collection
/// closed. Nothing the subset reads carries over such a line: quoted
/// scalars and flow collections end on their line, and a block scalar in an
/// entry is indented beyond the dash, so that line ends it. The parts are
/// read from that state ([`entries_from_str`]), with the same limits on
/// nesting; the head keeps every other key, so a key written twice is
/// still refused.
pub(crate) fn cut_sequence<'a>(source: &'a str, key: &str, parts: usize) -> Option<Cut<'a>> {
    let mut lines = Lines { rest: source };
    let mut at = 0;
    let key_line = loop {
        let line = lines.advance()?;
        let start = at;
        at += line.text.len() + usize::from(line.ended);
        let is_key_line = line
            .text
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(blank_or_comment);
        if is_key_line {
            break start;
        }
    };
    let body = at;
    let mut indent = None;
    let mut entries = Vec::new();
    let mut end = source.len();
    while let Some(line) = lines.advance() {
        let start = at;
        at += line.text.len() + usize::from(line.ended);
        let (column, text) = indented(line.text);
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let Some(dashes) = indent else {
            if !is_entry(text) {
                return None;
            }
            indent = Some(column);
            entries.push(start);
            continue;
        };
        if column > dashes {
            continue;
        }
        if column == dashes && is_entry(text) {
            entries.push(start);
        } else if column < dashes || dashes == 0 {
            end = start;
            break;
        } else {
            return None;
        }
    }
    let indent = indent?;
    let size = (end - body).div_ceil(parts.max(1));
    let mut cuts = vec![body];
    for &entry in &entries[1..] {
        if entry - cuts[cuts.len() - 1] >= size {
            cuts.push(entry);
        }
    }
    cuts.push(end);
    Some(Cut {
        head: format!("{}{key}: []\n{}", &source[..key_line], &source[end..]),
        parts: cuts.windows(2).map(|run| &source[run[0]..run[1]]).collect(),
        indent,
    })
}

/// The entries of one of a [`Cut`]'s parts, deserialized as serde_yaml
/// deserializes them within the whole document; `None` when refused.
pub(crate) fn entries_from_str<E: DeserializeOwned>(part: &str, indent: usize) -> Option<Vec<E>> {
    if !printable(part) {
        return None;
    }
    let mut parser = Parser::new(false);
    // Where the whole document's parser is at an entry: in the root
    // mapping, in the sequence after its key (an indentless one when the
    // dashes are at the mapping's column).
    parser.open_block(0, Kind::Map, false)?;
    parser.open_block(indent, Kind::Seq, indent == 0)?;
    parser.started = true;
    // The root mapping's level is spent, and its start is not read.
    let mut reader = Reader::new(parser, part, SERDE_YAML_DEPTH - 1);
    reader.pos = 1;
    let entries = <Vec<E> as de::Deserialize>::deserialize(&mut reader).ok()?;
    // The root mapping ends only at the end of the lines: nothing but the
    // sequence was in the part.
    if reader.next().ok()? != Event::MapEnd {
        return None;
    }
    reader.read_the_rest()?;
    Some(entries)
}

/// What the parser reads, as libyaml's events are for these documents.
#[derive(Debug, Clone, PartialEq)]
enum Event<'a> {
    MapStart,
    MapEnd,
    SeqStart,
    SeqEnd,
    /// A scalar: plain ones are resolved by type (null, booleans,
    /// numbers), quoted and block ones are always strings.
    Scalar {
        text: Cow<'a, str>,
        plain: bool,
    },
}

impl<'a> Event<'a> {
    fn plain(text: &'a str) -> Self {
        Self::Scalar {
            text: Cow::Borrowed(text),
            plain: true,
        }
    }
}

/// The events of `source`, when it is all inside the subset.
#[cfg(test)]
fn parse(source: &str) -> Option<Vec<Event<'_>>> {
    if !printable(source) {
        return None;
    }
    let mut reader = Reader::new(Parser::new(true), source, SERDE_YAML_DEPTH);
    let mut events = Vec::new();
    while !reader.ended {
        reader.parse_line()?;
        events.append(&mut reader.parser.events);
    }
    Some(events)
}

/// Whether every character is one libyaml reads as itself: no control
/// characters but the line feed (a tab or a carriage return is refused
/// too, for simplicity), no C1 controls (U+0085 is a line break to
/// libyaml), no U+2028 or U+2029 (line breaks too), no byte order mark,
/// no U+FFFE or U+FFFF.
fn printable(source: &str) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let bytes = source.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        // Eight bytes at once while they are all printable ASCII or line
        // feeds (a spec's lines are short, so a line feed must not end the
        // fast way): none has its high bit set, none but a line feed is
        // below a space, none is DEL. Each test is exact per byte: with the
        // high bits clear, adding to the low seven bits never carries into
        // the next byte.
        if let Some(word) = bytes.get(at..at + 8) {
            let word = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            let low7 = |w: u64| w & !HIGH;
            let is_byte = |b: u64| {
                let differs = word ^ (b * LOW);
                !((low7(differs) + 0x7f * LOW) | differs) & HIGH
            };
            let below_space = !(low7(word) + 0x60 * LOW) & HIGH;
            let refused = (word & HIGH) | (below_space & !is_byte(b'\n'.into())) | is_byte(0x7f);
            if refused == 0 {
                at += 8;
                continue;
            }
        }
        let byte = bytes[at];
        if byte < 0x80 {
            if (byte < 0x20 && byte != b'\n') || byte == 0x7f {
                return false;
            }
            at += 1;
            continue;
        }
        let next = bytes.get(at + 1).copied().unwrap_or(0);
        let third = bytes.get(at + 2).copied().unwrap_or(0);
        let refused = match byte {
            0xc2 => next < 0xa0,
            0xe2 => next == 0x80 && matches!(third, 0xa8 | 0xa9),
            0xef => {
                (next == 0xbb && third == 0xbf) || (next == 0xbf && matches!(third, 0xbe | 0xbf))
            }
            _ => false,
        };
        if refused {
            return false;
        }
        at += 1;
    }
    true
}

/// The physical lines of the source, one at a time.
struct Lines<'a> {
    rest: &'a str,
}

#[derive(Clone, Copy)]
struct Line<'a> {
    text: &'a str,
    /// Whether a line feed ends it (the last line may have none).
    ended: bool,
}

impl<'a> Lines<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        // The memchr crate's vector search: a line is some fifty bytes, and
        // `str::find` spent three times the instructions on each.
        Some(match memchr::memchr(b'\n', self.rest.as_bytes()) {
            Some(end) => Line {
                text: &self.rest[..end],
                ended: true,
            },
            None => Line {
                text: self.rest,
                ended: false,
            },
        })
    }

    /// Moves past `line`, which [`Lines::peek`] gave.
    fn skip(&mut self, line: Line<'a>) {
        self.rest = &self.rest[(line.text.len() + usize::from(line.ended))..];
    }

    fn advance(&mut self) -> Option<Line<'a>> {
        let line = self.peek()?;
        self.skip(line);
        Some(line)
    }
}

/// The number of leading spaces, and the text after them.
fn indented(line: &str) -> (usize, &str) {
    let text = line.trim_start_matches(' ');
    (line.len() - text.len(), text)
}

/// Whether `text` is nothing, or spaces and then a comment.
fn blank_or_comment(text: &str) -> bool {
    let rest = text.trim_start_matches(' ');
    rest.is_empty() || (rest.len() < text.len() && rest.starts_with('#'))
}

/// Whether `text` starts a block sequence entry: `-` then a space or the
/// end of the line.
fn is_entry(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first() == Some(&b'-') && matches!(bytes.get(1), None | Some(b' '))
}

/// Whether a plain scalar may start at the start of `text`: not at an
/// indicator, except `-` before something other than a space.
fn plain_may_start(text: &str) -> bool {
    let bytes = text.as_bytes();
    match bytes.first() {
        None => false,
        Some(b'-') => bytes.get(1).is_some_and(|&next| next != b' '),
        Some(first) => !matches!(
            first,
            b'?' | b':'
                | b','
                | b'['
                | b']'
                | b'{'
                | b'}'
                | b'#'
                | b'&'
                | b'*'
                | b'!'
                | b'|'
                | b'>'
                | b'\''
                | b'"'
                | b'%'
                | b'@'
                | b'`'
                | b' '
        ),
    }
}

/// Where a plain scalar starting at the start of `text` ends, as libyaml
/// reads it within one line: the length of its text (trailing spaces
/// left out) and where reading stopped (the end, a `#` after a space, a
/// `:` before a space or the end, and in a flow collection `,[]{}`).
/// `None` where libyaml refuses the scalar (`:` before a flow indicator in
/// a flow collection).
fn plain_end(text: &str, flow: bool) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let (mut at, mut end) = (0, 0);
    while at < bytes.len() {
        if at > 0 && bytes[at] == b'#' {
            break;
        }
        while at < bytes.len() && bytes[at] != b' ' {
            let byte = bytes[at];
            if byte == b':' {
                match bytes.get(at + 1) {
                    None | Some(b' ') => return Some((end, at)),
                    Some(b',' | b'?' | b'[' | b']' | b'{' | b'}') if flow => return None,
                    Some(_) => {}
                }
            } else if flow && matches!(byte, b',' | b'[' | b']' | b'{' | b'}') {
                return Some((end, at));
            }
            at += 1;
            end = at;
        }
        while at < bytes.len() && bytes[at] == b' ' {
            at += 1;
        }
    }
    Some((end, at))
}

/// A one-line quoted scalar at the start of `text` (which starts with `'`
/// or `"`): its value and the bytes it takes, quotes included.
fn quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = text.as_bytes();
    if bytes[0] == b'\'' {
        let mut owned: Option<String> = None;
        let mut from = 1;
        let mut at = 1;
        loop {
            let quote = at + bytes[at..].iter().position(|&byte| byte == b'\'')?;
            if bytes.get(quote + 1) == Some(&b'\'') {
                owned
                    .get_or_insert_with(String::new)
                    .push_str(&text[from..=quote]);
                at = quote + 2;
                from = at;
                continue;
            }
            let value = match owned {
                Some(mut value) => {
                    value.push_str(&text[from..quote]);
                    Cow::Owned(value)
                }
                None => Cow::Borrowed(&text[1..quote]),
            };
            return Some((value, quote + 1));
        }
    }
    let mut owned: Option<String> = None;
    let mut from = 1;
    let mut at = 1;
    loop {
        let stop = at
            + bytes[at..]
                .iter()
                .position(|&byte| byte == b'"' || byte == b'\\')?;
        if bytes[stop] == b'"' {
            let value = match owned {
                Some(mut value) => {
                    value.push_str(&text[from..stop]);
                    Cow::Owned(value)
                }
                None => Cow::Borrowed(&text[1..stop]),
            };
            return Some((value, stop + 1));
        }
        let value = owned.get_or_insert_with(String::new);
        value.push_str(&text[from..stop]);
        let (escaped, taken) = escape(&text[stop + 1..])?;
        value.push(escaped);
        at = stop + 1 + taken;
        from = at;
    }
}

/// The character a double-quoted scalar's escape stands for (`text` is
/// what follows the backslash), and the bytes the escape takes after the
/// backslash: libyaml's escapes, except an escaped line break or tab.
fn escape(text: &str) -> Option<(char, usize)> {
    let simple = match text.as_bytes().first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return code_point(text, 2),
        b'u' => return code_point(text, 4),
        b'U' => return code_point(text, 8),
        _ => return None,
    };
    Some((simple, 1))
}

/// `\x`, `\u` or `\U` and `digits` hexadecimal digits: a Unicode scalar
/// value (libyaml refuses surrogates and values beyond U+10FFFF).
fn code_point(text: &str, digits: usize) -> Option<(char, usize)> {
    let hex = text.get(1..=digits)?;
    if !hex.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(value)?, 1 + digits))
}

/// An open block collection.
struct Block {
    /// The column of its keys or dashes.
    indent: usize,
    kind: Kind,
    /// A sequence whose dashes are at its parent mapping's column.
    indentless: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
}

/// Where a value is written: after a mapping key's `:`, or after a
/// sequence entry's `-` (where a compact mapping or sequence may start).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    MapValue,
    SeqEntry,
}

/// What an open flow collection expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum FlowState {
    /// An entry or the closing bracket.
    First,
    /// An entry (after a comma).
    Entry,
    /// A mapping's value.
    Value,
    /// A comma or the closing bracket.
    Separator,
}

/// Reads a document line by line into events, which a [`Reader`] takes as
/// they come: a spec of thousands of cases never holds all its events.
struct Parser<'a> {
    /// The events of the lines read since the reader last took them all.
    events: Vec<Event<'a>>,
    /// Whether the root collection has started.
    started: bool,
    /// Whether a document start (`---`) may come: before the root only.
    may_start_document: bool,
    blocks: Vec<Block>,
    /// The keys of each open mapping, block or flow, innermost last.
    keys: Vec<Seen>,
    /// Emptied key sets, for the next mappings.
    spare_keys: Vec<Seen>,
    /// A key or a dash whose value is on the lines below: the indent of
    /// the collection it belongs to.
    pending: Option<usize>,
    /// The open flow collections of the current line.
    flow: Vec<(Kind, FlowState)>,
}

impl<'a> Parser<'a> {
    fn new(may_start_document: bool) -> Self {
        Self {
            events: Vec::new(),
            started: false,
            may_start_document,
            blocks: Vec::new(),
            keys: Vec::new(),
            spare_keys: Vec::new(),
            pending: None,
            flow: Vec::new(),
        }
    }

    /// Reads up to the next line with content, and that line (with the
    /// lines of a block scalar it starts): `Some(false)` at the end.
    fn read_line(&mut self, lines: &mut Lines<'a>) -> Option<bool> {
        while let Some(line) = lines.advance() {
            let (indent, text) = indented(line.text);
            if text.is_empty() || text.starts_with('#') {
                continue;
            }
            if indent == 0 && (text.starts_with("---") || text.starts_with("...")) {
                // Only a bare document start before the root.
                if self.may_start_document && !self.started && blank_or_comment(&text[3..]) {
                    self.may_start_document = false;
                    continue;
                }
                return None;
            }
            self.may_start_document = false;
            self.line(indent, text, lines)?;
            return Some(true);
        }
        Some(false)
    }

    /// One line with content, at `indent`.
    fn line(&mut self, indent: usize, text: &'a str, lines: &mut Lines<'a>) -> Option<()> {
        if !self.started {
            self.started = true;
            return if indent == 0 {
                self.block_node(0, text, lines)
            } else {
                None
            };
        }
        if let Some(parent) = self.pending.take() {
            if indent > parent {
                return self.block_node(indent, text, lines);
            }
            let in_map = self
                .blocks
                .last()
                .is_some_and(|top| top.kind == Kind::Map && top.indent == indent);
            if in_map && is_entry(text) {
                self.open_block(indent, Kind::Seq, true)?;
                return self.entry(indent, text, lines);
            }
            self.events.push(Event::plain(""));
        }
        while let Some(top) = self.blocks.last() {
            let ends = top.indent > indent || (top.indentless && !is_entry(text));
            if !ends {
                break;
            }
            self.close_block();
        }
        let top = self.blocks.last()?;
        if top.indent != indent {
            return None;
        }
        match top.kind {
            Kind::Map => self.map_entry(indent, text, lines),
            Kind::Seq if is_entry(text) => self.entry(indent, text, lines),
            Kind::Seq => None,
        }
    }

    /// A block mapping or sequence that starts with `text` at `indent`.
    fn block_node(&mut self, indent: usize, text: &'a str, lines: &mut Lines<'a>) -> Option<()> {
        if is_entry(text) {
            self.open_block(indent, Kind::Seq, false)?;
            self.entry(indent, text, lines)
        } else if self.is_key(text) {
            self.open_block(indent, Kind::Map, false)?;
            self.map_entry(indent, text, lines)
        } else {
            None
        }
    }

    fn open_block(&mut self, indent: usize, kind: Kind, indentless: bool) -> Option<()> {
        self.open(kind)?;
        self.blocks.push(Block {
            indent,
            kind,
            indentless,
        });
        Some(())
    }

    fn close_block(&mut self) {
        if let Some(block) = self.blocks.pop() {
            self.close(block.kind);
        }
    }

    /// Opens a collection of either style.
    fn open(&mut self, kind: Kind) -> Option<()> {
        if self.blocks.len() + self.flow.len() >= MAX_NESTING {
            return None;
        }
        match kind {
            Kind::Map => {
                self.events.push(Event::MapStart);
                let seen = self.spare_keys.pop().unwrap_or_default();
                self.keys.push(seen);
            }
            Kind::Seq => self.events.push(Event::SeqStart),
        }
        Some(())
    }

    fn close(&mut self, kind: Kind) {
        match kind {
            Kind::Map => {
                self.events.push(Event::MapEnd);
                if let Some(mut seen) = self.keys.pop() {
                    seen.clear();
                    self.spare_keys.push(seen);
                }
            }
            Kind::Seq => self.events.push(Event::SeqEnd),
        }
    }

    /// Whether `text` starts with a mapping key and its `:`.
    fn is_key(&self, text: &str) -> bool {
        match text.as_bytes().first() {
            Some(b'"' | b'\'') => quoted(text).is_some_and(|(_, taken)| {
                let after = &text.as_bytes()[taken..];
                after.first() == Some(&b':') && matches!(after.get(1), None | Some(b' '))
            }),
            _ => {
                plain_may_start(text)
                    && plain_end(text, false)
                        .is_some_and(|(_, stop)| text.as_bytes().get(stop) == Some(&b':'))
            }
        }
    }

    /// Records a key of the innermost open mapping; `None` for a key that
    /// may be equal to another as a YAML value, or is.
    fn key(&mut self, text: Cow<'a, str>, plain: bool, written: usize) -> Option<()> {
        if written > MAX_KEY_BYTES || (plain && maybe_not_a_string(&text)) {
            return None;
        }
        if !self.keys.last_mut()?.insert(fnv1a(&text)) {
            return None;
        }
        self.events.push(Event::Scalar { text, plain });
        Some(())
    }

    /// `key: value` at `indent`, in the mapping there.
    fn map_entry(&mut self, indent: usize, text: &'a str, lines: &mut Lines<'a>) -> Option<()> {
        let after = if matches!(text.as_bytes().first(), Some(b'"' | b'\'')) {
            let (key, taken) = quoted(text)?;
            let after = text[taken..].strip_prefix(':')?;
            self.key(key, false, taken)?;
            after
        } else {
            if !plain_may_start(text) {
                return None;
            }
            let (end, stop) = plain_end(text, false)?;
            let after = text[stop..].strip_prefix(':')?;
            self.key(Cow::Borrowed(&text[..end]), true, stop)?;
            after
        };
        if !(after.is_empty() || after.starts_with(' ')) {
            return None;
        }
        let column = indent + (text.len() - after.len());
        self.value(indent, column, after, Slot::MapValue, lines)
    }

    /// `- value` at `indent`, in the sequence there.
    fn entry(&mut self, indent: usize, text: &'a str, lines: &mut Lines<'a>) -> Option<()> {
        self.value(indent, indent + 1, &text[1..], Slot::SeqEntry, lines)
    }

    /// The value after a key's `:` or an entry's `-`: `text` starts at
    /// `column`, in the block collection at `indent`.
    fn value(
        &mut self,
        indent: usize,
        column: usize,
        text: &'a str,
        slot: Slot,
        lines: &mut Lines<'a>,
    ) -> Option<()> {
        let (spaces, value) = indented(text);
        let column = column + spaces;
        if blank_or_comment(text) {
            self.pending = Some(indent);
            return Some(());
        }
        match value.as_bytes()[0] {
            b'-' if is_entry(value) => match slot {
                Slot::SeqEntry => {
                    self.open_block(column, Kind::Seq, false)?;
                    self.entry(column, value, lines)
                }
                Slot::MapValue => None,
            },
            b'[' | b'{' => {
                let taken = self.flow_node(value)?;
                blank_or_comment(&value[taken..]).then_some(())
            }
            b'|' | b'>' => self.block_scalar(indent, value, lines),
            b'"' | b'\'' => {
                let (text, taken) = quoted(value)?;
                if blank_or_comment(&value[taken..]) {
                    self.events.push(Event::Scalar { text, plain: false });
                    Some(())
                } else if slot == Slot::SeqEntry && self.is_key(value) {
                    self.open_block(column, Kind::Map, false)?;
                    self.map_entry(column, value, lines)
                } else {
                    None
                }
            }
            _ if !plain_may_start(value) => None,
            _ => {
                let (end, stop) = plain_end(value, false)?;
                if stop == value.len() || value.as_bytes()[stop] == b'#' {
                    self.events.push(Event::plain(&value[..end]));
                    Some(())
                } else if slot == Slot::SeqEntry {
                    self.open_block(column, Kind::Map, false)?;
                    self.map_entry(column, value, lines)
                } else {
                    None
                }
            }
        }
    }

    /// A literal (`|`) or folded (`>`) block scalar whose header is
    /// `header`, its lines below, in the block collection at `indent`.
    fn block_scalar(
        &mut self,
        indent: usize,
        header: &'a str,
        lines: &mut Lines<'a>,
    ) -> Option<()> {
        let literal = header.starts_with('|');
        let (strip, after) = match header[1..].strip_prefix('-') {
            Some(after) => (true, after),
            None => (false, &header[1..]),
        };
        let after = after.trim_start_matches(' ');
        if !(after.is_empty() || after.starts_with('#')) {
            // `+`, an indentation indicator, or anything else.
            return None;
        }
        let mut text = String::new();
        let mut content_indent = None;
        let mut empty_lines = 0;
        while let Some(line) = lines.peek() {
            if line.text.is_empty() {
                // Empty lines before the first content line are refused
                // below; libyaml counts them towards the indentation.
                empty_lines += 1;
                lines.skip(line);
                continue;
            }
            let (spaces, content) = indented(line.text);
            if content.is_empty() {
                return None;
            }
            let content_indent = *content_indent.get_or_insert(spaces);
            if spaces < content_indent {
                break;
            }
            if content_indent <= indent || !line.ended {
                // An empty scalar, or one that the end of the file cuts.
                return None;
            }
            let content = &line.text[content_indent..];
            if text.is_empty() {
                if empty_lines > 0 {
                    return None;
                }
            } else if literal {
                text.extend(std::iter::repeat_n('\n', 1 + empty_lines));
            } else if empty_lines == 0 {
                text.push(' ');
            } else {
                text.extend(std::iter::repeat_n('\n', empty_lines));
            }
            if !literal && content.starts_with(' ') {
                // A more indented line keeps its line breaks in a folded
                // scalar.
                return None;
            }
            text.push_str(content);
            empty_lines = 0;
            lines.skip(line);
        }
        if text.is_empty() {
            return None;
        }
        if !strip {
            text.push('\n');
        }
        self.events.push(Event::Scalar {
            text: Cow::Owned(text),
            plain: false,
        });
        Some(())
    }

    /// A flow collection at the start of `text`, which must close on this
    /// line: the bytes it takes.
    fn flow_node(&mut self, text: &'a str) -> Option<usize> {
        let bytes = text.as_bytes();
        let mut at = self.open_flow(bytes[0])?;
        loop {
            while bytes.get(at) == Some(&b' ') {
                at += 1;
            }
            // A flow collection that goes on past the line is refused.
            let &byte = bytes.get(at)?;
            let &(kind, state) = self.flow.last()?;
            let closing = match kind {
                Kind::Map => b'}',
                Kind::Seq => b']',
            };
            match state {
                FlowState::First | FlowState::Separator if byte == closing => {
                    self.flow.pop();
                    self.close(kind);
                    at += 1;
                    if self.flow.is_empty() {
                        return Some(at);
                    }
                }
                FlowState::Separator => {
                    if byte != b',' {
                        return None;
                    }
                    self.set_flow_state(FlowState::Entry);
                    at += 1;
                }
                FlowState::First | FlowState::Entry if kind == Kind::Map => {
                    at += self.flow_key(&text[at..])?;
                    self.set_flow_state(FlowState::Value);
                }
                FlowState::First | FlowState::Entry | FlowState::Value => {
                    self.set_flow_state(FlowState::Separator);
                    at += self.flow_value(&text[at..])?;
                }
            }
        }
    }

    fn set_flow_state(&mut self, state: FlowState) {
        if let Some(top) = self.flow.last_mut() {
            top.1 = state;
        }
    }

    /// Opens the flow collection `byte` starts: the byte it takes.
    fn open_flow(&mut self, byte: u8) -> Option<usize> {
        let kind = match byte {
            b'{' => Kind::Map,
            b'[' => Kind::Seq,
            _ => return None,
        };
        self.open(kind)?;
        self.flow.push((kind, FlowState::First));
        Some(1)
    }

    /// A flow mapping's key and its `: `: the bytes they take.
    fn flow_key(&mut self, text: &'a str) -> Option<usize> {
        let (key, plain, taken) = match text.as_bytes()[0] {
            b'"' | b'\'' => {
                let (key, taken) = quoted(text)?;
                (key, false, taken)
            }
            _ if plain_may_start(text) => {
                let (end, stop) = plain_end(text, true)?;
                (Cow::Borrowed(&text[..end]), true, stop)
            }
            _ => return None,
        };
        self.key(key, plain, taken)?;
        let after = text[taken..].trim_start_matches(' ');
        let after = after.strip_prefix(": ")?;
        Some(text.len() - after.len())
    }

    /// A flow entry or value: a scalar, or a collection opened (its
    /// entries follow). The bytes taken.
    fn flow_value(&mut self, text: &'a str) -> Option<usize> {
        match text.as_bytes()[0] {
            byte @ (b'[' | b'{') => self.open_flow(byte),
            b'"' | b'\'' => {
                let (value, taken) = quoted(text)?;
                self.events.push(Event::Scalar {
                    text: value,
                    plain: false,
                });
                Some(taken)
            }
            _ if plain_may_start(text) => {
                let (end, stop) = plain_end(text, true)?;
                self.events.push(Event::plain(&text[..end]));
                Some(stop)
            }
            _ => None,
        }
    }

    /// The last events, once every line is read.
    fn finish(&mut self) -> Option<()> {
        if !self.started {
            return None;
        }
        if self.pending.take().is_some() {
            self.events.push(Event::plain(""));
        }
        while !self.blocks.is_empty() {
            self.close_block();
        }
        Some(())
    }
}

/// Why deserializing stopped: the loader's other paths say what is wrong.
#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not read by the fast path")
    }
}

impl std::error::Error for Refused {}

impl de::Error for Refused {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Self
    }
}

type Result<T> = std::result::Result<T, Refused>;

/// serde_yaml's deserializer, for the events above, parsing lines as it
/// needs their events.
struct Reader<'a> {
    parser: Parser<'a>,
    lines: Lines<'a>,
    /// The next event's index in the parser's events.
    pos: usize,
    /// Whether every line is read and the parser finished.
    ended: bool,
    remaining_depth: usize,
}

impl<'a> Reader<'a> {
    fn new(parser: Parser<'a>, source: &'a str, remaining_depth: usize) -> Self {
        Self {
            parser,
            lines: Lines { rest: source },
            pos: 0,
            ended: false,
            remaining_depth,
        }
    }

    /// Once every event read so far is taken, parses lines until there
    /// are a few hundred events to read, or the end; refused at the end,
    /// and where the parser refuses a line.
    #[inline]
    fn fill(&mut self) -> Result<()> {
        if self.pos < self.parser.events.len() {
            return Ok(());
        }
        self.parse_more()
    }

    #[inline(never)]
    fn parse_more(&mut self) -> Result<()> {
        const BATCH: usize = 256;
        if self.ended {
            return Err(Refused);
        }
        self.parser.events.clear();
        self.pos = 0;
        while !self.ended && self.parser.events.len() < BATCH {
            self.parse_line().ok_or(Refused)?;
        }
        if self.parser.events.is_empty() {
            return Err(Refused);
        }
        Ok(())
    }

    #[inline]
    fn peek(&mut self) -> Result<&Event<'a>> {
        self.fill()?;
        Ok(&self.parser.events[self.pos])
    }

    #[inline]
    fn next(&mut self) -> Result<Event<'a>> {
        self.fill()?;
        let event = std::mem::replace(&mut self.parser.events[self.pos], Event::MapEnd);
        self.pos += 1;
        Ok(event)
    }

    /// Parses the lines after what was deserialized: `None` when the
    /// parser refuses one, as it would have before deserializing.
    fn read_the_rest(mut self) -> Option<()> {
        while !self.ended {
            self.parser.events.clear();
            self.parse_line()?;
        }
        Some(())
    }

    /// Parses the next line with content into the parser's events, or,
    /// after the last, finishes the document; `None` where refused.
    fn parse_line(&mut self) -> Option<()> {
        if !self.parser.read_line(&mut self.lines)? {
            self.parser.finish()?;
            self.ended = true;
        }
        Some(())
    }

    /// Runs `f` one level deeper, within serde_yaml's budget.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        let previous = self.remaining_depth;
        self.remaining_depth = previous.checked_sub(1).ok_or(Refused)?;
        let result = f(self);
        self.remaining_depth = previous;
        result
    }

    /// A sequence whose start was read: serde_yaml refuses one whose
    /// visitor leaves entries unread.
    fn sequence<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let value = self.nested(|reader| {
            visitor.visit_seq(Entries {
                reader,
                empty: false,
            })
        })?;
        self.end(&Event::SeqEnd)?;
        Ok(value)
    }

    /// A mapping whose start was read; as [`Reader::sequence`].
    fn mapping<'de, V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let value = self.nested(|reader| {
            visitor.visit_map(Entries {
                reader,
                empty: false,
            })
        })?;
        self.end(&Event::MapEnd)?;
        Ok(value)
    }

    /// Skips what a visitor left of a collection, and its `end`: serde_yaml
    /// refuses a collection whose visitor left entries unread.
    fn end(&mut self, end: &Event<'_>) -> Result<()> {
        let mut left = false;
        while self.peek()? != end {
            self.skip()?;
            left = true;
        }
        self.next()?;
        if left { Err(Refused) } else { Ok(()) }
    }

    /// Skips one node, without recursion.
    fn skip(&mut self) -> Result<()> {
        let mut depth = 0_usize;
        loop {
            match self.next()? {
                Event::MapStart | Event::SeqStart => depth += 1,
                Event::MapEnd | Event::SeqEnd => depth = depth.checked_sub(1).ok_or(Refused)?,
                Event::Scalar { .. } => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }

    /// The next event, which must be a plain scalar, for the number and
    /// boolean methods: serde_yaml reads those only from plain scalars.
    fn plain_scalar(&mut self) -> Result<Cow<'a, str>> {
        match self.next()? {
            Event::Scalar { text, plain: true } => Ok(text),
            _ => Err(Refused),
        }
    }
}

/// The entries of a sequence or mapping.
struct Entries<'r, 'a> {
    reader: &'r mut Reader<'a>,
    /// Stands for an empty plain scalar read as a collection.
    empty: bool,
}

impl Entries<'_, '_> {
    #[inline]
    fn at_end(&mut self, end: &Event<'_>) -> Result<bool> {
        Ok(self.empty || self.reader.peek()? == end)
    }
}

impl<'de> de::SeqAccess<'de> for Entries<'_, '_> {
    type Error = Refused;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.at_end(&Event::SeqEnd)? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Entries<'_, '_> {
    type Error = Refused;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.at_end(&Event::MapEnd)? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.reader)
    }
}

/// An enum written as a scalar: its unit variant.
struct UnitVariant<'r, 'a> {
    reader: &'r mut Reader<'a>,
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'_, '_> {
    type Error = Refused;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        Ok((seed.deserialize(&mut *self.reader)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitVariant<'_, '_> {
    type Error = Refused;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value> {
        Err(Refused)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value> {
        Err(Refused)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value> {
        Err(Refused)
    }
}

/// Deserializer methods that do what another does, as serde_yaml_ng's do.
macro_rules! forward {
    ($($($method:ident),+ => $target:ident;)+) => {
        $($(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                self.$target(visitor)
            }
        )+)+
    };
}

// Each method does what serde_yaml_ng 0.10's does (src/de.rs) with
// untagged scalars, sequences and mappings, the only events here.
impl<'de> Deserializer<'de> for &mut Reader<'_> {
    type Error = Refused;

    forward! {
        deserialize_i8, deserialize_i16, deserialize_i32 => deserialize_i64;
        deserialize_u8, deserialize_u16, deserialize_u32 => deserialize_u64;
        deserialize_f32 => deserialize_f64;
        deserialize_char, deserialize_string, deserialize_identifier => deserialize_str;
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Event::Scalar { text, plain: true } => visit_untagged_scalar(visitor, &text),
            Event::Scalar { text, plain: false } => visitor.visit_str(&text),
            Event::SeqStart => self.sequence(visitor),
            Event::MapStart => self.mapping(visitor),
            Event::SeqEnd | Event::MapEnd => Err(Refused),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_bool(parse_bool(&self.plain_scalar()?).ok_or(Refused)?)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let text = self.plain_scalar()?;
        visitor.visit_i64(parse_signed_int(&text, i64::from_str_radix).ok_or(Refused)?)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let text = self.plain_scalar()?;
        visitor.visit_i128(parse_signed_int(&text, i128::from_str_radix).ok_or(Refused)?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let text = self.plain_scalar()?;
        visitor.visit_u64(parse_unsigned_int(&text, u64::from_str_radix).ok_or(Refused)?)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let text = self.plain_scalar()?;
        visitor.visit_u128(parse_unsigned_int(&text, u128::from_str_radix).ok_or(Refused)?)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(parse_f64(&self.plain_scalar()?).ok_or(Refused)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Event::Scalar { text, .. } => visitor.visit_str(&text),
            _ => Err(Refused),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Refused)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        Err(Refused)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let is_some = match self.peek()? {
            Event::Scalar { text, plain: true } => !text.is_empty() && parse_null(text).is_none(),
            Event::Scalar { plain: false, .. } | Event::SeqStart | Event::MapStart => true,
            Event::SeqEnd | Event::MapEnd => return Err(Refused),
        };
        if is_some {
            visitor.visit_some(self)
        } else {
            self.next()?;
            visitor.visit_none()
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Event::Scalar { text, plain: true }
                if text.is_empty() || parse_null(&text).is_some() =>
            {
                visitor.visit_unit()
            }
            _ => Err(Refused),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.peek()?;
        self.nested(|reader| visitor.visit_newtype_struct(reader))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Event::SeqStart => self.sequence(visitor),
            Event::Scalar { text, plain: true } if text.is_empty() => visitor.visit_seq(Entries {
                reader: self,
                empty: true,
            }),
            _ => Err(Refused),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.next()? {
            Event::MapStart => self.mapping(visitor),
            Event::Scalar { text, plain: true } if text.is_empty() => visitor.visit_map(Entries {
                reader: self,
                empty: true,
            }),
            _ => Err(Refused),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        // serde_yaml reads an untagged mapping or sequence as no enum.
        match self.peek()? {
            Event::Scalar { .. } => visitor.visit_enum(UnitVariant { reader: self }),
            _ => Err(Refused),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.skip()?;
        visitor.visit_unit()
    }
}

// How serde_yaml_ng 0.10 resolves a plain scalar (src/de.rs, copied as it
// is so that both read every scalar alike). That code is under serde_yaml_ng's
// MIT license, whose notice follows:
//
// Copyright 2024 Antoine Catton
// Copyright 2016-2024 David Tolnay
//
// Permission is hereby granted, free of charge, to any person obtaining a copy
// of this software and associated documentation files (the "Software"), to
// deal in the Software without restriction, including without limitation the
// rights to use, copy, modify, merge, publish, distribute, sublicense, and/or
// sell copies of the Software, and to permit persons to whom the Software is
// furnished to do so, subject to the following conditions:
//
// The above copyright notice and this permission notice shall be included in
// all copies or substantial portions of the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
// IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
// FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
// AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
// LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
// FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS
// IN THE SOFTWARE.

fn visit_untagged_scalar<'de, V: Visitor<'de>>(visitor: V, v: &str) -> Result<V::Value> {
    if v.is_empty() || parse_null(v).is_some() {
        return visitor.visit_unit();
    }
    if let Some(boolean) = parse_bool(v) {
        return visitor.visit_bool(boolean);
    }
    let visitor = match visit_int(visitor, v) {
        Ok(result) => return result,
        Err(visitor) => visitor,
    };
    if !digits_but_not_number(v) {
        if let Some(float) = parse_f64(v) {
            return visitor.visit_f64(float);
        }
    }
    visitor.visit_str(v)
}

fn visit_int<'de, V: Visitor<'de>>(
    visitor: V,
    v: &str,
) -> std::result::Result<Result<V::Value>, V> {
    if let Some(int) = parse_unsigned_int(v, u64::from_str_radix) {
        return Ok(visitor.visit_u64(int));
    }
    if let Some(int) = parse_negative_int(v, i64::from_str_radix) {
        return Ok(visitor.visit_i64(int));
    }
    if let Some(int) = parse_unsigned_int(v, u128::from_str_radix) {
        return Ok(visitor.visit_u128(int));
    }
    if let Some(int) = parse_negative_int(v, i128::from_str_radix) {
        return Ok(visitor.visit_i128(int));
    }
    Err(visitor)
}

fn parse_null(scalar: &str) -> Option<()> {
    match scalar {
        "null" | "Null" | "NULL" | "~" => Some(()),
        _ => None,
    }
}

fn parse_bool(scalar: &str) -> Option<bool> {
    match scalar {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

type FromStrRadix<T> = fn(&str, u32) -> std::result::Result<T, std::num::ParseIntError>;

fn parse_unsigned_int<T>(scalar: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    if let Some(rest) = unpositive.strip_prefix("0x") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0o") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0b") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 2) {
            return Some(int);
        }
    }
    if unpositive.starts_with(['+', '-']) {
        return None;
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_signed_int<T>(scalar: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    let unpositive = if let Some(unpositive) = scalar.strip_prefix('+') {
        if unpositive.starts_with(['+', '-']) {
            return None;
        }
        unpositive
    } else {
        scalar
    };
    if let Some(rest) = unpositive.strip_prefix("0x") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0x") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0o") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0o") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0b") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 2) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0b") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 2) {
            return Some(int);
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(scalar: &str, from_str_radix: FromStrRadix<T>) -> Option<T> {
    if let Some(rest) = scalar.strip_prefix("-0x") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0o") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = scalar.strip_prefix("-0b") {
        let negative = format!("-{rest}");
        if let Ok(int) = from_str_radix(&negative, 2) {
            return Some(int);
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(scalar, 10).ok()
}

fn parse_f64(scalar: &str) -> Option<f64> {
    let unpositive = if let Some(unpositive) = scalar.strip_prefix('+') {
        if unpositive.starts_with(['+', '-']) {
            return None;
        }
        unpositive
    } else {
        scalar
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN.copysign(1.0));
    }
    if let Ok(float) = unpositive.parse::<f64>() {
        if float.is_finite() {
            return Some(float);
        }
    }
    None
}

fn digits_but_not_number(scalar: &str) -> bool {
    // Leading zero(s) followed by numeric characters is a string according
    // to the YAML 1.2 spec.
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|b| b.is_ascii_digit())
}

// End of the code copied from serde_yaml_ng.

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    /// What `source` holds as a plain YAML value, read here (`None` when
    /// refused) and by serde_yaml.
    fn both(
        source: &str,
    ) -> (
        Option<serde_yaml::Value>,
        serde_yaml::Result<serde_yaml::Value>,
    ) {
        (from_str(source), serde_yaml::from_str(source))
    }

    /// `source` read as a [`Cut`] into `parts`: the head, with the entries
    /// of its `cases` read apart put back.
    fn in_parts(source: &str, parts: usize) -> Option<serde_yaml::Value> {
        let cut = cut_sequence(source, "cases", parts)?;
        let mut cases = Vec::new();
        for part in &cut.parts {
            cases.extend(entries_from_str::<serde_yaml::Value>(part, cut.indent)?);
        }
        let mut whole: serde_yaml::Value = from_str(&cut.head)?;
        whole
            .as_mapping_mut()?
            .insert("cases".into(), serde_yaml::Value::Sequence(cases));
        Some(whole)
    }

    /// Whether `source` is read in parts, however many; what is read in
    /// parts is read whole as the same, and what is refused whole is
    /// refused in parts.
    #[track_caller]
    fn read_in_parts(source: &str) -> bool {
        let whole = from_str::<serde_yaml::Value>(source);
        let mut read = false;
        for parts in 1..=5 {
            if let Some(in_parts) = in_parts(source, parts) {
                assert_eq!(
                    Some(&in_parts),
                    whole.as_ref(),
                    "{parts} parts of {source:?}"
                );
                read = true;
            }
        }
        read
    }

    #[test]
    fn a_sequence_read_in_parts_reads_as_it_does_whole() {
        let indented = "id: x\ncases:\n  - name: a\n    with: { k: v }\n\n  # between\n  - name: b\n    n: 1\n  - [1, 2]\n  - plain\n  -\n    name: below\n    none:\n  - name: last\n    none:\nafter: { y: 2 }\n# end\n";
        assert!(read_in_parts(indented));
        let indentless = "cases: # the cases\n- name: a\n  more: [x]\n- name: b\n- c\nafter: 1\n";
        assert!(read_in_parts(indentless));
        let block_scalars = "cases:\n  - text: |\n      one\n\n      two\n  - text: >-\n      folded\n      line\n\n  - text: |\n      last\n";
        assert!(read_in_parts(block_scalars));
        let document_start = "---\nfirst: 1\ncases:\n    - a\n    - b\n";
        assert!(read_in_parts(document_start));
    }

    #[test]
    fn what_is_refused_whole_is_refused_in_parts() {
        for source in [
            // A key written twice, around the cut and on both sides of it.
            "cases:\n  - a\n  - b\ncases:\n  - c\n",
            "x: 1\ncases:\n  - a\n  - b\nx: 2\n",
            // A second document, and a document end, among the entries.
            "cases:\n  - a\n---\n  - b\n",
            "cases:\n- a\n...\n- b\n",
            // A line between the dashes' column and the mapping's.
            "cases:\n  - a\n - b\n  - c\n",
            // An entry's mapping key at the dashes' column.
            "cases:\n  - a\n  b: 1\n",
            // A quoted scalar over two lines, across an entry's start.
            "cases:\n  - 'a\n  - b'\n",
        ] {
            assert!(
                from_str::<serde_yaml::Value>(source).is_none(),
                "{source:?}"
            );
            assert!(!read_in_parts(source), "{source:?}");
        }
        // Nesting: an entry is two levels down, in parts as in the whole.
        let deepest = (1..40)
            .map(|depth| {
                format!(
                    "cases:\n  - a\n  - {}{}\n",
                    "[".repeat(depth),
                    "]".repeat(depth)
                )
            })
            .take_while(|source| from_str::<serde_yaml::Value>(source).is_some())
            .count();
        assert_eq!(deepest, MAX_NESTING - 2);
        for depth in deepest..deepest + 2 {
            let source = format!(
                "cases:\n  - a\n  - {}{}\n",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            assert_eq!(read_in_parts(&source), depth == deepest, "{source}");
        }
    }

    #[test]
    fn a_part_holds_entries_and_nothing_else() {
        assert_eq!(
            entries_from_str::<serde_yaml::Value>("  - a\n  - b\n", 2),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            entries_from_str::<serde_yaml::Value>("  - a\nafter: 1\n", 2),
            None
        );
        assert_eq!(
            entries_from_str::<serde_yaml::Value>("- a\nafter: 1\n", 0),
            None
        );
    }

    #[test]
    fn a_document_is_cut_only_where_its_key_holds_a_block_sequence() {
        for source in [
            "cases: []\n",
            "cases: # none yet\nafter: 1\n",
            "\"cases\":\n  - a\n  - b\n",
            "  cases:\n  - a\n",
            "cases: &all\n  - a\n",
            "cases:\n  name: a\n",
            "other:\n  - a\n",
            "cases:",
        ] {
            assert!(cut_sequence(source, "cases", 2).is_none(), "{source:?}");
        }
        let source = "cases:\n  - a\n  - b\n  - c\n  - d\nafter: 1\n";
        let cut = cut_sequence(source, "cases", 2).unwrap();
        assert_eq!(cut.head, "cases: []\nafter: 1\n");
        assert_eq!(cut.parts, ["  - a\n  - b\n", "  - c\n  - d\n"]);
        assert_eq!(cut.indent, 2);
        let many = cut_sequence(source, "cases", 9).unwrap();
        assert_eq!(many.parts.len(), 4);
    }

    /// Whatever this reads, serde_yaml reads the same.
    #[track_caller]
    fn agrees(source: &str) -> bool {
        match both(source) {
            (None, _) => false,
            (Some(fast), Ok(yaml)) => {
                assert_eq!(fast, yaml, "{source:?}");
                true
            }
            (Some(fast), Err(e)) => panic!("{source:?}: read as {fast:?}, serde_yaml: {e}"),
        }
    }

    #[track_caller]
    fn read(source: &str) {
        assert!(agrees(source), "refused: {source:?}");
    }

    #[track_caller]
    fn refused(source: &str) {
        assert!(parse(source).is_none(), "read: {source:?}");
    }

    #[test]
    fn block_collections_read_as_libyaml_reads_them() {
        for source in [
            "a: 1\nb: two\n",
            "a:\n  b:\n    c: d\n  e: f\ng: h\n",
            "a:\n- 1\n- 2\nb: 3\n",
            "a:\n  - 1\n  -   x: 1\n      y: 2\n  - - n\n    - m\n",
            "- a\n- b: c\n  d: e\n-\n- - x\n",
            "a:\nb:\n",
            "a:\n  # only a comment\nb: 1\n",
            "- \n- x\n",
            "a: b # comment\n# between\nc: 'd' # more\n",
            "---\na: 1\n",
            "--- # a comment\na: 1\n",
            "a:\n- b:\n  - c\n- d\n",
            "a:\n-\n  x: 1\n",
            "a: 1",
            "key with spaces: value with  spaces  \n",
            "a : b\n",
            "\"quoted key\": 'x'\n'single key': \"y\"\n",
        ] {
            read(source);
        }
    }

    #[test]
    fn scalars_read_as_libyaml_reads_them() {
        for value in [
            "plain",
            "a:b",
            "http://example.com/a?b=c#d",
            "a#b",
            "a, b",
            "x[0]",
            "-1",
            "-x",
            "--x",
            "1e3",
            "0x1F",
            "0o7",
            "0b101",
            "1_000",
            "+1",
            "-0",
            "+.inf",
            ".NaN",
            "~",
            "null",
            "Null",
            "NULL",
            "true",
            "True",
            "yes",
            "on",
            "007",
            "0.5",
            "1.",
            ".5",
            "inf",
            "nan",
            "café",
            "日本",
            "'it''s'",
            "''",
            "\"\"",
            "'#x'",
            "\"a # b\"",
            "\"\\\"\\\\\\/\\n\\t\\0\\a\\b\\v\\f\\r\\e\\ \\N\\_\\L\\P\"",
            "\"\\x41\\u00e9\\U0001F600\"",
            "'a: b'",
            "\"a: b\"",
            "'  padded  '",
            "\"${client_id}\"",
            "<<",
            "a\u{a0}",
            "1 2",
            "a  b",
        ] {
            read(&format!("k: {value}\n"));
            read(&format!("- {value}\n"));
            // In a flow collection, `,` and brackets end a plain scalar.
            let flow = !value.contains([',', '[', ']', '{', '}']) || value.starts_with(['"', '\'']);
            if flow {
                read(&format!("k: [{value}]\n"));
                read(&format!("k: {{ x: {value} }}\n"));
                read(&format!("k: [ {value} , {value} ]\n"));
            }
        }
    }

    #[test]
    fn flow_collections_read_as_libyaml_reads_them() {
        for source in [
            "a: {}\n",
            "a: []\n",
            "a: { }\n",
            "a: [ ]\n",
            "a: { b: [1, {c: d}], e: { f: g } }\n",
            "a: [[1, 2], [], {}]\n",
            "- { a: 1 }\n- [b]\n",
            "a: {\"b\": 1, 'c': 2}\n",
            "a: {b : 1}\n",
            "a: [1,2,3] # comment\n",
        ] {
            read(source);
        }
    }

    #[test]
    fn block_scalars_read_as_libyaml_reads_them() {
        for source in [
            "a: |\n  one\n  two\nb: 1\n",
            "a: |-\n  one\n  two\nb: 1\n",
            "a: >\n  one\n  two\nb: 1\n",
            "a: >-\n  one\n  two\n\n  three\n\n\n  four\nb: 1\n",
            "a: |\n  one\n\n    more\n  # not a comment\n# a comment\nb: 1\n",
            "a: |\n  one\n\n\nb: 1\n",
            "- |\n  x\n- >\n  y\n",
            "a:\n  b: | # comment\n     deep\n  c: 1\n",
            "a: |\n  text\n",
        ] {
            read(source);
        }
    }

    #[test]
    fn what_is_outside_the_subset_is_refused() {
        for source in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: !tag x\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a: 1\n...\n",
            "? a\n: b\n",
            "\u{feff}a: 1\n",
            "a: 1\r\n",
            "a:\t1\n",
            "a:\n\t- 1\n",
            "a: x\u{85}y\n",
            "a: x\u{2028}y\n",
            "a: x\u{1}\n",
            "a: one\n  two\n",
            "- one\n  two\n",
            "a: 'one\n  two'\n",
            "a: \"one\n  two\"\n",
            "a: \"one\\\n  two\"\n",
            "a: [1,\n  2]\n",
            "a: {b: 1,\n  c: 2}\n",
            "a: |2\n   x\n",
            "a: |+\n  x\n",
            "a: |\n\n  x\n",
            "a: |\n  x\n  \n  y\n",
            "a: >\n  x\n    y\n",
            "a: |\n  x",
            "a: |\nb: 1\n",
            "a: 1\na: 2\n",
            "a: {b: 1, b: 2}\n",
            "a: {b: 1, 'b': 2}\n",
            "1: a\n",
            "a: {~: x}\n",
            "true: x\n",
            "a: {b, c: 1}\n",
            "a: {b: }\n",
            "a: [1, ]\n",
            "a: [b: c]\n",
            "a: {[b]: c}\n",
            "[a]: b\n",
            "a: [b]c\n",
            "a: [b]#c\n",
            "a: \"b\"c\n",
            "a: b: c\n",
            "a: b:\n",
            "a: - b\n",
            "a: @b\n",
            "a: `b\n",
            "a: %b\n",
            "a: ,b\n",
            "a: [x:, y]\n",
            "a: [x:]]\n",
            "a: \"\\q\"\n",
            "a: \"\\uD800\"\n",
            "a: \"\\x4\"\n",
            "  a: 1\n",
            "a: 1\n b: 2\n",
            "a:\n    b: 1\n  c: 2\n",
            "a:\n  - 1\n  b: 2\n",
            "- a: 1\n  - b\n",
            "",
            "# only a comment\n",
            "plain\n",
            "a: \"unclosed\n",
        ] {
            refused(source);
        }
        let long_key = "k".repeat(MAX_KEY_BYTES + 1);
        refused(&format!("{long_key}: 1\n"));
        read(&format!("{}: 1\n", "k".repeat(MAX_KEY_BYTES)));
        let deep = |depth: usize| format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        read(&deep(MAX_NESTING - 1));
        refused(&deep(MAX_NESTING));
    }

    /// Every `deserialize_*` method, on every kind of scalar and
    /// collection: each value read here is serde_yaml's.
    #[test]
    fn every_method_reads_what_serde_yaml_reads() {
        #[derive(Debug, Deserialize)]
        struct Unit;

        #[derive(Debug, Deserialize)]
        struct Newtype(#[allow(dead_code)] String);

        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Choice {
            One,
            Two,
            #[serde(rename = "123")]
            Number,
            #[serde(rename = "")]
            Nothing,
        }

        #[derive(Debug, Deserialize)]
        #[serde(untagged)]
        #[allow(dead_code)]
        enum Untagged {
            Flag(bool),
            Int(i64),
            Float(f64),
            Text(String),
            List(Vec<String>),
        }

        macro_rules! field {
            ($name:ident: $ty:ty) => {{
                #[derive(Debug, Deserialize)]
                struct One {
                    #[allow(dead_code)]
                    $name: $ty,
                }
                |source: &str| {
                    let fast = from_str::<One>(source).map(|one| format!("{one:?}"));
                    let yaml = serde_yaml::from_str::<One>(source).map(|one| format!("{one:?}"));
                    (fast, yaml.ok())
                }
            }};
        }
        type Check = fn(&str) -> (Option<String>, Option<String>);
        let checks: Vec<(&str, Check)> = vec![
            ("bool", field!(v: bool)),
            ("i8", field!(v: i8)),
            ("i16", field!(v: i16)),
            ("i32", field!(v: i32)),
            ("i64", field!(v: i64)),
            ("i128", field!(v: i128)),
            ("u8", field!(v: u8)),
            ("u16", field!(v: u16)),
            ("u32", field!(v: u32)),
            ("u64", field!(v: u64)),
            ("u128", field!(v: u128)),
            ("f32", field!(v: f32)),
            ("f64", field!(v: f64)),
            ("char", field!(v: char)),
            ("string", field!(v: String)),
            ("option", field!(v: Option<String>)),
            ("option_u64", field!(v: Option<u64>)),
            ("unit", field!(v: ())),
            ("unit_struct", field!(v: Unit)),
            ("newtype", field!(v: Newtype)),
            ("seq", field!(v: Vec<String>)),
            ("tuple", field!(v: (String, u8))),
            ("map", field!(v: BTreeMap<String, String>)),
            ("enum", field!(v: Choice)),
            ("untagged", field!(v: Untagged)),
            ("json", field!(v: serde_json::Value)),
            ("ignored", field!(v: serde::de::IgnoredAny)),
        ];
        let values = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "'null'",
            "\"~\"",
            "true",
            "True",
            "TRUE",
            "yes",
            "on",
            "'true'",
            "0",
            "-0",
            "+1",
            "007",
            "-007",
            "0x1F",
            "-0x1F",
            "0o7",
            "0b11",
            "1_000",
            "255",
            "256",
            "-129",
            "18446744073709551616",
            "1e3",
            "1.5",
            "-1.5e-3",
            ".inf",
            "-.inf",
            "+.INF",
            ".NaN",
            "inf",
            "nan",
            "'123'",
            "\"1\"",
            "x",
            "'x'",
            "xy",
            "one",
            "two",
            "'one'",
            "[one]",
            "[]",
            "{}",
            "[a, 1]",
            "[a, b, c]",
            "{a: b}",
            "{a: 1, b: [c]}",
            "''",
            "\"\"",
            "é",
            "日本",
            "|\n  block\n",
            ">-\n  folded\n",
            "{one: x}",
            "123",
        ];
        let (mut read_here, mut read_by_serde_yaml) = (0, 0);
        for (name, check) in &checks {
            for value in values {
                let source = format!("v: {value}\n");
                let (fast, yaml) = check(&source);
                read_by_serde_yaml += usize::from(yaml.is_some());
                match (fast, yaml) {
                    (None, Some(yaml)) => {
                        eprintln!("{name}: {source:?} left to serde_yaml ({yaml})")
                    }
                    (None, None) => {}
                    (Some(fast), Some(yaml)) => {
                        assert_eq!(fast, yaml, "{name}: {source:?}");
                        read_here += 1;
                    }
                    (Some(fast), None) => {
                        panic!("{name}: {source:?} read as {fast} but serde_yaml refuses it")
                    }
                }
            }
        }
        // What serde_yaml reads is read here too, or the test says little.
        assert_eq!(read_here, read_by_serde_yaml);
    }

    /// Random edits of the shipped specs: never a panic, and whatever is
    /// read here is what serde_yaml reads.
    #[test]
    #[cfg_attr(
        not(feature = "slow-tests"),
        ignore = "slow tier: reads 960 mangled copies of the shipped specs; runs with `cargo test --all-features`"
    )]
    fn mangled_specs_read_alike_or_are_refused() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs");
        let mut sources = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        sources.sort();
        let alphabet = b"{}[]:-,#&*!|>'\"\t\n ?%@`\\xyz0~.";
        let mut state = 7_u64;
        let mut next = |below: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap() % below
        };
        let (mut tried, mut read_here) = (0, 0);
        for source in &sources {
            assert!(agrees(source), "a shipped spec is refused");
            for _ in 0..60 {
                let mut bytes = source.clone().into_bytes();
                for _ in 0..1 + next(3) {
                    let at = next(bytes.len());
                    match next(3) {
                        0 => bytes[at] = alphabet[next(alphabet.len())],
                        1 => bytes.insert(at, alphabet[next(alphabet.len())]),
                        _ => {
                            bytes.remove(at);
                        }
                    }
                }
                if let Ok(mangled) = String::from_utf8(bytes) {
                    tried += 1;
                    read_here += usize::from(agrees(&mangled));
                }
            }
        }
        // The edits must not all fall outside the subset.
        assert!(read_here * 4 > tried, "{read_here} of {tried}");
    }

    /// `printable`, eight bytes at a time where it can, against the rule
    /// it implements read one character at a time: every character below
    /// U+0100 and the refused ones above it, at every offset in a word,
    /// among printable ASCII and line feeds.
    #[test]
    fn printable_agrees_with_its_rule_char_by_char() {
        fn by_the_rule(source: &str) -> bool {
            source.chars().all(|c| match c {
                '\n' => true,
                '\0'..='\u{1f}' | '\u{7f}'..='\u{9f}' => false,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => false,
                _ => true,
            })
        }
        let probes = (0..=0xffu32)
            .filter_map(char::from_u32)
            .chain([
                '\u{2027}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{fffd}', '\u{fffe}',
            ])
            .chain(['\u{ffff}', '\u{10000}', 'é', '€']);
        for probe in probes {
            for before in 0..17 {
                for filler in ["abcdefgh", "a\nb\n\nc:d", "\n\n\n\n\n\n\n\n"] {
                    let mut source: String = filler.chars().cycle().take(before).collect();
                    source.push(probe);
                    source.push_str("xyz\nuvw\nrst");
                    assert_eq!(
                        printable(&source),
                        by_the_rule(&source),
                        "{probe:?} after {before} of {filler:?}"
                    );
                }
            }
        }
    }

    /// `ParamSpec`'s hand-written `Deserialize` takes what the derived
    /// `untagged` one it replaced takes, and refuses the rest with the
    /// message the loader explains, read by serde_yaml and read here.
    #[test]
    fn a_parameter_reads_as_the_untagged_enum_read_it() {
        use crate::ParamSpec;
        use crate::model::NOT_A_PARAM;

        mod derived {
            /// The enum as it was derived, under its name, so that its
            /// message is the same text.
            #[derive(Debug, serde::Deserialize, PartialEq)]
            #[serde(untagged)]
            pub enum ParamSpec {
                One(String),
                List(Vec<String>),
            }
        }
        use derived::ParamSpec as Untagged;

        #[derive(Debug, Deserialize)]
        struct Ours {
            v: ParamSpec,
        }

        #[derive(Debug, Deserialize)]
        struct Theirs {
            v: Untagged,
        }

        fn same(ours: &ParamSpec, theirs: &Untagged) -> bool {
            match (ours, theirs) {
                (ParamSpec::One(a), Untagged::One(b)) => a == b,
                (ParamSpec::List(a), Untagged::List(b)) => a == b,
                _ => false,
            }
        }

        let values = [
            "a",
            "\"600\"",
            "'it''s'",
            "600",
            "-1",
            "1.5",
            "0x1f",
            ".inf",
            "true",
            "no",
            "~",
            "null",
            "",
            "\"\"",
            "[]",
            "[a, b]",
            "[a, \"b c\"]",
            "[a, 1]",
            "[a, ~]",
            "[a, true]",
            "[a, [b]]",
            "[[a]]",
            "[a, {b: c}]",
            "{}",
            "{a: b}",
            "!custom x",
            "!!str 600",
            "[!!str 1]",
            "\"${client_id}\"",
            "\n  - a\n  - b",
            "\n  - a\n  - 2",
            "\n  a: b",
            "|\n  block\n",
        ];
        for value in values {
            let source = format!("v: {value}\n");
            let ours = serde_yaml::from_str::<Ours>(&source);
            let theirs = serde_yaml::from_str::<Theirs>(&source);
            match (&ours, &theirs) {
                (Ok(ours), Ok(theirs)) => assert!(same(&ours.v, &theirs.v), "{source:?}"),
                // Refused with the same message, which now also says where
                // (`untagged` knew neither the key nor the position).
                (Err(ours), Err(theirs)) => {
                    let (ours, theirs) = (ours.to_string(), theirs.to_string());
                    assert!(ours.contains(&theirs), "{source:?}: {ours} / {theirs}");
                    if theirs.contains("untagged enum") {
                        assert_eq!(theirs, NOT_A_PARAM);
                        assert!(ours.contains(" at line "), "{source:?}: {ours}");
                    }
                }
                _ => panic!("{source:?}: ours {ours:?}, untagged {theirs:?}"),
            }
            // The subset reader takes it as serde_yaml does, or leaves it
            // to serde_yaml.
            if let Some(read) = from_str::<Ours>(&source) {
                let theirs = theirs.unwrap_or_else(|e| panic!("{source:?} read here; {e}"));
                assert!(same(&read.v, &theirs.v), "{source:?}");
            }
        }
    }

    use std::path::Path;
}
