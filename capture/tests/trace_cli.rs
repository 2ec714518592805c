//! `tare trace` on real SDK output (the OTel Python and JS SDKs), the collector's JSON lines, the legacy shape, and malformed files.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

const SETUP_HINT: &str = "the OpenTelemetry Python SDK is missing: run scripts/setup.sh \
     (it pip-installs opentelemetry-sdk, opentelemetry-proto and opentelemetry-exporter-otlp-proto-common)";

/// Spans with more than 128 events, attributes and links, an event with more than 128
/// attributes, and a child whose parent is never ended (so never exported). Writes the
/// spans as protobuf's own JSON (base64 ids, enum names: proto.json) and as OTLP JSON (hex
/// ids, enum numbers: otlp.json); prints what the SDK itself counted as dropped.
const SCRIPT: &str = r#"
import base64, json, logging, sys
logging.disable(logging.WARNING)  # the SDK warns once per dropped attribute
from google.protobuf import json_format
from opentelemetry import trace as api
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

class Keep(SpanExporter):
    def __init__(self): self.spans = []
    def export(self, spans):
        self.spans.extend(spans); return SpanExportResult.SUCCESS
    def shutdown(self): pass

out_dir = sys.argv[1]
keep = Keep()
provider = TracerProvider(resource=Resource.create({"service.name": "tare-trace-test"}))
provider.add_span_processor(SimpleSpanProcessor(keep))
tracer = provider.get_tracer("tare.trace.test")

with tracer.start_as_current_span("many", kind=api.SpanKind.SERVER) as s:
    for i in range(200):
        s.add_event("tare.sweep.span_event", {"tare.sweep.index": i})
    for i in range(150):
        s.set_attribute(f"a{i}", i)
    s.add_event("wide", {f"k{i}": i for i in range(140)})
    for i in range(130):
        s.add_link(api.SpanContext(trace_id=i + 1, span_id=i + 1, is_remote=True))
never = tracer.start_span("never-exported")
with tracer.start_as_current_span("child", context=api.set_span_in_context(never)):
    pass
with tracer.start_as_current_span("root"):
    with tracer.start_as_current_span("kid"):
        pass

request = encode_spans(keep.spans)
# protobuf's own JSON: base64 ids, enum names.
open(f"{out_dir}/proto.json", "w").write(json_format.MessageToJson(request))
d = json_format.MessageToDict(request, use_integers_for_enums=True)
def hexify(n):
    if isinstance(n, dict):
        for k, v in n.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                n[k] = base64.b64decode(v).hex()
            else:
                hexify(v)
    elif isinstance(n, list):
        for x in n: hexify(x)
hexify(d)
open(f"{out_dir}/otlp.json", "w").write(json.dumps(d))
print(json.dumps({
    "spans": len(keep.spans),
    "dropped_events": sum(s.dropped_events for s in keep.spans),
    "dropped_attributes": sum(s.dropped_attributes for s in keep.spans),
    "dropped_links": sum(s.dropped_links for s in keep.spans),
    "dropped_event_attributes": sum(e.dropped_attributes for s in keep.spans for e in s.events),
}))
"#;

const JS_SETUP_HINT: &str = "the OpenTelemetry JS SDK is missing: run scripts/setup.sh (it runs \
     npm ci in tests/browser, whose package.json holds @opentelemetry/sdk-trace-base and \
     @opentelemetry/otlp-transformer)";

