//! `tare bench` on a disk that fills up (as root, a real tmpfs): it stops at the first sample
//! the full disk spoils, keeps every sample before it (samples.jsonl parses line by line, their
//! archives are there), says what to do, and `tare report` renders them once there is space.

mod common;

use std::path::Path;
use std::process::Command;

use report_model::bundle::{self, Limits};
use report_model::schema::parse_ndjson;
use report_model::schema::sample::Sample;
use report_model::schema::summary::Summary;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

/// Unmounts the tmpfs whatever the test's outcome.
struct Mounted<'a>(&'a Path);

impl Drop for Mounted<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

fn mount_tmpfs(at: &Path, options: &str) {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", options, "tmpfs"])
        .arg(at)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mount tmpfs {options} at {}", at.display());
}

#[test]
fn a_bench_on_a_full_disk_keeps_the_samples_so_far_and_says_what_to_do() {
    let d = common::scratch("fulldisk", "bench");
    let mnt = d.join("tiny");
    std::fs::create_dir_all(&mnt).unwrap();
    mount_tmpfs(&mnt, "size=256k");
    let _mounted = Mounted(&mnt);
    let out = mnt.join("res");
    let o = Command::new(TARE)
        .args(["bench", "--preset", "smoke", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(
        stderr.contains("samples before it are kept in") && stderr.contains("tare report"),
        "{stderr}"
    );

    // Every line of samples.jsonl parses; every kept capture sample's archive is whole.
    let text = std::fs::read_to_string(out.join("samples.jsonl")).unwrap();
    let samples: Vec<Sample> = parse_ndjson("samples.jsonl", &text).expect("no partial line");
    assert!(!samples.is_empty(), "{stderr}");
    let claimed = format!("the {} samples before it are kept", samples.len());
    assert!(stderr.contains(&claimed), "{claimed}: {stderr}");
    for s in samples.iter().filter(|s| s.valid) {
        if let Some(a) = &s.archive {
            let bytes = std::fs::read(out.join(a)).unwrap();
            let members = bundle::read_tar_gz(a, &bytes, &Limits::default()).unwrap();
            bundle::verify(a, &members).unwrap();
        }
    }

    // With space again, `tare report` renders a partial summary and the bundle.
    mount_tmpfs(&mnt, "remount,size=32m");
    let r = Command::new(TARE).arg("report").arg(&out).output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let summary: Summary = report_model::schema::parse_json(
        "summary.json",
        &std::fs::read_to_string(out.join("summary.json")).unwrap(),
    )
    .unwrap();
    assert!(summary.partial);
    assert!(mnt.join("res.bundle.tar.gz").is_file());
}
