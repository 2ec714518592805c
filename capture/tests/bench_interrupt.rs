//! Ctrl-C during `tare bench`: it stops after the current sample and still writes a valid,
//! partial summary and bundle (as root). The SIGINT goes to bench's whole process group, as a
//! terminal's Ctrl-C does: the running sample is in a group of its own and finishes.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;
use report_model::schema::{parse_json, parse_ndjson};

const TARE: &str = env!("CARGO_BIN_EXE_tare");

#[test]
fn sigint_stops_after_the_current_sample_with_a_partial_summary() {
    let dir = std::env::temp_dir().join(format!("tare-int-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("res");
    let mut child = Command::new(TARE)
        .args([
            "bench", "--preset", "smoke", "--n", "30", "--quiet", "--out",
        ])
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let samples_file = out.join("samples.jsonl");
    loop {
        let lines = std::fs::read_to_string(&samples_file)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 6 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "bench produced no samples"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling our own child's process group (it leads it), like a terminal does.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut stdout).unwrap();
    assert_eq!(status.code(), Some(130), "partial runs exit 130: {stdout}");

    let samples: Vec<Sample> = parse_ndjson(
        "samples.jsonl",
        &std::fs::read_to_string(&samples_file).unwrap(),
    )
    .unwrap();
    assert!(samples.len() < 2 * 4 * 31, "it stopped early");
    assert!(
        samples.iter().all(|s| s.valid),
        "the sample running at Ctrl-C finished normally"
    );
    let summary: Summary = parse_json(
        "summary.json",
        &std::fs::read_to_string(out.join("summary.json")).unwrap(),
    )
    .unwrap();
    assert!(summary.partial);
    assert!(summary.not_shown[0].contains("stopped early"));
    assert!(dir.join("res.bundle.tar.gz").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_ctrl_c_stops_the_running_sample_too() {
    let dir = std::env::temp_dir().join(format!("tare-int2-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let exp = dir.join("long.toml");
    // One arm whose sample would take 37 s (plain words: run without a shell).
    std::fs::write(
        &exp,
        r#"schema = "tare.experiment.v1"
name = "long"
tier = "smoke"
n = 2
warmups = 0
timeout_s = 60
arms = ["bare"]

[commands]
bare = "sleep 37.125"

[[cells]]
id = "k0"
kernel_events = 0
span_events = 0
"#,
    )
    .unwrap();
    let out = dir.join("res");
    let mut child = Command::new(TARE)
        .args(["bench", "--quiet", "--out"])
        .arg(&out)
        .arg(&exp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let sleeping = || {
        Command::new("pgrep")
            .args(["-f", "sleep 37.125"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    let started = Instant::now();
    while !sleeping() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the sample never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let group = -(child.id() as i32);
    // SAFETY: signalling our own child's process group, like a terminal's Ctrl-C.
    unsafe { libc::kill(group, libc::SIGINT) };
    std::thread::sleep(Duration::from_millis(300));
    assert!(sleeping(), "one Ctrl-C lets the running sample go on");
    // SAFETY: as above.
    unsafe { libc::kill(group, libc::SIGINT) };
    let status = child.wait().unwrap();
    let waited = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        waited < Duration::from_secs(20),
        "stopped at once: {waited:?}"
    );
    assert!(stderr.contains("Ctrl-C again to stop it now"), "{stderr}");
    assert!(!sleeping(), "the sample's process is gone");

    let samples: Vec<Sample> = parse_ndjson(
        "samples.jsonl",
        &std::fs::read_to_string(out.join("samples.jsonl")).unwrap(),
    )
    .unwrap();
    assert_eq!(samples.len(), 1, "{samples:?}");
    assert!(!samples[0].valid);
    assert_eq!(
        samples[0].discard_reason.as_deref(),
        Some("stopped by a second Ctrl-C")
    );
    let summary: Summary = parse_json(
        "summary.json",
        &std::fs::read_to_string(out.join("summary.json")).unwrap(),
    )
    .unwrap();
    assert!(summary.partial);
    let _ = std::fs::remove_dir_all(&dir);
}
