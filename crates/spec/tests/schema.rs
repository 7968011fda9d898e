//! The committed JSON Schema matches the Rust types, and the specs use it.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn committed_schema_is_fresh() {
    let path = workspace().join(grantspec_spec::SPEC_SCHEMA_PATH);
    let fresh = grantspec_spec::spec_schema_json();
    if std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let diff = similar::TextDiff::from_lines(&committed, &fresh);
        panic!(
            "{} is stale: run `cargo xtask schema` to regenerate it from the Rust types\n\n{}",
            grantspec_spec::SPEC_SCHEMA_PATH,
            diff.unified_diff()
                .context_radius(2)
                .header("committed", "generated")
        );
    }
}

#[test]
fn shipped_specs_name_the_schema() {
    let (specs, errors) = grantspec_spec::load_dir(&workspace().join("specs"));
    assert!(errors.is_empty(), "{}", grantspec_spec::SpecErrors(errors));
    assert!(!specs.is_empty());
    for loaded in specs {
        let source = std::fs::read_to_string(&loaded.path).unwrap();
        assert_eq!(
            source.lines().next(),
            Some("# yaml-language-server: $schema=../schema/spec.schema.json"),
            "{} must start with the schema line, for editors",
            loaded.path.display()
        );
    }
}

#[test]
fn schema_describes_the_format() {
    let schema = grantspec_spec::spec_schema();
    assert_eq!(
        schema["$schema"], "http://json-schema.org/draft-07/schema#",
        "draft 7, which editors support widely"
    );
    assert_eq!(schema["additionalProperties"], false);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["provider", "cases"]);
    for key in ["provider", "mock", "live", "vars", "cases"] {
        assert!(schema["properties"].get(key).is_some(), "{key}");
    }
    let definitions = &schema["definitions"];
    let grants: Vec<&str> = definitions["GrantKind"]["enum"]
        .as_array()
        .map(|values| values.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let all: Vec<&str> = grantspec_spec::GrantKind::ALL
        .iter()
        .map(|g| g.as_str())
        .collect();
    assert!(
        all.iter().all(|g| grants.contains(g)) || definitions["GrantKind"]["oneOf"].is_array(),
        "{}",
        definitions["GrantKind"]
    );
    // A matcher is a literal or a mapping of rules, and rules are closed.
    let matcher = &definitions["Matcher"]["anyOf"];
    assert_eq!(matcher.as_array().map(Vec::len), Some(2), "{matcher}");
    assert_eq!(definitions["Rules"]["additionalProperties"], false);
    // The token crate's profile types are in, with their serde names.
    let body = definitions["BodyEncoding"].to_string();
    assert!(
        body.contains("\"form\"") && body.contains("\"json\""),
        "{body}"
    );
}
