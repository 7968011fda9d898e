//! `cargo xtask schema [--check]`: writes the spec format's JSON Schema.
//!
//! The schema is generated from the Rust types of the spec crate
//! ([`grantspec_spec::spec_schema`]) into `schema/spec.schema.json`, which
//! the specs name on their first line for editors. With `--check`, nothing
//! is written and the task fails when the file is stale.

use std::process::ExitCode;

use grantspec_spec::{SPEC_SCHEMA_PATH, spec_schema_json};

/// Runs the task.
pub fn run(args: &crate::flags::Schema) -> anyhow::Result<ExitCode> {
    let check = args.check;
    let path = grantspec_runner::workspace_root().join(SPEC_SCHEMA_PATH);
    let fresh = spec_schema_json();
    let current = std::fs::read_to_string(&path).ok();
    if current.as_deref() == Some(fresh.as_str()) {
        println!("{SPEC_SCHEMA_PATH} is up to date");
        return Ok(ExitCode::SUCCESS);
    }
    if check {
        eprintln!("{SPEC_SCHEMA_PATH} is stale: run `cargo xtask schema`");
        return Ok(ExitCode::FAILURE);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(&path, fresh)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    println!("wrote {SPEC_SCHEMA_PATH}");
    Ok(ExitCode::SUCCESS)
}
