//! tare's memory and CPU figures held against GNU time (`/usr/bin/time`, Debian's `time`) in
//! the same run: the workload's peak RSS and CPU in `tare capture` and in a bench's bare and
//! capture arms, tare's own peak RSS, CPU and whole wall-clock at 1M events, and the first
//! event of a capture. Real kernel, real tools; needs root.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use report_model::bundle::{self, member_text, Limits};
use report_model::schema::experiment::Arm;
use report_model::schema::health::{Health, TareSetup};
use report_model::schema::kernel_event::{EventDetail, KernelEvent};
use report_model::schema::run::Run;
use report_model::schema::sample::Sample;
use report_model::schema::usage::RssMethod;
use report_model::schema::{parse_json, parse_ndjson};

const TARE: &str = env!("CARGO_BIN_EXE_tare");
const GNU_TIME: &str = "/usr/bin/time";

/// A Python process holding a 50 MiB bytearray, every page touched.
const PY_50M: &str = "b = bytearray(50 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1";
/// About half a second of CPU in user space.
const PY_CPU: &str =
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass";

/// What GNU time wrote with `-f "%M %U %S %e"`: max RSS bytes, user+sys seconds, elapsed.
#[derive(Debug, Clone, Copy)]
struct Gnu {
    rss_bytes: u64,
    cpu_s: f64,
    elapsed_s: f64,
}

fn gnu_lines(path: &Path) -> Vec<Gnu> {
    let text = std::fs::read_to_string(path).expect("GNU time's output (is `time` installed?)");
    text.lines()
        .filter(|l| !l.starts_with("Command"))
        .map(|l| {
            let f: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            Gnu {
                rss_bytes: f[0] as u64 * 1024,
                cpu_s: f[1] + f[2],
                elapsed_s: f[3],
            }
        })
        .collect()
}

fn gnu_argv(out: &Path) -> Vec<String> {
    [
        GNU_TIME,
        "-a",
        "-o",
        &out.display().to_string(),
        "-f",
        "%M %U %S %e",
    ]
    .map(String::from)
    .to_vec()
}

fn within(what: &str, got: f64, reference: f64, pct: f64) {
    let off = (got - reference).abs() / reference * 100.0;
    assert!(
        off <= pct,
        "{what}: tare says {got}, the reference {reference}: {off:.1}% apart (at most {pct}%)"
    );
}

/// `tare capture --out ARCHIVE -- ARGV`: its stderr, and the archive's run.json and events.
fn capture(dir: &Path, name: &str, argv: &[String]) -> (String, Run, Vec<KernelEvent>) {
    let archive = dir.join(format!("{name}.tar.gz"));
    let out = Command::new(TARE)
        .args(["capture", "--out"])
        .arg(&archive)
        .arg("--")
        .args(argv)
        .output()
        .expect("run tare capture");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "capture failed: {stderr}");
    let (run, events) = read_archive(&archive);
    (stderr, run, events)
}

fn read_archive(path: &Path) -> (Run, Vec<KernelEvent>) {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).unwrap();
    let members = bundle::read_tar_gz(&name, &bytes, &Limits::default()).unwrap();
    bundle::verify(&name, &members).unwrap();
    let run: Run = parse_json(
        "run.json",
        member_text(&name, &members, "run.json").unwrap(),
    )
    .unwrap();
    let events = bundle::member_kernel_events(&name, &members)
        .unwrap()
        .expect("kernel events");
    (run, events)
}

fn py(code: &str) -> Vec<String> {
    vec!["/usr/bin/python3".into(), "-c".into(), code.into()]
}

/// The three workloads of the memory check: one big process, tare's own workload, a tree.
fn memory_workloads() -> Vec<(&'static str, Vec<String>, u32)> {
    // The full path: a `python3` found in PATH may be a version manager's shim, a tree of its own.
    let tree = "/usr/bin/python3 -c 'b = bytearray(30 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1' & \
                /usr/bin/python3 -c 'b = bytearray(12 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1' & wait";
    vec![
        ("python-50m", py(PY_50M), 1),
        (
            "tare-workload",
            [
                TARE,
                "workload",
                "--kernel-events",
                "200",
                "--concurrency",
                "2",
            ]
            .map(String::from)
            .to_vec(),
            1,
        ),
        (
            "tree-of-three",
            ["/bin/sh", "-c", tree].map(String::from).to_vec(),
            3,
        ),
    ]
}

