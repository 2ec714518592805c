//! One timeline of a capture on the kernel's clock: a track per process (its lifetime and
//! its events), the OTel spans nested by depth, and the resource samples, laid out for a
//! window of time and a width in columns.
//!
//! Events are binned per column, so what a viewer draws is bounded by tracks x columns,
//! however many events the capture holds (a million events make no more shapes than a
//! hundred). Spans (Unix time) and samples (the capture's clock) are placed through the
//! run's [`ClockMapping`].

use crate::analysis::clock::ClockMapping;
use crate::analysis::process_tree::ProcessTree;
use crate::schema::kernel_event::{EventKind, KernelEvent};
use crate::schema::metrics::MetricsSample;
use crate::schema::otlp::TracesData;

/// A window of monotonic time, nanoseconds, `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

impl Window {
    /// The column of `t` among `columns`, when `t` is inside the window.
    pub fn column(&self, t: u64, columns: u32) -> Option<u32> {
        if t < self.start || t > self.end || columns == 0 {
            return None;
        }
        let span = (self.end - self.start).max(1) as u128;
        let c = (u128::from(t - self.start) * u128::from(columns)) / span;
        Some((c as u32).min(columns - 1))
    }

    /// `t` as a fraction of the window (0 at its start, 1 at its end), clamped.
    pub fn fraction(&self, t: u64) -> f64 {
        let span = (self.end - self.start).max(1) as f64;
        (t.saturating_sub(self.start) as f64 / span).min(1.0)
    }

    /// The window `factor` times as long around its middle (factor < 1 zooms in), kept
    /// inside `bounds` and at least a microsecond long.
    pub fn zoom(&self, factor: f64, bounds: Window) -> Window {
        let mid = self.start / 2 + self.end / 2;
        let half = (((self.end - self.start) as f64 * factor) / 2.0).max(500.0) as u64;
        Window {
            start: mid.saturating_sub(half),
            end: mid.saturating_add(half),
        }
        .within(bounds)
    }

    /// The window moved by `fraction` of its length (negative: earlier), kept in `bounds`.
    pub fn pan(&self, fraction: f64, bounds: Window) -> Window {
        let len = self.end - self.start;
        let shift = (len as f64 * fraction.abs()) as u64;
        let moved = if fraction < 0.0 {
            let start = self.start.saturating_sub(shift).max(bounds.start);
            Window {
                start,
                end: start + len,
            }
        } else {
            let end = self.end.saturating_add(shift).min(bounds.end);
            Window {
                start: end.saturating_sub(len),
                end,
            }
        };
        moved.within(bounds)
    }

    /// This window clipped to `bounds` (the whole of `bounds` when they do not overlap).
    pub fn within(&self, bounds: Window) -> Window {
        let start = self.start.max(bounds.start);
        let end = self.end.min(bounds.end);
        if start < end {
            Window { start, end }
        } else {
            bounds
        }
    }
}

/// The events of one column of one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bin {
    pub column: u32,
    pub events: u64,
    /// The kind most of them are (the first such kind on a tie).
    pub kind: EventKind,
    /// The first event's index in the input.
    pub first: usize,
}

/// A process's track.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessTrack {
    pub pid: u32,
    pub depth: usize,
    pub label: String,
    pub failed: bool,
    /// Its lifetime clipped to the window, as fractions of it; none when outside.
    pub life: Option<(f64, f64)>,
    pub bins: Vec<Bin>,
}

/// A span placed in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanBar {
    /// Its index in [`TracesData::spans`] order.
    pub index: usize,
    pub name: String,
    pub service: String,
    /// Nesting depth under its root (0: a root).
    pub depth: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Clipped to the window, as fractions of it.
    pub from: f64,
    pub to: f64,
    /// The pid its resource names (`process.pid`), when it does.
    pub pid: Option<u32>,
    /// Its events' times, monotonic nanoseconds (those that could be placed).
    pub event_ns: Vec<u64>,
    /// The same inside the window, as fractions of it.
    pub events: Vec<f64>,
}

/// One resource sample placed in the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SamplePoint {
    pub at: f64,
    pub rss_bytes: u64,
    pub cpu_percent: Option<f64>,
}

/// Everything a viewer draws for one window.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineLayout {
    pub window: Window,
    /// The whole capture (events, spans and samples).
    pub bounds: Window,
    pub columns: u32,
    pub processes: Vec<ProcessTrack>,
    pub spans: Vec<SpanBar>,
    /// Spans that could not be placed (no clock pair, or times before boot).
    pub spans_unplaced: usize,
    pub samples: Vec<SamplePoint>,
}

