//! Retained span-event indexes: a strip per cell over 0..target (the report's chart), ranges and pattern in a table; then the other span limits (attributes, links, whole spans).

use std::sync::Arc;

use leptos::prelude::*;
use report_model::analysis::summary::pattern_name;
use report_model::render::charts::retention_svg;
use report_model::render::format;
use report_model::render::span_limits::{limit_rows, LimitRow};
use report_model::schema::summary::Summary;

use crate::components::badge;
use crate::components::chart::Chart;
use crate::components::num;

/// The indexes in 0..target that are not in `retained` (inclusive ranges, sorted).
pub fn evicted(target: u64, retained: &[[u64; 2]]) -> Vec<[u64; 2]> {
    let mut out = Vec::new();
    let mut next = 0u64;
    let mut sorted = retained.to_vec();
    sorted.sort_unstable();
    for [lo, hi] in sorted {
        if lo >= target {
            break;
        }
        if lo > next {
            out.push([next, lo - 1]);
        }
        next = next.max(hi.saturating_add(1));
    }
    if next < target {
        out.push([next, target - 1]);
    }
    out
}

/// One row of the span-limits table; every string is text.
fn limit_row(r: LimitRow) -> impl IntoView {
    let retained_class = if r.clean { "num" } else { "num lossy" };
    let cell = r.cell.clone();
    view! {
        <tr data-cell=cell data-kind=r.kind>
            <th scope="row">{r.cell}</th>
            <td class="text">{r.kind}</td>
            {num::count(r.target)}
            <td class=retained_class data-v=r.retained.to_string()>{r.retained.to_string()}</td>
            <td class="text ranges">{r.kept}</td>
            <td class="text pattern">{r.pattern}</td>
            <td class="num sdk-dropped">{r.sdk_dropped}</td>
            {num::count(r.tare_counted)}
            <td class="text agree">{r.counts_agree}</td>
        </tr>
    }
}

/// Attributes, links and whole spans per cell, when any cell asked for them.
#[component]
fn SpanLimitsTable(summary: Arc<Summary>) -> impl IntoView {
    let rows = limit_rows(&summary);
    (!rows.is_empty()).then(|| {
        let rows = rows.into_iter().map(limit_row).collect_view();
        view! {
            <h3>"Span limits: attributes, links, whole spans"</h3>
            <p class="muted">
                "Root-span attributes " <code>"tare.sweep.attr.<i>"</code> ", root-span links and a burst of child spans "
                <code>"tare.sweep.span"</code> " through the batch span processor, each indexed 0..target (the traced "
                "sample that kept the fewest). SDK dropped: the root span's " <code>"droppedAttributesCount"</code> " / "
                <code>"droppedLinksCount"</code> ", and for whole spans the SDK's own count where it exposes one; tare "
                "counted: target - retained."
            </p>
            <div class="scroll">
                <table id="span-limits">
                    <thead>
                        <tr>
                            <th scope="col">"cell"</th><th scope="col">"kind"</th>
                            <th scope="col">"target"</th><th scope="col">"retained"</th>
                            <th scope="col">"kept indexes"</th><th scope="col">"pattern"</th>
                            <th scope="col">"SDK dropped"</th><th scope="col">"tare counted"</th>
                            <th scope="col">"counts agree"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }
    })
}

#[component]
pub fn RetentionView(summary: Arc<Summary>) -> impl IntoView {
    let limits = summary.clone();
    let svg = retention_svg(&summary);
    let rows = summary
        .cells
        .iter()
        .filter(|c| c.fidelity.span_target > 0)
        .map(|c| {
            let f = &c.fidelity;
            let gone = evicted(f.span_target, &f.retained_ranges);
            let evicted_count: u64 = gone.iter().map(|[lo, hi]| hi - lo + 1).sum();
            let limit = match (f.effective_limit, f.limit_source) {
                (Some(l), Some(src)) => format!("{l} ({})", format::limit_source(src)),
                (Some(l), None) => l.to_string(),
                _ => "—".into(),
            };
            view! {
                <tr data-cell=c.id.clone()>
                    <th scope="row">{c.id.clone()}</th>
                    {num::count(f.span_target)}
                    {match f.span_retained {
                        Some(r) => num::count(r).into_any(),
                        None => view! { <td class="num missing">"—"</td> }.into_any(),
                    }}
                    <td class="text ranges">{format::ranges(&f.retained_ranges, 8)}</td>
                    <td class="text ranges evicted" data-n=evicted_count.to_string()>
                        {if f.span_retained.is_some() { format::ranges(&gone, 8) } else { "—".into() }}
                    </td>
                    <td class="text pattern">{pattern_name(f.pattern)}</td>
                    <td class="text">{limit}</td>
                    <td>{badge::fidelity(f.verdict)}</td>
                </tr>
            }
        })
        .collect_view();
    let none = summary.cells.iter().all(|c| c.fidelity.span_target == 0);
    view! {
        <p class="muted">
            "For each cell with span events: which indexes 0..target the trace kept (fewest kept by any "
            "traced sample). " <code>"newest_kept"</code> " is FIFO eviction of the oldest; "
            <code>"oldest_kept"</code> " means newer events were dropped."
        </p>
        <Chart svg=Signal::stored(svg) label="Retained span-event indexes per cell" />
        {none.then(|| view! { <p class="note">"No cell asked for span events."</p> })}
        <div class="scroll">
            <table id="retention">
                <thead>
                    <tr>
                        <th scope="col">"cell"</th><th scope="col">"target"</th>
                        <th scope="col">"retained"</th><th scope="col">"retained indexes"</th>
                        <th scope="col">"evicted indexes"</th><th scope="col">"pattern"</th>
                        <th scope="col">"effective limit"</th><th scope="col">"verdict"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <SpanLimitsTable summary=limits />
    }
}

#[cfg(test)]
mod tests {
    use super::evicted;

    #[test]
    fn complement() {
        assert_eq!(evicted(500, &[[0, 127]]), vec![[128, 499]]);
        assert_eq!(evicted(500, &[[372, 499]]), vec![[0, 371]]);
        assert_eq!(evicted(10, &[[0, 9]]), Vec::<[u64; 2]>::new());
        assert_eq!(evicted(10, &[[2, 3], [6, 6]]), vec![[0, 1], [4, 5], [7, 9]]);
        assert_eq!(evicted(3, &[]), vec![[0, 2]]);
    }
}