/// The same spans as [`SCRIPT`] with the OTel JS SDK (`@opentelemetry/sdk-trace-base`),
/// written by the SDK's own OTLP JSON serializer (`JsonTraceSerializer`, what its OTLP/HTTP
/// JSON exporter sends: hex ids, enum numbers); prints what the SDK itself counted as
/// dropped, and the index of the first event it kept.
const JS_SCRIPT: &str = r#"import { writeFileSync } from "node:fs";
import * as api from "@opentelemetry/api";
import { BasicTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
const outDir = process.argv[2];
const spans = [];
const keep = { export(s, cb) { spans.push(...s); cb({ code: 0 }); }, shutdown() { return Promise.resolve(); } };
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ "service.name": "tare-trace-test" }),
  spanProcessors: [new SimpleSpanProcessor(keep)],
});
const tracer = provider.getTracer("tare.trace.test");
const links = [];
for (let i = 0; i < 130; i++) {
  const hex = (n, w) => n.toString(16).padStart(w, "0");
  links.push({ context: { traceId: hex(i + 1, 32), spanId: hex(i + 1, 16), traceFlags: 1, isRemote: true } });
}
const many = tracer.startSpan("many", { kind: api.SpanKind.SERVER, links });
for (let i = 0; i < 200; i++) many.addEvent("tare.sweep.span_event", { "tare.sweep.index": i });
for (let i = 0; i < 150; i++) many.setAttribute(`a${i}`, i);
const wide = {};
for (let i = 0; i < 140; i++) wide[`k${i}`] = i;
many.addEvent("wide", wide);
many.end();
const never = tracer.startSpan("never-exported");
tracer.startSpan("child", {}, api.trace.setSpan(api.context.active(), never)).end();
const root = tracer.startSpan("root");
tracer.startSpan("kid", {}, api.trace.setSpan(api.context.active(), root)).end();
root.end();
await provider.forceFlush();
writeFileSync(`${outDir}/otlp.json`, JsonTraceSerializer.serializeRequest(spans));
const sum = (f) => spans.reduce((n, s) => n + f(s), 0);
console.log(JSON.stringify({
  spans: spans.length,
  dropped_events: sum((s) => s.droppedEventsCount),
  dropped_attributes: sum((s) => s.droppedAttributesCount),
  dropped_links: sum((s) => s.droppedLinksCount),
  dropped_event_attributes: sum((s) => s.events.reduce((n, e) => n + (e.droppedAttributesCount || 0), 0)),
  first_event_index: spans.find((s) => s.name === "many").events[0].attributes["tare.sweep.index"],
}));
"#;

fn scratch(name: &str) -> PathBuf {
    common::scratch("test-trace-cli", name)
}

fn tare(args: &[&str]) -> Output {
    Command::new(TARE)
        .arg("trace")
        .args(args)
        .output()
        .expect("run tare")
}

fn json_of(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "tare trace failed\nstdout: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(text.trim()).expect("stdout is one JSON object")
}

