//! Session cgroups and spawning into them, on the real kernel (needs root).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tare::cgroup::{find_cgroup2_mount, CgroupError, PeakMemorySource, SessionCgroup};
use tare::spawn::{prepare, run_to_end, spawn_into};

use common::is_root;

macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipped: cgroup tests need root");
            return;
        }
    };
}

fn run_id(name: &str) -> String {
    common::run_id("test-cg", name)
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("kc", name)
}

fn argv(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn mount() -> PathBuf {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    find_cgroup2_mount(&mi).expect("a cgroup2 mount")
}

#[test]
fn create_gives_id_level_and_paths_then_remove_cleans_up() {
    require_root!();
    let id = run_id("create");
    let cg = SessionCgroup::create(&id).expect("create");
    let m = mount();
    assert_eq!(cg.path(), m.join("tare").join(&id));
    use std::os::unix::fs::MetadataExt;
    assert_eq!(cg.id(), std::fs::metadata(cg.path()).expect("stat").ino());
    // The root cgroup is level 0; <mount>/tare/<id> is level 2 (mount root "/").
    assert_eq!(cg.level(), 2);
    assert!(cg.is_empty());
    let procs = cg.join_files();
    assert_eq!(
        procs.last(),
        Some(&cg.path().join("cgroup.procs")),
        "cgroup2 joined last"
    );
    match cg.peak_memory() {
        PeakMemorySource::V2MemoryPeak(p) => assert!(p.starts_with(cg.path())),
        PeakMemorySource::V1MaxUsage(p) => {
            assert!(p.ends_with(
                Path::new("tare")
                    .join(&id)
                    .join("memory.max_usage_in_bytes")
            ));
            assert_eq!(procs.len(), 2);
            assert!(
                procs[0].ends_with("tasks"),
                "v1 joined per thread: {procs:?}"
            );
            assert!(
                procs[0].ends_with("tasks"),
                "v1 joined per thread: {procs:?}"
            );
        }
        PeakMemorySource::None => {}
    }
    let v1 = cg.v1_memory_path().map(Path::to_path_buf);
    // The same run id twice is refused.
    assert!(matches!(
        SessionCgroup::create(&id),
        Err(CgroupError::Exists(_))
    ));
    assert!(matches!(
        SessionCgroup::create("../x"),
        Err(CgroupError::BadRunId(_))
    ));
    let path = cg.path().to_path_buf();
    cg.remove().expect("remove");
    assert!(!path.exists());
    if let Some(v1) = v1 {
        assert!(!v1.exists(), "the v1 memory cgroup is removed too");
    }
}

#[test]
fn tare_dir_goes_with_its_last_session_and_comes_back_for_the_next() {
    require_root!();
    let parent = mount().join("tare");
    let a = SessionCgroup::create(&run_id("last-a")).expect("create a");
    let b = SessionCgroup::create(&run_id("last-b")).expect("create b");
    let v1_parent = a
        .v1_memory_path()
        .and_then(Path::parent)
        .map(Path::to_path_buf);
    a.remove().expect("remove a");
    assert!(parent.is_dir(), "tare/ stays while a session is in it");
    b.remove().expect("remove b");
    assert!(
        !parent.exists(),
        "tare/ (and what tare enabled in it) is gone with the last session"
    );
    if let Some(p) = v1_parent {
        assert!(!p.exists(), "so is the v1 memory tare/");
    }
    let c = SessionCgroup::create(&run_id("last-c")).expect("tare/ is made again");
    assert!(c.path().starts_with(&parent));
    c.remove().expect("remove c");
}

#[test]
fn child_is_in_the_cgroup_before_exec() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("joined")).expect("create");
    let dir = scratch("joined");
    let out = dir.join("cgroup.txt");
    // The first thing the exec'd shell does is read its own cgroup membership.
    let cmd = format!("cat /proc/self/cgroup > {}", out.display());
    let ended = run_to_end(
        &argv(&["/bin/sh", "-c", &cmd]),
        &cg,
        Duration::from_secs(10),
        None,
    )
    .expect("run");
    assert_eq!(ended.code, Some(0));
    let text = std::fs::read_to_string(&out).expect("output");
    let rel = cg.path().strip_prefix(mount()).expect("below mount");
    let v2_line = format!("0::/{}", rel.display());
    assert!(
        text.lines().any(|l| l == v2_line),
        "{v2_line:?} not in\n{text}"
    );
    if let Some(v1) = cg.v1_memory_path() {
        let rel = v1
            .strip_prefix("/sys/fs/cgroup/memory")
            .expect("v1 below its mount");
        assert!(
            text.lines()
                .any(|l| l.ends_with(&format!(":memory:/{}", rel.display()))),
            "{text}"
        );
    }
    cg.remove().expect("remove");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exit_codes_signals_timeouts_and_rusage() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("exits")).expect("create");
    let e = run_to_end(
        &argv(&["/bin/sh", "-c", "exit 42"]),
        &cg,
        Duration::from_secs(10),
        None,
    )
    .expect("run");
    assert_eq!((e.code, e.signal, e.timed_out), (Some(42), None, false));
    assert!(e.max_rss_kb > 0);
    let e = run_to_end(
        &argv(&["/bin/sh", "-c", "kill -TERM $$"]),
        &cg,
        Duration::from_secs(10),
        None,
    )
    .expect("run");
    assert_eq!((e.code, e.signal), (None, Some(libc::SIGTERM)));
    assert_eq!(e.shell_status(), 128 + libc::SIGTERM);
    let t = Instant::now();
    let e = run_to_end(
        &argv(&["/bin/sleep", "30"]),
        &cg,
        Duration::from_millis(200),
        None,
    )
    .expect("run");
    assert!(e.timed_out);
    assert_eq!(e.signal, Some(libc::SIGKILL));
    assert!(t.elapsed() < Duration::from_secs(5));
    // A command that does not exist fails at spawn, clearly.
    let err =
        spawn_into(&argv(&["/nonexistent/tare-cmd"]), &cg, true).expect_err("no such command");
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    cg.remove().expect("remove");
}

