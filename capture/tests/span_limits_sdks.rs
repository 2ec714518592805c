//! Each loss beyond span events (attributes, links, whole spans) classified on two real SDKs, read back through report-model.
//!
//! The Rust side is `tare workload` (opentelemetry_sdk 0.33.1), the Python side
//! `scripts/workloads/python_spans.py` (the OTel Python SDK that scripts/setup.sh installs), the
//! JS side `scripts/workloads/js_spans.mjs` (`@opentelemetry/sdk-trace-base` from the
//! tests/browser packages that scripts/setup.sh installs).
//! Every assertion compares against an independent reference: the indexes the workload
//! emitted (0..N), the SDK's own counts (OTLP `droppedAttributesCount` and `droppedLinksCount`
//! written by the SDK's own encoder; for whole spans the Python SDK's internal
//! `queue_full` metric), and the SDK's documented defaults (128 attributes, 128 links, a queue
//! of 2048 with export batches of 512).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use report_model::analysis::span_limits::{
    attr_index, attribute_fidelity, burst_fidelity, link_fidelity, root_span, SPANS_DROPPED_KEY,
};
use report_model::schema::otlp::{parse_otlp_json, TracesData};
use report_model::schema::sample::{LimitFidelity, RetentionPattern};

/// The environment variables that would choose the limits: the tests choose them.
const LIMIT_ENV: [&str; 6] = [
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
];
/// The batch processor's default queue and export batch, in both SDKs.
const QUEUE: u64 = 2048;
const BATCH: u64 = 512;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Sdk {
    Rust,
    Python,
    Js,
}

