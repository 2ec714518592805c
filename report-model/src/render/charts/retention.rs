//! Retained span-event indexes per cell: a strip over 0..target, retained ranges against evicted.

use super::canvas::{label_width, Anchor, Canvas, Rgb, Scale, Size, AXIS, INK, MUTED};
use super::WIDTH;
use crate::analysis::summary::pattern_name;
use crate::render::format;
use crate::schema::summary::{CellSummary, Summary};

const TOP: f64 = 56.0;
const ROW_H: f64 = 58.0;
const RIGHT_W: f64 = 230.0;
/// Retained indexes: blue.
pub const RETAINED: Rgb = Rgb(0x00, 0x72, 0xB2);
/// Evicted indexes: vermillion, light.
pub const EVICTED: Rgb = Rgb(0xD5, 0x5E, 0x00);
/// Most ranges drawn per strip (the rest are summarised in the text).
const MAX_RANGES: usize = 2000;

fn right_lines(cell: &CellSummary) -> (String, String) {
    let f = &cell.fidelity;
    let first = match f.span_retained {
        Some(r) => format!("{r} of {} retained", f.span_target),
        None => format!("0 of {} read (no trace)", f.span_target),
    };
    let mut second = pattern_name(f.pattern).to_string();
    if let Some(limit) = f.effective_limit {
        second.push_str(&format!(", limit {limit}"));
        if let Some(src) = f.limit_source {
            second.push_str(&format!(" ({})", format::limit_source(src)));
        }
    }
    (first, second)
}

/// One strip per cell with span events: index 0 at the left, the target at the right; the
/// retained index ranges (inclusive) in blue over the evicted rest in light vermillion, with
/// the range bounds written above the strip and the count, pattern and effective limit beside
/// it. Cells without span events are left out.
pub fn retention_svg(summary: &Summary) -> String {
    let cells: Vec<&CellSummary> = summary
        .cells
        .iter()
        .filter(|c| c.fidelity.span_target > 0)
        .collect();
    let legend_y = TOP + cells.len().max(1) as f64 * ROW_H + 8.0;
    let height = (legend_y + 22.0) as u32;
    let mut c = Canvas::new(
        WIDTH,
        height,
        "Retained span-event indexes",
        &format!(
            "For each of {} cell(s) with span events in experiment {}: which span-event indexes from 0 to the target the trace retained, and which were evicted.",
            cells.len(),
            summary.experiment
        ),
    );
    c.heading("Retained span-event indexes per cell (fewest kept by any traced sample)");
    c.subtitle(
        "index 0 at the left, the target at the right; blue: retained, light: evicted",
        120,
    );
    if cells.is_empty() {
        c.note("no cell asked for span events", TOP + 10.0);
        return c.finish();
    }
    let longest = cells
        .iter()
        .map(|cell| cell.id.chars().count().min(40))
        .max()
        .unwrap_or(10);
    let x0 = 12.0 + label_width(longest, Size::Normal);
    let x1 = c.width() - RIGHT_W;
    for (k, cell) in cells.iter().enumerate() {
        let f = &cell.fidelity;
        let mid = TOP + k as f64 * ROW_H + ROW_H / 2.0;
        let target = f.span_target as f64;
        let scale = Scale::new(0.0, target, x0, x1);
        c.strong(&cell.id, 12.0, mid - 7.0, 40);
        c.muted(format::fidelity(f.verdict), 12.0, mid + 9.0, 30);
        if f.span_retained.is_some() {
            c.fill_rect(x0, mid - 8.0, x1, mid + 8.0, EVICTED, 0.22);
            for [lo, hi] in f.retained_ranges.iter().take(MAX_RANGES) {
                let a = scale.map(*lo as f64);
                let b = scale.map((*hi as f64 + 1.0).min(target));
                c.fill_rect(a, mid - 8.0, b.max(a + 1.0), mid + 8.0, RETAINED, 1.0);
            }
            let mut last_end = f64::NEG_INFINITY;
            for [lo, hi] in f.retained_ranges.iter().take(8) {
                let a = scale.map(*lo as f64);
                let b = scale.map((*hi as f64 + 1.0).min(target));
                if a < last_end + 8.0 {
                    continue;
                }
                let y = mid - 15.0;
                if b - a > 60.0 && lo != hi {
                    c.muted(&lo.to_string(), a, y, 20);
                    c.text(
                        &hi.to_string(),
                        b,
                        y,
                        Size::Small,
                        MUTED,
                        Anchor::End,
                        false,
                        20,
                    );
                    last_end = b;
                } else {
                    let text = format::ranges(&[[*lo, *hi]], 1);
                    c.muted(&text, a, y, 30);
                    last_end = a + text.chars().count() as f64 * Size::Small.char_w();
                }
            }
        }
        c.stroke_rect(x0, mid - 8.0, x1, mid + 8.0, AXIS);
        c.muted("0", x0, mid + 17.0, 20);
        c.text(
            &f.span_target.to_string(),
            x1,
            mid + 17.0,
            Size::Small,
            MUTED,
            Anchor::End,
            false,
            20,
        );
        let (first, second) = right_lines(cell);
        c.plain(&first, x1 + 12.0, mid - 7.0, 40);
        c.muted(&second, x1 + 12.0, mid + 9.0, 40);
    }
    c.fill_rect(12.0, legend_y - 5.0, 22.0, legend_y + 5.0, RETAINED, 1.0);
    c.text(
        "retained",
        26.0,
        legend_y,
        Size::Small,
        INK,
        Anchor::Start,
        false,
        20,
    );
    c.fill_rect(100.0, legend_y - 5.0, 110.0, legend_y + 5.0, EVICTED, 0.22);
    c.stroke_rect(100.0, legend_y - 5.0, 110.0, legend_y + 5.0, AXIS);
    c.text(
        "evicted (not in the trace)",
        114.0,
        legend_y,
        Size::Small,
        INK,
        Anchor::Start,
        false,
        40,
    );
    c.finish()
}
