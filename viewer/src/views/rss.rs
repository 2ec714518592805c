//! Peak RSS per arm and cell (the report's chart) with medians and maxima in a table.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::render::charts::rss_svg;
use report_model::schema::summary::Summary;

use super::{cell_ids, narrowed, route_cell, UnknownCell};
use crate::components::badge;
use crate::components::cell_picker::CellPicker;
use crate::components::chart::Chart;
use crate::components::num;
use crate::state::Shared;

#[component]
pub fn RssView(summary: Arc<Summary>) -> impl IntoView {
    let summary = Shared(summary);
    let cell = route_cell(summary.clone());
    let shown = narrowed(summary.clone(), cell);
    let svg = Memo::new(move |_| shown.with(|s| rss_svg(s)));
    let rows = move || {
        shown.with(|s| {
            s.cells
                .iter()
                .flat_map(|c| {
                    c.arms.iter().map(move |(arm, a)| {
                        let d = a.rss_bytes.as_ref();
                        view! {
                            <tr data-cell=c.id.clone() data-arm=arm.as_str()>
                                <th scope="row">{c.id.clone()}</th>
                                <td>{arm.label()}</td>
                                {num::count(d.map_or(0, |d| d.n))}
                                {num::mib(d.map(|d| d.median))}
                                {num::mib(d.map(|d| d.min))}
                                {num::mib(d.map(|d| d.max))}
                                <td>{badge::claim(a.rss_claim)}</td>
                            </tr>
                        }
                    })
                })
                .collect_view()
        })
    };
    view! {
        <p class="muted">
            "Peak RSS of the workload's process tree per arm (medians, with the maximum). "
            "RSS claims need n ≥ 5."
        </p>
        <CellPicker cells=cell_ids(&summary) selected=cell all=true />
        <UnknownCell summary=summary.clone() />
        <Chart svg=svg label="Peak RSS per arm and cell" />
        <div class="scroll">
            <table id="rss">
                <thead>
                    <tr>
                        <th scope="col">"cell"</th><th scope="col">"arm"</th>
                        <th scope="col">"n"</th><th scope="col">"median"</th>
                        <th scope="col">"min"</th><th scope="col">"max"</th><th scope="col">"RSS claim"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