/// The inputs of a timeline.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub events: &'a [KernelEvent],
    pub tree: &'a ProcessTree,
    pub trace: Option<&'a TracesData>,
    pub metrics: &'a [MetricsSample],
    pub clock: Option<ClockMapping>,
}

/// Every span on the monotonic clock (`from` and `to` left at 0), and how many could not be
/// placed.
fn placed_spans(trace: &TracesData, m: &ClockMapping) -> (Vec<SpanBar>, usize) {
    let mut out = Vec::new();
    let mut unplaced = 0;
    let mut index = 0;
    for rs in &trace.resource_spans {
        let attrs = rs
            .resource
            .as_ref()
            .map(|r| r.attributes.as_slice())
            .unwrap_or(&[]);
        let service = crate::schema::otlp::attribute(attrs, "service.name")
            .and_then(|v| v.as_str())
            .unwrap_or("unknown service")
            .to_string();
        let pid = crate::schema::otlp::attribute(attrs, "process.pid")
            .and_then(|v| v.as_i64())
            .and_then(|p| u32::try_from(p).ok());
        let spans: Vec<_> = rs.scope_spans.iter().flat_map(|s| &s.spans).collect();
        for s in &spans {
            let mut depth = 0;
            let mut cur = *s;
            while depth < spans.len() {
                match spans
                    .iter()
                    .find(|p| !cur.parent_span_id.is_empty() && p.span_id == cur.parent_span_id)
                {
                    Some(p) => {
                        depth += 1;
                        cur = p;
                    }
                    None => break,
                }
            }
            match (
                m.to_monotonic(s.start_time_unix_nano),
                m.to_monotonic(s.end_time_unix_nano),
            ) {
                (Some(a), Some(b)) => out.push(SpanBar {
                    index,
                    name: s.name.clone(),
                    service: service.clone(),
                    depth,
                    start_ns: a,
                    end_ns: b.max(a),
                    from: 0.0,
                    to: 0.0,
                    pid,
                    event_ns: s
                        .events
                        .iter()
                        .filter_map(|e| m.to_monotonic(e.time_unix_nano))
                        .collect(),
                    events: Vec::new(),
                }),
                _ => unplaced += 1,
            }
            index += 1;
        }
    }
    (out, unplaced)
}

/// The extent of everything the timeline holds; none for an empty capture.
pub fn bounds(inputs: &Inputs) -> Option<Window> {
    let mut lo = u64::MAX;
    let mut hi = 0u64;
    for e in inputs.events {
        lo = lo.min(e.ts_ns);
        hi = hi.max(e.ts_ns);
    }
    if let (Some(t), Some(m)) = (inputs.trace, inputs.clock.as_ref()) {
        for s in placed_spans(t, m).0 {
            lo = lo.min(s.start_ns);
            hi = hi.max(s.end_ns);
        }
    }
    if let Some(m) = inputs.clock.as_ref() {
        for s in inputs.metrics {
            if let Some(t) = m.capture_to_monotonic(s.t_ns) {
                lo = lo.min(t);
                hi = hi.max(t);
            }
        }
    }
    (lo <= hi).then_some(Window {
        start: lo,
        end: hi.max(lo + 1),
    })
}

