//! Phase breakdown: capture phases stacked per capture arm with the residual (the report's chart), and a table.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::render::charts::phases::{segments, RESIDUAL};
use report_model::render::charts::phases_svg;
use report_model::schema::summary::Summary;

use super::{cell_ids, narrowed, route_cell, UnknownCell};
use crate::components::cell_picker::CellPicker;
use crate::components::chart::Chart;
use crate::components::num;
use crate::state::Shared;

#[component]
pub fn PhasesView(summary: Arc<Summary>) -> impl IntoView {
    let summary = Shared(summary);
    let cell = route_cell(summary.clone());
    let shown = narrowed(summary.clone(), cell);
    let svg = Memo::new(move |_| shown.with(|s| phases_svg(s)));
    let rows = move || {
        shown.with(|s| {
            s.cells
                .iter()
                .flat_map(|c| {
                    c.arms
                        .iter()
                        .filter(|(_, a)| !a.phases_ms.is_empty())
                        .flat_map(move |(arm, a)| {
                            let wall = a.wall_ms.as_ref().map(|d| d.median);
                            let segs = segments(a);
                            let sum: f64 = segs.iter().map(|(_, v)| v).filter(|v| v.is_finite()).sum();
                            let total = view! {
                                <tr data-cell=c.id.clone() data-arm=arm.as_str() data-phase="sum" class="sum">
                                    <th scope="row">{c.id.clone()}</th>
                                    <td>{arm.label()}</td>
                                    <td class="text">"sum of the medians above"</td>
                                    {num::ms(Some(sum))}
                                    <td class="num missing">"—"</td>
                                    <td class="num missing">"—"</td>
                                    {num::ms(wall)}
                                </tr>
                            };
                            segs.into_iter()
                                .map(move |(name, median)| {
                                    let d = a.phases_ms.get(&name);
                                    let residual = name == RESIDUAL;
                                    view! {
                                        <tr data-cell=c.id.clone() data-arm=arm.as_str() data-phase=name.clone() class:residual=residual>
                                            <th scope="row">{c.id.clone()}</th>
                                            <td>{arm.label()}</td>
                                            <td class="text">
                                                {name.clone()}
                                                {(residual && d.is_none()).then_some(" (wall median − phase medians)")}
                                            </td>
                                            {num::ms(Some(median))}
                                            {num::ms(d.map(|d| d.p95))}
                                            {num::ms(d.map(|d| d.p99))}
                                            {num::ms(wall)}
                                        </tr>
                                    }
                                    .into_any()
                                })
                                .chain(std::iter::once(total.into_any()))
                                .collect::<Vec<_>>()
                        })
                })
                .collect_view()
        })
    };
    view! {
        <p class="muted">
            "Medians of each capture phase per capture arm, stacked, with the residual (time outside "
            "any phase). The median of a sum is not the sum of medians, so the stack approximates a "
            "typical run; the arm's wall-clock median is shown beside it."
        </p>
        <CellPicker cells=cell_ids(&summary) selected=cell all=true />
        <UnknownCell summary=summary.clone() />
        <Chart svg=svg label="Capture phases per arm, stacked medians with the residual" />
        <div class="scroll">
            <table id="phases">
                <thead>
                    <tr>
                        <th scope="col">"cell"</th><th scope="col">"arm"</th>
                        <th scope="col">"phase"</th><th scope="col">"median (ms)"</th>
                        <th scope="col">"p95"</th><th scope="col">"p99"</th>
                        <th scope="col">"wall median"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
