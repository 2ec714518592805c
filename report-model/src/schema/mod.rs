//! Versioned serde types of every file tare writes, and the readers that check their versions.

pub mod bmf;
pub mod compare;
pub mod experiment;
pub mod health;
pub mod host;
pub mod kernel_event;
pub mod manifest;
pub mod metrics;
pub mod otlp;
pub mod phases;
pub mod run;
pub mod sample;
pub mod summary;
pub mod usage;
mod version;
pub use version::compatible;

pub use version::{
    parse_json, parse_ndjson, parse_ndjson_line, parse_toml, to_canonical_json, to_ndjson, to_toml,
    write_ndjson_line, Versioned,
};
