//! Kernel event explorer: pick a per-sample archive, filter its kernel.ndjson by kind, path and pid, 100 a page.

use std::sync::Arc;

use leptos::ev::{Event, Targeted};
use leptos::prelude::*;
use report_model::redact::describe;
use report_model::schema::kernel_event::{EventDetail, EventKind, KernelEvent};
use web_sys::{HtmlInputElement, HtmlSelectElement};

use crate::components::archive_picker::{selected_archive, ArchivePicker, NoArchives};
use crate::load;
use crate::state::{use_state, Loaded, Shared};

/// Rows per page.
pub const PAGE: usize = 100;

/// The event's paths (open/unlink path, exec filename, rename from and to, connect address).
fn paths(e: &KernelEvent) -> Vec<&str> {
    match &e.detail {
        EventDetail::Exec { filename }
        | EventDetail::ExecFailed { filename, .. }
        | EventDetail::CompatExec { filename, .. } => vec![filename],
        EventDetail::Open { path, .. } | EventDetail::Unlink { path, .. } => vec![path],
        EventDetail::Rename { from, to, .. } => vec![from, to],
        EventDetail::Connect { addr, .. } => vec![addr],
        EventDetail::Fork { .. }
        | EventDetail::Exit { .. }
        | EventDetail::Write { .. }
        | EventDetail::IoUring { .. } => vec![],
    }
}

/// The kind-specific fields in words.
pub fn detail(d: &EventDetail) -> String {
    match d {
        EventDetail::Exec { filename } => filename.clone(),
        EventDetail::Fork { child_pid } => format!("child pid {child_pid}"),
        EventDetail::Exit { code, signal } => match (code, signal) {
            (_, Some(s)) => format!("signal {s}"),
            (Some(c), None) => format!("code {c}"),
            (None, None) => String::new(),
        },
        EventDetail::Open {
            path, flags, mode, ..
        } => format!("{path} (flags {flags:#x}, mode {mode:o})"),
        EventDetail::Write { fd, requested, .. } => format!("fd {fd}, {requested} bytes asked"),
        EventDetail::Unlink { path, .. } => path.clone(),
        EventDetail::Rename { from, to, .. } => format!("{from} → {to}"),
        EventDetail::Connect {
            family, addr, port, ..
        } => format!("{addr}:{port} (family {family})"),
        EventDetail::ExecFailed { filename, .. } => filename.clone(),
        EventDetail::IoUring { entries, .. } => {
            format!("{entries} entries: what goes through the ring is not seen")
        }
        EventDetail::CompatExec { filename, abi } => {
            format!("{filename} ({abi}): its compat syscalls are not seen")
        }
    }
}

fn result(d: &EventDetail) -> Option<i64> {
    match d {
        EventDetail::Open { result, .. }
        | EventDetail::Write { result, .. }
        | EventDetail::Unlink { result, .. }
        | EventDetail::Rename { result, .. }
        | EventDetail::Connect { result, .. }
        | EventDetail::ExecFailed { result, .. }
        | EventDetail::IoUring { result, .. } => Some(*result),
        _ => None,
    }
}

/// The filters of the route.
#[derive(Debug, Clone, PartialEq)]
struct Filter {
    kind: Option<EventKind>,
    path: String,
    pid: Option<u32>,
    /// The pid text was not a number.
    bad_pid: bool,
}

impl Filter {
    fn matches(&self, e: &KernelEvent) -> bool {
        self.kind.is_none_or(|k| e.detail.kind() == k)
            && self.pid.is_none_or(|p| e.pid == p)
            && (self.path.is_empty() || paths(e).iter().any(|p| p.contains(&self.path)))
    }
}

