//! `cargo xtask review` and `cargo xtask accept`: pending snapshot changes.
//!
//! insta writes a new or changed snapshot next to the stored one as
//! `<case>.snap.new`; `review` shows each as a diff (and on a terminal asks
//! what to do), `accept` takes them all. This does what `cargo insta review`
//! does, for the top-level `snapshots/` folder of this virtual workspace.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use grantspec_runner::render::unified_diff;
use grantspec_runner::{read_snapshot, snapshot_body};

fn snapshots_dir(args: crate::flags::Snapshots) -> PathBuf {
    crate::workspace_folder(args.snapshots, "GRANTSPEC_SNAPSHOTS", "snapshots")
}

/// Every `.snap.new` file under `dir`, sorted. Symbolic links to folders are
/// not followed (one pointing up would never end).
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".snap.new") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn stored_path(pending: &Path) -> PathBuf {
    pending.with_extension("")
}

/// The body of the snapshot at `file`, read as the runner reads snapshots
/// (a regular file, capped, UTF-8); `None` when there is none.
fn body(file: &Path) -> anyhow::Result<Option<String>> {
    let text = read_snapshot(file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(text.map(|text| snapshot_body(&text)))
}

fn accept_one(pending: &Path) -> anyhow::Result<()> {
    // Only what could be reviewed is accepted.
    body(pending)?;
    std::fs::rename(pending, stored_path(pending))
        .map_err(|e| anyhow::anyhow!("cannot accept {}: {e}", pending.display()))
}

fn show(pending: &Path) -> anyhow::Result<()> {
    let new = body(pending)?.unwrap_or_default();
    let stored = body(&stored_path(pending))?.unwrap_or_default();
    println!("\n=== {}", stored_path(pending).display());
    if stored.is_empty() {
        println!("(new snapshot)\n{new}");
    } else {
        print!("{}", unified_diff(&stored, &new, "stored", "pending"));
    }
    Ok(())
}

pub fn accept(args: crate::flags::Snapshots) -> anyhow::Result<ExitCode> {
    let dir = snapshots_dir(args);
    let pending = pending(&dir);
    for file in &pending {
        accept_one(file)?;
        println!("accepted {}", stored_path(file).display());
    }
    println!("{} snapshot(s) accepted", pending.len());
    Ok(ExitCode::SUCCESS)
}

pub fn review(args: crate::flags::Snapshots) -> anyhow::Result<ExitCode> {
    let dir = snapshots_dir(args);
    let pending = pending(&dir);
    if pending.is_empty() {
        println!("no pending snapshots under {}", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let interactive = std::io::stdin().is_terminal();
    let mut stdin = std::io::stdin().lock();
    for file in &pending {
        show(file)?;
        if !interactive {
            continue;
        }
        print!("[a]ccept, [r]eject, [s]kip? ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        stdin.read_line(&mut answer)?;
        match answer.trim() {
            "a" => {
                accept_one(file)?;
                println!("accepted");
            }
            "r" => {
                std::fs::remove_file(file)?;
                println!("rejected");
            }
            _ => println!("skipped"),
        }
    }
    if !interactive {
        println!(
            "\n{} pending snapshot(s); accept them all with `cargo xtask accept`",
            pending.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}
