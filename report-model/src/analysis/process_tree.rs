//! The process tree of a capture, built from its exec, fork and exit events.
//!
//! A process is a thread group (the kernel's tgid). It starts at the fork event that made
//! it (in its parent), or at its first event when the fork came before the capture (the
//! session's own command, forked by tare before the programs were attached). It ends at its
//! exit event. Every event belongs to the process of its `pid`.

use std::collections::BTreeMap;

use crate::schema::kernel_event::{EventDetail, KernelEvent};

/// What one process did, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessCounts {
    /// Opens, failed ones included.
    pub opens: u64,
    /// Opens that failed (a negative result).
    pub open_failures: u64,
    /// Distinct paths it opened successfully.
    pub files_opened: u64,
    /// Distinct paths it opened successfully for writing (`O_WRONLY`, `O_RDWR`, `O_CREAT`
    /// or `O_TRUNC` in the flags).
    pub files_written: u64,
    /// Write calls.
    pub writes: u64,
    /// Bytes the writes wrote (their positive results).
    pub written_bytes: u64,
    pub renames: u64,
    pub unlinks: u64,
    pub connects: u64,
    /// Exec attempts that failed (PATH probes included).
    pub failed_execs: u64,
    /// Processes it forked.
    pub forks: u64,
}

/// One process of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    /// The process that forked it, when the capture saw the fork or an event named it.
    pub ppid: Option<u32>,
    /// The task's command name (at most 15 bytes), as of its last event.
    pub comm: String,
    /// The programs it exec'd, in order (the last is what it ran at the end).
    pub execs: Vec<String>,
    /// Monotonic nanoseconds of its fork, else of its first event.
    pub start_ns: u64,
    /// Whether `start_ns` is its fork (false: it was forked before the capture saw it).
    pub forked_in_capture: bool,
    /// Monotonic nanoseconds of its exit event; none when the capture saw no exit.
    pub end_ns: Option<u64>,
    pub exit_code: Option<i32>,
    pub exit_signal: Option<i32>,
    pub counts: ProcessCounts,
    /// The pids it forked, in fork order.
    pub children: Vec<u32>,
    /// Indexes of its events in the input, in input order.
    pub events: Vec<usize>,
}

impl Process {
    /// From start to exit, when both are known.
    pub fn duration_ns(&self) -> Option<u64> {
        self.end_ns.map(|e| e.saturating_sub(self.start_ns))
    }

    /// Killed by a signal, or exited with a non-zero code.
    pub fn failed(&self) -> bool {
        self.exit_signal.is_some() || self.exit_code.is_some_and(|c| c != 0)
    }

    /// What it ran: its last exec, else its command name.
    pub fn command(&self) -> &str {
        self.execs.last().map_or(self.comm.as_str(), String::as_str)
    }
}

/// Every process of a capture, ordered by start (then pid).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessTree {
    pub processes: Vec<Process>,
}

impl ProcessTree {
    /// The process with `pid`.
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.processes.iter().find(|p| p.pid == pid)
    }

    /// Processes whose parent is not in the tree (the session's command, and orphans whose
    /// fork the capture did not see), in start order.
    pub fn roots(&self) -> Vec<&Process> {
        self.processes
            .iter()
            .filter(|p| p.ppid.is_none_or(|pp| self.get(pp).is_none()))
            .collect()
    }

    /// Depth-first order from the roots, each process with its depth: the rows of a tree
    /// view. Every process appears once, even in a cyclic input (pids reused).
    pub fn rows(&self) -> Vec<(usize, &Process)> {
        let mut out = Vec::with_capacity(self.processes.len());
        let mut seen = std::collections::BTreeSet::new();
        let mut stack: Vec<(usize, &Process)> =
            self.roots().into_iter().rev().map(|p| (0, p)).collect();
        while let Some((depth, p)) = stack.pop() {
            if !seen.insert(p.pid) {
                continue;
            }
            out.push((depth, p));
            for c in p.children.iter().rev() {
                if let Some(child) = self.get(*c) {
                    stack.push((depth + 1, child));
                }
            }
        }
        // What a cycle kept out of reach of every root still gets a row.
        for p in &self.processes {
            if seen.insert(p.pid) {
                out.push((0, p));
            }
        }
        out
    }
}

