//! The grantspec spec format: one YAML file per provider.
//!
//! A spec says how a provider's token endpoint behaves (its
//! [`grantspec_token::ProviderProfile`]), what the embedded mock is seeded
//! with, how to reach the live provider, and the cases to run. This crate
//! reads spec files and never touches the network.
//!
//! Every problem is reported with its file, line and column, the source line,
//! and a suggestion where one fits; see [`SpecError`]: a position and a
//! [`SpecErrorKind`] naming what is wrong, from which the message and the
//! hint are rendered. [`ReadError`] says why a file could not be read, and
//! [`template::TemplateError`] why a `${…}` does not parse.

mod error;
pub mod facts;
pub mod limits;
mod load;
pub mod matcher;
mod model;
mod schema;
mod sorted_map;
mod status;
pub mod template;

pub use error::{
    CaptureProblem, Depth, IoError, Named, NotARegularFile, RateKey, ReadError, SpecError,
    SpecErrorKind, SpecErrors, did_you_mean,
};
pub use load::{
    LoadedSpec, MAX_SPEC_BYTES, load_bytes, load_dir, load_file, load_files, load_str,
    read_regular_file, read_regular_text, spec_files,
};
pub use matcher::{Matcher, Mismatch};
pub use model::*;
pub use schema::{SPEC_SCHEMA_PATH, spec_schema, spec_schema_json};
pub use sorted_map::SortedMap;
pub use status::StatusMatcher;
