//! Builds summary.json from samples: per-arm statistics, deltas, fidelity, gates, headline.

use std::collections::BTreeMap;

use crate::analysis::metric::{self, counted, Accessor, NS_PER_MS};
use crate::schema::experiment::{Arm, Cell, Experiment};
use crate::schema::sample::{LimitFidelity, RetentionPattern, Sample, SpanFidelity};
use crate::schema::summary::{
    ArmSummary, Boundary, CellFidelity, CellSummary, Delta, FidelityVerdict, Summary,
};
use crate::schema::Versioned;
use crate::stats::{self, Distribution, TailBand, Verdict};

/// Valid samples needed before a wall-clock claim is made (the study's gate).
pub const WALL_CLAIM_N: u32 = 20;
/// Valid samples needed before an RSS claim is made.
pub const RSS_CLAIM_N: u32 = 5;

/// The comparisons made in every cell: (name, base arm, candidate arm).
pub const COMPARISONS: [(&str, Arm, Arm); 5] = [
    ("a_vs_bare", Arm::Bare, Arm::A),
    ("b_vs_bare", Arm::Bare, Arm::B),
    ("c_vs_bare", Arm::Bare, Arm::C),
    ("c_vs_a", Arm::A, Arm::C),
    ("c_vs_b", Arm::B, Arm::C),
];

/// The metric of wall-clock deltas ([`Delta::metric`]).
pub const WALL_MS: &str = "wall_ms";
/// The metric of CPU-time deltas: the workload's user + system CPU, ms.
pub const CPU_MS: &str = "cpu_ms";

