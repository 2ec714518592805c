//! Sweep matrix: cells placed by kernel events × span events, coloured by fidelity verdict or by overhead.

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use report_model::analysis::summary::WALL_MS;
use report_model::render::format;
use report_model::schema::experiment::Arm;
use report_model::schema::summary::{CellSummary, FidelityVerdict, Summary};

use crate::components::badge::Tone;
use crate::route::{Page, Route};
use crate::state::use_state;

/// The overhead of observing a cell: the `c_vs_bare` shift (else `a_vs_bare`) and that shift
/// as a percentage of the bare median.
pub fn overhead(cell: &CellSummary) -> Option<(&'static str, f64, Option<f64>)> {
    let (name, d) = ["c_vs_bare", "a_vs_bare"].into_iter().find_map(|n| {
        cell.deltas
            .iter()
            .find(|d| d.name == n && d.metric == WALL_MS)
            .map(|d| (n, d))
    })?;
    let est = d.estimate?;
    let bare = cell
        .arms
        .get(&Arm::Bare)
        .and_then(|a| a.wall_ms.as_ref())
        .map(|w| w.median)
        .filter(|m| *m > 0.0);
    Some((name, est, bare.map(|b| est / b * 100.0)))
}

/// Overhead bands for colour: up to 5% good, up to 25% warning, beyond bad.
fn overhead_tone(pct: Option<f64>) -> Tone {
    match pct {
        Some(p) if p <= 5.0 => Tone::Good,
        Some(p) if p <= 25.0 => Tone::Warn,
        Some(_) => Tone::Bad,
        None => Tone::Neutral,
    }
}

fn fidelity_tone(v: FidelityVerdict) -> Tone {
    match v {
        FidelityVerdict::Clean => Tone::Good,
        FidelityVerdict::Lossy => Tone::Bad,
        FidelityVerdict::Inconclusive => Tone::Warn,
    }
}

#[component]
pub fn MatrixView(summary: Arc<Summary>) -> impl IntoView {
    let state = use_state();
    let by_overhead = Memo::new(move |_| state.route.with(|r| r.get("by") == Some("overhead")));
    let kernels: BTreeSet<u32> = summary.cells.iter().map(|c| c.kernel_events).collect();
    let spans: BTreeSet<u32> = summary.cells.iter().map(|c| c.span_events).collect();
    let set_by =
        move |by: &'static str| move |_| state.navigate(state.route.get_untracked().with("by", by));
    let head = spans
        .iter()
        .map(|s| view! { <th scope="col" class="num">{s.to_string()}</th> })
        .collect_view();
    let body = kernels
        .iter()
        .map(|&k| {
            let cols = spans
                .iter()
                .map(|&s| {
                    let cells: Vec<&CellSummary> = summary
                        .cells
                        .iter()
                        .filter(|c| c.kernel_events == k && c.span_events == s)
                        .collect();
                    let entries = cells
                        .into_iter()
                        .map(|c| entry(c, by_overhead))
                        .collect_view();
                    view! { <td class="mx">{entries}</td> }
                })
                .collect_view();
            view! {
                <tr>
                    <th scope="row" class="num">{k.to_string()}</th>
                    {cols}
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted">
            "Each cell of the sweep at its kernel-event level (rows) and span-event level (columns). "
            "Fidelity: clean, lossy or inconclusive. Overhead: the shift of C (capture + OTel) over "
            "bare, else A over bare, as ms and % of the bare median (≤ 5% green, ≤ 25% amber, more red)."
        </p>
        <div class="segmented" role="group" aria-label="Colour cells by">
            <button type="button" id="by-fidelity" aria-pressed=move || (!by_overhead.get()).to_string() on:click=set_by("fidelity")>
                "Colour by fidelity"
            </button>
            <button type="button" id="by-overhead" aria-pressed=move || by_overhead.get().to_string() on:click=set_by("overhead")>
                "Colour by overhead"
            </button>
        </div>
        <div class="scroll">
            <table id="matrix" class="matrix">
                <caption>"kernel events ↓ × span events →"</caption>
                <thead>
                    <tr><th scope="col">"kernel \\ span"</th>{head}</tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// One cell of the sweep inside a matrix position.
fn entry(c: &CellSummary, by_overhead: Memo<bool>) -> impl IntoView {
    let over = overhead(c);
    let pct = over.and_then(|(_, _, p)| p);
    let fid = fidelity_tone(c.fidelity.verdict);
    let ovt = overhead_tone(pct);
    let class = move || {
        let tone = if by_overhead.get() { ovt } else { fid };
        format!("mx-cell {}", tone.class())
    };
    let over_text = match over {
        Some((name, est, pct)) => format!(
            "{} {} ms{}",
            format::delta_label(name),
            format::signed_ms(est),
            pct.map(|p| format!(" ({p:+.1}%)")).unwrap_or_default()
        ),
        None => "no overhead estimate".into(),
    };
    let href = Route::new(Page::Deltas).with("cell", c.id.clone()).href();
    view! {
        <div class=class data-cell=c.id.clone() data-pct=pct.map(|p| p.to_string())>
            <a href=href>{c.id.clone()}</a>
            <span class="mx-fid">{format::fidelity(c.fidelity.verdict)}</span>
            <span class="mx-over">{over_text}</span>
        </div>
    }
}
