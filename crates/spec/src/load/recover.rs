//! Finding every deserialization error, not only serde's first one.
//!
//! serde stops at the first error. To find the others, the loader
//! deserializes *pruned* copies of the document: the same text with every
//! part blanked out (replaced by spaces, line breaks kept) except some
//! entries of one mapping or items of one sequence, and the keys leading to
//! them. Because nothing moves,
//! every position serde reports in a pruned copy is a position in the file,
//! and the errors are the ones serde gives for the real document.
//!
//! Starting from the whole document, the children of each part whose pruned
//! copy fails are searched the same way, by halves (so that a long list with
//! one bad item costs a few parses) down to single children, so one bad case
//! does not hide the next. A pruned copy also lacks the parts it blanked,
//! which serde reports as missing keys of the enclosing mappings: errors
//! that lie before the part being searched are such artifacts and are
//! dropped.

use serde::de::DeserializeOwned;

use super::tree::{Kind, Node, Pos};

/// Most pruned copies parsed for one file, to bound the time spent on a file
/// with a great many errors.
const MAX_PARSES: usize = 2000;

/// Every error found in `source` when deserializing it as `T`, starting with
/// `first`, serde's error for the whole document. Errors may repeat.
pub(crate) fn all_errors<T: DeserializeOwned>(
    source: &str,
    root: &Node,
    first: serde_yaml::Error,
) -> Vec<serde_yaml::Error> {
    search::<T>(source, root, first).0
}

/// [`all_errors`], and how many pruned copies it parsed to find them.
fn search<T: DeserializeOwned>(
    source: &str,
    root: &Node,
    first: serde_yaml::Error,
) -> (Vec<serde_yaml::Error>, usize) {
    let mut search = Search {
        text: Text::new(source),
        root,
        parses: 0,
        errors: Vec::new(),
    };
    let mut path = Vec::new();
    search.children::<T>(&mut path, root);
    search.errors.push(first);
    (search.errors, search.parses)
}

struct Search<'a> {
    text: Text<'a>,
    root: &'a Node,
    parses: usize,
    errors: Vec<serde_yaml::Error>,
}

/// One part of the document: a mapping entry or a sequence item.
struct Part<'n> {
    /// Where the part starts: the key of an entry, or the item.
    start: Pos,
    /// The part's value: the entry's value, or the item.
    value: &'n Node,
}

/// The `index`th child of `node`, when it has one.
fn part(node: &Node, index: usize) -> Option<Part<'_>> {
    match &node.kind {
        Kind::Map { entries } => entries.get(index).map(|entry| Part {
            start: entry.key.start,
            value: &entry.value,
        }),
        Kind::Seq { items, .. } => items.get(index).map(|item| Part {
            start: item.start,
            value: item,
        }),
        Kind::Scalar { .. } | Kind::Alias => None,
    }
}

/// How many children `node` has.
fn child_count(node: &Node) -> usize {
    match &node.kind {
        Kind::Map { entries } => entries.len(),
        Kind::Seq { items, .. } => items.len(),
        Kind::Scalar { .. } | Kind::Alias => 0,
    }
}

impl<'a> Search<'a> {
    /// Searches the children of `node` (reached by `path`), whose pruned copy
    /// is known to fail.
    fn children<T: DeserializeOwned>(&mut self, path: &mut Vec<usize>, node: &'a Node) {
        let count = child_count(node);
        if count > 0 {
            self.range::<T>(path, node, (0, count), true);
        }
    }

    /// Searches children `lo..hi` of `node` by halves, so that a long list
    /// with one bad item costs a few parses, not one per item.
    fn range<T: DeserializeOwned>(
        &mut self,
        path: &mut Vec<usize>,
        node: &'a Node,
        (lo, hi): (usize, usize),
        known_to_fail: bool,
    ) {
        if hi - lo == 1 {
            return self.child::<T>(path, node, lo);
        }
        if !known_to_fail {
            let Some(error) = self.try_pruned::<T>(path, node, (lo, hi)) else {
                return;
            };
            self.errors.push(error);
        }
        let mid = lo + (hi - lo) / 2;
        self.range::<T>(path, node, (lo, mid), false);
        self.range::<T>(path, node, (mid, hi), false);
    }

