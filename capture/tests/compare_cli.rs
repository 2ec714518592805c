//! `tare compare` as a user runs it: a planted slowdown in a real workload is caught end to end (as root), and bad or mismatched inputs exit 2 naming the file.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use report_model::bundle;
use report_model::schema::compare::{ChangeVerdict, CompareReport, Outcome};
use report_model::schema::experiment::{Arm, Cell, Experiment, Tier};
use report_model::schema::host::{Host, HostClass};
use report_model::schema::manifest::ContainerKind;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::{parse_json, to_canonical_json, to_ndjson, to_toml, Versioned};

const TARE: &str = env!("CARGO_BIN_EXE_tare");

fn tempdir(name: &str) -> PathBuf {
    common::scratch("compare", name)
}

fn tare(args: &[&str], paths: &[&Path]) -> Output {
    Command::new(TARE).args(args).args(paths).output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn json_report(o: &Output) -> CompareReport {
    let (out, err) = text(o);
    parse_json("compare.json", &out).unwrap_or_else(|e| panic!("{e}\n{out}\n{err}"))
}

/// One cell, arm bare: `sleep S`, then the real built-in workload. The sleep dominates, so
/// the CPU contention of a loaded 2-core machine (which slows the workload, not the sleep)
/// stays small next to the planted shift.
fn planted_experiment(sleep_s: f64) -> String {
    let workload = format!(
        "sleep {sleep_s:.3}; exec {TARE} workload --kernel-events {{kernel_events}} \
         --concurrency {{concurrency}} --payload-bytes {{payload_bytes}}"
    );
    format!(
        r#"schema = "tare.experiment.v1"
name = "planted"
tier = "smoke"
n = 10
warmups = 1
timeout_s = 30
arms = ["bare"]

[commands]
bare = "{workload}"

[[cells]]
id = "k25"
kernel_events = 25
span_events = 0
"#
    )
}

fn bench(dir: &Path, name: &str, sleep_s: f64) -> PathBuf {
    let exp = dir.join(format!("{name}.toml"));
    std::fs::write(&exp, planted_experiment(sleep_s)).unwrap();
    let out = dir.join(name);
    let o = common::bench(&exp, &out);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "bench {name}: {stdout}\n{stderr}");
    out
}

