//! Resource timeline of one per-sample archive: its metrics.ndjson (memory, CPU%, threads, fds over time) as report-model's chart and a table.

use std::sync::Arc;

use leptos::prelude::*;
use report_model::render::charts::timeline_svg;
use report_model::schema::metrics::MetricsSample;

use crate::components::archive_picker::{selected_archive, ArchivePicker, NoArchives};
use crate::components::chart::Chart;
use crate::components::num;
use crate::load;
use crate::state::{Loaded, Shared};

/// One table row: a sample's time and counts, every number exact in `data-v`.
fn row(s: &MetricsSample) -> impl IntoView {
    let t_s = s.t_ns as f64 / 1e9;
    view! {
        <tr>
            <td class="num" data-v=s.t_ns.to_string()>{format!("{t_s:.3}")}</td>
            {num::count(s.pids)}
            {num::count(s.threads)}
            {num::count(s.fds)}
            {num::mib(Some(s.rss_bytes as f64))}
            {num::mib(Some(s.memory_bytes as f64))}
            <td class="num" data-v=s.cpu_percent.map(|c| c.to_string()).unwrap_or_default()>
                {s.cpu_percent.map_or("—".to_string(), |c| format!("{c:.1}"))}
            </td>
        </tr>
    }
}

#[component]
pub fn TimelineView(bundle: Arc<Loaded>) -> impl IntoView {
    if bundle.archives.is_empty() {
        return view! { <NoArchives bundle what="there is no resource timeline" /> }.into_any();
    }
    let selected = selected_archive(bundle.clone());
    let parsed = {
        let bundle = bundle.clone();
        Memo::new(move |_| {
            load::metrics(&bundle.archives[selected.get()]).map(|m| m.map(Shared::new))
        })
    };
    let label = {
        let bundle = bundle.clone();
        Memo::new(move |_| bundle.archives[selected.get()].label.clone())
    };
    let body = move || {
        parsed.with(|p| match p {
            Err(e) => view! {
                <p class="error" role="alert" id="archive-error">"This archive could not be read: " {e.clone()}</p>
            }
            .into_any(),
            Ok(None) => view! {
                <p class="note" id="no-metrics">
                    "This archive has no " <code>"metrics.ndjson"</code>
                    ": it was written before tare sampled resources."
                </p>
            }
            .into_any(),
            Ok(Some(samples)) => {
                let samples = samples.clone();
                let svg = {
                    let samples = samples.clone();
                    Memo::new(move |_| timeline_svg(&label.get(), &samples))
                };
                let alt = Signal::derive(move || format!("Resource timeline of {}", label.get()));
                let rows = samples.iter().map(row).collect_view();
                view! {
                    <Chart svg=svg label=alt />
                    <div class="scroll">
                        <table id="timeline" data-samples=samples.len().to_string()>
                            <thead>
                                <tr>
                                    <th scope="col">"t (s)"</th><th scope="col">"processes"</th>
                                    <th scope="col">"threads"</th><th scope="col">"open fds"</th>
                                    <th scope="col">"RSS"</th><th scope="col">"cgroup memory"</th>
                                    <th scope="col">"CPU % of one CPU"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <p class="muted">
            "The workload's resources while it ran, sampled every " <code>"--sample-interval"</code>
            " (default 250 ms) from its session cgroup: the archive's " <code>"metrics.ndjson"</code>
            ". Times are seconds since the capture started (the clock of its phases). A bench "
            "sample shorter than the interval has one or two samples."
        </p>
        <div class="filters">
            <ArchivePicker bundle=bundle.clone() selected id="tl-archive" />
        </div>
        {body}
    }
    .into_any()
}
