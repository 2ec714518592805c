//! A capture as Chrome trace-event JSON, which ui.perfetto.dev and chrome://tracing open:
//! a track per process (its lifetime as a slice, its kernel events as instants), the OTel
//! spans of trace.json on tracks of their own, and the resource samples as counters.
//!
//! Times are microseconds of `CLOCK_MONOTONIC`, the kernel events' clock. Spans (Unix
//! time) and resource samples (the capture's clock) are placed through run.json's clock
//! pair ([`ClockMapping`]); an archive without one gets no spans and no counters, and the
//! trace's metadata says why.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::analysis::clock::ClockMapping;
use crate::analysis::process_tree::ProcessTree;
use crate::schema::kernel_event::KernelEvent;
use crate::schema::metrics::MetricsSample;
use crate::schema::otlp::TracesData;
use crate::schema::run::Run;

/// The pid of the first OTel service's track: above Linux's largest pid (2^22), so it never
/// meets a real process; the next services count up from it.
pub const SPANS_PID: u32 = 1 << 23;
/// The pid of the resource samples' track.
pub const RESOURCES_PID: u32 = SPANS_PID - 1;

/// What one capture holds, parsed.
#[derive(Debug, Clone, Copy)]
pub struct CaptureParts<'a> {
    pub events: &'a [KernelEvent],
    pub run: Option<&'a Run>,
    pub trace: Option<&'a TracesData>,
    pub metrics: &'a [MetricsSample],
}

/// One trace event (the fields the format names; absent ones are left out).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEvent {
    pub name: String,
    /// `M` metadata, `X` complete slice, `i` instant, `C` counter.
    pub ph: &'static str,
    pub pid: u32,
    pub tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dur: Option<f64>,
    /// An instant's scope: `t`, its thread's track.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cat: Option<&'static str>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

/// The whole file: `{"traceEvents": [...], "displayTimeUnit": "ns", "metadata": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChromeTrace {
    pub trace_events: Vec<TraceEvent>,
    pub display_time_unit: &'static str,
    pub metadata: Map<String, Value>,
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

