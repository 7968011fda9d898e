//! Reading spec files: YAML in, a checked [`Spec`] or every located problem out.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::error::{SpecError, SpecErrors, did_you_mean};
use crate::model::{ParamSpec, Spec};
use crate::template::{self, Piece};

/// Largest spec file accepted, in bytes.
pub const MAX_SPEC_BYTES: u64 = 16 * 1024 * 1024;

/// A spec and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The file.
    pub path: PathBuf,
    /// The spec.
    pub spec: Spec,
}

/// Loads and checks one spec file.
pub fn load_file(path: &Path) -> Result<LoadedSpec, SpecErrors> {
    let error = |message: String| SpecErrors(vec![SpecError::file(path, message)]);
    let metadata =
        std::fs::metadata(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(error(format!(
            "the file is {} bytes; specs larger than {MAX_SPEC_BYTES} bytes are refused",
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read the file: {e}")))?;
    let source = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid.len() - valid.rfind('\n').map_or(0, |i| i + 1) + 1;
        SpecErrors(vec![SpecError::at(
            path,
            valid,
            line,
            column,
            "the file is not valid UTF-8",
        )])
    })?;
    load_str(path, &source)
}

/// Parses and checks spec text; `path` is used only in messages.
pub fn load_str(path: &Path, source: &str) -> Result<LoadedSpec, SpecErrors> {
    let spec: Spec =
        serde_yaml::from_str(source).map_err(|e| SpecErrors(vec![yaml_error(path, source, &e)]))?;
    let errors = check(path, source, &spec);
    if errors.is_empty() {
        Ok(LoadedSpec {
            path: path.to_owned(),
            spec,
        })
    } else {
        Err(SpecErrors(errors))
    }
}

/// Loads every `*.yaml` and `*.yml` file of `dir`, in file-name order.
///
/// Returns the specs that loaded, and the errors of those that did not.
pub fn load_dir(dir: &Path) -> (Vec<LoadedSpec>, Vec<SpecError>) {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    match spec_files(dir) {
        Ok(files) => {
            for file in files {
                match load_file(&file) {
                    Ok(spec) => specs.push(spec),
                    Err(SpecErrors(mut more)) => errors.append(&mut more),
                }
            }
        }
        Err(e) => errors.push(SpecError::file(
            dir,
            format!("cannot list spec folder: {e}"),
        )),
    }
    (specs, errors)
}

/// The spec files of `dir`, sorted.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    Ok(files)
}

fn yaml_error(path: &Path, source: &str, error: &serde_yaml::Error) -> SpecError {
    let text = error.to_string();
    let message = match text.rfind(" at line ") {
        Some(index) => text[..index].to_owned(),
        None => text,
    };
    let (line, column) = error
        .location()
        .map_or((0, 0), |location| (location.line(), location.column()));
    let spec_error = if line == 0 {
        SpecError::file(path, message.clone())
    } else {
        SpecError::at(path, source, line, column, message.clone())
    };
    match suggestion(&message) {
        Some(help) => spec_error.with_help(help),
        None => spec_error,
    }
}

/// Reads serde's "unknown field `x`, expected one of `a`, `b`" (or variant)
/// and suggests the closest expected name.
fn suggestion(message: &str) -> Option<String> {
    let (_, rest) = message
        .split_once("unknown field `")
        .or_else(|| message.split_once("unknown variant `"))?;
    let (word, expected) = rest.split_once('`')?;
    let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    did_you_mean(word, candidates.iter().copied()).map(|best| format!("did you mean `{best}`?"))
}

/// Finds the `nth` (0-based) occurrence of `needle` in `source` as a 1-based
/// line and column.
fn locate(source: &str, needle: &str, nth: usize) -> Option<(usize, usize)> {
    let index = source.match_indices(needle).nth(nth)?.0;
    let before = &source[..index];
    let line = before.matches('\n').count() + 1;
    let column = index - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}

/// Checks what serde cannot: uniqueness, references, coherence.
fn check(path: &Path, source: &str, spec: &Spec) -> Vec<SpecError> {
    let mut errors = Vec::new();
    let at = |needle: &str, nth: usize, message: String| match locate(source, needle, nth) {
        Some((line, column)) => SpecError::at(path, source, line, column, message),
        None => SpecError::file(path, message),
    };

    if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
        if stem != spec.provider.id {
            errors.push(
                at(
                    "id:",
                    0,
                    format!(
                        "provider id `{}` differs from the file name `{stem}`",
                        spec.provider.id
                    ),
                )
                .with_help(format!(
                    "rename the file to `{}.yaml` or set `id: {stem}`",
                    spec.provider.id
                )),
            );
        }
    }

    let mut seen: HashMap<&str, usize> = HashMap::new();
    for case in &spec.cases {
        let count = seen.entry(case.name.as_str()).or_default();
        if *count > 0 {
            errors.push(
                at(
                    &format!("name: {}", case.name),
                    *count,
                    format!("duplicate case name `{}`", case.name),
                )
                .with_help(
                    "case names must be unique within a spec: they name the generated tests",
                ),
            );
        }
        *count += 1;

        let case_at = |message: String| at(&format!("name: {}", case.name), 0, message);
        match (case.grant.is_some(), !case.steps.is_empty()) {
            (true, true) => errors.push(case_at(format!(
                "case `{}` has both `grant` and `steps`: a case is either one request or a list of steps",
                case.name
            ))),
            (false, false) => errors.push(case_at(format!(
                "case `{}` has neither `grant` nor `steps`",
                case.name
            ))),
            _ => {}
        }
        let single_step;
        let steps = if case.steps.is_empty() {
            single_step = case.steps();
            &single_step
        } else {
            &case.steps
        };
        let mut earlier_steps: HashSet<&str> = HashSet::new();
        for step in steps {
            for value in step.with.values() {
                let templates: Vec<&str> = match value {
                    ParamSpec::One(s) => vec![s.as_str()],
                    ParamSpec::List(items) => items.iter().map(String::as_str).collect(),
                };
                for text in templates {
                    check_template(spec, text, &earlier_steps, &mut |needle, message, help| {
                        let error = at(needle, 0, message);
                        errors.push(match help {
                            Some(help) => error.with_help(help),
                            None => error,
                        });
                    });
                }
            }
            if let Some(id) = &step.id {
                earlier_steps.insert(id);
            }
        }
    }

    if let Some(live) = &spec.live {
        check_template(
            spec,
            &live.base_url,
            &HashSet::new(),
            &mut |needle, message, help| {
                let error = at(needle, 0, message);
                errors.push(match help {
                    Some(help) => error.with_help(help),
                    None => error,
                });
            },
        );
    }
    errors
}

