//! summary.md: a GitHub-flavoured report of a summary, pasteable into an issue, with mermaid charts.
//!
//! Layout: title, headline, a run table, the boundary (when a gate failed, and the first cell
//! of every failed gate when more than one failed), one section per
//! cell (arms table, median chart, wall-clock deltas table; then, when the samples recorded
//! them, a CPU table with the CPU deltas and what they decompose, and a memory table), the
//! fidelity table with a span-retention chart, the span-limits table (attributes, links, whole
//! spans) when a cell asked for them, and "What this does not show". Every string
//! from the result goes through [`crate::render::escape::markdown`] (tables cannot break,
//! nothing renders as HTML, links, mentions or emphasis) or [`mermaid::label`]. Numbers: ms with two decimals, bytes as MiB with one,
//! p-values to three significant digits.

use std::fmt::Write as _;

use crate::analysis::summary::{pattern_name, CPU_MS, RSS_CLAIM_N, WALL_CLAIM_N, WALL_MS};
use crate::render::escape::markdown as md;
use crate::render::{format, mermaid, span_limits};
use crate::schema::experiment::Tier;
use crate::schema::summary::{ArmSummary, CellSummary, Delta, FidelityVerdict, Summary};
use crate::stats::{Distribution, Verdict};

fn tier(t: Tier) -> &'static str {
    match t {
        Tier::Smoke => "smoke",
        Tier::Extended => "extended",
        Tier::Certification => "certification",
    }
}

/// The whole summary.md.
pub fn summary_md(summary: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# tare bench: {}\n", md(&summary.experiment));
    let _ = writeln!(out, "{}\n", md(&summary.headline));
    out.push_str("| Experiment | Tier | Host class | Cells | Complete |\n");
    out.push_str("|---|---|---|---:|---|\n");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        md(&summary.experiment),
        tier(summary.tier),
        md(&summary.host_class),
        summary.cells.len(),
        if summary.partial {
            "no (partial)"
        } else {
            "yes"
        }
    );
    if summary.partial {
        out.push_str(
            "> [!WARNING]\n> The run was stopped early: some cells or samples are missing.\n\n",
        );
    }
    if let Some(b) = &summary.boundary {
        out.push_str("## Boundary\n\n");
        let _ = writeln!(
            out,
            "The first gate that failed: **{}** in cell **{}**: {}.\n",
            md(&b.gate),
            md(&b.cell),
            md(&b.detail)
        );
    }
    if summary.boundaries.len() > 1 {
        out.push_str(
            "The first cell where each gate failed:\n\n| Gate | Cell | Detail |\n|---|---|---|\n",
        );
        for b in &summary.boundaries {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                md(&b.gate),
                md(&b.cell),
                md(&b.detail)
            );
        }
        out.push('\n');
    }
    for cell in &summary.cells {
        cell_section(&mut out, cell);
    }
    fidelity_section(&mut out, summary);
    span_limits_section(&mut out, summary);
    out.push_str("## What this does not show\n\n");
    if summary.not_shown.is_empty() {
        out.push_str("- Nothing was recorded as not shown.\n");
    }
    for line in &summary.not_shown {
        let _ = writeln!(out, "- {}", md(line));
    }
    out
}

fn p99_cell(arm: &ArmSummary) -> String {
    match &arm.wall_ms {
        Some(d) if d.p99_is_max() => format!("{} (max)", format::ms(d.p99)),
        Some(d) => format::ms(d.p99),
        None => "—".into(),
    }
}

fn tail_cell(arm: &ArmSummary) -> String {
    match (arm.tail_ratio, arm.tail_band) {
        (Some(r), Some(b)) if r.is_finite() => format!("{r:.2} ({})", format::band(b)),
        (Some(r), None) if r.is_finite() => format!("{r:.2}"),
        _ => "—".into(),
    }
}

