//! A real smoke bench end to end (as root): every file is written and parses through
//! report-model, and `tare report` re-renders the same bytes from samples.jsonl alone.

use std::path::Path;
use std::process::Command;

use report_model::bundle::{self, Limits};
use report_model::render::bmf;
use report_model::schema::experiment::{Arm, Experiment};
use report_model::schema::host::Host;
use report_model::schema::sample::{LimitSource, RetentionPattern, Sample};
use report_model::schema::summary::Summary;
use report_model::schema::{parse_json, parse_ndjson, parse_toml};

const TARE: &str = env!("CARGO_BIN_EXE_tare");

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn smoke_bench_writes_every_file_and_report_reproduces_it() {
    let tmp = tempdir();
    let out = tmp.join("smoke");
    let run = Command::new(TARE)
        .args([
            "bench",
            "--preset",
            "smoke",
            "--n",
            "2",
            "--warmups",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bench failed: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("k25-s25: bare median"), "{stdout}");

    let exp: Experiment =
        parse_toml("experiment.toml", &read(&out.join("experiment.toml"))).unwrap();
    assert_eq!(exp.n, 2, "experiment.toml is the experiment as run");
    let host: Host = parse_json("host.json", &read(&out.join("host.json"))).unwrap();
    assert!(host.host_class.starts_with("linux-"));
    let samples: Vec<Sample> =
        parse_ndjson("samples.jsonl", &read(&out.join("samples.jsonl"))).unwrap();
    assert_eq!(
        samples.len(),
        2 * 4 * (2 + 1),
        "2 cells x 4 arms x (2 blocks + 1 warm-up)"
    );
    assert!(
        samples.iter().all(|s| s.valid),
        "{:?}",
        samples.iter().find(|s| !s.valid)
    );
    for s in samples.iter().filter(|s| s.arm.captures()) {
        let f = s.kernel_fidelity.as_ref().unwrap();
        assert_eq!(
            f.unique_worker_files, f.target,
            "capture saw every worker file"
        );
        assert!(s.phases_ns.contains_key("monitor_attach"));
        assert!(out.join(s.archive.as_deref().unwrap()).is_file());
    }
    let summary: Summary = parse_json("summary.json", &read(&out.join("summary.json"))).unwrap();
    assert_eq!(summary.cells.len(), 2);
    assert!(!summary.partial);
    let lossy = &summary.cells[1].fidelity;
    assert_eq!(
        (lossy.span_target, lossy.span_retained, lossy.pattern),
        (500, Some(128), Some(RetentionPattern::OldestKept)),
        "the Rust SDK keeps the first 128 span events"
    );
    assert_eq!(lossy.retained_ranges, vec![[0, 127]]);
    // The limit the workload declared in its trace, and where it came from: the SDK's own
    // default, which the SDK reports itself (opentelemetry_sdk's SpanLimits::default()).
    assert_eq!(
        (lossy.effective_limit, lossy.limit_source),
        (
            Some(u64::from(
                opentelemetry_sdk::trace::SpanLimits::default().max_events_per_span
            )),
            Some(LimitSource::Default)
        )
    );
    assert_eq!(
        summary.cells[0].arms.keys().copied().collect::<Vec<_>>(),
        Arm::ALL.to_vec()
    );
    let md = read(&out.join("summary.md"));
    assert!(md.contains("```mermaid") && md.contains("What this does not show"));
    let bmf_file = bmf::to_bmf(&summary);
    assert_eq!(report_model::render::bmf::to_bmf(&summary), bmf_file);
    assert!(read(&out.join("bmf.json")).contains("k25-s25/bare"));
    for chart in ["deltas.svg", "phases.svg", "retention.svg", "rss.svg"] {
        assert!(
            read(&out.join("charts").join(chart)).starts_with("<svg"),
            "{chart}"
        );
    }
    let bundle_path = tmp.join("smoke.bundle.tar.gz");
    let bundle_bytes = std::fs::read(&bundle_path).unwrap();
    let members = bundle::read_tar_gz("bundle", &bundle_bytes, &Limits::browser()).unwrap();
    let manifest = bundle::verify("bundle", &members).unwrap();
    for needed in [
        "summary.json",
        "samples.jsonl",
        "experiment.toml",
        "host.json",
        "summary.md",
        "bmf.json",
    ] {
        assert!(
            manifest.members.iter().any(|m| m.path == needed),
            "bundle lacks {needed}"
        );
    }
    assert!(manifest
        .members
        .iter()
        .any(|m| m.path.starts_with("archives/")));

    // Re-render from the samples alone: identical bytes.
    let before: Vec<(String, Vec<u8>)> = rendered_files(&out);
    for (name, _) in &before {
        std::fs::remove_file(out.join(name)).unwrap();
    }
    std::fs::remove_file(&bundle_path).unwrap();
    let report = Command::new(TARE).arg("report").arg(&out).output().unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert_eq!(
        rendered_files(&out),
        before,
        "tare report must reproduce tare bench's files"
    );
    assert_eq!(
        std::fs::read(&bundle_path).unwrap(),
        bundle_bytes,
        "and the same bundle"
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

fn rendered_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut names = vec![
        "summary.json".to_string(),
        "summary.md".into(),
        "bmf.json".into(),
    ];
    let mut charts: Vec<String> = std::fs::read_dir(dir.join("charts"))
        .unwrap()
        .map(|e| format!("charts/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    charts.sort();
    names.extend(charts);
    names
        .into_iter()
        .map(|n| (n.clone(), std::fs::read(dir.join(&n)).unwrap()))
        .collect()
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tare-bench-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
