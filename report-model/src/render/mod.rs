//! Renderers: summary.md (with mermaid charts), SVG charts (plotters), Bencher Metric Format,
//! Chrome trace-event JSON for Perfetto.
//!
//! All pure functions of parsed files, no I/O: `tare report` writes their output and the
//! viewer shows the same SVG. Strings from a result are data: [`escape`] makes them safe for
//! each target.

pub mod bmf;
pub mod charts;
pub mod compare_md;
pub mod escape;
pub mod format;
pub mod markdown;
pub mod mermaid;
pub mod perfetto;
pub mod span_limits;
