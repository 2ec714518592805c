//! Arm deltas with their 95% confidence intervals, one row per comparison, grouped by cell.

use super::canvas::{label_width, padded_domain, x_axis, Canvas, Scale, Size, AXIS, INK};
use super::{arm_color, WIDTH};
use crate::analysis::summary::WALL_MS;
use crate::render::format;
use crate::schema::experiment::Arm;
use crate::schema::summary::{CellSummary, Delta, Summary};
use crate::stats::Verdict;

const TOP: f64 = 52.0;
const HEADER_H: f64 = 24.0;
const ROW_H: f64 = 20.0;
const RIGHT_W: f64 = 240.0;

/// The candidate arm of a comparison (`c_vs_a` -> C; `interaction` -> C).
fn candidate(name: &str) -> Option<Arm> {
    let cand = if name == "interaction" {
        "c"
    } else {
        name.split_once("_vs_")?.0
    };
    Arm::ALL.into_iter().find(|a| a.as_str() == cand)
}

fn verdict_note(d: &Delta) -> String {
    let what = match d.verdict {
        Verdict::Difference => "CI excludes 0",
        Verdict::NoDetectableDifference => "CI includes 0",
        Verdict::InsufficientSamples => "too few samples",
    };
    match d.p_value {
        Some(p) if d.verdict != Verdict::InsufficientSamples => format!(
            "{} ms, {what}, p {}",
            format::signed_ms(d.estimate.unwrap_or(f64::NAN)),
            format::p_value(p)
        ),
        _ => format!(
            "{} ms, {what}",
            format::signed_ms(d.estimate.unwrap_or(f64::NAN))
        ),
    }
}

/// The wall-clock deltas of a cell (the chart leaves the CPU ones to summary.md and bmf.json).
fn wall(cell: &CellSummary) -> impl Iterator<Item = &Delta> {
    cell.deltas.iter().filter(|d| d.metric == WALL_MS)
}

/// Every cell's wall-clock deltas (cand - base, ms) as points with CI bars. A filled point:
/// the interval excludes 0 (`difference`); hollow: it does not, or there is none. The
/// estimate, what the interval says and the p-value are written beside each row.
pub fn deltas_svg(summary: &Summary) -> String {
    let rows: usize = summary.cells.iter().map(|c| wall(c).count()).sum();
    let longest = summary
        .cells
        .iter()
        .map(|c| c.id.chars().count().min(40))
        .chain(
            summary
                .cells
                .iter()
                .flat_map(wall)
                .map(|d| format::delta_label(&d.name).chars().count() + 2),
        )
        .max()
        .unwrap_or(10);
    let body = summary.cells.len() as f64 * HEADER_H + rows as f64 * ROW_H;
    let axis_y = TOP + body.max(ROW_H) + 8.0;
    let height = (axis_y + 44.0) as u32;
    let mut c = Canvas::new(
        WIDTH,
        height,
        "Wall-clock deltas between arms",
        &format!(
            "Hodges-Lehmann shift (candidate minus base) of wall-clock in ms with 95% confidence intervals for {} comparison(s) in {} cell(s) of experiment {}.",
            rows,
            summary.cells.len(),
            summary.experiment
        ),
    );
    c.heading("Wall-clock deltas (candidate - base), ms");
    c.subtitle(
        "Hodges-Lehmann estimate with 95% CI; filled: the CI excludes 0",
        120,
    );
    if rows == 0 {
        c.note("no comparisons in this result", TOP + 10.0);
        return c.finish();
    }
    let x0 = 12.0 + label_width(longest, Size::Normal);
    let x1 = c.width() - RIGHT_W;
    let values = summary
        .cells
        .iter()
        .flat_map(wall)
        .flat_map(|d| [d.estimate, d.ci_low, d.ci_high])
        .flatten()
        .chain([0.0]);
    let (lo, hi) = padded_domain(values);
    let scale = Scale::new(lo, hi, x0, x1);
    let zero = scale.map(0.0);
    c.line(&[(zero, TOP), (zero, axis_y)], INK, 0.6, 1);
    let mut y = TOP;
    for cell in &summary.cells {
        c.strong(&cell.id, 12.0, y + HEADER_H / 2.0, 40);
        y += HEADER_H;
        for d in wall(cell) {
            let mid = y + ROW_H / 2.0;
            let color = candidate(&d.name).map(arm_color).unwrap_or(INK);
            let label = format::delta_label(&d.name);
            c.plain(&label, 24.0, mid, 40);
            c.line(&[(x0, mid), (x1, mid)], AXIS, 0.15, 1);
            if let (Some(l), Some(h)) = (d.ci_low, d.ci_high) {
                if l.is_finite() && h.is_finite() {
                    let (xl, xh) = (scale.map(l), scale.map(h));
                    c.line(&[(xl, mid), (xh, mid)], color, 1.0, 2);
                    c.line(&[(xl, mid - 5.0), (xl, mid + 5.0)], color, 1.0, 2);
                    c.line(&[(xh, mid - 5.0), (xh, mid + 5.0)], color, 1.0, 2);
                }
            }
            if let Some(e) = d.estimate.filter(|v| v.is_finite()) {
                let filled = d.verdict == Verdict::Difference;
                c.circle(scale.map(e), mid, 4, color, filled);
            }
            c.muted(&verdict_note(d), x1 + 10.0, mid, 40);
            y += ROW_H;
        }
    }
    x_axis(&mut c, &scale, axis_y, TOP, "shift, ms (0 = no difference)");
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates() {
        assert_eq!(candidate("a_vs_bare"), Some(Arm::A));
        assert_eq!(candidate("c_vs_b"), Some(Arm::C));
        assert_eq!(candidate("interaction"), Some(Arm::C));
        assert_eq!(candidate("x"), None);
    }
}
