//! Analyses over parsed files: retention of span events and of the other span limits, summaries, deltas, comparisons, trace audits, process trees, capture timelines and clock mappings.

pub mod capture_overview;
pub mod capture_timeline;
pub mod clock;
pub mod compare;
pub mod fidelity;
pub mod metric;
pub mod process_tree;
pub mod retention;
pub mod span_limits;
pub mod summary;
pub mod timeline;
pub mod trace_audit;
