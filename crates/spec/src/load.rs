//! Reading spec files: YAML in, a checked [`Spec`] or every located problem out.
//!
//! This module is the only place that parses YAML. It runs in stages, each
//! reporting everything it finds:
//!
//! 0. the folder ([`load_dir`], [`load_files`]): an entry named like a spec
//!    that is not one, no spec at all, a provider defined by two files;
//! 1. the bytes: a regular file only, size cap (from metadata, then a capped
//!    read), UTF-8;
//! 2. the YAML itself: first the tree ([`tree`]), which stops at the first
//!    level too deep (linear time: serde_yaml checks its own limit only
//!    after reading everything, in time quadratic in the flow depth), a
//!    recursive alias, and counts aliases (alias bombs) and documents; then
//!    serde into a plain value: syntax errors, an empty file, a document
//!    that is not a mapping;
//! 3. the spec's structure, deserialized into [`Spec`]: unknown keys, wrong
//!    types, unknown grants and enum values, malformed matchers. serde stops
//!    at the first error, so when there is one, [`recover`] looks for the
//!    others in pruned copies of the document;
//! 4. what serde cannot see ([`check`]): duplicate case names, references
//!    to variables and steps, a case or step that does not say what it does,
//!    a provider id that differs from the file name; and names and values
//!    beyond [`crate::limits`] ([`bounds`]).
//!
//! Positions come from a second parse with spans ([`tree`]).
//!
//! All of that is the full path. A spec that loads cleanly takes a fast path
//! first, which only ever answers "loaded"; on anything else the full path
//! runs from the start and reports exactly what it always did. The fast path
//! reads the spec one of two ways, then checks its meaning without
//! positions:
//!
//! - [`subset`]: specs are written in a small part of YAML (block
//!   collections, one-line flow collections and scalars, comments, block
//!   scalars). This reader parses exactly that part in one linear pass into
//!   the events libyaml would give, refusing duplicate and doubtful keys,
//!   and deserializes them as serde_yaml would. It exists for start-up
//!   time: both general parsers cost about 300 instructions per byte, and a
//!   10,000-case spec is 2.7 MB. Loading the benchmark's spec (callgrind,
//!   `xtask bench-load-spec`) took 462M instructions for 2,000 cases and
//!   2.30G for 10,000 through serde_yaml (with the tree first: more than
//!   [`PRESCAN_ABOVE_OPENERS`] brackets); through the subset 54M and 265M,
//!   of which (at 10,000 cases) the parse is about 124M, deserializing 85M
//!   and the meaning checks 17M (93M before they borrowed template pieces
//!   and joined paths only for an error).
//! - Outside the subset: one serde_yaml parse, straight into [`Spec`],
//!   through an adapter that watches for the duplicate keys only the plain
//!   value would have refused ([`watch`]). A doubtful key, a tag or an
//!   alias it has not counted sends the spec down the full path. With more
//!   than [`PRESCAN_ABOVE_OPENERS`] brackets, it builds the tree first, so
//!   that deep nesting is refused before serde reads it.

mod bounds;
mod check;
mod explain;
mod recover;
mod subset;
mod tree;
mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Depth, NotARegularFile, ReadError, SpecError, SpecErrorKind, SpecErrors};
use crate::model::{Case, Live, MockSeed, Provider, Spec, Var};

use check::Parts;
use tree::{Node, Pos, Refused, Seg};

/// Largest spec file accepted, in bytes.
pub const MAX_SPEC_BYTES: u64 = 16 * 1024 * 1024;

/// How many times its written size aliases may expand a document to…
const MAX_EXPANSION: u64 = 10;

/// …plus this many nodes, so that small files may share freely.
const MAX_EXPANSION_SLACK: u64 = 100_000;

/// Most errors reported for one file.
const MAX_ERRORS: usize = 100;

/// Above this many `[` and `{`, the fast path checks the nesting first.
/// serde_yaml's parser reads a whole file before its recursion limit is
/// checked, in time that grows with the square of the flow nesting depth; a
/// flow collection opens with one of these, so fewer of them bound the depth
/// (and that time) without a second parse. Shipped specs have a few hundred.
const PRESCAN_ABOVE_OPENERS: usize = 1024;

/// A spec and the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The file.
    pub path: PathBuf,
    /// The spec.
    pub spec: Spec,
}

/// Loads and checks one spec file.
///
/// # Errors
///
/// Every problem found, each located in the file: see [`load_str`].
pub fn load_file(path: &Path) -> Result<LoadedSpec, SpecErrors> {
    let bytes = read_spec(path).map_err(|error| SpecErrors(vec![SpecError::file(path, error)]))?;
    load_bytes(path, &bytes)
}

/// The bytes of a spec file; see [`read_regular_file`].
fn read_spec(path: &Path) -> Result<Vec<u8>, ReadError> {
    read_regular_file(path, MAX_SPEC_BYTES, "spec")
}

