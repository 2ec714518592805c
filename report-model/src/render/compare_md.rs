//! The markdown of `tare compare --markdown`: a GitHub-flavoured comparison for an issue comment, and the number formats it shares with the terminal table.
//!
//! Layout: title, headline, a caution block when host classes differ, the two sides, the
//! rule, the flagged metrics (regressions and improvements), one table per cell, what is on
//! one side only, and notes. Every string from an input goes through
//! [`crate::render::escape::markdown`].

use std::fmt::Write as _;

use crate::analysis::compare::{fmt_pct, metric_path};
use crate::render::escape::markdown as md;
use crate::render::format;
use crate::schema::compare::{
    ArmComparison, ChangeVerdict, CompareReport, InputKind, MetricComparison, Outcome, Presence,
    Side, Unit,
};
use crate::schema::experiment::Tier;

const KIB: f64 = 1024.0;

/// A value in its unit: `12.34 ms`, `512 B`, `2.5 KiB`, `10.3 MiB`; `—` when not finite.
pub fn value(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    match unit {
        Unit::Ms => format!("{v:.2} ms"),
        Unit::Bytes => bytes(v, false),
        Unit::Ratio => format!("x{v:.3}"),
    }
}

/// A signed value in its unit: `+1.23 ms`, `-2.0 KiB`; `—` when not finite.
pub fn signed_value(unit: Unit, v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    match unit {
        Unit::Ms => format!("{v:+.2} ms"),
        Unit::Bytes => bytes(v, true),
        Unit::Ratio => format!("{v:+.3}"),
    }
}

fn bytes(v: f64, signed: bool) -> String {
    let sign = if signed && v >= 0.0 {
        "+"
    } else if v < 0.0 {
        "-"
    } else {
        ""
    };
    let a = v.abs();
    if a < KIB {
        format!("{sign}{a:.0} B")
    } else if a < KIB * KIB {
        format!("{sign}{:.1} KiB", a / KIB)
    } else {
        format!("{sign}{:.1} MiB", a / format::MIB)
    }
}

/// A signed percentage with one decimal: `+21.3%`; `—` when absent or not finite.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:+.1}%"),
        _ => "—".into(),
    }
}

/// An interval `low to high` in the metric's unit, or `—`.
pub fn interval(unit: Unit, low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) => format!("{} to {}", signed_value(unit, l), signed_value(unit, h)),
        _ => "—".into(),
    }
}

/// An interval in percent of the base median, or `—`.
pub fn interval_pct(low: Option<f64>, high: Option<f64>) -> String {
    match (low, high) {
        (Some(l), Some(h)) if l.is_finite() && h.is_finite() => {
            format!("{l:+.1}% to {h:+.1}%")
        }
        _ => "—".into(),
    }
}

/// A verdict in words.
pub fn verdict(v: ChangeVerdict) -> &'static str {
    match v {
        ChangeVerdict::Regression => "regression",
        ChangeVerdict::Improvement => "improvement",
        ChangeVerdict::NoDetectableChange => "no detectable change",
        ChangeVerdict::InsufficientSamples => "insufficient samples",
        ChangeVerdict::NotCompared => "not compared",
    }
}

/// An input kind in words.
pub fn kind(k: InputKind) -> &'static str {
    match k {
        InputKind::ResultsDir => "results directory",
        InputKind::Bundle => "bundle",
        InputKind::SummaryJson => "summary.json (no samples)",
    }
}

/// A tier's name.
pub fn tier(t: Tier) -> &'static str {
    match t {
        Tier::Smoke => "smoke",
        Tier::Extended => "extended",
        Tier::Certification => "certification",
    }
}

/// Where something was found, in words.
pub fn presence(p: Presence) -> &'static str {
    match p {
        Presence::Both => "both",
        Presence::BaseOnly => "base only",
        Presence::CandOnly => "cand only",
    }
}

/// The rule in one sentence, with the thresholds.
pub fn rule(r: &CompareReport) -> String {
    let level = fmt_pct(r.level * 100.0);
    let mut s = format!(
        "A metric regressed when the whole {level}% confidence interval of the Hodges-Lehmann \
         shift (cand - base, unpaired) lies above +{}% of the base median, improved when it \
         lies below -{0}%",
        fmt_pct(r.threshold_pct)
    );
    if !r.metric_thresholds.is_empty() {
        let o: Vec<String> = r
            .metric_thresholds
            .iter()
            .map(|t| format!("{} {}%", t.metric, fmt_pct(t.pct)))
            .collect();
        let _ = write!(s, " (overrides: {})", o.join(", "));
    }
    s.push_str(
        "; at least 4 valid samples per side are needed. The p-value (Mann-Whitney) is shown, \
         not used.",
    );
    s
}

