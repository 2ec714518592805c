//! The command line on hostile or odd input: bad arguments exit 2 naming the flag, a closed stdout exits 141 quietly, long input lines are clipped, and control characters from input never reach the terminal raw.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use report_model::bundle::{self, Member};
use report_model::schema::manifest::ContainerKind;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

/// A hostile string: clear screen, an OSC window title, a carriage return, a right-to-left
/// override, a C1 CSI, DEL, and a line feed that would start a forged line.
const HOSTILE: &str = "x\u{1b}[2J\u{1b}]0;pwned\u{7}\rover\u{202e}rlo\u{9b}1m\u{7f}\nok: forged";

/// How each part of [`HOSTILE`] must be shown.
const ESCAPED: &[&str] = &[
    "\\x1b[2J",
    "\\x1b]0;pwned\\x07",
    "\\rover",
    "\\u{202e}rlo",
    "\\u{9b}1m",
    "\\x7f",
    "\\nok: forged",
];

fn tare(args: &[&str]) -> Output {
    Command::new(TARE)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tare")
}

fn texts(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A bad argument: exit 2, the flag named on stderr, no panic, nothing on stdout.
fn bad_argument(args: &[&str], flag: &str) {
    let o = tare(args);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}\nstderr: {err}");
    assert!(err.contains(flag), "{args:?}: `{flag}` not in: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: stdout: {out}");
}

/// No control character but line feed and tab, and no bidi control, in `text`.
fn assert_inert(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(raw.is_empty(), "{what}: raw {raw:?} in: {text:?}");
}

/// Every part of [`HOSTILE`] shown escaped in `text`. In error messages (`line_feeds_too`
/// false) a line feed from input stays a line feed: they are multi-line text of their own.
fn assert_escaped(what: &str, text: &str, line_feeds_too: bool) {
    assert_inert(what, text);
    for e in ESCAPED {
        if line_feeds_too || !e.starts_with("\\n") {
            assert!(text.contains(e), "{what}: `{e}` not in: {text}");
        }
    }
}

