//! `run.json`: what was run, how it ended, and how long and how big it was.

use serde::{Deserialize, Serialize};

use super::Versioned;

/// `run.json` (`tare.run.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub schema: String,
    pub run_id: String,
    /// argv as given (no environment is ever recorded).
    pub command: Vec<String>,
    pub exit: ExitInfo,
    /// Wall-clock of the whole `tare capture`, monotonic, in nanoseconds.
    pub total_ns: u64,
    /// Wall-clock of the child alone (spawn to reap), in nanoseconds.
    pub child_ns: u64,
    /// Start time, Unix milliseconds (informational; omitted for deterministic tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    pub workload_peak_rss: PeakRss,
    /// tare's own peak RSS (VmHWM) in bytes.
    pub tare_peak_rss_bytes: u64,
    pub host_class: String,
    pub tare_version: String,
}

/// How the child ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Killed by tare after `--timeout`.
    #[serde(default)]
    pub timed_out: bool,
    /// Stopped by Ctrl-C (SIGINT/SIGTERM to tare).
    #[serde(default)]
    pub interrupted: bool,
}

impl ExitInfo {
    /// The exit status a shell would report: the code, or 128 + signal.
    pub fn shell_status(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

/// Peak resident memory of the workload and how it was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeakRss {
    pub bytes: u64,
    pub method: RssMethod,
}

/// Where a peak RSS figure came from, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RssMethod {
    /// cgroup v2 `memory.peak` of the session cgroup (whole process tree).
    CgroupV2Peak,
    /// cgroup v1 `memory.max_usage_in_bytes` (whole process tree, includes page cache).
    CgroupV1MaxUsage,
    /// `wait4` rusage `ru_maxrss` of the direct child (largest single process).
    Wait4Rusage,
}

impl Versioned for Run {
    const SCHEMA: &'static str = "tare.run.v1";
}
