//! The rows of the span-limits table (attributes, links, whole spans per cell), shared by summary.md and the viewer.

use crate::analysis::summary::pattern_name;
use crate::render::format;
use crate::schema::sample::LimitFidelity;
use crate::schema::summary::{CellSummary, Summary};

/// One kind of loss in one cell, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRow {
    pub cell: String,
    /// `attributes`, `links` or `spans`.
    pub kind: &'static str,
    pub target: u64,
    pub retained: u64,
    /// Kept indexes, e.g. `0..121`.
    pub kept: String,
    pub pattern: &'static str,
    /// What the SDK reported dropped, or `not exposed`.
    pub sdk_dropped: String,
    /// target - retained.
    pub tare_counted: u64,
    /// `yes`, `no` or `—` (the SDK reports no count).
    pub counts_agree: &'static str,
    /// Nothing lost and the counts agree.
    pub clean: bool,
}

/// Picks one kind's fidelity out of a cell.
pub type KindOf = fn(&CellSummary) -> Option<&LimitFidelity>;

/// The kinds in table order, with their accessor.
pub const KINDS: [(&str, KindOf); 3] = [
    ("attributes", |c| c.fidelity.attributes.as_ref()),
    ("links", |c| c.fidelity.links.as_ref()),
    ("spans", |c| c.fidelity.spans.as_ref()),
];

/// Every cell's losses beyond span events, cell by cell in the summary's order.
pub fn limit_rows(summary: &Summary) -> Vec<LimitRow> {
    let mut rows = Vec::new();
    for cell in &summary.cells {
        for (kind, get) in KINDS {
            if let Some(f) = get(cell) {
                rows.push(row(&cell.id, kind, f));
            }
        }
    }
    rows
}

/// One row.
pub fn row(cell: &str, kind: &'static str, f: &LimitFidelity) -> LimitRow {
    LimitRow {
        cell: cell.to_string(),
        kind,
        target: f.target,
        retained: f.retained,
        kept: format::ranges(&f.retained_ranges, 8),
        pattern: pattern_name(Some(f.pattern)),
        sdk_dropped: f
            .dropped_by_sdk
            .map_or_else(|| "not exposed".to_string(), |d| d.to_string()),
        tare_counted: f.dropped_counted,
        counts_agree: match f.counts_agree() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        },
        clean: f.is_clean(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::sample::RetentionPattern;

    #[test]
    fn a_row_as_text() {
        let f = LimitFidelity {
            target: 5000,
            retained: 2560,
            retained_ranges: vec![[0, 2047], [3000, 3511]],
            pattern: RetentionPattern::Gaps,
            dropped_by_sdk: None,
            dropped_counted: 2440,
        };
        let r = row("spans-5000", "spans", &f);
        assert_eq!(r.kept, "0..2047, 3000..3511");
        assert_eq!(
            (r.pattern, r.sdk_dropped.as_str(), r.counts_agree),
            ("gaps", "not exposed", "—")
        );
        assert!(!r.clean);
        let g = LimitFidelity {
            dropped_by_sdk: Some(2439),
            ..f
        };
        assert_eq!(row("c", "spans", &g).counts_agree, "no");
    }
}
