//! The report of `tare compare` (`tare.compare.v1`): per cell, arm and metric, the shift of a candidate over a base.

use serde::{Deserialize, Serialize};

use super::experiment::{Arm, Tier};
use super::host::{HostClass, HostPartDiff};
use super::Versioned;

/// `tare compare --json` (`tare.compare.v1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    pub schema: String,
    pub base: Side,
    pub cand: Side,
    /// Confidence level of every interval (0.95).
    pub level: f64,
    /// The default threshold, percent of the base median.
    pub threshold_pct: f64,
    /// Per-metric thresholds given, percent: a metric name (`wall_ms`, `phases.monitor_attach`)
    /// or `phases` for every phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_thresholds: Vec<MetricThreshold>,
    /// False when a side has no samples (a summary.json): medians are shown, nothing is judged.
    pub statistical: bool,
    /// Set when the two results come from different host classes: not a benchmark claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_mismatch: Option<HostMismatch>,
    pub outcome: Outcome,
    /// One sentence with the numbers.
    pub headline: String,
    pub counts: VerdictCounts,
    /// Every cell of either side, in the base's order, then the candidate's new cells.
    pub cells: Vec<CellComparison>,
    /// What differs between the two sides besides the measurements, and what is not shown.
    pub notes: Vec<String>,
}

/// One side of a comparison: where it came from and what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// The path as given on the command line.
    pub source: String,
    pub kind: InputKind,
    pub experiment: String,
    pub tier: Tier,
    pub host_class: String,
    /// The parts of the host class: from host.json when the side has one, else read from
    /// `host_class`.
    #[serde(default)]
    pub host_parts: HostClass,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tare_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Whether per-sample values were available (results directory or bundle).
    pub samples: bool,
}

/// What a side was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A `tare bench --out DIR` directory.
    ResultsDir,
    /// A `DIR.bundle.tar.gz`.
    Bundle,
    /// A summary.json alone: no samples, so no statistics.
    SummaryJson,
}

/// A per-metric threshold override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricThreshold {
    pub metric: String,
    pub pct: f64,
}

/// The host classes of the two sides, when they differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostMismatch {
    pub base: String,
    pub cand: String,
    /// Each part of the class that differs (arch, kernel, cores, cpu).
    #[serde(default)]
    pub parts: Vec<HostPartDiff>,
}

/// The result of the whole comparison (decides the exit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// At least one metric regressed beyond its threshold.
    Regression,
    /// Every metric was judged and none regressed.
    NoRegression,
    /// No statistics were possible (a side has no samples).
    NotCompared,
}

/// How many metrics got each verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictCounts {
    pub regression: u32,
    pub improvement: u32,
    pub no_detectable_change: u32,
    pub insufficient_samples: u32,
    pub not_compared: u32,
}

/// Where a cell, arm or metric was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Both,
    BaseOnly,
    CandOnly,
}

/// One cell of the sweep on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellComparison {
    pub id: String,
    pub presence: Presence,
    pub kernel_events: u32,
    pub span_events: u32,
    pub concurrency: u32,
    pub payload_bytes: u32,
    /// Every arm of either side (empty when the cell is on one side only).
    pub arms: Vec<ArmComparison>,
}

/// One arm of one cell on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmComparison {
    pub arm: Arm,
    pub presence: Presence,
    /// Valid counted samples (or the summary's valid count).
    pub valid_base: u32,
    pub valid_cand: u32,
    /// Empty when the arm is on one side only.
    pub metrics: Vec<MetricComparison>,
}

/// The unit of a metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    Bytes,
    /// A dimensionless ratio (`wall_ratio`, `cpu_ratio`).
    Ratio,
}

/// The verdict on one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeVerdict {
    /// The whole CI of cand - base lies above +threshold x base median.
    Regression,
    /// The whole CI lies below -threshold x base median.
    Improvement,
    /// Neither: the CI reaches inside the threshold band (or no CI reaches the level).
    NoDetectableChange,
    /// Fewer than 4 values on a side.
    InsufficientSamples,
    /// No samples on a side: medians only.
    NotCompared,
}

/// One metric of one arm: the Hodges-Lehmann shift cand - base with its CI and a verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `wall_ms`, `wall_ratio`, `cpu_ms`, `cpu_ratio`, `peak_rss_bytes`, `rss_sum_bytes`,
    /// `memory_peak_bytes`, `tare_peak_rss_bytes`, `tare_cpu_ms`, `artifact_bytes`,
    /// `phases.<name>` (see `analysis::compare::METRICS`).
    pub metric: String,
    pub unit: Unit,
    pub presence: Presence,
    pub n_base: u32,
    pub n_cand: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_median: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cand_median: Option<f64>,
    /// cand median / base median - 1, percent (descriptive; the verdict does not use it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_change_pct: Option<f64>,
    /// Hodges-Lehmann estimate of cand - base (the median of all pairwise differences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_high: Option<f64>,
    /// The shift and its CI as percent of the base median (absent when the median is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_low_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_high_pct: Option<f64>,
    /// Two-sided Mann-Whitney p-value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    /// The threshold applied, percent of the base median.
    pub threshold_pct: f64,
    pub verdict: ChangeVerdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Versioned for CompareReport {
    const SCHEMA: &'static str = "tare.compare.v1";
}
