//! Per-sample figures by accessor (wall-clock, CPU, memory) and the by-block pairing that deltas and ratios share.

use std::collections::BTreeMap;

use crate::schema::experiment::Arm;
use crate::schema::sample::Sample;

/// Reads one figure of a sample; None when the sample did not record it (older samples carry
/// no CPU or charged-memory figures: absent, never 0).
pub type Accessor = fn(&Sample) -> Option<f64>;

/// Nanoseconds in a millisecond.
pub const NS_PER_MS: f64 = 1e6;

fn ms(ns: u64) -> f64 {
    ns as f64 / NS_PER_MS
}

fn num(v: Option<u64>) -> Option<f64> {
    v.map(|v| v as f64)
}

/// Wall-clock, ms.
pub fn wall_ms(s: &Sample) -> Option<f64> {
    Some(ms(s.wall_ns))
}

/// Wall-clock, ns (ratios are taken on the recorded integers).
pub fn wall_ns(s: &Sample) -> Option<f64> {
    Some(s.wall_ns as f64)
}

/// The workload's user + system CPU, ms.
pub fn cpu_ms(s: &Sample) -> Option<f64> {
    s.usage.cpu_ns().map(ms)
}

/// The workload's user + system CPU, ns.
pub fn cpu_ns(s: &Sample) -> Option<f64> {
    num(s.usage.cpu_ns())
}

/// The workload's user CPU, ms.
pub fn cpu_user_ms(s: &Sample) -> Option<f64> {
    s.usage.cpu_user_ns.map(ms)
}

/// The workload's system CPU, ms.
pub fn cpu_sys_ms(s: &Sample) -> Option<f64> {
    s.usage.cpu_sys_ns.map(ms)
}

/// tare's own user + system CPU, ms (capture arms).
pub fn tare_cpu_ms(s: &Sample) -> Option<f64> {
    s.usage.tare_cpu_ns().map(ms)
}

/// The workload's peak RSS as GNU time reports it (its largest process's), bytes.
pub fn peak_rss_bytes(s: &Sample) -> Option<f64> {
    num(s.peak_rss_bytes)
}

/// The sum of the tree's per-process RSS peaks, bytes.
pub fn rss_sum_bytes(s: &Sample) -> Option<f64> {
    num(s.usage.rss_sum_bytes)
}

/// The session cgroup's charged-memory peak (not RSS), bytes.
pub fn memory_peak_bytes(s: &Sample) -> Option<f64> {
    num(s.usage.memory_peak_bytes)
}

/// tare's own peak RSS, bytes (capture arms).
pub fn tare_rss_bytes(s: &Sample) -> Option<f64> {
    num(s.tare_peak_rss_bytes)
}

/// Kernel memory of tare's eBPF maps and ring buffer, bytes (capture arms).
pub fn tare_kernel_bytes(s: &Sample) -> Option<f64> {
    num(s.usage.tare_kernel_bytes)
}

/// Voluntary context switches of the workload (it waited).
pub fn voluntary_ctxt_switches(s: &Sample) -> Option<f64> {
    num(s.usage.voluntary_ctxt_switches)
}

/// Involuntary context switches of the workload (it was preempted).
pub fn involuntary_ctxt_switches(s: &Sample) -> Option<f64> {
    num(s.usage.involuntary_ctxt_switches)
}

/// Minor page faults of the workload (no I/O).
pub fn minor_faults(s: &Sample) -> Option<f64> {
    num(s.usage.minor_faults)
}

/// Major page faults of the workload (I/O).
pub fn major_faults(s: &Sample) -> Option<f64> {
    num(s.usage.major_faults)
}

/// Bytes the arm wrote (archive and/or trace; 0 for bare).
pub fn artifact_bytes(s: &Sample) -> Option<f64> {
    Some(s.artifact_bytes as f64)
}

/// The counted (not warm-up) samples of `arm` in `cell`, valid or not.
pub fn counted<'a>(
    samples: &'a [Sample],
    cell: &'a str,
    arm: Arm,
) -> impl Iterator<Item = &'a Sample> + 'a {
    samples
        .iter()
        .filter(move |s| s.cell == cell && s.arm == arm && !s.warmup)
}

/// `value` of every valid counted sample of `arm` in `cell` that recorded it.
pub fn values(samples: &[Sample], cell: &str, arm: Arm, value: Accessor) -> Vec<f64> {
    counted(samples, cell, arm)
        .filter(|s| s.valid)
        .filter_map(value)
        .collect()
}

/// `value` of the valid counted samples of `arm` in `cell`, by block (samples without a block
/// or without the figure are left out).
pub fn by_block(samples: &[Sample], cell: &str, arm: Arm, value: Accessor) -> BTreeMap<u32, f64> {
    counted(samples, cell, arm)
        .filter(|s| s.valid)
        .filter_map(|s| Some((s.pair?, value(s)?)))
        .collect()
}
