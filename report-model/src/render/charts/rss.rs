//! Peak RSS of the workload per arm and cell: median bars with min-max whiskers, in MiB.

use super::canvas::{label_width, x_axis, Canvas, Scale, Size, INK};
use super::{arm_color, WIDTH};
use crate::render::format::{self, MIB};
use crate::schema::summary::Summary;

const TOP: f64 = 52.0;
const HEADER_H: f64 = 24.0;
const ROW_H: f64 = 22.0;
const RIGHT_W: f64 = 150.0;

/// Peak RSS (median bar, min-max whisker, MiB) of every arm that measured it, grouped by cell.
/// An arm below the RSS gate (fewer than 5 valid samples) is marked `no claim`.
pub fn rss_svg(summary: &Summary) -> String {
    let groups: Vec<_> = summary
        .cells
        .iter()
        .map(|cell| {
            let arms: Vec<_> = cell
                .arms
                .iter()
                .filter_map(|(arm, a)| a.rss_bytes.as_ref().map(|d| (*arm, d, a.rss_claim)))
                .collect();
            (cell.id.as_str(), arms)
        })
        .filter(|(_, arms)| !arms.is_empty())
        .collect();
    let n_rows: usize = groups.iter().map(|(_, a)| a.len()).sum();
    let body = groups.len() as f64 * HEADER_H + n_rows as f64 * ROW_H;
    let axis_y = TOP + body.max(ROW_H) + 8.0;
    let height = (axis_y + 44.0) as u32;
    let mut c = Canvas::new(
        WIDTH,
        height,
        "Peak RSS per arm",
        &format!(
            "Median peak resident set size in MiB of the workload, with min-max whiskers, for {n_rows} arm(s) in experiment {}.",
            summary.experiment
        ),
    );
    c.heading("Peak RSS of the workload per arm, MiB");
    c.subtitle("bar: median; whiskers: min-max", 120);
    if groups.is_empty() {
        c.note("no arm measured peak RSS", TOP + 10.0);
        return c.finish();
    }
    let longest = groups
        .iter()
        .map(|(id, _)| id.chars().count().min(40))
        .chain([20])
        .max()
        .unwrap_or(20);
    let x0 = 12.0 + label_width(longest, Size::Normal);
    let x1 = c.width() - RIGHT_W;
    let max = groups
        .iter()
        .flat_map(|(_, arms)| arms.iter())
        .map(|(_, d, _)| d.max / MIB)
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let hi = if max > 0.0 { max * 1.05 } else { 1.0 };
    let scale = Scale::new(0.0, hi, x0, x1);
    let mut y = TOP;
    for (id, arms) in &groups {
        c.strong(id, 12.0, y + HEADER_H / 2.0, 40);
        y += HEADER_H;
        for (arm, d, claim) in arms {
            let mid = y + ROW_H / 2.0;
            let color = arm_color(*arm);
            c.plain(arm.label(), 24.0, mid, 30);
            c.fill_rect(
                x0,
                mid - 7.0,
                scale.map(d.median / MIB),
                mid + 7.0,
                color,
                0.85,
            );
            let (a, b) = (scale.map(d.min / MIB), scale.map(d.max / MIB));
            c.line(&[(a, mid), (b, mid)], INK, 1.0, 1);
            c.line(&[(a, mid - 4.0), (a, mid + 4.0)], INK, 1.0, 1);
            c.line(&[(b, mid - 4.0), (b, mid + 4.0)], INK, 1.0, 1);
            let mut note = format::mib(d.median);
            if !claim {
                note.push_str(" (no claim)");
            }
            c.muted(&note, x1 + 10.0, mid, 30);
            y += ROW_H;
        }
    }
    x_axis(&mut c, &scale, axis_y, TOP, "peak RSS, MiB");
    c.finish()
}
