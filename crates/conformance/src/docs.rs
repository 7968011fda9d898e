//! `docs/conformance.md` is generated from the catalogue: its table of checks
//! is [`markdown_table`], and a test fails when the file is out of date.

use std::fmt::Write as _;

use crate::CHECKS;

/// The Markdown table of every check, as `docs/conformance.md` carries it
/// between its `checks:begin` and `checks:end` markers.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Check | Clause | Severity | Deviation | Rule | Looks at |\n|---|---|---|---|---|---|\n",
    );
    for check in CHECKS {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | `{}` | {} | {} |",
            check.id,
            check.clause,
            check.severity.as_str(),
            check.deviation,
            check.title,
            check.looks_at
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS_BEGIN: &str = "<!-- checks:begin -->";
    const DOCS_END: &str = "<!-- checks:end -->";

    fn docs_path() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/conformance.md")
    }

    /// The docs with the table section replaced by `markdown_table()`.
    fn regenerated_docs(docs: &str) -> Option<String> {
        let start = docs.find(DOCS_BEGIN)? + DOCS_BEGIN.len();
        let end = docs.find(DOCS_END)?;
        Some(format!(
            "{}\n{}{}",
            &docs[..start],
            markdown_table(),
            &docs[end..]
        ))
    }

    #[test]
    fn docs_table_matches_the_checks() {
        let docs = std::fs::read_to_string(docs_path()).unwrap();
        let expected = regenerated_docs(&docs).unwrap_or_else(|| {
            panic!("docs/conformance.md lacks the {DOCS_BEGIN} … {DOCS_END} markers")
        });
        assert!(
            docs == expected,
            "docs/conformance.md's check table is out of date; regenerate it with\n  cargo test -p grantspec-conformance --lib docs::tests::regenerate_docs_table -- --ignored"
        );
        for check in CHECKS {
            let row = format!(
                "| `{}` | {} | {} | `{}` |",
                check.id,
                check.clause,
                check.severity.as_str(),
                check.deviation
            );
            assert!(docs.contains(&row), "no table row for {}", check.id);
        }
    }

    #[test]
    #[ignore = "rewrites docs/conformance.md; run to regenerate the check table"]
    fn regenerate_docs_table() {
        let path = docs_path();
        let docs = std::fs::read_to_string(&path).unwrap();
        let regenerated = regenerated_docs(&docs).unwrap();
        std::fs::write(&path, regenerated).unwrap();
    }
}
