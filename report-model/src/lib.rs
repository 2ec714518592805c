//! report-model: the one home of every file tare writes, every statistic and every chart.
//!
//! Builds for the host and for `wasm32-unknown-unknown`. Capture writes through these types,
//! the harness summarises through them, and the viewer reads through them, so a format or a
//! statistic is defined exactly once.

pub mod analysis;
pub mod bundle;
pub mod error;
pub mod gzchunks;
pub mod redact;
pub mod render;
pub mod schema;
pub mod stats;

pub use error::ModelError;
