//! Snapshots: one insta `.snap` file per case and target, the mock's under
//! `snapshots/<provider>/`, the live provider's under
//! `snapshots/<provider>/live/`. The mock and a live provider legitimately
//! answer differently (their tokens' lifetimes, headers, error texts), so
//! each target is compared with its own snapshot only, and a run never
//! reads or writes the other target's.
//!
//! insta stores them (and, outside CI, writes new and changed ones as pending
//! `.snap.new` files for review); the comparison and the diff shown on
//! failure are ours, so they are redacted like everything else.

use std::path::{Path, PathBuf};

use grantspec_spec::limits::{LIVE_SNAPSHOTS, snapshot_stem};
use grantspec_spec::template::TargetKind;

use crate::CaseRun;
use crate::render::{snapshot_text, unified_diff};

/// How a case's snapshot compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotCheck {
    /// Identical to the stored snapshot.
    Matched,
    /// No snapshot was stored yet.
    New {
        /// The pending file written for review, if one was (never in CI).
        pending: Option<PathBuf>,
        /// On a live run, the mock's snapshot of the case, when there is
        /// one: before snapshots were kept per target, a live run compared
        /// with that file, so a live recording may sit there.
        mock_snapshot: Option<PathBuf>,
    },
    /// The stored snapshot differs.
    Changed {
        /// Unified diff of stored against actual.
        diff: String,
        /// The pending file written for review, if one was (never in CI).
        pending: Option<PathBuf>,
    },
}

impl SnapshotCheck {
    /// A message for a case whose snapshot did not match, or `None`.
    pub fn failure(&self, case_name: &str) -> Option<String> {
        let pending_note = |pending: &Option<PathBuf>| {
            match pending {
            Some(path) => format!(
                "pending snapshot written to {}; review it with `cargo xtask review` and accept it with `cargo xtask accept`",
                path.display()
            ),
            None => "no pending snapshot was written (CI is set, INSTA_UPDATE=no, or the run only reads snapshots)".to_owned(),
        }
        };
        match self {
            Self::Matched => None,
            Self::New {
                pending,
                mock_snapshot,
            } => Some(format!(
                "case {case_name} has no stored snapshot; {}{}",
                pending_note(pending),
                mock_snapshot.as_ref().map_or_else(String::new, |file| format!(
                    "\n(each target keeps its own snapshot, the live one under `{LIVE_SNAPSHOTS}/`; {} is the mock's: if it was recorded live, move it there with `git mv`)",
                    file.display()
                ))
            )),
            Self::Changed { diff, pending } => Some(format!(
                "case {case_name}: the response differs from its snapshot (redacted):\n{diff}\n{}",
                pending_note(pending)
            )),
        }
    }
}

/// The file a case's snapshot on `target` lives in:
/// `<provider>/<stem>.snap` for the mock, `<provider>/live/<stem>.snap` for
/// the live provider ([`LIVE_SNAPSHOTS`]). Its stem is
/// [`grantspec_spec::limits::snapshot_stem`], the mapping the loader checks
/// case names against, so two cases of a loaded spec never share one.
pub fn snapshot_file(
    snapshots_dir: &Path,
    target: TargetKind,
    provider: &str,
    case: &str,
) -> PathBuf {
    let folder = snapshots_dir.join(provider);
    let folder = match target {
        TargetKind::Mock => folder,
        TargetKind::Live => folder.join(LIVE_SNAPSHOTS),
    };
    folder.join(format!("{}.snap", snapshot_stem(case)))
}

/// Compares a case's redacted snapshot with the one stored for `target` and,
/// when it differs and `write_pending` allows, lets insta record a pending
/// snapshot (which insta itself never does in CI). `name` is
/// `<provider>::<case>`.
#[allow(clippy::too_many_arguments)]
pub fn check_snapshot(
    snapshots_dir: &Path,
    target: TargetKind,
    spec_path: &Path,
    name: &str,
    provider: &str,
    case: &str,
    run: &CaseRun,
    write_pending: bool,
) -> SnapshotCheck {
    let actual = snapshot_text(run);
    let file = snapshot_file(snapshots_dir, target, provider, case);
    let stored = match read_snapshot(&file) {
        Ok(stored) => stored.map(|text| snapshot_body(&text)),
        // Neither compared nor handed to insta, which would read it too.
        Err(problem) => {
            return SnapshotCheck::Changed {
                diff: format!(
                    "the stored snapshot {} cannot be used: {problem}",
                    file.display()
                ),
                pending: None,
            };
        }
    };
    if stored.as_deref().map(str::trim_end) == Some(actual.trim_end()) {
        return SnapshotCheck::Matched;
    }

    let pending = file.with_extension("snap.new");
    let _ = std::fs::remove_file(&pending);
    if write_pending {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(file.parent().unwrap_or(snapshots_dir));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_input_file(spec_path);
        settings.set_description(name.to_owned());
        let snapshot_name = snapshot_stem(case);
        settings.bind(|| insta::assert_snapshot!(snapshot_name.as_str(), actual));
    }
    let pending = pending.exists().then_some(pending);

    match stored {
        None => SnapshotCheck::New {
            pending,
            mock_snapshot: Some(snapshot_file(
                snapshots_dir,
                TargetKind::Mock,
                provider,
                case,
            ))
            .filter(|mock| target == TargetKind::Live && mock.is_file()),
        },
        Some(stored) => SnapshotCheck::Changed {
            diff: unified_diff(&stored, &actual, "snapshot", "actual"),
            pending,
        },
    }
}

/// Largest stored snapshot read, in bytes.
const MAX_SNAPSHOT_BYTES: u64 = 16 * 1024 * 1024;

/// The snapshot stored at `file` (a `.snap` or a pending `.snap.new`), `None`
/// when there is none; only a regular file is read (a FIFO would wait for a
/// writer, `/dev/zero` never ends), capped.
pub fn read_snapshot(file: &Path) -> Result<Option<String>, grantspec_spec::ReadError> {
    if std::fs::symlink_metadata(file).is_err() {
        return Ok(None);
    }
    grantspec_spec::read_regular_text(file, MAX_SNAPSHOT_BYTES, "snapshot").map(Some)
}

/// The content of a `.snap` file, without insta's metadata header.
pub fn snapshot_body(text: &str) -> String {
    let body = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(text, |(_, body)| body);
    body.to_owned()
}
