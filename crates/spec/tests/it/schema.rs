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

/// The instances a real JSON Schema validator (Python's `jsonschema`, which
/// `.ci/run` installs) accepts and rejects: every shipped spec and the
/// runner's fixtures of the refresh behaviours (lifetimes by grant and by
/// client), read from their YAML, must pass, and a spec with a misspelt key
/// and mistyped values must fail, each error named by the validator.
#[test]
#[cfg_attr(
    not(feature = "slow-tests"),
    ignore = "slow tier: drives Python's jsonschema; runs with `cargo test --all-features`"
)]
fn a_real_json_schema_validator_accepts_the_shipped_specs_and_rejects_a_wrong_one() {
    let dir = grantspec_test_support::temp_dir("schema");
    let mut instances = Vec::new();
    for folder in ["specs", "crates/runner/tests/refresh-behaviours"] {
        for entry in std::fs::read_dir(workspace().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                let yaml: serde_json::Value =
                    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let json = dir.join(path.with_extension("json").file_name().unwrap());
                std::fs::write(&json, yaml.to_string()).unwrap();
                instances.push(json);
            }
        }
    }
    assert!(instances.len() >= 9, "{instances:?}");
    let wrong = dir.join("wrong.json");
    std::fs::write(
        &wrong,
        serde_json::json!({
            "provider": { "id": "w", "name": "W", "token_endpoint": { "path": "/t", "methd": "POST" } },
            "mock": {
                "token_lifetime": "an hour",
                "refresh": "rotate_keep",
                "clients": [{ "id": "c", "grants": ["password"], "token_lifetime": { "pasword": 60 } }]
            },
            "cases": []
        })
        .to_string(),
    )
    .unwrap();

    const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft7Validator
schema = json.load(open(sys.argv[1]))
Draft7Validator.check_schema(schema)
validator = Draft7Validator(schema)
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
    print(json.dumps({"file": path, "errors": [e.message for e in errors]}))
"#;
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(VALIDATE)
        .arg(workspace().join(grantspec_spec::SPEC_SCHEMA_PATH))
        .args(&instances)
        .arg(&wrong)
        .output()
        .expect(
            "python3 runs: this test validates with Python's jsonschema (`python3 -m pip install jsonschema`, as .ci/run does)",
        );
    assert!(
        output.status.success(),
        "the validator failed (is Python's jsonschema installed? `python3 -m pip install jsonschema`):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(results.len(), instances.len() + 1);
    for result in &results[..instances.len()] {
        assert_eq!(result["errors"], serde_json::json!([]), "{result}");
    }
    let errors = results[instances.len()]["errors"].to_string();
    assert!(errors.contains("methd"), "{errors}");
    assert!(errors.contains("an hour"), "{errors}");
    assert!(errors.contains("rotate_keep"), "{errors}");
    assert!(errors.contains("{'pasword': 60}"), "{errors}");
}
