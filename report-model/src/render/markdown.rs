//! summary.md: a GitHub-flavoured report of a summary, pasteable into an issue, with mermaid charts.
//!
//! Layout: title, headline, a run table, the boundary (when a gate failed), one section per
//! cell (arms table, median chart, deltas table), the fidelity table with a span-retention
//! chart, and "What this does not show". Every string from the result goes through
//! [`crate::render::escape::markdown`] (tables cannot break, nothing renders as HTML, links, mentions or
//! emphasis) or [`mermaid::label`]. Numbers: ms with two decimals, bytes as MiB with one,
//! p-values to three significant digits.

use std::fmt::Write as _;

use crate::analysis::summary::{pattern_name, RSS_CLAIM_N, WALL_CLAIM_N};
use crate::render::escape::markdown as md;
use crate::render::{format, mermaid};
use crate::schema::experiment::Tier;
use crate::schema::summary::{ArmSummary, CellSummary, Delta, FidelityVerdict, Summary};
use crate::stats::Verdict;

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
    for cell in &summary.cells {
        cell_section(&mut out, cell);
    }
    fidelity_section(&mut out, summary);
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
    let _ = writeln!(
        out,
        "{} kernel events, {} span events, concurrency {}, payload {} bytes.\n",
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
    if !cell.deltas.is_empty() {
        out.push_str("| Comparison | Estimate (ms) | 95% CI (ms) | p | n | Verdict |\n");
        out.push_str("|---|---:|---|---:|---|---|\n");
        for d in &cell.deltas {
            delta_row(out, d);
        }
        out.push('\n');
    }
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
