//! A capture at a glance and its process tree: command, exit, duration, health, events by kind, top files and connections; then every process (lifetime, exit, counts), one expandable to its events (route parameter `open`).

use std::sync::Arc;

use leptos::prelude::*;
use report_model::analysis::process_tree::Process;
use report_model::schema::health::Health;
use report_model::schema::run::Run;

use crate::components::archive_picker::{selected_archive, ArchivePicker, NoArchives};
use crate::components::num;
use crate::load::{self, Capture};
use crate::state::{use_state, Loaded, Shared};
use crate::views::capture_timeline::CaptureTimeline;
use crate::views::events::detail;

/// Depths indented by the style sheet (`td.depth-N`); deeper ones stay at this one (the
/// page's policy allows no inline style).
const MAX_INDENT: usize = 8;

/// Events listed under an expanded process; the rest are counted.
pub const SHOWN_EVENTS: usize = 200;

fn ms_since(t: u64, origin: u64) -> f64 {
    t.saturating_sub(origin) as f64 / 1e6
}

fn exit_text(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (_, Some(s)) => format!("signal {s}"),
        (Some(c), None) => format!("exit {c}"),
        (None, None) => "—".into(),
    }
}

/// The run's command, exit and durations, and the health of its kernel layer.
fn summary_list(run: Option<&Run>, health: Option<&Health>, c: &Capture) -> impl IntoView {
    let command = run.map_or("—".to_string(), |r| r.command.join(" "));
    let exit = run.map_or("—".to_string(), |r| {
        let mut t = exit_text(r.exit.code, r.exit.signal);
        if r.exit.timed_out {
            t.push_str(" (killed after --timeout)");
        }
        if r.exit.interrupted {
            t.push_str(" (interrupted)");
        }
        t
    });
    let child_ms = run.map(|r| r.child_ns as f64 / 1e6);
    let total_ms = run.map(|r| r.total_ns as f64 / 1e6);
    let layer = health.map_or("—".to_string(), |h| {
        format!("{:?}", h.kernel_layer).to_lowercase()
    });
    let events = c.members.events.len();
    view! {
        <dl class="facts" id="capture-facts">
            <dt>"Command"</dt><dd id="cap-command">{command}</dd>
            <dt>"Exit"</dt><dd id="cap-exit">{exit}</dd>
            <dt>"Child wall-clock"</dt>
            <dd id="cap-child" data-v=child_ms.map(|v| v.to_string()).unwrap_or_default()>
                {child_ms.map_or("—".into(), |v| format!("{v:.2} ms"))}
            </dd>
            <dt>"tare in all"</dt>
            <dd id="cap-total" data-v=total_ms.map(|v| v.to_string()).unwrap_or_default()>
                {total_ms.map_or("—".into(), |v| format!("{v:.2} ms"))}
            </dd>
            <dt>"Kernel layer"</dt><dd id="cap-layer">{layer}</dd>
            <dt>"Events"</dt><dd id="cap-events" data-v=events.to_string()>{events.to_string()}</dd>
            <dt>"Processes"</dt>
            <dd id="cap-processes" data-v=c.tree.processes.len().to_string()>
                {c.tree.processes.len().to_string()}
            </dd>
        </dl>
    }
}

