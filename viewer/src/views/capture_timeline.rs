//! One timeline of a capture (report-model's analysis::capture_timeline): process tracks with their events binned per column, the OTel spans nested, the resource samples; zoom and pan (route `from`/`to`), hover titles, and a selected span's kernel events (route `span`).

use leptos::prelude::*;
use report_model::analysis::capture_timeline::{self, Inputs, TimelineLayout, Window};
use report_model::analysis::clock::ClockMapping;

use crate::load::Capture;
use crate::state::{use_state, Shared};
use crate::views::events::detail;

/// Columns of the plot: what bounds the shapes drawn, however many events there are.
const COLUMNS: u32 = 400;
/// SVG units: the label column, the plot, a row.
const LABEL_W: f64 = 190.0;
const PLOT_W: f64 = 800.0;
const ROW_H: f64 = 16.0;
/// Events listed for a selected span; the rest are counted.
const LISTED: usize = 200;

fn x(frac: f64) -> f64 {
    LABEL_W + frac * PLOT_W
}

fn ms(ns: u64, origin: u64) -> String {
    format!("{:.3} ms", ns.saturating_sub(origin) as f64 / 1e6)
}

/// The window the route asks for (`from`, `to`: monotonic nanoseconds).
fn route_window() -> Memo<Option<Window>> {
    let state = use_state();
    Memo::new(move |_| {
        state.route.with(|r| {
            let from = r.get("from")?.parse().ok()?;
            let to = r.get("to")?.parse().ok()?;
            (from < to).then_some(Window {
                start: from,
                end: to,
            })
        })
    })
}

fn go_to(w: Window) {
    let state = use_state();
    let r = state
        .route
        .get_untracked()
        .with("from", w.start.to_string())
        .with("to", w.end.to_string());
    state.navigate(r);
}

fn svg_of(l: &TimelineLayout) -> impl IntoView {
    let state = use_state();
    let origin = l.bounds.start;
    let col_w = PLOT_W / f64::from(l.columns);
    let mut y = 0.0;
    let mut shapes = Vec::new();
    for t in &l.processes {
        let row_y = y;
        y += ROW_H;
        let label = format!("{}{}", "  ".repeat(t.depth.min(8)), t.label);
        shapes.push(
            view! {
                <text x="4" y=row_y + ROW_H * 0.75 class="tl-label" class:failed=t.failed>{label}</text>
            }
            .into_any(),
        );
        if let Some((a, b)) = t.life {
            let w = ((b - a) * PLOT_W).max(1.0);
            shapes.push(
                view! {
                    <rect x=x(a) y=row_y + 3.0 width=w height=ROW_H - 6.0 class="tl-life" class:failed=t.failed>
                        <title>{format!("{}: alive here", t.label)}</title>
                    </rect>
                }
                .into_any(),
            );
        }
        for b in &t.bins {
            let title = format!(
                "{}: {} event{} here, mostly {}",
                t.label,
                b.events,
                if b.events == 1 { "" } else { "s" },
                b.kind.as_str()
            );
            shapes.push(
                view! {
                    <rect x=LABEL_W + f64::from(b.column) * col_w y=row_y + 1.0
                        width=col_w.max(1.0) height=ROW_H - 2.0
                        class=format!("tl-ev k-{}", b.kind.as_str())
                        data-events=b.events.to_string()>
                        <title>{title}</title>
                    </rect>
                }
                .into_any(),
            );
        }
    }
    if !l.spans.is_empty() {
        y += ROW_H * 0.5;
        shapes.push(
            view! { <text x="4" y=y + ROW_H * 0.75 class="tl-label">"OTel spans"</text> }
                .into_any(),
        );
        let top = y;
        let depth = l.spans.iter().map(|s| s.depth).max().unwrap_or(0);
        for s in &l.spans {
            let index = s.index;
            let select = move |_| {
                let r = state.route.get_untracked().with("span", index.to_string());
                state.navigate(r);
            };
            let w = ((s.to - s.from) * PLOT_W).max(1.0);
            let title = format!(
                "{} ({}): {}, from {}",
                s.name,
                s.service,
                ms(s.end_ns, s.start_ns).replace(" ms", " ms long"),
                ms(s.start_ns, origin)
            );
            let row_y = top + s.depth as f64 * ROW_H;
            shapes.push(
                view! {
                    <rect x=x(s.from) y=row_y + 1.0 width=w height=ROW_H - 2.0
                        class="tl-span" data-span=s.index.to_string() on:click=select>
                        <title>{title}</title>
                    </rect>
                }
                .into_any(),
            );
            // Its events, as ticks over it (at most one a column).
            let mut ticks: Vec<u32> = s
                .events
                .iter()
                .map(|f| (f * f64::from(l.columns)) as u32)
                .collect();
            ticks.dedup();
            for c in ticks {
                shapes.push(
                    view! {
                        <rect x=LABEL_W + f64::from(c) * col_w y=row_y width=col_w.max(1.0)
                            height=ROW_H class="tl-span-event" />
                    }
                    .into_any(),
                );
            }
        }
        y = top + (depth + 1) as f64 * ROW_H;
    }
    if !l.samples.is_empty() {
        y += ROW_H * 0.5;
        let h = ROW_H * 2.0;
        let max = l
            .samples
            .iter()
            .map(|s| s.rss_bytes)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let points = l
            .samples
            .iter()
            .map(|s| format!("{:.1},{:.1}", x(s.at), y + h - s.rss_bytes as f64 / max * h))
            .collect::<Vec<_>>()
            .join(" ");
        shapes.push(
            view! {
                <text x="4" y=y + ROW_H * 1.25 class="tl-label">"RSS (metrics.ndjson)"</text>
                <polyline points=points class="tl-rss">
                    <title>{format!("peak {:.1} MiB", max / 1048576.0)}</title>
                </polyline>
            }
            .into_any(),
        );
        y += h;
    }
    let height = y + 4.0;
    view! {
        <svg id="capture-timeline" class="timeline-svg" role="img"
            aria-label="Processes, their kernel events, the OTel spans and the resource samples on one clock"
            viewBox=format!("0 0 {} {height}", LABEL_W + PLOT_W)
            data-processes=l.processes.len().to_string() data-spans=l.spans.len().to_string()>
            {shapes}
        </svg>
    }
}

