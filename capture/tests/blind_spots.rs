//! What the syscall hooks alone would miss (as root, real kernel, real programs): failed
//! execs are recorded with path and errno, exactly as strace sees them, and a real fio on
//! io_uring marks the kernel layer partial with the reason in health.json, and so does a real
//! i386 program, whose compat syscalls are never misread as 64-bit ones.

mod common;

use std::path::Path;
use std::process::Command;

use report_model::bundle::{self, member_text, Limits};
use report_model::schema::health::{Health, KernelLayer};
use report_model::schema::kernel_event::{EventDetail, KernelEvent};
use report_model::schema::parse_json;

use common::is_root;

/// `tare capture --out OUT EXTRA -- ARGV`; the archive's health and events.
fn capture(out: &Path, extra: &[&str], argv: &[&str]) -> (String, Health, Vec<KernelEvent>) {
    let stderr = common::capture(out, extra, argv);
    let bytes = std::fs::read(out).expect("archive");
    let members = bundle::read_tar_gz("a", &bytes, &Limits::default()).expect("read");
    bundle::verify("a", &members).expect("verifies");
    let health: Health = parse_json(
        "health.json",
        member_text("a", &members, "health.json").unwrap(),
    )
    .unwrap();
    let events = bundle::member_kernel_events("a", &members)
        .unwrap()
        .expect("events");
    (stderr, health, events)
}

/// (path, errno) of every failed execve in strace's log of the same command.
fn strace_failed_execs(dir: &Path, script: &str) -> Vec<(String, i64)> {
    let log = dir.join("strace.log");
    let st = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve,execveat", "-o"])
        .arg(&log)
        .args(["/bin/sh", "-c", script])
        .status()
        .expect("strace is installed (the test command's setup installs it)");
    assert!(st.success());
    let text = std::fs::read_to_string(&log).unwrap();
    text.lines()
        .filter(|l| l.contains(" = -1 "))
        .map(|l| {
            let path = l.split('"').nth(1).unwrap_or("").to_string();
            let errno = match l.split(" = -1 ").nth(1).and_then(|r| r.split(' ').next()) {
                Some("ENOENT") => -2,
                Some("EACCES") => -13,
                Some("ENOEXEC") => -8,
                other => panic!("unexpected errno {other:?} in {l}"),
            };
            (path, errno)
        })
        .collect()
}