#[test]
fn capture_peak_rss_and_cpu_agree_with_gnu_time() {
    let dir = common::scratch("usage", "capture");
    for (name, argv, procs) in memory_workloads() {
        let gnu_out = dir.join(format!("{name}.gnu"));
        let mut wrapped = gnu_argv(&gnu_out);
        wrapped.extend(argv);
        let (_, run, _) = capture(&dir, name, &wrapped);
        let gnu = gnu_lines(&gnu_out)[0];
        let peak = &run.workload_peak_rss;
        assert_eq!(peak.method, RssMethod::TaskstatsHiwater, "{name}");
        within(
            &format!("{name} peak RSS"),
            peak.bytes as f64,
            gnu.rss_bytes as f64,
            5.0,
        );
        // GNU time itself is a process of the tree: it, then the command's processes.
        assert_eq!(peak.processes, Some(1 + procs), "{name}");
        assert!(peak.sum_bytes.unwrap() >= peak.bytes, "{name}");
        // Charged memory is reported apart and under its own name.
        assert!(run.workload_memory_peak.is_some(), "{name}");
    }
    // CPU of a CPU-bound half second.
    let gnu_out = dir.join("cpu.gnu");
    let mut wrapped = gnu_argv(&gnu_out);
    wrapped.extend(py(PY_CPU));
    let (_, run, _) = capture(&dir, "cpu", &wrapped);
    let gnu = gnu_lines(&gnu_out)[0];
    let cpu = run.workload_cpu.expect("workload CPU");
    within("workload CPU", cpu.total_ns() as f64 / 1e9, gnu.cpu_s, 10.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_first_event_of_a_capture_is_the_exec_of_its_command() {
    let dir = common::scratch("usage", "first");
    let (_, _, events) = capture(&dir, "true", &["/bin/true".to_string()]);
    let first = events.first().expect("events");
    assert!(
        matches!(&first.detail, EventDetail::Exec { filename, .. } if filename == "/bin/true"),
        "the first event is {first:?}: tare's own setup must not be the workload's"
    );
    assert!(
        events.iter().all(|e| e.comm != "tare"),
        "no event of tare's own"
    );
    let archive = dir.join("true.tar.gz");
    let name = archive.display().to_string();
    let bytes = std::fs::read(&archive).unwrap();
    let members = bundle::read_tar_gz(&name, &bytes, &Limits::default()).unwrap();
    let text = member_text(&name, &members, "health.json").unwrap();
    let health: Health = parse_json("health.json", text).unwrap();
    assert_eq!(
        health.tare_setup,
        Some(TareSetup::BeforeCapture),
        "health.json says so"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tare_kernel_memory_follows_the_ring_buffer_size() {
    let dir = common::scratch("usage", "kmem");
    let kernel_bytes = |ring: u32| {
        let archive = dir.join(format!("r{ring}.tar.gz"));
        let out = Command::new(TARE)
            .args([
                "capture",
                "--quiet",
                "--ringbuf-bytes",
                &ring.to_string(),
                "--out",
            ])
            .arg(&archive)
            .args(["--", "/bin/true"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        read_archive(&archive)
            .0
            .tare_kernel_bytes
            .expect("tare_kernel_bytes")
    };
    let (small, big) = (kernel_bytes(1 << 20), kernel_bytes(4 << 20));
    assert!(
        small >= 1 << 20,
        "the 1 MiB ring buffer is counted: {small}"
    );
    // The ring grew by 3 MiB, the other maps stayed: within 1% (the ring's page array grows too).
    let grew = big - small;
    assert!(
        grew.abs_diff(3 << 20) <= (3 << 20) / 100,
        "4 MiB vs 1 MiB ring: {grew} bytes more, expected 3 MiB"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn at_1m_events_tare_reports_its_own_peak_cpu_and_total_as_gnu_time_sees_them() {
    let dir = common::scratch("usage", "self");
    let gnu_out = dir.join("tare.gnu");
    let archive = dir.join("1m.tar.gz");
    let t0 = Instant::now();
    let out = Command::new(GNU_TIME)
        .args(["-o"])
        .arg(&gnu_out)
        // A ring that holds bursts: tests share the two cores with other tests.
        .args([
            "-f",
            "%M %U %S %e",
            TARE,
            "capture",
            "--ringbuf-bytes",
            "33554432",
            "--out",
        ])
        .arg(&archive)
        .args([
            "--",
            "dd",
            "if=/dev/zero",
            "of=/dev/null",
            "bs=1",
            "count=1000000",
            "status=none",
        ])
        .output()
        .unwrap();
    let outside_s = t0.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let gnu = gnu_lines(&gnu_out)[0];
    let (run, events) = read_archive(&archive);
    // The workload makes 1M events. This test is about the usage figures, which drops do
    // not change; on a starved machine the ring can still overflow, and every event the
    // kernel saw is then either in the archive or counted as dropped.
    let dropped: usize = stderr
        .split(" dropped")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        events.len() + dropped >= 1_000_000,
        "{} events, {dropped} dropped: {stderr}",
        events.len()
    );
    // Peak RSS: read after the kernel events went into the archive.
    within(
        "tare's peak RSS",
        run.tare_peak_rss_bytes as f64,
        gnu.rss_bytes as f64,
        10.0,
    );
    // CPU: GNU time counts tare and its workload together.
    let cpu = run.workload_cpu.unwrap().total_ns() + {
        let t = run.tare_cpu.unwrap();
        t.user_ns + t.sys_ns
    };
    within("tare + workload CPU", cpu as f64 / 1e9, gnu.cpu_s, 10.0);
    // The summary line's total is the whole process, as the wall clock outside sees it.
    let total_ms: f64 = stderr
        .split("total ")
        .nth(1)
        .and_then(|s| s.split(" ms").next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no total in: {stderr}"));
    within("total", total_ms / 1e3, outside_s, 5.0);
    within("total vs GNU time", total_ms / 1e3, gnu.elapsed_s, 5.0);
    assert!(
        stderr.contains("archive "),
        "archive_write is on the summary line: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bench_bare_and_capture_arms_agree_with_gnu_time() {
    let dir = common::scratch("usage", "bench");
    let gnu_out = dir.join("samples.gnu");
    let gnu = format!("{GNU_TIME} -a -o {} -f '%M %U %S %e'", gnu_out.display());
    let script = dir.join("alloc.py");
    std::fs::write(&script, PY_50M).unwrap();
    let exp = dir.join("usage.toml");
    std::fs::write(
        &exp,
        format!(
            r#"schema = "tare.experiment.v1"
name = "usage-reference"
n = 2
warmups = 0
timeout_s = 60
arms = ["bare", "a"]

[[cells]]
id = "py50m"

[commands]
bare = "{gnu} /usr/bin/python3 {py}"
a = "{gnu} /usr/bin/python3 {py}"
"#,
            py = script.display(),
        ),
    )
    .unwrap();
    let out = dir.join("res");
    let run = common::bench(&exp, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let samples: Vec<Sample> = parse_ndjson("samples.jsonl", &text).unwrap();
    let gnu = gnu_lines(&gnu_out);
    assert_eq!(
        samples.len(),
        gnu.len(),
        "one GNU time line per sample, in order"
    );
    for (s, g) in samples.iter().zip(&gnu) {
        assert!(s.valid, "{s:?}");
        let what = format!("sample {} ({})", s.seq, s.arm.as_str());
        assert_eq!(s.rss_method, Some(RssMethod::TaskstatsHiwater), "{what}");
        within(
            &format!("{what} peak RSS"),
            s.peak_rss_bytes.unwrap() as f64,
            g.rss_bytes as f64,
            5.0,
        );
        assert!(
            s.usage.memory_peak_bytes.is_some(),
            "{what}: charged memory"
        );
        assert!(s.usage.cpu_ns().is_some(), "{what}: CPU");
        if s.arm == Arm::A {
            // tare's own cost, measured from outside the `tare capture` process.
            assert!(s.usage.tare_cpu_ns().unwrap() > 0, "{what}: tare's CPU");
            assert!(
                s.tare_peak_rss_bytes.unwrap() > 4 << 20,
                "{what}: tare's RSS"
            );
            assert!(
                s.usage.tare_kernel_bytes.unwrap() > 0,
                "{what}: tare's maps"
            );
        } else {
            assert_eq!(s.usage.tare_cpu_ns(), None, "{what}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
