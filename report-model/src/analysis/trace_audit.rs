//! Audit of OTLP JSON trace files a user already has: what the SDK dropped, orphan spans, and span-event retention.
//!
//! `tare trace FILE...` reads each file with [`read_trace_file`] (an OTLP/HTTP JSON body, or
//! the collector file exporter's JSON lines) and hands them all to [`audit`], which is pure:
//! - dropped: the spans' `droppedEventsCount`, `droppedAttributesCount` and
//!   `droppedLinksCount`, and the dropped attribute counts of their events and links;
//! - orphans: spans whose `parentSpanId` is set (not empty, not all zeros) and names no span
//!   of the same trace in any of the files;
//! - retention: on a span carrying the workload's indexed events
//!   ([`retention::SPAN_EVENT_NAME`] with [`retention::SPAN_INDEX_KEY`]), which indexes
//!   survived, classified by [`retention::span_fidelity`] against the number the span
//!   must have had: the kept events plus the ones the SDK says it dropped (at least the
//!   highest index + 1); likewise for the workload's indexed root-span attributes
//!   (`tare.sweep.attr.<i>`) and links (`tare.sweep.index`) against `droppedAttributesCount`
//!   and `droppedLinksCount` ([`span_limits`]).
//!
//! Ids are compared as hex: base64 ids (protobuf's own JSON) are normalised with
//! [`id_hex`]; an id that is neither is kept as written.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::analysis::{retention, span_limits};
use crate::error::ModelError;
use crate::schema::otlp::{attribute, id_hex, parse_otlp_json, AnyValue, Span, TracesData};
use crate::schema::sample::{LimitFidelity, SpanFidelity};

/// Spans read over all the files of one audit; more is refused as bad input.
pub const MAX_SPANS: usize = 2_000_000;

/// The service name of spans whose resource has no `service.name`.
pub const NO_SERVICE: &str = "(no service.name)";

/// What was dropped, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// `droppedEventsCount` of the spans.
    pub events: u64,
    /// `droppedAttributesCount` of the spans.
    pub attributes: u64,
    /// `droppedLinksCount` of the spans.
    pub links: u64,
    /// `droppedAttributesCount` of the spans' events.
    pub event_attributes: u64,
    /// `droppedAttributesCount` of the spans' links.
    pub link_attributes: u64,
}

impl Dropped {
    fn add(&mut self, o: &Dropped) {
        self.events += o.events;
        self.attributes += o.attributes;
        self.links += o.links;
        self.event_attributes += o.event_attributes;
        self.link_attributes += o.link_attributes;
    }

    /// Whether anything at all was dropped.
    pub fn any(&self) -> bool {
        *self != Dropped::default()
    }
}

/// One input file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFile {
    pub file: String,
    pub spans: u64,
}

/// The spans of one service (`service.name` of their resource), over all files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceAudit {
    pub service: String,
    pub spans: u64,
    pub orphans: u64,
    pub dropped: Dropped,
}

/// One span.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpanAudit {
    pub file: String,
    pub service: String,
    /// The instrumentation scope (tracer) name.
    pub scope: String,
    pub name: String,
    /// Lower-case hex when the id was hex or base64, else as written.
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// Events kept in the file.
    pub events: u64,
    /// Attributes kept in the file.
    pub attributes: u64,
    /// Links kept in the file.
    pub links: u64,
    pub dropped_events: u64,
    pub dropped_attributes: u64,
    pub dropped_links: u64,
    pub dropped_event_attributes: u64,
    pub dropped_link_attributes: u64,
    /// The parent is set but is no span of the input.
    pub orphan: bool,
    /// Present when the span carries the workload's indexed events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<SpanFidelity>,
    /// Present when the span carries the workload's indexed attributes `tare.sweep.attr.<i>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute_retention: Option<LimitFidelity>,
    /// Present when the span has links carrying `tare.sweep.index`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_retention: Option<LimitFidelity>,
}

impl SpanAudit {
    /// The counts this span lost to the SDK.
    pub fn dropped(&self) -> Dropped {
        Dropped {
            events: self.dropped_events,
            attributes: self.dropped_attributes,
            links: self.dropped_links,
            event_attributes: self.dropped_event_attributes,
            link_attributes: self.dropped_link_attributes,
        }
    }
}