/// The bytes of the file at `path`, for a `kind` of file named in messages
/// (`spec`, `snapshot`): only a regular file (a symbolic link is followed
/// to one; a FIFO would wait for a writer, `/dev/zero` never ends), refused
/// from its size before it is read when larger than `max` bytes, and read
/// with a cap even so (a file may grow, or be swapped, in between).
///
/// # Errors
///
/// What keeps the file from being read ([`ReadError`]; its message does not
/// repeat the path).
pub fn read_regular_file(path: &Path, max: u64, kind: &str) -> Result<Vec<u8>, ReadError> {
    use std::io::Read as _;

    let io = |e: std::io::Error| ReadError::Io(e.into());
    let metadata = std::fs::metadata(path).map_err(|e| unreadable(path, e))?;
    not_a_regular_file(&metadata, kind)?;
    if metadata.len() > max {
        return Err(ReadError::TooLarge {
            len: metadata.len(),
            max,
            kind: kind.to_owned(),
        });
    }
    let file = open_regular_file(path, kind)?;
    // Sized for what the file held when looked at, so a large spec is read
    // into one buffer rather than into a doubling series of them.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::Grew {
            max,
            kind: kind.to_owned(),
        });
    }
    Ok(bytes)
}

/// [`read_regular_file`], as UTF-8 text.
pub fn read_regular_text(path: &Path, max: u64, kind: &str) -> Result<String, ReadError> {
    String::from_utf8(read_regular_file(path, max, kind)?).map_err(|_| ReadError::NotUtf8)
}

/// Opens `path` if what is opened is a regular file. The path may have been
/// swapped since it was looked at, so the opening itself must not block
/// (opening a FIFO for reading waits for a writer), and the check is made
/// on what was opened.
fn open_regular_file(path: &Path, kind: &str) -> Result<std::fs::File, ReadError> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        // Reads from a regular file are not affected by the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| unreadable(path, e))?;
    not_a_regular_file(&file.metadata().map_err(|e| ReadError::Io(e.into()))?, kind)?;
    Ok(file)
}

/// Why a path cannot be followed to a file: a symbolic link says where it
/// leads.
fn unreadable(path: &Path, error: std::io::Error) -> ReadError {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return ReadError::Io(error.into());
    }
    match (error.kind(), std::fs::read_link(path)) {
        (std::io::ErrorKind::NotFound, Ok(target)) => ReadError::DanglingLink { target },
        _ if leads_round(path) => ReadError::LinkLoop,
        _ => ReadError::BadLink(error.into()),
    }
}

/// Whether following the symbolic link at `path` comes back to a link it
/// has passed (or goes through more links than any system follows).
fn leads_round(path: &Path) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut at = path.to_owned();
    for _ in 0..64 {
        if !seen.insert(at.clone()) {
            return true;
        }
        match std::fs::read_link(&at) {
            Ok(target) => at = at.parent().unwrap_or(Path::new("")).join(target),
            Err(_) => return false,
        }
    }
    true
}

/// Refuses anything but a regular file: a folder, a FIFO (which would wait
/// for a writer), a device (`/dev/zero` never ends), a socket.
fn not_a_regular_file(metadata: &std::fs::Metadata, name: &str) -> Result<(), NotARegularFile> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        return Err(NotARegularFile::Folder {
            kind: name.to_owned(),
        });
    }
    #[cfg(unix)]
    let what = {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() {
            "a character device"
        } else if kind.is_block_device() {
            "a block device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a file"
        }
    };
    #[cfg(not(unix))]
    let what = "not a file";
    Err(NotARegularFile::Other {
        what,
        kind: name.to_owned(),
    })
}

/// Checks the contents of a spec file; `path` is used only in messages and
/// to compare the provider id with the file name.
///
/// # Errors
///
/// Bytes that are not UTF-8, and every problem [`load_str`] finds.
pub fn load_bytes(path: &Path, bytes: &[u8]) -> Result<LoadedSpec, SpecErrors> {
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(SpecErrors(vec![SpecError::file(
            path,
            too_large(bytes.len() as u64),
        )]));
    }
    match std::str::from_utf8(bytes) {
        Ok(source) => load_str(path, source),
        Err(e) => {
            let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
            let line = valid.matches('\n').count() + 1;
            let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
            let column = valid[line_start..].chars().count() + 1;
            let invalid = &bytes[e.valid_up_to()..];
            let bytes = invalid
                .iter()
                .take(e.error_len().unwrap_or(invalid.len()).min(4))
                .copied()
                .collect();
            Err(SpecErrors(vec![SpecError::at(
                path,
                valid,
                line,
                column,
                SpecErrorKind::NotUtf8 { bytes },
            )]))
        }
    }
}

/// Parses and checks spec text; `path` is used only in messages and to
/// compare the provider id with the file name.
///
/// # Errors
///
/// Every problem found (up to a hundred), in the order they appear in the
/// file, each with its line and column, the source line, and a suggestion
/// where one fits.
pub fn load_str(path: &Path, source: &str) -> Result<LoadedSpec, SpecErrors> {
    if source.len() as u64 > MAX_SPEC_BYTES {
        return Err(SpecErrors(vec![SpecError::file(
            path,
            too_large(source.len() as u64),
        )]));
    }
    if let Some(spec) = load_fast(path, source) {
        return Ok(LoadedSpec {
            path: path.to_owned(),
            spec,
        });
    }
    load_full(path, source)
}

/// Whether aliases expand a document beyond what a spec may.
fn alias_bomb(parsed: &tree::Parsed) -> bool {
    parsed.expanded > MAX_EXPANSION * parsed.nodes + MAX_EXPANSION_SLACK
}