#[test]
fn capture_arguments_out_of_range_exit_2_naming_the_flag() {
    for (args, flag) in [
        (&["--timeout", "1e20"][..], "--timeout"),
        (&["--timeout", "0"], "--timeout"),
        (&["--timeout", "nan"], "--timeout"),
        (&["--timeout=-3"], "--timeout"),
        (&["--sample-interval", "1e30s"], "--sample-interval"),
        (&["--sample-interval", "1e30"], "--sample-interval"),
        (&["--ringbuf-bytes", "4095"], "--ringbuf-bytes"),
        (&["--ringbuf-bytes", "0"], "--ringbuf-bytes"),
    ] {
        let mut all = vec!["capture"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--", "true"]);
        bad_argument(&all, flag);
    }
    let o = tare(&["capture", "--timeout", "1e20", "--", "true"]);
    assert!(texts(&o).1.contains("more than a year"), "{}", texts(&o).1);
}

#[test]
fn bench_input_errors_exit_2_before_anything_runs() {
    let dir = common::scratch("cli-errors", "bench");
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    bad_argument(&["bench", "--preset", "nope", "--out", out_s], "--preset");
    bad_argument(
        &["bench", "--preset", "smoke", "--n", "0", "--out", out_s],
        "--n",
    );
    // A results directory that is not empty: never overwritten.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    bad_argument(&["bench", "--preset", "smoke", "--out", out_s], "--out");
    let o = tare(&["bench", "--preset", "smoke", "--out", out_s]);
    assert!(texts(&o).1.contains("is not empty"), "{}", texts(&o).1);
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        1,
        "nothing was written into --out"
    );
    // An experiment file that does not exist names the file.
    let missing = dir.join("missing.toml");
    bad_argument(
        &["bench", missing.to_str().unwrap(), "--out", out_s],
        "missing.toml",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_megabyte_line_of_a_bad_experiment_is_clipped() {
    let dir = common::scratch("cli-errors", "long-line");
    let out = dir.join("out");
    let long = "A".repeat(2 << 20);
    for (name, text) in [
        // A TOML syntax error: the parser quotes the whole line.
        ("syntax.toml", format!("name = \"{long}\n")),
        // A type error: serde quotes the whole value.
        (
            "type.toml",
            format!("schema = \"tare.experiment.v1\"\nname = \"x\"\nn = \"{long}\"\n"),
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let o = tare(&[
            "bench",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let (_, err) = texts(&o);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{name}: {}",
            &err[..err.len().min(2000)]
        );
        // Each line at most ~1,000 characters: a few lines, never the 2 MB.
        assert!(err.len() < 8192, "{name}: {} bytes of stderr", err.len());
        assert!(err.contains(name), "{name}: {err}");
        assert!(err.contains("…(cut: a line of "), "{name}: {err}");
        assert!(
            // 1,000 characters kept (tare's own advice with two paths fits) and the marker.
            err.lines().all(|l| l.chars().count() <= 1100),
            "{name}: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `tare ARGS` with stdout a pipe whose reader is already closed.
fn with_closed_stdout(args: &[&Path]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Command::new(TARE)
        .args(args)
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run tare")
}

fn write_archive(path: &Path, id: &str, notes: Vec<String>, members: Vec<Member>) {
    let name = path.display().to_string();
    let bytes = bundle::pack(&name, ContainerKind::Archive, id, members, notes).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// One resource sample of metrics.ndjson.
fn metrics_line(t_ns: u64) -> String {
    format!(
        "{{\"t_ns\":{t_ns},\"pids\":1,\"threads\":1,\"fds\":3,\"rss_bytes\":1048576,\
         \"memory_bytes\":2097152,\"memory_source\":\"cgroup_v2_memory_current\",\
         \"cpu_usec\":{},\"cpu_source\":\"cgroup_v2_cpu_stat\"}}\n",
        t_ns / 1000
    )
}

/// An OTLP JSON trace: one service, a root span and an orphan (so it is listed).
fn trace_json(service: &str, span: &str) -> String {
    let attr = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
    serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [attr("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "t"}, "spans": [
            {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "1111111111111111",
             "name": "root", "kind": 1, "startTimeUnixNano": "1", "endTimeUnixNano": "2"},
            {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "2222222222222222",
             "parentSpanId": "3333333333333333", "name": span, "kind": 1,
             "startTimeUnixNano": "1", "endTimeUnixNano": "2"}
        ]}]
    }]})
    .to_string()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn a_closed_stdout_exits_141_without_a_word() {
    let dir = common::scratch("cli-errors", "closed-stdout");
    let archive = dir.join("run.tar.gz");
    let metrics: String = (1..=3).map(|i| metrics_line(i * 250_000_000)).collect();
    write_archive(
        &archive,
        "run-1",
        vec!["a note".into()],
        vec![
            Member::new("metrics.ndjson", metrics),
            Member::new("kernel.ndjson", ""),
        ],
    );
    let trace = dir.join("trace.json");
    std::fs::write(&trace, trace_json("svc", "orphan")).unwrap();
    let summary = repo_root().join("baselines/smoke/summary.json");
    let svg = dir.join("t.svg");
    let p = |s: &str| PathBuf::from(s);
    for args in [
        vec![p("verify"), archive.clone()],
        vec![p("trace"), trace.clone()],
        vec![p("trace"), p("--json"), trace.clone()],
        vec![p("compare"), summary.clone(), summary.clone()],
        vec![p("report"), archive.clone(), p("--out"), svg.clone()],
        vec![
            p("export"),
            p("--perfetto"),
            archive.clone(),
            p("-o"),
            p("-"),
        ],
    ] {
        let args: Vec<&Path> = args.iter().map(PathBuf::as_path).collect();
        let o = with_closed_stdout(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(141), "{args:?}\nstderr: {err}");
        assert!(err.is_empty(), "{args:?}: stderr: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn control_characters_from_input_reach_the_terminal_escaped() {
    let dir = common::scratch("cli-errors", "escapes");

    // verify: the manifest's id and notes.
    let archive = dir.join("run.tar.gz");
    let metrics: String = (1..=3).map(|i| metrics_line(i * 250_000_000)).collect();
    write_archive(
        &archive,
        &format!("run-{HOSTILE}"),
        vec![format!("note {HOSTILE}")],
        vec![Member::new("metrics.ndjson", metrics)],
    );
    let o = tare(&["verify", archive.to_str().unwrap()]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_escaped("verify stdout", &out, true);
    // The id's and the note's line feeds did not start lines of their own.
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        out.lines().nth(1).unwrap().starts_with("  note: note x"),
        "{out}"
    );

    // report: the run id leads its line.
    let svg = dir.join("t.svg");
    let o = tare(&[
        "report",
        archive.to_str().unwrap(),
        "--out",
        svg.to_str().unwrap(),
    ]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_escaped("report stdout", &out, true);

    // trace: service and span names, and the file's own name.
    let trace = dir.join(format!("t-{}.json", HOSTILE.replace('/', "_")));
    std::fs::write(
        &trace,
        trace_json(&format!("svc-{HOSTILE}"), &format!("span-{HOSTILE}")),
    )
    .unwrap();
    let o = tare(&["trace", trace.to_str().unwrap()]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_escaped("trace stdout", &out, true);
    assert!(out.contains("span-x\\x1b[2J"), "{out}");
    assert!(out.contains("svc-x\\x1b[2J"), "{out}");
    // --json: the same values, as JSON escapes.
    let o = tare(&["trace", "--json", trace.to_str().unwrap()]);
    let (out, _) = texts(&o);
    assert_inert("trace --json", &out);
    let v: serde_json::Value = serde_json::from_str(&out).expect("still JSON");
    assert!(v.to_string().contains("\\u001b]0;pwned\\u0007"), "{out}");
    assert!(
        serde_json::to_string(&v).unwrap().contains('\u{202e}'),
        "the value is unchanged"
    );

    // compare: the experiment's name and the file's path (a summary.json alone).
    let mut summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("baselines/smoke/summary.json")).unwrap(),
    )
    .unwrap();
    summary["experiment"] = format!("exp-{HOSTILE}").into();
    let hostile_dir = dir.join(format!("d-{HOSTILE}"));
    std::fs::create_dir_all(&hostile_dir).unwrap();
    let summary_path = hostile_dir.join("summary.json");
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let s = summary_path.to_str().unwrap();
    let o = tare(&["compare", s, s]);
    let (out, err) = texts(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_escaped("compare stdout", &out, true);
    assert!(out.contains("experiment exp-x\\x1b[2J"), "{out}");
    for flag in ["--markdown", "--json"] {
        let o = tare(&["compare", flag, s, s]);
        assert_eq!(o.status.code(), Some(0), "{flag}");
        assert_inert(flag, &texts(&o).0);
    }

    // Errors quoting a path or a file's content.
    let missing = dir.join(format!("missing-{HOSTILE}.tar.gz"));
    for args in [
        vec!["verify", missing.to_str().unwrap()],
        vec!["trace", missing.to_str().unwrap()],
        vec![
            "compare",
            missing.to_str().unwrap(),
            missing.to_str().unwrap(),
        ],
        vec!["report", missing.to_str().unwrap()],
        vec!["export", "--perfetto", missing.to_str().unwrap(), "-o", "-"],
        vec!["view", missing.to_str().unwrap()],
    ] {
        let o = tare(&args);
        let (out, err) = texts(&o);
        assert_ne!(o.status.code(), Some(0), "{args:?}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert_escaped(&format!("{:?} stderr", args[0]), &err, false);
    }
    let bad = dir.join("bad.json");
    std::fs::write(&bad, format!("{{\"resourceSpans\": 5, \"{HOSTILE}\": 1")).unwrap();
    let o = tare(&["trace", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_inert("trace error", &texts(&o).1);

    // An argument quoted by the argument parser (which drops ANSI sequences itself).
    let o = tare(&["capture", "--timeout", HOSTILE, "--", "true"]);
    let (_, err) = texts(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_inert("clap error", &err);
    assert!(err.contains("\\u{202e}rlo"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