/// The audit of a set of trace files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceAudit {
    /// Files read.
    pub files: u64,
    pub spans: u64,
    pub orphans: u64,
    pub dropped: Dropped,
    /// Spans that carry the workload's indexed events (with a `retention` record).
    pub spans_with_retention: u64,
    pub inputs: Vec<InputFile>,
    /// By service name.
    pub services: Vec<ServiceAudit>,
    /// Every span, in file order.
    pub spans_detail: Vec<SpanAudit>,
}

/// Reads one trace file ([`parse_otlp_json`]) and refuses it when it would bring the spans
/// read so far (`spans_before`) over [`MAX_SPANS`]; the error names the first span over.
pub fn read_trace_file(
    file: &str,
    text: &str,
    spans_before: usize,
) -> Result<TracesData, ModelError> {
    let trace = parse_otlp_json(file, text)?;
    let mut n = spans_before;
    for (r, rs) in trace.resource_spans.iter().enumerate() {
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            if n + ss.spans.len() > MAX_SPANS {
                let k = MAX_SPANS.saturating_sub(n);
                return Err(ModelError::Field {
                    file: file.into(),
                    field: format!("resourceSpans[{r}].scopeSpans[{s}].spans[{k}]"),
                    problem: format!(
                        "over the limit of {MAX_SPANS} spans (all files together): split the input"
                    ),
                });
            }
            n += ss.spans.len();
        }
    }
    Ok(trace)
}

fn normal_id(raw: &str, bytes: usize) -> String {
    id_hex(raw, bytes).unwrap_or_else(|| raw.trim().to_string())
}

/// A parent id that names no parent: empty, or all zeros (some exporters write that).
fn no_parent(id: &str) -> bool {
    id.bytes().all(|b| b == b'0')
}

fn retention_of(span: &Span) -> Option<SpanFidelity> {
    if !span
        .events
        .iter()
        .any(|e| e.name == retention::SPAN_EVENT_NAME)
    {
        return None;
    }
    // The retention analysis reads a trace: give it this span alone.
    let mut one = TracesData::default();
    let mut rs = crate::schema::otlp::ResourceSpans::default();
    let mut ss = crate::schema::otlp::ScopeSpans::default();
    ss.spans.push(span.clone());
    rs.scope_spans.push(ss);
    one.resource_spans.push(rs);
    let kept =
        retention::retained_events(&one, retention::SPAN_EVENT_NAME, retention::SPAN_INDEX_KEY);
    let last = *kept.indexes.last()?;
    let target = (last.saturating_add(1))
        .max(kept.indexes.len() as u64 + u64::from(span.dropped_events_count));
    let (limit, source) = retention::declared_limit(&one);
    Some(retention::span_fidelity(
        target,
        &kept.indexes,
        limit,
        source,
    ))
}