/// Runs the Python SDK script in `dir`; returns what the SDK counted.
fn python_sdk(dir: &Path) -> Value {
    let script = dir.join("gen.py");
    std::fs::write(&script, SCRIPT).expect("write script");
    let out = match Command::new("python3").arg(&script).arg(dir).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run python3 ({e}); {SETUP_HINT}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") || stderr.contains("ImportError") {
        panic!("{SETUP_HINT}\n{stderr}");
    }
    assert!(out.status.success(), "the script failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// Runs the JS SDK script in `dir` (its imports resolve through a link to tests/browser's
/// node_modules); returns what the SDK counted.
fn js_sdk(dir: &Path) -> Value {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser/node_modules");
    assert!(
        modules.join("@opentelemetry/sdk-trace-base").is_dir(),
        "{JS_SETUP_HINT}"
    );
    let link = dir.join("node_modules");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&modules, &link).expect("link node_modules");
    let script = dir.join("gen.mjs");
    std::fs::write(&script, JS_SCRIPT).expect("write script");
    let out = match Command::new("node").arg(&script).arg(dir).output() {
        Ok(out) => out,
        Err(e) => panic!("cannot run node ({e}); {JS_SETUP_HINT}"),
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the script failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The totals tare must report for the SDK's output, whatever its shape.
fn assert_matches_sdk(report: &Value, sdk: &Value, files: u64) {
    assert_eq!(report["files"], files);
    assert_eq!(report["spans"], sdk["spans"]);
    assert_eq!(report["spans"], 4);
    assert_eq!(report["orphans"], 1, "only `child` lost its parent");
    let d = &report["dropped"];
    assert_eq!(d["events"], sdk["dropped_events"]);
    assert_eq!(d["attributes"], sdk["dropped_attributes"]);
    assert_eq!(d["links"], sdk["dropped_links"]);
    assert_eq!(d["event_attributes"], sdk["dropped_event_attributes"]);
    // The SDK's limits are 128: nothing here is zero.
    assert_eq!(sdk["dropped_events"], 73, "201 events, 128 kept");
    assert_eq!(sdk["dropped_attributes"], 22, "150 attributes, 128 kept");
    assert_eq!(sdk["dropped_links"], 2, "130 links, 128 kept");
    let spans = report["spans_detail"].as_array().expect("spans_detail");
    let orphans: Vec<&str> = spans
        .iter()
        .filter(|s| s["orphan"] == true)
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(orphans, ["child"]);
    let many = spans
        .iter()
        .find(|s| s["name"] == "many")
        .expect("span `many`");
    assert_eq!(many["service"], "tare-trace-test");
    assert_eq!(many["events"], 128);
    assert_eq!(many["links"], 128);
    assert_eq!(many["dropped_events"], 73);
    assert_eq!(many["trace_id"].as_str().map(str::len), Some(32));
    assert_eq!(many["span_id"].as_str().map(str::len), Some(16));
    // The Python SDK evicts the oldest: of indexes 0..199, 73..199 remain (127, as the
    // wide event took one of the 128 places).
    let r = &many["retention"];
    assert_eq!(r["pattern"], "newest_kept");
    assert_eq!(r["target"], 200);
    assert_eq!(r["retained"], 127);
    assert_eq!(r["retained_ranges"], serde_json::json!([[73, 199]]));
    let kid = spans.iter().find(|s| s["name"] == "kid").expect("kid");
    let root = spans.iter().find(|s| s["name"] == "root").expect("root");
    assert_eq!(kid["parent_span_id"], root["span_id"]);
    assert_eq!(kid["orphan"], false);
    assert_eq!(root["parent_span_id"], "");
}

#[test]
fn python_sdk_output_hex_and_base64_ids() {
    let dir = scratch("sdk");
    let sdk = python_sdk(&dir);
    for file in ["otlp.json", "proto.json"] {
        let f = path_str(&dir.join(file));
        let report = json_of(&tare(&["--json", &f]));
        assert_matches_sdk(&report, &sdk, 1);
        assert_eq!(report["inputs"][0]["file"], f.as_str());
    }
    // Both shapes name the same spans: the hex and base64 ids agree.
    let a = json_of(&tare(&["--json", &path_str(&dir.join("otlp.json"))]));
    let b = json_of(&tare(&["--json", &path_str(&dir.join("proto.json"))]));
    let ids = |v: &Value| -> Vec<(Value, Value, Value)> {
        v["spans_detail"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["trace_id"].clone(),
                            s["span_id"].clone(),
                            s["parent_span_id"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(ids(&a), ids(&b));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn js_sdk_output() {
    let dir = scratch("js-sdk");
    let sdk = js_sdk(&dir);
    // The JS SDK keeps the newest events, as Python does: the first one kept is #73.
    assert_eq!(sdk["first_event_index"], 73);
    let f = path_str(&dir.join("otlp.json"));
    let report = json_of(&tare(&["--json", &f]));
    assert_matches_sdk(&report, &sdk, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn collector_json_lines_and_the_human_table() {
    let dir = scratch("jsonl");
    let sdk = python_sdk(&dir);
    let text = std::fs::read_to_string(dir.join("otlp.json")).expect("otlp.json");
    let whole: Value = serde_json::from_str(&text).expect("SDK JSON");
    // Two TracesData lines: `kid` alone on the second, its parent `root` on the first.
    let mut first = whole.clone();
    let mut second = whole.clone();
    let spans = |v: &mut Value| -> Vec<Value> {
        v["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let all = spans(&mut first);
    assert_eq!(all.len(), 4, "one scope holds the four spans");
    let (kid, rest): (Vec<Value>, Vec<Value>) = all.into_iter().partition(|s| s["name"] == "kid");
    first["resourceSpans"][0]["scopeSpans"][0]["spans"] = Value::Array(rest);
    second["resourceSpans"][0]["scopeSpans"][0]["spans"] = Value::Array(kid);
    let jsonl = dir.join("export.jsonl");
    std::fs::write(&jsonl, format!("{first}\n{second}\n")).expect("write jsonl");
    let report = json_of(&tare(&["--json", &path_str(&jsonl)]));
    assert_matches_sdk(&report, &sdk, 1);

    let out = tare(&[&path_str(&jsonl)]);
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.starts_with(
            "1 file(s), 4 spans, 1 orphans; dropped: 73 events, 22 attributes, 2 links\n"
        ),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("tare-trace-test"))
        .expect("a row for the service");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["tare-trace-test", "4", "1", "73", "22", "2"]);
    assert!(
        table.contains("`child`") && table.contains("orphan (parent "),
        "{table}"
    );
    assert!(
        table.contains("kept 127/200 indexed events [73..199]: newest_kept"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_legacy_instrumentation_library_shape() {
    let dir = scratch("legacy");
    let sdk = python_sdk(&dir);
    // As proto.json, written before OTLP 0.15 renamed the fields (base64 ids, enum names).
    let text = std::fs::read_to_string(dir.join("proto.json")).expect("proto.json");
    assert!(text.contains("\"scopeSpans\"") && text.contains("\"scope\""));
    let legacy = text
        .replace("\"scopeSpans\"", "\"instrumentationLibrarySpans\"")
        .replace("\"scope\"", "\"instrumentationLibrary\"");
    let f = dir.join("legacy.json");
    std::fs::write(&f, legacy).expect("write");
    let report = json_of(&tare(&["--json", &path_str(&f)]));
    assert_matches_sdk(&report, &sdk, 1);
    assert_eq!(report["spans_detail"][0]["scope"], "tare.trace.test");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_files_exit_2_naming_the_file_and_the_field() {
    let dir = scratch("bad");
    let good = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a"}]}]}]}"#;
    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &good[..good.len() - 10]).expect("write");
    let ok = dir.join("ok.json");
    std::fs::write(&ok, good).expect("write");
    let out = tare(&[&path_str(&ok), &path_str(&truncated)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "tare: {}: field `(top level)`",
            truncated.display()
        )),
        "{err}"
    );
    assert!(err.contains("not valid JSON"), "{err}");
    assert!(out.stdout.is_empty(), "no report on bad input");

    let bad_field = dir.join("bad-field.json");
    std::fs::write(
        &bad_field,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"a","droppedEventsCount":-1}]}]}]}"#,
    )
    .expect("write");
    let out = tare(&[&path_str(&bad_field)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: field `resourceSpans[0].scopeSpans[0].spans[0].droppedEventsCount`",
            bad_field.display()
        )),
        "{err}"
    );

    let missing = dir.join("missing.json");
    let out = tare(&[&path_str(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("cannot read {}", missing.display())));

    // An empty report is still a report: the files were read.
    let empty = dir.join("empty.json");
    std::fs::write(&empty, r#"{"resourceSpans":[]}"#).expect("write");
    let report = json_of(&tare(&["--json", &path_str(&empty)]));
    assert_eq!(
        (report["files"].as_u64(), report["spans"].as_u64()),
        (Some(1), Some(0))
    );
    let _ = std::fs::remove_dir_all(&dir);
}
