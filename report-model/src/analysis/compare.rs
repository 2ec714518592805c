//! `tare compare`: per cell, arm and metric, the unpaired Hodges-Lehmann shift of a candidate over a base, judged against a threshold.
//!
//! Pure: the caller reads the two sides (results directory, bundle or summary.json) into
//! [`Input`]s. For every metric of every arm of every cell on both sides this computes the
//! Hodges-Lehmann shift cand - base with its exact distribution-free 95% CI
//! ([`stats::unpaired_shift`]; samples of two runs are independent, so unpaired) and the
//! Mann-Whitney p-value, and judges it:
//!
//! - `regression` when the whole CI lies above +threshold x |base median|;
//! - `improvement` when the whole CI lies below -threshold x |base median|;
//! - `insufficient_samples` when a side has fewer than [`MIN_PER_SIDE`] values;
//! - `no_detectable_change` otherwise (including "no CI reaches the level").
//!
//! The p-value is reported, never used. Cells, arms and metrics present on one side only are
//! reported as such. A side without samples (summary.json) gets medians only
//! (`not_compared`): no statistical comparison is possible without samples.

use std::collections::{BTreeMap, BTreeSet};

use crate::analysis::metric::{self, Accessor, NS_PER_MS};
use crate::schema::compare::{
    ArmComparison, CellComparison, ChangeVerdict, CompareReport, HostMismatch, InputKind,
    MetricComparison, MetricThreshold, Outcome, Presence, Side, Unit, VerdictCounts,
};
use crate::schema::experiment::{Arm, Cell, Experiment};
use crate::schema::host::{Host, HostClass, HostPartDiff};
use crate::schema::phases::PHASE_NAMES;
use crate::schema::sample::Sample;
use crate::schema::summary::{CellSummary, Summary};
use crate::schema::Versioned;
use crate::stats::percentile::sorted_finite;
use crate::stats::{self, median_sorted};

pub use crate::stats::verdict::MIN_PER_SIDE;

/// Default threshold: 5% of the base median.
pub const DEFAULT_THRESHOLD_PCT: f64 = 5.0;

/// The metrics compared, besides `phases.<name>` (one per capture phase): `wall_ms`,
/// `wall_ratio`, `cpu_ms` (the workload's user + system CPU), `cpu_ratio`, `peak_rss_bytes`
/// (the workload's, as GNU time reports it), `rss_sum_bytes` (the sum of its processes'
/// peaks), `memory_peak_bytes` (the cgroup's charged memory, not RSS), `tare_peak_rss_bytes`
/// and `tare_cpu_ms` (tare's own, capture arms), `artifact_bytes`. `wall_ratio` is an arm's
/// wall-clock over the bare arm's in the same block (arms other than bare, samples only): a
/// machine that is slower for a while slows both, so the ratio keeps still where wall_ms
/// moves, and it moves when observing costs more. `cpu_ratio` is the same for CPU time.
pub const METRICS: [&str; 10] = [
    "wall_ms",
    "wall_ratio",
    "cpu_ms",
    "cpu_ratio",
    "peak_rss_bytes",
    "rss_sum_bytes",
    "memory_peak_bytes",
    "tare_peak_rss_bytes",
    "tare_cpu_ms",
    "artifact_bytes",
];

/// Metrics that samples from before tare recorded CPU and charged memory lack: one measured
/// on one side only is skipped (like `artifact_bytes` where neither side wrote anything), and
/// a note names it.
pub const USAGE_METRICS: [&str; 5] = [
    "cpu_ms",
    "cpu_ratio",
    "tare_cpu_ms",
    "memory_peak_bytes",
    "rss_sum_bytes",
];

/// The per-sample metrics: name, unit, accessor.
const SAMPLE_METRICS: [(&str, Unit, Accessor); 8] = [
    ("wall_ms", Unit::Ms, metric::wall_ms),
    ("cpu_ms", Unit::Ms, metric::cpu_ms),
    ("peak_rss_bytes", Unit::Bytes, metric::peak_rss_bytes),
    ("rss_sum_bytes", Unit::Bytes, metric::rss_sum_bytes),
    ("memory_peak_bytes", Unit::Bytes, metric::memory_peak_bytes),
    ("tare_peak_rss_bytes", Unit::Bytes, metric::tare_rss_bytes),
    ("tare_cpu_ms", Unit::Ms, metric::tare_cpu_ms),
    ("artifact_bytes", Unit::Bytes, metric::artifact_bytes),
];

