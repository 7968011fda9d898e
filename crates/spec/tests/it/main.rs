//! The crate's integration tests, one test binary (one link) for all of them.

mod docs;
mod hostile;
mod load;
mod malformed;
mod schema;