/// Builds the tree of `events` (in any order; each event's `ts_ns` places it).
pub fn build(events: &[KernelEvent]) -> ProcessTree {
    let mut by_pid: BTreeMap<u32, Process> = BTreeMap::new();
    // Per pid, the distinct paths opened, and whether for writing.
    let mut files: BTreeMap<(u32, &str), bool> = BTreeMap::new();
    let mut order: Vec<usize> = (0..events.len()).collect();
    order.sort_by_key(|&i| (events[i].ts_ns, events[i].seq));
    let blank = |pid: u32, ts: u64| Process {
        pid,
        ppid: None,
        comm: String::new(),
        execs: Vec::new(),
        start_ns: ts,
        forked_in_capture: false,
        end_ns: None,
        exit_code: None,
        exit_signal: None,
        counts: ProcessCounts::default(),
        children: Vec::new(),
        events: Vec::new(),
    };
    for &i in &order {
        let ev = &events[i];
        let p = by_pid
            .entry(ev.pid)
            .or_insert_with(|| blank(ev.pid, ev.ts_ns));
        p.comm.clone_from(&ev.comm);
        if p.ppid.is_none() {
            p.ppid = ev.ppid;
        }
        p.events.push(i);
        let c = &mut p.counts;
        match &ev.detail {
            EventDetail::Exec { filename } => p.execs.push(filename.clone()),
            EventDetail::Exit { code, signal } => {
                p.end_ns = Some(ev.ts_ns);
                p.exit_code = *code;
                p.exit_signal = *signal;
            }
            EventDetail::Open {
                path,
                flags,
                result,
                ..
            } => {
                c.opens += 1;
                c.open_failures += u64::from(*result < 0);
                if *result >= 0 {
                    *files.entry((ev.pid, path.as_str())).or_default() |= opens_for_writing(*flags);
                }
            }
            EventDetail::Write { result, .. } => {
                c.writes += 1;
                c.written_bytes += u64::try_from(*result).unwrap_or(0);
            }
            EventDetail::Unlink { .. } => c.unlinks += 1,
            EventDetail::Rename { .. } => c.renames += 1,
            EventDetail::Connect { .. } => c.connects += 1,
            EventDetail::ExecFailed { .. } => c.failed_execs += 1,
            EventDetail::Fork { child_pid } => {
                c.forks += 1;
                p.children.push(*child_pid);
                let child = by_pid
                    .entry(*child_pid)
                    .or_insert_with(|| blank(*child_pid, ev.ts_ns));
                child.ppid = Some(ev.pid);
                child.start_ns = child.start_ns.min(ev.ts_ns);
                child.forked_in_capture = true;
            }
            EventDetail::IoUring { .. } | EventDetail::CompatExec { .. } => {}
        }
    }
    for ((pid, _), written) in files {
        if let Some(p) = by_pid.get_mut(&pid) {
            p.counts.files_opened += 1;
            p.counts.files_written += u64::from(written);
        }
    }
    let mut processes: Vec<Process> = by_pid.into_values().collect();
    processes.sort_by_key(|p| (p.start_ns, p.pid));
    ProcessTree { processes }
}