/// A metric deltas are computed on: its name ([`Delta::metric`]) and its accessor.
pub type DeltaMetric = (&'static str, Accessor);

/// The metrics of the deltas, in the order they are listed in a cell: every wall-clock delta,
/// then every CPU delta (the same names). Wall-clock deltas are always made; CPU deltas only
/// in cells where some sample recorded CPU time.
pub const DELTA_METRICS: [DeltaMetric; 2] = [(WALL_MS, metric::wall_ms), (CPU_MS, metric::cpu_ms)];

/// Summarises every cell of `experiment` from `samples` (warm-ups are ignored).
pub fn summarize(
    experiment: &Experiment,
    host_class: &str,
    samples: &[Sample],
    partial: bool,
) -> Summary {
    let cells: Vec<CellSummary> = experiment
        .cells
        .iter()
        .map(|cell| summarize_cell(cell, &experiment.arms, samples))
        .collect();
    let boundary = cells.iter().find_map(first_failed_gate);
    let boundaries = GATES
        .iter()
        .filter_map(|gate| cells.iter().find_map(|c| gate_failure(c, gate)))
        .collect();
    let headline = headline(&cells);
    let not_shown = not_shown(&cells, host_class, partial);
    Summary {
        schema: Summary::SCHEMA.into(),
        experiment: experiment.name.clone(),
        tier: experiment.tier,
        host_class: host_class.into(),
        headline,
        partial,
        cells,
        boundary,
        boundaries,
        not_shown,
    }
}

fn summarize_cell(cell: &Cell, arms: &[Arm], samples: &[Sample]) -> CellSummary {
    let mut arm_summaries = BTreeMap::new();
    for &arm in arms {
        arm_summaries.insert(arm, summarize_arm(counted(samples, &cell.id, arm)));
    }
    let recorded = |value: Accessor| {
        arms.iter()
            .any(|&arm| !metric::values(samples, &cell.id, arm, value).is_empty())
    };
    let mut deltas = Vec::new();
    for m @ (name, value) in DELTA_METRICS {
        if name != WALL_MS && !recorded(value) {
            continue;
        }
        for (comparison, base, cand) in COMPARISONS {
            if arms.contains(&base) && arms.contains(&cand) {
                deltas.push(arm_delta(comparison, m, samples, &cell.id, base, cand));
            }
        }
        if Arm::ALL.iter().all(|a| arms.contains(a)) {
            deltas.push(interaction(m, samples, &cell.id));
        }
    }
    CellSummary {
        id: cell.id.clone(),
        kernel_events: cell.kernel_events,
        span_events: cell.span_events,
        concurrency: cell.concurrency,
        payload_bytes: cell.payload_bytes,
        span_attributes: cell.span_attributes,
        span_links: cell.span_links,
        spans: cell.spans,
        arms: arm_summaries,
        deltas,
        fidelity: fidelity(cell, samples),
    }
}

fn summarize_arm<'a>(samples: impl Iterator<Item = &'a Sample>) -> ArmSummary {
    let all: Vec<&Sample> = samples.collect();
    let valid: Vec<&Sample> = all.iter().copied().filter(|s| s.valid).collect();
    let mut discard_reasons: Vec<String> = all
        .iter()
        .filter_map(|s| s.discard_reason.clone())
        .collect();
    discard_reasons.sort();
    discard_reasons.dedup();
    let of = |value: Accessor| -> Vec<f64> { valid.iter().copied().filter_map(value).collect() };
    let dist = |value: Accessor| Distribution::of(&of(value));
    let wall = of(metric::wall_ms);
    let cpu = of(metric::cpu_ms);
    let wall_ms = Distribution::of(&wall);
    let (tail_ratio, tail_band) = match &wall_ms {
        Some(d) => match stats::tail_ratio(d) {
            Some((r, band)) => (Some(r), Some(band)),
            None => (None, None),
        },
        None => (None, None),
    };
    let rss = of(metric::peak_rss_bytes);
    let artifact = of(metric::artifact_bytes);
    let mut phase_values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in &valid {
        for (name, ns) in &s.phases_ns {
            phase_values
                .entry(name.clone())
                .or_default()
                .push(*ns as f64 / NS_PER_MS);
        }
    }
    let events: Vec<f64> = valid
        .iter()
        .filter_map(|s| s.kernel_events)
        .map(|e| e as f64)
        .collect();
    ArmSummary {
        valid: valid.len() as u32,
        discarded: (all.len() - valid.len()) as u32,
        discard_reasons,
        wall_ms,
        tail_ratio,
        tail_band,
        wall_claim: valid.len() as u32 >= WALL_CLAIM_N,
        rss_claim: rss.len() as u32 >= RSS_CLAIM_N,
        rss_bytes: Distribution::of(&rss),
        artifact_bytes: Distribution::of(&artifact),
        phases_ms: phase_values
            .into_iter()
            .filter_map(|(k, v)| Distribution::of(&v).map(|d| (k, d)))
            .collect(),
        kernel_events: Distribution::of(&events),
        wall_cv: stats::coefficient_of_variation(&wall),
        cpu_ms: Distribution::of(&cpu),
        cpu_user_ms: dist(metric::cpu_user_ms),
        cpu_sys_ms: dist(metric::cpu_sys_ms),
        cpu_cv: stats::coefficient_of_variation(&cpu),
        voluntary_ctxt_switches: dist(metric::voluntary_ctxt_switches),
        involuntary_ctxt_switches: dist(metric::involuntary_ctxt_switches),
        minor_faults: dist(metric::minor_faults),
        major_faults: dist(metric::major_faults),
        rss_sum_bytes: dist(metric::rss_sum_bytes),
        memory_peak_bytes: dist(metric::memory_peak_bytes),
        tare_cpu_ms: dist(metric::tare_cpu_ms),
        tare_rss_bytes: dist(metric::tare_rss_bytes),
        tare_kernel_bytes: dist(metric::tare_kernel_bytes),
    }
}

fn delta_from(name: &str, metric: &str, base: &[f64], cand: &[f64], paired: bool) -> Delta {
    let n = base.len().min(cand.len()) as u32;
    let shift = if paired {
        stats::paired_shift(base, cand, 0.95)
    } else {
        stats::unpaired_shift(base, cand, 0.95)
    };
    match shift {
        Ok(s) => Delta {
            name: name.into(),
            metric: metric.into(),
            estimate: Some(s.estimate),
            ci_low: s.ci.map(|c| c.0),
            ci_high: s.ci.map(|c| c.1),
            p_value: s.p_value,
            paired,
            n,
            verdict: s.verdict,
        },
        Err(_) => Delta {
            name: name.into(),
            metric: metric.into(),
            estimate: None,
            ci_low: None,
            ci_high: None,
            p_value: None,
            paired,
            n,
            verdict: Verdict::InsufficientSamples,
        },
    }
}

/// cand - base on a metric, paired by block where blocks exist, else unpaired.
fn arm_delta(
    name: &str,
    (metric, value): DeltaMetric,
    samples: &[Sample],
    cell: &str,
    base: Arm,
    cand: Arm,
) -> Delta {
    let b = metric::by_block(samples, cell, base, value);
    let c = metric::by_block(samples, cell, cand, value);
    let blocks: Vec<u32> = b.keys().filter(|k| c.contains_key(k)).copied().collect();
    if !blocks.is_empty() {
        let base_v: Vec<f64> = blocks.iter().map(|k| b[k]).collect();
        let cand_v: Vec<f64> = blocks.iter().map(|k| c[k]).collect();
        return delta_from(name, metric, &base_v, &cand_v, true);
    }
    let all = |arm| metric::values(samples, cell, arm, value);
    delta_from(name, metric, &all(base), &all(cand), false)
}