    /// Searches one child: if its pruned copy fails, searches the child's
    /// children and keeps the child's own error.
    fn child<T: DeserializeOwned>(&mut self, path: &mut Vec<usize>, node: &'a Node, index: usize) {
        let Some(error) = self.try_pruned::<T>(path, node, (index, index + 1)) else {
            return;
        };
        if let Some(part) = part(node, index) {
            path.push(index);
            self.children::<T>(path, part.value);
            path.pop();
        }
        self.errors.push(error);
    }

    /// The error of the copy that keeps only children `lo..hi` of `node`,
    /// when there is one and it is about those children.
    fn try_pruned<T: DeserializeOwned>(
        &mut self,
        path: &[usize],
        node: &'a Node,
        (lo, hi): (usize, usize),
    ) -> Option<serde_yaml::Error> {
        if self.parses >= MAX_PARSES {
            return None;
        }
        self.parses += 1;
        let first = part(node, lo)?;
        let pruned = self.pruned(path, (lo, hi))?;
        let error = serde_yaml::from_str::<T>(&pruned).err()?;
        belongs_to(&error, &first).then_some(error)
    }

    /// The document with everything blanked but children `lo..hi` of the
    /// node at `path`, and the way to them.
    fn pruned(&self, path: &[usize], (lo, hi): (usize, usize)) -> Option<String> {
        // Character ranges to keep: what precedes and follows the root node
        // (comments, `---`), and for each level the opening and closing of
        // the collection and the way down (a key, or a `-`).
        let mut keep: Vec<(usize, usize)> =
            vec![(0, self.root.start.index), (self.root.end, usize::MAX)];
        let mut node = self.root;
        for &index in path {
            keep.push((node.start.index, node.open_end));
            keep.push((node.close_start, node.end));
            let child = part(node, index)?.value;
            keep.push((self.child_start(node, index)?, child.start.index));
            node = child;
        }
        keep.push((node.start.index, node.open_end));
        keep.push((node.close_start, node.end));
        let end = match &node.kind {
            Kind::Map { entries } => entries.get(hi - 1)?.value.end,
            Kind::Seq { items, .. } => items.get(hi - 1)?.end,
            Kind::Scalar { .. } | Kind::Alias => return None,
        };
        keep.push((self.child_start(node, lo)?, end));
        Some(self.text.blank_except(keep))
    }

    /// Where the `index`th child of `node` starts, its `-` included.
    fn child_start(&self, node: &Node, index: usize) -> Option<usize> {
        match &node.kind {
            Kind::Map { entries } => Some(entries.get(index)?.key.start.index),
            Kind::Seq { flow: true, items } => Some(items.get(index)?.start.index),
            Kind::Seq { flow: false, items } => {
                let item = items.get(index)?;
                let gap_start = match index {
                    0 => node.open_end,
                    _ => items[index - 1].end,
                };
                Some(self.dash(gap_start, item.start.index))
            }
            Kind::Scalar { .. } | Kind::Alias => None,
        }
    }

    /// The `-` that introduces a block sequence item: the first one between
    /// `from` and `to` that is not in a comment.
    fn dash(&self, from: usize, to: usize) -> usize {
        let start = self.text.byte(from);
        let end = self.text.byte(to);
        let mut in_comment = false;
        for (offset, c) in self.text.source[start..end].chars().enumerate() {
            match c {
                '\n' | '\r' => in_comment = false,
                '#' => in_comment = true,
                '-' if !in_comment => return from + offset,
                _ => {}
            }
        }
        to
    }
}