/// tare's own phases (phases.json), with the residual.
fn phases_table(c: &Capture) -> impl IntoView {
    c.members.phases.as_ref().map(|p| {
        let rows = p
            .phases
            .iter()
            .map(|ph| {
                view! {
                    <tr data-phase=ph.name.clone()>
                        <td>{ph.name.clone()}</td>
                        {num::ms(Some(ph.duration_ns as f64 / 1e6))}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table id="cap-phases">
                <caption>"tare's phases"</caption>
                <thead><tr><th scope="col">"phase"</th><th scope="col">"ms"</th></tr></thead>
                <tbody>
                    {rows}
                    <tr class="residual" data-phase="residual">
                        <td>"residual"</td>{num::ms(Some(p.residual_ns as f64 / 1e6))}
                    </tr>
                </tbody>
            </table>
        }
    })
}

fn overview_tables(c: &Capture) -> impl IntoView {
    let o = &c.overview;
    let kinds = o
        .by_kind
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(k, n)| view! { <tr data-kind=k.as_str()><td>{k.as_str()}</td>{num::count(*n)}</tr> })
        .collect_view();
    let files = o
        .top_files
        .iter()
        .map(|f| {
            view! {
                <tr>
                    <td class="path">{f.path.clone()}</td>
                    {num::count(f.opens)}
                    {num::count(f.failures)}
                    {num::count(f.processes)}
                </tr>
            }
        })
        .collect_view();
    let conns = o
        .connections
        .iter()
        .map(|x| {
            view! {
                <tr>
                    <td class="path">{x.addr.clone()}</td>
                    {num::count(x.port)}
                    {num::count(x.attempts)}
                    {num::count(x.failures)}
                </tr>
            }
        })
        .collect_view();
    let no_conns = o.connections.is_empty();
    view! {
        <div class="side-by-side">
            {phases_table(c)}
            <table id="cap-kinds">
                <caption>"Events by kind"</caption>
                <thead><tr><th scope="col">"kind"</th><th scope="col">"events"</th></tr></thead>
                <tbody>{kinds}</tbody>
            </table>
            <table id="cap-files" data-distinct=o.distinct_files.to_string()>
                <caption>{format!("Files opened most ({} distinct)", o.distinct_files)}</caption>
                <thead>
                    <tr>
                        <th scope="col">"path"</th><th scope="col">"opens"</th>
                        <th scope="col">"failed"</th><th scope="col">"processes"</th>
                    </tr>
                </thead>
                <tbody>{files}</tbody>
            </table>
            <table id="cap-connections">
                <caption>"Connections"</caption>
                <thead>
                    <tr>
                        <th scope="col">"address"</th><th scope="col">"port"</th>
                        <th scope="col">"attempts"</th><th scope="col">"failed"</th>
                    </tr>
                </thead>
                <tbody>{conns}</tbody>
            </table>
            {no_conns.then(|| view! { <p class="muted" id="cap-no-connections">"No connect calls."</p> })}
        </div>
    }
}

/// One row of the tree: indented by depth, failed or killed processes marked.
fn process_row(depth: usize, p: &Process, origin: u64, open: bool) -> impl IntoView {
    let state = use_state();
    let pid = p.pid;
    let toggle = move |_| {
        let r = state.route.get_untracked();
        let next = if open {
            r.without("open")
        } else {
            r.with("open", pid.to_string())
        };
        state.navigate(next);
    };
    let c = p.counts;
    let label = format!(
        "{} {} (pid {pid})",
        if open {
            "Hide the events of"
        } else {
            "Show the events of"
        },
        p.command()
    );
    view! {
        <tr
            data-pid=pid.to_string()
            data-ppid=p.ppid.map(|x| x.to_string()).unwrap_or_default()
            data-depth=depth.to_string()
            class:failed=p.failed()
        >
            <td class=format!("cmd depth-{}", depth.min(MAX_INDENT))>
                <button type="button" class="ghost expand" aria-expanded=open.to_string()
                    aria-label=label on:click=toggle>
                    {if open { "▾" } else { "▸" }}
                </button>
                " " {p.command().to_string()}
            </td>
            {num::count(pid)}
            <td class="num">{p.ppid.map_or("—".to_string(), |x| x.to_string())}</td>
            {num::ms(Some(ms_since(p.start_ns, origin)))}
            {num::ms(p.duration_ns().map(|d| d as f64 / 1e6))}
            <td class="exit">{exit_text(p.exit_code, p.exit_signal)}</td>
            {num::count(c.opens)}
            {num::count(c.files_opened)}
            {num::count(c.files_written)}
            {num::count(c.writes)}
            {num::count(c.renames)}
            {num::count(c.unlinks)}
            {num::count(c.connects)}
            {num::count(c.failed_execs)}
        </tr>
    }
}

/// The events of one process, under its row.
fn events_row(p: &Process, c: &Capture, origin: u64) -> impl IntoView {
    let shown = p.events.iter().take(SHOWN_EVENTS).filter_map(|&i| {
        let e = c.members.events.get(i)?;
        Some(view! {
            <li data-seq=e.seq.to_string()>
                <span class="num">{format!("{:.3} ms", ms_since(e.ts_ns, origin))}</span> " "
                <strong>{e.detail.kind().as_str()}</strong> " " {detail(&e.detail)}
            </li>
        })
    });
    let more = p.events.len().saturating_sub(SHOWN_EVENTS);
    view! {
        <tr class="proc-events" data-pid=p.pid.to_string()>
            <td colspan="14">
                <ol class="events" data-n=p.events.len().to_string()>{shown.collect_view()}</ol>
                {(more > 0).then(|| view! {
                    <p class="muted">{format!("{more} more: the kernel events view filters by pid.")}</p>
                })}
            </td>
        </tr>
    }
}

fn tree_table(c: &Capture, open: Option<u32>) -> impl IntoView {
    let origin = c.members.events.iter().map(|e| e.ts_ns).min().unwrap_or(0);
    let rows = c
        .tree
        .rows()
        .into_iter()
        .map(|(depth, p)| {
            let is_open = open == Some(p.pid);
            view! {
                {process_row(depth, p, origin, is_open)}
                {is_open.then(|| events_row(p, c, origin))}
            }
        })
        .collect_view();
    view! {
        <div class="scroll">
            <table id="process-tree" data-processes=c.tree.processes.len().to_string()>
                <caption>
                    "Every process of the capture, children under their parent; start is from the "
                    "first event. Failed or killed ones are marked."
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"command"</th><th scope="col">"pid"</th>
                        <th scope="col">"parent"</th><th scope="col">"start (ms)"</th>
                        <th scope="col">"duration (ms)"</th><th scope="col">"exit"</th>
                        <th scope="col">"opens"</th><th scope="col">"files opened"</th>
                        <th scope="col">"files written"</th><th scope="col">"writes"</th>
                        <th scope="col">"renames"</th><th scope="col">"unlinks"</th>
                        <th scope="col">"connects"</th><th scope="col">"failed execs"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn ProcessesView(bundle: Arc<Loaded>) -> impl IntoView {
    let state = use_state();
    if bundle.archives.is_empty() {
        return view! { <NoArchives bundle what="there is no process tree" /> }.into_any();
    }
    let selected = selected_archive(bundle.clone());
    let parsed = {
        let bundle = bundle.clone();
        Memo::new(move |_| load::capture(&bundle.archives[selected.get()]).map(Shared::new))
    };
    let open = Memo::new(move |_| {
        state
            .route
            .with(|r| r.get("open").and_then(|p| p.parse::<u32>().ok()))
    });
    let body = move || {
        parsed.with(|p| match p {
            Err(e) => view! {
                <p class="error" role="alert" id="archive-error">"This archive could not be read: " {e.clone()}</p>
            }
            .into_any(),
            Ok(c) => {
                let run = c.members.run.as_ref();
                let capture = c.clone();
                view! {
                    <section id="capture-overview">
                        {summary_list(run, c.health.as_ref(), c)}
                        {overview_tables(c)}
                    </section>
                    <CaptureTimeline capture />
                    {tree_table(c, open.get())}
                }
                .into_any()
            }
        })
    };
    view! {
        <ArchivePicker bundle=bundle.clone() selected id="proc-archive" />
        {body}
    }
    .into_any()
}
