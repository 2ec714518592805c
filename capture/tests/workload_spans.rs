//! `tare workload --span-events`: the real OTel Rust SDK's retention, read back through report-model.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use report_model::analysis::retention::{
    retained_events, trace_span_fidelity, SPAN_EVENT_NAME, SPAN_INDEX_KEY,
};
use report_model::schema::otlp::{parse_otlp_json, TracesData};
use report_model::schema::sample::{LimitSource, RetentionPattern, SpanFidelity};

fn scratch(name: &str) -> PathBuf {
    common::scratch("test-workload-spans", name)
}

fn tare(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::workload(args, env)
}

fn ok_json(out: &Output) -> serde_json::Value {
    common::ok_json(out)
}

fn read_trace(path: &Path) -> TracesData {
    let text = std::fs::read_to_string(path).expect("trace written");
    parse_otlp_json(&path.display().to_string(), &text).expect("trace parses as OTLP JSON")
}

/// Runs the workload, reads its trace back and classifies it, as the harness will.
fn run_and_classify(
    name: &str,
    events: u64,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (SpanFidelity, TracesData, serde_json::Value) {
    let dir = scratch(name);
    let trace = dir.join("trace.json");
    let n = events.to_string();
    let trace_s = trace.display().to_string();
    let mut args = vec!["--span-events", &n, "--trace-out", &trace_s, "--json"];
    args.extend_from_slice(extra);
    let report = ok_json(&tare(&args, env));
    let parsed = read_trace(&trace);
    let limit = report["span_event_limit"].as_u64();
    let source: Option<LimitSource> =
        serde_json::from_value(report["span_event_limit_source"].clone()).expect("source");
    let fidelity = trace_span_fidelity(&parsed, events);
    // The limit the bench reads from the trace is the one the workload reports.
    assert_eq!(
        (fidelity.effective_limit, fidelity.limit_source),
        (limit, source),
        "the trace's root span declares the workload's limit"
    );
    let _ = std::fs::remove_dir_all(&dir);
    (fidelity, parsed, report)
}

#[test]
fn under_the_limit_every_event_is_kept() {
    let (f, trace, report) = run_and_classify("under", 100, &[], &[]);
    assert_eq!(f.target, 100);
    assert_eq!(f.retained, 100);
    assert_eq!(f.retained_ranges, vec![[0, 99]]);
    assert_eq!(f.pattern, RetentionPattern::Complete);
    assert_eq!(f.effective_limit, Some(128));
    assert_eq!(f.limit_source, Some(LimitSource::Default));
    assert_eq!(trace.dropped_events(), 0);
    assert_eq!(report["span_events_retained"], 100);
    assert_eq!(report["retention_pattern"], "complete");
}

#[test]
fn over_the_default_limit_the_rust_sdk_keeps_the_oldest() {
    // The study's x500 cell. The JS SDK kept 372..499 (newest); opentelemetry_sdk 0.33
    // keeps the first 128 and drops every later event.
    let (f, trace, report) = run_and_classify("x500", 500, &[], &[]);
    assert_eq!(f.retained, 128);
    assert_eq!(f.retained_ranges, vec![[0, 127]]);
    assert_eq!(f.pattern, RetentionPattern::OldestKept);
    assert_eq!(f.effective_limit, Some(128));
    assert_eq!(f.limit_source, Some(LimitSource::Default));
    // The SDK counts what it dropped, and the trace carries it as droppedEventsCount.
    assert_eq!(trace.dropped_events(), 372);
    let r = retained_events(&trace, SPAN_EVENT_NAME, SPAN_INDEX_KEY);
    assert_eq!((r.events, r.unindexed, r.duplicates()), (128, 0, 0));
    assert_eq!(r.dropped_by_sdk, 372);
    // The stdout report agrees with the file.
    assert_eq!(report["span_events_emitted"], 500);
    assert_eq!(report["span_events_retained"], 128);
    assert_eq!(report["span_events_dropped"], 372);
    assert_eq!(report["retained_ranges"], serde_json::json!([[0, 127]]));
    assert_eq!(report["retention_pattern"], "oldest_kept");
    assert_eq!(report["span_event_limit_source"], "default");
}

#[test]
fn x1000_keeps_the_first_128() {
    let (f, trace, _) = run_and_classify("x1000", 1000, &[], &[]);
    assert_eq!(f.retained_ranges, vec![[0, 127]]);
    assert_eq!(f.pattern, RetentionPattern::OldestKept);
    assert_eq!(trace.dropped_events(), 872);
}

#[test]
fn the_flag_sets_the_limit() {
    let (f, trace, report) = run_and_classify("flag50", 100, &["--span-event-limit", "50"], &[]);
    assert_eq!(f.retained, 50);
    assert_eq!(f.retained_ranges, vec![[0, 49]]);
    assert_eq!(f.pattern, RetentionPattern::OldestKept);
    assert_eq!(f.effective_limit, Some(50));
    assert_eq!(f.limit_source, Some(LimitSource::Flag));
    assert_eq!(trace.dropped_events(), 50);
    assert_eq!(report["span_event_limit"], 50);
}

#[test]
fn the_flag_wins_over_the_environment() {
    let (f, _, _) = run_and_classify(
        "flag-env",
        100,
        &["--span-event-limit", "50"],
        &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "64")],
    );
    assert_eq!((f.retained, f.limit_source), (50, Some(LimitSource::Flag)));
}

