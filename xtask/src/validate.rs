//! `cargo xtask validate [PATH…]`: every problem in every spec.

use std::path::PathBuf;
use std::process::ExitCode;

use grantspec_spec::{SpecError, load_file, spec_files};

pub fn run(mut args: Vec<String>) -> anyhow::Result<ExitCode> {
    let specs = crate::take_value(&mut args, "--specs")?;
    let mut files: Vec<PathBuf> = Vec::new();
    let paths: Vec<PathBuf> = if args.is_empty() {
        vec![crate::specs_dir(specs)]
    } else {
        args.iter().map(PathBuf::from).collect()
    };
    for path in paths {
        if path.is_dir() {
            files
                .extend(spec_files(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?);
        } else {
            files.push(path);
        }
    }
    let mut errors: Vec<SpecError> = Vec::new();
    let mut cases = 0;
    for file in &files {
        match load_file(file) {
            Ok(loaded) => cases += loaded.spec.cases.len(),
            Err(mut more) => errors.append(&mut more.0),
        }
    }
    for error in &errors {
        eprintln!("{error}\n");
    }
    if errors.is_empty() {
        println!("{} spec file(s), {cases} case(s): ok", files.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} error(s) in {} spec file(s)", errors.len(), files.len());
        Ok(ExitCode::FAILURE)
    }
}