/// (C - bare) - ((A - bare) + (B - bare)) per block on a metric, i.e. C against A + B - bare.
fn interaction((metric, value): DeltaMetric, samples: &[Sample], cell: &str) -> Delta {
    let [bare, a, b, c] = Arm::ALL.map(|arm| metric::by_block(samples, cell, arm, value));
    let blocks: Vec<u32> = bare
        .keys()
        .filter(|k| a.contains_key(k) && b.contains_key(k) && c.contains_key(k))
        .copied()
        .collect();
    let base: Vec<f64> = blocks.iter().map(|k| a[k] + b[k] - bare[k]).collect();
    let cand: Vec<f64> = blocks.iter().map(|k| c[k]).collect();
    delta_from("interaction", metric, &base, &cand, true)
}

fn worst_span(fids: &[&SpanFidelity]) -> Option<SpanFidelity> {
    fids.iter().min_by_key(|f| f.retained).map(|f| (*f).clone())
}

fn fidelity(cell: &Cell, samples: &[Sample]) -> CellFidelity {
    let counted_valid = |arm| {
        counted(samples, &cell.id, arm)
            .filter(|s| s.valid)
            .collect::<Vec<_>>()
    };
    let capture: Vec<&Sample> = [Arm::A, Arm::C]
        .into_iter()
        .flat_map(counted_valid)
        .collect();
    let traced: Vec<&Sample> = [Arm::B, Arm::C]
        .into_iter()
        .flat_map(counted_valid)
        .collect();
    let kernel_seen_min = capture
        .iter()
        .filter_map(|s| s.kernel_fidelity.as_ref().map(|k| k.unique_worker_files))
        .min();
    let spans: Vec<&SpanFidelity> = traced
        .iter()
        .filter_map(|s| s.span_fidelity.as_ref())
        .collect();
    let span = worst_span(&spans);
    let kernel_ok = match kernel_seen_min {
        Some(seen) => Some(seen >= cell.kernel_events as u64),
        None if cell.kernel_events == 0 || capture.is_empty() => None,
        None => Some(false),
    };
    let span_ok = match &span {
        Some(f) => {
            Some(f.pattern == RetentionPattern::Complete || (f.target == 0 && f.retained == 0))
        }
        None if cell.span_events == 0 || traced.is_empty() => None,
        None => Some(false),
    };
    let limit = |target: u32, pick: fn(&Sample) -> Option<&LimitFidelity>| {
        let worst = worst_limit(traced.iter().filter_map(|s| pick(s)));
        let ok = match &worst {
            Some(f) => Some(f.is_clean()),
            None if target == 0 || traced.is_empty() => None,
            None => Some(false),
        };
        (worst, ok)
    };
    let (attributes, attributes_ok) =
        limit(cell.span_attributes, |s| s.span_limits.attributes.as_ref());
    let (links, links_ok) = limit(cell.span_links, |s| s.span_limits.links.as_ref());
    let (spans_f, spans_ok) = limit(cell.spans, |s| s.span_limits.spans.as_ref());
    let oks = [kernel_ok, span_ok, attributes_ok, links_ok, spans_ok];
    let verdict = if oks.contains(&Some(false)) {
        FidelityVerdict::Lossy
    } else if oks.iter().all(Option::is_none) {
        FidelityVerdict::Inconclusive
    } else {
        FidelityVerdict::Clean
    };
    CellFidelity {
        kernel_target: cell.kernel_events as u64,
        kernel_seen_min,
        span_target: cell.span_events as u64,
        span_retained: span.as_ref().map(|f| f.retained),
        retained_ranges: span
            .as_ref()
            .map(|f| f.retained_ranges.clone())
            .unwrap_or_default(),
        pattern: span.as_ref().map(|f| f.pattern),
        effective_limit: span.as_ref().and_then(|f| f.effective_limit),
        limit_source: span.as_ref().and_then(|f| f.limit_source),
        attributes,
        links,
        spans: spans_f,
        verdict,
    }
}