fn cell_section(out: &mut String, cell: &CellSummary) {
    let _ = writeln!(out, "## Cell {}\n", md(&cell.id));
    let mut knobs = String::new();
    for (n, what) in [
        (cell.span_attributes, "root-span attributes"),
        (cell.span_links, "links"),
        (cell.spans, "burst spans"),
    ] {
        if n > 0 {
            let _ = write!(knobs, ", {n} {what}");
        }
    }
    let _ = writeln!(
        out,
        "{} kernel events, {} span events{knobs}, concurrency {}, payload {} bytes.\n",
        cell.kernel_events, cell.span_events, cell.concurrency, cell.payload_bytes
    );
    out.push_str("| Arm | Valid | Discarded | Median (ms) | p95 (ms) | p99 (ms) | p99/median | Peak RSS (median) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---|---:|\n");
    for (arm, a) in &cell.arms {
        let w = a.wall_ms.as_ref();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(arm.label()),
            a.valid,
            a.discarded,
            w.map(|d| format::ms(d.median))
                .unwrap_or_else(|| "—".into()),
            w.map(|d| format::ms(d.p95)).unwrap_or_else(|| "—".into()),
            p99_cell(a),
            tail_cell(a),
            a.rss_bytes
                .as_ref()
                .map(|d| format::mib(d.median))
                .unwrap_or_else(|| "—".into()),
        );
    }
    out.push('\n');
    for (arm, a) in &cell.arms {
        if !a.discard_reasons.is_empty() {
            let reasons: Vec<String> = a.discard_reasons.iter().map(|r| md(r)).collect();
            let _ = writeln!(
                out,
                "Discarded in {}: {}.\n",
                md(arm.label()),
                reasons.join("; ")
            );
        }
    }
    let no_wall: Vec<&str> = cell
        .arms
        .iter()
        .filter(|(_, a)| !a.wall_claim)
        .map(|(arm, _)| arm.label())
        .collect();
    if !no_wall.is_empty() {
        let _ = writeln!(
            out,
            "_Below {WALL_CLAIM_N} valid samples (no wall-clock claim, diagnostics only): {}._\n",
            md(&no_wall.join(", "))
        );
    }
    let no_rss: Vec<&str> = cell
        .arms
        .iter()
        .filter(|(_, a)| a.rss_bytes.is_some() && !a.rss_claim)
        .map(|(arm, _)| arm.label())
        .collect();
    if !no_rss.is_empty() {
        let _ = writeln!(
            out,
            "_Below {RSS_CLAIM_N} RSS samples (no RSS claim): {}._\n",
            md(&no_rss.join(", "))
        );
    }
    let (labels, medians): (Vec<&str>, Vec<f64>) = cell
        .arms
        .iter()
        .filter_map(|(arm, a)| {
            a.wall_ms
                .as_ref()
                .filter(|d| d.median.is_finite())
                .map(|d| (arm.label(), d.median))
        })
        .unzip();
    if !labels.is_empty() {
        out.push_str(&mermaid::bar_chart(
            &format!("Median wall-clock per arm, {}", cell.id),
            "ms",
            &labels,
            &medians,
        ));
        out.push('\n');
    }
    deltas_table(out, "Comparison", &deltas_of(cell, WALL_MS));
    cpu_section(out, cell);
    memory_section(out, cell);
}

fn deltas_of<'a>(cell: &'a CellSummary, metric: &str) -> Vec<&'a Delta> {
    cell.deltas.iter().filter(|d| d.metric == metric).collect()
}

fn deltas_table(out: &mut String, first: &str, deltas: &[&Delta]) {
    if deltas.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| {first} | Estimate (ms) | 95% CI (ms) | p | n | Verdict |"
    );
    out.push_str("|---|---:|---|---:|---|---|\n");
    for d in deltas {
        delta_row(out, d);
    }
    out.push('\n');
}

/// The median of a distribution, formatted, or `—`.
fn median(d: Option<&Distribution>, f: fn(f64) -> String) -> String {
    d.map(|d| f(d.median)).unwrap_or_else(|| "—".into())
}

/// Two medians as `x / y`, or `—` when neither was measured.
fn medians(a: Option<&Distribution>, b: Option<&Distribution>, f: fn(f64) -> String) -> String {
    if a.is_none() && b.is_none() {
        return "—".into();
    }
    format!("{} / {}", median(a, f), median(b, f))
}

fn cv(v: Option<f64>) -> String {
    v.map(format::percent).unwrap_or_else(|| "—".into())
}

fn cpu_section(out: &mut String, cell: &CellSummary) {
    let deltas = deltas_of(cell, CPU_MS);
    if deltas.is_empty() && cell.arms.values().all(|a| a.cpu_ms.is_none()) {
        return;
    }
    out.push_str("CPU time of the workload (user + system, from `wait4` rusage as GNU time reports it, the same in every arm), tare's own CPU (capture arms), and the spread of wall-clock and CPU time (coefficient of variation: SD / mean):\n\n");
    out.push_str("| Arm | CPU median (ms) | User / sys (ms) | tare's CPU (ms) | Wall CV | CPU CV | Context switches (vol. / invol.) | Page faults (minor / major) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (arm, a) in &cell.arms {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            md(arm.label()),
            median(a.cpu_ms.as_ref(), format::ms),
            medians(a.cpu_user_ms.as_ref(), a.cpu_sys_ms.as_ref(), format::ms),
            median(a.tare_cpu_ms.as_ref(), format::ms),
            cv(a.wall_cv),
            cv(a.cpu_cv),
            medians(
                a.voluntary_ctxt_switches.as_ref(),
                a.involuntary_ctxt_switches.as_ref(),
                format::count
            ),
            medians(
                a.minor_faults.as_ref(),
                a.major_faults.as_ref(),
                format::count
            ),
        );
    }
    out.push('\n');
    deltas_table(out, "CPU comparison", &deltas);
    if let Some(s) = decomposition(cell) {
        let _ = writeln!(out, "{s}\n");
    }
}