/// The layout of `window` (clipped to the capture's bounds) in `columns` columns.
pub fn layout(inputs: &Inputs, window: Option<Window>, columns: u32) -> Option<TimelineLayout> {
    let bounds = bounds(inputs)?;
    let window = window.map_or(bounds, |w| w.within(bounds));
    let columns = columns.max(1);
    let mut processes = Vec::with_capacity(inputs.tree.processes.len());
    for (depth, p) in inputs.tree.rows() {
        let end = p.end_ns.unwrap_or(bounds.end);
        let life = (end >= window.start && p.start_ns <= window.end)
            .then(|| (window.fraction(p.start_ns), window.fraction(end)));
        // Per column: count, counts by kind, first index.
        let mut cols: std::collections::BTreeMap<u32, (u64, [u64; 11], usize)> =
            std::collections::BTreeMap::new();
        for &i in &p.events {
            let e = &inputs.events[i];
            if let Some(c) = window.column(e.ts_ns, columns) {
                let k = EventKind::ALL
                    .iter()
                    .position(|k| *k == e.detail.kind())
                    .unwrap_or(0);
                let slot = cols.entry(c).or_insert((0, [0; 11], i));
                slot.0 += 1;
                slot.1[k] += 1;
                slot.2 = slot.2.min(i);
            }
        }
        let bins = cols
            .into_iter()
            .map(|(column, (events, kinds, first))| {
                let mut best = 0;
                for (k, n) in kinds.iter().enumerate() {
                    if *n > kinds[best] {
                        best = k;
                    }
                }
                Bin {
                    column,
                    events,
                    kind: EventKind::ALL[best],
                    first,
                }
            })
            .collect();
        processes.push(ProcessTrack {
            pid: p.pid,
            depth,
            label: format!("{} ({})", short(p.command()), p.pid),
            failed: p.failed(),
            life,
            bins,
        });
    }
    let (mut spans, mut spans_unplaced) = (Vec::new(), 0);
    if let Some(t) = inputs.trace {
        match inputs.clock.as_ref() {
            Some(m) => {
                let (placed, unplaced) = placed_spans(t, m);
                spans_unplaced = unplaced;
                spans = placed
                    .into_iter()
                    .filter(|s| s.end_ns >= window.start && s.start_ns <= window.end)
                    .map(|s| SpanBar {
                        from: window.fraction(s.start_ns),
                        to: window.fraction(s.end_ns),
                        events: s
                            .event_ns
                            .iter()
                            .filter(|t| (window.start..=window.end).contains(*t))
                            .map(|t| window.fraction(*t))
                            .collect(),
                        ..s
                    })
                    .collect();
            }
            None => spans_unplaced = t.spans().count(),
        }
    }
    let samples = match inputs.clock.as_ref() {
        Some(m) => inputs
            .metrics
            .iter()
            .filter_map(|s| {
                let t = m.capture_to_monotonic(s.t_ns)?;
                (t >= window.start && t <= window.end).then(|| SamplePoint {
                    at: window.fraction(t),
                    rss_bytes: s.rss_bytes,
                    cpu_percent: s.cpu_percent,
                })
            })
            .collect(),
        None => Vec::new(),
    };
    Some(TimelineLayout {
        window,
        bounds,
        columns,
        processes,
        spans,
        spans_unplaced,
        samples,
    })
}

/// A command's last path component, at most 24 characters: a track's label.
fn short(command: &str) -> String {
    let base = command.rsplit('/').next().unwrap_or(command);
    match base.char_indices().nth(24) {
        Some((cut, _)) => format!("{}…", &base[..cut]),
        None => base.to_string(),
    }
}

