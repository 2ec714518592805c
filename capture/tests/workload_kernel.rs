//! `tare workload --kernel-events`: the worker files, their sizes and content, and the split over workers.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use tare::workload::kernel::{assignment, file_content, relative_path, SWEEP_DIR};

fn scratch(name: &str) -> PathBuf {
    common::scratch("test", name)
}

fn tare(args: &[&str], env: &[(&str, &str)]) -> Output {
    common::workload(args, env)
}

fn ok_json(out: &Output) -> serde_json::Value {
    common::ok_json(out)
}

fn names_in(dir: &std::path::Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kept_files_have_the_names_sizes_and_content() {
    let dir = scratch("keep");
    let report = ok_json(&tare(
        &[
            "--kernel-events",
            "10",
            "--concurrency",
            "3",
            "--payload-bytes",
            "300",
            "--dir",
            &dir.display().to_string(),
            "--keep",
            "--json",
        ],
        &[],
    ));
    assert_eq!(report["schema"], "tare.workload.v1");
    assert_eq!(report["files_written"], 10);
    assert_eq!(report["bytes_written"], 3000);
    assert_eq!(report["bytes_read"], 3000);
    assert_eq!(report["concurrency"], 3);
    assert_eq!(report["files_per_worker"], serde_json::json!([4, 3, 3]));
    assert_eq!(report["dir"], dir.display().to_string());
    assert_eq!(report["otel_sdk"], false);

    // File i goes to worker i % 3.
    let expected: BTreeSet<String> = (0..10u64)
        .map(|i| format!("worker-{}-{i}.txt", i % 3))
        .collect();
    assert_eq!(names_in(&dir.join(SWEEP_DIR)), expected);
    for i in 0..10u64 {
        let path = dir.join(relative_path(i, 3));
        let bytes = std::fs::read(&path).expect("kept file");
        assert_eq!(bytes.len(), 300, "{}", path.display());
        assert_eq!(bytes, file_content(i, 300), "{}", path.display());
        let line = format!("tare.workload file {i}\n");
        assert!(bytes.starts_with(line.as_bytes()));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrency_splits_round_robin() {
    assert_eq!(
        assignment(10, 4),
        vec![vec![0, 4, 8], vec![1, 5, 9], vec![2, 6], vec![3, 7]]
    );
    let dir = scratch("split");
    let report = ok_json(&tare(
        &[
            "--kernel-events",
            "7",
            "--concurrency",
            "16",
            "--payload-bytes",
            "0",
            "--dir",
            &dir.display().to_string(),
            "--keep",
            "--json",
        ],
        &[],
    ));
    let per_worker: Vec<u64> = report["files_per_worker"]
        .as_array()
        .expect("files_per_worker")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    assert_eq!(per_worker.len(), 16);
    assert_eq!(per_worker.iter().sum::<u64>(), 7);
    assert!(per_worker[..7].iter().all(|&n| n == 1));
    assert!(per_worker[7..].iter().all(|&n| n == 0));
    let names = names_in(&dir.join(SWEEP_DIR));
    let expected: BTreeSet<String> = (0..7u64).map(|i| format!("worker-{i}-{i}.txt")).collect();
    assert_eq!(names, expected);
    for name in &names {
        let len = std::fs::metadata(dir.join(SWEEP_DIR).join(name))
            .expect("file")
            .len();
        assert_eq!(len, 0, "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_keep_a_given_dir_is_left_as_found() {
    let dir = scratch("given");
    std::fs::write(dir.join("mine.txt"), b"not tare's").expect("write");
    let report = ok_json(&tare(
        &[
            "--kernel-events",
            "5",
            "--dir",
            &dir.display().to_string(),
            "--json",
        ],
        &[],
    ));
    assert_eq!(report["files_written"], 5);
    assert!(report["dir"].is_null());
    assert_eq!(names_in(&dir), BTreeSet::from(["mine.txt".to_string()]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_dir_the_temp_dir_is_removed_or_kept() {
    let tmp = scratch("tmpdir");
    let tmp_s = tmp.display().to_string();
    let report = ok_json(&tare(
        &["--kernel-events", "4", "--json"],
        &[("TMPDIR", &tmp_s)],
    ));
    assert_eq!(report["files_written"], 4);
    assert!(
        names_in(&tmp).is_empty(),
        "temp dir left: {:?}",
        names_in(&tmp)
    );

    let report = ok_json(&tare(
        &["--kernel-events", "4", "--keep", "--json"],
        &[("TMPDIR", &tmp_s)],
    ));
    let kept = PathBuf::from(report["dir"].as_str().expect("kept dir"));
    assert!(kept.starts_with(&tmp), "{}", kept.display());
    assert_eq!(names_in(&kept.join(SWEEP_DIR)).len(), 4);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn an_unusable_dir_is_a_clear_bad_input_error() {
    let dir = scratch("unusable");
    let bad = common::under_a_file(&dir, "sub");
    let out = tare(
        &["--kernel-events", "1", "--dir", &bad.display().to_string()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot use directory"), "{err}");
    assert!(err.contains("choose a writable --dir"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn human_output_is_one_line() {
    let out = tare(&["--kernel-events", "3", "--concurrency", "2"], &[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("tare workload: 3 files x 128 bytes written and read back by 2 workers"),
        "{text}"
    );
    assert!(text.contains("no OTel SDK"), "{text}");
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--concurrency", "0"][..],
        &["--kernel-events", "-1"][..],
        &["--payload-bytes", "lots"][..],
    ] {
        let out = tare(args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
