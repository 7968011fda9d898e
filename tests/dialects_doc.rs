//! Keeps `docs/dialects.md`'s table honest, the way `docs/conformance.md`'s
//! table is kept current: every deviation id it names is one a check
//! reports, every case it names exists in its spec, and every test it names
//! exists in its file.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cells of the table's rows, by column name.
fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text
        .lines()
        .skip_while(|line| !line.starts_with("| dialect |"));
    let split = |line: &str| -> Vec<String> {
        line.trim()
            .trim_matches('|')
            .split(" | ")
            .map(|cell| cell.trim().to_owned())
            .collect()
    };
    let header = split(lines.next().expect("docs/dialects.md has the table"));
    let rows = lines
        .skip(1)
        .take_while(|line| line.starts_with('|'))
        .map(split)
        .collect();
    (header, rows)
}

/// The backticked names in a cell.
fn names(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

#[test]
fn the_dialect_table_names_only_what_exists() {
    let text = std::fs::read_to_string(root().join("docs/dialects.md")).unwrap();
    let (header, rows) = rows(&text);
    assert_eq!(
        header,
        [
            "dialect",
            "profile key",
            "example",
            "providers",
            "deviation id",
            "mock test",
            "TokenClient test",
            "case"
        ]
    );
    assert!(rows.len() >= 15, "{} rows", rows.len());
    let (specs, errors) = grantspec_spec::load_dir(&root().join("specs"));
    assert!(errors.is_empty(), "{errors:?}");
    let mut problems = Vec::new();
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
        let dialect = &row[0];
        let deviations = names(&row[4]);
        if row[4] != "none" && !row[4].starts_with("none ") {
            assert!(!deviations.is_empty(), "{dialect}: no deviation id");
        }
        for id in deviations {
            if !grantspec_conformance::known_deviation(id) {
                problems.push(format!("{dialect}: no check reports `{id}`"));
            }
        }
        for column in [5, 6] {
            let tests = names(&row[column]);
            assert!(!tests.is_empty(), "{dialect}: no {}", header[column]);
            for test in tests {
                let (file, function) = test.rsplit_once("::").expect("path::function");
                let source = std::fs::read_to_string(root().join(Path::new(file)))
                    .unwrap_or_else(|e| panic!("{dialect}: {file}: {e}"));
                if !source.contains(&format!("fn {function}(")) {
                    problems.push(format!("{dialect}: {file} has no fn {function}"));
                }
            }
        }
        let cases = names(&row[7]);
        assert!(!cases.is_empty(), "{dialect}: no case");
        for case in cases {
            let (provider, name) = case.split_once("::").expect("provider::case");
            let found = specs.iter().any(|loaded| {
                loaded.spec.provider.id == provider
                    && loaded.spec.cases.iter().any(|c| c.name == name)
            });
            if !found {
                problems.push(format!("{dialect}: no case {case}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The table's reader finds a name that is not there: a test that could
/// not fail would prove nothing.
#[test]
fn a_missing_name_is_found() {
    let table = "| dialect | x |\n|---|---|\n| a | `specs::nowhere` and `b` |\n";
    let (_, rows) = rows(table);
    assert_eq!(names(&rows[0][1]), ["specs::nowhere", "b"]);
    assert!(!grantspec_conformance::known_deviation("no-such-deviation"));
}