/// The indexes of the events inside `[start, end]`, of `pid` only when given: what a
/// selected span covers.
pub fn events_within(events: &[KernelEvent], start: u64, end: u64, pid: Option<u32>) -> Vec<usize> {
    events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ts_ns >= start && e.ts_ns <= end && pid.is_none_or(|p| e.pid == p))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::process_tree;
    use crate::schema::kernel_event::EventDetail;
    use crate::schema::otlp::parse_otlp_json;
    use crate::schema::run::ClockPair;

    fn ev(ts: u64, pid: u32, detail: EventDetail) -> KernelEvent {
        KernelEvent::at(ts, pid, detail)
    }

    fn open(ts: u64, pid: u32) -> KernelEvent {
        ev(
            ts,
            pid,
            EventDetail::Open {
                path: "/f".into(),
                flags: 0,
                mode: 0,
                result: 3,
            },
        )
    }

    #[test]
    fn a_million_events_make_at_most_one_bin_a_column() {
        let mut evs = vec![ev(
            0,
            1,
            EventDetail::Exec {
                filename: "/bin/x".into(),
            },
        )];
        evs.extend((1..1_000_000).map(|i| open(i * 10, 1)));
        evs.push(ev(
            10_000_000,
            1,
            EventDetail::Exit {
                code: Some(0),
                signal: None,
            },
        ));
        let tree = process_tree::build(&evs);
        let inputs = Inputs {
            events: &evs,
            tree: &tree,
            trace: None,
            metrics: &[],
            clock: None,
        };
        let l = layout(&inputs, None, 800).unwrap();
        assert_eq!(l.processes.len(), 1);
        assert_eq!(l.processes[0].label, "x (1)");
        assert_eq!(
            short("/a/abcdefghijklmnopqrstuvwxyz0"),
            "abcdefghijklmnopqrstuvwx…"
        );
        let bins = &l.processes[0].bins;
        assert!(bins.len() <= 800);
        assert_eq!(bins.iter().map(|b| b.events).sum::<u64>(), evs.len() as u64);
        assert_eq!(bins[0].first, 0);
        assert_eq!(l.processes[0].life, Some((0.0, 1.0)));
        // Zoomed on the first tenth: only its events, spread over the columns.
        let w = Window {
            start: 0,
            end: 1_000_000,
        };
        let l = layout(&inputs, Some(w), 100).unwrap();
        let n: u64 = l.processes[0].bins.iter().map(|b| b.events).sum();
        assert_eq!(n, 100_001, "events at 0, 10, ..., 1,000,000");
        assert_eq!(l.processes[0].bins.len(), 100);
        assert!(l.processes[0]
            .bins
            .iter()
            .all(|b| b.kind == EventKind::Open || b.column == 0));
    }

    #[test]
    fn windows_zoom_pan_and_stay_inside() {
        let b = Window {
            start: 1_000,
            end: 101_000,
        };
        let z = b.zoom(0.5, b);
        assert_eq!((z.start, z.end), (26_000, 76_000));
        let p = z.pan(-1.0, b);
        assert_eq!((p.start, p.end), (1_000, 51_000), "stops at the start");
        let p = z.pan(0.5, b);
        assert_eq!((p.start, p.end), (51_000, 101_000));
        assert_eq!(z.zoom(10.0, b), b);
        assert_eq!(b.column(1_000, 10), Some(0));
        assert_eq!(b.column(101_000, 10), Some(9));
        assert_eq!(b.column(999, 10), None);
        let tiny = b.zoom(1e-9, b);
        assert!(tiny.end - tiny.start >= 1_000 - 1, "{tiny:?}");
    }

    #[test]
    fn spans_are_placed_nested_and_select_their_events() {
        let evs = vec![
            ev(
                1_000_000,
                7,
                EventDetail::Exec {
                    filename: "/bin/w".into(),
                },
            ),
            open(1_500_000, 7),
            open(2_500_000, 7),
            open(2_600_000, 8),
            ev(
                4_000_000,
                7,
                EventDetail::Exit {
                    code: Some(0),
                    signal: None,
                },
            ),
        ];
        let tree = process_tree::build(&evs);
        // Unix 1e18 is monotonic 0.
        let clock = ClockMapping::new(&ClockPair {
            realtime_ns: 1_000_000_000_000_000_000,
            monotonic_ns: 0,
            uncertainty_ns: 10,
            capture_ns: 0,
        });
        let trace = parse_otlp_json(
            "t",
            r#"{"resourceSpans":[{"resource":{"attributes":[
                {"key":"service.name","value":{"stringValue":"svc"}},
                {"key":"process.pid","value":{"intValue":"7"}}]},
              "scopeSpans":[{"spans":[
                {"traceId":"01","spanId":"aa","name":"root",
                 "startTimeUnixNano":"1000000000001200000","endTimeUnixNano":"1000000000003000000"},
                {"traceId":"01","spanId":"bb","parentSpanId":"aa","name":"child",
                 "startTimeUnixNano":"1000000000002000000","endTimeUnixNano":"1000000000002700000",
                 "events":[{"timeUnixNano":"1000000000002100000","name":"e"}]}]}]}]}"#,
        )
        .unwrap();
        let inputs = Inputs {
            events: &evs,
            tree: &tree,
            trace: Some(&trace),
            metrics: &[],
            clock: Some(clock),
        };
        let l = layout(&inputs, None, 100).unwrap();
        assert_eq!(l.spans.len(), 2);
        let child = l.spans.iter().find(|s| s.name == "child").unwrap();
        assert_eq!((child.depth, child.pid, child.index), (1, Some(7), 1));
        assert_eq!((child.start_ns, child.end_ns), (2_000_000, 2_700_000));
        assert_eq!(child.event_ns, vec![2_100_000]);
        let w = l.window;
        assert_eq!(child.events, vec![w.fraction(2_100_000)]);
        assert_eq!(l.spans[0].service, "svc");
        // The child's window holds pid 7's open at 2.5 ms; pid 8's open is another process.
        assert_eq!(
            events_within(&evs, child.start_ns, child.end_ns, child.pid),
            vec![2]
        );
        assert_eq!(
            events_within(&evs, child.start_ns, child.end_ns, None),
            vec![2, 3]
        );
        // Without a clock pair the spans are not placed, and say so.
        let l = layout(
            &Inputs {
                clock: None,
                ..inputs
            },
            None,
            100,
        )
        .unwrap();
        assert_eq!((l.spans.len(), l.spans_unplaced), (0, 2));
    }
}
