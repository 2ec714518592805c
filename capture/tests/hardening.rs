//! tare as root among hostile users and workloads (real kernel, as root): it never writes through
//! a link another user planted, checks its output before running anything, leaves no temporary
//! behind a kill -9, sweeps the cgroups of a tare that is gone (a zombie too), and no process of
//! the session escapes unseen: one that leaves the session's cgroup is a blind spot, and one
//! that outlives the command is killed and named.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use report_model::schema::health::{Health, KernelLayer};
use report_model::schema::run::Run;

use common::is_root;

const TARE: &str = env!("CARGO_BIN_EXE_tare");

fn tare(args: &[&str]) -> Output {
    Command::new(TARE).args(args).output().expect("run tare")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A world-writable sticky directory, as /tmp is, owned by root.
fn sticky(name: &str) -> PathBuf {
    let d = common::scratch("hardening", name);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

/// Runs `f` with `fs.protected_symlinks=0`, so that the kernel's own guard for sticky
/// directories does not hide a root process that follows another user's link.
fn without_symlink_protection<T>(f: impl FnOnce() -> T) -> T {
    let knob = "/proc/sys/fs/protected_symlinks";
    let before = std::fs::read_to_string(knob).unwrap_or_else(|_| "1".into());
    std::fs::write(knob, "0").expect("set fs.protected_symlinks=0");
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::fs::write(knob, before.trim()).expect("restore fs.protected_symlinks");
    r.unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// The archive's run.json and health.json.
fn read_archive(path: &Path) -> (Run, Health) {
    common::run_and_health(path)
}

/// A root-owned 0600 file the attacker wants overwritten, and its content.
fn victim(dir: &Path) -> PathBuf {
    let v = dir.join("victim-root");
    std::fs::write(&v, "root's data\n").unwrap();
    std::fs::set_permissions(&v, std::fs::Permissions::from_mode(0o600)).unwrap();
    v
}

/// As user nobody, plants links to `victim` at `target` and at the temporary name the
/// shell's pid would give (`.NAME.partial-$$`, the old scheme); then the same shell execs
/// `tare ARGS` as root, so tare has the pid the attacker predicted.
fn planted_then_tare(dir: &Path, target: &str, victim: &Path, args: &str) -> Output {
    let script = format!(
        "cd {dir} && setpriv --reuid=nobody --regid=nogroup --clear-groups \
         sh -c 'ln -s {v} .{target}.partial-'$$' && ln -s {v} .{target}.partial-'$$'-000000 && ln -s {v} {target}' \
         && exec {TARE} {args}",
        dir = dir.display(),
        v = victim.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("run sh")
}

/// The planted links did not lead root to write: the victim is as it was, and the output is
/// a regular root-owned file (the link at the target was replaced, never followed).
fn assert_not_written_through(dir: &Path, target: &str, victim: &Path, o: &Output) {
    assert!(o.status.success(), "tare failed: {}", stderr(o));
    assert_eq!(std::fs::read_to_string(victim).unwrap(), "root's data\n");
    let m = std::fs::symlink_metadata(dir.join(target)).unwrap();
    assert!(m.file_type().is_file(), "{target} is still a link");
    assert_eq!(m.uid(), 0);
}

#[test]
fn outputs_never_follow_links_planted_by_another_user() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = sticky("links");
    let v = victim(&dir);
    without_symlink_protection(|| {
        // capture -o
        let o = planted_then_tare(&dir, "cap.tar.gz", &v, "capture -q -o cap.tar.gz -- true");
        assert_not_written_through(&dir, "cap.tar.gz", &v, &o);
        read_archive(&dir.join("cap.tar.gz"));
        // export --perfetto -o (the issue's reproduction)
        let o = planted_then_tare(
            &dir,
            "out.json",
            &v,
            "export --perfetto cap.tar.gz -o out.json",
        );
        assert_not_written_through(&dir, "out.json", &v, &o);
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("out.json")).unwrap()).unwrap();
        assert!(json.is_object() || json.is_array());
        // --trace-chrome, written while tare runs
        let o = planted_then_tare(
            &dir,
            "tare.trace.json",
            &v,
            "--trace-chrome tare.trace.json capture -q -o cap2.tar.gz -- true",
        );
        assert_not_written_through(&dir, "tare.trace.json", &v, &o);
    });
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.contains(".partial-") && !n.ends_with("-000000") && n.matches('-').count() > 1
        })
        .filter(|n| std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_file()))
        .collect();
    assert!(left.is_empty(), "temporaries left: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_output_is_checked_before_the_command_runs() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("hardening", "out-checked");
    let marker = dir.join("ran");
    let touch = format!("touch {}", marker.display());
    for (out, says) in [
        (dir.clone(), "is a directory"),
        (dir.join("missing/x.tar.gz"), "create it first"),
        (common::under_a_file(&dir, "x.tar.gz"), "not a directory"),
    ] {
        let o = Command::new(TARE)
            .args(["capture", "-o"])
            .arg(&out)
            .args(["--", "sh", "-c", &touch])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
        assert!(
            !marker.exists(),
            "the command ran for an archive that cannot be written"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files in `dir` whose name holds `.partial-`.
fn partials(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-"))
        .collect()
}

#[test]
fn a_kill_9_while_the_archive_is_written_leaves_nothing_the_next_write_keeps() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("hardening", "kill9");
    // Enough events that writing the archive takes a while; tare is killed as soon as its
    // temporary appears (it exists only while the archive is written).
    let mut seen = Vec::new();
    for events in [50_000u32, 400_000] {
        let mut child = Command::new(TARE)
            .args(["capture", "-q", "-o"])
            .arg(dir.join("big.tar.gz"))
            .args(["--", TARE, "workload", "--kernel-events"])
            .arg(events.to_string())
            .args(["--payload-bytes", "1"])
            .spawn()
            .unwrap();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(120) {
            // The archive's temporary, once it holds bytes.
            seen = partials(&dir)
                .into_iter()
                .filter(|n| std::fs::metadata(dir.join(n)).is_ok_and(|m| m.len() > 0))
                .collect();
            if !seen.is_empty() || child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(300));
        }
        let _ = child.kill();
        let _ = child.wait();
        seen = partials(&dir);
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(
        seen.len(),
        1,
        "a temporary while the archive was written: {seen:?}"
    );
    assert!(
        !dir.join("big.tar.gz").exists(),
        "nothing under the final name"
    );
    // The next write into the directory removes what the killed tare left.
    let o = tare(&[
        "capture",
        "-q",
        "-o",
        dir.join("next.tar.gz").to_str().unwrap(),
        "--",
        "true",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(partials(&dir), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The v2 mount (pure or hybrid) and a v1 memory mount, if any.
fn cgroup_mounts() -> (PathBuf, Option<PathBuf>) {
    let unified = Path::new("/sys/fs/cgroup/unified");
    let v2 = if unified.join("cgroup.procs").exists() {
        unified.to_path_buf()
    } else {
        PathBuf::from("/sys/fs/cgroup")
    };
    let mem = Path::new("/sys/fs/cgroup/memory");
    (
        v2,
        mem.join("cgroup.procs").exists().then(|| mem.to_path_buf()),
    )
}

fn pids_of(comm_arg: &str) -> Vec<u32> {
    let o = Command::new("pgrep")
        .args(["-f", comm_arg])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn a_workload_that_leaves_its_cgroup_is_a_blind_spot_and_leaves_nothing_running() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("hardening", "escape");
    let (v2, mem) = cgroup_mounts();
    let other = v2.join(format!("tare-test-other-{}", std::process::id()));
    std::fs::create_dir_all(&other).unwrap();
    let mut script = format!(
        "echo $$ > {}/sh; echo $$ > {}/cgroup.procs; ",
        dir.display(),
        other.display()
    );
    if let Some(m) = &mem {
        script.push_str(&format!("echo $$ > {}/cgroup.procs; ", m.display()));
    }
    // A distinctive sleep, to find it on the host afterwards.
    script.push_str(&format!(
        // The shell then waits, with builtins only (no process of its own), until the
        // sleep runs.
        "touch {0}/x; setsid sleep 304.{1} & echo $! > {0}/pid; \
         until read c < /proc/$!/comm && [ \"$c\" = sleep ]; do :; done",
        dir.display(),
        std::process::id()
    ));
    let out = dir.join("escape.tar.gz");
    let o = Command::new(TARE)
        .args(["capture", "-o"])
        .arg(&out)
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    let err = stderr(&o);
    let sleeper: u32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let still = pids_of(&format!("sleep 304.{}", std::process::id()));
    for p in &still {
        let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
    }
    let _ = std::fs::remove_dir(&other);
    assert!(o.status.success(), "{err}");
    assert!(
        still.is_empty(),
        "the escaped sleep {still:?} outlived tare"
    );
    let (run, health) = read_archive(&out);
    // The shell moved out; touch and sleep were started outside: all three left.
    let sh: u32 = std::fs::read_to_string(dir.join("sh"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let spot = health
        .blind_spots
        .iter()
        .find(|b| b.what == "cgroup_escape")
        .unwrap_or_else(|| panic!("no cgroup_escape blind spot: {health:?}"));
    assert_eq!(spot.count, 3, "{spot:?}");
    assert!(
        spot.reason.contains(&format!("pids {sh}, ")),
        "{}",
        spot.reason
    );
    assert!(
        spot.reason.contains(&sleeper.to_string()),
        "{}",
        spot.reason
    );
    assert_eq!(health.kernel_layer, KernelLayer::Partial);
    assert!(!health.is_clean());
    let killed: Vec<(u32, &str, bool)> = run
        .killed_at_end
        .iter()
        .map(|p| (p.pid, p.comm.as_str(), p.left_cgroup))
        .collect();
    assert_eq!(killed, [(sleeper, "sleep", true)]);
    assert!(err.contains("1 killed at end"), "{err}");
    assert!(err.contains("blind spot: cgroup_escape (x3)"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_daemon_that_outlives_its_command_is_killed_and_said() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = common::scratch("hardening", "daemon");
    let out = dir.join("d.tar.gz");
    let tag = format!("305.{}", std::process::id());
    let o = Command::new(TARE)
        .args(["capture", "-o"])
        .arg(&out)
        .args(["--", "sh", "-c"])
        .arg(format!(
            "sleep {tag} & echo $! > {}/pid; \
             until read c < /proc/$!/comm && [ \"$c\" = sleep ]; do :; done",
            dir.display()
        ))
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let daemon: u32 = std::fs::read_to_string(dir.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        pids_of(&format!("sleep {tag}")).is_empty(),
        "the daemon runs on"
    );
    let (run, health) = read_archive(&out);
    let killed: Vec<(u32, &str, bool)> = run
        .killed_at_end
        .iter()
        .map(|p| (p.pid, p.comm.as_str(), p.left_cgroup))
        .collect();
    assert_eq!(killed, [(daemon, "sleep", false)]);
    assert!(
        run.notes.iter().any(
            |n| n.contains(&format!("sleep (pid {daemon})")) && n.contains("killed at its end")
        ),
        "{:?}",
        run.notes
    );
    assert!(
        err.contains("1 killed at end (outlived the command)"),
        "{err}"
    );
    // A daemon in the cgroup is seen whole: the kernel layer stays complete.
    assert_eq!(health.kernel_layer, KernelLayer::Complete, "{health:?}");
    // A command that leaves nothing behind says nothing of it.
    let o = tare(&["capture", "-o", out.to_str().unwrap(), "--", "true"]);
    assert!(!stderr(&o).contains("killed at end"), "{}", stderr(&o));
    assert!(read_archive(&out).0.killed_at_end.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sweep_takes_a_zombie_owner_for_gone() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let (v2, _) = cgroup_mounts();
    let tare_dir = v2.join("tare");
    let name = format!("zombie-owner-{}", std::process::id());
    let cg = tare_dir.join(&name);
    std::fs::create_dir_all(&cg).unwrap();
    // A process left in the dead session's cgroup.
    let tag = format!("306.{}", std::process::id());
    let mut left = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {}/cgroup.procs && exec sleep {tag}",
            cg.display()
        ))
        .spawn()
        .unwrap();
    // The owner: a child of this test that exited and is not waited for (a zombie).
    let owner = Command::new("true").spawn().unwrap();
    let pid = owner.id();
    let zombie = (0..500).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|t| t.trim_start().starts_with('Z'))
        })
    });
    assert!(zombie);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap();
    std::fs::create_dir_all("/run/tare/sessions").unwrap();
    let record = Path::new("/run/tare/sessions").join(&name);
    std::fs::write(&record, format!("{pid} {start}\n{}\n", cg.display())).unwrap();
    let start_wait = Instant::now();
    while pids_of(&format!("sleep {tag}")).is_empty() {
        assert!(
            start_wait.elapsed() < Duration::from_secs(10),
            "the sleep never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let dir = common::scratch("hardening", "zombie");
    let o = tare(&[
        "capture",
        "-o",
        dir.join("z.tar.gz").to_str().unwrap(),
        "--",
        "true",
    ]);
    let err = stderr(&o);
    let _ = left.kill();
    let _ = left.wait();
    drop(owner.wait_with_output());
    assert!(o.status.success(), "{err}");
    assert!(!cg.exists(), "the zombie's session cgroup is still there");
    assert!(!record.exists());
    assert!(
        err.contains(&format!("removed session cgroup {name}")),
        "{err}"
    );
    assert!(err.contains("1 process(es) killed"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bench_never_writes_into_a_directory_another_user_controls() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let dir = sticky("bench-out");
    let theirs = dir.join("theirs");
    let mine = dir.join("mine");
    std::fs::create_dir(&mine).unwrap();
    let ok = Command::new("setpriv")
        .args([
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(format!(
            "mkdir -m 0777 {t} && ln -s {m} {d}/link",
            t = theirs.display(),
            m = mine.display(),
            d = dir.display()
        ))
        .status()
        .unwrap();
    assert!(ok.success());
    for (out, says) in [
        (theirs.clone(), "belongs to another user"),
        (dir.join("link"), "is a symbolic link"),
    ] {
        let o = Command::new(TARE)
            .args(["bench", "--preset", "smoke", "--n", "1", "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
