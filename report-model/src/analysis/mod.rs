//! Analyses over parsed files: retention of span events, summaries, deltas, comparisons, trace audits.

pub mod compare;
pub mod fidelity;
pub mod metric;
pub mod retention;
pub mod summary;
pub mod timeline;
pub mod trace_audit;
