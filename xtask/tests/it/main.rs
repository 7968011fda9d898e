//! The crate's integration tests, one test binary (one link) for all of them.

mod authorize;
mod canary_echo;
mod probe;
mod report;
mod scaffold_record;
mod verdicts;
mod xtask;
