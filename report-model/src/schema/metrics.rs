//! `metrics.ndjson`: the workload's resource timeline, one sample a line (`tare.metrics.v1`).

use serde::{Deserialize, Serialize};

/// Schema string of every line of `metrics.ndjson` (versioned through the manifest).
pub const METRICS_SCHEMA: &str = "tare.metrics.v1";

/// One sample of the session cgroup while the child ran, taken every `--sample-interval`.
///
/// Counts are summed over the processes listed in the session cgroup (and the cgroups
/// below it) at the moment of the sample; a process that starts and ends between two
/// samples is seen only through the cgroup's cumulative CPU time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsSample {
    /// Time of the sample since the start of the capture: the clock of `phases.json`.
    pub t_ns: u64,
    /// Processes in the session cgroup.
    pub pids: u32,
    /// Threads of those processes (`Threads:` of /proc/<pid>/status).
    pub threads: u64,
    /// Open file descriptors of those processes (entries of /proc/<pid>/fd).
    pub fds: u64,
    /// Sum of the processes' resident set sizes (`VmRSS:`), bytes. Shared pages count
    /// once per process that maps them.
    pub rss_bytes: u64,
    /// Memory charged to the session cgroup, bytes (see `memory_source`; the cgroup
    /// figures include the page cache the workload caused).
    pub memory_bytes: u64,
    pub memory_source: MemorySource,
    /// CPU time used by the workload so far, microseconds (see `cpu_source`).
    pub cpu_usec: u64,
    pub cpu_source: CpuSource,
    /// CPU use since the previous sample (or since the child started, for the first),
    /// in percent of one CPU: 200 is two CPUs busy. Absent when the interval was too
    /// short to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_percent: Option<f64>,
}

impl MetricsSample {
    /// The manifest's schema string for `metrics.ndjson`.
    pub const SCHEMA: &'static str = METRICS_SCHEMA;
}

/// Where `memory_bytes` was read, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemorySource {
    /// cgroup v2 `memory.current` of the session cgroup.
    CgroupV2MemoryCurrent,
    /// cgroup v1 `memory.usage_in_bytes` of the parallel v1 memory cgroup.
    CgroupV1UsageInBytes,
    /// No memory controller: the sum of `VmRSS` (equal to `rss_bytes`).
    ProcRssSum,
}

/// Where `cpu_usec` was read, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CpuSource {
    /// cgroup v2 `cpu.stat` `usage_usec` (every process that ever ran in the cgroup).
    CgroupV2CpuStat,
    /// cgroup v1 `cpuacct.usage` (nanoseconds, converted).
    CgroupV1CpuacctUsage,
    /// No CPU accounting file: `utime + stime + cutime + cstime` of /proc/<pid>/stat
    /// summed over the live processes (a process that exited unreaped is lost).
    ProcStatSum,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{parse_ndjson, to_ndjson};

    #[test]
    fn round_trips_and_omits_unknown_cpu_percent() {
        let s = MetricsSample {
            t_ns: 250_000_000,
            pids: 2,
            threads: 3,
            fds: 7,
            rss_bytes: 4 << 20,
            memory_bytes: 5 << 20,
            memory_source: MemorySource::CgroupV1UsageInBytes,
            cpu_usec: 1200,
            cpu_source: CpuSource::CgroupV2CpuStat,
            cpu_percent: None,
        };
        let text = to_ndjson("metrics.ndjson", std::slice::from_ref(&s)).unwrap();
        assert!(!text.contains("cpu_percent"));
        assert!(text.contains("\"memory_source\":\"cgroup_v1_usage_in_bytes\""));
        let back: Vec<MetricsSample> = parse_ndjson("metrics.ndjson", &text).unwrap();
        assert_eq!(back, vec![s]);
    }
}
