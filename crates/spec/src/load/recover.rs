//! Finding every deserialization error, not only serde's first one.
//!
//! serde stops at the first error. To find the others, the loader
//! deserializes *pruned* copies of the document: the same text with every
//! part blanked out (replaced by spaces, line breaks kept) except one mapping
//! entry or sequence item and the keys leading to it. Because nothing moves,
//! every position serde reports in a pruned copy is a position in the file,
//! and the errors are the ones serde gives for the real document.
//!
//! Starting from the whole document, each part whose pruned copy fails is
//! searched the same way, one child at a time, so one bad case does not hide
//! the next. A pruned copy also lacks the parts it blanked, which serde
//! reports as missing keys of the enclosing mappings: errors that lie before
//! the part being searched are such artifacts and are dropped.

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
    let mut search = Search {
        source,
        root,
        total_chars: source.chars().count(),
        parses: 0,
        errors: Vec::new(),
    };
    let mut path = Vec::new();
    search.children::<T>(&mut path, root);
    search.errors.push(first);
    search.errors
}

struct Search<'a> {
    source: &'a str,
    root: &'a Node,
    total_chars: usize,
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

impl<'a> Search<'a> {
    /// Searches each child of `node` (reached by `path`).
    fn children<T: DeserializeOwned>(&mut self, path: &mut Vec<usize>, node: &'a Node) {
        let count = match &node.kind {
            Kind::Map { entries, .. } => entries.len(),
            Kind::Seq { items, .. } => items.len(),
            Kind::Scalar { .. } | Kind::Alias => 0,
        };
        for index in 0..count {
            let part = match &node.kind {
                Kind::Map { entries, .. } => Part {
                    start: entries[index].key.start,
                    value: &entries[index].value,
                },
                Kind::Seq { items, .. } => Part {
                    start: items[index].start,
                    value: &items[index],
                },
                Kind::Scalar { .. } | Kind::Alias => return,
            };
            path.push(index);
            self.part::<T>(path, &part);
            path.pop();
        }
    }

    /// Searches one part: if its pruned copy fails, searches its children
    /// and keeps the part's own error.
    fn part<T: DeserializeOwned>(&mut self, path: &mut Vec<usize>, part: &Part<'a>) {
        if self.parses >= MAX_PARSES {
            return;
        }
        self.parses += 1;
        let pruned = self.pruned(path);
        let Err(error) = serde_yaml::from_str::<T>(&pruned) else {
            return;
        };
        if !belongs_to(&error, part) {
            return;
        }
        self.children::<T>(path, part.value);
        self.errors.push(error);
    }

    /// The document with everything blanked but the part at `path`.
    fn pruned(&self, path: &[usize]) -> String {
        // Character ranges to keep: what precedes and follows the root node
        // (comments, `---`), and for each level the opening and closing of
        // the collection, and the way to the part (its key, or its `-`).
        let mut keep: Vec<(usize, usize)> = vec![
            (0, self.root.start.index),
            (self.root.end, self.total_chars),
        ];
        let mut node = self.root;
        for (depth, &index) in path.iter().enumerate() {
            let last = depth + 1 == path.len();
            keep.push((node.start.index, node.open_end));
            keep.push((node.close_start, node.end));
            let (start, child) = match &node.kind {
                Kind::Map { entries, .. } => {
                    let entry = &entries[index];
                    (entry.key.start.index, &entry.value)
                }
                Kind::Seq { flow, items } => {
                    let item = &items[index];
                    let start = if *flow {
                        item.start.index
                    } else {
                        let gap_start = match index {
                            0 => node.open_end,
                            _ => items[index - 1].end,
                        };
                        self.dash(gap_start, item.start.index)
                    };
                    (start, item)
                }
                Kind::Scalar { .. } | Kind::Alias => return self.source.to_owned(),
            };
            if last {
                keep.push((start, child.end));
            } else {
                keep.push((start, child.start.index));
                node = child;
            }
        }
        blank_except(self.source, keep)
    }

    /// The `-` that introduces a block sequence item: the first one between
    /// `from` and `to` that is not in a comment.
    fn dash(&self, from: usize, to: usize) -> usize {
        let mut in_comment = false;
        for (index, c) in self.source.chars().enumerate().skip(from).take(to - from) {
            match c {
                '\n' | '\r' => in_comment = false,
                '#' => in_comment = true,
                '-' if !in_comment => return index,
                _ => {}
            }
        }
        to
    }
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

/// `source` with every character outside the `keep` ranges (character
/// indices) replaced by a space; line breaks are kept so that every position
/// stays where it was.
fn blank_except(source: &str, mut keep: Vec<(usize, usize)>) -> String {
    keep.retain(|(start, end)| start < end);
    keep.sort_unstable();
    let mut ranges = keep.into_iter().peekable();
    let mut current: Option<(usize, usize)> = None;
    let mut out = String::with_capacity(source.len());
    for (index, c) in source.chars().enumerate() {
        while current.is_none_or(|(_, end)| index >= end) {
            match ranges.peek() {
                Some(&(start, _)) if start <= index => current = ranges.next(),
                _ => break,
            }
        }
        let kept = current.is_some_and(|(start, end)| start <= index && index < end);
        if kept || c == '\n' || c == '\r' {
            out.push(c);
        } else {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_all_but_the_kept_ranges() {
        assert_eq!(
            blank_except("ab\ncdé\nf", vec![(1, 2), (4, 6)]),
            " b\n dé\n "
        );
        assert_eq!(blank_except("abc", vec![(0, 3), (1, 2)]), "abc");
    }
}