fn estimate_ci(d: &Delta) -> String {
    let est = format::signed_ms(d.estimate.unwrap_or(f64::NAN));
    match (d.ci_low, d.ci_high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => format!(
            "{est} ms (95% CI {} to {}, {})",
            format::signed_ms(l),
            format::signed_ms(h),
            format::verdict(d.verdict)
        ),
        _ => format!("{est} ms (no CI, {})", format::verdict(d.verdict)),
    }
}

/// Whether CPU time decomposes the 2x2 design where wall-clock cannot: the interaction on
/// both, and the comparisons whose verdicts differ.
fn decomposition(cell: &CellSummary) -> Option<String> {
    let find = |metric: &str, name: &str| {
        cell.deltas
            .iter()
            .find(|d| d.metric == metric && d.name == name)
    };
    let mut parts = Vec::new();
    if let (Some(w), Some(c)) = (find(WALL_MS, "interaction"), find(CPU_MS, "interaction")) {
        use Verdict::{Difference, InsufficientSamples};
        let conclusion = match (c.verdict, w.verdict) {
            (InsufficientSamples, _) | (_, InsufficientSamples) => {
                "Too few pairs to tell whether the costs add"
            }
            (Difference, Difference) => {
                "Both find that the costs of capture and OTel do not simply add"
            }
            (Difference, _) => {
                "CPU time decomposes where wall-clock cannot: it detects an interaction that wall-clock's spread hides"
            }
            (_, Difference) => {
                "Wall-clock detects an interaction CPU time does not: the extra time is spent off the workload's CPU (waiting), not computing"
            }
            _ => "Neither detects an interaction: the costs add within these intervals",
        };
        parts.push(format!(
            "Interaction C - (A + B - bare): CPU {}, wall-clock {}. {conclusion}.",
            estimate_ci(c),
            estimate_ci(w)
        ));
    }
    let differ: Vec<String> = deltas_of(cell, CPU_MS)
        .into_iter()
        .filter(|c| c.name != "interaction")
        .filter_map(|c| {
            let w = find(WALL_MS, &c.name)?;
            (w.verdict != c.verdict).then(|| {
                format!(
                    "{} (CPU {}, wall-clock {})",
                    format::delta_label(&c.name),
                    format::verdict(c.verdict),
                    format::verdict(w.verdict)
                )
            })
        })
        .collect();
    if !parts.is_empty() || !differ.is_empty() {
        parts.push(if differ.is_empty() {
            "Every other comparison has the same verdict on CPU time as on wall-clock.".into()
        } else {
            format!(
                "Comparisons whose verdicts differ between CPU time and wall-clock: {}.",
                differ.join("; ")
            )
        });
    }
    (!parts.is_empty()).then(|| md(&parts.join(" ")))
}

fn memory_section(out: &mut String, cell: &CellSummary) {
    if cell.arms.values().all(|a| {
        a.memory_peak_bytes.is_none() && a.rss_sum_bytes.is_none() && a.tare_kernel_bytes.is_none()
    }) {
        return;
    }
    out.push_str("Memory, medians: the workload's peak RSS as GNU time reports it (its largest process's), the sum of its processes' peaks, the cgroup's charged-memory peak (cgroup charged memory, not RSS: it leaves out file pages cached before the run), and tare's own:\n\n");
    out.push_str("| Arm | Peak RSS, largest process | Summed RSS of the tree | Memory peak (cgroup charged memory, not RSS) | tare's peak RSS | tare's kernel memory (eBPF maps) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for (arm, a) in &cell.arms {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md(arm.label()),
            median(a.rss_bytes.as_ref(), format::mib),
            median(a.rss_sum_bytes.as_ref(), format::mib),
            median(a.memory_peak_bytes.as_ref(), format::mib),
            median(a.tare_rss_bytes.as_ref(), format::mib),
            median(a.tare_kernel_bytes.as_ref(), format::mib),
        );
    }
    out.push('\n');
}