#[test]
fn async_wait_with_timeout() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("async")).expect("create");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let mut c = spawn_into(&argv(&["/bin/sh", "-c", "exit 3"]), &cg, true).expect("spawn");
        let e = c
            .wait_with(Some(Duration::from_secs(10)))
            .await
            .expect("wait");
        assert_eq!(e.code, Some(3));
        let mut c = spawn_into(&argv(&["/bin/sleep", "30"]), &cg, true).expect("spawn");
        let e = c
            .wait_with(Some(Duration::from_millis(100)))
            .await
            .expect("wait");
        assert!(e.timed_out && e.signal == Some(libc::SIGKILL), "{e:?}");
    });
    cg.remove().expect("remove");
}

#[test]
fn a_dropped_prepared_child_never_runs() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("dropped")).expect("create");
    let dir = scratch("dropped");
    let marker = dir.join("ran");
    let p = prepare(
        &argv(&["/usr/bin/touch", &marker.display().to_string()]),
        &cg,
        true,
    )
    .expect("prepare");
    std::thread::sleep(Duration::from_millis(20));
    drop(p);
    std::thread::sleep(Duration::from_millis(20));
    assert!(!marker.exists(), "the parked child exec'd without start()");
    assert!(cg.is_empty(), "the parked child is gone");
    // And a started one does run.
    let mut c = prepare(
        &argv(&["/usr/bin/touch", &marker.display().to_string()]),
        &cg,
        true,
    )
    .expect("prepare")
    .start()
    .expect("start");
    assert_eq!(c.wait_blocking(None).expect("wait").code, Some(0));
    assert!(marker.exists());
    cg.remove().expect("remove");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn leftovers_are_killed_and_subcgroups_removed() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("leftover")).expect("create");
    // The workload daemonizes a sleeper and makes a child cgroup of its own.
    let sub = cg.path().join("workload-sub");
    let cmd = format!("mkdir {} && (sleep 60 &) ; exit 0", sub.display());
    let e = run_to_end(
        &argv(&["/bin/sh", "-c", &cmd]),
        &cg,
        Duration::from_secs(10),
        None,
    )
    .expect("run");
    assert_eq!(e.code, Some(0));
    assert!(sub.is_dir());
    assert!(!cg.is_empty(), "the sleeper is still there");
    let t = Instant::now();
    cg.kill_all();
    cg.wait_empty(Duration::from_secs(5)).expect("empties");
    eprintln!("kill_all + wait_empty: {:?}", t.elapsed());
    let path = cg.path().to_path_buf();
    let t = Instant::now();
    cg.remove().expect("remove");
    eprintln!("remove: {:?}", t.elapsed());
    assert!(!path.exists());
}

#[test]
fn drop_guard_removes_on_error_paths() {
    require_root!();
    let path;
    {
        let cg = SessionCgroup::create(&run_id("guard")).expect("create");
        path = cg.path().to_path_buf();
        let _c = spawn_into(&argv(&["/bin/sleep", "60"]), &cg, true).expect("spawn");
        // _c (killed and reaped on drop) and cg (tasks killed, directory removed) go here.
    }
    assert!(!path.exists());
}

#[test]
fn peak_memory_is_readable() {
    require_root!();
    let cg = SessionCgroup::create(&run_id("peak")).expect("create");
    let alloc = "b = bytearray(64 * 1024 * 1024)\nfor i in range(0, len(b), 4096): b[i] = 1";
    let e = run_to_end(
        &argv(&["/usr/bin/python3", "-c", alloc]),
        &cg,
        Duration::from_secs(30),
        None,
    )
    .expect("run");
    assert_eq!(e.code, Some(0));
    assert!(e.max_rss_kb >= 64 * 1024, "ru_maxrss {} kB", e.max_rss_kb);
    match cg.peak_memory() {
        PeakMemorySource::None => eprintln!("no cgroup memory accounting on this host"),
        src => {
            let bytes = src.read_bytes().expect("peak readable");
            assert!(bytes >= 64 << 20, "{} says {bytes}", src.method());
        }
    }
    cg.remove().expect("remove");
}
