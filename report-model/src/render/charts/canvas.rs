//! A small drawing layer over plotters' SVG backend: recorded shapes, pixel scales, ticks, theme.
//!
//! Charts are laid out here in pixels and drawn with plotters primitives only (rectangles,
//! paths, circles, single-line text). Nothing asks plotters to measure text: its mesh and
//! caption helpers would (through the DOM on wasm32, through an estimate natively), which
//! would make the SVG differ between `tare report` and the viewer and panic off the main
//! browser thread. Text is written as `<text>` with an anchor; the reader's browser lays it
//! out. plotters-svg escapes text and attribute values; [`finish`] adds a `<title>`, a
//! `<desc>` and a `<style>` (escaped here) so the chart reads in light and dark themes.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::render::escape;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    fn plotters(self, alpha: f64) -> RGBAColor {
        RGBAColor(self.0, self.1, self.2, alpha)
    }
}

/// Text: the light-theme ink; the dark theme swaps it through the injected style.
pub const INK: Rgb = Rgb(0x1B, 0x1F, 0x24);
/// Secondary text.
pub const MUTED: Rgb = Rgb(0x57, 0x60, 0x6A);
/// Axes and grid: a mid grey that reads on white and on near-black.
pub const AXIS: Rgb = Rgb(0x8C, 0x95, 0x9F);

/// The theme: ink and muted colours (text, the few ink lines) follow the page: `--fg` and
/// `--muted` when the viewer inlines the chart, `prefers-color-scheme` when it is an image.
/// Selectors match the exact colours plotters writes, so they touch nothing else.
const STYLE: &str = "[fill=\"#1B1F24\"]{fill:var(--fg,#1B1F24)}\
[stroke=\"#1B1F24\"]{stroke:var(--fg,#1B1F24)}\
[fill=\"#57606A\"]{fill:var(--muted,#57606A)}\
[stroke=\"#57606A\"]{stroke:var(--muted,#57606A)}\
@media (prefers-color-scheme: dark){\
[fill=\"#1B1F24\"]{fill:var(--fg,#E6EDF3)}\
[stroke=\"#1B1F24\"]{stroke:var(--fg,#E6EDF3)}\
[fill=\"#57606A\"]{fill:var(--muted,#8D96A0)}\
[stroke=\"#57606A\"]{stroke:var(--muted,#8D96A0)}}";

/// Horizontal text anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// Text size, pixels (values whose plotters encoding prints as an integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Normal,
    Title,
}

impl Size {
    fn px(self) -> f64 {
        match self {
            Size::Small => 11.0,
            Size::Normal => 12.0,
            Size::Title => 14.0,
        }
    }

    /// A rough width of one character, for layout only.
    pub fn char_w(self) -> f64 {
        self.px() * 0.6
    }
}

enum Op {
    Rect {
        a: (i32, i32),
        b: (i32, i32),
        color: RGBAColor,
        filled: bool,
    },
    Path {
        points: Vec<(i32, i32)>,
        color: RGBAColor,
        width: u32,
    },
    Circle {
        c: (i32, i32),
        r: i32,
        color: RGBAColor,
        filled: bool,
    },
    Text {
        text: String,
        at: (i32, i32),
        px: f64,
        color: RGBAColor,
        anchor: Anchor,
        bold: bool,
    },
}

fn px(v: f64) -> i32 {
    if v.is_finite() {
        v.round().clamp(-1.0e6, 1.0e6) as i32
    } else {
        0
    }
}

/// A chart being drawn: size, accessible title and description, and shapes in order.
pub struct Canvas {
    width: u32,
    height: u32,
    title: String,
    desc: String,
    ops: Vec<Op>,
}

impl Canvas {
    /// An empty canvas. `title` and `desc` become the SVG's `<title>` and `<desc>`.
    pub fn new(width: u32, height: u32, title: &str, desc: &str) -> Self {
        Canvas {
            width,
            height,
            title: title.to_string(),
            desc: desc.to_string(),
            ops: Vec::new(),
        }
    }

    /// Width, pixels.
    pub fn width(&self) -> f64 {
        f64::from(self.width)
    }

