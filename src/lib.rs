//! grantspec: a conformance harness for OAuth 2.0 token endpoints.
//!
//! This root package owns the `specs` test target (every spec case as a
//! test: `cargo test --test specs`) so that the snapshots under
//! `snapshots/` sit beside a package manifest, where insta's own tooling
//! finds them, and re-exports the public crates:
//!
//! | crate | what it is |
//! |---|---|
//! | [`token`] | the OAuth client library: requests, responses, `TokenClient` |
//! | [`spec`] | the spec format: loading, templates, matchers |
//! | [`mock`] | the provider emulator |
//! | [`conformance`] | the RFC checks |
//! | [`outcome`] | how a check or a trial came out |
//! | [`runner`] | running cases against the mock or a live provider |
//! | [`report`] | the compatibility report |

pub use grantspec_conformance as conformance;
pub use grantspec_mock as mock;
pub use grantspec_outcome as outcome;
pub use grantspec_report as report;
pub use grantspec_runner as runner;
pub use grantspec_spec as spec;
pub use grantspec_token as token;