/// The whole markdown report.
pub fn compare_md(r: &CompareReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# tare compare: {} vs {}\n",
        md(&r.base.experiment),
        md(&r.cand.experiment)
    );
    let status = match r.outcome {
        Outcome::Regression => "**Regression.**",
        Outcome::NoRegression => "**No regression.**",
        Outcome::NotCompared => "**Not compared.**",
    };
    let _ = writeln!(out, "{status} {}\n", md(&r.headline));
    if let Some(h) = &r.host_mismatch {
        let _ = writeln!(
            out,
            "> [!CAUTION]\n> Host classes differ in {} (base {}, cand {}). A cross-host \
             comparison is not a benchmark claim: the shifts mix the change with the machines.\n",
            md(&crate::analysis::compare::host_parts_text(&h.parts)),
            md(&h.base),
            md(&h.cand)
        );
    }
    if !r.statistical {
        out.push_str(
            "> [!WARNING]\n> No statistical comparison is possible without samples: medians \
             only. Compare results directories or bundles for shifts, intervals and verdicts.\n\n",
        );
    }
    out.push_str("| Side | Source | Kind | Experiment | Tier | Host class | tare | Commit |\n");
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    side_row(&mut out, "Base", &r.base);
    side_row(&mut out, "Cand", &r.cand);
    out.push('\n');
    let _ = writeln!(out, "{}\n", md(&rule(r)));

    let flagged: Vec<(&str, &ArmComparison, &MetricComparison)> = r
        .cells
        .iter()
        .flat_map(|c| {
            c.arms.iter().flat_map(move |a| {
                a.metrics
                    .iter()
                    .filter(|m| {
                        matches!(
                            m.verdict,
                            ChangeVerdict::Regression | ChangeVerdict::Improvement
                        )
                    })
                    .map(move |m| (c.id.as_str(), a, m))
            })
        })
        .collect();
    if !flagged.is_empty() {
        out.push_str("## Regressions and improvements\n\n");
        out.push_str("| Metric | Base median | Shift | 95% CI | Relative (95% CI) | p | Threshold | Verdict |\n");
        out.push_str("|---|---:|---:|---|---|---:|---:|---|\n");
        for (cell, arm, m) in flagged {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} ({}) | {} | {}% | {} |",
                md(&metric_path(cell, arm.arm, &m.metric)),
                m.base_median
                    .map(|v| value(m.unit, v))
                    .unwrap_or_else(|| "—".into()),
                m.shift
                    .map(|v| signed_value(m.unit, v))
                    .unwrap_or_else(|| "—".into()),
                interval(m.unit, m.ci_low, m.ci_high),
                pct(m.shift_pct),
                interval_pct(m.ci_low_pct, m.ci_high_pct),
                m.p_value.map(format::p_value).unwrap_or_else(|| "—".into()),
                fmt_pct(m.threshold_pct),
                verdict_cell(m.verdict)
            );
        }
        out.push('\n');
    }

    for cell in r.cells.iter().filter(|c| c.presence == Presence::Both) {
        let _ = writeln!(out, "## Cell {}\n", md(&cell.id));
        let _ = writeln!(
            out,
            "{} kernel events, {} span events, concurrency {}, payload {} bytes.\n",
            cell.kernel_events, cell.span_events, cell.concurrency, cell.payload_bytes
        );
        out.push_str("| Arm | Metric | n (base/cand) | Base median | Cand median | Shift | 95% CI | Relative (95% CI) | p | Verdict |\n");
        out.push_str("|---|---|---|---:|---:|---:|---|---|---:|---|\n");
        for arm in cell.arms.iter().filter(|a| a.presence == Presence::Both) {
            for m in &arm.metrics {
                metric_row(&mut out, arm, m);
            }
        }
        out.push('\n');
    }

    let one_sided = one_sided(r);
    if !one_sided.is_empty() {
        out.push_str("## On one side only\n\n");
        for line in one_sided {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    out.push_str("## Notes\n\n");
    if r.notes.is_empty() {
        out.push_str("- Same host class, same experiment, same arm commands.\n");
    }
    for n in &r.notes {
        let _ = writeln!(out, "- {}", md(n));
    }
    out
}

fn side_row(out: &mut String, label: &str, s: &Side) {
    let opt = |v: &Option<String>| v.as_deref().map(md).unwrap_or_else(|| "—".into());
    let _ = writeln!(
        out,
        "| {label} | {} | {} | {} | {} | {} | {} | {} |",
        md(&s.source),
        kind(s.kind),
        md(&s.experiment),
        tier(s.tier),
        md(&s.host_class),
        opt(&s.tare_version),
        opt(&s.git_commit)
    );
}

fn verdict_cell(v: ChangeVerdict) -> String {
    match v {
        ChangeVerdict::Regression | ChangeVerdict::Improvement => format!("**{}**", verdict(v)),
        _ => verdict(v).into(),
    }
}

fn metric_row(out: &mut String, arm: &ArmComparison, m: &MetricComparison) {
    let median = |v: Option<f64>| v.map(|v| value(m.unit, v)).unwrap_or_else(|| "—".into());
    let relative = if m.shift_pct.is_some() {
        format!(
            "{} ({})",
            pct(m.shift_pct),
            interval_pct(m.ci_low_pct, m.ci_high_pct)
        )
    } else if m.median_change_pct.is_some() {
        format!("medians {}", pct(m.median_change_pct))
    } else {
        "—".into()
    };
    let mut verdict = verdict_cell(m.verdict);
    if let Some(note) = &m.note {
        if m.verdict != ChangeVerdict::NotCompared {
            let _ = write!(verdict, " ({})", md(note));
        }
    }
    let _ = writeln!(
        out,
        "| {} | {} | {}/{} | {} | {} | {} | {} | {} | {} | {verdict} |",
        md(arm.arm.label()),
        md(&m.metric),
        m.n_base,
        m.n_cand,
        median(m.base_median),
        median(m.cand_median),
        m.shift
            .map(|v| signed_value(m.unit, v))
            .unwrap_or_else(|| "—".into()),
        interval(m.unit, m.ci_low, m.ci_high),
        relative,
        m.p_value.map(format::p_value).unwrap_or_else(|| "—".into()),
    );
}

/// Cells and arms found on one side only, in words, escaped for markdown.
pub fn one_sided(r: &CompareReport) -> Vec<String> {
    let mut out = Vec::new();
    for c in &r.cells {
        match c.presence {
            Presence::Both => {}
            p => out.push(format!("cell {}: {}", md(&c.id), presence(p))),
        }
        for a in &c.arms {
            if a.presence != Presence::Both {
                out.push(format!(
                    "cell {}, arm {}: {}",
                    md(&c.id),
                    md(a.arm.label()),
                    presence(a.presence)
                ));
            }
        }
    }
    out
}
