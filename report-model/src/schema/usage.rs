//! Resource figures of a process tree and of tare itself, each with the method that measured it.

use serde::{Deserialize, Serialize};

/// How a peak resident-memory figure was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RssMethod {
    /// Each process's own resident high-water mark (taskstats `hiwater_rss`, sent by the
    /// kernel as the process exits, before its memory is released; the mm after its last
    /// exec, so not the copy of the parent made at fork). The figure is the largest
    /// process's: what GNU time's "Maximum resident set size" reports.
    TaskstatsHiwater,
    /// `wait4` rusage `ru_maxrss` of the direct child (largest single process; it includes
    /// the parent's memory copied at fork before exec, so it overstates small workloads).
    Wait4Rusage,
    /// Legacy (archives before tare 0.2): cgroup v2 `memory.peak`, charged memory, not RSS.
    CgroupV2Peak,
    /// Legacy (archives before tare 0.2): cgroup v1 `memory.max_usage_in_bytes`, charged
    /// memory, not RSS.
    CgroupV1MaxUsage,
}

/// How a charged-memory peak was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemoryMethod {
    /// cgroup v2 `memory.peak` of the session cgroup.
    CgroupV2Peak,
    /// cgroup v1 `memory.max_usage_in_bytes` of the session's memory cgroup.
    CgroupV1MaxUsage,
}

/// Peak resident memory of the workload and how it was measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeakRss {
    pub bytes: u64,
    pub method: RssMethod,
    /// The sum of every process's own peak: an upper bound on the tree's simultaneous
    /// peak, equal to `bytes` for a single process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum_bytes: Option<u64>,
    /// Processes (thread groups) in the tree that exited while it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
}

/// The memory charged to the session cgroup at its peak: page cache it brought in, but not
/// file pages that were cached before it ran. Not RSS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryPeak {
    pub bytes: u64,
    pub method: MemoryMethod,
}

/// CPU time and its companions for a process tree, from `wait4` rusage (the child and every
/// descendant it waited for: GNU time's method).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuUsage {
    pub user_ns: u64,
    pub sys_ns: u64,
    pub voluntary_ctxt_switches: u64,
    pub involuntary_ctxt_switches: u64,
    pub minor_faults: u64,
    pub major_faults: u64,
}

impl CpuUsage {
    /// User plus system time.
    pub fn total_ns(&self) -> u64 {
        self.user_ns + self.sys_ns
    }
}

/// CPU time of tare's own process (every thread).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuTime {
    pub user_ns: u64,
    pub sys_ns: u64,
}

/// Figures of one bench sample beyond wall-clock, flattened into its samples.jsonl line.
/// Every field is measured the same way in every arm; tare's own only in capture arms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleUsage {
    /// Sum of the tree's per-process peaks (see [`PeakRss::sum_bytes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_sum_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u32>,
    /// The session cgroup's charged-memory peak (not RSS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_method: Option<MemoryMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_user_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_sys_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_ctxt_switches: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involuntary_ctxt_switches: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor_faults: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_faults: Option<u64>,
    /// tare's own CPU (capture arms): the whole `tare capture` process's rusage less its
    /// workload's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_cpu_user_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_cpu_sys_ns: Option<u64>,
    /// Kernel memory of tare's eBPF maps and ring buffer (capture arms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_kernel_bytes: Option<u64>,
}

impl SampleUsage {
    /// The workload's user + system CPU, when both were measured.
    pub fn cpu_ns(&self) -> Option<u64> {
        Some(self.cpu_user_ns? + self.cpu_sys_ns?)
    }

    /// tare's own user + system CPU, when both were measured.
    pub fn tare_cpu_ns(&self) -> Option<u64> {
        Some(self.tare_cpu_user_ns? + self.tare_cpu_sys_ns?)
    }

    /// Sets the workload's CPU figures.
    pub fn set_cpu(&mut self, cpu: &CpuUsage) {
        self.cpu_user_ns = Some(cpu.user_ns);
        self.cpu_sys_ns = Some(cpu.sys_ns);
        self.voluntary_ctxt_switches = Some(cpu.voluntary_ctxt_switches);
        self.involuntary_ctxt_switches = Some(cpu.involuntary_ctxt_switches);
        self.minor_faults = Some(cpu.minor_faults);
        self.major_faults = Some(cpu.major_faults);
    }
}