/// The ratios of an arm to the bare sample of its block: name, accessor of the raw figure.
const RATIOS: [(&str, Accessor); 2] = [
    ("wall_ratio", metric::wall_ns),
    ("cpu_ratio", metric::cpu_ns),
];

/// The prefix of phase metrics; `phases` alone names every phase in a threshold override.
pub const PHASES: &str = "phases";

/// What the comparison is asked to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Percent of the base median; [`DEFAULT_THRESHOLD_PCT`] by default.
    pub threshold_pct: f64,
    /// Overrides by metric name, or `phases` for every phase (a named phase wins).
    pub metric_thresholds: BTreeMap<String, f64>,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Judge absolute times ([`is_host_time`]) even when the host classes differ; by default
    /// they are shown but not judged then, and only ratios and sizes gate.
    pub cross_host_times: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold_pct: DEFAULT_THRESHOLD_PCT,
            metric_thresholds: BTreeMap::new(),
            level: stats::DEFAULT_LEVEL,
            cross_host_times: false,
        }
    }
}

impl Options {
    /// The threshold (percent) that applies to `metric`.
    pub fn threshold_for(&self, metric: &str) -> f64 {
        if let Some(t) = self.metric_thresholds.get(metric) {
            return *t;
        }
        if metric.starts_with("phases.") {
            if let Some(t) = self.metric_thresholds.get(PHASES) {
                return *t;
            }
        }
        self.threshold_pct
    }
}

/// Whether `name` can take a threshold override: one of [`METRICS`], `phases`, or
/// `phases.<name>` for a capture phase (or any phase name either side recorded, checked by
/// the caller).
pub fn is_known_metric(name: &str) -> bool {
    METRICS.contains(&name)
        || name == PHASES
        || name
            .strip_prefix("phases.")
            .is_some_and(|p| PHASE_NAMES.contains(&p) || p == "residual")
}

/// Whether `name` is an absolute time (wall_ms, cpu_ms, tare_cpu_ms, phases.*): a figure of
/// the machine as much as of the change, so not judged across host classes by default.
pub fn is_host_time(name: &str) -> bool {
    matches!(name, "wall_ms" | "cpu_ms" | "tare_cpu_ms") || name.starts_with("phases.")
}

/// The note of an absolute time shown but not judged.
const HOST_TIME_NOTE: &str =
    "an absolute time on another host class: shown, not judged (--cross-host-times judges it)";

/// The values of one side.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// A results directory or bundle: every sample.
    Samples {
        experiment: Experiment,
        host: Host,
        samples: Vec<Sample>,
    },
    /// A summary.json alone.
    Summary(Summary),
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The path as given (named in every message about this side).
    pub source: String,
    pub kind: InputKind,
    pub data: Data,
}

/// Why two inputs cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// A bad threshold or level.
    #[error("{0}")]
    Option(String),
    /// The two sides do not measure the same thing.
    #[error("{0}")]
    Mismatch(String),
}

