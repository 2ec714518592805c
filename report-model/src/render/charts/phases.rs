//! Capture phase breakdown per capture arm and cell: stacked phase medians with the residual.

use super::canvas::{label_width, x_axis, Anchor, Canvas, Scale, Size, INK};
use super::{phase_color, WIDTH};
use crate::render::format;
use crate::schema::experiment::Arm;
use crate::schema::phases::PHASE_NAMES;
use crate::schema::summary::{ArmSummary, Summary};

const TOP: f64 = 52.0;
const HEADER_H: f64 = 24.0;
const ROW_H: f64 = 24.0;
const RIGHT_W: f64 = 110.0;

/// The name the residual is recorded under in `phases_ms`.
pub const RESIDUAL: &str = "residual";

/// The stacked segments of one arm, in drawing order: the phases of [`PHASE_NAMES`] that
/// ran, then any other recorded phase by name, then the residual. Values are medians in ms.
/// The residual is the recorded `residual` phase when there is one, else the wall-clock
/// median minus the sum of the phase medians (at least 0). Medians do not add up exactly:
/// the median of a sum is not the sum of medians, so the stack is an approximation of the
/// typical run and the wall-clock median is drawn beside it.
pub fn segments(arm: &ArmSummary) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = PHASE_NAMES
        .iter()
        .filter_map(|name| {
            arm.phases_ms
                .get(*name)
                .map(|d| (name.to_string(), d.median))
        })
        .collect();
    for (name, d) in &arm.phases_ms {
        if name != RESIDUAL && !PHASE_NAMES.contains(&name.as_str()) {
            out.push((name.clone(), d.median));
        }
    }
    let sum: f64 = out.iter().map(|(_, v)| v).filter(|v| v.is_finite()).sum();
    let residual = match (arm.phases_ms.get(RESIDUAL), &arm.wall_ms) {
        (Some(r), _) => Some(r.median),
        (None, Some(w)) => Some((w.median - sum).max(0.0)),
        (None, None) => None,
    };
    if let Some(r) = residual {
        out.push((RESIDUAL.to_string(), r));
    }
    out
}

/// One stacked bar: an arm's segments and its wall-clock median.
struct Bar {
    arm: Arm,
    segments: Vec<(String, f64)>,
    wall: Option<f64>,
}