fn delta_row(out: &mut String, d: &Delta) {
    let label = format::delta_label(&d.name);
    let name = if label == d.name {
        md(&d.name)
    } else {
        format!("{} ({})", md(&label), md(&d.name))
    };
    let ci = match (d.ci_low, d.ci_high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => {
            format!("{} to {}", format::signed_ms(l), format::signed_ms(h))
        }
        _ => "no CI".into(),
    };
    let p = d.p_value.map(format::p_value).unwrap_or_else(|| "—".into());
    let n = if d.paired {
        format!("{} pairs", d.n)
    } else {
        format!("{} (unpaired, smaller side)", d.n)
    };
    let verdict = match d.verdict {
        Verdict::Difference => format!("**{}**", format::verdict(d.verdict)),
        v => format::verdict(v).to_string(),
    };
    let _ = writeln!(
        out,
        "| {name} | {} | {ci} | {p} | {n} | {verdict} |",
        format::signed_ms(d.estimate.unwrap_or(f64::NAN))
    );
}

/// Attributes, links and whole spans per cell, when any cell asked for them.
fn span_limits_section(out: &mut String, summary: &Summary) {
    let rows = span_limits::limit_rows(summary);
    if rows.is_empty() {
        return;
    }
    out.push_str("## Span limits: attributes, links, whole spans\n\n");
    out.push_str("| Cell | Kind | Target | Retained | Kept indexes | Pattern | SDK dropped | tare counted | Counts agree |\n");
    out.push_str("|---|---|---:|---:|---|---|---:|---:|---|\n");
    for r in &rows {
        let retained = if r.clean {
            r.retained.to_string()
        } else {
            format!("**{}**", r.retained)
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {retained} | {} | {} | {} | {} | {} |",
            md(&r.cell),
            r.kind,
            r.target,
            md(&r.kept),
            md(r.pattern),
            md(&r.sdk_dropped),
            r.tare_counted,
            r.counts_agree
        );
    }
    out.push('\n');
    out.push_str("Per cell, the traced sample that kept the fewest. Attributes: `tare.sweep.attr.<i>` on the root span (its other attributes count toward the same limit); SDK dropped is its `droppedAttributesCount`. Links: the root span's links with `tare.sweep.index`; SDK dropped is `droppedLinksCount`. Spans: the burst's child spans `tare.sweep.span` through the batch span processor; OTLP has no field for lost spans, so SDK dropped is the SDK's own count where it exposes one (`tare.sweep.spans_dropped_by_sdk` on the root span) and `not exposed` otherwise. tare counted: target - retained.\n\n");
}

fn fidelity_section(out: &mut String, summary: &Summary) {
    out.push_str("## Fidelity\n\n");
    if summary.cells.is_empty() {
        out.push_str("No cells were run.\n\n");
        return;
    }
    out.push_str("| Cell | Kernel target | Kernel seen (min) | Span target | Span retained | Retained ranges | Pattern | Effective limit | Verdict |\n");
    out.push_str("|---|---:|---:|---:|---:|---|---|---|---|\n");
    for cell in &summary.cells {
        let f = &cell.fidelity;
        let limit = match (f.effective_limit, f.limit_source) {
            (Some(l), Some(s)) => format!("{l} ({})", format::limit_source(s)),
            (Some(l), None) => l.to_string(),
            _ => "—".into(),
        };
        let verdict = match f.verdict {
            FidelityVerdict::Lossy => format!("**{}**", format::fidelity(f.verdict)),
            v => format::fidelity(v).to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {limit} | {verdict} |",
            md(&cell.id),
            f.kernel_target,
            f.kernel_seen_min
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".into()),
            f.span_target,
            f.span_retained
                .map(|v| v.to_string())
                .unwrap_or_else(|| "—".into()),
            md(&format::ranges(&f.retained_ranges, 8)),
            f.pattern
                .map(|p| md(pattern_name(Some(p))))
                .unwrap_or_else(|| "—".into()),
        );
    }
    out.push('\n');
    out.push_str("Kernel seen: fewest unique worker files in any capture sample. Span retained and ranges: the traced sample that kept the fewest span events (ranges inclusive).\n\n");
    let traced: Vec<&CellSummary> = summary
        .cells
        .iter()
        .filter(|c| c.fidelity.span_target > 0)
        .collect();
    if !traced.is_empty() {
        let labels: Vec<&str> = traced.iter().map(|c| c.id.as_str()).collect();
        let chart = mermaid::XyChart::new("Span events per cell: bars = target, line = retained")
            .x_labels(&labels)
            .y_axis("span events", None)
            .bar(
                traced
                    .iter()
                    .map(|c| c.fidelity.span_target as f64)
                    .collect(),
            )
            .line(
                traced
                    .iter()
                    .map(|c| c.fidelity.span_retained.unwrap_or(0) as f64)
                    .collect(),
            );
        out.push_str(&chart.to_block());
        out.push('\n');
    }
}