/// The timeline of `capture`, with its controls and the selected span's events.
#[component]
pub fn CaptureTimeline(capture: Shared<Capture>) -> impl IntoView {
    let state = use_state();
    let window = route_window();
    let clock = capture
        .members
        .run
        .as_ref()
        .and_then(|r| r.clock)
        .map(|c| ClockMapping::new(&c));
    let layout = {
        let c = capture.clone();
        Memo::new(move |_| {
            let inputs = Inputs {
                events: &c.members.events,
                tree: &c.tree,
                trace: c.members.trace.as_ref(),
                metrics: &c.members.metrics,
                clock,
            };
            capture_timeline::layout(&inputs, window.get(), COLUMNS)
        })
    };
    let span = Memo::new(move |_| {
        state
            .route
            .with(|r| r.get("span").and_then(|s| s.parse::<usize>().ok()))
    });
    let controls = move || {
        layout.with(|l| {
            l.as_ref().map(|l| {
                let (w, b) = (l.window, l.bounds);
                view! {
                    <div class="tl-controls" role="group" aria-label="Timeline window">
                        <button type="button" id="tl-in" on:click=move |_| go_to(w.zoom(0.5, b))>"Zoom in"</button>
                        <button type="button" id="tl-out" on:click=move |_| go_to(w.zoom(2.0, b))>"Zoom out"</button>
                        <button type="button" id="tl-left" on:click=move |_| go_to(w.pan(-0.5, b))>"← Earlier"</button>
                        <button type="button" id="tl-right" on:click=move |_| go_to(w.pan(0.5, b))>"Later →"</button>
                        <button type="button" id="tl-all" on:click=move |_| go_to(b)>"Whole capture"</button>
                        <span class="muted" id="tl-window" data-from=w.start.to_string() data-to=w.end.to_string()>
                            {format!("{} to {} of {}", ms(w.start, b.start), ms(w.end, b.start), ms(b.end, b.start))}
                        </span>
                    </div>
                }
            })
        })
    };
    let clock_note = match (clock, capture.members.trace.is_some()) {
        (Some(m), _) => Some(m.describe()),
        (None, true) => Some(
            "run.json has no clock pair (an archive from before it): the spans cannot be placed \
             beside the kernel events."
                .to_string(),
        ),
        (None, false) => None,
    };
    let selected = {
        let capture = capture.clone();
        move || {
            let index = span.get()?;
            let l = layout.get()?;
            let s = l.spans.iter().find(|s| s.index == index)?.clone();
            let within = capture_timeline::events_within(
                &capture.members.events,
                s.start_ns,
                s.end_ns,
                s.pid,
            );
            let origin = l.bounds.start;
            let rows = within
                .iter()
                .take(LISTED)
                .filter_map(|&i| capture.members.events.get(i))
                .map(|e| {
                    view! {
                        <tr data-seq=e.seq.to_string()>
                            <td class="num">{ms(e.ts_ns, origin)}</td>
                            <td class="num">{e.pid.to_string()}</td>
                            <td>{e.detail.kind().as_str()}</td>
                            <td class="path">{detail(&e.detail)}</td>
                        </tr>
                    }
                })
                .collect_view();
            let whose = s.pid.map_or("every process".to_string(), |p| {
                format!("pid {p} (its resource's process.pid)")
            });
            let span_window = Window {
                start: s.start_ns,
                end: s.end_ns.max(s.start_ns + 1_000),
            };
            Some(view! {
                <section id="tl-selected" data-span=s.index.to_string() data-events=within.len().to_string()>
                    <h3>{format!("Span {} ({}): {} kernel events of {} inside it", s.name, s.service, within.len(), whose)}</h3>
                    <button type="button" id="tl-zoom-span" on:click=move |_| go_to(span_window)>"Zoom to this span"</button>
                    <div class="scroll">
                        <table id="tl-span-events">
                            <thead><tr><th scope="col">"t"</th><th scope="col">"pid"</th><th scope="col">"kind"</th><th scope="col">"detail"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            })
        }
    };
    view! {
        <section id="capture-timeline-section">
            <h3>"Timeline"</h3>
            {controls}
            {move || layout.with(|l| l.as_ref().map(svg_of))}
            {clock_note.map(|n| view! { <p class="muted" id="tl-clock">{n}</p> })}
            {selected}
        </section>
    }
}
