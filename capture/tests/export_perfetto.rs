//! `tare export --perfetto` (as root, real kernel): a shell with forks, a failing and a killed
//! child exports every process, event and span with its time, held against what the shell
//! itself says of its children (`$$`, `$!`, exit statuses) and what the kernel events say.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use report_model::analysis::process_tree;
use report_model::bundle::{self, Limits};
use serde_json::Value;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

use common::is_root;

fn export(archive: &Path, out: &Path) -> Value {
    let o = Command::new(TARE)
        .args(["export", "--perfetto"])
        .arg(archive)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run tare export");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&std::fs::read(out).expect("exported")).expect("JSON")
}

fn parts(archive: &Path) -> bundle::CaptureMembers {
    let bytes = std::fs::read(archive).unwrap();
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).unwrap();
    bundle::capture_members("a", &members).unwrap()
}

fn events<'a>(trace: &'a Value, ph: &str) -> Vec<&'a Value> {
    trace["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .filter(|e| e["ph"] == ph)
        .collect()
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

#[test]
fn a_shell_pipeline_exports_every_process_and_event() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("export", "shell");
    let pids = dir.join("pids");
    // The shell says who it forked ($!) and who it is ($$): the reference for the tree.
    let script = format!(
        "echo root $$ > {p}; \
         sh -c 'exit 3' & echo exit3 $! >> {p}; wait; \
         sh -c 'kill -9 $$' & echo killed $! >> {p}; wait; \
         ls / > /dev/null & echo ls $! >> {p}; wait; \
         exit 0",
        p = pids.display()
    );
    let archive = dir.join("a.tar.gz");
    common::capture(&archive, &[], &["sh", "-c", &script]);
    let said: BTreeMap<String, u32> = std::fs::read_to_string(&pids)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    let m = parts(&archive);
    let tree = process_tree::build(&m.events);

    // The tree, against the shell's own account.
    let root = tree.get(said["root"]).expect("the shell is in the tree");
    assert_eq!(
        tree.roots().iter().map(|p| p.pid).collect::<Vec<_>>(),
        vec![root.pid]
    );
    for (name, code, signal) in [
        ("exit3", Some(3), None),
        ("killed", None, Some(9)),
        ("ls", Some(0), None),
    ] {
        let p = tree
            .get(said[name])
            .unwrap_or_else(|| panic!("{name} in the tree"));
        assert_eq!(p.ppid, Some(root.pid), "{name}'s parent");
        assert!(root.children.contains(&p.pid), "{name} under the shell");
        assert_eq!((p.exit_code, p.exit_signal), (code, signal), "{name}");
        assert_eq!(p.failed(), name != "ls", "{name}");
        assert!(p.forked_in_capture && p.end_ns.is_some(), "{name}");
    }
    assert_eq!(
        tree.get(said["ls"])
            .unwrap()
            .execs
            .last()
            .map(|s| s.ends_with("/ls")),
        Some(true)
    );
    assert_eq!((root.exit_code, root.exit_signal), (Some(0), None));

    // The export, against the archive: every process, every event, with its time.
    let trace = export(&archive, &dir.join("p.json"));
    let names: BTreeMap<u64, &str> = events(&trace, "M")
        .into_iter()
        .filter(|e| e["name"] == "process_name")
        .map(|e| {
            (
                e["pid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    let slices: BTreeMap<u64, &Value> = events(&trace, "X")
        .into_iter()
        .filter(|e| e["cat"].as_str().unwrap().starts_with("process"))
        .map(|e| (e["pid"].as_u64().unwrap(), e))
        .collect();
    assert_eq!(slices.len(), tree.processes.len());
    for p in &tree.processes {
        let pid = u64::from(p.pid);
        assert!(
            names[&pid].ends_with(&format!("(pid {})", p.pid)),
            "{}",
            names[&pid]
        );
        let s = slices[&pid];
        assert!((s["ts"].as_f64().unwrap() - us(p.start_ns)).abs() < 1e-3);
        let end = s["ts"].as_f64().unwrap() + s["dur"].as_f64().unwrap();
        assert!(
            (end - us(p.end_ns.unwrap())).abs() < 1e-2,
            "pid {} ends at its exit",
            p.pid
        );
        assert_eq!(
            s["args"]["exit_code"].as_i64().map(|c| c as i32),
            p.exit_code
        );
        assert_eq!(s["cat"] == "process,failed", p.failed());
        assert_eq!(s["args"]["opens"].as_u64(), Some(p.counts.opens));
    }
    let instants = events(&trace, "i");
    assert_eq!(
        instants.len(),
        m.events.len(),
        "one instant per kernel event"
    );
    for (e, i) in m.events.iter().zip(&instants) {
        assert_eq!(i["args"]["seq"].as_u64(), Some(e.seq));
        assert_eq!(i["name"], e.detail.kind().as_str());
        assert_eq!(
            (i["pid"].as_u64(), i["tid"].as_u64()),
            (Some(e.pid.into()), Some(e.tid.into()))
        );
        assert!((i["ts"].as_f64().unwrap() - us(e.ts_ns)).abs() < 1e-3);
    }
    assert_eq!(
        trace["metadata"]["kernel_events"].as_u64(),
        Some(m.events.len() as u64)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn spans_land_inside_the_process_that_made_them() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("export", "spans");
    let trace_file = dir.join("trace.json");
    let archive = dir.join("a.tar.gz");
    let t = trace_file.to_str().unwrap();
    common::capture(
        &archive,
        &["--trace", t, "--sample-interval", "100ms"],
        &[
            TARE,
            "workload",
            "--span-events",
            "5",
            "--trace-out",
            t,
            "--delay-ms",
            "250",
        ],
    );
    let m = parts(&archive);
    let clock = m
        .run
        .as_ref()
        .and_then(|r| r.clock)
        .expect("run.json has the clock pair");
    assert!(clock.uncertainty_ns < 1_000_000, "{clock:?}");
    let tree = process_tree::build(&m.events);
    let workload = tree
        .processes
        .iter()
        .find(|p| p.execs.iter().any(|e| e.ends_with("/tare")))
        .expect("the workload process");
    let trace = export(&archive, &dir.join("p.json"));
    let spans: Vec<&Value> = events(&trace, "X")
        .into_iter()
        .filter(|e| e["cat"] == "otel")
        .collect();
    let otlp = m.trace.as_ref().expect("trace.json");
    assert_eq!(spans.len(), otlp.spans().count(), "every span");
    assert_eq!(
        trace["metadata"]["spans"].as_u64(),
        Some(spans.len() as u64)
    );
    // The span was made by the workload between its exec and its exit: the kernel's clock
    // and the OTLP one, joined by the pair, agree to within its uncertainty (and a
    // millisecond for the SDK's own clock reads).
    let slack = us(clock.uncertainty_ns) + 1_000.0;
    let (start, end) = (us(workload.start_ns), us(workload.end_ns.unwrap()));
    for s in &spans {
        let ts = s["ts"].as_f64().unwrap();
        let te = ts + s["dur"].as_f64().unwrap();
        assert!(
            ts >= start - slack && te <= end + slack,
            "{s} in [{start}, {end}]"
        );
    }
    let span_events = events(&trace, "i")
        .into_iter()
        .filter(|e| e["cat"] == "otel")
        .count();
    assert_eq!(span_events, 5);
    // The resource samples, on the same clock, fall inside the capture's events.
    let first = us(m.events.iter().map(|e| e.ts_ns).min().unwrap());
    for c in events(&trace, "C") {
        let ts = c["ts"].as_f64().unwrap();
        assert!(ts >= first - slack && ts <= end + 200_000.0, "{c}");
    }
    assert!(
        !events(&trace, "C").is_empty(),
        "a 250 ms run sampled at 100 ms has samples"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = common::scratch("export", "bad");
    let junk = dir.join("junk.tar.gz");
    std::fs::write(&junk, b"not gzip").unwrap();
    let o = Command::new(TARE)
        .args(["export", "--perfetto"])
        .arg(&junk)
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("junk.tar.gz"), "{err}");
    assert!(o.stdout.is_empty());
    let o = Command::new(TARE)
        .args(["export", "--perfetto"])
        .arg(dir.join("missing.tar.gz"))
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    let _ = std::fs::remove_dir_all(&dir);
}