/// The spec, when it loads without a single problem, found in one parse
/// (the subset reader's, else serde_yaml's); `None` whenever [`load_full`]
/// is needed to say what is wrong, or to be sure nothing is.
fn load_fast(path: &Path, source: &str) -> Option<Spec> {
    let parts = match source.len() / MIN_PART_BYTES {
        0 | 1 => 1,
        most => std::thread::available_parallelism().map_or(1, |cores| most.min(cores.get())),
    };
    let spec = match subset_in_parts(source, parts).or_else(|| subset::from_str::<Spec>(source)) {
        Some(spec) => spec,
        None => load_through_serde_yaml(source)?,
    };
    // No positions are needed unless something is wrong, and then the full
    // path reports it.
    let doc = Doc {
        path,
        source,
        root: None,
    };
    meaning(&doc, &Parts::of(&spec), spec.mock.as_ref())
        .is_empty()
        .then_some(spec)
}

/// A spec's cases are read in parts on as many threads as the machine runs
/// at once, each part at least this large: starting a thread costs tens of
/// microseconds, reading this much about half a millisecond.
const MIN_PART_BYTES: usize = 64 * 1024;

/// The spec read by the subset reader with its cases cut into `parts`
/// ([`subset::cut_sequence`]), each part read on a thread of its own: a
/// spec of thousands of cases is megabytes, and every process that runs
/// cases reads it first. `None` when there are fewer than two parts, or
/// the reader refuses a part or the rest.
fn subset_in_parts(source: &str, parts: usize) -> Option<Spec> {
    if parts < 2 {
        return None;
    }
    let cut = subset::cut_sequence(source, "cases", parts)?;
    if cut.parts.len() < 2 {
        return None;
    }
    let indent = cut.indent;
    std::thread::scope(|scope| {
        let readers: Vec<_> = cut.parts[1..]
            .iter()
            .map(|&part| scope.spawn(move || subset::entries_from_str::<Case>(part, indent)))
            .collect();
        let mut spec = subset::from_str::<Spec>(&cut.head)?;
        spec.cases = subset::entries_from_str::<Case>(cut.parts[0], indent)?;
        for reader in readers {
            let cases = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            spec.cases.extend(cases);
        }
        Some(spec)
    })
}

/// The spec in one serde_yaml parse, when nothing the full path would
/// refuse can slip through it.
fn load_through_serde_yaml(source: &str) -> Option<Spec> {
    // Aliases must be counted before serde expands them, and tags are left
    // to the full path; without a `*` or a `!` there are neither. Deep
    // nesting must be refused before serde reads it, and without enough
    // brackets there is none.
    let openers = source.bytes().filter(|b| matches!(b, b'[' | b'{')).count();
    if source.contains(['*', '!']) || openers > PRESCAN_ABOVE_OPENERS {
        let parsed = tree::parse(source).ok()?;
        if parsed.tagged || alias_bomb(&parsed) {
            return None;
        }
    }
    watch::from_str(source)
}

/// Every stage, each reporting everything it finds.
fn load_full(path: &Path, source: &str) -> Result<LoadedSpec, SpecErrors> {
    // Stage 2: is it YAML, one document, a mapping? The tree comes first:
    // it counts what aliases expand to without expanding them, and stops at
    // the first level too deep, before serde reads the rest.
    let located = Doc {
        path,
        source,
        root: None,
    };
    let parsed = match tree::parse(source) {
        Ok(parsed) => Some(parsed),
        Err(Refused::Syntax) => None,
        Err(refused) => return Err(SpecErrors(vec![located.refused(refused)])),
    };
    if let Some(parsed) = &parsed {
        if alias_bomb(parsed) {
            let kind = SpecErrorKind::AliasBomb {
                counts: Some((parsed.nodes, parsed.expanded)),
                largest_alias: parsed.largest_alias.map(|(_, size)| size),
            };
            // Shown at the alias that stands for the most.
            let error = match parsed.largest_alias {
                Some((pos, _)) => located.at(pos, kind),
                None => SpecError::file(path, kind),
            };
            return Err(SpecErrors(vec![error]));
        }
        if let Some(second) = parsed.second_document {
            return Err(SpecErrors(vec![
                located.at(second, SpecErrorKind::SecondDocument { here: true }),
            ]));
        }
    }
    let doc = Doc {
        path,
        source,
        root: parsed.map(|parsed| parsed.root),
    };
    let value: serde_yaml::Value = match serde_yaml::from_str(source) {
        Ok(value) => value,
        Err(e) => return Err(SpecErrors(vec![doc.yaml_error(&e)])),
    };
    let serde_yaml::Value::Mapping(mapping) = &value else {
        return Err(SpecErrors(vec![doc.not_a_mapping(&value)]));
    };

    // Stage 3: the structure.
    let (spec, mut errors) = match serde_yaml::from_str::<Spec>(source) {
        Ok(spec) => (Some(spec), Vec::new()),
        Err(first) => {
            let found = match &doc.root {
                Some(root) => recover::all_errors::<Spec>(source, root, first),
                None => vec![first],
            };
            (None, found.iter().map(|e| doc.yaml_error(e)).collect())
        }
    };

    // Stage 4: the meaning, of whatever parts could be read.
    let errors = match spec {
        Some(spec) => {
            errors.extend(meaning(&doc, &Parts::of(&spec), spec.mock.as_ref()));
            if errors.is_empty() {
                return Ok(LoadedSpec {
                    path: path.to_owned(),
                    spec,
                });
            }
            errors
        }
        None => {
            let parts = PartsOwned::read(mapping);
            errors.extend(meaning(&doc, &parts.borrow(), parts.mock.as_ref()));
            errors
        }
    };
    Err(SpecErrors(finish(errors)))
}