/// Audits the parsed files (`(file name, trace)`, in input order).
pub fn audit(inputs: &[(String, TracesData)]) -> TraceAudit {
    let mut ids: HashSet<(String, String)> = HashSet::new();
    for (_, trace) in inputs {
        for span in trace.spans() {
            ids.insert((normal_id(&span.trace_id, 16), normal_id(&span.span_id, 8)));
        }
    }
    let mut out = TraceAudit {
        files: inputs.len() as u64,
        spans: 0,
        orphans: 0,
        dropped: Dropped::default(),
        spans_with_retention: 0,
        inputs: Vec::new(),
        services: Vec::new(),
        spans_detail: Vec::new(),
    };
    let mut services: BTreeMap<String, ServiceAudit> = BTreeMap::new();
    for (file, trace) in inputs {
        let mut in_file = 0u64;
        for rs in &trace.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| attribute(&r.attributes, "service.name"))
                .and_then(AnyValue::as_str)
                .unwrap_or(NO_SERVICE)
                .to_string();
            for ss in &rs.scope_spans {
                let scope = ss
                    .scope
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default();
                for span in &ss.spans {
                    in_file += 1;
                    let trace_id = normal_id(&span.trace_id, 16);
                    let parent = if no_parent(span.parent_span_id.trim()) {
                        String::new()
                    } else {
                        normal_id(&span.parent_span_id, 8)
                    };
                    let orphan = !parent.is_empty()
                        && !no_parent(&parent)
                        && !ids.contains(&(trace_id.clone(), parent.clone()));
                    let a = SpanAudit {
                        file: file.clone(),
                        service: service.clone(),
                        scope: scope.clone(),
                        name: span.name.clone(),
                        span_id: normal_id(&span.span_id, 8),
                        trace_id,
                        parent_span_id: parent,
                        events: span.events.len() as u64,
                        attributes: span.attributes.len() as u64,
                        links: span.links.len() as u64,
                        dropped_events: u64::from(span.dropped_events_count),
                        dropped_attributes: u64::from(span.dropped_attributes_count),
                        dropped_links: u64::from(span.dropped_links_count),
                        dropped_event_attributes: span
                            .events
                            .iter()
                            .map(|e| u64::from(e.dropped_attributes_count))
                            .sum(),
                        dropped_link_attributes: span
                            .links
                            .iter()
                            .map(|l| u64::from(l.dropped_attributes_count))
                            .sum(),
                        orphan,
                        retention: retention_of(span),
                        attribute_retention: span_limits::span_attribute_retention(span),
                        link_retention: span_limits::span_link_retention(span),
                    };
                    let d = a.dropped();
                    let svc = services
                        .entry(service.clone())
                        .or_insert_with(|| ServiceAudit {
                            service: service.clone(),
                            spans: 0,
                            orphans: 0,
                            dropped: Dropped::default(),
                        });
                    svc.spans += 1;
                    svc.orphans += u64::from(orphan);
                    svc.dropped.add(&d);
                    out.spans += 1;
                    out.orphans += u64::from(orphan);
                    out.dropped.add(&d);
                    out.spans_with_retention += u64::from(a.retention.is_some());
                    out.spans_detail.push(a);
                }
            }
        }
        out.inputs.push(InputFile {
            file: file.clone(),
            spans: in_file,
        });
    }
    out.services = services.into_values().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::sample::RetentionPattern;

    fn read(file: &str, text: &str) -> (String, TracesData) {
        (
            file.to_string(),
            read_trace_file(file, text, 0).expect("parses"),
        )
    }

    const TRACE: &str = "5b8efff798038103d269b633813fc60c";

    fn span(id: &str, parent: &str, extra: &str) -> String {
        format!(
            r#"{{"traceId":"{TRACE}","spanId":"{id}","parentSpanId":"{parent}","name":"s{id}"{extra}}}"#
        )
    }

    fn body(service: &str, spans: &[String]) -> String {
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{}]}}]}}]}}"#,
            spans.join(",")
        )
    }

    #[test]
    fn orphans_are_spans_whose_parent_is_in_no_file() {
        let a = body(
            "api",
            &[
                span("0000000000000001", "", ""),
                span("0000000000000002", "0000000000000001", ""),
                span("0000000000000003", "00000000000000ff", ""),
                span("0000000000000004", "0000000000000000", ""),
            ],
        );
        // The parent of 5 is in the other file: not an orphan.
        let b = body("db", &[span("0000000000000005", "0000000000000002", "")]);
        let r = audit(&[read("a.json", &a), read("b.json", &b)]);
        assert_eq!(r.files, 2);
        assert_eq!(r.spans, 5);
        assert_eq!(r.orphans, 1);
        let orphans: Vec<&str> = r
            .spans_detail
            .iter()
            .filter(|s| s.orphan)
            .map(|s| s.span_id.as_str())
            .collect();
        assert_eq!(orphans, ["0000000000000003"]);
        assert_eq!(
            r.spans_detail[3].parent_span_id, "",
            "all zeros is no parent"
        );
        let names: Vec<(&str, u64, u64)> = r
            .services
            .iter()
            .map(|s| (s.service.as_str(), s.spans, s.orphans))
            .collect();
        assert_eq!(names, [("api", 4, 1), ("db", 1, 0)]);
        assert_eq!(
            r.inputs,
            [
                InputFile {
                    file: "a.json".into(),
                    spans: 4
                },
                InputFile {
                    file: "b.json".into(),
                    spans: 1
                }
            ]
        );
    }

    #[test]
    fn a_parent_in_another_trace_does_not_count() {
        let other = "00000000000000000000000000000001";
        let text = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[
            {{"traceId":"{other}","spanId":"0000000000000001"}},
            {{"traceId":"{TRACE}","spanId":"0000000000000002","parentSpanId":"0000000000000001"}}]}}]}}]}}"#
        );
        let r = audit(&[read("t.json", &text)]);
        assert_eq!(r.orphans, 1);
        assert_eq!(r.services[0].service, NO_SERVICE);
    }

    #[test]
    fn dropped_counts_are_summed_per_span_service_and_total() {
        let a = body(
            "api",
            &[
                span(
                    "0000000000000001",
                    "",
                    r#","droppedEventsCount":372,"droppedAttributesCount":"5","droppedLinksCount":2,
                    "events":[{"name":"e","droppedAttributesCount":3}],
                    "links":[{"traceId":"x","spanId":"y","droppedAttributesCount":4}]"#,
                ),
                span(
                    "0000000000000002",
                    "0000000000000001",
                    r#","droppedEventsCount":1"#,
                ),
            ],
        );
        let r = audit(&[read("a.json", &a)]);
        let want = Dropped {
            events: 373,
            attributes: 5,
            links: 2,
            event_attributes: 3,
            link_attributes: 4,
        };
        assert_eq!(r.dropped, want);
        assert_eq!(r.services[0].dropped, want);
        let s = &r.spans_detail[0];
        assert_eq!(
            (
                s.events,
                s.links,
                s.dropped_events,
                s.dropped_attributes,
                s.dropped_links
            ),
            (1, 1, 372, 5, 2)
        );
        assert_eq!(
            (s.dropped_event_attributes, s.dropped_link_attributes),
            (3, 4)
        );
        assert!(!s.orphan);
        assert_eq!(r.spans_detail[1].dropped_events, 1);
    }

    #[test]
    fn the_legacy_shape_and_enum_names_or_numbers_read() {
        let legacy = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"old"}}}}]}},
            "instrumentationLibrarySpans":[{{"instrumentationLibrary":{{"name":"lib","version":"1"}},"spans":[
              {{"traceId":"{TRACE}","spanId":"0000000000000001","kind":"SPAN_KIND_SERVER","status":{{"code":"STATUS_CODE_ERROR"}},"droppedEventsCount":"2"}},
              {{"traceId":"{TRACE}","spanId":"0000000000000002","parentSpanId":"0000000000000001","kind":3,"status":{{"code":1}}}},
              {{"traceId":"{TRACE}","spanId":"0000000000000003","kind":"SPAN_KIND_FROM_THE_FUTURE","status":{{}}}}]}}]}}]}}"#
        );
        let (name, t) = read("legacy.json", &legacy);
        let spans: Vec<&Span> = t.spans().collect();
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].kind, 2);
        assert_eq!(spans[0].status.as_ref().map(|s| s.code), Some(2));
        assert_eq!(spans[1].kind, 3);
        assert_eq!(spans[1].status.as_ref().map(|s| s.code), Some(1));
        assert_eq!(spans[2].kind, 0, "an unknown name reads as unspecified");
        let r = audit(&[(name, t)]);
        assert_eq!(r.spans, 3);
        assert_eq!(r.orphans, 0);
        assert_eq!(r.dropped.events, 2);
        assert_eq!(r.spans_detail[0].scope, "lib");
        assert_eq!(r.spans_detail[0].service, "old");
    }

    #[test]
    fn base64_and_hex_ids_are_the_same_ids() {
        // 5b8efff798038103d269b633813fc60c / eee19b7ec3c1b174 in base64 (protobuf's JSON).
        let text = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ="},
            {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"0000000000000002","parentSpanId":"eee19b7ec3c1b174"},
            {"traceId":"W47_95gDgQPSabYzgT_GDA","spanId":"0000000000000003","parentSpanId":"7uGbfsPBsXQ"},
            {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"0000000000000004","parentSpanId":"not an id"}]}]}]}"#;
        let r = audit(&[read("ids.json", text)]);
        let d = &r.spans_detail;
        assert_eq!(d[0].trace_id, TRACE);
        assert_eq!(d[0].span_id, "eee19b7ec3c1b174");
        assert_eq!(d[1].trace_id, TRACE);
        assert!(!d[1].orphan && !d[2].orphan);
        assert_eq!(d[2].parent_span_id, "eee19b7ec3c1b174");
        assert_eq!(d[3].parent_span_id, "not an id");
        assert!(d[3].orphan);
        assert_eq!(r.orphans, 1);
    }

    #[test]
    fn id_hex_reads_hex_and_base64_and_refuses_the_rest() {
        assert_eq!(
            id_hex("7uGbfsPBsXQ=", 8).as_deref(),
            Some("eee19b7ec3c1b174")
        );
        assert_eq!(
            id_hex("AAAAAAAAAAE=", 8).as_deref(),
            Some("0000000000000001")
        );
        assert_eq!(
            id_hex("EEE19B7EC3C1B174", 8).as_deref(),
            Some("eee19b7ec3c1b174")
        );
        assert_eq!(
            id_hex("7uGbfsPBsXQ=", 16),
            None,
            "8 bytes is not a trace id"
        );
        assert_eq!(id_hex("", 8), None);
        assert_eq!(id_hex("a", 8), None);
        assert_eq!(id_hex("7uGbfsPBsX!=", 8), None);
    }

    #[test]
    fn retention_is_classified_on_spans_with_indexed_events() {
        let events = |r: std::ops::Range<u64>| -> String {
            r.map(|i| {
                format!(
                    r#"{{"name":"{}","attributes":[{{"key":"{}","value":{{"intValue":"{i}"}}}}]}}"#,
                    retention::SPAN_EVENT_NAME,
                    retention::SPAN_INDEX_KEY
                )
            })
            .collect::<Vec<_>>()
            .join(",")
        };
        let a = body(
            "w",
            &[
                span(
                    "0000000000000001",
                    "",
                    &format!(
                        r#","droppedEventsCount":372,"events":[{}]"#,
                        events(372..500)
                    ),
                ),
                span(
                    "0000000000000002",
                    "",
                    &format!(r#","droppedEventsCount":372,"events":[{}]"#, events(0..128)),
                ),
                span(
                    "0000000000000003",
                    "",
                    &format!(r#","events":[{}]"#, events(0..10)),
                ),
                span("0000000000000004", "", r#","events":[{"name":"other"}]"#),
            ],
        );
        let r = audit(&[read("w.json", &a)]);
        let got: Vec<Option<(RetentionPattern, u64, u64)>> = r
            .spans_detail
            .iter()
            .map(|s| {
                s.retention
                    .as_ref()
                    .map(|f| (f.pattern, f.target, f.retained))
            })
            .collect();
        assert_eq!(
            got,
            [
                Some((RetentionPattern::NewestKept, 500, 128)),
                Some((RetentionPattern::OldestKept, 500, 128)),
                Some((RetentionPattern::Complete, 10, 10)),
                None
            ]
        );
        assert_eq!(r.spans_with_retention, 3);
        assert_eq!(
            r.spans_detail[0]
                .retention
                .as_ref()
                .map(|f| f.retained_ranges.clone()),
            Some(vec![[372, 499]])
        );
    }

    #[test]
    fn too_many_spans_are_refused_with_the_path() {
        let text = body(
            "s",
            &[
                span("0000000000000001", "", ""),
                span("0000000000000002", "", ""),
            ],
        );
        let err = read_trace_file("big.json", &text, MAX_SPANS - 1).expect_err("over");
        let msg = err.to_string();
        assert!(
            msg.starts_with("big.json: field `resourceSpans[0].scopeSpans[0].spans[1]`"),
            "{msg}"
        );
        assert!(msg.contains("over the limit"), "{msg}");
        assert!(read_trace_file("ok.json", &text, MAX_SPANS - 2).is_ok());
    }

    #[test]
    fn the_report_serialises_with_its_top_level_fields() {
        let a = body("api", &[span("0000000000000001", "", "")]);
        let v = serde_json::to_value(audit(&[read("a.json", &a)])).expect("serialises");
        for key in [
            "files",
            "spans",
            "orphans",
            "dropped",
            "services",
            "spans_detail",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        assert_eq!(v["dropped"]["events"], 0);
        assert_eq!(v["spans_detail"][0]["orphan"], false);
        assert!(v["spans_detail"][0].get("retention").is_none());
    }
}
