//! The examples in `docs/spec-format.md` stay true.

#![allow(clippy::unwrap_used)]

use std::path::Path;

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/spec-format.md"))
        .unwrap()
}

/// The first fenced YAML block after `heading`.
fn yaml_after(doc: &str, heading: &str) -> String {
    let section = &doc[doc.find(heading).unwrap()..];
    let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
    let end = section[start..].find("```").unwrap();
    section[start..start + end].to_owned()
}

#[test]
fn the_minimal_spec_loads() {
    let yaml = yaml_after(&doc(), "## A minimal spec");
    if let Err(errors) = grantspec_spec::load_str(Path::new("example.yaml"), &yaml) {
        panic!("the minimal spec in docs/spec-format.md does not load:\n{errors}");
    }
}

#[test]
fn every_top_level_and_case_key_is_documented() {
    let doc = doc();
    let schema = grantspec_spec::spec_schema();
    let definitions = &schema["definitions"];
    for (what, properties) in [
        ("top level", &schema["properties"]),
        ("provider", &definitions["Provider"]["properties"]),
        (
            "token_endpoint",
            &definitions["TokenEndpoint"]["properties"],
        ),
        ("response", &definitions["ResponseShape"]["properties"]),
        ("mock", &definitions["MockSeed"]["properties"]),
        ("mock client", &definitions["MockClient"]["properties"]),
        ("live", &definitions["Live"]["properties"]),
        ("live rate", &definitions["Rate"]["properties"]),
        ("case", &definitions["Case"]["properties"]),
        ("step", &definitions["Step"]["properties"]),
        ("request", &definitions["RequestOverride"]["properties"]),
        ("resource call", &definitions["ResourceCall"]["properties"]),
        ("expect", &definitions["Expect"]["properties"]),
        ("matcher rules", &definitions["Rules"]["properties"]),
    ] {
        for key in properties.as_object().unwrap().keys() {
            assert!(
                doc.contains(&format!("`{key}`")),
                "docs/spec-format.md does not mention the {what} key `{key}`"
            );
        }
    }
}
