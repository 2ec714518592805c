//! Ctrl-C during `tare bench`: it stops after the current sample and still writes a valid,
//! partial summary and bundle (as root).

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
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
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
