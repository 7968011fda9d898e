//! Spec errors that say where, what, and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// A problem in a spec file, located at a line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column, 0 when the problem concerns the whole file.
    pub column: usize,
    /// What is wrong.
    pub message: String,
    /// The offending source line, when there is one.
    pub source_line: Option<String>,
    /// How to fix it, when that can be guessed.
    pub help: Option<String>,
}

impl SpecError {
    /// An error about a whole file.
    pub fn file(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            source_line: None,
            help: None,
        }
    }

    /// An error at `line`:`column` of `source`.
    pub fn at(
        file: impl Into<PathBuf>,
        source: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Self {
        // A tab is shown as `→`, one column wide like the tab itself, so the
        // caret stays under the right character and the tab is visible.
        let source_line = line
            .checked_sub(1)
            .and_then(|index| source.lines().nth(index))
            .map(|text| text.replace('\t', "→"));
        Self {
            file: file.into(),
            line,
            column,
            message: message.into(),
            source_line,
            help: None,
        }
    }

    /// Adds a hint.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        if self.line == 0 {
            write!(f, "  --> {}", self.file.display())?;
        } else {
            write!(
                f,
                "  --> {}:{}:{}",
                self.file.display(),
                self.line,
                self.column
            )?;
        }
        if let Some(source_line) = &self.source_line {
            let number = self.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(self.column.saturating_sub(1));
            write!(
                f,
                "\n{pad} |\n{number} | {source_line}\n{pad} | {caret_pad}^"
            )?;
        }
        if let Some(help) = &self.help {
            let pad = if self.source_line.is_some() {
                " ".repeat(self.line.to_string().len())
            } else {
                " ".to_owned()
            };
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in one or more spec files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("\n\n")?;
            }
            write!(f, "{error}")?;
        }
        let count = self.0.len();
        write!(f, "\n\n{count} error{}", if count == 1 { "" } else { "s" })
    }
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(word.len()) / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of two adjacent characters (`grnat` is one edit from
/// `grant`) each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: distance between a[..i] and b[..j].
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("scopes", ["scope", "audience"]), Some("scope"));
        assert_eq!(
            did_you_mean("client_secert", ["client_secret", "client_id"]),
            Some("client_secret")
        );
        assert_eq!(did_you_mean("zzz", ["scope", "audience"]), None);
        assert_eq!(
            did_you_mean("grnat", ["name", "grant", "with"]),
            Some("grant")
        );
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    #[test]
    fn renders_location_source_and_caret() {
        let error = SpecError::at(
            "specs/x.yaml",
            "a: 1\n  bad: 2\n",
            2,
            3,
            "unknown field `bad`",
        )
        .with_help("did you mean `bar`?");
        assert_eq!(
            error.to_string(),
            "error: unknown field `bad`\n  --> specs/x.yaml:2:3\n  |\n2 |   bad: 2\n  |   ^\n  = help: did you mean `bar`?"
        );
    }
}
