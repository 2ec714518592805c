//! `phases.json`: the duration of every capture phase, the total, and the residual.

use serde::{Deserialize, Serialize};

use super::Versioned;

/// The capture phases, in order.
pub const PHASE_NAMES: [&str; 7] = [
    "preflight",
    "cgroup_prepare",
    "monitor_attach",
    "child_spawn",
    "child_runtime",
    "event_flush",
    "archive_write",
];

/// `phases.json` (`tare.phases.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phases {
    pub schema: String,
    /// In order of start.
    pub phases: Vec<Phase>,
    /// Wall-clock from tare's start to the end of the last phase, or to the writing of this
    /// file when a phase was still running (see `not_counted`).
    pub total_ns: u64,
    /// total - sum(phases): time spent outside any phase.
    pub residual_ns: i64,
    /// What this file cannot hold: the part of a phase that came after it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_counted: Option<String>,
}

/// One timed phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    /// Start, relative to the start of the capture.
    pub start_ns: u64,
    pub duration_ns: u64,
}

impl Phases {
    /// Builds the file from phases and a total, computing the residual.
    pub fn new(phases: Vec<Phase>, total_ns: u64) -> Self {
        let sum: u64 = phases.iter().map(|p| p.duration_ns).sum();
        Phases {
            schema: Self::SCHEMA.into(),
            phases,
            total_ns,
            residual_ns: total_ns as i64 - sum as i64,
            not_counted: None,
        }
    }

    /// Duration of the named phase, if it ran.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.phases
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.duration_ns)
    }
}

impl Versioned for Phases {
    const SCHEMA: &'static str = "tare.phases.v1";
}
