//! `--trace-chrome` (as root, real kernel): valid Chrome trace-event JSON with the seven capture phases nested under the root span.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use report_model::schema::phases::PHASE_NAMES;
use serde_json::Value;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

fn scratch(name: &str) -> PathBuf {
    common::scratch("tchrome", name)
}

/// A span rebuilt from its B/E pair.
#[derive(Debug, Clone)]
struct Span {
    name: String,
    cat: String,
    start: f64,
    end: f64,
    parent: Option<usize>,
    args: BTreeMap<String, String>,
}

/// Rebuilds the spans of a trace-event array from its B/E events, checking that every E
/// closes the innermost open span of its thread (proper nesting).
fn spans(events: &[Value]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut stacks: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    let mut last_ts: BTreeMap<u64, f64> = BTreeMap::new();
    for e in events {
        let ph = e["ph"].as_str().expect("every event has ph");
        assert_eq!(e["pid"].as_u64(), Some(1), "{e}");
        let tid = e["tid"].as_u64().expect("tid");
        if ph == "M" {
            continue;
        }
        let ts = e["ts"].as_f64().expect("ts in microseconds");
        // Forward within a thread; threads are written as their events arrive.
        let last = last_ts.entry(tid).or_insert(f64::MIN);
        assert!(ts >= *last, "timestamps go forward within a thread: {e}");
        *last = ts;
        let name = e["name"].as_str().expect("name").to_string();
        let args: BTreeMap<String, String> = e["args"]
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let stack = stacks.entry(tid).or_default();
        match ph {
            "B" => {
                out.push(Span {
                    name,
                    cat: e["cat"].as_str().unwrap_or_default().to_string(),
                    start: ts,
                    end: f64::NAN,
                    parent: stack.last().copied(),
                    args,
                });
                stack.push(out.len() - 1);
            }
            "E" => {
                let i = stack.pop().unwrap_or_else(|| panic!("E without B: {e}"));
                assert_eq!(out[i].name, name, "E closes the innermost span");
                out[i].end = ts;
                out[i].args.extend(args);
            }
            "i" => {}
            other => panic!("unexpected phase type {other}: {e}"),
        }
    }
    for (tid, s) in stacks {
        assert!(s.is_empty(), "thread {tid} left spans open: {s:?}");
    }
    out
}

