//! A second real SDK: scripts/workloads/python_spans.py (OTel Python SDK), classified by report-model.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use report_model::analysis::retention::trace_span_fidelity;
use report_model::schema::otlp::parse_otlp_json;
use report_model::schema::sample::{LimitSource, RetentionPattern, SpanFidelity};

const SETUP_HINT: &str = "the OpenTelemetry Python SDK is missing: run scripts/setup.sh \
     (it pip-installs opentelemetry-sdk, opentelemetry-proto and opentelemetry-exporter-otlp-proto-common)";

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scripts/workloads/python_spans.py")
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("test-workload-python", name)
}

fn python(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("python3");
    cmd.arg(script()).args(args);
    cmd.env_remove("OTEL_SPAN_EVENT_COUNT_LIMIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run python3 ({e}); {SETUP_HINT}"),
    }
}

fn run_and_classify(
    name: &str,
    events: u64,
    extra: &[&str],
    env: &[(&str, &str)],
) -> (SpanFidelity, u64) {
    let dir = scratch(name);
    let trace = dir.join("trace.json");
    let n = events.to_string();
    let trace_s = trace.display().to_string();
    let mut args = vec!["--span-events", &n, "--trace-out", &trace_s, "--json"];
    args.extend_from_slice(extra);
    let out = python(&args, env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) || stderr.contains("ModuleNotFoundError") {
        panic!("{SETUP_HINT}\n{stderr}");
    }
    assert!(
        out.status.success(),
        "python_spans.py failed: {:?}\n{stderr}",
        out.status
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("python_spans.py --json prints JSON");
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let parsed = parse_otlp_json(&trace_s, &text).expect("the Python trace parses as OTLP JSON");
    let source: Option<LimitSource> =
        serde_json::from_value(report["span_event_limit_source"].clone()).expect("source");
    let f = trace_span_fidelity(&parsed, events);
    assert_eq!(
        (f.effective_limit, f.limit_source),
        (report["span_event_limit"].as_u64(), source),
        "the trace's root span declares the script's limit"
    );
    assert_eq!(
        Some(f.retained),
        report["span_events_retained"].as_u64(),
        "the script's own count agrees with the trace"
    );
    let _ = std::fs::remove_dir_all(&dir);
    (f, parsed.dropped_events())
}

#[test]
fn python_sdk_keeps_the_newest_128_of_500() {
    // Like the JS SDK in the study (372..499), unlike the Rust SDK (0..127).
    let (f, dropped) = run_and_classify("x500", 500, &[], &[]);
    assert_eq!(f.retained, 128);
    assert_eq!(f.retained_ranges, vec![[372, 499]]);
    assert_eq!(f.pattern, RetentionPattern::NewestKept);
    assert_eq!(f.effective_limit, Some(128));
    assert_eq!(f.limit_source, Some(LimitSource::Default));
    assert_eq!(dropped, 372);
}

#[test]
fn python_sdk_under_the_limit_is_complete() {
    let (f, dropped) = run_and_classify("under", 100, &[], &[]);
    assert_eq!(f.pattern, RetentionPattern::Complete);
    assert_eq!(f.retained_ranges, vec![[0, 99]]);
    assert_eq!(dropped, 0);
}

#[test]
fn python_sdk_reads_the_environment_limit() {
    let (f, dropped) =
        run_and_classify("env64", 100, &[], &[("OTEL_SPAN_EVENT_COUNT_LIMIT", "64")]);
    assert_eq!(f.retained_ranges, vec![[36, 99]]);
    assert_eq!(f.pattern, RetentionPattern::NewestKept);
    assert_eq!(f.limit_source, Some(LimitSource::Env));
    assert_eq!(dropped, 36);
}

#[test]
fn python_sdk_flag_limit() {
    let (f, _) = run_and_classify("flag50", 100, &["--span-event-limit", "50"], &[]);
    assert_eq!(f.retained_ranges, vec![[50, 99]]);
    assert_eq!(f.limit_source, Some(LimitSource::Flag));
}