#[test]
fn a_planted_slowdown_in_a_real_workload_is_caught() {
    let dir = tempdir("planted");
    const SLEEP_S: f64 = 0.4;
    let base = bench(&dir, "base", SLEEP_S);
    // The candidate sleeps longer by 20% of the base's median wall-clock: a 20% slowdown.
    let summary: Summary = parse_json(
        "summary.json",
        &std::fs::read_to_string(base.join("summary.json")).unwrap(),
    )
    .unwrap();
    let base_median_ms = summary.cells[0].arms[&Arm::Bare]
        .wall_ms
        .as_ref()
        .unwrap()
        .median;
    let planted_ms = 0.2 * base_median_ms;
    let cand = bench(&dir, "cand", SLEEP_S + planted_ms / 1000.0);

    let o = tare(&["compare", "--json"], &[&base, &cand]);
    let r = json_report(&o);
    let wall = &r.cells[0].arms[0].metrics[0];
    assert_eq!(wall.metric, "wall_ms");
    assert_eq!(o.status.code(), Some(1), "{wall:?}");
    assert_eq!(r.outcome, Outcome::Regression);
    assert_eq!(wall.verdict, ChangeVerdict::Regression, "{wall:?}");
    assert_eq!((wall.n_base, wall.n_cand), (10, 10));
    let pct = wall.shift_pct.unwrap();
    // The planted 20%, give or take the load drifting between the two runs.
    assert!(pct > 10.0, "a 20% slowdown: {wall:?}");
    assert!(wall.ci_low_pct.unwrap() > 5.0, "{wall:?}");
    assert!(r
        .notes
        .iter()
        .any(|n| n.contains("The arm commands differ (arms bare)")));

    // The terminal table says it at the end, where CI logs end.
    let o = tare(&["compare"], &[&base, &cand]);
    assert_eq!(o.status.code(), Some(1));
    let (out, _) = text(&o);
    assert!(out.contains("k25/bare/wall_ms"), "{out}");
    assert!(
        out.lines().last().unwrap().starts_with("REGRESSION: "),
        "{out}"
    );

    // The same results against themselves, as directory and as bundle: nothing changed.
    let base_bundle = dir.join("base.bundle.tar.gz");
    let o = tare(&["compare", "--json"], &[&base, &base_bundle]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let r = json_report(&o);
    assert_eq!(r.outcome, Outcome::NoRegression);
    assert_eq!(r.counts.regression + r.counts.improvement, 0);
    assert!(r.counts.no_detectable_change > 0);

    // Markdown for an issue comment.
    let o = tare(&["compare", "--markdown"], &[&base_bundle, &cand]);
    assert_eq!(o.status.code(), Some(1));
    let (md, _) = text(&o);
    assert!(md.starts_with("# tare compare: planted vs planted"), "{md}");
    assert!(md.contains("| k25/bare/wall\\_ms |"), "{md}");
    assert!(md.contains("## Regressions and improvements"), "{md}");

    // A summary.json alone: medians only, exit 0.
    let o = tare(&["compare"], &[&base.join("summary.json"), &cand]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("No statistical comparison is possible without samples"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- synthetic results directories (no root, no kernel) ----

fn synthetic_experiment(cells: &[(&str, u32)]) -> Experiment {
    Experiment {
        schema: Experiment::SCHEMA.into(),
        name: "synthetic".into(),
        tier: Tier::Smoke,
        budget_s: None,
        n: 6,
        warmups: 0,
        timeout_s: 10,
        arms: vec![Arm::Bare],
        cells: cells
            .iter()
            .map(|(id, k)| Cell {
                id: (*id).into(),
                kernel_events: *k,
                span_events: 0,
                concurrency: 1,
                payload_bytes: 128,
                span_attributes: 0,
                span_links: 0,
                spans: 0,
                tier: Tier::Smoke,
            })
            .collect(),
        commands: BTreeMap::new(),
    }
}

/// Writes experiment.toml, host.json and samples.jsonl: 6 bare samples per cell at `wall_ms`.
fn write_results(dir: &Path, cells: &[(&str, u32)], host_class: &str, wall_ms: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let exp = synthetic_experiment(cells);
    let host = Host {
        schema: Host::SCHEMA.into(),
        host_class: host_class.into(),
        // The fields agree with the class string, as on a real host.json.
        arch: HostClass::parse(host_class).arch,
        kernel_release: HostClass::parse(host_class).kernel,
        cpu_model: "cpu".into(),
        cores: 2,
        governor: None,
        load_avg: [0.0; 3],
        tare_version: "0.1.0".into(),
        git_commit: None,
    };
    let mut samples = Vec::new();
    for (c, _) in cells {
        for i in 0..6u32 {
            samples.push(Sample {
                schema: Sample::SCHEMA.into(),
                cell: (*c).into(),
                arm: Arm::Bare,
                seq: i,
                pair: Some(i),
                warmup: false,
                valid: true,
                discard_reason: None,
                exit_code: Some(0),
                wall_ns: ((wall_ms + f64::from(i) * 0.1) * 1e6) as u64,
                peak_rss_bytes: Some(1 << 20),
                rss_method: None,
                tare_peak_rss_bytes: None,
                usage: Default::default(),
                artifact_bytes: 0,
                phases_ns: BTreeMap::new(),
                kernel_events: None,
                kernel_fidelity: None,
                span_fidelity: None,
                span_limits: Default::default(),
                archive: None,
            });
        }
    }
    std::fs::write(
        dir.join("experiment.toml"),
        to_toml("experiment.toml", &exp).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("host.json"),
        to_canonical_json("host.json", &host).unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("samples.jsonl"),
        to_ndjson("samples.jsonl", &samples).unwrap(),
    )
    .unwrap();
}

const HOST: &str = "linux-x86_64-6.18.0";

fn bad_input(base: &Path, cand: &Path, needles: &[&str]) {
    let o = tare(&["compare"], &[base, cand]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "stdout: {out}\nstderr: {err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` not in: {err}");
    }
    assert!(err.starts_with("tare: error: "), "{err}");
}

#[test]
fn malformed_inputs_exit_2_naming_the_file() {
    let dir = tempdir("malformed");
    let good = dir.join("good");
    write_results(&good, &[("k25", 25)], HOST, 10.0);

    let missing = dir.join("nope");
    bad_input(&good, &missing, &["cannot read", "nope"]);

    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    bad_input(
        &empty,
        &good,
        &["empty is a directory without samples.jsonl or summary.json"],
    );

    let broken = dir.join("broken");
    write_results(&broken, &[("k25", 25)], HOST, 10.0);
    let mut lines = std::fs::read_to_string(broken.join("samples.jsonl")).unwrap();
    lines = lines.replacen("\"wall_ns\":", "\"wall_ns\":\"x\",\"w\":", 2);
    std::fs::write(broken.join("samples.jsonl"), lines).unwrap();
    bad_input(
        &good,
        &broken,
        &["broken/samples.jsonl", "line 1", "wall_ns"],
    );

    let no_host = dir.join("no-host");
    write_results(&no_host, &[("k25", 25)], HOST, 10.0);
    std::fs::remove_file(no_host.join("host.json")).unwrap();
    bad_input(&no_host, &good, &["cannot read", "no-host/host.json"]);

    let host_json = good.join("host.json");
    bad_input(
        &good,
        &host_json,
        &["host.json is a tare.host.v1 file, not a summary"],
    );

    let garbage = dir.join("garbage.bundle.tar.gz");
    std::fs::write(&garbage, [0x1f, 0x8b, 0x08, 0, 1, 2, 3, 4, 5, 6]).unwrap();
    bad_input(&good, &garbage, &["garbage.bundle.tar.gz"]);

    let not_json = dir.join("notes.txt");
    std::fs::write(&not_json, "hello").unwrap();
    bad_input(&good, &not_json, &["notes.txt", "not valid JSON"]);

    let archive = dir.join("run.tar.gz");
    let bytes = bundle::pack(
        "run.tar.gz",
        ContainerKind::Archive,
        "run-1",
        vec![bundle::Member::new("x.txt", "x")],
        vec![],
    )
    .unwrap();
    std::fs::write(&archive, bytes).unwrap();
    bad_input(
        &archive,
        &good,
        &["run.tar.gz is a capture archive", "not a bench bundle"],
    );

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mismatched_inputs_and_bad_options_exit_2() {
    let dir = tempdir("mismatch");
    let a = dir.join("a");
    let b = dir.join("b");
    let c = dir.join("c");
    write_results(&a, &[("k25", 25)], HOST, 10.0);
    write_results(&b, &[("k25", 100)], HOST, 10.0);
    write_results(&c, &[("k100", 100)], HOST, 10.0);
    bad_input(
        &a,
        &b,
        &[
            "cell `k25` is not the same cell on both sides",
            "kernel_events 25 in",
        ],
    );
    bad_input(
        &a,
        &c,
        &[
            "have no cell in common",
            "base cells: k25; cand cells: k100",
        ],
    );

    for args in [
        vec!["compare", "--metric-threshold", "nope=5"],
        vec!["compare", "--metric-threshold", "wall_ms"],
        vec!["compare", "--threshold", "abc"],
        vec!["compare", "--json", "--markdown"],
    ] {
        let o = tare(&args, &[&a, &a]);
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    }
    let o = tare(&["compare", "--metric-threshold", "nope=5"], &[&a, &a]);
    assert!(text(&o).1.contains("unknown metric `nope`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_sided_cells_host_classes_and_thresholds_on_the_command_line() {
    let dir = tempdir("sides");
    let base = dir.join("base");
    let cand = dir.join("cand");
    write_results(&base, &[("k25", 25), ("old", 1)], HOST, 10.0);
    write_results(
        &cand,
        &[("k25", 25), ("new", 2)],
        "linux-aarch64-6.1.0",
        12.0,
    );

    // Across host classes a bare arm's +20% wall-clock is the machines' as much as a change:
    // shown, not judged.
    let o = tare(&["compare"], &[&base, &cand]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(out.contains("1 absolute time shown, not judged"), "{out}");
    assert!(!out.contains("regression: k25"), "{out}");

    let o = tare(&["compare", "--cross-host-times"], &[&base, &cand]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "+20% on k25/bare: {out}{err}");
    assert!(out.starts_with("tare compare\n"), "{out}");
    assert!(
        out.matches("!! HOST CLASSES DIFFER in arch x86_64 vs aarch64, kernel 6.18 vs 6.1 (base linux-x86_64-6.18.0, cand linux-aarch64-6.1.0)")
            .count()
            == 2,
        "flagged at the top and the bottom: {out}"
    );
    assert!(out.contains("note: Cell `old` is in base only"), "{out}");
    assert!(out.contains("note: Cell `new` is in cand only"), "{out}");
    assert!(out.contains("regression: k25/bare/wall_ms"), "{out}");

    let o = tare(
        &["compare", "--json", "--metric-threshold", "wall_ms=30"],
        &[&base, &cand],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).1);
    let r = json_report(&o);
    assert!(r.host_mismatch.is_some());
    assert_eq!(r.metric_thresholds[0].metric, "wall_ms");
    assert_eq!(r.cells.len(), 3);

    let o = tare(
        &["compare", "--cross-host-times", "--threshold", "25%"],
        &[&base, &cand],
    );
    assert_eq!(o.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