fn run(
    sdk: Sdk,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (serde_json::Value, TracesData) {
    let (report, parsed, _) = run_raw(sdk, name, args, env);
    (report, parsed)
}

/// [`run`], with the trace file's text as the SDK wrote it.
fn run_raw(
    sdk: Sdk,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (serde_json::Value, TracesData, String) {
    let dir = common::scratch("test-span-limits", &format!("{sdk:?}-{name}"));
    let trace = dir.join("trace.json");
    let trace_s = trace.display().to_string();
    let mut cmd = match sdk {
        Sdk::Rust => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_tare"));
            c.arg("workload");
            c
        }
        Sdk::Python => {
            let mut c = Command::new("python3");
            c.arg(script());
            c
        }
        Sdk::Js => {
            let mut c = Command::new("node");
            c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/workloads/js_spans.mjs"));
            c
        }
    };
    cmd.args(args).args(["--trace-out", &trace_s, "--json"]);
    for k in LIMIT_ENV {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = cmd.output().expect("run the workload");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{sdk:?} workload failed ({:?}); for Python and JS run scripts/setup.sh\n{stderr}",
        out.status
    );
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("the workload prints one JSON line");
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let parsed = parse_otlp_json(&trace_s, &text).expect("the trace parses as OTLP JSON");
    let _ = std::fs::remove_dir_all(&dir);
    (report, parsed, text)
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/workloads/python_spans.py")
}

fn range(r: std::ops::Range<u64>) -> BTreeSet<u64> {
    r.collect()
}

/// What the queue kept (`core`) plus at most one export batch that the worker took out of the
/// queue before the burst ended (how far into the burst depends on when the processor's worker
/// thread woke up): `kept - core` is one contiguous run of at most BATCH indexes, or empty.
fn assert_queue_plus_one_batch(k: &BTreeSet<u64>, core: &BTreeSet<u64>, n: u64) {
    assert!(
        core.is_subset(k),
        "the queue's {} spans are kept",
        core.len()
    );
    let extra: Vec<u64> = k.difference(core).copied().collect();
    assert!(
        extra.len() as u64 <= BATCH,
        "at most one batch beyond the queue: {}",
        extra.len()
    );
    assert!(
        extra.windows(2).all(|w| w[1] == w[0] + 1),
        "the held batch is one run: {extra:?}"
    );
    assert!(k.iter().all(|i| *i < n));
}

fn kept(f: &LimitFidelity) -> BTreeSet<u64> {
    f.retained_ranges
        .iter()
        .flat_map(|[a, b]| *a..=*b)
        .collect()
}

/// Root-span attributes that are not indexed sweep attributes: they count toward the limit.
fn other_root_attributes(trace: &TracesData) -> u64 {
    let root = root_span(trace).expect("the trace has the root span");
    root.attributes
        .iter()
        .filter(|kv| attr_index(&kv.key).is_none())
        .count() as u64
}

fn dropped_attributes(trace: &TracesData) -> u64 {
    u64::from(root_span(trace).expect("root").dropped_attributes_count)
}

fn dropped_links(trace: &TracesData) -> u64 {
    u64::from(root_span(trace).expect("root").dropped_links_count)
}

/// The workload's own report agrees with the analysis of its trace (two paths: the SDK's
/// finished spans in memory, and the exported OTLP).
fn rust_report_agrees(report: &serde_json::Value, kind: &str, f: &LimitFidelity) {
    let own: LimitFidelity = serde_json::from_value(report["span_limits"][kind].clone())
        .expect("the report carries the kind");
    assert_eq!(
        &own, f,
        "{kind}: the workload's report equals the trace's analysis"
    );
}

#[test]
fn rust_sdk_keeps_the_first_attributes() {
    for (name, extra, env, limit) in [
        ("default", vec![], vec![], 128u64),
        ("flag", vec!["--span-attribute-limit", "50"], vec![], 50),
        (
            "env",
            vec![],
            vec![("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "300")],
            300,
        ),
    ] {
        let mut args = vec!["--span-attributes", "500"];
        args.extend(extra);
        let (report, trace) = run(Sdk::Rust, &format!("attrs-{name}"), &args, &env);
        assert_eq!(
            report["span_attribute_limit"].as_u64(),
            Some(limit),
            "{name}"
        );
        let others = other_root_attributes(&trace);
        let f = attribute_fidelity(&trace, 500);
        // The root's own attributes were set first and the SDK keeps the first: the sweep
        // keeps indexes 0..limit-others.
        assert_eq!(kept(&f), range(0..limit - others), "{name}");
        assert_eq!(f.pattern, RetentionPattern::OldestKept, "{name}");
        assert_eq!(dropped_attributes(&trace), 500 - (limit - others), "{name}");
        assert_eq!(f.dropped_by_sdk, Some(f.dropped_counted), "{name}");
        rust_report_agrees(&report, "attributes", &f);
    }
    let (_, trace) = run(Sdk::Rust, "attrs-under", &["--span-attributes", "100"], &[]);
    let f = attribute_fidelity(&trace, 100);
    assert_eq!(
        (f.pattern, f.dropped_by_sdk),
        (RetentionPattern::Complete, Some(0))
    );
}

#[test]
fn rust_sdk_keeps_the_first_links() {
    for (name, extra, limit) in [
        ("default", vec![], 128u64),
        ("flag", vec!["--span-link-limit", "10"], 10),
    ] {
        let mut args = vec!["--span-links", "500"];
        args.extend(extra);
        let (report, trace) = run(Sdk::Rust, &format!("links-{name}"), &args, &[]);
        let f = link_fidelity(&trace, 500);
        assert_eq!(kept(&f), range(0..limit), "{name}");
        assert_eq!(f.pattern, RetentionPattern::OldestKept);
        assert_eq!(dropped_links(&trace), 500 - limit);
        assert_eq!(f.counts_agree(), Some(true));
        rust_report_agrees(&report, "links", &f);
    }
    let (_, trace) = run(Sdk::Rust, "links-under", &["--span-links", "100"], &[]);
    assert_eq!(
        link_fidelity(&trace, 100).pattern,
        RetentionPattern::Complete
    );
}

#[test]
fn rust_batch_processor_drops_the_span_being_ended() {
    let (report, trace) = run(Sdk::Rust, "spans-5000", &["--spans", "5000"], &[]);
    let f = burst_fidelity(&trace, 5000);
    let k = kept(&f);
    // The first QUEUE spans always entered the queue (a drop needs a full queue) and a queued
    // span is never evicted, so all of them are kept; beyond them only the one batch the
    // worker took out of the queue (and the exporter held) made room.
    assert_queue_plus_one_batch(&k, &range(0..QUEUE), 5000);
    assert_eq!(f.dropped_counted, 5000 - f.retained);
    // The Rust SDK keeps its dropped-span count private: nothing in the trace claims one.
    assert_eq!(f.dropped_by_sdk, None);
    assert!(root_span(&trace)
        .expect("root")
        .attribute(SPANS_DROPPED_KEY)
        .is_none());
    rust_report_agrees(&report, "spans", &f);
    let (_, trace) = run(Sdk::Rust, "spans-2000", &["--spans", "2000"], &[]);
    assert_eq!(
        burst_fidelity(&trace, 2000).pattern,
        RetentionPattern::Complete
    );
}

#[test]
fn python_sdk_evicts_the_oldest_attributes() {
    for (name, extra, limit) in [
        ("default", vec![], 128u64),
        ("flag", vec!["--span-attribute-limit", "50"], 50),
    ] {
        let mut args = vec!["--span-attributes", "500"];
        args.extend(extra);
        let (report, trace) = run(Sdk::Python, &format!("attrs-{name}"), &args, &[]);
        assert_eq!(report["span_attribute_limit"].as_u64(), Some(limit));
        let others = other_root_attributes(&trace);
        let f = attribute_fidelity(&trace, 500);
        // The root's own attributes were put last and the SDK evicts the oldest: the sweep
        // keeps the newest limit-others indexes.
        assert_eq!(kept(&f), range(500 - (limit - others)..500), "{name}");
        assert_eq!(f.pattern, RetentionPattern::NewestKept);
        assert_eq!(dropped_attributes(&trace), 500 - (limit - others));
        assert_eq!(report["span_attributes_dropped"].as_u64(), f.dropped_by_sdk);
        assert_eq!(f.counts_agree(), Some(true));
    }
}

#[test]
fn python_sdk_evicts_the_oldest_links() {
    let (report, trace) = run(Sdk::Python, "links", &["--span-links", "500"], &[]);
    let f = link_fidelity(&trace, 500);
    assert_eq!(kept(&f), range(372..500));
    assert_eq!(f.pattern, RetentionPattern::NewestKept);
    assert_eq!(dropped_links(&trace), 372);
    assert_eq!(report["span_links_dropped"].as_u64(), Some(372));
    assert_eq!(f.counts_agree(), Some(true));
}

#[test]
fn python_batch_processor_evicts_the_oldest_queued_span() {
    let (report, trace) = run(Sdk::Python, "spans-5000", &["--spans", "5000"], &[]);
    let f = burst_fidelity(&trace, 5000);
    let k = kept(&f);
    // The queue evicts its oldest: the newest QUEUE spans are all kept; beyond them only the
    // batch the worker popped (the oldest of the queue when it woke) and the exporter held.
    assert_queue_plus_one_batch(&k, &range(5000 - QUEUE..5000), 5000);
    // Python evicted: the first QUEUE spans are not all there (the Rust SDK keeps them all).
    assert!(!range(0..QUEUE).is_subset(&k));
    // The SDK's own count (its queue_full metric, written on the root span) equals tare's.
    assert_eq!(f.dropped_by_sdk, Some(5000 - f.retained));
    assert_eq!(report["spans_dropped_by_sdk"].as_u64(), f.dropped_by_sdk);
    assert_eq!(f.counts_agree(), Some(true));
    let (report, trace) = run(Sdk::Python, "spans-2000", &["--spans", "2000"], &[]);
    let f = burst_fidelity(&trace, 2000);
    assert_eq!(
        (f.pattern, f.dropped_by_sdk),
        (RetentionPattern::Complete, Some(0))
    );
    assert_eq!(report["spans_dropped_by_sdk"].as_u64(), Some(0));
}

#[test]
fn js_sdk_keeps_the_first_attributes_and_the_newest_links_and_events() {
    let (report, trace) = run(
        Sdk::Js,
        "all",
        &[
            "--span-events",
            "500",
            "--span-attributes",
            "500",
            "--span-links",
            "500",
        ],
        &[],
    );
    let others = other_root_attributes(&trace);
    let a = attribute_fidelity(&trace, 500);
    // The root's own attributes were set first and the JS SDK drops new attributes when full.
    assert_eq!(kept(&a), range(0..128 - others));
    assert_eq!(a.pattern, RetentionPattern::OldestKept);
    assert_eq!(dropped_attributes(&trace), 500 - (128 - others));
    assert_eq!(report["span_attributes_dropped"].as_u64(), a.dropped_by_sdk);
    assert_eq!(a.counts_agree(), Some(true));
    let l = link_fidelity(&trace, 500);
    assert_eq!(kept(&l), range(372..500));
    assert_eq!(
        (l.pattern, l.dropped_by_sdk),
        (RetentionPattern::NewestKept, Some(372))
    );
    let e = report_model::analysis::retention::trace_span_fidelity(&trace, 500);
    assert_eq!(e.retained_ranges, vec![[372, 499]]);
    assert_eq!(e.pattern, RetentionPattern::NewestKept);
}

#[test]
fn js_batch_processor_drops_the_span_being_ended() {
    let (report, trace) = run(Sdk::Js, "spans-5000", &["--spans", "5000"], &[]);
    let f = burst_fidelity(&trace, 5000);
    // The burst never yields, so the processor takes its first batch out of the queue
    // synchronously at 512 and then the queue fills: exactly the first QUEUE + BATCH are kept.
    assert_eq!(kept(&f), range(0..QUEUE + BATCH));
    assert_eq!(f.pattern, RetentionPattern::OldestKept);
    // The SDK's own count (what it reports to its self-observability meter) equals tare's.
    assert_eq!(f.dropped_by_sdk, Some(5000 - QUEUE - BATCH));
    assert_eq!(report["spans_dropped_by_sdk"].as_u64(), f.dropped_by_sdk);
    let (_, trace) = run(Sdk::Js, "spans-2000", &["--spans", "2000"], &[]);
    let f = burst_fidelity(&trace, 2000);
    assert_eq!(
        (f.pattern, f.dropped_by_sdk),
        (RetentionPattern::Complete, Some(0))
    );
}

/// `tare trace` on each SDK's own file finds the same retention without being told N: the
/// target it infers (kept + the SDK's dropped count) is the N the workload emitted.
#[test]
fn tare_trace_infers_the_same_retention_on_every_sdk() {
    for sdk in [Sdk::Rust, Sdk::Python, Sdk::Js] {
        let (_, trace, text) = run_raw(
            sdk,
            "trace",
            &["--span-attributes", "500", "--span-links", "300"],
            &[],
        );
        let dir = common::scratch("test-span-limits", &format!("{sdk:?}-audit"));
        let file = dir.join("t.json");
        // The file as the SDK's own encoder wrote it.
        std::fs::write(&file, text).expect("write trace");
        let out = Command::new(env!("CARGO_BIN_EXE_tare"))
            .args(["trace", "--json"])
            .arg(&file)
            .output()
            .expect("run tare trace");
        assert!(
            out.status.success(),
            "{sdk:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let audit: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let root = audit["spans_detail"]
            .as_array()
            .expect("spans_detail")
            .iter()
            .find(|s| s["name"] == "tare.workload")
            .expect("the root span");
        let a: LimitFidelity =
            serde_json::from_value(root["attribute_retention"].clone()).expect("attributes");
        let l: LimitFidelity =
            serde_json::from_value(root["link_retention"].clone()).expect("links");
        assert_eq!(a, attribute_fidelity(&trace, 500), "{sdk:?}");
        assert_eq!(l, link_fidelity(&trace, 300), "{sdk:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
