//! Mermaid `xychart-beta` builders for summary.md: pure string builders with sanitised labels.
//!
//! GitHub renders a fenced ```` ```mermaid ```` block as a chart. xychart-beta has bar and
//! line series over one categorical x-axis and no legend, so a chart's title says what each
//! series is. Labels come from data (cell ids), so [`label`] keeps only characters that
//! cannot end a quoted string, start a comment (`%%`) or an entity (`#...;`), or open markup.

/// Longest label kept (characters); longer ones are cut with an ellipsis.
pub const MAX_LABEL: usize = 40;

/// One series of an [`XyChart`].
#[derive(Debug, Clone, PartialEq)]
pub enum Series {
    Bar(Vec<f64>),
    Line(Vec<f64>),
}

/// An `xychart-beta` chart: a title, categorical x labels, a y-axis and series.
#[derive(Debug, Clone, PartialEq)]
pub struct XyChart {
    title: String,
    x_labels: Vec<String>,
    y_title: String,
    y_range: Option<(f64, f64)>,
    series: Vec<Series>,
}

/// A label safe inside a mermaid quoted string: letters, digits, space and `-_.,:/()+=`
/// kept; anything else becomes a space; runs of spaces collapse; at most [`MAX_LABEL`]
/// characters.
pub fn label(s: &str) -> String {
    sanitize(s, MAX_LABEL)
}

fn sanitize(s: &str, max: usize) -> String {
    let kept: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " -_.,:/()+=".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let collapsed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    crate::render::escape::label(&collapsed, max)
}

/// A number as mermaid reads it: two decimals, no exponent; 0 when not finite.
fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}")
    } else {
        "0".into()
    }
}

/// A round upper bound for an axis that starts at 0: the smallest 1, 1.5, 2, 2.5, 3, 4, 5, 6
/// or 8 times a power of ten that is at least `max` (1 when `max` is not positive).
pub fn nice_max(max: f64) -> f64 {
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let pow = 10f64.powf(max.log10().floor());
    for m in [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0] {
        if m * pow >= max {
            return m * pow;
        }
    }
    10.0 * pow
}

impl XyChart {
    /// A chart with a title and nothing else yet.
    pub fn new(title: &str) -> Self {
        XyChart {
            title: title.to_string(),
            x_labels: Vec::new(),
            y_title: String::new(),
            y_range: None,
            series: Vec::new(),
        }
    }

    /// The categories along x.
    pub fn x_labels<S: AsRef<str>>(mut self, labels: &[S]) -> Self {
        self.x_labels = labels.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }

    /// The y-axis title and range; without a range the chart runs from 0 to a round number
    /// above the largest value.
    pub fn y_axis(mut self, title: &str, range: Option<(f64, f64)>) -> Self {
        self.y_title = title.to_string();
        self.y_range = range;
        self
    }

    /// Adds a bar series (one value per x label).
    pub fn bar(mut self, values: Vec<f64>) -> Self {
        self.series.push(Series::Bar(values));
        self
    }

    /// Adds a line series (one value per x label).
    pub fn line(mut self, values: Vec<f64>) -> Self {
        self.series.push(Series::Line(values));
        self
    }

    /// The chart's source without the fence.
    pub fn source(&self) -> String {
        let max = self
            .series
            .iter()
            .flat_map(|s| match s {
                Series::Bar(v) | Series::Line(v) => v.iter(),
            })
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let (lo, hi) = self.y_range.unwrap_or((0.0, nice_max(max)));
        let x: Vec<String> = self
            .x_labels
            .iter()
            .map(|l| format!("\"{}\"", label(l)))
            .collect();
        let mut out = String::from("xychart-beta\n");
        out.push_str(&format!(
            "    title \"{}\"\n",
            sanitize(&self.title, 3 * MAX_LABEL)
        ));
        out.push_str(&format!("    x-axis [{}]\n", x.join(", ")));
        out.push_str(&format!(
            "    y-axis \"{}\" {} --> {}\n",
            label(&self.y_title),
            number(lo),
            number(hi)
        ));
        for s in &self.series {
            let (kind, values) = match s {
                Series::Bar(v) => ("bar", v),
                Series::Line(v) => ("line", v),
            };
            let values: Vec<String> = values.iter().map(|v| number(*v)).collect();
            out.push_str(&format!("    {kind} [{}]\n", values.join(", ")));
        }
        out
    }

    /// The chart as a fenced ```` ```mermaid ```` block, ending in a newline.
    pub fn to_block(&self) -> String {
        format!("```mermaid\n{}```\n", self.source())
    }
}

/// A bar chart of one value per category, y from 0: the common case.
pub fn bar_chart<S: AsRef<str>>(
    title: &str,
    y_title: &str,
    labels: &[S],
    values: &[f64],
) -> String {
    XyChart::new(title)
        .x_labels(labels)
        .y_axis(y_title, None)
        .bar(values.to_vec())
        .to_block()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_escape_their_quotes() {
        assert_eq!(
            label("<script>alert(1)</script>"),
            "script alert(1) /script"
        );
        assert_eq!(label("a\"b%%c#d;e`f"), "a b c d e f");
        assert_eq!(label("k1000-s500"), "k1000-s500");
    }

    #[test]
    fn a_bar_chart() {
        let s = bar_chart("Median", "ms", &["bare", "A (capture)"], &[1.0, 12.345]);
        assert_eq!(
            s,
            "```mermaid\nxychart-beta\n    title \"Median\"\n    x-axis [\"bare\", \"A (capture)\"]\n    y-axis \"ms\" 0.00 --> 15.00\n    bar [1.00, 12.35]\n```\n"
        );
    }

    #[test]
    fn round_maxima() {
        assert_eq!(nice_max(12.3), 15.0);
        assert_eq!(nice_max(68.25), 80.0);
        assert_eq!(nice_max(500.0), 500.0);
        assert_eq!(nice_max(501.0), 600.0);
        assert_eq!(nice_max(801.0), 1000.0);
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(2.2), 2.5);
    }
}