#[test]
fn the_sdk_reads_the_environment_limit() {
    let (f, trace, _) =
        run_and_classify("env64", 100, &[], &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "64")]);
    assert_eq!(f.retained, 64);
    assert_eq!(f.retained_ranges, vec![[0, 63]]);
    assert_eq!(f.pattern, RetentionPattern::OldestKept);
    assert_eq!(f.effective_limit, Some(64));
    assert_eq!(f.limit_source, Some(LimitSource::Env));
    assert_eq!(trace.dropped_events(), 36);
}

#[test]
fn a_raised_limit_keeps_everything() {
    // The study's follow-up (issue #1408): raise the limit above the target.
    let (f, _, _) = run_and_classify(
        "env1000",
        500,
        &[],
        &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "1000")],
    );
    assert_eq!(f.pattern, RetentionPattern::Complete);
    assert_eq!(f.retained, 500);
}

#[test]
fn an_unparsable_environment_limit_is_ignored_like_the_sdk_does() {
    let (f, _, report) = run_and_classify(
        "env-bad",
        200,
        &[],
        &[("OTEL_SPAN_EVENT_COUNT_LIMIT", " 64")],
    );
    assert_eq!(f.retained, 128);
    assert_eq!(f.limit_source, Some(LimitSource::Default));
    let notes = report["notes"].as_array().expect("notes");
    assert!(notes.iter().any(|n| n
        .as_str()
        .is_some_and(|s| s.contains("OTEL_SPAN_EVENT_COUNT_LIMIT"))));
}

#[test]
fn limit_zero_keeps_nothing() {
    let (f, trace, _) = run_and_classify("zero", 10, &["--span-event-limit", "0"], &[]);
    assert_eq!(f.retained, 0);
    assert_eq!(f.pattern, RetentionPattern::Gaps);
    assert_eq!(trace.dropped_events(), 10);
}

#[test]
fn a_trace_without_events_has_the_root_span_and_pattern_none() {
    let dir = scratch("none");
    let trace = dir.join("t.json");
    let report = ok_json(&tare(
        &["--trace-out", &trace.display().to_string(), "--json"],
        &[],
    ));
    assert_eq!(report["otel_sdk"], true);
    assert_eq!(report["span_events_emitted"], 0);
    assert_eq!(report["retention_pattern"], "none");
    let parsed = read_trace(&trace);
    let names: Vec<&str> = parsed.spans().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["tare.workload"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_trace_has_the_collector_file_exporter_shape() {
    let dir = scratch("shape");
    let trace = dir.join("t.json");
    ok_json(&tare(
        &[
            "--span-events",
            "3",
            "--span-payload-bytes",
            "10",
            "--trace-out",
            &trace.display().to_string(),
            "--json",
        ],
        &[],
    ));
    let text = std::fs::read_to_string(&trace).expect("trace");
    assert_eq!(text.lines().count(), 1, "one object a line");
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let obj = v.as_object().expect("object");
    assert_eq!(obj.keys().collect::<Vec<_>>(), vec!["resourceSpans"]);
    let rs = &v["resourceSpans"][0];
    let attrs = rs["resource"]["attributes"]
        .as_array()
        .expect("resource attributes");
    assert!(attrs
        .iter()
        .any(|a| a["key"] == "service.name" && a["value"]["stringValue"] == "tare-workload"));
    assert!(attrs
        .iter()
        .any(|a| a["key"] == "telemetry.sdk.language" && a["value"]["stringValue"] == "rust"));
    assert_eq!(rs["scopeSpans"][0]["scope"]["name"], "tare");
    let span = &rs["scopeSpans"][0]["spans"][0];
    let hex = |s: &serde_json::Value, len: usize| {
        s.as_str()
            .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    assert!(hex(&span["traceId"], 32), "{}", span["traceId"]);
    assert!(hex(&span["spanId"], 16), "{}", span["spanId"]);
    assert!(span["startTimeUnixNano"].is_string());
    assert!(span["endTimeUnixNano"].is_string());
    assert_eq!(span["kind"], 1);
    assert_eq!(span["name"], "tare.workload");
    let ev = &span["events"][2];
    assert_eq!(ev["name"], "tare.sweep.span_event");
    assert!(ev["timeUnixNano"].is_string());
    assert_eq!(ev["attributes"][0]["key"], "tare.sweep.index");
    assert_eq!(ev["attributes"][0]["value"]["intValue"], "2");
    assert_eq!(ev["attributes"][1]["key"], "tare.sweep.payload");
    assert_eq!(ev["attributes"][1]["value"]["stringValue"], "tare.sweep");
    assert_eq!(span["droppedEventsCount"], 0);
    let target = span["attributes"]
        .as_array()
        .expect("span attributes")
        .iter()
        .find(|a| a["key"] == "tare.sweep.span_events")
        .map(|a| a["value"]["intValue"].clone());
    assert_eq!(target, Some(serde_json::json!("3")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_span_flags_no_sdk_is_created() {
    let report = ok_json(&tare(&["--kernel-events", "2", "--json"], &[]));
    assert_eq!(report["otel_sdk"], false);
    for key in [
        "span_events_emitted",
        "span_events_retained",
        "span_event_limit",
        "span_event_limit_source",
        "retention_pattern",
        "trace_out",
    ] {
        assert!(report[key].is_null(), "{key}: {}", report[key]);
    }
}

#[test]
fn span_options_without_spans_are_a_usage_error() {
    let out = tare(&["--span-event-limit", "5"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--span-event-limit needs"));
}

#[test]
fn an_unwritable_trace_path_is_bad_input() {
    let dir = scratch("unwritable");
    let bad = common::under_a_file(&dir, "t.json");
    let out = tare(
        &[
            "--span-events",
            "1",
            "--trace-out",
            &bad.display().to_string(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write --trace-out"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
