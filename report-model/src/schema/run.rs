//! `run.json`: what was run, how it ended, and how long and how big it was.

use serde::{Deserialize, Serialize};

use super::usage::{CpuTime, CpuUsage, MemoryPeak, PeakRss};
use super::Versioned;

/// `run.json` (`tare.run.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub schema: String,
    pub run_id: String,
    /// argv as given (no environment is ever recorded).
    pub command: Vec<String>,
    pub exit: ExitInfo,
    /// Wall-clock of `tare capture` from its start to the writing of run.json, monotonic, in
    /// nanoseconds (the summary line prints the whole, to its last step).
    pub total_ns: u64,
    /// Wall-clock of the child alone (spawn to reap), in nanoseconds.
    pub child_ns: u64,
    /// Start time, Unix milliseconds (informational; omitted for deterministic tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_unix_ms: Option<u64>,
    /// The workload's peak RSS as GNU time reports it (the largest process's).
    pub workload_peak_rss: PeakRss,
    /// The session cgroup's charged-memory peak (not RSS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_memory_peak: Option<MemoryPeak>,
    /// The workload's CPU, context switches and page faults (`wait4` rusage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_cpu: Option<CpuUsage>,
    /// tare's own peak RSS (VmHWM) in bytes, read after the kernel events were written into
    /// the archive (only the small members that hold this figure come after it).
    pub tare_peak_rss_bytes: u64,
    /// tare's own CPU up to the same point (`getrusage(RUSAGE_SELF)`, every thread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_cpu: Option<CpuTime>,
    /// Kernel memory of tare's eBPF maps (ring buffer included), from their fdinfo `memlock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_kernel_bytes: Option<u64>,
    pub host_class: String,
    pub tare_version: String,
    /// Caveats of this run's own figures (memory, CPU), not of the kernel layer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What redaction replaced before anything was written (absent in archives before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<Redaction>,
    /// One instant on both clocks, read as the capture started: kernel events are on the
    /// monotonic clock, OTLP spans on the Unix one (absent in archives before it; see
    /// `analysis::clock`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockPair>,
    /// The session's processes still running when its command ended (daemons, and those
    /// that left the session's cgroup), which tare killed then (absent when there were none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub killed_at_end: Vec<EndedProcess>,
}

/// A process of the session that tare killed because it outlived the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedProcess {
    pub pid: u32,
    /// Its command name (`comm`), redacted as every string is.
    pub comm: String,
    /// It had left the session's cgroup (so its events after that are not recorded).
    #[serde(default)]
    pub left_cgroup: bool,
}

/// "2 processes outlived the command and were killed at its end: sleep (pid 7), x (pid 9,
/// outside the session's cgroup)"; `None` when there were none.
pub fn describe_killed_at_end(ended: &[EndedProcess]) -> Option<String> {
    if ended.is_empty() {
        return None;
    }
    let list: Vec<String> = ended
        .iter()
        .map(|p| {
            let outside = if p.left_cgroup {
                ", outside the session's cgroup"
            } else {
                ""
            };
            format!("{} (pid {}{outside})", p.comm, p.pid)
        })
        .collect();
    Some(format!(
        "{} process{} outlived the command and {} killed at its end: {}",
        ended.len(),
        if ended.len() == 1 { "" } else { "es" },
        if ended.len() == 1 { "was" } else { "were" },
        list.join(", ")
    ))
}

/// The same instant on `CLOCK_REALTIME` and `CLOCK_MONOTONIC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockPair {
    /// Unix time, nanoseconds.
    pub realtime_ns: u64,
    /// `CLOCK_MONOTONIC` (the kernel events' `ts_ns` clock), nanoseconds.
    pub monotonic_ns: u64,
    /// How far apart the two readings can be: half the time between the two realtime
    /// reads that bracket the monotonic one, nanoseconds.
    pub uncertainty_ns: u64,
    /// The capture's own clock at that instant (the clock of phases.json and of
    /// metrics.ndjson's `t_ns`), nanoseconds.
    pub capture_ns: u64,
}

/// Secret redaction of a run: whether it was on, and how many values of which kind it
/// replaced where (never the values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// False under `--no-redact`.
    pub enabled: bool,
    /// How many `--redact` patterns were added (not the patterns: they may name secrets).
    #[serde(default)]
    pub custom_patterns: u32,
    /// Replaced values by place (`run.json:command`, `kernel.ndjson:path`...) and kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<Redacted>,
}

/// One place and kind of replaced values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    pub place: String,
    pub kind: String,
    pub count: u64,
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

impl Versioned for Run {
    const SCHEMA: &'static str = "tare.run.v1";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_killed_at_the_end_are_described() {
        assert_eq!(describe_killed_at_end(&[]), None);
        let one = EndedProcess {
            pid: 7,
            comm: "sleep".into(),
            left_cgroup: false,
        };
        assert_eq!(
            describe_killed_at_end(std::slice::from_ref(&one)).unwrap(),
            "1 process outlived the command and was killed at its end: sleep (pid 7)"
        );
        let two = [
            one,
            EndedProcess {
                pid: 9,
                comm: "x".into(),
                left_cgroup: true,
            },
        ];
        assert_eq!(
            describe_killed_at_end(&two).unwrap(),
            "2 processes outlived the command and were killed at its end: sleep (pid 7), x (pid 9, outside the session's cgroup)"
        );
    }
}