fn check_template(
    spec: &Spec,
    text: &str,
    earlier_steps: &HashSet<&str>,
    report: &mut dyn FnMut(&str, String, Option<String>),
) {
    let pieces = match template::parse(text) {
        Ok(pieces) => pieces,
        Err(message) => return report(text, message, None),
    };
    for piece in pieces {
        match piece {
            Piece::Var(name) if !spec.vars.contains_key(&name) => {
                let help = did_you_mean(&name, spec.vars.keys().map(String::as_str))
                    .map(|best| format!("did you mean `${{{best}}}`?"))
                    .or_else(|| Some(format!("define `{name}` under `vars`")));
                report(
                    &format!("${{{name}}}"),
                    format!("undefined variable `{name}`"),
                    help,
                );
            }
            Piece::Capture { step, path } if !earlier_steps.contains(step.as_str()) => {
                let help = did_you_mean(&step, earlier_steps.iter().copied())
                    .map(|best| format!("did you mean `${{{best}.{}}}`?", path.join(".")))
                    .or_else(|| {
                        Some(
                            "captures refer to the `id` of an earlier step of the same case"
                                .to_owned(),
                        )
                    });
                report(
                    &format!("${{{step}."),
                    format!(
                        "`${{{step}.{}}}` captures from step `{step}`, which is not an earlier step of this case",
                        path.join(".")
                    ),
                    help,
                );
            }
            _ => {}
        }
    }
}