/// The sample that kept the fewest items; among equals, one whose SDK count disagrees.
fn worst_limit<'a>(fids: impl Iterator<Item = &'a LimitFidelity>) -> Option<LimitFidelity> {
    fids.min_by_key(|f| (f.retained, f.counts_agree() != Some(false)))
        .cloned()
}

/// The gates, in the order a cell is checked.
pub const GATES: [&str; 7] = [
    "validity",
    "kernel_fidelity",
    "span_fidelity",
    "attribute_fidelity",
    "link_fidelity",
    "span_drop",
    "tail_ratio",
];

/// Why `cell` fails `gate`, if it does.
pub fn gate_failure(cell: &CellSummary, gate: &str) -> Option<Boundary> {
    let f = &cell.fidelity;
    let boundary = |detail: String| Boundary {
        cell: cell.id.clone(),
        gate: gate.into(),
        detail,
    };
    match gate {
        "validity" => cell
            .arms
            .iter()
            .find(|(_, s)| s.discarded > 0)
            .map(|(arm, s)| {
                boundary(format!(
                    "arm {} discarded {} sample(s): {}",
                    arm.as_str(),
                    s.discarded,
                    s.discard_reasons.join("; ")
                ))
            }),
        "kernel_fidelity" => f
            .kernel_seen_min
            .filter(|s| *s < f.kernel_target)
            .map(|seen| boundary(format!("{seen} of {} worker files seen", f.kernel_target))),
        "span_fidelity" => f
            .pattern
            .filter(|p| *p != RetentionPattern::Complete && *p != RetentionPattern::None)
            .map(|p| {
                boundary(format!(
                    "{} of {} span events retained ({})",
                    f.span_retained.unwrap_or(0),
                    f.span_target,
                    pattern_name(Some(p))
                ))
            }),
        "attribute_fidelity" => {
            limit_failure(f.attributes.as_ref(), "root-span attributes").map(boundary)
        }
        "link_fidelity" => limit_failure(f.links.as_ref(), "links").map(boundary),
        "span_drop" => limit_failure(f.spans.as_ref(), "burst spans").map(boundary),
        "tail_ratio" => cell
            .arms
            .iter()
            .find(|(_, s)| s.tail_band == Some(TailBand::Fail))
            .map(|(arm, _)| boundary(format!("arm {} p99/median > 2.0", arm.as_str()))),
        _ => None,
    }
}

/// `"122 of 500 root-span attributes retained (oldest_kept); the SDK reported 378 dropped,
/// tare counted 378"`, when the limit lost something or the counts disagree.
pub fn limit_failure(f: Option<&LimitFidelity>, what: &str) -> Option<String> {
    let f = f.filter(|f| !f.is_clean())?;
    let sdk = match f.dropped_by_sdk {
        Some(d) => format!("the SDK reported {d} dropped"),
        None => "the SDK reported no count".into(),
    };
    Some(format!(
        "{} of {} {what} retained ({}); {sdk}, tare counted {}",
        f.retained,
        f.target,
        pattern_name(Some(f.pattern)),
        f.dropped_counted
    ))
}

/// The first gate a cell fails, in the order of [`GATES`].
fn first_failed_gate(cell: &CellSummary) -> Option<Boundary> {
    GATES.iter().find_map(|gate| gate_failure(cell, gate))
}

/// The JSON name of a retention pattern.
pub fn pattern_name(p: Option<RetentionPattern>) -> &'static str {
    match p {
        Some(RetentionPattern::Complete) => "complete",
        Some(RetentionPattern::NewestKept) => "newest_kept",
        Some(RetentionPattern::OldestKept) => "oldest_kept",
        Some(RetentionPattern::Gaps) => "gaps",
        Some(RetentionPattern::None) | None => "none",
    }
}

fn fmt_delta(d: &Delta) -> String {
    match (d.ci_low, d.ci_high) {
        (Some(lo), Some(hi)) => format!(
            "{:+.2} ms (95% CI {:+.2} to {:+.2})",
            d.estimate.unwrap_or(f64::NAN),
            lo,
            hi
        ),
        _ => format!(
            "{:+.2} ms (no CI: n={})",
            d.estimate.unwrap_or(f64::NAN),
            d.n
        ),
    }
}

