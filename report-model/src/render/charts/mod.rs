//! SVG charts of a summary, drawn with plotters into strings, shared by `tare report` and the viewer.
//!
//! `tare report` writes them as charts/*.svg and the browser viewer shows the same bytes.
//! Every chart is a pure function returning a complete `<svg>` document with `width`,
//! `height`, `viewBox`, `role="img"`, a `<title>` and a `<desc>`; the same input gives
//! byte-identical output. Data text (cell ids, arm labels) is XML-escaped; colours are the
//! Okabe-Ito palette (distinguishable with colour-vision deficiencies, readable on light and
//! dark backgrounds) and text follows the page's theme (see [`canvas`]).

pub mod canvas;
pub mod deltas;
pub mod phases;
pub mod retention;
pub mod rss;
pub mod timeline;
pub mod wall;

pub use deltas::deltas_svg;
pub use phases::phases_svg;
pub use retention::retention_svg;
pub use rss::rss_svg;
pub use timeline::timeline_svg;
pub use wall::wall_svg;

use crate::render::escape;
use crate::schema::experiment::Arm;
use crate::schema::sample::Sample;
use crate::schema::summary::Summary;
use canvas::Rgb;

/// Width of every chart, pixels.
pub const WIDTH: u32 = 760;

/// The colour of an arm: bare grey, A vermillion, B blue, C bluish green.
pub fn arm_color(arm: Arm) -> Rgb {
    match arm {
        Arm::Bare => Rgb(0x6E, 0x77, 0x81),
        Arm::A => Rgb(0xD5, 0x5E, 0x00),
        Arm::B => Rgb(0x00, 0x72, 0xB2),
        Arm::C => Rgb(0x00, 0x9E, 0x73),
    }
}

/// The colour of a capture phase (the order of `PHASE_NAMES`), grey for the residual.
pub fn phase_color(name: &str) -> Rgb {
    const CYCLE: [Rgb; 7] = [
        Rgb(0xE6, 0x9F, 0x00),
        Rgb(0x56, 0xB4, 0xE9),
        Rgb(0x00, 0x9E, 0x73),
        Rgb(0xF0, 0xE4, 0x42),
        Rgb(0x00, 0x72, 0xB2),
        Rgb(0xD5, 0x5E, 0x00),
        Rgb(0xCC, 0x79, 0xA7),
    ];
    if name == "residual" {
        return Rgb(0x8C, 0x95, 0x9F);
    }
    let i = crate::schema::phases::PHASE_NAMES
        .iter()
        .position(|p| *p == name)
        .unwrap_or_else(|| {
            // Unknown phases: a stable colour from the name.
            name.bytes()
                .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        });
    CYCLE[i % CYCLE.len()]
}

/// The file name of a cell's wall-clock chart: `wall-<n>-<slug>.svg`, with `n` the cell's
/// position from 1 (so two ids with the same slug cannot collide) and a file-name-safe slug.
pub fn wall_file_name(index: usize, cell_id: &str) -> String {
    format!("wall-{}-{}.svg", index + 1, escape::slug(cell_id))
}

/// Every chart of a result: `deltas.svg`, `phases.svg`, `retention.svg`, `rss.svg`, then one
/// `wall-<n>-<slug>.svg` per cell (from `samples`), as (file name, SVG). Names are safe to
/// join to a directory: no separators, no dots but the extension.
pub fn all(summary: &Summary, samples: &[Sample]) -> Vec<(String, String)> {
    let mut out = vec![
        ("deltas.svg".to_string(), deltas_svg(summary)),
        ("phases.svg".to_string(), phases_svg(summary)),
        ("retention.svg".to_string(), retention_svg(summary)),
        ("rss.svg".to_string(), rss_svg(summary)),
    ];
    for (i, cell) in summary.cells.iter().enumerate() {
        out.push((wall_file_name(i, &cell.id), wall_svg(&cell.id, samples)));
    }
    out
}