/// Stage 4: what serde cannot check ([`check`]), and names and values
/// beyond the limits ([`bounds`]).
fn meaning(doc: &Doc<'_>, parts: &Parts<'_>, mock: Option<&MockSeed>) -> Vec<SpecError> {
    let mut errors = check::check(doc, parts);
    errors.extend(bounds::check(doc, parts, mock));
    errors
}

/// Sorts errors into file order, drops repeats, caps their number.
fn finish(mut errors: Vec<SpecError>) -> Vec<SpecError> {
    errors.sort_by_key(|e| (e.line, e.column));
    let mut seen = std::collections::HashSet::new();
    errors.retain(|e| seen.insert((e.line, e.column, e.message())));
    if errors.len() > MAX_ERRORS {
        let file = errors[0].file.clone();
        errors.truncate(MAX_ERRORS);
        errors.push(SpecError::file(
            file,
            SpecErrorKind::TooManyErrors { max: MAX_ERRORS },
        ));
    }
    errors
}

fn too_large(len: u64) -> ReadError {
    ReadError::TooLarge {
        len,
        max: MAX_SPEC_BYTES,
        kind: "spec".to_owned(),
    }
}

/// Loads every `*.yaml` and `*.yml` entry of `dir`, in file-name order.
///
/// Returns the specs that loaded, and the errors of those that did not:
/// an entry that is not a regular file (a folder, a link that leads
/// nowhere, a FIFO) is an error, not skipped, and so is a folder without a
/// spec, and a provider defined by two files (`x.yaml` and `x.yml`).
pub fn load_dir(dir: &Path) -> (Vec<LoadedSpec>, Vec<SpecError>) {
    match spec_files(dir) {
        Ok(files) if files.is_empty() => (
            Vec::new(),
            vec![SpecError::file(
                dir,
                SpecErrorKind::NoSpecFiles {
                    dir: dir.to_owned(),
                },
            )],
        ),
        Ok(files) => load_files(&files),
        Err(e) => (
            Vec::new(),
            vec![SpecError::file(dir, SpecErrorKind::CannotList(e.into()))],
        ),
    }
}

/// Loads each of `files`, and refuses a provider that one of them defines
/// again: the later file gets the error, located at its provider id and
/// naming the file that defined it first.
///
/// Returns the specs that loaded, and the errors of those that did not.
pub fn load_files(files: &[PathBuf]) -> (Vec<LoadedSpec>, Vec<SpecError>) {
    let mut specs: Vec<LoadedSpec> = Vec::new();
    let mut errors = Vec::new();
    for loaded in load_each(files) {
        match loaded {
            Ok(spec) => {
                // Ids that differ only in case name one snapshot folder on a
                // case-insensitive file system.
                let id = &spec.spec.provider.id;
                match specs
                    .iter()
                    .find(|s| s.spec.provider.id.eq_ignore_ascii_case(id))
                {
                    Some(first) => errors.push(defined_again(&spec.path, id, first)),
                    None => specs.push(spec),
                }
            }
            Err(SpecErrors(mut more)) => errors.append(&mut more),
        }
    }
    (specs, errors)
}

