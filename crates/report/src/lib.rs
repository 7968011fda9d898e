//! The grantspec provider compatibility report.
//!
//! [`Compatibility`] is the data model: per provider, the grants, body
//! encodings and client authentication methods it accepts (declared by its
//! spec and observed in a run), its `token_type` spelling, expiry style,
//! refresh rotation and error format, RFC check results by clause, declared
//! deviations and drift, documented versus observed behaviour, and how each
//! case ended. It is plain data (serde), versioned by
//! [`FORMAT_VERSION`].
//!
//! The renderers turn it into the four files of `cargo xtask report`:
//!
//! | file | function |
//! |---|---|
//! | `compatibility.json` | [`to_json`] |
//! | `compatibility.md` | [`to_markdown`] |
//! | `compatibility.html` | [`to_html`] (self-contained, sortable, filterable) |
//! | `junit.xml` | [`to_junit`] |
//!
//! This crate knows nothing of the runner; the runner fills the model
//! (`grantspec_runner::compat::build`). Every text the model holds is
//! already redacted, and the renderers show nothing beyond the model,
//! escaped for each format.

mod cells;
mod escape;
mod html;
mod junit;
mod live;
mod markdown;
mod model;

use std::path::{Path, PathBuf};

pub use live::{LiveReportError, read_live_report};
pub use model::*;

/// The report as pretty-printed JSON.
pub fn to_json(report: &Compatibility) -> String {
    // The model is plain strings, numbers and maps with string keys, which
    // always serialize.
    serde_json::to_string_pretty(report).unwrap_or_default() + "\n"
}

/// Reads a report written by [`to_json`].
pub fn from_json(text: &str) -> Result<Compatibility, serde_json::Error> {
    serde_json::from_str(text)
}

/// The report as GitHub-flavoured Markdown: a provider × capability matrix,
/// then one section per provider.
pub fn to_markdown(report: &Compatibility) -> String {
    markdown::render(report)
}

/// The report as one self-contained HTML page (inline CSS and JavaScript, no
/// external assets): the matrix, sortable by clicking a header and
/// filterable with a text box (also from the address: `#filter=TEXT`,
/// `#sort=KEY` or `#sort=-KEY`), then one section per provider with each
/// failure's diff in a `<details>`.
pub fn to_html(report: &Compatibility) -> String {
    html::render(report)
}

/// The report as JUnit XML: one `<testsuite>` per provider, one
/// `<testcase>` per case (`classname` the provider id, `name` the case),
/// failures with their message and skipped cases with their reason.
pub fn to_junit(report: &Compatibility) -> String {
    junit::render(report)
}

/// The names of the files [`write_all`] writes, in order.
pub const FILES: [&str; 4] = [
    "compatibility.json",
    "compatibility.md",
    "compatibility.html",
    "junit.xml",
];

/// Writes the four files into `dir` (created if needed) and returns their
/// paths, in the order of [`FILES`].
pub fn write_all(report: &Compatibility, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let contents = [
        to_json(report),
        to_markdown(report),
        to_html(report),
        to_junit(report),
    ];
    let mut paths = Vec::new();
    for (name, content) in FILES.iter().zip(contents) {
        let path = dir.join(name);
        std::fs::write(&path, content)?;
        paths.push(path);
    }
    Ok(paths)
}
