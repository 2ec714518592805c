//! Wall-clock distributions of one cell: every sample per arm (the report's chart) and the percentiles in a table.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::render::charts::wall_svg;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;

use super::{cell_ids, route_cell, UnknownCell};
use crate::components::badge;
use crate::components::cell_picker::CellPicker;
use crate::components::chart::Chart;
use crate::components::num;
use crate::state::Shared;

#[component]
pub fn WallView(summary: Arc<Summary>, samples: Arc<Vec<Sample>>) -> impl IntoView {
    let summary = Shared(summary);
    let samples = Shared(samples);
    let routed = route_cell(summary.clone());
    let first = summary.cells.first().map(|c| c.id.clone());
    // One cell at a time: the route's, else the first.
    let cell = Memo::new(move |_| routed.get().or_else(|| first.clone()));
    let has_samples = !samples.is_empty();
    let svg = {
        let samples = samples.clone();
        Memo::new(move |_| {
            cell.get()
                .map(|c| wall_svg(&c, &samples))
                .unwrap_or_default()
        })
    };
    let rows = {
        let summary = summary.clone();
        move || {
            let id = cell.get()?;
            let c = summary.cells.iter().find(|c| c.id == id)?;
            Some(
                c.arms
                    .iter()
                    .map(|(arm, a)| {
                        let d = a.wall_ms.as_ref();
                        view! {
                            <tr data-cell=c.id.clone() data-arm=arm.as_str()>
                                <th scope="row">{arm.label()}</th>
                                {num::count(a.valid)}
                                {num::count(a.discarded)}
                                {num::ms(d.map(|d| d.median))}
                                {num::ms(d.map(|d| d.p95))}
                                {num::ms(d.map(|d| d.p99))}
                                {num::ms(d.map(|d| d.min))}
                                {num::ms(d.map(|d| d.max))}
                                {num::ratio(a.tail_ratio)}
                                <td>{badge::band(a.tail_band)}</td>
                                <td>{badge::claim(a.wall_claim)}</td>
                            </tr>
                        }
                    })
                    .collect_view(),
            )
        }
    };
    let few = summary.cells.iter().any(|c| {
        c.arms
            .values()
            .any(|a| a.wall_ms.as_ref().is_some_and(|d| d.n < 100))
    });
    let p99_note = few.then(|| {
        view! { <p class="muted">"With n < 100 the nearest-rank p99 is the maximum sample."</p> }
    });
    view! {
        <p class="muted">
            "Every counted sample of the cell, one lane per arm (hollow grey: discarded); the box spans "
            "p25..p75, the thick bar is the median, whiskers run min..max. Warm-ups are left out."
        </p>
        <CellPicker cells=cell_ids(&summary) selected=cell />
        <UnknownCell summary=summary.clone() />
        {(!has_samples).then(|| view! {
            <p class="note">"No samples.jsonl was opened, so the chart has no points; the table is from summary.json."</p>
        })}
        <Chart svg=svg label=move || format!("Wall-clock per arm, cell {}", cell.get().unwrap_or_default()) />
        <div class="scroll">
            <table id="wall">
                <thead>
                    <tr>
                        <th scope="col">"arm"</th><th scope="col">"valid"</th>
                        <th scope="col">"discarded"</th><th scope="col">"median (ms)"</th>
                        <th scope="col">"p95"</th><th scope="col">"p99"</th>
                        <th scope="col">"min"</th><th scope="col">"max"</th>
                        <th scope="col">"p99/median"</th><th scope="col">"band"</th>
                        <th scope="col">"wall claim"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {p99_note}
    }
}
