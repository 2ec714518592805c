//! Helpers shared by the integration tests: fresh scratch directories and unique run ids.
#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

static RUN: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty directory `tare-<suite>-<name>-<pid>` under the system temp dir.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tare-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// A run id (and so a cgroup name) no other test of this process uses.
pub fn run_id(suite: &str, name: &str) -> String {
    format!(
        "{suite}-{name}-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::SeqCst)
    )
}

/// A path in `dir` whose parent is a regular file: nothing can be created there.
pub fn under_a_file(dir: &std::path::Path, leaf: &str) -> PathBuf {
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, b"x").expect("write");
    blocker.join(leaf)
}

/// `tare workload ARGS` with `env` set (and OTEL_SPAN_EVENT_COUNT_LIMIT unset unless given:
/// the test's own environment must not choose the limit).
pub fn workload(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tare"));
    cmd.arg("workload").args(args);
    cmd.env_remove("OTEL_SPAN_EVENT_COUNT_LIMIT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run tare")
}

/// The one JSON line of a successful `tare workload --json`.
pub fn ok_json(out: &std::process::Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tare workload failed: {:?}\nstdout: {text}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(text.trim()).expect("stdout is JSON")
}

/// `tare bench --quiet --out OUT EXPERIMENT`.
pub fn bench(experiment: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tare"))
        .args(["bench", "--quiet", "--out"])
        .arg(out)
        .arg(experiment)
        .output()
        .expect("run tare bench")
}

/// Whether the tests run as root (the kernel tests need it, and skip without).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `tare capture --out OUT EXTRA -- ARGV`; its stderr, once the archive is there.
pub fn capture(out: &std::path::Path, extra: &[&str], argv: &[&str]) -> String {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tare"))
        .arg("capture")
        .arg("--out")
        .arg(out)
        .args(extra)
        .arg("--")
        .args(argv)
        .output()
        .expect("run tare");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(out.exists(), "no archive: {stderr}");
    stderr
}

/// An archive's run.json and health.json, after checking it verifies.
pub fn run_and_health(
    path: &std::path::Path,
) -> (
    report_model::schema::run::Run,
    report_model::schema::health::Health,
) {
    use report_model::bundle::{self, member_text, Limits};
    use report_model::schema::parse_json;
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).expect("read");
    bundle::verify("a", &members).expect("verifies");
    let run = parse_json("run.json", member_text("a", &members, "run.json").unwrap()).unwrap();
    let health = parse_json(
        "health.json",
        member_text("a", &members, "health.json").unwrap(),
    )
    .unwrap();
    (run, health)
}