#[component]
pub fn EventsView(bundle: Arc<Loaded>) -> impl IntoView {
    let state = use_state();
    if bundle.archives.is_empty() {
        return view! { <NoArchives bundle what="there are no kernel events to explore" /> }
            .into_any();
    }
    let route = state.route;
    let selected = selected_archive(bundle.clone());
    let parsed = {
        let bundle = bundle.clone();
        Memo::new(move |_| {
            load::explore(&bundle.archives[selected.get()])
                .map(|x| (Shared::new(x.events), x.redaction, x.blind_spots))
        })
    };
    let filter = Memo::new(move |_| {
        route.with(|r| {
            let pid_text = r.get("pid").unwrap_or("").trim();
            let pid = pid_text.parse::<u32>().ok();
            Filter {
                kind: r
                    .get("kind")
                    .and_then(|k| EventKind::ALL.into_iter().find(|e| e.as_str() == k)),
                path: r.get("path").unwrap_or("").to_string(),
                pid,
                bad_pid: !pid_text.is_empty() && pid.is_none(),
            }
        })
    });
    let matches = Memo::new(move |_| {
        parsed.with(|p| match p {
            Ok((events, _, _)) => filter.with(|f| {
                Shared::new(
                    events
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| f.matches(e))
                        .map(|(i, _)| i)
                        .collect::<Vec<usize>>(),
                )
            }),
            Err(_) => Shared::new(Vec::new()),
        })
    });
    let total = Memo::new(move |_| parsed.with(|p| p.as_ref().map_or(0, |(e, _, _)| e.len())));
    let pages = Memo::new(move |_| matches.with(|m| m.len().div_ceil(PAGE).max(1)));
    let page = Memo::new(move |_| {
        let asked = route.with(|r| r.get("page").and_then(|p| p.parse::<usize>().ok()));
        asked.unwrap_or(1).clamp(1, pages.get())
    });
    let counts = Memo::new(move |_| {
        parsed.with(|p| {
            EventKind::ALL.map(|k| {
                (
                    k,
                    p.as_ref().map_or(0, |(e, _, _)| {
                        e.iter().filter(|e| e.detail.kind() == k).count()
                    }),
                )
            })
        })
    });

    let go = move |key: &'static str, value: String, replace: bool| {
        let next = route.get_untracked().with(key, value).without("page");
        if replace {
            state.replace(next);
        } else {
            state.navigate(next);
        }
    };
    let on_kind =
        move |ev: Targeted<Event, HtmlSelectElement>| go("kind", ev.target().value(), false);
    let on_path =
        move |ev: Targeted<Event, HtmlInputElement>| go("path", ev.target().value(), true);
    let on_pid = move |ev: Targeted<Event, HtmlInputElement>| go("pid", ev.target().value(), true);
    let to_page = move |p: usize| {
        state.navigate(route.get_untracked().with("page", p.to_string()));
    };

    let kind_options = move || {
        let kind = filter.with(|f| f.kind);
        counts
            .get()
            .into_iter()
            .map(|(k, n)| {
                view! {
                    <option value=k.as_str() prop:selected=kind == Some(k)>
                        {format!("{} ({n})", k.as_str())}
                    </option>
                }
            })
            .collect_view()
    };
    let rows = move || {
        parsed.with(|p| {
            let Ok((events, _, _)) = p else { return None };
            let base = events.iter().map(|e| e.ts_ns).min().unwrap_or(0);
            let start = (page.get() - 1) * PAGE;
            Some(matches.with(|m| {
                m.iter()
                    .skip(start)
                    .take(PAGE)
                    .map(|&i| {
                        let e = &events[i];
                        let t_ms = e.ts_ns.saturating_sub(base) as f64 / 1e6;
                        view! {
                            <tr data-seq=e.seq.to_string()>
                                <td class="num">{e.seq.to_string()}</td>
                                <td class="num">{format!("{t_ms:.3}")}</td>
                                <td class="num">{e.pid.to_string()}</td>
                                <td class="num">{e.tid.to_string()}</td>
                                <td class="text">{e.comm.clone()}</td>
                                <td class="text kind">{e.detail.kind().as_str()}</td>
                                <td class="text detail">{detail(&e.detail)}</td>
                                <td class="num">{result(&e.detail).map(|r| r.to_string())}</td>
                            </tr>
                        }
                    })
                    .collect_view()
            }))
        })
    };
    // What redaction replaced before the archive was written (run.json).
    let redaction = move || {
        parsed.with(|p| {
            let (_, Some(r), _) = p.as_ref().ok()? else {
                return None;
            };
            let warn = if r.enabled { "note" } else { "note warn" };
            Some(view! { <p class=warn id="ev-redaction">"Redaction: " {describe(r)} "."</p> })
        })
    };
    // What the programs could not see (health.json): the kernel layer is partial for it.
    let blind = move || {
        parsed.with(|p| {
            let (_, _, spots) = p.as_ref().ok()?;
            (!spots.is_empty()).then(|| {
                let items = spots
                    .iter()
                    .map(|b| view! { <li><strong>{b.what.clone()}</strong> {format!(" (x{}): ", b.count)} {b.reason.clone()}</li> })
                    .collect_view();
                view! { <div class="note warn" id="ev-blind-spots">"Blind spots (the kernel layer is partial): "<ul>{items}</ul></div> }
            })
        })
    };
    let error = move || {
        parsed.with(|p| {
            p.as_ref().err().map(|e| {
                view! { <p class="error" role="alert" id="archive-error">"This archive could not be read: " {e.clone()}</p> }
            })
        })
    };

    view! {
        <p class="muted">
            "Kernel events the eBPF programs saw in one sample's session cgroup (its archive's "
            <code>"kernel.ndjson"</code> "). Times are ms since the archive's first event."
        </p>
        <div class="filters">
            <ArchivePicker bundle=bundle.clone() selected id="ev-archive" />
            <label class="picker">
                "Kind "
                <select id="ev-kind" on:change:target=on_kind>
                    <option value="" prop:selected=move || filter.with(|f| f.kind.is_none())>
                        {move || format!("all ({})", total.get())}
                    </option>
                    {kind_options}
                </select>
            </label>
            <label class="picker">
                "Path contains "
                <input id="ev-path" type="search" autocomplete="off"
                    prop:value=move || filter.with(|f| f.path.clone()) on:input:target=on_path />
            </label>
            <label class="picker">
                "pid "
                <input id="ev-pid" type="text" inputmode="numeric" size="8" autocomplete="off"
                    prop:value=move || route.with(|r| r.get("pid").unwrap_or("").to_string()) on:input:target=on_pid />
            </label>
        </div>
        {move || filter.with(|f| f.bad_pid).then(|| view! { <p class="note warn">"pid must be a whole number; the pid filter is off."</p> })}
        {error}
        {redaction}
        {blind}
        <p id="ev-count" aria-live="polite" data-n=move || matches.with(|m| m.len()).to_string() data-total=move || total.get().to_string()>
            {move || format!("{} of {} events match", matches.with(|m| m.len()), total.get())}
        </p>
        <div class="scroll">
            <table id="events" class="events">
                <thead>
                    <tr>
                        <th scope="col">"seq"</th><th scope="col">"t (ms)"</th>
                        <th scope="col">"pid"</th><th scope="col">"tid"</th>
                        <th scope="col">"comm"</th><th scope="col">"kind"</th>
                        <th scope="col">"detail"</th><th scope="col">"result"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Event pages">
            <button type="button" id="ev-prev" disabled=move || { page.get() <= 1 }
                on:click=move |_| to_page(page.get_untracked() - 1)>"← Previous"</button>
            <span id="ev-page">{move || format!("page {} of {}", page.get(), pages.get())}</span>
            <button type="button" id="ev-next" disabled=move || { page.get() >= pages.get() }
                on:click=move |_| to_page(page.get_untracked() + 1)>"Next →"</button>
        </nav>
    }
    .into_any()
}