/// The source, with what it takes to go from character indices (which the
/// YAML parser gives) to bytes and lines quickly.
struct Text<'a> {
    source: &'a str,
    /// Byte offset of every `CHECKPOINT`th character; empty when the source
    /// is ASCII and character and byte indices are the same.
    checkpoints: Vec<usize>,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
}

/// Distance between checkpoints, in characters.
const CHECKPOINT: usize = 64;

impl<'a> Text<'a> {
    fn new(source: &'a str) -> Self {
        let checkpoints = if source.is_ascii() {
            Vec::new()
        } else {
            source
                .char_indices()
                .step_by(CHECKPOINT)
                .map(|(byte, _)| byte)
                .collect()
        };
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            source,
            checkpoints,
            line_starts,
        }
    }

    /// The byte offset of character `index` (the end when past it).
    fn byte(&self, index: usize) -> usize {
        if self.checkpoints.is_empty() {
            return index.min(self.source.len());
        }
        let Some(&base) = self.checkpoints.get(index / CHECKPOINT) else {
            return self.source.len();
        };
        self.source[base..]
            .char_indices()
            .nth(index % CHECKPOINT)
            .map_or(self.source.len(), |(offset, _)| base + offset)
    }

    /// The line (0-based) holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// The source with every character outside the `keep` ranges (character
    /// indices) replaced by a space, and lines with nothing kept left
    /// empty. Line breaks are kept, so every position stays where it was;
    /// emptying the other lines keeps the copy small for serde to parse.
    fn blank_except(&self, keep: Vec<(usize, usize)>) -> String {
        let mut ranges: Vec<(usize, usize)> = keep
            .into_iter()
            .map(|(start, end)| (self.byte(start), self.byte(end)))
            .filter(|(start, end)| start < end)
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        let mut out = String::new();
        let mut next_line = 0;
        let mut index = 0;
        while index < merged.len() {
            // The lines from this range to the last range that shares its
            // last line are written out, the others left empty.
            let first = self.line_of(merged[index].0);
            let mut last = self.line_of(merged[index].1 - 1);
            let mut end = index + 1;
            while end < merged.len() && self.line_of(merged[end].0) <= last {
                last = last.max(self.line_of(merged[end].1 - 1));
                end += 1;
            }
            for _ in next_line..first {
                out.push('\n');
            }
            let from = self.line_starts[first];
            let to = self
                .line_starts
                .get(last + 1)
                .copied()
                .unwrap_or(self.source.len());
            let mut cursor = from;
            for &(start, stop) in &merged[index..end] {
                blank_into(&mut out, &self.source[cursor..start]);
                out.push_str(&self.source[start..stop]);
                cursor = stop;
            }
            blank_into(&mut out, &self.source[cursor..to]);
            next_line = last + 1;
            index = end;
        }
        for _ in next_line..self.line_starts.len().saturating_sub(1) {
            out.push('\n');
        }
        out
    }
}

/// Appends `text` with every character but line breaks replaced by a space.
fn blank_into(out: &mut String, text: &str) {
    out.extend(text.chars().map(|c| match c {
        '\n' | '\r' => c,
        _ => ' ',
    }));
}