    /// A filled rectangle between two corners.
    pub fn fill_rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: Rgb, alpha: f64) {
        self.ops.push(Op::Rect {
            a: (px(x0.min(x1)), px(y0.min(y1))),
            b: (px(x0.max(x1)), px(y0.max(y1))),
            color: color.plotters(alpha),
            filled: true,
        });
    }

    /// A rectangle's outline.
    pub fn stroke_rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, color: Rgb) {
        self.ops.push(Op::Rect {
            a: (px(x0.min(x1)), px(y0.min(y1))),
            b: (px(x0.max(x1)), px(y0.max(y1))),
            color: color.plotters(1.0),
            filled: false,
        });
    }

    /// A polyline.
    pub fn line(&mut self, points: &[(f64, f64)], color: Rgb, alpha: f64, width: u32) {
        self.ops.push(Op::Path {
            points: points.iter().map(|(x, y)| (px(*x), px(*y))).collect(),
            color: color.plotters(alpha),
            width,
        });
    }

    /// A circle, filled or outlined.
    pub fn circle(&mut self, x: f64, y: f64, r: i32, color: Rgb, filled: bool) {
        self.ops.push(Op::Circle {
            c: (px(x), px(y)),
            r,
            color: color.plotters(1.0),
            filled,
        });
    }

    /// One line of text, vertically centred on `y`. `text` is data: plotters escapes it;
    /// control characters are replaced and it is cut at `max_chars`.
    #[allow(clippy::too_many_arguments)]
    pub fn text(
        &mut self,
        text: &str,
        x: f64,
        y: f64,
        size: Size,
        color: Rgb,
        anchor: Anchor,
        bold: bool,
        max_chars: usize,
    ) {
        self.ops.push(Op::Text {
            text: escape::label(text, max_chars),
            at: (px(x), px(y)),
            px: size.px(),
            color: color.plotters(1.0),
            anchor,
            bold,
        });
    }

    /// The chart's title at the top left.
    pub fn heading(&mut self, text: &str) {
        self.text(text, 12.0, 18.0, Size::Title, INK, Anchor::Start, true, 120);
    }

    /// A small muted line under the heading (what the marks mean).
    pub fn subtitle(&mut self, text: &str, max_chars: usize) {
        self.muted(text, 12.0, 36.0, max_chars);
    }

    /// Left-anchored bold text in ink (a group's label).
    pub fn strong(&mut self, text: &str, x: f64, y: f64, max_chars: usize) {
        self.text(
            text,
            x,
            y,
            Size::Normal,
            INK,
            Anchor::Start,
            true,
            max_chars,
        );
    }

    /// Left-anchored text in ink (a row's label).
    pub fn plain(&mut self, text: &str, x: f64, y: f64, max_chars: usize) {
        self.text(
            text,
            x,
            y,
            Size::Normal,
            INK,
            Anchor::Start,
            false,
            max_chars,
        );
    }

    /// Left-anchored small muted text (a value beside its mark).
    pub fn muted(&mut self, text: &str, x: f64, y: f64, max_chars: usize) {
        self.text(
            text,
            x,
            y,
            Size::Small,
            MUTED,
            Anchor::Start,
            false,
            max_chars,
        );
    }

    /// A centred note, e.g. when there is nothing to draw.
    pub fn note(&mut self, text: &str, y: f64) {
        let x = self.width() / 2.0;
        self.text(text, x, y, Size::Normal, MUTED, Anchor::Middle, false, 120);
    }

    /// Draws everything with plotters into an SVG string and adds title, description and
    /// theme.
    pub fn finish(self) -> String {
        let mut buf = String::new();
        {
            let root =
                SVGBackend::with_string(&mut buf, (self.width, self.height)).into_drawing_area();
            for op in &self.ops {
                // Drawing into a String cannot fail; a failed shape would only be missing.
                let _ = match op {
                    Op::Rect {
                        a,
                        b,
                        color,
                        filled,
                    } => {
                        let style = ShapeStyle {
                            color: *color,
                            filled: *filled,
                            stroke_width: 1,
                        };
                        root.draw(&Rectangle::new([*a, *b], style))
                    }
                    Op::Path {
                        points,
                        color,
                        width,
                    } => {
                        let style = ShapeStyle {
                            color: *color,
                            filled: false,
                            stroke_width: *width,
                        };
                        root.draw(&PathElement::new(points.clone(), style))
                    }
                    Op::Circle {
                        c,
                        r,
                        color,
                        filled,
                    } => {
                        let style = ShapeStyle {
                            color: *color,
                            filled: *filled,
                            stroke_width: 1,
                        };
                        root.draw(&Circle::new(*c, *r, style))
                    }
                    Op::Text {
                        text,
                        at,
                        px,
                        color,
                        anchor,
                        bold,
                    } => {
                        let h = match anchor {
                            Anchor::Start => HPos::Left,
                            Anchor::Middle => HPos::Center,
                            Anchor::End => HPos::Right,
                        };
                        // plotters-svg writes font-size = size / 1.24.
                        let mut font =
                            FontDesc::new(FontFamily::SansSerif, px * 1.24, FontStyle::Normal);
                        if *bold {
                            font = font.style(FontStyle::Bold);
                        }
                        let style = TextStyle::from(font)
                            .color(color)
                            .pos(Pos::new(h, VPos::Center));
                        root.draw(&Text::new(text.as_str(), *at, style))
                    }
                };
            }
            let _ = root.present();
        }
        decorate(&buf, &self.title, &self.desc)
    }
}