#[test]
fn chrome_trace_has_the_seven_phases_under_the_root_span() {
    let d = scratch("phases");
    let trace = d.join("trace.json");
    let out = d.join("a.tar.gz");
    let o = Command::new(TARE)
        .arg("--trace-chrome")
        .arg(&trace)
        .args(["capture", "--quiet", "--out"])
        .arg(&out)
        .args(["--", "sh", "-c", "echo hi > /dev/null"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    let text = std::fs::read_to_string(&trace).unwrap();
    let doc: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
    let events = doc.as_array().expect("a JSON array of trace events");
    let spans = spans(events);

    let find = |n: &str| -> usize {
        let v: Vec<usize> = (0..spans.len()).filter(|i| spans[*i].name == n).collect();
        assert_eq!(v.len(), 1, "one span {n}: {spans:#?}");
        v[0]
    };
    let root = find("tare");
    assert_eq!(spans[root].parent, None, "the root span has no parent");
    assert_eq!(spans[root].args["command"], "capture");
    assert!(spans
        .iter()
        .all(|s| s.start >= spans[root].start && s.end <= spans[root].end));
    let capture = find("capture");
    assert_eq!(spans[capture].parent, Some(root));
    assert_eq!(spans[capture].cat, "tare::capture");
    assert!(spans[capture].args["run_id"].starts_with("run-"));
    assert!(spans[capture].args["pid"].parse::<u32>().is_ok());

    // The seven phases, in order, children of `capture`, inside it and not overlapping.
    let mut prev_end = spans[capture].start;
    for name in PHASE_NAMES {
        let p = find(name);
        let s = &spans[p];
        assert_eq!(s.parent, Some(capture), "{name} nests under capture");
        assert_eq!(s.cat, "tare::phase");
        assert!(
            s.start >= prev_end,
            "{name} starts after the previous phase"
        );
        assert!(s.end >= s.start && s.end <= spans[capture].end, "{name}");
        prev_end = s.end;
    }

    // Inner steps nest under their phase and carry their counts.
    let inner = |name: &str, phase: &str| {
        let i = find(name);
        assert_eq!(spans[i].parent, Some(find(phase)), "{name} under {phase}");
        spans[i].args.clone()
    };
    let m = inner("monitor_start", "monitor_attach");
    assert!(m["programs"].parse::<u32>().unwrap() > 0, "{m:?}");
    // One program_load span per program, inside monitor_load (on a thread of its own,
    // started in cgroup_prepare: it runs after that phase began, however late the thread
    // is scheduled, and ends before the programs are attached); one attach span per
    // program, nested under monitor_start.
    let ms = find("monitor_start");
    let ml = find("monitor_load");
    let cgroup_prepare = &spans[find("cgroup_prepare")];
    assert!(
        spans[ml].start >= cgroup_prepare.start,
        "loads after the cgroup is made"
    );
    let first_attach = spans
        .iter()
        .filter(|s| s.name == "attach")
        .map(|s| s.start)
        .fold(f64::INFINITY, f64::min);
    assert!(
        spans[ml].end <= first_attach,
        "verified before anything is attached"
    );
    for step in ["program_load", "attach"] {
        let v: Vec<&Span> = spans.iter().filter(|s| s.name == step).collect();
        assert_eq!(
            v.len().to_string(),
            m["programs"],
            "one {step} span per program"
        );
        let within = if step == "attach" { ms } else { ml };
        for s in v {
            assert!(
                s.start >= spans[within].start && s.end <= spans[within].end,
                "{step}"
            );
            if step == "program_load" {
                assert!(s.end <= spans[ms].end, "verified before it is attached");
            }
            assert!(!s.args["program"].is_empty(), "{step}: {:?}", s.args);
            if step == "attach" {
                assert_eq!(s.parent, Some(ms));
            }
        }
    }
    let drain = inner("drain", "event_flush");
    assert!(drain["events"].parse::<u64>().unwrap() > 0, "{drain:?}");
    assert_eq!(drain["dropped"], "0");
    let enc = inner("archive_encode", "archive_write");
    assert!(enc["members"].contains("metrics.ndjson"), "{enc:?}");
    assert!(enc["bytes"].parse::<u64>().unwrap() > 0);
    inner("archive_file", "archive_write");
    let encode = find("archive_encode");
    let mut paths: Vec<&str> = spans
        .iter()
        .filter(|s| s.name == "member" && s.parent == Some(encode))
        .map(|s| s.args["path"].as_str())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "health.json",
            "kernel.ndjson",
            "metrics.ndjson",
            "phases.json",
            "run.json"
        ]
    );
    inner("sampler_stop", "child_runtime");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_unwritable_trace_file_is_a_usage_error_before_anything_runs() {
    let d = scratch("bad");
    let o = Command::new(TARE)
        .args([
            "--trace-chrome",
            "/nonexistent-dir/x/trace.json",
            "capture",
            "--out",
        ])
        .arg(d.join("a.tar.gz"))
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--trace-chrome /nonexistent-dir/x/trace.json"),
        "{err}"
    );
    assert!(!d.join("a.tar.gz").exists(), "nothing ran");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn without_flags_no_trace_is_written() {
    // Telemetry off: the global flags are absent and nothing but the archive appears.
    let d = scratch("off");
    let o = Command::new(TARE)
        .current_dir(&d)
        .args(["capture", "--quiet", "--out", "a.tar.gz", "--", "true"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.tar.gz"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn bench_cells_and_samples_are_spans_with_their_fields() {
    let d = scratch("bench");
    let trace = d.join("trace.json");
    let o = Command::new(TARE)
        .arg("--trace-chrome")
        .arg(&trace)
        .args([
            "bench",
            "--preset",
            "smoke",
            "--n",
            "1",
            "--warmups",
            "0",
            "--quiet",
        ])
        .arg("--out")
        .arg(d.join("res"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&trace).unwrap()).unwrap();
    let spans = spans(doc.as_array().unwrap());
    let root = spans.iter().position(|s| s.name == "tare").unwrap();
    assert_eq!(spans[root].args["command"], "bench");
    let cells: Vec<usize> = (0..spans.len())
        .filter(|i| spans[*i].name == "cell")
        .collect();
    assert!(!cells.is_empty());
    let samples: Vec<&Span> = spans.iter().filter(|s| s.name == "sample").collect();
    // One block of every arm per cell: four samples each.
    assert_eq!(samples.len(), cells.len() * 4, "{samples:#?}");
    for c in &cells {
        assert_eq!(spans[*c].parent, Some(root));
        assert_eq!(spans[*c].cat, "tare::bench");
    }
    let mut seqs = Vec::new();
    for s in samples {
        let cell = &spans[s.parent.expect("a sample nests under its cell")];
        assert_eq!(cell.name, "cell");
        assert_eq!(s.args["cell"], cell.args["cell"]);
        assert!(
            ["bare", "a", "b", "c"].contains(&s.args["arm"].as_str()),
            "{s:?}"
        );
        assert!(
            ["true", "false"].contains(&s.args["valid"].as_str()),
            "{s:?}"
        );
        seqs.push(s.args["seq"].parse::<u32>().unwrap());
    }
    assert_eq!(seqs, (0..seqs.len() as u32).collect::<Vec<_>>());
    let _ = std::fs::remove_dir_all(&d);
}