fn meta(name: &str, pid: u32, tid: u32, value: &str) -> TraceEvent {
    TraceEvent {
        name: name.into(),
        ph: "M",
        pid,
        tid,
        ts: None,
        dur: None,
        s: None,
        cat: None,
        args: Map::from_iter([("name".to_string(), Value::from(value))]),
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The Chrome trace of a capture. `tree` is [`crate::analysis::process_tree::build`] of the
/// same events.
pub fn chrome_trace(parts: &CaptureParts, tree: &ProcessTree) -> ChromeTrace {
    let mut out = Vec::new();
    let mut metadata = Map::new();
    let last_ns = parts.events.iter().map(|e| e.ts_ns).max().unwrap_or(0);

    // A track per process: its name, its lifetime, its threads' names.
    for p in &tree.processes {
        out.push(meta(
            "process_name",
            p.pid,
            p.pid,
            &format!("{} (pid {})", p.command(), p.pid),
        ));
        let end = p.end_ns.unwrap_or(last_ns).max(p.start_ns);
        let c = &p.counts;
        let args = json!({
            "pid": p.pid,
            "ppid": p.ppid,
            "execs": p.execs,
            "exit_code": p.exit_code,
            "exit_signal": p.exit_signal,
            "exited_in_capture": p.end_ns.is_some(),
            "opens": c.opens, "files_opened": c.files_opened, "files_written": c.files_written,
            "writes": c.writes, "written_bytes": c.written_bytes,
            "renames": c.renames, "unlinks": c.unlinks, "connects": c.connects,
            "failed_execs": c.failed_execs, "forks": c.forks,
        });
        out.push(TraceEvent {
            name: p.command().to_string(),
            ph: "X",
            pid: p.pid,
            tid: p.pid,
            ts: Some(us(p.start_ns)),
            dur: Some(us(end - p.start_ns)),
            s: None,
            cat: Some(if p.failed() {
                "process,failed"
            } else {
                "process"
            }),
            args: object(args),
        });
    }
    let mut threads = std::collections::BTreeMap::new();
    for e in parts.events {
        if e.tid != e.pid {
            threads
                .entry((e.pid, e.tid))
                .or_insert_with(|| e.comm.clone());
        }
    }
    for ((pid, tid), comm) in threads {
        out.push(meta(
            "thread_name",
            pid,
            tid,
            &format!("{comm} (tid {tid})"),
        ));
    }

    // Every kernel event, an instant on its thread's track.
    for e in parts.events {
        let mut args = object(serde_json::to_value(&e.detail).unwrap_or(Value::Null));
        args.remove("kind");
        args.insert("seq".into(), e.seq.into());
        args.insert("comm".into(), e.comm.clone().into());
        out.push(TraceEvent {
            name: e.detail.kind().as_str().to_string(),
            ph: "i",
            pid: e.pid,
            tid: e.tid,
            ts: Some(us(e.ts_ns)),
            dur: None,
            s: Some("t"),
            cat: Some("kernel"),
            args,
        });
    }

    let mapping = parts
        .run
        .and_then(|r| r.clock)
        .map(|c| ClockMapping::new(&c));
    match mapping {
        Some(m) => {
            metadata.insert("clock".into(), m.describe().into());
            if let Some(trace) = parts.trace {
                spans(trace, &m, &mut out, &mut metadata);
            }
            counters(parts.metrics, &m, &mut out);
        }
        None if parts.trace.is_some() || !parts.metrics.is_empty() => {
            metadata.insert(
                "clock".into(),
                "run.json has no clock pair (an archive from before it): the OTel spans and \
                 the resource samples cannot be placed beside the kernel events, so they are \
                 left out"
                    .into(),
            );
        }
        None => {}
    }
    metadata.insert("processes".into(), tree.processes.len().into());
    metadata.insert("kernel_events".into(), parts.events.len().into());
    if let Some(r) = parts.run {
        metadata.insert("run_id".into(), r.run_id.clone().into());
    }
    ChromeTrace {
        trace_events: out,
        display_time_unit: "ns",
        metadata,
    }
}

/// Each service's spans on a track group of its own, a track per root span (its
/// descendants nest inside it), and their events as instants.
fn spans(
    trace: &TracesData,
    m: &ClockMapping,
    out: &mut Vec<TraceEvent>,
    metadata: &mut Map<String, Value>,
) {
    let mut placed = 0u64;
    let mut unplaced = 0u64;
    for (i, rs) in trace.resource_spans.iter().enumerate() {
        let pid = SPANS_PID + i as u32;
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| crate::schema::otlp::attribute(&r.attributes, "service.name"))
            .and_then(|v| v.as_str())
            .unwrap_or("unknown service");
        out.push(meta(
            "process_name",
            pid,
            pid,
            &format!("OTel spans: {service}"),
        ));
        let all: Vec<_> = rs.scope_spans.iter().flat_map(|s| &s.spans).collect();
        // A span's track is its root's: follow parents within this resource.
        let root_of = |span: &crate::schema::otlp::Span| {
            let mut cur = span;
            for _ in 0..all.len() {
                match all
                    .iter()
                    .find(|p| !cur.parent_span_id.is_empty() && p.span_id == cur.parent_span_id)
                {
                    Some(p) => cur = p,
                    None => break,
                }
            }
            cur.span_id.clone()
        };
        let mut tracks: Vec<String> = Vec::new();
        for span in &all {
            let (Some(start), Some(end)) = (
                m.to_monotonic(span.start_time_unix_nano),
                m.to_monotonic(span.end_time_unix_nano),
            ) else {
                unplaced += 1;
                continue;
            };
            let root = root_of(span);
            let tid = match tracks.iter().position(|t| *t == root) {
                Some(t) => t as u32 + 1,
                None => {
                    tracks.push(root);
                    tracks.len() as u32
                }
            };
            let args = json!({
                "trace_id": span.trace_id,
                "span_id": span.span_id,
                "parent_span_id": span.parent_span_id,
                "events": span.events.len(),
                "dropped_events": span.dropped_events_count,
                "dropped_attributes": span.dropped_attributes_count,
                "dropped_links": span.dropped_links_count,
            });
            out.push(TraceEvent {
                name: span.name.clone(),
                ph: "X",
                pid,
                tid,
                ts: Some(us(start)),
                dur: Some(us(end.saturating_sub(start))),
                s: None,
                cat: Some("otel"),
                args: object(args),
            });
            placed += 1;
            for ev in &span.events {
                if let Some(t) = m.to_monotonic(ev.time_unix_nano) {
                    out.push(TraceEvent {
                        name: ev.name.clone(),
                        ph: "i",
                        pid,
                        tid,
                        ts: Some(us(t)),
                        dur: None,
                        s: Some("t"),
                        cat: Some("otel"),
                        args: object(json!({ "span_id": span.span_id })),
                    });
                }
            }
        }
    }
    metadata.insert("spans".into(), placed.into());
    if unplaced > 0 {
        metadata.insert("spans_unplaced".into(), unplaced.into());
    }
}

/// The resource samples as counters on a track of their own.
fn counters(samples: &[MetricsSample], m: &ClockMapping, out: &mut Vec<TraceEvent>) {
    if samples.is_empty() {
        return;
    }
    out.push(meta(
        "process_name",
        RESOURCES_PID,
        RESOURCES_PID,
        "session resources (metrics.ndjson)",
    ));
    for s in samples {
        let Some(t) = m.capture_to_monotonic(s.t_ns) else {
            continue;
        };
        let mut push = |name: &str, args: Value| {
            out.push(TraceEvent {
                name: name.into(),
                ph: "C",
                pid: RESOURCES_PID,
                tid: RESOURCES_PID,
                ts: Some(us(t)),
                dur: None,
                s: None,
                cat: Some("resources"),
                args: object(args),
            })
        };
        push(
            "memory",
            json!({ "rss_bytes": s.rss_bytes, "charged_bytes": s.memory_bytes }),
        );
        push(
            "tasks",
            json!({ "processes": s.pids, "threads": s.threads, "fds": s.fds }),
        );
        if let Some(c) = s.cpu_percent.filter(|c| c.is_finite()) {
            push("cpu", json!({ "percent_of_one_cpu": c }));
        }
    }
}