/// Adds `role="img"`, `<title>`, `<desc>` and the theme style right after the root tag.
fn decorate(svg: &str, title: &str, desc: &str) -> String {
    let Some(end) = svg.find('>') else {
        return svg.to_string();
    };
    let (open, rest) = svg.split_at(end);
    let open = open.replacen("<svg ", "<svg role=\"img\" ", 1);
    format!(
        "{open}>\n<title>{}</title>\n<desc>{}</desc>\n<style>{STYLE}</style>{}",
        escape::xml(title),
        escape::xml(desc),
        &rest[1..]
    )
}

/// A linear map from data to pixels.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Scale {
    /// Maps `[d0, d1]` onto `[r0, r1]`; a degenerate domain maps everything to `r0`.
    pub fn new(d0: f64, d1: f64, r0: f64, r1: f64) -> Self {
        Scale { d0, d1, r0, r1 }
    }

    /// The pixel of `v`.
    pub fn map(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if !span.is_finite() || span == 0.0 {
            return self.r0;
        }
        self.r0 + (v - self.d0) / span * (self.r1 - self.r0)
    }
}

/// Round tick values covering `[lo, hi]` (about `count` of them, step 1, 2 or 5 times a
/// power of ten), and the decimals their labels need.
pub fn ticks(lo: f64, hi: f64, count: usize) -> (Vec<f64>, usize) {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo {
        return (vec![lo], 0);
    }
    let raw = (hi - lo) / count.max(1) as f64;
    let pow = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * pow);
    let decimals = (-(step.log10() + 1e-9).floor()).clamp(0.0, 6.0) as usize;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let values = (first..=last).map(|i| i as f64 * step).collect();
    (values, decimals)
}

/// A domain `[lo, hi]` that holds every finite value of `values`, widened by 5% of its span
/// on both sides (and to a unit span when all values are equal); `[0, 1]` when there are none.
pub fn padded_domain(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi == lo {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

/// Draws a horizontal value axis at `y` with grid lines up to `grid_top`, tick labels
/// below and a caption under them.
pub fn x_axis(canvas: &mut Canvas, scale: &Scale, y: f64, grid_top: f64, caption: &str) {
    let (values, decimals) = ticks(scale.d0, scale.d1, 6);
    for v in values {
        let x = scale.map(v);
        canvas.line(&[(x, grid_top), (x, y)], AXIS, 0.3, 1);
        canvas.line(&[(x, y), (x, y + 4.0)], AXIS, 1.0, 1);
        let label = format!("{v:.decimals$}");
        canvas.text(
            &label,
            x,
            y + 13.0,
            Size::Small,
            MUTED,
            Anchor::Middle,
            false,
            20,
        );
    }
    canvas.line(&[(scale.r0, y), (scale.r1, y)], AXIS, 1.0, 1);
    let mid = (scale.r0 + scale.r1) / 2.0;
    canvas.text(
        caption,
        mid,
        y + 30.0,
        Size::Normal,
        MUTED,
        Anchor::Middle,
        false,
        80,
    );
}

/// The width of the label column for labels of up to `chars` characters.
pub fn label_width(chars: usize, size: Size) -> f64 {
    (chars as f64 * size.char_w() + 24.0).clamp(90.0, 300.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_ticks() {
        assert_eq!(
            ticks(0.0, 10.0, 5),
            (vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 0)
        );
        let (v, d) = ticks(-0.13, 0.42, 6);
        assert_eq!(d, 1);
        assert_eq!(v.len(), 6);
        assert_eq!(ticks(1.0, 1.0, 5), (vec![1.0], 0));
    }

    #[test]
    fn domains_and_scales() {
        assert_eq!(padded_domain([0.0, 10.0]), (-0.5, 10.5));
        assert_eq!(padded_domain([f64::NAN]), (0.0, 1.0));
        assert_eq!(padded_domain([3.0]), (2.5, 3.5));
        let s = Scale::new(0.0, 10.0, 100.0, 200.0);
        assert_eq!(s.map(5.0), 150.0);
        assert_eq!(Scale::new(1.0, 1.0, 7.0, 9.0).map(3.0), 7.0);
    }

    #[test]
    fn text_is_escaped_and_themed() {
        let mut c = Canvas::new(100, 50, "t <x>", "d & e");
        c.text(
            "<script>",
            1.0,
            1.0,
            Size::Normal,
            INK,
            Anchor::Start,
            false,
            40,
        );
        let svg = c.finish();
        assert!(svg.starts_with("<svg role=\"img\" "));
        assert!(svg.contains("<title>t &lt;x&gt;</title>"));
        assert!(svg.contains("<desc>d &amp; e</desc>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script"));
        assert!(svg.contains("font-size=\"12\""));
        assert!(svg.contains("viewBox=\"0 0 100 50\""));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
