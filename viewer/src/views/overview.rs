//! Overview: the headline, the host class, health gates per cell and arm, fidelity verdicts, what is not shown.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::analysis::summary::pattern_name;
use report_model::render::format;
use report_model::schema::summary::Summary;

use crate::components::badge::{self, Badge, Tone};
use crate::components::num;
use crate::route::{Page, Route};
use crate::state::Loaded;

#[component]
pub fn OverviewView(bundle: Arc<Loaded>, summary: Arc<Summary>) -> impl IntoView {
    let s = &summary;
    let partial = s.partial.then(|| {
        view! {
            <p class="note warn" id="partial">
                "Partial result: the run was interrupted or samples are missing."
            </p>
        }
    });
    let boundary = s.boundary.as_ref().map(|b| {
        view! {
            <p class="note" id="boundary">
                "Boundary: cell " <strong>{b.cell.clone()}</strong> " failed the "
                <code>{b.gate.clone()}</code> " gate: " {b.detail.clone()}
            </p>
        }
    });
    let notes = (!bundle.notes.is_empty()).then(|| {
        let items = bundle
            .notes
            .iter()
            .map(|n| view! { <li>{n.clone()}</li> })
            .collect_view();
        view! {
            <h3>"Bundle notes"</h3>
            <ul id="bundle-notes">{items}</ul>
        }
    });
    view! {
        <section aria-labelledby="headline-h">
            <h3 id="headline-h" class="sr-only">"Headline"</h3>
            <p class="headline" id="headline">{s.headline.clone()}</p>
            <dl class="facts">
                <dt>"Experiment"</dt><dd id="experiment">{s.experiment.clone()}</dd>
                <dt>"Tier"</dt><dd>{tier_name(s)}</dd>
                <dt>"Host class"</dt><dd id="host-class">{s.host_class.clone()}</dd>
                <dt>"Cells"</dt><dd>{s.cells.len()}</dd>
                <dt>"Members"</dt><dd>{bundle.members}</dd>
            </dl>
            {partial}
            {boundary}
        </section>
        <HealthTable summary=summary.clone() />
        <FidelityTable summary=summary.clone() />
        <section aria-labelledby="not-shown-h">
            <h3 id="not-shown-h">"What the data does not show"</h3>
            <ul id="not-shown">
                {s.not_shown.iter().map(|n| view! { <li>{n.clone()}</li> }).collect_view()}
            </ul>
        </section>
        {notes}
    }
}

fn tier_name(s: &Summary) -> &'static str {
    use report_model::schema::experiment::Tier;
    match s.tier {
        Tier::Smoke => "smoke",
        Tier::Extended => "extended",
        Tier::Certification => "certification",
    }
}

/// Valid and discarded samples per cell and arm, and which claims the counts allow.
#[component]
fn HealthTable(summary: Arc<Summary>) -> impl IntoView {
    let rows = summary
        .cells
        .iter()
        .flat_map(|cell| {
            cell.arms.iter().map(move |(arm, a)| {
                let gate = if a.valid == 0 {
                    view! { <Badge tone=Tone::Bad text="no valid samples" /> }.into_any()
                } else if a.discarded > 0 {
                    view! { <Badge tone=Tone::Warn text="some discarded" /> }.into_any()
                } else {
                    view! { <Badge tone=Tone::Good text="all valid" /> }.into_any()
                };
                view! {
                    <tr data-cell=cell.id.clone() data-arm=arm.as_str()>
                        <th scope="row">{cell.id.clone()}</th>
                        <td>{arm.label()}</td>
                        {num::count(a.valid)}
                        {num::count(a.discarded)}
                        <td>{gate}</td>
                        <td>{badge::claim(a.wall_claim)}</td>
                        <td>{badge::claim(a.rss_claim)}</td>
                        <td>{badge::band(a.tail_band)}</td>
                        <td class="text">{a.discard_reasons.join("; ")}</td>
                    </tr>
                }
            })
        })
        .collect_view();
    view! {
        <section aria-labelledby="health-h">
            <h3 id="health-h">"Health gate"</h3>
            <p class="muted">
                "A sample is valid when the command exited 0 and, for capture arms, health is clean. "
                "Wall-clock claims need n ≥ 20 valid samples, RSS claims n ≥ 5."
            </p>
            <div class="scroll">
                <table id="health">
                    <thead>
                        <tr>
                            <th scope="col">"cell"</th><th scope="col">"arm"</th>
                            <th scope="col">"valid"</th><th scope="col">"discarded"</th>
                            <th scope="col">"gate"</th><th scope="col">"wall claim"</th>
                            <th scope="col">"RSS claim"</th><th scope="col">"p99/median"</th>
                            <th scope="col">"discard reasons"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Kernel and span fidelity per cell.
#[component]
fn FidelityTable(summary: Arc<Summary>) -> impl IntoView {
    let rows = summary
        .cells
        .iter()
        .map(|cell| {
            let f = &cell.fidelity;
            let retention = Route::new(Page::Retention).href();
            view! {
                <tr data-cell=cell.id.clone()>
                    <th scope="row">{cell.id.clone()}</th>
                    {num::count(f.kernel_target)}
                    {opt_count(f.kernel_seen_min)}
                    {num::count(f.span_target)}
                    {opt_count(f.span_retained)}
                    <td class="text"><a href=retention>{pattern_name(f.pattern)}</a></td>
                    <td class="text">{format::ranges(&f.retained_ranges, 4)}</td>
                    <td>{badge::fidelity(f.verdict)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="fidelity-h">
            <h3 id="fidelity-h">"Fidelity"</h3>
            <p class="muted">
                "Did the observation see what the workload did? Kernel: unique worker files seen "
                "(fewest in any capture sample). Spans: span events retained in the trace."
            </p>
            <div class="scroll">
                <table id="fidelity">
                    <thead>
                        <tr>
                            <th scope="col">"cell"</th><th scope="col">"kernel target"</th>
                            <th scope="col">"kernel seen (min)"</th><th scope="col">"span target"</th>
                            <th scope="col">"span retained"</th><th scope="col">"pattern"</th>
                            <th scope="col">"retained indexes"</th><th scope="col">"verdict"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

fn opt_count(v: Option<u64>) -> AnyView {
    match v {
        Some(v) => num::count(v).into_any(),
        None => view! { <td class="num missing">"—"</td> }.into_any(),
    }
}

/// Shown on summary views when a capture archive (not a bundle) is open.
#[component]
pub fn ArchiveOnly(bundle: Arc<Loaded>) -> impl IntoView {
    view! {
        <p class="note" id="archive-only">
            "This is a capture archive (" {bundle.id.clone()} "), not a bench bundle: it has kernel "
            "events, a process tree and a resource timeline but no summary. "
            <a href=Route::new(Page::Processes).href() id="to-processes">"See its processes"</a>
            ", " <a href=Route::new(Page::Events).href()>"explore its kernel events"</a> ", see its "
            <a href=Route::new(Page::Timeline).href() id="to-timeline">"resource timeline"</a>
            ", or open a bundle for the other views."
        </p>
    }
}