fn headline(cells: &[CellSummary]) -> String {
    let Some(cell) = cells.first() else {
        return "no cells were run".into();
    };
    let mut parts = Vec::new();
    if let Some(bare) = cell.arms.get(&Arm::Bare).and_then(|a| a.wall_ms.as_ref()) {
        parts.push(format!("{}: bare median {:.2} ms", cell.id, bare.median));
    }
    for (name, label) in [
        ("a_vs_bare", "capture"),
        ("b_vs_bare", "OTel"),
        ("c_vs_bare", "both"),
    ] {
        if let Some(d) = cell.deltas.iter().find(|d| {
            d.metric == WALL_MS && d.name == name && d.estimate.is_some_and(f64::is_finite)
        }) {
            parts.push(format!("{label} {}", fmt_delta(d)));
        }
    }
    let mut s = parts.join("; ");
    if let Some(lossy) = cells.iter().find(|c| {
        c.fidelity
            .pattern
            .is_some_and(|p| p != RetentionPattern::Complete && p != RetentionPattern::None)
    }) {
        s.push_str(&format!(
            ". Span events in {}: {} of {} retained ({})",
            lossy.id,
            lossy.fidelity.span_retained.unwrap_or(0),
            lossy.fidelity.span_target,
            pattern_name(lossy.fidelity.pattern)
        ));
    }
    let beyond: Vec<String> = [
        (
            "attributes",
            (|c| c.fidelity.attributes.as_ref()) as fn(&CellSummary) -> Option<&LimitFidelity>,
        ),
        ("links", |c| c.fidelity.links.as_ref()),
        ("spans", |c| c.fidelity.spans.as_ref()),
    ]
    .into_iter()
    .filter_map(|(what, get)| {
        cells.iter().find_map(|c| {
            get(c).filter(|f| !f.is_clean()).map(|f| {
                format!(
                    "{what} in {}: {} of {} retained ({})",
                    c.id,
                    f.retained,
                    f.target,
                    pattern_name(Some(f.pattern))
                )
            })
        })
    })
    .collect();
    if !beyond.is_empty() {
        s.push_str(&format!(". Beyond span events, {}", beyond.join("; ")));
    }
    s.push('.');
    s
}

fn not_shown(cells: &[CellSummary], host_class: &str, partial: bool) -> Vec<String> {
    let mut out = Vec::new();
    if partial {
        out.push("The run was stopped early: some cells or samples are missing.".into());
    }
    let min_valid = cells
        .iter()
        .flat_map(|c| c.arms.values())
        .map(|a| a.valid)
        .min()
        .unwrap_or(0);
    if min_valid < WALL_CLAIM_N {
        out.push(format!(
            "No wall-clock claim is made where an arm has fewer than {WALL_CLAIM_N} valid samples (the fewest here: {min_valid}); medians and CIs are shown as diagnostics."
        ));
    }
    if cells
        .iter()
        .flat_map(|c| c.arms.values())
        .any(|a| !a.rss_claim)
    {
        out.push(format!(
            "No RSS claim is made where an arm has fewer than {RSS_CLAIM_N} valid samples."
        ));
    }
    let arms_without = |absent: fn(&ArmSummary) -> bool| -> Vec<String> {
        cells
            .iter()
            .flat_map(|c| c.arms.iter().map(move |(arm, a)| (c, arm, a)))
            .filter(|(_, _, a)| a.valid > 0 && absent(a))
            .map(|(c, arm, _)| format!("{}/{}", c.id, arm.as_str()))
            .collect()
    };
    let no_cpu = arms_without(|a| a.cpu_ms.is_none());
    if !no_cpu.is_empty() && no_cpu.len() == arms_without(|_| true).len() {
        out.push("These samples carry no CPU time, context switches, page faults or charged memory (recorded before tare measured them): no CPU delta is computed and no CPU or charged-memory figure is shown.".into());
    } else if !no_cpu.is_empty() {
        out.push(format!(
            "CPU time was not recorded for {}: no CPU figure is shown there.",
            no_cpu.join(", ")
        ));
    }
    let no_memory = arms_without(|a| a.cpu_ms.is_some() && a.memory_peak_bytes.is_none());
    if !no_memory.is_empty() {
        out.push(format!(
            "Charged memory (the cgroup's memory peak) was not measured for {}.",
            no_memory.join(", ")
        ));
    }
    let max_valid = cells
        .iter()
        .flat_map(|c| c.arms.values())
        .map(|a| a.valid)
        .max()
        .unwrap_or(0);
    if max_valid < 100 {
        out.push("With n < 100, the nearest-rank p99 is the maximum sample.".into());
    }
    out.push(format!(
        "Results hold for host class {host_class} only; a different host class is not comparable."
    ));
    out.push("Overheads are of the built-in workload (or the experiment's commands), not of every program.".into());
    out
}