#[test]
fn failed_execs_are_recorded_as_strace_sees_them() {
    if !is_root() {
        eprintln!("skipped: needs root for eBPF");
        return;
    }
    let dir = common::scratch("blind", "exec");
    // A PATH search (execvp's probes: env tries each directory), an absolute path that does
    // not exist, a file that is not executable; then a command that runs.
    let noexec = dir.join("not-executable");
    std::fs::write(&noexec, "#!/bin/sh\n").unwrap();
    let script = format!(
        "PATH=/tare-none-a:/tare-none-b:/usr/bin:/bin env tare-no-such-cmd; /tare/no/such/abs; {}; /bin/true; exit 0",
        noexec.display()
    );
    let reference = strace_failed_execs(&dir, &script);
    assert!(reference.len() >= 6, "strace saw {reference:?}");
    for hooks in ["auto", "raw-tracepoint"] {
        let (stderr, health, events) = capture(
            &dir.join(format!("{hooks}.tar.gz")),
            &["--syscall-hooks", hooks],
            // An absolute path: `sh` alone would add tare's own PATH search for it (its
            // child's execvp probes are recorded too), which strace does not make.
            &["/bin/sh", "-c", &script],
        );
        let failed: Vec<(String, i64)> = events
            .iter()
            .filter_map(|e| match &e.detail {
                EventDetail::ExecFailed { filename, result } => Some((filename.clone(), *result)),
                _ => None,
            })
            .collect();
        assert_eq!(failed, reference, "{hooks}: tare against strace; {stderr}");
        assert!(failed.contains(&("/tare-none-a/tare-no-such-cmd".into(), -2)));
        assert!(failed.contains(&(noexec.display().to_string(), -13)));
        // A successful exec stays an `exec` event, never a failed one.
        assert!(events.iter().any(
            |e| matches!(&e.detail, EventDetail::Exec { filename } if filename == "/bin/true")
        ));
        assert_eq!(health.kernel_layer, KernelLayer::Complete, "{hooks}");
        assert!(health.blind_spots.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fio_on_io_uring_marks_the_kernel_layer_partial() {
    if !is_root() {
        eprintln!("skipped: needs root for eBPF");
        return;
    }
    if Command::new("fio").arg("--version").output().is_err() {
        panic!("fio is not installed: `bash scripts/setup.sh` installs it for the tests");
    }
    let dir = common::scratch("blind", "uring");
    let target = dir.join("uring.dat");
    let (stderr, health, events) = capture(
        &dir.join("a.tar.gz"),
        &[],
        &[
            "fio",
            "--name=t",
            "--ioengine=io_uring",
            "--rw=write",
            "--bs=64k",
            "--size=1M",
            "--direct=0",
            &format!("--filename={}", target.display()),
        ],
    );
    assert_eq!(
        std::fs::metadata(&target).unwrap().len(),
        1 << 20,
        "{stderr}"
    );
    let rings: Vec<&KernelEvent> = events
        .iter()
        .filter(|e| matches!(e.detail, EventDetail::IoUring { result, .. } if result >= 0))
        .collect();
    assert!(!rings.is_empty(), "an io_uring event: {stderr}");
    assert!(rings.iter().all(|e| e.comm == "fio"), "{rings:?}");
    assert_eq!(health.kernel_layer, KernelLayer::Partial, "{stderr}");
    let spot = &health.blind_spots[0];
    assert_eq!(spot.what, "io_uring");
    assert_eq!(spot.count, rings.len() as u64);
    assert!(stderr.contains("blind spot: io_uring"), "{stderr}");
    // What went through the ring was not seen: none of the 64 KiB writes of the psync run.
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.detail, EventDetail::Write { result: 65536, .. })),
        "a ring's writes are not syscalls"
    );
    // The same 1 MiB written with plain writes is seen whole, and nothing is marked.
    let (_, health, events) = capture(
        &dir.join("b.tar.gz"),
        &[],
        &[
            "fio",
            "--name=t",
            "--ioengine=psync",
            "--rw=write",
            "--bs=64k",
            "--size=1M",
            &format!("--filename={}", target.display()),
        ],
    );
    let written: i64 = events
        .iter()
        .filter_map(|e| match e.detail {
            EventDetail::Write { result, .. } if e.comm == "fio" && result == 65536 => Some(result),
            _ => None,
        })
        .sum();
    assert_eq!(written, 1 << 20);
    assert!(health.blind_spots.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The i386 static busybox that setup unpacks (apt multi-arch) for this test.
const BUSYBOX_I386: &str = "/var/cache/tare-test/i386/bin/busybox";

/// Whether the file at `path` is a 32-bit ELF, read from its own header (the reference the
/// kernel's `compat_exec` events are held against).
fn is_elf32(path: &str) -> bool {
    let head = std::fs::read(path).unwrap_or_default();
    head.len() > 4 && head[..4] == *b"\x7fELF" && head[4] == 1
}

#[test]
fn compat_tasks_are_flagged_and_never_misread() {
    if !is_root() {
        eprintln!("skipped: needs root for eBPF");
        return;
    }
    if cfg!(not(target_arch = "x86_64")) {
        eprintln!("skipped: the i386 program runs on x86_64 only");
        return;
    }
    assert!(
        Path::new(BUSYBOX_I386).exists(),
        "{BUSYBOX_I386} is missing: `bash scripts/setup.sh` unpacks busybox-static:i386 for the tests"
    );
    let dir = common::scratch("blind", "compat");
    let f = |n: &str| dir.join(n).display().to_string();
    // Each i386 busybox calls readlink and getpid: ia32's 85 and 20, which are x86_64's creat
    // and writev. A 64-bit shell around them writes one file of its own.
    let script = format!(
        "{bb} sh -c 'echo $$ > {f1}'; {bb} mv {f1} {f2}; {bb} rm {f2}; {bb} readlink /proc/self/exe; echo x > {g}; {bb} true",
        bb = BUSYBOX_I386,
        f1 = f("f1"),
        f2 = f("f2"),
        g = f("g"),
    );
    // The reference: strace's successful execs of the same script, each program's ELF class
    // read from its own file.
    let log = dir.join("strace.log");
    let st = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=execve", "-o"])
        .arg(&log)
        .args(["/bin/sh", "-c", &script])
        .status()
        .expect("strace is installed");
    assert!(st.success());
    let strace_compat: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter(|l| l.ends_with(" = 0"))
        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
        .filter(|p| is_elf32(p))
        .collect();
    assert_eq!(strace_compat.len(), 5, "{strace_compat:?}");
    for hooks in ["auto", "btf-tracepoint", "raw-tracepoint"] {
        let (stderr, health, events) = capture(
            &dir.join(format!("{hooks}.tar.gz")),
            &["--syscall-hooks", hooks],
            &["/bin/sh", "-c", &script],
        );
        let compat: Vec<(u32, String, String)> = events
            .iter()
            .filter_map(|e| match &e.detail {
                EventDetail::CompatExec { filename, abi } => {
                    Some((e.pid, filename.clone(), abi.clone()))
                }
                _ => None,
            })
            .collect();
        let names: Vec<String> = compat.iter().map(|c| c.1.clone()).collect();
        assert_eq!(
            names, strace_compat,
            "{hooks}: tare against strace; {stderr}"
        );
        assert!(compat.iter().all(|c| c.2 == "i386"), "{compat:?}");
        // Each compat_exec follows its task's exec of the same program.
        for (pid, filename, _) in &compat {
            assert!(events.iter().any(|e| e.pid == *pid
                && matches!(&e.detail, EventDetail::Exec { filename: x } if x == filename)));
        }
        // Nothing a compat task did is misread as a 64-bit syscall: only its process events.
        let pids: Vec<u32> = compat.iter().map(|c| c.0).collect();
        let misread: Vec<&KernelEvent> = events
            .iter()
            .filter(|e| pids.contains(&e.pid))
            .filter(|e| {
                !matches!(
                    e.detail,
                    EventDetail::Exec { .. }
                        | EventDetail::CompatExec { .. }
                        | EventDetail::Fork { .. }
                        | EventDetail::Exit { .. }
                )
            })
            .collect();
        assert!(misread.is_empty(), "{hooks}: {misread:?}");
        // The 64-bit shell's own write is seen.
        assert!(events.iter().any(
            |e| matches!(&e.detail, EventDetail::Open { path, result, .. } if *path == f("g") && *result >= 0)
        ));
        assert_eq!(health.kernel_layer, KernelLayer::Partial, "{hooks}");
        let spot = health
            .blind_spots
            .iter()
            .find(|b| b.what == "compat_exec")
            .expect("a compat blind spot");
        assert_eq!(spot.count, 5);
        assert!(stderr.contains("blind spot: compat_exec (x5)"), "{stderr}");
    }
    // A 64-bit program alone makes none.
    let (_, health, _) = capture(&dir.join("none.tar.gz"), &[], &["/bin/true"]);
    assert!(health.blind_spots.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