/// Compares `cand` with `base`. Errors when an option is invalid, when the two sides have no
/// cell in common, or when a cell id means different parameters on the two sides.
pub fn compare(base: &Input, cand: &Input, opts: &Options) -> Result<CompareReport, CompareError> {
    check_options(opts)?;
    let base_cells = cells_of(base);
    let cand_cells = cells_of(cand);
    check_cells(base, &base_cells, cand, &cand_cells)?;
    let statistical =
        matches!(base.data, Data::Samples { .. }) && matches!(cand.data, Data::Samples { .. });
    let base_side = side(base);
    let cand_side = side(cand);
    let host_parts = base_side.host_parts.differences(&cand_side.host_parts);
    let host_mismatch = (!host_parts.is_empty()).then(|| HostMismatch {
        base: base_side.host_class.clone(),
        cand: cand_side.host_class.clone(),
        parts: host_parts,
    });
    let judge = Judge {
        statistical,
        times: host_mismatch.is_none() || opts.cross_host_times,
    };

    let mut cells = Vec::new();
    let mut one_sided = BTreeSet::new();
    for bc in &base_cells {
        match cand_cells.iter().find(|c| c.id == bc.id) {
            Some(_) => cells.push(compare_cell(bc, base, cand, judge, opts, &mut one_sided)),
            None => cells.push(one_sided_cell(bc, Presence::BaseOnly)),
        }
    }
    for cc in &cand_cells {
        if !base_cells.iter().any(|b| b.id == cc.id) {
            cells.push(one_sided_cell(cc, Presence::CandOnly));
        }
    }

    let mut counts = VerdictCounts::default();
    for m in cells.iter().flat_map(|c| &c.arms).flat_map(|a| &a.metrics) {
        match m.verdict {
            ChangeVerdict::Regression => counts.regression += 1,
            ChangeVerdict::Improvement => counts.improvement += 1,
            ChangeVerdict::NoDetectableChange => counts.no_detectable_change += 1,
            ChangeVerdict::InsufficientSamples => counts.insufficient_samples += 1,
            ChangeVerdict::NotCompared => counts.not_compared += 1,
        }
    }
    let outcome = if counts.regression > 0 {
        Outcome::Regression
    } else if statistical {
        Outcome::NoRegression
    } else {
        Outcome::NotCompared
    };
    let notes = notes(
        (base, cand),
        (&base_side, &cand_side),
        host_mismatch.as_ref(),
        &cells,
        judge,
        &one_sided,
    );
    let mut report = CompareReport {
        schema: CompareReport::SCHEMA.into(),
        base: base_side,
        cand: cand_side,
        level: opts.level,
        threshold_pct: opts.threshold_pct,
        metric_thresholds: opts
            .metric_thresholds
            .iter()
            .map(|(metric, pct)| MetricThreshold {
                metric: metric.clone(),
                pct: *pct,
            })
            .collect(),
        statistical,
        host_mismatch,
        outcome,
        headline: String::new(),
        counts,
        cells,
        notes,
    };
    report.headline = headline(&report);
    Ok(report)
}

fn check_options(opts: &Options) -> Result<(), CompareError> {
    let bad = |what: String, v: f64| {
        CompareError::Option(format!(
            "{what} must be a percentage of at least 0 (e.g. 5 for 5%), not {v}"
        ))
    };
    if !(opts.threshold_pct.is_finite() && opts.threshold_pct >= 0.0) {
        return Err(bad("the threshold".into(), opts.threshold_pct));
    }
    for (metric, pct) in &opts.metric_thresholds {
        if !(pct.is_finite() && *pct >= 0.0) {
            return Err(bad(format!("the threshold of `{metric}`"), *pct));
        }
    }
    if !(opts.level > 0.0 && opts.level < 1.0) {
        return Err(CompareError::Option(format!(
            "the confidence level must be strictly between 0 and 1, not {}",
            opts.level
        )));
    }
    Ok(())
}

/// A cell's identity and parameters, from either kind of input.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CellKey {
    id: String,
    kernel_events: u32,
    span_events: u32,
    concurrency: u32,
    payload_bytes: u32,
}

impl From<&Cell> for CellKey {
    fn from(c: &Cell) -> Self {
        CellKey {
            id: c.id.clone(),
            kernel_events: c.kernel_events,
            span_events: c.span_events,
            concurrency: c.concurrency,
            payload_bytes: c.payload_bytes,
        }
    }
}

impl From<&CellSummary> for CellKey {
    fn from(c: &CellSummary) -> Self {
        CellKey {
            id: c.id.clone(),
            kernel_events: c.kernel_events,
            span_events: c.span_events,
            concurrency: c.concurrency,
            payload_bytes: c.payload_bytes,
        }
    }
}

fn cells_of(input: &Input) -> Vec<CellKey> {
    match &input.data {
        Data::Samples { experiment, .. } => experiment.cells.iter().map(CellKey::from).collect(),
        Data::Summary(s) => s.cells.iter().map(CellKey::from).collect(),
    }
}

