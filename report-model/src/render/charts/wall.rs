//! Wall-clock distribution per arm of one cell, from its samples: strip plot over a box plot.

use super::canvas::{label_width, padded_domain, x_axis, Canvas, Scale, Size, AXIS, MUTED};
use super::{arm_color, WIDTH};
use crate::render::format;
use crate::schema::experiment::Arm;
use crate::schema::sample::Sample;
use crate::stats::{median_sorted, nearest_rank};

const TOP: f64 = 52.0;
const LANE_H: f64 = 44.0;
const RIGHT_W: f64 = 130.0;

/// One arm's counted (non-warm-up) samples of the cell, in ms: valid and discarded.
struct Lane {
    arm: Arm,
    valid: Vec<f64>,
    discarded: Vec<f64>,
}

fn lanes(cell: &str, samples: &[Sample]) -> Vec<Lane> {
    Arm::ALL
        .into_iter()
        .filter_map(|arm| {
            let counted: Vec<&Sample> = samples
                .iter()
                .filter(|s| s.cell == cell && s.arm == arm && !s.warmup)
                .collect();
            if counted.is_empty() {
                return None;
            }
            let ms = |s: &&Sample| s.wall_ns as f64 / 1e6;
            Some(Lane {
                arm,
                valid: counted.iter().filter(|s| s.valid).map(ms).collect(),
                discarded: counted
                    .iter()
                    .filter(|s| !s.valid && s.wall_ns > 0)
                    .map(ms)
                    .collect(),
            })
        })
        .collect()
}

/// A deterministic vertical offset for the i-th point of a lane, -6..=6 px.
fn jitter(i: usize) -> f64 {
    ((i * 7) % 9) as f64 * 1.5 - 6.0
}

/// The wall-clock of every counted sample of `cell`, one lane per arm: dots are samples
/// (hollow grey: discarded), the box spans nearest-rank p25..p75, the thick bar is the
/// median, whiskers run min..max. Warm-ups are left out.
pub fn wall_svg(cell: &str, samples: &[Sample]) -> String {
    let lanes = lanes(cell, samples);
    let axis_y = TOP + (lanes.len().max(1) as f64) * LANE_H + 8.0;
    let height = (axis_y + 44.0) as u32;
    let mut c = Canvas::new(
        WIDTH,
        height,
        &format!("Wall-clock per sample, cell {cell}"),
        &format!(
            "Wall-clock in ms of every counted sample of cell {cell}, one lane per arm, with median, interquartile box and min-max whiskers."
        ),
    );
    c.heading(&format!(
        "Wall-clock per sample: {}",
        crate::render::escape::label(cell, 60)
    ));
    c.subtitle(
        "dots: samples (hollow grey: discarded); box: p25-p75; bar: median; whiskers: min-max",
        120,
    );
    if lanes.is_empty() {
        c.note("no samples for this cell", TOP + 10.0);
        return c.finish();
    }
    let x0 = 12.0 + label_width(18, Size::Normal);
    let x1 = c.width() - RIGHT_W;
    let all = lanes
        .iter()
        .flat_map(|l| l.valid.iter().chain(l.discarded.iter()))
        .copied();
    let (lo, hi) = padded_domain(all);
    let scale = Scale::new(lo, hi, x0, x1);
    for (k, lane) in lanes.iter().enumerate() {
        let mid = TOP + k as f64 * LANE_H + LANE_H / 2.0;
        let color = arm_color(lane.arm);
        c.strong(lane.arm.label(), 12.0, mid - 7.0, 30);
        let counts = if lane.discarded.is_empty() {
            format!("{} valid", lane.valid.len())
        } else {
            format!(
                "{} valid, {} discarded",
                lane.valid.len(),
                lane.discarded.len()
            )
        };
        c.muted(&counts, 12.0, mid + 8.0, 30);
        c.line(&[(x0, mid), (x1, mid)], AXIS, 0.15, 1);
        let mut sorted = lane.valid.clone();
        sorted.sort_by(f64::total_cmp);
        if let (Some(q1), Some(q3), Some(med), Some(min), Some(max)) = (
            nearest_rank(&sorted, 25.0),
            nearest_rank(&sorted, 75.0),
            median_sorted(&sorted),
            sorted.first().copied(),
            sorted.last().copied(),
        ) {
            let (xmin, xmax) = (scale.map(min), scale.map(max));
            c.line(&[(xmin, mid), (xmax, mid)], color, 1.0, 1);
            c.line(&[(xmin, mid - 6.0), (xmin, mid + 6.0)], color, 1.0, 1);
            c.line(&[(xmax, mid - 6.0), (xmax, mid + 6.0)], color, 1.0, 1);
            c.fill_rect(
                scale.map(q1),
                mid - 10.0,
                scale.map(q3),
                mid + 10.0,
                color,
                0.18,
            );
            c.stroke_rect(scale.map(q1), mid - 10.0, scale.map(q3), mid + 10.0, color);
            let xm = scale.map(med);
            c.line(&[(xm, mid - 12.0), (xm, mid + 12.0)], color, 1.0, 3);
            c.muted(
                &format!("median {} ms", format::ms(med)),
                x1 + 10.0,
                mid,
                30,
            );
        }
        for (i, v) in lane.valid.iter().enumerate() {
            c.circle(scale.map(*v), mid + jitter(i), 3, color, true);
        }
        for (i, v) in lane.discarded.iter().enumerate() {
            c.circle(scale.map(*v), mid + jitter(i + 4), 3, MUTED, false);
        }
    }
    x_axis(&mut c, &scale, axis_y, TOP, "wall-clock, ms");
    c.finish()
}
