//! Analyses over parsed files: retention of span events, summaries, deltas, comparisons, trace audits, process trees and clock mappings.

pub mod capture_overview;
pub mod capture_timeline;
pub mod clock;
pub mod compare;
pub mod fidelity;
pub mod metric;
pub mod process_tree;
pub mod retention;
pub mod summary;
pub mod timeline;
pub mod trace_audit;