/// [`load_file`] of each of `files`, in their order, on up to as many
/// threads as the machine runs at once: the files are independent, and
/// every process that runs cases (a specs binary, once per trial under
/// nextest) starts by loading them all.
fn load_each(files: &[PathBuf]) -> Vec<Result<LoadedSpec, SpecErrors>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len());
    if threads <= 1 {
        return files.iter().map(|file| load_file(file)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut loaded: Vec<(usize, Result<LoadedSpec, SpecErrors>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(index) else {
                            break mine;
                        };
                        mine.push((index, load_file(file)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    loaded.sort_by_key(|(index, _)| *index);
    loaded.into_iter().map(|(_, result)| result).collect()
}

/// A provider `id` defined by `first` and again by `again`.
fn defined_again(again: &Path, id: &str, first: &LoadedSpec) -> SpecError {
    let kind = SpecErrorKind::DuplicateProvider {
        id: id.to_owned(),
        first_id: first.spec.provider.id.clone(),
        first_file: first.path.clone(),
    };
    // The file loaded a moment ago; point at its id.
    let source = read_spec(again)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let located = source.as_deref().and_then(|source| {
        let root = tree::parse(source).ok()?.root;
        let (line, column) = root
            .get(&[Seg::Key("provider"), Seg::Key("id")])?
            .start
            .line_col();
        Some(SpecError::at(again, source, line, column, kind.clone()))
    });
    located.unwrap_or_else(|| SpecError::file(again, kind))
}

/// The entries of `dir` named `*.yaml` or `*.yml`, sorted, whatever they
/// are: [`load_file`] refuses those that are not regular files.
///
/// # Errors
///
/// When the folder cannot be read.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The parts of a spec that deserialize on their own, when the whole does
/// not: their meaning is still checked.
struct PartsOwned {
    provider: Option<Provider>,
    mock: Option<MockSeed>,
    vars: Option<BTreeMap<String, Var>>,
    live: Option<Live>,
    cases: Vec<(usize, Case)>,
    names: Vec<(usize, String)>,
    live_only: bool,
}

impl PartsOwned {
    fn read(mapping: &serde_yaml::Mapping) -> Self {
        fn part<T: serde::de::DeserializeOwned>(
            mapping: &serde_yaml::Mapping,
            key: &str,
        ) -> Option<T> {
            serde_yaml::from_value(mapping.get(key)?.clone()).ok()
        }
        let items = match mapping.get("cases") {
            Some(serde_yaml::Value::Sequence(items)) => items.as_slice(),
            _ => &[],
        };
        let cases = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| {
                serde_yaml::from_value(item.clone())
                    .ok()
                    .map(|case| (index, case))
            })
            .collect();
        let names = items
            .iter()
            .enumerate()
            .filter_map(|(index, item)| Some((index, item.get("name")?.as_str()?.to_owned())))
            .collect();
        Self {
            provider: part(mapping, "provider"),
            mock: part(mapping, "mock"),
            vars: match mapping.get("vars") {
                None => Some(BTreeMap::new()),
                Some(_) => part(mapping, "vars"),
            },
            live: part(mapping, "live"),
            cases,
            names,
            live_only: mapping.get("mock").is_none_or(serde_yaml::Value::is_null),
        }
    }

    fn borrow(&self) -> Parts<'_> {
        Parts {
            provider: self.provider.as_ref(),
            vars: self.vars.as_ref(),
            live: self.live.as_ref(),
            cases: self
                .cases
                .iter()
                .map(|(index, case)| (*index, case))
                .collect(),
            names: self
                .names
                .iter()
                .map(|(index, name)| (*index, name.as_str()))
                .collect(),
            live_only: self.live_only,
        }
    }
}

/// The file being loaded: what error messages need to point into it.
pub(crate) struct Doc<'a> {
    path: &'a Path,
    source: &'a str,
    root: Option<Node>,
}

impl Doc<'_> {
    /// An error at `pos`.
    fn at(&self, pos: Pos, kind: impl Into<SpecErrorKind>) -> SpecError {
        let (line, column) = pos.line_col();
        SpecError::at(self.path, self.source, line, column, kind)
    }

    /// An error at `node`, or about the whole file when there is no node.
    fn at_node(&self, node: Option<&Node>, kind: impl Into<SpecErrorKind>) -> SpecError {
        match node {
            Some(node) => self.at(node.start, kind),
            None => SpecError::file(self.path, kind),
        }
    }

    /// The node at `path`, when the tree has it.
    fn node(&self, path: &[Seg<'_>]) -> Option<&Node> {
        self.root.as_ref()?.get(path)
    }

    /// The node at `path` or its closest ancestor.
    fn closest(&self, path: &[Seg<'_>]) -> Option<&Node> {
        Some(self.root.as_ref()?.closest(path))
    }

    /// The key node of the entry `key` of the mapping at `path`.
    fn key(&self, path: &[Seg<'_>], key: &str) -> Option<&Node> {
        self.node(path)?.entry(key).map(|entry| &entry.key)
    }

    /// The source text of `node`.
    fn text(&self, node: &Node) -> &str {
        let start = char_to_byte(self.source, node.start.index);
        let end = char_to_byte(self.source, node.end.max(node.start.index));
        &self.source[start..end]
    }

    /// The file name without extension.
    fn stem(&self) -> Option<&str> {
        self.path.file_stem().and_then(|s| s.to_str())
    }

    /// Why the tree refused the document, at the event where it stopped.
    fn refused(&self, refused: Refused) -> SpecError {
        let too_deep = |cause| SpecErrorKind::TooDeep {
            limit: tree::MAX_DEPTH,
            cause,
        };
        match refused {
            Refused::Syntax => SpecError::file(self.path, SpecErrorKind::Syntax { message: None }),
            Refused::TooDeep(pos) => self.at(pos, too_deep(Depth::Nesting)),
            Refused::AliasTooDeep(pos) => self.at(pos, too_deep(Depth::Alias)),
            Refused::RecursiveAlias(pos) => self.at(pos, SpecErrorKind::RecursiveAlias),
        }
    }

    fn not_a_mapping(&self, value: &serde_yaml::Value) -> SpecError {
        if value.is_null() {
            return SpecError::file(self.path, SpecErrorKind::Empty);
        }
        let found = self.root.as_ref().map_or("not a mapping", Node::describe);
        self.at_node(
            self.root.as_ref(),
            SpecErrorKind::NotAMapping {
                found: found.to_owned(),
            },
        )
    }
}

/// The byte offset of the character at `index` (the end when past it).
fn char_to_byte(source: &str, index: usize) -> usize {
    source
        .char_indices()
        .nth(index)
        .map_or(source.len(), |(byte, _)| byte)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// What the fast path accepts, the full path accepts as the same spec;
    /// and what the subset reader accepts, serde_yaml reads as the same
    /// spec. Specs compare by their `Debug` text, which is complete: every
    /// type a spec holds derives `Debug` (none hides a field).
    fn agrees(name: &str, source: &str) -> Option<Spec> {
        let path = Path::new(name);
        // Read and written out once: the benchmark spec's thousand cases
        // cost a debug build a second a reading.
        let whole = subset::from_str::<Spec>(source).map(|subset| format!("{subset:?}"));
        if let Some(subset) = &whole {
            let yaml: Spec = serde_yaml::from_str(source).unwrap_or_else(|e| {
                panic!("{name}: the subset reader read what serde_yaml refuses ({e}):\n{source}")
            });
            assert_eq!(*subset, format!("{yaml:?}"), "{name}:\n{source}");
        }
        for parts in [2, 7] {
            if let Some(in_parts) = subset_in_parts(source, parts) {
                let whole = whole.as_ref().unwrap_or_else(|| {
                    panic!("{name}: read in {parts} parts, but refused whole:\n{source}")
                });
                assert_eq!(format!("{in_parts:?}"), *whole, "{name} in {parts} parts");
            }
        }
        let fast = load_fast(path, source);
        if let Some(fast) = &fast {
            let full = load_full(path, source).unwrap_or_else(|e| {
                panic!("{name}: the fast path loaded what the full path refuses:\n{e}")
            });
            assert_eq!(format!("{fast:?}"), format!("{:?}", full.spec), "{name}");
        }
        fast
    }

    fn workspace_file(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
    }

    #[test]
    fn text_is_read_only_when_it_is_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let latin1 = dir.path().join("latin1.env");
        std::fs::write(&latin1, b"NAME=caf\xe9\n").unwrap();
        assert!(matches!(
            read_regular_text(&latin1, 1024, "`.env` file"),
            Err(ReadError::NotUtf8)
        ));
        let utf8 = dir.path().join("utf8.env");
        std::fs::write(&utf8, "NAME=café\n").unwrap();
        assert_eq!(
            read_regular_text(&utf8, 1024, "`.env` file").unwrap(),
            "NAME=café\n"
        );
    }

    /// A path swapped for a FIFO after it was looked at: opening it must not
    /// wait for a writer, and what was opened is refused.
    #[cfg(unix)]
    #[test]
    fn opening_a_fifo_does_not_block_and_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("swapped.yaml");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(open_regular_file(&fifo, "spec").map(drop));
        });
        let opened = receiver
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("opening a FIFO must not wait for a writer");
        assert!(
            matches!(
                opened,
                Err(ReadError::NotARegularFile(NotARegularFile::Other {
                    what: "a FIFO",
                    ..
                }))
            ),
            "{opened:?}"
        );
    }

    #[test]
    fn fast_path_agrees_on_shipped_specs_and_the_malformed_corpus() {
        for file in spec_files(&workspace_file("../../specs")).unwrap() {
            let source = std::fs::read_to_string(&file).unwrap();
            let name = file.file_name().unwrap().to_string_lossy();
            let fast = agrees(&name, &source);
            assert!(fast.is_some(), "{name} should load on the fast path");
            assert!(
                subset::from_str::<Spec>(&source).is_some(),
                "{name} should be read by the subset reader"
            );
            assert!(
                subset_in_parts(&source, 2).is_some(),
                "{name} should be read in parts"
            );
        }
        // The other crates' spec fixtures: those that load are read by the
        // subset reader too, as the full path reads them.
        for dir in [
            "../runner/tests/refresh-behaviours",
            "../../xtask/tests/verdicts/specs",
        ] {
            for file in spec_files(&workspace_file(dir)).unwrap() {
                let source = std::fs::read_to_string(&file).unwrap();
                let name = file.file_name().unwrap().to_string_lossy();
                agrees(&name, &source);
                if load_full(Path::new(name.as_ref()), &source).is_ok() {
                    assert!(
                        subset::from_str::<Spec>(&source).is_some(),
                        "{name} should be read by the subset reader"
                    );
                }
            }
        }
        for file in std::fs::read_dir(workspace_file("tests/malformed")).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|ext| ext == "yaml") {
                let bytes = std::fs::read(&file).unwrap();
                if let Ok(source) = std::str::from_utf8(&bytes) {
                    let name = file.file_name().unwrap().to_string_lossy();
                    assert!(agrees(&name, source).is_none(), "{name} loaded");
                }
            }
        }
    }

    const BASE: &str = "provider:\n  id: t\n  name: T\n  token_endpoint: { path: /token }\n\
        vars:\n  id: abc\ncases:\n";

    fn case(body: &str) -> String {
        format!("{BASE}  - name: c\n    grant: client_credentials\n{body}")
    }

    #[test]
    fn keys_the_plain_value_would_refuse_take_the_full_path() {
        let refused = [
            case("    with: { client_id: a, client_id: b }\n"),
            case("    expect: { body: { a: 1, a: 2 } }\n"),
            case("    expect: { body: { 1: x, 0x1: y } }\n"),
            case("    expect: { body: { a: { eq: { k: 1, k: 2 } } } }\n"),
            case("    expect: { body: { a: [ { k: 1, k: 2 } ] } }\n"),
            case("    expect: { body: { a: { one_of: [ { k: 1, \"k\": 2 } ] } } }\n"),
            case("    expect: { headers: { x: a, \"x\": b } }\n"),
            case("    expect: { status: 200, status: 201 }\n"),
            case("    with: { scope: [a], scope: b }\n"),
            format!(
                "{BASE}  - name: c\n    grant: client_credentials\n  - name: c\n    grant: client_credentials\n"
            ),
            BASE.replace("  id: abc\n", "  id: abc\n  id: def\n")
                + "  - { name: c, grant: client_credentials }\n",
            case(&format!(
                "    expect: {{ body: {{ {}, k3: again }} }}\n",
                (0..40)
                    .map(|i| format!("k{i}: {i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ];
        for source in refused {
            assert!(
                load_fast(Path::new("t.yaml"), &source).is_none(),
                "{source}"
            );
            assert!(load_full(Path::new("t.yaml"), &source).is_err(), "{source}");
        }
    }

    #[test]
    fn doubtful_keys_tags_and_aliases_agree() {
        let sources = [
            // Keys that might be numbers, booleans or null: the full path decides.
            case("    expect: { body: { 1: x, 01: y } }\n"),
            case("    expect: { body: { \"1\": x, 1: y } }\n"),
            case("    expect: { body: { true: x, \"true\": y } }\n"),
            case("    expect: { body: { ~: x, null: y } }\n"),
            // Tags.
            case("    with: { client_id: !!str abc }\n"),
            case("    with: { client_id: !custom abc }\n"),
            case("    expect: { body: { a: !!int \"1\" } }\n"),
            // Aliases, and text that only looks like them.
            case(
                "    with: &w { client_id: a }\n  - name: d\n    grant: client_credentials\n    with: *w\n",
            ),
            case("    expect: { body: { a: { regex: \"^.*!$\" } } }\n"),
            case("    with: { <<: { client_id: a } }\n"),
            // Clean ones.
            case(
                "    with: { client_id: \"${id}\", scope: [a, b] }\n    expect: { status: 200, body: { a: { min: 1 }, /b/0: [1, {k: v}] } }\n",
            ),
        ];
        for source in sources {
            agrees("t.yaml", &source);
        }
        assert!(
            agrees(
                "t.yaml",
                &case("    expect: { body: { a: { regex: \"^.*!$\" } } }\n")
            )
            .is_some()
        );
        assert!(agrees("t.yaml", &case("    with: &w { client_id: a }\n  - name: d\n    grant: client_credentials\n    with: *w\n")).is_some());
        assert!(agrees("t.yaml", &case("    with: { client_id: !!str abc }\n")).is_none());
    }

    /// Scalars of every kind, written where the spec wants a string, a
    /// number, a boolean, an enum, a matcher, a variable, or a key: the
    /// subset reader reads each as serde_yaml does, or leaves it to it.
    #[test]
    fn every_kind_of_scalar_reads_alike_in_every_position() {
        let scalars = [
            "abc",
            "yes",
            "on",
            "~",
            "null",
            "Null",
            "true",
            "False",
            "0x1F",
            "0o7",
            "1_000",
            "+1",
            "-0",
            "-1",
            "007",
            "123",
            "1e3",
            "1.5",
            ".inf",
            "-.inf",
            ".NaN",
            "'123'",
            "\"true\"",
            "''",
            "\"\"",
            "café",
            "\"日本\"",
            "\"a # b\"",
            "'#x'",
            "x # comment",
            "a:b",
            "http://example.com/p?q=1#f",
            "\"a: b\"",
            "'[k]'",
            "\"\\u00e9\\n\"",
            "",
            "[a, b]",
            "{a: b}",
            "[]",
            "{}",
            "bearer",
            "client_credentials",
            "mock-only",
            "json",
            "rotate",
            "200",
        ];
        let mock = |line: &str| {
            BASE.replace("vars:\n", &format!("mock:\n  {line}\nvars:\n"))
                + "  - { name: c, grant: client_credentials }\n"
        };
        let templates = [
            case("    with: { client_id: @ }\n"),
            case("    with:\n      client_id: @\n"),
            case("    with: { scope: [@, x] }\n"),
            case("    with:\n      scope:\n        - @\n"),
            case("    description: @\n"),
            case("    ignore: @\n"),
            case("    snapshot: @\n"),
            case("    tags: [@]\n"),
            case("    request: { body: @, omit: [@] }\n"),
            case("    expect: { status: @ }\n"),
            case("    expect: { status: { one_of: [@] } }\n"),
            case("    expect: { body: { k: @ } }\n"),
            case("    expect:\n      body:\n        k: @\n"),
            case("    expect: { body: { k: [@, 1] } }\n"),
            case("    expect: { body: { k: { eq: @ } } }\n"),
            case("    expect: { body: { k: { one_of: [@] } } }\n"),
            case("    expect: { body: { k: { min: @ } } }\n"),
            case("    expect: { body: { k: { min_len: @ } } }\n"),
            case("    expect: { body: { k: { present: @ } } }\n"),
            case("    expect: { body: { k: { type: @ } } }\n"),
            case("    expect: { body: { @: 1 } }\n"),
            case("    expect:\n      headers:\n        @: x\n"),
            BASE.replace("  id: abc\n", "  id: @\n")
                + "  - { name: c, grant: client_credentials }\n",
            BASE.replace("  name: T\n", "  name: @\n  docs: @\n")
                + "  - { name: c, grant: client_credentials }\n",
            mock("extra_members: { m: @ }"),
            mock("token_lifetime: @"),
            mock("refresh: @"),
            mock("success_status: @"),
            mock("error_codes:\n    invalid_grant: @"),
        ];
        let (mut tried, mut read) = (0, 0);
        for template in &templates {
            for scalar in scalars {
                let source = template.replace('@', scalar);
                tried += 1;
                read += usize::from(subset::from_str::<Spec>(&source).is_some());
                agrees("t.yaml", &source);
            }
        }
        // Not a test that passes because everything is refused.
        assert!(read * 3 > tried, "{read} of {tried}");
        for clean in [
            case("    with: { client_id: \"true\" }\n"),
            case("    with: { client_id: abc, scope: [a, 'b'] }\n"),
            case("    expect: { status: 200, body: { a: 1.5, b: ~, c: [x, \"y\"] } }\n"),
            case("    expect: { body: { k: { min: 1e3 } } }\n"),
        ] {
            assert!(subset::from_str::<Spec>(&clean).is_some(), "{clean}");
        }
    }

    /// The spec `cargo xtask bench` loads (xtask's `generate_spec`).
    fn bench_spec(cases: usize) -> String {
        let mut out = String::from(
            "# yaml-language-server: $schema=../schema/spec.schema.json\n\
             provider:\n  id: bench\n  name: Benchmark provider\n  token_endpoint: { path: /oauth/token }\n\
             live:\n  base_url: \"${env:BENCH_BASE_URL}\"\n\
             mock:\n  cache_headers: true\n  clients:\n    - { id: bench-client, secret: bench-secret-0123456789, grants: [client_credentials] }\n\
             vars:\n  client_id: bench-client\n  client_secret: { mock: bench-secret-0123456789, live: \"${secret:BENCH_SECRET}\" }\ncases:\n",
        );
        for index in 0..cases {
            out.push_str(&format!(
                "  - name: token_{index:05}\n    snapshot: false\n    grant: client_credentials\n    \
                 with: {{ client_id: \"${{client_id}}\", client_secret: \"${{client_secret}}\" }}\n    \
                 expect: {{ status: 200, body: {{ token_type: Bearer, access_token: {{ type: string, min_len: 16 }}, expires_in: {{ min: 1 }} }} }}\n"
            ));
        }
        out
    }

    /// The benchmark's spec, as large as the tests below need: a thousand
    /// of its cases hold more brackets than [`PRESCAN_ABOVE_OPENERS`], as
    /// its 10,000 do, and cost a debug build a tenth of the time.
    fn benchmark_spec() -> String {
        let source = bench_spec(1_000);
        assert!(source.matches(['[', '{']).count() > PRESCAN_ABOVE_OPENERS);
        source
    }

    /// The benchmark's spec takes the subset reader, whole and in parts.
    #[test]
    fn the_benchmark_spec_takes_the_subset() {
        let source = benchmark_spec();
        let spec = agrees("bench.yaml", &source).unwrap();
        assert_eq!(spec.cases.len(), 1_000);
        assert!(subset::from_str::<Spec>(&source).is_some());
        assert_eq!(subset_in_parts(&source, 4).unwrap().cases.len(), 1_000);
    }

    /// A level too deep or a key written twice in the benchmark's spec is
    /// still the full path's error, at its line (`load_str` tries the fast
    /// path first, so an error means it refused). Apart from the test
    /// above, so that the two share a debug build's cores.
    #[test]
    fn the_benchmark_spec_keeps_its_errors() {
        let path = Path::new("bench.yaml");
        let source = benchmark_spec();

        let lines = source.lines().count();
        let depth = tree::MAX_DEPTH + 1;
        let deep = format!(
            "{source}    request: {{ add: {{ x: {}{} }} }}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let errors = load_str(path, &deep).unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors}");
        assert!(
            matches!(errors.0[0].kind, SpecErrorKind::TooDeep { .. }),
            "{errors}"
        );
        assert_eq!(errors.0[0].line, lines + 1, "{errors}");

        let twice = source.replacen(
            "    snapshot: false\n",
            "    snapshot: false\n    snapshot: true\n",
            1,
        );
        let errors = load_str(path, &twice).unwrap_err();
        assert_eq!(errors.0.len(), 1, "{errors}");
        assert!(
            matches!(&errors.0[0].kind, SpecErrorKind::DuplicateKey { .. }),
            "{errors}"
        );
        // serde_yaml places it at the mapping that holds the key twice.
        let line = twice
            .lines()
            .position(|l| l == "  - name: token_00000")
            .unwrap()
            + 1;
        assert_eq!(errors.0[0].line, line, "{errors}");

        // A large spec read in parts keeps an error of its meaning and one
        // of its bounds, in file order.
        assert!(source.len() >= 2 * MIN_PART_BYTES);
        let both = source.replacen("status: 200", "status: 1000", 1).replacen(
            "name: token_00999",
            "name: token_00998",
            1,
        );
        let errors = load_str(path, &both).unwrap_err();
        let kinds: Vec<&SpecErrorKind> = errors.0.iter().map(|e| &e.kind).collect();
        assert!(
            matches!(
                kinds[..],
                [
                    SpecErrorKind::NotAStatus { .. },
                    SpecErrorKind::DuplicateCaseName { .. }
                ]
            ),
            "{errors}"
        );
        assert!(errors.0[0].line < errors.0[1].line, "{errors}");
    }
}