/// Whether open flags ask for writing: an access mode of `O_WRONLY` or `O_RDWR`, or
/// `O_CREAT` or `O_TRUNC` (Linux's values, the same on every architecture tare runs on).
pub fn opens_for_writing(flags: i32) -> bool {
    const O_ACCMODE: i32 = 0o3;
    const O_CREAT: i32 = 0o100;
    const O_TRUNC: i32 = 0o1000;
    flags & O_ACCMODE != 0 || flags & (O_CREAT | O_TRUNC) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, ts: u64, pid: u32, comm: &str, detail: EventDetail) -> KernelEvent {
        KernelEvent {
            seq,
            ts_ns: ts,
            pid,
            tid: pid,
            ppid: None,
            comm: comm.into(),
            cgroup_id: 1,
            detail,
        }
    }

    /// sh (10) runs `true | cat`, then `false`; `cat` is killed by SIGPIPE.
    fn pipeline() -> Vec<KernelEvent> {
        use EventDetail::*;
        vec![
            ev(
                0,
                100,
                10,
                "sh",
                Exec {
                    filename: "/bin/sh".into(),
                },
            ),
            ev(1, 200, 10, "sh", Fork { child_pid: 11 }),
            ev(2, 210, 10, "sh", Fork { child_pid: 12 }),
            ev(
                3,
                300,
                11,
                "sh",
                Exec {
                    filename: "/bin/true".into(),
                },
            ),
            ev(
                4,
                310,
                12,
                "sh",
                ExecFailed {
                    filename: "/usr/local/bin/cat".into(),
                    result: -2,
                },
            ),
            ev(
                5,
                320,
                12,
                "sh",
                Exec {
                    filename: "/bin/cat".into(),
                },
            ),
            ev(
                6,
                330,
                12,
                "cat",
                Open {
                    path: "/etc/x".into(),
                    flags: 0,
                    mode: 0,
                    result: -2,
                },
            ),
            ev(
                7,
                340,
                12,
                "cat",
                Write {
                    fd: 1,
                    requested: 5,
                    result: 5,
                },
            ),
            ev(
                8,
                350,
                11,
                "true",
                Exit {
                    code: Some(0),
                    signal: None,
                },
            ),
            ev(
                9,
                360,
                12,
                "cat",
                Exit {
                    code: None,
                    signal: Some(13),
                },
            ),
            ev(10, 400, 10, "sh", Fork { child_pid: 13 }),
            ev(
                11,
                410,
                13,
                "false",
                Exec {
                    filename: "/bin/false".into(),
                },
            ),
            ev(
                12,
                420,
                13,
                "false",
                Exit {
                    code: Some(1),
                    signal: None,
                },
            ),
            ev(
                13,
                500,
                10,
                "sh",
                Exit {
                    code: Some(0),
                    signal: None,
                },
            ),
        ]
    }

    #[test]
    fn a_pipeline_becomes_its_tree() {
        let t = build(&pipeline());
        assert_eq!(t.processes.len(), 4);
        let roots: Vec<u32> = t.roots().iter().map(|p| p.pid).collect();
        assert_eq!(roots, vec![10]);
        let sh = t.get(10).unwrap();
        assert_eq!(sh.children, vec![11, 12, 13]);
        assert_eq!(
            (sh.start_ns, sh.end_ns, sh.forked_in_capture),
            (100, Some(500), false)
        );
        assert_eq!(sh.counts.forks, 3);
        assert!(!sh.failed());
        let cat = t.get(12).unwrap();
        assert_eq!(cat.ppid, Some(10));
        assert_eq!((cat.start_ns, cat.duration_ns()), (210, Some(150)));
        assert!(cat.forked_in_capture);
        assert_eq!(cat.execs, vec!["/bin/cat".to_string()]);
        assert_eq!(cat.command(), "/bin/cat");
        assert_eq!(cat.comm, "cat");
        assert_eq!(cat.exit_signal, Some(13));
        assert!(cat.failed());
        assert_eq!(
            cat.counts,
            ProcessCounts {
                opens: 1,
                open_failures: 1,
                files_opened: 0,
                files_written: 0,
                writes: 1,
                written_bytes: 5,
                failed_execs: 1,
                ..ProcessCounts::default()
            }
        );
        assert_eq!(
            cat.events,
            vec![4, 5, 6, 7, 9],
            "its own events (its fork is the parent's)"
        );
        assert!(t.get(13).unwrap().failed(), "false exits 1");
        assert!(!t.get(11).unwrap().failed());
        let rows: Vec<(usize, u32)> = t.rows().iter().map(|(d, p)| (*d, p.pid)).collect();
        assert_eq!(rows, vec![(0, 10), (1, 11), (1, 12), (1, 13)]);
    }

    #[test]
    fn distinct_files_opened_and_written() {
        use EventDetail::*;
        let open = |ts, path: &str, flags, result| {
            ev(
                ts,
                ts,
                5,
                "w",
                Open {
                    path: path.into(),
                    flags,
                    mode: 0o644,
                    result,
                },
            )
        };
        let evs = vec![
            open(1, "/r", 0, 3),          // O_RDONLY
            open(2, "/r", 0, 3),          // again: one file
            open(3, "/w", 0o1101, 4),     // O_WRONLY|O_CREAT|O_TRUNC
            open(4, "/rw", 0o2, 5),       // O_RDWR
            open(5, "/gone", 0o101, -13), // failed: not counted
        ];
        let c = build(&evs).get(5).unwrap().counts;
        assert_eq!((c.opens, c.open_failures), (5, 1));
        assert_eq!((c.files_opened, c.files_written), (3, 2));
        assert!(!opens_for_writing(0o2000000 | 0o200000)); // O_CLOEXEC|O_DIRECTORY
    }

    #[test]
    fn input_order_does_not_matter() {
        let mut evs = pipeline();
        let a = build(&evs);
        evs.reverse();
        let b = build(&evs);
        let strip = |t: &ProcessTree| {
            t.processes
                .iter()
                .map(|p| (p.pid, p.start_ns, p.end_ns, p.children.clone(), p.counts))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&a), strip(&b));
    }

    #[test]
    fn a_pid_cycle_still_lists_every_process_once() {
        use EventDetail::*;
        // Pid reuse can make 2 the parent of 3 and 3 the parent of 2.
        let evs = vec![
            ev(0, 10, 2, "a", Fork { child_pid: 3 }),
            ev(1, 20, 3, "b", Fork { child_pid: 2 }),
        ];
        let t = build(&evs);
        let mut pids: Vec<u32> = t.rows().iter().map(|(_, p)| p.pid).collect();
        pids.sort();
        assert_eq!(pids, vec![2, 3]);
        assert!(build(&[]).processes.is_empty());
    }
}
