//! Builds summary.json from samples: per-arm statistics, deltas, fidelity, gates, headline.

use std::collections::BTreeMap;

use crate::schema::experiment::{Arm, Cell, Experiment};
use crate::schema::sample::{RetentionPattern, Sample, SpanFidelity};
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

const NS_PER_MS: f64 = 1e6;

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
        not_shown,
    }
}

fn counted<'a>(
    samples: &'a [Sample],
    cell: &str,
    arm: Arm,
) -> impl Iterator<Item = &'a Sample> + 'a {
    let cell = cell.to_string();
    samples
        .iter()
        .filter(move |s| s.cell == cell && s.arm == arm && !s.warmup)
}

fn summarize_cell(cell: &Cell, arms: &[Arm], samples: &[Sample]) -> CellSummary {
    let mut arm_summaries = BTreeMap::new();
    for &arm in arms {
        arm_summaries.insert(arm, summarize_arm(counted(samples, &cell.id, arm)));
    }
    let mut deltas = Vec::new();
    for (name, base, cand) in COMPARISONS {
        if arms.contains(&base) && arms.contains(&cand) {
            deltas.push(wall_delta(name, samples, &cell.id, base, cand));
        }
    }
    if Arm::ALL.iter().all(|a| arms.contains(a)) {
        deltas.push(interaction(samples, &cell.id));
    }
    CellSummary {
        id: cell.id.clone(),
        kernel_events: cell.kernel_events,
        span_events: cell.span_events,
        concurrency: cell.concurrency,
        payload_bytes: cell.payload_bytes,
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
    let wall: Vec<f64> = valid.iter().map(|s| s.wall_ns as f64 / NS_PER_MS).collect();
    let wall_ms = Distribution::of(&wall);
    let (tail_ratio, tail_band) = match &wall_ms {
        Some(d) => match stats::tail_ratio(d) {
            Some((r, band)) => (Some(r), Some(band)),
            None => (None, None),
        },
        None => (None, None),
    };
    let rss: Vec<f64> = valid
        .iter()
        .filter_map(|s| s.peak_rss_bytes)
        .map(|b| b as f64)
        .collect();
    let artifact: Vec<f64> = valid.iter().map(|s| s.artifact_bytes as f64).collect();
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
    }
}

/// Valid wall-clock values of `arm` by block.
fn by_block(samples: &[Sample], cell: &str, arm: Arm) -> BTreeMap<u32, f64> {
    counted(samples, cell, arm)
        .filter(|s| s.valid)
        .filter_map(|s| s.pair.map(|b| (b, s.wall_ns as f64 / NS_PER_MS)))
        .collect()
}

fn delta_from(name: &str, base: &[f64], cand: &[f64], paired: bool) -> Delta {
    let n = base.len().min(cand.len()) as u32;
    let shift = if paired {
        stats::paired_shift(base, cand, 0.95)
    } else {
        stats::unpaired_shift(base, cand, 0.95)
    };
    match shift {
        Ok(s) => Delta {
            name: name.into(),
            metric: "wall_ms".into(),
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
            metric: "wall_ms".into(),
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

/// cand - base on wall-clock, paired by block where blocks exist, else unpaired.
fn wall_delta(name: &str, samples: &[Sample], cell: &str, base: Arm, cand: Arm) -> Delta {
    let b = by_block(samples, cell, base);
    let c = by_block(samples, cell, cand);
    let blocks: Vec<u32> = b.keys().filter(|k| c.contains_key(k)).copied().collect();
    if !blocks.is_empty() {
        let base_v: Vec<f64> = blocks.iter().map(|k| b[k]).collect();
        let cand_v: Vec<f64> = blocks.iter().map(|k| c[k]).collect();
        return delta_from(name, &base_v, &cand_v, true);
    }
    let wall = |arm| -> Vec<f64> {
        counted(samples, cell, arm)
            .filter(|s| s.valid)
            .map(|s| s.wall_ns as f64 / NS_PER_MS)
            .collect()
    };
    delta_from(name, &wall(base), &wall(cand), false)
}

/// (C - bare) - ((A - bare) + (B - bare)) per block, i.e. C against A + B - bare.
fn interaction(samples: &[Sample], cell: &str) -> Delta {
    let [bare, a, b, c] = Arm::ALL.map(|arm| by_block(samples, cell, arm));
    let blocks: Vec<u32> = bare
        .keys()
        .filter(|k| a.contains_key(k) && b.contains_key(k) && c.contains_key(k))
        .copied()
        .collect();
    let base: Vec<f64> = blocks.iter().map(|k| a[k] + b[k] - bare[k]).collect();
    let cand: Vec<f64> = blocks.iter().map(|k| c[k]).collect();
    delta_from("interaction", &base, &cand, true)
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
    let verdict = match (kernel_ok, span_ok) {
        (Some(false), _) | (_, Some(false)) => FidelityVerdict::Lossy,
        (None, None) => FidelityVerdict::Inconclusive,
        _ => FidelityVerdict::Clean,
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
        verdict,
    }
}

/// The first gate a cell fails, in the order: health, kernel fidelity, span fidelity, tail.
fn first_failed_gate(cell: &CellSummary) -> Option<Boundary> {
    if let Some((arm, s)) = cell.arms.iter().find(|(_, s)| s.discarded > 0) {
        return Some(Boundary {
            cell: cell.id.clone(),
            gate: "validity".into(),
            detail: format!(
                "arm {} discarded {} sample(s): {}",
                arm.as_str(),
                s.discarded,
                s.discard_reasons.join("; ")
            ),
        });
    }
    let f = &cell.fidelity;
    if let Some(seen) = f.kernel_seen_min.filter(|s| *s < f.kernel_target) {
        return Some(Boundary {
            cell: cell.id.clone(),
            gate: "kernel_fidelity".into(),
            detail: format!("{seen} of {} worker files seen", f.kernel_target),
        });
    }
    if f.pattern
        .is_some_and(|p| p != RetentionPattern::Complete && p != RetentionPattern::None)
    {
        return Some(Boundary {
            cell: cell.id.clone(),
            gate: "span_fidelity".into(),
            detail: format!(
                "{} of {} span events retained ({})",
                f.span_retained.unwrap_or(0),
                f.span_target,
                pattern_name(f.pattern)
            ),
        });
    }
    if let Some((arm, _)) = cell
        .arms
        .iter()
        .find(|(_, s)| s.tail_band == Some(TailBand::Fail))
    {
        return Some(Boundary {
            cell: cell.id.clone(),
            gate: "tail_ratio".into(),
            detail: format!("arm {} p99/median > 2.0", arm.as_str()),
        });
    }
    None
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
        if let Some(d) = cell
            .deltas
            .iter()
            .find(|d| d.name == name && d.estimate.is_some_and(f64::is_finite))
        {
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
