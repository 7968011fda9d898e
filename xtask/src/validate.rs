//! `cargo xtask validate [PATH…]`: every problem in every spec.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use grantspec_spec::{SpecError, load_dir, load_file, spec_files};

pub fn run(args: crate::flags::Validate) -> anyhow::Result<ExitCode> {
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![crate::specs_dir(args.specs.specs)]
    } else {
        args.paths
    };
    let mut errors: Vec<SpecError> = Vec::new();
    let mut files = 0;
    let mut cases = 0;
    for path in paths {
        // A folder named like a spec is handed to the loader, which says
        // what it is; any other folder is a folder of specs, and one without
        // any is an error too.
        if path.is_dir() && !named_like_a_spec(&path) {
            files += spec_files(&path).map_or(0, |found| found.len());
            let (loaded, mut more) = load_dir(&path);
            cases += loaded.iter().map(|l| l.spec.cases.len()).sum::<usize>();
            errors.append(&mut more);
        } else {
            files += 1;
            match load_file(&path) {
                Ok(loaded) => cases += loaded.spec.cases.len(),
                Err(mut more) => errors.append(&mut more.0),
            }
        }
    }
    for error in &errors {
        eprintln!("{error}\n");
    }
    if errors.is_empty() {
        println!("{files} spec file(s), {cases} case(s): ok");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} error(s) in {files} spec file(s)", errors.len());
        Ok(ExitCode::FAILURE)
    }
}

fn named_like_a_spec(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext == "yaml" || ext == "yml")
}
