//! `summary.json`: the canonical result of a bench — per cell and arm statistics, deltas, fidelity, gates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::experiment::{Arm, Tier};
use super::sample::{LimitFidelity, LimitSource, RetentionPattern};
use super::Versioned;
use crate::stats::{Distribution, TailBand, Verdict};

/// `summary.json` (`tare.summary.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema: String,
    pub experiment: String,
    pub tier: Tier,
    pub host_class: String,
    /// One sentence with the numbers.
    pub headline: String,
    /// True when the run was interrupted or samples are missing.
    pub partial: bool,
    pub cells: Vec<CellSummary>,
    /// The first cell where a gate failed, and which gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<Boundary>,
    /// Per gate, the first cell where it failed (in gate order); `boundary` is the first of all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boundaries: Vec<Boundary>,
    /// What the data does not show (claims not made and why).
    pub not_shown: Vec<String>,
}

/// Everything measured in one cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    pub id: String,
    pub kernel_events: u32,
    pub span_events: u32,
    pub concurrency: u32,
    pub payload_bytes: u32,
    /// Root-span attributes asked for (`tare.sweep.attr.<i>`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub span_attributes: u32,
    /// Root-span links asked for.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub span_links: u32,
    /// Child spans in the burst through the batch span processor.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spans: u32,
    pub arms: BTreeMap<Arm, ArmSummary>,
    pub deltas: Vec<Delta>,
    pub fidelity: CellFidelity,
}

/// Statistics of one arm in one cell.
///
/// A figure the samples did not record (CPU, context switches, page faults, summed RSS,
/// charged memory, tare's CPU and kernel memory: samples from before tare measured them) is
/// absent, never 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArmSummary {
    pub valid: u32,
    pub discarded: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discard_reasons: Vec<String>,
    /// Wall-clock, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_ms: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tail_band: Option<TailBand>,
    /// n >= 20: wall-clock claims are made.
    pub wall_claim: bool,
    /// Peak RSS, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_bytes: Option<Distribution>,
    /// n >= 5: RSS claims are made.
    pub rss_claim: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_bytes: Option<Distribution>,
    /// Capture phases, milliseconds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases_ms: BTreeMap<String, Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_events: Option<Distribution>,
    /// Coefficient of variation of wall-clock (sample SD / mean, a fraction), n >= 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_cv: Option<f64>,
    /// The workload's CPU time, user + system, milliseconds (`wait4` rusage, every arm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_ms: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_user_ms: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_sys_ms: Option<Distribution>,
    /// Coefficient of variation of `cpu_ms`, beside `wall_cv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cv: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_ctxt_switches: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involuntary_ctxt_switches: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor_faults: Option<Distribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major_faults: Option<Distribution>,
    /// Sum of the tree's per-process RSS peaks, bytes (an upper bound on its simultaneous peak).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_sum_bytes: Option<Distribution>,
    /// The session cgroup's charged-memory peak, bytes: cgroup charged memory, not RSS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_peak_bytes: Option<Distribution>,
    /// tare's own CPU time, user + system, milliseconds (capture arms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_cpu_ms: Option<Distribution>,
    /// tare's own peak RSS (VmHWM), bytes (capture arms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_rss_bytes: Option<Distribution>,
    /// Kernel memory of tare's eBPF maps and ring buffer, bytes (capture arms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_kernel_bytes: Option<Distribution>,
}

/// A shift between two arms of one cell (cand - base), Hodges-Lehmann with a 95% CI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// e.g. `a_vs_bare`, `c_vs_a`, `interaction`; the same names for every metric.
    pub name: String,
    /// What was compared: `wall_ms` (wall-clock) or `cpu_ms` (the workload's user + system CPU).
    pub metric: String,
    /// Hodges-Lehmann estimate; absent when there were no values to compare.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub paired: bool,
    /// Pairs (paired) or the smaller side (unpaired).
    pub n: u32,
    pub verdict: Verdict,
}

/// Did the observation see what the workload did?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CellFidelity {
    pub kernel_target: u64,
    /// Fewest unique worker files seen by any capture sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_seen_min: Option<u64>,
    pub span_target: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_retained: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retained_ranges: Vec<[u64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<RetentionPattern>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_source: Option<LimitSource>,
    /// Root-span attributes: the traced sample that kept the fewest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LimitFidelity>,
    /// Root-span links: the traced sample that kept the fewest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<LimitFidelity>,
    /// Whole child spans of the burst: the traced sample that kept the fewest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spans: Option<LimitFidelity>,
    pub verdict: FidelityVerdict,
}

/// Fidelity of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FidelityVerdict {
    Clean,
    Lossy,
    Inconclusive,
}

/// Where the sweep first failed a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boundary {
    pub cell: String,
    pub gate: String,
    pub detail: String,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Versioned for Summary {
    const SCHEMA: &'static str = "tare.summary.v1";
}