/// Stacked bars of the capture phases (medians, ms) for every arm that recorded phases, per
/// cell, with the residual in grey and the arm's wall-clock median as a tick. Arms without
/// phases (bare, OTel only) are left out.
pub fn phases_svg(summary: &Summary) -> String {
    let rows: Vec<(&str, Vec<Bar>)> = summary
        .cells
        .iter()
        .map(|cell| {
            let arms = cell
                .arms
                .iter()
                .filter(|(_, a)| !a.phases_ms.is_empty())
                .map(|(arm, a)| Bar {
                    arm: *arm,
                    segments: segments(a),
                    wall: a.wall_ms.as_ref().map(|w| w.median),
                })
                .collect::<Vec<_>>();
            (cell.id.as_str(), arms)
        })
        .filter(|(_, arms)| !arms.is_empty())
        .collect();
    let mut names: Vec<String> = Vec::new();
    for (_, arms) in &rows {
        for bar in arms {
            for (n, _) in &bar.segments {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    // Legend order: the phase order, unknown phases, residual last.
    names.sort_by_key(|n| {
        let i = PHASE_NAMES.iter().position(|p| p == n);
        (n == RESIDUAL, i.is_none(), i, n.clone())
    });
    let n_rows: usize = rows.iter().map(|(_, a)| a.len()).sum();
    let body = rows.len() as f64 * HEADER_H + n_rows as f64 * ROW_H;
    let axis_y = TOP + body.max(ROW_H) + 8.0;
    let legend_top = axis_y + 46.0;
    let legend = legend_layout(&names, f64::from(WIDTH) - 24.0);
    let legend_lines = legend.last().map(|(_, _, line)| line + 1).unwrap_or(0);
    let height = (legend_top + legend_lines as f64 * 18.0 + 10.0) as u32;
    let mut c = Canvas::new(
        WIDTH,
        height,
        "Capture phase breakdown",
        &format!(
            "Median duration in ms of each capture phase, stacked, with the residual, for {n_rows} arm(s) that recorded phases in experiment {}.",
            summary.experiment
        ),
    );
    c.heading("Capture phases (medians, ms), stacked, with the residual");
    c.subtitle(
        "one bar per capture arm; vertical tick: the arm's wall-clock median",
        120,
    );
    if rows.is_empty() {
        c.note("no arm recorded capture phases", TOP + 10.0);
        return c.finish();
    }
    let longest = summary
        .cells
        .iter()
        .map(|cell| cell.id.chars().count().min(40))
        .chain([20])
        .max()
        .unwrap_or(20);
    let x0 = 12.0 + label_width(longest, Size::Normal);
    let x1 = c.width() - RIGHT_W;
    let max = rows
        .iter()
        .flat_map(|(_, arms)| arms.iter())
        .map(|bar| {
            let sum: f64 = bar
                .segments
                .iter()
                .map(|(_, v)| v.max(0.0))
                .filter(|v| v.is_finite())
                .sum();
            sum.max(bar.wall.filter(|w| w.is_finite()).unwrap_or(0.0))
        })
        .fold(0.0_f64, f64::max);
    let hi = if max > 0.0 { max * 1.05 } else { 1.0 };
    let scale = Scale::new(0.0, hi, x0, x1);
    let mut y = TOP;
    for (id, arms) in &rows {
        c.strong(id, 12.0, y + HEADER_H / 2.0, 40);
        y += HEADER_H;
        for bar in arms {
            let mid = y + ROW_H / 2.0;
            c.plain(bar.arm.label(), 24.0, mid, 30);
            let mut acc = 0.0;
            for (name, v) in &bar.segments {
                let v = if v.is_finite() { v.max(0.0) } else { 0.0 };
                c.fill_rect(
                    scale.map(acc),
                    mid - 8.0,
                    scale.map(acc + v),
                    mid + 8.0,
                    phase_color(name),
                    1.0,
                );
                acc += v;
            }
            if let Some(w) = bar.wall.filter(|w| w.is_finite()) {
                let xw = scale.map(w);
                c.line(&[(xw, mid - 11.0), (xw, mid + 11.0)], INK, 1.0, 2);
            }
            c.muted(&format!("sum {} ms", format::ms(acc)), x1 + 10.0, mid, 30);
            y += ROW_H;
        }
    }
    x_axis(&mut c, &scale, axis_y, TOP, "ms");
    for (name, x, line) in &legend {
        let ly = legend_top + *line as f64 * 18.0;
        c.fill_rect(
            12.0 + x,
            ly - 5.0,
            22.0 + x,
            ly + 5.0,
            phase_color(name),
            1.0,
        );
        c.text(
            name,
            26.0 + x,
            ly,
            Size::Small,
            INK,
            Anchor::Start,
            false,
            40,
        );
    }
    c.finish()
}

/// Places legend entries left to right, wrapping at `width`: (name, x offset, line).
fn legend_layout(names: &[String], width: f64) -> Vec<(String, f64, usize)> {
    let mut out = Vec::new();
    let (mut x, mut line) = (0.0, 0usize);
    for name in names {
        let w = 14.0 + name.chars().count().min(40) as f64 * Size::Small.char_w() + 18.0;
        if x > 0.0 && x + w > width {
            x = 0.0;
            line += 1;
        }
        out.push((name.clone(), x, line));
        x += w;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Distribution;
    use std::collections::BTreeMap;

    fn arm(phases: &[(&str, f64)], wall: Option<f64>) -> ArmSummary {
        ArmSummary {
            valid: 1,
            wall_ms: wall.and_then(|w| Distribution::of(&[w])),
            phases_ms: phases
                .iter()
                .filter_map(|(n, v)| Distribution::of(&[*v]).map(|d| (n.to_string(), d)))
                .collect::<BTreeMap<_, _>>(),
            ..ArmSummary::default()
        }
    }

    #[test]
    fn residual_from_wall_or_recorded() {
        let s = segments(&arm(
            &[("monitor_attach", 4.0), ("preflight", 1.0), ("zz", 1.0)],
            Some(10.0),
        ));
        assert_eq!(
            s,
            vec![
                ("preflight".to_string(), 1.0),
                ("monitor_attach".to_string(), 4.0),
                ("zz".to_string(), 1.0),
                ("residual".to_string(), 4.0)
            ]
        );
        let s = segments(&arm(&[("preflight", 1.0), ("residual", 0.5)], Some(10.0)));
        assert_eq!(s.last(), Some(&("residual".to_string(), 0.5)));
        let s = segments(&arm(&[("preflight", 20.0)], Some(10.0)));
        assert_eq!(s.last(), Some(&("residual".to_string(), 0.0)));
    }

    #[test]
    fn legend_wraps() {
        let names: Vec<String> = (0..10).map(|i| format!("phase_number_{i}")).collect();
        let l = legend_layout(&names, 300.0);
        assert!(l.last().map(|e| e.2).unwrap_or(0) > 0);
        assert_eq!(l[0].1, 0.0);
    }
}
