//! Arm deltas: Hodges-Lehmann shifts with 95% CI bars (the report's chart) and every number in a table.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::render::charts::deltas_svg;
use report_model::render::format;
use report_model::schema::summary::Summary;

use super::{cell_ids, narrowed, route_cell, UnknownCell};
use crate::components::badge;
use crate::components::cell_picker::CellPicker;
use crate::components::chart::Chart;
use crate::components::num;
use crate::state::Shared;

#[component]
pub fn DeltasView(summary: Arc<Summary>) -> impl IntoView {
    let summary = Shared(summary);
    let cell = route_cell(summary.clone());
    let shown = narrowed(summary.clone(), cell);
    let svg = Memo::new(move |_| shown.with(|s| deltas_svg(s)));
    let rows = move || {
        shown.with(|s| {
            s.cells
                .iter()
                .flat_map(|c| {
                    c.deltas.iter().map(move |d| {
                        let ci = match (d.ci_low, d.ci_high) {
                            (Some(lo), Some(hi)) => format!(
                                "{} to {}",
                                format::signed_ms(lo),
                                format::signed_ms(hi)
                            ),
                            _ => "—".to_string(),
                        };
                        view! {
                            <tr data-cell=c.id.clone() data-delta=d.name.clone() data-metric=d.metric.clone()>
                                <th scope="row">{c.id.clone()}</th>
                                <td class="text">{format::delta_label(&d.name)}</td>
                                <td class="text">{d.metric.clone()}</td>
                                {num::signed_ms(d.estimate)}
                                <td class="num ci" data-lo=opt(d.ci_low) data-hi=opt(d.ci_high)>{ci}</td>
                                {num::p_value(d.p_value)}
                                {num::count(d.n)}
                                <td>{if d.paired { "paired" } else { "unpaired" }}</td>
                                <td>{badge::verdict(d.verdict)}</td>
                            </tr>
                        }
                    })
                })
                .collect_view()
        })
    };
    let medians = move || {
        shown.with(|s| {
            s.cells
                .iter()
                .flat_map(|c| {
                    c.arms.iter().map(move |(arm, a)| {
                        view! {
                            <tr data-cell=c.id.clone() data-arm=arm.as_str()>
                                <th scope="row">{c.id.clone()}</th>
                                <td>{arm.label()}</td>
                                {num::count(a.wall_ms.as_ref().map_or(0, |d| d.n))}
                                {num::ms(a.wall_ms.as_ref().map(|d| d.median))}
                                {num::ms(a.cpu_ms.as_ref().map(|d| d.median))}
                                {num::ms(a.tare_cpu_ms.as_ref().map(|d| d.median))}
                            </tr>
                        }
                    })
                })
                .collect_view()
        })
    };
    view! {
        <p class="muted">
            "Each row is a shift in wall-clock or in the workload's CPU time (candidate − base, ms): a Hodges-Lehmann estimate with an "
            "exact distribution-free 95% confidence interval; paired (Wilcoxon signed-rank) where the "
            "arms ran in pairs. A verdict needs at least 6 pairs."
        </p>
        <CellPicker cells=cell_ids(&summary) selected=cell all=true />
        <UnknownCell summary=summary.clone() />
        <Chart svg=svg label="Arm deltas with 95% confidence intervals" />
        <div class="scroll">
            <table id="deltas">
                <thead>
                    <tr>
                        <th scope="col">"cell"</th><th scope="col">"comparison"</th>
                        <th scope="col">"metric"</th><th scope="col">"estimate (ms)"</th>
                        <th scope="col">"95% CI (ms)"</th><th scope="col">"p"</th>
                        <th scope="col">"n"</th><th scope="col">"test"</th>
                        <th scope="col">"verdict"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <h3>"Arm medians"</h3>
        <div class="scroll">
            <table id="arm-medians">
                <thead>
                    <tr>
                        <th scope="col">"cell"</th><th scope="col">"arm"</th>
                        <th scope="col">"n"</th><th scope="col">"median (ms)"</th>
                        <th scope="col">"workload CPU (ms)"</th><th scope="col">"tare CPU (ms)"</th>
                    </tr>
                </thead>
                <tbody>{medians}</tbody>
            </table>
        </div>
    }
}

fn opt(v: Option<f64>) -> Option<String> {
    v.map(|v| v.to_string())
}