/// Whether `error`, found in the pruned copy of `part`, is about the part
/// rather than an artifact of pruning (a key of an enclosing mapping that
/// was blanked out).
fn belongs_to(error: &serde_yaml::Error, part: &Part<'_>) -> bool {
    let Some(location) = error.location() else {
        return false;
    };
    let at = (location.line(), location.column());
    if error.to_string().contains("unknown anchor") {
        // An alias whose anchor was blanked out.
        return false;
    }
    // serde reports a missing key at the start of the mapping that lacks it,
    // which for an entry is also where its key is: only a mapping inside the
    // part's value can be one the part is responsible for.
    let from = if error.to_string().contains("missing field `") {
        part.value.start
    } else {
        part.start
    };
    at >= from.line_col()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_all_but_the_kept_ranges() {
        let blank = |source: &str, keep: Vec<(usize, usize)>| Text::new(source).blank_except(keep);
        assert_eq!(blank("ab\ncdé\nf", vec![(1, 2), (4, 6)]), " b\n dé\n");
        assert_eq!(blank("abc", vec![(0, 3), (1, 2)]), "abc");
        assert_eq!(blank("ab\r\ncd\n", vec![(4, 5)]), "\nc \n");
        assert_eq!(blank("a\nb\nc\nd", vec![(2, 5)]), "\nb\nc\n");
        assert_eq!(blank("é\nxé\n", vec![(3, 4), (0, 0)]), "\n é\n");
    }

    /// shopware.yaml with its cases replaced by `count` copies of its first
    /// one, two of them broken (a wrong type, an unknown grant) at the same
    /// relative places whatever the count.
    fn long_spec(count: usize) -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../specs/shopware.yaml");
        let source = std::fs::read_to_string(path).unwrap_or_default();
        let split = source
            .find("cases:\n")
            .map_or(0, |at| at + "cases:\n".len());
        let (head, cases) = source.split_at(split);
        let one = &cases[..cases.find("\n  - name: password_grant").unwrap_or(0)];
        assert!(
            one.contains("status: 200"),
            "the first shopware case: {one}"
        );
        let mut long = head.to_owned();
        for index in 0..count {
            let case = one.replacen(
                "name: client_credentials",
                &format!("name: case_{index}"),
                1,
            );
            let case = if index == count * 7 / 20 {
                case.replacen("status: 200", "status: ok", 1)
            } else if index == count * 19 / 20 {
                case.replacen("grant: client_credentials", "grant: client_credential", 1)
            } else {
                case
            };
            long.push_str(&case);
            long.push('\n');
        }
        long
    }

    /// An error's line and column, and what it says.
    type Found = ((usize, usize), String);

    /// Where the errors found in `long_spec(count)` are (they may repeat),
    /// with what each says, and the pruned copies parsed.
    fn searched(count: usize) -> (Vec<Found>, usize) {
        let source = long_spec(count);
        let Ok(parsed) = super::super::tree::parse(&source) else {
            panic!("the long spec is YAML");
        };
        let Err(first) = serde_yaml::from_str::<crate::Spec>(&source) else {
            panic!("the long spec has errors");
        };
        let (errors, parses) = search::<crate::Spec>(&source, &parsed.root, first);
        let mut found: Vec<Found> = errors
            .iter()
            .filter_map(|e| {
                let at = e.location()?;
                Some(((at.line(), at.column()), e.to_string()))
            })
            .collect();
        found.sort();
        found.dedup_by_key(|(at, _)| *at);
        (found, parses)
    }

    /// Searching by halves: the pruned copies parsed grow with the logarithm
    /// of the number of cases (a few per halving, for each bad case), not
    /// with the number, so eight times the cases costs a few more parses
    /// rather than eight times as many (48 and 60 parses when written).
    /// Counted, not timed.
    #[test]
    fn a_long_list_with_two_bad_items_costs_a_few_parses_per_halving() {
        let (small_errors, small) = searched(250);
        let (large_errors, large) = searched(2000);
        for errors in [&small_errors, &large_errors] {
            assert_eq!(errors.len(), 2, "{errors:?}");
            assert!(
                errors[0].1.contains("invalid type: string \"ok\""),
                "{errors:?}"
            );
            assert!(
                errors[1].1.contains("unknown variant `client_credential`"),
                "{errors:?}"
            );
        }
        // 2000 is 250 doubled three times: at most a few more parses per
        // halving for each of the two bad cases.
        assert!(
            large <= small + 3 * 2 * 4,
            "250 cases took {small} parses, 2000 took {large}"
        );
        assert!(large < 100, "2000 cases took {large} parses");
    }

    #[test]
    fn maps_characters_to_bytes() {
        let source = "é".repeat(200);
        let text = Text::new(&source);
        assert_eq!(text.byte(0), 0);
        assert_eq!(text.byte(130), 260);
        assert_eq!(text.byte(500), 400);
    }
}