fn check_cells(
    base: &Input,
    base_cells: &[CellKey],
    cand: &Input,
    cand_cells: &[CellKey],
) -> Result<(), CompareError> {
    let ids = |cells: &[CellKey]| -> String {
        if cells.is_empty() {
            "none".into()
        } else {
            cells
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    if !base_cells
        .iter()
        .any(|b| cand_cells.iter().any(|c| c.id == b.id))
    {
        return Err(CompareError::Mismatch(format!(
            "{} and {} have no cell in common (base cells: {}; cand cells: {}): \
             compare two results of the same experiment",
            base.source,
            cand.source,
            ids(base_cells),
            ids(cand_cells)
        )));
    }
    for b in base_cells {
        let Some(c) = cand_cells.iter().find(|c| c.id == b.id) else {
            continue;
        };
        let fields = [
            ("kernel_events", b.kernel_events, c.kernel_events),
            ("span_events", b.span_events, c.span_events),
            ("concurrency", b.concurrency, c.concurrency),
            ("payload_bytes", b.payload_bytes, c.payload_bytes),
        ];
        let differ: Vec<String> = fields
            .iter()
            .filter(|(_, x, y)| x != y)
            .map(|(name, x, y)| format!("{name} {x} in {}, {y} in {}", base.source, cand.source))
            .collect();
        if !differ.is_empty() {
            return Err(CompareError::Mismatch(format!(
                "cell `{}` is not the same cell on both sides ({}): compare results of the \
                 same experiment, or rename one of the cells",
                b.id,
                differ.join("; ")
            )));
        }
    }
    Ok(())
}

fn side(input: &Input) -> Side {
    match &input.data {
        Data::Samples {
            experiment, host, ..
        } => Side {
            source: input.source.clone(),
            kind: input.kind,
            experiment: experiment.name.clone(),
            tier: experiment.tier,
            host_class: host.host_class.clone(),
            host_parts: HostClass::of(host),
            cpu_model: Some(host.cpu_model.clone()),
            tare_version: Some(host.tare_version.clone()),
            git_commit: host.git_commit.clone(),
            samples: true,
        },
        Data::Summary(s) => Side {
            source: input.source.clone(),
            kind: input.kind,
            experiment: s.experiment.clone(),
            tier: s.tier,
            host_class: s.host_class.clone(),
            host_parts: HostClass::parse(&s.host_class),
            cpu_model: None,
            tare_version: None,
            git_commit: None,
            samples: false,
        },
    }
}

fn one_sided_cell(key: &CellKey, presence: Presence) -> CellComparison {
    CellComparison {
        id: key.id.clone(),
        presence,
        kernel_events: key.kernel_events,
        span_events: key.span_events,
        concurrency: key.concurrency,
        payload_bytes: key.payload_bytes,
        arms: Vec::new(),
    }
}

/// The arms a side ran in a cell, in the canonical order.
fn arms_of(input: &Input, cell: &str) -> Vec<Arm> {
    let mut arms: Vec<Arm> = match &input.data {
        Data::Samples { experiment, .. } => experiment.arms.clone(),
        Data::Summary(s) => s
            .cells
            .iter()
            .find(|c| c.id == cell)
            .map(|c| c.arms.keys().copied().collect())
            .unwrap_or_default(),
    };
    arms.sort();
    arms.dedup();
    arms
}

/// The values of every metric of one arm in one cell, by metric name.
struct ArmValues {
    valid: u32,
    /// Samples: every value; summary: the median alone (with `n`).
    metrics: BTreeMap<String, MetricValues>,
}

struct MetricValues {
    unit: Unit,
    values: Vec<f64>,
    /// The summary's n and median, when the side is a summary.
    summary: Option<(u32, f64)>,
}

fn arm_values(input: &Input, cell: &str, arm: Arm) -> ArmValues {
    match &input.data {
        Data::Samples { samples, .. } => sample_values(samples, cell, arm),
        Data::Summary(s) => summary_values(s, cell, arm),
    }
}

fn sample_values(samples: &[Sample], cell: &str, arm: Arm) -> ArmValues {
    let valid: Vec<&Sample> = metric::counted(samples, cell, arm)
        .filter(|s| s.valid)
        .collect();
    // The bare arm's figure of each block, to pair with (other arms only).
    let bare_by_block: Vec<(&str, Accessor, BTreeMap<u32, f64>)> = RATIOS
        .iter()
        .filter(|_| arm != Arm::Bare)
        .map(|&(name, value)| {
            let mut bare = metric::by_block(samples, cell, Arm::Bare, value);
            bare.retain(|_, v| *v > 0.0);
            (name, value, bare)
        })
        .collect();
    let mut metrics: BTreeMap<String, MetricValues> = BTreeMap::new();
    let mut put = |name: String, unit: Unit, v: f64| {
        metrics
            .entry(name)
            .or_insert_with(|| MetricValues {
                unit,
                values: Vec::new(),
                summary: None,
            })
            .values
            .push(v);
    };
    for s in &valid {
        for (name, unit, value) in SAMPLE_METRICS {
            if let Some(v) = value(s) {
                put(name.into(), unit, v);
            }
        }
        for (name, value, bare) in &bare_by_block {
            let bare = s.pair.and_then(|p| bare.get(&p));
            if let (Some(v), Some(bare)) = (value(s), bare) {
                put(name.to_string(), Unit::Ratio, v / bare);
            }
        }
        for (name, ns) in &s.phases_ns {
            put(format!("phases.{name}"), Unit::Ms, *ns as f64 / NS_PER_MS);
        }
    }
    ArmValues {
        valid: valid.len() as u32,
        metrics,
    }
}

fn summary_values(summary: &Summary, cell: &str, arm: Arm) -> ArmValues {
    let Some(a) = summary
        .cells
        .iter()
        .find(|c| c.id == cell)
        .and_then(|c| c.arms.get(&arm))
    else {
        return ArmValues {
            valid: 0,
            metrics: BTreeMap::new(),
        };
    };
    let mut metrics = BTreeMap::new();
    let mut put = |name: String, unit: Unit, d: Option<&stats::Distribution>| {
        if let Some(d) = d {
            metrics.insert(
                name,
                MetricValues {
                    unit,
                    values: Vec::new(),
                    summary: Some((d.n, d.median)),
                },
            );
        }
    };
    put("wall_ms".into(), Unit::Ms, a.wall_ms.as_ref());
    put("cpu_ms".into(), Unit::Ms, a.cpu_ms.as_ref());
    put("peak_rss_bytes".into(), Unit::Bytes, a.rss_bytes.as_ref());
    put(
        "rss_sum_bytes".into(),
        Unit::Bytes,
        a.rss_sum_bytes.as_ref(),
    );
    put(
        "memory_peak_bytes".into(),
        Unit::Bytes,
        a.memory_peak_bytes.as_ref(),
    );
    put("tare_cpu_ms".into(), Unit::Ms, a.tare_cpu_ms.as_ref());
    put(
        "artifact_bytes".into(),
        Unit::Bytes,
        a.artifact_bytes.as_ref(),
    );
    for (name, d) in &a.phases_ms {
        put(format!("phases.{name}"), Unit::Ms, Some(d));
    }
    ArmValues {
        valid: a.valid,
        metrics,
    }
}

/// Metric names in report order: [`METRICS`], then phases in capture order, then any others.
fn metric_order(names: &BTreeSet<&str>) -> Vec<String> {
    let mut out: Vec<String> = METRICS
        .iter()
        .filter(|m| names.contains(*m))
        .map(|m| m.to_string())
        .collect();
    for p in PHASE_NAMES {
        let name = format!("phases.{p}");
        if names.contains(name.as_str()) {
            out.push(name);
        }
    }
    for n in names {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

/// Compares one cell present on both sides; the [`USAGE_METRICS`] skipped because one side
/// lacks them go into `one_sided`.
/// What may be judged: anything at all (both sides have samples), and absolute times.
#[derive(Debug, Clone, Copy)]
struct Judge {
    statistical: bool,
    times: bool,
}

fn compare_cell(
    bc: &CellKey,
    base: &Input,
    cand: &Input,
    judge: Judge,
    opts: &Options,
    one_sided: &mut BTreeSet<&'static str>,
) -> CellComparison {
    let base_arms = arms_of(base, &bc.id);
    let cand_arms = arms_of(cand, &bc.id);
    let mut all: Vec<Arm> = base_arms.iter().chain(&cand_arms).copied().collect();
    all.sort();
    all.dedup();
    let arms = all
        .into_iter()
        .map(|arm| {
            let presence = match (base_arms.contains(&arm), cand_arms.contains(&arm)) {
                (true, true) => Presence::Both,
                (true, false) => Presence::BaseOnly,
                _ => Presence::CandOnly,
            };
            let b = arm_values(base, &bc.id, arm);
            let c = arm_values(cand, &bc.id, arm);
            let metrics = if presence == Presence::Both {
                compare_arm(&b, &c, judge, opts, one_sided)
            } else {
                Vec::new()
            };
            ArmComparison {
                arm,
                presence,
                valid_base: b.valid,
                valid_cand: c.valid,
                metrics,
            }
        })
        .collect();
    CellComparison {
        id: bc.id.clone(),
        presence: Presence::Both,
        kernel_events: bc.kernel_events,
        span_events: bc.span_events,
        concurrency: bc.concurrency,
        payload_bytes: bc.payload_bytes,
        arms,
    }
}

fn compare_arm(
    b: &ArmValues,
    c: &ArmValues,
    judge: Judge,
    opts: &Options,
    one_sided: &mut BTreeSet<&'static str>,
) -> Vec<MetricComparison> {
    let names: BTreeSet<&str> = b
        .metrics
        .keys()
        .chain(c.metrics.keys())
        .map(String::as_str)
        .collect();
    metric_order(&names)
        .into_iter()
        .filter_map(|name| {
            let bm = b.metrics.get(&name);
            let cm = c.metrics.get(&name);
            // An arm that writes nothing (bare): artifact bytes are all zero on both sides.
            let all_zero = |m: Option<&MetricValues>| {
                m.is_none_or(|m| {
                    m.values.iter().all(|v| *v == 0.0) && m.summary.is_none_or(|s| s.1 == 0.0)
                })
            };
            if name == "artifact_bytes" && all_zero(bm) && all_zero(cm) {
                return None;
            }
            // A figure older samples lack: not a change, so not compared.
            if let Some(usage) = USAGE_METRICS.iter().find(|m| **m == name) {
                if bm.is_none() || cm.is_none() {
                    one_sided.insert(*usage);
                    return None;
                }
            }
            let mut m = compare_metric(&name, bm, cm, judge.statistical, opts);
            if !judge.times && is_host_time(&name) && m.shift.is_some() {
                m.verdict = ChangeVerdict::NotCompared;
                m.note = Some(HOST_TIME_NOTE.into());
            }
            Some(m)
        })
        .collect()
}

fn median_of(m: Option<&MetricValues>) -> (u32, Option<f64>) {
    match m {
        None => (0, None),
        Some(MetricValues {
            summary: Some((n, median)),
            ..
        }) => (*n, Some(*median)),
        Some(m) => {
            let sorted = sorted_finite(&m.values);
            (
                m.values.len() as u32,
                sorted.as_deref().and_then(median_sorted),
            )
        }
    }
}

fn pct_of(v: f64, base_median: f64) -> Option<f64> {
    (base_median != 0.0 && base_median.is_finite()).then(|| v / base_median.abs() * 100.0)
}

fn compare_metric(
    name: &str,
    bm: Option<&MetricValues>,
    cm: Option<&MetricValues>,
    statistical: bool,
    opts: &Options,
) -> MetricComparison {
    let unit = bm.or(cm).map_or(Unit::Ms, |m| m.unit);
    let presence = match (bm.is_some(), cm.is_some()) {
        (true, true) => Presence::Both,
        (true, false) => Presence::BaseOnly,
        _ => Presence::CandOnly,
    };
    let (n_base, base_median) = median_of(bm);
    let (n_cand, cand_median) = median_of(cm);
    let threshold_pct = opts.threshold_for(name);
    let median_change_pct = match (base_median, cand_median) {
        (Some(b), Some(c)) => pct_of(c - b, b),
        _ => None,
    };
    let mut out = MetricComparison {
        metric: name.into(),
        unit,
        presence,
        n_base,
        n_cand,
        base_median,
        cand_median,
        median_change_pct,
        shift: None,
        ci_low: None,
        ci_high: None,
        shift_pct: None,
        ci_low_pct: None,
        ci_high_pct: None,
        p_value: None,
        threshold_pct,
        verdict: ChangeVerdict::NotCompared,
        note: None,
    };
    if !statistical {
        out.note = Some("no samples on a side: medians only, no statistical comparison".into());
        return out;
    }
    match presence {
        Presence::BaseOnly => {
            out.verdict = ChangeVerdict::InsufficientSamples;
            out.note = Some("measured in base only".into());
            return out;
        }
        Presence::CandOnly => {
            out.verdict = ChangeVerdict::InsufficientSamples;
            out.note = Some("measured in cand only".into());
            return out;
        }
        Presence::Both => {}
    }
    let (Some(b), Some(c)) = (bm, cm) else {
        return out;
    };
    if b.values.len() < MIN_PER_SIDE || c.values.len() < MIN_PER_SIDE {
        out.verdict = ChangeVerdict::InsufficientSamples;
        out.note = Some(format!(
            "need at least {MIN_PER_SIDE} values per side; base has {}, cand has {}",
            b.values.len(),
            c.values.len()
        ));
        return out;
    }
    let shift = match stats::unpaired_shift(&b.values, &c.values, opts.level) {
        Ok(s) => s,
        Err(e) => {
            out.verdict = ChangeVerdict::InsufficientSamples;
            out.note = Some(e.to_string());
            return out;
        }
    };
    let base_median = base_median.unwrap_or(f64::NAN);
    out.shift = Some(shift.estimate);
    out.shift_pct = pct_of(shift.estimate, base_median);
    out.p_value = shift.p_value;
    out.verdict = ChangeVerdict::NoDetectableChange;
    match shift.ci {
        Some((low, high)) => {
            out.ci_low = Some(low);
            out.ci_high = Some(high);
            out.ci_low_pct = pct_of(low, base_median);
            out.ci_high_pct = pct_of(high, base_median);
            let band = threshold_pct / 100.0 * base_median.abs();
            if low > band {
                out.verdict = ChangeVerdict::Regression;
            } else if high < -band {
                out.verdict = ChangeVerdict::Improvement;
            }
        }
        None => out.note = shift.ci_note,
    }
    out
}

fn notes(
    (base, cand): (&Input, &Input),
    (bs, cs): (&Side, &Side),
    host_mismatch: Option<&HostMismatch>,
    cells: &[CellComparison],
    judge: Judge,
    one_sided: &BTreeSet<&str>,
) -> Vec<String> {
    let mut notes = Vec::new();
    if !judge.statistical {
        let which: Vec<&str> = [(bs, "base"), (cs, "cand")]
            .iter()
            .filter(|(s, _)| !s.samples)
            .map(|(_, w)| *w)
            .collect();
        notes.push(format!(
            "No statistical comparison is possible without samples: {} {} summary.json only. \
             Medians are shown; give the results directory or the .bundle.tar.gz (they carry \
             samples.jsonl) for shifts, confidence intervals and verdicts.",
            which.join(" and "),
            if which.len() == 1 { "is a" } else { "are" }
        ));
    }
    if let Some(h) = host_mismatch {
        notes.push(format!(
            "Host classes differ in {} (base {}, cand {}): a cross-host comparison is not a \
             benchmark claim; the shifts mix the change with the machines.",
            host_parts_text(&h.parts),
            h.base,
            h.cand
        ));
        if judge.statistical && !judge.times {
            notes.push(
                "So absolute times (wall_ms, cpu_ms, tare_cpu_ms, phases.*) are shown but not \
                 judged: only ratios to the bare arm of the same block and sizes can pass or \
                 fail. --cross-host-times judges the times too."
                    .into(),
            );
        }
    } else if bs.host_class != cs.host_class {
        notes.push(format!(
            "One host class (arch, kernel major.minor, cores and CPU model agree where both \
             sides record them), written differently: base {}, cand {}.",
            bs.host_class, cs.host_class
        ));
    }
    if bs.experiment != cs.experiment {
        notes.push(format!(
            "Experiments differ by name: base `{}`, cand `{}`.",
            bs.experiment, cs.experiment
        ));
    }
    if bs.tier != cs.tier {
        notes.push(format!(
            "Tiers differ: base {:?}, cand {:?}.",
            bs.tier, cs.tier
        ));
    }
    if let (
        Data::Samples {
            experiment: be,
            host: bh,
            ..
        },
        Data::Samples {
            experiment: ce,
            host: ch,
            ..
        },
    ) = (&base.data, &cand.data)
    {
        let mut arms: BTreeSet<Arm> = be.commands.keys().copied().collect();
        arms.extend(ce.commands.keys().copied());
        let differ: Vec<&str> = arms
            .into_iter()
            .filter(|a| be.commands.get(a) != ce.commands.get(a))
            .map(Arm::as_str)
            .collect();
        if !differ.is_empty() {
            notes.push(format!(
                "The arm commands differ (arms {}): the two sides ran different workloads.",
                differ.join(", ")
            ));
        }
        if be.n != ce.n {
            notes.push(format!(
                "n differs: base {} samples per arm and cell, cand {}.",
                be.n, ce.n
            ));
        }
        for (h, which) in [(bh, "base"), (ch, "cand")] {
            if h.cores > 0 && h.load_avg[0] > f64::from(h.cores) {
                notes.push(format!(
                    "The {which} run started at load average {:.2} on {} cores: its timings \
                     carry other work's noise.",
                    h.load_avg[0], h.cores
                ));
            }
        }
    }
    if !one_sided.is_empty() {
        let names: Vec<String> = one_sided.iter().map(|m| format!("`{m}`")).collect();
        notes.push(format!(
            "Not compared, measured on one side only: {} (samples from before tare recorded \
             CPU time and charged memory, or a host without the cgroup memory controller).",
            names.join(", ")
        ));
    }
    for cell in cells {
        match cell.presence {
            Presence::BaseOnly => notes.push(format!(
                "Cell `{}` is in base only: nothing to compare it with.",
                cell.id
            )),
            Presence::CandOnly => notes.push(format!(
                "Cell `{}` is in cand only: nothing to compare it with.",
                cell.id
            )),
            Presence::Both => {}
        }
        for arm in &cell.arms {
            match arm.presence {
                Presence::BaseOnly => notes.push(format!(
                    "Arm {} of cell `{}` is in base only.",
                    arm.arm.as_str(),
                    cell.id
                )),
                Presence::CandOnly => notes.push(format!(
                    "Arm {} of cell `{}` is in cand only.",
                    arm.arm.as_str(),
                    cell.id
                )),
                Presence::Both => {}
            }
        }
    }
    notes
}

/// A metric as `cell/arm/metric`.
pub fn metric_path(cell: &str, arm: Arm, metric: &str) -> String {
    format!("{cell}/{}/{metric}", arm.as_str())
}

fn flagged(report: &CompareReport, verdict: ChangeVerdict) -> Vec<String> {
    report
        .cells
        .iter()
        .flat_map(|c| {
            c.arms.iter().flat_map(move |a| {
                a.metrics
                    .iter()
                    .filter(move |m| m.verdict == verdict)
                    .map(move |m| {
                        let pct = match (m.shift_pct, m.ci_low_pct, m.ci_high_pct) {
                            (Some(s), Some(l), Some(h)) => {
                                format!(" {s:+.1}% (95% CI {l:+.1}% to {h:+.1}%)")
                            }
                            _ => String::new(),
                        };
                        format!("{}{pct}", metric_path(&c.id, a.arm, &m.metric))
                    })
            })
        })
        .collect()
}

/// `kernel 6.18 vs 6.1, cores 2 vs 4`.
pub fn host_parts_text(parts: &[HostPartDiff]) -> String {
    parts
        .iter()
        .map(|d| format!("{} {} vs {}", d.part, d.base, d.cand))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn headline(r: &CompareReport) -> String {
    let prefix = if r.host_mismatch.is_some() {
        "Different host classes, not a benchmark claim. "
    } else {
        ""
    };
    let total = r.counts.regression
        + r.counts.improvement
        + r.counts.no_detectable_change
        + r.counts.insufficient_samples
        + r.counts.not_compared;
    if !r.statistical {
        return format!(
            "{prefix}No statistical comparison: a side is a summary.json without samples \
             ({} medians shown).",
            total
        );
    }
    let rule = format!("threshold {}% of the base median", fmt_pct(r.threshold_pct));
    let mut parts = Vec::new();
    if r.counts.regression > 0 {
        let list = flagged(r, ChangeVerdict::Regression);
        let shown: Vec<String> = list.iter().take(3).cloned().collect();
        let more = if list.len() > 3 {
            format!(" and {} more", list.len() - 3)
        } else {
            String::new()
        };
        parts.push(format!(
            "{}: {}{more}",
            plural(r.counts.regression, "regression", "regressions"),
            shown.join(", ")
        ));
    } else {
        parts.push("No regression".into());
    }
    if r.counts.improvement > 0 {
        parts.push(plural(r.counts.improvement, "improvement", "improvements"));
    }
    parts.push(format!(
        "{} without a detectable change",
        plural(r.counts.no_detectable_change, "metric", "metrics")
    ));
    if r.counts.insufficient_samples > 0 {
        parts.push(format!(
            "{} with too few samples",
            plural(r.counts.insufficient_samples, "metric", "metrics")
        ));
    }
    if r.counts.not_compared > 0 {
        parts.push(format!(
            "{} shown, not judged",
            plural(r.counts.not_compared, "absolute time", "absolute times")
        ));
    }
    format!("{prefix}{} ({total} compared, {rule}).", parts.join("; "))
}

/// A percentage without needless decimals: `5`, `12.5`.
pub fn fmt_pct(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
