//! The JSON Schema of the spec format, generated from the Rust types.
//!
//! `schema/spec.schema.json` is this schema, committed so that editors can
//! use it: a spec's first line,
//! `# yaml-language-server: $schema=../schema/spec.schema.json`, gives
//! completion and checking in editors that run the YAML language server.
//! `cargo xtask schema` rewrites the file; a test fails when it is stale.
//!
//! The schema follows JSON Schema draft 7, which editors support widely. It
//! describes the structure only: what the loader checks beyond it (names
//! that must be unique, references to variables and steps, a provider id
//! that matches the file name) is in `docs/spec-format.md`.

use schemars::generate::SchemaSettings;

use crate::model::Spec;

/// Path of the committed schema, relative to the workspace root.
pub const SPEC_SCHEMA_PATH: &str = "schema/spec.schema.json";

/// The JSON Schema of a spec file.
pub fn spec_schema() -> serde_json::Value {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<Spec>();
    schema.insert(
        "title".to_owned(),
        "grantspec provider spec".to_owned().into(),
    );
    schema.insert(
        "description".to_owned(),
        "How one provider's OAuth 2.0 token endpoint behaves, what its mock is seeded with, and the cases to run against it. See docs/spec-format.md."
            .to_owned()
            .into(),
    );
    schema.to_value()
}

/// [`spec_schema`] as the committed file holds it: pretty-printed JSON with
/// a final line break.
pub fn spec_schema_json() -> String {
    let mut text = serde_json::to_string_pretty(&spec_schema()).unwrap_or_default();
    text.push('\n');
    text
}
