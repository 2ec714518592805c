//! The resource timeline (as root, real kernel): metrics.ndjson in the archive, read back through report-model.

mod common;

use std::path::PathBuf;
use std::process::Command;

use report_model::bundle::{self, member_text, Limits};
use report_model::render::charts::timeline_svg;
use report_model::schema::metrics::{MetricsSample, METRICS_SCHEMA};
use report_model::schema::parse_json;
use report_model::schema::parse_ndjson;
use report_model::schema::phases::Phases;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

fn scratch(name: &str) -> PathBuf {
    common::scratch("tmetrics", name)
}

#[test]
fn a_one_second_child_has_a_timeline_of_at_least_three_samples() {
    let d = scratch("sleep");
    let out = d.join("a.tar.gz");
    let o = Command::new(TARE)
        .args(["capture", "--quiet", "--out"])
        .arg(&out)
        .args(["--", "sh", "-c", "sleep 1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let bytes = std::fs::read(&out).unwrap();
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).unwrap();
    let manifest = bundle::verify("a", &members).unwrap();
    let listed = manifest
        .members
        .iter()
        .find(|m| m.path == "metrics.ndjson")
        .expect("metrics.ndjson is in the manifest");
    assert_eq!(listed.schema.as_deref(), Some(METRICS_SCHEMA));

    let text = member_text("a", &members, "metrics.ndjson").unwrap();
    let samples: Vec<MetricsSample> = parse_ndjson("metrics.ndjson", text).unwrap();
    assert!(samples.len() >= 3, "{} samples: {text}", samples.len());
    assert!(samples.len() <= 6, "one every 250 ms over ~1 s: {text}");

    // On the clock of phases.json, inside child_runtime, about 250 ms apart.
    let phases: Phases = parse_json(
        "phases.json",
        member_text("a", &members, "phases.json").unwrap(),
    )
    .unwrap();
    let rt = phases
        .phases
        .iter()
        .find(|p| p.name == "child_runtime")
        .unwrap();
    let spawn = phases
        .phases
        .iter()
        .find(|p| p.name == "child_spawn")
        .unwrap();
    for s in &samples {
        assert!(s.t_ns >= spawn.start_ns, "{s:?}");
        assert!(s.t_ns <= rt.start_ns + rt.duration_ns, "{s:?}");
    }
    for w in samples.windows(2) {
        let gap = w[1].t_ns - w[0].t_ns;
        assert!((200_000_000..=400_000_000).contains(&gap), "gap {gap}");
    }
    // While `sleep` runs: sh and sleep (or sleep alone, if sh exec'd it), with memory.
    let mid = &samples[samples.len() / 2];
    assert!((1..=2).contains(&mid.pids), "{mid:?}");
    assert!(mid.threads >= mid.pids as u64 && mid.fds >= 3, "{mid:?}");
    assert!(mid.rss_bytes > 0 && mid.memory_bytes > 0, "{mid:?}");
    assert!(samples.iter().skip(1).all(|s| s.cpu_percent.is_some()));
    // Sleeping costs next to no CPU.
    assert!(mid.cpu_percent.unwrap() < 20.0, "{mid:?}");

    // The timeline chart draws it.
    let svg = timeline_svg("a", &samples);
    assert!(svg.contains(&format!("{} samples; peaks", samples.len())));

    // `tare report ARCHIVE` draws the same chart beside the archive and prints the peaks.
    let o = Command::new(TARE).arg("report").arg(&out).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let written = std::fs::read_to_string(d.join("a.timeline.svg")).unwrap();
    assert_eq!(written, timeline_svg(&manifest.id, &samples));
    let peaks = report_model::analysis::timeline::peaks(&samples).unwrap();
    assert!(
        stdout.starts_with(&format!("{}: {}", manifest.id, peaks.line())),
        "{stdout}"
    );
    assert!(stdout.contains("a.timeline.svg"), "{stdout}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn report_refuses_what_is_not_a_capture_archive_with_metrics() {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bundles");
    for (file, needle) in [
        ("smoke.bundle.tar.gz", "is a bundle, not a capture archive"),
        ("capture.archive.tar.gz", "has no metrics.ndjson"),
        ("malformed.tar.gz", "damaged tar.gz"),
    ] {
        let o = Command::new(TARE)
            .arg("report")
            .arg(fixtures.join(file))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains(file),
            "{file}: {stderr}"
        );
    }
    assert!(!fixtures.join("capture.archive.timeline.svg").exists());
}

#[test]
fn a_busy_child_shows_cpu_use() {
    let d = scratch("busy");
    let out = d.join("a.tar.gz");
    let o = Command::new(TARE)
        .args(["capture", "--quiet", "--sample-interval", "100ms", "--out"])
        .arg(&out)
        .args([
            "--",
            "sh",
            "-c",
            // Busy for 0.8 s by the wall clock, whatever the machine's speed.
            "ms() { echo $(($(date +%s%N) / 1000000)); }; end=$(($(ms) + 800)); while [ $(ms) -lt $end ]; do :; done",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).unwrap();
    let samples: Vec<MetricsSample> = parse_ndjson(
        "metrics.ndjson",
        member_text("a", &members, "metrics.ndjson").unwrap(),
    )
    .unwrap();
    assert!(samples.len() >= 3, "{samples:?}");
    let peak = samples
        .iter()
        .filter_map(|s| s.cpu_percent)
        .fold(0.0, f64::max);
    assert!(peak > 30.0, "a busy loop uses CPU: {samples:?}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_sample_interval_below_the_floor_is_refused() {
    let o = Command::new(TARE)
        .args(["capture", "--sample-interval", "50ms", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("below the floor of 100 ms"), "{err}");
}
