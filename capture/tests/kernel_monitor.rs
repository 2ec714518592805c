//! Kernel capture against the real kernel (needs root): the exact events a
//! workload causes, nothing from outside the session cgroup, conservation
//! (delivered == submitted, or delivered + dropped == seen when the ring
//! buffer is too small), and cleanup (cgroup removed, programs unloaded).
//!
//! Run with `--nocapture` to see the measured timings and throughput.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use report_model::schema::health::SyscallHooks;
use report_model::schema::kernel_event::{EventDetail, EventKind, KernelEvent};
use tare::cgroup::SessionCgroup;
use tare::monitor::{HookChoice, Monitor, MonitorConfig, MonitorError, MonitorOutput};
use tare::spawn::{prepare, Ended};

const PYTHON: &str = "/usr/bin/python3";

/// The programs see every syscall of the machine: one test at a time keeps the
/// numbers (and the printed timings) clean.
static SERIAL: Mutex<()> = Mutex::new(());

use common::is_root;

macro_rules! require_root {
    () => {
        if !is_root() {
            eprintln!("skipped: kernel capture tests need root");
            return;
        }
    };
}

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn run_id(name: &str) -> String {
    common::run_id("test", name)
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("kt", name)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// What one monitored run produced.
struct Captured {
    out: MonitorOutput,
    ended: Ended,
    cgroup_id: u64,
    child_pid: u32,
}

struct Opts {
    ringbuf_bytes: Option<u32>,
    /// Wait for the child on the runtime's only thread, starving the consumer.
    block_consumer: bool,
    hooks: HookChoice,
}

const DEFAULT: Opts = Opts {
    ringbuf_bytes: None,
    block_consumer: false,
    hooks: HookChoice::Auto,
};

/// Runs `argv` in a fresh session cgroup under a monitor, the way `tare capture` does.
fn capture(name: &str, argv: &[&str], opts: Opts) -> Captured {
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let cg = SessionCgroup::create(&run_id(name)).expect("session cgroup");
    let cgroup_id = cg.id();
    let cgroup_path = cg.path().to_path_buf();
    let rt = runtime();
    let captured = rt.block_on(async {
        let mut cfg = MonitorConfig::new(cg.id(), cg.level());
        if let Some(b) = opts.ringbuf_bytes {
            cfg.ringbuf_bytes = b;
        }
        cfg.syscall_hooks = opts.hooks;
        // The child joins the cgroup (slow in the kernel) while the programs load.
        let t = Instant::now();
        let prepared = prepare(&argv, &cg, false).expect("prepare child");
        let t_prepare = t.elapsed();
        let t = Instant::now();
        let mon = Monitor::start(cfg).expect("monitor start");
        let t_start = t.elapsed();
        let ids = mon.program_ids().to_vec();
        // exec, fork and exit, and the syscalls': one per syscall with fexit, else sys_exit's.
        let hooks = mon.syscall_hooks();
        match opts.hooks {
            HookChoice::Auto => {}
            HookChoice::Fexit => assert_eq!(hooks, SyscallHooks::Fexit),
            HookChoice::BtfTracepoint => assert_eq!(hooks, SyscallHooks::BtfTracepoint),
            HookChoice::RawTracepoint => assert_eq!(hooks, SyscallHooks::RawTracepoint),
        }
        if hooks == SyscallHooks::Fexit {
            assert!(ids.len() > 4, "{} programs with fexit", ids.len());
        } else {
            assert_eq!(ids.len(), 4, "four programs with {}", hooks.as_str());
        }
        assert!(ids.iter().all(|id| program_exists(*id)));
        let t = Instant::now();
        let mut child = prepared.start().expect("start child");
        let t_spawn = t.elapsed();
        let child_pid = child.pid();
        let ended = if opts.block_consumer {
            child.wait_blocking(Some(Duration::from_secs(120))).expect("wait")
        } else {
            child.wait_with(Some(Duration::from_secs(120))).await.expect("wait")
        };
        cg.kill_all();
        cg.wait_empty(Duration::from_secs(5)).expect("cgroup empties");
        let t = Instant::now();
        let mut out = mon.finish().await.expect("finish");
        let t_finish = t.elapsed();
        // Detaching goes on on a thread of its own; waiting for it, the programs are gone.
        let detach = std::mem::take(&mut out.detach).wait();
        let tm = out.timings;
        let total = out.counters.total();
        eprintln!(
            "[{name}] prepare {t_prepare:?}; monitor start {t_start:?} (load {:?} = offsets {:?} cached={} | maps {:?}, programs {:?}; attach {:?}); \
             spawn {t_spawn:?}; child {:?}; finish {t_finish:?} (drain {:?}, detach {:?}); events {} ({:.0}/s of child time); counters {:?}",
            tm.load,
            tm.detail.offsets,
            tm.detail.offsets_cached,
            tm.detail.maps,
            tm.detail.programs,
            tm.attach,
            ended.wall,
            tm.drain,
            detach,
            out.events.len(),
            out.events.len() as f64 / ended.wall.as_secs_f64(),
            total,
        );
        Captured { out, ended, cgroup_id, child_pid }
    });
    cg.remove().expect("cgroup removed");
    assert!(!cgroup_path.exists(), "session cgroup directory is gone");
    assert_programs_gone(&captured.out.program_ids);
    captured
}

/// The kernel frees a detached program after an RCU grace period: poll briefly.
fn assert_programs_gone(ids: &[u32]) {
    let t = Instant::now();
    while ids.iter().any(|id| program_exists(*id)) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "programs {ids:?} still loaded 5 s after finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn program_exists(id: u32) -> bool {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .any(|p| p.id() == id)
}

fn tare_programs_loaded() -> Vec<u32> {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .filter(|p| p.name_as_str().is_some_and(|n| n.starts_with("tare_")))
        .map(|p| p.id())
        .collect()
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_string()
}

fn of_kind(events: &[KernelEvent], kind: EventKind) -> Vec<&KernelEvent> {
    events.iter().filter(|e| e.detail.kind() == kind).collect()
}

fn assert_complete(c: &Captured) {
    let k = &c.out.counters;
    assert!(k.is_complete(), "not complete: {k:?}");
    for (kind, n) in &k.kinds {
        assert_eq!(n.delivered, n.submitted, "{kind:?}");
        assert_eq!(n.dropped, 0, "{kind:?}");
        let got = c
            .out
            .events
            .iter()
            .filter(|e| e.detail.kind() == *kind)
            .count() as u64;
        assert_eq!(got, n.delivered, "{kind:?}: events vs delivered");
    }
    assert_eq!(c.out.decode_errors, 0);
    let seqs: Vec<u64> = c.out.events.iter().map(|e| e.seq).collect();
    assert!(
        seqs.iter().enumerate().all(|(i, s)| *s == i as u64),
        "seq is receive order from 0"
    );
}

#[test]
fn true_gives_exec_first_and_exit_last() {
    require_root!();
    let _g = serial();
    let c = capture("true", &["/bin/true"], DEFAULT);
    assert_eq!(c.ended.code, Some(0));
    assert_complete(&c);
    let ev = &c.out.events;
    assert!(
        matches!(&ev[0].detail, EventDetail::Exec { filename } if filename == "/bin/true"),
        "{:#?}",
        ev[0]
    );
    assert_eq!(ev[0].comm, "true");
    assert_eq!(
        ev.last().map(|e| &e.detail),
        Some(&EventDetail::Exit {
            code: Some(0),
            signal: None
        })
    );
    assert!(ev
        .iter()
        .all(|e| e.cgroup_id == c.cgroup_id && e.pid == c.child_pid && e.tid == c.child_pid));
    assert!(
        ev.iter().all(|e| e.ppid == Some(std::process::id())),
        "parent is the test process"
    );
    assert!(
        ev.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns),
        "one task: timestamps in order"
    );
}

