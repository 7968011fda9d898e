//! The crate's integration tests, one test binary (one link) for all of them.

mod canary;
mod code_secrets;
mod compat;
mod emulated;
mod faults;
mod live_oidc;
mod probe;
mod refresh;
mod retries;
mod runner;
mod targets;
