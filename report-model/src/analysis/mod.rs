//! Analyses over parsed files: retention of span events and of the other span limits, summaries, deltas, comparisons, trace audits.

pub mod compare;
pub mod fidelity;
pub mod metric;
pub mod retention;
pub mod span_limits;
pub mod summary;
pub mod timeline;
pub mod trace_audit;