/// The Python workload: each action once, with known paths and sizes.
const WORKLOAD: &str = r#"
import os, socket, sys
d, port = sys.argv[1], int(sys.argv[2])
fd = os.open(d + "/a.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
assert os.write(fd, b"x" * 12345) == 12345
assert os.writev(fd, [b"a" * 10, b"b" * 20, b"c" * 30]) == 60
os.close(fd)
try:
    os.open(d + "/missing/nope.txt", os.O_RDONLY)
except FileNotFoundError:
    pass
os.rename(d + "/a.txt", d + "/b.txt")
os.unlink(d + "/b.txt")
try:
    os.unlink(d + "/b.txt")
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", port))
s.close()
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    u.connect(d + "/no.sock")
except OSError:
    pass
u.close()
pid = os.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", "exit 7"])
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 7
sys.exit(3)
"#;

#[test]
fn workload_events_are_exact_and_outsiders_are_absent() {
    exact_events_with(HookChoice::Auto);
}

/// The fallback hooks give the very same events (on a kernel that allows fexit, `Auto`
/// above runs fexit, and these run the tracepoints).
#[test]
fn the_sys_exit_hooks_are_exact_too() {
    exact_events_with(HookChoice::RawTracepoint);
    exact_events_with(HookChoice::BtfTracepoint);
}

fn exact_events_with(hooks: HookChoice) {
    require_root!();
    let _g = serial();
    let inside = scratch("inside");
    let outside = scratch("outside");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let port = listener.local_addr().expect("port").port().to_string();
    let d = path_str(&inside);

    // The same actions from a process outside the session cgroup, during the capture.
    let outsider = {
        let od = path_str(&outside);
        let port = port.clone();
        std::thread::spawn(move || {
            let t = Instant::now();
            let mut runs = 0;
            while t.elapsed() < Duration::from_millis(400) {
                let st = std::process::Command::new(PYTHON)
                    .args(["-c", WORKLOAD, &od, &port])
                    .stdout(std::process::Stdio::null())
                    .status()
                    .expect("outsider runs");
                assert_eq!(st.code(), Some(3));
                runs += 1;
            }
            runs
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let c = capture(
        "workload",
        &[PYTHON, "-c", WORKLOAD, &d, &port],
        Opts { hooks, ..DEFAULT },
    );
    let outsider_runs = outsider.join().expect("outsider thread");
    assert!(outsider_runs > 0);
    assert_eq!(c.ended.code, Some(3));
    assert_complete(&c);
    let ev = &c.out.events;
    let py = c.child_pid;

    // Nothing from outside the cgroup.
    let od = path_str(&outside);
    for e in ev {
        assert_eq!(e.cgroup_id, c.cgroup_id, "{e:?}");
        let text = format!("{:?}", e.detail);
        assert!(!text.contains(&od), "an outsider's event leaked in: {e:?}");
    }

    // exec of python first.
    assert!(
        matches!(&ev[0].detail, EventDetail::Exec { filename } if filename == PYTHON),
        "{:?}",
        ev[0]
    );
    assert_eq!(ev[0].pid, py);

    // open a.txt for writing, then the writes on its fd.
    let a = format!("{d}/a.txt");
    let opens: Vec<_> = ev
        .iter()
        .filter_map(|e| match &e.detail {
            EventDetail::Open {
                path,
                flags,
                mode,
                result,
            } if *path == a => Some((e, *flags, *mode, *result)),
            _ => None,
        })
        .collect();
    assert_eq!(opens.len(), 1, "{opens:?}");
    let (open_ev, flags, mode, fd) = opens[0];
    assert_eq!(open_ev.pid, py);
    assert_eq!(
        flags & (libc::O_ACCMODE | libc::O_CREAT | libc::O_TRUNC),
        libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC
    );
    assert_eq!(mode, 0o640);
    assert!(fd >= 0);
    let writes: Vec<_> = ev
        .iter()
        .filter_map(|e| match &e.detail {
            EventDetail::Write {
                fd: f,
                requested,
                result,
            } if i64::from(*f) == fd && e.pid == py => Some((*requested, *result)),
            _ => None,
        })
        .collect();
    assert_eq!(
        writes,
        vec![(12345, 12345), (60, 60)],
        "write then writev on the file's fd"
    );

    // the failing open.
    let missing = format!("{d}/missing/nope.txt");
    let m: Vec<_> = ev
        .iter()
        .filter_map(|e| match &e.detail {
            EventDetail::Open { path, result, .. } if *path == missing => Some(*result),
            _ => None,
        })
        .collect();
    assert_eq!(m, vec![-(libc::ENOENT as i64)]);

    // rename, unlink (ok, then ENOENT).
    let renames: Vec<_> = of_kind(ev, EventKind::Rename)
        .into_iter()
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        renames,
        vec![EventDetail::Rename {
            from: a.clone(),
            to: format!("{d}/b.txt"),
            result: 0
        }]
    );
    let unlinks: Vec<_> = of_kind(ev, EventKind::Unlink)
        .into_iter()
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        unlinks,
        vec![
            EventDetail::Unlink {
                path: format!("{d}/b.txt"),
                result: 0
            },
            EventDetail::Unlink {
                path: format!("{d}/b.txt"),
                result: -(libc::ENOENT as i64)
            },
        ]
    );

    // connects: TCP to the listener (ok), unix to a missing socket (ENOENT).
    let connects: Vec<_> = of_kind(ev, EventKind::Connect)
        .into_iter()
        .map(|e| e.detail.clone())
        .collect();
    let port_n: u16 = port.parse().expect("port");
    assert!(
        connects.contains(&EventDetail::Connect {
            family: libc::AF_INET as u16,
            addr: "127.0.0.1".into(),
            port: port_n,
            result: 0
        }),
        "{connects:?}"
    );
    assert!(
        connects.contains(&EventDetail::Connect {
            family: libc::AF_UNIX as u16,
            addr: format!("{d}/no.sock"),
            port: 0,
            result: -(libc::ENOENT as i64)
        }),
        "{connects:?}"
    );

    // fork -> child exec of sh -> child exit 7; python exits 3, last.
    let forks = of_kind(ev, EventKind::Fork);
    assert_eq!(forks.len(), 1, "{forks:?}");
    assert_eq!(forks[0].pid, py);
    let EventDetail::Fork { child_pid } = forks[0].detail else {
        unreachable!()
    };
    let execs = of_kind(ev, EventKind::Exec);
    assert_eq!(execs.len(), 2);
    assert_eq!(execs[1].pid, child_pid);
    assert_eq!(execs[1].ppid, Some(py));
    assert_eq!(
        execs[1].detail,
        EventDetail::Exec {
            filename: "/bin/sh".into()
        }
    );
    let exits: Vec<_> = of_kind(ev, EventKind::Exit)
        .into_iter()
        .map(|e| (e.pid, e.detail.clone()))
        .collect();
    assert_eq!(
        exits,
        vec![
            (
                child_pid,
                EventDetail::Exit {
                    code: Some(7),
                    signal: None
                }
            ),
            (
                py,
                EventDetail::Exit {
                    code: Some(3),
                    signal: None
                }
            ),
        ]
    );
    assert_eq!(ev.last().map(|e| e.pid), Some(py));
    drop(listener);
    let _ = std::fs::remove_dir_all(&inside);
    let _ = std::fs::remove_dir_all(&outside);
}

#[test]
fn signal_deaths_and_threaded_exits() {
    require_root!();
    let _g = serial();
    // sh kills itself with SIGKILL; a threaded python calls exit_group from a thread.
    let script = "import os, threading, time\n\
                  t = threading.Thread(target=lambda: os._exit(5)); t.start(); time.sleep(5)";
    let c = capture(
        "signal",
        &[
            "/bin/sh",
            "-c",
            &format!("{PYTHON} -c '{script}'; kill -9 $$"),
        ],
        DEFAULT,
    );
    assert_eq!(c.ended.signal, Some(9));
    assert_complete(&c);
    let exits: Vec<_> = of_kind(&c.out.events, EventKind::Exit)
        .into_iter()
        .map(|e| e.detail.clone())
        .collect();
    assert_eq!(
        exits,
        vec![
            EventDetail::Exit {
                code: Some(5),
                signal: None
            },
            EventDetail::Exit {
                code: None,
                signal: Some(9)
            }
        ],
        "one exit per process (not per thread), with code or signal"
    );
    let forks = of_kind(&c.out.events, EventKind::Fork);
    assert_eq!(forks.len(), 1, "the python thread is not a fork: {forks:?}");
}

#[test]
fn hundred_thousand_opens_are_all_delivered() {
    require_root!();
    let _g = serial();
    let dir = scratch("opens");
    let target = dir.join("target.txt");
    std::fs::write(&target, b"x").expect("target");
    let t = path_str(&target);
    let script = "import os, sys\np = sys.argv[1]\nfor _ in range(100000):\n    os.close(os.open(p, os.O_RDONLY))";
    let c = capture("opens", &[PYTHON, "-c", script, &t], DEFAULT);
    assert_eq!(c.ended.code, Some(0));
    assert_complete(&c);
    let n = c.out.events.iter().filter(|e| matches!(&e.detail, EventDetail::Open { path, result, .. } if *path == t && *result >= 0)).count();
    assert_eq!(n, 100_000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_tiny_ring_buffer_drops_and_says_so() {
    require_root!();
    let _g = serial();
    let dir = scratch("tiny");
    let target = dir.join("target.txt");
    std::fs::write(&target, b"x").expect("target");
    let t = path_str(&target);
    let script = "import os, sys\np = sys.argv[1]\nfor _ in range(20000):\n    os.close(os.open(p, os.O_RDONLY))";
    let page = 4096;
    let c = capture(
        "tiny",
        &[PYTHON, "-c", script, &t],
        Opts {
            ringbuf_bytes: Some(page),
            block_consumer: true,
            ..DEFAULT
        },
    );
    assert_eq!(c.ended.code, Some(0));
    let k = &c.out.counters;
    assert!(!k.is_complete());
    let open = k.kinds[&EventKind::Open];
    assert!(open.dropped > 0, "{open:?}");
    assert!(open.seen >= 20_000, "{open:?}");
    for (kind, n) in &k.kinds {
        assert_eq!(n.delivered + n.dropped, n.seen, "{kind:?}: {n:?}");
        assert_eq!(n.delivered, n.submitted, "{kind:?}: {n:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dropping_a_monitor_unloads_it() {
    require_root!();
    let _g = serial();
    let cg = SessionCgroup::create(&run_id("drop")).expect("cgroup");
    let rt = runtime();
    let ids = rt.block_on(async {
        let mon = Monitor::start(MonitorConfig::new(cg.id(), cg.level())).expect("start");
        let ids = mon.program_ids().to_vec();
        drop(mon);
        ids
    });
    assert_programs_gone(&ids);
    let path = cg.path().to_path_buf();
    drop(cg);
    assert!(!path.exists(), "the Drop guard removed the cgroup");
    let leftover: Vec<u32> = tare_programs_loaded()
        .into_iter()
        .filter(|id| ids.contains(id))
        .collect();
    assert!(leftover.is_empty());
}

#[test]
fn bad_configs_are_clear_errors() {
    require_root!();
    let _g = serial();
    // Outside a runtime.
    match Monitor::start(MonitorConfig::new(1, 0)) {
        Err(MonitorError::NoRuntime) => {}
        other => panic!("{:?}", other.err()),
    }
    let rt = runtime();
    rt.block_on(async {
        let cfg = MonitorConfig {
            ringbuf_bytes: 12345,
            ..MonitorConfig::new(1, 0)
        };
        match Monitor::start(cfg) {
            Err(MonitorError::Config(msg)) => assert!(msg.contains("power of two"), "{msg}"),
            other => panic!("{:?}", other.err()),
        }
    });
}

/// Sustained-rate measurement (not a pass/fail on speed): `cargo test --release
/// --test kernel_monitor throughput -- --ignored --nocapture` (ring buffer size from
/// `TARE_TEST_RINGBUF`, bytes). Two Python
/// workers open a file in a loop for ~5 s; prints the rate and the counters.
#[test]
#[ignore = "measurement, run by hand"]
fn throughput() {
    require_root!();
    let _g = serial();
    let dir = scratch("rate");
    let target = dir.join("target.txt");
    std::fs::write(&target, b"x").expect("target");
    let t = path_str(&target);
    let worker = format!(
        "import os, time\nend = time.monotonic() + 5\nwhile time.monotonic() < end:\n    for _ in range(1000):\n        os.close(os.open({t:?}, os.O_RDONLY))"
    );
    let cmd = format!("{PYTHON} -c '{worker}' & {PYTHON} -c '{worker}' & wait");
    let ringbuf_bytes = std::env::var("TARE_TEST_RINGBUF")
        .ok()
        .and_then(|v| v.parse().ok());
    let c = capture(
        "rate",
        &["/bin/sh", "-c", &cmd],
        Opts {
            ringbuf_bytes,
            ..DEFAULT
        },
    );
    let k = c.out.counters.kinds[&EventKind::Open];
    let secs = c.ended.wall.as_secs_f64();
    eprintln!(
        "throughput: {} open events in {secs:.2} s = {:.0} events/s; seen {} submitted {} dropped {} delivered {}",
        k.seen,
        k.seen as f64 / secs,
        k.seen,
        k.submitted,
        k.dropped,
        k.delivered
    );
    for (kind, n) in &c.out.counters.kinds {
        assert_eq!(n.delivered + n.dropped, n.seen, "{kind:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
